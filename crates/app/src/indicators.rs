//! The logistic service indicators of the orders of a period, computed by
//! `analytics::logistics` from Tendero's own documents.
//!
//! How the documents become facts (one `OrderFacts` per confirmed or closed order issued in
//! the period; only lines of stocked articles count, services are not delivered):
//! - ordered on: the order's date; promised: its promised date;
//! - delivered on: the date of its last posted delivery note;
//! - lines and quantities delivered: the order lines' delivered quantities;
//! - returned: the quantities of its posted credit notes that brought goods back, by the
//!   credit note's reason (the cause);
//! - invoice correct: `None` until a posted invoice exists; `false` when a posted credit or
//!   debit note that moved no goods corrected it (a price or invoicing error);
//! - lines delivered correctly: the delivered lines, as Tendero records no delivery errors
//!   yet (so that figure is an upper bound);
//! - out of stock: goods in the catalogue with nothing available now (a snapshot).
//!
//! Logistic costs are not recorded yet: that ratio stays empty.

use crate::stats::StatsParams;
use crate::{Actor, App, AppResult};
use analytics::logistics::{self, OrderFacts, ReturnFacts};
use domain::access::{Action, Resource};
use serde::Serialize;
use store::sales as rows;
use time::Date;
use utoipa::ToSchema;

/// A share as a percentage with one decimal, or `None` when nothing was measured.
fn pct(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 10.0)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnCause {
    pub cause: String,
    /// Quantity returned for this cause.
    pub quantity: String,
    /// Percentage of the quantity delivered.
    pub percent: f64,
}

