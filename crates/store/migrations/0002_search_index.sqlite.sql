-- Substring search that stays fast on a million rows: FTS5 with the trigram tokenizer
-- indexes every three-character sequence of `search_text`, and `LIKE '%frag%'` on the
-- FTS table uses that index for fragments of three characters or more.
-- External-content tables: the text lives once, in the main table; triggers keep the
-- index in step inside the same transaction as each change.

CREATE VIRTUAL TABLE parties_fts USING fts5(search_text, content='parties', content_rowid='rowid', tokenize='trigram');
INSERT INTO parties_fts(rowid, search_text) SELECT rowid, search_text FROM parties;
CREATE TRIGGER parties_fts_ai AFTER INSERT ON parties BEGIN
  INSERT INTO parties_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER parties_fts_ad AFTER DELETE ON parties BEGIN
  INSERT INTO parties_fts(parties_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER parties_fts_au AFTER UPDATE OF search_text ON parties BEGIN
  INSERT INTO parties_fts(parties_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO parties_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts', content_rowid='rowid', tokenize='trigram');
INSERT INTO contacts_fts(rowid, search_text) SELECT rowid, search_text FROM contacts;
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE VIRTUAL TABLE products_fts USING fts5(search_text, content='products', content_rowid='rowid', tokenize='trigram');
INSERT INTO products_fts(rowid, search_text) SELECT rowid, search_text FROM products;
CREATE TRIGGER products_fts_ai AFTER INSERT ON products BEGIN
  INSERT INTO products_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER products_fts_ad AFTER DELETE ON products BEGIN
  INSERT INTO products_fts(products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER products_fts_au AFTER UPDATE OF search_text ON products BEGIN
  INSERT INTO products_fts(products_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO products_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE VIRTUAL TABLE employees_fts USING fts5(search_text, content='employees', content_rowid='rowid', tokenize='trigram');
INSERT INTO employees_fts(rowid, search_text) SELECT rowid, search_text FROM employees;
CREATE TRIGGER employees_fts_ai AFTER INSERT ON employees BEGIN
  INSERT INTO employees_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER employees_fts_ad AFTER DELETE ON employees BEGIN
  INSERT INTO employees_fts(employees_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER employees_fts_au AFTER UPDATE OF search_text ON employees BEGIN
  INSERT INTO employees_fts(employees_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
  INSERT INTO employees_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
