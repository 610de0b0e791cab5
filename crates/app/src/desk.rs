//! The service desk: tickets (requests, complaints, claims, suggestions, praise) with a
//! conversation, watched against the service level chosen for them, escalated from the
//! front office to the back office, solved, and rated by the customer through a one-time
//! link. The clock is `domain::sla`; which policy governs a ticket and how its status may
//! move are `domain::desk`.

use crate::crm::{contact_in, customer_in, one_of, user_in};
use crate::master::{decode_cursor, encode_cursor, Page};
use crate::{audit, auth, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::desk::{self as dk, Conditions, Facts, Move, Status, CHANNELS, PRIORITIES, TEAMS, TICKET_TYPES};
use domain::sla::{self, Calendar, Clock};
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use store::crm::{self as rows, CalendarRow, MessageRow, PolicyRow, TicketEventRow, TicketQuery, TicketRow};
use store::Conn;
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use utoipa::{IntoParams, ToSchema};

/// The sequence tickets take their numbers from (see `store::sales::take_number`).
const TICKET_SEQUENCE: &str = "ticket";

// ---------------------------------------------------------------------------------------
// Calendars and policies

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessCalendar {
    pub id: String,
    pub name: String,
    /// Opening hours in local time, e.g. `mon-fri 09:00-18:00; sat 09:00-13:00`.
    pub hours: String,
    /// Local time's offset from UTC, in minutes (Buenos Aires: -180).
    pub utc_offset_minutes: i64,
    /// Closed days, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    pub version: i64,
}

fn parse_holidays(text: &str) -> Result<BTreeSet<Date>, ()> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    text.split([' ', ',', '\n', ';']).filter(|s| !s.trim().is_empty()).map(|s| Date::parse(s.trim(), fmt).map_err(|_| ())).collect()
}

fn calendar_of_row(c: &CalendarRow) -> Option<Calendar> {
    let offset = UtcOffset::from_whole_seconds(i32::try_from(c.utc_offset_minutes.saturating_mul(60)).ok()?).ok()?;
    Calendar::parse(&c.hours, parse_holidays(&c.holidays).ok()?, offset).ok()
}