/// The indicators, as percentages (0–100) with one decimal; `null` when the period has
/// nothing to measure them on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Logistics {
    pub from: String,
    pub to: String,
    /// Orders measured.
    pub orders: u64,
    pub on_time: Option<f64>,
    pub in_full_quantity: Option<f64>,
    pub in_full_lines: Option<f64>,
    pub complete_orders: Option<f64>,
    pub perfect_orders: Option<f64>,
    /// Share of orders on time, complete and correctly invoiced.
    pub otif: Option<f64>,
    /// On-time rate × complete rate × correct-invoice rate.
    pub otif_product: Option<f64>,
    /// Days from order to last delivery.
    pub average_lead_time_days: Option<f64>,
    pub items_delivered_correctly: Option<f64>,
    pub invoice_errors: Option<f64>,
    pub returns: Option<f64>,
    pub returns_by_cause: Vec<ReturnCause>,
    pub out_of_stock: Option<f64>,
    pub logistic_costs_to_sales: Option<f64>,
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The logistic indicators of the orders issued from `from` to `to` (the same period rules
/// as the sales statistics).
pub async fn logistics(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Logistics> {
    actor.authorize(Action::Read, Resource::Sales)?;
    actor.authorize(Action::Read, Resource::Deliveries)?;
    let q = crate::stats::query(params, crate::clock::now().date())?;
    let (from, to) = (crate::sales::date_key(q.from), crate::sales::date_key(q.to));
    let mut conn = app.db.reader().await?;
    let orders = rows::orders_between(&mut conn, &from, &to).await?;
    let mut facts = Vec::with_capacity(orders.len());
    let mut returns = Vec::new();
    for o in &orders {
        let lines: Vec<rows::LineRow> = rows::lines_of(&mut conn, &o.id).await?.into_iter().filter(|l| l.stocked != 0).collect();
        if lines.is_empty() {
            continue;
        }
        let related = rows::related_documents(&mut conn, &o.id).await?;
        let posted = |kind: &'static str| related.iter().filter(move |d| d.kind == kind && d.status == "posted");
        let delivered_on = posted("delivery").filter_map(|d| date(&d.issue_date)).max();
        let mut qty_returned = 0;
        let mut corrected = false;
        for note in posted("credit_note").chain(posted("debit_note")) {
            if note.returns_goods != 0 {
                let q: i64 = rows::lines_of(&mut conn, &note.id).await?.iter().filter(|l| l.stocked != 0).map(|l| l.quantity).sum();
                qty_returned += q;
                returns.push(ReturnFacts { cause: note.reason.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "—".into()), qty: q });
            } else {
                corrected = true;
            }
        }
        let invoiced = posted("invoice").next().is_some();
        let delivered_lines = lines.iter().filter(|l| l.delivered > 0).count() as u32;
        facts.push(OrderFacts {
            ordered_on: date(&o.issue_date).unwrap_or(q.from),
            promised_on: o.promised_date.as_deref().and_then(date),
            delivered_on,
            lines_ordered: lines.len() as u32,
            lines_delivered: delivered_lines,
            lines_delivered_complete: lines.iter().filter(|l| l.delivered >= l.quantity).count() as u32,
            lines_delivered_correct: delivered_lines,
            qty_ordered: lines.iter().map(|l| l.quantity).sum(),
            qty_delivered: lines.iter().map(|l| l.delivered).sum(),
            qty_returned,
            invoice_correct: invoiced.then_some(!corrected),
        });
    }
    let (catalogue, out) = rows::stock_outs(&mut conn).await?;
    let period = logistics::PeriodFacts { logistic_costs: 0, sales: 0, articles_in_catalogue: catalogue, articles_out_of_stock: out };
    let r = logistics::logistics_report(&facts, &returns, Some(&period)).map_err(|e| crate::AppError::Internal(e.to_string()))?;
    Ok(Logistics {
        from,
        to,
        orders: r.orders,
        on_time: pct(r.on_time),
        in_full_quantity: pct(r.in_full_qty),
        in_full_lines: pct(r.in_full_lines),
        complete_orders: pct(r.complete_orders),
        perfect_orders: pct(r.perfect_orders),
        otif: pct(r.otif),
        otif_product: pct(r.otif_product),
        average_lead_time_days: r.average_lead_time_days.map(|d| (d * 10.0).round() / 10.0),
        items_delivered_correctly: pct(r.items_delivered_correctly),
        invoice_errors: pct(r.invoice_errors),
        returns: pct(r.returns.as_ref().map(|x| x.rate)),
        returns_by_cause: r
            .returns
            .map(|x| {
                x.causes
                    .into_iter()
                    .map(|c| ReturnCause {
                        cause: c.cause,
                        quantity: domain::money::format_trimmed(c.qty, domain::money::QUANTITY_SCALE),
                        percent: (c.rate * 1000.0).round() / 10.0,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        out_of_stock: pct(r.out_of_stock),
        logistic_costs_to_sales: None,
    })
}

/// One cohort: the customers whose first purchase fell in a month, and how many of them
/// bought again in each month after.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cohort {
    /// `YYYY-MM` of the first purchase.
    pub cohort: String,
    pub customers: u64,
    /// Percentage of the cohort that bought in month 0, 1, 2… after (month 0 is 100).
    pub retained: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cohorts {
    pub as_of: String,
    pub items: Vec<Cohort>,
}

/// Cohorts and retention are figures about customers, not about documents: whoever reads
/// the customer analytics (marketing included) reads them, and so does whoever reads both
/// invoices and receipts.
fn authorize_customer_figures(actor: &Actor) -> AppResult<()> {
    if actor.can(Action::Read, Resource::Analytics) {
        return Ok(());
    }
    actor.authorize(Action::Read, Resource::Invoices)?;
    actor.authorize(Action::Read, Resource::Receipts)
}

/// Retention by cohort of first purchase (posted invoices), up to `to`, for up to 12
/// months after; cohorts whose first month is before `from` are left out.
pub async fn cohorts(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Cohorts> {
    authorize_customer_figures(actor)?;
    let q = crate::stats::query(params, crate::clock::now().date())?;
    let (from, to) = (crate::sales::date_key(q.from), crate::sales::date_key(q.to));
    let mut conn = app.db.reader().await?;
    let purchases: Vec<(String, Date)> =
        rows::purchases_until(&mut conn, &to).await?.into_iter().filter_map(|(p, d)| date(&d).map(|d| (p, d))).collect();
    let first_month = &from[..7];
    let items = analytics::retention::cohorts(&purchases, q.to, 12)
        .into_iter()
        .filter(|c| c.cohort.as_str() >= first_month)
        .map(|c| Cohort {
            cohort: c.cohort,
            customers: c.size,
            retained: c.cells.iter().map(|cell| (cell.share * 1000.0).round() / 10.0).collect(),
        })
        .collect();
    Ok(Cohorts { as_of: to, items })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecencyRow {
    /// Days since the last purchase: `0-30`, `31-60`, …, `>365`.
    pub days: String,
    pub customers: u64,
    /// Percentage of the customers who ever bought.
    pub percent: Option<f64>,
}

/// Who keeps buying: churn from the period before to this one, how long since each
/// customer last bought, and how many quotes became orders.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Retention {
    pub from: String,
    pub to: String,
    /// Customers who bought in the same number of days just before `from`.
    pub active_before: u64,
    /// Of those, the ones who bought again from `from` to `to`.
    pub retained: u64,
    /// Percentage of `active_before` who did not buy again.
    pub churn: Option<f64>,
    /// As of `to`.
    pub recency: Vec<RecencyRow>,
    /// Quotes sent (or answered) in the period.
    pub quotes: i64,
    /// Percentage of them accepted (converted into orders).
    pub quote_to_order: Option<f64>,
}

/// Churn, recency and quote conversion for a period (posted invoices are purchases).
pub async fn retention(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Retention> {
    authorize_customer_figures(actor)?;
    let q = crate::stats::query(params, crate::clock::now().date())?;
    let (from, to) = (crate::sales::date_key(q.from), crate::sales::date_key(q.to));
    let internal = |e: analytics::AnalyticsError| crate::AppError::Internal(e.to_string());
    let mut conn = app.db.reader().await?;
    let purchases: Vec<(String, Date)> =
        rows::purchases_until(&mut conn, &to).await?.into_iter().filter_map(|(p, d)| date(&d).map(|d| (p, d))).collect();
    let current = analytics::retention::DateRange::new(q.from, q.to).map_err(internal)?;
    let churn = match crate::stats::previous(q.from, q.to) {
        Some((a, b)) => {
            Some(analytics::retention::churn(&purchases, analytics::retention::DateRange::new(a, b).map_err(internal)?, current))
        }
        None => None,
    };
    let recency =
        analytics::retention::recency_distribution(&purchases, q.to, &analytics::retention::DEFAULT_RECENCY_EDGES).map_err(internal)?;
    let (quotes, accepted) = rows::quote_conversion(&mut conn, &from, &to).await?;
    Ok(Retention {
        from,
        to,
        active_before: churn.as_ref().map(|c| c.active_previous).unwrap_or(0),
        retained: churn.as_ref().map(|c| c.retained).unwrap_or(0),
        churn: pct(churn.and_then(|c| c.rate)),
        recency: recency.buckets.into_iter().map(|b| RecencyRow { days: b.label, customers: b.customers, percent: pct(b.share) }).collect(),
        quotes,
        quote_to_order: pct(analytics::retention::quote_to_order(u64::try_from(quotes).unwrap_or(0), u64::try_from(accepted).unwrap_or(0))),
    })
}
