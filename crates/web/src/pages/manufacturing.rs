//! The production pages: production orders (list, new order, the order with its
//! components, shortages and actions), bills of materials (list and a form with a row per
//! component, each row's errors beside it) and the replenishment suggestions.

use super::sales::form_response;
use super::{error_page, format_decimal, layout, nonempty, posted, render, FieldSpec, Layout, PageUser, Row, Section};
use crate::AppState;
use app::manufacturing::{self as mf, BomIn, ComponentIn, ProductionIn, ProductionOrder, ProductionParams, Shortages};
use app::master::{self as m, ListParams, Product};
use app::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::manufacturing::Action as Step;
use domain::validation::FieldErrors;
use std::collections::HashMap;

/// A list page with buttons at the top (also the warehouse's lists, see `super::stock`).
#[derive(Template)]
#[template(path = "mfg_list.html")]
pub(super) struct ListPage {
    pub(super) l: Layout,
    pub(super) actions: Vec<(String, String)>,
    pub(super) error: Option<String>,
    pub(super) sections: Vec<Section>,
    /// The replenishment page: the articles a reorder rule may be set for.
    pub(super) rule_products: Vec<(String, String)>,
}

fn areas(tr: &super::Tr, u: &PageUser) -> Vec<(String, String)> {
    let mut a = Vec::new();
    if u.actor().can(Action::Create, Resource::Production) {
        a.push(("/production/new".to_string(), tr.t("production-new")));
    }
    a.push(("/production".to_string(), tr.t("production-orders")));
    a.push(("/boms".to_string(), tr.t("boms-title")));
    a.push(("/replenishment".to_string(), tr.t("replenishment-title")));
    a
}

async fn orders(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let tr = u.tr(&st);
    let params = ProductionParams { status: q.get("status").cloned().filter(|s| !s.is_empty()), limit: Some(200), ..Default::default() };
    let found = match mf::list_orders(&st.app, u.actor(), &params).await {
        Ok(p) => p.items,
        Err(e) => return error_page(&st, &u, e),
    };
    let rows = found
        .into_iter()
        .map(|o| Row {
            cells: vec![
                o.number.clone().unwrap_or_else(|| tr.t("production-unnumbered")),
                format!("{} {}", o.product_code, o.product_name),
                format_decimal(&o.quantity, &tr.locale),
                tr.t(&format!("production-status-{}", o.status)),
                o.planned_date.clone().unwrap_or_default(),
            ],
            href: format!("/production/{}", o.id),
            archived: o.status == "cancelled",
            total: false,
        })
        .collect();
    let sections = vec![Section {
        title: tr.t("production-orders"),
        columns: vec![
            tr.t("field-number"),
            tr.t("field-product"),
            tr.t("field-quantity"),
            tr.t("field-status"),
            tr.t("field-planned-date"),
        ],
        rows,
        action: None,
        num_from: 9,
    }];
    let page = ListPage {
        actions: areas(&tr, &u),
        error: None,
        sections,
        rule_products: Vec::new(),
        l: layout(&st, &u, tr.t("nav-production"), "/production"),
    };
    render(&page)
}

/// Manufactured articles with a bill: what can be made.
async fn makeable(st: &AppState, u: &PageUser) -> Vec<(String, String)> {
    let boms = mf::list_boms(&st.app, u.actor(), &mf::BomParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    boms.into_iter().map(|b| (b.product_id, format!("{} — {}", b.product_code, b.product_name))).collect()
}

async fn order_form(st: &AppState, u: &PageUser, values: HashMap<String, String>, errors: FieldErrors, error: Option<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Production) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let specs = vec![
        super::req(FieldSpec { options: makeable(st, u).await, ..super::f("product_id", "select") }),
        super::req(super::f("quantity", "text")),
        super::f("planned_date", "date"),
        super::f("notes", "textarea"),
    ];
    let l = layout(st, u, tr.t("production-new"), "/production");
    form_response(l, specs, &values, &errors, error, "/production/new".into(), "/production".into())
}

async fn order_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut values = HashMap::from([("quantity".to_string(), "1".to_string())]);
    values.extend(q.get("product_id").map(|p| ("product_id".to_string(), p.clone())));
    order_form(&st, &u, values, FieldErrors::new(), None).await
}

