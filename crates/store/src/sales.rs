//! Order-to-cash rows: sales documents and their lines, gap-free numbers, allocations of
//! receipts and credit notes to invoices, warehouses, stock moves and stock levels,
//! settings. Only SQL here; the rules are in `domain::sales` and `app::sales`.

use crate::master::{placeholders, reserved, values_list};
use crate::{Conn, StoreError};
use sqlx::FromRow;

/// The columns of `documents` in the order [`insert_document`] binds them.
#[derive(Debug, Clone, FromRow, Default)]
pub struct DocumentRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub point_of_sale: i64,
    pub number: Option<i64>,
    pub party_id: String,
    pub party_name: String,
    pub party_tax_id: Option<String>,
    pub salesperson_id: Option<String>,
    pub warehouse_id: Option<String>,
    pub issue_date: String,
    pub due_date: Option<String>,
    pub promised_date: Option<String>,
    pub valid_until: Option<String>,
    pub origin_id: Option<String>,
    pub order_id: Option<String>,
    pub untaxed: i64,
    pub tax: i64,
    pub total: i64,
    pub settled: i64,
    pub reason: Option<String>,
    pub returns_goods: i64,
    pub notes: Option<String>,
    pub customer_reference: Option<String>,
    pub public_token: Option<String>,
    pub credit_override_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
    pub posted_at: Option<String>,
    pub posted_by: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// Supplier invoices: the supplier's own number (see `domain::purchase::invoice_number_key`).
    pub supplier_invoice_number: Option<String>,
}

pub(crate) const DOC_COLUMNS: &str =
    "id, kind, status, point_of_sale, number, party_id, party_name, party_tax_id, salesperson_id, warehouse_id, issue_date, due_date, \
     promised_date, valid_until, origin_id, order_id, untaxed, tax, total, settled, reason, returns_goods, notes, customer_reference, \
     public_token, credit_override_by, confirmed_at, confirmed_by, posted_at, posted_by, cancelled_at, cancelled_by, created_by, \
     created_at, updated_at, version, supplier_invoice_number";

#[derive(Debug, Clone, FromRow, Default)]
pub struct LineRow {
    pub id: String,
    pub document_id: String,
    pub position: i64,
    pub product_id: Option<String>,
    pub description: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub discount: i64,
    pub tax_rate_id: Option<String>,
    pub tax_name: String,
    pub tax_rate: i64,
    pub net: i64,
    pub stocked: i64,
    pub origin_line_id: Option<String>,
    pub delivered: i64,
    pub invoiced: i64,
    pub credited: i64,
}

const LINE_WIDTH: usize = 17;

pub async fn insert_document(conn: &mut Conn, d: &DocumentRow) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO documents ({DOC_COLUMNS}) VALUES ({})", placeholders(conn, 1, 37));
    sqlx::query(&sql)
        .bind(&d.id)
        .bind(&d.kind)
        .bind(&d.status)
        .bind(d.point_of_sale)
        .bind(d.number)
        .bind(&d.party_id)
        .bind(&d.party_name)
        .bind(&d.party_tax_id)
        .bind(&d.salesperson_id)
        .bind(&d.warehouse_id)
        .bind(&d.issue_date)
        .bind(&d.due_date)
        .bind(&d.promised_date)
        .bind(&d.valid_until)
        .bind(&d.origin_id)
        .bind(&d.order_id)
        .bind(d.untaxed)
        .bind(d.tax)
        .bind(d.total)
        .bind(d.settled)
        .bind(&d.reason)
        .bind(d.returns_goods)
        .bind(&d.notes)
        .bind(&d.customer_reference)
        .bind(&d.public_token)
        .bind(&d.credit_override_by)
        .bind(&d.confirmed_at)
        .bind(&d.confirmed_by)
        .bind(&d.posted_at)
        .bind(&d.posted_by)
        .bind(&d.cancelled_at)
        .bind(&d.cancelled_by)
        .bind(&d.created_by)
        .bind(&d.created_at)
        .bind(&d.updated_at)
        .bind(d.version)
        .bind(&d.supplier_invoice_number)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes a document's header (everything but `id`, `kind` and `created_*`) if its
