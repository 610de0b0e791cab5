//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and
//! CLV: Using Iso-Value Curves for Customer Base Analysis"; Fader & Hardie 2013 note).
//!
//! A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across
//! customers. The data are, per repeat customer, x repeat transactions and their mean
//! value m̄. Formulas match `lifetimes` 0.11.3 (`GammaGammaFitter`).

use serde::Serialize;

use crate::error::{finite, positive_param, AnalyticsError, Result};
use crate::optim::{self, BfgsOptions, NelderMeadOptions};
use crate::rfm::CustomerSummary;
use crate::special::{digamma, ln_gamma};

/// Gamma-Gamma parameters (all finite and > 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GammaGammaParams {
    /// Shape of the per-transaction spend distribution.
    pub p: f64,
    /// Shape of the Gamma distribution of the per-customer rate ν.
    pub q: f64,
    /// Scale of the Gamma distribution of ν (in money units).
    pub v: f64,
}

impl GammaGammaParams {
    /// Validated constructor.
    pub fn new(p: f64, q: f64, v: f64) -> Result<Self> {
        let s = Self { p, q, v };
        s.validate()?;
        Ok(s)
    }

    /// Check that every parameter is finite and > 0.
    pub fn validate(&self) -> Result<()> {
        positive_param("p", self.p)?;
        positive_param("q", self.q)?;
        positive_param("v", self.v)
    }

    /// ln f(m̄ | x; p, q, v), the log density of the mean spend m̄ of x > 0 transactions:
    /// lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m̄ + px ln x − (px+q) ln(x m̄ + v).
    pub fn individual_log_likelihood(&self, x: u32, m: f64) -> Result<f64> {
        self.validate()?;
        if x == 0 {
            return Err(AnalyticsError::InvalidInput("the Gamma-Gamma likelihood needs at least one repeat purchase (x > 0)".into()));
        }
        if !(m.is_finite() && m > 0.0) {
            return Err(AnalyticsError::InvalidInput(format!("the Gamma-Gamma likelihood needs a finite mean spend m > 0, got {m}")));
        }
        let Self { p, q, v } = *self;
        let xf = f64::from(x);
        let px = p * xf;
        finite(
            ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q) + q * v.ln() + (px - 1.0) * m.ln() + px * xf.ln() - (px + q) * (xf * m + v).ln(),
            "Gamma-Gamma log-likelihood",
        )
    }

    /// Sum of [`Self::individual_log_likelihood`] over the customers the model is fitted
    /// on: those with x > 0 and m̄ > 0 (others are skipped; see [`fit`]).
    pub fn log_likelihood(&self, customers: &[CustomerSummary]) -> Result<f64> {
        let mut total = 0.0;
        for c in customers.iter().filter(|c| usable(c)) {
            total += self.individual_log_likelihood(c.frequency, c.monetary_value)?;
        }
        finite(total, "Gamma-Gamma log-likelihood")
    }

    /// Population mean spend per transaction, E\[M\] = v p / (q − 1); needs q > 1.
    pub fn population_mean_spend(&self) -> Result<f64> {
        self.validate()?;
        if self.q <= 1.0 {
            return Err(AnalyticsError::InvalidParameter {
                name: "q",
                value: self.q,
                reason: "the mean spend v·p/(q−1) exists only for q > 1",
            });
        }
        finite(self.v * self.p / (self.q - 1.0), "population mean spend")
    }

    /// E[M | x, m̄]: expected spend per transaction of a customer with x repeat purchases
    /// of mean value m̄, a weighted average of the population mean and m̄:
    /// w = p x / (p x + q − 1), E = (1 − w) v p/(q − 1) + w m̄.
    /// For x = 0 this is the population mean v p/(q − 1) (as in lifetimes). Needs q > 1.
    pub fn conditional_expected_average_profit(&self, x: u32, m: f64) -> Result<f64> {
        let mean = self.population_mean_spend()?;
        if !(m.is_finite() && m >= 0.0) {
            return Err(AnalyticsError::InvalidInput(format!("mean spend m = {m} must be finite and >= 0")));
        }
        if x == 0 {
            return Ok(mean);
        }
        let px = self.p * f64::from(x);
        let w = px / (px + self.q - 1.0);
        finite((1.0 - w) * mean + w * m, "conditional expected average profit")
    }
}

fn usable(c: &CustomerSummary) -> bool {
    c.frequency > 0 && c.monetary_value.is_finite() && c.monetary_value > 0.0
}

