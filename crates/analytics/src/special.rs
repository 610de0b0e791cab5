//! Special functions: ln Γ, ln B, log-sum-exp and the Gauss hypergeometric function 2F1.

use crate::error::{AnalyticsError, Result};

/// ln Γ(x) for x > 0 (libm's `lgamma`, a port of musl; std has no stable lgamma).
///
/// Callers only pass positive arguments (validated model parameters plus counts).
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Digamma ψ(x) = d ln Γ(x)/dx for x > 0: the recurrence ψ(x) = ψ(x+1) − 1/x up to
/// x ≥ 10, then the asymptotic series ln x − 1/(2x) − Σ B₂ₖ/(2k x²ᵏ) to x⁻¹⁴ (relative
/// error below 1e-15 there). Used for the gradients of the likelihoods.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // B2/2, B4/4, … B14/14 with alternating signs folded in
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * (691.0 / 32760.0 - inv2 / 12.0))))));
    acc + x.ln() - 0.5 * inv - series
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(eˣ + eʸ) without overflow or underflow. `-inf` stands for ln 0.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return y;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

/// Logistic function 1/(1 + e^(−u)), stable for large |u|.
pub fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// Maximum number of series terms before [`hyp2f1`] gives up.
pub const HYP2F1_MAX_TERMS: usize = 100_000;

/// Gauss hypergeometric function ₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ, by its
/// power series, for |z| < 1 (or any z when the series terminates, i.e. a or b is a
/// non-positive integer).
///
/// The summation stops when the remaining tail is provably below machine precision
/// relative to the sum: once all Pochhammer factors have their final sign, the ratio of
/// consecutive terms tends to z, so the tail after a term tₙ is bounded by
/// |tₙ| ρ/(1 − ρ) with ρ = max(|ratio|, |z|). If that does not happen within
/// [`HYP2F1_MAX_TERMS`] terms, or the value is too large for `f64`, an error is
/// returned (see [`ln_hyp2f1`] for large values).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    let (sum, ln_scale) = series(a, b, c, z)?;
    let v = sum * ln_scale.exp();
    if v.is_finite() {
        Ok(v)
    } else {
        Err(hyp_err(a, b, c, z, "is too large for a 64-bit float (use ln_hyp2f1)".into()))
    }
}

/// ln ₂F₁(a, b; c; z) for a positive value, summed with rescaling so that values far
/// beyond the `f64` range are fine. Errors as [`hyp2f1`], and if the sum is not positive.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    let (sum, ln_scale) = series(a, b, c, z)?;
    if sum.is_nan() || sum <= 0.0 {
        return Err(hyp_err(a, b, c, z, format!("is not positive ({sum}), so it has no logarithm")));
    }
    Ok(sum.ln() + ln_scale)
}

/// Roughly how many terms of the ₂F₁ series grow before they start to shrink: the
/// positive root n* of (a+n)(b+n) z = (c+n)(n+1) (0 if none). Used to pick the cheaper
/// of two equivalent forms of the same function.
pub fn hyp2f1_growth_terms(a: f64, b: f64, c: f64, z: f64) -> f64 {
    // (z−1) n² + (z(a+b) − c − 1) n + (z a b − c) = 0
    let qa = z - 1.0;
    let qb = z * (a + b) - c - 1.0;
    let qc = z * a * b - c;
    if qa == 0.0 {
        return if qb < 0.0 { (-qc / qb).max(0.0) } else { f64::INFINITY };
    }
    let disc = qb * qb - 4.0 * qa * qc;
    if disc.is_nan() || disc < 0.0 {
        return 0.0;
    }
    let sq = disc.sqrt();
    let r1 = (-qb + sq) / (2.0 * qa);
    let r2 = (-qb - sq) / (2.0 * qa);
    let root = r1.max(r2);
    if root.is_nan() {
        f64::INFINITY
    } else {
        root.max(0.0)
    }
}

fn hyp_err(a: f64, b: f64, c: f64, z: f64, reason: String) -> AnalyticsError {
    AnalyticsError::Hypergeometric { a, b, c, z, reason }
}