fn business_calendar_of(c: CalendarRow) -> BusinessCalendar {
    BusinessCalendar {
        holidays: c.holidays.split_whitespace().map(str::to_string).collect(),
        id: c.id,
        name: c.name,
        hours: c.hours,
        utc_offset_minutes: c.utc_offset_minutes,
        version: c.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    pub name: Option<String>,
    pub hours: Option<String>,
    pub utc_offset_minutes: Option<i64>,
    pub holidays: Option<Vec<String>>,
    pub version: Option<i64>,
}

pub async fn calendars(app: &App, actor: &Actor) -> AppResult<Vec<BusinessCalendar>> {
    actor.authorize(Action::Read, Resource::ServiceLevels)?;
    let mut conn = app.db.reader().await?;
    Ok(rows::calendars(&mut conn).await?.into_iter().map(business_calendar_of).collect())
}

/// Creates a calendar (`id` none) or changes one.
pub async fn save_calendar(app: &App, actor: &Actor, id: Option<&str>, input: &CalendarIn) -> AppResult<BusinessCalendar> {
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::ServiceLevels)?;
    let mut tx = app.db.begin().await?;
    let before = match id {
        Some(id) => Some(rows::get_calendar(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let (Some(b), Some(v)) = (&before, input.version) {
        if b.version != v {
            return Err(AppError::Conflict);
        }
    }
    let mut errors = FieldErrors::new();
    let now = clock::now_text();
    let mut row = before.clone().unwrap_or_else(|| CalendarRow {
        id: new_id(),
        created_at: now.clone(),
        version: 1,
        hours: "mon-fri 09:00-18:00".into(),
        ..CalendarRow::default()
    });
    if input.name.is_some() || before.is_none() {
        row.name = v::required(&mut errors, "name", input.name.as_deref(), 80);
    }
    if let Some(m) = input.utc_offset_minutes {
        if !(-14 * 60..=14 * 60).contains(&m) {
            errors.add("utc_offset_minutes", "value-invalid");
        }
        row.utc_offset_minutes = m;
    }
    if let Some(h) = &input.holidays {
        match parse_holidays(&h.join(" ")) {
            Ok(days) => row.holidays = days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" "),
            Err(()) => errors.add("holidays", "date-invalid"),
        }
    }
    let offset =
        UtcOffset::from_whole_seconds(i32::try_from(row.utc_offset_minutes.saturating_mul(60)).unwrap_or(0)).unwrap_or(UtcOffset::UTC);
    let hours = input.hours.as_deref().unwrap_or(&row.hours).to_string();
    match Calendar::parse(&hours, BTreeSet::new(), offset) {
        Ok(c) => row.hours = c.hours_text(),
        Err(e) => errors.add("hours", &e.to_string()),
    }
    errors.into_result(())?;
    row.updated_at = now;
    rows::save_calendar(&mut tx, &row, before.is_none()).await?;
    let after = BusinessCalendar { version: row.version + i64::from(before.is_some()), ..business_calendar_of(row) };
    let b = before.map(business_calendar_of);
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "business_calendar", &after.id, b.as_ref(), Some(&after))
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    due_times_follow(app).await;
    Ok(after)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaPolicy {
    pub id: String,
    /// `immediate`, `deferred`, or one the business made.
    pub code: String,
    pub name: String,
    /// front_office | back_office
    pub team: String,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
    /// The business-hours calendar its clock follows; none: always running.
    pub calendar_id: Option<String>,
    /// Conditions (any when empty): ticket types, priorities, channels, customer tiers.
    pub match_types: Vec<String>,
    pub match_priorities: Vec<String>,
    pub match_channels: Vec<String>,
    pub match_tiers: Vec<String>,
    /// Warn when this share of the resolution target is used up.
    pub warn_percent: i64,
    /// Policies are tried in this order; the first that matches governs a new ticket.
    pub position: i64,
    pub archived: bool,
    pub version: i64,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn policy_of(p: PolicyRow) -> SlaPolicy {
    SlaPolicy {
        match_types: words(&p.match_types),
        match_priorities: words(&p.match_priorities),
        match_channels: words(&p.match_channels),
        match_tiers: words(&p.match_tiers),
        id: p.id,
        code: p.code,
        name: p.name,
        team: p.team,
        first_response_minutes: p.first_response_minutes,
        resolution_minutes: p.resolution_minutes,
        calendar_id: p.calendar_id,
        warn_percent: p.warn_percent,
        position: p.position,
        archived: p.archived_at.is_some(),
        version: p.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyIn {
    pub code: Option<String>,
    pub name: Option<String>,
    pub team: Option<String>,
    pub first_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// An empty string takes the calendar away (always running).
    pub calendar_id: Option<String>,
    pub match_types: Option<Vec<String>>,
    pub match_priorities: Option<Vec<String>>,
    pub match_channels: Option<Vec<String>>,
    pub match_tiers: Option<Vec<String>>,
    pub warn_percent: Option<i64>,
    pub position: Option<i64>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn policies(app: &App, actor: &Actor) -> AppResult<Vec<SlaPolicy>> {
    actor.authorize(Action::Read, Resource::ServiceLevels)?;
    let mut conn = app.db.reader().await?;
    Ok(rows::policies(&mut conn).await?.into_iter().map(policy_of).collect())
}

pub async fn save_policy(app: &App, actor: &Actor, id: Option<&str>, input: &SlaPolicyIn) -> AppResult<SlaPolicy> {
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::ServiceLevels)?;
    let mut tx = app.db.begin().await?;
    let before = match id {
        Some(id) => Some(rows::get_policy(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let (Some(b), Some(v)) = (&before, input.version) {
        if b.version != v {
            return Err(AppError::Conflict);
        }
    }
    let mut errors = FieldErrors::new();
    let now = clock::now_text();
    let mut row = before.clone().unwrap_or_else(|| PolicyRow {
        id: new_id(),
        created_at: now.clone(),
        version: 1,
        warn_percent: 80,
        position: 100,
        ..PolicyRow::default()
    });
    if input.code.is_some() || before.is_none() {
        row.code = v::required(&mut errors, "code", input.code.as_deref(), 40).to_lowercase();
    }
    if input.name.is_some() || before.is_none() {
        row.name = v::required(&mut errors, "name", input.name.as_deref(), 80);
    }
    if input.team.is_some() || before.is_none() {
        match input.team.as_deref() {
            Some(t) if TEAMS.contains(&t) => row.team = t.to_string(),
            Some(_) => errors.add("team", "value-invalid"),
            None => errors.add("team", "field-required"),
        }
    }
    for (field, value, target) in [
        ("first_response_minutes", input.first_response_minutes, &mut row.first_response_minutes),
        ("resolution_minutes", input.resolution_minutes, &mut row.resolution_minutes),
    ] {
        match value {
            Some(m) if (1..=60 * 24 * 365).contains(&m) => *target = m,
            Some(_) => errors.add(field, "value-invalid"),
            None if before.is_none() => errors.add(field, "field-required"),
            None => {}
        }
    }
    if row.first_response_minutes > row.resolution_minutes && row.resolution_minutes > 0 {
        errors.add("first_response_minutes", "sla-response-after-resolution");
    }
    if let Some(c) = input.calendar_id.as_deref() {
        row.calendar_id = if c.trim().is_empty() {
            None
        } else {
            match parse_id(c) {
                Ok(id) if rows::get_calendar(&mut tx, &id).await?.is_some() => Some(id),
                _ => {
                    errors.add("calendar_id", "calendar-unknown");
                    None
                }
            }
        };
    }
    for (field, value, allowed, target) in [
        ("match_types", &input.match_types, TICKET_TYPES, &mut row.match_types),
        ("match_priorities", &input.match_priorities, PRIORITIES, &mut row.match_priorities),
        ("match_channels", &input.match_channels, CHANNELS, &mut row.match_channels),
    ] {
        if let Some(list) = value {
            if list.iter().any(|x| !allowed.contains(&x.as_str())) {
                errors.add(field, "value-invalid");
            }
            *target = list.join(" ");
        }
    }
    if let Some(tiers) = &input.match_tiers {
        if tiers.iter().any(|t| t.trim().is_empty() || t.contains(char::is_whitespace) || t.len() > 40) {
            errors.add("match_tiers", "value-invalid");
        }
        row.match_tiers = tiers.join(" ");
    }
    if let Some(w) = input.warn_percent {
        if !(1..=100).contains(&w) {
            errors.add("warn_percent", "value-invalid");
        }
        row.warn_percent = w;
    }
    if let Some(p) = input.position {
        row.position = p;
    }
    match input.archived {
        Some(true) if row.archived_at.is_none() => {
            if matches!(row.code.as_str(), "immediate" | "deferred") {
                errors.add("archived", "sla-policy-builtin");
            }
            row.archived_at = Some(now.clone());
        }
        Some(false) => row.archived_at = None,
        _ => {}
    }
    errors.into_result(())?;
    row.updated_at = now;
    rows::save_policy(&mut tx, &row, before.is_none()).await?;
    let after = SlaPolicy { version: row.version + i64::from(before.is_some()), ..policy_of(row) };
    let b = before.map(policy_of);
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "sla_policy", &after.id, b.as_ref(), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    due_times_follow(app).await;
    Ok(after)
}

/// After a policy or calendar changed, the open tickets' due times follow. The change is
/// already saved; if this fails, the server's periodic job does it later.
async fn due_times_follow(app: &App) {
    if let Err(e) = refresh_due_times(app).await {
        tracing::warn!(error = %e, "ticket due times not refreshed after a service-level change");
    }
}

/// The policies and the calendars their clocks follow, read once for a whole list.
pub struct Levels {
    policies: Vec<PolicyRow>,
    calendars: HashMap<String, Calendar>,
}

impl Levels {
    pub async fn load(conn: &mut Conn) -> AppResult<Levels> {
        let calendars = rows::calendars(conn).await?.iter().filter_map(|c| Some((c.id.clone(), calendar_of_row(c)?))).collect();
        Ok(Levels { policies: rows::policies(conn).await?, calendars })
    }

    fn policy(&self, id: &str) -> Option<&PolicyRow> {
        self.policies.iter().find(|p| p.id == id)
    }

    fn calendar(&self, p: &PolicyRow) -> Calendar {
        p.calendar_id.as_ref().and_then(|c| self.calendars.get(c)).cloned().unwrap_or_else(Calendar::always)
    }

    /// The first live policy of `team` (any team when none) whose conditions match.
    fn choose(&self, facts: &Facts, team: Option<&str>) -> Option<&PolicyRow> {
        let live: Vec<&PolicyRow> = self.policies.iter().filter(|p| p.archived_at.is_none() && team.is_none_or(|t| p.team == t)).collect();
        let conditions = live.iter().map(|p| Conditions {
            types: &p.match_types,
            priorities: &p.match_priorities,
            channels: &p.match_channels,
            tiers: &p.match_tiers,
        });
        dk::choose(conditions, facts).and_then(|i| live.get(i).copied()).or_else(|| {
            // A team always has somewhere to go: its first live policy, conditions aside.
            team.and_then(|_| live.first().copied())
        })
    }
}

// ---------------------------------------------------------------------------------------
// Tickets

/// How a ticket stands against one of its targets, now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Target {
    /// When it falls due if work goes on (RFC 3339, UTC); none while the clock is paused
    /// or stopped.
    pub due_at: Option<String>,
    /// Minutes left (negative once missed).
    pub remaining_minutes: i64,
    pub breached: bool,
    /// Most of the time is used up: the agent is warned.
    pub warning: bool,
    pub paused: bool,
    /// The target was met or missed for good (answered, solved).
    pub done: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ticket {
    pub id: String,
    /// `T-000123`, the reference in mail subjects.
    pub reference: String,
    /// request | complaint | claim | suggestion | praise
    #[serde(rename = "type")]
    pub ticket_type: String,
    pub channel: String,
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub requester_phone: Option<String>,
    pub subject: String,
    pub priority: String,
    pub category: Option<String>,
    /// new | open | waiting | escalated | solved | closed
    pub status: String,
    /// front_office | back_office
    pub team: String,
    pub assignee_id: Option<String>,
    /// The code of the service level that governs it.
    pub sla_policy: String,
    pub created_at: String,
    pub first_response_at: Option<String>,
    pub first_response_due_at: Option<String>,
    pub resolution_due_at: Option<String>,
    pub first_response: Target,
    pub resolution: Target,
    pub escalated_at: Option<String>,
    pub escalated_by: Option<String>,
    pub escalation_reason: Option<String>,
    pub solved_at: Option<String>,
    pub closed_at: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketMessage {
    pub id: String,
    /// reply (to the customer) | note (internal) | incoming (from the customer)
    pub kind: String,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
    /// A reply that could not be e-mailed says why.
    pub delivery_error: Option<String>,
}

fn message_of(m: MessageRow) -> TicketMessage {
    TicketMessage {
        id: m.id,
        kind: m.kind,
        author_name: m.author_name,
        body: m.body,
        created_at: m.created_at,
        delivery_error: m.delivery_error,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketEvent {
    pub at: String,
    pub status: String,
    pub team: String,
    pub sla_policy: String,
    pub actor_name: String,
    pub note: Option<String>,
}

/// A ticket with its conversation and its status history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub messages: Vec<TicketMessage>,
    pub events: Vec<TicketEvent>,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    clock::parse(s)
}

/// The clock history of the current policy: the status changes since `sla_started_at`
/// (the status at that instant included).
fn history(events: &[TicketEventRow], started: OffsetDateTime) -> Vec<(OffsetDateTime, Clock)> {
    let mut h: Vec<(OffsetDateTime, Clock)> = Vec::new();
    let mut current = Clock::Running;
    for e in events {
        let Some(at) = parse_time(&e.at) else { continue };
        let c = Status::from_code(&e.status).map(Status::clock).unwrap_or(Clock::Running);
        if at <= started {
            current = c;
        } else {
            h.push((at, c));
        }
    }
    h.insert(0, (started, current));
    h
}

struct Standing {
    first: Target,
    resolution: Target,
    first_due: Option<OffsetDateTime>,
    resolution_due: Option<OffsetDateTime>,
}

fn target_of(d: sla::Due, target: Duration, warn_percent: i64, done: bool) -> Target {
    let used = target - d.remaining;
    let warning = !d.breached && !done && used.whole_seconds() * 100 >= target.whole_seconds() * warn_percent;
    Target {
        due_at: d.at.map(clock::text),
        remaining_minutes: d.remaining.whole_minutes(),
        breached: d.breached,
        warning,
        paused: d.paused,
        done,
    }
}

/// Where a ticket stands against its policy at `now`.
fn standing(levels: &Levels, t: &TicketRow, events: &[TicketEventRow], now: OffsetDateTime) -> Standing {
    let policy = levels.policy(&t.sla_policy_id);
    let cal = policy.map(|p| levels.calendar(p)).unwrap_or_else(Calendar::always);
    let started = parse_time(&t.sla_started_at).unwrap_or(now);
    let h = history(events, started);
    let warn = policy.map(|p| p.warn_percent).unwrap_or(80);
    let resolution_target = Duration::minutes(policy.map(|p| p.resolution_minutes).unwrap_or(1440));
    let d = sla::due(&cal, &h, resolution_target, now);
    let solved = !Status::from_code(&t.status).is_some_and(Status::is_open);
    let resolution = target_of(d, resolution_target, warn, solved);
    // The first response is the first reply from the ticket's creation, whatever the
    // policy; its clock stops at that reply.
    let first_target = Duration::minutes(policy.map(|p| p.first_response_minutes).unwrap_or(240));
    let mut fh = history(events, parse_time(&t.created_at).unwrap_or(started));
    let answered = t.first_response_at.as_deref().and_then(parse_time);
    if let Some(a) = answered {
        fh.retain(|(at, _)| *at < a);
        fh.push((a, Clock::Stopped));
    }
    let fd = sla::due(&cal, &fh, first_target, now);
    let first = target_of(fd, first_target, warn, answered.is_some() || solved);
    Standing {
        first_due: if answered.is_some() || solved { None } else { fd.at },
        resolution_due: if solved { None } else { d.at },
        first,
        resolution,
    }
}

fn ticket_of(levels: &Levels, t: TicketRow, s: Standing) -> Ticket {
    Ticket {
        reference: dk::reference(t.number),
        sla_policy: levels.policy(&t.sla_policy_id).map(|p| p.code.clone()).unwrap_or_default(),
        first_response_due_at: s.first_due.map(clock::text),
        resolution_due_at: s.resolution_due.map(clock::text),
        first_response: s.first,
        resolution: s.resolution,
        id: t.id,
        ticket_type: t.ticket_type,
        channel: t.channel,
        customer_id: t.party_id,
        contact_id: t.contact_id,
        requester_name: t.requester_name,
        requester_email: t.requester_email,
        requester_phone: t.requester_phone,
        subject: t.subject,
        priority: t.priority,
        category: t.category,
        status: t.status,
        team: t.team,
        assignee_id: t.assignee_id,
        created_at: t.created_at,
        first_response_at: t.first_response_at,
        escalated_at: t.escalated_at,
        escalated_by: t.escalated_by,
        escalation_reason: t.escalation_reason,
        solved_at: t.solved_at,
        closed_at: t.closed_at,
        rating: t.rating,
        rating_comment: t.rating_comment,
        version: t.version,
    }
}

/// Writes the ticket's due times as they stand now (for lists and the breach watch) and
/// the targets missed for good.
fn refresh(levels: &Levels, t: &mut TicketRow, events: &[TicketEventRow], now: OffsetDateTime) {
    let s = standing(levels, t, events, now);
    t.first_response_due_at = s.first_due.map(clock::text);
    t.resolution_due_at = s.resolution_due.map(clock::text);
    t.first_response_breached = i64::from(s.first.breached);
    t.resolution_breached = i64::from(s.resolution.breached);
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIn {
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    /// request | complaint | claim | suggestion | praise
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// phone, email, in_person, web, chat, whatsapp, post, fax, other
    pub channel: Option<String>,
    pub subject: Option<String>,
    /// The customer's words: the first message of the conversation.
    pub body: Option<String>,
    /// low | normal (default) | high | urgent
    pub priority: Option<String>,
    pub category: Option<String>,
    /// A user id or user name.
    pub assignee: Option<String>,
    /// For someone who is not (yet) a customer: the web form, an e-mail.
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub requester_phone: Option<String>,
}

fn event(t: &TicketRow, actor_name: &str, at: &str, note: Option<String>) -> TicketEventRow {
    TicketEventRow {
        id: new_id(),
        ticket_id: t.id.clone(),
        at: at.to_string(),
        status: t.status.clone(),
        team: t.team.clone(),
        sla_policy_id: t.sla_policy_id.clone(),
        actor_name: actor_name.to_string(),
        note,
    }
}

/// Who opens a ticket: a user, or someone from outside (the web form, an e-mail).
pub(crate) struct Opener<'a> {
    pub user_id: Option<&'a str>,
    pub name: &'a str,
}

pub async fn create_ticket(app: &App, actor: &Actor, input: &TicketIn) -> AppResult<Ticket> {
    actor.authorize(Action::Create, Resource::Tickets)?;
    let mut tx = app.db.begin().await?;
    let t = open_ticket(&mut tx, Opener { user_id: actor.user_id.as_deref(), name: &actor.display_name }, input, true).await?;
    let levels = Levels::load(&mut tx).await?;
    let events = rows::events(&mut tx, &t.id).await?;
    let s = standing(&levels, &t, &events, clock::now());
    let after = ticket_of(&levels, t, s);
    audit::record(&mut tx, actor, "create", "ticket", &after.id, None::<&Ticket>, Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

/// Opens a ticket in the caller's transaction: checks the input, chooses its service
/// level, numbers it, records its first status and the customer's words.
pub(crate) async fn open_ticket(conn: &mut Conn, by: Opener<'_>, input: &TicketIn, needs_customer: bool) -> AppResult<TicketRow> {
    let mut errors = FieldErrors::new();
    let named = input.customer_id.as_deref().is_some_and(|s| !s.trim().is_empty());
    let party = if needs_customer || named { customer_in(conn, &mut errors, input.customer_id.as_deref()).await } else { None };
    let blank = |s: &Option<String>| s.as_deref().unwrap_or("").trim().is_empty();
    if !needs_customer && !named && blank(&input.requester_email) && blank(&input.requester_phone) {
        errors.add("requester_email", "field-required");
    }
    let contact = contact_in(conn, &mut errors, party.as_ref(), input.contact_id.as_deref()).await;
    let ticket_type = one_of(&mut errors, "type", input.ticket_type.as_deref(), TICKET_TYPES, None);
    let channel = one_of(&mut errors, "channel", input.channel.as_deref(), CHANNELS, Some("phone"));
    let priority = one_of(&mut errors, "priority", input.priority.as_deref(), PRIORITIES, Some("normal"));
    let subject = v::required(&mut errors, "subject", input.subject.as_deref(), 200);
    let body = v::optional(&mut errors, "body", input.body.as_deref(), 50_000);
    let category = v::optional(&mut errors, "category", input.category.as_deref(), 80);
    let requester_name = v::optional(&mut errors, "requester_name", input.requester_name.as_deref(), 120);
    let requester_email = v::email(&mut errors, "requester_email", input.requester_email.as_deref());
    let requester_phone = v::phone(&mut errors, "requester_phone", input.requester_phone.as_deref());
    let assignee_id = user_in(conn, &mut errors, "assignee", input.assignee.as_deref()).await?;
    let levels = Levels::load(conn).await?;
    let facts =
        Facts { ticket_type: &ticket_type, priority: &priority, channel: &channel, tier: party.as_ref().and_then(|p| p.tier.as_deref()) };
    let policy = levels.choose(&facts, None);
    if policy.is_none() && errors.is_empty() {
        errors.add("type", "sla-no-policy");
    }
    errors.into_result(())?;
    let Some(policy) = policy else { return Err(AppError::Refused("sla-no-policy")) };
    let now = clock::now_text();
    let number = store::sales::take_number(conn, TICKET_SEQUENCE, 0).await?;
    let mut t = TicketRow {
        id: new_id(),
        number,
        ticket_type,
        channel,
        requester_email: requester_email
            .or_else(|| contact.as_ref().and_then(|c| c.email.clone()))
            .or_else(|| party.as_ref().and_then(|p| p.email.clone())),
        requester_phone: requester_phone.or_else(|| contact.as_ref().and_then(|c| c.phone.clone())),
        requester_name: requester_name
            .or_else(|| contact.as_ref().map(|c| c.name.clone()))
            .or_else(|| party.as_ref().map(|p| p.name.clone())),
        party_id: party.map(|p| p.id),
        contact_id: contact.map(|c| c.id),
        subject,
        priority,
        category,
        status: Status::New.code().into(),
        team: policy.team.clone(),
        assignee_id,
        sla_policy_id: policy.id.clone(),
        sla_started_at: now.clone(),
        created_by: by.name.to_string(),
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
        ..TicketRow::default()
    };
    let first = event(&t, by.name, &now, None);
    refresh(&levels, &mut t, std::slice::from_ref(&first), clock::now());
    rows::save_ticket(conn, &t, true).await?;
    rows::insert_event(conn, &first).await?;
    if let Some(body) = body {
        let m = MessageRow {
            id: new_id(),
            ticket_id: t.id.clone(),
            kind: "incoming".into(),
            author_id: by.user_id.map(str::to_string),
            author_name: t.requester_name.clone().unwrap_or_else(|| by.name.to_string()),
            body,
            created_at: now,
            ..MessageRow::default()
        };
        rows::insert_message(conn, &m).await?;
    }
    Ok(t)
}

async fn load_ticket(conn: &mut Conn, id: &str) -> AppResult<TicketRow> {
    rows::get_ticket(conn, &parse_id(id)?).await?.ok_or(AppError::NotFound)
}

pub async fn get_ticket(app: &App, actor: &Actor, id: &str) -> AppResult<TicketDetail> {
    actor.authorize(Action::Read, Resource::Tickets)?;
    let mut conn = app.db.reader().await?;
    let t = load_ticket(&mut conn, id).await?;
    detail(&mut conn, t).await
}

async fn detail(conn: &mut Conn, t: TicketRow) -> AppResult<TicketDetail> {
    let levels = Levels::load(conn).await?;
    let events = rows::events(conn, &t.id).await?;
    let messages = rows::messages(conn, &t.id).await?;
    let code = |id: &str| levels.policy(id).map(|p| p.code.clone()).unwrap_or_default();
    let ev = events
        .iter()
        .map(|e| TicketEvent {
            at: e.at.clone(),
            status: e.status.clone(),
            team: e.team.clone(),
            sla_policy: code(&e.sla_policy_id),
            actor_name: e.actor_name.clone(),
            note: e.note.clone(),
        })
        .collect();
    let s = standing(&levels, &t, &events, clock::now());
    Ok(TicketDetail { ticket: ticket_of(&levels, t, s), messages: messages.into_iter().map(message_of).collect(), events: ev })
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketParams {
    /// `open` (default: new, open, waiting, escalated), `all`, or one status.
    pub status: Option<String>,
    /// front_office | back_office
    pub team: Option<String>,
    pub customer_id: Option<String>,
    /// `me` or a user id.
    pub assignee: Option<String>,
    /// Only open tickets past their resolution due time, soonest first.
    pub breached: Option<bool>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list_tickets(app: &App, actor: &Actor, p: &TicketParams) -> AppResult<Page<Ticket>> {
    actor.authorize(Action::Read, Resource::Tickets)?;
    let mut errors = FieldErrors::new();
    let limit = crate::master::page_limit_into(&mut errors, p.limit);
    let breached = p.breached.unwrap_or(false);
    let statuses: Vec<String> = match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("open") => Status::OPEN.iter().map(|s| s.code().to_string()).collect(),
        Some("all") if !breached => Vec::new(),
        Some(s) if Status::from_code(s).is_some() => vec![s.to_string()],
        Some(_) => {
            errors.add("status", "status-invalid");
            Vec::new()
        }
    };
    let team = p.team.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    if team.as_deref().is_some_and(|t| !TEAMS.contains(&t)) {
        errors.add("team", "value-invalid");
    }
    let party_id = match p.customer_id.as_deref().filter(|s| !s.is_empty()) {
        Some(c) => Some(parse_id(c).map_err(|_| AppError::Invalid(FieldErrors::single("customer_id", "customer-unknown")))?),
        None => None,
    };
    let assignee_id = match p.assignee.as_deref().filter(|s| !s.is_empty()) {
        Some("me") => actor.user_id.clone().or(Some(String::new())),
        Some(u) => Some(parse_id(u).map_err(|_| AppError::Invalid(FieldErrors::single("assignee", "user-unknown")))?),
        None => None,
    };
    let before = match p.cursor.as_deref().filter(|s| !s.is_empty()) {
        Some(c) if !breached => Some(decode_cursor(c)?),
        Some(_) => return Err(AppError::Invalid(FieldErrors::single("cursor", "cursor-invalid"))),
        None => None,
    };
    errors.into_result(())?;
    let now = clock::now();
    let q = TicketQuery {
        statuses,
        team,
        party_id,
        assignee_id,
        due_before: breached.then(|| clock::text(now)),
        before,
        limit: if breached { 200 } else { limit + 1 },
    };
    let mut conn = app.db.reader().await?;
    let mut found = rows::tickets(&mut conn, &q).await?;
    let next_cursor = if !breached && found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|t| encode_cursor(&t.created_at, &t.id))
    } else {
        None
    };
    let levels = Levels::load(&mut conn).await?;
    // The page's status histories in one query.
    let ids: Vec<String> = found.iter().map(|t| t.id.clone()).collect();
    let mut histories: HashMap<String, Vec<TicketEventRow>> = HashMap::new();
    for e in rows::events_of_many(&mut conn, &ids).await? {
        histories.entry(e.ticket_id.clone()).or_default().push(e);
    }
    let mut items = Vec::with_capacity(found.len());
    for t in found {
        let events = histories.remove(&t.id).unwrap_or_default();
        let s = standing(&levels, &t, &events, now);
        items.push(ticket_of(&levels, t, s));
    }
    Ok(Page { items, next_cursor })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    /// Why (escalation), or what was done (solution); kept on the ticket's history.
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Moves a ticket along its life (take, wait, resume, escalate, solve, close, reopen).
/// Escalating puts it under the back office's service level, its clock starting now;
/// solving gives it a one-time rating link, returned once (to be sent to the customer).
pub async fn move_ticket(app: &App, actor: &Actor, id: &str, m: Move, input: &MoveIn) -> AppResult<(Ticket, Option<String>)> {
    actor.authorize(Action::Update, Resource::Tickets)?;
    let mut tx = app.db.begin().await?;
    let mut t = load_ticket(&mut tx, id).await?;
    if input.version.is_some_and(|v| v != t.version) {
        return Err(AppError::Conflict);
    }
    let before_status = Status::from_code(&t.status).ok_or(AppError::Refused("ticket-move-invalid"))?;
    let Some(to) = dk::next(before_status, m, t.escalated_at.is_some()) else {
        return Err(AppError::Refused("ticket-move-invalid"));
    };
    let mut errors = FieldErrors::new();
    let note = v::optional(&mut errors, "note", input.note.as_deref(), 5_000);
    if m == Move::Escalate && note.is_none() {
        errors.add("note", "field-required");
    }
    errors.into_result(())?;
    let levels = Levels::load(&mut tx).await?;
    let now = clock::now();
    let now_text = clock::text(now);
    let mut events = rows::events(&mut tx, &t.id).await?;
    let before = {
        let s = standing(&levels, &t, &events, now);
        ticket_of(&levels, t.clone(), s)
    };
    let mut token = None;
    match m {
        Move::Escalate => {
            // The front office's target is settled as it stood; the back office's starts.
            refresh(&levels, &mut t, &events, now);
            let party_tier = match &t.party_id {
                Some(p) => store::master::get::<store::master::PartyRow>(&mut tx, p).await?.and_then(|p| p.tier),
                None => None,
            };
            let facts = Facts { ticket_type: &t.ticket_type, priority: &t.priority, channel: &t.channel, tier: party_tier.as_deref() };
            let Some(policy) = levels.choose(&facts, Some("back_office")) else {
                return Err(AppError::Refused("sla-no-policy"));
            };
            t.sla_policy_id = policy.id.clone();
            t.team = policy.team.clone();
            t.sla_started_at = now_text.clone();
            t.escalated_at = Some(now_text.clone());
            t.escalated_by = Some(actor.display_name.clone());
            t.escalation_reason = note.clone();
            t.resolution_breached = 0;
        }
        Move::Solve => {
            t.solved_at = Some(now_text.clone());
            t.solved_by = Some(actor.display_name.clone());
            let secret = auth::secret();
            t.rating_token_hash = Some(auth::digest(&secret));
            token = Some(secret);
        }
        Move::Close => t.closed_at = Some(now_text.clone()),
        Move::Reopen => {
            t.solved_at = None;
            t.solved_by = None;
            t.rating_token_hash = None;
        }
        Move::Take => {
            if t.assignee_id.is_none() {
                t.assignee_id = actor.user_id.clone();
            }
        }
        Move::Wait | Move::Resume => {}
    }
    t.status = to.code().into();
    let e = event(&t, &actor.display_name, &now_text, note);
    events.push(e.clone());
    let breached_before = t.resolution_breached;
    refresh(&levels, &mut t, &events, now);
    if m != Move::Escalate {
        t.resolution_breached = t.resolution_breached.max(breached_before);
    }
    t.updated_at = now_text;
    rows::save_ticket(&mut tx, &t, false).await?;
    t.version += 1;
    rows::insert_event(&mut tx, &e).await?;
    let s = standing(&levels, &t, &events, now);
    let after = ticket_of(&levels, t, s);
    audit::record(&mut tx, actor, "update", "ticket", &after.id, Some(&before), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok((after, token))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    pub body: Option<String>,
    /// `reply` (default: goes to the customer by e-mail) or `note` (internal).
    pub kind: Option<String>,
    /// With a reply: wait for the customer's answer (the clock pauses).
    pub wait: Option<bool>,
}

/// Adds a reply or an internal note. The first reply answers the ticket (its first
/// response). Returns the ticket and the message; sending the reply by e-mail is the
/// caller's (after the commit, so a slow mail server never holds the database).
pub async fn add_message(app: &App, actor: &Actor, id: &str, input: &MessageIn) -> AppResult<(TicketDetail, TicketMessage)> {
    actor.authorize(Action::Update, Resource::Tickets)?;
    let mut tx = app.db.begin().await?;
    let mut t = load_ticket(&mut tx, id).await?;
    let mut errors = FieldErrors::new();
    let body = v::required(&mut errors, "body", input.body.as_deref(), 50_000);
    let kind = one_of(&mut errors, "kind", input.kind.as_deref(), &["reply", "note"], Some("reply"));
    errors.into_result(())?;
    let status = Status::from_code(&t.status).unwrap_or(Status::Open);
    if status == Status::Closed {
        return Err(AppError::Refused("ticket-closed"));
    }
    let now = clock::now();
    let now_text = clock::text(now);
    let m = MessageRow {
        id: new_id(),
        ticket_id: t.id.clone(),
        kind: kind.clone(),
        author_id: actor.user_id.clone(),
        author_name: actor.display_name.clone(),
        body,
        created_at: now_text.clone(),
        ..MessageRow::default()
    };
    rows::insert_message(&mut tx, &m).await?;
    let mut events = rows::events(&mut tx, &t.id).await?;
    let levels = Levels::load(&mut tx).await?;
    if kind == "reply" {
        if t.first_response_at.is_none() {
            t.first_response_at = Some(now_text.clone());
        }
        let next = if input.wait.unwrap_or(false) {
            dk::next(status, Move::Wait, t.escalated_at.is_some())
        } else if status == Status::New {
            Some(Status::Open)
        } else {
            None
        };
        if let Some(next) = next {
            t.status = next.code().into();
            let e = event(&t, &actor.display_name, &now_text, None);
            rows::insert_event(&mut tx, &e).await?;
            events.push(e);
        }
    }
    let breached_before = (t.first_response_breached, t.resolution_breached);
    refresh(&levels, &mut t, &events, now);
    t.first_response_breached = t.first_response_breached.max(breached_before.0);
    t.resolution_breached = t.resolution_breached.max(breached_before.1);
    t.updated_at = now_text;
    rows::save_ticket(&mut tx, &t, false).await?;
    t.version += 1;
    let msg = message_of(m);
    audit::record(&mut tx, actor, "create", "ticket_message", &msg.id, None::<&TicketMessage>, Some(&msg)).await?;
    let d = detail(&mut tx, t).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok((d, msg))
}

/// Records the Message-ID of the mail that carried a reply, to thread the answer.
pub async fn message_mailed(app: &App, message_id: &str, email_id: &str) -> AppResult<()> {
    let mut conn = app.db.reader().await?;
    rows::set_email_id(&mut conn, message_id, email_id).await?;
    Ok(())
}

/// Records that a reply could not be e-mailed.
pub async fn delivery_failed(app: &App, message_id: &str, error: &str) -> AppResult<()> {
    let mut conn = app.db.reader().await?;
    rows::set_delivery_error(&mut conn, message_id, error).await?;
    Ok(())
}

/// The rating a customer gives through the link of a solved ticket. The link works once.
pub async fn rate(app: &App, token: &str, score: i64, comment: Option<&str>) -> AppResult<Ticket> {
    let mut errors = FieldErrors::new();
    if !(1..=5).contains(&score) {
        errors.add("rating", "rating-invalid");
    }
    let comment = v::optional(&mut errors, "comment", comment, 2_000);
    errors.into_result(())?;
    let mut tx = app.db.begin().await?;
    let Some(mut t) = rows::ticket_by_rating_token(&mut tx, &auth::digest(token.trim())).await? else {
        return Err(AppError::NotFound);
    };
    if t.rating.is_some() {
        return Err(AppError::Refused("rating-used"));
    }
    let levels = Levels::load(&mut tx).await?;
    let events = rows::events(&mut tx, &t.id).await?;
    let now = clock::now();
    t.rating = Some(score);
    t.rating_comment = comment;
    t.rated_at = Some(clock::text(now));
    t.updated_at = clock::text(now);
    rows::save_ticket(&mut tx, &t, false).await?;
    t.version += 1;
    let s = standing(&levels, &t, &events, now);
    let after = ticket_of(&levels, t, s);
    let customer = Actor::system("customer");
    audit::record(&mut tx, &customer, "rate", "ticket", &after.id, None::<&Ticket>, Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

/// The ticket a rating link belongs to (to show the rating page), if the link is good.
pub async fn ticket_for_rating(app: &App, token: &str) -> AppResult<Ticket> {
    let mut conn = app.db.reader().await?;
    let t = rows::ticket_by_rating_token(&mut conn, &auth::digest(token.trim())).await?.ok_or(AppError::NotFound)?;
    let levels = Levels::load(&mut conn).await?;
    let events = rows::events(&mut conn, &t.id).await?;
    let s = standing(&levels, &t, &events, clock::now());
    Ok(ticket_of(&levels, t, s))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Compliance {
    /// front_office | back_office
    pub team: String,
    /// Tickets solved in the period.
    pub solved: i64,
    /// Of those, solved after their resolution target.
    pub breached: i64,
    /// Solved on time, percent with two decimals.
    pub compliance_percent: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceParams {
    /// First day (YYYY-MM-DD), default 30 days ago.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD), default today.
    pub to: Option<String>,
}

pub async fn compliance(app: &App, actor: &Actor, p: &ComplianceParams) -> AppResult<Vec<Compliance>> {
    actor.authorize(Action::Read, Resource::Tickets)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let today = clock::now().date();
    let day = |s: &Option<String>, field: &str, default: Date| -> AppResult<Date> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Date::parse(s, fmt).map_err(|_| AppError::Invalid(FieldErrors::single(field, "date-invalid"))),
            None => Ok(default),
        }
    };
    let from = day(&p.from, "from", today - Duration::days(30))?;
    let to = day(&p.to, "to", today)?;
    if to < from {
        return Err(AppError::Invalid(FieldErrors::single("to", "range-invalid")));
    }
    let mut conn = app.db.reader().await?;
    let end = to.next_day().unwrap_or(to);
    let found = rows::compliance(&mut conn, &format!("{from}T00:00:00"), &format!("{end}T00:00:00")).await?;
    Ok(found
        .into_iter()
        .map(|(team, solved, breached)| {
            let on_time = (solved - breached) * 10_000 / solved.max(1);
            Compliance { team, solved, breached, compliance_percent: domain::money::format_scaled(on_time, 2) }
        })
        .collect())
}

/// A request from the public web form: opened by nobody logged in, through the channel
/// `web`, for a customer or for anyone who leaves an e-mail or a phone. Nobody is assigned
/// from outside.
pub async fn submit_request(app: &App, input: &TicketIn) -> AppResult<Ticket> {
    let input = TicketIn { channel: Some("web".into()), assignee: None, ..input.clone() };
    let name = input.requester_name.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("web").to_string();
    let mut tx = app.db.begin().await?;
    let t = open_ticket(&mut tx, Opener { user_id: None, name: &name }, &input, false).await?;
    let levels = Levels::load(&mut tx).await?;
    let events = rows::events(&mut tx, &t.id).await?;
    let s = standing(&levels, &t, &events, clock::now());
    let after = ticket_of(&levels, t, s);
    audit::record(&mut tx, &Actor::system("web"), "create", "ticket", &after.id, None::<&Ticket>, Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

/// What [`refresh_due_times`] did.
#[derive(Debug, Clone, Copy)]
pub struct Refreshed {
    pub open: usize,
    pub changed: usize,
    /// Seconds spent computing the due times (the SLA clock), reading and writing aside.
    pub compute_s: f64,
}

/// Computes again the due times and breach flags of every open ticket and writes those
/// that changed: after a policy or calendar changed, and by the server's periodic job,
/// so that lists and the breach watch read them from the table.
pub async fn refresh_due_times(app: &App) -> AppResult<Refreshed> {
    let mut tx = app.db.begin().await?;
    let levels = Levels::load(&mut tx).await?;
    let (tickets, events) = rows::open_tickets(&mut tx).await?;
    let now = clock::now();
    let started = std::time::Instant::now();
    let mut changed = Vec::new();
    let mut rest = events.as_slice();
    for t in &tickets {
        // Both lists are in ticket order: each ticket's events are the next run.
        let skip = rest.iter().take_while(|e| e.ticket_id < t.id).count();
        rest = &rest[skip..];
        let n = rest.iter().take_while(|e| e.ticket_id == t.id).count();
        let (mine, after) = rest.split_at(n);
        rest = after;
        let mut fresh = t.clone();
        refresh(&levels, &mut fresh, mine, now);
        fresh.first_response_breached = fresh.first_response_breached.max(t.first_response_breached);
        fresh.resolution_breached = fresh.resolution_breached.max(t.resolution_breached);
        if (&fresh.first_response_due_at, &fresh.resolution_due_at, fresh.first_response_breached, fresh.resolution_breached)
            != (&t.first_response_due_at, &t.resolution_due_at, t.first_response_breached, t.resolution_breached)
        {
            changed.push(fresh);
        }
    }
    let compute_s = started.elapsed().as_secs_f64();
    for t in &changed {
        rows::set_due_times(&mut tx, t).await?;
    }
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(Refreshed { open: tickets.len(), changed: changed.len(), compute_s })
}

// ---------------------------------------------------------------- incoming mail

/// A mail read from the service desk's mailbox (see [`crate::inbox`]).
#[derive(Debug, Clone, Default)]
pub struct IncomingMail {
    /// Its `Message-ID`, with the angle brackets.
    pub message_id: Option<String>,
    pub from_name: Option<String>,
    pub from_email: String,
    pub subject: String,
    /// The text the customer wrote.
    pub body: String,
    /// The mails it answers (`In-Reply-To`, then `References`), with the angle brackets.
    pub references: Vec<String>,
}

/// What became of an incoming mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new ticket, by its reference (`T-000123`).
    Opened(String),
    /// Joined the conversation of an open ticket.
    Joined(String),
    /// The same mail was read before (its `Message-ID` is in a conversation).
    AlreadyRead,
}

/// Files an incoming mail, in one transaction: it joins the ticket named in its subject
/// (`[T-000123]`) or whose mail it answers (its headers), and a ticket that was waiting
/// for the customer, or solved, is worked on again; otherwise it opens a ticket by e-mail
/// for the customer (or contact) the address belongs to, or for the sender alone. A closed
/// ticket is not reopened: the mail opens a new one.
pub async fn receive_mail(app: &App, mail: &IncomingMail) -> AppResult<Received> {
    let mut tx = app.db.begin().await?;
    if let Some(id) = &mail.message_id {
        if rows::mail_received(&mut tx, id).await? {
            return Ok(Received::AlreadyRead);
        }
    }
    let named = match dk::reference_in(&mail.subject) {
        Some(n) => rows::ticket_by_number(&mut tx, n).await?,
        None => None,
    };
    let thread = match named {
        Some(t) => Some(t),
        None => match rows::ticket_of_mails(&mut tx, &mail.references).await? {
            Some(id) => rows::get_ticket(&mut tx, &id).await?,
            None => None,
        },
    };
    let name: String =
        mail.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&mail.from_email).chars().take(120).collect();
    let body: String = if mail.body.trim().is_empty() { "—".to_string() } else { mail.body.chars().take(50_000).collect() };
    let now = clock::now();
    let now_text = clock::text(now);
    let robot = Actor::system("mail");
    let message = |ticket_id: &str| MessageRow {
        id: new_id(),
        ticket_id: ticket_id.to_string(),
        kind: "incoming".into(),
        author_id: None,
        author_name: name.clone(),
        body: body.clone(),
        email_message_id: mail.message_id.clone(),
        delivery_error: None,
        created_at: now_text.clone(),
    };
    let outcome = match thread.filter(|t| t.status != Status::Closed.code()) {
        Some(mut t) => {
            let m = message(&t.id);
            rows::insert_message(&mut tx, &m).await?;
            let levels = Levels::load(&mut tx).await?;
            let mut events = rows::events(&mut tx, &t.id).await?;
            let status = Status::from_code(&t.status).unwrap_or(Status::Open);
            // The customer answered: what waited for them, or was solved, is worked on again.
            let step = match status {
                Status::Waiting => Some(Move::Resume),
                Status::Solved => Some(Move::Reopen),
                _ => None,
            };
            if let Some((step, to)) = step.and_then(|s| dk::next(status, s, t.escalated_at.is_some()).map(|to| (s, to))) {
                if step == Move::Reopen {
                    t.solved_at = None;
                    t.solved_by = None;
                    t.rating_token_hash = None;
                }
                t.status = to.code().into();
                let e = event(&t, &name, &now_text, Some("e-mail".into()));
                rows::insert_event(&mut tx, &e).await?;
                events.push(e);
            }
            let breached_before = (t.first_response_breached, t.resolution_breached);
            refresh(&levels, &mut t, &events, now);
            t.first_response_breached = t.first_response_breached.max(breached_before.0);
            t.resolution_breached = t.resolution_breached.max(breached_before.1);
            t.updated_at = now_text.clone();
            rows::save_ticket(&mut tx, &t, false).await?;
            let msg = message_of(m);
            audit::record(&mut tx, &robot, "create", "ticket_message", &msg.id, None::<&TicketMessage>, Some(&msg)).await?;
            Received::Joined(dk::reference(t.number))
        }
        None => {
            let (customer_id, contact_id) = match rows::sender(&mut tx, &mail.from_email).await? {
                Some((party, contact)) => (Some(party), contact),
                None => (None, None),
            };
            let subject: String = mail.subject.trim().chars().take(200).collect();
            let input = TicketIn {
                customer_id,
                contact_id,
                ticket_type: Some("request".into()),
                channel: Some("email".into()),
                subject: Some(if subject.is_empty() { "—".into() } else { subject }),
                requester_name: mail.from_name.clone().filter(|n| !n.trim().is_empty()).map(|n| n.chars().take(120).collect()),
                requester_email: Some(mail.from_email.clone()),
                ..TicketIn::default()
            };
            let t = open_ticket(&mut tx, Opener { user_id: None, name: &name }, &input, false).await?;
            rows::insert_message(&mut tx, &message(&t.id)).await?;
            let levels = Levels::load(&mut tx).await?;
            let events = rows::events(&mut tx, &t.id).await?;
            let s = standing(&levels, &t, &events, now);
            let reference = dk::reference(t.number);
            let after = ticket_of(&levels, t, s);
            audit::record(&mut tx, &robot, "create", "ticket", &after.id, None::<&Ticket>, Some(&after)).await?;
            Received::Opened(reference)
        }
    };
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(outcome)
}
