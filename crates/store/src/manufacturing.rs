//! Manufacturing rows: bills of materials and their components, production orders
//! (`stock_documents` of kind `production` and their component lines), reorder rules,
//! and the set-based reads that replenishment needs.

use crate::master::{placeholders, reserved, save_sql, values_list, written};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct BomRow {
    pub id: String,
    pub product_id: String,
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct ComponentRow {
    pub id: String,
    pub bom_id: String,
    pub position: i64,
    pub product_id: String,
    pub quantity: i64,
    pub scrap: i64,
}

/// A component with the article its bill makes (to build the map of every bill).
#[derive(Debug, Clone, FromRow)]
pub struct EdgeRow {
    pub parent_id: String,
    pub product_id: String,
    pub quantity: i64,
    pub scrap: i64,
}

pub async fn get_bom(conn: &mut Conn, id: &str) -> Result<Option<BomRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM boms WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn bom_of(conn: &mut Conn, product_id: &str) -> Result<Option<BomRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM boms WHERE product_id = $1").bind(product_id).fetch_optional(conn).await?)
}

/// Bills of materials in the order they were made (keyset on the id), after `after`.
pub async fn list_boms(conn: &mut Conn, after: Option<&str>, limit: i64) -> Result<Vec<BomRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT * FROM boms WHERE id > $1 ORDER BY id LIMIT {}", limit + 1))
        .bind(after.unwrap_or(""))
        .fetch_all(conn)
        .await?)
}

