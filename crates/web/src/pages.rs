//! The pages people use: server-rendered HTML, Spanish by default, one generic set of
//! list/detail/form pages over every master-data kind (the `Page` trait says what each
//! kind shows), plus log-in, first-run setup, search, company, tokens and audit.

use crate::api::{self, Crud};
use crate::i18n::{from_accept_language, Catalog};
use crate::AppState;
use app::auth::{self, Session, User, UserInput};
use app::master::{self as m, ListParams, PartyRole};
use app::transfer::{ExportFormat, ImportKind, ImportOptions};
use app::{Actor, App, AppError, AppResult};
use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource, Role};
use domain::validation::FieldErrors;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

mod agenda;
mod analytics;
mod desk;
mod manufacturing;
mod pipeline;
mod purchasing;
mod sales;
mod stock;

const SESSION_COOKIE: &str = "tendero_session";
const CSRF_COOKIE: &str = "tendero_csrf";

// ---------------------------------------------------------------- layout

pub struct Tr {
    catalog: Arc<Catalog>,
    pub locale: String,
}

impl Tr {
    pub fn t(&self, key: &str) -> String {
        self.catalog.t(&self.locale, key)
    }
}

pub struct UserInfo {
    pub display_name: String,
    pub role_label: String,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

pub struct Layout {
    pub tr: Tr,
    pub title: String,
    pub user: Option<UserInfo>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub q: String,
    pub flash: Option<String>,
}

/// The areas in the navigation, each shown only to who may read it.
const AREAS: &[(&str, &str, Resource)] = &[
    ("/customers", "nav-customers", Resource::Customers),
    ("/suppliers", "nav-suppliers", Resource::Suppliers),
    ("/contacts", "nav-contacts", Resource::Contacts),
    ("/tickets", "nav-tickets", Resource::Tickets),
    ("/agenda", "nav-agenda", Resource::Interactions),
    // Everyone reads the memos left for them.
    ("/memos", "nav-memos", Resource::Company),
    ("/directory", "nav-directory", Resource::Contacts),
    ("/salespeople", "nav-salespeople", Resource::Salespeople),
    ("/products", "nav-products", Resource::Products),
    ("/tax-rates", "nav-tax-rates", Resource::TaxRates),
    ("/pipeline", "nav-pipeline", Resource::Pipeline),
    ("/orders", "nav-sales", Resource::Sales),
    ("/invoices", "nav-invoices", Resource::Invoices),
    ("/receivables", "nav-receivables", Resource::Invoices),
    ("/purchase-orders", "nav-purchasing", Resource::Purchases),
    ("/payables", "nav-payables", Resource::Payables),
    ("/stock", "nav-stock", Resource::Stock),
    ("/transfers", "nav-transfers", Resource::Stock),
    ("/stock-counts", "nav-stock-counts", Resource::Stock),
    ("/production", "nav-production", Resource::Production),
    ("/replenishment", "nav-replenishment", Resource::Stock),
    ("/reports/sales", "nav-reports", Resource::Receipts),
    ("/dashboard", "nav-dashboard", Resource::Analytics),
    ("/company", "nav-company", Resource::Company),
    ("/users", "nav-users", Resource::Users),
    ("/tokens", "nav-tokens", Resource::ApiTokens),
    ("/audit", "nav-audit", Resource::Audit),
    ("/settings/service-levels", "nav-service-levels", Resource::ServiceLevels),
];

fn tr(s: &AppState, locale: &str) -> Tr {
    Tr { catalog: s.i18n.clone(), locale: locale.to_string() }
}

fn layout(s: &AppState, u: &PageUser, title: String, active: &str) -> Layout {
    let tr = tr(s, &u.session.actor.locale);
    let mut nav = vec![NavItem { href: "/", label: tr.t("nav-home"), active: active == "/" }];
    nav.extend(AREAS.iter().filter(|(_, _, r)| u.session.actor.can(Action::Read, *r)).map(|(href, key, _)| NavItem {
        href,
        label: tr.t(key),
        active: *href == active,
    }));
    Layout {
        user: Some(UserInfo {
            display_name: u.session.actor.display_name.clone(),
            role_label: tr.t(&format!("role-{}", u.session.actor.role.code())),
        }),
        csrf: u.session.csrf.clone(),
        nav,
        q: String::new(),
        flash: u.flash.as_deref().map(|f| tr.t(&format!("flash-{f}"))),
        title,
        tr,
    }
}

fn anon_layout(s: &AppState, locale: &str, title_key: &str, csrf: String) -> Layout {
    let tr = tr(s, locale);
    Layout { title: tr.t(title_key), user: None, csrf, nav: vec![], q: String::new(), flash: None, tr }
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    text: String,
    secret: Option<String>,
    back: String,
}

/// A page for an error that is not about a form's fields.
fn error_page(s: &AppState, u: &PageUser, e: AppError) -> Response {
    let (status, key) = error_status(&e);
    let l = layout(s, u, s.i18n.t(&u.session.actor.locale, "error-title"), "");
    let text = l.tr.t(key);
    (status, render(&MessagePage { l, text, secret: None, back: "/".into() })).into_response()
}

/// The answer's status for an error and the key of its message (logged when internal).
fn error_status(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::Forbidden => (StatusCode::FORBIDDEN, "error-forbidden"),
        AppError::NotFound => (StatusCode::NOT_FOUND, "error-not-found"),
        AppError::Conflict => (StatusCode::CONFLICT, "error-conflict"),
        AppError::Refused(k) => (StatusCode::CONFLICT, *k),
        AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "error-validation"),
        AppError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "error-throttled"),
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "error-unauthenticated"),
        AppError::Internal(d) => {
            tracing::error!(detail = %d, "internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
        }
    }
}

// ---------------------------------------------------------------- sessions

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(s: &AppState, name: &str, value: &str, max_age: i64) -> (header::HeaderName, HeaderValue) {
    let secure = if s.secure_cookies { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    (header::SET_COOKIE, HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("")))
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A logged-in person. Without a session, pages redirect to the log-in page.
pub struct PageUser {
    pub session: Session,
    pub flash: Option<String>,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_login()) };
        match auth::session(&s.app, &secret).await {
            Ok(Some(session)) => {
                let flash = parts
                    .uri
                    .query()
                    .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ok=")))
                    .map(|f| f.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(30).collect());
                Ok(PageUser { session, flash })
            }
            Ok(None) => Err(to_login()),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err((StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response())
            }
        }
    }
}

impl PageUser {
    fn actor(&self) -> &Actor {
        &self.session.actor
    }
    fn tr(&self, s: &AppState) -> Tr {
        tr(s, &self.session.actor.locale)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A posted form: its fields, after the CSRF token was checked.
pub struct Posted(pub HashMap<String, String>);

fn posted(u: &PageUser, form: Vec<(String, String)>) -> Result<Posted, AppError> {
    let map: HashMap<String, String> = form.into_iter().collect();
    match map.get("_csrf") {
        Some(t) if same_secret(t, &u.session.csrf) => Ok(Posted(map)),
        _ => Err(AppError::Refused("csrf-invalid")),
    }
}

impl Posted {
    /// A text field as sent (present but empty means "clear it").
    fn text(&self, k: &str) -> Option<String> {
        self.0.get(k).cloned()
    }
    fn flag(&self, k: &str) -> bool {
        self.0.get(k).is_some_and(|v| v == "on" || v == "true")
    }
}

// ---------------------------------------------------------------- forms

pub struct FieldSpec {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub wide: bool,
    pub options: Vec<(String, String)>,
}

fn f(name: &'static str, kind: &'static str) -> FieldSpec {
    FieldSpec { name, kind, required: false, wide: matches!(kind, "textarea"), options: vec![] }
}

fn req(mut spec: FieldSpec) -> FieldSpec {
    spec.required = true;
    spec
}

fn select(name: &'static str, options: Vec<(String, String)>) -> FieldSpec {
    FieldSpec { name, kind: "select", required: false, wide: false, options }
}

pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    pub wide: bool,
    pub options: Vec<(String, String)>,
    pub help: Option<String>,
}

fn label_key(name: &str) -> String {
    format!("field-{}", name.replace('_', "-"))
}

fn fields(tr: &Tr, specs: Vec<FieldSpec>, values: &HashMap<String, String>, errors: &FieldErrors) -> Vec<Field> {
    specs
        .into_iter()
        .map(|s| {
            let help_key = format!("help-{}", s.name.replace('_', "-"));
            let help = tr.catalog.has(&help_key).then(|| tr.t(&help_key));
            Field {
                label: tr.t(&label_key(s.name)),
                value: values.get(s.name).cloned().unwrap_or_default(),
                error: errors.0.get(s.name).map(|k| tr.t(k)),
                name: s.name,
                kind: s.kind,
                required: s.required,
                wide: s.wide,
                options: s.options,
                help,
            }
        })
        .collect()
}

/// A record's fields as the text a form shows: `serde_json` gives every kind the same
/// shape, so one function serves them all.
fn values_of<T: serde::Serialize>(t: &T) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(t) {
        for (k, v) in map {
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => {
                    if b {
                        "on".into()
                    } else {
                        String::new()
                    }
                }
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => {
                    items.iter().map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| i.to_string())).collect::<Vec<_>>().join(", ")
                }
                other => other.to_string(),
            };
            out.insert(k, text);
        }
    }
    out
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    l: Layout,
    logo_card: bool,
    has_logo: bool,
    error: Option<String>,
    action: String,
    cancel: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
}

