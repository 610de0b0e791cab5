//! Purchasing rows: what suppliers are owed, the supplier invoice numbers already
//! recorded and article costs. Purchase documents themselves are rows of `documents` (see
//! `crate::sales`); transfers, counts and the valuation are in `crate::stock`. Only SQL here.

use crate::sales::DocumentRow;
use crate::{Conn, StoreError};

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
