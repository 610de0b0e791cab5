-- Tendero's foundation: company, people and security, audit trail, master data.
-- Portable SQL: the same text runs on SQLite and PostgreSQL. Conventions:
--   ids are UUIDv7 text; timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (sortable);
--   money is BIGINT minor units of the company currency; percentages BIGINT hundredths;
--   quantities BIGINT thousandths; flags BIGINT 0/1; `name_norm` holds the folded name
--   (lower case, no accents) lists sort by; `search_text` the folded words a search
--   matches (names, codes, tax ids, e-mails, phone digits).

CREATE TABLE company (
    id BIGINT PRIMARY KEY,
    legal_name TEXT NOT NULL,
    trade_name TEXT,
    tax_scheme TEXT NOT NULL,
    tax_id TEXT,
    country TEXT NOT NULL,
    currency TEXT NOT NULL,
    currency_decimals BIGINT NOT NULL,
    street TEXT, city TEXT, region TEXT, postal_code TEXT,
    phone TEXT, email TEXT, website TEXT,
    logo_path TEXT,
    history TEXT, mission TEXT, vision TEXT, goals TEXT, products_text TEXT, services_text TEXT,
    guarantees TEXT, partners TEXT, suppliers_text TEXT, clients_text TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'es',
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

-- One pending one-time link to create the first administrator.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

-- Failed log-ins per user name, for throttling; shared by every server on one database.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start TEXT NOT NULL,
    locked_until TEXT
);

-- The audit trail: one row per change, hash-chained (see app::audit). Appends are
-- serialised by the write transaction on SQLite and an advisory lock on PostgreSQL.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, seq);

-- Employees of the business; salespeople are employees with is_salesperson = 1.
CREATE TABLE employees (
    id TEXT PRIMARY KEY,
    code TEXT UNIQUE,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    is_salesperson BIGINT NOT NULL DEFAULT 0,
    commission_pct BIGINT NOT NULL DEFAULT 0,
    user_id TEXT UNIQUE REFERENCES users(id),
    search_text TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX employees_list ON employees(is_salesperson, name_norm, id);

-- Customers and suppliers: one party may be both. lifecycle and tier are for the CRM.
CREATE TABLE parties (
    id TEXT PRIMARY KEY,
    code TEXT UNIQUE,
    is_customer BIGINT NOT NULL DEFAULT 0,
    is_supplier BIGINT NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    trade_name TEXT,
    tax_scheme TEXT,
    tax_id TEXT UNIQUE,
    email TEXT,
    phone TEXT,
    mobile TEXT,
    website TEXT,
    street TEXT, city TEXT, region TEXT, postal_code TEXT, country TEXT,
    payment_terms_days BIGINT NOT NULL DEFAULT 0,
    credit_limit BIGINT,
    salesperson_id TEXT REFERENCES employees(id),
    notes TEXT,
    tags TEXT NOT NULL DEFAULT '',
    lifecycle TEXT NOT NULL DEFAULT 'prospect',
    tier TEXT,
    search_text TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX parties_customers ON parties(is_customer, name_norm, id);
CREATE INDEX parties_suppliers ON parties(is_supplier, name_norm, id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties(id),
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    job_title TEXT,
    email TEXT,
    phone TEXT,
    mobile TEXT,
    notes TEXT,
    search_text TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX contacts_list ON contacts(name_norm, id);
CREATE INDEX contacts_party ON contacts(party_id);

CREATE TABLE tax_rates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    rate BIGINT NOT NULL,
    exempt BIGINT NOT NULL DEFAULT 0,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    barcode TEXT UNIQUE,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    sale_price BIGINT NOT NULL,
    cost BIGINT NOT NULL,
    tax_rate_id TEXT REFERENCES tax_rates(id),
    category TEXT,
    search_text TEXT NOT NULL,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX products_list ON products(name_norm, id);
