//! Customer analytics from Tendero's own sales: RFM scores and segments, the BG/NBD and
//! Gamma-Gamma models, P(alive), expected purchases and CLV per customer, computed in the
//! background ([`refresh`], run by the server every hour and on demand) and cached with the
//! time they were computed; the pages and the API read the cache.
//!
//! What counts as a purchase: each posted invoice, on its issue date, for its amount
//! before tax, less the posted credit notes made from it and plus the posted debit notes
//! on it. A fully credited invoice (nothing left) is not a purchase: the goods came back,
//! so the customer did not buy. Credit notes are charged to the invoice they correct, not
//! to the day they were issued, so a return does not look like a visit. Tax is left out as
//! it is not the business's to keep.
//!
//! The models run in weeks. Expected purchases are over the next 52 weeks; CLV over 12
//! months at 1 % a month (the `analytics` defaults). The fits need at least
//! [`MIN_REPEAT_CUSTOMERS`] customers who bought more than once; with fewer, or when a fit
//! does not converge, the RFM figures are still kept and the state says why the model
//! figures are missing. Money shown is in exact minor units of the company currency, rounded from the models' floats.

use crate::master::company_in;
use crate::transfer::{ColKind, Sheet};
use crate::{clock, Actor, App, AppError, AppResult};
use analytics::rfm::{rfm_scores, summary, Segment, TimeUnit, Transaction};
use analytics::{bgnbd, clv, gamma_gamma, AnalyticsError, ClvOptions};
use domain::access::{Action, Resource};
use domain::money::format_scaled;
use domain::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::analytics::{self as rows, CustomerRow, Order, RunRow};
use time::Date;
use utoipa::{IntoParams, ToSchema};

/// Fewer customers with a repeat purchase than this, and the models are not fitted: their
/// parameters would say more about chance than about the customers.
pub const MIN_REPEAT_CUSTOMERS: usize = 10;
/// Expected purchases are counted over this many weeks (a year).
pub const HORIZON_WEEKS: f64 = 52.0;

/// How far the models got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelState {
    /// Both models fitted; every figure is there.
    Ok,
    /// Not computed yet.
    NotComputed,
    /// No posted invoices.
    NoData,
    /// Too few customers with a repeat purchase to fit.
    NotEnoughData,
    /// A fit did not converge; `message` says after how many iterations and the best values.
    NotConverged,
    /// Something else went wrong in the models; `message` says what.
    Failed,
}

impl ModelState {
    pub fn code(self) -> &'static str {
        match self {
            ModelState::Ok => "ok",
            ModelState::NotComputed => "not_computed",
            ModelState::NoData => "no_data",
            ModelState::NotEnoughData => "not_enough_data",
            ModelState::NotConverged => "not_converged",
            ModelState::Failed => "failed",
        }
    }

    fn from_code(code: &str) -> ModelState {
        [ModelState::Ok, ModelState::NoData, ModelState::NotEnoughData, ModelState::NotConverged, ModelState::Failed]
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(ModelState::Failed)
    }

    fn of(e: &AnalyticsError) -> ModelState {
        match e {
            AnalyticsError::TooFewCustomers { .. } => ModelState::NotEnoughData,
            AnalyticsError::NotConverged { .. } => ModelState::NotConverged,
            _ => ModelState::Failed,
        }
    }
}

fn to_minor(v: f64, minor: f64) -> Option<i64> {
    let m = (v * minor).round();
    (m.is_finite() && m.abs() < 9.0e15).then_some(m as i64)
}

fn finite(v: Result<f64, AnalyticsError>) -> Option<f64> {
    v.ok().filter(|x| x.is_finite())
}

/// Records why the models stopped.
fn stopped(run: &mut RunRow, e: &AnalyticsError) {
    run.state = ModelState::of(e).code().into();
    run.message = Some(e.to_string());
}