// ---------------------------------------------------------------- the generic pages

pub struct Row {
    pub cells: Vec<String>,
    pub href: String,
    pub archived: bool,
    /// A totals row, shown in bold.
    pub total: bool,
}

/// A typed value, none when left blank.
fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl Row {
    /// A row of plain cells: no link, not archived, not a total.
    pub fn plain(cells: Vec<String>) -> Row {
        Row { cells, href: String::new(), archived: false, total: false }
    }
}

pub struct Section {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub action: Option<(String, String)>,
    /// Columns from this one on hold numbers (aligned right).
    pub num_from: usize,
}

/// What a master-data kind shows in the pages, on top of what the API serves.
pub trait Page: Crud {
    /// Where its pages live, e.g. `/customers`.
    const BASE: &'static str;
    const TITLE: &'static str;
    const NEW: &'static str;
    /// The fields shown in the list, after the first (the name, a link).
    const COLUMNS: &'static [&'static str];
    fn id(o: &Self::Out) -> String;
    fn name(o: &Self::Out) -> String;
    fn archived(o: &Self::Out) -> bool;
    fn form(app: &App, actor: &Actor, creating: bool) -> impl Future<Output = AppResult<Vec<FieldSpec>>> + Send;
    fn input(p: &Posted, creating: bool) -> Self::In;
    fn restore() -> Self::In;
    fn defaults() -> HashMap<String, String> {
        HashMap::new()
    }
    /// Whether the kind can be imported and exported as a spreadsheet.
    const TRANSFER: Option<ImportKind> = None;
    fn sections(_app: &App, _actor: &Actor, _tr: &Tr, _o: &Self::Out) -> impl Future<Output = AppResult<Vec<Section>>> + Send {
        async { Ok(vec![]) }
    }
    /// Blocks of the record's page past its sections (see `DetailPage::panels`), given the
    /// page's query and what a refused form on the page had typed.
    fn panels(
        _s: &AppState,
        _u: &PageUser,
        _o: &Self::Out,
        _q: &HashMap<String, String>,
        _typed: Option<&Typed>,
    ) -> impl Future<Output = Vec<String>> + Send {
        async { vec![] }
    }
}

/// A form on a record's page that was refused: what was typed, and why not.
pub struct Typed {
    pub values: HashMap<String, String>,
    pub errors: FieldErrors,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    l: Layout,
    actions: Vec<(String, String)>,
    /// Tabs that filter the list (customers: by lifecycle): link, label, active.
    tabs: Vec<(String, String, bool)>,
    /// The lifecycle the list is filtered by, kept by the search form.
    lifecycle: String,
    q: String,
    archived: bool,
    columns: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
}

fn crate_lifecycles() -> &'static [&'static str] {
    app::crm::LIFECYCLES
}

fn money_or_text(tr: &Tr, field: &str, v: &str) -> String {
    if matches!(field, "sale_price" | "cost" | "credit_limit") && !v.is_empty() {
        format_decimal(v, &tr.locale)
    } else if v == "on" {
        tr.t("yes")
    } else {
        v.to_string()
    }
}

/// `1234567.50` as people read it: `1.234.567,50` in Spanish, `1,234,567.50` in English.
pub fn format_decimal(v: &str, locale: &str) -> String {
    let (sign, digits) = v.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", v));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let (group, point) = if locale == "en" { (',', '.') } else { ('.', ',') };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{point}{frac}")
    }
}

async fn list_page<P: Page>(State(s): State<AppState>, u: PageUser, Query(p): Query<HashMap<String, String>>) -> Response {
    let params = ListParams {
        q: p.get("q").cloned(),
        cursor: p.get("cursor").cloned(),
        archived: Some(p.get("archived").is_some_and(|v| v == "true")),
        party_id: p.get("party_id").cloned(),
        lifecycle: p.get("lifecycle").cloned(),
        limit: Some(50),
    };
    let page = match P::list(&s.app, u.actor(), &params).await {
        Ok(page) => page,
        Err(AppError::Invalid(_)) => {
            P::list(&s.app, u.actor(), &ListParams::default()).await.unwrap_or(m::Page { items: vec![], next_cursor: None })
        }
        Err(e) => return error_page(&s, &u, e),
    };
    let mut l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, P::TITLE), P::BASE);
    let mut columns = vec![l.tr.t("field-name")];
    columns.extend(P::COLUMNS.iter().map(|c| l.tr.t(&label_key(c))));
    let rows = page
        .items
        .iter()
        .map(|o| {
            let v = values_of(o);
            let mut cells = vec![P::name(o)];
            cells.extend(P::COLUMNS.iter().map(|c| money_or_text(&l.tr, c, v.get(*c).map(String::as_str).unwrap_or(""))));
            Row { cells, href: format!("{}/{}", P::BASE, P::id(o)), archived: P::archived(o), total: false }
        })
        .collect();
    let q = params.q.clone().unwrap_or_default();
    let lifecycle = params.lifecycle.clone().filter(|l| crate_lifecycles().contains(&l.as_str()));
    let next = page.next_cursor.map(|c| {
        let extra = lifecycle.as_deref().map(|l| format!("&lifecycle={l}")).unwrap_or_default();
        format!("{}?q={}&cursor={}{}{extra}", P::BASE, urlencode(&q), c, if params.archived == Some(true) { "&archived=true" } else { "" })
    });
    // Customers by lifecycle: prospects to win, active ones, deserters to win back.
    let tabs = if P::BASE == "/customers" {
        let mut tabs = vec![(P::BASE.to_string(), l.tr.t("lifecycle-all"), lifecycle.is_none())];
        tabs.extend(
            crate_lifecycles()
                .iter()
                .map(|c| (format!("{}?lifecycle={c}", P::BASE), l.tr.t(&format!("lifecycle-{c}")), lifecycle.as_deref() == Some(*c))),
        );
        tabs
    } else {
        Vec::new()
    };
    let mut actions = vec![];
    if u.actor().can(Action::Create, P::RESOURCE) {
        actions.push((format!("{}/new", P::BASE), l.tr.t(P::NEW)));
    }
    if P::TRANSFER.is_some() {
        if u.actor().can(Action::Create, P::RESOURCE) || u.actor().can(Action::Update, P::RESOURCE) {
            actions.push((format!("{}/import", P::BASE), l.tr.t("import-title")));
        }
        actions.push((format!("{}/export.csv", P::BASE), l.tr.t("export-csv")));
        actions.push((format!("{}/export.xlsx", P::BASE), l.tr.t("export-xlsx")));
    } else if P::BASE == "/contacts" {
        actions.push(("/contacts/export.vcf".to_string(), l.tr.t("export-vcard")));
    }
    l.q = String::new();
    let lifecycle = lifecycle.unwrap_or_default();
    render(&ListPage { l, actions, tabs, lifecycle, q, archived: params.archived == Some(true), columns, rows, next })
}

