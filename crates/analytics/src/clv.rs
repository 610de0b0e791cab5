//! Customer lifetime value from BG/NBD (how many purchases) × Gamma-Gamma (how much per
//! purchase), as `lifetimes` computes it, and the one-call [`clv_report`].

use std::collections::HashMap;

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
///
/// The values are those of [`BgNbdParams::p_alive`], [`BgNbdParams::conditional_expected_purchases`],
/// [`GammaGammaParams::conditional_expected_average_profit`] and [`customer_lifetime_value`],
/// bit for bit, but computed faster: the expensive part of E[X(t) | x, t_x, T] (a
/// hypergeometric series) depends only on (x, T) and t, so it is computed once per
/// distinct (x, T) for the horizon and each CLV month, and multiplied by each customer's
/// own factor. Unusual settings (a = 1, an invalid horizon or discount rate) and
/// customers with invalid data go through the plain functions, which report the error.
pub fn customer_values(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    customers: &[CustomerSummary],
    opts: &ClvOptions,
) -> Result<Vec<CustomerClv>> {
    let fast = bg.validate().is_ok()
        && gg.validate().is_ok()
        && bg.a != 1.0
        && opts.horizon.is_finite()
        && opts.horizon >= 0.0
        && check_discount(opts.discount_monthly).is_ok();
    if !fast {
        return customers.iter().map(|c| plain_values(bg, gg, c, opts)).collect();
    }
    let per_month = opts.time_unit.per_month();
    let months = opts.clv_months as usize;
    // times: the horizon, then the end of each month
    let times: Vec<f64> = std::iter::once(opts.horizon).chain((1..=opts.clv_months).map(|k| f64::from(k) * per_month)).collect();
    let discount: Vec<f64> = (1..=opts.clv_months).map(|k| (1.0 + opts.discount_monthly).powf(f64::from(k))).collect();
    let width = months + 1;
    let mut index: HashMap<(u32, u64), usize> = HashMap::new();
    let mut numerators: Vec<f64> = Vec::new();
    let mut out = Vec::with_capacity(customers.len());
    for c in customers {
        let (x, t_x, big_t, m) = (c.frequency, c.recency, c.t, c.monetary_value);
        if crate::bgnbd::check_customer(t_x, big_t).is_err() || !(m.is_finite() && m >= 0.0) {
            out.push(plain_values(bg, gg, c, opts)?);
            continue;
        }
        let tag = |e: AnalyticsError| tag_customer(e, &c.customer_id);
        let at = match index.get(&(x, big_t.to_bits())) {
            Some(&i) => i,
            None => {
                let i = numerators.len();
                for &t in &times {
                    let v = if t == 0.0 { 0.0 } else { bg.conditional_expected_purchases_numerator(t, x, big_t).map_err(tag)? };
                    numerators.push(v);
                }
                index.insert((x, big_t.to_bits()), i);
                i
            }
        };
        let nums = &numerators[at..at + width];
        let factor = bg.conditional_expected_purchases_factor(x, t_x, big_t);
        let p_alive = bg.p_alive(x, t_x, big_t).map_err(tag)?;
        let expected_purchases = finite(nums[0] * factor, "conditional expected purchases").map_err(tag)?;
        let spend = gg.conditional_expected_average_profit(x, m).map_err(tag)?;
        let mut clv = 0.0;
        let mut previous = 0.0;
        for (num, disc) in nums[1..].iter().zip(&discount) {
            let cumulative = finite(num * factor, "conditional expected purchases").map_err(tag)?;
            clv += spend * (cumulative - previous) / disc;
            previous = cumulative;
        }
        out.push(CustomerClv {
            customer_id: c.customer_id.clone(),
            frequency: x,
            recency: t_x,
            t: big_t,
            monetary_value: m,
            p_alive,
            expected_purchases,
            expected_spend: spend,
            clv: finite(clv, "CLV").map_err(tag)?,
        });
    }
    Ok(out)
}

fn tag_customer(e: AnalyticsError, id: &str) -> AnalyticsError {
    match e {
        AnalyticsError::InvalidInput(msg) => AnalyticsError::InvalidInput(format!("customer {id}: {msg}")),
        AnalyticsError::Numerical(msg) => AnalyticsError::Numerical(format!("customer {id}: {msg}")),
        other => other,
    }
}

/// One report line from the plain per-customer functions.
fn plain_values(bg: &BgNbdParams, gg: &GammaGammaParams, c: &CustomerSummary, opts: &ClvOptions) -> Result<CustomerClv> {
    let (x, t_x, big_t, m) = (c.frequency, c.recency, c.t, c.monetary_value);
    let tag = |e: AnalyticsError| tag_customer(e, &c.customer_id);
    Ok(CustomerClv {
        customer_id: c.customer_id.clone(),
        frequency: x,
        recency: t_x,
        t: big_t,
        monetary_value: m,
        p_alive: bg.p_alive(x, t_x, big_t).map_err(tag)?,
        expected_purchases: bg.conditional_expected_purchases(opts.horizon, x, t_x, big_t).map_err(tag)?,
        expected_spend: gg.conditional_expected_average_profit(x, m).map_err(tag)?,
        clv: customer_lifetime_value(bg, gg, x, t_x, big_t, m, opts.clv_months, opts.discount_monthly, opts.time_unit).map_err(tag)?,
    })
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
    fn fast_scoring_is_bit_identical_to_the_plain_functions() {
        let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        let cs: Vec<CustomerSummary> = (0..300u32)
            .map(|i| {
                let x = [0, 1, 2, 5, 0, 30][(i % 6) as usize];
                let big_t = 27.0 + f64::from(i % 13) / 7.0;
                let t_x = if x == 0 { 0.0 } else { big_t * f64::from(i % 10) / 10.0 };
                let m = if x == 0 { 0.0 } else { 5.0 + f64::from(i) };
                CustomerSummary { customer_id: i.to_string(), frequency: x, recency: t_x, t: big_t, monetary_value: m }
            })
            .collect();
        for horizon in [0.0, 39.0] {
            let opts = ClvOptions { horizon, ..ClvOptions::new(time::macros::date!(2024 - 01 - 01)) };
            let fast = customer_values(&bg, &gg, &cs, &opts).unwrap();
            let plain: Vec<CustomerClv> = cs.iter().map(|c| plain_values(&bg, &gg, c, &opts).unwrap()).collect();
            assert_eq!(fast, plain);
        }
        // invalid data still gives the plain function's error
        let mut bad = cs.clone();
        bad[7].recency = bad[7].t + 1.0;
        let opts = ClvOptions::new(time::macros::date!(2024 - 01 - 01));
        let e = customer_values(&bg, &gg, &bad, &opts).unwrap_err();
        assert_eq!(e, plain_values(&bg, &gg, &bad[7], &opts).unwrap_err());
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