// ---------------------------------------------------------------------------- fitting

/// Fewest repeat customers (x > 0, m̄ > 0) [`fit`] accepts (there are three parameters).
pub const MIN_CUSTOMERS: usize = 3;

/// Result of [`fit`]. Serialises as `{"p", "q", "v", "log_likelihood"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GammaGammaFit {
    /// Maximum-likelihood estimates.
    #[serde(flatten)]
    pub params: GammaGammaParams,
    /// Log-likelihood at `params`.
    pub log_likelihood: f64,
    /// Number of customers fitted (x > 0 and m̄ > 0).
    #[serde(skip)]
    pub n_customers: usize,
    /// Optimiser iterations: BFGS, plus Nelder–Mead's over all restarts if it was needed.
    #[serde(skip)]
    pub iterations: usize,
    /// Nelder–Mead restarts (0 when BFGS converged on its own).
    #[serde(skip)]
    pub restarts: usize,
}

/// Nelder–Mead settings of [`fit_with_options`] (and of the fallback of [`fit`]).
pub fn default_fit_options() -> NelderMeadOptions {
    NelderMeadOptions { initial_step: 0.5, f_tol: 1e-10, f_rel_tol: 1e-14, x_tol: 1e-7, max_iterations: 5_000, max_restarts: 5 }
}

/// BFGS settings of [`fit`]: log-parameters to 1e-8 relative, gradient to 1e-9 of the
/// log-likelihood; a log-parameter beyond ±30 is a parameter running off to 0 or ∞.
pub fn default_bfgs_options() -> BfgsOptions {
    BfgsOptions { x_tol: 1e-8, g_tol: 1e-9, max_iterations: 500, max_step: 2.0, max_abs_x: 30.0, stall_x_tol: 1e-5 }
}

/// The usable customers as (x, m̄), with the parameter-free sums precomputed: the
/// likelihood is Σ_x n_x [lnΓ(px+q) − lnΓ(px)] + N (q ln v − lnΓ(q)) + p Σ x ln(x m̄)
/// − Σ ln m̄ − Σ (px+q) ln(x m̄ + v); only the last sum needs a pass over the customers.
struct Prepared {
    /// distinct x, ascending, and the number of customers with each
    xs: Vec<f64>,
    x_counts: Vec<f64>,
    /// per customer: (x, x m̄)
    rows: Vec<(f64, f64)>,
    /// Σ x ln(x m̄)
    sum_x_ln_xm: f64,
    /// Σ ln m̄
    sum_ln_m: f64,
}

impl Prepared {
    fn new(rows: &[(f64, f64)]) -> Self {
        let mut xs: Vec<f64> = rows.iter().map(|r| r.0).collect();
        xs.sort_by(f64::total_cmp);
        let mut x_counts: Vec<f64> = Vec::new();
        let mut distinct: Vec<f64> = Vec::new();
        for x in xs {
            if distinct.last() == Some(&x) {
                if let Some(c) = x_counts.last_mut() {
                    *c += 1.0;
                }
            } else {
                distinct.push(x);
                x_counts.push(1.0);
            }
        }
        Self {
            xs: distinct,
            x_counts,
            rows: rows.iter().map(|&(x, m)| (x, x * m)).collect(),
            sum_x_ln_xm: rows.iter().map(|&(x, m)| x * (x * m).ln()).sum(),
            sum_ln_m: rows.iter().map(|&(_, m)| m.ln()).sum(),
        }
    }

