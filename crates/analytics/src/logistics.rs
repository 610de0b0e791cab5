//! Logistic service indicators: on time, in full, complete and perfect orders, OTIF,
//! lead time, delivery and invoice accuracy, returns by cause, stock-outs and logistic
//! costs as a share of sales.
//!
//! The inputs are plain facts that the caller extracts from its documents: one
//! [`OrderFacts`] per customer order, one [`ReturnFacts`] per returned quantity with its
//! reason code, and one [`PeriodFacts`] per reporting period. Quantities are integers in
//! thousandths of the unit and money is in cents, as everywhere in this crate.
//!
//! Every indicator is a fraction in `[0, 1]` (multiply by 100 for a percentage), except
//! the lead time in days. An indicator whose denominator is empty or zero is `None`,
//! never NaN. The per-order rules (on time, complete, OTIF, perfect) are methods of
//! [`OrderFacts`] and every aggregate counts with them, so each rule is written once.
//!
//! **Which orders to feed.** The on-time based indicators judge an order against its
//! promised date, and an order that has a promise but no delivery counts as late. Feed
//! the orders *due* in the period (promised date inside it and on or before the report
//! date); an order promised for next week is not late yet and does not belong in this
//! week's figures. The functions do not filter by date themselves.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::error::{AnalyticsError, Result};

/// `numerator / denominator` for counts, `None` when the denominator is zero.
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// `numerator / denominator` for sums of quantities or amounts, `None` unless the
/// denominator is positive.
fn ratio_i128(numerator: i128, denominator: i128) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Share of the orders for which `rule` gives an answer that answer `true`; orders for
/// which it gives `None` are left out of both counts.
fn share_of_orders(orders: &[OrderFacts], rule: impl Fn(&OrderFacts) -> Option<bool>) -> Option<f64> {
    let (mut yes, mut judged) = (0u64, 0u64);
    for verdict in orders.iter().filter_map(rule) {
        judged += 1;
        yes += u64::from(verdict);
    }
    ratio(yes, judged)
}

// ---------------------------------------------------------------------------- inputs

/// What happened to one customer order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderFacts {
    /// Day the order was confirmed.
    pub ordered_on: Date,
    /// Delivery date promised to the customer; `None` when no date was promised.
    pub promised_on: Option<Date>,
    /// Day of the last delivery so far (the delivery confirmation date); `None` when
    /// nothing has been delivered.
    pub delivered_on: Option<Date>,
    /// Number of order lines (items).
    pub lines_ordered: u32,
    /// Lines of which at least part has been delivered.
    pub lines_delivered: u32,
    /// Lines whose full ordered quantity has been delivered.
    pub lines_delivered_complete: u32,
    /// Delivered lines that arrived right: the right article, undamaged (not reported as
    /// a delivery error).
    pub lines_delivered_correct: u32,
    /// Total quantity ordered, in thousandths.
    pub qty_ordered: i64,
    /// Total quantity delivered, in thousandths (may exceed the quantity ordered).
    pub qty_delivered: i64,
    /// Total quantity the customer returned, in thousandths.
    pub qty_returned: i64,
    /// `Some(true)` when the order was invoiced without error, `Some(false)` when its
    /// invoice had to be corrected (e.g. a credit note with an invoicing-error reason),
    /// `None` when it is not invoiced yet.
    pub invoice_correct: Option<bool>,
}

impl OrderFacts {
    /// On time: delivered (last delivery) on or before the promised date. `None` when no
    /// date was promised; `Some(false)` when promised but not delivered.
    pub fn on_time(&self) -> Option<bool> {
        let promised = self.promised_on?;
        Some(self.delivered_on.is_some_and(|d| d <= promised))
    }

    /// Complete (in full, by lines): every ordered line delivered in full. `None` for an
    /// order without lines.
    pub fn complete(&self) -> Option<bool> {
        (self.lines_ordered > 0).then_some(self.lines_delivered_complete >= self.lines_ordered)
    }

    /// Invoiced, and the invoice was correct.
    pub fn correctly_invoiced(&self) -> bool {
        self.invoice_correct == Some(true)
    }

    /// The customer returned part of the order.
    pub fn returned(&self) -> bool {
        self.qty_returned > 0
    }

