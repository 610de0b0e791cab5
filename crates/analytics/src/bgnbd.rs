//! The BG/NBD model of Fader, Hardie & Lee (2005), "Counting Your Customers the Easy
//! Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2).
//!
//! While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase
//! they drop out with probability p ~ Beta(a, b). Data per customer: x repeat
//! purchases, recency t_x and age T, all in the same time unit (weeks in the paper).
//!
//! All formulas match the Python package `lifetimes` 0.11.3 (`BetaGeoFitter`), and the
//! log-likelihood is the full one (no constant dropped), in the data's own time unit.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{finite, positive_param, AnalyticsError, Result};
use crate::optim::{self, BfgsOptions, NelderMeadOptions};
use crate::rfm::CustomerSummary;
use crate::special::{digamma, hyp2f1_growth_terms, ln_beta, ln_gamma, ln_hyp2f1, log_add_exp, logistic};

/// BG/NBD parameters (all finite and > 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BgNbdParams {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (rate) of the Gamma distribution of purchase rates, in the time unit.
    pub alpha: f64,
    /// First shape of the Beta distribution of drop-out probabilities.
    pub a: f64,
    /// Second shape of the Beta distribution of drop-out probabilities.
    pub b: f64,
}

/// Check one customer's (x, t_x, T): finite, 0 ≤ t_x ≤ T.
pub(crate) fn check_customer(t_x: f64, big_t: f64) -> Result<()> {
    if !(t_x.is_finite() && big_t.is_finite()) || t_x < 0.0 || big_t < t_x {
        return Err(AnalyticsError::InvalidInput(format!("recency t_x = {t_x} and age T = {big_t} must be finite with 0 <= t_x <= T")));
    }
    Ok(())
}

fn check_time(t: f64) -> Result<()> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(AnalyticsError::InvalidInput(format!("time t = {t} must be finite and >= 0")));
    }
    Ok(())
}

