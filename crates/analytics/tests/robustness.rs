//! Odd and random inputs: every call returns a finite result or an error, never a panic.

#![allow(clippy::unwrap_used)]

use analytics::clv::{clv_report, ClvOptions};
use analytics::rfm::{rfm_scores, summary, TimeUnit, Transaction};
use analytics::{AnalyticsError, BgNbdParams, GammaGammaParams};
use time::macros::date;
use time::{Date, Duration};

/// Small deterministic generator (64-bit LCG), so the test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_transactions(rng: &mut Lcg, start: Date) -> Vec<Transaction> {
    let customers = 1 + rng.below(80);
    // a third of the data sets are degenerate on purpose: every row's amount drawn
    // independently (no spend heterogeneity) and nobody dropping out
    let degenerate = rng.below(3) == 0;
    let mut out = Vec::new();
    for c in 0..customers {
        let first = rng.below(90) as i64;
        let active = if degenerate { 400 } else { 1 + rng.below(400) };
        let max_rows = if rng.below(3) == 0 { 30 } else { 4 };
        let rows = 1 + rng.below(max_rows);
        let scale = if degenerate { [0.0, 1.0, 1e6][rng.below(3) as usize] } else { (1 + rng.below(50)) as f64 };
        for _ in 0..rows {
            let spread = if degenerate { 1000 } else { 100 };
            out.push(Transaction {
                customer_id: format!("c{c}"),
                date: start + Duration::days(first + rng.below(active) as i64),
                amount: scale * (950 + rng.below(spread)) as f64 / 100.0,
            });
        }
    }
    out
}

#[test]
fn random_data_gives_finite_results_or_errors() {
    let mut rng = Lcg(42);
    let start = date!(2023 - 01 - 01);
    let (mut ok, mut errors) = (0, 0);
    for round in 0..12 {
        let tx = random_transactions(&mut rng, start);
        let mut opts = ClvOptions::new(date!(2023 - 09 - 30));
        if round % 3 == 0 {
            opts.time_unit = TimeUnit::Day;
            opts.horizon = 90.0;
        }
        assert!(summary(&tx, opts.calibration_end, opts.time_unit).is_ok());
        assert!(rfm_scores(&tx, opts.calibration_end).is_ok());
        match clv_report(&tx, &opts) {
            Ok(r) => {
                ok += 1;
                for c in &r.customers {
                    for v in [c.p_alive, c.expected_purchases, c.expected_spend, c.clv] {
                        assert!(v.is_finite(), "{c:?}");
                    }
                    assert!((0.0..=1.0).contains(&c.p_alive));
                }
            }
            Err(e) => {
                errors += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    eprintln!("random data: {ok} reports, {errors} errors");
    assert!(ok > 0, "no random data set could be fitted");
}

#[test]
fn extreme_parameters_and_histories() {
    let bg = BgNbdParams::new(1e-8, 1e8, 1e-8, 1e8).unwrap();
    for (x, t_x, big_t) in [(0, 0.0, 0.0), (1, 0.0, 1e6), (1000, 1e6, 1e6), (5, 1.0, 1e9)] {
        for r in
            [bg.individual_log_likelihood(x, t_x, big_t), bg.p_alive(x, t_x, big_t), bg.conditional_expected_purchases(39.0, x, t_x, big_t)]
        {
            let v = r.unwrap();
            assert!(v.is_finite(), "{x} {t_x} {big_t}: {v}");
        }
    }
    // a long history is no problem for the Euler-transformed series
    let p = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let e = p.conditional_expected_purchases(52.0, 5000, 38.0, 39.0).unwrap();
    assert!(e.is_finite() && e > 0.0);
    // huge a and b (drop-out probability without heterogeneity): the Euler form would
    // need ~10⁶ terms, the direct series is used instead
    let q = BgNbdParams::new(0.33, 1.08, 1.7e6, 2.2e7).unwrap();
    for x in [0, 1, 20, 300] {
        let e = q.conditional_expected_purchases(39.0, x, 30.0, 35.0).unwrap();
        assert!(e.is_finite() && e > 0.0, "x={x}: {e}");
    }
    assert!(q.expected_purchases(39.0).unwrap() > 0.0);
    // horizons far beyond the data: an error or a finite number
    match p.conditional_expected_purchases(1e12, 3, 10.0, 20.0) {
        Ok(v) => assert!(v.is_finite()),
        Err(e) => assert!(matches!(e, AnalyticsError::Hypergeometric { .. }), "{e}"),
    }
    let gg = GammaGammaParams::new(1e-3, 1.0 + 1e-12, 1e9).unwrap();
    if let Ok(v) = gg.conditional_expected_average_profit(3, 10.0) {
        assert!(v.is_finite());
    }
}