/// Creates (`insert`) or rewrites a bill if its version is still `b.version`.
pub async fn save_bom(conn: &mut Conn, b: &BomRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("boms", &["product_id", "notes", "created_at", "updated_at"], insert);
    let done = sqlx::query(&sql)
        .bind(&b.product_id)
        .bind(&b.notes)
        .bind(&b.created_at)
        .bind(&b.updated_at)
        .bind(b.version)
        .bind(&b.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn delete_bom(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bom_components WHERE bom_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM boms WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Replaces the components of a bill.
pub async fn replace_components(conn: &mut Conn, bom_id: &str, rows: &[ComponentRow]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM bom_components WHERE bom_id = $1").bind(bom_id).execute(&mut *conn).await?;
    const WIDTH: usize = 6;
    for part in rows.chunks(crate::master::max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO bom_components (id, bom_id, position, product_id, quantity, scrap) VALUES {}",
            values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, reserved(part.len() * WIDTH));
        for c in part {
            q = q.bind(&c.id).bind(&c.bom_id).bind(c.position).bind(&c.product_id).bind(c.quantity).bind(c.scrap);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn components_of(conn: &mut Conn, bom_ids: &[String]) -> Result<Vec<ComponentRow>, StoreError> {
    if bom_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT * FROM bom_components WHERE bom_id IN ({}) ORDER BY bom_id, position", placeholders(conn, 1, bom_ids.len()));
    let mut q = sqlx::query_as(&sql);
    for id in bom_ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(conn).await?)
}

/// The components of the bills that make `parents`, with the article each goes into.
pub async fn edges_from(conn: &mut Conn, parents: &[String]) -> Result<Vec<EdgeRow>, StoreError> {
    let mut out = Vec::new();
    for part in parents.chunks(crate::master::max_params(conn)) {
        let sql = format!(
            "SELECT b.product_id AS parent_id, c.product_id, c.quantity, c.scrap FROM boms b \
             JOIN bom_components c ON c.bom_id = b.id WHERE b.product_id IN ({}) ORDER BY b.product_id, c.position",
            placeholders(conn, 1, part.len())
        );
        let mut q = sqlx::query_as(&sql);
        for id in part {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Open production orders of an article (a bill in use cannot be deleted).
pub async fn open_orders_of(conn: &mut Conn, product_id: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM stock_documents WHERE kind = 'production' AND product_id = $1 AND status IN ('draft', 'planned', 'reserved')",
    )
    .bind(product_id)
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Costs (minor units) of the given articles.
pub async fn costs_of(conn: &mut Conn, ids: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
    let mut out = Vec::new();
    for part in ids.chunks(crate::master::max_params(conn)) {
        let sql = format!("SELECT id, cost FROM products WHERE id IN ({})", placeholders(conn, 1, part.len()));
        let mut q = sqlx::query_as(&sql);
        for id in part {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

// ---------------------------------------------------------------- production orders

#[derive(Debug, Clone, FromRow, Default)]
pub struct ProductionRow {
    pub id: String,
    pub status: String,
    pub number: Option<i64>,
    pub warehouse_id: String,
    pub product_id: Option<String>,
    pub quantity: Option<i64>,
    pub unit_cost: Option<i64>,
    pub planned_date: Option<String>,
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

const PRODUCTION_COLUMNS: &str = "id, status, number, warehouse_id, product_id, quantity, unit_cost, planned_date, notes, created_by, \
     created_at, updated_at, done_at, done_by, cancelled_at, cancelled_by, version";

#[derive(Debug, Clone, FromRow)]
pub struct ProductionLineRow {
    pub id: String,
    pub stock_document_id: String,
    pub position: i64,
    pub product_id: String,
    /// Needed, scrap included.
    pub quantity: i64,
    /// Reserved of it.
    pub expected: i64,
}

/// Creates (`insert`) or rewrites a production order if its version is still `o.version`.
pub async fn save_production(conn: &mut Conn, o: &ProductionRow, insert: bool) -> Result<(), StoreError> {
    let cols = [
        "kind",
        "status",
        "number",
        "warehouse_id",
        "product_id",
        "quantity",
        "unit_cost",
        "planned_date",
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
        .bind("production")
        .bind(&o.status)
        .bind(o.number)
        .bind(&o.warehouse_id)
        .bind(&o.product_id)
        .bind(o.quantity)
        .bind(o.unit_cost)
        .bind(&o.planned_date)
        .bind(&o.notes)
        .bind(&o.created_by)
        .bind(&o.created_at)
        .bind(&o.updated_at)
        .bind(&o.done_at)
        .bind(&o.done_by)
        .bind(&o.cancelled_at)
        .bind(&o.cancelled_by)
        .bind(o.version)
        .bind(&o.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_production(conn: &mut Conn, id: &str) -> Result<Option<ProductionRow>, StoreError> {
    Ok(sqlx::query_as(&format!("SELECT {PRODUCTION_COLUMNS} FROM stock_documents WHERE id = $1 AND kind = 'production'"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Production orders, newest first, before the order `before` (keyset), optionally in
/// one status.
pub async fn list_productions(
    conn: &mut Conn,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<ProductionRow>, StoreError> {
    let mut sql = format!("SELECT {PRODUCTION_COLUMNS} FROM stock_documents WHERE kind = 'production' AND id < $1");
    if status.is_some() {
        sql.push_str(" AND status = $2");
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let mut q = sqlx::query_as(&sql).bind(before.unwrap_or("~"));
    if let Some(s) = status {
        q = q.bind(s);
    }
    Ok(q.fetch_all(conn).await?)
}

pub async fn replace_production_lines(conn: &mut Conn, order_id: &str, lines: &[ProductionLineRow]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM stock_document_lines WHERE stock_document_id = $1").bind(order_id).execute(&mut *conn).await?;
    const WIDTH: usize = 6;
    for part in lines.chunks(crate::master::max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO stock_document_lines (id, stock_document_id, position, product_id, quantity, expected) VALUES {}",
            values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, reserved(part.len() * WIDTH));
        for l in part {
            q = q.bind(&l.id).bind(&l.stock_document_id).bind(l.position).bind(&l.product_id).bind(l.quantity).bind(l.expected);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn production_lines(conn: &mut Conn, order_id: &str) -> Result<Vec<ProductionLineRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, stock_document_id, position, product_id, quantity, expected FROM stock_document_lines \
         WHERE stock_document_id = $1 ORDER BY position",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

/// What is on hand and reserved of the given articles in one warehouse.
pub async fn levels_in(conn: &mut Conn, warehouse_id: &str, ids: &[String]) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let mut out = Vec::new();
    for part in ids.chunks(crate::master::max_params(conn) - 1) {
        // The list first: SQLite numbers its `?` marks before the named `$n` after them.
        let sql = format!(
            "SELECT product_id, on_hand, reserved FROM stock_levels WHERE product_id IN ({}) AND warehouse_id = ${}",
            placeholders(conn, 1, part.len()),
            part.len() + 1
        );
        let mut q = sqlx::query_as(&sql);
        for id in part {
            q = q.bind(id);
        }
        out.extend(q.bind(warehouse_id).fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// What is on hand of an article in every warehouse together.
pub async fn total_on_hand(conn: &mut Conn, product_id: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM stock_levels WHERE product_id = $1")
        .bind(product_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

// ---------------------------------------------------------------- reorder rules

#[derive(Debug, Clone, FromRow)]
pub struct RuleRow {
    pub product_id: String,
    pub warehouse_id: String,
    pub reorder_point: i64,
    pub reorder_quantity: i64,
    pub updated_at: String,
}

pub async fn set_rule(conn: &mut Conn, r: &RuleRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reorder_rules (product_id, warehouse_id, reorder_point, reorder_quantity, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (product_id, warehouse_id) DO UPDATE SET reorder_point = excluded.reorder_point, \
         reorder_quantity = excluded.reorder_quantity, updated_at = excluded.updated_at",
    )
    .bind(&r.product_id)
    .bind(&r.warehouse_id)
    .bind(r.reorder_point)
    .bind(r.reorder_quantity)
    .bind(&r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_rule(conn: &mut Conn, product_id: &str, warehouse_id: &str) -> Result<Option<RuleRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM reorder_rules WHERE product_id = $1 AND warehouse_id = $2")
        .bind(product_id)
        .bind(warehouse_id)
        .fetch_optional(conn)
        .await?)
}

/// Reorder rules, of one article or all, after `(product_id, warehouse_id)` (keyset).
pub async fn rules(conn: &mut Conn, product_id: Option<&str>, after: (&str, &str), limit: i64) -> Result<Vec<RuleRow>, StoreError> {
    let mut sql = "SELECT * FROM reorder_rules WHERE (product_id > $1 OR (product_id = $1 AND warehouse_id > $2))".to_string();
    if product_id.is_some() {
        sql.push_str(" AND product_id = $3");
    }
    sql.push_str(&format!(" ORDER BY product_id, warehouse_id LIMIT {}", limit + 1));
    let mut q = sqlx::query_as(&sql).bind(after.0).bind(after.1);
    if let Some(p) = product_id {
        q = q.bind(p);
    }
    Ok(q.fetch_all(conn).await?)
}

/// One reorder rule with everything replenishment weighs, read for all rules at once.
#[derive(Debug, Clone, FromRow)]
pub struct PositionRow {
    pub product_id: String,
    pub warehouse_id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub has_bom: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub open_purchase: i64,
    pub open_production: i64,
    pub reorder_point: i64,
    pub reorder_quantity: i64,
}

/// Every reorder rule of a live article with its level, what confirmed purchase orders
/// still bring into that warehouse and what open production orders will make there: one
/// statement, grouped once per source.
pub async fn positions(conn: &mut Conn) -> Result<Vec<PositionRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.product_id, r.warehouse_id, p.code, p.name, p.kind, \
           CASE WHEN b.id IS NULL THEN 0 ELSE 1 END AS has_bom, \
           COALESCE(l.on_hand, 0) AS on_hand, COALESCE(l.reserved, 0) AS reserved, \
           COALESCE(po.q, 0) AS open_purchase, COALESCE(pr.q, 0) AS open_production, \
           r.reorder_point, r.reorder_quantity \
         FROM reorder_rules r \
         JOIN products p ON p.id = r.product_id \
         LEFT JOIN stock_levels l ON l.product_id = r.product_id AND l.warehouse_id = r.warehouse_id \
         LEFT JOIN boms b ON b.product_id = r.product_id \
         LEFT JOIN (SELECT dl.product_id, d.warehouse_id, CAST(SUM(dl.quantity - dl.delivered) AS BIGINT) AS q \
                    FROM documents d JOIN document_lines dl ON dl.document_id = d.id \
                    WHERE d.kind = 'purchase_order' AND d.status = 'confirmed' AND dl.quantity > dl.delivered \
                    GROUP BY dl.product_id, d.warehouse_id) po \
           ON po.product_id = r.product_id AND po.warehouse_id = r.warehouse_id \
         LEFT JOIN (SELECT product_id, warehouse_id, CAST(SUM(quantity) AS BIGINT) AS q FROM stock_documents \
                    WHERE kind = 'production' AND status IN ('draft', 'planned', 'reserved') \
                    GROUP BY product_id, warehouse_id) pr \
           ON pr.product_id = r.product_id AND pr.warehouse_id = r.warehouse_id \
         WHERE p.archived_at IS NULL \
         ORDER BY p.code, r.warehouse_id",
    )
    .fetch_all(conn)
    .await?)
}