impl BgNbdParams {
    /// Validated constructor.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        let p = Self { r, alpha, a, b };
        p.validate()?;
        Ok(p)
    }

    /// Check that every parameter is finite and > 0.
    pub fn validate(&self) -> Result<()> {
        positive_param("r", self.r)?;
        positive_param("alpha", self.alpha)?;
        positive_param("a", self.a)?;
        positive_param("b", self.b)
    }

    /// ln L(r, α, a, b | x, t_x, T), FHL 2005 eq. 6, in log space:
    ///
    /// L = B(a, b+x)/B(a, b) · Γ(r+x) αʳ / (Γ(r) (α+T)^(r+x))
    ///   + \[x>0\] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) αʳ / (Γ(r) (α+t_x)^(r+x)),
    ///
    /// the two terms combined with log-sum-exp (B(a+1, b+x−1)/B(a, b+x) = a/(b+x−1)).
    pub fn individual_log_likelihood(&self, x: u32, t_x: f64, big_t: f64) -> Result<f64> {
        self.validate()?;
        check_customer(t_x, big_t)?;
        let Self { r, alpha, a, b } = *self;
        let xf = f64::from(x);
        let common = ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + xf) - ln_beta(a, b);
        let survive = -(r + xf) * (alpha + big_t).ln();
        let dropped = if x > 0 { a.ln() - (b + xf - 1.0).ln() - (r + xf) * (alpha + t_x).ln() } else { f64::NEG_INFINITY };
        finite(common + log_add_exp(survive, dropped), "BG/NBD log-likelihood")
    }

    /// Total log-likelihood: the sum of [`Self::individual_log_likelihood`] over customers.
    pub fn log_likelihood(&self, customers: &[CustomerSummary]) -> Result<f64> {
        let mut total = 0.0;
        for c in customers {
            total += self.individual_log_likelihood(c.frequency, c.recency, c.t).map_err(|e| with_customer(e, &c.customer_id))?;
        }
        finite(total, "BG/NBD log-likelihood")
    }

    /// P(alive | x, t_x, T) (Fader, Hardie & Lee 2008 note), computed in log space:
    /// 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) for x > 0, and exactly 1 for x = 0
    /// (no drop-out before the first repeat purchase).
    pub fn p_alive(&self, x: u32, t_x: f64, big_t: f64) -> Result<f64> {
        self.validate()?;
        check_customer(t_x, big_t)?;
        if x == 0 {
            return Ok(1.0);
        }
        finite(logistic(-self.log_odds_dead(x, t_x, big_t)), "P(alive)")
    }

    /// ln[a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)] for x > 0: log-odds of having dropped out.
    fn log_odds_dead(&self, x: u32, t_x: f64, big_t: f64) -> f64 {
        let xf = f64::from(x);
        (self.r + xf) * ((self.alpha + big_t).ln() - (self.alpha + t_x).ln()) + self.a.ln() - (self.b + xf - 1.0).ln()
    }

    /// E[X(t) | x, t_x, T]: expected number of purchases in the next `t` time units of a
    /// customer with history (x, t_x, T) (FHL 2005 eq. 10):
    ///
    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
    /// / (1 + \[x>0\] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
    ///
    /// The hypergeometric term is evaluated in log space, normally after Euler's
    /// transformation, (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z),
    /// whose parameters do not grow with x (see `ln_power_times_hyp`); the denominator
    /// is applied in log space too (customer 1901 of CDNOW has it ≈ 4·10¹⁰).
    /// Errors for a = 1 exactly (a removable singularity this formula cannot evaluate).
    pub fn conditional_expected_purchases(&self, t: f64, x: u32, t_x: f64, big_t: f64) -> Result<f64> {
        self.validate()?;
        check_customer(t_x, big_t)?;
        check_time(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        self.check_a_not_one()?;
        let numerator = self.conditional_expected_purchases_numerator(t, x, big_t)?;
        finite(numerator * self.conditional_expected_purchases_factor(x, t_x, big_t), "conditional expected purchases")
    }

    /// The part of [`Self::conditional_expected_purchases`] that does not depend on t_x:
    /// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(…)], for validated parameters,
    /// t > 0 and a ≠ 1. Customers with the same (x, T) share it (the scoring caches it).
    pub(crate) fn conditional_expected_purchases_numerator(&self, t: f64, x: u32, big_t: f64) -> Result<f64> {
        let Self { r, alpha, a, b } = *self;
        let xf = f64::from(x);
        let c = a + b + xf - 1.0;
        let z = t / (alpha + big_t + t);
        let ln_1mz = (alpha + big_t).ln() - (alpha + big_t + t).ln();
        let ln_power_hyp = ln_power_times_hyp(r + xf, b + xf, c, z, ln_1mz)?;
        Ok(c / (a - 1.0) * -ln_power_hyp.exp_m1())
    }

    /// The other factor: 1 / (1 + \[x>0\] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)), in log space.
    pub(crate) fn conditional_expected_purchases_factor(&self, x: u32, t_x: f64, big_t: f64) -> f64 {
        let ln_den = if x > 0 { log_add_exp(0.0, self.log_odds_dead(x, t_x, big_t)) } else { 0.0 };
        (-ln_den).exp()
    }

    /// E[X(t)]: expected number of repeat purchases in (0, t] of a customer picked at
    /// random from the population (FHL 2005 eq. 9):
    /// (a+b−1)/(a−1) · [1 − (α/(α+t))ʳ ₂F₁(r, b; a+b−1; t/(α+t))],
    /// with the same Euler transformation as in [`Self::conditional_expected_purchases`].
    pub fn expected_purchases(&self, t: f64) -> Result<f64> {
        self.validate()?;
        check_time(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let Self { r, alpha, a, b } = *self;
        self.check_a_not_one()?;
        let c = a + b - 1.0;
        let z = t / (alpha + t);
        let ln_1mz = alpha.ln() - (alpha + t).ln();
        let ln_power_hyp = ln_power_times_hyp(r, b, c, z, ln_1mz)?;
        finite(c / (a - 1.0) * -ln_power_hyp.exp_m1(), "expected purchases")
    }

    /// P(X(t) = n): probability that a random customer makes exactly n purchases in
    /// (0, t] (FHL 2005 eq. 8, as in lifetimes' `probability_of_n_purchases_up_to_time`).
    pub fn probability_of_n_purchases(&self, t: f64, n: u32) -> Result<f64> {
        self.validate()?;
        check_time(t)?;
        if t == 0.0 {
            return Ok(if n == 0 { 1.0 } else { 0.0 });
        }
        let Self { r, alpha, a, b } = *self;
        let nf = f64::from(n);
        let ln_p = alpha.ln() - (alpha + t).ln(); // ln(α/(α+t))
        let ln_q = t.ln() - (alpha + t).ln(); // ln(t/(α+t))
        let ln_nb = |j: f64| {
            let tail = if j > 0.0 { j * ln_q } else { 0.0 };
            ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + tail
        };
        let first = (ln_beta(a, b + nf) - ln_beta(a, b) + ln_nb(nf) + r * ln_p).exp();
        let second = if n > 0 {
            let partial: f64 = (0..n).map(|j| ln_nb(f64::from(j)).exp()).sum();
            let not_yet = (1.0 - (r * ln_p).exp() * partial).max(0.0);
            (ln_beta(a + 1.0, b + nf - 1.0) - ln_beta(a, b)).exp() * not_yet
        } else {
            0.0
        };
        finite(first + second, "P(X(t) = n)")
    }

    fn check_a_not_one(&self) -> Result<()> {
        if self.a == 1.0 {
            return Err(AnalyticsError::InvalidParameter {
                name: "a",
                value: self.a,
                reason: "a = 1 is a removable singularity of the expected-purchases formula",
            });
        }
        Ok(())
    }
}

/// ln[(1−z)^A ₂F₁(A, B; C; z)], given ln(1−z).
///
/// Two equivalent series are available: the direct one, and Euler's transformation
/// (1−z)^A ₂F₁(A, B; C; z) = (1−z)^(C−B) ₂F₁(C−A, C−B; C; z). For BG/NBD, C−A = a+b−1−r
/// and C−B = a−1 do not grow with the number of purchases x, so the Euler form is
/// usually the short one; with very large a and b the direct one is. The form whose
/// terms stop growing sooner is tried first, the other if it fails. Both are summed
/// with rescaling ([`ln_hyp2f1`]), so large intermediate values do not overflow.
fn ln_power_times_hyp(big_a: f64, big_b: f64, c: f64, z: f64, ln_1mz: f64) -> Result<f64> {
    let (ea, eb) = (c - big_a, c - big_b);
    let euler = || ln_hyp2f1(ea, eb, c, z).map(|l| eb * ln_1mz + l);
    let direct = || ln_hyp2f1(big_a, big_b, c, z).map(|l| big_a * ln_1mz + l);
    let euler_first = hyp2f1_growth_terms(ea, eb, c, z) <= hyp2f1_growth_terms(big_a, big_b, c, z);
    let (first, second): (&dyn Fn() -> Result<f64>, &dyn Fn() -> Result<f64>) =
        if euler_first { (&euler, &direct) } else { (&direct, &euler) };
    match first() {
        Ok(v) => Ok(v),
        Err(e) => second().map_err(|_| e),
    }
}

fn with_customer(e: AnalyticsError, id: &str) -> AnalyticsError {
    match e {
        AnalyticsError::InvalidInput(m) => AnalyticsError::InvalidInput(format!("customer {id}: {m}")),
        AnalyticsError::Numerical(m) => AnalyticsError::Numerical(format!("customer {id}: {m}")),
        other => other,
    }
}

// ---------------------------------------------------------------------------- fitting

/// Fewest customers [`fit`] accepts (there are four parameters).
pub const MIN_CUSTOMERS: usize = 4;

/// Result of [`fit`]. Serialises as `{"r", "alpha", "a", "b", "log_likelihood"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BgNbdFit {
    /// Maximum-likelihood estimates.
    #[serde(flatten)]
    pub params: BgNbdParams,
    /// Log-likelihood at `params` (full, in the data's time unit).
    pub log_likelihood: f64,
    /// Number of customers fitted.
    #[serde(skip)]
    pub n_customers: usize,
    /// Optimiser iterations: BFGS, plus Nelder–Mead's over all restarts if it was needed.
    #[serde(skip)]
    pub iterations: usize,
    /// Nelder–Mead restarts (0 when BFGS converged on its own).
    #[serde(skip)]
    pub restarts: usize,
}