async fn form_page<P: Page>(
    s: &AppState,
    u: &PageUser,
    id: Option<&str>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let creating = id.is_none();
    let specs = match P::form(&s.app, u.actor(), creating).await {
        Ok(f) => f,
        Err(e) => return error_page(s, u, e),
    };
    let tr = u.tr(s);
    let title = if creating {
        tr.t(P::NEW)
    } else {
        format!("{} — {}", tr.t("edit"), values.get("name").or_else(|| values.get("username")).cloned().unwrap_or_default())
    };
    let l = layout(s, u, title, P::BASE);
    let fields = fields(&l.tr, specs, &values, &errors);
    let (action, cancel) = match id {
        None => (format!("{}/new", P::BASE), P::BASE.to_string()),
        Some(id) => (format!("{}/{id}/edit", P::BASE), format!("{}/{id}", P::BASE)),
    };
    let mut hidden = vec![];
    if let Some(v) = values.get("version") {
        hidden.push(("version".to_string(), v.clone()));
    }
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&FormPage { l, logo_card: false, has_logo: false, error, action, cancel, hidden, fields })).into_response()
}

async fn new_page<P: Page>(State(s): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, P::RESOURCE) {
        return error_page(&s, &u, e);
    }
    let mut values = P::defaults();
    values.extend(q.into_iter().filter(|(k, _)| k != "_csrf"));
    form_page::<P>(&s, &u, None, values, FieldErrors::new(), None).await
}

/// After a refused form, the page shows the form again with what was typed and why.
async fn refused<P: Page>(s: &AppState, u: &PageUser, id: Option<&str>, p: &Posted, e: AppError) -> Response {
    match e {
        AppError::Invalid(errors) => form_page::<P>(s, u, id, p.0.clone(), errors, Some(u.tr(s).t("error-validation"))).await,
        AppError::Conflict => form_page::<P>(s, u, id, p.0.clone(), FieldErrors::new(), Some(u.tr(s).t("error-conflict"))).await,
        AppError::Refused(k) => form_page::<P>(s, u, id, p.0.clone(), FieldErrors::new(), Some(u.tr(s).t(k))).await,
        other => error_page(s, u, other),
    }
}

async fn create_post<P: Page>(State(s): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&s, &u, e),
    };
    match P::create(&s.app, u.actor(), &P::input(&p, true)).await {
        Ok(o) => Redirect::to(&format!("{}/{}?ok=created", P::BASE, P::id(&o))).into_response(),
        Err(e) => refused::<P>(&s, &u, None, &p, e).await,
    }
}

async fn edit_page<P: Page>(State(s): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Update, P::RESOURCE) {
        return error_page(&s, &u, e);
    }
    match P::get(&s.app, u.actor(), &id).await {
        Ok(o) => form_page::<P>(&s, &u, Some(&id), values_of(&o), FieldErrors::new(), None).await,
        Err(e) => error_page(&s, &u, e),
    }
}

async fn update_post<P: Page>(
    State(s): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&s, &u, e),
    };
    match P::update(&s.app, u.actor(), &id, &P::input(&p, false)).await {
        Ok(o) => Redirect::to(&format!("{}/{}?ok=saved", P::BASE, P::id(&o))).into_response(),
        Err(e) => refused::<P>(&s, &u, Some(&id), &p, e).await,
    }
}

async fn archive_post<P: Page>(
    State(s): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&s, &u, e);
    }
    match P::archive(&s.app, u.actor(), &id).await {
        Ok(o) => Redirect::to(&format!("{}/{}?ok=archived", P::BASE, P::id(&o))).into_response(),
        Err(e) => error_page(&s, &u, e),
    }
}

async fn restore_post<P: Page>(
    State(s): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&s, &u, e);
    }
    match P::update(&s.app, u.actor(), &id, &P::restore()).await {
        Ok(o) => Redirect::to(&format!("{}/{}?ok=restored", P::BASE, P::id(&o))).into_response(),
        Err(e) => error_page(&s, &u, e),
    }
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    l: Layout,
    archived: bool,
    links: Vec<(String, String)>,
    posts: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    sections: Vec<Section>,
    /// Blocks past the sections, rendered by their own templates (so already escaped).
    panels: Vec<String>,
    history: Vec<app::audit::HistoryEntry>,
}

async fn detail_page<P: Page>(
    State(s): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    detail_view::<P>(&s, &u, &id, &q, None).await
}

/// A record's page; after a refused form on it (`typed`), answered 422 with the form again.
async fn detail_view<P: Page>(s: &AppState, u: &PageUser, id: &str, q: &HashMap<String, String>, typed: Option<&Typed>) -> Response {
    let o = match P::get(&s.app, u.actor(), id).await {
        Ok(o) => o,
        Err(e) => return error_page(s, u, e),
    };
    let specs = match P::form(&s.app, u.actor(), false).await {
        Ok(f) => f,
        Err(e) => return error_page(s, u, e),
    };
    let l = layout(s, u, P::name(&o), P::BASE);
    let values = values_of(&o);
    let facts = specs
        .iter()
        .filter(|f| f.kind != "password")
        .filter_map(|f| {
            let v = values.get(f.name).cloned().unwrap_or_default();
            let shown = match f.kind {
                "select" => f.options.iter().find(|(k, _)| *k == v).map(|(_, label)| label.clone()).unwrap_or(v),
                "checkbox" => l.tr.t(if v.is_empty() { "no" } else { "yes" }),
                _ => money_or_text(&l.tr, f.name, &v),
            };
            (!shown.is_empty()).then(|| (l.tr.t(&label_key(f.name)), shown))
        })
        .collect();
    let archived = P::archived(&o);
    let mut links = vec![];
    let mut posts = vec![];
    let oid = P::id(&o);
    if u.actor().can(Action::Update, P::RESOURCE) {
        links.push((format!("{}/{oid}/edit", P::BASE), l.tr.t("edit")));
        if archived {
            posts.push((format!("{}/{oid}/restore", P::BASE), l.tr.t("restore")));
        }
    }
    if u.actor().can(Action::Archive, P::RESOURCE) && !archived {
        posts.push((format!("{}/{oid}/archive", P::BASE), l.tr.t("archive")));
    }
    let sections = P::sections(&s.app, u.actor(), &l.tr, &o).await.unwrap_or_default();
    let panels = P::panels(s, u, &o, q, typed).await;
    let history = app::audit::history(&s.app, u.actor(), P::RESOURCE, P::ENTITY, &oid).await.unwrap_or_default();
    let history = history
        .into_iter()
        .map(|mut h| {
            h.action = l.tr.t(&format!("action-{}", h.action));
            h.at = h.at.replace('T', " ").chars().take(19).collect();
            h
        })
        .collect();
    let page = render(&DetailPage { l, archived, links, posts, facts, sections, panels, history });
    match typed {
        Some(_) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        None => page,
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    error: Option<String>,
    summary: Option<String>,
    applied: bool,
    rows: Vec<(String, String, String)>,
    action: String,
    back: String,
}

fn import_page_of<P: Page>(s: &AppState, u: &PageUser) -> ImportPage {
    let l = layout(
        s,
        u,
        format!("{} — {}", s.i18n.t(&u.session.actor.locale, "import-title"), s.i18n.t(&u.session.actor.locale, P::TITLE)),
        P::BASE,
    );
    ImportPage {
        l,
        error: None,
        summary: None,
        applied: false,
        rows: vec![],
        action: format!("{}/import", P::BASE),
        back: P::BASE.to_string(),
    }
}

async fn import_form<P: Page>(State(s): State<AppState>, u: PageUser) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, P::RESOURCE) {
        return error_page(&s, &u, e);
    }
    render(&import_page_of::<P>(&s, &u))
}

