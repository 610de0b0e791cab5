//! Customer analytics: the purchases the models read, and the cached figures
//! (`analytics_runs`, `analytics_customers`) that a refresh replaces in one transaction.
//! Models and rules live in `analytics` and `app::analytics`; only SQL here.

use crate::{Conn, StoreError, Tx};
use sqlx::FromRow;

/// One purchase: a posted invoice on its issue date, net of tax, less what posted credit
/// notes made from it took back and plus what posted debit notes on it added (minor units;
/// may be ≤ 0 when it was fully credited — the caller decides).
pub async fn purchases(conn: &mut Conn, to: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.party_id, i.issue_date, i.untaxed + COALESCE((SELECT CAST(SUM(CASE WHEN n.kind = 'credit_note' THEN -n.untaxed ELSE n.untaxed END) AS BIGINT) \
         FROM documents n WHERE n.origin_id = i.id AND n.status = 'posted' AND n.kind IN ('credit_note', 'debit_note')), 0) \
         FROM documents i WHERE i.kind = 'invoice' AND i.status = 'posted' AND i.issue_date <= $1 ORDER BY i.party_id, i.issue_date",
    )
    .bind(to)
    .fetch_all(conn)
    .await?)
}

/// When the figures were computed, and the state and parameters of the models.
#[derive(Debug, Clone, FromRow, Default, PartialEq)]
pub struct RunRow {
    pub computed_at: String,
    pub as_of: String,
    pub customers: i64,
    pub repeat_customers: i64,
    pub state: String,
    pub message: Option<String>,
    pub bg_r: Option<f64>,
    pub bg_alpha: Option<f64>,
    pub bg_a: Option<f64>,
    pub bg_b: Option<f64>,
    pub bg_log_likelihood: Option<f64>,
    pub gg_p: Option<f64>,
    pub gg_q: Option<f64>,
    pub gg_v: Option<f64>,
    pub gg_log_likelihood: Option<f64>,
}

/// One customer's cached figures (money in minor units).
#[derive(Debug, Clone, FromRow, Default, PartialEq)]
pub struct CustomerRow {
    pub party_id: String,
    /// Filled by the reads (the party's current name); ignored when writing.
    pub name: String,
    pub days_since_last: i64,
    pub purchase_days: i64,
    pub total_spend: i64,
    pub r_score: i64,
    pub f_score: i64,
    pub m_score: i64,
    pub segment: String,
    pub frequency: i64,
    pub recency: f64,
    pub age: f64,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub expected_spend: Option<i64>,
    pub clv: Option<i64>,
}

/// Floats go to the database as text cast there: a NULL bound as a float through the
/// `Any` driver confuses PostgreSQL's cached statements ("incorrect binary data format"),
/// a NULL text does not. Rust prints an `f64` exactly (the shortest text that reads back
/// to the same number), so nothing is lost.
fn text(v: Option<f64>) -> Option<String> {
    v.filter(|x| x.is_finite()).map(|x| x.to_string())
}

fn real(n: usize) -> String {
    format!("CAST(${n} AS DOUBLE PRECISION)")
}

/// Replaces the cached figures with these (the caller commits).
pub async fn replace(tx: &mut Tx, run: &RunRow, customers: &[CustomerRow]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM analytics_customers").execute(&mut **tx).await?;
    sqlx::query("DELETE FROM analytics_runs").execute(&mut **tx).await?;
    let floats = (7..=15).map(real).collect::<Vec<_>>().join(", ");
    sqlx::query(&format!(
        "INSERT INTO analytics_runs (id, computed_at, as_of, customers, repeat_customers, state, message, bg_r, bg_alpha, bg_a, bg_b, \
         bg_log_likelihood, gg_p, gg_q, gg_v, gg_log_likelihood) VALUES (1, $1, $2, $3, $4, $5, $6, {floats})"
    ))
    .bind(&run.computed_at)
    .bind(&run.as_of)
    .bind(run.customers)
    .bind(run.repeat_customers)
    .bind(&run.state)
    .bind(&run.message)
    .bind(text(run.bg_r))
    .bind(text(run.bg_alpha))
    .bind(text(run.bg_a))
    .bind(text(run.bg_b))
    .bind(text(run.bg_log_likelihood))
    .bind(text(run.gg_p))
    .bind(text(run.gg_q))
    .bind(text(run.gg_v))
    .bind(text(run.gg_log_likelihood))
    .execute(&mut **tx)
    .await?;
    let insert = format!(
        "INSERT INTO analytics_customers (party_id, days_since_last, purchase_days, total_spend, r_score, f_score, m_score, segment, \
         frequency, recency, age, p_alive, expected_purchases, expected_spend, clv) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {}, {}, {}, {}, $14, $15)",
        real(10),
        real(11),
        real(12),
        real(13)
    );
    for c in customers {
        sqlx::query(&insert)
            .bind(&c.party_id)
            .bind(c.days_since_last)
            .bind(c.purchase_days)
            .bind(c.total_spend)
            .bind(c.r_score)
            .bind(c.f_score)
            .bind(c.m_score)
            .bind(&c.segment)
            .bind(c.frequency)
            .bind(text(Some(c.recency)))
            .bind(text(Some(c.age)))
            .bind(text(c.p_alive))
            .bind(text(c.expected_purchases))
            .bind(c.expected_spend)
            .bind(c.clv)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn run(conn: &mut Conn) -> Result<Option<RunRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT computed_at, as_of, customers, repeat_customers, state, message, bg_r, bg_alpha, bg_a, bg_b, bg_log_likelihood, \
         gg_p, gg_q, gg_v, gg_log_likelihood FROM analytics_runs WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?)
}

