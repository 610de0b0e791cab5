-- Purchasing, stock and manufacturing. Portable SQL for SQLite and PostgreSQL.
--
-- Purchase orders, receptions, supplier invoices and supplier payments are rows of
-- `documents` (kinds purchase_order, reception, supplier_invoice, supplier_payment), so
-- they share numbering (`doc_sequences`), lines, allocations and the audit of sales
-- documents. On purchase order lines `delivered` counts what was received and `invoiced`
-- what the supplier invoiced; a reception line's `origin_line_id` is its order line.

-- The supplier's own number for its invoice, as printed on it (trimmed, upper case);
-- one supplier cannot have two live invoices under one number.
ALTER TABLE documents ADD COLUMN supplier_invoice_number TEXT;
CREATE UNIQUE INDEX documents_supplier_invoice_number ON documents(party_id, supplier_invoice_number)
    WHERE kind = 'supplier_invoice' AND supplier_invoice_number IS NOT NULL AND status <> 'cancelled';
-- Payables: open items by due date.
CREATE INDEX documents_kind_due ON documents(kind, status, due_date);

-- What a unit of goods cost when it moved (receptions, production, consumption), in
-- minor units; moves before this migration have none.
ALTER TABLE stock_moves ADD COLUMN unit_cost BIGINT;

-- Documents of the warehouse and the workshop that have no party: transfers between
-- warehouses, stock counts and production orders. Their moves point to them through
-- `stock_moves.stock_document_id`.
CREATE TABLE stock_documents (
    id TEXT PRIMARY KEY,
    -- transfer, count, production
    kind TEXT NOT NULL,
    -- transfer and count: draft, done, cancelled; production: draft, planned, reserved, done, cancelled
    status TEXT NOT NULL,
    number BIGINT,
    -- transfer: from; count: the warehouse counted; production: where components are taken and the article is put
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    -- transfer: to
    to_warehouse_id TEXT REFERENCES warehouses(id),
    -- production: the article made and how many (thousandths)
    product_id TEXT REFERENCES products(id),
    quantity BIGINT,
    -- production: the cost per unit of what was made, rolled up from the components consumed
    unit_cost BIGINT,
    planned_date TEXT,
    reason TEXT,
    notes TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT,
    cancelled_at TEXT,
    cancelled_by TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (kind, number)
);
CREATE INDEX stock_documents_kind ON stock_documents(kind, id);
CREATE INDEX stock_documents_product ON stock_documents(product_id, status);

CREATE TABLE stock_document_lines (
    id TEXT PRIMARY KEY,
    stock_document_id TEXT NOT NULL REFERENCES stock_documents(id),
    position BIGINT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id),
    -- transfer: moved; count: counted; production: the component quantity needed (with scrap)
    quantity BIGINT NOT NULL,
    -- count: on hand when counted; production: what is reserved of this component
    expected BIGINT NOT NULL DEFAULT 0,
    reason TEXT
);
CREATE INDEX stock_document_lines_document ON stock_document_lines(stock_document_id, position);

ALTER TABLE stock_moves ADD COLUMN stock_document_id TEXT REFERENCES stock_documents(id);
CREATE INDEX stock_moves_stock_document ON stock_moves(stock_document_id);

-- How an article is made: one bill of materials per article; a component may itself
-- have one (several levels). Cycles are refused by the application.
CREATE TABLE boms (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL UNIQUE REFERENCES products(id),
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE bom_components (
    id TEXT PRIMARY KEY,
    bom_id TEXT NOT NULL REFERENCES boms(id),
    position BIGINT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id),
    -- thousandths per one unit of the article made
    quantity BIGINT NOT NULL,
    -- hundredths of a percent lost in making
    scrap BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX bom_components_bom ON bom_components(bom_id, position);
CREATE INDEX bom_components_product ON bom_components(product_id);

-- When to buy or make more: below `reorder_point` in a warehouse, suggest
-- `reorder_quantity` (thousandths both).
CREATE TABLE reorder_rules (
    product_id TEXT NOT NULL REFERENCES products(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    reorder_point BIGINT NOT NULL,
    reorder_quantity BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (product_id, warehouse_id)
);
