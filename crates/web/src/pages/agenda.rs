//! The agenda pages: a user's (or everyone's) week, day or month of calls, meetings and
//! tasks with a form to plan one and buttons to mark them done; the phone memos with the
//! quick form to take one; the directory of phones and e-mails. Times are shown and typed
//! in the business's local time (its first business-hours calendar); the API speaks UTC.

use super::{error_page, fields, layout, posted, render, urlencode, Field, FieldSpec, Layout, PageUser, Posted, Tr};
use crate::agenda_api::{feed_url, local_time, mail_memo};
use crate::AppState;
use app::agenda::{self as ag, Activity, ActivityIn, ActivityParams, DirectoryParams, MemoIn, MemoParams};
use app::master::{self as m, ListParams, PartyRole};
use app::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::validation::FieldErrors;
use std::collections::HashMap;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

fn opt(tr: &Tr, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes.iter().map(|c| (c.to_string(), tr.t(&format!("{prefix}-{c}")))).collect()
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_day(s: Option<&String>) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    s.and_then(|s| Date::parse(s.trim(), fmt).ok()).filter(|d| (1900..=2999).contains(&d.year()))
}

/// Local midnight of a day, as an instant.
fn midnight(d: Date, offset: UtcOffset) -> OffsetDateTime {
    PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(offset)
}

/// `2026-03-10T14:30` as typed in a form (local time) → RFC 3339.
fn from_local_input(s: &str, offset: UtcOffset) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let fmt_s = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    match PrimitiveDateTime::parse(s, fmt).or_else(|_| PrimitiveDateTime::parse(s, fmt_s)) {
        Ok(t) => Some(app::clock::text(t.assume_offset(offset))),
        // Not a local time: let the use case say what is wrong with it.
        Err(_) => Some(s.to_string()),
    }
}

fn hhmm(utc: &str, offset: UtcOffset) -> String {
    local_time(utc, offset).get(11..16).unwrap_or("").to_string()
}

fn local_date(utc: &str, offset: UtcOffset) -> Option<Date> {
    app::clock::parse(utc).map(|t| t.to_offset(offset).date())
}

// ---------------------------------------------------------------- the agenda

pub struct Item {
    pub id: String,
    pub time: String,
    pub kind: String,
    pub kind_label: String,
    pub subject: String,
    pub customer: Option<(String, String)>,
    pub owner: Option<String>,
    pub done: bool,
    pub minutes: Option<i64>,
}

pub struct Day {
    pub label: String,
    pub date: String,
    pub today: bool,
    /// Outside the month shown (month view).
    pub outside: bool,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "agenda.html")]
struct AgendaPage {
    l: Layout,
    view: String,
    date: String,
    owner: String,
    owners: Vec<(String, String)>,
    views: Vec<(String, String, bool)>,
    prev: String,
    today: String,
    next: String,
    columns: usize,
    days: Vec<Day>,
    reminders: Vec<Item>,
    feed_url: Option<String>,
    feed_since: Option<String>,
    may_create: bool,
    may_update: bool,
    fields: Vec<Field>,
    /// The customers the form offers as the user types.
    customers: Vec<String>,
    error: Option<String>,
    back: String,
}

/// What the agenda shows: which view, around which day, whose.
struct Shown {
    view: &'static str,
    date: Date,
    owner: String,
}

impl Shown {
    fn of(q: &HashMap<String, String>, today: Date) -> Shown {
        let view = match q.get("view").map(String::as_str) {
            Some("day") => "day",
            Some("month") => "month",
            _ => "week",
        };
        let owner = q.get("owner").map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).unwrap_or_else(|| "me".into());
        Shown { view, date: parse_day(q.get("date")).unwrap_or(today), owner }
    }

    /// The days shown: a day, a week from Monday, or the weeks that hold the month.
    fn days(&self) -> (Date, Date) {
        let monday = |d: Date| d - Duration::days(i64::from(d.weekday().number_days_from_monday()));
        match self.view {
            "day" => (self.date, self.date + Duration::days(1)),
            "month" => {
                let first = self.date.replace_day(1).unwrap_or(self.date);
                let next_month = if first.month() == time::Month::December {
                    Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
                } else {
                    Date::from_calendar_date(first.year(), first.month().next(), 1)
                }
                .unwrap_or(first + Duration::days(31));
                let last = next_month - Duration::days(1);
                (monday(first), monday(last) + Duration::days(7))
            }
            _ => (monday(self.date), monday(self.date) + Duration::days(7)),
        }
    }

    fn step(&self, forward: bool) -> Date {
        let sign = if forward { 1 } else { -1 };
        match self.view {
            "day" => self.date + Duration::days(sign),
            "month" => {
                let first = self.date.replace_day(1).unwrap_or(self.date);
                if forward { first + Duration::days(32) } else { first - Duration::days(1) }.replace_day(1).unwrap_or(first)
            }
            _ => self.date + Duration::days(7 * sign),
        }
    }

    fn href(&self, view: &str, date: Date) -> String {
        format!("/agenda?view={view}&date={}&owner={}", ymd(date), urlencode(&self.owner))
    }
}