    /// OTIF for this order: on time AND complete AND correctly invoiced. `None` when on
    /// time or complete cannot be judged (no promised date, no lines). An order not yet
    /// invoiced does not meet it.
    pub fn otif(&self) -> Option<bool> {
        // both evaluated first: `&&` would skip `complete()?` after a late delivery
        let (on_time, complete) = (self.on_time()?, self.complete()?);
        Some(on_time && complete && self.correctly_invoiced())
    }

    /// Perfect order: OTIF (on time, in full, correct invoice) AND nothing returned.
    /// `None` in the same cases as [`OrderFacts::otif`].
    pub fn perfect(&self) -> Option<bool> {
        Some(self.otif()? && !self.returned())
    }

    /// Lead time: days from the order to the last delivery; `None` when not delivered.
    pub fn lead_time_days(&self) -> Option<i64> {
        self.delivered_on.map(|d| (d - self.ordered_on).whole_days())
    }

    /// Check that the facts are consistent: quantities ≥ 0, returned ≤ delivered,
    /// lines delivered ≤ lines ordered, complete and correct lines ≤ lines delivered,
    /// delivery and promise not before the order, something delivered only with a
    /// delivery date.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(AnalyticsError::InvalidInput(m));
        for (name, q) in [("qty_ordered", self.qty_ordered), ("qty_delivered", self.qty_delivered), ("qty_returned", self.qty_returned)] {
            if q < 0 {
                return bad(format!("{name} is negative ({q})"));
            }
        }
        if self.qty_returned > self.qty_delivered {
            return bad(format!("qty_returned ({}) exceeds qty_delivered ({})", self.qty_returned, self.qty_delivered));
        }
        if self.lines_delivered > self.lines_ordered {
            return bad(format!("lines_delivered ({}) exceeds lines_ordered ({})", self.lines_delivered, self.lines_ordered));
        }
        for (name, n) in
            [("lines_delivered_complete", self.lines_delivered_complete), ("lines_delivered_correct", self.lines_delivered_correct)]
        {
            if n > self.lines_delivered {
                return bad(format!("{name} ({n}) exceeds lines_delivered ({})", self.lines_delivered));
            }
        }
        if let Some(d) = self.delivered_on.filter(|d| *d < self.ordered_on) {
            return bad(format!("delivered_on ({d}) is before ordered_on ({})", self.ordered_on));
        }
        if let Some(p) = self.promised_on.filter(|p| *p < self.ordered_on) {
            return bad(format!("promised_on ({p}) is before ordered_on ({})", self.ordered_on));
        }
        if self.delivered_on.is_none() && (self.qty_delivered > 0 || self.lines_delivered > 0) {
            return bad("something is delivered but delivered_on is missing".into());
        }
        Ok(())
    }
}

/// A returned quantity and the reason code of the return (or of the credit note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnFacts {
    /// Reason code, e.g. `damaged`, `wrong_article`, `customer_changed_mind`.
    pub cause: String,
    /// Quantity returned, in thousandths.
    pub qty: i64,
}

/// Facts of one reporting period that are not per order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodFacts {
    /// Logistic costs of the period (freight, warehousing, handling…), in cents.
    pub logistic_costs: i64,
    /// Net sales of the period, in cents.
    pub sales: i64,
    /// Active articles in the catalogue at the measurement time.
    pub articles_in_catalogue: u32,
    /// Of those, articles with no stock available at the measurement time.
    pub articles_out_of_stock: u32,
}

// ---------------------------------------------------------------------------- indicators

/// On-time %: orders delivered on or before the promised date / orders with a promised
/// date ([`OrderFacts::on_time`]). Orders without a promise are left out; a promised
/// order not delivered counts as late.
pub fn on_time_rate(orders: &[OrderFacts]) -> Option<f64> {
    share_of_orders(orders, OrderFacts::on_time)
}

/// In-full % by quantity (unit fill rate): Σ min(delivered, ordered) / Σ ordered, over
/// the orders' total quantities. Over-delivery of one order is capped at its ordered
/// quantity so that it cannot hide a shortage in another. `None` when nothing was
/// ordered.
///
/// Quantities of different units (pieces, kg…) are added as they are; use it on
/// comparable articles, or prefer [`in_full_lines_rate`].
pub fn in_full_qty_rate(orders: &[OrderFacts]) -> Option<f64> {
    let ordered: i128 = orders.iter().map(|o| i128::from(o.qty_ordered.max(0))).sum();
    let delivered: i128 = orders.iter().map(|o| i128::from(o.qty_delivered.clamp(0, o.qty_ordered.max(0)))).sum();
    ratio_i128(delivered, ordered)
}

