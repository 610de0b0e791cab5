//! Checks against the CDNOW reference values produced with the Python package
//! `lifetimes` 0.11.3 (see shared/data/cdnow/README.md).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Instant;

use analytics::bgnbd::{self, BgNbdParams};
use analytics::clv::{clv_report, customer_lifetime_value, ClvOptions, ClvReport};
use analytics::gamma_gamma::{self, GammaGammaParams};
use analytics::rfm::{parse_transactions_csv, rfm_scores, summary, CustomerSummary, TimeUnit, Transaction};
use analytics::AnalyticsError;
use serde_json::Value;
use time::macros::date;
use time::Date;

const CAL_END: Date = date!(1997 - 09 - 30);

fn data_dir() -> String {
    format!("{}/../../../shared/data/cdnow", env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    let path = format!("{}/{name}", data_dir());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn transactions() -> &'static Vec<Transaction> {
    static TX: OnceLock<Vec<Transaction>> = OnceLock::new();
    TX.get_or_init(|| parse_transactions_csv(&read("transactions.csv")).unwrap())
}

fn reference() -> &'static Value {
    static REF: OnceLock<Value> = OnceLock::new();
    REF.get_or_init(|| serde_json::from_str(&read("reference.json")).unwrap())
}

fn our_summary() -> &'static Vec<CustomerSummary> {
    static S: OnceLock<Vec<CustomerSummary>> = OnceLock::new();
    S.get_or_init(|| summary(transactions(), CAL_END, TimeUnit::Week).unwrap())
}

/// The full report (both fits) is computed once and shared by the tests that need it.
fn report() -> &'static (ClvReport, f64) {
    static R: OnceLock<(ClvReport, f64)> = OnceLock::new();
    R.get_or_init(|| {
        let start = Instant::now();
        let r = clv_report(transactions(), &ClvOptions::new(CAL_END)).unwrap();
        (r, start.elapsed().as_secs_f64())
    })
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64().unwrap_or_else(|| panic!("reference.json has no number at {path:?}"))
}

fn ref_bgnbd() -> BgNbdParams {
    let r = reference();
    BgNbdParams::new(
        num(r, &["bgnbd", "params", "r"]),
        num(r, &["bgnbd", "params", "alpha"]),
        num(r, &["bgnbd", "params", "a"]),
        num(r, &["bgnbd", "params", "b"]),
    )
    .unwrap()
}

fn ref_gg() -> GammaGammaParams {
    let r = reference();
    GammaGammaParams::new(
        num(r, &["gamma_gamma", "params", "p"]),
        num(r, &["gamma_gamma", "params", "q"]),
        num(r, &["gamma_gamma", "params", "v"]),
    )
    .unwrap()
}

fn ref_customers() -> &'static Vec<Value> {
    reference()["customers"].as_array().unwrap()
}

fn by_id() -> HashMap<&'static str, &'static CustomerSummary> {
    our_summary().iter().map(|c| (c.customer_id.as_str(), c)).collect()
}

#[track_caller]
fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
    assert!(err <= rel, "{what}: got {got}, want {want} (relative error {err:e} > {rel:e})");
}

#[track_caller]
fn assert_abs(got: f64, want: f64, tol: f64, what: &str) {
    let err = (got - want).abs();
    assert!(err <= tol, "{what}: got {got}, want {want} (absolute error {err:e} > {tol:e})");
}

// ---------------------------------------------------------------------------- RFM summary