/// One group of customers with identical (x, t_x, T): indices into the distinct x, t_x
/// and T values of [`Prepared`], and how many customers share them.
#[derive(Debug, Clone, Copy)]
struct Group {
    xi: u32,
    ti: u32,
    big_ti: u32,
    count: f64,
}

/// Customers grouped by identical (x, t_x, T) — exactly, bit for bit, so the likelihood
/// is the same sum as over the customers, only with multiplicities — with the distinct
/// x, t_x and T values listed once, so that ln Γ(r+x), ln B(a, b+x), ln(α+t_x) and
/// ln(α+T) are computed once per distinct value and evaluation rather than per customer.
/// Customers with x = 0 (t_x = 0) only need T and are kept apart: no log-sum-exp.
struct Prepared {
    /// distinct x values, ascending
    xs: Vec<f64>,
    /// customers per distinct x
    x_counts: Vec<f64>,
    /// distinct t_x values
    txs: Vec<f64>,
    /// distinct T values
    bigts: Vec<f64>,
    /// groups with x > 0
    groups: Vec<Group>,
    /// (index into bigts, count) of the customers with x = 0
    zeros: Vec<(u32, f64)>,
}

/// Workspace of [`Prepared::eval`], reused between evaluations.
#[derive(Default)]
struct Scratch {
    common: Vec<f64>,
    drop: Vec<f64>,
    ln_tx: Vec<f64>,
    inv_tx: Vec<f64>,
    ln_bigt: Vec<f64>,
    inv_bigt: Vec<f64>,
    dropped_weight: Vec<f64>,
}

