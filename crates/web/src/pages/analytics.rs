//! The manager's dashboard, the RFM page (grid, segments, customers, cohorts), the
//! churn-risk list and the customer figures on a customer's page. Charts are SVG drawn on
//! the server; the figures come from the cache that `app::analytics::refresh` fills.

use super::sales::{bar_chart_of, logistics_section, money, xml_escape};
use super::{error_page, format_decimal, layout, posted, render, urlencode, Layout, PageUser, Row, Section, Tr};
use crate::AppState;
use app::analytics::{self as an, CustomerFigures, CustomerParams, ModelState, Models};
use app::AppError;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use fluent_bundle::FluentArgs;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    l: Layout,
    /// "calculado hace 5 minutos" and, when the models are missing, why.
    fresh: String,
    note: Option<String>,
    can_refresh: bool,
    back: String,
    tiles: Vec<(String, String, String)>,
    charts: Vec<(String, String)>,
    /// Ready-made HTML blocks (the RFM grid, the cohort heat map), with their titles.
    blocks: Vec<(String, String)>,
    filters: Option<Filters>,
    sections: Vec<Section>,
}

struct Filters {
    segments: Vec<(String, String, i64)>,
    segment: String,
    min_p_alive: String,
    sort: String,
    sorts: Vec<(String, String)>,
}

fn args_t(st: &AppState, tr: &Tr, key: &str, n: i64) -> String {
    let mut args = FluentArgs::new();
    args.set("n", n);
    st.i18n.t_args(&tr.locale, key, Some(&args))
}

/// When the figures were computed, in words; and why the model figures are missing.
fn freshness(st: &AppState, tr: &Tr, m: &Models) -> (String, Option<String>) {
    let fresh = match m.computed_at.as_deref().and_then(app::clock::parse) {
        None => tr.t("ana-never-computed"),
        Some(t) => {
            let minutes = (app::clock::now() - t).whole_minutes().max(0);
            match minutes {
                0 => tr.t("ana-computed-now"),
                1..=119 => args_t(st, tr, "ana-computed-minutes", minutes),
                120..=2879 => args_t(st, tr, "ana-computed-hours", minutes / 60),
                _ => args_t(st, tr, "ana-computed-days", minutes / 1440),
            }
        }
    };
    let note = match m.state {
        ModelState::Ok | ModelState::NotComputed => None,
        ModelState::NoData => Some(tr.t("ana-no-data")),
        ModelState::NotEnoughData => {
            let mut args = FluentArgs::new();
            args.set("n", m.repeat_customers);
            args.set("min", m.min_repeat_customers);
            Some(st.i18n.t_args(&tr.locale, "ana-not-enough-data", Some(&args)))
        }
        ModelState::NotConverged | ModelState::Failed => {
            Some(format!("{} {}", tr.t("ana-not-converged"), m.message.clone().unwrap_or_default()))
        }
    };
    (fresh, note)
}

fn percent(tr: &Tr, p: Option<f64>) -> String {
    p.map(|v| format!("{} %", format_decimal(&format!("{:.1}", v * 100.0), &tr.locale))).unwrap_or_else(|| "—".into())
}

fn opt_money(tr: &Tr, v: &Option<String>) -> String {
    v.as_deref().map(|v| money(tr, v)).unwrap_or_else(|| "—".into())
}

fn segment_name(tr: &Tr, code: &str) -> String {
    tr.t(&format!("segment-{}", code.replace('_', "-")))
}

/// Customers with their segment, P(alive) and CLV, each a link to the customer.
fn customer_section(tr: &Tr, title: String, items: &[CustomerFigures]) -> Section {
    let columns = ["field-customer", "ana-segment", "ana-rfm", "ana-total-spend", "ana-p-alive", "ana-expected-purchases", "ana-clv"]
        .iter()
        .map(|k| tr.t(k))
        .collect();
    let rows = items
        .iter()
        .map(|c| Row {
            cells: vec![
                c.name.clone(),
                segment_name(tr, &c.segment),
                format!("{}{}{}", c.r, c.f, c.m),
                money(tr, &c.total_spend),
                percent(tr, c.p_alive),
                c.expected_purchases.map(|v| format_decimal(&format!("{v:.1}"), &tr.locale)).unwrap_or_else(|| "—".into()),
                opt_money(tr, &c.clv),
            ],
            href: format!("/customers/{}", c.customer_id),
            archived: false,
            total: false,
        })
        .collect();
    Section { title, columns, rows, action: None, num_from: 2 }
}