/// The series as `sum · e^ln_scale`; `sum` is kept below 1e200 in magnitude by rescaling.
fn series(a: f64, b: f64, c: f64, z: f64) -> Result<(f64, f64)> {
    const BIG: f64 = 1e200;
    let err = |reason: String| hyp_err(a, b, c, z, reason);
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return Err(err("has a non-finite argument".into()));
    }
    let terminates = |p: f64| p <= 0.0 && p.fract() == 0.0;
    if terminates(c) && !((terminates(a) && a > c) || (terminates(b) && b > c)) {
        return Err(err("is undefined: c is a non-positive integer".into()));
    }
    if z.abs() >= 1.0 && !(terminates(a) || terminates(b)) {
        return Err(err("is only implemented for |z| < 1".into()));
    }
    // from this index on every Pochhammer factor (a+n), (b+n), (c+n) has its final sign
    let settle = (-a).max(-b).max(-c).max(0.0);
    let mut sum = 1.0_f64;
    let mut term = 1.0_f64;
    let mut ln_scale = 0.0_f64;
    for n in 0..HYP2F1_MAX_TERMS {
        let nf = n as f64;
        let ratio = (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        term *= ratio;
        sum += term;
        if !(sum.is_finite() && term.is_finite()) {
            return Err(err(format!("overflowed after {} terms", n + 1)));
        }
        if term == 0.0 {
            return Ok((sum, ln_scale));
        }
        if sum.abs() > BIG || term.abs() > BIG {
            sum /= BIG;
            term /= BIG;
            ln_scale += BIG.ln();
        }
        if nf + 1.0 > settle {
            let rho = ratio.abs().max(z.abs());
            if rho < 1.0 && term.abs() * rho / (1.0 - rho) <= f64::EPSILON * 0.5 * sum.abs() {
                return Ok((sum, ln_scale));
            }
        }
    }
    Err(err(format!("did not converge after {HYP2F1_MAX_TERMS} terms (partial sum {sum}·e^{ln_scale})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!(close(ln_gamma(1.0), 0.0_f64.max(1e-300), 1.0));
        assert!(ln_gamma(1.0).abs() < 1e-15);
        assert!(ln_gamma(2.0).abs() < 1e-15);
        assert!(close(ln_gamma(5.0), 24.0_f64.ln(), 1e-15));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-14));
        // B(2, 3) = 1! 2! / 4! = 1/12
        assert!(close(ln_beta(2.0, 3.0), (1.0_f64 / 12.0).ln(), 1e-14));
    }

    #[test]
    fn digamma_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(n+1) = ψ(n) + 1/n
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-14));
        assert!(close(digamma(0.5), -euler - 2.0 * 2.0_f64.ln(), 1e-14));
        assert!(close(digamma(11.0), digamma(10.0) + 0.1, 1e-14));
        // against a central difference of ln Γ
        for &x in &[0.05, 0.3, 2.5, 9.99, 10.01, 37.0, 1234.5] {
            let h = 1e-5 * x;
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), fd, 1e-7), "x = {x}: {} vs {fd}", digamma(x));
        }
        assert!(digamma(0.0).is_nan() && digamma(-1.0).is_nan());
    }

    #[test]
    fn log_add_exp_is_stable() {
        assert!(close(log_add_exp(0.0, 0.0), 2.0_f64.ln(), 1e-15));
        assert_eq!(log_add_exp(f64::NEG_INFINITY, -3.0), -3.0);
        assert_eq!(log_add_exp(-3.0, f64::NEG_INFINITY), -3.0);
        // would overflow / underflow if done naively
        assert!(close(log_add_exp(1000.0, 1000.0), 1000.0 + 2.0_f64.ln(), 1e-15));
        assert!(close(log_add_exp(-1000.0, -1001.0), -1000.0 + (1.0 + (-1.0_f64).exp()).ln(), 1e-15));
    }

    #[test]
    fn logistic_extremes() {
        assert_eq!(logistic(0.0), 0.5);
        assert!(logistic(-800.0) >= 0.0 && logistic(-800.0) < 1e-300);
        assert_eq!(logistic(800.0), 1.0);
        assert!(close(logistic(-30.0), (-30.0_f64).exp() / (1.0 + (-30.0_f64).exp()), 1e-15));
    }

    #[test]
    fn hyp2f1_log_identity() {
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z
        for &z in &[-0.9, -0.5, 0.01, 0.3, 0.5, 0.9, 0.99] {
            let want = -(1.0_f64 - z).ln() / z;
            let got = hyp2f1(1.0, 1.0, 2.0, z).unwrap();
            assert!(close(got, want, 1e-13), "z={z}: {got} vs {want}");
        }
    }

    #[test]
    fn hyp2f1_other_closed_forms() {
        // 2F1(a, b; b; z) = (1 − z)^(−a)
        let got = hyp2f1(2.5, 3.0, 3.0, 0.7).unwrap();
        assert!(close(got, 0.3_f64.powf(-2.5), 1e-13));
        // 2F1(1/2, 1/2; 3/2; z²) = arcsin(z)/z
        let zz: f64 = 0.8;
        let got = hyp2f1(0.5, 0.5, 1.5, zz * zz).unwrap();
        assert!(close(got, zz.asin() / zz, 1e-13));
        // 2F1(1/2, 1; 3/2; −z²) = arctan(z)/z
        let got = hyp2f1(0.5, 1.0, 1.5, -zz * zz).unwrap();
        assert!(close(got, zz.atan() / zz, 1e-13));
        // terminating: 2F1(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1))
        let (b, c, z) = (1.5, 2.5, 3.0);
        let want = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert!(close(hyp2f1(-2.0, b, c, z).unwrap(), want, 1e-14));
        // z = 0
        assert_eq!(hyp2f1(3.0, 4.0, 5.0, 0.0).unwrap(), 1.0);
    }

    #[test]
    fn hyp2f1_euler_transformation_agrees() {
        // 2F1(a,b;c;z) = (1−z)^(c−a−b) 2F1(c−a, c−b; c; z), with BG/NBD-like parameters
        let (a, b, c, z) = (29.24, 31.43, 31.22, 0.53);
        let direct = hyp2f1(a, b, c, z).unwrap();
        let euler = (1.0 - z).powf(c - a - b) * hyp2f1(c - a, c - b, c, z).unwrap();
        assert!(close(direct, euler, 1e-12), "{direct} vs {euler}");
    }

    #[test]
    fn ln_hyp2f1_beyond_the_f64_range() {
        // 2F1(a, b; b; z) = (1 − z)^(−a): ln = −a ln(1 − z), here ≈ 3466, far beyond f64
        let got = ln_hyp2f1(5000.0, 3.0, 3.0, 0.5).unwrap();
        assert!(close(got, 5000.0 * 2.0_f64.ln(), 1e-12), "{got}");
        assert!(hyp2f1(5000.0, 3.0, 3.0, 0.5).is_err());
        assert!(close(ln_hyp2f1(1.0, 1.0, 2.0, 0.5).unwrap(), (2.0_f64.ln() / 0.5).ln(), 1e-14));
        // negative value: no logarithm
        assert!(ln_hyp2f1(-1.0, 1.0, 1.0, 2.0).is_err());
    }

    #[test]
    fn growth_terms() {
        // ratio (1+n)/(n+1)·z < 1 from the start
        assert_eq!(hyp2f1_growth_terms(1.0, 1.0, 1.0, 0.5), 0.0);
        // (a+n)z = n+1 at n = (az − 1)/(1 − z) when b = c
        let n = hyp2f1_growth_terms(100.0, 3.0, 3.0, 0.5);
        assert!((n - 98.0).abs() < 1e-9, "{n}");
    }

    #[test]
    fn hyp2f1_errors() {
        assert!(matches!(hyp2f1(1.0, 1.0, 2.0, 1.0), Err(AnalyticsError::Hypergeometric { .. })));
        assert!(hyp2f1(1.0, 1.0, -3.0, 0.5).is_err());
        assert!(hyp2f1(f64::NAN, 1.0, 2.0, 0.5).is_err());
        // converges too slowly: z extremely close to 1
        let e = hyp2f1(1.0, 1.0, 2.0, 1.0 - 1e-9).unwrap_err();
        assert!(e.to_string().contains("did not converge"), "{e}");
    }
}
