//! The pipeline pages: a board with a column per stage and a card per opportunity (moved
//! with a select; a stage's requirements are asked on the card), the open leads with a
//! button to convert them, conversion rates, and forms for a new lead and a new
//! opportunity.

use super::sales::{form_response, resolve_customer};
use super::{error_page, format_decimal, layout, nonempty, posted, render, urlencode, FieldSpec, Layout, PageUser, Row, Section};
use crate::AppState;
use app::master::{self as m, ListParams, PartyRole};
use app::pipeline::{self as p, ConvertIn, LeadIn, LeadParams, Opportunity, OpportunityIn, OpportunityParams};
use app::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::{Action, Resource};
use domain::pipeline::SOURCES;
use domain::validation::FieldErrors;
use std::collections::HashMap;

struct Card {
    id: String,
    name: String,
    customer: String,
    customer_id: String,
    value: String,
    raw_value: String,
    close: String,
    probability: i64,
    lost_reason: String,
    quote_id: String,
    can_quote: bool,
}

struct Column {
    code: String,
    name: String,
    won: bool,
    lost: bool,
    total: String,
    cards: Vec<Card>,
}

struct LeadLine {
    id: String,
    name: String,
    email: String,
    company: String,
    source: String,
    status: String,
}

#[derive(Template)]
#[template(path = "pipeline.html")]
struct BoardPage {
    l: Layout,
    actions: Vec<(String, String)>,
    error: Option<String>,
    columns: Vec<Column>,
    stages: Vec<(String, String)>,
    can_update: bool,
    can_convert: bool,
    leads: Vec<LeadLine>,
    sections: Vec<Section>,
}

/// The open opportunities and the latest closed ones, at most a few hundred.
async fn board_items(st: &AppState, u: &PageUser) -> Result<Vec<Opportunity>, AppError> {
    let mut items = Vec::new();
    for status in ["open", "won", "lost"] {
        let limit = if status == "open" { 200 } else { 20 };
        let params = OpportunityParams { status: Some(status.into()), limit: Some(limit), ..Default::default() };
        items.extend(p::list_opportunities(&st.app, u.actor(), &params).await?.items);
    }
    Ok(items)
}

