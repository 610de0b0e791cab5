//! The CRM and service-desk pages: a customer's history (the timeline) with a quick form
//! to log an interaction, on the customer's page; the tickets list; a ticket with its
//! service-level targets, its conversation, a reply form and the moves its status allows;
//! the public request form and rating page (no log-in); and the service levels (policies,
//! calendars, compliance) under the settings.

use super::sales::{self, form_response, money, short_date, DocumentForm};
use super::{
    anon_layout, cookie, error_page, error_status, f, fields, layout, nonempty, not_found_page, page_locale, posted, render, req,
    same_secret, select, set_cookie, urlencode, DetailPage, Field, FieldSpec, Layout, MessagePage, PageUser, Posted, Row, Section, Tr,
    Typed, CSRF_COOKIE,
};
use crate::api;
use crate::crm_api::{self, MOVES};
use crate::AppState;
use app::crm::{self as c, InteractionIn, TimelineEntry, TimelineParams};
use app::desk::{self as d, CalendarIn, ComplianceParams, MessageIn, MoveIn, SlaPolicyIn, Target, Ticket, TicketIn, TicketParams};
use app::master::{self as m, ListParams, PartyRole};
use app::{auth, AppError};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::desk::{self as dk, Move, Status, CHANNELS, DIRECTIONS, INTERACTION_KINDS, PRIORITIES, TEAMS, TICKET_TYPES};
use domain::validation::FieldErrors;
use std::collections::HashMap;

/// The longest message the public form takes, in characters.
const SUPPORT_BODY_MAX: usize = 5_000;
/// The largest public form accepted at all, in bytes (anything larger is abuse).
const SUPPORT_FORM_BYTES: usize = 64 * 1024;

// ---------------------------------------------------------------- words

/// The words for a code: `prefix-code` in the catalogue.
fn word(tr: &Tr, prefix: &str, code: &str) -> String {
    tr.t(&format!("{prefix}-{code}"))
}

fn options(tr: &Tr, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes.iter().map(|c| (c.to_string(), word(tr, prefix, c))).collect()
}

fn with_blank(blank: String, mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.insert(0, (String::new(), blank));
    v
}

/// A span of minutes as people read it: `45 min`, `4 h`, `1 h 30 min`.
fn span(minutes: i64) -> String {
    let m = minutes.abs();
    match (m / 60, m % 60) {
        (0, r) => format!("{r} min"),
        (h, 0) => format!("{h} h"),
        (h, r) => format!("{h} h {r} min"),
    }
}

fn with_time(st: &AppState, tr: &Tr, key: &str, minutes: i64) -> String {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("time", span(minutes));
    st.i18n.t_args(&tr.locale, key, Some(&args))
}

/// A whole number typed in a form: none when empty, the field's error when not a number.
fn number(p: &Posted, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    let v = nonempty(p.text(field))?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "number-invalid");
            None
        }
    }
}

/// Codes typed as words separated by spaces (or commas).
fn word_list(p: &Posted, field: &str) -> Option<Vec<String>> {
    p.text(field).map(|v| v.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).map(str::to_string).collect())
}

/// A badge: its colour (`late`, `warn`, `paused`, `ok`) and its words.
pub struct Badge {
    pub class: &'static str,
    pub label: String,
}

/// How a ticket stands against one target, at a glance: missed is red, nearly used up is
/// amber, paused is grey.
fn badge(tr: &Tr, t: &Target) -> Badge {
    let (class, key) = match (t.done, t.breached, t.paused, t.warning) {
        (true, true, _, _) => ("late", "sla-missed"),
        (true, false, _, _) => ("ok", "sla-met"),
        (false, true, _, _) => ("late", "sla-breached"),
        (false, false, true, _) => ("paused", "sla-paused"),
        (false, false, false, true) => ("warn", "sla-warning"),
        _ => ("ok", "sla-on-time"),
    };
    Badge { class, label: tr.t(key) }
}

/// The time left (or past) on a target, in words; nothing once it is settled.
fn remaining(st: &AppState, tr: &Tr, t: &Target) -> String {
    match (t.done, t.breached, t.paused) {
        (true, _, _) => String::new(),
        (false, true, _) => with_time(st, tr, "sla-late-by", t.remaining_minutes),
        (false, false, true) => with_time(st, tr, "sla-left-paused", t.remaining_minutes),
        _ => with_time(st, tr, "sla-left", t.remaining_minutes),
    }
}

fn due_text(t: &Target) -> String {
    t.due_at.as_deref().map(short_date).unwrap_or_else(|| "—".into())
}

/// The customers' names by id, for lists of tickets (the requester's name when the user
/// may not read customers).
async fn customer_names(st: &AppState, u: &PageUser, ids: impl Iterator<Item = &String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if !u.actor().can(Action::Read, Resource::Customers) {
        return out;
    }
    for id in ids {
        if !out.contains_key(id) {
            if let Ok(p) = m::get_party(&st.app, u.actor(), PartyRole::Customer, id).await {
                out.insert(id.clone(), p.name);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- the customer's history

const SOURCES: &[(&str, &str)] =
    &[("", "timeline-all"), ("interaction", "timeline-interactions"), ("document", "timeline-documents"), ("ticket", "timeline-tickets")];

pub struct Entry {
    pub source: String,
    pub icon: &'static str,
    pub label: String,
    pub at: String,
    pub subject: String,
    pub href: String,
    pub body: String,
    pub meta: String,
    pub who: String,
    pub status: String,
    pub total: String,
}

#[derive(Template)]
#[template(path = "desk_customer.html")]
struct CustomerPanel {
    tr: Tr,
    csrf: String,
    base: String,
    tabs: Vec<(String, String, bool)>,
    source: String,
    kind: String,
    channel: String,
    kinds: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    entries: Vec<Entry>,
    more: Option<String>,
    problem: Option<String>,
    new_ticket: Option<String>,
    may_log: bool,
    fields: Vec<Field>,
    error: Option<String>,
}

fn interaction_icon(kind: &str) -> &'static str {
    match kind {
        "call" | "sms" => "☎",
        "email" | "letter" => "✉",
        "fax" => "℻",
        "visit" | "meeting" => "⌂",
        _ => "✎",
    }
}

fn entry(tr: &Tr, e: TimelineEntry) -> Entry {
    let number = e.number.clone().unwrap_or_default();
    let (icon, label, href, status, meta) = match e.source.as_str() {
        "document" => {
            ("▤", word(tr, "kind", &e.kind), format!("/documents/{}", e.id), e.status.map(|s| word(tr, "status", &s)), String::new())
        }
        "ticket" => (
            "⚑",
            word(tr, "ticket-type", &e.kind),
            format!("/tickets/{}", e.id),
            e.status.map(|s| word(tr, "ticket-status", &s)),
            e.channel.as_deref().map(|c| word(tr, "channel", c)).unwrap_or_default(),
        ),
        _ => {
            let mut meta: Vec<String> = e.channel.as_deref().map(|c| word(tr, "channel", c)).into_iter().collect();
            meta.extend(e.direction.as_deref().map(|d| word(tr, "direction", d)));
            (interaction_icon(&e.kind), word(tr, "ia-kind", &e.kind), String::new(), e.status, meta.join(" · "))
        }
    };
    let subject = match (e.source.as_str(), e.subject.trim().is_empty()) {
        ("ticket", _) => format!("{number} · {}", e.subject),
        ("document", true) => format!("{label} {number}").trim_end().to_string(),
        ("document", false) => format!("{label} {number} · {}", e.subject),
        _ => e.subject,
    };
    Entry {
        icon,
        at: short_date(&e.at),
        subject,
        href,
        body: e.body.unwrap_or_default().chars().take(400).collect(),
        meta,
        who: e.who.unwrap_or_default(),
        status: status.unwrap_or_default(),
        total: e.total.map(|t| money(tr, &t)).unwrap_or_default(),
        source: e.source,
        label,
    }
}

fn interaction_specs(tr: &Tr, contacts: Vec<(String, String)>) -> Vec<FieldSpec> {
    let mut v = vec![
        req(select("kind", options(tr, "ia-kind", INTERACTION_KINDS))),
        select("channel", with_blank(tr.t("channel-by-kind"), options(tr, "channel", CHANNELS))),
        select("direction", options(tr, "direction", DIRECTIONS)),
        f("duration_minutes", "number"),
        req(f("subject", "text")),
        f("outcome", "text"),
    ];
    if contacts.len() > 1 {
        v.push(select("contact_id", contacts));
    }
    v.push(f("body", "textarea"));
    v
}

async fn contact_options(st: &AppState, u: &PageUser, party_id: &str) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "—".to_string())];
    if u.actor().can(Action::Read, Resource::Contacts) {
        let params = ListParams { limit: Some(100), ..Default::default() };
        if let Ok(page) = m::list_contacts(&st.app, u.actor(), &params, Some(party_id)).await {
            out.extend(page.items.into_iter().map(|c| (c.id, c.name)));
        }
    }
    out
}