    /// Log-likelihood and, if asked, its gradient in (p, q, v):
    /// * ∂/∂p = Σ x [ψ(px+q) − ψ(px) + ln(x m̄) − ln(x m̄ + v)]
    /// * ∂/∂q = Σ [ψ(px+q) − ψ(q) + ln v − ln(x m̄ + v)]
    /// * ∂/∂v = Σ [q/v − (px+q)/(x m̄ + v)]
    ///
    /// NaN for invalid parameters.
    fn eval(&self, p: f64, q: f64, v: f64, grad: Option<&mut [f64; 3]>) -> f64 {
        if (GammaGammaParams { p, q, v }).validate().is_err() {
            return f64::NAN;
        }
        let n = self.rows.len() as f64;
        let (mut sum_wl, mut sum_xl, mut sum_l, mut sum_w_over) = (0.0, 0.0, 0.0, 0.0);
        for &(x, xm) in &self.rows {
            let w = p * x + q;
            let l = (xm + v).ln();
            sum_wl += w * l;
            sum_xl += x * l;
            sum_l += l;
            sum_w_over += w / (xm + v);
        }
        let mut total = n * (q * v.ln() - ln_gamma(q)) + p * self.sum_x_ln_xm - self.sum_ln_m - sum_wl;
        for (&x, &c) in self.xs.iter().zip(&self.x_counts) {
            total += c * (ln_gamma(p * x + q) - ln_gamma(p * x));
        }
        if let Some(g) = grad {
            let (mut d_p, mut d_q) = (self.sum_x_ln_xm - sum_xl, n * (v.ln() - digamma(q)) - sum_l);
            for (&x, &c) in self.xs.iter().zip(&self.x_counts) {
                let psi = digamma(p * x + q);
                d_p += c * x * (psi - digamma(p * x));
                d_q += c * psi;
            }
            *g = [d_p, d_q, n * q / v - sum_w_over];
        }
        total
    }
}

/// Checks and data common to both fitting methods, and the starting point.
fn prepare_fit(customers: &[CustomerSummary]) -> Result<(Prepared, [f64; 3])> {
    let rows: Vec<(f64, f64)> = customers.iter().filter(|c| usable(c)).map(|c| (f64::from(c.frequency), c.monetary_value)).collect();
    if rows.len() < MIN_CUSTOMERS {
        return Err(AnalyticsError::TooFewCustomers {
            model: "Gamma-Gamma",
            need: MIN_CUSTOMERS,
            what: " with a repeat purchase of positive value",
            got: rows.len(),
        });
    }
    let mean_m = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    Ok((Prepared::new(&rows), [0.0, 2.0_f64.ln(), mean_m.ln()]))
}

/// Fit the Gamma-Gamma model by maximum likelihood on the customers with x > 0 and a
/// positive mean spend (customers whose repeat purchases all had amount 0 have no
/// density and are left out): BFGS on the log-parameters with the closed-form gradient
/// (see [`crate::optim`]), from p = 1, q = 2, v = mean m̄; Nelder–Mead continues from the
/// best point if BFGS stalls short of its convergence rule.
pub fn fit(customers: &[CustomerSummary]) -> Result<GammaGammaFit> {
    let (data, x0) = prepare_fit(customers)?;
    let mut grad = [0.0; 3];
    let res = optim::minimize_bfgs(
        |th, g| {
            let (p, q, v) = (th[0].exp(), th[1].exp(), th[2].exp());
            let ll = data.eval(p, q, v, Some(&mut grad));
            for (gi, (d, w)) in g.iter_mut().zip(grad.iter().zip([p, q, v])) {
                *gi = -d * w;
            }
            -ll
        },
        &x0,
        &default_bfgs_options(),
    )?;
    let n = data.rows.len();
    if res.converged {
        if let Ok(fit) = finish(n, &res.x, -res.f, true, res.iterations, 0, SHAPE_LIMIT_GRADIENT) {
            return Ok(fit);
        }
    }
    // BFGS stalled, or stopped far out on a flat likelihood: Nelder–Mead, the method used
    // before BFGS, decides with its own rule — from the best point when BFGS stalled,
    // from the start when it ran off.
    let ran_off = res.x[..2].iter().any(|t| t.abs() > SHAPE_LIMIT_GRADIENT) || res.x[2].abs() > 25.0;
    let from = if ran_off { x0 } else { [res.x[0], res.x[1], res.x[2]] };
    let nm = optim::minimize(|th| -data.eval(th[0].exp(), th[1].exp(), th[2].exp(), None), &from, &default_fit_options())?;
    finish(n, &nm.x, -nm.f, nm.converged, res.iterations + nm.iterations, nm.restarts, SHAPE_LIMIT_SIMPLEX)
}

/// How far (in log units) the unitless shapes p and q may go before a fit counts as
/// running off to 0 or ∞: a gradient-based search can stop on the flat far side of the
/// likelihood (q, v → ∞ with v/q fixed), so its result is held to e^±12.5 (≈ 2.7·10⁵);
/// Nelder–Mead's to e^±25, the rule it always had.
const SHAPE_LIMIT_GRADIENT: f64 = 12.5;
const SHAPE_LIMIT_SIMPLEX: f64 = 25.0;

