//! Manufacturing over the REST API, on SQLite and PostgreSQL: a bill of materials, its
//! cost roll-up, a production order from draft to done, shortages, reorder rules and
//! replenishment, and the refusals an integrator meets.

mod common;

use app::testkit::databases;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn article(s: &common::Server, code: &str, kind: &str, cost: &str) -> String {
    let body = json!({"code": code, "name": code, "kind": kind, "unit": "u", "sale_price": "1", "cost": cost});
    let (st, p) = s.post("/api/v1/products", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    p["id"].as_str().unwrap_or_default().to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_table_is_made_through_the_api() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let mesa = article(&s, "MESA", "manufactured", "0").await;
        let pata = article(&s, "PATA", "goods", "1500").await;
        let tapa = article(&s, "TAPA", "goods", "2000.50").await;

        let (st, bom) = s
            .post(
                "/api/v1/boms",
                json!({"product_id": mesa, "components": [{"product_id": tapa, "quantity": "1", "scrap_percent": "0"}, {"product_id": pata, "quantity": "4", "scrap_percent": "0"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {bom}");
        assert_eq!((bom["components"][1]["product_code"].as_str(), bom["components"][1]["quantity"].as_str()), (Some("PATA"), Some("4")));
        let (st, got) = s.get(&format!("/api/v1/boms/{}", id(&bom))).await;
        assert_eq!((st, got["product_id"].as_str()), (StatusCode::OK, Some(mesa.as_str())), "{label}");
        let (st, list) = s.get("/api/v1/boms").await;
        assert_eq!((st, list["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{label}");

        // A cycle names its row; bad JSON and unknown ids are clear errors, never 500.
        let (st, e) = s.post("/api/v1/boms", json!({"product_id": mesa, "components": [{"product_id": mesa, "quantity": "1"}]})).await;
        assert_eq!(
            (st, e["error"]["fields"]["components.0.product_id"].is_string()),
            (StatusCode::UNPROCESSABLE_ENTITY, true),
            "{label}: {e}"
        );
        let (st, _) = s.post("/api/v1/boms", json!({"product_id": 5})).await;
        assert!(st == StatusCode::BAD_REQUEST || st == StatusCode::UNPROCESSABLE_ENTITY, "{label}: {st}");
        let (st, _) = s.get("/api/v1/boms/0192f000-0000-7000-8000-00000000dead").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");
        let (st, _) = s.get("/api/v1/production-orders/not-an-id").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");

        let (st, r) = s.get(&format!("/api/v1/products/{mesa}/cost-rollup?quantity=2")).await;
        assert_eq!(st, StatusCode::OK, "{label}: {r}");
        assert_eq!((r["unit_cost"].as_str(), r["total_cost"].as_str()), (Some("8000.50"), Some("16001.00")), "{label}");

        let (st, o) = s.post("/api/v1/production-orders", json!({"product_id": mesa, "quantity": "2"})).await;
        assert_eq!((st, o["status"].as_str()), (StatusCode::CREATED, Some("draft")), "{label}: {o}");
        let oid = id(&o);
        let (st, e) = s.call(Method::POST, &format!("/api/v1/production-orders/{oid}/produce"), None).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: {e}");
        let (st, o) = s.call(Method::POST, &format!("/api/v1/production-orders/{oid}/plan"), None).await;
        assert_eq!((st, o["number"].as_str()), (StatusCode::OK, Some("0001-00000001")), "{label}: {o}");
        let (st, sh) = s.get(&format!("/api/v1/production-orders/{oid}/shortages")).await;
        assert_eq!(st, StatusCode::OK, "{label}: {sh}");
        assert_eq!((sh["leaves"][1]["product_code"].as_str(), sh["leaves"][1]["missing"].as_str()), (Some("PATA"), Some("8")), "{label}");
        let (st, _) = s.call(Method::POST, &format!("/api/v1/production-orders/{oid}/reserve"), None).await;
        assert_eq!(st, StatusCode::OK, "{label}");
        let (st, e) = s.call(Method::POST, &format!("/api/v1/production-orders/{oid}/produce"), None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: producing without components: {e}");

        for (p, q) in [(&pata, "8"), (&tapa, "2")] {
            let (st, _) = s.post("/api/v1/stock/adjustments", json!({"product_id": p, "quantity": q, "reason": "Compra"})).await;
            assert_eq!(st, StatusCode::CREATED);
        }
        let (st, done) = s.call(Method::POST, &format!("/api/v1/production-orders/{oid}/produce"), None).await;
        assert_eq!(
            (st, done["status"].as_str(), done["unit_cost"].as_str()),
            (StatusCode::OK, Some("done"), Some("8000.50")),
            "{label}: {done}"
        );
        let (_, article) = s.get(&format!("/api/v1/products/{mesa}")).await;
        assert_eq!(article["cost"], "8000.50", "{label}");
        let (_, levels) = s.get(&format!("/api/v1/stock?product_id={mesa}")).await;
        assert_eq!(levels["items"][0]["on_hand"], "2", "{label}");
        let (st, list) = s.get("/api/v1/production-orders?status=done").await;
        assert_eq!((st, list["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{label}");
        let (st, _) = s.get("/api/v1/production-orders?status=nonsense").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}");

        // Reorder rules and the suggestions.
        let (st, rule) = s
            .call(Method::PUT, "/api/v1/reorder-rules", Some(json!({"product_id": pata, "reorder_point": "5", "reorder_quantity": "12"})))
            .await;
        assert_eq!((st, rule["reorder_point"].as_str()), (StatusCode::OK, Some("5")), "{label}: {rule}");
        let (st, rule) = s
            .call(Method::PUT, "/api/v1/reorder-rules", Some(json!({"product_id": mesa, "reorder_point": "3", "reorder_quantity": "1"})))
            .await;
        assert_eq!(st, StatusCode::OK, "{label}: {rule}");
        let (st, rules) = s.get("/api/v1/reorder-rules").await;
        assert_eq!((st, rules["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{label}");
        let (st, sug) = s.get("/api/v1/replenishment").await;
        assert_eq!(st, StatusCode::OK, "{label}: {sug}");
        let got: Vec<_> = sug["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["product_code"].as_str().unwrap_or_default(),
                    i["action"].as_str().unwrap_or_default(),
                    i["quantity"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got, vec![("MESA", "make", "1"), ("PATA", "buy", "12")], "{label}");

        // A salesperson may not see or change production.
        let seller = s.token_for("salesperson").await;
        let (st, _) = s.call_as(&seller, Method::GET, "/api/v1/boms", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");
        let (st, _) =
            s.call_as(&seller, Method::POST, "/api/v1/production-orders", Some(json!({"product_id": mesa, "quantity": "1"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}");

        // A bill in use by an open order is not deleted; once the order is cancelled it is.
        let (_, o2) = s.post("/api/v1/production-orders", json!({"product_id": mesa, "quantity": "1"})).await;
        let (st, _) = s.delete(&format!("/api/v1/boms/{}", id(&bom))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{label}");
        let (st, _) = s.call(Method::POST, &format!("/api/v1/production-orders/{}/cancel", id(&o2)), None).await;
        assert_eq!(st, StatusCode::OK, "{label}");
        let (st, _) = s.delete(&format!("/api/v1/boms/{}", id(&bom))).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{label}");
        s.db.cleanup().await;
    }
}
