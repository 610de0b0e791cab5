//! Agenda rows: activities (calls, meetings, tasks) with their reminders, each user's
//! calendar feed secret (its SHA-256), and phone memos. Only SQL here; the rules are in
//! `domain::agenda` and `app::agenda`.

use crate::master::{save_sql, written};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Default)]
pub struct ActivityRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub notes: Option<String>,
    pub starts_at: String,
    pub duration_minutes: Option<i64>,
    pub ends_at: String,
    pub owner_id: String,
    pub party_id: Option<String>,
    pub contact_id: Option<String>,
    pub ticket_id: Option<String>,
    pub reminder_minutes_before: Option<i64>,
    pub remind_at: Option<String>,
    pub reminded_at: Option<String>,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub interaction_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const ACTIVITY_COLUMNS: &[&str] = &[
    "kind",
    "subject",
    "notes",
    "starts_at",
    "duration_minutes",
    "ends_at",
    "owner_id",
    "party_id",
    "contact_id",
    "ticket_id",
    "reminder_minutes_before",
    "remind_at",
    "reminded_at",
    "done_at",
    "done_by",
    "interaction_id",
    "created_by",
    "created_at",
    "updated_at",
];

/// Inserts an activity (`insert`) or writes all of its columns back if its version is
/// still the one read; the version goes up by one.
pub async fn save_activity(conn: &mut Conn, a: &ActivityRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("activities", ACTIVITY_COLUMNS, insert);
    let done = sqlx::query(&sql)
        .bind(&a.kind)
        .bind(&a.subject)
        .bind(&a.notes)
        .bind(&a.starts_at)
        .bind(a.duration_minutes)
        .bind(&a.ends_at)
        .bind(&a.owner_id)
        .bind(&a.party_id)
        .bind(&a.contact_id)
        .bind(&a.ticket_id)
        .bind(a.reminder_minutes_before)
        .bind(&a.remind_at)
        .bind(&a.reminded_at)
        .bind(&a.done_at)
        .bind(&a.done_by)
        .bind(&a.interaction_id)
        .bind(&a.created_by)
        .bind(&a.created_at)
        .bind(&a.updated_at)
        .bind(a.version)
        .bind(&a.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_activity(conn: &mut Conn, id: &str) -> Result<Option<ActivityRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM activities WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// Which activities a range query returns. Activities last at most a day, so those that
/// overlap `[from, to)` start in `[from − 1 day, to)`: `earliest_start` bounds the index
/// scan, however long the agenda's history.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub owner_id: Option<String>,
    pub party_id: Option<String>,
    pub from: String,
    pub earliest_start: String,
    pub to: String,
    pub done: Option<bool>,
    /// (starts_at, id) of the last activity of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// Earliest first.
pub async fn activities(conn: &mut Conn, q: &ActivityQuery) -> Result<Vec<ActivityRow>, StoreError> {
    let mut binds: Vec<String> = vec![q.earliest_start.clone(), q.to.clone(), q.from.clone()];
    let mut conds = vec!["starts_at >= $1".to_string(), "starts_at < $2".to_string(), "(ends_at > $3 OR starts_at >= $3)".to_string()];
    if let Some(o) = &q.owner_id {
        binds.push(o.clone());
        conds.push(format!("owner_id = ${}", binds.len()));
    }
    if let Some(p) = &q.party_id {
        binds.push(p.clone());
        conds.push(format!("party_id = ${}", binds.len()));
    }
    match q.done {
        Some(true) => conds.push("done_at IS NOT NULL".into()),
        Some(false) => conds.push("done_at IS NULL".into()),
        None => {}
    }
    if let Some((at, id)) = &q.after {
        binds.push(at.clone());
        binds.push(id.clone());
        let (a, b) = (binds.len() - 1, binds.len());
        conds.push(format!("(starts_at > ${a} OR (starts_at = ${a} AND id > ${b}))"));
    }
    let sql = format!("SELECT * FROM activities WHERE {} ORDER BY starts_at, id LIMIT ${}", conds.join(" AND "), binds.len() + 1);
    let mut query = sqlx::query_as::<_, ActivityRow>(&sql);
    for b in &binds {
        query = query.bind(b);
    }
    Ok(query.bind(q.limit).fetch_all(conn).await?)
}

/// One user's reminders that are due and not sent: not done, reminder time passed.
pub async fn due_reminders(conn: &mut Conn, owner_id: &str, now: &str, limit: i64) -> Result<Vec<ActivityRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT * FROM activities WHERE remind_at <= $1 AND reminded_at IS NULL AND done_at IS NULL AND owner_id = $2 \
         ORDER BY remind_at, id LIMIT $3",
    )
    .bind(now)
    .bind(owner_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A reminder to e-mail, with where it goes.
#[derive(Debug, Clone, FromRow)]
pub struct ReminderRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub notes: Option<String>,
    pub starts_at: String,
    pub duration_minutes: Option<i64>,
    pub party_id: Option<String>,
    pub party_name: Option<String>,
    pub email: String,
    pub display_name: String,
    pub locale: String,
}

/// Everyone's reminders due by `now` and not sent, for activities starting after `since`
/// (one long forgotten is not worth a mail), of active users who have an e-mail address.
pub async fn reminders_to_send(conn: &mut Conn, now: &str, since: &str, limit: i64) -> Result<Vec<ReminderRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.kind, a.subject, a.notes, a.starts_at, a.duration_minutes, a.party_id, p.name AS party_name, \
         u.email, u.display_name, u.locale FROM activities a JOIN users u ON u.id = a.owner_id \
         LEFT JOIN parties p ON p.id = a.party_id \
         WHERE a.remind_at <= $1 AND a.reminded_at IS NULL AND a.done_at IS NULL AND a.starts_at > $2 \
         AND u.active = 1 AND u.email IS NOT NULL ORDER BY a.remind_at, a.id LIMIT $3",
    )
    .bind(now)
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Takes a reminder for sending: true for the one caller that marked it (several servers
/// may share the database; each reminder goes out once).
pub async fn claim_reminder(conn: &mut Conn, id: &str, now: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE activities SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND done_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives a reminder back when its mail could not go for now (tried again later).
pub async fn release_reminder(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE activities SET reminded_at = NULL WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// One user's activities from `since` on, earliest first, for the calendar feed.
pub async fn feed_activities(conn: &mut Conn, owner_id: &str, since: &str, limit: i64) -> Result<Vec<FeedRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT a.*, p.name AS party_name, c.name AS contact_name FROM activities a LEFT JOIN parties p ON p.id = a.party_id \
         LEFT JOIN contacts c ON c.id = a.contact_id WHERE a.owner_id = $1 AND a.starts_at >= $2 ORDER BY a.starts_at, a.id LIMIT $3",
    )
    .bind(owner_id)
    .bind(since)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// An activity with the names the feed shows.
#[derive(Debug, Clone, FromRow)]
pub struct FeedRow {
    #[sqlx(flatten)]
    pub activity: ActivityRow,
    pub party_name: Option<String>,
    pub contact_name: Option<String>,
}

// ---------------------------------------------------------------- calendar feeds

/// The user whose feed has this secret (its SHA-256), if the user is active.
pub async fn feed_user(conn: &mut Conn, token_hash: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT f.user_id FROM calendar_feeds f JOIN users u ON u.id = f.user_id WHERE f.token_hash = $1 AND u.active = 1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// When the user's feed was made, if it was.
pub async fn feed_created(conn: &mut Conn, user_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT created_at FROM calendar_feeds WHERE user_id = $1").bind(user_id).fetch_optional(conn).await?)
}

/// Gives the user a new feed secret; the old one stops working.
pub async fn replace_feed(conn: &mut Conn, user_id: &str, token_hash: &str, now: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(token_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- phone memos

#[derive(Debug, Clone, FromRow, Default)]
pub struct MemoRow {
    pub id: String,
    pub for_user_id: String,
    pub taken_by_id: Option<String>,
    pub taken_by_name: String,
    pub taken_at: String,
    pub caller: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub urgency: String,
    pub agreed: Option<String>,
    pub party_id: Option<String>,
    pub contact_id: Option<String>,
    pub interaction_id: Option<String>,
    pub read_at: Option<String>,
    pub emailed_at: Option<String>,
    pub delivery_error: Option<String>,
}

pub async fn insert_memo(conn: &mut Conn, m: &MemoRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO phone_memos (id, for_user_id, taken_by_id, taken_by_name, taken_at, caller, company, phone, message, urgency, \
         agreed, party_id, contact_id, interaction_id, read_at, emailed_at, delivery_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&m.id)
    .bind(&m.for_user_id)
    .bind(&m.taken_by_id)
    .bind(&m.taken_by_name)
    .bind(&m.taken_at)
    .bind(&m.caller)
    .bind(&m.company)
    .bind(&m.phone)
    .bind(&m.message)
    .bind(&m.urgency)
    .bind(&m.agreed)
    .bind(&m.party_id)
    .bind(&m.contact_id)
    .bind(&m.interaction_id)
    .bind(&m.read_at)
    .bind(&m.emailed_at)
    .bind(&m.delivery_error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_memo(conn: &mut Conn, id: &str) -> Result<Option<MemoRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM phone_memos WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// A user's memos, newest first; only the unread ones when `unread`.
pub async fn memos(
    conn: &mut Conn,
    for_user_id: &str,
    unread: bool,
    before: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<MemoRow>, StoreError> {
    let (at, id) = before.unwrap_or_else(|| ("9999".into(), String::new()));
    let filter = if unread { " AND read_at IS NULL" } else { "" };
    let sql = format!(
        "SELECT * FROM phone_memos WHERE for_user_id = $1{filter} AND (taken_at < $2 OR (taken_at = $2 AND id < $3)) \
         ORDER BY taken_at DESC, id DESC LIMIT $4"
    );
    Ok(sqlx::query_as(&sql).bind(for_user_id).bind(at).bind(id).bind(limit).fetch_all(conn).await?)
}

/// How many memos the user has not read.
pub async fn unread_count(conn: &mut Conn, for_user_id: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM phone_memos WHERE for_user_id = $1 AND read_at IS NULL")
        .bind(for_user_id)
        .fetch_one(conn)
        .await?)
}

pub async fn mark_memo_read(conn: &mut Conn, id: &str, at: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE phone_memos SET read_at = $1 WHERE id = $2 AND read_at IS NULL").bind(at).bind(id).execute(conn).await?;
    Ok(())
}

/// Records how the e-mail to the recipient went: sent at `emailed_at`, or why not.
pub async fn memo_delivery(conn: &mut Conn, id: &str, emailed_at: Option<&str>, error: Option<&str>) -> Result<(), StoreError> {
    sqlx::query("UPDATE phone_memos SET emailed_at = $1, delivery_error = $2 WHERE id = $3")
        .bind(emailed_at)
        .bind(error)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a call off the timeline (an activity marked done by mistake).
pub async fn delete_interaction(conn: &mut Conn, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM interactions WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

// ---------------------------------------------------------------- directory

/// One entry of the directory: a customer, supplier, contact or employee.
#[derive(Debug, Clone, FromRow)]
pub struct DirectoryRow {
    /// customer | supplier | contact | employee
    pub kind: String,
    pub id: String,
    pub name: String,
    pub name_norm: String,
    /// A contact's customer or supplier.
    pub organisation: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
}

/// What the directory lists: the kinds the reader may see, folded search words (all must
/// match), after a cursor.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    pub words: Vec<String>,
    pub customers: bool,
    pub suppliers: bool,
    pub contacts: bool,
    pub employees: bool,
    /// (name_norm, id) of the last entry of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

/// Below this many full-text matches in a table, its part of the directory fetches them
/// all and sorts (as `master::list` does); above, it walks the name index.
const FEW_MATCHES: i64 = 2000;

/// One page of the directory, sorted by folded name. Each kind is read by its own name
/// index (or its search index when a search matches few), `limit` rows at most, and the
/// database merges them: its ordering, not the program's, decides the order and the
/// cursor, so pages never skip or repeat whatever the database's collation.
pub async fn directory(conn: &mut Conn, q: &DirectoryQuery) -> Result<Vec<DirectoryRow>, StoreError> {
    let sqlite = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let mut params: Vec<String> = Vec::new();
    let mut parts = Vec::new();
    // (kind, table, select list, from, filter)
    let mut sources: Vec<(&str, &str, &str, &str, String)> = Vec::new();
    if q.customers {
        sources.push((
            "customer",
            "parties",
            "t.email, t.phone, t.mobile, CAST(NULL AS TEXT) AS organisation",
            "parties t",
            "t.is_customer = 1".into(),
        ));
    }
    if q.suppliers {
        // A party that is both is listed once, as a customer, when the reader sees customers.
        let filter = if q.customers { "t.is_supplier = 1 AND t.is_customer = 0" } else { "t.is_supplier = 1" };
        sources.push(("supplier", "parties", "t.email, t.phone, t.mobile, CAST(NULL AS TEXT) AS organisation", "parties t", filter.into()));
    }
    if q.contacts {
        sources.push((
            "contact",
            "contacts",
            "t.email, t.phone, t.mobile, p.name AS organisation",
            "contacts t LEFT JOIN parties p ON p.id = t.party_id",
            "1 = 1".into(),
        ));
    }
    if q.employees {
        sources.push((
            "employee",
            "employees",
            "t.email, t.phone, CAST(NULL AS TEXT) AS mobile, CAST(NULL AS TEXT) AS organisation",
            "employees t",
            "1 = 1".into(),
        ));
    }
    for (kind, table, select, from, filter) in sources {
        let mut conds = vec![filter, "t.archived_at IS NULL".to_string()];
        let (fts, mut like): (Vec<&String>, Vec<&String>) = q.words.iter().partition(|w| sqlite && w.chars().count() >= 3);
        let mut few = false;
        if !fts.is_empty() {
            let expr = fts.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
            let probe = format!("SELECT COUNT(*) FROM (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH $1 LIMIT {FEW_MATCHES}) m");
            let found: i64 = sqlx::query_scalar(&probe).bind(&expr).fetch_one(&mut *conn).await?;
            few = found < FEW_MATCHES;
            if few {
                params.push(expr);
                conds.push(format!("t.rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ${})", params.len()));
            } else {
                // Many match: walking the name index and testing each row finds a page
                // sooner than gathering every match first.
                like.extend(fts);
            }
        }
        for w in like {
            params.push(crate::master::like_pattern(w));
            conds.push(format!("t.search_text LIKE ${} ESCAPE '\\'", params.len()));
        }
        if let Some((name, id)) = &q.after {
            params.push(name.clone());
            params.push(id.clone());
            let (a, b) = (params.len() - 1, params.len());
            conds.push(format!("(t.name_norm > ${a} OR (t.name_norm = ${a} AND t.id > ${b}))"));
        }
        // `+` keeps SQLite from walking the whole name index to find a few matches.
        let order = if few { "+t.name_norm, t.id" } else { "t.name_norm, t.id" };
        parts.push(format!(
            "SELECT * FROM (SELECT '{kind}' AS kind, t.id, t.name, t.name_norm, {select} FROM {from} WHERE {} ORDER BY {order} LIMIT $LIMIT) {kind}_part",
            conds.join(" AND ")
        ));
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let limit_mark = format!("${}", params.len() + 1);
    let sql = format!(
        "SELECT kind, id, name, name_norm, organisation, email, phone, mobile FROM ({}) d ORDER BY name_norm, id LIMIT {limit_mark}",
        parts.join(" UNION ALL ").replace("$LIMIT", &limit_mark)
    );
    let mut query = sqlx::query_as::<_, DirectoryRow>(&sql);
    for p in &params {
        query = query.bind(p);
    }
    Ok(query.bind(q.limit).fetch_all(conn).await?)
}
