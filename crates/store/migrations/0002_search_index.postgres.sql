-- Substring search that stays fast on a million rows: trigram GIN indexes (pg_trgm)
-- serve `search_text LIKE '%frag%'` directly. pg_trgm ships with PostgreSQL and is a
-- trusted extension (any user allowed to create in the database may enable it).

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX parties_search ON parties USING gin (search_text gin_trgm_ops);
CREATE INDEX contacts_search ON contacts USING gin (search_text gin_trgm_ops);
CREATE INDEX products_search ON products USING gin (search_text gin_trgm_ops);
CREATE INDEX employees_search ON employees USING gin (search_text gin_trgm_ops);