/// Upload of a spreadsheet: the whole file in one transaction, then its report.
async fn import_post<P: Page>(State(s): State<AppState>, u: PageUser, mut form: axum::extract::Multipart) -> Response {
    let Some(kind) = P::TRANSFER else { return error_page(&s, &u, AppError::NotFound) };
    let (mut csrf, mut bytes, mut opts) = (String::new(), Vec::new(), ImportOptions::default());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(b) => match name.as_str() {
                        "_csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                        "file" => bytes = b.to_vec(),
                        "dry_run" => opts.dry_run = true,
                        "skip_bad_rows" => opts.skip_bad_rows = true,
                        _ => {}
                    },
                    Err(_) => return error_page(&s, &u, AppError::Refused("import-bad-csv")),
                }
            }
            Ok(None) => break,
            Err(_) => return error_page(&s, &u, AppError::Refused("import-bad-csv")),
        }
    }
    if !same_secret(&csrf, &u.session.csrf) {
        return error_page(&s, &u, AppError::Refused("csrf-invalid"));
    }
    let mut page = import_page_of::<P>(&s, &u);
    let tr = u.tr(&s);
    let table = match app::transfer::read_table(&bytes) {
        Ok(t) => t,
        Err(e) => {
            page.error = Some(match e.row() {
                Some(row) if row > 0 => format!("{} {row}: {}", tr.t("import-row"), tr.t(e.key())),
                _ => tr.t(e.key()),
            });
            return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
        }
    };
    match app::transfer::import(&s.app, u.actor(), kind, &table, &opts, &|_, _| {}).await {
        Ok(report) => {
            let mut args = fluent_bundle::FluentArgs::new();
            for (k, v) in [
                ("rows", report.rows),
                ("created", report.created),
                ("updated", report.updated),
                ("unchanged", report.unchanged),
                ("skipped", report.skipped),
            ] {
                args.set(k, v);
            }
            let outcome = tr.t(if report.applied { "import-applied" } else { "import-not-applied" });
            let key = if report.applied { "import-result" } else { "import-result-not-applied" };
            page.summary = Some(format!("{} {outcome}", s.i18n.t_args(&tr.locale, key, Some(&args))));
            page.applied = report.applied;
            page.rows = report
                .errors
                .iter()
                .map(|e| (e.row.to_string(), e.field.as_deref().map(|f| tr.t(&label_key(f))).unwrap_or_default(), tr.t(&e.key)))
                .collect();
            render(&page)
        }
        Err(AppError::Invalid(f)) => {
            page.error = Some(f.0.iter().map(|(col, key)| format!("{col}: {}", tr.t(key))).collect::<Vec<_>>().join(" · "));
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
        Err(e) => error_page(&s, &u, e),
    }
}

async fn export_file<P: Page>(s: &AppState, u: &PageUser, format: ExportFormat, ext: &str, mime: &'static str) -> Response {
    let Some(kind) = P::TRANSFER else { return error_page(s, u, AppError::NotFound) };
    match app::transfer::export(&s.app, u.actor(), kind, format).await {
        Ok(bytes) => {
            let name = format!(
                "attachment; filename=\"{}-{}.{ext}\"",
                P::BASE.trim_start_matches('/'),
                app::clock::now_text().get(..10).unwrap_or("export")
            );
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                    (header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).unwrap_or_else(|_| HeaderValue::from_static("attachment"))),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => error_page(s, u, e),
    }
}

async fn export_csv<P: Page>(State(s): State<AppState>, u: PageUser) -> Response {
    export_file::<P>(&s, &u, ExportFormat::Csv, "csv", "text/csv; charset=utf-8").await
}