#[test]
fn summary_matches_summary_csv() {
    let ours = our_summary();
    let text = read("summary.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customer_id,frequency,recency,T,monetary_value"));
    let expected: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(ours.len(), 2357);
    assert_eq!(expected.len(), ours.len());
    for (c, e) in ours.iter().zip(&expected) {
        assert_eq!(c.customer_id, e[0]);
        assert_eq!(c.frequency, e[1].parse::<u32>().unwrap(), "frequency of {}", e[0]);
        for (got, want, what) in [(c.recency, e[2], "recency"), (c.t, e[3], "T"), (c.monetary_value, e[4], "monetary_value")] {
            let want: f64 = want.parse().unwrap();
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{what} of customer {}: {got} vs {want}", e[0]);
        }
    }
    let checks = &reference()["calibration_summary_checks"];
    assert_eq!(ours.iter().filter(|c| c.frequency > 0).count(), 946);
    assert_eq!(ours.iter().map(|c| u64::from(c.frequency)).sum::<u64>(), 2457);
    assert_abs(ours.iter().map(|c| c.recency).sum(), num(checks, &["sum_recency"]), 1e-7, "sum recency");
    assert_abs(ours.iter().map(|c| c.t).sum(), num(checks, &["sum_T"]), 1e-7, "sum T");
    assert_abs(ours.iter().map(|c| c.monetary_value).sum(), num(checks, &["sum_monetary_value"]), 1e-7, "sum monetary value");
}

#[test]
fn same_day_merge_customer_61() {
    let c = by_id()["61"];
    assert_eq!(c.frequency, 4);
    assert_abs(c.monetary_value, 53.3975, 1e-9, "monetary value of 61");
}

#[test]
fn rfm_scores_on_cdnow() {
    let scores = rfm_scores(transactions(), CAL_END).unwrap();
    assert_eq!(scores.len(), 2357);
    assert!(scores.iter().all(|s| (1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m)));
    // one-purchase customers (60 %) are the worst frequency group
    assert!(scores.iter().filter(|s| s.purchase_days == 1).all(|s| s.f == 1));
    let best = scores.iter().find(|s| s.customer_id == "157").unwrap();
    assert_eq!(best.purchase_days, 30);
    assert_eq!(best.f, 5);
    let segments: BTreeSet<&str> = scores.iter().map(|s| s.segment.label()).collect();
    assert!(segments.len() >= 5, "{segments:?}");
}

// ---------------------------------------------------------------------------- BG/NBD

#[test]
fn bgnbd_log_likelihood_at_paper_params() {
    let paper = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let ll = paper.log_likelihood(our_summary()).unwrap();
    assert_abs(ll, num(reference(), &["bgnbd", "log_likelihood_at_paper_params"]), 1e-3, "LL at paper params");
    // and at the reference MLE
    let ll = ref_bgnbd().log_likelihood(our_summary()).unwrap();
    assert_abs(ll, num(reference(), &["bgnbd", "log_likelihood"]), 1e-6, "LL at lifetimes' params");
}

#[test]
fn bgnbd_per_customer_log_likelihood_terms() {
    let p = ref_bgnbd();
    let ids = by_id();
    for rc in ref_customers() {
        let id = rc["customer_id"].as_u64().unwrap().to_string();
        let c = ids[id.as_str()];
        let ll = p.individual_log_likelihood(c.frequency, c.recency, c.t).unwrap();
        assert_rel(ll, num(rc, &["bgnbd_log_likelihood"]), 1e-9, &format!("LL term of {id}"));
    }
}

#[test]
fn bgnbd_and_gamma_gamma_fits_match_lifetimes() {
    let (rep, secs) = report();
    let r = reference();
    let bg = &rep.bgnbd;
    eprintln!(
        "BG/NBD fit: r={} alpha={} a={} b={} LL={} ({} iterations, {} restarts); Gamma-Gamma fit: p={} q={} v={} LL={} ({} iterations, {} restarts); clv_report took {secs:.3} s",
        bg.params.r, bg.params.alpha, bg.params.a, bg.params.b, bg.log_likelihood, bg.iterations, bg.restarts,
        rep.gamma_gamma.params.p, rep.gamma_gamma.params.q, rep.gamma_gamma.params.v,
        rep.gamma_gamma.log_likelihood, rep.gamma_gamma.iterations, rep.gamma_gamma.restarts,
    );
    assert_eq!(bg.n_customers, 2357);
    assert_abs(bg.log_likelihood, num(r, &["bgnbd", "log_likelihood"]), 1e-3, "BG/NBD LL");
    for (got, key) in [(bg.params.r, "r"), (bg.params.alpha, "alpha"), (bg.params.a, "a"), (bg.params.b, "b")] {
        assert_rel(got, num(r, &["bgnbd", "params", key]), 1e-3, key);
    }
    let gg = &rep.gamma_gamma;
    assert_eq!(gg.n_customers, 946);
    assert_abs(gg.log_likelihood, num(r, &["gamma_gamma", "log_likelihood"]), 1e-3, "Gamma-Gamma LL");
    for (got, key) in [(gg.params.p, "p"), (gg.params.q, "q"), (gg.params.v, "v")] {
        assert_rel(got, num(r, &["gamma_gamma", "params", key]), 1e-3, key);
    }
}