/// version is still `d.version`; the stored version becomes `d.version + 1`.
pub async fn update_document(conn: &mut Conn, d: &DocumentRow) -> Result<(), StoreError> {
    let done = sqlx::query_as::<_, (String,)>(
        "UPDATE documents SET status = $1, point_of_sale = $2, number = $3, party_id = $4, salesperson_id = $5, warehouse_id = $6, \
         issue_date = $7, due_date = $8, promised_date = $9, valid_until = $10, origin_id = $11, order_id = $12, untaxed = $13, \
         tax = $14, total = $15, reason = $16, returns_goods = $17, notes = $18, customer_reference = $19, public_token = $20, \
         credit_override_by = $21, confirmed_at = $22, confirmed_by = $23, posted_at = $24, posted_by = $25, cancelled_at = $26, \
         cancelled_by = $27, updated_at = $28, party_name = $29, party_tax_id = $30, supplier_invoice_number = $31, \
         version = version + 1 WHERE id = $32 AND version = $33 RETURNING id",
    )
    .bind(&d.status)
    .bind(d.point_of_sale)
    .bind(d.number)
    .bind(&d.party_id)
    .bind(&d.salesperson_id)
    .bind(&d.warehouse_id)
    .bind(&d.issue_date)
    .bind(&d.due_date)
    .bind(&d.promised_date)
    .bind(&d.valid_until)
    .bind(&d.origin_id)
    .bind(&d.order_id)
    .bind(d.untaxed)
    .bind(d.tax)
    .bind(d.total)
    .bind(&d.reason)
    .bind(d.returns_goods)
    .bind(&d.notes)
    .bind(&d.customer_reference)
    .bind(&d.public_token)
    .bind(&d.credit_override_by)
    .bind(&d.confirmed_at)
    .bind(&d.confirmed_by)
    .bind(&d.posted_at)
    .bind(&d.posted_by)
    .bind(&d.cancelled_at)
    .bind(&d.cancelled_by)
    .bind(&d.updated_at)
    .bind(&d.party_name)
    .bind(&d.party_tax_id)
    .bind(&d.supplier_invoice_number)
    .bind(&d.id)
    .bind(d.version)
    .fetch_optional(conn)
    .await?;
    done.map(|_| ()).ok_or(StoreError::Conflict)
}

/// Claims a document for a change of state: bumps its version if it is still in
/// `status`, and returns whether it was. The first statement of a transition, so that of
/// two concurrent posters of the same document the second finds it already changed (on
/// PostgreSQL it waits for the first to commit, then sees the new state).
pub async fn claim(conn: &mut Conn, id: &str, status: &str) -> Result<bool, StoreError> {
    let done = sqlx::query_as::<_, (String,)>("UPDATE documents SET version = version + 1 WHERE id = $1 AND status = $2 RETURNING id")
        .bind(id)
        .bind(status)
        .fetch_optional(conn)
        .await?;
    Ok(done.is_some())
}

pub async fn get_document(conn: &mut Conn, id: &str) -> Result<Option<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE id = $1")).bind(id).fetch_optional(conn).await?)
}

pub async fn document_by_token(conn: &mut Conn, token: &str) -> Result<Option<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE public_token = $1")).bind(token).fetch_optional(conn).await?)
}

/// The documents that came from `origin_id` or belong to the order `order_id`.
pub async fn related_documents(conn: &mut Conn, id: &str) -> Result<Vec<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE origin_id = $1 OR order_id = $1 ORDER BY id"))
        .bind(id)
        .fetch_all(conn)
        .await?)
}

/// What to list: one kind, optionally one customer and one status, newest first, after a
/// keyset cursor (the last id seen).
#[derive(Debug, Clone, Default)]
pub struct DocQuery {
    pub kind: String,
    pub party_id: Option<String>,
    pub status: Option<String>,
    pub before_id: Option<String>,
    pub limit: i64,
}

