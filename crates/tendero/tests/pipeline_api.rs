//! The sales pipeline over the REST API, on SQLite and PostgreSQL: a lead from a fair is
//! converted into a customer and an opportunity, which moves through the stages (each
//! asking for what it needs), gets a quote and is won; another is lost with a reason; the
//! conversion rates count them.

mod common;

use app::testkit::databases;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_lead_becomes_a_customer_and_an_opportunity_that_is_won() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let marketing = s.token_for("marketing").await;
        let (st, lead) = s
            .call_as(
                &marketing,
                Method::POST,
                "/api/v1/leads",
                Some(json!({"name": "Laura Díaz", "company": "Vivero Los Aromos", "email": "laura@aromos.com.ar", "source": "fair"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {lead}");
        assert_eq!(lead["status"], "new");
        let lid = id(&lead);
        let (_, found) = s.get("/api/v1/leads?q=aromos").await;
        assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{label}: found by company: {found}");
        let (st, err) = s.patch(&format!("/api/v1/leads/{lid}"), json!({"status": "disqualified"})).await;
        assert_eq!(
            (st, err["error"]["fields"]["disqualified_reason"].is_string()),
            (StatusCode::UNPROCESSABLE_ENTITY, true),
            "{label}: {err}"
        );
        let (st, err) = s.post("/api/v1/leads", json!({"name": "X", "source": "telepathy", "email": "no-es-correo"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {err}");
        assert!(err["error"]["fields"]["source"].is_string() && err["error"]["fields"]["email"].is_string(), "{label}: {err}");

        let front = s.token_for("front_office").await;
        let (st, _) = s.call_as(&front, Method::POST, &format!("/api/v1/leads/{lid}/convert"), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: the front office takes leads, a salesperson converts them");
        let (st, conv) = s.post(&format!("/api/v1/leads/{lid}/convert"), json!({"opportunity_name": "Riego por goteo"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {conv}");
        assert_eq!(
            (conv["lead"]["status"].as_str(), conv["customer"]["name"].as_str()),
            (Some("converted"), Some("Vivero Los Aromos")),
            "{label}"
        );
        assert_eq!(
            (conv["opportunity"]["stage"].as_str(), conv["opportunity"]["status"].as_str(), conv["opportunity"]["probability"].as_i64()),
            (Some("qualification"), Some("open"), Some(10)),
            "{label}: {conv}"
        );
        assert_eq!(conv["opportunity"]["source"], "fair", "{label}: the source follows the lead");
        let customer = conv["customer"]["id"].as_str().unwrap_or_default().to_string();
        let (_, contacts) = s.get(&format!("/api/v1/contacts?party_id={customer}")).await;
        assert_eq!(contacts["items"][0]["name"], "Laura Díaz", "{label}: the person is the customer's contact");
        let (st, again) = s.call(Method::POST, &format!("/api/v1/leads/{lid}/convert"), None).await;
        assert_eq!((st, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: converted once");

        let oid = conv["opportunity"]["id"].as_str().unwrap_or_default().to_string();
        let opp = |body: Value| {
            let s = &s;
            let path = format!("/api/v1/opportunities/{oid}");
            async move { s.patch(&path, body).await }
        };
        let (st, err) = opp(json!({"stage": "proposal"})).await;
        assert_eq!((st, err["error"]["fields"]["expected_value"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {err}");
        let (st, moved) = opp(json!({"stage": "proposal", "expected_value": "250000.50"})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {moved}");
        assert_eq!(
            (moved["stage"].as_str(), moved["probability"].as_i64(), moved["expected_value"].as_str()),
            (Some("proposal"), Some(50), Some("250000.50"))
        );
        let (st, err) = opp(json!({"stage": "negotiation"})).await;
        assert_eq!((st, err["error"]["fields"]["expected_close"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {err}");
        let (st, _) = opp(json!({"stage": "negotiation", "expected_close": "2026-12-20"})).await;
        assert_eq!(st, StatusCode::OK, "{label}");

        let (st, quote) = s
            .post(
                &format!("/api/v1/opportunities/{oid}/quote"),
                json!({"lines": [{"description": "Equipo de riego", "quantity": "1", "unit_price": "250000.50"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {quote}");
        assert_eq!(
            (quote["kind"].as_str(), quote["status"].as_str(), quote["customer_id"].as_str()),
            (Some("quote"), Some("draft"), Some(customer.as_str())),
            "{label}"
        );
        let (_, won) = opp(json!({"stage": "won"})).await;
        assert_eq!(
            (won["status"].as_str(), won["probability"].as_i64(), won["closed_at"].is_string(), won["quote_id"].as_str()),
            (Some("won"), Some(100), true, quote["id"].as_str()),
            "{label}: {won}"
        );

        // Another, without a customer, is lost: the reason is required.
        let (st, other) = s.post("/api/v1/opportunities", json!({"name": "Cortadora de césped", "source": "web"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {other}");
        let path = format!("/api/v1/opportunities/{}", id(&other));
        let (st, err) = s.patch(&path, json!({"stage": "lost"})).await;
        assert_eq!((st, err["error"]["fields"]["lost_reason"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {err}");
        let (st, lost) = s.patch(&path, json!({"stage": "lost", "lost_reason": "Precio"})).await;
        assert_eq!((st, lost["status"].as_str(), lost["lost_reason"].as_str()), (StatusCode::OK, Some("lost"), Some("Precio")), "{label}");
        let (st, err) = s.post(&format!("{path}/quote"), json!({})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: no customer, no quote: {err}");
        let (st, err) = s.patch(&path, json!({"stage": "nowhere"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {err}");

        let (st, rates) = s.get("/api/v1/stats/pipeline").await;
        assert_eq!(st, StatusCode::OK, "{label}: {rates}");
        let stage =
            |code: &str| rates["stages"].as_array().and_then(|a| a.iter().find(|r| r["stage"] == code).cloned()).unwrap_or_default();
        assert_eq!(
            (stage("qualification")["entered"].as_i64(), stage("qualification")["win_percent"].as_str()),
            (Some(2), Some("50.00")),
            "{label}: {rates}"
        );
        assert_eq!(
            (stage("proposal")["entered"].as_i64(), stage("proposal")["win_percent"].as_str()),
            (Some(1), Some("100.00")),
            "{label}"
        );
        let source =
            |code: &str| rates["sources"].as_array().and_then(|a| a.iter().find(|r| r["key"] == code).cloned()).unwrap_or_default();
        assert_eq!((source("fair")["won"].as_i64(), source("fair")["won_value"].as_str()), (Some(1), Some("250000.50")), "{label}");
        assert_eq!((source("web")["lost"].as_i64(), source("web")["win_percent"].as_str()), (Some(1), Some("0.00")), "{label}");
        assert_eq!(rates["leads"], json!([{"source": "fair", "leads": 1, "converted": 1, "conversion_percent": "100.00"}]), "{label}");
        let (_, open) = s.get("/api/v1/opportunities?status=open").await;
        assert_eq!(open["items"], json!([]), "{label}");
        let (_, won_list) = s.get(&format!("/api/v1/opportunities?customer_id={customer}")).await;
        assert_eq!(won_list["items"].as_array().map(Vec::len), Some(1), "{label}");

        let warehouse = s.token_for("warehouse").await;
        let (st, _) = s.call_as(&warehouse, Method::GET, "/api/v1/leads", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        s.db.cleanup().await;
    }
}
