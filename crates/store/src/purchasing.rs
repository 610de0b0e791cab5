//! Purchasing and warehouse rows: what suppliers are owed, the supplier invoice numbers
//! already recorded, article costs, stock valuation, and the stock documents that have no
//! party (transfers and counts; production orders share the table). Purchase documents
//! themselves are rows of `documents` (see `crate::sales`). Only SQL here.

use crate::sales::DocumentRow;
use crate::{Conn, StoreError};
use sqlx::FromRow;

fn doc_columns() -> &'static str {
    crate::sales::DOC_COLUMNS
}

/// Posted supplier invoices not fully paid and payments not fully allocated; one
/// supplier or all; only those due by `due_until` (YYYY-MM-DD) when given; oldest due first.
pub async fn open_payables(conn: &mut Conn, party_id: Option<&str>, due_until: Option<&str>) -> Result<Vec<DocumentRow>, StoreError> {
    let mut sql = format!(
        "SELECT {} FROM documents WHERE status = 'posted' AND kind IN ('supplier_invoice', 'supplier_payment') AND settled < total",
        doc_columns()
    );
    let mut n = 0;
    if party_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND party_id = ${n}"));
    }
    if due_until.is_some() {
        n += 1;
        sql.push_str(&format!(" AND kind = 'supplier_invoice' AND COALESCE(due_date, issue_date) <= ${n}"));
    }
    sql.push_str(" ORDER BY COALESCE(due_date, issue_date), id");
    let mut q = sqlx::query_as::<_, DocumentRow>(&sql);
    for v in [party_id, due_until].into_iter().flatten() {
        q = q.bind(v);
    }
    Ok(q.fetch_all(conn).await?)
}

/// A supplier's posted invoices and payments, oldest first (the supplier's account).
pub async fn supplier_ledger(conn: &mut Conn, party_id: &str) -> Result<Vec<DocumentRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {} FROM documents WHERE party_id = $1 AND status = 'posted' AND kind IN ('supplier_invoice', 'supplier_payment') \
         ORDER BY issue_date, id",
        doc_columns()
    ))
    .bind(party_id)
    .fetch_all(conn)
    .await?)
}

/// Another live invoice of this supplier under this number, if any.
pub async fn supplier_invoice_by_number(
    conn: &mut Conn,
    party_id: &str,
    number: &str,
    except_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_as::<_, (String,)>(
        "SELECT id FROM documents WHERE kind = 'supplier_invoice' AND party_id = $1 AND supplier_invoice_number = $2 \
         AND status <> 'cancelled' AND id <> $3",
    )
    .bind(party_id)
    .bind(number)
    .bind(except_id)
    .fetch_optional(conn)
    .await?
    .map(|r| r.0))
}

/// What is on hand of an article in all warehouses, and its cost; the levels are locked
/// by the caller's moves first (see `crate::sales::move_level`).
pub async fn on_hand_and_cost(conn: &mut Conn, product_id: &str) -> Result<(i64, i64), StoreError> {
    let (on_hand, cost): (Option<i64>, i64) = sqlx::query_as(
        "SELECT CAST((SELECT SUM(on_hand) FROM stock_levels WHERE product_id = $1) AS BIGINT), cost FROM products WHERE id = $1",
    )
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((on_hand.unwrap_or(0), cost))
}

/// Sets an article's cost (weighted average after goods came in).
pub async fn set_cost(conn: &mut Conn, product_id: &str, cost: i64, at: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE products SET cost = $1, updated_at = $2, version = version + 1 WHERE id = $3")
        .bind(cost)
        .bind(at)
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct ValuationRow {
    pub product_id: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub warehouse_id: String,
    pub on_hand: i64,
    pub cost: i64,
}

/// Every level with something on hand (or below zero), with its article's cost; one
/// warehouse or all, by article code.
pub async fn valuation(conn: &mut Conn, warehouse_id: Option<&str>) -> Result<Vec<ValuationRow>, StoreError> {
    let mut sql = "SELECT p.id AS product_id, p.code, p.name, p.unit, l.warehouse_id, l.on_hand, p.cost FROM stock_levels l \
                   JOIN products p ON p.id = l.product_id WHERE l.on_hand <> 0"
        .to_string();
    if warehouse_id.is_some() {
        sql.push_str(" AND l.warehouse_id = $1");
    }
    sql.push_str(" ORDER BY p.code, l.warehouse_id");
    let q = sqlx::query_as::<_, ValuationRow>(&sql);
    let q = match warehouse_id {
        Some(w) => q.bind(w),
        None => q,
    };
    Ok(q.fetch_all(conn).await?)
}

// ---------------------------------------------------------------- stock documents

#[derive(Debug, Clone, FromRow, Default)]
pub struct StockDocRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub number: Option<i64>,
    pub warehouse_id: String,
    pub to_warehouse_id: Option<String>,
    pub product_id: Option<String>,
    pub quantity: Option<i64>,
    pub unit_cost: Option<i64>,
    pub planned_date: Option<String>,
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
    pub quantity: i64,
    pub expected: i64,
    pub reason: Option<String>,
}