pub async fn list_documents(conn: &mut Conn, q: &DocQuery) -> Result<Vec<DocumentRow>, StoreError> {
    let mut sql = format!("SELECT {DOC_COLUMNS} FROM documents WHERE kind = $1");
    let mut n = 1;
    let mut next = |sql: &mut String, cond: &str| {
        n += 1;
        sql.push_str(&format!(" AND {cond} ${n}"));
    };
    if q.party_id.is_some() {
        next(&mut sql, "party_id =");
    }
    if q.status.is_some() {
        next(&mut sql, "status =");
    }
    if q.before_id.is_some() {
        next(&mut sql, "id <");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", q.limit + 1));
    let mut query = sqlx::query_as::<_, DocumentRow>(&sql).bind(&q.kind);
    for v in [&q.party_id, &q.status, &q.before_id].into_iter().flatten() {
        query = query.bind(v);
    }
    Ok(query.fetch_all(conn).await?)
}

/// For each of these orders, whether it has posted invoices and all of them are paid.
pub async fn orders_paid(conn: &mut Conn, order_ids: &[String]) -> Result<Vec<String>, StoreError> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT order_id FROM documents WHERE kind = 'invoice' AND status = 'posted' AND order_id IN ({}) \
         GROUP BY order_id HAVING SUM(CASE WHEN settled < total THEN 1 ELSE 0 END) = 0",
        placeholders(conn, 1, order_ids.len())
    );
    let mut q = sqlx::query_as::<_, (String,)>(&sql);
    for id in order_ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(conn).await?.into_iter().map(|r| r.0).collect())
}

/// The lines of several documents at once, in each document's order.
pub async fn lines_of_many(conn: &mut Conn, document_ids: &[String]) -> Result<Vec<LineRow>, StoreError> {
    if document_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT * FROM document_lines WHERE document_id IN ({}) ORDER BY document_id, position",
        placeholders(conn, 1, document_ids.len())
    );
    let mut q = sqlx::query_as::<_, LineRow>(&sql);
    for id in document_ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(conn).await?)
}

/// A customer's documents counted by kind.
pub async fn count_by_kind(conn: &mut Conn, party_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT kind, COUNT(*) FROM documents WHERE party_id = $1 GROUP BY kind").bind(party_id).fetch_all(conn).await?)
}

pub async fn insert_lines(conn: &mut Conn, lines: &[LineRow]) -> Result<(), StoreError> {
    if lines.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO document_lines (id, document_id, position, product_id, description, quantity, unit_price, discount, tax_rate_id, \
         tax_name, tax_rate, net, stocked, origin_line_id, delivered, invoiced, credited) VALUES {}",
        values_list(conn, lines.len(), LINE_WIDTH)
    );
    let mut q = sqlx::query_with(&sql, reserved(lines.len() * LINE_WIDTH));
    for l in lines {
        q = q
            .bind(&l.id)
            .bind(&l.document_id)
            .bind(l.position)
            .bind(&l.product_id)
            .bind(&l.description)
            .bind(l.quantity)
            .bind(l.unit_price)
            .bind(l.discount)
            .bind(&l.tax_rate_id)
            .bind(&l.tax_name)
            .bind(l.tax_rate)
            .bind(l.net)
            .bind(l.stocked)
            .bind(&l.origin_line_id)
            .bind(l.delivered)
            .bind(l.invoiced)
            .bind(l.credited);
    }
    q.execute(conn).await?;
    Ok(())
}

pub async fn delete_lines(conn: &mut Conn, document_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM document_lines WHERE document_id = $1").bind(document_id).execute(conn).await?;
    Ok(())
}

pub async fn lines_of(conn: &mut Conn, document_id: &str) -> Result<Vec<LineRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM document_lines WHERE document_id = $1 ORDER BY position").bind(document_id).fetch_all(conn).await?)
}