/// Partial sums over groups: Σ c·ℓ, ∂/∂r and ∂/∂α of the group-dependent part, and per
/// distinct x the Σ c·w_d (weight of the "dropped" term), from which ∂/∂a and ∂/∂b follow.
struct Partial {
    ll: f64,
    d_r: f64,
    d_alpha: f64,
}

impl Prepared {
    fn new(customers: &[CustomerSummary]) -> Self {
        let mut keyed: Vec<(u32, u64, u64)> = customers.iter().map(|c| (c.frequency, c.recency.to_bits(), c.t.to_bits())).collect();
        keyed.sort_unstable();
        let mut xs: Vec<f64> = Vec::new();
        let mut x_counts: Vec<f64> = Vec::new();
        let mut txs: Vec<f64> = Vec::new();
        let mut bigts: Vec<f64> = Vec::new();
        let mut tx_index: HashMap<u64, u32> = HashMap::new();
        let mut bigt_index: HashMap<u64, u32> = HashMap::new();
        let index_of = |map: &mut HashMap<u64, u32>, values: &mut Vec<f64>, bits: u64| -> u32 {
            *map.entry(bits).or_insert_with(|| {
                values.push(f64::from_bits(bits));
                u32::try_from(values.len() - 1).unwrap_or(u32::MAX)
            })
        };
        let mut groups: Vec<Group> = Vec::new();
        let mut zeros: Vec<(u32, f64)> = Vec::new();
        let mut last: Option<(u32, u64, u64)> = None;
        for k in keyed {
            if xs.last() != Some(&f64::from(k.0)) {
                xs.push(f64::from(k.0));
                x_counts.push(0.0);
            }
            if let Some(c) = x_counts.last_mut() {
                *c += 1.0;
            }
            if last == Some(k) {
                if k.0 == 0 {
                    if let Some(z) = zeros.last_mut() {
                        z.1 += 1.0;
                    }
                } else if let Some(g) = groups.last_mut() {
                    g.count += 1.0;
                }
                continue;
            }
            last = Some(k);
            let big_ti = index_of(&mut bigt_index, &mut bigts, k.2);
            if k.0 == 0 {
                zeros.push((big_ti, 1.0));
            } else {
                let ti = index_of(&mut tx_index, &mut txs, k.1);
                let xi = u32::try_from(xs.len() - 1).unwrap_or(u32::MAX);
                groups.push(Group { xi, ti, big_ti, count: 1.0 });
            }
        }
        Self { xs, x_counts, txs, bigts, groups, zeros }
    }

    /// Number of distinct (x, t_x, T).
    #[cfg(test)]
    fn n_groups(&self) -> usize {
        self.groups.len() + self.zeros.len()
    }

    /// Sum over `groups` of c · ln[e^survive + e^dropped] and its r and α derivatives;
    /// adds Σ c·w_dropped per distinct x into `dropped_weight`.
    fn partial(&self, groups: &[Group], r: f64, s: &Scratch, dropped_weight: &mut [f64]) -> Partial {
        let (mut ll, mut d_r, mut d_alpha) = (0.0, 0.0, 0.0);
        for g in groups {
            let (xi, ti, bi) = (g.xi as usize, g.ti as usize, g.big_ti as usize);
            let rx = r + self.xs[xi];
            let (l_big, l_t) = (s.ln_bigt[bi], s.ln_tx[ti]);
            let survive = -rx * l_big;
            let dropped = s.drop[xi] - rx * l_t;
            // log-sum-exp with the weights of both terms
            let (l, w_drop) = if survive >= dropped {
                let e = (dropped - survive).exp();
                (survive + e.ln_1p(), e / (1.0 + e))
            } else {
                let e = (survive - dropped).exp();
                (dropped + e.ln_1p(), 1.0 / (1.0 + e))
            };
            let w_survive = 1.0 - w_drop;
            ll += g.count * l;
            d_r -= g.count * (w_survive * l_big + w_drop * l_t);
            d_alpha -= g.count * rx * (w_survive * s.inv_bigt[bi] + w_drop * s.inv_tx[ti]);
            dropped_weight[xi] += g.count * w_drop;
        }
        Partial { ll, d_r, d_alpha }
    }

