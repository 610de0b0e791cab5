//! The purchase-to-pay pages: purchase orders (list, draft form, the order with its lines,
//! what was received and invoiced, its chain and the actions its state allows), the forms
//! to receive goods and record the supplier's invoice against an order, receptions,
//! supplier invoices, supplier payments, what is owed (ageing and the payment run) and
//! each supplier's account.

use super::sales::{
    bucket_cells, line_rows, lines_input, money, party_field, product_options, remap_line_errors, short_date, DocumentForm, DocumentsPage,
    PartForm, PartRow,
};
use super::{
    error_page, fields, format_decimal, layout, posted, render, urlencode, DetailPage, FieldSpec, PageUser, Posted, Row, Section, Tr,
};
use crate::AppState;
use app::master::{self as m, ListParams, PartyRole};
use app::purchasing::{
    self as p, PayablesParams, PaymentRunParams, PurchaseDocument, PurchaseListParams, PurchaseOrderIn, ReceiveIn, SupplierAllocationIn,
    SupplierInvoiceIn, SupplierPaymentIn,
};
use app::sales::PartLineIn;
use app::{AppError, AppResult};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::money::{format_trimmed, parse_scaled};
use domain::purchase::PurchaseKind;
use domain::sales::Transition;
use domain::validation::FieldErrors;
use std::collections::HashMap;

/// Each kind's pages: where they live and the words for them.
struct KindPage {
    kind: PurchaseKind,
    base: &'static str,
    title: &'static str,
    statuses: &'static [&'static str],
}

const KIND_PAGES: &[KindPage] = &[
    KindPage {
        kind: PurchaseKind::PurchaseOrder,
        base: "/purchase-orders",
        title: "nav-purchase-orders",
        statuses: &["draft", "confirmed", "done", "cancelled"],
    },
    KindPage { kind: PurchaseKind::Reception, base: "/receptions", title: "nav-receptions", statuses: &["posted", "cancelled"] },
    KindPage {
        kind: PurchaseKind::SupplierInvoice,
        base: "/supplier-invoices",
        title: "nav-supplier-invoices",
        statuses: &["draft", "posted", "cancelled"],
    },
    KindPage { kind: PurchaseKind::SupplierPayment, base: "/supplier-payments", title: "nav-supplier-payments", statuses: &["posted"] },
];

fn page_of(kind: PurchaseKind) -> &'static KindPage {
    KIND_PAGES.iter().find(|p| p.kind == kind).unwrap_or(&KIND_PAGES[0])
}

fn base_of(kind: &str) -> &'static str {
    PurchaseKind::from_code(kind).map(|k| page_of(k).base).unwrap_or("/purchase-orders")
}

fn doc_title(tr: &Tr, d: &PurchaseDocument) -> String {
    let kind = tr.t(&format!("kind-{}", d.kind));
    match &d.number {
        Some(n) => format!("{kind} {n}"),
        None => format!("{kind} ({})", tr.t("status-draft")),
    }
}

/// Where a document stands: for an order, how far it was received and invoiced.
fn status_label(tr: &Tr, d: &PurchaseDocument) -> String {
    tr.t(&format!("purchase-progress-{}", d.progress))
}

/// The tabs of the purchasing area: the four kinds and what is owed.
fn tabs(u: &PageUser, tr: &Tr, active: &str) -> Vec<(String, String, bool)> {
    let mut t: Vec<(String, String, bool)> = KIND_PAGES
        .iter()
        .filter(|k| u.actor().can(Action::Read, p::resource(k.kind)))
        .map(|k| (k.base.to_string(), tr.t(k.title), k.base == active))
        .collect();
    if u.actor().can(Action::Read, Resource::Payables) {
        t.push(("/payables".into(), tr.t("nav-payables"), active == "/payables"));
    }
    t
}

fn n3(v: &str) -> i64 {
    parse_scaled(v, 3, true).unwrap_or(0)
}

// ---------------------------------------------------------------- lists

async fn list(st: AppState, u: PageUser, page: &'static KindPage, q: HashMap<String, String>) -> Response {
    let params = PurchaseListParams {
        supplier_id: q.get("supplier_id").cloned().filter(|c| !c.is_empty()),
        status: q.get("status").cloned().filter(|c| !c.is_empty()),
        cursor: q.get("cursor").cloned().filter(|c| !c.is_empty()),
        limit: Some(50),
    };
    let found = match p::list(&st.app, u.actor(), page.kind, &params).await {
        Ok(found) => found,
        Err(AppError::Invalid(_)) => p::list(&st.app, u.actor(), page.kind, &PurchaseListParams::default())
            .await
            .unwrap_or(m::Page { items: vec![], next_cursor: None }),
        Err(e) => return error_page(&st, &u, e),
    };
    let l = layout(&st, &u, st.i18n.t(&u.session.actor.locale, page.title), "/purchase-orders");
    let t = &l.tr;
    let mut keys = vec!["field-number", "field-issue-date", "field-supplier", "field-status", "field-total"];
    if page.kind == PurchaseKind::SupplierInvoice {
        keys.insert(1, "field-supplier-invoice-number");
        keys.insert(3, "field-due-date");
        keys.push("field-open-amount");
    }
    let columns = keys.iter().map(|k| t.t(k)).collect();
    let rows = found
        .items
        .iter()
        .map(|d| {
            let mut cells = vec![
                d.number.clone().unwrap_or_else(|| t.t("status-draft")),
                d.issue_date.clone(),
                d.supplier_name.clone(),
                status_label(t, d),
                money(t, &d.total),
            ];
            if page.kind == PurchaseKind::SupplierInvoice {
                cells.insert(1, d.supplier_invoice_number.clone().unwrap_or_default());
                cells.insert(3, d.due_date.clone().unwrap_or_default());
                cells.push(money(t, &d.open_amount));
            }
            Row { cells, href: format!("{}/{}", page.base, d.id), archived: d.status == "cancelled", total: false }
        })
        .collect();
    let mut statuses = vec![(String::new(), t.t("status-any"))];
    statuses.extend(page.statuses.iter().map(|s| (s.to_string(), t.t(&format!("status-{s}")))));
    let status = params.status.clone().unwrap_or_default();
    let supplier_id = params.supplier_id.clone().unwrap_or_default();
    let next = found
        .next_cursor
        .map(|c| format!("{}?status={}&supplier_id={}&cursor={c}", page.base, urlencode(&status), urlencode(&supplier_id)));
    let mut actions = vec![];
    let q = if supplier_id.is_empty() { String::new() } else { format!("?supplier_id={supplier_id}") };
    match page.kind {
        PurchaseKind::PurchaseOrder if u.actor().can(Action::Create, Resource::Purchases) => {
            actions.push((format!("/purchase-orders/new{q}"), t.t("purchase-order-new")));
        }
        PurchaseKind::SupplierPayment if u.actor().can(Action::Create, Resource::SupplierPayments) => {
            actions.push((format!("/supplier-payments/new{q}"), t.t("supplier-payment-new")));
        }
        _ => {}
    }
    let tabs = tabs(&u, t, page.base);
    render(&DocumentsPage { l, tabs, actions, statuses, status, customer_id: supplier_id, columns, rows, next })
}