/// The blocks the customer's page gets: the timeline (with its filters and "more") and the
/// form to log an interaction, for who may read and log them.
pub(super) async fn customer_panels(
    st: &AppState,
    u: &PageUser,
    o: &m::Party,
    q: &HashMap<String, String>,
    typed: Option<&Typed>,
) -> Vec<String> {
    let actor = u.actor();
    if !actor.can(Action::Read, Resource::Interactions) {
        return vec![];
    }
    let tr = u.tr(st);
    let pick =
        |k: &str, allowed: &[&str]| q.get(k).map(|v| v.trim().to_string()).filter(|v| allowed.contains(&v.as_str())).unwrap_or_default();
    let source = pick("source", &SOURCES.iter().map(|(c, _)| *c).collect::<Vec<_>>());
    let kind = pick("kind", INTERACTION_KINDS);
    let channel = pick("channel", CHANNELS);
    let base = format!("/customers/{}", o.id);
    let params = TimelineParams {
        sources: Some(source.clone()),
        kind: Some(kind.clone()),
        channel: Some(channel.clone()),
        cursor: nonempty(q.get("cursor").cloned()),
        limit: Some(20),
        contact_id: None,
    };
    let (entries, more, problem) = match c::timeline(&st.app, actor, &o.id, &params).await {
        Ok(page) => {
            let more = page
                .next_cursor
                .map(|cur| format!("{base}?source={}&kind={}&channel={}&cursor={}#historial", source, kind, channel, urlencode(&cur)));
            (page.items.into_iter().map(|e| entry(&tr, e)).collect(), more, None)
        }
        Err(AppError::Invalid(_)) => (vec![], None, Some(tr.t("error-query"))),
        Err(e) => (vec![], None, Some(tr.t(error_status(&e).1))),
    };
    let tabs = SOURCES.iter().map(|(code, key)| (format!("{base}?source={code}#historial"), tr.t(key), *code == source)).collect();
    let may_log = actor.can(Action::Create, Resource::Interactions) && !o.archived;
    let fields = if may_log {
        let specs = interaction_specs(&tr, contact_options(st, u, &o.id).await);
        let defaults = HashMap::from([("kind".to_string(), "call".to_string()), ("direction".to_string(), "out".to_string())]);
        let empty = FieldErrors::new();
        let (values, errors) = typed.map(|t| (&t.values, &t.errors)).unwrap_or((&defaults, &empty));
        fields(&tr, specs, values, errors)
    } else {
        vec![]
    };
    let panel = CustomerPanel {
        csrf: u.session.csrf.clone(),
        tabs,
        kinds: with_blank(tr.t("ia-kind-any"), options(&tr, "ia-kind", INTERACTION_KINDS)),
        channels: with_blank(tr.t("channel-any"), options(&tr, "channel", CHANNELS)),
        source,
        kind,
        channel,
        entries,
        more,
        problem,
        new_ticket: (actor.can(Action::Create, Resource::Tickets) && !o.archived).then(|| format!("/tickets/new?customer_id={}", o.id)),
        may_log,
        fields,
        error: typed.and_then(|t| t.error.clone()),
        base,
        tr,
    };
    match panel.render() {
        Ok(html) => vec![html],
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            vec![]
        }
    }
}