    /// Total log-likelihood (the sum of `individual_log_likelihood` over the customers)
    /// and, if `grad` is given, its gradient with respect to (r, α, a, b):
    ///
    /// with ℓ = common(x) + ln[e^S + e^D], S = −(r+x) ln(α+T), D = ln a − ln(b+x−1) −
    /// (r+x) ln(α+t_x), and w_S, w_D = e^S, e^D / (e^S + e^D):
    /// * ∂ℓ/∂r = ψ(r+x) − ψ(r) + ln α − w_S ln(α+T) − w_D ln(α+t_x)
    /// * ∂ℓ/∂α = r/α − (r+x) (w_S/(α+T) + w_D/(α+t_x))
    /// * ∂ℓ/∂a = ψ(a+b) − ψ(a+b+x) + w_D/a
    /// * ∂ℓ/∂b = ψ(b+x) − ψ(a+b+x) − ψ(b) + ψ(a+b) − w_D/(b+x−1)
    ///
    /// NaN for invalid parameters.
    fn eval(&self, p: &BgNbdParams, s: &mut Scratch, grad: Option<&mut [f64; 4]>) -> f64 {
        let BgNbdParams { r, alpha, a, b } = *p;
        if p.validate().is_err() {
            return f64::NAN;
        }
        let base = -ln_gamma(r) + r * alpha.ln() - ln_beta(a, b);
        s.common.clear();
        s.drop.clear();
        for &x in &self.xs {
            s.common.push(base + ln_gamma(r + x) + ln_beta(a, b + x));
            s.drop.push(if x > 0.0 { a.ln() - (b + x - 1.0).ln() } else { f64::NEG_INFINITY });
        }
        let logs = |values: &[f64], ln: &mut Vec<f64>, inv: &mut Vec<f64>| {
            ln.clear();
            inv.clear();
            for &t in values {
                ln.push((alpha + t).ln());
                inv.push(1.0 / (alpha + t));
            }
        };
        logs(&self.txs, &mut s.ln_tx, &mut s.inv_tx);
        logs(&self.bigts, &mut s.ln_bigt, &mut s.inv_bigt);
        let mut dropped_weight = std::mem::take(&mut s.dropped_weight);
        dropped_weight.clear();
        dropped_weight.resize(self.xs.len(), 0.0);
        let part = self.partial(&self.groups, r, s, &mut dropped_weight);
        // x = 0: ℓ = common(0) − r ln(α+T), w_S = 1
        let (mut zero_ll, mut zero_dr, mut zero_da) = (0.0, 0.0, 0.0);
        for &(bi, count) in &self.zeros {
            let bi = bi as usize;
            zero_ll -= count * r * s.ln_bigt[bi];
            zero_dr -= count * s.ln_bigt[bi];
            zero_da -= count * r * s.inv_bigt[bi];
        }
        let mut total = part.ll + zero_ll;
        for (common, n) in s.common.iter().zip(&self.x_counts) {
            total += n * common;
        }
        if let Some(g) = grad {
            let (psi_r, psi_b, psi_ab) = (digamma(r), digamma(b), digamma(a + b));
            let (mut d_r, mut d_alpha, mut d_a, mut d_b) = (part.d_r + zero_dr, part.d_alpha + zero_da, 0.0, 0.0);
            for ((&x, &n), &w) in self.xs.iter().zip(&self.x_counts).zip(&dropped_weight) {
                let psi_abx = digamma(a + b + x);
                d_r += n * (digamma(r + x) - psi_r + alpha.ln());
                d_alpha += n * r / alpha;
                d_a += n * (psi_ab - psi_abx) + w / a;
                d_b += n * (digamma(b + x) - psi_abx - psi_b + psi_ab);
                if x > 0.0 {
                    d_b -= w / (b + x - 1.0);
                }
            }
            *g = [d_r, d_alpha, d_a, d_b];
        }
        s.dropped_weight = dropped_weight;
        total
    }
}

/// Nelder–Mead settings of [`fit_with_options`] (and of the fallback of [`fit`]): tight,
/// since the likelihood is flat along (a, b); the relative part of the rule keeps it
/// usable on large data.
pub fn default_fit_options() -> NelderMeadOptions {
    NelderMeadOptions { initial_step: 0.5, f_tol: 1e-10, f_rel_tol: 1e-14, x_tol: 1e-7, max_iterations: 5_000, max_restarts: 5 }
}

/// BFGS settings of [`fit`]: log-parameters to 1e-8 relative, gradient to 1e-9 of the
/// log-likelihood; a log-parameter beyond ±30 is a parameter running off to 0 or ∞.
pub fn default_bfgs_options() -> BfgsOptions {
    BfgsOptions { x_tol: 1e-8, g_tol: 1e-9, max_iterations: 500, max_step: 2.0, max_abs_x: 30.0, stall_x_tol: 1e-5 }
}