/// Computes everything from the purchases `(customer, YYYY-MM-DD, amount in minor units)`
/// as of `as_of`, with `decimals` digits in the currency's minor unit. Pure: the same
/// purchases give the same figures.
pub fn compute(purchases: &[(String, String, i64)], as_of: Date, decimals: u32, computed_at: String) -> (RunRow, Vec<CustomerRow>) {
    let minor = 10f64.powi(decimals as i32);
    let tx: Vec<Transaction> = purchases
        .iter()
        .filter(|(_, _, amount)| *amount > 0)
        .filter_map(|(c, d, amount)| {
            let date = Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
            (date <= as_of).then(|| Transaction { customer_id: c.clone(), date, amount: *amount as f64 / minor })
        })
        .collect();
    let mut run = RunRow { computed_at, as_of: as_of.to_string(), state: ModelState::Ok.code().into(), ..Default::default() };
    let fail = |mut run: RunRow, e: &AnalyticsError| {
        stopped(&mut run, e);
        (run, Vec::new())
    };
    let scores = match rfm_scores(&tx, as_of) {
        Ok(s) => s,
        Err(e) => return fail(run, &e),
    };
    let summaries = match summary(&tx, as_of, TimeUnit::Week) {
        Ok(s) => s,
        Err(e) => return fail(run, &e),
    };
    let repeat = summaries.iter().filter(|s| s.frequency > 0).count();
    run.customers = summaries.len() as i64;
    run.repeat_customers = repeat as i64;
    let by_id: HashMap<&str, &analytics::CustomerSummary> = summaries.iter().map(|s| (s.customer_id.as_str(), s)).collect();
    let mut customers: Vec<CustomerRow> = scores
        .iter()
        .filter_map(|s| {
            let sm = by_id.get(s.customer_id.as_str())?;
            Some(CustomerRow {
                party_id: s.customer_id.clone(),
                name: String::new(),
                days_since_last: s.days_since_last_purchase,
                purchase_days: i64::from(s.purchase_days),
                total_spend: to_minor(s.total_spend, minor).unwrap_or(0),
                r_score: i64::from(s.r),
                f_score: i64::from(s.f),
                m_score: i64::from(s.m),
                segment: s.segment.code().into(),
                frequency: i64::from(sm.frequency),
                recency: sm.recency,
                age: sm.t,
                ..Default::default()
            })
        })
        .collect();
    if summaries.is_empty() {
        run.state = ModelState::NoData.code().into();
        return (run, customers);
    }
    if repeat < MIN_REPEAT_CUSTOMERS {
        run.state = ModelState::NotEnoughData.code().into();
        run.message = Some(format!("{repeat} customers with repeat purchases; the models need at least {MIN_REPEAT_CUSTOMERS}"));
        return (run, customers);
    }
    let bg = match bgnbd::fit(&summaries) {
        Ok(f) => f,
        Err(e) => {
            stopped(&mut run, &e);
            return (run, customers);
        }
    };
    let p = bg.params;
    (run.bg_r, run.bg_alpha, run.bg_a, run.bg_b, run.bg_log_likelihood) =
        (Some(p.r), Some(p.alpha), Some(p.a), Some(p.b), Some(bg.log_likelihood));
    for c in customers.iter_mut() {
        let Some(sm) = by_id.get(c.party_id.as_str()) else { continue };
        c.p_alive = finite(p.p_alive(sm.frequency, sm.recency, sm.t)).map(|v| v.clamp(0.0, 1.0));
        c.expected_purchases = finite(p.conditional_expected_purchases(HORIZON_WEEKS, sm.frequency, sm.recency, sm.t));
    }
    let gg = match gamma_gamma::fit(&summaries) {
        Ok(f) => f,
        Err(e) => {
            stopped(&mut run, &e);
            return (run, customers);
        }
    };
    let g = gg.params;
    (run.gg_p, run.gg_q, run.gg_v, run.gg_log_likelihood) = (Some(g.p), Some(g.q), Some(g.v), Some(gg.log_likelihood));
    let opts = ClvOptions::new(as_of);
    for c in customers.iter_mut() {
        let Some(sm) = by_id.get(c.party_id.as_str()) else { continue };
        c.expected_spend = finite(g.conditional_expected_average_profit(sm.frequency, sm.monetary_value)).and_then(|v| to_minor(v, minor));
        c.clv = finite(clv::customer_lifetime_value(
            &p,
            &g,
            sm.frequency,
            sm.recency,
            sm.t,
            sm.monetary_value,
            opts.clv_months,
            opts.discount_monthly,
            TimeUnit::Week,
        ))
        .and_then(|v| to_minor(v, minor));
    }
    (run, customers)
}