const STOCK_DOC_COLUMNS: &str = "id, kind, status, number, warehouse_id, to_warehouse_id, product_id, quantity, unit_cost, planned_date, \
     reason, notes, created_by, created_at, updated_at, done_at, done_by, cancelled_at, cancelled_by, version";

pub async fn insert_stock_doc(conn: &mut Conn, d: &StockDocRow) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO stock_documents ({STOCK_DOC_COLUMNS}) VALUES ({})", crate::master::placeholders(conn, 1, 20));
    sqlx::query(&sql)
        .bind(&d.id)
        .bind(&d.kind)
        .bind(&d.status)
        .bind(d.number)
        .bind(&d.warehouse_id)
        .bind(&d.to_warehouse_id)
        .bind(&d.product_id)
        .bind(d.quantity)
        .bind(d.unit_cost)
        .bind(&d.planned_date)
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
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_stock_doc_lines(conn: &mut Conn, lines: &[StockDocLineRow]) -> Result<(), StoreError> {
    const WIDTH: usize = 7;
    for part in lines.chunks(crate::master::max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO stock_document_lines (id, stock_document_id, position, product_id, quantity, expected, reason) VALUES {}",
            crate::master::values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, crate::master::reserved(part.len() * WIDTH));
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

pub async fn get_stock_doc(conn: &mut Conn, id: &str) -> Result<Option<StockDocRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {STOCK_DOC_COLUMNS} FROM stock_documents WHERE id = $1")).bind(id).fetch_optional(conn).await?)
}

pub async fn stock_doc_lines(conn: &mut Conn, id: &str) -> Result<Vec<StockDocLineRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM stock_document_lines WHERE stock_document_id = $1 ORDER BY position").bind(id).fetch_all(conn).await?)
}

/// Stock documents of one kind, newest first, after a keyset cursor (the last id seen).
pub async fn list_stock_docs(conn: &mut Conn, kind: &str, before_id: Option<&str>, limit: i64) -> Result<Vec<StockDocRow>, StoreError> {
    let mut sql = format!("SELECT {STOCK_DOC_COLUMNS} FROM stock_documents WHERE kind = $1");
    if before_id.is_some() {
        sql.push_str(" AND id < $2");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let q = sqlx::query_as::<_, StockDocRow>(&sql).bind(kind);
    let q = match before_id {
        Some(b) => q.bind(b),
        None => q,
    };
    Ok(q.fetch_all(conn).await?)
}

/// Marks a stock document done (or another final state) if it is still in `from`;
/// returns whether it was (a concurrent change of state is refused, not applied twice).
pub async fn finish_stock_doc(conn: &mut Conn, d: &StockDocRow, from: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query_as::<_, (String,)>(
        "UPDATE stock_documents SET status = $1, number = $2, unit_cost = $3, updated_at = $4, done_at = $5, done_by = $6, \
         cancelled_at = $7, cancelled_by = $8, version = version + 1 WHERE id = $9 AND status = $10 RETURNING id",
    )
    .bind(&d.status)
    .bind(d.number)
    .bind(d.unit_cost)
    .bind(&d.updated_at)
    .bind(&d.done_at)
    .bind(&d.done_by)
    .bind(&d.cancelled_at)
    .bind(&d.cancelled_by)
    .bind(&d.id)
    .bind(from)
    .fetch_optional(conn)
    .await?
    .is_some())
}