// ---------------------------------------------------------------- a document

fn line_section(tr: &Tr, d: &PurchaseDocument) -> Section {
    let order = d.kind == "purchase_order";
    let priced = d.kind != "reception";
    let mut keys = vec!["field-description", "field-quantity"];
    if priced {
        keys.extend(["field-unit-price", "field-discount", "field-tax", "field-amount"]);
    } else {
        keys.push("field-unit-cost");
    }
    if order {
        keys.extend(["field-received", "field-invoiced"]);
    }
    let columns: Vec<String> = keys.iter().map(|k| tr.t(k)).collect();
    let mut rows: Vec<Row> = d
        .lines
        .iter()
        .map(|l| {
            let mut cells = vec![l.description.clone(), format_decimal(&l.quantity, &tr.locale)];
            if priced {
                cells.extend([
                    money(tr, &l.unit_price),
                    if l.discount == "0" { String::new() } else { format!("{} %", format_decimal(&l.discount, &tr.locale)) },
                    l.tax_name.clone(),
                    money(tr, &l.amount),
                ]);
            } else {
                cells.push(money(tr, &l.unit_price));
            }
            if order {
                cells.push(if l.stocked { format_decimal(&l.received, &tr.locale) } else { "—".into() });
                cells.push(format_decimal(&l.invoiced, &tr.locale));
            }
            Row::plain(cells)
        })
        .collect();
    if priced {
        let blank = |label: String, value: String, total: bool| {
            let mut cells = vec![label, String::new(), String::new(), String::new(), String::new(), value];
            if order {
                cells.extend([String::new(), String::new()]);
            }
            Row { cells, href: String::new(), archived: false, total }
        };
        rows.push(blank(tr.t("field-untaxed-amount"), money(tr, &d.untaxed_amount), false));
        for x in &d.taxes {
            rows.push(blank(format!("{} ({} {})", x.name, tr.t("field-base"), money(tr, &x.base)), money(tr, &x.tax), false));
        }
        rows.push(blank(tr.t("field-total"), money(tr, &d.total), true));
    }
    Section { title: tr.t("doc-lines"), columns, rows, action: None, num_from: 1 }
}

/// The order and the documents made from it; for a payment, the invoices it paid.
async fn chain_section(st: &AppState, u: &PageUser, tr: &Tr, d: &PurchaseDocument) -> Option<Section> {
    let docs: Vec<PurchaseDocument> =
        if let Some(order) = d.purchase_order_id.as_deref().or((d.kind == "purchase_order").then_some(d.id.as_str())) {
            // The chain is what was made from the order; from one of those, the order heads it.
            let head = if order == d.id { None } else { p::get(&st.app, u.actor(), PurchaseKind::PurchaseOrder, order).await.ok() };
            let made = p::chain(&st.app, u.actor(), order).await.unwrap_or_default();
            head.into_iter().chain(made).filter(|o| o.id != d.id).collect()
        } else {
            let mut out = Vec::new();
            for a in &d.allocations {
                let kind = if d.kind == "supplier_payment" { PurchaseKind::SupplierInvoice } else { PurchaseKind::SupplierPayment };
                if let Ok(o) = p::get(&st.app, u.actor(), kind, &a.document_id).await {
                    out.push(o);
                }
            }
            out
        };
    if docs.is_empty() {
        return None;
    }
    let columns = ["field-document", "field-issue-date", "field-status", "field-total"].iter().map(|k| tr.t(k)).collect();
    let rows = docs
        .iter()
        .map(|o| Row {
            cells: vec![doc_title(tr, o), o.issue_date.clone(), status_label(tr, o), money(tr, &o.total)],
            href: format!("{}/{}", base_of(&o.kind), o.id),
            archived: o.status == "cancelled",
            total: false,
        })
        .collect();
    Some(Section { title: tr.t("doc-chain"), columns, rows, action: None, num_from: 3 })
}