async fn export_xlsx<P: Page>(State(s): State<AppState>, u: PageUser) -> Response {
    export_file::<P>(&s, &u, ExportFormat::Xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").await
}

async fn export_vcards(State(s): State<AppState>, u: PageUser) -> Response {
    match app::transfer::export_vcards(&s.app, u.actor()).await {
        Ok(text) => (
            [(header::CONTENT_TYPE, "text/vcard; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"contactos.vcf\"")],
            text,
        )
            .into_response(),
        Err(e) => error_page(&s, &u, e),
    }
}

fn pages<P: Page>(r: Router<AppState>) -> Router<AppState> {
    let r = if P::TRANSFER.is_some() {
        r.route(&format!("{}/import", P::BASE), get(import_form::<P>).post(import_post::<P>))
            .route(&format!("{}/export.csv", P::BASE), get(export_csv::<P>))
            .route(&format!("{}/export.xlsx", P::BASE), get(export_xlsx::<P>))
    } else {
        r
    };
    r.route(P::BASE, get(list_page::<P>))
        .route(&format!("{}/new", P::BASE), get(new_page::<P>).post(create_post::<P>))
        .route(&format!("{}/{{id}}", P::BASE), get(detail_page::<P>))
        .route(&format!("{}/{{id}}/edit", P::BASE), get(edit_page::<P>).post(update_post::<P>))
        .route(&format!("{}/{{id}}/archive", P::BASE), post(archive_post::<P>))
        .route(&format!("{}/{{id}}/restore", P::BASE), post(restore_post::<P>))
}

// ---------------------------------------------------------------- each kind

fn scheme_options() -> Vec<(String, String)> {
    [
        ("", "—"),
        ("ar_cuit", "CUIT/CUIL (AR)"),
        ("co_nit", "NIT (CO)"),
        ("cl_rut", "RUT (CL)"),
        ("mx_rfc", "RFC (MX)"),
        ("es_nif", "NIF/NIE/CIF (ES)"),
        ("other", "Otro / Other"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

async fn salesperson_options(app: &App, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    let mut out = vec![(String::new(), "—".to_string())];
    if actor.can(Action::Read, Resource::Salespeople) {
        let page = m::list_salespeople(app, actor, &ListParams { limit: Some(200), ..Default::default() }).await?;
        out.extend(page.items.into_iter().map(|s| (s.id, s.name)));
    }
    Ok(out)
}

fn party_fields(creating: bool, sellers: Vec<(String, String)>) -> Vec<FieldSpec> {
    let _ = creating;
    vec![
        req(f("name", "text")),
        f("trade_name", "text"),
        f("code", "text"),
        select("tax_scheme", scheme_options()),
        f("tax_id", "text"),
        f("email", "email"),
        f("phone", "tel"),
        f("mobile", "tel"),
        f("website", "text"),
        f("street", "text"),
        f("city", "text"),
        f("region", "text"),
        f("postal_code", "text"),
        f("country", "text"),
        f("payment_terms_days", "number"),
        f("credit_limit", "text"),
        select("salesperson_id", sellers),
        f("tags", "text"),
        f("is_customer", "checkbox"),
        f("is_supplier", "checkbox"),
        f("notes", "textarea"),
    ]
}

fn party_input(p: &Posted) -> m::PartyIn {
    m::PartyIn {
        code: p.text("code"),
        name: p.text("name"),
        trade_name: p.text("trade_name"),
        tax_scheme: p.text("tax_scheme"),
        tax_id: p.text("tax_id"),
        email: p.text("email"),
        phone: p.text("phone"),
        mobile: p.text("mobile"),
        website: p.text("website"),
        street: p.text("street"),
        city: p.text("city"),
        region: p.text("region"),
        postal_code: p.text("postal_code"),
        country: p.text("country"),
        // Not a whole number: -1 makes the domain answer with its own field message.
        payment_terms_days: p.text("payment_terms_days").map(|d| if d.trim().is_empty() { 0 } else { d.trim().parse().unwrap_or(-1) }),
        credit_limit: p.text("credit_limit"),
        salesperson_id: p.text("salesperson_id"),
        notes: p.text("notes"),
        tags: p.text("tags").map(|t| t.split(',').map(str::to_string).collect()),
        is_customer: Some(p.flag("is_customer")),
        is_supplier: Some(p.flag("is_supplier")),
        archived: None,
        version: p.text("version").and_then(|v| v.parse().ok()),
    }
}

async fn contacts_section(app: &App, actor: &Actor, tr: &Tr, party_id: &str) -> AppResult<Vec<Section>> {
    if !actor.can(Action::Read, Resource::Contacts) {
        return Ok(vec![]);
    }
    let page = m::list_contacts(app, actor, &ListParams { limit: Some(100), ..Default::default() }, Some(party_id)).await?;
    let rows = page
        .items
        .into_iter()
        .map(|c| Row {
            href: format!("/contacts/{}", c.id),
            cells: vec![c.name, c.job_title.unwrap_or_default(), c.email.unwrap_or_default(), c.phone.unwrap_or_default()],
            archived: false,
            total: false,
        })
        .collect();
    let action = actor.can(Action::Create, Resource::Contacts).then(|| (format!("/contacts/new?party_id={party_id}"), tr.t("contact-new")));
    Ok(vec![Section {
        title: tr.t("nav-contacts"),
        columns: ["field-name", "field-job-title", "field-email", "field-phone"].iter().map(|k| tr.t(k)).collect(),
        rows,
        action,
        num_from: usize::MAX,
    }])
}

macro_rules! party_page {
    ($t:ty, $base:literal, $title:literal, $new:literal, $role:expr, $kind:expr) => {
        impl Page for $t {
            const BASE: &'static str = $base;
            const TITLE: &'static str = $title;
            const NEW: &'static str = $new;
            const COLUMNS: &'static [&'static str] = &["tax_id", "city", "phone", "email"];
            const TRANSFER: Option<ImportKind> = Some($kind);
            fn id(o: &m::Party) -> String {
                o.id.clone()
            }
            fn name(o: &m::Party) -> String {
                o.name.clone()
            }
            fn archived(o: &m::Party) -> bool {
                o.archived
            }
            async fn form(app: &App, actor: &Actor, creating: bool) -> AppResult<Vec<FieldSpec>> {
                Ok(party_fields(creating, salesperson_options(app, actor).await?))
            }
            fn input(p: &Posted, _creating: bool) -> m::PartyIn {
                party_input(p)
            }
            fn restore() -> m::PartyIn {
                m::PartyIn { archived: Some(false), ..Default::default() }
            }
            fn defaults() -> HashMap<String, String> {
                let key = if $role == PartyRole::Customer { "is_customer" } else { "is_supplier" };
                HashMap::from([(key.to_string(), "on".to_string()), ("country".to_string(), String::new())])
            }
            async fn sections(app: &App, actor: &Actor, tr: &Tr, o: &m::Party) -> AppResult<Vec<Section>> {
                let mut out = contacts_section(app, actor, tr, &o.id).await?;
                if o.is_customer {
                    out.extend(sales::customer_section(app, actor, tr, o).await);
                    out.extend(analytics::customer_section_of(app, actor, tr, &o.id).await);
                }
                if o.is_supplier && $role == PartyRole::Supplier {
                    out.extend(purchasing::supplier_section(app, actor, tr, o).await?);
                }
                Ok(out)
            }
            async fn panels(s: &AppState, u: &PageUser, o: &m::Party, q: &HashMap<String, String>, typed: Option<&Typed>) -> Vec<String> {
                if $role == PartyRole::Customer && o.is_customer {
                    desk::customer_panels(s, u, o, q, typed).await
                } else {
                    vec![]
                }
            }
        }
    };
}
party_page!(api::Customers, "/customers", "nav-customers", "customer-new", PartyRole::Customer, ImportKind::Customers);
party_page!(api::Suppliers, "/suppliers", "nav-suppliers", "supplier-new", PartyRole::Supplier, ImportKind::Suppliers);

impl Page for api::Contacts {
    const BASE: &'static str = "/contacts";
    const TITLE: &'static str = "nav-contacts";
    const NEW: &'static str = "contact-new";
    const COLUMNS: &'static [&'static str] = &["job_title", "email", "phone", "mobile"];
    fn id(o: &m::Contact) -> String {
        o.id.clone()
    }
    fn name(o: &m::Contact) -> String {
        o.name.clone()
    }
    fn archived(o: &m::Contact) -> bool {
        o.archived
    }
    async fn form(app: &App, actor: &Actor, _creating: bool) -> AppResult<Vec<FieldSpec>> {
        let mut parties = vec![(String::new(), "—".to_string())];
        for role in [PartyRole::Customer, PartyRole::Supplier] {
            if actor.can(Action::Read, role.resource()) {
                let page = m::list_parties(app, actor, role, &ListParams { limit: Some(200), ..Default::default() }).await?;
                parties.extend(
                    page.items
                        .into_iter()
                        .map(|p| (p.id, p.name))
                        .filter(|(id, _)| !parties.iter().any(|(i, _)| i == id))
                        .collect::<Vec<_>>(),
                );
            }
        }
        Ok(vec![
            req(select("party_id", parties)),
            req(f("name", "text")),
            f("job_title", "text"),
            f("email", "email"),
            f("phone", "tel"),
            f("mobile", "tel"),
            f("notes", "textarea"),
        ])
    }
    fn input(p: &Posted, _creating: bool) -> m::ContactIn {
        m::ContactIn {
            party_id: p.text("party_id").filter(|v| !v.is_empty()),
            name: p.text("name"),
            job_title: p.text("job_title"),
            email: p.text("email"),
            phone: p.text("phone"),
            mobile: p.text("mobile"),
            notes: p.text("notes"),
            archived: None,
            version: p.text("version").and_then(|v| v.parse().ok()),
        }
    }
    fn restore() -> m::ContactIn {
        m::ContactIn { archived: Some(false), ..Default::default() }
    }
}

impl Page for api::Salespeople {
    const BASE: &'static str = "/salespeople";
    const TITLE: &'static str = "nav-salespeople";
    const NEW: &'static str = "salesperson-new";
    const COLUMNS: &'static [&'static str] = &["code", "email", "phone", "commission_pct"];
    fn id(o: &m::Salesperson) -> String {
        o.id.clone()
    }
    fn name(o: &m::Salesperson) -> String {
        o.name.clone()
    }
    fn archived(o: &m::Salesperson) -> bool {
        o.archived
    }
    async fn form(app: &App, actor: &Actor, _creating: bool) -> AppResult<Vec<FieldSpec>> {
        let mut users = vec![(String::new(), "—".to_string())];
        if actor.can(Action::Read, Resource::Users) {
            users.extend(auth::list_users(app, actor).await?.into_iter().map(|u| (u.id, u.username)));
        }
        let mut fields =
            vec![req(f("name", "text")), f("code", "text"), f("email", "email"), f("phone", "tel"), f("commission_pct", "text")];
        if users.len() > 1 {
            fields.push(select("user_id", users));
        }
        Ok(fields)
    }
    fn input(p: &Posted, _creating: bool) -> m::SalespersonIn {
        m::SalespersonIn {
            code: p.text("code"),
            name: p.text("name"),
            email: p.text("email"),
            phone: p.text("phone"),
            commission_pct: p.text("commission_pct"),
            user_id: p.text("user_id"),
            archived: None,
            version: p.text("version").and_then(|v| v.parse().ok()),
        }
    }
    fn restore() -> m::SalespersonIn {
        m::SalespersonIn { archived: Some(false), ..Default::default() }
    }
}

impl Page for api::Products {
    const BASE: &'static str = "/products";
    const TITLE: &'static str = "nav-products";
    const NEW: &'static str = "product-new";
    const COLUMNS: &'static [&'static str] = &["code", "category", "unit", "sale_price"];
    const TRANSFER: Option<ImportKind> = Some(ImportKind::Products);
    fn id(o: &m::Product) -> String {
        o.id.clone()
    }
    fn name(o: &m::Product) -> String {
        o.name.clone()
    }
    fn archived(o: &m::Product) -> bool {
        o.archived
    }
    async fn form(app: &App, actor: &Actor, _creating: bool) -> AppResult<Vec<FieldSpec>> {
        let mut rates = vec![(String::new(), "—".to_string())];
        rates.extend(m::list_tax_rates(app, actor, false).await?.into_iter().map(|t| (t.id, t.name)));
        let kinds = domain::product::ProductKind::ALL.iter().map(|k| (k.code().to_string(), k.code().to_string())).collect();
        Ok(vec![
            req(f("code", "text")),
            req(f("name", "text")),
            select("kind", kinds),
            f("barcode", "text"),
            f("unit", "text"),
            f("category", "text"),
            f("sale_price", "text"),
            f("cost", "text"),
            select("tax_rate_id", rates),
            f("description", "textarea"),
        ])
    }
    fn input(p: &Posted, _creating: bool) -> m::ProductIn {
        m::ProductIn {
            code: p.text("code"),
            barcode: p.text("barcode"),
            name: p.text("name"),
            description: p.text("description"),
            kind: p.text("kind"),
            unit: p.text("unit"),
            sale_price: p.text("sale_price"),
            cost: p.text("cost"),
            tax_rate_id: p.text("tax_rate_id"),
            category: p.text("category"),
            active: None,
            archived: None,
            version: p.text("version").and_then(|v| v.parse().ok()),
        }
    }
    fn restore() -> m::ProductIn {
        m::ProductIn { archived: Some(false), ..Default::default() }
    }
    fn defaults() -> HashMap<String, String> {
        HashMap::from([("kind".to_string(), "goods".to_string()), ("unit".to_string(), "u".to_string())])
    }
}

impl Page for api::TaxRates {
    const BASE: &'static str = "/tax-rates";
    const TITLE: &'static str = "nav-tax-rates";
    const NEW: &'static str = "tax-rate-new";
    const COLUMNS: &'static [&'static str] = &["rate", "exempt"];
    fn id(o: &m::TaxRate) -> String {
        o.id.clone()
    }
    fn name(o: &m::TaxRate) -> String {
        o.name.clone()
    }
    fn archived(o: &m::TaxRate) -> bool {
        o.archived
    }
    async fn form(_app: &App, _actor: &Actor, _creating: bool) -> AppResult<Vec<FieldSpec>> {
        Ok(vec![req(f("name", "text")), req(f("rate", "text")), f("exempt", "checkbox")])
    }
    fn input(p: &Posted, _creating: bool) -> m::TaxRateIn {
        m::TaxRateIn {
            name: p.text("name"),
            rate: p.text("rate"),
            exempt: Some(p.flag("exempt")),
            archived: None,
            version: p.text("version").and_then(|v| v.parse().ok()),
        }
    }
    fn restore() -> m::TaxRateIn {
        m::TaxRateIn { archived: Some(false), ..Default::default() }
    }
}

