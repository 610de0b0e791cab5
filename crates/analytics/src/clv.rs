//! Customer lifetime value from BG/NBD (how many purchases) × Gamma-Gamma (how much per
//! purchase), as `lifetimes` computes it, and the one-call [`clv_report`].

use serde::Serialize;
use time::Date;

use crate::bgnbd::{self, BgNbdFit, BgNbdParams};
use crate::error::{finite, AnalyticsError, Result};
use crate::gamma_gamma::{self, GammaGammaFit, GammaGammaParams};
use crate::rfm::{summary, CustomerSummary, TimeUnit, Transaction};

/// CLV of one customer as `lifetimes`' `GammaGammaFitter.customer_lifetime_value`:
///
/// m* = E[M | x, m̄] (Gamma-Gamma; the population mean v·p/(q−1) for x = 0), and with
/// t_k = k · (units per month) — 4.345 weeks or 30 days, see [`TimeUnit::per_month`]:
///
/// CLV = Σ_{k=1..months} m* · (E[X(t_k) | x, t_x, T] − E[X(t_{k−1}) | x, t_x, T]) / (1 + d)^k,
///
/// i.e. each month's expected purchases discounted at the *end* of that month.
/// `x`, `t_x`, `big_t` are in `unit`, matching the BG/NBD parameters.
#[allow(clippy::too_many_arguments)]
pub fn customer_lifetime_value(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    x: u32,
    t_x: f64,
    big_t: f64,
    m: f64,
    months: u32,
    discount_monthly: f64,
    unit: TimeUnit,
) -> Result<f64> {
    check_discount(discount_monthly)?;
    let spend = gg.conditional_expected_average_profit(x, m)?;
    let per_month = unit.per_month();
    let mut clv = 0.0;
    let mut previous = 0.0;
    for k in 1..=months {
        let t = f64::from(k) * per_month;
        let cumulative = bg.conditional_expected_purchases(t, x, t_x, big_t)?;
        clv += spend * (cumulative - previous) / (1.0 + discount_monthly).powf(f64::from(k));
        previous = cumulative;
    }
    finite(clv, "CLV")
}

fn check_discount(d: f64) -> Result<()> {
    if !(d.is_finite() && d > -1.0) {
        return Err(AnalyticsError::InvalidInput(format!("monthly discount rate {d} must be finite and > -1")));
    }
    Ok(())
}

/// Settings of [`clv_report`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClvOptions {
    /// Last day (inclusive) of the calibration period; later rows are ignored.
    pub calibration_end: Date,
    /// Time unit of the models (weeks by default).
    pub time_unit: TimeUnit,
    /// Horizon, in `time_unit`, of `expected_purchases` in the report (default 39).
    pub horizon: f64,
    /// Number of months of the CLV (default 12).
    pub clv_months: u32,
    /// Monthly discount rate (default 0.01 = 1 %).
    pub discount_monthly: f64,
}

impl ClvOptions {
    /// Defaults: weeks, horizon 39, 12 months, 1 % per month.
    pub fn new(calibration_end: Date) -> Self {
        Self { calibration_end, time_unit: TimeUnit::Week, horizon: 39.0, clv_months: 12, discount_monthly: 0.01 }
    }
}

/// One customer's line of a [`ClvReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerClv {
    /// Customer identifier.
    pub customer_id: String,
    /// x: repeat purchases in the calibration period.
    pub frequency: u32,
    /// t_x, in the time unit.
    pub recency: f64,
    /// T, in the time unit.
    #[serde(rename = "T")]
    pub t: f64,
    /// Mean repeat-purchase value in the calibration period (0 when x = 0).
    pub monetary_value: f64,
    /// P(alive | x, t_x, T) at the end of the calibration period.
    pub p_alive: f64,
    /// E[X(horizon) | x, t_x, T]: expected purchases in the next `horizon` time units.
    pub expected_purchases: f64,
    /// E[M | x, m̄]: expected spend *per purchase* (Gamma-Gamma; population mean for
    /// x = 0). Multiply by `expected_purchases` for the expected spend over the horizon.
    pub expected_spend: f64,
    /// CLV over `clv_months` months, discounted (see [`customer_lifetime_value`]).
    pub clv: f64,
}

