//! `tendero bench analytics`: the customer-analytics workload of issue 6. Generates N
//! customers (1,000,000 by default) buying by a BG/NBD process (seeded), with amounts from
//! the Gamma-Gamma model, then times the steps the server's job runs: the RFM summary, the
//! BG/NBD fit, the Gamma-Gamma fit and the per-customer scoring (P(alive), expected
//! purchases, expected spend, CLV over 12 months); and the RFM scores. Peak memory is the
//! process's high-water mark (VmHWM), with the resident size after generating the data.

use analytics::clv::{customer_values, ClvOptions};
use analytics::rfm::{rfm_scores, summary, TimeUnit, Transaction};
use analytics::{bgnbd, gamma_gamma};
use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::time::Instant;

pub struct Opts {
    pub customers: usize,
    pub seed: u64,
}

/// The generating parameters (per week): λ ~ Gamma(0.6, rate 8.0) (mean 0.075 purchases a
/// week while alive), so that a customer makes about 3.5 purchases (3.53 simulated, the
/// first included) over the up to 78 weeks, as issue 6 assumes: ≈ 3.5 million
/// transactions for 1,000,000 customers. (α was 4.4 before: 4.8 purchases a customer.)
const R: f64 = 0.6;
const ALPHA: f64 = 8.0;
const A: f64 = 0.8;
const B: f64 = 4.0;
const P: f64 = 6.25;
const Q: f64 = 3.74;
const V: f64 = 15.44;
const WEEKS: f64 = 78.0;

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller
    let (u1, u2): (f64, f64) = (rng.gen::<f64>().max(f64::MIN_POSITIVE), rng.gen());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gamma(shape, scale) by Marsaglia and Tsang (shape < 1 boosted by U^(1/shape)).
fn gamma(rng: &mut StdRng, shape: f64, scale: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0, scale) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.gen();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v * scale;
        }
    }
}

fn beta(rng: &mut StdRng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a, 1.0);
    let y = gamma(rng, b, 1.0);
    x / (x + y)
}

/// Transactions of `n` customers: the first purchase in the first 26 weeks, then
/// purchases at rate λ ~ Gamma(r, 1/α) until the customer drops out (with probability
/// p ~ Beta(a, b) after each purchase) or the 78 weeks end. Amounts ~ Gamma(p, 1/ν),
/// ν ~ Gamma(q, 1/γ) per customer.
fn generate(n: usize, seed: u64, start: time::Date) -> Vec<Transaction> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tx = Vec::with_capacity(n * 4);
    for i in 0..n {
        let lambda = gamma(&mut rng, R, 1.0 / ALPHA);
        let p = beta(&mut rng, A, B);
        let nu = gamma(&mut rng, Q, 1.0 / V);
        let id = i.to_string();
        let mut t = rng.gen::<f64>() * 26.0;
        loop {
            let amount = (gamma(&mut rng, P, 1.0 / nu) * 100.0).round() / 100.0;
            let day = start + time::Duration::days((t * 7.0) as i64);
            tx.push(Transaction { customer_id: id.clone(), date: day, amount });
            if rng.gen::<f64>() < p {
                break;
            }
            let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
            t += -u.ln() / lambda.max(1e-12);
            if t >= WEEKS {
                break;
            }
        }
    }
    tx
}

/// VmRSS or VmHWM of this process, in MB.
fn memory(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

pub fn run(opts: Opts) -> Result<serde_json::Value> {
    let err = |e: analytics::AnalyticsError| anyhow::anyhow!("{e}");
    let start = time::macros::date!(2024 - 01 - 01);
    let end = start + time::Duration::days((WEEKS * 7.0) as i64);
    let t0 = Instant::now();
    let tx = generate(opts.customers, opts.seed, start);
    let generated = t0.elapsed();
    let rss_data = memory("VmRSS:");

    let t = Instant::now();
    let customers = summary(&tx, end, TimeUnit::Week).map_err(err)?;
    let summary_time = t.elapsed();
    // A fit that does not converge is a figure too: its time and message are reported.
    let t = Instant::now();
    let bg = bgnbd::fit(&customers);
    let bg_time = t.elapsed();
    let t = Instant::now();
    let gg = gamma_gamma::fit(&customers);
    let gg_time = t.elapsed();
    let t = Instant::now();
    let opts_clv = ClvOptions { horizon: 52.0, ..ClvOptions::new(end) };
    let values = match (&bg, &gg) {
        (Ok(bg), Ok(gg)) => customer_values(&bg.params, &gg.params, &customers, &opts_clv).map_err(err)?,
        _ => Vec::new(),
    };
    let scoring_time = t.elapsed();
    let pipeline = summary_time + bg_time + gg_time + scoring_time;
    // the peak up to here is the pipeline's; the RFM scores below may raise it
    let peak_pipeline = memory("VmHWM:");
    let t = Instant::now();
    let scores = rfm_scores(&tx, end).map_err(err)?;
    let rfm_time = t.elapsed();
    let repeat = customers.iter().filter(|c| c.frequency > 0).count();
    let mean_clv = values.iter().map(|v| v.clv).sum::<f64>() / values.len().max(1) as f64;
    let bg_json = match &bg {
        Ok(f) => {
            json!({"r": f.params.r, "alpha": f.params.alpha, "a": f.params.a, "b": f.params.b, "log_likelihood": f.log_likelihood, "iterations": f.iterations})
        }
        Err(e) => json!({"error": e.to_string()}),
    };
    let gg_json = match &gg {
        Ok(f) => json!({"p": f.params.p, "q": f.params.q, "v": f.params.v, "log_likelihood": f.log_likelihood, "iterations": f.iterations}),
        Err(e) => json!({"error": e.to_string()}),
    };
    Ok(json!({
        "customers": customers.len(),
        "transactions": tx.len(),
        "repeat_customers": repeat,
        "generated_ms": ms(generated),
        "rfm_summary_ms": ms(summary_time),
        "bgnbd_fit_ms": ms(bg_time),
        "gamma_gamma_fit_ms": ms(gg_time),
        "scoring_ms": ms(scoring_time),
        "pipeline_ms": ms(pipeline),
        "rfm_scores_ms": ms(rfm_time),
        "rss_after_data_mb": rss_data,
        "peak_pipeline_mb": peak_pipeline,
        "peak_mb": memory("VmHWM:"),
        "generating": {"r": R, "alpha": ALPHA, "a": A, "b": B, "p": P, "q": Q, "v": V},
        "bgnbd": bg_json,
        "gamma_gamma": gg_json,
        "scored": values.len(),
        "rfm_scored": scores.len(),
        "mean_clv": (mean_clv * 100.0).round() / 100.0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_gives_about_three_and_a_half_purchases_per_customer() {
        let n = 20_000;
        let tx = generate(n, 7, time::macros::date!(2024 - 01 - 01));
        let mean = tx.len() as f64 / n as f64;
        assert!((3.3..=3.75).contains(&mean), "{mean} purchases per customer");
    }
}