/// In-full % by items (line fill rate): Σ lines delivered complete / Σ lines ordered.
/// `None` when there are no lines.
pub fn in_full_lines_rate(orders: &[OrderFacts]) -> Option<f64> {
    let ordered: u64 = orders.iter().map(|o| u64::from(o.lines_ordered)).sum();
    let complete: u64 = orders.iter().map(|o| u64::from(o.lines_delivered_complete.min(o.lines_ordered))).sum();
    ratio(complete, ordered)
}

/// Complete orders %: orders with every line delivered in full / orders with at least
/// one line ([`OrderFacts::complete`]).
pub fn complete_orders_rate(orders: &[OrderFacts]) -> Option<f64> {
    share_of_orders(orders, OrderFacts::complete)
}

/// Perfect order %: orders on time AND complete AND correctly invoiced AND with nothing
/// returned / orders with a promised date and at least one line
/// ([`OrderFacts::perfect`]). Always ≤ [`otif`].
pub fn perfect_order_rate(orders: &[OrderFacts]) -> Option<f64> {
    share_of_orders(orders, OrderFacts::perfect)
}

/// OTIF as the **share of orders meeting all three conditions**: orders on time AND
/// complete AND correctly invoiced / orders with a promised date and at least one line
/// ([`OrderFacts::otif`]). This is the figure to publish.
///
/// It differs from [`otif_product`], the product of the three rates: the product is
/// the share only if the three failures strike independent orders and the rates share
/// one denominator. Failures usually cluster (a late order is often also incomplete),
/// and then the product is lower than the share.
pub fn otif(orders: &[OrderFacts]) -> Option<f64> {
    share_of_orders(orders, OrderFacts::otif)
}

/// OTIF as the **product of the three rates**, the literal "on time × complete ×
/// correct invoice": [`on_time_rate`] × [`complete_orders_rate`] × (1 −
/// [`invoice_error_rate`]), each over its own denominator. `None` when any factor is.
/// Kept for comparison with reports that multiply the rates; see [`otif`] for the
/// difference.
pub fn otif_product(orders: &[OrderFacts]) -> Option<f64> {
    Some(on_time_rate(orders)? * complete_orders_rate(orders)? * (1.0 - invoice_error_rate(orders)?))
}

/// Average lead time in days: mean over the delivered orders of (last delivery − order
/// date) in days. `None` when nothing was delivered.
pub fn average_lead_time_days(orders: &[OrderFacts]) -> Option<f64> {
    let (mut total, mut n) = (0i128, 0u64);
    for days in orders.iter().filter_map(OrderFacts::lead_time_days) {
        total += i128::from(days);
        n += 1;
    }
    (n > 0).then(|| total as f64 / n as f64)
}

/// Items delivered correctly %: Σ lines delivered correctly (right article, undamaged)
/// / Σ lines delivered. `None` when no line was delivered.
pub fn items_delivered_correctly_rate(orders: &[OrderFacts]) -> Option<f64> {
    let delivered: u64 = orders.iter().map(|o| u64::from(o.lines_delivered)).sum();
    let correct: u64 = orders.iter().map(|o| u64::from(o.lines_delivered_correct.min(o.lines_delivered))).sum();
    ratio(correct, delivered)
}

/// Invoice error %: orders whose invoice was wrong / invoiced orders. Orders not yet
/// invoiced are left out. `None` when nothing was invoiced.
pub fn invoice_error_rate(orders: &[OrderFacts]) -> Option<f64> {
    share_of_orders(orders, |o| o.invoice_correct.map(|ok| !ok))
}

/// Total delivered quantity of the orders (thousandths), the usual denominator of
/// [`returns_by_cause`].
pub fn total_qty_delivered(orders: &[OrderFacts]) -> i64 {
    let total: i128 = orders.iter().map(|o| i128::from(o.qty_delivered)).sum();
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// Returned quantity of one cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseShare {
    /// Reason code.
    pub cause: String,
    /// Quantity returned for this cause, in thousandths.
    pub qty: i64,
    /// `qty / quantity delivered`.
    pub rate: f64,
}