/// Checks common to both fitting methods; the grouped data and the starting point.
fn prepare_fit(customers: &[CustomerSummary]) -> Result<(Prepared, [f64; 4])> {
    if customers.len() < MIN_CUSTOMERS {
        return Err(AnalyticsError::TooFewCustomers { model: "BG/NBD", need: MIN_CUSTOMERS, what: "", got: customers.len() });
    }
    for c in customers {
        check_customer(c.recency, c.t).map_err(|e| with_customer(e, &c.customer_id))?;
    }
    if customers.iter().all(|c| c.frequency == 0) {
        return Err(AnalyticsError::TooFewCustomers { model: "BG/NBD", need: 1, what: " with a repeat purchase", got: 0 });
    }
    let data = Prepared::new(customers);
    let mean_t = customers.iter().map(|c| c.t).sum::<f64>() / customers.len() as f64;
    Ok((data, [0.0, mean_t.max(1e-3).ln(), 0.0, 0.0]))
}

fn from_log(th: &[f64]) -> BgNbdParams {
    BgNbdParams { r: th[0].exp(), alpha: th[1].exp(), a: th[2].exp(), b: th[3].exp() }
}

/// Fit the BG/NBD model by maximum likelihood: BFGS on the log-parameters with the
/// closed-form gradient (see [`crate::optim`] for why), starting from r = a = b = 1,
/// α = mean T; if BFGS stalls short of its convergence rule, Nelder–Mead
/// ([`default_fit_options`]) continues from the best point. A fit that does not converge,
/// or whose parameters run off to 0 or ∞, is an [`AnalyticsError::NotConverged`] naming
/// the best point.
pub fn fit(customers: &[CustomerSummary]) -> Result<BgNbdFit> {
    let (data, x0) = prepare_fit(customers)?;
    let mut scratch = Scratch::default();
    let mut grad = [0.0; 4];
    let res = optim::minimize_bfgs(
        |th, g| {
            let p = from_log(th);
            let ll = data.eval(&p, &mut scratch, Some(&mut grad));
            // minimise −ℓ; chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ
            for (gi, (d, v)) in g.iter_mut().zip(grad.iter().zip([p.r, p.alpha, p.a, p.b])) {
                *gi = -d * v;
            }
            -ll
        },
        &x0,
        &default_bfgs_options(),
    )?;
    if res.converged {
        if let Ok(fit) = finish(customers.len(), &res.x, -res.f, true, res.iterations, 0, SHAPE_LIMIT_GRADIENT) {
            return Ok(fit);
        }
    }
    // BFGS stalled, or stopped far out on a flat likelihood (small books, where hardly
    // anybody seems to drop out): Nelder–Mead, the method used before BFGS, decides with
    // its own rule — from the best point when BFGS stalled, from the start when it ran off.
    let from = if optim_ran_off(&res.x) { x0 } else { [res.x[0], res.x[1], res.x[2], res.x[3]] };
    let nm = optim::minimize(|th| -data.eval(&from_log(th), &mut scratch, None), &from, &default_fit_options())?;
    finish(customers.len(), &nm.x, -nm.f, nm.converged, res.iterations + nm.iterations, nm.restarts, SHAPE_LIMIT_SIMPLEX)
}

/// How far (in log units) the unitless shape parameters may go before a fit counts as
/// running off to 0 or ∞: a gradient-based search can stop on the flat far side of the
/// likelihood, so its result is held to e^±12.5 (≈ 2.7·10⁵); Nelder–Mead's to e^±25,
/// the rule it always had.
const SHAPE_LIMIT_GRADIENT: f64 = 12.5;
const SHAPE_LIMIT_SIMPLEX: f64 = 25.0;

fn optim_ran_off(th: &[f64]) -> bool {
    [th[0], th[2], th[3]].iter().any(|t| t.abs() > SHAPE_LIMIT_GRADIENT) || th[1].abs() > 25.0
}

/// [`fit`] by Nelder–Mead alone, with explicit settings (the method used before BFGS;
/// kept as a reference and for comparisons).
pub fn fit_with_options(customers: &[CustomerSummary], opts: &NelderMeadOptions) -> Result<BgNbdFit> {
    let (data, x0) = prepare_fit(customers)?;
    let mut scratch = Scratch::default();
    let res = optim::minimize(|th| -data.eval(&from_log(th), &mut scratch, None), &x0, opts)?;
    finish(customers.len(), &res.x, -res.f, res.converged, res.iterations, res.restarts, SHAPE_LIMIT_SIMPLEX)
}

