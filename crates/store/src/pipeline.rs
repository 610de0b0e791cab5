//! Sales pipeline rows: stages, leads, opportunities and the moves between stages. Only
//! SQL here; the rules are in `domain::pipeline` and `app::pipeline`.

use crate::master::{save_sql, written};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Default)]
pub struct StageRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub position: i64,
    pub probability: i64,
    pub is_won: i64,
    pub is_lost: i64,
    pub required_fields: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub async fn stages(conn: &mut Conn) -> Result<Vec<StageRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM pipeline_stages ORDER BY position, code").fetch_all(conn).await?)
}

pub async fn save_stage(conn: &mut Conn, s: &StageRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql(
        "pipeline_stages",
        &["code", "name", "position", "probability", "is_won", "is_lost", "required_fields", "archived_at", "created_at", "updated_at"],
        insert,
    );
    let done = sqlx::query(&sql)
        .bind(&s.code)
        .bind(&s.name)
        .bind(s.position)
        .bind(s.probability)
        .bind(s.is_won)
        .bind(s.is_lost)
        .bind(&s.required_fields)
        .bind(&s.archived_at)
        .bind(&s.created_at)
        .bind(&s.updated_at)
        .bind(s.version)
        .bind(&s.id)
        .execute(conn)
        .await?;
    written(done)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct LeadRow {
    pub id: String,
    pub name: String,
    pub name_norm: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub owner_id: Option<String>,
    pub status: String,
    pub notes: Option<String>,
    pub disqualified_reason: Option<String>,
    pub converted_party_id: Option<String>,
    pub converted_opportunity_id: Option<String>,
    pub converted_at: Option<String>,
    pub search_text: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const LEAD_COLUMNS: &[&str] = &[
    "name",
    "name_norm",
    "company",
    "email",
    "phone",
    "source",
    "owner_id",
    "status",
    "notes",
    "disqualified_reason",
    "converted_party_id",
    "converted_opportunity_id",
    "converted_at",
    "search_text",
    "created_by",
    "created_at",
    "updated_at",
];

pub async fn save_lead(conn: &mut Conn, l: &LeadRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("leads", LEAD_COLUMNS, insert);
    let done = sqlx::query(&sql)
        .bind(&l.name)
        .bind(&l.name_norm)
        .bind(&l.company)
        .bind(&l.email)
        .bind(&l.phone)
        .bind(&l.source)
        .bind(&l.owner_id)
        .bind(&l.status)
        .bind(&l.notes)
        .bind(&l.disqualified_reason)
        .bind(&l.converted_party_id)
        .bind(&l.converted_opportunity_id)
        .bind(&l.converted_at)
        .bind(&l.search_text)
        .bind(&l.created_by)
        .bind(&l.created_at)
        .bind(&l.updated_at)
        .bind(l.version)
        .bind(&l.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_lead(conn: &mut Conn, id: &str) -> Result<Option<LeadRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM leads WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// Newest first; one status or all; words to find in names, company, e-mail, phone.
pub async fn leads(
    conn: &mut Conn,
    status: Option<&str>,
    words: &[String],
    before: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<LeadRow>, StoreError> {
    let (at, id) = before.unwrap_or_else(|| ("9999".into(), String::new()));
    let mut sql = "SELECT * FROM leads WHERE (created_at, id) < ($1, $2) AND ($3 IS NULL OR status = $3)".to_string();
    for i in 0..words.len() {
        sql.push_str(&format!(" AND search_text LIKE ${} ESCAPE '\\'", i + 5));
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $4");
    let mut q = sqlx::query_as(&sql).bind(at).bind(id).bind(status).bind(limit);
    for w in words {
        q = q.bind(format!("%{}%", crate::master::like_pattern(w)));
    }
    Ok(q.fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct OpportunityRow {
    pub id: String,
    pub name: String,
    pub party_id: Option<String>,
    pub lead_id: Option<String>,
    pub stage_id: String,
    pub status: String,
    pub expected_value: Option<i64>,
    pub probability: i64,
    pub expected_close: Option<String>,
    pub owner_id: Option<String>,
    pub source: String,
    pub lost_reason: Option<String>,
    pub quote_id: Option<String>,
    pub closed_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const OPPORTUNITY_COLUMNS: &[&str] = &[
    "name",
    "party_id",
    "lead_id",
    "stage_id",
    "status",
    "expected_value",
    "probability",
    "expected_close",
    "owner_id",
    "source",
    "lost_reason",
    "quote_id",
    "closed_at",
    "created_by",
    "created_at",
    "updated_at",
];

pub async fn save_opportunity(conn: &mut Conn, o: &OpportunityRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("opportunities", OPPORTUNITY_COLUMNS, insert);
    let done = sqlx::query(&sql)
        .bind(&o.name)
        .bind(&o.party_id)
        .bind(&o.lead_id)
        .bind(&o.stage_id)
        .bind(&o.status)
        .bind(o.expected_value)
        .bind(o.probability)
        .bind(&o.expected_close)
        .bind(&o.owner_id)
        .bind(&o.source)
        .bind(&o.lost_reason)
        .bind(&o.quote_id)
        .bind(&o.closed_at)
        .bind(&o.created_by)
        .bind(&o.created_at)
        .bind(&o.updated_at)
        .bind(o.version)
        .bind(&o.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_opportunity(conn: &mut Conn, id: &str) -> Result<Option<OpportunityRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM opportunities WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// Which opportunities a list or the board shows.
#[derive(Debug, Clone, Default)]
pub struct OpportunityQuery {
    pub status: Option<String>,
    pub stage_id: Option<String>,
    pub owner_id: Option<String>,
    pub party_id: Option<String>,
    pub before: Option<(String, String)>,
    pub limit: i64,
}

/// Newest first.
pub async fn opportunities(conn: &mut Conn, q: &OpportunityQuery) -> Result<Vec<OpportunityRow>, StoreError> {
    let (at, id) = q.before.clone().unwrap_or_else(|| ("9999".into(), String::new()));
    Ok(sqlx::query_as(
        "SELECT * FROM opportunities WHERE (created_at, id) < ($1, $2) AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR stage_id = $4) \
         AND ($5 IS NULL OR owner_id = $5) AND ($6 IS NULL OR party_id = $6) ORDER BY created_at DESC, id DESC LIMIT $7",
    )
    .bind(at)
    .bind(id)
    .bind(&q.status)
    .bind(&q.stage_id)
    .bind(&q.owner_id)
    .bind(&q.party_id)
    .bind(q.limit)
    .fetch_all(conn)
    .await?)
}

pub async fn insert_move(
    conn: &mut Conn,
    id: &str,
    opportunity_id: &str,
    from: Option<&str>,
    to: &str,
    at: &str,
    actor: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO opportunity_moves (id, opportunity_id, from_stage_id, to_stage_id, at, actor_name) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(opportunity_id)
    .bind(from)
    .bind(to)
    .bind(at)
    .bind(actor)
    .execute(conn)
    .await?;
    Ok(())
}

/// Per stage: how many opportunities ever entered it, and how many of those were won.
pub async fn stage_funnel(conn: &mut Conn) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.to_stage_id, COUNT(DISTINCT m.opportunity_id), COUNT(DISTINCT CASE WHEN o.status = 'won' THEN m.opportunity_id END) \
         FROM opportunity_moves m JOIN opportunities o ON o.id = m.opportunity_id GROUP BY m.to_stage_id",
    )
    .fetch_all(conn)
    .await?)
}

/// Closed opportunities per owner (`by_owner`) or per source: key, won, lost, won value.
pub async fn closed_by(conn: &mut Conn, by_owner: bool) -> Result<Vec<(Option<String>, i64, i64, i64)>, StoreError> {
    let key = if by_owner { "owner_id" } else { "source" };
    let sql = format!(
        "SELECT {key}, CAST(SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN status = 'lost' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = 'won' THEN expected_value ELSE 0 END), 0) AS BIGINT) \
         FROM opportunities WHERE status IN ('won', 'lost') GROUP BY {key} ORDER BY {key}"
    );
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// Leads per source: how many, how many became customers.
pub async fn lead_conversion(conn: &mut Conn) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT source, COUNT(*), CAST(SUM(CASE WHEN status = 'converted' THEN 1 ELSE 0 END) AS BIGINT) FROM leads GROUP BY source ORDER BY source",
    )
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct ScriptRow {
    pub id: String,
    pub name: String,
    pub purpose: Option<String>,
    pub steps: String,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub async fn save_script(conn: &mut Conn, s: &ScriptRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("call_scripts", &["name", "purpose", "steps", "archived_at", "created_at", "updated_at"], insert);
    let done = sqlx::query(&sql)
        .bind(&s.name)
        .bind(&s.purpose)
        .bind(&s.steps)
        .bind(&s.archived_at)
        .bind(&s.created_at)
        .bind(&s.updated_at)
        .bind(s.version)
        .bind(&s.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_script(conn: &mut Conn, id: &str) -> Result<Option<ScriptRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM call_scripts WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn scripts(conn: &mut Conn) -> Result<Vec<ScriptRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM call_scripts WHERE archived_at IS NULL ORDER BY name").fetch_all(conn).await?)
}