fn amount(v: &str) -> f64 {
    v.parse::<f64>().unwrap_or(0.0)
}

async fn dashboard(State(st): State<AppState>, u: PageUser) -> Response {
    let (app, actor) = (&st.app, u.actor());
    let models = match an::models(app, actor).await {
        Ok(m) => m,
        Err(e) => return error_page(&st, &u, e),
    };
    let k = match an::kpis(app, actor).await {
        Ok(k) => k,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let (fresh, note) = freshness(&st, &tr, &models);
    let dash = |v: &Option<String>| opt_money(&tr, v);
    let mut tiles = Vec::new();
    if k.sales_this_period.is_some() {
        tiles.push((
            tr.t("report-this-month"),
            dash(&k.sales_this_period),
            format!("{} {}", tr.t("report-previous"), dash(&k.sales_previous_period)),
        ));
        tiles.push((
            tr.t("report-overdue"),
            dash(&k.receivables_overdue),
            format!("{} {}", tr.t("report-receivable"), dash(&k.receivables)),
        ));
    }
    if let Some(n) = k.open_opportunities {
        tiles.push((tr.t("ana-open-pipeline"), dash(&k.open_pipeline_value), format!("{n} {}", tr.t("ana-opportunities"))));
    }
    if let (Some(open), Some(breached)) = (k.open_tickets, k.breached_tickets) {
        tiles.push((tr.t("ana-open-tickets"), open.to_string(), format!("{breached} {}", tr.t("ana-breached"))));
    }
    if let Some(n) = k.customers_at_risk {
        tiles.push((tr.t("ana-at-risk"), n.to_string(), format!("{} {}", tr.t("ana-clv"), dash(&k.at_risk_clv))));
    }
    let mut charts = Vec::new();
    if let Ok(by_month) = app::stats::by_period(app, actor, &Default::default()).await {
        let bars: Vec<(String, f64)> = by_month.rows.iter().map(|r| (r.label.clone(), amount(&r.untaxed))).collect();
        let name = tr.t("report-by-period");
        charts.push((name.clone(), bar_chart_of(&bars, &tr, &name, 760.0)));
    }
    if let Ok(a) = app::receivables::ageing(app, actor, &Default::default()).await {
        let b = &a.totals;
        let bars: Vec<(String, f64)> = [
            ("ageing-current", &b.current),
            ("ageing-1-30", &b.days_1_30),
            ("ageing-31-60", &b.days_31_60),
            ("ageing-61-90", &b.days_61_90),
            ("ageing-over-90", &b.over_90),
        ]
        .iter()
        .map(|(key, v)| (tr.t(key), amount(v)))
        .collect();
        let name = tr.t("ageing-title");
        charts.push((name.clone(), bar_chart_of(&bars, &tr, &name, 560.0)));
    }
    if !k.pipeline.is_empty() {
        let bars: Vec<(String, f64)> = k.pipeline.iter().map(|s| (s.stage.clone(), amount(&s.expected_value))).collect();
        let name = tr.t("ana-pipeline-by-stage");
        charts.push((name.clone(), bar_chart_of(&bars, &tr, &name, 560.0)));
    }
    let mut sections = Vec::new();
    let top =
        |sort: &str, max: Option<f64>| CustomerParams { sort: Some(sort.into()), max_p_alive: max, limit: Some(10), ..Default::default() };
    let best_sort = if models.state == ModelState::Ok { "clv" } else { "spend" };
    if let Ok(best) = an::customers(app, actor, &top(best_sort, None)).await {
        sections.push(customer_section(&tr, tr.t("ana-best-customers"), &best.items));
    }
    if models.bgnbd.is_some() {
        if let Ok(risk) = an::customers(app, actor, &top("risk", Some(an::AT_RISK_P_ALIVE))).await {
            let mut s = customer_section(&tr, tr.t("ana-likely-lost"), &risk.items);
            s.action = Some(("/analytics/churn".into(), tr.t("ana-see-all")));
            sections.push(s);
        }
    }
    if let Ok(lg) = app::indicators::logistics(app, actor, &Default::default()).await {
        sections.push(logistics_section(&tr, &lg));
    }
    let l = layout(&st, &u, tr.t("nav-dashboard"), "/dashboard");
    let can_refresh = actor.can(Action::Update, Resource::Analytics);
    render(&AnalyticsPage {
        l,
        fresh,
        note,
        can_refresh,
        back: "/dashboard".into(),
        tiles,
        charts,
        blocks: Vec::new(),
        filters: None,
        sections,
    })
}

/// The segment colours of the grid and the chips (light backgrounds, dark text).
fn segment_colour(code: &str) -> &'static str {
    match code {
        "champions" => "#1b7f4c",
        "loyal" => "#3a9d6a",
        "potential_loyalists" => "#78b98f",
        "new" => "#5b8def",
        "promising" => "#8fb0f3",
        "need_attention" => "#e0b341",
        "about_to_sleep" => "#e8c87a",
        "at_risk" => "#e0823d",
        "cant_lose_them" => "#c2452d",
        "hibernating" => "#a7a29a",
        _ => "#77716a",
    }
}