/// Which progress counter of an order line a delivery or an invoice moves, and what
/// bounds it.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Delivered, up to the ordered quantity.
    Delivered,
    /// Invoiced, up to the delivered quantity (goods).
    InvoicedOfDelivered,
    /// Invoiced, up to the ordered quantity (services, which are not delivered).
    InvoicedOfOrdered,
    /// Credited, up to the invoiced quantity (an invoice line).
    Credited,
    /// Received (a purchase order line's `delivered`), up to the ordered quantity plus a
    /// tolerance in hundredths of a percent.
    Received { tolerance: i64 },
}

/// Adds each `(line, delta)` to its line's delivered, invoiced or credited quantity, in
/// one statement, if every result stays within its bound; returns whether all did (when
/// one does not, the caller refuses and the transaction is rolled back).
pub async fn advance_lines(conn: &mut Conn, which: Progress, deltas: &[(&str, i64)]) -> Result<bool, StoreError> {
    if deltas.is_empty() {
        return Ok(true);
    }
    let (col, bound) = match which {
        Progress::Delivered => ("delivered", "quantity".to_string()),
        Progress::InvoicedOfDelivered => ("invoiced", "delivered".to_string()),
        Progress::InvoicedOfOrdered => ("invoiced", "quantity".to_string()),
        Progress::Credited => ("credited", "quantity".to_string()),
        // The same rounding as `domain::purchase::receivable_limit` (integer division).
        Progress::Received { tolerance } => ("delivered", format!("quantity + quantity * {} / 10000", tolerance.max(0))),
    };
    let case: String = (0..deltas.len()).map(|i| format!(" WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2)).collect();
    let ids: Vec<String> = (0..deltas.len()).map(|i| format!("${}", 2 * i + 1)).collect();
    let sql = format!(
        "UPDATE document_lines SET {col} = {col} + (CASE id{case} END) WHERE id IN ({}) \
         AND {col} + (CASE id{case} END) >= 0 AND {col} + (CASE id{case} END) <= {bound} RETURNING id",
        ids.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String,)>(&sql);
    for (id, delta) in deltas {
        q = q.bind(*id).bind(*delta);
    }
    Ok(q.fetch_all(conn).await?.len() == deltas.len())
}

/// Takes the next number of `kind` at `point_of_sale`, inside the caller's transaction:
/// one upsert that creates the sequence at 1 or moves it on, and locks its row until the
/// transaction ends.
pub async fn take_number(conn: &mut Conn, kind: &str, point_of_sale: i64) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "INSERT INTO doc_sequences (kind, point_of_sale, next_number) VALUES ($1, $2, 2) \
         ON CONFLICT (kind, point_of_sale) DO UPDATE SET next_number = doc_sequences.next_number + 1 RETURNING next_number - 1",
    )
    .bind(kind)
    .bind(point_of_sale)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Settles `delta` more of a document (an invoice paid, a receipt allocated) if the
/// settled amount stays within `0..=total`; returns whether it did.
pub async fn settle(conn: &mut Conn, id: &str, delta: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query_as::<_, (String,)>(
        "UPDATE documents SET settled = settled + $1 WHERE id = $2 AND settled + $1 >= 0 AND settled + $1 <= total RETURNING id",
    )
    .bind(delta)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .is_some())
}

#[derive(Debug, Clone, FromRow)]
pub struct AllocationRow {
    pub id: String,
    pub source_id: String,
    pub target_id: String,
    pub amount: i64,
    pub created_at: String,
}

pub async fn insert_allocations(conn: &mut Conn, rows: &[AllocationRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!("INSERT INTO allocations (id, source_id, target_id, amount, created_at) VALUES {}", values_list(conn, rows.len(), 5));
    let mut q = sqlx::query_with(&sql, reserved(rows.len() * 5));
    for a in rows {
        q = q.bind(&a.id).bind(&a.source_id).bind(&a.target_id).bind(a.amount).bind(&a.created_at);
    }
    q.execute(conn).await?;
    Ok(())
}

/// Allocations from or to a document.
pub async fn allocations_of(conn: &mut Conn, id: &str) -> Result<Vec<AllocationRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM allocations WHERE source_id = $1 OR target_id = $1 ORDER BY id").bind(id).fetch_all(conn).await?)
}