/// Recomputes the figures from the posted sales and replaces the cache in one transaction.
/// Managers and administrators (and the server's own job, acting as the system).
pub async fn refresh(app: &App, actor: &Actor) -> AppResult<Models> {
    actor.authorize(Action::Update, Resource::Analytics)?;
    let today = clock::now().date();
    let (purchases, decimals) = {
        let mut conn = app.db.reader().await?;
        (rows::purchases(&mut conn, &crate::sales::date_key(today)).await?, company_in(&mut conn).await?.decimals())
    };
    let computed_at = clock::now_text();
    // The fits are CPU work: keep them off the threads that answer requests.
    let (run, customers) = tokio::task::spawn_blocking(move || compute(&purchases, today, decimals, computed_at))
        .await
        .map_err(|e| AppError::Internal(format!("analytics computation stopped: {e}")))?;
    let mut tx = app.db.begin().await?;
    rows::replace(&mut tx, &run, &customers).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    tracing::info!(state = %run.state, customers = run.customers, repeat = run.repeat_customers, "customer analytics recomputed");
    models(app, actor).await
}

// ---------------------------------------------------------------- reading the cache

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub log_likelihood: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
    pub log_likelihood: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentCount {
    pub segment: String,
    pub customers: i64,
}

/// The state of the cached figures: when they were computed and how far the models got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Models {
    pub state: ModelState,
    /// Why the model figures are missing (English, for the log and the API).
    pub message: Option<String>,
    /// RFC 3339, UTC; null before the first computation.
    pub computed_at: Option<String>,
    /// The day the figures are as of.
    pub as_of: Option<String>,
    /// Customers who ever bought.
    pub customers: i64,
    /// Of them, those who bought on more than one day.
    pub repeat_customers: i64,
    /// The minimum of repeat customers the models need.
    pub min_repeat_customers: i64,
    pub bgnbd: Option<BgNbd>,
    pub gamma_gamma: Option<GammaGamma>,
    /// Customers per RFM segment, best segment first, all eleven listed.
    pub segments: Vec<SegmentCount>,
}

/// When the figures were computed, the models' state and parameters, customers per segment.
pub async fn models(app: &App, actor: &Actor) -> AppResult<Models> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let mut conn = app.db.reader().await?;
    let run = rows::run(&mut conn).await?;
    let grid = rows::grid(&mut conn).await?;
    let segments = Segment::ALL
        .iter()
        .map(|s| SegmentCount { segment: s.code().into(), customers: grid.iter().filter(|g| g.2 == s.code()).map(|g| g.3).sum() })
        .collect();
    let Some(run) = run else {
        return Ok(Models {
            state: ModelState::NotComputed,
            message: None,
            computed_at: None,
            as_of: None,
            customers: 0,
            repeat_customers: 0,
            min_repeat_customers: MIN_REPEAT_CUSTOMERS as i64,
            bgnbd: None,
            gamma_gamma: None,
            segments,
        });
    };
    let bgnbd = match (run.bg_r, run.bg_alpha, run.bg_a, run.bg_b, run.bg_log_likelihood) {
        (Some(r), Some(alpha), Some(a), Some(b), Some(log_likelihood)) => Some(BgNbd { r, alpha, a, b, log_likelihood }),
        _ => None,
    };
    let gamma_gamma = match (run.gg_p, run.gg_q, run.gg_v, run.gg_log_likelihood) {
        (Some(p), Some(q), Some(v), Some(log_likelihood)) => Some(GammaGamma { p, q, v, log_likelihood }),
        _ => None,
    };
    Ok(Models {
        state: ModelState::from_code(&run.state),
        message: run.message,
        computed_at: Some(run.computed_at),
        as_of: Some(run.as_of),
        customers: run.customers,
        repeat_customers: run.repeat_customers,
        min_repeat_customers: MIN_REPEAT_CUSTOMERS as i64,
        bgnbd,
        gamma_gamma,
        segments,
    })
}

