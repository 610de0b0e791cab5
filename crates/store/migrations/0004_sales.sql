-- Order to cash: warehouses and stock, sales documents and their lines, gap-free
-- numbering, receipts allocated to invoices. Portable SQL for SQLite and PostgreSQL.

-- What the business decides, one setting a row: e.g. whether a delivery may take stock
-- below zero (`stock.allow_negative`), the point of sale documents are numbered under
-- (`sales.point_of_sale`).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE warehouses (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT,
    is_default BIGINT NOT NULL DEFAULT 0,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- The next number of each kind of document at each point of sale. Taking a number is an
-- UPDATE of this row inside the posting transaction: concurrent posters queue on the row
-- (PostgreSQL) or on the write lock (SQLite), and a rolled-back posting gives its number
-- back, so numbers have neither gaps nor repeats.
CREATE TABLE doc_sequences (
    kind TEXT NOT NULL,
    point_of_sale BIGINT NOT NULL,
    next_number BIGINT NOT NULL,
    PRIMARY KEY (kind, point_of_sale)
);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    point_of_sale BIGINT NOT NULL,
    number BIGINT,
    party_id TEXT NOT NULL REFERENCES parties(id),
    -- the customer's name and tax id as printed on the document
    party_name TEXT NOT NULL,
    party_tax_id TEXT,
    salesperson_id TEXT REFERENCES employees(id),
    warehouse_id TEXT REFERENCES warehouses(id),
    issue_date TEXT NOT NULL,
    due_date TEXT,
    -- orders: the date promised to the customer (on-time delivery indicators)
    promised_date TEXT,
    -- quotes: valid until
    valid_until TEXT,
    -- the document this one came from (quote → order, order → delivery or invoice,
    -- invoice → credit or debit note)
    origin_id TEXT REFERENCES documents(id),
    -- the order a delivery, invoice or receipt line belongs to, to follow an order's chain
    order_id TEXT REFERENCES documents(id),
    untaxed BIGINT NOT NULL DEFAULT 0,
    tax BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    -- invoices and debit notes: what receipts and credit notes have settled;
    -- receipts and credit notes: what they have been allocated to
    settled BIGINT NOT NULL DEFAULT 0,
    -- credit notes: why (return, price, discount, error…); returned goods come back
    reason TEXT,
    returns_goods BIGINT NOT NULL DEFAULT 0,
    notes TEXT,
    customer_reference TEXT,
    -- an unguessable token that lets the customer follow an order without logging in
    public_token TEXT UNIQUE,
    -- set when a manager let an order through over the customer's credit limit
    credit_override_by TEXT,
    confirmed_at TEXT,
    confirmed_by TEXT,
    posted_at TEXT,
    posted_by TEXT,
    cancelled_at TEXT,
    cancelled_by TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (kind, point_of_sale, number)
);
CREATE INDEX documents_kind ON documents(kind, id);
CREATE INDEX documents_party ON documents(party_id, kind, id);
CREATE INDEX documents_origin ON documents(origin_id);
CREATE INDEX documents_order ON documents(order_id);

CREATE TABLE document_lines (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id),
    position BIGINT NOT NULL,
    product_id TEXT REFERENCES products(id),
    description TEXT NOT NULL,
    -- thousandths
    quantity BIGINT NOT NULL,
    -- minor units of the company's currency
    unit_price BIGINT NOT NULL,
    -- hundredths of a percent
    discount BIGINT NOT NULL DEFAULT 0,
    tax_rate_id TEXT REFERENCES tax_rates(id),
    tax_name TEXT NOT NULL,
    tax_rate BIGINT NOT NULL,
    net BIGINT NOT NULL,
    -- 1 when the article is kept in stock (goods): deliveries move it; services are not delivered
    stocked BIGINT NOT NULL DEFAULT 0,
    -- the order (or invoice) line this line delivers, invoices or credits
    origin_line_id TEXT REFERENCES document_lines(id),
    -- order lines: how much has been delivered and invoiced so far
    delivered BIGINT NOT NULL DEFAULT 0,
    invoiced BIGINT NOT NULL DEFAULT 0,
    -- invoice lines: how much has been credited so far
    credited BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX document_lines_document ON document_lines(document_id, position);
CREATE INDEX document_lines_origin ON document_lines(origin_line_id);
CREATE INDEX document_lines_product ON document_lines(product_id);

-- A receipt (or credit note) settling part of an invoice (or debit note).
CREATE TABLE allocations (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES documents(id),
    target_id TEXT NOT NULL REFERENCES documents(id),
    amount BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX allocations_source ON allocations(source_id);
CREATE INDEX allocations_target ON allocations(target_id);

-- Every movement of goods. On hand is the sum of the moves; `stock_levels` keeps that sum
-- (and what confirmed orders reserve) up to date in the same transaction as each move.
CREATE TABLE stock_moves (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    -- thousandths; positive in, negative out
    quantity BIGINT NOT NULL,
    -- adjustment, delivery, return, reception, transfer, production, consumption
    kind TEXT NOT NULL,
    reason TEXT,
    document_id TEXT REFERENCES documents(id),
    line_id TEXT REFERENCES document_lines(id),
    -- the balance in this warehouse right after the move (the stock card's running balance)
    balance BIGINT NOT NULL,
    at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX stock_moves_card ON stock_moves(product_id, warehouse_id, id);
CREATE INDEX stock_moves_document ON stock_moves(document_id);

CREATE TABLE stock_levels (
    product_id TEXT NOT NULL REFERENCES products(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    on_hand BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, warehouse_id)
);

-- Every company starts with one warehouse.
INSERT INTO warehouses (id, code, name, is_default, created_at, updated_at)
VALUES ('019a0000-0000-7000-8000-000000000001', 'CENTRAL', 'Depósito central', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
