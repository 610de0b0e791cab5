-- PostgreSQL's trigram GIN indexes take bulk inserts through their pending list: the
-- SQLite half of this migration (bulk loads indexing their search text once) has nothing
-- to do here.

-- Incoming mail finds the conversation it answers by the Message-IDs it names.
CREATE INDEX ticket_messages_email ON ticket_messages(email_message_id);