/// On a supplier invoice: the payments that paid it, each by its number and date.
async fn allocation_section(st: &AppState, u: &PageUser, tr: &Tr, d: &PurchaseDocument) -> Option<Section> {
    if d.allocations.is_empty() || d.kind != "supplier_invoice" {
        return None;
    }
    let columns = vec![tr.t("field-document"), tr.t("field-issue-date"), tr.t("field-amount")];
    let mut rows = Vec::new();
    for a in &d.allocations {
        let (title, date) = match p::get(&st.app, u.actor(), PurchaseKind::SupplierPayment, &a.document_id).await {
            Ok(pay) => (doc_title(tr, &pay), pay.issue_date),
            Err(_) => (tr.t("kind-supplier_payment"), String::new()),
        };
        rows.push(Row {
            cells: vec![title, date, money(tr, &a.amount)],
            href: format!("/supplier-payments/{}", a.document_id),
            archived: false,
            total: false,
        });
    }
    Some(Section { title: tr.t("doc-allocations"), columns, rows, action: None, num_from: 2 })
}

type Actions = (Vec<(String, String)>, Vec<(String, String)>);

fn actions(u: &PageUser, tr: &Tr, d: &PurchaseDocument) -> Actions {
    let Some(kind) = PurchaseKind::from_code(&d.kind) else { return (vec![], vec![]) };
    let base = page_of(kind).base;
    let res = p::resource(kind);
    let can = |a: Action, r: Resource| u.actor().can(a, r);
    let (mut links, mut posts) = (vec![], vec![]);
    let id = &d.id;
    if matches!(kind, PurchaseKind::PurchaseOrder | PurchaseKind::Reception) && can(Action::Read, res) {
        links.push((format!("{base}/{id}/pdf"), tr.t("doc-print")));
    }
    match (kind, d.status.as_str()) {
        (PurchaseKind::PurchaseOrder, "draft") if can(Action::Update, res) => {
            links.push((format!("{base}/{id}/edit"), tr.t("edit")));
            posts.push((format!("{base}/{id}/do/confirm"), tr.t("do-confirm")));
        }
        (PurchaseKind::PurchaseOrder, "confirmed") => {
            if can(Action::Read, Resource::Suppliers) {
                links.push((format!("{base}/{id}/email"), tr.t("do-email")));
            }
            if can(Action::Create, Resource::Receptions) && d.lines.iter().any(|l| l.stocked && n3(&l.received) < n3(&l.quantity)) {
                links.push((format!("{base}/{id}/receive"), tr.t("do-receive")));
            }
            if can(Action::Create, Resource::Payables) {
                links.push((format!("{base}/{id}/invoice"), tr.t("do-record-supplier-invoice")));
            }
            if can(Action::Update, res) {
                posts.push((format!("{base}/{id}/do/close"), tr.t("do-close")));
            }
        }
        (PurchaseKind::SupplierInvoice, "draft") if can(Action::Update, res) => {
            posts.push((format!("{base}/{id}/do/post"), tr.t("do-post")));
        }
        (PurchaseKind::SupplierInvoice, "posted")
            if can(Action::Create, Resource::SupplierPayments) && n3(&d.open_amount) > 0 && !d.open_amount.starts_with('-') =>
        {
            links.push((format!("/supplier-payments/new?supplier_id={}&invoice_id={id}", d.supplier_id), tr.t("supplier-payment-new")));
        }
        _ => {}
    }
    let cancellable = match kind {
        PurchaseKind::PurchaseOrder => {
            d.status == "draft" || (d.status == "confirmed" && d.lines.iter().all(|l| n3(&l.received) == 0 && n3(&l.invoiced) == 0))
        }
        PurchaseKind::SupplierInvoice => d.status == "draft" || (d.status == "posted" && n3(&d.settled) == 0),
        _ => false,
    };
    if cancellable && can(Action::Archive, res) {
        posts.push((format!("{base}/{id}/do/cancel"), tr.t("do-cancel")));
    }
    if can(Action::Read, Resource::Payables) {
        links.push((format!("/suppliers/{}/account", d.supplier_id), tr.t("supplier-account")));
    }
    (links, posts)
}

async fn detail(st: AppState, u: PageUser, page: &'static KindPage, id: String) -> Response {
    let d = match p::get(&st.app, u.actor(), page.kind, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, doc_title(&tr, &d), "/purchase-orders");
    let t = &l.tr;
    let mut facts = vec![
        (t.t("field-supplier"), d.supplier_name.clone()),
        (t.t("field-status"), status_label(t, &d)),
        (t.t("field-issue-date"), d.issue_date.clone()),
    ];
    let opt = |facts: &mut Vec<(String, String)>, key: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            facts.push((t.t(key), v.clone()));
        }
    };
    opt(&mut facts, "field-supplier-invoice-number", &d.supplier_invoice_number);
    opt(&mut facts, "field-due-date", &d.due_date);
    opt(&mut facts, "field-expected-date", &d.expected_date);
    opt(&mut facts, "field-supplier-reference", &d.supplier_reference);
    if let Some(w) = &d.warehouse_id {
        if let Ok(w) = app::stock::get_warehouse(&st.app, u.actor(), w).await {
            facts.push((t.t("field-warehouse"), w.name));
        }
    }
    opt(&mut facts, "field-notes", &d.notes);
    facts.push((t.t("field-total"), money(t, &d.total)));
    match (d.kind.as_str(), d.status.as_str()) {
        ("supplier_invoice", "posted") => facts.push((t.t("field-open-amount"), money(t, &d.open_amount))),
        ("supplier_payment", _) => facts.push((t.t("field-unallocated"), money(t, &d.open_amount))),
        _ => {}
    }
    for (key, at, by) in [
        ("field-confirmed", &d.confirmed_at, &d.confirmed_by),
        ("field-posted", &d.posted_at, &d.posted_by),
        ("field-cancelled", &d.cancelled_at, &d.cancelled_by),
    ] {
        if let (Some(at), Some(by)) = (at, by) {
            facts.push((t.t(key), format!("{} · {by}", short_date(at))));
        }
    }
    let mut sections = vec![];
    if !d.lines.is_empty() {
        sections.push(line_section(t, &d));
    }
    sections.extend(chain_section(&st, &u, t, &d).await);
    sections.extend(allocation_section(&st, &u, t, &d).await);
    let (links, posts) = actions(&u, t, &d);
    let history = app::audit::history(&st.app, u.actor(), p::resource(page.kind), page.kind.code(), &d.id).await.unwrap_or_default();
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

