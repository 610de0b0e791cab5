-- Nothing to do on PostgreSQL: its trigram GIN indexes take bulk inserts through their
-- pending list (see migration 9 for SQLite).
SELECT 1;