/// Posted documents that still have something unsettled: invoices and debit notes the
/// customer owes, receipts and credit notes not yet allocated. One customer or all,
/// oldest due first.
pub async fn open_items(conn: &mut Conn, party_id: Option<&str>) -> Result<Vec<DocumentRow>, StoreError> {
    let mut sql = format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE status = 'posted' AND kind IN ('invoice', 'debit_note', 'credit_note', 'receipt') \
         AND settled < total"
    );
    if party_id.is_some() {
        sql.push_str(" AND party_id = $1");
    }
    sql.push_str(" ORDER BY COALESCE(due_date, issue_date), id");
    let q = sqlx::query_as::<_, DocumentRow>(&sql);
    let q = match party_id {
        Some(p) => q.bind(p),
        None => q,
    };
    Ok(q.fetch_all(conn).await?)
}

/// A customer's posted documents that move the balance, oldest first (the statement).
pub async fn ledger(conn: &mut Conn, party_id: &str) -> Result<Vec<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE party_id = $1 AND status = 'posted' \
         AND kind IN ('invoice', 'debit_note', 'credit_note', 'receipt') ORDER BY issue_date, id"
    ))
    .bind(party_id)
    .fetch_all(conn)
    .await?)
}

/// What a customer owes: posted invoices and debit notes less credit notes and receipts,
/// in minor units (negative: the customer has credit).
pub async fn owed(conn: &mut Conn, party_id: &str) -> Result<i64, StoreError> {
    let (owed,): (Option<i64>,) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN kind IN ('invoice', 'debit_note') THEN total - settled ELSE settled - total END) AS BIGINT) \
         FROM documents WHERE party_id = $1 AND status = 'posted' AND kind IN ('invoice', 'debit_note', 'credit_note', 'receipt') \
         AND settled < total",
    )
    .bind(party_id)
    .fetch_one(conn)
    .await?;
    Ok(owed.unwrap_or(0))
}

/// Confirmed and closed orders issued from `from` to `to` (YYYY-MM-DD, inclusive).
pub async fn orders_between(conn: &mut Conn, from: &str, to: &str) -> Result<Vec<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DOC_COLUMNS} FROM documents WHERE kind = 'order' AND status IN ('confirmed', 'done') \
         AND issue_date >= $1 AND issue_date <= $2 ORDER BY issue_date, id"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?)
}

/// Every posted invoice's customer and date up to `to` (YYYY-MM-DD): the purchases that
/// retention is measured on.
pub async fn purchases_until(conn: &mut Conn, to: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT party_id, issue_date FROM documents WHERE kind = 'invoice' AND status = 'posted' AND issue_date <= $1")
        .bind(to)
        .fetch_all(conn)
        .await?)
}

/// Quotes that left draft from `from` to `to`, and how many of them became orders.
pub async fn quote_conversion(conn: &mut Conn, from: &str, to: &str) -> Result<(i64, i64), StoreError> {
    let (sent, accepted): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END) AS BIGINT) FROM documents \
         WHERE kind = 'quote' AND status IN ('sent', 'accepted', 'rejected') AND issue_date >= $1 AND issue_date <= $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await?;
    Ok((sent, accepted.unwrap_or(0)))
}

/// Goods in the catalogue (not archived) and how many of them have nothing available in
/// any warehouse right now.
pub async fn stock_outs(conn: &mut Conn) -> Result<(u32, u32), StoreError> {
    let (all, out): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN COALESCE((SELECT SUM(l.on_hand - l.reserved) FROM stock_levels l WHERE l.product_id = p.id), 0) <= 0 \
         THEN 1 ELSE 0 END) AS BIGINT) FROM products p WHERE p.kind <> 'service' AND p.archived_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok((u32::try_from(all).unwrap_or(0), u32::try_from(out.unwrap_or(0)).unwrap_or(0)))
}