async fn board(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let tr = u.tr(&st);
    let lead_params = LeadParams { limit: Some(100), ..Default::default() };
    let (stages, items, leads, rates) = match tokio::try_join!(
        p::stages(&st.app, u.actor()),
        board_items(&st, &u),
        p::list_leads(&st.app, u.actor(), &lead_params),
        p::conversion(&st.app, u.actor()),
    ) {
        Ok(v) => v,
        Err(e) => return error_page(&st, &u, e),
    };
    // The customers' names, for the cards.
    let mut names: HashMap<String, String> = HashMap::new();
    for id in items.iter().filter_map(|o| o.customer_id.clone()) {
        if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id.clone()) {
            if let Ok(c) = m::get_party(&st.app, u.actor(), PartyRole::Customer, &id).await {
                e.insert(c.name);
            }
        }
    }
    let money = |v: &str| format_decimal(v, &tr.locale);
    let columns = stages
        .iter()
        .map(|s| {
            let cards: Vec<Card> = items
                .iter()
                .filter(|o| o.stage == s.code)
                .map(|o| Card {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    customer: o.customer_id.as_ref().and_then(|c| names.get(c)).cloned().unwrap_or_default(),
                    customer_id: o.customer_id.clone().unwrap_or_default(),
                    value: o.expected_value.as_deref().map(money).unwrap_or_default(),
                    raw_value: o.expected_value.clone().unwrap_or_default(),
                    close: o.expected_close.clone().unwrap_or_default(),
                    probability: o.probability,
                    lost_reason: o.lost_reason.clone().unwrap_or_default(),
                    quote_id: o.quote_id.clone().unwrap_or_default(),
                    can_quote: o.status == "open" && o.customer_id.is_some() && o.quote_id.is_none(),
                })
                .collect();
            // Sums exactly in millionths (values carry the currency's decimals, at most a few).
            let total: i64 = items
                .iter()
                .filter(|o| o.stage == s.code)
                .filter_map(|o| domain::money::parse_scaled(o.expected_value.as_deref()?, 6, false).ok())
                .fold(0i64, i64::saturating_add);
            // Shown with the decimals the values come with (the currency's).
            let places = items.iter().find_map(|o| o.expected_value.as_deref()?.split_once('.').map(|(_, f)| f.len())).unwrap_or(0);
            let scaled = domain::money::format_scaled(total, 6);
            let cut = scaled.find('.').map(|i| if places == 0 { i } else { i + 1 + places }).unwrap_or(scaled.len());
            let total = money(&scaled[..cut.min(scaled.len())]);
            Column { code: s.code.clone(), name: s.name.clone(), won: s.is_won, lost: s.is_lost, total, cards }
        })
        .collect();
    let pct = |v: &Option<String>| v.clone().map(|p| format!("{} %", format_decimal(&p, &tr.locale))).unwrap_or_else(|| "—".into());
    let stage_name = |code: &str| stages.iter().find(|s| s.code == code).map(|s| s.name.clone()).unwrap_or_else(|| code.to_string());
    let sections = vec![
        Section {
            title: tr.t("pipeline-rates-stage"),
            columns: vec![tr.t("field-stage"), tr.t("pipeline-entered"), tr.t("pipeline-won"), tr.t("pipeline-win-rate")],
            rows: rates
                .stages
                .iter()
                .map(|r| {
                    Row::plain(vec![stage_name(&r.stage), r.entered.to_string(), r.won.to_string(), pct(&Some(r.win_percent.clone()))])
                })
                .collect(),
            action: None,
            num_from: 1,
        },
        Section {
            title: tr.t("pipeline-rates-source"),
            columns: vec![
                tr.t("field-source"),
                tr.t("pipeline-won"),
                tr.t("pipeline-lost"),
                tr.t("pipeline-win-rate"),
                tr.t("pipeline-won-value"),
            ],
            rows: rates
                .sources
                .iter()
                .map(|r| {
                    Row::plain(vec![
                        r.key.as_deref().map(|k| tr.t(&format!("source-{k}"))).unwrap_or_default(),
                        r.won.to_string(),
                        r.lost.to_string(),
                        pct(&r.win_percent),
                        money(&r.won_value),
                    ])
                })
                .collect(),
            action: None,
            num_from: 1,
        },
        Section {
            title: tr.t("pipeline-rates-leads"),
            columns: vec![tr.t("field-source"), tr.t("pipeline-leads"), tr.t("pipeline-converted"), tr.t("pipeline-win-rate")],
            rows: rates
                .leads
                .iter()
                .map(|r| {
                    Row::plain(vec![
                        tr.t(&format!("source-{}", r.source)),
                        r.leads.to_string(),
                        r.converted.to_string(),
                        pct(&Some(r.conversion_percent.clone())),
                    ])
                })
                .collect(),
            action: None,
            num_from: 1,
        },
    ];
    let leads = leads
        .items
        .into_iter()
        .filter(|l| !matches!(l.status.as_str(), "converted" | "disqualified"))
        .map(|l| LeadLine {
            status: tr.t(&format!("lead-status-{}", l.status)),
            source: tr.t(&format!("source-{}", l.source)),
            id: l.id,
            name: l.name,
            email: l.email.unwrap_or_default(),
            company: l.company.unwrap_or_default(),
        })
        .collect();
    let mut actions = Vec::new();
    if u.actor().can(Action::Create, Resource::Pipeline) {
        actions.push(("/opportunities/new".to_string(), tr.t("opportunity-new")));
        actions.push(("/leads/new".to_string(), tr.t("lead-new")));
    }
    let error = q.get("error").map(|k| tr.t(k));
    let page = BoardPage {
        actions,
        error,
        columns,
        stages: stages.iter().map(|s| (s.code.clone(), s.name.clone())).collect(),
        can_update: u.actor().can(Action::Update, Resource::Pipeline),
        can_convert: u.actor().can(Action::Update, Resource::Pipeline) && u.actor().can(Action::Create, Resource::Customers),
        leads,
        sections,
        l: layout(&st, &u, tr.t("nav-pipeline"), "/pipeline"),
    };
    render(&page)
}

fn source_options(tr: &super::Tr) -> Vec<(String, String)> {
    SOURCES.iter().map(|s| (s.to_string(), tr.t(&format!("source-{s}")))).collect()
}

fn lead_specs(tr: &super::Tr) -> Vec<FieldSpec> {
    vec![
        super::req(super::f("name", "text")),
        super::f("company", "text"),
        super::f("email", "email"),
        super::f("phone", "tel"),
        FieldSpec { options: source_options(tr), ..super::f("source", "select") },
        super::f("notes", "textarea"),
    ]
}

async fn lead_form(st: &AppState, u: &PageUser, values: HashMap<String, String>, errors: FieldErrors, error: Option<String>) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Pipeline) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let l = layout(st, u, tr.t("lead-new"), "/pipeline");
    form_response(l, lead_specs(&tr), &values, &errors, error, "/leads/new".into(), "/pipeline".into())
}

async fn lead_new(State(st): State<AppState>, u: PageUser) -> Response {
    lead_form(&st, &u, HashMap::from([("source".to_string(), "web".to_string())]), FieldErrors::new(), None).await
}

