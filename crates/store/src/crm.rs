//! CRM and service-desk rows: interactions, the customer's timeline, tickets with their
//! status history and conversation, service-level policies and business calendars. Only
//! SQL here; the rules are in `domain::sla` and `app::crm`, `app::desk`.

use crate::master::{save_sql, written};
use crate::{Conn, StoreError};
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Default)]
pub struct InteractionRow {
    pub id: String,
    pub party_id: String,
    pub contact_id: Option<String>,
    pub kind: String,
    pub channel: String,
    pub direction: String,
    pub occurred_at: String,
    pub duration_seconds: Option<i64>,
    pub user_id: Option<String>,
    pub user_name: String,
    pub subject: String,
    pub body: Option<String>,
    pub outcome: Option<String>,
    pub opportunity_id: Option<String>,
    pub ticket_id: Option<String>,
    pub document_id: Option<String>,
    pub script_answers: Option<String>,
    pub created_at: String,
}

pub async fn insert_interaction(conn: &mut Conn, r: &InteractionRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO interactions (id, party_id, contact_id, kind, channel, direction, occurred_at, duration_seconds, user_id, \
         user_name, subject, body, outcome, opportunity_id, ticket_id, document_id, script_answers, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(&r.id)
    .bind(&r.party_id)
    .bind(&r.contact_id)
    .bind(&r.kind)
    .bind(&r.channel)
    .bind(&r.direction)
    .bind(&r.occurred_at)
    .bind(r.duration_seconds)
    .bind(&r.user_id)
    .bind(&r.user_name)
    .bind(&r.subject)
    .bind(&r.body)
    .bind(&r.outcome)
    .bind(&r.opportunity_id)
    .bind(&r.ticket_id)
    .bind(&r.document_id)
    .bind(&r.script_answers)
    .bind(&r.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_interaction(conn: &mut Conn, id: &str) -> Result<Option<InteractionRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM interactions WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

/// One entry of a customer's timeline, whatever its source.
#[derive(Debug, Clone, FromRow)]
pub struct TimelineRow {
    /// interaction | document | ticket
    pub source: String,
    pub id: String,
    pub at: String,
    /// The interaction's kind, the document's kind or the ticket's type.
    pub kind: String,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub subject: String,
    pub body: Option<String>,
    pub status: Option<String>,
    pub who: Option<String>,
    pub total: Option<i64>,
    pub number: Option<i64>,
    pub point_of_sale: Option<i64>,
}

/// What a timeline shows: one customer (or only one of its contacts), some sources,
/// some interaction kinds or channels, older than a cursor.
#[derive(Debug, Clone, Default)]
pub struct TimelineQuery {
    pub party_id: String,
    pub contact_id: Option<String>,
    pub interactions: bool,
    pub documents: bool,
    pub tickets: bool,
    pub kind: Option<String>,
    pub channel: Option<String>,
    /// (at, id) of the last entry of the previous page.
    pub before: Option<(String, String)>,
    pub limit: i64,
}

/// The newest entries first, merged from interactions, documents and tickets. Each source
/// is read by its own index (party, time, id) from the cursor down, `limit` rows at most,
/// so a page costs three short index scans however long the history is.
pub async fn timeline(conn: &mut Conn, q: &TimelineQuery) -> Result<Vec<TimelineRow>, StoreError> {
    let (at, id) = q.before.clone().unwrap_or_else(|| ("9999".into(), String::new()));
    let who = if q.contact_id.is_some() { "contact_id = $4" } else { "party_id = $1" };
    let mut parts = Vec::new();
    if q.interactions {
        let mut filter = String::new();
        if q.kind.is_some() {
            filter.push_str(" AND kind = $5");
        }
        if q.channel.is_some() {
            filter.push_str(" AND channel = $6");
        }
        parts.push(format!(
            "SELECT * FROM (SELECT 'interaction' AS source, id, occurred_at AS at, kind, channel, direction, subject, body, outcome AS status, \
             user_name AS who, CAST(NULL AS BIGINT) AS total, CAST(NULL AS BIGINT) AS number, CAST(NULL AS BIGINT) AS point_of_sale \
             FROM interactions WHERE {who} AND party_id = $1{filter} AND (occurred_at, id) < ($2, $3) \
             ORDER BY occurred_at DESC, id DESC LIMIT $7) i"
        ));
    }
    // Documents belong to the customer, not to one contact; kind and channel filters are
    // about interactions.
    if q.documents && q.contact_id.is_none() && q.kind.is_none() && q.channel.is_none() {
        parts.push(
            "SELECT * FROM (SELECT 'document' AS source, id, created_at AS at, kind, CAST(NULL AS TEXT) AS channel, \
             CAST(NULL AS TEXT) AS direction, COALESCE(customer_reference, '') AS subject, notes AS body, status, created_by AS who, \
             total, number, point_of_sale FROM documents WHERE party_id = $1 AND (created_at, id) < ($2, $3) \
             AND kind IN ('quote', 'order', 'delivery', 'invoice', 'credit_note', 'debit_note', 'receipt') \
             ORDER BY created_at DESC, id DESC LIMIT $7) d"
                .to_string(),
        );
    }
    if q.tickets && q.kind.is_none() && q.channel.is_none() {
        parts.push(format!(
            "SELECT * FROM (SELECT 'ticket' AS source, id, created_at AS at, type AS kind, channel, CAST(NULL AS TEXT) AS direction, \
             subject, CAST(NULL AS TEXT) AS body, status, created_by AS who, CAST(NULL AS BIGINT) AS total, number, \
             CAST(NULL AS BIGINT) AS point_of_sale FROM tickets WHERE {who} AND party_id = $1 AND (created_at, id) < ($2, $3) \
             ORDER BY created_at DESC, id DESC LIMIT $7) t"
        ));
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    // Every placeholder appears in every statement (PostgreSQL wants each one typed),
    // unused ones in a condition that is always true.
    let sql = format!(
        "SELECT * FROM ({}) x WHERE ($4 IS NULL OR $4 = $4) AND ($5 IS NULL OR $5 = $5) AND ($6 IS NULL OR $6 = $6) \
         ORDER BY at DESC, id DESC LIMIT $7",
        parts.join(" UNION ALL ")
    );
    Ok(sqlx::query_as(&sql)
        .bind(&q.party_id)
        .bind(at)
        .bind(id)
        .bind(&q.contact_id)
        .bind(&q.kind)
        .bind(&q.channel)
        .bind(q.limit)
        .fetch_all(conn)
        .await?)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct CalendarRow {
    pub id: String,
    pub name: String,
    pub hours: String,
    pub utc_offset_minutes: i64,
    pub holidays: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub async fn calendars(conn: &mut Conn) -> Result<Vec<CalendarRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM business_calendars ORDER BY name").fetch_all(conn).await?)
}

pub async fn get_calendar(conn: &mut Conn, id: &str) -> Result<Option<CalendarRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM business_calendars WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn save_calendar(conn: &mut Conn, c: &CalendarRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql("business_calendars", &["name", "hours", "utc_offset_minutes", "holidays", "created_at", "updated_at"], insert);
    let done = sqlx::query(&sql)
        .bind(&c.name)
        .bind(&c.hours)
        .bind(c.utc_offset_minutes)
        .bind(&c.holidays)
        .bind(&c.created_at)
        .bind(&c.updated_at)
        .bind(c.version)
        .bind(&c.id)
        .execute(conn)
        .await?;
    written(done)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct PolicyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub team: String,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    pub calendar_id: Option<String>,
    pub match_types: String,
    pub match_priorities: String,
    pub match_channels: String,
    pub match_tiers: String,
    pub warn_percent: i64,
    pub position: i64,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

pub async fn policies(conn: &mut Conn) -> Result<Vec<PolicyRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM sla_policies ORDER BY position, code").fetch_all(conn).await?)
}

pub async fn get_policy(conn: &mut Conn, id: &str) -> Result<Option<PolicyRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM sla_policies WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn save_policy(conn: &mut Conn, p: &PolicyRow, insert: bool) -> Result<(), StoreError> {
    let sql = save_sql(
        "sla_policies",
        &[
            "code",
            "name",
            "team",
            "first_response_minutes",
            "resolution_minutes",
            "calendar_id",
            "match_types",
            "match_priorities",
            "match_channels",
            "match_tiers",
            "warn_percent",
            "position",
            "archived_at",
            "created_at",
            "updated_at",
        ],
        insert,
    );
    let done = sqlx::query(&sql)
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.team)
        .bind(p.first_response_minutes)
        .bind(p.resolution_minutes)
        .bind(&p.calendar_id)
        .bind(&p.match_types)
        .bind(&p.match_priorities)
        .bind(&p.match_channels)
        .bind(&p.match_tiers)
        .bind(p.warn_percent)
        .bind(p.position)
        .bind(&p.archived_at)
        .bind(&p.created_at)
        .bind(&p.updated_at)
        .bind(p.version)
        .bind(&p.id)
        .execute(conn)
        .await?;
    written(done)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct TicketRow {
    pub id: String,
    pub number: i64,
    #[sqlx(rename = "type")]
    pub ticket_type: String,
    pub channel: String,
    pub party_id: Option<String>,
    pub contact_id: Option<String>,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub requester_phone: Option<String>,
    pub subject: String,
    pub priority: String,
    pub category: Option<String>,
    pub status: String,
    pub team: String,
    pub assignee_id: Option<String>,
    pub sla_policy_id: String,
    pub sla_started_at: String,
    pub first_response_at: Option<String>,
    pub first_response_due_at: Option<String>,
    pub resolution_due_at: Option<String>,
    pub first_response_breached: i64,
    pub resolution_breached: i64,
    pub escalated_at: Option<String>,
    pub escalated_by: Option<String>,
    pub escalation_reason: Option<String>,
    pub solved_at: Option<String>,
    pub solved_by: Option<String>,
    pub closed_at: Option<String>,
    pub rating_token_hash: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const TICKET_COLUMNS: &str = "number, type, channel, party_id, contact_id, requester_name, requester_email, requester_phone, subject, \
     priority, category, status, team, assignee_id, sla_policy_id, sla_started_at, first_response_at, first_response_due_at, \
     resolution_due_at, first_response_breached, resolution_breached, escalated_at, escalated_by, escalation_reason, solved_at, \
     solved_by, closed_at, rating_token_hash, rating, rating_comment, rated_at, created_by, created_at, updated_at";

/// Inserts a ticket (`insert`) or writes all of its columns back, if its version is still
/// the one read; the version goes up by one.
pub async fn save_ticket(conn: &mut Conn, t: &TicketRow, insert: bool) -> Result<(), StoreError> {
    let cols: Vec<&str> = TICKET_COLUMNS.split(',').map(str::trim).collect();
    let sql = save_sql("tickets", &cols, insert);
    let done = sqlx::query(&sql)
        .bind(t.number)
        .bind(&t.ticket_type)
        .bind(&t.channel)
        .bind(&t.party_id)
        .bind(&t.contact_id)
        .bind(&t.requester_name)
        .bind(&t.requester_email)
        .bind(&t.requester_phone)
        .bind(&t.subject)
        .bind(&t.priority)
        .bind(&t.category)
        .bind(&t.status)
        .bind(&t.team)
        .bind(&t.assignee_id)
        .bind(&t.sla_policy_id)
        .bind(&t.sla_started_at)
        .bind(&t.first_response_at)
        .bind(&t.first_response_due_at)
        .bind(&t.resolution_due_at)
        .bind(t.first_response_breached)
        .bind(t.resolution_breached)
        .bind(&t.escalated_at)
        .bind(&t.escalated_by)
        .bind(&t.escalation_reason)
        .bind(&t.solved_at)
        .bind(&t.solved_by)
        .bind(&t.closed_at)
        .bind(&t.rating_token_hash)
        .bind(t.rating)
        .bind(&t.rating_comment)
        .bind(&t.rated_at)
        .bind(&t.created_by)
        .bind(&t.created_at)
        .bind(&t.updated_at)
        .bind(t.version)
        .bind(&t.id)
        .execute(conn)
        .await?;
    written(done)
}

pub async fn get_ticket(conn: &mut Conn, id: &str) -> Result<Option<TicketRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM tickets WHERE id = $1").bind(id).fetch_optional(conn).await?)
}

pub async fn ticket_by_rating_token(conn: &mut Conn, hash: &str) -> Result<Option<TicketRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM tickets WHERE rating_token_hash = $1").bind(hash).fetch_optional(conn).await?)
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    /// Only these statuses (none: all).
    pub statuses: Vec<String>,
    pub team: Option<String>,
    pub party_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Only tickets whose resolution fell due before this instant (the breached list).
    pub due_before: Option<String>,
    /// (created_at, id) of the last ticket of the previous page.
    pub before: Option<(String, String)>,
    pub limit: i64,
}

/// Newest first (the breached list: soonest due first).
pub async fn tickets(conn: &mut Conn, q: &TicketQuery) -> Result<Vec<TicketRow>, StoreError> {
    let (at, id) = q.before.clone().unwrap_or_else(|| ("9999".into(), String::new()));
    let statuses = q.statuses.iter().map(|s| format!("'{}'", s.replace('\'', ""))).collect::<Vec<_>>().join(", ");
    let status_filter = if statuses.is_empty() { String::new() } else { format!(" AND status IN ({statuses})") };
    let order = if q.due_before.is_some() { "resolution_due_at, id" } else { "created_at DESC, id DESC" };
    let sql = format!(
        "SELECT * FROM tickets WHERE (created_at, id) < ($1, $2){status_filter} AND ($3 IS NULL OR team = $3) \
         AND ($4 IS NULL OR party_id = $4) AND ($5 IS NULL OR assignee_id = $5) \
         AND ($6 IS NULL OR (resolution_due_at IS NOT NULL AND resolution_due_at < $6)) ORDER BY {order} LIMIT $7"
    );
    Ok(sqlx::query_as(&sql)
        .bind(at)
        .bind(id)
        .bind(&q.team)
        .bind(&q.party_id)
        .bind(&q.assignee_id)
        .bind(&q.due_before)
        .bind(q.limit)
        .fetch_all(conn)
        .await?)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct TicketEventRow {
    pub id: String,
    pub ticket_id: String,
    pub at: String,
    pub status: String,
    pub team: String,
    pub sla_policy_id: String,
    pub actor_name: String,
    pub note: Option<String>,
}

pub async fn insert_event(conn: &mut Conn, e: &TicketEventRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_events (id, ticket_id, at, status, team, sla_policy_id, actor_name, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(&e.ticket_id)
    .bind(&e.at)
    .bind(&e.status)
    .bind(&e.team)
    .bind(&e.sla_policy_id)
    .bind(&e.actor_name)
    .bind(&e.note)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events(conn: &mut Conn, ticket_id: &str) -> Result<Vec<TicketEventRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY at, id").bind(ticket_id).fetch_all(conn).await?)
}

/// The status histories of several tickets in one query, each ticket's in order.
pub async fn events_of_many(conn: &mut Conn, ticket_ids: &[String]) -> Result<Vec<TicketEventRow>, StoreError> {
    if ticket_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT * FROM ticket_events WHERE ticket_id IN ({}) ORDER BY ticket_id, at, id",
        crate::master::placeholders(conn, 1, ticket_ids.len())
    );
    let mut q = sqlx::query_as(&sql);
    for id in ticket_ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(conn).await?)
}

#[derive(Debug, Clone, FromRow, Default)]
pub struct MessageRow {
    pub id: String,
    pub ticket_id: String,
    pub kind: String,
    pub author_id: Option<String>,
    pub author_name: String,
    pub body: String,
    pub email_message_id: Option<String>,
    pub delivery_error: Option<String>,
    pub created_at: String,
}

pub async fn insert_message(conn: &mut Conn, m: &MessageRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_messages (id, ticket_id, kind, author_id, author_name, body, email_message_id, delivery_error, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&m.id)
    .bind(&m.ticket_id)
    .bind(&m.kind)
    .bind(&m.author_id)
    .bind(&m.author_name)
    .bind(&m.body)
    .bind(&m.email_message_id)
    .bind(&m.delivery_error)
    .bind(&m.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_delivery_error(conn: &mut Conn, id: &str, error: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE ticket_messages SET delivery_error = $1 WHERE id = $2").bind(error).bind(id).execute(conn).await?;
    Ok(())
}

pub async fn set_email_id(conn: &mut Conn, id: &str, email_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE ticket_messages SET email_message_id = $1 WHERE id = $2").bind(email_id).bind(id).execute(conn).await?;
    Ok(())
}

pub async fn messages(conn: &mut Conn, ticket_id: &str) -> Result<Vec<MessageRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM ticket_messages WHERE ticket_id = $1 ORDER BY created_at, id").bind(ticket_id).fetch_all(conn).await?)
}

/// Per team, tickets solved in [from, to): how many, and how many missed their
/// resolution target.
pub async fn compliance(conn: &mut Conn, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT team, COUNT(*), CAST(SUM(resolution_breached) AS BIGINT) FROM tickets WHERE solved_at >= $1 AND solved_at < $2 GROUP BY team ORDER BY team",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?)
}

/// Derives customers' lifecycle from their posted invoices: `active` when one was issued
/// on or after `cutoff` (YYYY-MM-DD), `inactive` when all are older, `prospect` when there
/// is none. Customers whose lifecycle a user set by hand keep it. One customer or all;
/// only rows that change are written. Returns how many changed.
pub async fn refresh_lifecycles(conn: &mut Conn, party_id: Option<&str>, cutoff: &str) -> Result<u64, StoreError> {
    let derived = "CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.party_id = parties.id AND d.kind = 'invoice' \
                   AND d.status = 'posted' AND d.issue_date >= $1) THEN 'active' \
                   WHEN EXISTS (SELECT 1 FROM documents d WHERE d.party_id = parties.id AND d.kind = 'invoice' AND d.status = 'posted') \
                   THEN 'inactive' ELSE 'prospect' END";
    let sql = format!(
        "UPDATE parties SET lifecycle = {derived} WHERE is_customer = 1 AND lifecycle_set_by IS NULL \
         AND ($2 IS NULL OR id = $2) AND lifecycle <> {derived}"
    );
    Ok(sqlx::query(&sql).bind(cutoff).bind(party_id).execute(conn).await?.rows_affected())
}

/// Sets a customer's lifecycle by hand (`by` some) or gives it back to the derivation.
pub async fn set_lifecycle(conn: &mut Conn, party_id: &str, lifecycle: &str, by: Option<&str>, at: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE parties SET lifecycle = $1, lifecycle_set_by = $2, lifecycle_set_at = $3 WHERE id = $4")
        .bind(lifecycle)
        .bind(by)
        .bind(by.map(|_| at))
        .bind(party_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn lifecycle_of(conn: &mut Conn, party_id: &str) -> Result<Option<(String, Option<String>, Option<String>)>, StoreError> {
    Ok(sqlx::query_as("SELECT lifecycle, lifecycle_set_by, lifecycle_set_at FROM parties WHERE id = $1 AND is_customer = 1")
        .bind(party_id)
        .fetch_optional(conn)
        .await?)
}

/// Every open ticket, and the status history of each, in ticket order.
pub async fn open_tickets(conn: &mut Conn) -> Result<(Vec<TicketRow>, Vec<TicketEventRow>), StoreError> {
    let open = "('new', 'open', 'waiting', 'escalated')";
    let tickets = sqlx::query_as(&format!("SELECT * FROM tickets WHERE status IN {open} ORDER BY id")).fetch_all(&mut *conn).await?;
    let events = sqlx::query_as(&format!(
        "SELECT e.* FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.status IN {open} ORDER BY e.ticket_id, e.at, e.id"
    ))
    .fetch_all(conn)
    .await?;
    Ok((tickets, events))
}

/// Writes a ticket's cached due times and breach flags (not its version: nothing a user
/// typed changes).
pub async fn set_due_times(conn: &mut Conn, t: &TicketRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE tickets SET first_response_due_at = $1, resolution_due_at = $2, first_response_breached = $3, resolution_breached = $4 \
         WHERE id = $5",
    )
    .bind(&t.first_response_due_at)
    .bind(&t.resolution_due_at)
    .bind(t.first_response_breached)
    .bind(t.resolution_breached)
    .bind(&t.id)
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- incoming mail

pub async fn ticket_by_number(conn: &mut Conn, number: i64) -> Result<Option<TicketRow>, StoreError> {
    Ok(sqlx::query_as("SELECT * FROM tickets WHERE number = $1").bind(number).fetch_optional(conn).await?)
}

/// The ticket whose conversation carried one of these mails (their `Message-ID`s, with
/// the angle brackets): a customer's answer names the mail it answers.
pub async fn ticket_of_mails(conn: &mut Conn, message_ids: &[String]) -> Result<Option<String>, StoreError> {
    for id in message_ids.iter().take(50) {
        let found: Option<(String,)> = sqlx::query_as("SELECT ticket_id FROM ticket_messages WHERE email_message_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some((t,)) = found {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Whether a mail with this `Message-ID` is already in a conversation (read before).
pub async fn mail_received(conn: &mut Conn, message_id: &str) -> Result<bool, StoreError> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id FROM ticket_messages WHERE email_message_id = $1 AND kind = 'incoming' LIMIT 1")
            .bind(message_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// The customer and contact an e-mail address belongs to: a contact's first, then a
/// customer's own address; archived ones aside.
pub async fn sender(conn: &mut Conn, email: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
    let contact: Option<(String, String)> = sqlx::query_as(
        "SELECT c.party_id, c.id FROM contacts c JOIN parties p ON p.id = c.party_id \
         WHERE LOWER(c.email) = LOWER($1) AND c.archived_at IS NULL AND p.archived_at IS NULL AND p.is_customer <> 0 ORDER BY c.id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((party, contact)) = contact {
        return Ok(Some((party, Some(contact))));
    }
    let party: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM parties WHERE LOWER(email) = LOWER($1) AND archived_at IS NULL AND is_customer <> 0 ORDER BY id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(party.map(|(p,)| (p, None)))
}
