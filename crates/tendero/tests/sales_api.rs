//! Order to cash over the REST API, as an integrator would drive it, on SQLite and
//! PostgreSQL.

mod common;

use app::testkit::databases;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn setup(s: &common::Server) -> (String, String) {
    let (st, rate) = s.post("/api/v1/tax-rates", json!({"name": "IVA 21 %", "rate": "21"})).await;
    assert_eq!(st, StatusCode::CREATED, "{rate}");
    let (st, p) = s
        .post(
            "/api/v1/products",
            json!({"code": "P001", "name": "Tornillo", "kind": "goods", "unit": "u", "sale_price": "6.00", "cost": "3.60", "tax_rate_id": rate["id"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let (st, c) = s.post("/api/v1/customers", json!({"name": "Customer 0001", "payment_terms_days": 30})).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    (c["id"].as_str().unwrap_or_default().to_string(), p["id"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn an_order_is_confirmed_delivered_invoiced_and_paid_through_the_api() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let (customer, product) = setup(&s).await;

        let (st, adj) =
            s.post("/api/v1/stock/adjustments", json!({"product_id": product, "quantity": "100", "reason": "Inventario inicial"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {adj}");
        assert_eq!(adj["balance"], "100");

        let (st, order) =
            s.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "5"}]})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {order}");
        assert_eq!((order["status"].as_str(), order["number"].is_null()), (Some("draft"), true));
        assert_eq!(
            (order["untaxed_amount"].as_str(), order["tax_amount"].as_str(), order["total"].as_str()),
            (Some("30.00"), Some("6.30"), Some("36.30"))
        );
        assert_eq!(order["lines"][0]["unit_price"], "6.00", "price defaults from the article");
        let id = order["id"].as_str().unwrap_or_default().to_string();

        // A bare POST (no body) confirms.
        let (st, confirmed) = s.call(Method::POST, &format!("/api/v1/orders/{id}/confirm"), None).await;
        assert_eq!(st, StatusCode::OK, "{label}: {confirmed}");
        assert_eq!(confirmed["number"], "0001-00000001");
        let (st, again) = s.call(Method::POST, &format!("/api/v1/orders/{id}/confirm"), None).await;
        assert_eq!((st, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: {again}");

        let (_, levels) = s.get(&format!("/api/v1/stock?product_id={product}")).await;
        let l = &levels["items"][0];
        assert_eq!(
            (l["on_hand"].as_str(), l["reserved"].as_str(), l["available"].as_str()),
            (Some("100"), Some("5"), Some("95")),
            "{label}"
        );

        let (st, delivery) = s.call(Method::POST, &format!("/api/v1/orders/{id}/deliver"), None).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {delivery}");
        assert_eq!(delivery["kind"], "delivery");

        let (st, invoice) = s.call(Method::POST, &format!("/api/v1/orders/{id}/invoice"), None).await;
        assert_eq!((st, invoice["status"].as_str()), (StatusCode::CREATED, Some("draft")), "{label}: {invoice}");
        let inv = invoice["id"].as_str().unwrap_or_default().to_string();
        let (st, posted) = s.call(Method::POST, &format!("/api/v1/invoices/{inv}/post"), None).await;
        assert_eq!((st, posted["number"].as_str()), (StatusCode::OK, Some("0001-00000001")), "{label}: {posted}");
        let (st, edit) = s.patch(&format!("/api/v1/invoices/{inv}"), json!({"notes": "cambio"})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{label}: a posted invoice is immutable: {edit}");

        let (st, by_customer) = s.get("/api/v1/stats/sales/by-customer").await;
        assert_eq!(st, StatusCode::OK, "{by_customer}");
        assert_eq!(
            (by_customer["rows"][0]["label"].as_str(), by_customer["rows"][0]["untaxed"].as_str()),
            (Some("Customer 0001"), Some("30.00")),
            "{label}"
        );
        let (st, bad) = s.get("/api/v1/stats/sales/by-period?group=fortnight").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let (_, ageing) = s.get("/api/v1/receivables/ageing").await;
        assert_eq!(ageing["totals"]["total"], "36.30", "{label}: {ageing}");

        let (st, receipt) = s
            .post(
                "/api/v1/receipts",
                json!({"customer_id": customer, "amount": "36.30", "allocations": [{"invoice_id": inv, "amount": "36.30"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {receipt}");
        let (_, order_now) = s.get(&format!("/api/v1/orders/{id}")).await;
        assert_eq!(order_now["progress"], "paid", "{label}: {order_now}");
        let (_, chain) = s.get(&format!("/api/v1/orders/{id}/chain")).await;
        assert_eq!(chain["items"].as_array().map(Vec::len), Some(3), "{label}: delivery, invoice, receipt: {chain}");

        let (_, stmt) = s.get(&format!("/api/v1/customers/{customer}/statement")).await;
        assert_eq!(stmt["balance"], "0.00", "{label}: {stmt}");
        let (_, hist) = s.get(&format!("/api/v1/invoices/{inv}/history")).await;
        let actions: Vec<&str> = hist.as_array().map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect()).unwrap_or_default();
        assert!(actions.contains(&"post") && actions.contains(&"create"), "{label}: {hist}");

        // Created and confirmed in one call; a quote cannot be.
        let (st, quick) = s
            .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "1"}], "confirm": true}))
            .await;
        assert_eq!(
            (st, quick["status"].as_str(), quick["number"].as_str()),
            (StatusCode::CREATED, Some("confirmed"), Some("0001-00000002")),
            "{label}: {quick}"
        );
        let (st, _) = s
            .post("/api/v1/quotes", json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "1"}], "confirm": true}))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        // Bad input: a clear error, nothing changed.
        let (st, bad) =
            s.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "0"}]})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad["error"]["fields"]["lines.0.quantity"].is_string(), "{bad}");
        let (st, _) = s.post("/api/v1/receipts", json!({"customer_id": customer, "amount": "1.00"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: nothing owed, no advance");
        // A body is a JSON object: an array is refused even where serde could read one.
        let (st, arr) = s.patch("/api/v1/settings/sales", json!([null, null])).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{arr}");
        let (st, _) = s.post("/api/v1/orders", json!([customer, []])).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let (st, _) = s.get("/api/v1/orders/not-an-id").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s.call(Method::POST, &format!("/api/v1/orders/{id}/confirm"), Some(json!({"override_credit_limit": "yes"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        // A salesperson may not invoice.
        let sales = s.token_for("salesperson").await;
        let (st, _) = s.call_as(&sales, Method::POST, &format!("/api/v1/orders/{id}/invoice"), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        let (_, doc) = s.get("/api/v1/openapi.json").await;
        for p in
            ["/api/v1/orders", "/api/v1/orders/{id}/deliver", "/api/v1/invoices/{id}/post", "/api/v1/receivables/ageing", "/api/v1/stock"]
        {
            assert!(doc["paths"][p].is_object(), "{p} documented");
        }
        s.db.cleanup().await;
    }
}

/// The list of a kind pages through everything, newest first.
#[tokio::test]
async fn document_lists_page_newest_first() {
    let db = app::testkit::sqlite().await;
    let s = common::spawn(db).await;
    let (customer, product) = setup(&s).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, o) = s.post("/api/v1/quotes", json!({"customer_id": customer, "lines": [{"product_id": product, "quantity": "1"}]})).await;
        ids.push(o["id"].as_str().unwrap_or_default().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/quotes?limit=2&cursor={c}"),
            None => "/api/v1/quotes?limit=2".to_string(),
        };
        let (st, page) = s.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().into_iter().flatten().filter_map(|d| d["id"].as_str().map(str::to_string)));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    s.db.cleanup().await;
}
