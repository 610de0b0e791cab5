//! The agenda, phone memos and the directory.
//!
//! - Activities: calls, meetings and tasks with a start, a duration (a task may have
//!   none), an owner, links to a customer, contact or ticket, a reminder, done or not.
//!   When a call or meeting with a customer is marked done, an interaction of the same
//!   kind is recorded on the customer's timeline (and taken off again if it is marked
//!   undone): the timeline shows what happened, the agenda what was planned.
//! - A private iCalendar feed per user: the address carries a secret of which only the
//!   SHA-256 is kept, so the address is shown once, when it is made (on the first request,
//!   or when the user makes a new one, which ends the old).
//! - Reminders: listed in the application when due, and e-mailed to the owner once by
//!   the server's minute job.
//! - Phone memos (*fono memos*): a message taken for a colleague, delivered in the
//!   application and by e-mail; when the caller is a known contact (or customer) the call
//!   is recorded on the customer's timeline too.
//! - The directory: one searchable list of the customers, suppliers, contacts and
//!   employees the reader may see, with their phones and e-mails.

use crate::crm::{contact_in, customer_in, one_of};
use crate::master::{decode_cursor, encode_cursor, search_words, Page};
use crate::{audit, auth, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::agenda::{self as ag, ACTIVITY_KINDS, AGREED, URGENCIES};
use domain::ical;
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;
use store::agenda::{self as rows, ActivityQuery, ActivityRow, DirectoryQuery, MemoRow};
use store::crm::InteractionRow;
use store::master::{self as mrows, ContactRow, PartyRow};
use store::people::{self, UserRow};
use store::Conn;
use time::{Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

/// Absent stays as is; `null` clears.
fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

async fn commit(tx: store::Tx) -> AppResult<()> {
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// A user named by id or by user name.
async fn user_named(conn: &mut Conn, name_or_id: &str) -> AppResult<Option<UserRow>> {
    if let Ok(id) = parse_id(name_or_id) {
        if let Some(u) = people::user_by_id(conn, &id).await? {
            return Ok(Some(u));
        }
    }
    Ok(people::user_by_name(conn, &name_or_id.trim().to_lowercase()).await?)
}

/// The actor's own user id: the command line has none.
fn me(actor: &Actor) -> AppResult<String> {
    actor.user_id.clone().ok_or(AppError::Forbidden)
}

// ---------------------------------------------------------------------------------------
// Activities

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub id: String,
    /// call | meeting | task
    pub kind: String,
    pub subject: String,
    pub notes: Option<String>,
    /// When it starts (a task: when it is due), RFC 3339, UTC.
    pub starts_at: String,
    /// None: a task without a duration.
    pub duration_minutes: Option<i64>,
    pub ends_at: String,
    pub owner_id: String,
    pub owner_name: String,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub contact_id: Option<String>,
    pub ticket_id: Option<String>,
    pub reminder_minutes_before: Option<i64>,
    /// When the reminder is due.
    pub remind_at: Option<String>,
    /// When the reminder was e-mailed.
    pub reminded_at: Option<String>,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    /// The entry on the customer's timeline recorded when the call or meeting was done.
    pub interaction_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// The names an activity shows, read once for a whole list.
#[derive(Default)]
struct Names {
    users: HashMap<String, String>,
    parties: HashMap<String, String>,
}

impl Names {
    async fn load(conn: &mut Conn, list: &[ActivityRow]) -> AppResult<Names> {
        let users = people::list_users(conn).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
        let mut ids: Vec<String> = list.iter().filter_map(|a| a.party_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let parties = mrows::find_many::<PartyRow>(conn, "id", &ids).await?.into_iter().map(|p| (p.id, p.name)).collect();
        Ok(Names { users, parties })
    }

    fn activity(&self, r: ActivityRow) -> Activity {
        Activity {
            owner_name: self.users.get(&r.owner_id).cloned().unwrap_or_default(),
            customer_name: r.party_id.as_ref().and_then(|p| self.parties.get(p).cloned()),
            done: r.done_at.is_some(),
            id: r.id,
            kind: r.kind,
            subject: r.subject,
            notes: r.notes,
            starts_at: r.starts_at,
            duration_minutes: r.duration_minutes,
            ends_at: r.ends_at,
            owner_id: r.owner_id,
            customer_id: r.party_id,
            contact_id: r.contact_id,
            ticket_id: r.ticket_id,
            reminder_minutes_before: r.reminder_minutes_before,
            remind_at: r.remind_at,
            reminded_at: r.reminded_at,
            done_at: r.done_at,
            done_by: r.done_by,
            interaction_id: r.interaction_id,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

async fn activity_of(conn: &mut Conn, r: ActivityRow) -> AppResult<Activity> {
    let names = Names::load(conn, std::slice::from_ref(&r)).await?;
    Ok(names.activity(r))
}

/// What is typed to plan an activity or change one. In a change, absent fields stay as
/// they are, `""` clears a text or a link, `null` clears a number.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    /// call | meeting | task
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub notes: Option<String>,
    /// RFC 3339 (`2026-03-10T14:00:00-03:00`).
    pub starts_at: Option<String>,
    /// 0–1440; a task may have none. Either this or `ends_at`.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub duration_minutes: Option<Option<i64>>,
    /// RFC 3339; instead of `duration_minutes`.
    pub ends_at: Option<String>,
    /// The user whose agenda it is (id or user name); yours by default.
    pub owner_id: Option<String>,
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    pub ticket_id: Option<String>,
    /// Minutes before the start to remind the owner (in the application and by e-mail).
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub reminder_minutes_before: Option<Option<i64>>,
    /// The version read, to refuse a change over someone else's.
    pub version: Option<i64>,
}

/// The years an agenda may speak of (far from the ends of the calendar, so that adding a
/// day or a week never overflows).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// An instant typed by a person or a program: RFC 3339.
fn instant(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<OffsetDateTime> {
    let s = nonempty(value)?;
    match clock::parse(s) {
        Some(t) if YEARS.contains(&t.to_offset(time::UtcOffset::UTC).year()) => Some(t),
        _ => {
            errors.add(field, "datetime-invalid");
            None
        }
    }
}

/// The owner named, or the actor: an active user.
async fn owner_in(conn: &mut Conn, errors: &mut FieldErrors, value: Option<&str>, actor: &Actor) -> AppResult<Option<UserRow>> {
    let found = match nonempty(value) {
        None | Some("me") => match &actor.user_id {
            Some(id) => people::user_by_id(conn, id).await?,
            None => None,
        },
        Some(v) => user_named(conn, v).await?,
    };
    match found {
        Some(u) if u.active != 0 => Ok(Some(u)),
        Some(_) => {
            errors.add("owner_id", "user-inactive");
            Ok(None)
        }
        None => {
            errors.add("owner_id", if value.is_some() { "user-unknown" } else { "field-required" });
            Ok(None)
        }
    }
}

/// The customer and contact an input names (a contact alone brings its customer).
async fn links_in(
    conn: &mut Conn,
    errors: &mut FieldErrors,
    customer_id: Option<&str>,
    contact_id: Option<&str>,
) -> (Option<PartyRow>, Option<ContactRow>) {
    let party = match nonempty(customer_id) {
        Some(c) => customer_in(conn, errors, Some(c)).await,
        None => None,
    };
    let contact = contact_in(conn, errors, party.as_ref(), contact_id).await;
    let party = match (party, &contact) {
        (None, Some(c)) => mrows::get::<PartyRow>(conn, &c.party_id).await.ok().flatten(),
        (p, _) => p,
    };
    (party, contact)
}

async fn ticket_in(conn: &mut Conn, errors: &mut FieldErrors, id: Option<&str>, party: Option<&PartyRow>) -> AppResult<Option<String>> {
    let Some(t) = nonempty(id) else { return Ok(None) };
    let found = match parse_id(t) {
        Ok(id) => store::crm::get_ticket(conn, &id).await?,
        Err(_) => None,
    };
    match found {
        Some(t) if party.is_none() || t.party_id.as_deref() == party.map(|p| p.id.as_str()) => Ok(Some(t.id)),
        _ => {
            errors.add("ticket_id", "ticket-unknown");
            Ok(None)
        }
    }
}

/// Applies an input to an activity (a new one or a copy of the stored one).
async fn apply(conn: &mut Conn, actor: &Actor, row: &mut ActivityRow, input: &ActivityIn, creating: bool) -> AppResult<()> {
    let mut errors = FieldErrors::new();
    if creating || input.kind.is_some() {
        row.kind = one_of(&mut errors, "kind", input.kind.as_deref(), ACTIVITY_KINDS, None);
    }
    if creating || input.subject.is_some() {
        row.subject = v::required(&mut errors, "subject", input.subject.as_deref(), 200);
    }
    if input.notes.is_some() {
        row.notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 10_000);
    }
    if creating || input.owner_id.is_some() {
        if let Some(u) = owner_in(conn, &mut errors, input.owner_id.as_deref(), actor).await? {
            row.owner_id = u.id;
        }
    }
    if creating || input.customer_id.is_some() || input.contact_id.is_some() {
        // A contact named alone brings its customer; a new customer drops the old contact.
        let customer = match &input.customer_id {
            Some(c) => Some(c.clone()),
            None if nonempty(input.contact_id.as_deref()).is_some() => None,
            None => row.party_id.clone(),
        };
        let contact = match &input.contact_id {
            Some(c) => Some(c.clone()),
            None if input.customer_id.is_some() => None,
            None => row.contact_id.clone(),
        };
        let (party, contact) = links_in(conn, &mut errors, customer.as_deref(), contact.as_deref()).await;
        row.party_id = party.map(|p| p.id);
        row.contact_id = contact.map(|c| c.id);
    }
    if creating || input.ticket_id.is_some() || input.customer_id.is_some() {
        let ticket = input.ticket_id.clone().or_else(|| row.ticket_id.clone());
        let party = match &row.party_id {
            Some(p) => mrows::get::<PartyRow>(conn, p).await?,
            None => None,
        };
        row.ticket_id = ticket_in(conn, &mut errors, ticket.as_deref(), party.as_ref()).await?;
    }
    // The times: start, then a duration or an end, then the reminder.
    let starts_at = if creating || input.starts_at.is_some() {
        let t = instant(&mut errors, "starts_at", input.starts_at.as_deref());
        if t.is_none() && !errors.0.contains_key("starts_at") {
            errors.add("starts_at", "field-required");
        }
        t
    } else {
        clock::parse(&row.starts_at)
    };
    let ends_at = instant(&mut errors, "ends_at", input.ends_at.as_deref());
    let duration = match input.duration_minutes {
        Some(d) => d,
        // A new end replaces the duration; otherwise the duration stays.
        None if ends_at.is_some() => None,
        None => row.duration_minutes,
    };
    let reminder = match input.reminder_minutes_before {
        Some(r) => r,
        None => row.reminder_minutes_before,
    };
    if let Some(start) = starts_at {
        let kind = if ACTIVITY_KINDS.contains(&row.kind.as_str()) { row.kind.as_str() } else { "task" };
        match ag::span(kind, start, duration, ends_at, reminder) {
            Ok(s) => {
                let remind_at = s.remind_at.map(clock::text);
                // A reminder for a new time goes out again.
                if remind_at != row.remind_at || clock::text(s.starts_at) != row.starts_at {
                    row.reminded_at = None;
                }
                row.starts_at = clock::text(s.starts_at);
                row.duration_minutes = s.duration_minutes;
                row.ends_at = clock::text(s.ends_at);
                row.reminder_minutes_before = reminder;
                row.remind_at = remind_at;
            }
            Err(e) => errors.add(e.field(), e.key()),
        }
    }
    errors.into_result(())?;
    Ok(())
}

pub async fn create_activity(app: &App, actor: &Actor, input: &ActivityIn) -> AppResult<Activity> {
    actor.authorize(Action::Create, Resource::Interactions)?;
    let mut tx = app.db.begin().await?;
    let now = clock::now_text();
    let mut row = ActivityRow {
        id: new_id(),
        created_by: actor.display_name.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..ActivityRow::default()
    };
    apply(&mut tx, actor, &mut row, input, true).await?;
    rows::save_activity(&mut tx, &row, true).await?;
    let after = activity_of(&mut tx, row).await?;
    audit::record(&mut tx, actor, "create", "activity", &after.id, None::<&Activity>, Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn get_activity(app: &App, actor: &Actor, id: &str) -> AppResult<Activity> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let row = rows::get_activity(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    activity_of(&mut conn, row).await
}

async fn stored(tx: &mut Conn, id: &str, version: Option<i64>) -> AppResult<ActivityRow> {
    let row = rows::get_activity(tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?;
    if version.is_some_and(|v| v != row.version) {
        return Err(AppError::Conflict);
    }
    Ok(row)
}

pub async fn update_activity(app: &App, actor: &Actor, id: &str, input: &ActivityIn) -> AppResult<Activity> {
    actor.authorize(Action::Update, Resource::Interactions)?;
    let mut tx = app.db.begin().await?;
    let old = stored(&mut tx, id, input.version).await?;
    let before = activity_of(&mut tx, old.clone()).await?;
    let mut row = old;
    apply(&mut tx, actor, &mut row, input, false).await?;
    row.updated_at = clock::now_text();
    rows::save_activity(&mut tx, &row, false).await?;
    row.version += 1;
    let after = activity_of(&mut tx, row).await?;
    audit::record(&mut tx, actor, "update", "activity", &after.id, Some(&before), Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

/// Marks an activity done (`true`) or not done. A call or meeting with a customer, once
/// done, is on the customer's timeline as an interaction of its kind; undone, it leaves it.
pub async fn set_done(app: &App, actor: &Actor, id: &str, done: bool) -> AppResult<Activity> {
    actor.authorize(Action::Update, Resource::Interactions)?;
    let mut tx = app.db.begin().await?;
    let old = stored(&mut tx, id, None).await?;
    if old.done_at.is_some() == done {
        return activity_of(&mut tx, old).await;
    }
    let before = activity_of(&mut tx, old.clone()).await?;
    let mut row = old;
    let now = clock::now();
    if done {
        row.done_at = Some(clock::text(now));
        row.done_by = Some(actor.display_name.clone());
        if let (Some(party_id), "call" | "meeting") = (&row.party_id, row.kind.as_str()) {
            let owner = people::user_by_id(&mut tx, &row.owner_id).await?;
            let started = clock::parse(&row.starts_at).unwrap_or(now);
            let interaction = InteractionRow {
                id: new_id(),
                party_id: party_id.clone(),
                contact_id: row.contact_id.clone(),
                kind: row.kind.clone(),
                channel: if row.kind == "call" { "phone" } else { "in_person" }.into(),
                direction: "out".into(),
                // Done before its time: it happened now.
                occurred_at: clock::text(started.min(now)),
                duration_seconds: row.duration_minutes.map(|m| m * 60),
                user_id: Some(row.owner_id.clone()),
                user_name: owner.map(|u| u.display_name).unwrap_or_else(|| actor.display_name.clone()),
                subject: row.subject.clone(),
                body: row.notes.clone(),
                outcome: None,
                opportunity_id: None,
                ticket_id: row.ticket_id.clone(),
                document_id: None,
                script_answers: None,
                created_at: clock::text(now),
            };
            store::crm::insert_interaction(&mut tx, &interaction).await?;
            row.interaction_id = Some(interaction.id);
        }
    } else {
        row.done_at = None;
        row.done_by = None;
        if let Some(i) = row.interaction_id.take() {
            // Save first: the activity no longer points at it.
            row.updated_at = clock::text(now);
            rows::save_activity(&mut tx, &row, false).await?;
            row.version += 1;
            rows::delete_interaction(&mut tx, &i).await?;
            let after = activity_of(&mut tx, row).await?;
            audit::record(&mut tx, actor, "undone", "activity", &after.id, Some(&before), Some(&after)).await?;
            commit(tx).await?;
            return Ok(after);
        }
    }
    row.updated_at = clock::text(now);
    rows::save_activity(&mut tx, &row, false).await?;
    row.version += 1;
    let after = activity_of(&mut tx, row).await?;
    audit::record(&mut tx, actor, if done { "done" } else { "undone" }, "activity", &after.id, Some(&before), Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// From this instant (RFC 3339) or day (`YYYY-MM-DD`, UTC); today by default. Activities
    /// that overlap the range are listed.
    pub from: Option<String>,
    /// Until this instant or day (not included); a week after `from` by default; at most
    /// 400 days after it.
    pub to: Option<String>,
    /// `me` (the default), `all`, or a user's id or user name. With `customer_id` and no
    /// owner, everyone's.
    pub owner: Option<String>,
    pub customer_id: Option<String>,
    /// Only done (`true`) or not done (`false`) activities.
    #[param(value_type = Option<bool>)]
    pub done: Option<String>,
    /// Page size, 1–500 (default 200).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An instant or a day (midnight UTC).
fn instant_or_day(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<OffsetDateTime> {
    let s = nonempty(value)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, fmt) {
        if YEARS.contains(&d.year()) {
            return Some(d.midnight().assume_utc());
        }
        errors.add(field, "date-invalid");
        return None;
    }
    instant(errors, field, Some(s))
}

pub async fn list_activities(app: &App, actor: &Actor, p: &ActivityParams) -> AppResult<Page<Activity>> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let mut errors = FieldErrors::new();
    let limit = p.limit.unwrap_or(200);
    if !(1..=500).contains(&limit) {
        errors.add("limit", "limit-invalid");
    }
    let from = instant_or_day(&mut errors, "from", p.from.as_deref()).unwrap_or_else(|| clock::now().date().midnight().assume_utc());
    let to = instant_or_day(&mut errors, "to", p.to.as_deref()).unwrap_or(from + Duration::days(7));
    if to <= from {
        errors.add("to", "range-invalid");
    } else if to - from > Duration::days(400) {
        errors.add("to", "range-too-long");
    }
    let done = match nonempty(p.done.as_deref()) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            errors.add("done", "value-invalid");
            None
        }
    };
    let after = match nonempty(p.cursor.as_deref()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let mut conn = app.db.reader().await?;
    let party_id = match nonempty(p.customer_id.as_deref()) {
        Some(c) => match parse_id(c) {
            Ok(id) if mrows::get::<PartyRow>(&mut conn, &id).await?.is_some() => Some(id),
            _ => {
                errors.add("customer_id", "customer-unknown");
                None
            }
        },
        None => None,
    };
    let owner_id = match nonempty(p.owner.as_deref()) {
        None if party_id.is_some() => None,
        None | Some("me") => Some(me(actor)?),
        Some("all") => None,
        Some(o) => match user_named(&mut conn, o).await? {
            Some(u) => Some(u.id),
            None => {
                errors.add("owner", "user-unknown");
                None
            }
        },
    };
    errors.into_result(())?;
    let q = ActivityQuery {
        owner_id,
        party_id,
        from: clock::text(from),
        earliest_start: clock::text(from - Duration::minutes(ag::MAX_DURATION_MINUTES)),
        to: clock::text(to),
        done,
        after,
        limit: limit + 1,
    };
    let mut found = rows::activities(&mut conn, &q).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| encode_cursor(&r.starts_at, &r.id))
    } else {
        None
    };
    let names = Names::load(&mut conn, &found).await?;
    Ok(Page { items: found.into_iter().map(|r| names.activity(r)).collect(), next_cursor })
}

/// The actor's reminders that are due: not done, their time passed, not yet e-mailed.
pub async fn due_reminders(app: &App, actor: &Actor) -> AppResult<Vec<Activity>> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let owner = me(actor)?;
    let mut conn = app.db.reader().await?;
    let found = rows::due_reminders(&mut conn, &owner, &clock::now_text(), 200).await?;
    let names = Names::load(&mut conn, &found).await?;
    Ok(found.into_iter().map(|r| names.activity(r)).collect())
}

/// A reminder's mail, in its owner's language.
pub struct ReminderMail {
    pub to: String,
    pub locale: String,
    pub display_name: String,
    pub kind: String,
    pub subject: String,
    pub notes: Option<String>,
    pub starts_at: String,
    pub duration_minutes: Option<i64>,
    pub customer_name: Option<String>,
}

/// Sends the reminders that are due by e-mail to their owners, each once: a reminder is
/// claimed before its mail goes (so that two servers never send the same), given back when
/// the mail could not go for now, and kept as sent when the server refused it for good.
/// An activity that started more than an hour ago gets no mail (its reminder stays in the
/// application). `compose` writes a mail's subject and text. Returns how many went.
pub async fn send_reminders(
    app: &App,
    mailer: &crate::mail::Mailer,
    compose: &(dyn Fn(&ReminderMail) -> (String, String) + Sync),
) -> AppResult<usize> {
    let now = clock::now();
    let due = {
        let mut conn = app.db.reader().await?;
        rows::reminders_to_send(&mut conn, &clock::text(now), &clock::text(now - Duration::hours(1)), 100).await?
    };
    let mut sent = 0;
    for r in due {
        let mut tx = app.db.begin().await?;
        let claimed = rows::claim_reminder(&mut tx, &r.id, &clock::text(now)).await?;
        commit(tx).await?;
        if !claimed {
            continue;
        }
        let mail = ReminderMail {
            to: r.email,
            locale: r.locale,
            display_name: r.display_name,
            kind: r.kind,
            subject: r.subject,
            notes: r.notes,
            starts_at: r.starts_at,
            duration_minutes: r.duration_minutes,
            customer_name: r.party_name,
        };
        let (subject, text) = compose(&mail);
        let message = crate::mail::Message { to: vec![mail.to.clone()], subject, text, ..Default::default() };
        match mailer.send(&message).await {
            Ok(_) => sent += 1,
            Err(crate::mail::MailError::Send(e)) => {
                tracing::warn!(activity = %r.id, error = %e, "reminder not sent; will try again");
                let mut tx = app.db.begin().await?;
                rows::release_reminder(&mut tx, &r.id).await?;
                commit(tx).await?;
            }
            Err(e) => tracing::warn!(activity = %r.id, error = %e, "reminder refused; not tried again"),
        }
    }
    Ok(sent)
}

// ---------------------------------------------------------------------------------------
// The calendar feed

/// The actor's calendar feed: its secret when it was made by this call (shown once).
#[derive(Debug, Clone)]
pub struct Feed {
    pub token: Option<String>,
    pub created_at: String,
}

/// The actor's feed, made on first request.
pub async fn calendar_feed(app: &App, actor: &Actor) -> AppResult<Feed> {
    let user = me(actor)?;
    {
        let mut conn = app.db.reader().await?;
        if let Some(created_at) = rows::feed_created(&mut conn, &user).await? {
            return Ok(Feed { token: None, created_at });
        }
    }
    let mut tx = app.db.begin().await?;
    // Another request may have made it meanwhile.
    if let Some(created_at) = rows::feed_created(&mut tx, &user).await? {
        return Ok(Feed { token: None, created_at });
    }
    new_feed(tx, actor, &user, "create").await
}

/// A new secret for the actor's feed; the old address stops working.
pub async fn regenerate_feed(app: &App, actor: &Actor) -> AppResult<Feed> {
    let user = me(actor)?;
    let tx = app.db.begin().await?;
    new_feed(tx, actor, &user, "regenerate").await
}

async fn new_feed(mut tx: store::Tx, actor: &Actor, user: &str, action: &str) -> AppResult<Feed> {
    let token = auth::secret();
    let now = clock::now_text();
    rows::replace_feed(&mut tx, user, &auth::digest(&token), &now).await?;
    #[derive(Serialize)]
    struct Made<'a> {
        created_at: &'a str,
    }
    audit::record(&mut tx, actor, action, "calendar_feed", user, None::<&()>, Some(&Made { created_at: &now })).await?;
    commit(tx).await?;
    Ok(Feed { token: Some(token), created_at: now })
}

/// The iCalendar text of the feed with this secret: its user's activities from 30 days ago
/// on, each a VEVENT (tasks too, so that every calendar program shows them; a task without
/// a duration is an instant, marked free time). A done activity's summary starts with ✓;
/// an activity not done with a reminder carries an alarm. Unknown secret: not found.
pub async fn feed_ics(app: &App, token: &str) -> AppResult<String> {
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(AppError::NotFound);
    }
    let mut conn = app.db.reader().await?;
    let user_id = rows::feed_user(&mut conn, &auth::digest(token)).await?.ok_or(AppError::NotFound)?;
    let user = people::user_by_id(&mut conn, &user_id).await?.ok_or(AppError::NotFound)?;
    let now = clock::now();
    let since = clock::text(now - Duration::days(30));
    let list = rows::feed_activities(&mut conn, &user_id, &since, 5_000).await?;
    let mut w = ical::Writer::new();
    w.begin("VCALENDAR")
        .raw("VERSION", "2.0")
        .raw("PRODID", "-//Tendero//Agenda//ES")
        .raw("CALSCALE", "GREGORIAN")
        .raw("METHOD", "PUBLISH")
        .text("X-WR-CALNAME", &format!("Tendero — {}", user.display_name))
        .raw("X-PUBLISHED-TTL", "PT15M");
    let stamp = |s: &str| clock::parse(s).map(ical::utc).unwrap_or_else(|| ical::utc(now));
    for f in list {
        let a = f.activity;
        let summary = if a.done_at.is_some() { format!("✓ {}", a.subject) } else { a.subject.clone() };
        let mut description: Vec<String> = Vec::new();
        match (&f.party_name, &f.contact_name) {
            (Some(p), Some(c)) => description.push(format!("{p} — {c}")),
            (Some(p), None) => description.push(p.clone()),
            (None, Some(c)) => description.push(c.clone()),
            (None, None) => {}
        }
        if let Some(n) = &a.notes {
            description.push(n.clone());
        }
        w.begin("VEVENT")
            .raw("UID", &format!("{}@tendero", a.id))
            .raw("DTSTAMP", &stamp(&a.updated_at))
            .raw("CREATED", &stamp(&a.created_at))
            .raw("LAST-MODIFIED", &stamp(&a.updated_at))
            .raw("SEQUENCE", &(a.version - 1).max(0).to_string())
            .raw("DTSTART", &stamp(&a.starts_at));
        if a.duration_minutes.unwrap_or(0) > 0 {
            w.raw("DTEND", &stamp(&a.ends_at));
        }
        w.text("SUMMARY", &summary).raw("CATEGORIES", &a.kind.to_uppercase()).raw("STATUS", "CONFIRMED");
        if !description.is_empty() {
            w.text("DESCRIPTION", &description.join("\n\n"));
        }
        if a.kind == "task" {
            w.raw("TRANSP", "TRANSPARENT");
        }
        if let (Some(r), None) = (a.reminder_minutes_before, &a.done_at) {
            w.begin("VALARM").raw("ACTION", "DISPLAY").text("DESCRIPTION", &a.subject).raw("TRIGGER", &format!("-PT{r}M")).end("VALARM");
        }
        w.end("VEVENT");
    }
    w.end("VCALENDAR");
    Ok(w.finish())
}

// ---------------------------------------------------------------------------------------
// Phone memos

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Memo {
    pub id: String,
    pub for_user_id: String,
    pub for_user_name: String,
    /// Who took the call.
    pub taken_by: String,
    /// When (RFC 3339, UTC).
    pub taken_at: String,
    pub caller: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    /// low | normal | high
    pub urgency: String,
    /// call_back | will_call_again | returned_your_call
    pub agreed: Option<String>,
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    /// The call on the customer's timeline, when the caller is known.
    pub interaction_id: Option<String>,
    pub read: bool,
    pub read_at: Option<String>,
    /// When it was e-mailed to the recipient.
    pub emailed_at: Option<String>,
    /// Why the e-mail to the recipient did not go.
    pub delivery_error: Option<String>,
}

fn memo_of(m: MemoRow, users: &HashMap<String, String>) -> Memo {
    Memo {
        for_user_name: users.get(&m.for_user_id).cloned().unwrap_or_default(),
        read: m.read_at.is_some(),
        id: m.id,
        for_user_id: m.for_user_id,
        taken_by: m.taken_by_name,
        taken_at: m.taken_at,
        caller: m.caller,
        company: m.company,
        phone: m.phone,
        message: m.message,
        urgency: m.urgency,
        agreed: m.agreed,
        customer_id: m.party_id,
        contact_id: m.contact_id,
        interaction_id: m.interaction_id,
        read_at: m.read_at,
        emailed_at: m.emailed_at,
        delivery_error: m.delivery_error,
    }
}

async fn user_names(conn: &mut Conn) -> AppResult<HashMap<String, String>> {
    Ok(people::list_users(conn).await?.into_iter().map(|u| (u.id, u.display_name)).collect())
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoIn {
    /// Whom the message is for: a user name or id (an active user).
    pub for_user: Option<String>,
    /// Who called.
    pub caller: Option<String>,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
    /// low | normal (default) | high
    pub urgency: Option<String>,
    /// call_back | will_call_again | returned_your_call
    pub agreed: Option<String>,
    /// The caller, when a known contact (otherwise found by the phone number).
    pub contact_id: Option<String>,
    pub customer_id: Option<String>,
}

/// A memo just taken, and where its e-mail goes (when the recipient has an address).
pub struct TakenMemo {
    pub memo: Memo,
    pub recipient_email: Option<String>,
    pub recipient_locale: String,
}

/// The one contact whose phone or mobile is this number, if exactly one is.
async fn contact_by_phone(conn: &mut Conn, phone: &str) -> AppResult<Option<ContactRow>> {
    let digits = ag::phone_digits(phone);
    if digits.len() < ag::MIN_PHONE_DIGITS {
        return Ok(None);
    }
    // The search index finds the numbers that contain these digits; then only the same
    // number counts.
    let q = mrows::ListQuery { words: vec![digits.clone()], limit: 20, ..Default::default() };
    let found: Vec<ContactRow> = mrows::list::<ContactRow>(conn, &q)
        .await?
        .into_iter()
        .filter(|c| [&c.phone, &c.mobile].into_iter().flatten().any(|p| ag::same_phone(p, &digits)))
        .collect();
    Ok(if found.len() == 1 { found.into_iter().next() } else { None })
}

/// Takes a phone message for a colleague. When the caller is known (a contact given or
/// found by the phone number, or a customer given), the call is also recorded on the
/// customer's timeline. The e-mail to the recipient is the caller's to send, after this.
pub async fn take_memo(app: &App, actor: &Actor, input: &MemoIn) -> AppResult<TakenMemo> {
    actor.authorize(Action::Create, Resource::Interactions)?;
    let mut tx = app.db.begin().await?;
    let mut errors = FieldErrors::new();
    let recipient = match nonempty(input.for_user.as_deref()) {
        None => {
            errors.add("for_user", "field-required");
            None
        }
        Some(name) => match user_named(&mut tx, name).await? {
            Some(u) if u.active != 0 => Some(u),
            Some(_) => {
                errors.add("for_user", "user-inactive");
                None
            }
            None => {
                errors.add("for_user", "user-unknown");
                None
            }
        },
    };
    let caller = v::required(&mut errors, "caller", input.caller.as_deref(), 120);
    let company = v::optional(&mut errors, "company", input.company.as_deref(), 200);
    let phone = v::phone(&mut errors, "phone", input.phone.as_deref());
    let message = v::optional(&mut errors, "message", input.message.as_deref(), 5_000);
    let urgency = one_of(&mut errors, "urgency", input.urgency.as_deref(), URGENCIES, Some("normal"));
    let agreed = nonempty(input.agreed.as_deref()).map(|a| one_of(&mut errors, "agreed", Some(a), AGREED, None));
    let (mut party, mut contact) = links_in(&mut tx, &mut errors, input.customer_id.as_deref(), input.contact_id.as_deref()).await;
    if party.is_none() && contact.is_none() && !errors.0.contains_key("phone") {
        if let Some(p) = &phone {
            contact = contact_by_phone(&mut tx, p).await?;
            if let Some(c) = &contact {
                party = mrows::get::<PartyRow>(&mut tx, &c.party_id).await?;
            }
        }
    }
    errors.into_result(())?;
    let Some(recipient) = recipient else { return Err(AppError::NotFound) };
    let now = clock::now_text();
    let interaction_id = match &party {
        Some(p) => {
            let i = InteractionRow {
                id: new_id(),
                party_id: p.id.clone(),
                contact_id: contact.as_ref().map(|c| c.id.clone()),
                kind: "call".into(),
                channel: "phone".into(),
                direction: "in".into(),
                occurred_at: now.clone(),
                duration_seconds: None,
                user_id: actor.user_id.clone(),
                user_name: actor.display_name.clone(),
                subject: format!("{caller} → {}", recipient.display_name).chars().take(200).collect(),
                body: message.clone(),
                outcome: agreed.clone(),
                opportunity_id: None,
                ticket_id: None,
                document_id: None,
                script_answers: None,
                created_at: now.clone(),
            };
            store::crm::insert_interaction(&mut tx, &i).await?;
            Some(i.id)
        }
        None => None,
    };
    let row = MemoRow {
        id: new_id(),
        for_user_id: recipient.id.clone(),
        taken_by_id: actor.user_id.clone(),
        taken_by_name: actor.display_name.clone(),
        taken_at: now,
        caller,
        company: company.or_else(|| party.as_ref().map(|p| p.name.clone())),
        phone,
        message,
        urgency,
        agreed,
        party_id: party.map(|p| p.id),
        contact_id: contact.map(|c| c.id),
        interaction_id,
        ..MemoRow::default()
    };
    rows::insert_memo(&mut tx, &row).await?;
    let users = HashMap::from([(recipient.id.clone(), recipient.display_name.clone())]);
    let memo = memo_of(row, &users);
    audit::record(&mut tx, actor, "create", "phone_memo", &memo.id, None::<&Memo>, Some(&memo)).await?;
    commit(tx).await?;
    Ok(TakenMemo { memo, recipient_email: recipient.email, recipient_locale: recipient.locale })
}

/// Records how the memo's e-mail went: sent, or why not.
pub async fn memo_mailed(app: &App, id: &str, error: Option<&str>) -> AppResult<()> {
    let mut tx = app.db.begin().await?;
    let now = clock::now_text();
    rows::memo_delivery(&mut tx, id, error.is_none().then_some(now.as_str()), error).await?;
    commit(tx).await
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemoParams {
    /// Whose memos: `me` (the default), or a user's id or user name.
    #[serde(rename = "for")]
    pub for_user: Option<String>,
    /// Only the unread ones.
    #[param(value_type = Option<bool>)]
    pub unread: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A user's memos, newest first. Everyone reads their own; other people's need the right
/// to read interactions.
pub async fn list_memos(app: &App, actor: &Actor, p: &MemoParams) -> AppResult<Page<Memo>> {
    let mut errors = FieldErrors::new();
    let limit = crate::master::page_limit_into(&mut errors, p.limit);
    let unread = match nonempty(p.unread.as_deref()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.add("unread", "value-invalid");
            false
        }
    };
    let before = match nonempty(p.cursor.as_deref()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let mut conn = app.db.reader().await?;
    let user = match nonempty(p.for_user.as_deref()) {
        None | Some("me") => Some(me(actor)?),
        Some(u) => match user_named(&mut conn, u).await? {
            Some(u) => Some(u.id),
            None => {
                errors.add("for", "user-unknown");
                None
            }
        },
    };
    errors.into_result(())?;
    let Some(user) = user else { return Err(AppError::NotFound) };
    if actor.user_id.as_deref() != Some(user.as_str()) {
        actor.authorize(Action::Read, Resource::Interactions)?;
    }
    let mut found = rows::memos(&mut conn, &user, unread, before, limit + 1).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|m| encode_cursor(&m.taken_at, &m.id))
    } else {
        None
    };
    let users = user_names(&mut conn).await?;
    Ok(Page { items: found.into_iter().map(|m| memo_of(m, &users)).collect(), next_cursor })
}

/// How many memos the actor has not read.
pub async fn unread_memos(app: &App, actor: &Actor) -> AppResult<i64> {
    let Some(user) = &actor.user_id else { return Ok(0) };
    let mut conn = app.db.reader().await?;
    Ok(rows::unread_count(&mut conn, user).await?)
}

/// The recipient marks a memo read.
pub async fn read_memo(app: &App, actor: &Actor, id: &str) -> AppResult<Memo> {
    let id = parse_id(id)?;
    let user = me(actor)?;
    let mut tx = app.db.begin().await?;
    let m = rows::get_memo(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    if m.for_user_id != user {
        // Someone else's memo: not found for whoever may not read it, refused otherwise.
        actor.authorize(Action::Read, Resource::Interactions).map_err(|_| AppError::NotFound)?;
        return Err(AppError::Forbidden);
    }
    let users = user_names(&mut tx).await?;
    if m.read_at.is_some() {
        return Ok(memo_of(m, &users));
    }
    let before = memo_of(m.clone(), &users);
    rows::mark_memo_read(&mut tx, &id, &clock::now_text()).await?;
    let m = rows::get_memo(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    let after = memo_of(m, &users);
    audit::record(&mut tx, actor, "read", "phone_memo", &id, Some(&before), Some(&after)).await?;
    commit(tx).await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------
// The directory

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub name: String,
    /// customer | supplier | contact | employee
    pub kind: String,
    /// A contact's customer or supplier; an employee's company.
    pub organisation: Option<String>,
    pub phones: Vec<String>,
    pub email: Option<String>,
    /// The id of the customer, supplier, contact or employee.
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryParams {
    /// Words to find (name, e-mail, phone digits), accents and case ignored.
    pub q: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Customers, suppliers, contacts and employees in one list by name, each kind only for
/// who may read it.
pub async fn directory(app: &App, actor: &Actor, p: &DirectoryParams) -> AppResult<Page<DirectoryEntry>> {
    let can = |r| actor.can(Action::Read, r);
    let q = DirectoryQuery {
        words: search_words(p.q.as_deref()),
        customers: can(Resource::Customers),
        suppliers: can(Resource::Suppliers),
        contacts: can(Resource::Contacts),
        employees: can(Resource::Salespeople),
        after: match nonempty(p.cursor.as_deref()) {
            Some(c) => Some(decode_cursor(c)?),
            None => None,
        },
        limit: 0,
    };
    if !(q.customers || q.suppliers || q.contacts || q.employees) {
        return Err(AppError::Forbidden);
    }
    let limit = crate::master::page_limit(p.limit)?;
    let mut conn = app.db.reader().await?;
    let mut found = rows::directory(&mut conn, &DirectoryQuery { limit: limit + 1, ..q }).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| encode_cursor(&r.name_norm, &r.id))
    } else {
        None
    };
    let company = if found.iter().any(|r| r.kind == "employee") {
        let c = crate::master::company_in(&mut conn).await?;
        Some(c.trade_name.unwrap_or(c.legal_name))
    } else {
        None
    };
    let items = found
        .into_iter()
        .map(|r| DirectoryEntry {
            organisation: if r.kind == "employee" { company.clone() } else { r.organisation },
            phones: [r.phone, r.mobile].into_iter().flatten().filter(|p| !p.trim().is_empty()).collect(),
            name: r.name,
            kind: r.kind,
            email: r.email,
            id: r.id,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

// ---------------------------------------------------------------------------------------
// The demo

/// A living agenda for the demo company: this week's calls, meetings and tasks for every
/// active user, and a couple of phone memos, once (when there is no activity yet and some
/// user exists).
pub async fn demo(app: &App, actor: &Actor) -> AppResult<()> {
    let (users, customers) = {
        let mut conn = app.db.reader().await?;
        if mrows::any_rows(&mut conn, "activities").await? {
            return Ok(());
        }
        let users: Vec<UserRow> = people::list_users(&mut conn).await?.into_iter().filter(|u| u.active != 0).collect();
        let customers =
            mrows::list::<PartyRow>(&mut conn, &mrows::ListQuery { filter: Some("is_customer = 1"), limit: 6, ..Default::default() })
                .await?;
        (users, customers)
    };
    if users.is_empty() || customers.is_empty() {
        return Ok(());
    }
    // Business hours in Buenos Aires (UTC−3), around today.
    let today = clock::now().date().midnight().assume_utc();
    let at =
        |day: i64, hour: i64, minute: i64| clock::text(today + Duration::days(day) + Duration::hours(hour + 3) + Duration::minutes(minute));
    // (kind, subject, day from today, hour, minute, duration, reminder)
    type Planned = (&'static str, &'static str, i64, i64, i64, Option<i64>, Option<i64>);
    let plan: &[Planned] = &[
        ("call", "Confirmar entrega del pedido", 0, 10, 0, Some(15), Some(15)),
        ("meeting", "Visita: presentar la nueva línea de herramientas", 1, 15, 30, Some(60), Some(60)),
        ("task", "Preparar presupuesto de cerámicas", 2, 9, 0, None, None),
        ("call", "Seguimiento del presupuesto enviado", 3, 11, 30, Some(20), Some(10)),
        ("meeting", "Reunión de cuenta: condiciones de pago", -1, 16, 0, Some(45), None),
        ("call", "Reclamo por demora: llamar al cliente", -2, 12, 0, Some(10), None),
    ];
    for user in &users {
        let owner = Some(user.id.clone());
        for (i, (kind, subject, day, hour, minute, duration, reminder)) in plan.iter().enumerate() {
            let c = &customers[i % customers.len()];
            let a = create_activity(
                app,
                actor,
                &ActivityIn {
                    kind: Some((*kind).into()),
                    subject: Some((*subject).into()),
                    starts_at: Some(at(*day, *hour, *minute)),
                    duration_minutes: Some(*duration),
                    owner_id: owner.clone(),
                    customer_id: Some(c.id.clone()),
                    reminder_minutes_before: Some(*reminder),
                    ..Default::default()
                },
            )
            .await?;
            if *day < 0 {
                set_done(app, actor, &a.id, true).await?;
            }
        }
        for (caller, company, phone, message, urgency, agreed) in [
            (
                "Carlos Gómez",
                "Ferretería El Tornillo",
                "+54 351 422-1100",
                "Pregunta si llegó la mercadería del pedido.",
                "normal",
                "call_back",
            ),
            (
                "Lucía Martínez",
                "Corralón San Martín S.A.",
                "+54 11 4753-2200",
                "Necesita la factura corregida hoy.",
                "high",
                "will_call_again",
            ),
        ] {
            take_memo(
                app,
                actor,
                &MemoIn {
                    for_user: Some(user.id.clone()),
                    caller: Some(caller.into()),
                    company: Some(company.into()),
                    phone: Some(phone.into()),
                    message: Some(message.into()),
                    urgency: Some(urgency.into()),
                    agreed: Some(agreed.into()),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The business's local time, for pages and mails (the API and the feed speak UTC): the
/// offset of its first business-hours calendar (Buenos Aires, UTC−3, as Tendero starts).
pub async fn local_offset(app: &App) -> AppResult<time::UtcOffset> {
    let mut conn = app.db.reader().await?;
    let calendars = store::crm::calendars(&mut conn).await?;
    let first = calendars.iter().min_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(first
        .and_then(|c| i32::try_from(c.utc_offset_minutes.saturating_mul(60)).ok())
        .and_then(|s| time::UtcOffset::from_whole_seconds(s).ok())
        .unwrap_or(time::UtcOffset::UTC))
}

/// A user the agenda or a memo may name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Colleague {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

/// The active users, by name: whose agenda to show, whom a memo is for.
pub async fn colleagues(app: &App, actor: &Actor) -> AppResult<Vec<Colleague>> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let mut conn = app.db.reader().await?;
    let mut out: Vec<Colleague> = people::list_users(&mut conn)
        .await?
        .into_iter()
        .filter(|u| u.active != 0)
        .map(|u| Colleague { id: u.id, username: u.username, display_name: u.display_name })
        .collect();
    out.sort_by_key(|c| domain::text::fold(&c.display_name));
    Ok(out)
}