/// Fitted models and per-customer values; serialises as
/// `{"bgnbd": {r, alpha, a, b, log_likelihood}, "gamma_gamma": {p, q, v, log_likelihood},
/// "customers": [{customer_id, frequency, recency, T, monetary_value, p_alive,
/// expected_purchases, expected_spend, clv}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClvReport {
    /// BG/NBD fit on all customers.
    pub bgnbd: BgNbdFit,
    /// Gamma-Gamma fit on the customers with a repeat purchase of positive value.
    pub gamma_gamma: GammaGammaFit,
    /// One line per customer, sorted by customer id.
    pub customers: Vec<CustomerClv>,
}

/// Summarise the transactions up to `opts.calibration_end`, fit BG/NBD and Gamma-Gamma,
/// and compute P(alive), expected purchases over `opts.horizon`, expected spend per
/// purchase and CLV for every customer.
pub fn clv_report(tx: &[Transaction], opts: &ClvOptions) -> Result<ClvReport> {
    if !(opts.horizon.is_finite() && opts.horizon >= 0.0) {
        return Err(AnalyticsError::InvalidInput(format!("horizon {} must be finite and >= 0", opts.horizon)));
    }
    check_discount(opts.discount_monthly)?;
    let customers = summary(tx, opts.calibration_end, opts.time_unit)?;
    let bg = bgnbd::fit(&customers)?;
    let gg = gamma_gamma::fit(&customers)?;
    let lines = customer_values(&bg.params, &gg.params, &customers, opts)?;
    Ok(ClvReport { bgnbd: bg, gamma_gamma: gg, customers: lines })
}

/// Per-customer report lines for given parameters (what [`clv_report`] does after fitting).
pub fn customer_values(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    customers: &[CustomerSummary],
    opts: &ClvOptions,
) -> Result<Vec<CustomerClv>> {
    customers
        .iter()
        .map(|c| {
            let (x, t_x, big_t, m) = (c.frequency, c.recency, c.t, c.monetary_value);
            let tag = |e: AnalyticsError| match e {
                AnalyticsError::InvalidInput(msg) => AnalyticsError::InvalidInput(format!("customer {}: {msg}", c.customer_id)),
                AnalyticsError::Numerical(msg) => AnalyticsError::Numerical(format!("customer {}: {msg}", c.customer_id)),
                other => other,
            };
            Ok(CustomerClv {
                customer_id: c.customer_id.clone(),
                frequency: x,
                recency: t_x,
                t: big_t,
                monetary_value: m,
                p_alive: bg.p_alive(x, t_x, big_t).map_err(tag)?,
                expected_purchases: bg.conditional_expected_purchases(opts.horizon, x, t_x, big_t).map_err(tag)?,
                expected_spend: gg.conditional_expected_average_profit(x, m).map_err(tag)?,
                clv: customer_lifetime_value(bg, gg, x, t_x, big_t, m, opts.clv_months, opts.discount_monthly, opts.time_unit)
                    .map_err(tag)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clv_by_hand() {
        // one month, no discount: CLV = m* · E[X(4.345 weeks)]
        let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        let clv = customer_lifetime_value(&bg, &gg, 2, 30.0, 38.0, 20.0, 1, 0.0, TimeUnit::Week).unwrap();
        let want =
            gg.conditional_expected_average_profit(2, 20.0).unwrap() * bg.conditional_expected_purchases(4.345, 2, 30.0, 38.0).unwrap();
        assert!((clv - want).abs() < 1e-12 * want);
        // discounting lowers it, zero months gives zero
        let d = customer_lifetime_value(&bg, &gg, 2, 30.0, 38.0, 20.0, 1, 0.5, TimeUnit::Week).unwrap();
        assert!((d - want / 1.5).abs() < 1e-12 * want);
        assert_eq!(customer_lifetime_value(&bg, &gg, 2, 30.0, 38.0, 20.0, 0, 0.01, TimeUnit::Week).unwrap(), 0.0);
        assert!(customer_lifetime_value(&bg, &gg, 2, 30.0, 38.0, 20.0, 3, -1.0, TimeUnit::Week).is_err());
    }

    #[test]
    fn report_options_are_checked() {
        let end = time::macros::date!(2024 - 01 - 01);
        let mut o = ClvOptions::new(end);
        assert_eq!(o.horizon, 39.0);
        o.horizon = f64::NAN;
        assert!(clv_report(&[], &o).is_err());
        let e = clv_report(&[], &ClvOptions::new(end)).unwrap_err();
        assert!(e.to_string().starts_with("too few customers to fit BG/NBD"), "{e}");
    }
}
