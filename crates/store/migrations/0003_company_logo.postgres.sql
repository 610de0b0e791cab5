-- The company's logo, printed on documents; in the database so that every server and
-- every backup has it.
CREATE TABLE company_logo (
    id BIGINT PRIMARY KEY,
    content_type TEXT NOT NULL,
    data BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
