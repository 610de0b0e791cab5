//! The order-to-cash pages: lists of each kind of document, a document's page with its
//! lines, totals, chain and the actions its state allows, forms for drafts, partial
//! deliveries, invoices and credit notes, receipts, stock, receivables, and the page a
//! customer opens to follow an order.

use super::{
    error_page, fields, format_decimal, layout, posted, render, urlencode, DetailPage, Field, FieldSpec, FormPage, Layout, PageUser,
    Posted, Row, Section, Tr,
};
use crate::AppState;
use app::master::{self as m, ListParams, PartyRole};
use app::receivables::{self as ar, AgeingParams};
use app::sales::{self as s, DocListParams, Document, DocumentIn, LineIn, PartIn, PartLineIn, ReceiptIn, TransitionIn};
use app::stock::{self as st, AdjustmentIn, StockParams};
use app::{AppError, AppResult};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::sales::{DocKind, Transition};
use domain::validation::FieldErrors;
use std::collections::HashMap;

/// Each kind's pages: where they live and the words for them.
pub struct KindPage {
    pub kind: DocKind,
    pub base: &'static str,
    /// Translation key of the plural title.
    pub title: &'static str,
    /// Translation key of "new …", for kinds made with a form.
    pub new: Option<&'static str>,
}

pub const KIND_PAGES: &[KindPage] = &[
    KindPage { kind: DocKind::Quote, base: "/quotes", title: "nav-quotes", new: Some("quote-new") },
    KindPage { kind: DocKind::Order, base: "/orders", title: "nav-orders", new: Some("order-new") },
    KindPage { kind: DocKind::Delivery, base: "/deliveries", title: "nav-deliveries", new: None },
    KindPage { kind: DocKind::Invoice, base: "/invoices", title: "nav-invoices", new: Some("invoice-new") },
    KindPage { kind: DocKind::CreditNote, base: "/credit-notes", title: "nav-credit-notes", new: None },
    KindPage { kind: DocKind::DebitNote, base: "/debit-notes", title: "nav-debit-notes", new: Some("debit-note-new") },
    KindPage { kind: DocKind::Receipt, base: "/receipts", title: "nav-receipts", new: Some("receipt-new") },
];

pub fn base_of(kind: &str) -> &'static str {
    DocKind::from_code(kind).and_then(|k| KIND_PAGES.iter().find(|p| p.kind == k)).map(|p| p.base).unwrap_or("/orders")
}

pub(super) fn money(tr: &Tr, v: &str) -> String {
    format_decimal(v, &tr.locale)
}

pub(super) fn short_date(d: &str) -> String {
    d.replace('T', " ").chars().take(16).collect()
}

fn doc_title(tr: &Tr, d: &Document) -> String {
    let kind = tr.t(&format!("kind-{}", d.kind));
    match &d.number {
        Some(n) => format!("{kind} {n}"),
        None => format!("{kind} — {}", tr.t("status-draft")),
    }
}

fn status_label(tr: &Tr, d: &Document) -> String {
    tr.t(&format!("status-{}", d.progress))
}

// ---------------------------------------------------------------- lists

#[derive(Template)]
#[template(path = "documents.html")]
pub(super) struct DocumentsPage {
    pub(super) l: Layout,
    pub(super) tabs: Vec<(String, String, bool)>,
    pub(super) actions: Vec<(String, String)>,
    pub(super) statuses: Vec<(String, String)>,
    pub(super) status: String,
    /// The party the list is filtered by, kept by the status filter.
    pub(super) customer_id: String,
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<Row>,
    pub(super) next: Option<String>,
}

fn tabs(u: &PageUser, tr: &Tr, active: DocKind) -> Vec<(String, String, bool)> {
    KIND_PAGES
        .iter()
        .filter(|p| u.actor().can(Action::Read, s::resource(p.kind)))
        .map(|p| (p.base.to_string(), tr.t(p.title), p.kind == active))
        .collect()
}

async fn list(st: AppState, u: PageUser, page: &'static KindPage, q: HashMap<String, String>) -> Response {
    let params = DocListParams {
        customer_id: q.get("customer_id").cloned().filter(|c| !c.is_empty()),
        status: q.get("status").cloned().filter(|c| !c.is_empty()),
        cursor: q.get("cursor").cloned().filter(|c| !c.is_empty()),
        limit: Some(50),
    };
    let found = match s::list_documents(&st.app, u.actor(), page.kind, &params).await {
        Ok(p) => p,
        Err(AppError::Invalid(_)) => s::list_documents(&st.app, u.actor(), page.kind, &DocListParams::default())
            .await
            .unwrap_or(m::Page { items: vec![], next_cursor: None }),
        Err(e) => return error_page(&st, &u, e),
    };
    let l = layout(&st, &u, st.i18n.t(&u.session.actor.locale, page.title), page.base);
    let columns = ["field-number", "field-issue-date", "field-customer", "field-status", "field-total"].iter().map(|k| l.tr.t(k)).collect();
    let rows = found
        .items
        .iter()
        .map(|d| Row {
            cells: vec![
                d.number.clone().unwrap_or_else(|| l.tr.t("status-draft")),
                d.issue_date.clone(),
                d.customer_name.clone(),
                status_label(&l.tr, d),
                money(&l.tr, &d.total),
            ],
            href: format!("{}/{}", page.base, d.id),
            archived: d.status == "cancelled",
            total: false,
        })
        .collect();
    let mut statuses = vec![(String::new(), l.tr.t("status-any"))];
    let kind_statuses: &[&str] = match page.kind {
        DocKind::Quote => &["draft", "sent", "accepted", "rejected", "cancelled"],
        DocKind::Order => &["draft", "confirmed", "done", "cancelled"],
        _ => &["draft", "posted", "cancelled"],
    };
    statuses.extend(kind_statuses.iter().map(|s| (s.to_string(), l.tr.t(&format!("status-{s}")))));
    let status = params.status.clone().unwrap_or_default();
    let customer_id = params.customer_id.clone().unwrap_or_default();
    let next = found
        .next_cursor
        .map(|c| format!("{}?status={}&customer_id={}&cursor={c}", page.base, urlencode(&status), urlencode(&customer_id)));
    let mut actions = vec![];
    if let Some(new) = page.new {
        if u.actor().can(Action::Create, s::resource(page.kind)) {
            let q = if customer_id.is_empty() { String::new() } else { format!("?customer_id={customer_id}") };
            actions.push((format!("{}/new{q}", page.base), l.tr.t(new)));
        }
    }
    let tabs = tabs(&u, &l.tr, page.kind);
    render(&DocumentsPage { l, tabs, actions, statuses, status, customer_id, columns, rows, next })
}

/// On a customer's page: their balance, their documents and what can be started for them.
pub async fn customer_section(app: &app::App, actor: &app::Actor, tr: &Tr, c: &m::Party) -> Option<Section> {
    let mut rows = Vec::new();
    let link = |label: String, value: String, href: String| Row { cells: vec![label, value], href, archived: false, total: false };
    if actor.can(Action::Read, Resource::Invoices) {
        if let Ok(stmt) = ar::statement(app, actor, &c.id, &AgeingParams::default()).await {
            rows.push(link(tr.t("statement-title"), money(tr, &stmt.balance), format!("/customers/{}/statement", c.id)));
        }
    }
    for (kind, n) in s::document_counts(app, actor, &c.id).await.unwrap_or_default() {
        if let Some(page) = KIND_PAGES.iter().find(|p| p.kind == kind) {
            rows.push(link(tr.t(page.title), n.to_string(), format!("{}?customer_id={}", page.base, c.id)));
        }
    }
    for (kind, base, key) in [(DocKind::Quote, "/quotes", "quote-new"), (DocKind::Order, "/orders", "order-new")] {
        if actor.can(Action::Create, s::resource(kind)) && !c.archived {
            rows.push(link(tr.t(key), String::new(), format!("{base}/new?customer_id={}", c.id)));
        }
    }
    if rows.is_empty() {
        return None;
    }
    Some(Section { title: tr.t("nav-sales"), columns: vec![tr.t("field-document"), String::new()], rows, action: None, num_from: 1 })
}

// ---------------------------------------------------------------- a document

fn line_section(tr: &Tr, d: &Document) -> Section {
    let mut columns: Vec<String> =
        ["field-description", "field-quantity", "field-unit-price", "field-discount", "field-tax", "field-amount"]
            .iter()
            .map(|k| tr.t(k))
            .collect();
    let order = d.kind == "order";
    if order {
        columns.push(tr.t("field-delivered"));
        columns.push(tr.t("field-invoiced"));
    }
    let mut rows: Vec<Row> = d
        .lines
        .iter()
        .map(|l| {
            let mut cells = vec![
                l.description.clone(),
                format_decimal(&l.quantity, &tr.locale),
                money(tr, &l.unit_price),
                if l.discount == "0" { String::new() } else { format!("{} %", format_decimal(&l.discount, &tr.locale)) },
                l.tax_name.clone(),
                money(tr, &l.amount),
            ];
            if order {
                cells.push(if l.stocked { format_decimal(&l.delivered, &tr.locale) } else { "—".into() });
                cells.push(format_decimal(&l.invoiced, &tr.locale));
            }
            Row { cells, href: String::new(), archived: false, total: false }
        })
        .collect();
    let blank = |label: String, value: String, total: bool| {
        let mut cells = vec![label, String::new(), String::new(), String::new(), String::new(), value];
        if order {
            cells.extend([String::new(), String::new()]);
        }
        Row { cells, href: String::new(), archived: false, total }
    };
    rows.push(blank(tr.t("field-untaxed-amount"), money(tr, &d.untaxed_amount), false));
    for t in &d.taxes {
        rows.push(blank(format!("{} ({} {})", t.name, tr.t("field-base"), money(tr, &t.base)), money(tr, &t.tax), false));
    }
    rows.push(blank(tr.t("field-total"), money(tr, &d.total), true));
    Section { title: tr.t("doc-lines"), columns, rows, action: None, num_from: 1 }
}

