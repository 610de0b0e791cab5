//! The audit trail: who changed what, when, before and after. Each entry is written in
//! the transaction of the change it records and carries the SHA-256 of the previous entry
//! and of itself, so that editing, deleting or reordering any row breaks the chain at
//! that row, which `verify` reports.

use crate::{clock, Actor, App, AppError, AppResult};
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::audit::{self as rows, AuditRow};
use store::Conn;

/// One change to record, its before and after already serialised.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

impl Change {
    pub fn new<B: Serialize, A: Serialize>(
        action: &str,
        entity: &str,
        entity_id: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> AppResult<Change> {
        let json = |e: serde_json::Error| AppError::Internal(e.to_string());
        Ok(Change {
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            before_json: before.map(serde_json::to_string).transpose().map_err(json)?,
            after_json: after.map(serde_json::to_string).transpose().map_err(json)?,
        })
    }
}

/// Appends one entry inside the caller's transaction.
pub async fn record<B: Serialize, A: Serialize>(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> AppResult<()> {
    record_many(conn, actor, vec![Change::new(action, entity, entity_id, before, after)?]).await
}

/// Appends one entry per change, in order, inside the caller's transaction: the chain is
/// computed here from one look at its end, and the entries are written together.
pub async fn record_many(conn: &mut Conn, actor: &Actor, changes: Vec<Change>) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let head = rows::next_seq(conn).await?;
    rows::append_many(conn, &entries(actor, head, changes)).await?;
    Ok(())
}

/// The entries of `changes` by `actor`, chained from `head` (the next sequence number and
/// the hash to chain to, as `store::audit::next_seq` gives them).
pub fn entries(actor: &Actor, head: (i64, String), changes: Vec<Change>) -> Vec<AuditRow> {
    let (mut seq, mut prev_hash) = head;
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        let mut row = AuditRow {
            seq,
            at: clock::now_text(),
            actor_id: actor.user_id.clone(),
            actor_name: actor.username.clone(),
            action: c.action,
            entity: c.entity,
            entity_id: c.entity_id,
            before_json: c.before_json,
            after_json: c.after_json,
            prev_hash,
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        prev_hash = row.hash.clone();
        seq += 1;
        out.push(row);
    }
    out
}

/// The hash of an entry: SHA-256 over the previous hash and every field, serialised as a
/// JSON array so that no two different entries share an input. The array is written
/// straight into the hash (the same bytes `serde_json::json!([…]).to_string()` gives).
pub fn entry_hash(row: &AuditRow) -> String {
    let fields = (
        &row.prev_hash,
        row.seq,
        &row.at,
        &row.actor_id,
        &row.actor_name,
        &row.action,
        &row.entity,
        &row.entity_id,
        &row.before_json,
        &row.after_json,
    );
    let mut h = HashWriter(Sha256::new());
    // Writing into a hash cannot fail, nor can serialising strings, numbers and nulls.
    let _ = serde_json::to_writer(&mut h, &fields);
    hex::encode(h.0.finalize())
}

/// `io::Write` into a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    /// The hash of the newest entry. Written down outside Tendero (a ticket, a printout),
    /// it also proves later that no entry was cut off the end.
    pub last_hash: String,
    /// The first entry whose content or link does not match, with the reason.
    pub first_bad: Option<(i64, String)>,
}

/// Walks the whole chain in order.
pub async fn verify(app: &App) -> AppResult<VerifyReport> {
    let mut conn = app.db.reader().await?;
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1;
    let mut entries = 0;
    loop {
        let batch = rows::batch(&mut conn, expected_seq - 1, 5000).await?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            entries += 1;
            let problem = if row.seq != expected_seq {
                Some(format!("entry {expected_seq} is missing"))
            } else if row.prev_hash != prev {
                Some("its link to the previous entry does not match".to_string())
            } else if entry_hash(&row) != row.hash {
                Some("its content does not match its hash".to_string())
            } else {
                None
            };
            if let Some(p) = problem {
                return Ok(VerifyReport { entries, last_hash: prev, first_bad: Some((expected_seq, p)) });
            }
            prev = row.hash;
            expected_seq += 1;
        }
    }
    Ok(VerifyReport { entries, last_hash: prev, first_bad: None })
}

/// One entry as shown on a record's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    /// Fields whose value changed: `[field, before, after]`.
    pub changes: Vec<(String, String, String)>,
}

/// A record's history, for whoever may read that kind of record.
pub async fn history(
    app: &App,
    actor: &Actor,
    resource: domain::access::Resource,
    entity: &str,
    entity_id: &str,
) -> AppResult<Vec<HistoryEntry>> {
    actor.authorize(domain::access::Action::Read, resource)?;
    let mut conn = app.db.reader().await?;
    let rows = rows::history(&mut conn, entity, entity_id).await?;
    Ok(rows.into_iter().map(to_history).collect())
}

pub async fn recent(app: &App, actor: &Actor, limit: i64) -> AppResult<Vec<(String, String, HistoryEntry)>> {
    actor.authorize(domain::access::Action::Read, domain::access::Resource::Audit)?;
    let mut conn = app.db.reader().await?;
    let rows = rows::recent(&mut conn, limit).await?;
    Ok(rows.into_iter().map(|r| (r.entity.clone(), r.entity_id.clone(), to_history(r))).collect())
}

fn to_history(r: AuditRow) -> HistoryEntry {
    let parse = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let before = parse(&r.before_json);
    let after = parse(&r.after_json);
    let mut changes = Vec::new();
    let empty = serde_json::Map::new();
    let b = before.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let a = after.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
        if matches!(key.as_str(), "id" | "updated_at" | "version" | "created_at") {
            continue;
        }
        let (x, y) = (show(b.get(key)), show(a.get(key)));
        // A new record's empty values ("false", "[]", "0") are not worth listing.
        let blank = |v: &str| matches!(v, "" | "false" | "[]" | "0");
        if x != y && !(blank(&x) && blank(&y)) {
            changes.push((key.clone(), x, y));
        }
    }
    HistoryEntry { seq: r.seq, at: r.at, actor: r.actor_name, action: r.action, changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash input is the one entries have always been hashed with, so that older
    /// trails still verify.
    #[test]
    fn entry_hash_is_sha256_of_the_json_array() {
        let row = AuditRow {
            seq: 42,
            at: "2024-03-15T10:00:00.000001Z".into(),
            actor_id: None,
            actor_name: "cli:ana \"la\" jefa\n".into(),
            action: "update".into(),
            entity: "party".into(),
            entity_id: "0190-ñ".into(),
            before_json: Some(r#"{"name":"Pérez \"Hnos\"","tags":["a"],"x":null}"#.into()),
            after_json: None,
            prev_hash: "0".repeat(64),
            hash: String::new(),
        };
        let fields = serde_json::json!([
            row.prev_hash,
            row.seq,
            row.at,
            row.actor_id,
            row.actor_name,
            row.action,
            row.entity,
            row.entity_id,
            row.before_json,
            row.after_json
        ]);
        let mut h = Sha256::new();
        h.update(fields.to_string().as_bytes());
        assert_eq!(entry_hash(&row), hex::encode(h.finalize()));
    }
}
