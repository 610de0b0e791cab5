-- Bulk loads index their search text once per statement instead of once per row.
--
-- The FTS5 triggers of migration 2 index each new row as it is inserted; during an
-- import of thousands of rows that per-row work was most of SQLite's time (a 200,000-row
-- load: about 7,000 rows/s with the trigger, 31,000 with one INSERT … SELECT into the
-- index per chunk). While `search_bulk.active` is 1 — only ever inside the transaction
-- of `store::master::insert_many`, which indexes the rows it wrote before setting it back
-- to 0 — the insert triggers stand aside. Other connections never see it set: SQLite has
-- one writer and readers see only what was committed.

CREATE TABLE search_bulk (active INTEGER NOT NULL);
INSERT INTO search_bulk (active) VALUES (0);

DROP TRIGGER parties_fts_ai;
CREATE TRIGGER parties_fts_ai AFTER INSERT ON parties WHEN (SELECT active FROM search_bulk) = 0 BEGIN
  INSERT INTO parties_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
DROP TRIGGER contacts_fts_ai;
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts WHEN (SELECT active FROM search_bulk) = 0 BEGIN
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
DROP TRIGGER products_fts_ai;
CREATE TRIGGER products_fts_ai AFTER INSERT ON products WHEN (SELECT active FROM search_bulk) = 0 BEGIN
  INSERT INTO products_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
DROP TRIGGER employees_fts_ai;
CREATE TRIGGER employees_fts_ai AFTER INSERT ON employees WHEN (SELECT active FROM search_bulk) = 0 BEGIN
  INSERT INTO employees_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

-- Incoming mail finds the conversation it answers by the Message-IDs it names.
CREATE INDEX ticket_messages_email ON ticket_messages(email_message_id);