impl Page for api::Users {
    const BASE: &'static str = "/users";
    const TITLE: &'static str = "nav-users";
    const NEW: &'static str = "user-new";
    const COLUMNS: &'static [&'static str] = &["display_name", "role", "email"];
    fn id(o: &User) -> String {
        o.id.clone()
    }
    fn name(o: &User) -> String {
        o.username.clone()
    }
    fn archived(o: &User) -> bool {
        !o.active
    }
    async fn form(_app: &App, _actor: &Actor, creating: bool) -> AppResult<Vec<FieldSpec>> {
        let roles = Role::ALL.iter().map(|r| (r.code().to_string(), r.code().to_string())).collect();
        let locales = vec![("es".to_string(), "Español".to_string()), ("en".to_string(), "English".to_string())];
        let mut v = vec![];
        if creating {
            v.push(req(f("username", "text")));
        }
        v.extend([f("display_name", "text"), f("email", "email"), req(select("role", roles)), select("locale", locales)]);
        let mut pw = f("password", "password");
        pw.required = creating;
        v.push(pw);
        if !creating {
            v.push(f("active", "checkbox"));
        }
        Ok(v)
    }
    fn input(p: &Posted, creating: bool) -> UserInput {
        UserInput {
            username: if creating { p.text("username") } else { None },
            display_name: p.text("display_name").filter(|d| !d.trim().is_empty() || creating),
            email: p.text("email"),
            password: p.text("password").filter(|pw| !pw.is_empty()),
            role: p.text("role"),
            locale: p.text("locale"),
            active: if creating { None } else { Some(p.flag("active")) },
        }
    }
    fn restore() -> UserInput {
        UserInput { active: Some(true), ..Default::default() }
    }
    fn defaults() -> HashMap<String, String> {
        HashMap::from([("role".to_string(), "salesperson".to_string()), ("locale".to_string(), "es".to_string())])
    }
}

// ---------------------------------------------------------------- log-in, setup, home

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    error: Option<String>,
    next: String,
    username: String,
}

fn page_locale(headers: &HeaderMap) -> &'static str {
    from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

/// Only local paths are followed after log-in (no open redirect).
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.clone(),
        _ => "/".into(),
    }
}

async fn login_page(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Ok(true) = auth::needs_setup(&s.app).await {
        let l = anon_layout(&s, page_locale(&headers), "setup-title", String::new());
        let text = l.tr.t("setup-see-log");
        return render(&MessagePage { l, text, secret: None, back: "/login".into() });
    }
    let csrf = auth::secret();
    let l = anon_layout(&s, page_locale(&headers), "login-title", csrf.clone());
    let page = render(&LoginPage { l, error: None, next: safe_next(q.get("next")), username: String::new() });
    (AppendHeaders([set_cookie(&s, CSRF_COOKIE, &csrf, 3600)]), page).into_response()
}

async fn login_post(State(s): State<AppState>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let locale = page_locale(&headers);
    let csrf_ok = matches!((cookie(&headers, CSRF_COOKIE), form.get("_csrf")), (Some(c), Some(f)) if same_secret(&c, f));
    let username = form.get("username").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"));
    let fail = |key: &str, status: StatusCode| {
        let csrf = auth::secret();
        let l = anon_layout(&s, locale, "login-title", csrf.clone());
        let error = Some(l.tr.t(key));
        (
            status,
            AppendHeaders([set_cookie(&s, CSRF_COOKIE, &csrf, 3600)]),
            render(&LoginPage { l, error, next: next.clone(), username: username.clone() }),
        )
            .into_response()
    };
    if !csrf_ok {
        return fail("csrf-invalid", StatusCode::FORBIDDEN);
    }
    match auth::login(&s.app, &username, form.get("password").map(String::as_str).unwrap_or("")).await {
        Ok(session) => (
            AppendHeaders([set_cookie(&s, SESSION_COOKIE, &session.secret, 14 * 24 * 3600), set_cookie(&s, CSRF_COOKIE, "", 0)]),
            Redirect::to(&next),
        )
            .into_response(),
        Err(AppError::Throttled) => fail("error-throttled", StatusCode::TOO_MANY_REQUESTS),
        Err(AppError::Unauthenticated) => fail("login-failed", StatusCode::UNAUTHORIZED),
        Err(e) => {
            tracing::error!(error = %e, "login failed");
            fail("error-internal", StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn logout_post(State(s): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    if posted(&u, form).is_ok() {
        let _ = auth::logout(&s.app, &u.session.secret).await;
    }
    (AppendHeaders([set_cookie(&s, SESSION_COOKIE, "", 0)]), Redirect::to("/login")).into_response()
}

async fn language_post(State(s): State<AppState>, u: PageUser, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&s, &u, e),
    };
    if let Err(e) = auth::set_own_locale(&s.app, u.actor(), &p.text("locale").unwrap_or_default()).await {
        return error_page(&s, &u, e);
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("://").and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string())))
        .unwrap_or_else(|| "/".into());
    Redirect::to(&safe_next(Some(&back))).into_response()
}

#[derive(Template)]
#[template(path = "form.html")]
struct SetupPage {
    l: Layout,
    logo_card: bool,
    has_logo: bool,
    error: Option<String>,
    action: String,
    cancel: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
}

fn setup_fields(tr: &Tr, values: &HashMap<String, String>, errors: &FieldErrors) -> Vec<Field> {
    let currencies = m::CURRENCIES.iter().map(|(c, _)| (c.to_string(), c.to_string())).collect();
    let specs = vec![
        req(f("legal_name", "text")),
        req(f("country", "text")),
        req(select("currency", currencies)),
        req(f("username", "text")),
        f("display_name", "text"),
        f("email", "email"),
        req(f("password", "password")),
        req(f("password_confirm", "password")),
    ];
    fields(tr, specs, values, errors)
}

async fn setup_page(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let token = q.get("token").cloned().unwrap_or_default();
    let locale = page_locale(&headers);
    if !auth::setup_token_valid(&s.app, &token).await.unwrap_or(false) {
        let l = anon_layout(&s, locale, "setup-title", String::new());
        let text = l.tr.t("setup-link-invalid");
        return (StatusCode::FORBIDDEN, render(&MessagePage { l, text, secret: None, back: "/login".into() })).into_response();
    }
    let csrf = auth::secret();
    let l = anon_layout(&s, locale, "setup-title", csrf.clone());
    let values = HashMap::from([
        ("country".to_string(), "AR".to_string()),
        ("currency".to_string(), "ARS".to_string()),
        ("username".to_string(), "admin".to_string()),
    ]);
    let fields = setup_fields(&l.tr, &values, &FieldErrors::new());
    let error = Some(l.tr.t("setup-intro"));
    let page = render(&SetupPage {
        l,
        logo_card: false,
        has_logo: false,
        error,
        action: "/setup".into(),
        cancel: "/login".into(),
        hidden: vec![("token".into(), token)],
        fields,
    });
    (AppendHeaders([set_cookie(&s, CSRF_COOKIE, &csrf, 3600)]), page).into_response()
}

