//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and
//! CLV: Using Iso-Value Curves for Customer Base Analysis"; Fader & Hardie 2013 note).
//!
//! A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v) across
//! customers. The data are, per repeat customer, x repeat transactions and their mean
//! value m̄. Formulas match `lifetimes` 0.11.3 (`GammaGammaFitter`).

use serde::Serialize;

use crate::error::{finite, positive_param, AnalyticsError, Result};
use crate::optim::{self, NelderMeadOptions};
use crate::rfm::CustomerSummary;
use crate::special::ln_gamma;

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
    /// Nelder–Mead iterations over all restarts.
    #[serde(skip)]
    pub iterations: usize,
    /// Nelder–Mead restarts.
    #[serde(skip)]
    pub restarts: usize,
}

/// Nelder–Mead settings used by [`fit`].
pub fn default_fit_options() -> NelderMeadOptions {
    NelderMeadOptions { initial_step: 0.5, f_tol: 1e-10, x_tol: 1e-7, max_iterations: 5_000, max_restarts: 5 }
}

/// Fit the Gamma-Gamma model by maximum likelihood on the customers with x > 0 and a
/// positive mean spend (customers whose repeat purchases all had amount 0 have no
/// density and are left out), with the shared Nelder–Mead on log-parameters, starting
/// from p = 1, q = 2, v = mean m̄.
pub fn fit(customers: &[CustomerSummary]) -> Result<GammaGammaFit> {
    fit_with_options(customers, &default_fit_options())
}

/// [`fit`] with explicit optimiser settings.
pub fn fit_with_options(customers: &[CustomerSummary], opts: &NelderMeadOptions) -> Result<GammaGammaFit> {
    let rows: Vec<(f64, f64)> = customers.iter().filter(|c| usable(c)).map(|c| (f64::from(c.frequency), c.monetary_value)).collect();
    if rows.len() < MIN_CUSTOMERS {
        return Err(AnalyticsError::TooFewCustomers {
            model: "Gamma-Gamma",
            need: MIN_CUSTOMERS,
            what: " with a repeat purchase of positive value",
            got: rows.len(),
        });
    }
    // x-only terms once per distinct x; per row: index, x, ln x, ln m, m
    let mut xs: Vec<f64> = rows.iter().map(|r| r.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let data: Vec<(usize, f64, f64, f64, f64)> = rows
        .iter()
        .map(|&(x, m)| {
            let xi = xs.partition_point(|&v| v < x);
            (xi, x, x.ln(), m.ln(), m)
        })
        .collect();
    let mut per_x = vec![0.0; xs.len()];
    let mut neg_ll = |th: &[f64]| -> f64 {
        let (p, q, v) = (th[0].exp(), th[1].exp(), th[2].exp());
        if !(p > 0.0 && q > 0.0 && v > 0.0 && p.is_finite() && q.is_finite() && v.is_finite()) {
            return f64::NAN;
        }
        for (slot, &x) in per_x.iter_mut().zip(&xs) {
            *slot = ln_gamma(p * x + q) - ln_gamma(p * x);
        }
        let base = -ln_gamma(q) + q * v.ln();
        let mut total = 0.0;
        for &(xi, x, ln_x, ln_m, m) in &data {
            let px = p * x;
            total += per_x[xi] + base + (px - 1.0) * ln_m + px * ln_x - (px + q) * (x * m + v).ln();
        }
        -total
    };
    let mean_m = rows.iter().map(|r| r.1).sum::<f64>() / rows.len() as f64;
    let x0 = [0.0, 2.0_f64.ln(), mean_m.ln()];
    let res = optim::minimize(&mut neg_ll, &x0, opts)?;
    let params = GammaGammaParams { p: res.x[0].exp(), q: res.x[1].exp(), v: res.x[2].exp() };
    let log_likelihood = -res.f;
    // an MLE at the boundary (a parameter running off to 0 or ∞) is not an answer
    let at_boundary = res.x.iter().any(|t| t.abs() > 25.0);
    if !res.converged || at_boundary || params.validate().is_err() {
        // hint when some parameter is already beyond 1e±5.5 or so
        let why = if res.x.iter().any(|t| t.abs() > 12.5) {
            "; a parameter is running off to 0 or infinity: the data do not identify the model"
        } else {
            ""
        };
        return Err(AnalyticsError::NotConverged {
            model: "Gamma-Gamma",
            iterations: res.iterations,
            detail: format!("best p={:.6}, q={:.6}, v={:.6}, log-likelihood={:.6}{why}", params.p, params.q, params.v, log_likelihood),
        });
    }
    Ok(GammaGammaFit {
        params,
        log_likelihood: finite(log_likelihood, "Gamma-Gamma log-likelihood")?,
        n_customers: rows.len(),
        iterations: res.iterations,
        restarts: res.restarts,
    })
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