/// One customer's figures. Money as decimal strings; model figures null when the models
/// could not be fitted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerFigures {
    pub customer_id: String,
    pub name: String,
    /// RFM segment code (`champions`, `loyal`, `potential_loyalists`, `new`, `promising`,
    /// `need_attention`, `about_to_sleep`, `at_risk`, `cant_lose_them`, `hibernating`, `lost`).
    pub segment: String,
    /// Recency, frequency and monetary scores, 1–5 (5 best).
    pub r: i64,
    pub f: i64,
    pub m: i64,
    pub days_since_last_purchase: i64,
    /// Distinct days with a purchase.
    pub purchase_days: i64,
    /// Everything bought, before tax, net of credit notes.
    pub total_spend: String,
    /// Repeat purchases (purchase days − 1).
    pub frequency: i64,
    /// Weeks from the first to the last purchase.
    pub recency_weeks: f64,
    /// Weeks from the first purchase to the day of the figures.
    pub age_weeks: f64,
    /// Probability that the customer still buys (BG/NBD), 0–1.
    pub p_alive: Option<f64>,
    /// Purchases expected in the next 52 weeks.
    pub expected_purchases: Option<f64>,
    /// Expected amount of each future purchase (Gamma-Gamma).
    pub expected_spend: Option<String>,
    /// Lifetime value over the next 12 months, discounted 1 % a month.
    pub clv: Option<String>,
}