/// The 5 × 5 grid: recency down (5 at the top), frequency across; each cell the number of
/// customers, coloured by the segment most of them are in.
fn grid_html(tr: &Tr, cells: &[an::GridCell]) -> String {
    let mut h = String::from(r#"<div class="table-wrap"><table class="rfm-grid"><thead><tr><th>"#);
    h.push_str(&xml_escape(&format!("{} ↓ / {} →", tr.t("ana-recency"), tr.t("ana-frequency"))));
    h.push_str("</th>");
    for f in 1..=5 {
        h.push_str(&format!("<th>F{f}</th>"));
    }
    h.push_str("</tr></thead><tbody>");
    for r in (1..=5).rev() {
        h.push_str(&format!("<tr><th>R{r}</th>"));
        for c in cells.iter().filter(|c| c.r == r) {
            match &c.segment {
                Some(seg) if c.customers > 0 => h.push_str(&format!(
                    r#"<td style="background:{}" title="{}"><a href="/analytics/rfm?segment={}">{}</a><small>{}</small></td>"#,
                    segment_colour(seg),
                    xml_escape(&segment_name(tr, seg)),
                    urlencode(seg),
                    c.customers,
                    xml_escape(&segment_name(tr, seg))
                )),
                _ => h.push_str(r#"<td class="empty-cell">0</td>"#),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    h
}

/// Cohorts by month of first purchase × months after, the share that bought shaded.
fn heat_map(tr: &Tr, c: &app::indicators::Cohorts) -> String {
    let months = c.items.iter().map(|r| r.retained.len()).max().unwrap_or(0);
    let mut h = String::from(r#"<div class="table-wrap"><table class="heat"><thead><tr><th>"#);
    h.push_str(&xml_escape(&tr.t("ana-cohort")));
    h.push_str("</th><th>");
    h.push_str(&xml_escape(&tr.t("ana-customers")));
    h.push_str("</th>");
    for m in 0..months {
        h.push_str(&format!("<th>+{m}</th>"));
    }
    h.push_str("</tr></thead><tbody>");
    for row in &c.items {
        h.push_str(&format!("<tr><th>{}</th><td>{}</td>", xml_escape(&row.cohort), row.customers));
        for v in &row.retained {
            let alpha = (v / 100.0).clamp(0.0, 1.0);
            let ink = if alpha > 0.55 { "#fff" } else { "inherit" };
            h.push_str(&format!(
                r#"<td style="background:rgba(27,95,170,{alpha:.2});color:{ink}">{}</td>"#,
                format_decimal(&format!("{v:.0}"), &tr.locale)
            ));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    h
}

async fn rfm_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    list_page(st, u, q, false).await
}

async fn churn_page(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    list_page(st, u, q, true).await
}

/// The RFM page (grid, segments, customers, cohorts) or, with `churn`, the customers most
/// likely to be lost first, with what they are worth.
async fn list_page(st: AppState, u: PageUser, q: HashMap<String, String>, churn: bool) -> Response {
    let (app, actor) = (&st.app, u.actor());
    let models = match an::models(app, actor).await {
        Ok(m) => m,
        Err(e) => return error_page(&st, &u, e),
    };
    let tr = u.tr(&st);
    let (fresh, mut note) = freshness(&st, &tr, &models);
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let min_p_alive = get("min_p_alive");
    let mut params = CustomerParams {
        segment: get("segment"),
        min_p_alive: min_p_alive.as_deref().map(|v| v.replace(',', ".").parse::<f64>().map(|p| p / 100.0).unwrap_or(f64::NAN)),
        sort: Some(get("sort").unwrap_or_else(|| if churn { "risk".into() } else { "clv".into() })),
        limit: Some(200),
        ..Default::default()
    };
    let list = match an::customers(app, actor, &params).await {
        Ok(l) => l,
        Err(AppError::Invalid(e)) => {
            // Bad filters: say why, show everyone.
            note = Some(e.0.values().map(|k| tr.t(k)).collect::<Vec<_>>().join(" "));
            params = CustomerParams { sort: params.sort.clone(), limit: Some(200), ..Default::default() };
            match an::customers(app, actor, &params).await {
                Ok(l) => l,
                Err(e) => return error_page(&st, &u, e),
            }
        }
        Err(e) => return error_page(&st, &u, e),
    };
    let mut blocks = Vec::new();
    let mut sections = Vec::new();
    let title = if churn { tr.t("ana-churn-title") } else { tr.t("ana-customers") };
    let shown: Vec<CustomerFigures> =
        if churn { list.items.into_iter().filter(|c| c.p_alive.is_some_and(|p| p < an::AT_RISK_P_ALIVE)).collect() } else { list.items };
    sections.push(customer_section(&tr, title, &shown));
    if !churn {
        if let Ok(grid) = an::grid(app, actor).await {
            blocks.push((tr.t("ana-grid"), grid_html(&tr, &grid)));
        }
        if let Ok(c) = app::indicators::cohorts(app, actor, &Default::default()).await {
            blocks.push((tr.t("ana-cohorts"), heat_map(&tr, &c)));
        }
    }
    let filters = Filters {
        segments: models.segments.iter().map(|s| (s.segment.clone(), segment_name(&tr, &s.segment), s.customers)).collect(),
        segment: params.segment.clone().unwrap_or_default(),
        min_p_alive: min_p_alive.unwrap_or_default(),
        sort: params.sort.clone().unwrap_or_default(),
        sorts: [("clv", "ana-sort-clv"), ("risk", "ana-sort-risk"), ("spend", "ana-sort-spend"), ("name", "ana-sort-name")]
            .iter()
            .map(|(c, k)| (c.to_string(), tr.t(k)))
            .collect(),
    };
    let (active, key) = if churn { ("/analytics/churn", "ana-churn-title") } else { ("/analytics/rfm", "nav-rfm") };
    let l = layout(&st, &u, tr.t(key), "/dashboard");
    render(&AnalyticsPage {
        l,
        fresh,
        note,
        can_refresh: actor.can(Action::Update, Resource::Analytics),
        back: active.into(),
        tiles: Vec::new(),
        charts: Vec::new(),
        blocks,
        filters: Some(filters),
        sections,
    })
}

async fn refresh(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let back = p.0.get("back").filter(|b| ["/dashboard", "/analytics/rfm", "/analytics/churn"].contains(&b.as_str())).cloned();
    match an::refresh(&st.app, u.actor()).await {
        Ok(_) => Redirect::to(&back.unwrap_or_else(|| "/dashboard".into())).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

/// On a customer's page: their segment, P(alive), expected purchases and CLV.
pub async fn customer_section_of(app: &app::App, actor: &app::Actor, tr: &Tr, party_id: &str) -> Option<Section> {
    if !actor.can(Action::Read, Resource::Analytics) {
        return None;
    }
    let c = an::customer(app, actor, party_id).await.ok().flatten()?;
    let row = |k: &str, v: String| Row::plain(vec![tr.t(k), v]);
    let rows = vec![
        row("ana-segment", format!("{} (R{} F{} M{})", segment_name(tr, &c.segment), c.r, c.f, c.m)),
        row("ana-p-alive", percent(tr, c.p_alive)),
        row(
            "ana-expected-purchases",
            c.expected_purchases.map(|v| format_decimal(&format!("{v:.1}"), &tr.locale)).unwrap_or_else(|| "—".into()),
        ),
        row("ana-clv", opt_money(tr, &c.clv)),
        row("ana-total-spend", money(tr, &c.total_spend)),
    ];
    Some(Section {
        title: tr.t("ana-customer-title"),
        columns: vec![tr.t("ind-indicator"), tr.t("ind-value")],
        rows,
        action: Some(("/analytics/rfm".into(), tr.t("nav-rfm"))),
        num_from: 1,
    })
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/dashboard", get(dashboard))
        .route("/analytics/rfm", get(rfm_page))
        .route("/analytics/churn", get(churn_page))
        .route("/analytics/refresh", post(refresh))
}