async fn lead_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = LeadIn {
        name: p.text("name"),
        company: nonempty(p.text("company")),
        email: nonempty(p.text("email")),
        phone: nonempty(p.text("phone")),
        source: p.text("source"),
        notes: nonempty(p.text("notes")),
        ..Default::default()
    };
    match p::save_lead(&st.app, u.actor(), None, &input).await {
        Ok(_) => Redirect::to("/pipeline").into_response(),
        Err(AppError::Invalid(e)) => {
            let msg = u.tr(&st).t("error-validation");
            lead_form(&st, &u, p.0.clone(), e, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn lead_convert(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    match p::convert_lead(&st.app, u.actor(), &id, &ConvertIn::default()).await {
        Ok(c) => Redirect::to(&format!("/customers/{}", c.customer.id)).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

async fn opportunity_form(
    st: &AppState,
    u: &PageUser,
    values: HashMap<String, String>,
    errors: FieldErrors,
    error: Option<String>,
) -> Response {
    if let Err(e) = u.actor().authorize(Action::Create, Resource::Pipeline) {
        return error_page(st, u, e);
    }
    let tr = u.tr(st);
    let stages = p::stages(&st.app, u.actor()).await.unwrap_or_default();
    let customers = m::list_parties(&st.app, u.actor(), PartyRole::Customer, &ListParams { limit: Some(200), ..Default::default() })
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let specs = vec![
        super::req(super::f("name", "text")),
        FieldSpec { options: customers.into_iter().map(|c| (c.name.clone(), c.name)).collect(), ..super::f("customer", "datalist") },
        FieldSpec {
            options: stages.into_iter().filter(|s| !s.is_won && !s.is_lost).map(|s| (s.code, s.name)).collect(),
            ..super::f("stage", "select")
        },
        super::f("expected_value", "text"),
        super::f("expected_close", "date"),
        FieldSpec { options: source_options(&tr), ..super::f("source", "select") },
    ];
    let l = layout(st, u, tr.t("opportunity-new"), "/pipeline");
    form_response(l, specs, &values, &errors, error, "/opportunities/new".into(), "/pipeline".into())
}

async fn opportunity_new(State(st): State<AppState>, u: PageUser, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut values = HashMap::from([("source".to_string(), "other".to_string())]);
    if let Some(c) = q.get("customer_id") {
        if let Ok(c) = m::get_party(&st.app, u.actor(), PartyRole::Customer, c).await {
            values.insert("customer".into(), c.name);
        }
    }
    opportunity_form(&st, &u, values, FieldErrors::new(), None).await
}

async fn opportunity_post(State(st): State<AppState>, u: PageUser, Form(form): Form<Vec<(String, String)>>) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let mut errors = FieldErrors::new();
    let customer_id = match resolve_customer(&st, &u, &p.text("customer").unwrap_or_default()).await {
        Some(id) if id == "ambiguous" => {
            errors.add("customer", "customer-unknown");
            None
        }
        other => other,
    };
    let input = OpportunityIn {
        name: p.text("name"),
        customer_id,
        stage: p.text("stage"),
        expected_value: nonempty(p.text("expected_value")),
        expected_close: nonempty(p.text("expected_close")),
        source: p.text("source"),
        ..Default::default()
    };
    let result =
        if errors.is_empty() { p::save_opportunity(&st.app, u.actor(), None, &input).await } else { Err(AppError::Invalid(errors)) };
    match result {
        Ok(_) => Redirect::to("/pipeline").into_response(),
        Err(AppError::Invalid(mut e)) => {
            if let Some(k) = e.0.remove("customer_id") {
                e.add("customer", &k);
            }
            let msg = u.tr(&st).t("error-validation");
            opportunity_form(&st, &u, p.0.clone(), e, Some(msg)).await
        }
        Err(e) => error_page(&st, &u, e),
    }
}

/// A card moved to another stage; what the stage asks for comes with it. A refusal goes
/// back to the board with the first missing field named.
async fn opportunity_move(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let p = match posted(&u, form) {
        Ok(p) => p,
        Err(e) => return error_page(&st, &u, e),
    };
    let input = OpportunityIn {
        stage: p.text("stage"),
        expected_value: nonempty(p.text("expected_value")),
        expected_close: nonempty(p.text("expected_close")),
        lost_reason: nonempty(p.text("lost_reason")),
        ..Default::default()
    };
    match p::save_opportunity(&st.app, u.actor(), Some(&id), &input).await {
        Ok(_) => Redirect::to("/pipeline").into_response(),
        Err(AppError::Invalid(e)) => {
            let key =
                e.0.keys().next().map(|f| format!("pipeline-needs-{}", f.replace('_', "-"))).unwrap_or_else(|| "error-validation".into());
            Redirect::to(&format!("/pipeline?error={}", urlencode(&key))).into_response()
        }
        Err(e) => error_page(&st, &u, e),
    }
}

async fn opportunity_quote(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = posted(&u, form) {
        return error_page(&st, &u, e);
    }
    match p::quote_from_opportunity(&st.app, u.actor(), &id, &Default::default()).await {
        Ok(q) => Redirect::to(&format!("/quotes/{}/edit", q.id)).into_response(),
        Err(e) => error_page(&st, &u, e),
    }
}

pub fn router(r: Router<AppState>) -> Router<AppState> {
    r.route("/pipeline", get(board))
        .route("/leads/new", get(lead_new).post(lead_post))
        .route("/leads/{id}/convert", post(lead_convert))
        .route("/opportunities/new", get(opportunity_new).post(opportunity_post))
        .route("/opportunities/{id}/move", post(opportunity_move))
        .route("/opportunities/{id}/quote", post(opportunity_quote))
}
