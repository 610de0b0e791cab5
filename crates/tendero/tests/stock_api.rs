//! Transfers, stock counts and the valuation over the REST API, on SQLite and
//! PostgreSQL: the warehouse role moves and counts goods, a salesperson only reads, and
//! bad input gets a 422 naming its field (never a 500).

mod common;

use app::testkit::databases;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_warehouse_transfers_and_counts_through_the_api() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let (st, p) = s
            .post("/api/v1/products", json!({"code": "CAJA", "name": "Caja de cartón", "kind": "goods", "unit": "u", "cost": "250.40"}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {p}");
        let caja = id(&p);
        let (_, whs) = s.get("/api/v1/warehouses").await;
        let central = whs["items"].as_array().and_then(|w| w.iter().find(|w| w["is_default"] == true)).map(id).unwrap_or_default();
        let (st, w) = s.post("/api/v1/warehouses", json!({"code": "NORTE", "name": "Depósito Norte"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {w}");
        let norte = id(&w);
        let (st, _) = s.post("/api/v1/stock/adjustments", json!({"product_id": caja, "quantity": "10", "reason": "Stock inicial"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}");

        let keeper = s.token_for("warehouse").await;

        // A draft, changed, then done.
        let body = json!({"warehouse_id": central, "to_warehouse_id": norte, "lines": [{"product_id": caja, "quantity": "2"}], "reason": "Reposición"});
        let (st, t) = s.call_as(&keeper, Method::POST, "/api/v1/transfers", Some(body)).await;
        assert_eq!((st, t["status"].as_str()), (StatusCode::CREATED, Some("draft")), "{label}: {t}");
        let tid = id(&t);
        let (st, t) = s
            .call_as(
                &keeper,
                Method::PATCH,
                &format!("/api/v1/transfers/{tid}"),
                Some(json!({"lines": [{"product_id": caja, "quantity": "3"}], "version": t["version"]})),
            )
            .await;
        assert_eq!((st, t["lines"][0]["value"].as_str()), (StatusCode::OK, Some("751.20")), "{label}: {t}");
        let (st, t) = s.call_as(&keeper, Method::POST, &format!("/api/v1/transfers/{tid}/done"), None).await;
        assert_eq!((st, t["status"].as_str(), t["number"].as_str()), (StatusCode::OK, Some("done"), Some("0001-00000001")), "{label}: {t}");
        let (_, levels) = s.get(&format!("/api/v1/stock?product_id={caja}")).await;
        let mut got: Vec<(String, String)> = levels["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| (l["warehouse_id"].as_str().unwrap_or_default().to_string(), l["on_hand"].as_str().unwrap_or_default().to_string()))
            .collect();
        got.sort();
        let mut want = vec![(central.clone(), "7".to_string()), (norte.clone(), "3".to_string())];
        want.sort();
        assert_eq!(got, want, "{label}");
        let (st, card) = s.get(&format!("/api/v1/stock/card?product_id={caja}&warehouse_id={norte}")).await;
        assert_eq!(st, StatusCode::OK, "{label}");
        assert_eq!(
            (card["items"][0]["kind"].as_str(), card["items"][0]["document_number"].as_str()),
            (Some("transfer_in"), Some("0001-00000001")),
            "{label}: {card}"
        );
        let (st, e) = s.call_as(&keeper, Method::POST, &format!("/api/v1/transfers/{tid}/cancel"), None).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: {e}");

        // A count done at once: 2.5 found where 3 were, the difference adjusted at cost.
        let body = json!({"warehouse_id": norte, "all_articles": true, "lines": [{"product_id": caja, "counted": "2.5", "reason": "Rotura"}], "done": true});
        let (st, c) = s.call_as(&keeper, Method::POST, "/api/v1/stock-counts", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {c}");
        assert_eq!(
            (c["number"].as_str(), c["lines"][0]["expected"].as_str(), c["lines"][0]["difference"].as_str(), c["total_value"].as_str()),
            (Some("0001-00000001"), Some("3"), Some("-0.5"), Some("-125.20")),
            "{label}: {c}"
        );
        let (st, list) = s.get("/api/v1/stock-counts?status=done").await;
        assert_eq!((st, list["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{label}");
        let (st, got) = s.get(&format!("/api/v1/stock-counts/{}", id(&c))).await;
        assert_eq!((st, got["lines"][0]["reason"].as_str()), (StatusCode::OK, Some("Rotura")), "{label}");

        // The valuation: 7 × 250.40 + 2.5 × 250.40.
        let (st, v) = s.get("/api/v1/stock/valuation").await;
        assert_eq!((st, v["total"].as_str()), (StatusCode::OK, Some("2378.80")), "{label}: {v}");
        let (st, v) = s.get(&format!("/api/v1/stock/valuation?warehouse_id={norte}")).await;
        assert_eq!(
            (st, v["total"].as_str(), v["warehouses"][0]["lines"][0]["value"].as_str()),
            (StatusCode::OK, Some("626.00"), Some("626.00"))
        );

        // A salesperson reads but neither transfers nor counts.
        let seller = s.token_for("salesperson").await;
        let body = json!({"warehouse_id": central, "to_warehouse_id": norte, "lines": [{"product_id": caja, "quantity": "1"}]});
        let (st, _) = s.call_as(&seller, Method::POST, "/api/v1/transfers", Some(body)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let (st, _) = s.call_as(&seller, Method::POST, "/api/v1/stock-counts", Some(json!({"all_articles": true}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let (st, _) = s.call_as(&seller, Method::POST, &format!("/api/v1/transfers/{tid}/done"), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let (st, _) = s.call_as(&seller, Method::GET, "/api/v1/transfers", None).await;
        assert_eq!(st, StatusCode::OK, "{label}");

        // Bad input: 422 with the fields named; unknown ids 404; never a 500.
        let body = json!({"warehouse_id": central, "to_warehouse_id": central, "lines": [{"product_id": caja, "quantity": "-1"}]});
        let (st, e) = s.post("/api/v1/transfers", body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {e}");
        assert!(e["error"]["fields"]["to_warehouse_id"].is_string(), "{label}: {e}");
        assert!(e["error"]["fields"]["lines.0.quantity"].is_string(), "{label}: {e}");
        let body =
            json!({"warehouse_id": central, "to_warehouse_id": norte, "lines": [{"product_id": caja, "quantity": "100"}], "done": true});
        let (st, e) = s.post("/api/v1/transfers", body).await;
        assert_eq!((st, e["error"]["fields"]["lines.0.quantity"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true), "{label}: {e}");
        let (st, e) = s.post("/api/v1/stock-counts", json!({"lines": [{"product_id": "nope", "counted": "x"}]})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {e}");
        assert_eq!(
            (e["error"]["fields"]["lines.0.product_id"].is_string(), e["error"]["fields"]["lines.0.counted"].is_string()),
            (true, true)
        );
        let (st, _) = s.post("/api/v1/stock-counts", json!({"lines": 5})).await;
        assert!(st == StatusCode::BAD_REQUEST || st == StatusCode::UNPROCESSABLE_ENTITY, "{label}: {st}");
        let (st, _) = s.post("/api/v1/transfers", json!({"surprise": true})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        let (st, _) = s.get("/api/v1/stock/valuation?warehouse_id=nope").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        let (st, _) = s.get("/api/v1/transfers?status=nonsense").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
        let (st, _) = s.get("/api/v1/transfers/0192f000-0000-7000-8000-00000000dead").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");
        let (st, _) = s.get(&format!("/api/v1/stock-counts/{tid}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}: a transfer is not a count");
        let (st, _) = s.call(Method::POST, "/api/v1/stock-counts/not-an-id/done", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");
        s.db.cleanup().await;
    }
}