async fn setup_post(State(s): State<AppState>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let locale = page_locale(&headers);
    let token = form.get("token").cloned().unwrap_or_default();
    let csrf_ok = matches!((cookie(&headers, CSRF_COOKIE), form.get("_csrf")), (Some(c), Some(f)) if same_secret(&c, f));
    let again = |errors: FieldErrors, key: &str| {
        let csrf = auth::secret();
        let l = anon_layout(&s, locale, "setup-title", csrf.clone());
        let mut values = form.clone();
        values.remove("password");
        values.remove("password_confirm");
        let fields = setup_fields(&l.tr, &values, &errors);
        let error = Some(l.tr.t(key));
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            AppendHeaders([set_cookie(&s, CSRF_COOKIE, &csrf, 3600)]),
            render(&SetupPage {
                logo_card: false,
                has_logo: false,
                l,
                error,
                action: "/setup".into(),
                cancel: "/login".into(),
                hidden: vec![("token".into(), token.clone())],
                fields,
            }),
        )
            .into_response()
    };
    if !csrf_ok {
        return again(FieldErrors::new(), "csrf-invalid");
    }
    if form.get("password") != form.get("password_confirm") {
        return again(FieldErrors::single("password_confirm", "password-mismatch"), "error-validation");
    }
    let input = UserInput {
        username: form.get("username").cloned(),
        display_name: form.get("display_name").cloned(),
        email: form.get("email").cloned(),
        password: form.get("password").cloned(),
        role: None,
        locale: Some(locale.to_string()),
        active: None,
    };
    // The company's data is checked before the administrator exists, so a mistake there
    // does not spend the one-time link.
    let country = form.get("country").cloned().unwrap_or_default();
    if country.trim().len() != 2 {
        return again(FieldErrors::single("country", "country-invalid"), "error-validation");
    }
    let user = match auth::complete_setup(&s.app, &token, &input).await {
        Ok(u) => u,
        Err(AppError::Invalid(errors)) => return again(errors, "error-validation"),
        Err(AppError::Refused(k)) => return again(FieldErrors::new(), k),
        Err(e) => {
            tracing::error!(error = %e, "setup failed");
            return again(FieldErrors::new(), "error-internal");
        }
    };
    let session = match auth::login(&s.app, &user.username, form.get("password").map(String::as_str).unwrap_or("")).await {
        Ok(session) => session,
        Err(_) => return Redirect::to("/login").into_response(),
    };
    let company = m::CompanyIn {
        legal_name: form.get("legal_name").cloned(),
        country: Some(country),
        currency: form.get("currency").cloned(),
        ..Default::default()
    };
    if let Err(e) = m::update_company(&s.app, &session.actor, &company).await {
        tracing::warn!(error = %e, "company profile from setup refused; the administrator can fix it on the company page");
    }
    (
        AppendHeaders([set_cookie(&s, SESSION_COOKIE, &session.secret, 14 * 24 * 3600), set_cookie(&s, CSRF_COOKIE, "", 0)]),
        Redirect::to("/company?ok=welcome"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    company: String,
    tiles: Vec<(String, String, String)>,
}

async fn home(State(s): State<AppState>, u: PageUser) -> Response {
    let company = m::company(&s.app, u.actor()).await.map(|c| c.legal_name).unwrap_or_default();
    let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "home-title"), "/");
    let tiles = AREAS
        .iter()
        .filter(|(_, _, r)| u.actor().can(Action::Read, *r))
        .map(|(href, key, _)| (href.to_string(), String::new(), l.tr.t(key)))
        .collect();
    render(&HomePage { l, company, tiles })
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    hits: Vec<(String, String, String, String)>,
}

async fn search_page(State(s): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let text = q.get("q").cloned().unwrap_or_default();
    let hits = match m::search(&s.app, u.actor(), &text).await {
        Ok(h) => h,
        Err(e) => return error_page(&s, &u, e),
    };
    let mut l = layout(&s, &u, format!("{} «{}»", s.i18n.t(&u.session.actor.locale, "search-results"), text), "");
    l.q = text;
    let hits = hits
        .into_iter()
        .map(|h| {
            let base = match h.kind.as_str() {
                "customer" => "/customers",
                "supplier" => "/suppliers",
                "contact" => "/contacts",
                _ => "/products",
            };
            (format!("{base}/{}", h.id), h.title, l.tr.t(&format!("kind-{}", h.kind)), h.detail)
        })
        .collect();
    render(&SearchPage { l, hits })
}

// ---------------------------------------------------------------- company, tokens, audit

const COMPANY_FIELDS: &[(&str, &str)] = &[
    ("legal_name", "text"),
    ("trade_name", "text"),
    ("tax_id", "text"),
    ("country", "text"),
    ("currency", "select"),
    ("street", "text"),
    ("city", "text"),
    ("region", "text"),
    ("postal_code", "text"),
    ("phone", "tel"),
    ("email", "email"),
    ("website", "text"),
    ("history", "textarea"),
    ("mission", "textarea"),
    ("vision", "textarea"),
    ("goals", "textarea"),
    ("products_text", "textarea"),
    ("services_text", "textarea"),
    ("guarantees", "textarea"),
    ("partners", "textarea"),
    ("suppliers_text", "textarea"),
    ("clients_text", "textarea"),
];

fn company_specs() -> Vec<FieldSpec> {
    COMPANY_FIELDS
        .iter()
        .map(|(name, kind)| {
            if *kind == "select" {
                select(name, m::CURRENCIES.iter().map(|(c, _)| (c.to_string(), c.to_string())).collect())
            } else if *name == "legal_name" {
                req(f(name, kind))
            } else {
                f(name, kind)
            }
        })
        .collect()
}

async fn company_page(State(s): State<AppState>, u: PageUser) -> Response {
    let c = match m::company(&s.app, u.actor()).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, &u, e),
    };
    let values = values_of(&c);
    if u.actor().can(Action::Update, Resource::Company) {
        let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "nav-company"), "/company");
        let fields = fields(&l.tr, company_specs(), &values, &FieldErrors::new());
        let has_logo = matches!(app::logo::get(&s.app, u.actor()).await, Ok(Some(_)));
        return render(&FormPage {
            l,
            logo_card: true,
            has_logo,
            error: None,
            action: "/company".into(),
            cancel: "/".into(),
            hidden: vec![],
            fields,
        });
    }
    let l = layout(&s, &u, c.legal_name.clone(), "/company");
    let facts = COMPANY_FIELDS
        .iter()
        .filter_map(|(k, _)| values.get(*k).filter(|v| !v.is_empty()).map(|v| (l.tr.t(&label_key(k)), v.clone())))
        .collect();
    render(&DetailPage { l, archived: false, links: vec![], posts: vec![], facts, sections: vec![], panels: vec![], history: vec![] })
}

async fn company_post(State(s): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&s, &u, e),
    };
    let input = m::CompanyIn {
        legal_name: p.text("legal_name"),
        trade_name: p.text("trade_name"),
        tax_id: p.text("tax_id"),
        country: p.text("country"),
        currency: p.text("currency"),
        street: p.text("street"),
        city: p.text("city"),
        region: p.text("region"),
        postal_code: p.text("postal_code"),
        phone: p.text("phone"),
        email: p.text("email"),
        website: p.text("website"),
        history: p.text("history"),
        mission: p.text("mission"),
        vision: p.text("vision"),
        goals: p.text("goals"),
        products_text: p.text("products_text"),
        services_text: p.text("services_text"),
        guarantees: p.text("guarantees"),
        partners: p.text("partners"),
        suppliers_text: p.text("suppliers_text"),
        clients_text: p.text("clients_text"),
    };
    match m::update_company(&s.app, u.actor(), &input).await {
        Ok(_) => Redirect::to("/company?ok=saved").into_response(),
        Err(AppError::Invalid(errors)) => {
            let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "nav-company"), "/company");
            let fields = fields(&l.tr, company_specs(), &p.0, &errors);
            let error = Some(l.tr.t("error-validation"));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&FormPage {
                    l,
                    logo_card: false,
                    has_logo: false,
                    error,
                    action: "/company".into(),
                    cancel: "/".into(),
                    hidden: vec![],
                    fields,
                }),
            )
                .into_response()
        }
        Err(e) => error_page(&s, &u, e),
    }
}

async fn tokens_page(State(s): State<AppState>, u: PageUser) -> Response {
    let tokens = match auth::list_tokens(&s.app, u.actor()).await {
        Ok(t) => t,
        Err(e) => return error_page(&s, &u, e),
    };
    let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "nav-tokens"), "/tokens");
    let columns =
        ["field-prefix", "field-username", "field-name", "field-created-at", "field-revoked-at"].iter().map(|k| l.tr.t(k)).collect();
    let rows = tokens
        .into_iter()
        .map(|t| Row {
            archived: t.revoked_at.is_some(),
            total: false,
            href: format!("/tokens/{}", t.id),
            cells: vec![
                t.prefix,
                t.username,
                t.name,
                t.created_at.chars().take(16).collect(),
                t.revoked_at.unwrap_or_default().chars().take(16).collect(),
            ],
        })
        .collect();
    let actions = vec![("/tokens/new".to_string(), l.tr.t("token-new"))];
    render(&ListPage { l, actions, tabs: vec![], lifecycle: String::new(), q: String::new(), archived: false, columns, rows, next: None })
}

