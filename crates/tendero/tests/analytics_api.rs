//! Analytics over the REST API, on SQLite and PostgreSQL: a year of invoices, the figures
//! recomputed on demand, RFM and CLV as JSON, CSV (a header and one row per customer) and
//! XLSX, the other reports and the headline figures; who may not gets 403, and bad
//! parameters get a 422 that names them.

mod common;

use app::master::{self as m, PartyIn, PartyRole, ProductIn};
use app::sales::{self as s, DocumentIn, LineIn, TransitionIn};
use app::testkit::databases;
use app::{Actor, App};
use domain::sales::{DocKind, Transition};
use reqwest::{Method, StatusCode};
use time::Duration;

/// Twelve customers who bought every few weeks over the last year (posted invoices).
async fn a_year_of_sales(app: &App) -> Vec<String> {
    let a = Actor::system("test");
    let p = ProductIn {
        code: Some("S1".into()),
        name: Some("Servicio".into()),
        kind: Some("service".into()),
        unit: Some("u".into()),
        sale_price: Some("80.00".into()),
        ..Default::default()
    };
    let svc = m::save_product(app, &a, None, &p).await.expect("service").id;
    let today = time::OffsetDateTime::now_utc().date();
    let mut ids = Vec::new();
    for i in 0..12i64 {
        let c = m::create_party(app, &a, PartyRole::Customer, &PartyIn { name: Some(format!("Cliente {i:02}")), ..Default::default() })
            .await
            .expect("customer")
            .id;
        let mut ago = 3 + 13 * i;
        while ago < 360 {
            let input = DocumentIn {
                customer_id: Some(c.clone()),
                issue_date: Some((today - Duration::days(ago)).to_string()),
                // Amounts must vary: with every purchase the same, Gamma-Gamma is not identified.
                lines: Some(vec![LineIn {
                    product_id: Some(svc.clone()),
                    quantity: Some((1 + (ago + i) % 4).to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            };
            let doc = s::create_document(app, &a, DocKind::Invoice, &input).await.expect("invoice");
            s::transition(app, &a, DocKind::Invoice, &doc.id, Transition::Post, &TransitionIn::default()).await.expect("post");
            ago += 18 + 7 * i;
        }
        ids.push(c);
    }
    ids
}

async fn raw(s: &common::Server, path: &str) -> (StatusCode, String, String) {
    let res = s.http.get(format!("{}{path}", s.base)).bearer_auth(&s.token).send().await.expect("request");
    let status = res.status();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let bytes = res.bytes().await.expect("body");
    (status, ctype, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_analytics_answer_over_http_as_json_csv_and_xlsx() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let customers = a_year_of_sales(&s.db.app).await;

        // Before any computation the state says so.
        let (st, m) = s.get("/api/v1/analytics").await;
        assert_eq!((st, m["state"].as_str()), (StatusCode::OK, Some("not_computed")), "{label}: {m}");

        let (st, m) = s.call(Method::POST, "/api/v1/analytics/refresh", None).await;
        assert_eq!(st, StatusCode::OK, "{label}: {m}");
        assert_eq!(m["state"].as_str(), Some("ok"), "{label}: {m}");
        assert_eq!(m["customers"].as_i64(), Some(12), "{label}");
        assert!(m["computed_at"].as_str().is_some_and(|t| t.len() == 27), "{label}: {m}");
        assert!(m["bgnbd"]["r"].as_f64().is_some_and(|r| r > 0.0), "{label}: {m}");

        let (st, rfm) = s.get("/api/v1/analytics/rfm?limit=5&sort=spend").await;
        assert_eq!(st, StatusCode::OK, "{label}: {rfm}");
        assert_eq!(rfm["items"].as_array().map(Vec::len), Some(5), "{label}");
        assert_eq!(rfm["next_offset"].as_i64(), Some(5), "{label}");
        assert_eq!(rfm["grid"].as_array().map(Vec::len), Some(25), "{label}");
        let total: i64 = rfm["segments"].as_array().expect("segments").iter().filter_map(|g| g["customers"].as_i64()).sum();
        assert_eq!(total, 12, "{label}");
        let spends: Vec<f64> =
            rfm["items"].as_array().expect("items").iter().filter_map(|c| c["total_spend"].as_str()?.parse().ok()).collect();
        assert!(spends.windows(2).all(|w| w[0] >= w[1]), "{label}: sorted by spend {spends:?}");

        let (st, clv) = s.get("/api/v1/analytics/clv?sort=risk&limit=100").await;
        assert_eq!(st, StatusCode::OK, "{label}: {clv}");
        let items = clv["items"].as_array().expect("items");
        assert_eq!(items.len(), 12, "{label}");
        assert!(items.iter().all(|c| c["p_alive"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p))), "{label}");
        assert!(items.iter().all(|c| c["clv"].as_str().is_some_and(|v| v.parse::<f64>().is_ok())), "{label}: money as decimal strings");
        assert_eq!(clv["models"]["state"].as_str(), Some("ok"), "{label}");

        // CSV: a header row and one row per customer, every customer there once.
        let (st, ctype, csv) = raw(&s, "/api/v1/analytics/clv?format=csv").await;
        assert_eq!(st, StatusCode::OK, "{label}: {csv}");
        assert!(ctype.starts_with("text/csv"), "{label}: {ctype}");
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "customer_id,name,segment,frequency,recency_weeks,age_weeks,total_spend,p_alive,expected_purchases,expected_spend,clv",
            "{label}"
        );
        assert_eq!(lines.len(), 13, "{label}: {csv}");
        for c in &customers {
            assert_eq!(lines.iter().filter(|l| l.starts_with(c.as_str())).count(), 1, "{label}: {c} in {csv}");
        }
        let (st, _, rfm_csv) = raw(&s, "/api/v1/analytics/rfm?format=csv&segment=champions").await;
        assert_eq!(st, StatusCode::OK, "{label}");
        let champions = rfm["segments"].as_array().expect("segments").iter().find(|g| g["segment"] == "champions").expect("champions")
            ["customers"]
            .as_i64()
            .unwrap_or(-1);
        assert_eq!(rfm_csv.lines().count() as i64, champions + 1, "{label}: the filter applies to the file: {rfm_csv}");
        let (st, ctype, xlsx) = raw(&s, "/api/v1/analytics/rfm?format=xlsx").await;
        assert_eq!(st, StatusCode::OK, "{label}");
        assert!(ctype.contains("spreadsheetml") && xlsx.starts_with("PK"), "{label}: {ctype}");

        // The other reports answer, as JSON and as files.
        for path in [
            "/api/v1/analytics/cohorts",
            "/api/v1/analytics/conversion",
            "/api/v1/analytics/logistics",
            "/api/v1/analytics/service",
            "/api/v1/kpis",
        ] {
            let (st, v) = s.get(path).await;
            assert_eq!(st, StatusCode::OK, "{label} {path}: {v}");
            let (st, ctype, body) = raw(&s, &format!("{path}?format=csv")).await;
            assert_eq!((st, ctype.starts_with("text/csv")), (StatusCode::OK, true), "{label} {path}: {body}");
            assert!(body.lines().count() >= 2, "{label} {path}: {body}");
        }
        let (_, cohorts) = s.get("/api/v1/analytics/cohorts").await;
        let sizes: i64 = cohorts["items"].as_array().expect("cohorts").iter().filter_map(|c| c["customers"].as_i64()).sum();
        assert!(sizes > 0, "{label}: {cohorts}");
        let (_, k) = s.get("/api/v1/kpis").await;
        assert!(k["sales_this_period"].as_str().is_some() && k["receivables"].as_str().is_some(), "{label}: {k}");
        assert_eq!(k["computed_at"], m["computed_at"], "{label}");

        // Who may not: a salesperson reads none of it and recomputes nothing; marketing reads
        // the customer figures but does not recompute them.
        let seller = s.token_for("salesperson").await;
        for path in ["/api/v1/analytics/rfm", "/api/v1/analytics/clv", "/api/v1/kpis", "/api/v1/analytics/clv?format=csv"] {
            let (st, v) = s.call_as(&seller, Method::GET, path, None).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{label} {path}: {v}");
        }
        let (st, _) = s.call_as(&seller, Method::POST, "/api/v1/analytics/refresh", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let marketing = s.token_for("marketing").await;
        let (st, _) = s.call_as(&marketing, Method::GET, "/api/v1/analytics/clv", None).await;
        assert_eq!(st, StatusCode::OK, "{label}");
        let (st, _) = s.call_as(&marketing, Method::POST, "/api/v1/analytics/refresh", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");

        // Bad parameters: 422 with the fields named, nothing computed.
        for (path, field) in [
            ("/api/v1/analytics/rfm?segment=vip", "segment"),
            ("/api/v1/analytics/clv?min_p_alive=2", "min_p_alive"),
            ("/api/v1/analytics/clv?sort=price", "sort"),
            ("/api/v1/analytics/clv?limit=0", "limit"),
            ("/api/v1/analytics/rfm?format=pdf", "format"),
            ("/api/v1/kpis?format=doc", "format"),
            ("/api/v1/analytics/cohorts?from=2026-13-01", "from"),
        ] {
            let (st, v) = s.get(path).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label} {path}: {v}");
            assert!(v["error"]["fields"].get(field).is_some(), "{label} {path}: {v}");
        }
        let (st, v) = s.get("/api/v1/analytics/clv?min_p_alive=mucho").await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{label}: {v}");
        assert!(v["error"].is_object(), "{label}: {v}");
        let (_, again) = s.get("/api/v1/analytics").await;
        assert_eq!(again["computed_at"], m["computed_at"], "{label}: refused requests change nothing");
        s.db.cleanup().await;
    }
}

/// `tendero analytics rfm` on a CSV: scores and segments as JSON; a bad date is named.
#[test]
fn the_rfm_command_scores_a_transactions_file() {
    let dir = app::testkit::TempDir::new("tendero-rfm");
    let file = dir.0.join("tx.csv");
    let mut csv = String::from("customer_id,date,amount\n");
    // Customer 1 bought every week of 2025 until the end, customer 5 once in January.
    for week in 0..52 {
        csv.push_str(&format!("1,{},{}\n", time::macros::date!(2025 - 01 - 01) + Duration::weeks(week), 100 + week));
    }
    for (id, day) in [("2", "2025-06-01"), ("2", "2025-09-01"), ("3", "2025-03-01"), ("4", "2025-11-20"), ("5", "2025-01-05")] {
        csv.push_str(&format!("{id},{day},50.5\n"));
    }
    std::fs::write(&file, csv).expect("write");
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_tendero")).args(args).output().expect("run tendero");
    let path = file.to_str().expect("utf-8 path");
    let out = run(&["analytics", "rfm", "--transactions", path, "--as-of", "2025-12-31", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let customers = v["customers"].as_array().expect("customers");
    assert_eq!(customers.len(), 5);
    let of = |id: &str| customers.iter().find(|c| c["customer_id"] == id).cloned().expect("customer");
    assert_eq!((of("1")["r"].as_u64(), of("1")["f"].as_u64(), of("1")["segment"].as_str()), (Some(5), Some(5), Some("champions")));
    assert_eq!(of("1")["purchase_days"].as_u64(), Some(52));
    assert_eq!(of("5")["segment"].as_str(), Some("lost"));
    let bad = run(&["analytics", "rfm", "--transactions", path, "--as-of", "31/12/2025"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--as-of 31/12/2025 is not YYYY-MM-DD"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