async fn order_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = ProductionIn {
        product_id: p.text("product_id"),
        quantity: p.text("quantity"),
        planned_date: nonempty(p.text("planned_date")),
        notes: nonempty(p.text("notes")),
        ..Default::default()
    };
    match mf::create_order(&st.app, u.actor(), &input).await {
        Ok(o) => Redirect::to(&format!("/production/{}", o.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            order_form(&st, &u, p.0.clone(), e, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

struct ShortRow {
    level: String,
    product: String,
    required: String,
    available: String,
    missing: String,
    short: bool,
}

#[derive(Template)]
#[template(path = "production_order.html")]
struct OrderPage {
    l: Layout,
    o: ProductionOrder,
    status: String,
    error: Option<String>,
    /// Errors beside the component lines, by position.
    line_errors: HashMap<usize, String>,
    steps: Vec<(String, String)>,
    shortages: Vec<ShortRow>,
    leaves: Vec<ShortRow>,
    complete: bool,
    cost: String,
}

async fn order_page(st: &AppState, u: &PageUser, id: &str, error: Option<String>, errors: FieldErrors) -> Response {
    let tr = u.tr(st);
    let mut o = match mf::get_order(&st.app, u.actor(), id).await {
        Ok(o) => o,
        Err(e) => return error_page(st, u, e),
    };
    let num = |v: &str| format_decimal(v, &tr.locale);
    // Shown as people read them: decimals of the language, a minute's precision.
    let raw_quantity = o.quantity.clone();
    o.quantity = num(&o.quantity);
    o.unit_cost = o.unit_cost.as_deref().map(num);
    o.done_at = o.done_at.as_deref().map(|t| t.get(..16).unwrap_or(t).replace('T', " "));
    for line in &mut o.lines {
        line.quantity = num(&line.quantity);
        line.reserved = num(&line.reserved);
    }
    let short_rows = |s: &Shortages, leaves: bool| -> Vec<ShortRow> {
        let list = if leaves { &s.leaves } else { &s.lines };
        list.iter()
            .map(|l| ShortRow {
                level: l.level.to_string(),
                product: format!("{} {}", l.product_code, l.product_name),
                required: num(&l.required),
                available: num(&l.available),
                missing: num(&l.missing),
                short: l.missing != "0",
            })
            .collect()
    };
    let (shortages, leaves, complete) = match mf::shortages(&st.app, u.actor(), &o.id).await {
        Ok(s) => (short_rows(&s, false), short_rows(&s, true), s.complete),
        Err(_) => (Vec::new(), Vec::new(), true),
    };
    let mut steps = Vec::new();
    if u.actor().can(Action::Update, Resource::Production) {
        // The buttons are the transitions the one table allows from this state.
        let from = domain::manufacturing::Status::from_code(&o.status);
        for step in Step::ALL {
            if from.is_some_and(|s| domain::manufacturing::transition(s, step).is_ok()) {
                steps.push((step.code().to_string(), tr.t(&format!("production-do-{}", step.code()))));
            }
        }
    }
    let line_errors = errors
        .0
        .iter()
        .filter_map(|(f, k)| {
            let i = f.strip_prefix("lines.")?.split('.').next()?.parse().ok()?;
            Some((i, tr.t(k)))
        })
        .collect();
    let cost = match mf::cost_rollup(&st.app, u.actor(), &o.product_id, &mf::RollupParams { quantity: Some(raw_quantity) }).await {
        Ok(r) => format_decimal(&r.unit_cost, &tr.locale),
        Err(_) => String::new(),
    };
    let status = tr.t(&format!("production-status-{}", o.status));
    let title = format!("{} {}", tr.t("production-order"), o.number.clone().unwrap_or_else(|| tr.t("production-unnumbered")));
    let page =
        OrderPage { l: layout(st, u, title, "/production"), o, status, error, line_errors, steps, shortages, leaves, complete, cost };
    let code = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (code, render(&page)).into_response()
}

async fn order_get(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    order_page(&st, &u, &id, None, FieldErrors::new()).await
}

async fn order_step(
    State(st): State<AppState>,
    u: PageUser,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    let Some(step) = Step::from_code(&step) else { return error_page(&st, &u, AppError::NotFound) };
    let tr = u.tr(&st);
    match mf::act(&st.app, u.actor(), &id, step).await {
        Ok(o) => Redirect::to(&format!("/production/{}", o.id)).into_response(),
        Err(AppError::Invalid(e)) => order_page(&st, &u, &id, Some(tr.t("production-cannot-produce")), e).await,
        Err(AppError::Refused(k)) => order_page(&st, &u, &id, Some(tr.t(k)), FieldErrors::new()).await,
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- bills of materials

async fn boms(State(st): State<AppState>, u: PageUser) -> Response {
    let tr = u.tr(&st);
    let found = match mf::list_boms(&st.app, u.actor(), &mf::BomParams { limit: Some(200), ..Default::default() }).await {
        Ok(p) => p.items,
        Err(e) => return error_page(&st, &u, e),
    };
    let rows = found
        .into_iter()
        .map(|b| Row {
            cells: vec![
                format!("{} {}", b.product_code, b.product_name),
                b.components
                    .iter()
                    .map(|c| format!("{} × {}", format_decimal(&c.quantity, &tr.locale), c.product_name))
                    .collect::<Vec<_>>()
                    .join(", "),
            ],
            href: format!("/boms/{}", b.id),
            archived: false,
            total: false,
        })
        .collect();
    let sections = vec![Section {
        title: tr.t("boms-title"),
        columns: vec![tr.t("field-product"), tr.t("boms-components")],
        rows,
        action: None,
        num_from: 9,
    }];
    let mut actions = areas(&tr, &u);
    if u.actor().can(Action::Create, Resource::Production) {
        actions.insert(0, ("/boms/new".to_string(), tr.t("boms-new")));
    }
    render(&ListPage { actions, error: None, sections, rule_products: Vec::new(), l: layout(&st, &u, tr.t("boms-title"), "/production") })
}

struct CompRow {
    product_id: String,
    quantity: String,
    scrap: String,
    error: String,
}

#[derive(Template)]
#[template(path = "bom_form.html")]
struct BomForm {
    l: Layout,
    error: Option<String>,
    product_id: String,
    product_error: String,
    version: String,
    manufactured: Vec<(String, String)>,
    articles: Vec<(String, String)>,
    rows: Vec<CompRow>,
    rollup: Vec<Row>,
    unit_cost: String,
}

async fn all_products(st: &AppState, u: &PageUser) -> Vec<Product> {
    m::list_products(&st.app, u.actor(), &ListParams { limit: Some(200), ..Default::default() }).await.map(|p| p.items).unwrap_or_default()
}

/// The form: the bill's rows plus three blank ones; errors beside their rows.
async fn bom_form(st: &AppState, u: &PageUser, input: BomIn, errors: FieldErrors, error: Option<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Read, Resource::Production) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let products = all_products(st, u).await;
    let label = |p: &Product| (p.id.clone(), format!("{} — {}", p.code, p.name));
    let manufactured = products.iter().filter(|p| p.kind == "manufactured").map(label).collect();
    let articles = products.iter().filter(|p| p.kind != "service").map(label).collect();
    let mut rows: Vec<CompRow> = input
        .components
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let error = ["product_id", "quantity", "scrap_percent"]
                .iter()
                .filter_map(|f| errors.0.get(&format!("components.{i}.{f}")).map(|k| tr.t(k)))
                .collect::<Vec<_>>()
                .join(" ");
            CompRow {
                product_id: c.product_id.unwrap_or_default(),
                quantity: c.quantity.unwrap_or_default(),
                scrap: c.scrap_percent.unwrap_or_default(),
                error,
            }
        })
        .collect();
    rows.extend((0..3).map(|_| CompRow { product_id: String::new(), quantity: String::new(), scrap: String::new(), error: String::new() }));
    let product_id = input.product_id.unwrap_or_default();
    let product_error = errors.0.get("product_id").or(errors.0.get("components")).map(|k| tr.t(k)).unwrap_or_default();
    let (rollup, unit_cost) = if product_id.is_empty() || error.is_some() {
        (Vec::new(), String::new())
    } else {
        match mf::cost_rollup(&st.app, u.actor(), &product_id, &mf::RollupParams::default()).await {
            Ok(r) => (
                r.lines
                    .iter()
                    .map(|l| {
                        Row::plain(vec![
                            l.level.to_string(),
                            format!("{}{} {}", "· ".repeat(l.level.saturating_sub(1) as usize), l.product_code, l.product_name),
                            format_decimal(&l.quantity, &tr.locale),
                            format_decimal(&l.unit_cost, &tr.locale),
                        ])
                    })
                    .collect(),
                format_decimal(&r.unit_cost, &tr.locale),
            ),
            Err(_) => (Vec::new(), String::new()),
        }
    };
    let page = BomForm {
        l: layout(st, u, tr.t("boms-form"), "/production"),
        error,
        product_id,
        product_error,
        version: input.version.map(|v| v.to_string()).unwrap_or_default(),
        manufactured,
        articles,
        rows,
        rollup,
        unit_cost,
    };
    let code = if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (code, render(&page)).into_response()
}

async fn bom_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let input = BomIn { product_id: q.get("product_id").cloned(), ..Default::default() };
    bom_form(&st, &u, input, FieldErrors::new(), None).await
}

async fn bom_get(State(st): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let b = match mf::get_bom(&st.app, u.actor(), &id).await {
        Ok(b) => b,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = BomIn {
        product_id: Some(b.product_id),
        components: Some(
            b.components
                .into_iter()
                .map(|c| ComponentIn { product_id: Some(c.product_id), quantity: Some(c.quantity), scrap_percent: Some(c.scrap_percent) })
                .collect(),
        ),
        notes: b.notes,
        version: Some(b.version),
    };
    bom_form(&st, &u, input, FieldErrors::new(), None).await
}

async fn bom_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    // Rows come as repeated `component`, `quantity`, `scrap` fields, in order.
    let mut rows: Vec<ComponentIn> = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let (mut ids, mut qtys, mut scraps) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in form {
        match k.as_str() {
            "component" => ids.push(v),
            "quantity" => qtys.push(v),
            "scrap" => scraps.push(v),
            _ => fields.push((k, v)),
        }
    }
    let p = match posted(&u, fields) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    for (i, id) in ids.into_iter().enumerate() {
        let q = qtys.get(i).cloned().unwrap_or_default();
        let s = scraps.get(i).cloned().unwrap_or_default();
        if id.trim().is_empty() && q.trim().is_empty() {
            continue;
        }
        rows.push(ComponentIn { product_id: Some(id), quantity: Some(q), scrap_percent: nonempty(Some(s)) });
    }
    let input = BomIn {
        product_id: p.text("product_id"),
        components: Some(rows),
        notes: nonempty(p.text("notes")),
        version: p.text("version").and_then(|v| v.parse().ok()),
    };
    match mf::save_bom(&st.app, u.actor(), &input).await {
        Ok(b) => Redirect::to(&format!("/boms/{}", b.id)).into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            bom_form(&st, &u, input, e, Some(msg)).await
        }
        Err(AppError::Refused(k)) => {
            let msg = u.tr(&st).t(k);
            bom_form(&st, &u, input, FieldErrors::new(), Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

// ---------------------------------------------------------------- replenishment

async fn replenishment(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let tr = u.tr(&st);
    let found = match mf::replenishment(&st.app, u.actor()).await {
        Ok(s) => s.items,
        Err(e) => return error_page(&st, &u, e),
    };
    let num = |v: &str| format_decimal(v, &tr.locale);
    let rows = found
        .iter()
        .map(|s| {
            let href = if s.action == "make" { format!("/production/new?product_id={}", s.product_id) } else { String::new() };
            Row {
                cells: vec![
                    format!("{} {}", s.product_code, s.product_name),
                    tr.t(&format!("replenishment-{}", s.action)),
                    num(&s.quantity),
                    num(&s.on_hand),
                    num(&s.reserved),
                    num(&s.open_purchase),
                    num(&s.open_production),
                    num(&s.projected),
                    num(&s.reorder_point),
                ],
                href,
                archived: false,
                total: false,
            }
        })
        .collect();
    let sections = vec![Section {
        title: tr.t("replenishment-suggestions"),
        columns: vec![
            tr.t("field-product"),
            tr.t("replenishment-action"),
            tr.t("field-quantity"),
            tr.t("replenishment-on-hand"),
            tr.t("replenishment-reserved"),
            tr.t("replenishment-open-purchase"),
            tr.t("replenishment-open-production"),
            tr.t("replenishment-projected"),
            tr.t("replenishment-reorder-point"),
        ],
        rows,
        action: None,
        num_from: 2,
    }];
    let actions = if u.actor().can(Action::Read, Resource::Production) { areas(&tr, &u) } else { Vec::new() };
    let rule_products = if u.actor().can(Action::Update, Resource::Stock) {
        all_products(&st, &u)
            .await
            .iter()
            .filter(|p| p.kind != "service")
            .map(|p| (p.id.clone(), format!("{} — {}", p.code, p.name)))
            .collect()
    } else {
        Vec::new()
    };
    let error = q.get("error").map(|k| tr.t(k));
    render(&ListPage { actions, error, sections, rule_products, l: layout(&st, &u, tr.t("replenishment-title"), "/replenishment") })
}

/// A reorder rule set from the replenishment page; a refusal comes back named.
async fn rule_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = mf::ReorderRuleIn {
        product_id: p.text("product_id"),
        reorder_point: p.text("reorder_point"),
        reorder_quantity: p.text("reorder_quantity"),
        ..Default::default()
    };
    match mf::set_rule(&st.app, u.actor(), &input).await {
        Ok(_) => Redirect::to("/replenishment").into_response(),
        Err(AppError::Invalid(e)) => {
            let key = e.0.values().next().cloned().unwrap_or_else(|| "error-validation".into());
            Redirect::to(&format!("/replenishment?error={}", super::urlencode(&key))).into_response()
        }
        Err(e) => error_page(&st, &u, e),
    }
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/production", get(orders))
        .route("/production/new", get(order_new).post(order_post))
        .route("/production/{id}", get(order_get))
        .route("/production/{id}/do/{step}", post(order_step))
        .route("/boms", get(boms))
        .route("/boms/new", get(bom_new))
        .route("/boms/save", post(bom_post))
        .route("/boms/{id}", get(bom_get))
        .route("/replenishment", get(replenishment))
        .route("/replenishment/rules", post(rule_post))
}