impl CustomerFigures {
    fn of(c: CustomerRow, decimals: u32) -> Self {
        CustomerFigures {
            customer_id: c.party_id,
            name: c.name,
            segment: c.segment,
            r: c.r_score,
            f: c.f_score,
            m: c.m_score,
            days_since_last_purchase: c.days_since_last,
            purchase_days: c.purchase_days,
            total_spend: format_scaled(c.total_spend, decimals),
            frequency: c.frequency,
            recency_weeks: (c.recency * 100.0).round() / 100.0,
            age_weeks: (c.age * 100.0).round() / 100.0,
            p_alive: c.p_alive.map(|p| (p * 10_000.0).round() / 10_000.0),
            expected_purchases: c.expected_purchases.map(|p| (p * 100.0).round() / 100.0),
            expected_spend: c.expected_spend.map(|v| format_scaled(v, decimals)),
            clv: c.clv.map(|v| format_scaled(v, decimals)),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerParams {
    /// Only this RFM segment (its code).
    pub segment: Option<String>,
    /// Only customers at least this likely to be alive (0–1).
    pub min_p_alive: Option<f64>,
    /// Only customers at most this likely to be alive (0–1).
    pub max_p_alive: Option<f64>,
    /// `clv` (highest first, the default), `risk` (least likely alive first, then highest
    /// CLV), `spend` (highest first) or `name`.
    pub sort: Option<String>,
    /// 1–1000 (default 50).
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    pub offset: Option<i64>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerList {
    pub computed_at: Option<String>,
    pub state: ModelState,
    pub items: Vec<CustomerFigures>,
    /// The `offset` of the next page; null on the last.
    pub next_offset: Option<i64>,
}

struct Checked {
    segment: Option<String>,
    min: Option<f64>,
    max: Option<f64>,
    order: Order,
    limit: i64,
    offset: i64,
}

fn check(p: &CustomerParams) -> AppResult<Checked> {
    let mut errors = FieldErrors::new();
    let segment = p.segment.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if segment.as_deref().is_some_and(|s| Segment::from_code(s).is_none()) {
        errors.add("segment", "segment-invalid");
    }
    let probability = |v: Option<f64>| v.is_some_and(|x| !(0.0..=1.0).contains(&x));
    if probability(p.min_p_alive) {
        errors.add("min_p_alive", "probability-invalid");
    }
    if probability(p.max_p_alive) {
        errors.add("max_p_alive", "probability-invalid");
    }
    let order = match p.sort.as_deref().map(str::trim).unwrap_or("") {
        "" | "clv" => Some(Order::Clv),
        "risk" => Some(Order::Risk),
        "spend" => Some(Order::Spend),
        "name" => Some(Order::Name),
        _ => None,
    };
    if order.is_none() {
        errors.add("sort", "sort-invalid");
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        errors.add("limit", "limit-invalid");
    }
    let offset = p.offset.unwrap_or(0);
    if !(0..=1_000_000_000).contains(&offset) {
        errors.add("offset", "offset-invalid");
    }
    match order {
        Some(order) if errors.is_empty() => Ok(Checked { segment, min: p.min_p_alive, max: p.max_p_alive, order, limit, offset }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A page of customers with their RFM and model figures, filtered and sorted.
pub async fn customers(app: &App, actor: &Actor, p: &CustomerParams) -> AppResult<CustomerList> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let c = check(p)?;
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    let run = rows::run(&mut conn).await?;
    let mut items = rows::customers(&mut conn, c.segment.as_deref(), c.min, c.max, c.order, c.limit + 1, c.offset).await?;
    let next_offset = (items.len() as i64 > c.limit).then_some(c.offset + c.limit);
    items.truncate(c.limit as usize);
    Ok(CustomerList {
        state: run.as_ref().map(|r| ModelState::from_code(&r.state)).unwrap_or(ModelState::NotComputed),
        computed_at: run.map(|r| r.computed_at),
        items: items.into_iter().map(|c| CustomerFigures::of(c, decimals)).collect(),
        next_offset,
    })
}

/// One customer's figures, or `None` when they never bought (or nothing was computed yet).
pub async fn customer(app: &App, actor: &Actor, party_id: &str) -> AppResult<Option<CustomerFigures>> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    Ok(rows::customer(&mut conn, party_id).await?.map(|c| CustomerFigures::of(c, decimals)))
}

/// One cell of the RFM grid: customers with recency score `r` and frequency score `f`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GridCell {
    pub r: i64,
    pub f: i64,
    pub customers: i64,
    /// The segment most of them are in (null when the cell is empty).
    pub segment: Option<String>,
}

/// The 5 × 5 recency × frequency grid, recency 5 first, frequency 1 first.
pub async fn grid(app: &App, actor: &Actor) -> AppResult<Vec<GridCell>> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let mut conn = app.db.reader().await?;
    let rows = rows::grid(&mut conn).await?;
    let mut out = Vec::with_capacity(25);
    for r in (1..=5).rev() {
        for f in 1..=5 {
            let here: Vec<&(i64, i64, String, i64)> = rows.iter().filter(|g| g.0 == r && g.1 == f).collect();
            let customers = here.iter().map(|g| g.3).sum();
            let segment = here.iter().max_by_key(|g| g.3).map(|g| g.2.clone());
            out.push(GridCell { r, f, customers, segment });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- headline figures

/// Open opportunities in one stage of the pipeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageValue {
    pub stage: String,
    pub opportunities: i64,
    pub expected_value: String,
}

/// A handful of headline figures for the manager. Each part is null when the reader may not
/// see it (sales figures need invoices and receipts; the pipeline and the tickets their own
/// permissions), so one call serves every role that reads analytics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Kpis {
    /// First and last day of this month so far.
    pub from: String,
    pub to: String,
    /// Sales this month so far, before tax, net of credit notes.
    pub sales_this_period: Option<String>,
    /// The same number of days just before.
    pub sales_previous_period: Option<String>,
    /// What customers owe.
    pub receivables: Option<String>,
    /// Of that, past its due date.
    pub receivables_overdue: Option<String>,
    pub open_opportunities: Option<i64>,
    pub open_pipeline_value: Option<String>,
    pub pipeline: Vec<StageValue>,
    pub open_tickets: Option<i64>,
    /// Open tickets past a first-response or resolution due time.
    pub breached_tickets: Option<i64>,
    /// Customers with P(alive) below one half (null while the models are not fitted).
    pub customers_at_risk: Option<i64>,
    /// Their CLV together.
    pub at_risk_clv: Option<String>,
    /// When the customer figures were computed.
    pub computed_at: Option<String>,
}

/// Below this P(alive) a customer counts as at risk of being lost.
pub const AT_RISK_P_ALIVE: f64 = 0.5;

pub async fn kpis(app: &App, actor: &Actor) -> AppResult<Kpis> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let today = clock::now().date();
    let first = today.replace_day(1).unwrap_or(today);
    let (from, to) = (crate::sales::date_key(first), crate::sales::date_key(today));
    let period = crate::stats::StatsParams { from: Some(from.clone()), to: Some(to.clone()), ..Default::default() };
    let compare = crate::stats::compare(app, actor, &period).await.ok();
    let ageing = crate::receivables::ageing(app, actor, &Default::default()).await.ok();
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    let pipeline = if actor.can(Action::Read, Resource::Pipeline) { Some(rows::open_pipeline(&mut conn).await?) } else { None };
    let tickets = if actor.can(Action::Read, Resource::Tickets) { Some(rows::open_tickets(&mut conn).await?) } else { None };
    let run = rows::run(&mut conn).await?;
    let fitted = run.as_ref().is_some_and(|r| r.bg_r.is_some());
    let at_risk = if fitted { Some(rows::at_risk(&mut conn, AT_RISK_P_ALIVE).await?) } else { None };
    let overdue = ageing.as_ref().map(|a| {
        let b = &a.totals;
        let sum: i64 = [&b.days_1_30, &b.days_31_60, &b.days_61_90, &b.over_90]
            .iter()
            .map(|v| domain::money::parse_scaled(v, decimals, true).unwrap_or(0))
            .sum();
        format_scaled(sum, decimals)
    });
    Ok(Kpis {
        from,
        to,
        sales_this_period: compare.as_ref().map(|c| c.0.clone()),
        sales_previous_period: compare.map(|c| c.1),
        receivables: ageing.map(|a| a.totals.total),
        receivables_overdue: overdue,
        open_opportunities: pipeline.as_ref().map(|p| p.iter().map(|s| s.1).sum()),
        open_pipeline_value: pipeline.as_ref().map(|p| format_scaled(p.iter().map(|s| s.2).sum(), decimals)),
        pipeline: pipeline
            .unwrap_or_default()
            .into_iter()
            .map(|(stage, opportunities, v)| StageValue { stage, opportunities, expected_value: format_scaled(v, decimals) })
            .collect(),
        open_tickets: tickets.map(|t| t.0),
        breached_tickets: tickets.map(|t| t.1),
        customers_at_risk: at_risk.map(|a| a.0),
        at_risk_clv: at_risk.map(|a| format_scaled(a.1, decimals)),
        computed_at: run.map(|r| r.computed_at),
    })
}

// ---------------------------------------------------------------- reports and their files

/// RFM: the 5 × 5 grid, customers per segment, and a page of customers with their scores.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfmReport {
    pub computed_at: Option<String>,
    pub grid: Vec<GridCell>,
    pub segments: Vec<SegmentCount>,
    pub items: Vec<CustomerFigures>,
    pub next_offset: Option<i64>,
}

pub async fn rfm(app: &App, actor: &Actor, p: &CustomerParams) -> AppResult<RfmReport> {
    let list = customers(app, actor, p).await?;
    let m = models(app, actor).await?;
    Ok(RfmReport {
        computed_at: list.computed_at,
        grid: grid(app, actor).await?,
        segments: m.segments,
        items: list.items,
        next_offset: list.next_offset,
    })
}

/// CLV: the models' state and parameters and a page of customers with P(alive) and CLV.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClvReport {
    pub models: Models,
    pub items: Vec<CustomerFigures>,
    pub next_offset: Option<i64>,
}

pub async fn clv(app: &App, actor: &Actor, p: &CustomerParams) -> AppResult<ClvReport> {
    let list = customers(app, actor, p).await?;
    Ok(ClvReport { models: models(app, actor).await?, items: list.items, next_offset: list.next_offset })
}

/// Every customer that matches the filters (for a file), page after page.
pub async fn all_customers(app: &App, actor: &Actor, p: &CustomerParams) -> AppResult<Vec<CustomerFigures>> {
    let mut p = CustomerParams { limit: Some(1000), offset: Some(0), ..p.clone() };
    let mut out = Vec::new();
    loop {
        let page = customers(app, actor, &p).await?;
        out.extend(page.items);
        match page.next_offset {
            Some(next) => p.offset = Some(next),
            None => return Ok(out),
        }
    }
}

/// Service: tickets open and breached now, and resolution compliance per team in a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Service {
    pub open_tickets: i64,
    pub breached_tickets: i64,
    pub teams: Vec<crate::desk::Compliance>,
}