async fn token_new_page(State(s): State<AppState>, u: PageUser) -> Response {
    let users = match auth::list_users(&s.app, u.actor()).await {
        Ok(us) => us,
        Err(e) => return error_page(&s, &u, e),
    };
    let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "token-new"), "/tokens");
    let specs = vec![
        req(select("username", users.into_iter().filter(|x| x.active).map(|x| (x.username.clone(), x.username)).collect())),
        req(f("name", "text")),
    ];
    let fields = fields(&l.tr, specs, &HashMap::new(), &FieldErrors::new());
    render(&FormPage {
        l,
        logo_card: false,
        has_logo: false,
        error: None,
        action: "/tokens/new".into(),
        cancel: "/tokens".into(),
        hidden: vec![],
        fields,
    })
}

async fn token_new_post(State(s): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&s, &u, e),
    };
    match auth::new_token(&s.app, u.actor(), &p.text("username").unwrap_or_default(), &p.text("name").unwrap_or_default()).await {
        Ok((_, secret)) => {
            let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "token-created"), "/tokens");
            let text = l.tr.t("token-shown-once");
            render(&MessagePage { l, text, secret: Some(secret), back: "/tokens".into() })
        }
        Err(e) => error_page(&s, &u, e),
    }
}

async fn token_page(State(s): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let tokens = match auth::list_tokens(&s.app, u.actor()).await {
        Ok(t) => t,
        Err(e) => return error_page(&s, &u, e),
    };
    let Some(t) = tokens.into_iter().find(|t| t.id == id) else { return error_page(&s, &u, AppError::NotFound) };
    let l = layout(&s, &u, format!("{} {}", s.i18n.t(&u.session.actor.locale, "field-prefix"), t.prefix), "/tokens");
    let facts = vec![
        (l.tr.t("field-username"), t.username.clone()),
        (l.tr.t("field-name"), t.name.clone()),
        (l.tr.t("field-created-at"), t.created_at.clone()),
    ];
    let posts = if t.revoked_at.is_none() { vec![(format!("/tokens/{}/revoke", t.id), l.tr.t("revoke"))] } else { vec![] };
    render(&DetailPage {
        l,
        archived: t.revoked_at.is_some(),
        links: vec![],
        posts,
        facts,
        sections: vec![],
        panels: vec![],
        history: vec![],
    })
}

async fn token_revoke_post(
    State(s): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&s, &u, e);
    }
    match auth::revoke_token(&s.app, u.actor(), &id).await {
        Ok(()) => Redirect::to("/tokens?ok=revoked").into_response(),
        Err(e) => error_page(&s, &u, e),
    }
}

async fn audit_page(State(s): State<AppState>, u: PageUser) -> Response {
    let entries = match app::audit::recent(&s.app, u.actor(), 200).await {
        Ok(e) => e,
        Err(e) => return error_page(&s, &u, e),
    };
    let l = layout(&s, &u, s.i18n.t(&u.session.actor.locale, "nav-audit"), "/audit");
    let columns =
        ["field-seq", "field-at", "field-actor", "field-action", "field-entity", "field-changes"].iter().map(|k| l.tr.t(k)).collect();
    let rows = entries
        .into_iter()
        .map(|(entity, entity_id, h)| {
            let href = match entity.as_str() {
                "party" => format!("/customers/{entity_id}"),
                "contact" => format!("/contacts/{entity_id}"),
                "product" => format!("/products/{entity_id}"),
                "employee" => format!("/salespeople/{entity_id}"),
                "tax_rate" => format!("/tax-rates/{entity_id}"),
                "user" => format!("/users/{entity_id}"),
                _ => "/company".to_string(),
            };
            let changes = h.changes.iter().map(|c| c.0.clone()).collect::<Vec<_>>().join(", ");
            Row {
                href,
                archived: false,
                total: false,
                cells: vec![
                    h.seq.to_string(),
                    h.at.replace('T', " ").chars().take(19).collect(),
                    h.actor,
                    l.tr.t(&format!("action-{}", h.action)),
                    entity,
                    changes,
                ],
            }
        })
        .collect();
    render(&ListPage {
        l,
        actions: vec![],
        tabs: vec![],
        lifecycle: String::new(),
        q: String::new(),
        archived: false,
        columns,
        rows,
        next: None,
    })
}

async fn logo_image(State(s): State<AppState>, u: PageUser) -> Response {
    match app::logo::get(&s.app, u.actor()).await {
        Ok(Some((content_type, bytes))) => {
            let ct = HeaderValue::from_str(&content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
            ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"))], bytes).into_response()
        }
        Ok(None) => error_page(&s, &u, AppError::NotFound),
        Err(e) => error_page(&s, &u, e),
    }
}

async fn logo_post(State(s): State<AppState>, u: PageUser, mut form: axum::extract::Multipart) -> Response {
    let (mut csrf, mut bytes) = (String::new(), Vec::new());
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        let Ok(data) = field.bytes().await else {
            return error_page(&s, &u, AppError::Invalid(FieldErrors::single("logo", "logo-too-large")));
        };
        match name.as_str() {
            "_csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
            "logo" => bytes = data.to_vec(),
            _ => {}
        }
    }
    if !same_secret(&csrf, &u.session.csrf) {
        return error_page(&s, &u, AppError::Refused("csrf-invalid"));
    }
    match app::logo::set(&s.app, u.actor(), &bytes).await {
        Ok(()) => Redirect::to("/company?ok=logo").into_response(),
        Err(AppError::Invalid(f)) => {
            let tr = u.tr(&s);
            let text = f.0.values().map(|k| tr.t(k)).collect::<Vec<_>>().join(" ");
            let l = layout(&s, &u, tr.t("logo-title"), "/company");
            (StatusCode::UNPROCESSABLE_ENTITY, render(&MessagePage { l, text, secret: None, back: "/company".into() })).into_response()
        }
        Err(e) => error_page(&s, &u, e),
    }
}

async fn logo_remove(State(s): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&s, &u, e);
    }
    match app::logo::remove(&s.app, u.actor()).await {
        Ok(()) => Redirect::to("/company?ok=saved").into_response(),
        Err(e) => error_page(&s, &u, e),
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../assets/app.css"),
    )
        .into_response()
}

async fn not_found_page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let l = anon_layout(&s, page_locale(&headers), "error-title", String::new());
    let text = l.tr.t("error-not-found");
    (StatusCode::NOT_FOUND, render(&MessagePage { l, text, secret: None, back: "/".into() })).into_response()
}

pub fn router() -> Router<AppState> {
    let mut r = analytics::router(purchasing::router(manufacturing::router(agenda::router(pipeline::router(desk::router(
        sales::router(Router::new()),
    ))))))
    .route("/", get(home))
    .route("/login", get(login_page).post(login_post))
    .route("/logout", post(logout_post))
    .route("/language", post(language_post))
    .route("/setup", get(setup_page).post(setup_post))
    .route("/search", get(search_page))
    .route("/company", get(company_page).post(company_post))
    .route("/company/logo", get(logo_image).post(logo_post))
    .route("/company/logo/remove", post(logo_remove))
    .route("/tokens", get(tokens_page))
    .route("/tokens/new", get(token_new_page).post(token_new_post))
    .route("/tokens/{id}", get(token_page))
    .route("/tokens/{id}/revoke", post(token_revoke_post))
    .route("/audit", get(audit_page))
    .route("/contacts/export.vcf", get(export_vcards))
    .route("/assets/app.css", get(css));
    r = pages::<api::Customers>(r);
    r = pages::<api::Suppliers>(r);
    r = pages::<api::Contacts>(r);
    r = pages::<api::Salespeople>(r);
    r = pages::<api::Products>(r);
    r = pages::<api::TaxRates>(r);
    r = pages::<api::Users>(r);
    r = stock::router(r);
    r.fallback(not_found_page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_as_people_write_them() {
        assert_eq!(format_decimal("1234567.50", "es"), "1.234.567,50");
        assert_eq!(format_decimal("1234567.50", "en"), "1,234,567.50");
        assert_eq!(format_decimal("-999.00", "es"), "-999,00");
        assert_eq!(format_decimal("12", "es"), "12");
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some(&"/customers?q=a".to_string())), "/customers?q=a");
        assert_eq!(safe_next(Some(&"//evil.example".to_string())), "/");
        assert_eq!(safe_next(Some(&"https://evil.example".to_string())), "/");
    }
}