async fn chain_section(st: &AppState, u: &PageUser, tr: &Tr, d: &Document) -> AppResult<Option<Section>> {
    let docs = if d.kind == "order" {
        s::order_chain(&st.app, u.actor(), &d.id).await?
    } else {
        let mut out = Vec::new();
        let mut ids: Vec<String> = d.allocations.iter().map(|a| a.document_id.clone()).collect();
        ids.extend(d.origin_id.clone());
        ids.extend(d.order_id.clone());
        ids.dedup();
        for id in ids {
            if let Ok(o) = s::get_any_document(&st.app, u.actor(), &id).await {
                out.push(o);
            }
        }
        out
    };
    if docs.is_empty() {
        return Ok(None);
    }
    let columns = ["field-document", "field-issue-date", "field-status", "field-total"].iter().map(|k| tr.t(k)).collect();
    let rows = docs
        .iter()
        .map(|o| Row {
            cells: vec![doc_title(tr, o), o.issue_date.clone(), status_label(tr, o), money(tr, &o.total)],
            href: format!("{}/{}", base_of(&o.kind), o.id),
            archived: false,
            total: false,
        })
        .collect();
    Ok(Some(Section { title: tr.t("doc-chain"), columns, rows, action: None, num_from: 3 }))
}

fn allocation_section(tr: &Tr, d: &Document) -> Option<Section> {
    if d.allocations.is_empty() {
        return None;
    }
    let columns = vec![tr.t("field-document"), tr.t("field-amount")];
    let rows = d
        .allocations
        .iter()
        .map(|a| Row {
            cells: vec![a.document_id.chars().take(8).collect(), money(tr, &a.amount)],
            href: format!("/documents/{}", a.document_id),
            archived: false,
            total: false,
        })
        .collect();
    Some(Section { title: tr.t("doc-allocations"), columns, rows, action: None, num_from: 1 })
}

/// The buttons a document's state and the user's role allow.
/// Links (GET) and buttons (POST): `(address, label)` each.
type Actions = (Vec<(String, String)>, Vec<(String, String)>);

fn actions(u: &PageUser, tr: &Tr, d: &Document) -> Actions {
    let kind = DocKind::from_code(&d.kind).unwrap_or(DocKind::Order);
    let base = base_of(&d.kind);
    let res = s::resource(kind);
    let can = |a: Action, r: Resource| u.actor().can(a, r);
    let mut links = vec![];
    let mut posts = vec![];
    let id = &d.id;
    if d.status == "draft" && can(Action::Update, res) && kind.has_lines() && kind != DocKind::Delivery {
        links.push((format!("{base}/{id}/edit"), tr.t("edit")));
    }
    if can(Action::Read, res) {
        links.push((format!("{base}/{id}/pdf"), tr.t("doc-print")));
        if d.status != "draft" && d.status != "cancelled" && can(Action::Read, Resource::Customers) {
            links.push((format!("{base}/{id}/email"), tr.t("do-email")));
        }
    }
    match (kind, d.status.as_str()) {
        (DocKind::Quote, "draft") if can(Action::Update, res) => posts.push((format!("{base}/{id}/do/send"), tr.t("do-send"))),
        _ => {}
    }
    if kind == DocKind::Quote && matches!(d.status.as_str(), "draft" | "sent") && can(Action::Create, Resource::Sales) {
        posts.push((format!("{base}/{id}/convert"), tr.t("do-convert")));
        posts.push((format!("{base}/{id}/do/reject"), tr.t("do-reject")));
    }
    if kind == DocKind::Order {
        if d.status == "draft" && can(Action::Update, res) {
            posts.push((format!("{base}/{id}/do/confirm"), tr.t("do-confirm")));
        }
        if d.status == "confirmed" {
            if can(Action::Create, Resource::Deliveries) && d.lines.iter().any(|l| l.stocked && l.delivered != l.quantity) {
                links.push((format!("{base}/{id}/deliver"), tr.t("do-deliver")));
            }
            if can(Action::Create, Resource::Invoices) {
                links.push((format!("{base}/{id}/invoice"), tr.t("do-invoice")));
            }
            if can(Action::Update, res) {
                posts.push((format!("{base}/{id}/do/close"), tr.t("do-close")));
            }
        }
    }
    if matches!(kind, DocKind::Invoice | DocKind::CreditNote | DocKind::DebitNote) && d.status == "draft" && can(Action::Update, res) {
        posts.push((format!("{base}/{id}/do/post"), tr.t("do-post")));
    }
    if kind == DocKind::Invoice && d.status == "posted" && can(Action::Create, res) {
        links.push((format!("{base}/{id}/credit"), tr.t("do-credit")));
        if can(Action::Create, Resource::Receipts) && d.open_amount != "0.00" && !d.open_amount.starts_with('-') {
            links.push((format!("/receipts/new?customer_id={}", d.customer_id), tr.t("receipt-new")));
        }
    }
    let cancellable = match kind {
        DocKind::Quote => matches!(d.status.as_str(), "draft" | "sent"),
        DocKind::Order => {
            d.status == "draft" || (d.status == "confirmed" && d.lines.iter().all(|l| l.delivered == "0" && l.invoiced == "0"))
        }
        _ => d.status == "draft",
    };
    if cancellable && can(Action::Archive, res) {
        posts.push((format!("{base}/{id}/do/cancel"), tr.t("do-cancel")));
    }
    (links, posts)
}

async fn detail(st: AppState, u: PageUser, page: &'static KindPage, id: String) -> Response {
    let d = match s::get_document(&st.app, u.actor(), page.kind, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, doc_title(&tr, &d), page.base);
    let t = &l.tr;
    let mut facts = vec![
        (t.t("field-customer"), d.customer_name.clone()),
        (t.t("field-status"), status_label(t, &d)),
        (t.t("field-issue-date"), d.issue_date.clone()),
    ];
    let opt = |facts: &mut Vec<(String, String)>, key: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            facts.push((t.t(key), v.clone()));
        }
    };
    opt(&mut facts, "field-customer-tax-id", &d.customer_tax_id);
    opt(&mut facts, "field-due-date", &d.due_date);
    opt(&mut facts, "field-promised-date", &d.promised_date);
    opt(&mut facts, "field-valid-until", &d.valid_until);
    opt(&mut facts, "field-customer-reference", &d.customer_reference);
    opt(&mut facts, "field-reason", &d.reason);
    opt(&mut facts, "field-notes", &d.notes);
    facts.push((t.t("field-total"), money(t, &d.total)));
    if matches!(d.kind.as_str(), "invoice" | "debit_note" | "receipt" | "credit_note") && d.status == "posted" {
        facts.push((t.t(if d.kind == "receipt" { "field-unallocated" } else { "field-open-amount" }), money(t, &d.open_amount)));
    }
    opt(&mut facts, "field-credit-override-by", &d.credit_override_by);
    if let (Some(at), Some(by)) = (&d.posted_at, &d.posted_by) {
        facts.push((t.t("field-posted"), format!("{} · {by}", short_date(at))));
    }
    if let (Some(at), Some(by)) = (&d.confirmed_at, &d.confirmed_by) {
        facts.push((t.t("field-confirmed"), format!("{} · {by}", short_date(at))));
    }
    if let (Some(at), Some(by)) = (&d.cancelled_at, &d.cancelled_by) {
        facts.push((t.t("field-cancelled"), format!("{} · {by}", short_date(at))));
    }
    if let Some(token) = &d.tracking_token {
        facts.push((t.t("field-tracking-link"), format!("/track/{token}")));
    }
    let mut sections = vec![];
    if DocKind::from_code(&d.kind).is_some_and(|k| k.has_lines()) {
        sections.push(line_section(t, &d));
    }
    if let Ok(Some(c)) = chain_section(&st, &u, t, &d).await {
        sections.push(c);
    }
    if d.kind == "receipt" {
        sections.extend(allocation_section(t, &d));
    }
    let (links, posts) = actions(&u, t, &d);
    let history = app::audit::history(&st.app, u.actor(), s::resource(page.kind), page.kind.code(), &d.id).await.unwrap_or_default();
    let history = history
        .into_iter()
        .map(|mut h| {
            h.action = t.t(&format!("action-{}", h.action));
            h.at = h.at.replace('T', " ").chars().take(19).collect();
            h.changes.retain(|c| matches!(c.0.as_str(), "status" | "number" | "total" | "notes" | "issue_date" | "due_date" | "settled"));
            h
        })
        .collect();
    render(&DetailPage { l, archived: d.status == "cancelled", links, posts, facts, sections, panels: vec![], history })
}