#[test]
fn gamma_gamma_log_likelihood_at_reference_params() {
    let r = reference();
    let ll = ref_gg().log_likelihood(our_summary()).unwrap();
    assert_abs(ll, num(r, &["gamma_gamma", "log_likelihood"]), 1e-6, "GG LL");
    let rounded = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    assert_abs(
        rounded.log_likelihood(our_summary()).unwrap(),
        num(r, &["gamma_gamma", "log_likelihood_at_rounded_params_6.25_3.74_15.44"]),
        1e-6,
        "GG LL at rounded params",
    );
}

#[test]
fn per_customer_closed_forms_at_reference_params() {
    let (bg, gg) = (ref_bgnbd(), ref_gg());
    let ids = by_id();
    for rc in ref_customers() {
        let id = rc["customer_id"].as_u64().unwrap().to_string();
        let c = ids[id.as_str()];
        let (x, t_x, big_t, m) = (c.frequency, c.recency, c.t, c.monetary_value);
        assert_eq!(u64::from(x), rc["frequency"].as_u64().unwrap(), "x of {id}");
        let tol = 1e-6;
        assert_rel(bg.p_alive(x, t_x, big_t).unwrap(), num(rc, &["probability_alive"]), tol, &format!("P(alive) of {id}"));
        for t in [39, 52, 78] {
            assert_rel(
                bg.conditional_expected_purchases(f64::from(t), x, t_x, big_t).unwrap(),
                num(rc, &[&format!("conditional_expected_purchases_t{t}")]),
                tol,
                &format!("E[X({t})] of {id}"),
            );
        }
        assert_rel(
            gg.conditional_expected_average_profit(x, m).unwrap(),
            num(rc, &["gg_conditional_expected_average_profit"]),
            tol,
            &format!("E[M] of {id}"),
        );
        assert_rel(
            customer_lifetime_value(&bg, &gg, x, t_x, big_t, m, 12, 0.01, TimeUnit::Week).unwrap(),
            num(rc, &["clv_12m_1pct_monthly_W"]),
            tol,
            &format!("CLV of {id}"),
        );
    }
}

#[test]
fn population_expectations() {
    let bg = ref_bgnbd();
    let pop = &reference()["population"];
    for t in [1, 13, 26, 39, 52, 78] {
        assert_rel(
            bg.expected_purchases(f64::from(t)).unwrap(),
            num(pop, &["expected_purchases_up_to_t", &t.to_string()]),
            1e-9,
            &format!("E[X({t})]"),
        );
    }
    for n in 0..=5u32 {
        assert_rel(
            bg.probability_of_n_purchases(39.0, n).unwrap(),
            num(pop, &["probability_of_n_purchases_up_to_t39", &n.to_string()]),
            1e-9,
            &format!("P(X(39) = {n})"),
        );
    }
    assert_rel(
        ref_gg().population_mean_spend().unwrap(),
        num(pop, &["gg_population_mean_spend_v_p_over_q_minus_1"]),
        1e-12,
        "population mean spend",
    );
}