/// Returns %, in total and by cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnsByCause {
    /// Quantity returned, all causes, in thousandths.
    pub qty_returned: i64,
    /// Quantity delivered (the denominator), in thousandths.
    pub qty_delivered: i64,
    /// `qty_returned / qty_delivered` (the sum of the per-cause rates).
    pub rate: f64,
    /// One entry per cause, largest quantity first (ties by cause name).
    pub causes: Vec<CauseShare>,
}

/// Returns % by cause: for each cause, Σ quantity returned for it / `qty_delivered`
/// (the quantity delivered in the same period, e.g. [`total_qty_delivered`]); entries
/// with the same cause are added up. `None` when `qty_delivered` ≤ 0.
pub fn returns_by_cause(returns: &[ReturnFacts], qty_delivered: i64) -> Option<ReturnsByCause> {
    if qty_delivered <= 0 {
        return None;
    }
    let mut by_cause: BTreeMap<&str, i128> = BTreeMap::new();
    for r in returns {
        *by_cause.entry(r.cause.as_str()).or_default() += i128::from(r.qty);
    }
    let clamp = |q: i128| i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX });
    let rate = |q: i128| q as f64 / qty_delivered as f64;
    let total: i128 = by_cause.values().sum();
    let mut causes: Vec<CauseShare> =
        by_cause.into_iter().map(|(cause, q)| CauseShare { cause: cause.to_string(), qty: clamp(q), rate: rate(q) }).collect();
    causes.sort_by(|a, b| b.qty.cmp(&a.qty).then_with(|| a.cause.cmp(&b.cause)));
    Some(ReturnsByCause { qty_returned: clamp(total), qty_delivered, rate: rate(total), causes })
}

/// Articles out of stock %: articles out of stock / articles in the catalogue. `None`
/// for an empty catalogue.
pub fn out_of_stock_rate(period: &PeriodFacts) -> Option<f64> {
    ratio(u64::from(period.articles_out_of_stock), u64::from(period.articles_in_catalogue))
}

/// Logistic costs as % of sales: logistic costs / net sales, both in cents. `None`
/// unless sales are positive.
pub fn logistic_costs_to_sales(period: &PeriodFacts) -> Option<f64> {
    ratio_i128(i128::from(period.logistic_costs), i128::from(period.sales))
}

// ---------------------------------------------------------------------------- report

/// All the indicators of one period, as computed by the functions of this module.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticsReport {
    /// Number of orders given.
    pub orders: u64,
    /// [`on_time_rate`].
    pub on_time: Option<f64>,
    /// [`in_full_qty_rate`].
    pub in_full_qty: Option<f64>,
    /// [`in_full_lines_rate`].
    pub in_full_lines: Option<f64>,
    /// [`complete_orders_rate`].
    pub complete_orders: Option<f64>,
    /// [`perfect_order_rate`].
    pub perfect_orders: Option<f64>,
    /// [`otif`] (share of orders meeting all three conditions).
    pub otif: Option<f64>,
    /// [`otif_product`] (product of the three rates).
    pub otif_product: Option<f64>,
    /// [`average_lead_time_days`].
    pub average_lead_time_days: Option<f64>,
    /// [`items_delivered_correctly_rate`].
    pub items_delivered_correctly: Option<f64>,
    /// [`invoice_error_rate`].
    pub invoice_errors: Option<f64>,
    /// [`returns_by_cause`] over [`total_qty_delivered`] of the orders.
    pub returns: Option<ReturnsByCause>,
    /// [`out_of_stock_rate`]; `None` without period facts.
    pub out_of_stock: Option<f64>,
    /// [`logistic_costs_to_sales`]; `None` without period facts.
    pub logistic_costs_to_sales: Option<f64>,
}

