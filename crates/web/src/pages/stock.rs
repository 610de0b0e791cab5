//! The warehouse's pages: transfers between warehouses and stock counts (lists, a form for
//! drafts with a row per article, the document with its lines and the actions its state
//! allows; a count's page takes the counted quantities) and the stock valuation.

use super::manufacturing::ListPage;
use super::{
    error_page, fields, format_decimal, layout, nonempty, posted, render, DetailPage, Field, FieldSpec, Layout, PageUser, Row, Section, Tr,
};
use crate::AppState;
use app::master::{self as m, ListParams};
use app::stock_docs::{self as sd, CountIn, CountLineIn, Kind, StockDocParams, StockDocument, TransferIn, TransferLineIn, ValuationParams};
use app::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::stock::{DocAction, DocStatus};
use domain::validation::FieldErrors;
use std::collections::HashMap;

/// Each kind's pages: where they live and the words for them.
struct KindPage {
    kind: Kind,
    base: &'static str,
    title: &'static str,
    new: &'static str,
    one: &'static str,
}

const TRANSFERS: KindPage =
    KindPage { kind: Kind::Transfer, base: "/transfers", title: "transfers-title", new: "transfer-new", one: "transfer" };
const COUNTS: KindPage = KindPage { kind: Kind::Count, base: "/stock-counts", title: "counts-title", new: "count-new", one: "count" };

fn page_of(kind: Kind) -> &'static KindPage {
    match kind {
        Kind::Transfer => &TRANSFERS,
        Kind::Count => &COUNTS,
    }
}

/// The buttons at the top of the warehouse's pages.
fn areas(tr: &Tr, u: &PageUser, first: Option<&KindPage>) -> Vec<(String, String)> {
    let mut a = Vec::new();
    if let Some(k) = first.filter(|_| u.actor().can(Action::Create, Resource::Stock)) {
        a.push((format!("{}/new", k.base), tr.t(k.new)));
    }
    a.push((TRANSFERS.base.to_string(), tr.t("nav-transfers")));
    a.push((COUNTS.base.to_string(), tr.t("nav-stock-counts")));
    a.push(("/stock/valuation".to_string(), tr.t("stock-valuation")));
    a.push(("/stock".to_string(), tr.t("nav-stock")));
    a
}

fn number_of(tr: &Tr, d: &StockDocument) -> String {
    d.number.clone().unwrap_or_else(|| tr.t("stock-doc-unnumbered"))
}

fn when(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}

async fn list(st: &AppState, u: &PageUser, k: &KindPage, q: &HashMap<String, String>) -> Response {
    let tr = u.tr(st);
    let params = StockDocParams { status: q.get("status").cloned().filter(|s| !s.is_empty()), limit: Some(200), ..Default::default() };
    let found = match sd::list(&st.app, u.actor(), k.kind, &params).await {
        Ok(p) => p.items,
        Err(e) => return error_page(st, u, e),
    };
    let transfer = k.kind == Kind::Transfer;
    let rows = found
        .into_iter()
        .map(|d| {
            let mut cells = vec![number_of(&tr, &d), when(&d.created_at), d.warehouse_name.clone()];
            if transfer {
                cells.push(d.to_warehouse_name.clone().unwrap_or_default());
            }
            cells.push(d.reason.clone().unwrap_or_default());
            cells.push(tr.t(&format!("stock-doc-status-{}", d.status)));
            Row { cells, href: format!("{}/{}", k.base, d.id), archived: d.status == DocStatus::Cancelled.code(), total: false }
        })
        .collect();
    let mut columns = vec![tr.t("field-number"), tr.t("field-date")];
    if transfer {
        columns.extend([tr.t("field-from-warehouse"), tr.t("field-to-warehouse")]);
    } else {
        columns.push(tr.t("field-warehouse"));
    }
    columns.extend([tr.t("field-reason"), tr.t("field-status")]);
    let sections = vec![Section { title: tr.t(k.title), columns, rows, action: None, num_from: 99 }];
    let page = ListPage {
        actions: areas(&tr, u, Some(k)),
        error: None,
        sections,
        rule_products: Vec::new(),
        l: layout(st, u, tr.t(k.title), k.base),
    };
    render(&page)
}