async fn interaction_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let text = |k: &str| nonempty(p.text(k));
    let input = InteractionIn {
        customer_id: Some(id.clone()),
        contact_id: text("contact_id"),
        kind: text("kind"),
        channel: text("channel"),
        direction: text("direction"),
        // Not a whole number: -1 makes the use case answer with its own field message.
        duration_minutes: text("duration_minutes").map(|d| d.trim().parse().unwrap_or(-1)),
        subject: p.text("subject"),
        body: text("body"),
        outcome: text("outcome"),
        ..Default::default()
    };
    match c::create_interaction(&st.app, u.actor(), &input).await {
        Ok(i) => Redirect::to(&format!("/customers/{}?ok=interaction#historial", i.customer_id)).into_response(),
        Err(AppError::Invalid(errors)) => {
            let typed = Typed { values: p.0.clone(), errors, error: Some(u.tr(&st).t("error-validation")) };
            super::detail_view::<api::Customers>(&st, &u, &id, &HashMap::new(), Some(&typed)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- the tickets list

pub struct TicketLine {
    pub href: String,
    pub reference: String,
    pub kind: String,
    pub subject: String,
    pub customer: String,
    pub customer_href: String,
    pub status_code: String,
    pub status: String,
    pub team: String,
    pub policy: String,
    pub due: String,
    pub badge: Badge,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsPage {
    l: Layout,
    tabs: Vec<(String, String, bool)>,
    actions: Vec<(String, String)>,
    tab: String,
    team: String,
    teams: Vec<(String, String)>,
    columns: Vec<String>,
    rows: Vec<TicketLine>,
    next: Option<String>,
    error: Option<String>,
}

const TABS: &[(&str, &str)] = &[("open", "tickets-open"), ("breached", "tickets-breached"), ("all", "tickets-all")];

fn ticket_line(tr: &Tr, names: &HashMap<String, String>, t: Ticket) -> TicketLine {
    let customer = t.customer_id.as_ref().and_then(|c| names.get(c).cloned()).or(t.requester_name.clone()).unwrap_or_default();
    TicketLine {
        href: format!("/tickets/{}", t.id),
        kind: word(tr, "ticket-type", &t.ticket_type),
        customer_href: t.customer_id.as_ref().filter(|c| names.contains_key(*c)).map(|c| format!("/customers/{c}")).unwrap_or_default(),
        status: word(tr, "ticket-status", &t.status),
        team: word(tr, "team", &t.team),
        due: t.resolution_due_at.as_deref().map(short_date).unwrap_or_else(|| "—".into()),
        badge: badge(tr, &t.resolution),
        reference: t.reference,
        subject: t.subject,
        customer,
        status_code: t.status,
        policy: t.sla_policy,
    }
}

async fn tickets_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let tab = q.get("tab").filter(|t| TABS.iter().any(|(c, _)| c == t)).cloned().unwrap_or_else(|| "open".into());
    let team = q.get("team").filter(|t| TEAMS.contains(&t.as_str())).cloned().unwrap_or_default();
    let params = TicketParams {
        status: Some(if tab == "all" { "all" } else { "open" }.into()),
        breached: Some(tab == "breached"),
        team: nonempty(Some(team.clone())),
        cursor: nonempty(q.get("cursor").cloned()),
        limit: Some(50),
        ..Default::default()
    };
    let tr = u.tr(&st);
    let (found, error) = match d::list_tickets(&st.app, u.actor(), &params).await {
        Ok(p) => (p, None),
        Err(AppError::Invalid(_)) => {
            let retry = TicketParams { cursor: None, ..params };
            (
                d::list_tickets(&st.app, u.actor(), &retry).await.unwrap_or(m::Page { items: vec![], next_cursor: None }),
                Some(tr.t("error-query")),
            )
        }
        Err(e) => return error_page(&st, &u, e),
    };
    let names = customer_names(&st, &u, found.items.iter().filter_map(|t| t.customer_id.as_ref())).await;
    let l = layout(&st, &u, tr.t("nav-tickets"), "/tickets");
    let rows = found.items.into_iter().map(|t| ticket_line(&l.tr, &names, t)).collect();
    let columns = [
        "field-reference",
        "field-type",
        "field-subject",
        "field-customer",
        "field-status",
        "field-team",
        "field-sla-policy",
        "field-resolution-due",
    ]
    .iter()
    .map(|k| l.tr.t(k))
    .collect();
    let tabs = TABS.iter().map(|(c, k)| (format!("/tickets?tab={c}&team={team}"), l.tr.t(k), *c == tab)).collect();
    let mut actions = vec![];
    if u.actor().can(Action::Create, Resource::Tickets) {
        actions.push(("/tickets/new".to_string(), l.tr.t("ticket-new")));
    }
    if u.actor().can(Action::Read, Resource::ServiceLevels) {
        actions.push(("/settings/service-levels".to_string(), l.tr.t("nav-service-levels")));
    }
    let next = found.next_cursor.map(|cur| format!("/tickets?tab={tab}&team={team}&cursor={}", urlencode(&cur)));
    let teams = with_blank(l.tr.t("team-any"), options(&l.tr, "team", TEAMS));
    render(&TicketsPage { l, tabs, actions, tab, team, teams, columns, rows, next, error })
}

// ---------------------------------------------------------------- a new ticket

async fn assignee_spec(st: &AppState, u: &PageUser) -> FieldSpec {
    match auth::list_users(&st.app, u.actor()).await {
        Ok(users) => {
            let mut opts = vec![(String::new(), "—".to_string())];
            opts.extend(users.into_iter().filter(|x| x.active).map(|x| (x.username, x.display_name)));
            select("assignee", opts)
        }
        Err(_) => f("assignee", "text"),
    }
}

async fn ticket_form(st: &AppState, u: &PageUser, values: HashMap<String, String>, errors: FieldErrors, error: Option<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Tickets) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let specs = vec![
        req(f("customer", "customer")),
        req(select("type", with_blank("—".into(), options(&tr, "ticket-type", TICKET_TYPES)))),
        select("channel", options(&tr, "channel", CHANNELS)),
        select("priority", options(&tr, "priority", PRIORITIES)),
        f("category", "text"),
        assignee_spec(st, u).await,
        req(f("subject", "text")),
        f("body", "textarea"),
        f("requester_name", "text"),
        f("requester_email", "email"),
        f("requester_phone", "tel"),
    ];
    let l = layout(st, u, tr.t("ticket-new"), "/tickets");
    let fields = fields(&l.tr, specs, &values, &errors);
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = DocumentForm {
        submit: l.tr.t("ticket-open"),
        l,
        error,
        action: "/tickets/new".into(),
        cancel: "/tickets".into(),
        hidden: vec![],
        fields,
        lines: vec![],
        may_price: false,
        customers: sales::customer_names(st, u).await,
        products: vec![],
    };
    (status, render(&page)).into_response()
}

async fn ticket_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut values = HashMap::from([("channel".to_string(), "phone".to_string()), ("priority".to_string(), "normal".to_string())]);
    if let Some(c) = q.get("customer_id") {
        if let Ok(p) = m::get_party(&st.app, u.actor(), PartyRole::Customer, c).await {
            values.insert("customer".to_string(), p.name);
        }
    }
    ticket_form(&st, &u, values, FieldErrors::new(), None).await
}

async fn ticket_create(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let mut errors = FieldErrors::new();
    let customer_id = sales::customer_field(&st, &u, nonempty(p.text("customer")), &mut errors).await;
    let text = |k: &str| nonempty(p.text(k));
    let input = TicketIn {
        customer_id,
        ticket_type: text("type"),
        channel: text("channel"),
        subject: p.text("subject"),
        body: text("body"),
        priority: text("priority"),
        category: text("category"),
        assignee: text("assignee"),
        requester_name: text("requester_name"),
        requester_email: text("requester_email"),
        requester_phone: text("requester_phone"),
        ..Default::default()
    };
    let result = if errors.is_empty() { d::create_ticket(&st.app, u.actor(), &input).await } else { Err(AppError::Invalid(errors)) };
    let tr = u.tr(&st);
    match result {
        Ok(t) => Redirect::to(&format!("/tickets/{}?ok=ticket-created", t.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let mut shown = FieldErrors::new();
            for (k, v) in e.0 {
                shown.add(if k == "customer_id" { "customer" } else { &k }, &v);
            }
            ticket_form(&st, &u, p.0.clone(), shown, Some(tr.t("error-validation"))).await
        }
        Err(AppError::Refused(k)) => ticket_form(&st, &u, p.0.clone(), FieldErrors::new(), Some(tr.t(k))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- a ticket

pub struct Fact {
    pub label: String,
    pub value: String,
    pub href: String,
}

pub struct TargetView {
    pub label: String,
    pub due: String,
    pub remaining: String,
    pub badge: Badge,
}

pub struct MessageView {
    pub kind: String,
    pub kind_label: String,
    pub author: String,
    pub at: String,
    pub body: String,
    pub delivery_error: Option<String>,
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub status: String,
    pub team: String,
    pub policy: String,
    pub note: String,
}

pub struct NoteField {
    pub label: String,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
}

pub struct MoveView {
    pub name: &'static str,
    pub label: String,
    pub note: Option<NoteField>,
    pub hint: Option<String>,
    pub primary: bool,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    l: Layout,
    id: String,
    version: i64,
    status_code: String,
    status: String,
    error: Option<String>,
    facts: Vec<Fact>,
    targets: Vec<TargetView>,
    messages: Vec<MessageView>,
    events: Vec<EventView>,
    may_reply: bool,
    reply_body: String,
    reply_kind: String,
    reply_wait: bool,
    reply_error: Option<String>,
    moves: Vec<MoveView>,
}

/// A form on the ticket's page that was refused: which (`reply` or a move's name), what
/// was typed and why not.
struct Refusal {
    form: String,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: String,
}

fn fact(label: String, value: String) -> Fact {
    Fact { label, value, href: String::new() }
}

fn ticket_facts(tr: &Tr, t: &Ticket, customer: Option<String>) -> Vec<Fact> {
    let mut v = vec![
        fact(tr.t("field-reference"), t.reference.clone()),
        fact(tr.t("field-type"), word(tr, "ticket-type", &t.ticket_type)),
        fact(tr.t("field-channel"), word(tr, "channel", &t.channel)),
    ];
    if let (Some(id), Some(name)) = (&t.customer_id, customer) {
        v.push(Fact { label: tr.t("field-customer"), value: name, href: format!("/customers/{id}") });
    }
    let requester: Vec<String> =
        [&t.requester_name, &t.requester_email, &t.requester_phone].into_iter().filter_map(|x| x.clone()).collect();
    if !requester.is_empty() {
        v.push(fact(tr.t("field-requester"), requester.join(" · ")));
    }
    v.push(fact(tr.t("field-priority"), word(tr, "priority", &t.priority)));
    v.push(fact(tr.t("field-status"), word(tr, "ticket-status", &t.status)));
    v.push(fact(tr.t("field-team"), word(tr, "team", &t.team)));
    v.push(fact(tr.t("field-sla-policy"), t.sla_policy.clone()));
    let mut opt = |key: &str, value: Option<String>| {
        if let Some(x) = value.filter(|x| !x.is_empty()) {
            v.push(fact(tr.t(key), x));
        }
    };
    opt("field-category", t.category.clone());
    opt("field-created-at", Some(short_date(&t.created_at)));
    opt("field-first-response-at", t.first_response_at.as_deref().map(short_date));
    opt(
        "field-escalated",
        t.escalated_at.as_deref().map(|at| format!("{} · {}", short_date(at), t.escalated_by.clone().unwrap_or_default())),
    );
    opt("field-escalation-reason", t.escalation_reason.clone());
    opt("field-solved-at", t.solved_at.as_deref().map(short_date));
    opt("field-closed-at", t.closed_at.as_deref().map(short_date));
    opt(
        "field-rating",
        t.rating.map(|r| format!("{}{} ({r}/5)", "★".repeat(r.clamp(0, 5) as usize), "☆".repeat((5 - r).clamp(0, 5) as usize))),
    );
    opt("rating-comment", t.rating_comment.clone());
    v
}

fn targets(st: &AppState, tr: &Tr, t: &Ticket) -> Vec<TargetView> {
    let view = |key: &str, target: &Target, met_at: Option<&String>| TargetView {
        label: tr.t(key),
        due: match (target.done, met_at) {
            (true, Some(at)) => short_date(at),
            _ => due_text(target),
        },
        remaining: remaining(st, tr, target),
        badge: badge(tr, target),
    };
    vec![
        view("field-first-response-due", &t.first_response, t.first_response_at.as_ref()),
        view("field-resolution-due", &t.resolution, t.solved_at.as_ref()),
    ]
}

/// The moves the ticket's status allows (`domain::desk::next`), each a button; escalating
/// asks why, solving says the customer gets the rating link.
fn moves(tr: &Tr, t: &Ticket, mailer: bool, refusal: Option<&Refusal>) -> Vec<MoveView> {
    let Some(status) = Status::from_code(&t.status) else { return vec![] };
    let escalated = t.escalated_at.is_some();
    MOVES
        .iter()
        .filter(|(_, m)| dk::next(status, *m, escalated).is_some())
        .map(|(name, m)| {
            let typed = refusal.filter(|r| r.form == *name);
            let note = |key: &str, required: bool| NoteField {
                label: tr.t(key),
                required,
                value: typed.and_then(|r| r.values.get("note").cloned()).unwrap_or_default(),
                error: typed.and_then(|r| r.errors.0.get("note")).map(|k| tr.t(k)),
            };
            let (note, hint) = match m {
                Move::Escalate => (Some(note("field-escalation-reason", true)), Some(tr.t("ticket-escalate-hint"))),
                Move::Solve => {
                    let hint = match (mailer, t.requester_email.is_some()) {
                        (true, true) => "ticket-solve-hint",
                        (false, _) => "ticket-solve-no-mailer",
                        (true, false) => "ticket-solve-no-email",
                    };
                    (Some(note("field-solution", false)), Some(tr.t(hint)))
                }
                _ => (None, None),
            };
            MoveView { name, label: word(tr, "ticket-do", name), note, hint, primary: matches!(m, Move::Solve | Move::Take) }
        })
        .collect()
}

fn message_view(tr: &Tr, m: d::TicketMessage) -> MessageView {
    MessageView {
        kind_label: word(tr, "ticket-kind", &m.kind),
        at: short_date(&m.created_at),
        author: m.author_name,
        body: m.body,
        delivery_error: m.delivery_error,
        kind: m.kind,
    }
}

fn event_view(tr: &Tr, e: d::TicketEvent) -> EventView {
    EventView {
        at: short_date(&e.at),
        status: word(tr, "ticket-status", &e.status),
        team: word(tr, "team", &e.team),
        actor: e.actor_name,
        policy: e.sla_policy,
        note: e.note.unwrap_or_default(),
    }
}

async fn ticket_view(st: &AppState, u: &PageUser, id: &str, refusal: Option<Refusal>) -> Response {
    let detail = match d::get_ticket(&st.app, u.actor(), id).await {
        Ok(t) => t,
        Err(e) => return error_page(st, u, e),
    };
    let t = detail.ticket;
    let names = customer_names(st, u, t.customer_id.iter()).await;
    let l = layout(st, u, format!("{} · {}", t.reference, t.subject), "/tickets");
    let tr = &l.tr;
    let may_update = u.actor().can(Action::Update, Resource::Tickets);
    let reply = refusal.as_ref().filter(|r| r.form == "reply");
    let value = |k: &str| reply.and_then(|r| r.values.get(k).cloned()).unwrap_or_default();
    let page = TicketPage {
        id: t.id.clone(),
        version: t.version,
        status: word(tr, "ticket-status", &t.status),
        status_code: t.status.clone(),
        error: refusal.as_ref().map(|r| r.error.clone()),
        facts: ticket_facts(tr, &t, t.customer_id.as_ref().and_then(|c| names.get(c).cloned())),
        targets: targets(st, tr, &t),
        messages: detail.messages.into_iter().map(|m| message_view(tr, m)).collect(),
        events: detail.events.into_iter().map(|e| event_view(tr, e)).collect(),
        may_reply: may_update && t.status != Status::Closed.code(),
        reply_body: value("body"),
        reply_kind: value("kind"),
        reply_wait: value("wait") == "on",
        reply_error: reply.and_then(|r| r.errors.0.get("body").or(r.errors.0.get("kind"))).map(|k| tr.t(k)),
        moves: if may_update { moves(tr, &t, st.mailer.is_some(), refusal.as_ref()) } else { vec![] },
        l,
    };
    let status = if refusal.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

async fn ticket_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    ticket_view(&st, &u, &id, None).await
}

/// After a refused form on the ticket's page: the page again with what was typed and why;
/// other errors get their own page.
async fn ticket_refused(st: &AppState, u: &PageUser, id: &str, form: &str, p: Posted, e: AppError) -> Response {
    let tr = u.tr(st);
    let (errors, key) = match e {
        AppError::Invalid(errors) => (errors, "error-validation"),
        AppError::Conflict => (FieldErrors::new(), "error-conflict"),
        AppError::Refused(k) => (FieldErrors::new(), k),
        other => return error_page(st, u, other),
    };
    let refusal = Refusal { form: form.to_string(), values: p.0, errors, error: tr.t(key) };
    ticket_view(st, u, id, Some(refusal)).await
}

async fn reply_post(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = MessageIn { body: p.text("body"), kind: nonempty(p.text("kind")), wait: Some(p.flag("wait")) };
    match d::add_message(&st.app, u.actor(), &id, &input).await {
        Ok((detail, mut msg)) => {
            crm_api::mail_reply(&st, &u.session.actor.locale, &detail.ticket, &mut msg).await;
            let ok = match (msg.kind.as_str(), &msg.delivery_error) {
                ("note", _) => "ticket-note",
                (_, Some(_)) => "ticket-reply-unsent",
                _ => "ticket-reply",
            };
            // An empty fragment: the page opens at its top (its flash), not at the form.
            Redirect::to(&format!("/tickets/{}?ok={ok}#", detail.ticket.id)).into_response()
        }
        Err(e) => ticket_refused(&st, &u, &id, "reply", p, e).await,
    }
}

async fn move_post(
    st: AppState,
    u: PageUser,
    headers: HeaderMap,
    id: String,
    name: &'static str,
    m: Move,
    form: Vec<(String, String)>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = MoveIn { note: nonempty(p.text("note")), version: p.text("version").and_then(|v| v.trim().parse().ok()) };
    match crm_api::move_and_notify(&st, u.actor(), &u.session.actor.locale, &headers, &id, m, &input).await {
        Ok(t) => {
            let ok = match m {
                Move::Solve if st.mailer.is_some() && t.requester_email.is_some() => "ticket-solve-mailed".to_string(),
                _ => format!("ticket-{name}"),
            };
            Redirect::to(&format!("/tickets/{}?ok={ok}#", t.id)).into_response()
        }
        Err(e) => ticket_refused(&st, &u, &id, name, p, e).await,
    }
}

// ---------------------------------------------------------------- public pages

/// A public form's token: the one in its cookie and the one in the form must match.
fn public_csrf_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    matches!((cookie(headers, CSRF_COOKIE), form.get("_csrf")), (Some(c), Some(f)) if same_secret(&c, f))
}

/// A public page with a fresh form token in its cookie.
fn with_csrf(st: &AppState, csrf: &str, status: StatusCode, page: Response) -> Response {
    (status, AppendHeaders([set_cookie(st, CSRF_COOKIE, csrf, 3600)]), page).into_response()
}

fn public_message(st: &AppState, locale: &str, title: &str, text: String, back: &str, status: StatusCode) -> Response {
    let l = anon_layout(st, locale, title, String::new());
    (status, render(&MessagePage { l, text, secret: None, back: back.into() })).into_response()
}

#[derive(Template)]
#[template(path = "support.html")]
struct SupportPage {
    l: Layout,
    error: Option<String>,
    fields: Vec<Field>,
}

fn support_page(st: &AppState, locale: &str, values: &HashMap<String, String>, errors: &FieldErrors, error: Option<String>) -> Response {
    let csrf = auth::secret();
    let l = anon_layout(st, locale, "support-title", csrf.clone());
    let specs = vec![
        req(f("requester_name", "text")),
        f("requester_email", "email"),
        f("requester_phone", "tel"),
        req(select("type", options(&l.tr, "ticket-type", TICKET_TYPES))),
        req(f("subject", "text")),
        req(f("body", "textarea")),
    ];
    let mut fields = fields(&l.tr, specs, values, errors);
    for field in fields.iter_mut().filter(|x| x.name.starts_with("requester_")) {
        field.help = None;
    }
    if let Some(field) = fields.iter_mut().find(|x| x.name == "requester_email") {
        field.help = Some(l.tr.t("support-email-or-phone"));
    }
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    with_csrf(st, &csrf, status, render(&SupportPage { l, error, fields }))
}

async fn support_get(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let values = HashMap::from([("type".to_string(), "request".to_string())]);
    support_page(&st, page_locale(&headers), &values, &FieldErrors::new(), None)
}

/// What the public form asks for beyond what the use case checks.
fn support_checks(form: &HashMap<String, String>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let blank = |k: &str| form.get(k).is_none_or(|v| v.trim().is_empty());
    if blank("requester_name") {
        errors.add("requester_name", "field-required");
    }
    if blank("requester_email") && blank("requester_phone") {
        errors.add("requester_email", "support-need-contact");
    }
    if blank("subject") {
        errors.add("subject", "field-required");
    }
    if blank("body") {
        errors.add("body", "field-required");
    } else if form.get("body").is_some_and(|b| b.chars().count() > SUPPORT_BODY_MAX) {
        errors.add("body", "support-body-too-long");
    }
    errors
}

async fn support_post(State(st): State<AppState>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let locale = page_locale(&headers);
    let tr = super::tr(&st, locale);
    if !public_csrf_ok(&headers, &form) {
        return support_page(&st, locale, &form, &FieldErrors::new(), Some(tr.t("csrf-invalid")));
    }
    // A person never sees the honeypot field; whatever fills it is told it went well.
    if form.get("website").is_some_and(|w| !w.trim().is_empty()) {
        return public_message(&st, locale, "support-thanks-title", tr.t("support-thanks-plain"), "/support", StatusCode::OK);
    }
    let errors = support_checks(&form);
    if !errors.is_empty() {
        return support_page(&st, locale, &form, &errors, Some(tr.t("error-validation")));
    }
    let text = |k: &str| nonempty(form.get(k).cloned());
    let input = TicketIn {
        ticket_type: text("type"),
        subject: form.get("subject").cloned(),
        body: text("body"),
        requester_name: text("requester_name"),
        requester_email: text("requester_email"),
        requester_phone: text("requester_phone"),
        ..Default::default()
    };
    match d::submit_request(&st.app, &input).await {
        Ok(t) => {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("reference", t.reference.clone());
            let text = st.i18n.t_args(locale, "support-thanks", Some(&args));
            public_message(&st, locale, "support-thanks-title", text, "/support", StatusCode::OK)
        }
        Err(AppError::Invalid(errors)) => support_page(&st, locale, &form, &errors, Some(tr.t("error-validation"))),
        Err(e) => {
            let (status, key) = error_status(&e);
            let mut r = support_page(&st, locale, &form, &FieldErrors::new(), Some(tr.t(key)));
            *r.status_mut() = status;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    l: Layout,
    action: String,
    reference: String,
    subject: String,
    chosen: i64,
    comment: String,
    error: Option<String>,
    scores: Vec<(i64, String)>,
}

fn rate_form(st: &AppState, locale: &str, token: &str, t: &Ticket, chosen: i64, comment: String, error: Option<String>) -> Response {
    let csrf = auth::secret();
    let l = anon_layout(st, locale, "rate-title", csrf.clone());
    let scores = (1..=5).map(|n| (n, l.tr.t(&format!("rate-score-{n}")))).collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = RatePage {
        l,
        action: format!("/rate/{}", urlencode(token)),
        reference: t.reference.clone(),
        subject: t.subject.clone(),
        chosen,
        comment,
        error,
        scores,
    };
    with_csrf(st, &csrf, status, render(&page))
}

/// The rating link's page: looking never changes anything (mail scanners open links), only
/// pressing a score does.
async fn rate_get(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let locale = page_locale(&headers);
    let t = match d::ticket_for_rating(&st.app, &token).await {
        Ok(t) => t,
        Err(_) => return not_found_page(State(st), headers).await,
    };
    let tr = super::tr(&st, locale);
    if t.rating.is_some() {
        return public_message(&st, locale, "rate-title", tr.t("rating-used"), "/support", StatusCode::OK);
    }
    let chosen = q.get("score").and_then(|s| s.trim().parse().ok()).filter(|n| (1..=5).contains(n)).unwrap_or(0);
    rate_form(&st, locale, &token, &t, chosen, String::new(), None)
}

/// The rating page again, with why the score was not taken.
async fn rate_again(st: &AppState, headers: HeaderMap, token: &str, score: i64, comment: String, key: &str) -> Response {
    let locale = page_locale(&headers);
    let tr = super::tr(st, locale);
    match d::ticket_for_rating(&st.app, token).await {
        Ok(t) if t.rating.is_none() => rate_form(st, locale, token, &t, score, comment, Some(tr.t(key))),
        Ok(_) => public_message(st, locale, "rate-title", tr.t("rating-used"), "/support", StatusCode::OK),
        Err(_) => not_found_page(State(st.clone()), headers).await,
    }
}

async fn rate_post(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let locale = page_locale(&headers);
    let tr = super::tr(&st, locale);
    let score: i64 = form.get("score").and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let comment = form.get("comment").cloned().unwrap_or_default();
    if !public_csrf_ok(&headers, &form) {
        return rate_again(&st, headers, &token, score, comment, "csrf-invalid").await;
    }
    let used = || public_message(&st, locale, "rate-title", tr.t("rating-used"), "/support", StatusCode::OK);
    match d::rate(&st.app, &token, score, nonempty(Some(comment.clone())).as_deref()).await {
        Ok(_) => public_message(&st, locale, "rate-title", tr.t("rate-thanks"), "/support", StatusCode::OK),
        Err(AppError::Refused("rating-used")) => used(),
        Err(AppError::NotFound) => not_found_page(State(st.clone()), headers).await,
        Err(AppError::Invalid(errors)) => {
            let key = errors.0.values().next().cloned().unwrap_or_else(|| "error-validation".into());
            rate_again(&st, headers, &token, score, comment, &key).await
        }
        Err(e) => rate_again(&st, headers, &token, score, comment, error_status(&e).1).await,
    }
}

// ---------------------------------------------------------------- service levels

const LEVELS: &str = "/settings/service-levels";

fn conditions(tr: &Tr, p: &d::SlaPolicy) -> String {
    let part = |key: &str, prefix: Option<&str>, codes: &[String]| {
        (!codes.is_empty()).then(|| {
            let words: Vec<String> = codes.iter().map(|c| prefix.map(|pre| word(tr, pre, c)).unwrap_or_else(|| c.clone())).collect();
            format!("{}: {}", tr.t(key), words.join(", "))
        })
    };
    let parts: Vec<String> = [
        part("field-match-types", Some("ticket-type"), &p.match_types),
        part("field-match-channels", Some("channel"), &p.match_channels),
        part("field-match-priorities", Some("priority"), &p.match_priorities),
        part("field-match-tiers", None, &p.match_tiers),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        tr.t("sla-any-ticket")
    } else {
        parts.join(" · ")
    }
}

fn utc_offset(minutes: i64) -> String {
    let sign = if minutes < 0 { '−' } else { '+' };
    format!("UTC{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

fn policy_section(tr: &Tr, policies: &[d::SlaPolicy], calendars: &[d::BusinessCalendar], may_edit: bool) -> Section {
    let calendar = |id: &Option<String>| match id {
        Some(id) => calendars.iter().find(|c| &c.id == id).map(|c| c.name.clone()).unwrap_or_else(|| id.clone()),
        None => tr.t("calendar-always"),
    };
    let rows = policies
        .iter()
        .map(|p| Row {
            cells: vec![
                p.code.clone(),
                if p.archived { format!("{} ({})", p.name, tr.t("archived")) } else { p.name.clone() },
                word(tr, "team", &p.team),
                span(p.first_response_minutes),
                span(p.resolution_minutes),
                calendar(&p.calendar_id),
                conditions(tr, p),
                format!("{} %", p.warn_percent),
                p.position.to_string(),
            ],
            href: if may_edit { format!("{LEVELS}/policies/{}", p.id) } else { String::new() },
            archived: p.archived,
            total: false,
        })
        .collect();
    let columns = [
        "field-code",
        "field-name",
        "field-team",
        "field-first-response-due",
        "field-resolution-due",
        "field-calendar-id",
        "sla-conditions",
        "field-warn-percent",
        "field-position",
    ]
    .iter()
    .map(|k| tr.t(k))
    .collect();
    Section { title: tr.t("sla-policies"), columns, rows, action: None, num_from: usize::MAX }
}

fn calendar_section(tr: &Tr, calendars: &[d::BusinessCalendar], may_edit: bool) -> Section {
    let rows = calendars
        .iter()
        .map(|c| Row {
            cells: vec![c.name.clone(), c.hours.clone(), utc_offset(c.utc_offset_minutes), c.holidays.join(" ")],
            href: if may_edit { format!("{LEVELS}/calendars/{}", c.id) } else { String::new() },
            archived: false,
            total: false,
        })
        .collect();
    let columns = ["field-name", "field-hours", "sla-time-zone", "field-holidays"].iter().map(|k| tr.t(k)).collect();
    Section { title: tr.t("sla-calendars"), columns, rows, action: None, num_from: usize::MAX }
}

fn compliance_section(tr: &Tr, items: Vec<d::Compliance>) -> Section {
    let rows = items
        .into_iter()
        .map(|c| Row {
            cells: vec![
                word(tr, "team", &c.team),
                c.solved.to_string(),
                c.breached.to_string(),
                format!("{} %", super::format_decimal(&c.compliance_percent, &tr.locale)),
            ],
            href: String::new(),
            archived: false,
            total: false,
        })
        .collect();
    let columns = ["field-team", "sla-solved", "sla-solved-late", "sla-on-time-percent"].iter().map(|k| tr.t(k)).collect();
    Section { title: tr.t("sla-compliance"), columns, rows, action: None, num_from: 1 }
}

async fn levels_page(State(st): State<AppState>, u: PageUser) -> Response {
    let policies = match d::policies(&st.app, u.actor()).await {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let calendars = d::calendars(&st.app, u.actor()).await.unwrap_or_default();
    let tr = u.tr(&st);
    let l = layout(&st, &u, tr.t("nav-service-levels"), LEVELS);
    let t = &l.tr;
    let may_edit = u.actor().can(Action::Update, Resource::ServiceLevels);
    let mut sections = vec![policy_section(t, &policies, &calendars, may_edit), calendar_section(t, &calendars, may_edit)];
    if let Ok(items) = d::compliance(&st.app, u.actor(), &ComplianceParams::default()).await {
        sections.push(compliance_section(t, items));
    }
    let mut links = vec![];
    if u.actor().can(Action::Create, Resource::ServiceLevels) {
        links.push((format!("{LEVELS}/policies/new"), t.t("sla-policy-new")));
        links.push((format!("{LEVELS}/calendars/new"), t.t("sla-calendar-new")));
    }
    links.push(("/tickets".to_string(), t.t("nav-tickets")));
    render(&DetailPage { l, archived: false, links, posts: vec![], facts: vec![], sections, panels: vec![], history: vec![] })
}

/// Which settings form: a policy or a calendar, new (`id` none) or one to change.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Policy,
    Calendar,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Policy => "policies",
            Kind::Calendar => "calendars",
        }
    }
}

async fn level_specs(st: &AppState, u: &PageUser, tr: &Tr, kind: Kind, creating: bool) -> Vec<FieldSpec> {
    match kind {
        Kind::Calendar => vec![req(f("name", "text")), req(f("hours", "text")), f("utc_offset_minutes", "number"), {
            let mut h = f("holidays", "text");
            h.wide = true;
            h
        }],
        Kind::Policy => {
            let cals = d::calendars(&st.app, u.actor()).await.unwrap_or_default().into_iter().map(|c| (c.id, c.name)).collect();
            let mut v = vec![
                req(f("code", "text")),
                req(f("name", "text")),
                req(select("team", options(tr, "team", TEAMS))),
                req(f("first_response_minutes", "number")),
                req(f("resolution_minutes", "number")),
                select("calendar_id", with_blank(tr.t("calendar-always"), cals)),
                f("match_types", "text"),
                f("match_channels", "text"),
                f("match_priorities", "text"),
                f("match_tiers", "text"),
                f("warn_percent", "number"),
                f("position", "number"),
            ];
            if !creating {
                v.push(f("archived", "checkbox"));
            }
            v
        }
    }
}

async fn level_form(
    st: &AppState,
    u: &PageUser,
    kind: Kind,
    id: Option<&str>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let action = if id.is_some() { Action::Update } else { Action::Create };
    if let Err(e) = u.actor().authorize(action, Resource::ServiceLevels) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let title = match (kind, id) {
        (Kind::Policy, None) => tr.t("sla-policy-new"),
        (Kind::Calendar, None) => tr.t("sla-calendar-new"),
        (_, Some(_)) => format!("{} — {}", tr.t("edit"), values.get("name").cloned().unwrap_or_default()),
    };
    let specs = level_specs(st, u, &tr, kind, id.is_none()).await;
    let l = layout(st, u, title, LEVELS);
    let target = format!("{LEVELS}/{}/{}", kind.path(), id.unwrap_or("new"));
    form_response(l, specs, &values, &errors, error, target, LEVELS.into())
}

fn policy_values(p: d::SlaPolicy) -> HashMap<String, String> {
    HashMap::from([
        ("code".into(), p.code),
        ("name".into(), p.name),
        ("team".into(), p.team),
        ("first_response_minutes".into(), p.first_response_minutes.to_string()),
        ("resolution_minutes".into(), p.resolution_minutes.to_string()),
        ("calendar_id".into(), p.calendar_id.unwrap_or_default()),
        ("match_types".into(), p.match_types.join(" ")),
        ("match_channels".into(), p.match_channels.join(" ")),
        ("match_priorities".into(), p.match_priorities.join(" ")),
        ("match_tiers".into(), p.match_tiers.join(" ")),
        ("warn_percent".into(), p.warn_percent.to_string()),
        ("position".into(), p.position.to_string()),
        ("archived".into(), if p.archived { "on".into() } else { String::new() }),
        ("version".into(), p.version.to_string()),
    ])
}

fn calendar_values(c: d::BusinessCalendar) -> HashMap<String, String> {
    HashMap::from([
        ("name".into(), c.name),
        ("hours".into(), c.hours),
        ("utc_offset_minutes".into(), c.utc_offset_minutes.to_string()),
        ("holidays".into(), c.holidays.join(" ")),
        ("version".into(), c.version.to_string()),
    ])
}

async fn level_get(st: AppState, u: PageUser, kind: Kind, id: Option<String>) -> Response {
    let values = match (kind, &id) {
        (Kind::Policy, None) => HashMap::from([
            ("team".to_string(), "front_office".to_string()),
            ("warn_percent".to_string(), "80".to_string()),
            ("position".to_string(), "100".to_string()),
        ]),
        (Kind::Calendar, None) => HashMap::from([
            ("hours".to_string(), "mon-fri 09:00-18:00".to_string()),
            ("utc_offset_minutes".to_string(), "-180".to_string()),
        ]),
        (Kind::Policy, Some(id)) => match d::policies(&st.app, u.actor()).await.map(|ps| ps.into_iter().find(|p| &p.id == id)) {
            Ok(Some(p)) => policy_values(p),
            Ok(None) => return error_page(&st, &u, AppError::NotFound),
            Err(e) => return error_page(&st, &u, e),
        },
        (Kind::Calendar, Some(id)) => match d::calendars(&st.app, u.actor()).await.map(|cs| cs.into_iter().find(|c| &c.id == id)) {
            Ok(Some(c)) => calendar_values(c),
            Ok(None) => return error_page(&st, &u, AppError::NotFound),
            Err(e) => return error_page(&st, &u, e),
        },
    };
    level_form(&st, &u, kind, id.as_deref(), values, FieldErrors::new(), None).await
}

fn policy_input(p: &Posted, creating: bool, errors: &mut FieldErrors) -> SlaPolicyIn {
    SlaPolicyIn {
        code: p.text("code"),
        name: p.text("name"),
        team: nonempty(p.text("team")),
        first_response_minutes: number(p, "first_response_minutes", errors),
        resolution_minutes: number(p, "resolution_minutes", errors),
        calendar_id: p.text("calendar_id"),
        match_types: word_list(p, "match_types"),
        match_priorities: word_list(p, "match_priorities"),
        match_channels: word_list(p, "match_channels"),
        match_tiers: word_list(p, "match_tiers"),
        warn_percent: number(p, "warn_percent", errors),
        position: number(p, "position", errors),
        archived: (!creating).then(|| p.flag("archived")),
        version: p.text("version").and_then(|v| v.trim().parse().ok()),
    }
}

fn calendar_input(p: &Posted, errors: &mut FieldErrors) -> CalendarIn {
    CalendarIn {
        name: p.text("name"),
        hours: p.text("hours"),
        utc_offset_minutes: number(p, "utc_offset_minutes", errors),
        holidays: word_list(p, "holidays"),
        version: p.text("version").and_then(|v| v.trim().parse().ok()),
    }
}

async fn level_post(st: AppState, u: PageUser, kind: Kind, id: Option<String>, form: Vec<(String, String)>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let mut errors = FieldErrors::new();
    let result = match kind {
        Kind::Policy => {
            let input = policy_input(&p, id.is_none(), &mut errors);
            if errors.is_empty() {
                d::save_policy(&st.app, u.actor(), id.as_deref(), &input).await.map(|_| ())
            } else {
                Err(AppError::Invalid(errors))
            }
        }
        Kind::Calendar => {
            let input = calendar_input(&p, &mut errors);
            if errors.is_empty() {
                d::save_calendar(&st.app, u.actor(), id.as_deref(), &input).await.map(|_| ())
            } else {
                Err(AppError::Invalid(errors))
            }
        }
    };
    let tr = u.tr(&st);
    let again = |errors: FieldErrors, key: &str| level_form(&st, &u, kind, id.as_deref(), p.0.clone(), errors, Some(tr.t(key)));
    match result {
        Ok(()) => Redirect::to(&format!("{LEVELS}?ok=saved")).into_response(),
        Err(AppError::Invalid(errors)) => again(errors, "error-validation").await,
        Err(AppError::Conflict) => again(FieldErrors::new(), "error-conflict").await,
        Err(AppError::Refused(k)) => again(FieldErrors::new(), k).await,
        Err(e) => error_page(&st, &u, e),
    }
}

fn level_routes(r: Router<AppState>, kind: Kind) -> Router<AppState> {
    let base = format!("{LEVELS}/{}", kind.path());
    r.route(
        &format!("{base}/new"),
        get(move |State(st): State<AppState>, u: PageUser| level_get(st, u, kind, None))
            .post(move |State(st): State<AppState>, u: PageUser, Form(f): Form<Vec<(String, String)>>| level_post(st, u, kind, None, f)),
    )
    .route(
        &format!("{base}/{{id}}"),
        get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| level_get(st, u, kind, Some(id))).post(
            move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
                level_post(st, u, kind, Some(id), f)
            },
        ),
    )
}

// ---------------------------------------------------------------- routes

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for (name, m) in MOVES {
        let (name, m) = (*name, *m);
        r = r.route(
            &format!("/tickets/{{id}}/{name}"),
            post(
                move |State(st): State<AppState>,
                      u: PageUser,
                      headers: HeaderMap,
                      Path(id): Path<String>,
                      Form(f): Form<Vec<(String, String)>>| { move_post(st, u, headers, id, name, m, f) },
            ),
        );
    }
    r = level_routes(r, Kind::Policy);
    r = level_routes(r, Kind::Calendar);
    r.route("/customers/{id}/interactions", post(interaction_post))
        .route("/tickets", get(tickets_page))
        .route("/tickets/new", get(ticket_new).post(ticket_create))
        .route("/tickets/{id}", get(ticket_page))
        .route("/tickets/{id}/messages", post(reply_post))
        .route("/support", get(support_get).post(support_post).layer(DefaultBodyLimit::max(SUPPORT_FORM_BYTES)))
        .route("/rate/{token}", get(rate_get).post(rate_post))
        .route(LEVELS, get(levels_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(done: bool, breached: bool, paused: bool, warning: bool) -> Target {
        Target { due_at: None, remaining_minutes: 0, breached, warning, paused, done }
    }

    #[test]
    fn badges_say_late_nearly_paused_or_fine() {
        let tr = Tr { catalog: crate::i18n::Catalog::load(), locale: "es".into() };
        assert_eq!(badge(&tr, &target(false, true, true, false)).class, "late");
        assert_eq!(badge(&tr, &target(false, false, true, true)).class, "paused");
        assert_eq!(badge(&tr, &target(false, false, false, true)).class, "warn");
        assert_eq!(badge(&tr, &target(false, false, false, false)).class, "ok");
        assert_eq!(badge(&tr, &target(true, true, false, false)).class, "late");
        assert_eq!(badge(&tr, &target(true, false, false, false)).class, "ok");
    }

    #[test]
    fn spans_and_offsets_read_well() {
        assert_eq!(span(45), "45 min");
        assert_eq!(span(-240), "4 h");
        assert_eq!(span(90), "1 h 30 min");
        assert_eq!(utc_offset(-180), "UTC−03:00");
        assert_eq!(utc_offset(330), "UTC+05:30");
    }
}