pub async fn service(app: &App, actor: &Actor, p: &crate::desk::ComplianceParams) -> AppResult<Service> {
    actor.authorize(Action::Read, Resource::Analytics)?;
    let teams = crate::desk::compliance(app, actor, p).await?;
    let mut conn = app.db.reader().await?;
    let (open_tickets, breached_tickets) = rows::open_tickets(&mut conn).await?;
    Ok(Service { open_tickets, breached_tickets, teams })
}

/// `json` (or nothing) → `None`; `csv`, `xlsx` → the file format; anything else refused.
pub fn file_format(code: Option<&str>) -> AppResult<Option<crate::transfer::ExportFormat>> {
    use crate::transfer::ExportFormat;
    match code.map(str::trim).unwrap_or("") {
        "" | "json" => Ok(None),
        "csv" => Ok(Some(ExportFormat::Csv)),
        "xlsx" => Ok(Some(ExportFormat::Xlsx)),
        _ => Err(AppError::Invalid(FieldErrors::single("format", "format-invalid"))),
    }
}

/// A report's table as a CSV or XLSX file (money with the company currency's decimals).
pub async fn download(app: &App, sheet: &Sheet, format: crate::transfer::ExportFormat) -> AppResult<Vec<u8>> {
    let mut conn = app.db.reader().await?;
    let decimals = company_in(&mut conn).await?.decimals();
    crate::transfer::write_sheet(sheet, format, decimals)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// One row per customer: the RFM figures.
pub fn rfm_sheet(items: &[CustomerFigures]) -> Sheet {
    use ColKind::*;
    Sheet {
        title: "RFM",
        columns: vec![
            ("customer_id", Text),
            ("name", Text),
            ("segment", Text),
            ("r", Whole),
            ("f", Whole),
            ("m", Whole),
            ("days_since_last_purchase", Whole),
            ("purchase_days", Whole),
            ("total_spend", Money),
        ],
        rows: items
            .iter()
            .map(|c| {
                vec![
                    c.customer_id.clone(),
                    c.name.clone(),
                    c.segment.clone(),
                    c.r.to_string(),
                    c.f.to_string(),
                    c.m.to_string(),
                    c.days_since_last_purchase.to_string(),
                    c.purchase_days.to_string(),
                    c.total_spend.clone(),
                ]
            })
            .collect(),
    }
}

/// One row per customer: the BG/NBD summary, P(alive), expected purchases, spend and CLV
/// (empty cells while the models are not fitted).
pub fn clv_sheet(items: &[CustomerFigures]) -> Sheet {
    use ColKind::*;
    Sheet {
        title: "CLV",
        columns: vec![
            ("customer_id", Text),
            ("name", Text),
            ("segment", Text),
            ("frequency", Whole),
            ("recency_weeks", Number),
            ("age_weeks", Number),
            ("total_spend", Money),
            ("p_alive", Number),
            ("expected_purchases", Number),
            ("expected_spend", Money),
            ("clv", Money),
        ],
        rows: items
            .iter()
            .map(|c| {
                vec![
                    c.customer_id.clone(),
                    c.name.clone(),
                    c.segment.clone(),
                    c.frequency.to_string(),
                    c.recency_weeks.to_string(),
                    c.age_weeks.to_string(),
                    c.total_spend.clone(),
                    opt(c.p_alive),
                    opt(c.expected_purchases),
                    opt(c.expected_spend.clone()),
                    opt(c.clv.clone()),
                ]
            })
            .collect(),
    }
}

/// One row per cohort: its size and the percentage retained each month after.
pub fn cohorts_sheet(c: &crate::indicators::Cohorts) -> Sheet {
    const MONTHS: [&str; 13] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12"];
    let mut columns = vec![("cohort", ColKind::Text), ("customers", ColKind::Whole)];
    columns.extend(MONTHS.iter().map(|m| (*m, ColKind::Number)));
    let rows = c
        .items
        .iter()
        .map(|row| {
            let mut r = vec![row.cohort.clone(), row.customers.to_string()];
            r.extend((0..MONTHS.len()).map(|i| opt(row.retained.get(i))));
            r
        })
        .collect();
    Sheet { title: "Cohorts", columns, rows }
}

/// One row per stage, owner, source and lead source.
pub fn conversion_sheet(c: &crate::pipeline::Conversion) -> Sheet {
    use ColKind::*;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for s in &c.stages {
        rows.push(vec!["stage".into(), s.stage.clone(), s.entered.to_string(), s.won.to_string(), String::new(), s.win_percent.clone()]);
    }
    for (kind, list) in [("owner", &c.owners), ("source", &c.sources)] {
        for s in list {
            rows.push(vec![
                kind.into(),
                s.key.clone().unwrap_or_default(),
                (s.won + s.lost).to_string(),
                s.won.to_string(),
                s.won_value.clone(),
                s.win_percent.clone().unwrap_or_default(),
            ]);
        }
    }
    for l in &c.leads {
        rows.push(vec![
            "lead_source".into(),
            l.source.clone(),
            l.leads.to_string(),
            l.converted.to_string(),
            String::new(),
            l.conversion_percent.clone(),
        ]);
    }
    Sheet {
        title: "Conversion",
        columns: vec![("kind", Text), ("key", Text), ("count", Whole), ("won", Whole), ("won_value", Money), ("percent", Number)],
        rows,
    }
}

/// One row per indicator.
pub fn logistics_sheet(l: &crate::indicators::Logistics) -> Sheet {
    let mut rows: Vec<Vec<String>> = [
        ("orders", Some(l.orders as f64)),
        ("on_time", l.on_time),
        ("in_full_quantity", l.in_full_quantity),
        ("in_full_lines", l.in_full_lines),
        ("complete_orders", l.complete_orders),
        ("perfect_orders", l.perfect_orders),
        ("otif", l.otif),
        ("otif_product", l.otif_product),
        ("average_lead_time_days", l.average_lead_time_days),
        ("items_delivered_correctly", l.items_delivered_correctly),
        ("invoice_errors", l.invoice_errors),
        ("returns", l.returns),
        ("out_of_stock", l.out_of_stock),
        ("logistic_costs_to_sales", l.logistic_costs_to_sales),
    ]
    .iter()
    .map(|(k, v)| vec![(*k).to_string(), opt(*v)])
    .collect();
    rows.extend(l.returns_by_cause.iter().map(|c| vec![format!("returns: {}", c.cause), c.percent.to_string()]));
    Sheet { title: "Logistics", columns: vec![("indicator", ColKind::Text), ("value", ColKind::Number)], rows }
}

/// One row per team, and the open and breached tickets.
pub fn service_sheet(s: &Service) -> Sheet {
    use ColKind::*;
    let mut rows: Vec<Vec<String>> =
        s.teams.iter().map(|t| vec![t.team.clone(), t.solved.to_string(), t.breached.to_string(), t.compliance_percent.clone()]).collect();
    rows.push(vec!["open_now".into(), s.open_tickets.to_string(), s.breached_tickets.to_string(), String::new()]);
    Sheet { title: "Service", columns: vec![("team", Text), ("tickets", Whole), ("breached", Whole), ("compliance_percent", Number)], rows }
}

/// One row per headline figure.
pub fn kpis_sheet(k: &Kpis) -> Sheet {
    let rows = [
        ("sales_this_period", k.sales_this_period.clone()),
        ("sales_previous_period", k.sales_previous_period.clone()),
        ("receivables", k.receivables.clone()),
        ("receivables_overdue", k.receivables_overdue.clone()),
        ("open_opportunities", k.open_opportunities.map(|v| v.to_string())),
        ("open_pipeline_value", k.open_pipeline_value.clone()),
        ("open_tickets", k.open_tickets.map(|v| v.to_string())),
        ("breached_tickets", k.breached_tickets.map(|v| v.to_string())),
        ("customers_at_risk", k.customers_at_risk.map(|v| v.to_string())),
        ("at_risk_clv", k.at_risk_clv.clone()),
    ]
    .into_iter()
    .map(|(name, v)| vec![name.to_string(), v.unwrap_or_default()])
    .collect();
    Sheet { title: "KPIs", columns: vec![("figure", ColKind::Text), ("value", ColKind::Number)], rows }
}
