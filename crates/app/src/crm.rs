//! The central record of every contact with a customer: interactions (calls, e-mails,
//! visits, chats, letters, notes) and the customer's timeline, which merges them with the
//! customer's documents and tickets, newest first.

use crate::master::{company_in, decode_cursor, encode_cursor, Page};
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::desk::{CHANNELS, DIRECTIONS, INTERACTION_KINDS};
use domain::money::format_scaled;
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use store::crm::{self as rows, InteractionRow, TimelineQuery};
use store::master::{self as mrows, ContactRow, PartyRow};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Interaction {
    pub id: String,
    pub customer_id: String,
    pub contact_id: Option<String>,
    /// call, email, visit, chat, letter, fax, note, meeting, sms
    pub kind: String,
    /// phone, email, in_person, web, chat, whatsapp, post, fax, other
    pub channel: String,
    /// in | out
    pub direction: String,
    /// When it happened (RFC 3339, UTC).
    pub occurred_at: String,
    pub duration_minutes: Option<i64>,
    pub user_name: String,
    pub subject: String,
    pub body: Option<String>,
    pub outcome: Option<String>,
    pub ticket_id: Option<String>,
    pub document_id: Option<String>,
    /// The answers of a call script run during the call.
    #[schema(value_type = Option<Object>)]
    pub script_answers: Option<serde_json::Value>,
    pub created_at: String,
}

