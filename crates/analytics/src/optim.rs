//! Derivative-free minimisation: Nelder–Mead with restarts. Shared by the BG/NBD and
//! Gamma-Gamma fits.
//!
//! Why our own optimiser and not a crate: the two fits only need an unconstrained
//! minimiser in 3–4 dimensions (log-parameters), and Nelder–Mead is ~100 lines with no
//! dependencies, whereas `argmin` & co. pull in a large dependency tree for a 2-core
//! build machine. The CDNOW reference notes that a *tightly converged* Nelder–Mead on
//! the same likelihood reproduces the lifetimes (BFGS) estimates to within 1e-6
//! relative, so no gradient is required; restarting from the best point with a fresh
//! simplex guards against Nelder–Mead's known false convergence (a collapsed simplex).

use crate::error::{AnalyticsError, Result};

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NelderMeadOptions {
    /// Edge length of the initial simplex along each coordinate (also used for restarts).
    pub initial_step: f64,
    /// A run has converged when the objective values at the simplex vertices differ by
    /// at most this much (absolute)…
    pub f_tol: f64,
    /// …and every vertex is within this distance (max-norm) of the best vertex.
    pub x_tol: f64,
    /// Maximum number of iterations of one run.
    pub max_iterations: usize,
    /// Maximum number of restarts after the first run. A restart from the best point
    /// with a fresh simplex is done after every converged run; the search has converged
    /// when a restart converges without improving the objective by more than `f_tol`.
    /// The search gives up early when two runs in a row hit `max_iterations`.
    pub max_restarts: usize,
}

impl Default for NelderMeadOptions {
    fn default() -> Self {
        Self { initial_step: 0.5, f_tol: 1e-10, x_tol: 1e-7, max_iterations: 5_000, max_restarts: 5 }
    }
}

/// Outcome of [`minimize`].
#[derive(Debug, Clone, PartialEq)]
pub struct NelderMeadResult {
    /// Best point found.
    pub x: Vec<f64>,
    /// Objective value at `x`.
    pub f: f64,
    /// Total number of iterations over all runs.
    pub iterations: usize,
    /// Total number of objective evaluations.
    pub evaluations: usize,
    /// Number of restarts done.
    pub restarts: usize,
    /// Whether the convergence criteria were met (see [`NelderMeadOptions`]).
    pub converged: bool,
}

