//! The warehouse's own documents, which have no party: transfers between warehouses and
//! stock counts (`stock_documents` of kinds `transfer` and `count`, production orders
//! share the table, see `crate::manufacturing`), their lines, the valuation of what is on
//! hand, and the numbers the stock card shows beside each move. Only SQL here.

use crate::master::{placeholders, reserved, save_sql, values_list, written};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Default)]
pub struct StockDocRow {
    pub id: String,
    /// transfer or count.
    pub kind: String,
    pub status: String,
    pub number: Option<i64>,
    /// transfer: from; count: the warehouse counted.
    pub warehouse_id: String,
    /// transfer: to.
    pub to_warehouse_id: Option<String>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct StockDocLineRow {
    pub id: String,
    pub stock_document_id: String,
    pub position: i64,
    pub product_id: String,
    /// transfer: moved; count: counted (thousandths).
    pub quantity: i64,
    /// count: on hand when counted, and when done on hand at that moment.
    pub expected: i64,
    pub reason: Option<String>,
}

const COLUMNS: &str = "id, kind, status, number, warehouse_id, to_warehouse_id, reason, notes, created_by, created_at, updated_at, \
     done_at, done_by, cancelled_at, cancelled_by, version";

/// Creates (`insert`) or rewrites a transfer or count if its version is still `d.version`.
pub async fn save_stock_doc(conn: &mut Conn, d: &StockDocRow, insert: bool) -> Result<(), StoreError> {
    let cols = [
        "kind",
        "status",
        "number",
        "warehouse_id",
        "to_warehouse_id",
        "reason",
        "notes",
        "created_by",
        "created_at",
        "updated_at",
        "done_at",
        "done_by",
        "cancelled_at",
        "cancelled_by",
    ];
    let done = sqlx::query(&save_sql("stock_documents", &cols, insert))
        .bind(&d.kind)
        .bind(&d.status)
        .bind(d.number)
        .bind(&d.warehouse_id)
        .bind(&d.to_warehouse_id)
        .bind(&d.reason)
        .bind(&d.notes)
        .bind(&d.created_by)
        .bind(&d.created_at)
        .bind(&d.updated_at)
        .bind(&d.done_at)
        .bind(&d.done_by)
        .bind(&d.cancelled_at)
        .bind(&d.cancelled_by)
        .bind(d.version)
        .bind(&d.id)
        .execute(conn)
        .await?;
    written(done)
}

/// Replaces a document's lines.
pub async fn replace_stock_doc_lines(conn: &mut Conn, id: &str, lines: &[StockDocLineRow]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM stock_document_lines WHERE stock_document_id = $1").bind(id).execute(&mut *conn).await?;
    const WIDTH: usize = 7;
    for part in lines.chunks(crate::master::max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO stock_document_lines (id, stock_document_id, position, product_id, quantity, expected, reason) VALUES {}",
            values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, reserved(part.len() * WIDTH));
        for l in part {
            q = q
                .bind(&l.id)
                .bind(&l.stock_document_id)
                .bind(l.position)
                .bind(&l.product_id)
                .bind(l.quantity)
                .bind(l.expected)
                .bind(&l.reason);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A transfer or count (of `kind`) by id.
pub async fn get_stock_doc(conn: &mut Conn, kind: &str, id: &str) -> Result<Option<StockDocRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM stock_documents WHERE id = $1 AND kind = $2"))
        .bind(id)
        .bind(kind)
        .fetch_optional(conn)
        .await?)
}

pub async fn stock_doc_lines(conn: &mut Conn, id: &str) -> Result<Vec<StockDocLineRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, stock_document_id, position, product_id, quantity, expected, reason FROM stock_document_lines \
         WHERE stock_document_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Documents of one kind, newest first, before the id `before` (keyset), optionally in
/// one status.
pub async fn list_stock_docs(
    conn: &mut Conn,
    kind: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<StockDocRow>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM stock_documents WHERE kind = $1 AND id < $2");
    if status.is_some() {
        sql.push_str(" AND status = $3");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let mut q = sqlx::query_as(&sql).bind(kind).bind(before.unwrap_or("~"));
    if let Some(s) = status {
        q = q.bind(s);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The unit cost each article of a done document moved at (from its moves).
pub async fn moved_costs(conn: &mut Conn, id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT product_id, CAST(MAX(COALESCE(unit_cost, 0)) AS BIGINT) FROM stock_moves WHERE stock_document_id = $1 GROUP BY product_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

/// Every live stocked article that has a level in the warehouse, by code, with what is on
/// hand there: the lines of a full count sheet.
pub async fn articles_in(conn: &mut Conn, warehouse_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.id, l.on_hand FROM stock_levels l JOIN products p ON p.id = l.product_id \
         WHERE l.warehouse_id = $1 AND p.kind <> 'service' AND p.archived_at IS NULL ORDER BY p.code, p.id",
    )
    .bind(warehouse_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct ValuationRow {
    pub warehouse_id: String,
    pub warehouse_code: String,
    pub warehouse_name: String,
    pub product_id: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub on_hand: i64,
    pub cost: i64,
}

/// Every level with something on hand (or below zero) with its article's cost; one
/// warehouse or all, by warehouse and article code.
pub async fn valuation(conn: &mut Conn, warehouse_id: Option<&str>) -> Result<Vec<ValuationRow>, StoreError> {
    let mut sql = "SELECT l.warehouse_id, w.code AS warehouse_code, w.name AS warehouse_name, p.id AS product_id, p.code, p.name, p.unit, \
                   l.on_hand, p.cost FROM stock_levels l JOIN products p ON p.id = l.product_id \
                   JOIN warehouses w ON w.id = l.warehouse_id WHERE l.on_hand <> 0"
        .to_string();
    if warehouse_id.is_some() {
        sql.push_str(" AND l.warehouse_id = $1");
    }
    sql.push_str(" ORDER BY w.code, l.warehouse_id, p.code, p.id");
    let mut q = sqlx::query_as::<_, ValuationRow>(&sql);
    if let Some(w) = warehouse_id {
        q = q.bind(w);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The numbers of the documents behind some moves: `(id, point of sale, number)` of the
/// sales and purchase documents `doc_ids` and the stock documents `stock_doc_ids` (whose
/// point of sale is 1).
pub async fn document_numbers(
    conn: &mut Conn,
    doc_ids: &[String],
    stock_doc_ids: &[String],
) -> Result<Vec<(String, i64, Option<i64>)>, StoreError> {
    let mut out = Vec::new();
    if !doc_ids.is_empty() {
        let sql = format!("SELECT id, point_of_sale, number FROM documents WHERE id IN ({})", placeholders(conn, 1, doc_ids.len()));
        let mut q = sqlx::query_as(&sql);
        for id in doc_ids {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    if !stock_doc_ids.is_empty() {
        let sql = format!(
            "SELECT id, CAST(1 AS BIGINT), number FROM stock_documents WHERE id IN ({})",
            placeholders(conn, 1, stock_doc_ids.len())
        );
        let mut q = sqlx::query_as(&sql);
        for id in stock_doc_ids {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