fn interaction_of(r: InteractionRow) -> Interaction {
    Interaction {
        id: r.id,
        customer_id: r.party_id,
        contact_id: r.contact_id,
        kind: r.kind,
        channel: r.channel,
        direction: r.direction,
        occurred_at: r.occurred_at,
        duration_minutes: r.duration_seconds.map(|s| s / 60),
        user_name: r.user_name,
        subject: r.subject,
        body: r.body,
        outcome: r.outcome,
        ticket_id: r.ticket_id,
        document_id: r.document_id,
        script_answers: r.script_answers.and_then(|s| serde_json::from_str(&s).ok()),
        created_at: r.created_at,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionIn {
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    pub kind: Option<String>,
    pub channel: Option<String>,
    pub direction: Option<String>,
    /// Defaults to now; may not be in the future by more than a day.
    pub occurred_at: Option<String>,
    pub duration_minutes: Option<i64>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub outcome: Option<String>,
    pub ticket_id: Option<String>,
    pub document_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub script_answers: Option<serde_json::Value>,
}

pub(crate) fn one_of(errors: &mut FieldErrors, field: &str, value: Option<&str>, allowed: &[&str], default: Option<&str>) -> String {
    match value.map(str::trim).filter(|s| !s.is_empty()).or(default) {
        Some(v) if allowed.contains(&v) => v.to_string(),
        Some(_) => {
            errors.add(field, "value-invalid");
            String::new()
        }
        None => {
            errors.add(field, "field-required");
            String::new()
        }
    }
}

/// The active user a user id or user name names.
pub(crate) async fn user_in(conn: &mut store::Conn, errors: &mut FieldErrors, field: &str, who: Option<&str>) -> AppResult<Option<String>> {
    let Some(who) = who.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let found = match parse_id(who) {
        Ok(id) => store::people::user_by_id(conn, &id).await?,
        Err(_) => store::people::user_by_name(conn, who).await?,
    };
    match found {
        Some(u) if u.active != 0 => Ok(Some(u.id)),
        Some(_) => {
            errors.add(field, "user-inactive");
            Ok(None)
        }
        None => {
            errors.add(field, "user-unknown");
            Ok(None)
        }
    }
}

/// The customer an id names, if it is one (not archived).
pub(crate) async fn customer_in(conn: &mut store::Conn, errors: &mut FieldErrors, id: Option<&str>) -> Option<PartyRow> {
    let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.add("customer_id", "field-required");
        return None;
    };
    let found = match parse_id(id) {
        Ok(id) => mrows::get::<PartyRow>(conn, &id).await.ok().flatten(),
        Err(_) => None,
    };
    match found {
        Some(p) if p.archived_at.is_none() => Some(p),
        _ => {
            errors.add("customer_id", "customer-unknown");
            None
        }
    }
}

/// A contact of that customer, if one is named.
pub(crate) async fn contact_in(
    conn: &mut store::Conn,
    errors: &mut FieldErrors,
    party: Option<&PartyRow>,
    id: Option<&str>,
) -> Option<ContactRow> {
    let id = id.map(str::trim).filter(|s| !s.is_empty())?;
    let found = match parse_id(id) {
        Ok(id) => mrows::get::<ContactRow>(conn, &id).await.ok().flatten(),
        Err(_) => None,
    };
    match (found, party) {
        (Some(c), Some(p)) if c.party_id == p.id => Some(c),
        (Some(c), None) => Some(c),
        _ => {
            errors.add("contact_id", "contact-unknown");
            None
        }
    }
}

pub async fn create_interaction(app: &App, actor: &Actor, input: &InteractionIn) -> AppResult<Interaction> {
    actor.authorize(Action::Create, Resource::Interactions)?;
    let mut tx = app.db.begin().await?;
    let mut errors = FieldErrors::new();
    let party = customer_in(&mut tx, &mut errors, input.customer_id.as_deref()).await;
    let contact = contact_in(&mut tx, &mut errors, party.as_ref(), input.contact_id.as_deref()).await;
    let kind = one_of(&mut errors, "kind", input.kind.as_deref(), INTERACTION_KINDS, None);
    let default_channel = match kind.as_str() {
        "call" | "sms" => Some("phone"),
        "email" => Some("email"),
        "visit" | "meeting" => Some("in_person"),
        "chat" => Some("chat"),
        "letter" => Some("post"),
        "fax" => Some("fax"),
        _ => Some("other"),
    };
    let channel = one_of(&mut errors, "channel", input.channel.as_deref(), CHANNELS, default_channel);
    let direction = one_of(&mut errors, "direction", input.direction.as_deref(), DIRECTIONS, Some("out"));
    let now = clock::now();
    let occurred_at = match input.occurred_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => clock::text(now),
        Some(s) => match clock::parse(s) {
            Some(t) if t <= now + time::Duration::days(1) => clock::text(t),
            Some(_) => {
                errors.add("occurred_at", "date-future");
                String::new()
            }
            None => {
                errors.add("occurred_at", "date-invalid");
                String::new()
            }
        },
    };
    let duration_seconds = match input.duration_minutes {
        Some(m) if !(0..=24 * 60).contains(&m) => {
            errors.add("duration_minutes", "duration-invalid");
            None
        }
        m => m.map(|m| m * 60),
    };
    let subject = v::required(&mut errors, "subject", input.subject.as_deref(), 200);
    let body = v::optional(&mut errors, "body", input.body.as_deref(), 20_000);
    let outcome = v::optional(&mut errors, "outcome", input.outcome.as_deref(), 200);
    let ticket_id = match input.ticket_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(t) => match parse_id(t) {
            Ok(id) if rows::get_ticket(&mut tx, &id).await?.is_some_and(|t| t.party_id == party.as_ref().map(|p| p.id.clone())) => Some(id),
            _ => {
                errors.add("ticket_id", "ticket-unknown");
                None
            }
        },
        None => None,
    };
    let document_id = match input.document_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(d) => match parse_id(d) {
            Ok(id)
                if store::sales::get_document(&mut tx, &id).await?.is_some_and(|d| Some(&d.party_id) == party.as_ref().map(|p| &p.id)) =>
            {
                Some(id)
            }
            _ => {
                errors.add("document_id", "document-unknown");
                None
            }
        },
        None => None,
    };
    let script_answers = match &input.script_answers {
        None | Some(serde_json::Value::Null) => None,
        Some(v @ serde_json::Value::Object(_)) => {
            let text = v.to_string();
            if text.len() > 20_000 {
                errors.add("script_answers", "field-too-long");
            }
            Some(text)
        }
        Some(_) => {
            errors.add("script_answers", "value-invalid");
            None
        }
    };
    errors.into_result(())?;
    let Some(party) = party else { return Err(AppError::NotFound) };
    let row = InteractionRow {
        id: new_id(),
        party_id: party.id,
        contact_id: contact.map(|c| c.id),
        kind,
        channel,
        direction,
        occurred_at,
        duration_seconds,
        user_id: actor.user_id.clone(),
        user_name: actor.display_name.clone(),
        subject,
        body,
        outcome,
        opportunity_id: None,
        ticket_id,
        document_id,
        script_answers,
        created_at: clock::text(now),
    };
    rows::insert_interaction(&mut tx, &row).await?;
    let after = interaction_of(row);
    audit::record(&mut tx, actor, "create", "interaction", &after.id, None::<&Interaction>, Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

pub async fn get_interaction(app: &App, actor: &Actor, id: &str) -> AppResult<Interaction> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    rows::get_interaction(&mut conn, &id).await?.map(interaction_of).ok_or(AppError::NotFound)
}