async fn transfers(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    list(&st, &u, &TRANSFERS, &q).await
}

async fn counts(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    list(&st, &u, &COUNTS, &q).await
}

// ---------------------------------------------------------------- the form of a draft

/// One row of the form's table.
struct FormRow {
    product_id: String,
    quantity: String,
    reason: String,
    error: String,
}

#[derive(Template)]
#[template(path = "stock_doc_form.html")]
struct FormPage {
    l: Layout,
    error: Option<String>,
    action: String,
    cancel: String,
    version: String,
    fields: Vec<Field>,
    count: bool,
    can_do: bool,
    quantity_label: String,
    articles: Vec<(String, String)>,
    rows: Vec<FormRow>,
    lines_error: Option<String>,
    help: String,
}

/// A form's rows as typed: `(article, quantity, reason)`.
type TypedRows = Vec<(String, String, String)>;

/// What a form holds: its header fields and its rows.
#[derive(Default)]
struct Typed {
    header: HashMap<String, String>,
    rows: TypedRows,
}

/// The form's field names for a transfer's warehouses (labelled *Desde* and *Hacia*) and
/// the use case's.
const TRANSFER_FIELDS: [(&str, &str); 2] = [("from_warehouse", "warehouse_id"), ("to_warehouse", "to_warehouse_id")];

async fn form(
    st: &AppState,
    u: &PageUser,
    k: &KindPage,
    id: Option<&str>,
    typed: Typed,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    let needed = if id.is_some() { Action::Update } else { Action::Create };
    if let Err(e) = u.actor().authorize(needed, Resource::Stock) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let whs: Vec<(String, String)> = app::stock::list_warehouses(&st.app, u.actor())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|w| !w.archived)
        .map(|w| (w.id, format!("{} — {}", w.code, w.name)))
        .collect();
    let with_blank = |v: &Vec<(String, String)>| [(String::new(), String::new())].into_iter().chain(v.iter().cloned()).collect::<Vec<_>>();
    let count = k.kind == Kind::Count;
    let specs = if count {
        vec![
            super::req(FieldSpec { options: whs.clone(), ..super::f("warehouse_id", "select") }),
            super::f("reason", "text"),
            super::f("all_articles", "checkbox"),
            super::f("notes", "textarea"),
        ]
    } else {
        vec![
            super::req(FieldSpec { options: with_blank(&whs), ..super::f("from_warehouse", "select") }),
            super::req(FieldSpec { options: with_blank(&whs), ..super::f("to_warehouse", "select") }),
            super::f("reason", "text"),
            super::f("notes", "textarea"),
        ]
    };
    // The use case's field names as the form's.
    let mut shown = FieldErrors::new();
    for (f, key) in &errors.0 {
        let name = if count { f.as_str() } else { TRANSFER_FIELDS.iter().find(|(_, api)| api == f).map(|(form, _)| *form).unwrap_or(f) };
        shown.add(name, key);
    }
    let fields = fields(&tr, specs, &typed.header, &shown);
    let row_error = |i: usize| {
        ["product_id", "quantity", "counted", "reason"]
            .iter()
            .filter_map(|f| errors.0.get(&format!("lines.{i}.{f}")).map(|k| tr.t(k)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut rows: Vec<FormRow> = typed
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, (product_id, quantity, reason))| FormRow { product_id, quantity, reason, error: row_error(i) })
        .collect();
    let blanks = if rows.is_empty() { 5 } else { 2 };
    rows.extend((0..blanks).map(|_| FormRow {
        product_id: String::new(),
        quantity: String::new(),
        reason: String::new(),
        error: String::new(),
    }));
    let articles = m::list_products(&st.app, u.actor(), &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.kind != "service")
        .map(|p| (p.id, format!("{} — {}", p.code, p.name)))
        .collect();
    let title = match id {
        Some(_) => tr.t(k.one),
        None => tr.t(k.new),
    };
    let page = FormPage {
        error: error.or_else(|| (!errors.is_empty()).then(|| tr.t("error-validation"))),
        action: match id {
            Some(id) => format!("{}/{id}/edit", k.base),
            None => format!("{}/new", k.base),
        },
        cancel: match id {
            Some(id) => format!("{}/{id}", k.base),
            None => k.base.to_string(),
        },
        version: typed.header.get("version").cloned().unwrap_or_default(),
        fields,
        count,
        can_do: u.actor().can(Action::Update, Resource::Stock),
        quantity_label: tr.t(if count { "field-counted" } else { "field-quantity" }),
        articles,
        rows,
        lines_error: errors.0.get("lines").map(|k| tr.t(k)),
        help: tr.t(if count { "count-help" } else { "stock-doc-lines-help" }),
        l: layout(st, u, title, k.base),
    };
    let code = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (code, render(&page)).into_response()
}