#[test]
fn holdout_period_check() {
    let hc = &reference()["holdout_period_check"];
    let bg = ref_bgnbd();
    let expected: f64 = our_summary().iter().map(|c| bg.conditional_expected_purchases(39.0, c.frequency, c.recency, c.t).unwrap()).sum();
    assert_rel(expected, num(hc, &["sum_conditional_expected_purchases_all_customers"]), 1e-9, "sum E[X(39)]");
    // actual: distinct purchase days 1997-10-01 ..= 1998-06-30
    let days: BTreeSet<(&str, Date)> = transactions()
        .iter()
        .filter(|t| t.date > CAL_END && t.date <= date!(1998 - 06 - 30))
        .map(|t| (t.customer_id.as_str(), t.date))
        .collect();
    assert_eq!(days.len() as u64, hc["actual_repeat_purchases_all_customers"].as_u64().unwrap());
}

#[test]
fn bgnbd_fit_on_the_two_decimal_summary() {
    // lifetimes' bundled summary is ours rounded to 2 decimals; reference.json has the fit on it
    let rounded: Vec<CustomerSummary> = our_summary()
        .iter()
        .map(|c| CustomerSummary { recency: (c.recency * 100.0).round() / 100.0, t: (c.t * 100.0).round() / 100.0, ..c.clone() })
        .collect();
    let fit = bgnbd::fit(&rounded).unwrap();
    let b = &reference()["bgnbd"]["fit_on_bundled_2dp_summary"];
    assert_abs(fit.log_likelihood, num(b, &["log_likelihood"]), 1e-3, "LL (2 dp)");
    for (got, key) in [(fit.params.r, "r"), (fit.params.alpha, "alpha"), (fit.params.a, "a"), (fit.params.b, "b")] {
        assert_rel(got, num(b, &["params", key]), 1e-3, key);
    }
}

#[test]
fn day_unit_fit_is_the_week_fit_rescaled() {
    // in days: alpha is 7 times larger, r, a, b unchanged, and LL(days) = LL(weeks) − Σx ln 7
    let days = summary(transactions(), CAL_END, TimeUnit::Day).unwrap();
    let fit = bgnbd::fit(&days).unwrap();
    let r = reference();
    let sum_x = 2457.0_f64;
    assert_abs(fit.log_likelihood, num(r, &["bgnbd", "log_likelihood"]) - sum_x * 7.0_f64.ln(), 1e-3, "LL in days");
    assert_rel(fit.params.r, num(r, &["bgnbd", "params", "r"]), 1e-3, "r (days)");
    assert_rel(fit.params.alpha, 7.0 * num(r, &["bgnbd", "params", "alpha"]), 1e-3, "alpha (days)");
    assert_rel(fit.params.a, num(r, &["bgnbd", "params", "a"]), 1e-3, "a (days)");
    assert_rel(fit.params.b, num(r, &["bgnbd", "params", "b"]), 1e-3, "b (days)");
}

// ---------------------------------------------------------------------------- report

#[test]
fn clv_report_values_and_json_shape() {
    let (rep, _) = report();
    assert_eq!(rep.customers.len(), 2357);
    // at the fitted (not the reference) parameters the values agree to about the
    // precision of the fit
    let lines: HashMap<&str, _> = rep.customers.iter().map(|c| (c.customer_id.as_str(), c)).collect();
    for rc in ref_customers() {
        let id = rc["customer_id"].as_u64().unwrap().to_string();
        let l = lines[id.as_str()];
        assert_rel(l.p_alive, num(rc, &["probability_alive"]), 1e-4, &format!("P(alive) of {id}"));
        assert_rel(l.expected_purchases, num(rc, &["conditional_expected_purchases_t39"]), 1e-4, &format!("E[X] of {id}"));
        assert_rel(l.expected_spend, num(rc, &["gg_conditional_expected_average_profit"]), 1e-4, &format!("E[M] of {id}"));
        assert_rel(l.clv, num(rc, &["clv_12m_1pct_monthly_W"]), 1e-4, &format!("CLV of {id}"));
    }
    let json = serde_json::to_value(rep).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    let set = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(keys(&json), set(&["bgnbd", "gamma_gamma", "customers"]));
    assert_eq!(keys(&json["bgnbd"]), set(&["r", "alpha", "a", "b", "log_likelihood"]));
    assert_eq!(keys(&json["gamma_gamma"]), set(&["p", "q", "v", "log_likelihood"]));
    assert_eq!(
        keys(&json["customers"][0]),
        set(&["customer_id", "frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases", "expected_spend", "clv"])
    );
    assert_eq!(json["customers"][0]["customer_id"], "1");
    assert!(rep.customers.iter().all(|c| c.clv.is_finite() && c.clv >= 0.0 && (0.0..=1.0).contains(&c.p_alive)));
}