/// A customer's confirmed orders (what they have on order).
pub async fn confirmed_orders(conn: &mut Conn, party_id: &str) -> Result<Vec<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {DOC_COLUMNS} FROM documents WHERE party_id = $1 AND kind = 'order' AND status = 'confirmed'"))
        .bind(party_id)
        .fetch_all(conn)
        .await?)
}

// ---------------------------------------------------------------- stock

#[derive(Debug, Clone, FromRow)]
pub struct WarehouseRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub is_default: i64,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub async fn warehouses(conn: &mut Conn) -> Result<Vec<WarehouseRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM warehouses ORDER BY is_default DESC, code").fetch_all(conn).await?)
}

pub async fn get_warehouse(conn: &mut Conn, id: &str) -> Result<Option<WarehouseRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM warehouses WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn default_warehouse(conn: &mut Conn) -> Result<Option<WarehouseRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM warehouses WHERE archived_at IS NULL ORDER BY is_default DESC, code LIMIT 1")
        .fetch_optional(conn)
        .await?)
}

pub async fn insert_warehouse(conn: &mut Conn, w: &WarehouseRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO warehouses (id, code, name, address, is_default, archived_at, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )
    .bind(&w.id)
    .bind(&w.code)
    .bind(&w.name)
    .bind(&w.address)
    .bind(w.is_default)
    .bind(&w.archived_at)
    .bind(&w.created_at)
    .bind(&w.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_warehouse(conn: &mut Conn, w: &WarehouseRow) -> Result<(), StoreError> {
    let done = sqlx::query_as::<_, (String,)>(
        "UPDATE warehouses SET code = $1, name = $2, address = $3, is_default = $4, archived_at = $5, updated_at = $6, \
         version = version + 1 WHERE id = $7 AND version = $8 RETURNING id",
    )
    .bind(&w.code)
    .bind(&w.name)
    .bind(&w.address)
    .bind(w.is_default)
    .bind(&w.archived_at)
    .bind(&w.updated_at)
    .bind(&w.id)
    .bind(w.version)
    .fetch_optional(conn)
    .await?;
    done.map(|_| ()).ok_or(StoreError::Conflict)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct MoveRow {
    pub id: String,
    pub product_id: String,
    pub warehouse_id: String,
    pub quantity: i64,
    pub kind: String,
    pub reason: Option<String>,
    pub document_id: Option<String>,
    pub line_id: Option<String>,
    pub balance: i64,
    pub at: String,
    pub created_by: String,
    /// What a unit cost when it moved (receptions, production, consumption).
    pub unit_cost: Option<i64>,
    /// The transfer, count or production order that caused the move.
    pub stock_document_id: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct LevelRow {
    pub product_id: String,
    pub warehouse_id: String,
    pub on_hand: i64,
    pub reserved: i64,
}

/// Moves an article's level in a warehouse by `quantity` on hand and `reserved`, creating
/// the level when it is the first move: returns the balance on hand after it. The row
/// stays locked until the transaction ends, so concurrent moves of one article in one
/// warehouse queue and each sees the balance the previous one left.
pub async fn move_level(conn: &mut Conn, product_id: &str, warehouse_id: &str, quantity: i64, reserved: i64) -> Result<i64, StoreError> {
    let (balance,): (i64,) = sqlx::query_as(
        "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (product_id, warehouse_id) DO UPDATE SET on_hand = stock_levels.on_hand + excluded.on_hand, \
         reserved = stock_levels.reserved + excluded.reserved RETURNING on_hand",
    )
    .bind(product_id)
    .bind(warehouse_id)
    .bind(quantity)
    .bind(reserved)
    .fetch_one(conn)
    .await?;
    Ok(balance)
}

/// Records moves (their levels already moved by [`move_level`]) in one statement.
pub async fn insert_moves(conn: &mut Conn, moves: &[MoveRow]) -> Result<(), StoreError> {
    const WIDTH: usize = 13;
    for part in moves.chunks(crate::master::max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO stock_moves (id, product_id, warehouse_id, quantity, kind, reason, document_id, line_id, balance, at, created_by, \
             unit_cost, stock_document_id) VALUES {}",
            values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, reserved(part.len() * WIDTH));
        for m in part {
            q = q
                .bind(&m.id)
                .bind(&m.product_id)
                .bind(&m.warehouse_id)
                .bind(m.quantity)
                .bind(&m.kind)
                .bind(&m.reason)
                .bind(&m.document_id)
                .bind(&m.line_id)
                .bind(m.balance)
                .bind(&m.at)
                .bind(&m.created_by)
                .bind(m.unit_cost)
                .bind(&m.stock_document_id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records one move and brings its level up to date; returns the balance after it.
/// `reserved` changes what confirmed orders hold in the same update.
pub async fn apply_move(conn: &mut Conn, m: &mut MoveRow, reserved: i64) -> Result<i64, StoreError> {
    m.balance = move_level(conn, &m.product_id, &m.warehouse_id, m.quantity, reserved).await?;
    insert_moves(conn, std::slice::from_ref(m)).await?;
    Ok(m.balance)
}

/// Changes what confirmed orders reserve of an article in a warehouse.
pub async fn reserve(conn: &mut Conn, product_id: &str, warehouse_id: &str, delta: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (product_id, warehouse_id) DO UPDATE SET reserved = stock_levels.reserved + excluded.reserved",
    )
    .bind(product_id)
    .bind(warehouse_id)
    .bind(delta)
    .execute(conn)
    .await?;
    Ok(())
}

/// Several settings at once, and the company's currency decimals as
/// `company.currency_decimals`: `(key, value)` for those that are set.
pub async fn settings_of(conn: &mut Conn, keys: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
    let sql = format!(
        "SELECT key, value FROM settings WHERE key IN ({}) \
         UNION ALL SELECT 'company.currency_decimals', CAST(currency_decimals AS TEXT) FROM company WHERE id = 1",
        placeholders(conn, 1, keys.len())
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for k in keys {
        q = q.bind(*k);
    }
    Ok(q.fetch_all(conn).await?)
}

/// Stock levels, of one article or all, optionally in one warehouse.
pub async fn levels(conn: &mut Conn, product_id: Option<&str>, warehouse_id: Option<&str>) -> Result<Vec<LevelRow>, StoreError> {
    let mut sql = "SELECT * FROM stock_levels WHERE 1 = 1".to_string();
    let mut n = 0;
    if product_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND product_id = ${n}"));
    }
    if warehouse_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND warehouse_id = ${n}"));
    }
    sql.push_str(" ORDER BY product_id, warehouse_id");
    let mut q = sqlx::query_as::<_, LevelRow>(&sql);
    for v in [product_id, warehouse_id].into_iter().flatten() {
        q = q.bind(v);
    }
    Ok(q.fetch_all(conn).await?)
}

/// An article's moves in a warehouse, oldest first, after the move `after_id`.
pub async fn card(
    conn: &mut Conn,
    product_id: &str,
    warehouse_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<MoveRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT * FROM stock_moves WHERE product_id = $1 AND warehouse_id = $2 AND id > $3 ORDER BY id LIMIT {}",
        limit + 1
    ))
    .bind(product_id)
    .bind(warehouse_id)
    .bind(after_id.unwrap_or(""))
    .fetch_all(conn)
    .await?)
}

/// Articles whose level differs from the sum of their moves (always none).
pub async fn level_mismatches(conn: &mut Conn) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT l.product_id, l.warehouse_id, l.on_hand, CAST(COALESCE(SUM(m.quantity), 0) AS BIGINT) FROM stock_levels l \
         LEFT JOIN stock_moves m ON m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id \
         GROUP BY l.product_id, l.warehouse_id, l.on_hand HAVING l.on_hand <> COALESCE(SUM(m.quantity), 0)",
    )
    .fetch_all(conn)
    .await?)
}

// ---------------------------------------------------------------- settings

pub async fn setting(conn: &mut Conn, key: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_as::<_, (String,)>("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(conn).await?.map(|r| r.0))
}

pub async fn set_setting(conn: &mut Conn, key: &str, value: &str, at: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