async fn new_transfer(State(st): State<AppState>, u: PageUser) -> Response {
    form(&st, &u, &TRANSFERS, None, Typed::default(), FieldErrors::new(), None).await
}

async fn new_count(State(st): State<AppState>, u: PageUser) -> Response {
    form(&st, &u, &COUNTS, None, Typed::default(), FieldErrors::new(), None).await
}

/// The form as it was for a draft.
fn typed_of(d: StockDocument) -> Typed {
    let count = d.kind == Kind::Count.code();
    let mut header = HashMap::from([
        ("reason".to_string(), d.reason.unwrap_or_default()),
        ("notes".to_string(), d.notes.unwrap_or_default()),
        ("version".to_string(), d.version.to_string()),
    ]);
    if count {
        header.insert("warehouse_id".into(), d.warehouse_id);
    } else {
        header.insert("from_warehouse".into(), d.warehouse_id);
        header.insert("to_warehouse".into(), d.to_warehouse_id.unwrap_or_default());
    }
    let rows = d.lines.into_iter().map(|l| (l.product_id, l.quantity, l.reason.unwrap_or_default())).collect();
    Typed { header, rows }
}

async fn edit(st: &AppState, u: &PageUser, k: &KindPage, id: &str) -> Response {
    match sd::get(&st.app, u.actor(), k.kind, id).await {
        Ok(d) => form(st, u, k, Some(id), typed_of(d), FieldErrors::new(), None).await,
        Err(e) => error_page(st, u, e),
    }
}

async fn edit_transfer(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    edit(&st, &u, &TRANSFERS, &id).await
}

async fn edit_count(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    edit(&st, &u, &COUNTS, &id).await
}

/// A posted form's repeated row fields (`product`, `quantity`, `line_reason`, in order)
/// apart from the rest; rows left blank are dropped.
fn split(form: Vec<(String, String)>) -> (Vec<(String, String)>, TypedRows) {
    let (mut products, mut quantities, mut reasons, mut rest) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, v) in form {
        match k.as_str() {
            "product" => products.push(v),
            "quantity" => quantities.push(v),
            "line_reason" => reasons.push(v),
            _ => rest.push((k, v)),
        }
    }
    let rows = products
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, quantities.get(i).cloned().unwrap_or_default(), reasons.get(i).cloned().unwrap_or_default()))
        .filter(|(p, q, _)| !p.trim().is_empty() || !q.trim().is_empty())
        .collect();
    (rest, rows)
}

fn transfer_in(p: &super::Posted, rows: &[(String, String, String)], done: bool) -> TransferIn {
    TransferIn {
        warehouse_id: p.text("from_warehouse"),
        to_warehouse_id: p.text("to_warehouse"),
        lines: Some(rows.iter().map(|(p, q, _)| TransferLineIn { product_id: Some(p.clone()), quantity: Some(q.clone()) }).collect()),
        reason: p.text("reason"),
        notes: p.text("notes"),
        done: Some(done),
        version: p.text("version").and_then(|v| v.parse().ok()),
    }
}

fn count_lines(rows: &[(String, String, String)]) -> Vec<CountLineIn> {
    rows.iter()
        .map(|(p, q, r)| CountLineIn { product_id: Some(p.clone()), counted: Some(q.clone()), reason: nonempty(Some(r.clone())) })
        .collect()
}