/// Check the facts, then compute every indicator.
///
/// Errors name the first inconsistent fact: an order failing [`OrderFacts::check`]
/// (1-based position), a return with an empty cause or a negative quantity, more
/// articles out of stock than in the catalogue, or negative logistic costs.
pub fn logistics_report(orders: &[OrderFacts], returns: &[ReturnFacts], period: Option<&PeriodFacts>) -> Result<LogisticsReport> {
    for (i, o) in orders.iter().enumerate() {
        o.check().map_err(|e| match e {
            AnalyticsError::InvalidInput(m) => AnalyticsError::InvalidInput(format!("order {}: {m}", i + 1)),
            other => other,
        })?;
    }
    for (i, r) in returns.iter().enumerate() {
        if r.cause.trim().is_empty() {
            return Err(AnalyticsError::InvalidInput(format!("return {}: the cause is empty", i + 1)));
        }
        if r.qty < 0 {
            return Err(AnalyticsError::InvalidInput(format!("return {} ({}): quantity is negative ({})", i + 1, r.cause, r.qty)));
        }
    }
    if let Some(p) = period {
        if p.articles_out_of_stock > p.articles_in_catalogue {
            return Err(AnalyticsError::InvalidInput(format!(
                "{} articles out of stock but only {} in the catalogue",
                p.articles_out_of_stock, p.articles_in_catalogue
            )));
        }
        if p.logistic_costs < 0 {
            return Err(AnalyticsError::InvalidInput(format!("logistic costs are negative ({} cents)", p.logistic_costs)));
        }
    }
    Ok(LogisticsReport {
        orders: orders.len() as u64,
        on_time: on_time_rate(orders),
        in_full_qty: in_full_qty_rate(orders),
        in_full_lines: in_full_lines_rate(orders),
        complete_orders: complete_orders_rate(orders),
        perfect_orders: perfect_order_rate(orders),
        otif: otif(orders),
        otif_product: otif_product(orders),
        average_lead_time_days: average_lead_time_days(orders),
        items_delivered_correctly: items_delivered_correctly_rate(orders),
        invoice_errors: invoice_error_rate(orders),
        returns: returns_by_cause(returns, total_qty_delivered(orders)),
        out_of_stock: period.and_then(out_of_stock_rate),
        logistic_costs_to_sales: period.and_then(logistic_costs_to_sales),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const EPS: f64 = 1e-12;

    fn close(got: Option<f64>, want: f64) {
        let g = got.unwrap();
        assert!((g - want).abs() < EPS, "got {g}, want {want}");
    }

    /// (ordered, promised, delivered, lines ordered / delivered / complete / correct,
    /// qty ordered / delivered / returned, invoice)
    fn order(
        ordered_on: Date,
        promised_on: Option<Date>,
        delivered_on: Option<Date>,
        lines: [u32; 4],
        qty: [i64; 3],
        invoice_correct: Option<bool>,
    ) -> OrderFacts {
        OrderFacts {
            ordered_on,
            promised_on,
            delivered_on,
            lines_ordered: lines[0],
            lines_delivered: lines[1],
            lines_delivered_complete: lines[2],
            lines_delivered_correct: lines[3],
            qty_ordered: qty[0],
            qty_delivered: qty[1],
            qty_returned: qty[2],
            invoice_correct,
        }
    }

    /// Six orders; the verdicts, worked out by hand:
    ///
    /// | # | on time              | complete | invoice | returned | OTIF | perfect | lead |
    /// |---|----------------------|----------|---------|----------|------|---------|------|
    /// | 1 | yes (05 ≤ 05)        | yes 3/3  | ok      | no       | yes  | yes     | 4    |
    /// | 2 | no (06 > 04)         | yes 2/2  | ok      | 1.000    | no   | no      | 5    |
    /// | 3 | yes (08 ≤ 10)        | no 3/4   | wrong   | no       | no   | no      | 6    |
    /// | 4 | — (no promise)       | yes 1/1  | ok      | 0.500    | —    | —       | 4    |
    /// | 5 | no (not delivered)   | no 0/2   | none    | no       | no   | no      | —    |
    /// | 6 | yes (12 ≤ 12)        | yes 2/2  | ok      | 1.000    | yes  | no      | 7    |
    fn six_orders() -> Vec<OrderFacts> {
        vec![
            order(
                date!(2024 - 03 - 01),
                Some(date!(2024 - 03 - 05)),
                Some(date!(2024 - 03 - 05)),
                [3, 3, 3, 3],
                [10_000, 10_000, 0],
                Some(true),
            ),
            order(
                date!(2024 - 03 - 01),
                Some(date!(2024 - 03 - 04)),
                Some(date!(2024 - 03 - 06)),
                [2, 2, 2, 2],
                [5_000, 5_000, 1_000],
                Some(true),
            ),
            order(
                date!(2024 - 03 - 02),
                Some(date!(2024 - 03 - 10)),
                Some(date!(2024 - 03 - 08)),
                [4, 4, 3, 3],
                [8_000, 6_000, 0],
                Some(false),
            ),
            order(date!(2024 - 03 - 03), None, Some(date!(2024 - 03 - 07)), [1, 1, 1, 1], [2_000, 2_500, 500], Some(true)),
            order(date!(2024 - 03 - 04), Some(date!(2024 - 03 - 09)), None, [2, 0, 0, 0], [3_000, 0, 0], None),
            order(
                date!(2024 - 03 - 05),
                Some(date!(2024 - 03 - 12)),
                Some(date!(2024 - 03 - 12)),
                [2, 2, 2, 1],
                [4_000, 4_000, 1_000],
                Some(true),
            ),
        ]
    }

    fn six_returns() -> Vec<ReturnFacts> {
        vec![
            ReturnFacts { cause: "wrong_article".into(), qty: 1_000 }, // order 2
            ReturnFacts { cause: "damaged".into(), qty: 500 },         // order 4
            ReturnFacts { cause: "damaged".into(), qty: 1_000 },       // order 6
        ]
    }

    #[test]
    fn per_order_rules() {
        let o = six_orders();
        let on_time: Vec<Option<bool>> = o.iter().map(OrderFacts::on_time).collect();
        assert_eq!(on_time, [Some(true), Some(false), Some(true), None, Some(false), Some(true)]);
        let complete: Vec<Option<bool>> = o.iter().map(OrderFacts::complete).collect();
        assert_eq!(complete, [Some(true), Some(true), Some(false), Some(true), Some(false), Some(true)]);
        let otif: Vec<Option<bool>> = o.iter().map(OrderFacts::otif).collect();
        assert_eq!(otif, [Some(true), Some(false), Some(false), None, Some(false), Some(true)]);
        let perfect: Vec<Option<bool>> = o.iter().map(OrderFacts::perfect).collect();
        assert_eq!(perfect, [Some(true), Some(false), Some(false), None, Some(false), Some(false)]);
        let lead: Vec<Option<i64>> = o.iter().map(OrderFacts::lead_time_days).collect();
        assert_eq!(lead, [Some(4), Some(5), Some(6), Some(4), None, Some(7)]);
        assert!(o.iter().all(|x| x.check().is_ok()));
        // no lines: completeness (and so OTIF) cannot be judged
        let empty = order(date!(2024 - 03 - 01), Some(date!(2024 - 03 - 02)), None, [0, 0, 0, 0], [0, 0, 0], None);
        assert_eq!((empty.complete(), empty.otif(), empty.perfect()), (None, None, None));
    }

    #[test]
    fn on_time_by_hand() {
        // promised: orders 1 2 3 5 6 = 5; on time: 1 3 6 = 3 -> 3/5
        close(on_time_rate(&six_orders()), 0.6);
    }

    #[test]
    fn in_full_by_hand() {
        // quantity: ordered 10000 + 5000 + 8000 + 2000 + 3000 + 4000 = 32000
        // delivered, capped per order: 10000 + 5000 + 6000 + min(2500, 2000) + 0 + 4000 = 27000
        // 27000 / 32000 = 0.84375
        close(in_full_qty_rate(&six_orders()), 0.84375);
        // lines: complete 3 + 2 + 3 + 1 + 0 + 2 = 11 over ordered 3 + 2 + 4 + 1 + 2 + 2 = 14
        close(in_full_lines_rate(&six_orders()), 11.0 / 14.0);
    }

    #[test]
    fn complete_orders_by_hand() {
        // all 6 have lines; complete: 1 2 4 6 = 4 -> 4/6
        close(complete_orders_rate(&six_orders()), 4.0 / 6.0);
    }

    #[test]
    fn otif_and_perfect_by_hand() {
        let o = six_orders();
        // judged (promise and lines): 1 2 3 5 6 = 5; all three met: 1 6 = 2 -> 2/5
        close(otif(&o), 0.4);
        // product: on time 3/5 × complete 4/6 × (1 − invoice errors 1/5) = 0.6 × 0.6667 × 0.8 = 0.32
        close(otif_product(&o), 0.32);
        // perfect: of the same 5, order 6 was returned, so only order 1 -> 1/5
        close(perfect_order_rate(&o), 0.2);
    }

    #[test]
    fn lead_time_by_hand() {
        // delivered orders 1 2 3 4 6: (4 + 5 + 6 + 4 + 7) / 5 = 26 / 5 = 5.2
        close(average_lead_time_days(&six_orders()), 5.2);
    }

    #[test]
    fn accuracy_by_hand() {
        let o = six_orders();
        // lines delivered 3 + 2 + 4 + 1 + 0 + 2 = 12; correct 3 + 2 + 3 + 1 + 0 + 1 = 10 -> 10/12
        close(items_delivered_correctly_rate(&o), 10.0 / 12.0);
        // invoiced: 1 2 3 4 6 = 5 (5 not yet); wrong: 3 -> 1/5
        close(invoice_error_rate(&o), 0.2);
    }

    #[test]
    fn returns_by_hand() {
        let o = six_orders();
        // delivered: 10000 + 5000 + 6000 + 2500 + 0 + 4000 = 27500 (over-delivery counts: it went out)
        assert_eq!(total_qty_delivered(&o), 27_500);
        let r = returns_by_cause(&six_returns(), 27_500).unwrap();
        // damaged 500 + 1000 = 1500 -> 1500/27500; wrong_article 1000/27500; total 2500/27500 = 1/11
        assert_eq!(r.qty_returned, 2_500);
        assert_eq!(r.qty_delivered, 27_500);
        close(Some(r.rate), 1.0 / 11.0);
        let causes: Vec<(&str, i64)> = r.causes.iter().map(|c| (c.cause.as_str(), c.qty)).collect();
        assert_eq!(causes, [("damaged", 1_500), ("wrong_article", 1_000)]);
        close(Some(r.causes[0].rate), 1_500.0 / 27_500.0);
        close(Some(r.causes[1].rate), 1_000.0 / 27_500.0);
        // ties are ordered by cause name
        let tie = [ReturnFacts { cause: "b".into(), qty: 5 }, ReturnFacts { cause: "a".into(), qty: 5 }];
        let names: Vec<String> = returns_by_cause(&tie, 100).unwrap().causes.into_iter().map(|c| c.cause).collect();
        assert_eq!(names, ["a", "b"]);
        // no returns: 0 %, no causes
        let r = returns_by_cause(&[], 27_500).unwrap();
        assert_eq!((r.rate, r.causes.len()), (0.0, 0));
        // nothing delivered: no rate
        assert_eq!(returns_by_cause(&six_returns(), 0), None);
        assert_eq!(returns_by_cause(&six_returns(), -5), None);
    }

    #[test]
    fn period_by_hand() {
        let p = PeriodFacts { logistic_costs: 150_000, sales: 3_000_000, articles_in_catalogue: 200, articles_out_of_stock: 7 };
        // 1,500.00 / 30,000.00 = 0.05
        close(logistic_costs_to_sales(&p), 0.05);
        // 7 / 200 = 0.035
        close(out_of_stock_rate(&p), 0.035);
        let zero = PeriodFacts { logistic_costs: 150_000, sales: 0, articles_in_catalogue: 0, articles_out_of_stock: 0 };
        assert_eq!(logistic_costs_to_sales(&zero), None);
        assert_eq!(out_of_stock_rate(&zero), None);
        let negative_sales = PeriodFacts { sales: -100, ..zero };
        assert_eq!(logistic_costs_to_sales(&negative_sales), None);
    }

    #[test]
    fn empty_inputs_give_none() {
        let none: [OrderFacts; 0] = [];
        assert_eq!(on_time_rate(&none), None);
        assert_eq!(in_full_qty_rate(&none), None);
        assert_eq!(in_full_lines_rate(&none), None);
        assert_eq!(complete_orders_rate(&none), None);
        assert_eq!(perfect_order_rate(&none), None);
        assert_eq!(otif(&none), None);
        assert_eq!(otif_product(&none), None);
        assert_eq!(average_lead_time_days(&none), None);
        assert_eq!(items_delivered_correctly_rate(&none), None);
        assert_eq!(invoice_error_rate(&none), None);
        assert_eq!(total_qty_delivered(&none), 0);
        // orders that give no denominator: no promise, no lines, nothing ordered, delivered or invoiced
        let blank = [order(date!(2024 - 03 - 01), None, None, [0, 0, 0, 0], [0, 0, 0], None)];
        assert_eq!(on_time_rate(&blank), None);
        assert_eq!(in_full_qty_rate(&blank), None);
        assert_eq!(in_full_lines_rate(&blank), None);
        assert_eq!(complete_orders_rate(&blank), None);
        assert_eq!(otif(&blank), None);
        assert_eq!(otif_product(&blank), None);
        assert_eq!(average_lead_time_days(&blank), None);
        assert_eq!(items_delivered_correctly_rate(&blank), None);
        assert_eq!(invoice_error_rate(&blank), None);
        let r = logistics_report(&none, &[], None).unwrap();
        assert_eq!(r.orders, 0);
        assert!(r.on_time.is_none() && r.otif.is_none() && r.returns.is_none() && r.out_of_stock.is_none());
    }

    #[test]
    fn report_collects_the_indicators() {
        let o = six_orders();
        let p = PeriodFacts { logistic_costs: 150_000, sales: 3_000_000, articles_in_catalogue: 200, articles_out_of_stock: 7 };
        let r = logistics_report(&o, &six_returns(), Some(&p)).unwrap();
        assert_eq!(r.orders, 6);
        assert_eq!(r.on_time, on_time_rate(&o));
        assert_eq!(r.in_full_qty, in_full_qty_rate(&o));
        assert_eq!(r.in_full_lines, in_full_lines_rate(&o));
        assert_eq!(r.complete_orders, complete_orders_rate(&o));
        assert_eq!(r.perfect_orders, perfect_order_rate(&o));
        assert_eq!(r.otif, otif(&o));
        assert_eq!(r.otif_product, otif_product(&o));
        assert_eq!(r.average_lead_time_days, average_lead_time_days(&o));
        assert_eq!(r.items_delivered_correctly, items_delivered_correctly_rate(&o));
        assert_eq!(r.invoice_errors, invoice_error_rate(&o));
        assert_eq!(r.returns, returns_by_cause(&six_returns(), 27_500));
        assert_eq!(r.out_of_stock, Some(0.035));
        assert_eq!(r.logistic_costs_to_sales, Some(0.05));
    }

    #[test]
    fn report_refuses_inconsistent_facts() {
        let err = |orders: &[OrderFacts], returns: &[ReturnFacts], p: Option<&PeriodFacts>| {
            logistics_report(orders, returns, p).unwrap_err().to_string()
        };
        let d = date!(2024 - 03 - 10);
        let ok = order(d, Some(d), Some(d), [2, 2, 2, 2], [10, 10, 0], Some(true));
        let with = |f: fn(&mut OrderFacts)| {
            let mut o = ok.clone();
            f(&mut o);
            vec![ok.clone(), o]
        };
        assert_eq!(err(&with(|o| o.qty_delivered = -1), &[], None), "invalid input: order 2: qty_delivered is negative (-1)");
        assert_eq!(err(&with(|o| o.qty_returned = 11), &[], None), "invalid input: order 2: qty_returned (11) exceeds qty_delivered (10)");
        assert_eq!(
            err(&with(|o| o.lines_delivered = 3), &[], None),
            "invalid input: order 2: lines_delivered (3) exceeds lines_ordered (2)"
        );
        assert_eq!(
            err(&with(|o| o.lines_delivered_complete = 3), &[], None),
            "invalid input: order 2: lines_delivered_complete (3) exceeds lines_delivered (2)"
        );
        assert_eq!(
            err(&with(|o| o.delivered_on = Some(date!(2024 - 03 - 09))), &[], None),
            "invalid input: order 2: delivered_on (2024-03-09) is before ordered_on (2024-03-10)"
        );
        assert_eq!(
            err(&with(|o| o.promised_on = Some(date!(2024 - 03 - 01))), &[], None),
            "invalid input: order 2: promised_on (2024-03-01) is before ordered_on (2024-03-10)"
        );
        assert_eq!(
            err(&with(|o| o.delivered_on = None), &[], None),
            "invalid input: order 2: something is delivered but delivered_on is missing"
        );
        let bad_return = [ReturnFacts { cause: " ".into(), qty: 1 }];
        assert_eq!(err(&[], &bad_return, None), "invalid input: return 1: the cause is empty");
        let bad_return = [ReturnFacts { cause: "damaged".into(), qty: -1 }];
        assert_eq!(err(&[], &bad_return, None), "invalid input: return 1 (damaged): quantity is negative (-1)");
        let p = PeriodFacts { logistic_costs: 0, sales: 1, articles_in_catalogue: 3, articles_out_of_stock: 4 };
        assert_eq!(err(&[], &[], Some(&p)), "invalid input: 4 articles out of stock but only 3 in the catalogue");
        let p = PeriodFacts { logistic_costs: -1, sales: 1, articles_in_catalogue: 3, articles_out_of_stock: 0 };
        assert_eq!(err(&[], &[], Some(&p)), "invalid input: logistic costs are negative (-1 cents)");
    }
}