/// One entry of a customer's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// interaction | document | ticket
    pub source: String,
    pub id: String,
    /// When (RFC 3339, UTC): the interaction happened, the document or ticket was made.
    pub at: String,
    /// The interaction's kind (call, email…), the document's kind (quote, invoice…) or the
    /// ticket's type (complaint…).
    pub kind: String,
    pub channel: Option<String>,
    pub direction: Option<String>,
    pub subject: String,
    pub body: Option<String>,
    /// The document's or ticket's status, the interaction's outcome.
    pub status: Option<String>,
    pub who: Option<String>,
    /// Documents: the total.
    pub total: Option<String>,
    /// Documents: `0001-00000042`; tickets: `T-000123`.
    pub number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Only this contact's interactions and tickets.
    pub contact_id: Option<String>,
    /// Only these sources, separated by commas: interaction, document, ticket.
    pub sources: Option<String>,
    /// Only interactions of this kind (call, email, visit…).
    pub kind: Option<String>,
    /// Only interactions through this channel (phone, email…).
    pub channel: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub async fn timeline(app: &App, actor: &Actor, customer_id: &str, p: &TimelineParams) -> AppResult<Page<TimelineEntry>> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let party_id = parse_id(customer_id)?;
    let mut errors = FieldErrors::new();
    let limit = crate::master::page_limit_into(&mut errors, p.limit);
    let sources: Vec<String> =
        p.sources.as_deref().unwrap_or("").split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if sources.iter().any(|s| !["interaction", "document", "ticket"].contains(&s.as_str())) {
        errors.add("sources", "value-invalid");
    }
    let wants = |s: &str| sources.is_empty() || sources.iter().any(|x| x == s);
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let kind = nonempty(&p.kind);
    if kind.as_deref().is_some_and(|k| !INTERACTION_KINDS.contains(&k)) {
        errors.add("kind", "value-invalid");
    }
    let channel = nonempty(&p.channel);
    if channel.as_deref().is_some_and(|c| !CHANNELS.contains(&c)) {
        errors.add("channel", "value-invalid");
    }
    let contact_id = match nonempty(&p.contact_id) {
        Some(c) => Some(parse_id(&c).map_err(|_| AppError::Invalid(FieldErrors::single("contact_id", "contact-unknown")))?),
        None => None,
    };
    let before = match nonempty(&p.cursor) {
        Some(c) => Some(decode_cursor(&c)?),
        None => None,
    };
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    if mrows::get::<PartyRow>(&mut conn, &party_id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    // Documents and tickets are shown to whoever may read them.
    let q = TimelineQuery {
        party_id,
        contact_id,
        interactions: wants("interaction"),
        documents: wants("document") && actor.can(Action::Read, Resource::Sales) && actor.can(Action::Read, Resource::Invoices),
        tickets: wants("ticket") && actor.can(Action::Read, Resource::Tickets),
        kind,
        channel,
        before,
        limit: limit + 1,
    };
    let mut found = rows::timeline(&mut conn, &q).await?;
    let decimals = company_in(&mut conn).await?.decimals();
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| encode_cursor(&r.at, &r.id))
    } else {
        None
    };
    let items = found
        .into_iter()
        .map(|r| {
            let number = match (r.source.as_str(), r.number, r.point_of_sale) {
                ("document", Some(n), Some(pos)) => Some(domain::sales::format_number(pos, n)),
                ("ticket", Some(n), _) => Some(domain::desk::reference(n)),
                _ => None,
            };
            TimelineEntry {
                total: r.total.map(|t| format_scaled(t, decimals)),
                number,
                source: r.source,
                id: r.id,
                at: r.at,
                kind: r.kind,
                channel: r.channel,
                direction: r.direction,
                subject: r.subject,
                body: r.body,
                status: r.status,
                who: r.who,
            }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// The setting: a customer without a posted invoice for this many days is inactive.
pub const INACTIVE_AFTER_KEY: &str = "crm.inactive_after_days";
pub const INACTIVE_AFTER_DEFAULT: i64 = 180;
pub const LIFECYCLES: &[&str] = &["prospect", "active", "inactive"];

async fn cutoff(conn: &mut store::Conn) -> AppResult<String> {
    let days = store::sales::setting(conn, INACTIVE_AFTER_KEY).await?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(INACTIVE_AFTER_DEFAULT);
    Ok((clock::now().date() - time::Duration::days(days)).to_string())
}

/// After an invoice is posted or cancelled: its customer's lifecycle follows.
pub(crate) async fn after_invoicing(conn: &mut store::Conn, doc: &store::sales::DocumentRow) -> AppResult<()> {
    if doc.kind == "invoice" && matches!(doc.status.as_str(), "posted" | "cancelled") {
        let cutoff = cutoff(conn).await?;
        rows::refresh_lifecycles(conn, Some(&doc.party_id), &cutoff).await?;
    }
    Ok(())
}

/// Derives every customer's lifecycle again (the daily job, and after the threshold
/// changes): customers slip into `inactive` as time passes without a purchase.
pub async fn refresh_lifecycles(app: &App) -> AppResult<u64> {
    let mut tx = app.db.begin().await?;
    let cutoff = cutoff(&mut tx).await?;
    let n = rows::refresh_lifecycles(&mut tx, None, &cutoff).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(n)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lifecycle {
    /// prospect | active | inactive
    pub lifecycle: String,
    /// Who set it by hand; none while it is derived from purchases.
    pub set_by: Option<String>,
    pub set_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleIn {
    /// prospect | active | inactive; `null` gives it back to the derivation.
    pub lifecycle: Option<String>,
}

pub async fn lifecycle(app: &App, actor: &Actor, customer_id: &str) -> AppResult<Lifecycle> {
    actor.authorize(Action::Read, Resource::Customers)?;
    let id = parse_id(customer_id)?;
    let mut conn = app.db.reader().await?;
    let (lifecycle, set_by, set_at) = rows::lifecycle_of(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    Ok(Lifecycle { lifecycle, set_by, set_at })
}

/// Sets a customer's lifecycle by hand (recorded in the audit), or clears the override.
pub async fn set_lifecycle(app: &App, actor: &Actor, customer_id: &str, input: &LifecycleIn) -> AppResult<Lifecycle> {
    actor.authorize(Action::Update, Resource::Customers)?;
    let id = parse_id(customer_id)?;
    let wanted = input.lifecycle.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if wanted.is_some_and(|l| !LIFECYCLES.contains(&l)) {
        return Err(AppError::Invalid(FieldErrors::single("lifecycle", "value-invalid")));
    }
    let mut tx = app.db.begin().await?;
    let (old, set_by, set_at) = rows::lifecycle_of(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    let before = Lifecycle { lifecycle: old.clone(), set_by, set_at };
    let now = clock::now_text();
    match wanted {
        Some(l) => rows::set_lifecycle(&mut tx, &id, l, Some(&actor.display_name), &now).await?,
        None => {
            rows::set_lifecycle(&mut tx, &id, &old, None, &now).await?;
            let cutoff = cutoff(&mut tx).await?;
            rows::refresh_lifecycles(&mut tx, Some(&id), &cutoff).await?;
        }
    }
    let (lifecycle, set_by, set_at) = rows::lifecycle_of(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    let after = Lifecycle { lifecycle, set_by, set_at };
    audit::record(&mut tx, actor, "lifecycle", "party", &id, Some(&before), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------
// Call scripts

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallScript {
    pub id: String,
    pub name: String,
    pub purpose: Option<String>,
    /// Questions in order; each answer leads to the `next` question's id or to `end`.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<domain::script::Step>,
    pub version: i64,
}

fn script_of(r: store::pipeline::ScriptRow) -> CallScript {
    CallScript { steps: serde_json::from_str(&r.steps).unwrap_or_default(), id: r.id, name: r.name, purpose: r.purpose, version: r.version }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallScriptIn {
    pub name: Option<String>,
    pub purpose: Option<String>,
    /// `[{"id", "question", "answers": [{"label", "next"}]}]`; `next` is a step id or `end`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub steps: Option<serde_json::Value>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn call_scripts(app: &App, actor: &Actor) -> AppResult<Vec<CallScript>> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let mut conn = app.db.reader().await?;
    Ok(store::pipeline::scripts(&mut conn).await?.into_iter().map(script_of).collect())
}

pub async fn get_call_script(app: &App, actor: &Actor, id: &str) -> AppResult<CallScript> {
    actor.authorize(Action::Read, Resource::Interactions)?;
    let mut conn = app.db.reader().await?;
    store::pipeline::get_script(&mut conn, &parse_id(id)?).await?.map(script_of).ok_or(AppError::NotFound)
}

/// Creates a script (`id` none) or changes one; a script whose branches lead nowhere, loop
/// back or leave a question unreachable is refused with the reason.
pub async fn save_call_script(app: &App, actor: &Actor, id: Option<&str>, input: &CallScriptIn) -> AppResult<CallScript> {
    // Writing scripts is the manager's; agents run them.
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::ServiceLevels)?;
    let mut tx = app.db.begin().await?;
    let before = match id {
        Some(id) => Some(store::pipeline::get_script(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if before.as_ref().is_some_and(|b| input.version.is_some_and(|v| v != b.version)) {
        return Err(AppError::Conflict);
    }
    let now = clock::now_text();
    let mut row = before.clone().unwrap_or_else(|| store::pipeline::ScriptRow {
        id: new_id(),
        created_at: now.clone(),
        version: 1,
        ..Default::default()
    });
    let mut errors = FieldErrors::new();
    if input.name.is_some() || before.is_none() {
        row.name = v::required(&mut errors, "name", input.name.as_deref(), 120);
    }
    if input.purpose.is_some() {
        row.purpose = v::optional(&mut errors, "purpose", input.purpose.as_deref(), 200);
    }
    match (&input.steps, before.is_none()) {
        (Some(value), _) => match serde_json::from_value::<Vec<domain::script::Step>>(value.clone()) {
            Ok(steps) => match domain::script::check(&steps) {
                Ok(()) => row.steps = serde_json::to_string(&steps).unwrap_or_default(),
                Err(e) => errors.add("steps", &e.to_string()),
            },
            Err(_) => errors.add("steps", "script-step-invalid"),
        },
        (None, true) => errors.add("steps", "field-required"),
        (None, false) => {}
    }
    match input.archived {
        Some(true) if row.archived_at.is_none() => row.archived_at = Some(now.clone()),
        Some(false) => row.archived_at = None,
        _ => {}
    }
    errors.into_result(())?;
    row.updated_at = now;
    store::pipeline::save_script(&mut tx, &row, before.is_none()).await?;
    let after = CallScript { version: row.version + i64::from(before.is_some()), ..script_of(row) };
    let b = before.map(script_of);
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "call_script", &after.id, b.as_ref(), Some(&after))
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptRunIn {
    pub customer_id: Option<String>,
    pub contact_id: Option<String>,
    /// in (default) | out
    pub direction: Option<String>,
    /// The questions asked and the answers given, in order.
    #[schema(value_type = Vec<Object>)]
    pub answers: Option<Vec<domain::script::Given>>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub duration_minutes: Option<i64>,
}

/// A call guided by the script: the answers must follow it; the call is recorded as an
/// interaction carrying them.
pub async fn run_call_script(app: &App, actor: &Actor, id: &str, input: &ScriptRunIn) -> AppResult<Interaction> {
    let script = get_call_script(app, actor, id).await?;
    let answers = input.answers.clone().unwrap_or_default();
    if answers.is_empty() || !domain::script::follows(&script.steps, &answers) {
        return Err(AppError::Invalid(FieldErrors::single("answers", "script-answers-invalid")));
    }
    let interaction = InteractionIn {
        customer_id: input.customer_id.clone(),
        contact_id: input.contact_id.clone(),
        kind: Some("call".into()),
        channel: Some("phone".into()),
        direction: input.direction.clone().or(Some("in".into())),
        duration_minutes: input.duration_minutes,
        subject: input.subject.clone().filter(|s| !s.trim().is_empty()).or(Some(script.name.clone())),
        body: input.body.clone(),
        outcome: answers.last().map(|g| g.answer.clone()),
        script_answers: Some(serde_json::json!({"script_id": script.id, "script": script.name, "answers": answers})),
        ..InteractionIn::default()
    };
    create_interaction(app, actor, &interaction).await
}