// ---------------------------------------------------------------------------- errors

#[test]
fn csv_error_names_the_data_row() {
    let text = read("transactions.csv");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[12] = "5,1997-01-40,10.00".into(); // data row 12
    let e = parse_transactions_csv(&lines.join("\n")).unwrap_err();
    assert_eq!(e.to_string(), "row 12: date `1997-01-40` is not a valid ISO date (YYYY-MM-DD)");
    lines[12] = "5,1997-01-04,-10.00".into();
    let e = parse_transactions_csv(&lines.join("\r\n")).unwrap_err();
    assert_eq!(e, AnalyticsError::Row { row: 12, message: "amount is negative (-10.00)".into() });
}

#[test]
fn too_few_customers_for_the_report() {
    let few: Vec<Transaction> = transactions().iter().filter(|t| t.customer_id.len() == 1).cloned().collect();
    // customers 1..9; only a few of them have repeat purchases
    let e = clv_report(&few[..2], &ClvOptions::new(CAL_END)).unwrap_err();
    assert!(matches!(e, AnalyticsError::TooFewCustomers { .. }), "{e}");
    assert!(e.to_string().contains("need at least"), "{e}");
    let gg = gamma_gamma::fit(&our_summary()[..3]).unwrap_err();
    assert!(matches!(gg, AnalyticsError::TooFewCustomers { .. }), "{gg}");
    let bg = bgnbd::fit(&our_summary()[..3]).unwrap_err();
    assert_eq!(bg.to_string(), "too few customers to fit BG/NBD (need at least 4, got 3)");
}

#[test]
fn bfgs_fits_agree_with_nelder_mead_and_take_few_iterations() {
    // `fit` (BFGS with the closed-form gradient) against the Nelder–Mead reference
    // method (`fit_with_options`) on the same data
    let cs = our_summary();
    let quasi_newton = bgnbd::fit(cs).unwrap();
    let simplex = bgnbd::fit_with_options(cs, &bgnbd::default_fit_options()).unwrap();
    assert_abs(quasi_newton.log_likelihood, simplex.log_likelihood, 1e-6, "BG/NBD log-likelihood");
    let (q, n) = (quasi_newton.params, simplex.params);
    for (x, y, what) in [(q.r, n.r, "r"), (q.alpha, n.alpha, "alpha"), (q.a, n.a, "a"), (q.b, n.b, "b")] {
        assert_rel(x, y, 1e-5, what);
    }
    assert!(quasi_newton.iterations < 100 && quasi_newton.restarts == 0, "{quasi_newton:?}");
    let quasi_newton = gamma_gamma::fit(cs).unwrap();
    let simplex = gamma_gamma::fit_with_options(cs, &gamma_gamma::default_fit_options()).unwrap();
    assert_abs(quasi_newton.log_likelihood, simplex.log_likelihood, 1e-6, "Gamma-Gamma log-likelihood");
    let (q, n) = (quasi_newton.params, simplex.params);
    for (x, y, what) in [(q.p, n.p, "p"), (q.q, n.q, "q"), (q.v, n.v, "v")] {
        assert_rel(x, y, 1e-4, what);
    }
    assert!(quasi_newton.iterations < 100 && quasi_newton.restarts == 0, "{quasi_newton:?}");
}