fn finish(
    n_customers: usize,
    th: &[f64],
    log_likelihood: f64,
    converged: bool,
    iterations: usize,
    restarts: usize,
    shape_limit: f64,
) -> Result<BgNbdFit> {
    let params = from_log(th);
    // an MLE at the boundary (a parameter running off to 0 or ∞) is not an answer. The
    // likelihood flattens out there (e.g. a, b → ∞: nobody drops out); the shapes r, a, b,
    // which have no unit, are held to `shape_limit`; α is in time units, so only e^±25.
    let at_boundary = th.iter().any(|t| t.abs() > 25.0) || [th[0], th[2], th[3]].iter().any(|t| t.abs() > shape_limit);
    if !converged || at_boundary || params.validate().is_err() {
        // hint when some parameter is already beyond 1e±5.5 or so
        let why = if th.iter().any(|t| t.abs() > 12.5) {
            "; a parameter is running off to 0 or infinity: the data do not identify the model"
        } else {
            ""
        };
        return Err(AnalyticsError::NotConverged {
            model: "BG/NBD",
            iterations,
            detail: format!(
                "best r={:.6}, alpha={:.6}, a={:.6}, b={:.6}, log-likelihood={:.6}{why}",
                params.r, params.alpha, params.a, params.b, log_likelihood
            ),
        });
    }
    Ok(BgNbdFit { params, log_likelihood: finite(log_likelihood, "BG/NBD log-likelihood")?, n_customers, iterations, restarts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper() -> BgNbdParams {
        BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap()
    }

    fn cust(id: &str, x: u32, t_x: f64, t: f64) -> CustomerSummary {
        CustomerSummary { customer_id: id.into(), frequency: x, recency: t_x, t, monetary_value: 0.0 }
    }

    #[test]
    fn likelihood_by_hand_x0() {
        // x = 0: L = (α/(α+T))^r exactly
        let p = paper();
        let got = p.individual_log_likelihood(0, 0.0, 30.0).unwrap();
        let want = p.r * (p.alpha / (p.alpha + 30.0)).ln();
        assert!((got - want).abs() < 1e-13, "{got} vs {want}");
    }

    #[test]
    fn likelihood_by_hand_x1() {
        // x = 1: B(a,b+1)/B(a,b) = b/(a+b), Γ(r+1)/Γ(r) = r, B(a+1,b)/B(a,b) = a/(a+b)
        let p = paper();
        let (t_x, big_t) = (10.0, 30.0);
        let (r, al, a, b) = (p.r, p.alpha, p.a, p.b);
        let l = b / (a + b) * r * al.powf(r) / (al + big_t).powf(r + 1.0) + a / (a + b) * r * al.powf(r) / (al + t_x).powf(r + 1.0);
        let got = p.individual_log_likelihood(1, t_x, big_t).unwrap();
        assert!((got - l.ln()).abs() < 1e-12, "{got} vs {}", l.ln());
    }

    #[test]
    fn fast_and_plain_likelihood_agree() {
        let cs = vec![
            cust("1", 0, 0.0, 30.0),
            cust("2", 0, 0.0, 30.0),
            cust("3", 2, 10.0, 30.0),
            cust("4", 5, 25.5, 31.0),
            cust("5", 2, 10.0, 30.0),
        ];
        let p = paper();
        let plain = p.log_likelihood(&cs).unwrap();
        let fast = Prepared::new(&cs).eval(&p, &mut Scratch::default(), None);
        assert!((plain - fast).abs() < 1e-10, "{plain} vs {fast}");
    }

    /// A small synthetic population with every kind of customer (x = 0, repeat
    /// customers, shared (x, t_x, T) triples).
    fn population() -> Vec<CustomerSummary> {
        let mut cs = Vec::new();
        let mut k = 0u32;
        for i in 0..300u32 {
            let big_t = 20.0 + f64::from(i % 17) / 7.0;
            let x = [0, 0, 1, 2, 0, 3, 1, 7, 0, 12][(i % 10) as usize];
            let t_x = if x == 0 { 0.0 } else { big_t * f64::from((i * 7919) % 100) / 100.0 };
            k += 1;
            cs.push(cust(&k.to_string(), x, t_x, big_t));
        }
        cs
    }

    #[test]
    fn grouped_likelihood_equals_the_plain_sum() {
        let cs = population();
        let data = Prepared::new(&cs);
        assert!(data.n_groups() < cs.len(), "{} groups", data.n_groups());
        for p in [paper(), BgNbdParams::new(1.7, 0.3, 4.0, 0.2).unwrap()] {
            let plain = p.log_likelihood(&cs).unwrap();
            let grouped = data.eval(&p, &mut Scratch::default(), None);
            assert!((plain - grouped).abs() < 1e-10 * plain.abs(), "{plain} vs {grouped}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let cs = population();
        let data = Prepared::new(&cs);
        let mut s = Scratch::default();
        for p in [paper(), BgNbdParams::new(1.7, 0.3, 4.0, 0.2).unwrap()] {
            let mut g = [0.0; 4];
            data.eval(&p, &mut s, Some(&mut g));
            let v = [p.r, p.alpha, p.a, p.b];
            for i in 0..4 {
                let h = 1e-6 * v[i];
                let (mut up, mut down) = (v, v);
                up[i] += h;
                down[i] -= h;
                let at = |w: [f64; 4]| data.eval(&BgNbdParams { r: w[0], alpha: w[1], a: w[2], b: w[3] }, &mut Scratch::default(), None);
                let fd = (at(up) - at(down)) / (2.0 * h);
                assert!((g[i] - fd).abs() <= 1e-6 * fd.abs().max(1.0), "parameter {i}: {} vs {fd}", g[i]);
            }
        }
    }

    #[test]
    fn p_alive_and_expectations_basic() {
        let p = paper();
        assert_eq!(p.p_alive(0, 0.0, 20.0).unwrap(), 1.0);
        // purchase at the very end: P(alive) = 1/(1 + a/(b+x−1))
        let pa = p.p_alive(3, 20.0, 20.0).unwrap();
        assert!((pa - 1.0 / (1.0 + p.a / (p.b + 2.0))).abs() < 1e-15);
        assert_eq!(p.conditional_expected_purchases(0.0, 3, 5.0, 20.0).unwrap(), 0.0);
        assert_eq!(p.expected_purchases(0.0).unwrap(), 0.0);
        // E[X(t)] is increasing in t
        let e1 = p.expected_purchases(10.0).unwrap();
        let e2 = p.expected_purchases(20.0).unwrap();
        assert!(0.0 < e1 && e1 < e2);
        // for tiny t, E[X(t)] ≈ r t / α (everyone alive at time 0)
        let tiny = 1e-6;
        let e = p.expected_purchases(tiny).unwrap();
        assert!((e / (p.r * tiny / p.alpha) - 1.0).abs() < 1e-5, "{e}");
        // the probabilities of n purchases sum to 1
        let total: f64 = (0..400).map(|n| p.probability_of_n_purchases(10.0, n).unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert_eq!(p.probability_of_n_purchases(0.0, 0).unwrap(), 1.0);
    }

    #[test]
    fn both_hypergeometric_forms_agree() {
        // (1−z)^A 2F1(A, B; C; z) directly and after Euler's transformation
        for &(r, a, b, x, z) in
            &[(0.243, 0.793, 2.426, 0.0, 0.5), (0.243, 0.793, 2.426, 29.0, 0.53), (0.5, 50.0, 600.0, 20.0, 0.6), (2.0, 3.0, 0.5, 3.0, 0.9)]
        {
            let (big_a, big_b, c) = (r + x, b + x, a + b + x - 1.0);
            let ln_1mz = (1.0_f64 - z).ln();
            let direct = big_a * ln_1mz + crate::special::ln_hyp2f1(big_a, big_b, c, z).unwrap();
            let euler = (c - big_b) * ln_1mz + crate::special::ln_hyp2f1(c - big_a, c - big_b, c, z).unwrap();
            let chosen = ln_power_times_hyp(big_a, big_b, c, z, ln_1mz).unwrap();
            assert!((direct - euler).abs() < 1e-12 * direct.abs().max(1.0), "{direct} vs {euler}");
            assert!((chosen - euler).abs() < 1e-12 * euler.abs().max(1.0));
        }
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let p = paper();
        assert!(BgNbdParams::new(0.0, 1.0, 1.0, 1.0).is_err());
        assert!(BgNbdParams::new(1.0, f64::INFINITY, 1.0, 1.0).is_err());
        assert!(p.individual_log_likelihood(1, 5.0, 4.0).is_err());
        assert!(p.p_alive(1, f64::NAN, 4.0).is_err());
        assert!(p.conditional_expected_purchases(-1.0, 1, 1.0, 4.0).is_err());
        let one = BgNbdParams::new(0.2, 4.0, 1.0, 2.0).unwrap();
        assert!(one.expected_purchases(10.0).is_err());
    }

    #[test]
    fn too_few_customers() {
        let cs = vec![cust("1", 1, 1.0, 2.0), cust("2", 0, 0.0, 2.0)];
        let e = fit(&cs).unwrap_err();
        assert_eq!(e.to_string(), "too few customers to fit BG/NBD (need at least 4, got 2)");
        let cs: Vec<_> = (0..10).map(|i| cust(&i.to_string(), 0, 0.0, 5.0)).collect();
        let e = fit(&cs).unwrap_err();
        assert!(e.to_string().contains("with a repeat purchase"), "{e}");
    }

    #[test]
    fn degenerate_data_do_not_converge() {
        // everybody buys every week right up to the end: nobody ever drops out, so the
        // likelihood keeps increasing as the drop-out probability goes to 0
        let cs: Vec<_> = (0..20).map(|i| cust(&i.to_string(), 10, 10.0, 10.0)).collect();
        let e = fit(&cs).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("BG/NBD did not converge after"), "{msg}");
        assert!(msg.contains("best r="), "{msg}");
    }
}