/// [`fit`] by Nelder–Mead alone, with explicit settings (the method used before BFGS;
/// kept as a reference and for comparisons).
pub fn fit_with_options(customers: &[CustomerSummary], opts: &NelderMeadOptions) -> Result<GammaGammaFit> {
    let (data, x0) = prepare_fit(customers)?;
    let res = optim::minimize(|th| -data.eval(th[0].exp(), th[1].exp(), th[2].exp(), None), &x0, opts)?;
    finish(data.rows.len(), &res.x, -res.f, res.converged, res.iterations, res.restarts, SHAPE_LIMIT_SIMPLEX)
}

fn finish(
    n_customers: usize,
    th: &[f64],
    log_likelihood: f64,
    converged: bool,
    iterations: usize,
    restarts: usize,
    shape_limit: f64,
) -> Result<GammaGammaFit> {
    let params = GammaGammaParams { p: th[0].exp(), q: th[1].exp(), v: th[2].exp() };
    // an MLE at the boundary (a parameter running off to 0 or ∞) is not an answer. The
    // likelihood flattens out as q, v → ∞ with v/q fixed (no spend heterogeneity): the
    // shapes p and q, which have no unit, are held to `shape_limit`; v is in money units,
    // so only e^±25.
    let at_boundary = th.iter().any(|t| t.abs() > 25.0) || th[..2].iter().any(|t| t.abs() > shape_limit);
    if !converged || at_boundary || params.validate().is_err() {
        // hint when some parameter is already beyond 1e±5.5 or so
        let why = if th.iter().any(|t| t.abs() > 12.5) {
            "; a parameter is running off to 0 or infinity: the data do not identify the model"
        } else {
            ""
        };
        return Err(AnalyticsError::NotConverged {
            model: "Gamma-Gamma",
            iterations,
            detail: format!("best p={:.6}, q={:.6}, v={:.6}, log-likelihood={:.6}{why}", params.p, params.q, params.v, log_likelihood),
        });
    }
    Ok(GammaGammaFit { params, log_likelihood: finite(log_likelihood, "Gamma-Gamma log-likelihood")?, n_customers, iterations, restarts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cust(x: u32, m: f64) -> CustomerSummary {
        CustomerSummary { customer_id: "c".into(), frequency: x, recency: 1.0, t: 2.0, monetary_value: m }
    }

    #[test]
    fn density_x1_by_hand() {
        // x = 1: m ~ Gamma(p, ν) with ν ~ Gamma(q, v) → f(m) = Γ(p+q)/(Γ(p)Γ(q)) v^q m^(p−1)/(m+v)^(p+q)
        let g = GammaGammaParams::new(2.0, 3.0, 10.0).unwrap();
        let m: f64 = 7.0;
        // Γ(5)/(Γ(2)Γ(3)) = 24/2 = 12
        let want = (12.0 * 1000.0 * m / (m + 10.0).powi(5)).ln();
        let got = g.individual_log_likelihood(1, m).unwrap();
        assert!((got - want).abs() < 1e-13, "{got} vs {want}");
    }

    #[test]
    fn expected_profit() {
        let g = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        let mean = 15.44 * 6.25 / 2.74;
        assert!((g.conditional_expected_average_profit(0, 0.0).unwrap() - mean).abs() < 1e-12);
        let w = 6.25 * 2.0 / (6.25 * 2.0 + 2.74);
        let want = (1.0 - w) * mean + w * 30.0;
        assert!((g.conditional_expected_average_profit(2, 30.0).unwrap() - want).abs() < 1e-12);
        let low_q = GammaGammaParams::new(1.0, 0.9, 1.0).unwrap();
        assert!(low_q.conditional_expected_average_profit(2, 3.0).is_err());
        assert!(g.conditional_expected_average_profit(2, -1.0).is_err());
    }

    #[test]
    fn likelihood_input_errors() {
        let g = GammaGammaParams::new(1.0, 2.0, 3.0).unwrap();
        assert!(g.individual_log_likelihood(0, 5.0).is_err());
        assert!(g.individual_log_likelihood(2, 0.0).is_err());
        assert!(GammaGammaParams::new(1.0, -2.0, 3.0).is_err());
        // customers without a repeat purchase or with zero spend are skipped
        let cs = vec![cust(0, 0.0), cust(2, 0.0), cust(3, 4.0)];
        let total = g.log_likelihood(&cs).unwrap();
        assert_eq!(total, g.individual_log_likelihood(3, 4.0).unwrap());
    }

    #[test]
    fn too_few_customers() {
        let cs = vec![cust(0, 0.0), cust(2, 5.0), cust(1, 0.0)];
        let e = fit(&cs).unwrap_err();
        assert_eq!(e.to_string(), "too few customers to fit Gamma-Gamma (need at least 3 with a repeat purchase of positive value, got 1)");
    }

    #[test]
    fn fit_recovers_a_maximum() {
        // heterogeneous mean spends (a few cheap, a few expensive customers): the fitted
        // point must beat nearby points
        let cs: Vec<_> = [
            (3, 10.0),
            (5, 12.0),
            (2, 9.0),
            (4, 55.0),
            (6, 48.0),
            (3, 60.0),
            (2, 150.0),
            (5, 210.0),
            (4, 20.0),
            (1, 25.0),
            (3, 90.0),
            (7, 35.0),
        ]
        .iter()
        .map(|&(x, m)| cust(x, m))
        .collect();
        let f = fit(&cs).unwrap();
        let ll = f.params.log_likelihood(&cs).unwrap();
        assert!((ll - f.log_likelihood).abs() < 1e-9);
        for (dp, dq, dv) in [(1.001, 1.0, 1.0), (0.999, 1.0, 1.0), (1.0, 0.999, 1.0), (1.0, 1.0, 1.001)] {
            let p = GammaGammaParams::new(f.params.p * dp, f.params.q * dq, f.params.v * dv).unwrap();
            assert!(p.log_likelihood(&cs).unwrap() < f.log_likelihood);
        }
    }

    fn spread_population() -> Vec<CustomerSummary> {
        (0..200u32).map(|i| cust(1 + i % 6, 5.0 + f64::from((i * 7919) % 97) * (1.0 + f64::from(i % 5)))).collect()
    }

    #[test]
    fn prepared_likelihood_equals_the_plain_sum_and_gradient_matches_finite_differences() {
        let cs = spread_population();
        let rows: Vec<(f64, f64)> = cs.iter().map(|c| (f64::from(c.frequency), c.monetary_value)).collect();
        let data = Prepared::new(&rows);
        for (p, q, v) in [(6.25, 3.74, 15.44), (0.5, 1.2, 300.0)] {
            let plain = GammaGammaParams::new(p, q, v).unwrap().log_likelihood(&cs).unwrap();
            let mut g = [0.0; 3];
            let fast = data.eval(p, q, v, Some(&mut g));
            assert!((plain - fast).abs() < 1e-10 * plain.abs(), "{plain} vs {fast}");
            let at = [p, q, v];
            for i in 0..3 {
                let h = 1e-6 * at[i];
                let (mut up, mut down) = (at, at);
                up[i] += h;
                down[i] -= h;
                let fd = (data.eval(up[0], up[1], up[2], None) - data.eval(down[0], down[1], down[2], None)) / (2.0 * h);
                assert!((g[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0), "parameter {i}: {} vs {fd}", g[i]);
            }
        }
    }

    #[test]
    fn bfgs_fit_agrees_with_nelder_mead() {
        let cs = spread_population();
        let quasi_newton = fit(&cs).unwrap();
        let simplex = fit_with_options(&cs, &default_fit_options()).unwrap();
        assert!((quasi_newton.log_likelihood - simplex.log_likelihood).abs() < 1e-7, "{quasi_newton:?} vs {simplex:?}");
        let (a, b) = (quasi_newton.params, simplex.params);
        for (x, y) in [(a.p, b.p), (a.q, b.q), (a.v, b.v)] {
            assert!((x - y).abs() < 1e-4 * y, "{quasi_newton:?} vs {simplex:?}");
        }
        assert!(quasi_newton.iterations < 100, "{quasi_newton:?}");
    }

    #[test]
    fn homogeneous_spend_does_not_converge() {
        // spend varies no more between customers than within: q, v run off to infinity
        let cs: Vec<_> = [(1, 10.0), (2, 25.0), (3, 12.0), (1, 40.0), (5, 18.0), (2, 8.0), (4, 30.0), (1, 15.0)]
            .iter()
            .map(|&(x, m)| cust(x, m))
            .collect();
        let e = fit(&cs).unwrap_err().to_string();
        assert!(e.starts_with("Gamma-Gamma did not converge after "), "{e}");
        assert!(e.contains("best p="), "{e}");
    }
}