/// `/documents/{id}`: any document, sent to its kind's page.
async fn any_document(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    match s::get_any_document(&st.app, u.actor(), &id).await {
        Ok(d) => Redirect::to(&format!("{}/{}", base_of(&d.kind), d.id)).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

async fn transition(
    st: AppState,
    u: PageUser,
    page: &'static KindPage,
    id: String,
    action: String,
    form: Vec<(String, String)>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let t = match action.as_str() {
        "send" => Transition::Send,
        "reject" => Transition::Reject,
        "confirm" => Transition::Confirm,
        "close" => Transition::Close,
        "post" => Transition::Post,
        "cancel" => Transition::Cancel,
        _ => return error_page(&st, &u, AppError::NotFound),
    };
    let opts = TransitionIn { override_credit_limit: Some(p.flag("override_credit_limit")) };
    match s::transition(&st.app, u.actor(), page.kind, &id, t, &opts).await {
        Ok(d) => Redirect::to(&format!("{}/{}?ok={}", page.base, d.id, action)).into_response(),
        Err(AppError::Refused("credit-limit-exceeded")) if u.actor().can(Action::Update, Resource::CreditOverride) => {
            override_page(&st, &u, page, &id)
        }
        Err(e) => error_page(&st, &u, e),
    }
}

/// A plain form of fields: shown again with the fields' messages and `error` (answered
/// 422 then) until it is accepted. A record's `version` in `values` goes along hidden.
pub(super) fn form_response(
    l: Layout,
    specs: Vec<FieldSpec>,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
    error: Option<String>,
    action: String,
    cancel: String,
) -> Response {
    let fields = fields(&l.tr, specs, values, errors);
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let hidden = values.get("version").filter(|v| !v.is_empty()).map(|v| vec![("version".to_string(), v.clone())]).unwrap_or_default();
    let page = FormPage { l, logo_card: false, has_logo: false, error, action, cancel, hidden, fields };
    (status, render(&page)).into_response()
}

/// Over the credit limit, a manager is asked whether to let the order through.
fn override_page(st: &AppState, u: &PageUser, page: &KindPage, id: &str) -> Response {
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("credit-limit-title"), page.base);
    let mut spec = super::req(super::f("override_credit_limit", "checkbox"));
    spec.wide = true;
    let (action, cancel) = (format!("{}/{id}/do/confirm", page.base), format!("{}/{id}", page.base));
    let mut r = form_response(l, vec![spec], &HashMap::new(), &FieldErrors::new(), Some(tr.t("credit-limit-exceeded")), action, cancel);
    *r.status_mut() = StatusCode::CONFLICT;
    r
}

async fn convert(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(form): Form<Vec<(String, String)>>) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    match s::convert_quote(&st.app, u.actor(), &id).await {
        Ok(o) => Redirect::to(&format!("/orders/{}?ok=created", o.id)).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- drafts

#[derive(Template)]
#[template(path = "document_form.html")]
pub(super) struct DocumentForm {
    pub(super) l: Layout,
    pub(super) error: Option<String>,
    pub(super) action: String,
    pub(super) cancel: String,
    pub(super) submit: String,
    pub(super) hidden: Vec<(String, String)>,
    pub(super) fields: Vec<Field>,
    pub(super) lines: Vec<LineRowIn>,
    pub(super) may_price: bool,
    pub(super) customers: Vec<String>,
    pub(super) products: Vec<(String, String)>,
}

pub(super) struct LineRowIn {
    pub(super) product: String,
    pub(super) description: String,
    pub(super) quantity: String,
    pub(super) price: String,
    pub(super) discount: String,
    pub(super) error: Option<String>,
}

fn header_specs(kind: DocKind) -> Vec<FieldSpec> {
    let mut v = vec![super::req(super::f("customer", "customer")), super::f("issue_date", "date")];
    match kind {
        DocKind::Quote => v.push(super::f("valid_until", "date")),
        DocKind::Order => v.push(super::f("promised_date", "date")),
        DocKind::Invoice | DocKind::DebitNote => v.push(super::f("due_date", "date")),
        _ => {}
    }
    v.push(super::f("customer_reference", "text"));
    v.push(super::f("notes", "textarea"));
    v
}

const BLANK_LINES: usize = 6;

async fn document_form(
    st: &AppState,
    u: &PageUser,
    page: &'static KindPage,
    id: Option<&str>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let tr = u.tr(st);
    let title = match id {
        None => tr.t(page.new.unwrap_or("edit")),
        Some(_) => format!("{} — {}", tr.t("edit"), values.get("title").cloned().unwrap_or_default()),
    };
    let l = layout(st, u, title, page.base);
    let mut fields = fields(&l.tr, header_specs(page.kind), &values, &errors);
    if let Some(f) = fields.iter_mut().find(|f| f.name == "customer") {
        f.error = errors.0.get("customer_id").map(|k| l.tr.t(k)).or(f.error.take());
    }
    let lines = line_rows(&l.tr, &values, &errors);
    let customers = customer_names(st, u).await;
    let products = product_options(st, u, &l.tr, false).await;
    let (action, cancel) = match id {
        None => (format!("{}/new", page.base), page.base.to_string()),
        Some(id) => (format!("{}/{id}/edit", page.base), format!("{}/{id}", page.base)),
    };
    let mut hidden = vec![];
    for k in ["version", "invoice_id"] {
        if let Some(v) = values.get(k).filter(|v| !v.is_empty()) {
            hidden.push((k.to_string(), v.clone()));
        }
    }
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let submit = l.tr.t("save-draft");
    let may_price = u.actor().can(Action::Update, Resource::PriceOverride);
    (status, render(&DocumentForm { l, error, action, cancel, submit, hidden, fields, lines, may_price, customers, products }))
        .into_response()
}

/// The line rows of a document form: those typed (or read) and a few blank ones, each
/// with its error.
pub(super) fn line_rows(tr: &Tr, values: &HashMap<String, String>, errors: &FieldErrors) -> Vec<LineRowIn> {
    let n = (0..1000).take_while(|i| values.contains_key(&format!("quantity_{i}")) || values.contains_key(&format!("product_{i}"))).count();
    (0..n.max(1) + BLANK_LINES)
        .map(|i| {
            let v = |k: &str| values.get(&format!("{k}_{i}")).cloned().unwrap_or_default();
            let error = errors
                .0
                .iter()
                .find(|(k, _)| k.starts_with(&format!("lines.{i}.")))
                .map(|(k, msg)| format!("{}: {}", tr.t(&super::label_key(k.rsplit('.').next().unwrap_or(""))), tr.t(msg)));
            LineRowIn {
                product: v("product"),
                description: v("description"),
                quantity: v("quantity"),
                price: v("price"),
                discount: v("discount"),
                error,
            }
        })
        .collect()
}

/// The articles a document form offers (its datalist): code, then name and the sale
/// price, or the cost when buying.
pub(super) async fn product_options(st: &AppState, u: &PageUser, tr: &Tr, cost: bool) -> Vec<(String, String)> {
    m::list_products(&st.app, u.actor(), &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| {
            p.items
                .into_iter()
                .map(|a| {
                    let price = if cost { &a.cost } else { &a.sale_price };
                    (a.code.clone(), format!("{} · {}", a.name, format_decimal(price, &tr.locale)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The customers' names a form offers to choose from (its datalist).
pub(super) async fn customer_names(st: &AppState, u: &PageUser) -> Vec<String> {
    m::list_parties(&st.app, u.actor(), PartyRole::Customer, &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

/// The customer (or supplier) a person typed: a name (exact, accents and case aside), a
/// code or a tax id.
pub(super) async fn resolve_party(st: &AppState, u: &PageUser, role: PartyRole, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let found = m::list_parties(&st.app, u.actor(), role, &ListParams { q: Some(text.into()), limit: Some(20), ..Default::default() })
        .await
        .ok()?;
    let folded = domain::text::fold(text);
    let exact: Vec<&m::Party> = found
        .items
        .iter()
        .filter(|p| {
            domain::text::fold(&p.name) == folded
                || p.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(text))
                || p.tax_id.as_deref() == Some(text)
        })
        .collect();
    match (exact.as_slice(), found.items.as_slice()) {
        ([one], _) => Some(one.id.clone()),
        ([], [only]) => Some(only.id.clone()),
        _ => Some(String::from("ambiguous")),
    }
}

/// The customer a person typed (see [`resolve_party`]).
pub(super) async fn resolve_customer(st: &AppState, u: &PageUser, text: &str) -> Option<String> {
    resolve_party(st, u, PartyRole::Customer, text).await
}

/// The customer of a form's `customer` field, if one was typed; a name that is no
/// customer's, or more than one's, is the field's error.
pub(super) async fn customer_field(st: &AppState, u: &PageUser, typed: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    party_field(st, u, PartyRole::Customer, typed, errors).await
}

/// The party of a form's `customer` or `supplier` field (see [`customer_field`]).
pub(super) async fn party_field(
    st: &AppState,
    u: &PageUser,
    role: PartyRole,
    typed: Option<String>,
    errors: &mut FieldErrors,
) -> Option<String> {
    let typed = typed?;
    let field = if role == PartyRole::Customer { "customer" } else { "supplier" };
    match resolve_party(st, u, role, &typed).await.as_deref() {
        Some("ambiguous") => {
            errors.add(field, &format!("{field}-ambiguous"));
            None
        }
        other => other.map(str::to_string).or_else(|| {
            errors.add(field, &format!("{field}-unknown"));
            None
        }),
    }
}

/// The article a person typed: its code (what the list offers), or a name only one has.
async fn resolve_product(st: &AppState, u: &PageUser, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let found =
        m::list_products(&st.app, u.actor(), &ListParams { q: Some(text.into()), limit: Some(20), ..Default::default() }).await.ok()?;
    let exact = found.items.iter().find(|p| p.code.eq_ignore_ascii_case(text) || domain::text::fold(&p.name) == domain::text::fold(text));
    match (exact, found.items.as_slice()) {
        (Some(p), _) => Some(p.id.clone()),
        (None, [only]) => Some(only.id.clone()),
        _ => Some(String::from("unknown")),
    }
}

async fn document_input(st: &AppState, u: &PageUser, p: &Posted, errors: &mut FieldErrors) -> DocumentIn {
    let text = |k: &str| p.text(k).filter(|v| !v.trim().is_empty());
    let customer_id = customer_field(st, u, text("customer"), errors).await;
    let lines = lines_input(st, u, p, errors).await;
    DocumentIn {
        customer_id,
        issue_date: text("issue_date"),
        due_date: text("due_date"),
        promised_date: text("promised_date"),
        valid_until: text("valid_until"),
        notes: p.text("notes"),
        customer_reference: p.text("customer_reference"),
        invoice_id: text("invoice_id"),
        lines: Some(lines),
        version: text("version").and_then(|v| v.parse().ok()),
        ..Default::default()
    }
}

/// The lines typed in a document form; blank rows are skipped, an article nobody has is
/// the row's error.
pub(super) async fn lines_input(st: &AppState, u: &PageUser, p: &Posted, errors: &mut FieldErrors) -> Vec<LineIn> {
    let text = |k: &str| p.text(k).filter(|v| !v.trim().is_empty());
    let mut lines = Vec::new();
    for i in 0..1000 {
        if !p.0.contains_key(&format!("quantity_{i}")) && !p.0.contains_key(&format!("product_{i}")) {
            break;
        }
        let product = text(&format!("product_{i}"));
        let quantity = text(&format!("quantity_{i}"));
        let description = text(&format!("description_{i}"));
        if product.is_none() && quantity.is_none() && description.is_none() {
            continue;
        }
        let product_id = match &product {
            Some(pt) => match resolve_product(st, u, pt).await {
                Some(id) if id != "unknown" => Some(id),
                _ => {
                    errors.add(&format!("lines.{i}.product_id"), "product-unknown");
                    None
                }
            },
            None => None,
        };
        lines.push(LineIn {
            product_id,
            description,
            quantity,
            unit_price: text(&format!("price_{i}")),
            discount: text(&format!("discount_{i}")),
            tax_rate_id: None,
        });
    }
    lines
}

/// Line errors name the line's position among the lines sent; the form shows them on the
/// row typed (blank rows in between are skipped when sending).
pub(super) fn remap_line_errors(p: &Posted, errors: FieldErrors) -> FieldErrors {
    let mut rows = Vec::new();
    for i in 0..1000 {
        if !p.0.contains_key(&format!("quantity_{i}")) && !p.0.contains_key(&format!("product_{i}")) {
            break;
        }
        let blank = ["product", "quantity", "description"].iter().all(|k| p.0.get(&format!("{k}_{i}")).is_none_or(|v| v.trim().is_empty()));
        if !blank {
            rows.push(i);
        }
    }
    let mut out = FieldErrors::new();
    for (k, v) in errors.0 {
        let key = match k.strip_prefix("lines.").and_then(|r| r.split_once('.')) {
            Some((n, field)) => match n.parse::<usize>().ok().and_then(|n| rows.get(n)) {
                Some(row) => format!("lines.{row}.{field}"),
                None => k,
            },
            None if k == "customer_id" => "customer".to_string(),
            None if k == "supplier_id" => "supplier".to_string(),
            None => k,
        };
        out.add(&key, &v);
    }
    out
}

async fn save_draft(st: AppState, u: PageUser, page: &'static KindPage, id: Option<String>, form: Vec<(String, String)>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let mut errors = FieldErrors::new();
    let input = document_input(&st, &u, &p, &mut errors).await;
    let result = if !errors.is_empty() {
        Err(AppError::Invalid(errors))
    } else {
        match &id {
            None => s::create_document(&st.app, u.actor(), page.kind, &input).await,
            Some(id) => s::update_document(&st.app, u.actor(), page.kind, id, &input).await,
        }
    };
    match result {
        Ok(d) => Redirect::to(&format!("{}/{}?ok=saved", page.base, d.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let e = remap_line_errors(&p, e);
            let msg = u.tr(&st).t("error-validation");
            document_form(&st, &u, page, id.as_deref(), p.0.clone(), e, Some(msg)).await
        }
        Err(AppError::Refused(k)) => {
            let msg = u.tr(&st).t(k);
            document_form(&st, &u, page, id.as_deref(), p.0.clone(), FieldErrors::new(), Some(msg)).await
        }
        Err(AppError::Conflict) => {
            let msg = u.tr(&st).t("error-conflict");
            document_form(&st, &u, page, id.as_deref(), p.0.clone(), FieldErrors::new(), Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn new_form(st: AppState, u: PageUser, page: &'static KindPage, q: HashMap<String, String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, s::resource(page.kind)) {
        return error_page(&st, &u, e);
    }
    let mut values = HashMap::new();
    if let Some(c) = q.get("customer_id") {
        if let Ok(p) = m::get_party(&st.app, u.actor(), PartyRole::Customer, c).await {
            values.insert("customer".to_string(), p.name);
        }
    }
    document_form(&st, &u, page, None, values, FieldErrors::new(), None).await
}

async fn edit_form(st: AppState, u: PageUser, page: &'static KindPage, id: String) -> Response {
    let d = match s::get_document(&st.app, u.actor(), page.kind, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(&st, &u, e),
    };
    if let Err(e) = u.actor().authorize(Action::Update, s::resource(page.kind)) {
        return error_page(&st, &u, e);
    }
    let tr = u.tr(&st);
    let mut values: HashMap<String, String> = HashMap::new();
    values.insert("title".into(), doc_title(&tr, &d));
    values.insert("customer".into(), d.customer_name.clone());
    values.insert("version".into(), d.version.to_string());
    for (k, v) in [
        ("issue_date", Some(d.issue_date.clone())),
        ("due_date", d.due_date.clone()),
        ("promised_date", d.promised_date.clone()),
        ("valid_until", d.valid_until.clone()),
        ("notes", d.notes.clone()),
        ("customer_reference", d.customer_reference.clone()),
    ] {
        values.insert(k.into(), v.unwrap_or_default());
    }
    let products = m::list_products(&st.app, u.actor(), &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    for (i, l) in d.lines.iter().enumerate() {
        let code = match &l.product_id {
            Some(pid) => match products.iter().find(|p| &p.id == pid) {
                Some(p) => p.code.clone(),
                None => m::get_product(&st.app, u.actor(), pid).await.map(|p| p.code).unwrap_or_default(),
            },
            None => String::new(),
        };
        values.insert(format!("product_{i}"), code);
        values.insert(format!("description_{i}"), l.description.clone());
        values.insert(format!("quantity_{i}"), l.quantity.clone());
        values.insert(format!("price_{i}"), l.unit_price.clone());
        values.insert(format!("discount_{i}"), if l.discount == "0" { String::new() } else { l.discount.clone() });
    }
    document_form(&st, &u, page, Some(&id), values, FieldErrors::new(), None).await
}

// ---------------------------------------------------------------- deliver, invoice, credit

#[derive(Template)]
#[template(path = "part_form.html")]
pub(super) struct PartForm {
    pub(super) l: Layout,
    pub(super) lead: String,
    pub(super) error: Option<String>,
    pub(super) action: String,
    pub(super) cancel: String,
    pub(super) submit: String,
    pub(super) columns: Vec<String>,
    pub(super) qty_label: String,
    pub(super) rows: Vec<PartRow>,
    pub(super) fields: Vec<Field>,
}

pub(super) struct PartRow {
    pub(super) line_id: String,
    pub(super) description: String,
    pub(super) cells: Vec<String>,
    pub(super) quantity: String,
    pub(super) error: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Deliver,
    Invoice,
    Credit,
}

fn left(part: Part, l: &s::Line) -> String {
    let n = |v: &str| domain::money::parse_scaled(v, 3, true).unwrap_or(0);
    let v = match part {
        Part::Deliver => n(&l.quantity) - n(&l.delivered),
        Part::Invoice if l.stocked => n(&l.delivered) - n(&l.invoiced),
        Part::Invoice => n(&l.quantity) - n(&l.invoiced),
        Part::Credit => n(&l.quantity) - n(&l.credited),
    };
    domain::money::format_trimmed(v.max(0), 3)
}

async fn part_form(st: &AppState, u: &PageUser, part: Part, id: &str, typed: Option<&Posted>, error: Option<String>) -> Response {
    let kind = if part == Part::Credit { DocKind::Invoice } else { DocKind::Order };
    let d = match s::get_document(&st.app, u.actor(), kind, id).await {
        Ok(d) => d,
        Err(e) => return error_page(st, u, e),
    };
    let tr = u.tr(st);
    let (title, submit, qty) = match part {
        Part::Deliver => ("do-deliver", "deliver-submit", "field-to-deliver"),
        Part::Invoice => ("do-invoice", "invoice-submit", "field-to-invoice"),
        Part::Credit => ("do-credit", "credit-submit", "field-to-credit"),
    };
    let l = layout(st, u, format!("{} · {}", tr.t(title), doc_title(&tr, &d)), base_of(&d.kind));
    let t = &l.tr;
    let columns = match part {
        Part::Deliver => vec![t.t("field-quantity"), t.t("field-delivered")],
        Part::Invoice => vec![t.t("field-quantity"), t.t("field-delivered"), t.t("field-invoiced")],
        Part::Credit => vec![t.t("field-quantity"), t.t("field-unit-price"), t.t("field-credited")],
    };
    let rows = d
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| part != Part::Deliver || l.stocked)
        .map(|(i, l)| PartRow {
            line_id: l.id.clone(),
            description: l.description.clone(),
            cells: match part {
                Part::Deliver => vec![format_decimal(&l.quantity, &t.locale), format_decimal(&l.delivered, &t.locale)],
                Part::Invoice => vec![
                    format_decimal(&l.quantity, &t.locale),
                    if l.stocked { format_decimal(&l.delivered, &t.locale) } else { "—".into() },
                    format_decimal(&l.invoiced, &t.locale),
                ],
                Part::Credit => {
                    vec![format_decimal(&l.quantity, &t.locale), money(t, &l.unit_price), format_decimal(&l.credited, &t.locale)]
                }
            },
            quantity: typed.and_then(|p| p.text(&format!("qty_{i}"))).unwrap_or_else(|| left(part, l)),
            error: None,
        })
        .collect();
    let values: HashMap<String, String> = typed.map(|p| p.0.clone()).unwrap_or_default();
    let specs = match part {
        Part::Deliver => {
            let whs = st::list_warehouses(&st.app, u.actor()).await.unwrap_or_default();
            vec![
                super::select("warehouse_id", whs.into_iter().filter(|w| !w.archived).map(|w| (w.id, w.name)).collect()),
                super::f("issue_date", "date"),
            ]
        }
        Part::Invoice => vec![super::f("issue_date", "date"), super::f("post", "checkbox")],
        Part::Credit => vec![super::f("reason", "text"), super::f("returns_goods", "checkbox")],
    };
    let mut values = values;
    if typed.is_none() && part == Part::Invoice {
        values.insert("post".into(), "on".into());
    }
    let fields = fields(t, specs, &values, &FieldErrors::new());
    let lead = format!("{} · {}", d.customer_name, money(t, &d.total));
    let base = base_of(&d.kind);
    let action = format!(
        "{base}/{}/{}",
        d.id,
        match part {
            Part::Deliver => "deliver",
            Part::Invoice => "invoice",
            Part::Credit => "credit",
        }
    );
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = PartForm {
        lead,
        error,
        action,
        cancel: format!("{base}/{}", d.id),
        submit: t.t(submit),
        columns,
        qty_label: t.t(qty),
        rows,
        fields,
        l,
    };
    (status, render(&page)).into_response()
}

fn part_input(p: &Posted) -> PartIn {
    let mut lines = Vec::new();
    for i in 0..1000 {
        let Some(line_id) = p.text(&format!("line_{i}")) else { break };
        let q = p.text(&format!("qty_{i}")).unwrap_or_default();
        if q.trim().is_empty() || domain::money::parse_scaled(&q, 3, false) == Ok(0) {
            continue;
        }
        lines.push(PartLineIn { line_id, quantity: Some(q) });
    }
    PartIn {
        lines: Some(lines),
        warehouse_id: p.text("warehouse_id").filter(|v| !v.is_empty()),
        post: Some(p.flag("post")),
        issue_date: p.text("issue_date").filter(|v| !v.is_empty()),
        reason: p.text("reason").filter(|v| !v.is_empty()),
        returns_goods: Some(p.flag("returns_goods")),
    }
}

async fn part_post(st: AppState, u: PageUser, part: Part, id: String, form: Vec<(String, String)>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = part_input(&p);
    if input.lines.as_ref().is_some_and(|l| l.is_empty()) {
        let msg = u.tr(&st).t("nothing-selected");
        return part_form(&st, &u, part, &id, Some(&p), Some(msg)).await;
    }
    let r = match part {
        Part::Deliver => s::deliver_order(&st.app, u.actor(), &id, &input).await,
        Part::Invoice => s::invoice_order(&st.app, u.actor(), &id, &input).await,
        Part::Credit => s::credit_invoice(&st.app, u.actor(), &id, &input).await,
    };
    match r {
        Ok(d) => Redirect::to(&format!("{}/{}?ok=created", base_of(&d.kind), d.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let tr = u.tr(&st);
            let msg = e.0.values().map(|k| tr.t(k)).collect::<Vec<_>>().join(" ");
            part_form(&st, &u, part, &id, Some(&p), Some(msg)).await
        }
        Err(AppError::Refused(k)) => {
            let msg = u.tr(&st).t(k);
            part_form(&st, &u, part, &id, Some(&p), Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- receipts

async fn receipt_form(
    st: &AppState,
    u: &PageUser,
    customer_id: Option<&str>,
    typed: Option<&Posted>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Receipts) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let customer = match customer_id {
        Some(c) => m::get_party(&st.app, u.actor(), PartyRole::Customer, c).await.ok(),
        None => None,
    };
    let l = layout(st, u, tr.t("receipt-new"), "/receipts");
    let mut values: HashMap<String, String> = typed.map(|p| p.0.clone()).unwrap_or_default();
    let Some(customer) = customer else {
        // First pick the customer (a GET form back to this page).
        let fields = fields(&l.tr, vec![super::req(super::f("customer", "customer"))], &values, &errors);
        let customers = m::list_parties(&st.app, u.actor(), PartyRole::Customer, &ListParams { limit: Some(200), ..Default::default() })
            .await
            .map(|p| p.items.into_iter().map(|c| c.name).collect())
            .unwrap_or_default();
        let submit = l.tr.t("continue");
        let page = DocumentForm {
            l,
            error,
            action: "/receipts/new".into(),
            cancel: "/receipts".into(),
            submit,
            hidden: vec![],
            fields,
            lines: vec![],
            may_price: false,
            customers,
            products: vec![],
        };
        return render(&page);
    };
    let ageing = ar::statement(&st.app, u.actor(), &customer.id, &AgeingParams::default()).await;
    let open: Vec<ar::StatementEntry> =
        ageing.map(|s| s.entries.into_iter().filter(|e| e.open != "0.00" && !e.open.starts_with('-')).collect()).unwrap_or_default();
    let owed: i64 = open.iter().filter_map(|e| domain::money::parse_scaled(&e.open, 2, true).ok()).sum();
    values.entry("amount".into()).or_insert_with(|| domain::money::format_scaled(owed, 2));
    let rows = open
        .iter()
        .enumerate()
        .map(|(i, e)| PartRow {
            line_id: e.document_id.clone(),
            description: format!("{} {}", l.tr.t(&format!("kind-{}", e.kind)), e.number.clone().unwrap_or_default()),
            cells: vec![e.date.clone(), e.due_date.clone().unwrap_or_default(), money(&l.tr, &e.open)],
            quantity: typed.and_then(|p| p.text(&format!("qty_{i}"))).unwrap_or_default(),
            error: None,
        })
        .collect();
    let specs = vec![
        super::req(super::f("amount", "text")),
        super::f("issue_date", "date"),
        super::f("advance", "checkbox"),
        super::f("notes", "text"),
    ];
    let fields = fields(&l.tr, specs, &values, &errors);
    let page = PartForm {
        lead: format!("{} · {} {}", customer.name, l.tr.t("field-open-amount"), money(&l.tr, &domain::money::format_scaled(owed, 2))),
        error,
        action: format!("/receipts/new?customer_id={}", customer.id),
        cancel: "/receipts".into(),
        submit: l.tr.t("receipt-submit"),
        columns: vec![l.tr.t("field-issue-date"), l.tr.t("field-due-date"), l.tr.t("field-open-amount")],
        qty_label: l.tr.t("field-allocate"),
        rows,
        fields,
        l,
    };
    let status = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

async fn receipt_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    receipt_form(&st, &u, q.get("customer_id").map(String::as_str), None, FieldErrors::new(), None).await
}

async fn receipt_post(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let Some(customer_id) = q.get("customer_id").cloned() else {
        // The first step: which customer.
        return match resolve_customer(&st, &u, &p.text("customer").unwrap_or_default()).await {
            Some(id) if id != "ambiguous" => Redirect::to(&format!("/receipts/new?customer_id={id}")).into_response(),
            other => {
                let key = if other.is_some() { "customer-ambiguous" } else { "customer-unknown" };
                receipt_form(&st, &u, None, Some(&p), FieldErrors::single("customer", key), Some(u.tr(&st).t("error-validation"))).await
            }
        };
    };
    let mut allocations = Vec::new();
    for i in 0..1000 {
        let Some(inv) = p.text(&format!("line_{i}")) else { break };
        if let Some(a) = p.text(&format!("qty_{i}")).filter(|a| !a.trim().is_empty()) {
            allocations.push(s::AllocationIn { invoice_id: inv, amount: a });
        }
    }
    let input = ReceiptIn {
        customer_id: Some(customer_id.clone()),
        amount: p.text("amount"),
        issue_date: p.text("issue_date").filter(|v| !v.is_empty()),
        allocations: (!allocations.is_empty()).then_some(allocations),
        advance: Some(p.flag("advance")),
        notes: p.text("notes").filter(|v| !v.is_empty()),
    };
    match s::create_receipt(&st.app, u.actor(), &input).await {
        Ok(d) => Redirect::to(&format!("/receipts/{}?ok=created", d.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            let detail = e.0.values().map(|k| u.tr(&st).t(k)).collect::<Vec<_>>().join(" ");
            receipt_form(&st, &u, Some(&customer_id), Some(&p), e, Some(format!("{msg} {detail}"))).await
        }
        Err(AppError::Refused(k)) => receipt_form(&st, &u, Some(&customer_id), Some(&p), FieldErrors::new(), Some(u.tr(&st).t(k))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- stock

async fn product_names(st: &AppState, u: &PageUser) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    let mut cursor = None;
    for _ in 0..50 {
        let Ok(page) =
            m::list_products(&st.app, u.actor(), &ListParams { limit: Some(200), cursor: cursor.clone(), ..Default::default() }).await
        else {
            break;
        };
        for p in page.items {
            out.insert(p.id, (p.code, p.name));
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    out
}

async fn stock_page(State(st): State<AppState>, u: PageUser) -> Response {
    let levels = match st::levels(&st.app, u.actor(), &StockParams::default()).await {
        Ok(l) => l,
        Err(e) => return error_page(&st, &u, e),
    };
    let names = product_names(&st, &u).await;
    let warehouses: HashMap<String, String> =
        st::list_warehouses(&st.app, u.actor()).await.unwrap_or_default().into_iter().map(|w| (w.id, w.name)).collect();
    let tr = u.tr(&st);
    let l = layout(&st, &u, tr.t("nav-stock"), "/stock");
    let t = &l.tr;
    let columns = ["field-code", "field-name", "field-warehouse", "field-on-hand", "field-reserved", "field-available"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let mut rows: Vec<Row> = levels
        .iter()
        .map(|lv| {
            let (code, name) = names.get(&lv.product_id).cloned().unwrap_or_default();
            Row {
                cells: vec![
                    code,
                    name,
                    warehouses.get(&lv.warehouse_id).cloned().unwrap_or_default(),
                    format_decimal(&lv.on_hand, &t.locale),
                    format_decimal(&lv.reserved, &t.locale),
                    format_decimal(&lv.available, &t.locale),
                ],
                href: format!("/stock/card?product_id={}&warehouse_id={}", lv.product_id, lv.warehouse_id),
                archived: false,
                total: false,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.cells[0].cmp(&b.cells[0]));
    let action = u.actor().can(Action::Create, Resource::Stock).then(|| ("/stock/adjust".to_string(), t.t("stock-adjust")));
    let whs = st::list_warehouses(&st.app, u.actor()).await.unwrap_or_default();
    let wh_rows = whs
        .into_iter()
        .map(|w| Row {
            cells: vec![w.code, w.name, w.address.unwrap_or_default(), if w.is_default { t.t("yes") } else { String::new() }],
            href: String::new(),
            archived: w.archived,
            total: false,
        })
        .collect();
    let wh_columns = ["field-code", "field-name", "field-address", "field-default"].iter().map(|k| t.t(k)).collect();
    let wh_action = u.actor().can(Action::Create, Resource::Stock).then(|| ("/warehouses/new".to_string(), t.t("warehouse-new")));
    let sections = vec![
        Section { title: t.t("stock-levels"), columns, rows, action, num_from: 3 },
        Section { title: t.t("warehouses"), columns: wh_columns, rows: wh_rows, action: wh_action, num_from: usize::MAX },
    ];
    let mut links = vec![
        ("/stock/valuation".to_string(), t.t("stock-valuation")),
        ("/transfers".to_string(), t.t("nav-transfers")),
        ("/stock-counts".to_string(), t.t("nav-stock-counts")),
    ];
    if u.actor().can(Action::Update, Resource::Company) {
        links.push(("/settings/sales".to_string(), t.t("settings-sales")));
    }
    render(&DetailPage { l, archived: false, links, posts: vec![], facts: vec![], sections, panels: vec![], history: vec![] })
}

/// The page of the document that caused a move: a sales or purchase document, or by its
/// kind a transfer, a count or a production order.
fn move_source(mv: &st::StockMove) -> String {
    match (&mv.document_id, &mv.stock_document_id) {
        (Some(d), _) => format!("/documents/{d}"),
        (None, Some(d)) => match mv.kind.as_str() {
            "transfer_out" | "transfer_in" => format!("/transfers/{d}"),
            "count" => format!("/stock-counts/{d}"),
            _ => format!("/production/{d}"),
        },
        (None, None) => String::new(),
    }
}

async fn card_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = StockParams {
        product_id: q.get("product_id").cloned(),
        warehouse_id: q.get("warehouse_id").cloned(),
        cursor: q.get("cursor").cloned(),
        limit: Some(200),
    };
    let card = match st::card(&st.app, u.actor(), &params).await {
        Ok(c) => c,
        Err(e) => return error_page(&st, &u, e),
    };
    let product = match m::get_product(&st.app, u.actor(), params.product_id.as_deref().unwrap_or_default()).await {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, format!("{} · {} {}", tr.t("stock-card"), product.code, product.name), "/stock");
    let t = &l.tr;
    let columns = ["field-date", "field-kind", "field-document", "field-reason", "field-user", "field-quantity", "field-balance"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let rows = card
        .items
        .iter()
        .map(|mv| Row {
            cells: vec![
                short_date(&mv.at),
                t.t(&format!("move-{}", mv.kind)),
                mv.document_number.clone().unwrap_or_default(),
                mv.reason.clone().unwrap_or_default(),
                mv.created_by.clone(),
                format_decimal(&mv.quantity, &t.locale),
                format_decimal(&mv.balance, &t.locale),
            ],
            href: move_source(mv),
            archived: false,
            total: false,
        })
        .collect();
    let mut links = vec![("/stock".to_string(), t.t("nav-stock"))];
    if let Some(c) = card.next_cursor {
        links.push((
            format!("/stock/card?product_id={}&warehouse_id={}&cursor={c}", product.id, params.warehouse_id.unwrap_or_default()),
            t.t("next-page"),
        ));
    }
    let sections = vec![Section { title: t.t("stock-moves"), columns, rows, action: None, num_from: 5 }];
    render(&DetailPage { l, archived: false, links, posts: vec![], facts: vec![], sections, panels: vec![], history: vec![] })
}

async fn adjust_form(st: &AppState, u: &PageUser, values: HashMap<String, String>, errors: FieldErrors, error: Option<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Stock) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("stock-adjust"), "/stock");
    let whs = st::list_warehouses(&st.app, u.actor()).await.unwrap_or_default();
    let specs = vec![
        super::req(super::f("product", "text")),
        super::select("warehouse_id", whs.into_iter().filter(|w| !w.archived).map(|w| (w.id, w.name)).collect()),
        super::req(super::f("quantity", "text")),
        super::req(super::f("reason", "text")),
    ];
    form_response(l, specs, &values, &errors, error, "/stock/adjust".into(), "/stock".into())
}

async fn adjust_get(State(st): State<AppState>, u: PageUser) -> Response {
    adjust_form(&st, &u, HashMap::new(), FieldErrors::new(), None).await
}

async fn adjust_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let product_id = match resolve_product(&st, &u, &p.text("product").unwrap_or_default()).await {
        Some(id) if id != "unknown" => Some(id),
        _ => {
            let msg = u.tr(&st).t("error-validation");
            return adjust_form(&st, &u, p.0.clone(), FieldErrors::single("product", "product-unknown"), Some(msg)).await;
        }
    };
    let input = AdjustmentIn { product_id, warehouse_id: p.text("warehouse_id"), quantity: p.text("quantity"), reason: p.text("reason") };
    match st::adjust(&st.app, u.actor(), &input).await {
        Ok(mv) => {
            Redirect::to(&format!("/stock/card?product_id={}&warehouse_id={}&ok=saved", mv.product_id, mv.warehouse_id)).into_response()
        }
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            let mut e2 = FieldErrors::new();
            for (k, v) in e.0 {
                e2.add(if k == "product_id" { "product" } else { &k }, &v);
            }
            adjust_form(&st, &u, p.0.clone(), e2, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn settings_form(
    st: &AppState,
    u: &PageUser,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    if let Err(e) = u.actor().authorize(Action::Update, Resource::Company) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("settings-sales"), "/stock");
    let specs = vec![
        super::f("allow_negative_stock", "checkbox"),
        super::f("point_of_sale", "number"),
        super::f("customer_inactive_after_days", "number"),
        super::f("receive_tolerance_percent", "text"),
        super::f("segregate_supplier_payments", "checkbox"),
    ];
    form_response(l, specs, &values, &errors, error, "/settings/sales".into(), "/stock".into())
}

async fn settings_get(State(st): State<AppState>, u: PageUser) -> Response {
    match st::settings(&st.app, u.actor()).await {
        Ok(s) => {
            let mut v = HashMap::new();
            v.insert("allow_negative_stock".to_string(), if s.allow_negative_stock { "on".into() } else { String::new() });
            v.insert("point_of_sale".to_string(), s.point_of_sale.to_string());
            v.insert("customer_inactive_after_days".to_string(), s.customer_inactive_after_days.to_string());
            v.insert("receive_tolerance_percent".to_string(), s.receive_tolerance_percent);
            v.insert("segregate_supplier_payments".to_string(), if s.segregate_supplier_payments { "on".into() } else { String::new() });
            settings_form(&st, &u, v, FieldErrors::new(), None).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn settings_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let pos = p.text("point_of_sale").unwrap_or_default();
    let Ok(pos) = pos.trim().parse::<i64>() else {
        let msg = u.tr(&st).t("error-validation");
        return settings_form(&st, &u, p.0.clone(), FieldErrors::single("point_of_sale", "point-of-sale-invalid"), Some(msg)).await;
    };
    let Ok(days) = p.text("customer_inactive_after_days").unwrap_or_default().trim().parse::<i64>() else {
        let msg = u.tr(&st).t("error-validation");
        let e = FieldErrors::single("customer_inactive_after_days", "inactive-days-invalid");
        return settings_form(&st, &u, p.0.clone(), e, Some(msg)).await;
    };
    let input = st::SalesSettingsIn {
        allow_negative_stock: Some(p.flag("allow_negative_stock")),
        point_of_sale: Some(pos),
        customer_inactive_after_days: Some(days),
        receive_tolerance_percent: p.text("receive_tolerance_percent").filter(|v| !v.trim().is_empty()).or(Some("0".into())),
        segregate_supplier_payments: Some(p.flag("segregate_supplier_payments")),
    };
    match st::update_settings(&st.app, u.actor(), &input).await {
        Ok(_) => Redirect::to("/stock?ok=saved").into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            settings_form(&st, &u, p.0.clone(), e, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn warehouse_form(
    st: &AppState,
    u: &PageUser,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Stock) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("warehouse-new"), "/stock");
    let specs = vec![super::req(super::f("code", "text")), super::req(super::f("name", "text")), super::f("address", "text")];
    form_response(l, specs, &values, &errors, error, "/warehouses/new".into(), "/stock".into())
}

async fn warehouse_get(State(st): State<AppState>, u: PageUser) -> Response {
    warehouse_form(&st, &u, HashMap::new(), FieldErrors::new(), None).await
}

async fn warehouse_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = st::WarehouseIn { code: p.text("code"), name: p.text("name"), address: p.text("address"), ..Default::default() };
    match st::save_warehouse(&st.app, u.actor(), None, &input).await {
        Ok(_) => Redirect::to("/stock?ok=created").into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            warehouse_form(&st, &u, p.0.clone(), e, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- receivables

/// A row of an ageing table: the name, then each bucket and the total.
pub(super) fn bucket_cells(t: &Tr, name: String, b: &ar::Buckets) -> Vec<String> {
    vec![
        name,
        money(t, &b.current),
        money(t, &b.days_1_30),
        money(t, &b.days_31_60),
        money(t, &b.days_61_90),
        money(t, &b.over_90),
        money(t, &b.total),
    ]
}

async fn receivables_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = AgeingParams { as_of: q.get("as_of").cloned().filter(|v| !v.is_empty()), customer_id: None };
    let ageing = match ar::ageing(&st.app, u.actor(), &params).await {
        Ok(a) => a,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, format!("{} · {}", tr.t("nav-receivables"), ageing.as_of), "/receivables");
    let t = &l.tr;
    let columns = ["field-customer", "ageing-current", "ageing-1-30", "ageing-31-60", "ageing-61-90", "ageing-over-90", "field-total"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let cells = |name: String, b: &ar::Buckets| bucket_cells(t, name, b);
    let mut rows: Vec<Row> = ageing
        .items
        .iter()
        .map(|r| Row {
            cells: cells(r.customer_name.clone(), &r.buckets),
            href: format!("/customers/{}/statement", r.customer_id),
            archived: false,
            total: false,
        })
        .collect();
    rows.push(Row { cells: cells(t.t("field-total"), &ageing.totals), href: String::new(), archived: false, total: true });
    let sections = vec![Section { title: t.t("ageing-title"), columns, rows, action: None, num_from: 1 }];
    render(&DetailPage { l, archived: false, links: vec![], posts: vec![], facts: vec![], sections, panels: vec![], history: vec![] })
}

async fn statement_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let stmt = match ar::statement(&st.app, u.actor(), &id, &AgeingParams::default()).await {
        Ok(s) => s,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, format!("{} · {}", tr.t("statement-title"), stmt.customer_name), "/receivables");
    let t = &l.tr;
    let facts = vec![
        (t.t("field-customer"), stmt.customer_name.clone()),
        (t.t("field-as-of"), stmt.as_of.clone()),
        (t.t("field-balance"), money(t, &stmt.balance)),
        (t.t("ageing-current"), money(t, &stmt.ageing.current)),
        (t.t("ageing-1-30"), money(t, &stmt.ageing.days_1_30)),
        (t.t("ageing-31-60"), money(t, &stmt.ageing.days_31_60)),
        (t.t("ageing-61-90"), money(t, &stmt.ageing.days_61_90)),
        (t.t("ageing-over-90"), money(t, &stmt.ageing.over_90)),
    ];
    let columns =
        ["field-document", "field-issue-date", "field-due-date", "field-debit", "field-credit", "field-balance", "field-open-amount"]
            .iter()
            .map(|k| t.t(k))
            .collect();
    let rows = stmt
        .entries
        .iter()
        .map(|e| Row {
            cells: vec![
                format!("{} {}", t.t(&format!("kind-{}", e.kind)), e.number.clone().unwrap_or_default()),
                e.date.clone(),
                e.due_date.clone().unwrap_or_default(),
                money(t, &e.debit),
                money(t, &e.credit),
                money(t, &e.balance),
                money(t, &e.open),
            ],
            href: format!("{}/{}", base_of(&e.kind), e.document_id),
            archived: false,
            total: false,
        })
        .collect();
    let links = vec![
        (format!("/customers/{}/statement/pdf", stmt.customer_id), t.t("doc-print")),
        (format!("/customers/{}", stmt.customer_id), t.t("field-customer")),
    ];
    let sections = vec![Section { title: t.t("statement-entries"), columns, rows, action: None, num_from: 3 }];
    render(&DetailPage { l, archived: false, links, posts: vec![], facts, sections, panels: vec![], history: vec![] })
}

// ---------------------------------------------------------------- tracking

/// What the customer sees at the link they were given: no log-in, no prices of others.
async fn track_page(State(st): State<AppState>, headers: axum::http::HeaderMap, Path(token): Path<String>) -> Response {
    let locale = super::page_locale(&headers);
    let (order, chain) = match s::track(&st.app, &token).await {
        Ok(v) => v,
        Err(_) => return super::not_found_page(State(st), headers).await,
    };
    let tr = super::tr(&st, locale);
    let mut l = super::anon_layout(&st, locale, "track-title", String::new());
    l.title = format!("{} · {}", tr.t("track-title"), doc_title(&tr, &order));
    let t = &l.tr;
    let facts = vec![
        (t.t("field-customer"), order.customer_name.clone()),
        (t.t("field-status"), status_label(t, &order)),
        (t.t("field-issue-date"), order.issue_date.clone()),
        (t.t("field-promised-date"), order.promised_date.clone().unwrap_or_default()),
        (t.t("field-total"), money(t, &order.total)),
    ];
    let mut sections = vec![line_section(t, &order)];
    let columns = ["field-document", "field-issue-date", "field-status"].iter().map(|k| t.t(k)).collect();
    let rows = chain
        .iter()
        .map(|o| Row {
            cells: vec![doc_title(t, o), o.issue_date.clone(), status_label(t, o)],
            href: String::new(),
            archived: false,
            total: false,
        })
        .collect();
    sections.push(Section { title: t.t("doc-chain"), columns, rows, action: None, num_from: usize::MAX });
    render(&DetailPage { l, archived: false, links: vec![], posts: vec![], facts, sections, panels: vec![], history: vec![] })
}

// ---------------------------------------------------------------- printing and e-mail

async fn pdf_page(st: AppState, u: PageUser, page: &'static KindPage, id: String) -> Response {
    let locale = u.session.actor.locale.clone();
    match crate::printing::document_pdf(&st, u.actor(), &locale, page.kind, &id).await {
        Ok((name, bytes)) => crate::printing::pdf_response(&name, bytes),
        Err(e) => error_page(&st, &u, e),
    }
}

async fn statement_pdf_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let locale = u.session.actor.locale.clone();
    match crate::printing::statement_pdf(&st, u.actor(), &locale, &id).await {
        Ok((name, bytes)) => crate::printing::pdf_response(&name, bytes),
        Err(e) => error_page(&st, &u, e),
    }
}

async fn email_form(
    st: &AppState,
    u: &PageUser,
    page: &'static KindPage,
    id: &str,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let d = match s::get_document(&st.app, u.actor(), page.kind, id).await {
        Ok(d) => d,
        Err(e) => return error_page(st, u, e),
    };
    let tr = u.tr(st);
    let l = layout(st, u, format!("{} · {}", tr.t("do-email"), doc_title(&tr, &d)), page.base);
    let mut values = values;
    if !values.contains_key("to") {
        let email =
            m::get_party(&st.app, u.actor(), PartyRole::Customer, &d.customer_id).await.ok().and_then(|p| p.email).unwrap_or_default();
        values.insert("to".into(), email);
    }
    form_response(l, email_specs(), &values, &errors, error, format!("{}/{id}/email", page.base), format!("{}/{id}", page.base))
}

/// What an e-mail form asks to send: recipients separated by commas or semicolons.
pub(super) fn email_input(p: &Posted) -> s::EmailIn {
    let to: Vec<String> =
        p.text("to").unwrap_or_default().split([',', ';']).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    s::EmailIn { to: Some(to), subject: p.text("subject"), message: p.text("message") }
}

/// The fields of an e-mail form.
pub(super) fn email_specs() -> Vec<FieldSpec> {
    vec![super::req(super::f("to", "email")), super::f("subject", "text"), super::f("message", "textarea")]
}

async fn email_post(st: AppState, u: PageUser, page: &'static KindPage, id: String, form: Vec<(String, String)>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = email_input(&p);
    let locale = u.session.actor.locale.clone();
    match crate::printing::email_document(&st, u.actor(), &locale, page.kind, &id, &input).await {
        Ok(_) => Redirect::to(&format!("{}/{id}?ok=email", page.base)).into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            email_form(&st, &u, page, &id, p.0.clone(), e, Some(msg)).await
        }
        Err(AppError::Refused(k)) => {
            let msg = u.tr(&st).t(k);
            email_form(&st, &u, page, &id, p.0.clone(), FieldErrors::new(), Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- reports

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
    from: String,
    to: String,
    group: String,
    groups: Vec<(String, String)>,
    error: Option<String>,
    kpis: Vec<(String, String, String)>,
    chart: String,
    sections: Vec<Section>,
}

pub(super) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A bar chart as inline SVG (no JavaScript): one bar per period, labels under the bars,
/// the largest value on the left. Amounts only size the bars; the tables hold the figures.
fn bar_chart(rows: &[(String, f64)], tr: &Tr) -> String {
    bar_chart_of(rows, tr, &tr.t("report-by-period"), 760.0)
}

/// [`bar_chart`] with its own accessible name and width (narrower charts sit side by side).
pub(super) fn bar_chart_of(rows: &[(String, f64)], tr: &Tr, name: &str, w: f64) -> String {
    let (h, left, bottom, top) = (240.0_f64, 70.0_f64, 36.0_f64, 12.0_f64);
    let max = rows.iter().map(|r| r.1.abs()).fold(0.0, f64::max).max(1.0);
    let n = rows.len().max(1) as f64;
    let slot = (w - left) / n;
    let bar = (slot * 0.7).max(1.0);
    let scale = (h - top - bottom) / max;
    let mut out = format!(r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#, xml_escape(name));
    let base = h - bottom;
    out.push_str(&format!(r##"<line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="#d9dee6"/>"##));
    out.push_str(&format!(
        r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
        left - 6.0,
        top + 10.0,
        xml_escape(&format_decimal(&format!("{max:.0}"), &tr.locale))
    ));
    out.push_str(&format!(r#"<text x="{}" y="{base}" text-anchor="end">0</text>"#, left - 6.0));
    let every = (rows.len() / 12).max(1);
    for (i, (label, v)) in rows.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let bh = (v.abs() * scale).max(if *v != 0.0 { 1.0 } else { 0.0 });
        let class = if *v < 0.0 { "neg" } else { "bar" };
        out.push_str(&format!(
            r#"<rect class="{class}" x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{bh:.1}"><title>{}: {}</title></rect>"#,
            base - bh,
            xml_escape(label),
            xml_escape(&format_decimal(&format!("{v:.2}"), &tr.locale))
        ));
        if i % every == 0 {
            out.push_str(&format!(
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2.0,
                base + 16.0,
                xml_escape(label)
            ));
        }
    }
    out.push_str("</svg>");
    out
}

/// The logistic indicators of a period as a table (the sales report and the dashboard).
pub(super) fn logistics_section(t: &Tr, lg: &app::indicators::Logistics) -> Section {
    let show = |v: Option<f64>, unit: &str| {
        v.map(|x| format!("{} {unit}", format_decimal(&format!("{x:.1}"), &t.locale))).unwrap_or_else(|| "—".into())
    };
    let rows = [
        ("ind-on-time", show(lg.on_time, "%")),
        ("ind-in-full-quantity", show(lg.in_full_quantity, "%")),
        ("ind-in-full-lines", show(lg.in_full_lines, "%")),
        ("ind-complete-orders", show(lg.complete_orders, "%")),
        ("ind-otif", show(lg.otif, "%")),
        ("ind-perfect-orders", show(lg.perfect_orders, "%")),
        ("ind-lead-time", show(lg.average_lead_time_days, &t.t("print-days"))),
        ("ind-invoice-errors", show(lg.invoice_errors, "%")),
        ("ind-returns", show(lg.returns, "%")),
        ("ind-out-of-stock", show(lg.out_of_stock, "%")),
    ]
    .into_iter()
    .map(|(k, v)| Row { cells: vec![t.t(k), v], href: String::new(), archived: false, total: false })
    .collect();
    Section {
        title: format!("{} ({} {})", t.t("ind-title"), lg.orders, t.t("nav-orders").to_lowercase()),
        columns: vec![t.t("ind-indicator"), t.t("ind-value")],
        rows,
        action: None,
        num_from: 1,
    }
}

fn stat_section(tr: &Tr, title: &str, first: &str, stats: &app::stats::Stats, quantity: bool, href: impl Fn(&str) -> String) -> Section {
    let mut columns = vec![tr.t(first), tr.t("report-documents")];
    if quantity {
        columns.push(tr.t("field-quantity"));
    }
    columns.push(tr.t("field-untaxed-amount"));
    columns.push(tr.t("field-total"));
    let rows = stats
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.label.clone(), r.documents.to_string()];
            if quantity {
                cells.push(format_decimal(r.quantity.as_deref().unwrap_or("0"), &tr.locale));
            }
            cells.push(money(tr, &r.untaxed));
            cells.push(money(tr, &r.total));
            Row { cells, href: if r.key.is_empty() { String::new() } else { href(&r.key) }, archived: false, total: false }
        })
        .collect();
    Section { title: tr.t(title), columns, rows, action: None, num_from: 1 }
}

async fn report_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = app::stats::StatsParams {
        from: q.get("from").cloned().filter(|v| !v.is_empty()),
        to: q.get("to").cloned().filter(|v| !v.is_empty()),
        group: q.get("group").cloned().filter(|v| !v.is_empty()),
        limit: Some(10),
    };
    let tr = u.tr(&st);
    // The parameters are checked without a query; bad ones show the default period and why.
    let (params, error) = match app::stats::query(&params, app::clock::now().date()) {
        Ok(_) => (params, None),
        Err(AppError::Invalid(e)) => (
            app::stats::StatsParams { limit: Some(10), ..Default::default() },
            Some(e.0.values().map(|k| tr.t(k)).collect::<Vec<_>>().join(" ")),
        ),
        Err(e) => return error_page(&st, &u, e),
    };
    let by_period = match app::stats::by_period(&st.app, u.actor(), &params).await {
        Ok(s) => s,
        Err(e) => return error_page(&st, &u, e),
    };
    let customers = app::stats::by_customer(&st.app, u.actor(), &params).await.ok();
    let articles = app::stats::by_article(&st.app, u.actor(), &params).await.ok();
    let sellers = app::stats::by_salesperson(&st.app, u.actor(), &params).await.ok();
    let this_month =
        app::stats::StatsParams { from: Some(format!("{}-01", &by_period.to[..7])), to: Some(by_period.to.clone()), ..Default::default() };
    let compare = app::stats::compare(&st.app, u.actor(), &this_month).await.ok();
    let ageing = ar::ageing(&st.app, u.actor(), &AgeingParams::default()).await.ok();
    let l = layout(&st, &u, tr.t("nav-reports"), "/reports/sales");
    let t = &l.tr;
    let mut kpis = vec![(t.t("report-total"), money(t, &by_period.untaxed), format!("{} – {}", by_period.from, by_period.to))];
    if let Some((cur, prev)) = compare {
        kpis.push((t.t("report-this-month"), money(t, &cur), format!("{} {}", t.t("report-previous"), money(t, &prev))));
    }
    if let Some(a) = &ageing {
        kpis.push((t.t("report-receivable"), money(t, &a.totals.total), String::new()));
        let overdue = [&a.totals.days_1_30, &a.totals.days_31_60, &a.totals.days_61_90, &a.totals.over_90]
            .iter()
            .map(|v| domain::money::parse_scaled(v, 2, true).unwrap_or(0))
            .sum::<i64>();
        kpis.push((t.t("report-overdue"), money(t, &domain::money::format_scaled(overdue, 2)), String::new()));
    }
    let bars: Vec<(String, f64)> = by_period.rows.iter().map(|r| (r.label.clone(), r.untaxed.parse::<f64>().unwrap_or(0.0))).collect();
    let chart = bar_chart(&bars, t);
    let mut sections = vec![];
    if let Some(c) = &customers {
        sections.push(stat_section(t, "report-by-customer", "field-customer", c, false, |k| format!("/customers/{k}")));
    }
    if let Some(a) = &articles {
        sections.push(stat_section(t, "report-by-article", "field-product", a, true, |k| format!("/products/{k}")));
    }
    if let Some(sp) = &sellers {
        sections.push(stat_section(t, "report-by-salesperson", "nav-salespeople", sp, false, |k| format!("/salespeople/{k}")));
    }
    if let Ok(lg) = app::indicators::logistics(&st.app, u.actor(), &params).await {
        sections.push(logistics_section(t, &lg));
    }
    if let Ok(r) = app::indicators::retention(&st.app, u.actor(), &params).await {
        let pct = |v: Option<f64>| v.map(|x| format!("{} %", format_decimal(&format!("{x:.1}"), &t.locale))).unwrap_or_else(|| "—".into());
        let mut rows = vec![
            Row { cells: vec![t.t("ret-churn"), pct(r.churn)], href: String::new(), archived: false, total: false },
            Row {
                cells: vec![t.t("ret-retained"), format!("{} / {}", r.retained, r.active_before)],
                href: String::new(),
                archived: false,
                total: false,
            },
            Row {
                cells: vec![t.t("ret-quotes"), format!("{} ({})", pct(r.quote_to_order), r.quotes)],
                href: String::new(),
                archived: false,
                total: false,
            },
        ];
        for b in &r.recency {
            rows.push(Row {
                cells: vec![
                    format!("{} {} {}", t.t("ret-recency"), b.days, t.t("print-days")),
                    format!("{} ({})", b.customers, pct(b.percent)),
                ],
                href: String::new(),
                archived: false,
                total: false,
            });
        }
        sections.push(Section {
            title: t.t("ret-title"),
            columns: vec![t.t("ind-indicator"), t.t("ind-value")],
            rows,
            action: None,
            num_from: 1,
        });
    }
    if let Ok(c) = app::indicators::cohorts(&st.app, u.actor(), &params).await {
        let months = c.items.iter().map(|i| i.retained.len()).max().unwrap_or(0);
        let mut columns = vec![t.t("cohort-month"), t.t("cohort-customers")];
        columns.extend((0..months).map(|m| format!("+{m}")));
        let rows = c
            .items
            .iter()
            .map(|i| {
                let mut cells = vec![i.cohort.clone(), i.customers.to_string()];
                cells.extend((0..months).map(|m| {
                    i.retained.get(m).map(|v| format!("{} %", format_decimal(&format!("{v:.0}"), &t.locale))).unwrap_or_default()
                }));
                Row { cells, href: String::new(), archived: false, total: false }
            })
            .collect();
        sections.push(Section { title: t.t("cohort-title"), columns, rows, action: None, num_from: 1 });
    }
    let groups = ["day", "week", "month", "year"].iter().map(|g| (g.to_string(), t.t(&format!("group-{g}")))).collect();
    let page = ReportPage {
        from: by_period.from.clone(),
        to: by_period.to.clone(),
        group: params.group.clone().unwrap_or_else(|| "month".into()),
        groups,
        error,
        kpis,
        chart,
        sections,
        l,
    };
    render(&page)
}

// ---------------------------------------------------------------- routes

fn kind_routes(mut r: Router<AppState>, page: &'static KindPage) -> Router<AppState> {
    let one = format!("{}/{{id}}", page.base);
    r = r
        .route(
            page.base,
            get(move |State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>| list(st, u, page, q)),
        )
        .route(&one, get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| detail(st, u, page, id)))
        .route(&format!("{one}/pdf"), get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| pdf_page(st, u, page, id)))
        .route(
            &format!("{one}/email"),
            get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| async move {
                email_form(&st, &u, page, &id, HashMap::new(), FieldErrors::new(), None).await
            })
            .post(
                move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
                    email_post(st, u, page, id, f)
                },
            ),
        )
        .route(
            &format!("{one}/do/{{action}}"),
            post(
                move |State(st): State<AppState>,
                      u: PageUser,
                      Path((id, action)): Path<(String, String)>,
                      Form(f): Form<Vec<(String, String)>>| { transition(st, u, page, id, action, f) },
            ),
        );
    if page.new.is_some() && page.kind != DocKind::Receipt {
        r = r
            .route(
                &format!("{}/new", page.base),
                get(move |State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>| new_form(st, u, page, q))
                    .post(move |State(st): State<AppState>, u: PageUser, Form(f): Form<Vec<(String, String)>>| {
                        save_draft(st, u, page, None, f)
                    }),
            )
            .route(
                &format!("{one}/edit"),
                get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| edit_form(st, u, page, id)).post(
                    move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
                        save_draft(st, u, page, Some(id), f)
                    },
                ),
            );
    }
    r
}

fn part_routes(r: Router<AppState>, path: &str, part: Part) -> Router<AppState> {
    r.route(
        path,
        get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| async move {
            part_form(&st, &u, part, &id, None, None).await
        })
        .post(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
            part_post(st, u, part, id, f)
        }),
    )
}

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for page in KIND_PAGES {
        r = kind_routes(r, page);
    }
    r = part_routes(r, "/orders/{id}/deliver", Part::Deliver);
    r = part_routes(r, "/orders/{id}/invoice", Part::Invoice);
    r = part_routes(r, "/invoices/{id}/credit", Part::Credit);
    r.route("/quotes/{id}/convert", post(convert))
        .route("/receipts/new", get(receipt_new).post(receipt_post))
        .route("/documents/{id}", get(any_document))
        .route("/stock", get(stock_page))
        .route("/stock/card", get(card_page))
        .route("/stock/adjust", get(adjust_get).post(adjust_post))
        .route("/receivables", get(receivables_page))
        .route("/customers/{id}/statement", get(statement_page))
        .route("/customers/{id}/statement/pdf", get(statement_pdf_page))
        .route("/track/{token}", get(track_page))
        .route("/reports/sales", get(report_page))
        .route("/settings/sales", get(settings_get).post(settings_post))
        .route("/warehouses/new", get(warehouse_get).post(warehouse_post))
}