fn weekday_key(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "weekday-mon",
        Weekday::Tuesday => "weekday-tue",
        Weekday::Wednesday => "weekday-wed",
        Weekday::Thursday => "weekday-thu",
        Weekday::Friday => "weekday-fri",
        Weekday::Saturday => "weekday-sat",
        Weekday::Sunday => "weekday-sun",
    }
}

fn item(tr: &Tr, a: &Activity, offset: UtcOffset, show_owner: bool) -> Item {
    Item {
        id: a.id.clone(),
        time: hhmm(&a.starts_at, offset),
        kind: a.kind.clone(),
        kind_label: tr.t(&format!("activity-kind-{}", a.kind)),
        subject: a.subject.clone(),
        customer: a.customer_id.clone().zip(a.customer_name.clone()),
        owner: show_owner.then(|| a.owner_name.clone()),
        done: a.done,
        minutes: a.duration_minutes.filter(|m| *m > 0),
    }
}

fn activity_specs(tr: &Tr, owners: Vec<(String, String)>) -> Vec<FieldSpec> {
    let mut subject = super::req(super::f("subject", "text"));
    subject.wide = true;
    let reminders = [("", "—"), ("0", "0"), ("5", "5"), ("15", "15"), ("30", "30"), ("60", "60"), ("1440", "1440")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vec![
        super::select("kind", opt(tr, "activity-kind", ag_kinds())),
        subject,
        super::req(super::f("starts_at", "datetime-local")),
        super::f("duration_minutes", "number"),
        super::f("customer", "customer"),
        super::select("owner_id", owners),
        super::select("reminder_minutes_before", reminders),
        super::f("notes", "textarea"),
    ]
}

fn ag_kinds() -> &'static [&'static str] {
    domain::agenda::ACTIVITY_KINDS
}