async fn save(st: AppState, u: PageUser, k: &KindPage, id: Option<String>, form_data: Vec<(String, String)>) -> Response {
    let (rest, rows) = split(form_data);
    let p = match posted(&u, rest) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let done = p.text("then").as_deref() == Some("done");
    let saved = match (k.kind, &id) {
        (Kind::Transfer, None) => sd::create_transfer(&st.app, u.actor(), &transfer_in(&p, &rows, done)).await,
        (Kind::Transfer, Some(id)) => sd::update_transfer(&st.app, u.actor(), id, &transfer_in(&p, &rows, done)).await,
        (Kind::Count, _) => {
            let input = CountIn {
                warehouse_id: p.text("warehouse_id"),
                lines: Some(count_lines(&rows)),
                all_articles: Some(p.flag("all_articles")),
                reason: p.text("reason"),
                notes: p.text("notes"),
                done: Some(done),
                version: p.text("version").and_then(|v| v.parse().ok()),
            };
            match &id {
                Some(id) => sd::update_count(&st.app, u.actor(), id, &input).await,
                None => sd::create_count(&st.app, u.actor(), &input).await,
            }
        }
    };
    let typed = || Typed { header: p.0.clone(), rows: rows.clone() };
    match saved {
        Ok(d) => Redirect::to(&format!("{}/{}", k.base, d.id)).into_response(),
        Err(AppError::Invalid(e)) => form(&st, &u, k, id.as_deref(), typed(), e, None).await,
        Err(AppError::Refused(key)) => {
            let msg = u.tr(&st).t(key);
            form(&st, &u, k, id.as_deref(), typed(), FieldErrors::new(), Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn create_transfer(State(st): State<AppState>, u: PageUser, Form(f): Form<Vec<(String, String)>>) -> Response {
    save(st, u, &TRANSFERS, None, f).await
}

async fn create_count(State(st): State<AppState>, u: PageUser, Form(f): Form<Vec<(String, String)>>) -> Response {
    save(st, u, &COUNTS, None, f).await
}

async fn update_transfer(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    save(st, u, &TRANSFERS, Some(id), f).await
}

async fn update_count(State(st): State<AppState>, u: PageUser, Path(id): Path<String>, Form(f): Form<Vec<(String, String)>>) -> Response {
    save(st, u, &COUNTS, Some(id), f).await
}

// ---------------------------------------------------------------- the document

struct LineView {
    product_id: String,
    product: String,
    unit: String,
    quantity: String,
    raw_quantity: String,
    expected: String,
    difference: String,
    differs: bool,
    unit_cost: String,
    value: String,
    reason: String,
    error: String,
}

#[derive(Template)]
#[template(path = "stock_doc.html")]
struct DocPage {
    l: Layout,
    base: &'static str,
    id: String,
    version: i64,
    status: String,
    error: Option<String>,
    steps: Vec<(String, String)>,
    links: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    count: bool,
    editable: bool,
    can_do: bool,
    lines: Vec<LineView>,
    total: String,
}

async fn document(st: &AppState, u: &PageUser, k: &KindPage, id: &str, error: Option<String>, errors: FieldErrors) -> Response {
    let tr = u.tr(st);
    let d = match sd::get(&st.app, u.actor(), k.kind, id).await {
        Ok(d) => d,
        Err(e) => return error_page(st, u, e),
    };
    let num = |v: &str| format_decimal(v, &tr.locale);
    let status = DocStatus::from_code(&d.status);
    let can_change = u.actor().can(Action::Update, Resource::Stock);
    let mut steps = Vec::new();
    let mut links = Vec::new();
    if can_change {
        // The buttons are the transitions the one table allows from this state.
        for action in [DocAction::Done, DocAction::Cancel] {
            if status.is_some_and(|s| domain::stock::transition(s, action).is_ok()) {
                steps.push((action.code().to_string(), tr.t(&format!("stock-doc-do-{}", action.code()))));
            }
        }
        if status.is_some_and(|s| domain::stock::transition(s, DocAction::Edit).is_ok()) {
            links.push((format!("{}/{}/edit", k.base, d.id), tr.t("edit")));
        }
    }
    links.push((k.base.to_string(), tr.t(k.title)));
    links.push(("/stock/valuation".to_string(), tr.t("stock-valuation")));
    let count = k.kind == Kind::Count;
    let mut facts = vec![(tr.t("field-number"), number_of(&tr, &d))];
    if count {
        facts.push((tr.t("field-warehouse"), d.warehouse_name.clone()));
    } else {
        facts.push((tr.t("field-from-warehouse"), d.warehouse_name.clone()));
        facts.push((tr.t("field-to-warehouse"), d.to_warehouse_name.clone().unwrap_or_default()));
    }
    for (key, v) in [("field-reason", &d.reason), ("field-notes", &d.notes)] {
        if let Some(v) = v {
            facts.push((tr.t(key), v.clone()));
        }
    }
    facts.push((tr.t("field-created-at"), format!("{} · {}", when(&d.created_at), d.created_by)));
    if let Some(at) = &d.done_at {
        facts.push((tr.t("stock-doc-done-at"), format!("{} · {}", when(at), d.done_by.clone().unwrap_or_default())));
    }
    if let Some(at) = &d.cancelled_at {
        facts.push((tr.t("stock-doc-cancelled-at"), format!("{} · {}", when(at), d.cancelled_by.clone().unwrap_or_default())));
    }
    facts.push((tr.t("stock-doc-total-value"), num(&d.total_value)));
    let lines = d
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineView {
            product_id: l.product_id.clone(),
            product: format!("{} {}", l.product_code, l.product_name),
            unit: l.unit.clone(),
            quantity: num(&l.quantity),
            raw_quantity: l.quantity.clone(),
            expected: l.expected.as_deref().map(num).unwrap_or_default(),
            differs: l.difference.as_deref().is_some_and(|v| v != "0"),
            difference: l.difference.as_deref().map(num).unwrap_or_default(),
            unit_cost: num(&l.unit_cost),
            value: num(&l.value),
            reason: l.reason.clone().unwrap_or_default(),
            error: ["product_id", "quantity", "counted", "reason"]
                .iter()
                .filter_map(|f| errors.0.get(&format!("lines.{i}.{f}")).map(|k| tr.t(k)))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let title = format!("{} {}", tr.t(k.one), number_of(&tr, &d));
    let page = DocPage {
        base: k.base,
        version: d.version,
        status: tr.t(&format!("stock-doc-status-{}", d.status)),
        error,
        steps,
        links,
        facts,
        count,
        editable: count && can_change && status == Some(DocStatus::Draft),
        can_do: can_change,
        lines,
        total: num(&d.total_value),
        id: d.id,
        l: layout(st, u, title, k.base),
    };
    let code = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (code, render(&page)).into_response()
}

async fn transfer_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    document(&st, &u, &TRANSFERS, &id, None, FieldErrors::new()).await
}

async fn count_page(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    document(&st, &u, &COUNTS, &id, None, FieldErrors::new()).await
}

/// A refusal shown on the document's page.
async fn refused(st: &AppState, u: &PageUser, k: &KindPage, id: &str, e: AppError) -> Response {
    let tr = u.tr(st);
    match e {
        AppError::Invalid(e) => document(st, u, k, id, Some(tr.t("stock-doc-cannot")), e).await,
        AppError::Refused(key) => document(st, u, k, id, Some(tr.t(key)), FieldErrors::new()).await,
        e => error_page(st, u, e),
    }
}

async fn step(st: AppState, u: PageUser, kind: Kind, id: String, step: String, form_data: Vec<(String, String)>) -> Response {
    let k = page_of(kind);
    if let Err(e) = posted(&u, form_data) {
        return error_page(&st, &u, e);
    }
    let Some(action) = DocAction::from_code(&step).filter(|a| *a != DocAction::Edit) else {
        return error_page(&st, &u, AppError::NotFound);
    };
    match sd::act(&st.app, u.actor(), kind, &id, action).await {
        Ok(d) => Redirect::to(&format!("{}/{}", k.base, d.id)).into_response(),
        Err(e) => refused(&st, &u, k, &id, e).await,
    }
}

async fn transfer_step(
    State(st): State<AppState>,
    u: PageUser,
    Path((id, s)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    step(st, u, Kind::Transfer, id, s, f).await
}

async fn count_step(
    State(st): State<AppState>,
    u: PageUser,
    Path((id, s)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    step(st, u, Kind::Count, id, s, f).await
}

/// The counted quantities typed on a draft count's page (and done at once when asked).
async fn count_lines_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let (rest, rows) = split(f);
    let p = match posted(&u, rest) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = CountIn {
        lines: Some(count_lines(&rows)),
        done: Some(p.text("then").as_deref() == Some("done")),
        version: p.text("version").and_then(|v| v.parse().ok()),
        ..Default::default()
    };
    match sd::update_count(&st.app, u.actor(), &id, &input).await {
        Ok(d) => Redirect::to(&format!("{}/{}", COUNTS.base, d.id)).into_response(),
        Err(e) => refused(&st, &u, &COUNTS, &id, e).await,
    }
}

// ---------------------------------------------------------------- valuation

async fn valuation(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let tr = u.tr(&st);
    let params = ValuationParams { warehouse_id: q.get("warehouse_id").cloned().filter(|w| !w.is_empty()) };
    let v = match sd::valuation(&st.app, u.actor(), &params).await {
        Ok(v) => v,
        Err(e) => return error_page(&st, &u, e),
    };
    let num = |v: &str| format_decimal(v, &tr.locale);
    let columns: Vec<String> =
        ["field-code", "field-product", "field-on-hand", "field-unit-cost", "field-value"].iter().map(|k| tr.t(k)).collect();
    let sections = v
        .warehouses
        .iter()
        .map(|w| {
            let mut rows: Vec<Row> = w
                .lines
                .iter()
                .map(|l| Row {
                    cells: vec![l.product_code.clone(), l.product_name.clone(), num(&l.on_hand), num(&l.unit_cost), num(&l.value)],
                    href: format!("/stock/card?product_id={}&warehouse_id={}", l.product_id, w.warehouse_id),
                    archived: false,
                    total: false,
                })
                .collect();
            rows.push(Row {
                cells: vec![tr.t("valuation-warehouse-total"), String::new(), String::new(), String::new(), num(&w.total)],
                href: String::new(),
                archived: false,
                total: true,
            });
            Section {
                title: format!("{} — {}", w.warehouse_code, w.warehouse_name),
                columns: columns.clone(),
                rows,
                action: Some((format!("/stock/valuation?warehouse_id={}", w.warehouse_id), tr.t("filter"))),
                num_from: 2,
            }
        })
        .collect();
    let links = areas(&tr, &u, None).into_iter().filter(|(href, _)| href != "/stock/valuation").collect();
    let facts = vec![(tr.t("valuation-total"), num(&v.total)), (String::new(), tr.t("valuation-help"))];
    let l = layout(&st, &u, tr.t("stock-valuation"), "/stock");
    render(&DetailPage { l, archived: false, links, posts: vec![], facts, sections, panels: vec![], history: vec![] })
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/transfers", get(transfers))
        .route("/transfers/new", get(new_transfer).post(create_transfer))
        .route("/transfers/{id}", get(transfer_page))
        .route("/transfers/{id}/edit", get(edit_transfer).post(update_transfer))
        .route("/transfers/{id}/do/{step}", post(transfer_step))
        .route("/stock-counts", get(counts))
        .route("/stock-counts/new", get(new_count).post(create_count))
        .route("/stock-counts/{id}", get(count_page))
        .route("/stock-counts/{id}/edit", get(edit_count).post(update_count))
        .route("/stock-counts/{id}/lines", post(count_lines_post))
        .route("/stock-counts/{id}/do/{step}", post(count_step))
        .route("/stock/valuation", get(valuation))
}
