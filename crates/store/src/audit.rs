//! The audit trail's rows. The chaining (hashes) is computed by `app::audit`.

use crate::master::{max_params, reserved, values_list};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The next sequence number and the hash to chain to. The caller's write transaction
/// keeps it: SQLite has one writer at a time, and on PostgreSQL an advisory lock held
/// until commit makes concurrent writers append one after another. (A head row updated
/// per entry would serialise the same way but leaves a dead row version per entry, which
/// made a 20,000-row import on PostgreSQL a hundred times slower.)
pub async fn next_seq(conn: &mut Conn) -> Result<(i64, String), StoreError> {
    if !conn.backend_name().eq_ignore_ascii_case("sqlite") {
        sqlx::query("SELECT pg_advisory_xact_lock(7243838)").execute(&mut *conn).await?;
    }
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(conn).await?;
    Ok(last.map(|(seq, hash)| (seq + 1, hash)).unwrap_or_else(|| (1, ZERO_HASH.to_string())))
}

pub async fn append(conn: &mut Conn, row: &AuditRow) -> Result<(), StoreError> {
    append_many(conn, std::slice::from_ref(row)).await
}

/// Appends entries (already chained, in order) with as few statements as the database's
/// limit on bound values allows.
pub async fn append_many(conn: &mut Conn, rows: &[AuditRow]) -> Result<(), StoreError> {
    const WIDTH: usize = 11;
    for part in rows.chunks(max_params(conn) / WIDTH) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, entity, entity_id, before_json, after_json, prev_hash, hash) \
             VALUES {}",
            values_list(conn, part.len(), WIDTH)
        );
        let mut q = sqlx::query_with(&sql, reserved(part.len() * WIDTH));
        for row in part {
            q = q
                .bind(row.seq)
                .bind(&row.at)
                .bind(&row.actor_id)
                .bind(&row.actor_name)
                .bind(&row.action)
                .bind(&row.entity)
                .bind(&row.entity_id)
                .bind(&row.before_json)
                .bind(&row.after_json)
                .bind(&row.prev_hash)
                .bind(&row.hash);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn history(conn: &mut Conn, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT 200")
        .bind(entity)
        .bind(entity_id)
        .fetch_all(conn)
        .await?)
}

/// A batch of the trail in order, for verification: rows with `seq > after`.
pub async fn batch(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2").bind(after).bind(limit).fetch_all(conn).await?)
}

pub async fn recent(conn: &mut Conn, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM audit_log ORDER BY seq DESC LIMIT $1").bind(limit).fetch_all(conn).await?)
}