async fn customer_names(st: &AppState, u: &PageUser) -> Vec<String> {
    if !u.actor().can(Action::Read, Resource::Customers) {
        return vec![];
    }
    m::list_parties(&st.app, u.actor(), PartyRole::Customer, &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

/// The agenda page, with the form's values and errors when a new activity was refused, and
/// a new feed address when one was just made.
async fn agenda_response(
    st: &AppState,
    u: &PageUser,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    form: Option<(&Posted, FieldErrors)>,
    new_feed: Option<String>,
) -> Response {
    let offset = ag::local_offset(&st.app).await.unwrap_or(UtcOffset::UTC);
    let today = OffsetDateTime::now_utc().to_offset(offset).date();
    let shown = Shown::of(q, today);
    let (first, end) = shown.days();
    let params = ActivityParams {
        from: Some(app::clock::text(midnight(first, offset))),
        to: Some(app::clock::text(midnight(end, offset))),
        owner: Some(shown.owner.clone()),
        limit: Some(500),
        ..Default::default()
    };
    let found = match ag::list_activities(&st.app, u.actor(), &params).await {
        Ok(p) => p.items,
        Err(AppError::Invalid(_)) => vec![],
        Err(e) => return error_page(st, u, e),
    };
    let colleagues = ag::colleagues(&st.app, u.actor()).await.unwrap_or_default();
    let tr = u.tr(st);
    let whose = match shown.owner.as_str() {
        "me" => u.actor().display_name.clone(),
        "all" => tr.t("agenda-everyone"),
        o => colleagues.iter().find(|c| c.id == o || c.username == o).map(|c| c.display_name.clone()).unwrap_or_default(),
    };
    let l = layout(st, u, format!("{} — {whose}", tr.t("nav-agenda")), "/agenda");
    let show_owner = shown.owner == "all";
    let mut days = Vec::new();
    let mut d = first;
    while d < end {
        let items =
            found.iter().filter(|a| local_date(&a.starts_at, offset) == Some(d)).map(|a| item(&l.tr, a, offset, show_owner)).collect();
        days.push(Day {
            label: format!("{} {}", l.tr.t(weekday_key(d.weekday())), d.day()),
            date: ymd(d),
            today: d == today,
            outside: shown.view == "month" && d.month() != shown.date.month(),
            items,
        });
        d += Duration::days(1);
    }
    let reminders = ag::due_reminders(&st.app, u.actor()).await.unwrap_or_default().iter().map(|a| item(&l.tr, a, offset, false)).collect();
    let (feed_url, feed_since) = match new_feed {
        Some(url) => (Some(url), None),
        None => match ag::calendar_feed(&st.app, u.actor()).await {
            Ok(f) => (f.token.map(|t| feed_url(headers, &t)), Some(local_time(&f.created_at, offset))),
            Err(_) => (None, None),
        },
    };
    let mut owners = vec![("me".to_string(), l.tr.t("agenda-me")), ("all".to_string(), l.tr.t("agenda-everyone"))];
    owners.extend(colleagues.iter().map(|c| (c.id.clone(), c.display_name.clone())));
    let form_owners: Vec<(String, String)> = colleagues.iter().map(|c| (c.id.clone(), c.display_name.clone())).collect();
    let (values, errors, refused) = match form {
        Some((p, e)) => (p.0.clone(), e, true),
        None => {
            let start = if shown.date == today {
                // The next full hour.
                let now = OffsetDateTime::now_utc().to_offset(offset);
                let t = now.replace_minute(0).unwrap_or(now).replace_second(0).unwrap_or(now) + Duration::hours(1);
                format!("{}T{:02}:00", ymd(t.date()), t.hour())
            } else {
                format!("{}T09:00", ymd(shown.date))
            };
            let mut v = HashMap::from([
                ("kind".to_string(), "call".to_string()),
                ("starts_at".to_string(), start),
                ("duration_minutes".to_string(), "30".to_string()),
                ("reminder_minutes_before".to_string(), "15".to_string()),
            ]);
            if let Some(me) = &u.actor().user_id {
                v.insert("owner_id".into(), me.clone());
            }
            (v, FieldErrors::new(), false)
        }
    };
    let specs = activity_specs(&l.tr, form_owners);
    let mut fields = fields(&l.tr, specs, &values, &errors);
    for f in fields.iter_mut().filter(|f| f.name == "customer") {
        f.error = errors.0.get("customer_id").or_else(|| errors.0.get("contact_id")).map(|k| l.tr.t(k)).or(f.error.take());
    }
    for f in fields.iter_mut().filter(|f| f.name == "duration_minutes") {
        f.error = errors.0.get("ends_at").map(|k| l.tr.t(k)).or(f.error.take());
    }
    let error = refused.then(|| l.tr.t("error-validation"));
    let views = ["day", "week", "month"]
        .iter()
        .map(|v| (shown.href(v, shown.date), l.tr.t(&format!("agenda-view-{v}")), *v == shown.view))
        .collect();
    let back = shown.href(shown.view, shown.date);
    let may_create = u.actor().can(Action::Create, Resource::Interactions);
    let customers = if may_create { customer_names(st, u).await } else { vec![] };
    let page = AgendaPage {
        view: shown.view.to_string(),
        date: ymd(shown.date),
        owner: shown.owner.clone(),
        owners,
        views,
        prev: shown.href(shown.view, shown.step(false)),
        today: shown.href(shown.view, today),
        next: shown.href(shown.view, shown.step(true)),
        columns: if shown.view == "day" { 1 } else { 7 },
        days,
        reminders,
        feed_url,
        feed_since,
        may_create,
        customers,
        may_update: u.actor().can(Action::Update, Resource::Interactions),
        fields,
        error,
        back,
        l,
    };
    let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

async fn agenda_page(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Read, Resource::Interactions) {
        return error_page(&st, &u, e);
    }
    agenda_response(&st, &u, &headers, &q, None, None).await
}

/// Where to go back after a button: a page of the agenda, nothing else.
fn back_to(p: &Posted, ok: &str) -> String {
    let back = p.text("back").filter(|b| b.starts_with("/agenda?") && !b.contains("//")).unwrap_or_else(|| "/agenda?".into());
    format!("{back}&ok={ok}")
}

async fn activity_post(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let offset = ag::local_offset(&st.app).await.unwrap_or(UtcOffset::UTC);
    // A name that names no customer (or several) goes on as a bad id: the use case checks
    // every field at once and nothing is stored.
    let mut ambiguous = false;
    let customer_id = match p.text("customer").filter(|c| !c.trim().is_empty()) {
        Some(c) => match super::sales::resolve_customer(&st, &u, &c).await {
            Some(id) if id == "ambiguous" => {
                ambiguous = true;
                Some(id)
            }
            Some(id) => Some(id),
            None => Some("unknown".into()),
        },
        None => None,
    };
    let number = |k: &str| -> Option<Option<i64>> {
        match p.text(k).map(|v| v.trim().to_string()) {
            None => None,
            Some(v) if v.is_empty() => Some(None),
            // Not a whole number: -1 makes the use case answer with its own message.
            Some(v) => Some(Some(v.parse().unwrap_or(-1))),
        }
    };
    let input = ActivityIn {
        kind: p.text("kind"),
        subject: p.text("subject"),
        notes: p.text("notes"),
        starts_at: p.text("starts_at").and_then(|s| from_local_input(&s, offset)),
        duration_minutes: number("duration_minutes"),
        owner_id: p.text("owner_id").filter(|o| !o.is_empty()),
        customer_id,
        reminder_minutes_before: number("reminder_minutes_before"),
        ..Default::default()
    };
    let q: HashMap<String, String> =
        ["view", "date", "owner"].iter().filter_map(|k| p.text(&format!("shown_{k}")).map(|v| (k.to_string(), v))).collect();
    match ag::create_activity(&st.app, u.actor(), &input).await {
        Ok(a) => {
            let day = local_date(&a.starts_at, offset).map(ymd).unwrap_or_default();
            let view = q.get("view").cloned().unwrap_or_else(|| "week".into());
            let owner = q.get("owner").cloned().unwrap_or_else(|| "me".into());
            Redirect::to(&format!("/agenda?view={view}&date={day}&owner={}&ok=activity-created", urlencode(&owner))).into_response()
        }
        Err(AppError::Invalid(mut e)) => {
            if ambiguous {
                e.0.insert("customer_id".into(), "customer-ambiguous".into());
            }
            agenda_response(&st, &u, &headers, &q, Some((&p, e)), None).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn done_post(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(form): Form<Vec<(String, String)>>) -> Response {
    mark(st, u, id, form, true).await
}

async fn undone_post(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(form): Form<Vec<(String, String)>>) -> Response {
    mark(st, u, id, form, false).await
}

async fn mark(st: AppState, u: PageUser, id: String, form: Vec<(String, String)>, done: bool) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    match ag::set_done(&st.app, u.actor(), &id, done).await {
        Ok(_) => Redirect::to(&back_to(&p, if done { "activity-done" } else { "activity-undone" })).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

/// A new feed address, shown on the agenda (once).
async fn feed_post(State(st): State<AppState>, u: PageUser, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    match ag::regenerate_feed(&st.app, u.actor()).await {
        Ok(f) => {
            let url = feed_url(&headers, &f.token.unwrap_or_default());
            agenda_response(&st, &u, &headers, &HashMap::new(), None, Some(url)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- phone memos

pub struct MemoCard {
    pub id: String,
    pub caller: String,
    pub company: String,
    pub phone: String,
    pub message: String,
    pub urgency: String,
    pub urgency_label: String,
    pub agreed: String,
    pub taken: String,
    pub customer: Option<String>,
    pub delivery_error: Option<String>,
}

#[derive(Template)]
#[template(path = "memos.html")]
struct MemosPage {
    l: Layout,
    unread: Vec<MemoCard>,
    read: Vec<MemoCard>,
    may_create: bool,
    fields: Vec<Field>,
    error: Option<String>,
}

async fn memos_response(st: &AppState, u: &PageUser, form: Option<(&Posted, FieldErrors)>) -> Response {
    let offset = ag::local_offset(&st.app).await.unwrap_or(UtcOffset::UTC);
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("nav-memos"), "/memos");
    let card = |m: app::agenda::Memo| MemoCard {
        urgency_label: l.tr.t(&format!("urgency-{}", m.urgency)),
        agreed: m.agreed.as_deref().map(|a| l.tr.t(&format!("agreed-{a}"))).unwrap_or_default(),
        taken: format!("{} · {}", local_time(&m.taken_at, offset), m.taken_by),
        id: m.id,
        caller: m.caller,
        company: m.company.unwrap_or_default(),
        phone: m.phone.unwrap_or_default(),
        message: m.message.unwrap_or_default(),
        urgency: m.urgency,
        customer: m.customer_id,
        delivery_error: m.delivery_error,
    };
    let list = |unread: bool, limit: i64| MemoParams { unread: Some(unread.to_string()), limit: Some(limit), ..Default::default() };
    let unread: Vec<MemoCard> = match ag::list_memos(&st.app, u.actor(), &list(true, 200)).await {
        Ok(p) => p.items.into_iter().map(card).collect(),
        Err(e) => return error_page(st, u, e),
    };
    let read: Vec<MemoCard> = ag::list_memos(&st.app, u.actor(), &list(false, 50))
        .await
        .map(|p| p.items.into_iter().filter(|m| m.read).map(card).collect())
        .unwrap_or_default();
    let may_create = u.actor().can(Action::Create, Resource::Interactions);
    let recipients: Vec<(String, String)> = std::iter::once((String::new(), "—".to_string()))
        .chain(ag::colleagues(&st.app, u.actor()).await.unwrap_or_default().into_iter().map(|c| (c.id, c.display_name)))
        .collect();
    let mut caller = super::req(super::f("caller", "text"));
    caller.wide = false;
    let mut agreed = vec![(String::new(), "—".to_string())];
    agreed.extend(opt(&l.tr, "agreed", domain::agenda::AGREED));
    let specs = vec![
        super::req(super::select("for_user", recipients)),
        caller,
        super::f("company", "text"),
        super::f("phone", "tel"),
        super::select("urgency", opt(&l.tr, "urgency", domain::agenda::URGENCIES)),
        super::select("agreed", agreed),
        super::f("message", "textarea"),
    ];
    let (values, errors, refused) = match form {
        Some((p, e)) => (p.0.clone(), e, true),
        None => (HashMap::from([("urgency".to_string(), "normal".to_string())]), FieldErrors::new(), false),
    };
    let fields = fields(&l.tr, specs, &values, &errors);
    let error = refused.then(|| l.tr.t("error-validation"));
    let status = if refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&MemosPage { l, unread, read, may_create, fields, error })).into_response()
}

async fn memos_page(State(st): State<AppState>, u: PageUser) -> Response {
    memos_response(&st, &u, None).await
}

async fn memo_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = MemoIn {
        for_user: p.text("for_user"),
        caller: p.text("caller"),
        company: p.text("company"),
        phone: p.text("phone"),
        message: p.text("message"),
        urgency: p.text("urgency"),
        agreed: p.text("agreed"),
        ..Default::default()
    };
    match ag::take_memo(&st.app, u.actor(), &input).await {
        Ok(mut taken) => {
            mail_memo(&st, &mut taken).await;
            Redirect::to("/memos?ok=memo-taken").into_response()
        }
        Err(AppError::Invalid(e)) => memos_response(&st, &u, Some((&p, e))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

async fn memo_read_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    match ag::read_memo(&st.app, u.actor(), &id).await {
        Ok(_) => Redirect::to("/memos?ok=memo-read").into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- directory

pub struct Entry {
    pub name: String,
    pub href: Option<String>,
    pub kind: String,
    pub organisation: String,
    pub phones: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    l: Layout,
    q: String,
    columns: Vec<String>,
    entries: Vec<Entry>,
    next: Option<String>,
}

async fn directory_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = DirectoryParams { q: q.get("q").cloned(), cursor: q.get("cursor").cloned(), limit: Some(50) };
    let page = match ag::directory(&st.app, u.actor(), &params).await {
        Ok(p) => p,
        Err(AppError::Invalid(_)) => {
            ag::directory(&st.app, u.actor(), &DirectoryParams::default()).await.unwrap_or(m::Page { items: vec![], next_cursor: None })
        }
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, tr.t("nav-directory"), "/directory");
    let columns = ["field-name", "field-kind", "field-organisation", "field-phones", "field-email"].iter().map(|k| l.tr.t(k)).collect();
    let entries = page
        .items
        .into_iter()
        .map(|e| Entry {
            href: match e.kind.as_str() {
                "customer" => Some(format!("/customers/{}", e.id)),
                "supplier" => Some(format!("/suppliers/{}", e.id)),
                "contact" => Some(format!("/contacts/{}", e.id)),
                _ => None,
            },
            kind: l.tr.t(&format!("kind-{}", e.kind)),
            name: e.name,
            organisation: e.organisation.unwrap_or_default(),
            phones: e.phones.join(" · "),
            email: e.email.unwrap_or_default(),
        })
        .collect();
    let search = q.get("q").cloned().unwrap_or_default();
    let next = page.next_cursor.map(|c| format!("/directory?q={}&cursor={c}", urlencode(&search)));
    render(&DirectoryPage { l, q: search, columns, entries, next })
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/agenda", get(agenda_page))
        .route("/agenda/new", post(activity_post))
        .route("/agenda/feed", post(feed_post))
        .route("/agenda/{id}/done", post(done_post))
        .route("/agenda/{id}/undone", post(undone_post))
        .route("/memos", get(memos_page))
        .route("/memos/new", post(memo_post))
        .route("/memos/{id}/read", post(memo_read_post))
        .route("/directory", get(directory_page))
}