const CUSTOMER_COLUMNS: &str = "c.party_id, p.name, c.days_since_last, c.purchase_days, c.total_spend, c.r_score, c.f_score, c.m_score, \
     c.segment, c.frequency, c.recency, c.age, c.p_alive, c.expected_purchases, c.expected_spend, c.clv";

/// How a list of customers is ordered (each with the party id last, so pages are stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Highest CLV first (customers without one last).
    Clv,
    /// Lowest P(alive) first, then highest CLV: who is slipping away and what they are worth.
    Risk,
    /// Highest total spend first.
    Spend,
    /// By name.
    Name,
}

/// A page of the cached customers, filtered by segment and by P(alive) at most/at least.
pub async fn customers(
    conn: &mut Conn,
    segment: Option<&str>,
    min_p_alive: Option<f64>,
    max_p_alive: Option<f64>,
    order: Order,
    limit: i64,
    offset: i64,
) -> Result<Vec<CustomerRow>, StoreError> {
    let order = match order {
        Order::Clv => "CASE WHEN c.clv IS NULL THEN 1 ELSE 0 END, c.clv DESC",
        Order::Risk => "CASE WHEN c.p_alive IS NULL THEN 1 ELSE 0 END, c.p_alive ASC, c.clv DESC",
        Order::Spend => "c.total_spend DESC",
        Order::Name => "p.name",
    };
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS} FROM analytics_customers c JOIN parties p ON p.id = c.party_id \
         WHERE ($1 = '' OR c.segment = $1) AND ($2 < 0 OR c.p_alive >= $2) AND ($3 < 0 OR c.p_alive <= $3) \
         ORDER BY {order}, c.party_id LIMIT $4 OFFSET $5"
    );
    Ok(sqlx::query_as(&sql)
        .bind(segment.unwrap_or(""))
        .bind(min_p_alive.unwrap_or(-1.0))
        .bind(max_p_alive.unwrap_or(-1.0))
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?)
}

pub async fn customer(conn: &mut Conn, party_id: &str) -> Result<Option<CustomerRow>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM analytics_customers c JOIN parties p ON p.id = c.party_id WHERE c.party_id = $1"
    ))
    .bind(party_id)
    .fetch_optional(conn)
    .await?)
}

/// Customers by recency score × frequency score × segment (the RFM grid).
pub async fn grid(conn: &mut Conn) -> Result<Vec<(i64, i64, String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r_score, f_score, segment, COUNT(*) FROM analytics_customers GROUP BY r_score, f_score, segment ORDER BY r_score, f_score",
    )
    .fetch_all(conn)
    .await?)
}

/// Open opportunities by stage, in board order: (stage name, count, expected value in minor units).
pub async fn open_pipeline(conn: &mut Conn) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT s.name, COUNT(*), CAST(COALESCE(SUM(o.expected_value), 0) AS BIGINT) FROM opportunities o \
         JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.status = 'open' GROUP BY s.name, s.position ORDER BY s.position",
    )
    .fetch_all(conn)
    .await?)
}

/// Open tickets, and how many of them breached a service level (first response or resolution).
pub async fn open_tickets(conn: &mut Conn) -> Result<(i64, i64), StoreError> {
    let (open, breached): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), CAST(SUM(CASE WHEN first_response_breached <> 0 OR resolution_breached <> 0 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM tickets WHERE status IN ('new', 'open', 'waiting', 'escalated')",
    )
    .fetch_one(conn)
    .await?;
    Ok((open, breached.unwrap_or(0)))
}

/// Customers with P(alive) below `p`, and their CLV together (minor units).
pub async fn at_risk(conn: &mut Conn, p: f64) -> Result<(i64, i64), StoreError> {
    let (n, clv): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), CAST(SUM(clv) AS BIGINT) FROM analytics_customers WHERE p_alive < $1")
            .bind(p)
            .fetch_one(conn)
            .await?;
    Ok((n, clv.unwrap_or(0)))
}