async fn transition(
    st: AppState,
    u: PageUser,
    page: &'static KindPage,
    id: String,
    action: String,
    form: Vec<(String, String)>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    let t = match action.as_str() {
        "confirm" => Transition::Confirm,
        "close" => Transition::Close,
        "post" => Transition::Post,
        "cancel" => Transition::Cancel,
        _ => return error_page(&st, &u, AppError::NotFound),
    };
    match p::transition(&st.app, u.actor(), page.kind, &id, t).await {
        Ok(d) => Redirect::to(&format!("{}/{}?ok={action}", page.base, d.id)).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

async fn email_form(
    st: &AppState,
    u: &PageUser,
    id: &str,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let d = match p::get(&st.app, u.actor(), PurchaseKind::PurchaseOrder, id).await {
        Ok(d) => d,
        Err(e) => return error_page(st, u, e),
    };
    let tr = u.tr(st);
    let l = layout(st, u, format!("{} · {}", tr.t("do-email"), doc_title(&tr, &d)), "/purchase-orders");
    let mut values = values;
    if !values.contains_key("to") {
        let email =
            m::get_party(&st.app, u.actor(), PartyRole::Supplier, &d.supplier_id).await.ok().and_then(|p| p.email).unwrap_or_default();
        values.insert("to".into(), email);
    }
    let (action, cancel) = (format!("/purchase-orders/{id}/email"), format!("/purchase-orders/{id}"));
    super::sales::form_response(l, super::sales::email_specs(), &values, &errors, error, action, cancel)
}

async fn email_post(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(form): Form<Vec<(String, String)>>) -> Response {
    let posted = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = super::sales::email_input(&posted);
    let locale = u.session.actor.locale.clone();
    let tr = u.tr(&st);
    match crate::printing::email_purchase_order(&st, u.actor(), &locale, &id, &input).await {
        Ok(_) => Redirect::to(&format!("/purchase-orders/{id}?ok=email")).into_response(),
        Err(AppError::Invalid(e)) => email_form(&st, &u, &id, posted.0.clone(), e, Some(tr.t("error-validation"))).await,
        Err(AppError::Refused(k)) => email_form(&st, &u, &id, posted.0.clone(), FieldErrors::new(), Some(tr.t(k))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

async fn pdf_page(st: AppState, u: PageUser, kind: PurchaseKind, id: String) -> Response {
    let locale = u.session.actor.locale.clone();
    match crate::printing::purchase_pdf(&st, u.actor(), &locale, kind, &id).await {
        Ok((name, bytes)) => crate::printing::pdf_response(&name, bytes),
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- the order's draft

async fn supplier_names(st: &AppState, u: &PageUser) -> Vec<String> {
    m::list_parties(&st.app, u.actor(), PartyRole::Supplier, &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

async fn warehouse_options(st: &AppState, u: &PageUser) -> Vec<(String, String)> {
    let whs = app::stock::list_warehouses(&st.app, u.actor()).await.unwrap_or_default();
    whs.into_iter().filter(|w| !w.archived).map(|w| (w.id, w.name)).collect()
}

async fn order_form(
    st: &AppState,
    u: &PageUser,
    id: Option<&str>,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let tr = u.tr(st);
    let title = match id {
        None => tr.t("purchase-order-new"),
        Some(_) => format!("{} — {}", tr.t("edit"), values.get("title").cloned().unwrap_or_default()),
    };
    let l = layout(st, u, title, "/purchase-orders");
    let specs = vec![
        super::req(super::f("supplier", "customer")),
        FieldSpec { options: warehouse_options(st, u).await, ..super::select("warehouse_id", vec![]) },
        super::f("issue_date", "date"),
        super::f("expected_date", "date"),
        super::f("supplier_reference", "text"),
        super::f("notes", "textarea"),
    ];
    let fields = fields(&l.tr, specs, &values, &errors);
    let lines = line_rows(&l.tr, &values, &errors);
    let products = product_options(st, u, &l.tr, true).await;
    let (action, cancel) = match id {
        None => ("/purchase-orders/new".to_string(), "/purchase-orders".to_string()),
        Some(id) => (format!("/purchase-orders/{id}/edit"), format!("/purchase-orders/{id}")),
    };
    let hidden = values.get("version").filter(|v| !v.is_empty()).map(|v| vec![("version".to_string(), v.clone())]).unwrap_or_default();
    let status = if errors.is_empty() && error.is_none() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let submit = l.tr.t("save-draft");
    let customers = supplier_names(st, u).await;
    (status, render(&DocumentForm { l, error, action, cancel, submit, hidden, fields, lines, may_price: true, customers, products }))
        .into_response()
}

async fn order_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Purchases) {
        return error_page(&st, &u, e);
    }
    let mut values = HashMap::new();
    if let Some(c) = q.get("supplier_id") {
        if let Ok(p) = m::get_party(&st.app, u.actor(), PartyRole::Supplier, c).await {
            values.insert("supplier".to_string(), p.name);
        }
    }
    order_form(&st, &u, None, values, FieldErrors::new(), None).await
}

async fn order_edit(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let d = match p::get(&st.app, u.actor(), PurchaseKind::PurchaseOrder, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(&st, &u, e),
    };
    if let Err(e) = u.actor().authorize(Action::Update, Resource::Purchases) {
        return error_page(&st, &u, e);
    }
    let tr = u.tr(&st);
    let mut values: HashMap<String, String> = HashMap::new();
    values.insert("title".into(), doc_title(&tr, &d));
    values.insert("supplier".into(), d.supplier_name.clone());
    values.insert("version".into(), d.version.to_string());
    for (k, v) in [
        ("warehouse_id", d.warehouse_id.clone()),
        ("issue_date", Some(d.issue_date.clone())),
        ("expected_date", d.expected_date.clone()),
        ("supplier_reference", d.supplier_reference.clone()),
        ("notes", d.notes.clone()),
    ] {
        values.insert(k.into(), v.unwrap_or_default());
    }
    for (i, l) in d.lines.iter().enumerate() {
        let code = match &l.product_id {
            Some(pid) => m::get_product(&st.app, u.actor(), pid).await.map(|p| p.code).unwrap_or_default(),
            None => String::new(),
        };
        values.insert(format!("product_{i}"), code);
        values.insert(format!("description_{i}"), l.description.clone());
        values.insert(format!("quantity_{i}"), l.quantity.clone());
        values.insert(format!("price_{i}"), l.unit_price.clone());
        values.insert(format!("discount_{i}"), if l.discount == "0" { String::new() } else { l.discount.clone() });
    }
    order_form(&st, &u, Some(&id), values, FieldErrors::new(), None).await
}

async fn order_save(st: AppState, u: PageUser, id: Option<String>, form: Vec<(String, String)>) -> Response {
    let posted = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let text = |k: &str| posted.text(k).filter(|v| !v.trim().is_empty());
    let mut errors = FieldErrors::new();
    let supplier_id = party_field(&st, &u, PartyRole::Supplier, text("supplier"), &mut errors).await;
    let lines = lines_input(&st, &u, &posted, &mut errors).await;
    let input = PurchaseOrderIn {
        supplier_id,
        warehouse_id: text("warehouse_id"),
        issue_date: text("issue_date"),
        expected_date: text("expected_date"),
        notes: posted.text("notes"),
        supplier_reference: posted.text("supplier_reference"),
        lines: Some(lines),
        version: text("version").and_then(|v| v.parse().ok()),
        confirm: None,
    };
    let result = if !errors.is_empty() {
        Err(AppError::Invalid(errors))
    } else {
        match &id {
            None => p::create_order(&st.app, u.actor(), &input).await,
            Some(id) => p::update_order(&st.app, u.actor(), id, &input).await,
        }
    };
    let tr = u.tr(&st);
    let again = |errors: FieldErrors, msg: String| order_form(&st, &u, id.as_deref(), posted.0.clone(), errors, Some(msg));
    match result {
        Ok(d) => Redirect::to(&format!("/purchase-orders/{}?ok=saved", d.id)).into_response(),
        Err(AppError::Invalid(e)) => again(remap_line_errors(&posted, e), tr.t("error-validation")).await,
        Err(AppError::Refused(k)) => again(FieldErrors::new(), tr.t(k)).await,
        Err(AppError::Conflict) => again(FieldErrors::new(), tr.t("error-conflict")).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- receive, invoice

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Receive,
    Invoice,
}

/// What is left to receive, or received and not yet invoiced (ordered, for services).
fn left(part: Part, l: &p::PurchaseLine) -> String {
    let v = match part {
        Part::Receive => n3(&l.quantity) - n3(&l.received),
        Part::Invoice if l.stocked => n3(&l.received) - n3(&l.invoiced),
        Part::Invoice => n3(&l.quantity) - n3(&l.invoiced),
    };
    format_trimmed(v.max(0), 3)
}

async fn part_form(
    st: &AppState,
    u: &PageUser,
    part: Part,
    id: &str,
    typed: Option<&Posted>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let d = match p::get(&st.app, u.actor(), PurchaseKind::PurchaseOrder, id).await {
        Ok(d) => d,
        Err(e) => return error_page(st, u, e),
    };
    let tr = u.tr(st);
    let (title, submit, qty) = match part {
        Part::Receive => ("do-receive", "receive-submit", "field-to-receive"),
        Part::Invoice => ("do-record-supplier-invoice", "supplier-invoice-submit", "field-to-invoice"),
    };
    let l = layout(st, u, format!("{} · {}", tr.t(title), doc_title(&tr, &d)), "/purchase-orders");
    let t = &l.tr;
    let columns = match part {
        Part::Receive => vec![t.t("field-quantity"), t.t("field-received")],
        Part::Invoice => vec![t.t("field-quantity"), t.t("field-unit-price"), t.t("field-received"), t.t("field-invoiced")],
    };
    let rows = d
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| part != Part::Receive || l.stocked)
        .map(|(i, l)| PartRow {
            line_id: l.id.clone(),
            description: l.description.clone(),
            cells: match part {
                Part::Receive => vec![format_decimal(&l.quantity, &t.locale), format_decimal(&l.received, &t.locale)],
                Part::Invoice => vec![
                    format_decimal(&l.quantity, &t.locale),
                    money(t, &l.unit_price),
                    if l.stocked { format_decimal(&l.received, &t.locale) } else { "—".into() },
                    format_decimal(&l.invoiced, &t.locale),
                ],
            },
            quantity: typed.and_then(|p| p.text(&format!("qty_{i}"))).unwrap_or_else(|| left(part, l)),
            error: errors.0.iter().find(|(k, _)| k.starts_with(&format!("lines.{i}."))).map(|(_, v)| t.t(v)),
        })
        .collect();
    let mut values: HashMap<String, String> = typed.map(|p| p.0.clone()).unwrap_or_default();
    let specs = match part {
        Part::Receive => {
            if typed.is_none() {
                values.extend(d.warehouse_id.clone().map(|w| ("warehouse_id".to_string(), w)));
            }
            vec![
                FieldSpec { options: warehouse_options(st, u).await, ..super::select("warehouse_id", vec![]) },
                super::f("issue_date", "date"),
                super::f("notes", "text"),
            ]
        }
        Part::Invoice => {
            if typed.is_none() {
                values.insert("post".into(), "on".into());
            }
            vec![
                super::req(super::f("supplier_invoice_number", "text")),
                super::f("issue_date", "date"),
                super::f("due_date", "date"),
                super::f("post", "checkbox"),
            ]
        }
    };
    let fields = fields(t, specs, &values, &errors);
    let lead = format!("{} · {}", d.supplier_name, money(t, &d.total));
    let action = format!("/purchase-orders/{}/{}", d.id, if part == Part::Receive { "receive" } else { "invoice" });
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = PartForm {
        lead,
        error,
        action,
        cancel: format!("/purchase-orders/{}", d.id),
        submit: t.t(submit),
        columns,
        qty_label: t.t(qty),
        rows,
        fields,
        l,
    };
    (status, render(&page)).into_response()
}

/// The lines of a receive or invoice form (their quantities), the zero ones left out;
/// and the row each sent line came from, to show its error beside it.
fn part_lines(p: &Posted) -> (Vec<PartLineIn>, Vec<usize>) {
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for i in 0..1000 {
        let Some(line_id) = p.text(&format!("line_{i}")) else { break };
        let q = p.text(&format!("qty_{i}")).unwrap_or_default();
        if q.trim().is_empty() || parse_scaled(&q, 3, false) == Ok(0) {
            continue;
        }
        lines.push(PartLineIn { line_id, quantity: Some(q) });
        rows.push(i);
    }
    (lines, rows)
}

async fn part_post(st: AppState, u: PageUser, part: Part, id: String, form: Vec<(String, String)>) -> Response {
    let posted = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let (lines, rows) = part_lines(&posted);
    if lines.is_empty() {
        return part_form(&st, &u, part, &id, Some(&posted), FieldErrors::new(), Some(tr.t("nothing-selected"))).await;
    }
    let text = |k: &str| posted.text(k).filter(|v| !v.trim().is_empty());
    let r = match part {
        Part::Receive => {
            let input =
                ReceiveIn { lines: Some(lines), warehouse_id: text("warehouse_id"), issue_date: text("issue_date"), notes: text("notes") };
            p::receive(&st.app, u.actor(), &id, &input).await
        }
        Part::Invoice => {
            let input = SupplierInvoiceIn {
                supplier_invoice_number: text("supplier_invoice_number"),
                issue_date: text("issue_date"),
                due_date: text("due_date"),
                lines: Some(lines),
                post: Some(posted.flag("post")),
                notes: None,
            };
            p::invoice_order(&st.app, u.actor(), &id, &input).await
        }
    };
    match r {
        Ok(d) => Redirect::to(&format!("{}/{}?ok=created", base_of(&d.kind), d.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            // Line errors name the line's place among those sent: show them on its row.
            let mut shown = FieldErrors::new();
            for (k, v) in &e.0 {
                let key = match k.strip_prefix("lines.").and_then(|r| r.split_once('.')) {
                    Some((n, f)) => {
                        n.parse::<usize>().ok().and_then(|n| rows.get(n)).map(|r| format!("lines.{r}.{f}")).unwrap_or(k.clone())
                    }
                    None => k.clone(),
                };
                shown.add(&key, v);
            }
            part_form(&st, &u, part, &id, Some(&posted), shown, Some(tr.t("error-validation"))).await
        }
        Err(AppError::Refused(k)) => part_form(&st, &u, part, &id, Some(&posted), FieldErrors::new(), Some(tr.t(k))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- payments

async fn payment_form(
    st: &AppState,
    u: &PageUser,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::SupplierPayments) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let suppliers = m::list_parties(&st.app, u.actor(), PartyRole::Supplier, &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items.into_iter().map(|c| (c.id, c.name)).collect())
        .unwrap_or_default();
    let mut specs = vec![
        super::req(FieldSpec { options: suppliers, ..super::select("supplier_id", vec![]) }),
        super::req(super::f("amount", "text")),
        super::f("issue_date", "date"),
        super::f("notes", "textarea"),
    ];
    if let Some(inv) = values.get("invoice_id").filter(|v| !v.is_empty()) {
        if let Ok(d) = p::get(&st.app, u.actor(), PurchaseKind::SupplierInvoice, inv).await {
            let label =
                format!("{} · {} · {}", doc_title(&tr, &d), d.supplier_invoice_number.unwrap_or_default(), money(&tr, &d.open_amount));
            specs.insert(1, super::select("invoice_id", vec![(d.id.clone(), label), (String::new(), tr.t("payment-oldest-first"))]));
        }
    }
    let l = layout(st, u, tr.t("supplier-payment-new"), "/purchase-orders");
    super::sales::form_response(l, specs, &values, &errors, error, "/supplier-payments/new".into(), "/supplier-payments".into())
}

async fn payment_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut values = HashMap::new();
    for k in ["supplier_id", "invoice_id"] {
        values.extend(q.get(k).map(|v| (k.to_string(), v.clone())));
    }
    if let Some(inv) = q.get("invoice_id") {
        if let Ok(d) = p::get(&st.app, u.actor(), PurchaseKind::SupplierInvoice, inv).await {
            values.insert("amount".into(), d.open_amount);
        }
    }
    payment_form(&st, &u, values, FieldErrors::new(), None).await
}

async fn payment_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let posted = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let text = |k: &str| posted.text(k).filter(|v| !v.trim().is_empty());
    let amount = text("amount");
    let input = SupplierPaymentIn {
        supplier_id: text("supplier_id"),
        amount: amount.clone(),
        issue_date: text("issue_date"),
        allocations: text("invoice_id")
            .map(|id| vec![SupplierAllocationIn { supplier_invoice_id: id, amount: amount.unwrap_or_default() }]),
        notes: text("notes"),
    };
    let tr = u.tr(&st);
    match p::create_payment(&st.app, u.actor(), &input).await {
        Ok(d) => Redirect::to(&format!("/supplier-payments/{}?ok=created", d.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            // An allocation's error is the amount's: the form has one amount.
            let mut shown = FieldErrors::new();
            for (k, v) in &e.0 {
                shown.add(if k.starts_with("allocations") { "amount" } else { k }, v);
            }
            payment_form(&st, &u, posted.0.clone(), shown, Some(tr.t("error-validation"))).await
        }
        Err(AppError::Refused(k)) => payment_form(&st, &u, posted.0.clone(), FieldErrors::new(), Some(tr.t(k))).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- what is owed

/// The payment run's "due until" filter, under the tables.
#[derive(Template)]
#[template(
    source = "<form class=\"filters card\" method=\"get\" action=\"/payables\"><label class=\"inline-label\" for=\"f-until\">{{ label }}</label><input id=\"f-until\" type=\"date\" name=\"until\" value=\"{{ until }}\"><button type=\"submit\">{{ submit }}</button></form>",
    ext = "html"
)]
struct UntilFilter {
    label: String,
    until: String,
    submit: String,
}

async fn payables_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = PayablesParams { as_of: q.get("as_of").cloned().filter(|v| !v.is_empty()), supplier_id: None };
    let ageing = match p::ageing(&st.app, u.actor(), &params).await {
        Ok(a) => a,
        Err(e) => return error_page(&st, &u, e),
    };
    let until = q.get("until").cloned().filter(|v| !v.is_empty());
    let run = match p::payment_run(&st.app, u.actor(), &PaymentRunParams { until: until.clone() }).await {
        Ok(r) => r,
        Err(AppError::Invalid(_)) => p::payment_run(&st.app, u.actor(), &PaymentRunParams::default()).await.unwrap_or(p::PaymentRun {
            until: String::new(),
            items: vec![],
            total: "0".into(),
        }),
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, format!("{} · {}", tr.t("nav-payables"), ageing.as_of), "/payables");
    let t = &l.tr;
    let columns = ["field-supplier", "ageing-current", "ageing-1-30", "ageing-31-60", "ageing-61-90", "ageing-over-90", "field-total"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let mut rows: Vec<Row> = ageing
        .items
        .iter()
        .map(|r| Row {
            cells: bucket_cells(t, r.supplier_name.clone(), &r.buckets),
            href: format!("/suppliers/{}/account", r.supplier_id),
            archived: false,
            total: false,
        })
        .collect();
    rows.push(Row { cells: bucket_cells(t, t.t("field-total"), &ageing.totals), href: String::new(), archived: false, total: true });
    let mut sections = vec![Section { title: t.t("payables-ageing"), columns, rows, action: None, num_from: 1 }];
    let columns = ["field-document", "field-supplier-invoice-number", "field-due-date", "field-days-past-due", "field-open-amount"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let mut rows = Vec::new();
    for s in &run.items {
        for i in &s.invoices {
            rows.push(Row {
                cells: vec![
                    format!("{} · {}", s.supplier_name, i.number.clone().unwrap_or_default()),
                    i.supplier_invoice_number.clone().unwrap_or_default(),
                    i.due_date.clone().unwrap_or_default(),
                    i.days_past_due.to_string(),
                    money(t, &i.open_amount),
                ],
                href: format!("/supplier-invoices/{}", i.supplier_invoice_id),
                archived: false,
                total: false,
            });
        }
        rows.push(Row {
            cells: vec![s.supplier_name.clone(), String::new(), String::new(), String::new(), money(t, &s.total)],
            href: format!("/supplier-payments/new?supplier_id={}", s.supplier_id),
            archived: false,
            total: true,
        });
    }
    rows.push(Row::plain(vec![t.t("field-total"), String::new(), String::new(), String::new(), money(t, &run.total)]));
    sections.push(Section { title: format!("{} · {}", t.t("payment-run"), run.until), columns, rows, action: None, num_from: 3 });
    let panel = UntilFilter { label: t.t("payment-run-until"), until: until.unwrap_or_default(), submit: t.t("filter") }
        .render()
        .unwrap_or_default();
    let tabs_links = tabs(&u, t, "/payables").into_iter().filter(|x| !x.2).map(|(href, label, _)| (href, label)).collect();
    render(&DetailPage {
        l,
        archived: false,
        links: tabs_links,
        posts: vec![],
        facts: vec![],
        sections,
        panels: vec![panel],
        history: vec![],
    })
}

async fn account_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let acc = match p::account(&st.app, u.actor(), &id).await {
        Ok(a) => a,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let l = layout(&st, &u, format!("{} · {}", tr.t("supplier-account"), acc.supplier_name), "/purchase-orders");
    let t = &l.tr;
    let blank = |v: &str| if parse_scaled(v, 2, true).unwrap_or(0) == 0 { String::new() } else { money(t, v) };
    let columns = ["field-date", "field-document", "field-due-date", "field-invoiced-amount", "field-paid", "field-balance"]
        .iter()
        .map(|k| t.t(k))
        .collect();
    let rows = acc
        .entries
        .iter()
        .map(|e| Row {
            cells: vec![
                e.date.clone(),
                format!(
                    "{} {}{}",
                    t.t(&format!("kind-{}", e.kind)),
                    e.number.clone().unwrap_or_default(),
                    e.supplier_invoice_number.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
                ),
                e.due_date.clone().unwrap_or_default(),
                blank(&e.credit),
                blank(&e.debit),
                money(t, &e.balance),
            ],
            href: String::new(),
            archived: false,
            total: false,
        })
        .collect();
    let facts = vec![(t.t("field-supplier"), acc.supplier_name.clone()), (t.t("field-balance"), money(t, &acc.balance))];
    let ageing_columns = ["ageing-current", "ageing-1-30", "ageing-31-60", "ageing-61-90", "ageing-over-90", "field-total"];
    let mut cells = bucket_cells(t, String::new(), &acc.ageing);
    cells.remove(0);
    let sections = vec![
        Section { title: t.t("supplier-account-entries"), columns, rows, action: None, num_from: 3 },
        Section {
            title: t.t("payables-ageing"),
            columns: ageing_columns.iter().map(|k| t.t(k)).collect(),
            rows: vec![Row::plain(cells)],
            action: None,
            num_from: 0,
        },
    ];
    let mut links = vec![
        (format!("/suppliers/{id}"), t.t("kind-supplier")),
        (format!("/purchase-orders?supplier_id={id}"), t.t("nav-purchase-orders")),
    ];
    if u.actor().can(Action::Create, Resource::SupplierPayments) {
        links.push((format!("/supplier-payments/new?supplier_id={id}"), t.t("supplier-payment-new")));
    }
    render(&DetailPage { l, archived: false, links, posts: vec![], facts, sections, panels: vec![], history: vec![] })
}

/// On a supplier's page: what is owed to it, its purchase orders, and a new one.
pub async fn supplier_section(app: &app::App, actor: &app::Actor, tr: &Tr, s: &m::Party) -> AppResult<Option<Section>> {
    let mut rows = Vec::new();
    let link = |label: String, value: String, href: String| Row { cells: vec![label, value], href, archived: false, total: false };
    if actor.can(Action::Read, Resource::Payables) {
        let acc = p::account(app, actor, &s.id).await?;
        rows.push(link(tr.t("supplier-account"), money(tr, &acc.balance), format!("/suppliers/{}/account", s.id)));
    }
    if actor.can(Action::Read, Resource::Purchases) {
        rows.push(link(tr.t("nav-purchase-orders"), String::new(), format!("/purchase-orders?supplier_id={}", s.id)));
    }
    if actor.can(Action::Create, Resource::Purchases) && !s.archived {
        rows.push(link(tr.t("purchase-order-new"), String::new(), format!("/purchase-orders/new?supplier_id={}", s.id)));
    }
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(Section {
        title: tr.t("nav-purchasing"),
        columns: vec![tr.t("field-document"), String::new()],
        rows,
        action: None,
        num_from: 1,
    }))
}

pub fn router(mut r: Router<AppState>) -> Router<AppState> {
    for page in KIND_PAGES {
        let kind = page.kind;
        r = r
            .route(
                page.base,
                get(move |State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>| list(st, u, page, q)),
            )
            .route(
                &format!("{}/{{id}}", page.base),
                get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| detail(st, u, page, id)),
            )
            .route(
                &format!("{}/{{id}}/do/{{action}}", page.base),
                post(
                    move |State(st): State<AppState>,
                          u: PageUser,
                          Path((id, action)): Path<(String, String)>,
                          Form(f): Form<Vec<(String, String)>>| { transition(st, u, page, id, action, f) },
                ),
            );
        if matches!(kind, PurchaseKind::PurchaseOrder | PurchaseKind::Reception) {
            r = r.route(
                &format!("{}/{{id}}/pdf", page.base),
                get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| pdf_page(st, u, kind, id)),
            );
        }
    }
    let part = |part: Part| {
        get(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>| async move {
            part_form(&st, &u, part, &id, None, FieldErrors::new(), None).await
        })
        .post(move |State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
            part_post(st, u, part, id, f)
        })
    };
    r.route(
        "/purchase-orders/new",
        get(order_new).post(|State(st): State<AppState>, u: PageUser, Form(f): Form<Vec<(String, String)>>| order_save(st, u, None, f)),
    )
    .route(
        "/purchase-orders/{id}/edit",
        get(order_edit).post(|State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>| {
            order_save(st, u, Some(id), f)
        }),
    )
    .route(
        "/purchase-orders/{id}/email",
        get(|State(st): State<AppState>, u: PageUser, Path(id): Path<String>| async move {
            email_form(&st, &u, &id, HashMap::new(), FieldErrors::new(), None).await
        })
        .post(email_post),
    )
    .route("/purchase-orders/{id}/receive", part(Part::Receive))
    .route("/purchase-orders/{id}/invoice", part(Part::Invoice))
    .route("/supplier-payments/new", get(payment_new).post(payment_post))
    .route("/payables", get(payables_page))
    .route("/suppliers/{id}/account", get(account_page))
}