/// Minimise `f` from `x0` with Nelder–Mead (reflection 1, expansion 2, contraction ½,
/// shrink ½) and restarts.
///
/// Non-finite objective values (NaN, ±∞) are treated as +∞, i.e. as infeasible points.
/// Errors only if `x0` is empty or not finite, the options are unusable, or `f(x0)` is
/// not finite. Failure to converge is *not* an error here: check `converged`, so that
/// the caller can report the best point in its own terms.
pub fn minimize<F>(mut f: F, x0: &[f64], opts: &NelderMeadOptions) -> Result<NelderMeadResult>
where
    F: FnMut(&[f64]) -> f64,
{
    if x0.is_empty() {
        return Err(AnalyticsError::InvalidInput("Nelder-Mead needs at least one variable".into()));
    }
    if x0.iter().any(|v| !v.is_finite()) {
        return Err(AnalyticsError::InvalidInput(format!("Nelder-Mead starting point is not finite: {x0:?}")));
    }
    let step_ok = opts.initial_step.is_finite() && opts.initial_step > 0.0;
    let tol_ok = |t: f64| !t.is_nan() && t >= 0.0;
    if !step_ok || !tol_ok(opts.f_tol) || !tol_ok(opts.x_tol) {
        return Err(AnalyticsError::InvalidInput(format!("unusable Nelder-Mead options: {opts:?}")));
    }
    let mut evaluations = 0usize;
    let mut eval = |x: &[f64]| {
        evaluations += 1;
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let f0 = eval(x0);
    if !f0.is_finite() {
        return Err(AnalyticsError::Numerical(format!("objective is not finite at the starting point {x0:?}")));
    }

    let first = run(&mut eval, x0, f0, opts);
    let mut iterations = first.iterations;
    let (mut best_x, mut best_f, mut converged) = (first.x, first.f, first.converged);
    let mut restarts = 0usize;
    let mut confirmed = false;
    while restarts < opts.max_restarts {
        restarts += 1;
        let again = run(&mut eval, &best_x, best_f, opts);
        iterations += again.iterations;
        let improvement = best_f - again.f;
        let previous_converged = converged;
        if again.f < best_f {
            best_x = again.x;
            best_f = again.f;
        }
        converged = again.converged;
        if previous_converged && again.converged && improvement <= opts.f_tol {
            confirmed = true;
            break;
        }
        if !previous_converged && !again.converged {
            // two runs in a row used up their iterations: the search is diverging
            // (typically a parameter running off to 0 or infinity), stop early
            break;
        }
    }
    Ok(NelderMeadResult {
        x: best_x,
        f: best_f,
        iterations,
        evaluations,
        restarts,
        converged: confirmed || (opts.max_restarts == 0 && converged),
    })
}

struct RunResult {
    x: Vec<f64>,
    f: f64,
    iterations: usize,
    converged: bool,
}

/// One Nelder–Mead run from a fresh simplex around `x0` (whose value `f0` is known).
fn run<E>(eval: &mut E, x0: &[f64], f0: f64, opts: &NelderMeadOptions) -> RunResult
where
    E: FnMut(&[f64]) -> f64,
{
    const REFLECT: f64 = 1.0;
    const EXPAND: f64 = 2.0;
    const CONTRACT: f64 = 0.5;
    const SHRINK: f64 = 0.5;

    let n = x0.len();
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    let mut vals: Vec<f64> = Vec::with_capacity(n + 1);
    pts.push(x0.to_vec());
    vals.push(f0);
    for i in 0..n {
        let mut p = x0.to_vec();
        p[i] += opts.initial_step;
        vals.push(eval(&p));
        pts.push(p);
    }

    let mut order: Vec<usize> = (0..=n).collect();
    let mut centroid = vec![0.0; n];
    let mut iterations = 0usize;
    let mut converged = false;
    loop {
        order.sort_by(|&i, &j| vals[i].total_cmp(&vals[j]));
        let (ib, iw, isw) = (order[0], order[n], order[n - 1]);
        let f_spread = vals[iw] - vals[ib];
        let x_spread = pts.iter().flat_map(|p| p.iter().zip(&pts[ib]).map(|(a, b)| (a - b).abs())).fold(0.0_f64, f64::max);
        if f_spread <= opts.f_tol && x_spread <= opts.x_tol {
            converged = true;
            break;
        }
        if iterations >= opts.max_iterations {
            break;
        }
        iterations += 1;

        centroid.iter_mut().for_each(|c| *c = 0.0);
        for &k in &order[..n] {
            for (c, v) in centroid.iter_mut().zip(&pts[k]) {
                *c += v / n as f64;
            }
        }
        let along = |t: f64, from: &[f64]| -> Vec<f64> {
            // centroid + t (centroid − from)
            centroid.iter().zip(from).map(|(c, w)| c + t * (c - w)).collect()
        };
        let worst = pts[iw].clone();
        let xr = along(REFLECT, &worst);
        let fr = eval(&xr);
        if fr < vals[ib] {
            let xe = along(EXPAND, &worst);
            let fe = eval(&xe);
            if fe < fr {
                pts[iw] = xe;
                vals[iw] = fe;
            } else {
                pts[iw] = xr;
                vals[iw] = fr;
            }
            continue;
        }
        if fr < vals[isw] {
            pts[iw] = xr;
            vals[iw] = fr;
            continue;
        }
        // contraction: outside if the reflected point beats the worst, else inside
        let (xc, fc, accept) = if fr < vals[iw] {
            let xc = along(REFLECT * CONTRACT, &worst);
            let fc = eval(&xc);
            (xc, fc, fc <= fr)
        } else {
            let xc = along(-CONTRACT, &worst);
            let fc = eval(&xc);
            (xc, fc, fc < vals[iw])
        };
        if accept {
            pts[iw] = xc;
            vals[iw] = fc;
            continue;
        }
        // shrink towards the best vertex
        let best = pts[ib].clone();
        for k in 0..=n {
            if k == ib {
                continue;
            }
            for (p, b) in pts[k].iter_mut().zip(&best) {
                *p = b + SHRINK * (*p - b);
            }
            vals[k] = eval(&pts[k]);
        }
    }
    order.sort_by(|&i, &j| vals[i].total_cmp(&vals[j]));
    let ib = order[0];
    RunResult { x: pts[ib].clone(), f: vals[ib], iterations, converged }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_bowl() {
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2) + 0.5 * x[2] * x[2];
        let r = minimize(f, &[0.0, 0.0, 0.0], &NelderMeadOptions::default()).unwrap();
        assert!(r.converged, "{r:?}");
        assert!((r.x[0] - 3.0).abs() < 1e-6, "{r:?}");
        assert!((r.x[1] + 1.0).abs() < 1e-6, "{r:?}");
        assert!(r.x[2].abs() < 1e-6, "{r:?}");
        assert!(r.f < 1e-11);
    }

    #[test]
    fn rosenbrock() {
        let f = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let r = minimize(f, &[-1.2, 1.0], &NelderMeadOptions::default()).unwrap();
        assert!(r.converged, "{r:?}");
        assert!((r.x[0] - 1.0).abs() < 1e-5, "{r:?}");
        assert!((r.x[1] - 1.0).abs() < 1e-5, "{r:?}");
    }

    #[test]
    fn one_dimension_and_infeasible_region() {
        // +inf (and NaN) outside x > 0: treated as infeasible
        let f = |x: &[f64]| {
            if x[0] <= 0.0 {
                f64::NAN
            } else {
                x[0] - 2.0 * x[0].ln()
            }
        };
        let r = minimize(f, &[5.0], &NelderMeadOptions::default()).unwrap();
        assert!(r.converged);
        assert!((r.x[0] - 2.0).abs() < 1e-6, "{r:?}");
    }

    #[test]
    fn reports_non_convergence() {
        // unbounded below: never converges
        let f = |x: &[f64]| -x[0];
        let opts = NelderMeadOptions { max_iterations: 50, max_restarts: 2, ..NelderMeadOptions::default() };
        let r = minimize(f, &[0.0], &opts).unwrap();
        assert!(!r.converged);
        assert!(r.iterations <= 150);
    }

    #[test]
    fn bad_inputs() {
        let f = |x: &[f64]| x[0];
        let o = NelderMeadOptions::default();
        assert!(minimize(f, &[], &o).is_err());
        assert!(minimize(f, &[f64::NAN], &o).is_err());
        assert!(minimize(|_: &[f64]| f64::INFINITY, &[1.0], &o).is_err());
        let bad = NelderMeadOptions { initial_step: 0.0, ..o };
        assert!(minimize(f, &[1.0], &bad).is_err());
    }
}
