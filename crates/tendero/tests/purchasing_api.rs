//! Purchase to pay over the REST API, on SQLite and PostgreSQL, each step taken by the
//! role that does it: purchasing orders, the warehouse receives in two parts, billing
//! records the supplier's invoice, a colleague pays it; and the refusals an integrator
//! meets (someone else's duty, more than ordered, a repeated supplier invoice number,
//! paying one's own invoice, malformed input).

mod common;

use app::testkit::databases;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_order_is_received_invoiced_and_paid_through_the_api() {
    for db in databases().await {
        let label = db.label;
        let s = common::spawn(db).await;
        let buyer = s.token_for("purchasing").await;
        let storeman = s.token_for("warehouse").await;
        let treasurer = s.token_for("billing").await;
        let seller = s.token_for("salesperson").await;

        let (st, rate) = s.post("/api/v1/tax-rates", json!({"name": "IVA 21 %", "rate": "21"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {rate}");
        let (st, article) = s
            .post(
                "/api/v1/products",
                json!({"code": "CHAPA-1", "name": "Chapa 1 mm", "kind": "goods", "unit": "u", "sale_price": "9000", "cost": "5000", "tax_rate_id": id(&rate)}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {article}");
        let (st, supplier) = s
            .post(
                "/api/v1/suppliers",
                json!({"name": "Acindar Distribución", "tax_id": common::cuit(30, 60000000), "payment_terms_days": 30}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {supplier}");
        let (pid, sid) = (id(&article), id(&supplier));

        // Purchasing orders 10 sheets, confirmed at once; the price is the article's cost.
        let order_body =
            json!({"supplier_id": sid, "expected_date": "2026-12-20", "lines": [{"product_id": pid, "quantity": "10"}], "confirm": true});
        let (st, e) = s.call_as(&seller, Method::POST, "/api/v1/purchase-orders", Some(order_body.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: a salesperson does not buy: {e}");
        let (st, order) = s.call_as(&buyer, Method::POST, "/api/v1/purchase-orders", Some(order_body)).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {order}");
        assert_eq!((text(&order, "status"), text(&order, "number")), ("confirmed", "0001-00000001"), "{label}");
        assert_eq!((text(&order["lines"][0], "unit_price"), text(&order, "total")), ("5000.00", "60500.00"), "{label}");
        let oid = id(&order);
        let line = text(&order["lines"][0], "id").to_string();

        // The warehouse receives 4, is refused 7 more (only 6 are left), then takes the rest.
        let receive = format!("/api/v1/purchase-orders/{oid}/receive");
        let (st, e) = s.call_as(&buyer, Method::POST, &receive, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{label}: purchasing does not receive: {e}");
        let (st, first) = s.call_as(&storeman, Method::POST, &receive, Some(json!({"lines": [{"line_id": line, "quantity": "4"}]}))).await;
        assert_eq!((st, text(&first, "kind"), text(&first, "status")), (StatusCode::CREATED, "reception", "posted"), "{label}: {first}");
        let (st, e) = s.call_as(&storeman, Method::POST, &receive, Some(json!({"lines": [{"line_id": line, "quantity": "7"}]}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {e}");
        assert!(text(&e["error"]["fields"], "lines.0.quantity").contains("supera lo pendiente"), "{label}: the reason in Spanish: {e}");
        let (st, _) = s.call_as(&storeman, Method::POST, &receive, None).await;
        assert_eq!(st, StatusCode::CREATED, "{label}");
        let (_, levels) = s.get(&format!("/api/v1/stock?product_id={pid}")).await;
        assert_eq!(text(&levels["items"][0], "on_hand"), "10", "{label}: {levels}");
        let (_, order) = s.get(&format!("/api/v1/purchase-orders/{oid}")).await;
        assert_eq!((text(&order, "progress"), text(&order["lines"][0], "received")), ("received", "10"), "{label}: {order}");
        let (_, nothing) = s.call_as(&storeman, Method::POST, &receive, None).await;
        assert_eq!(nothing["error"]["code"].as_str(), Some("refused"), "{label}: nothing left to receive: {nothing}");

        // The administrator records the supplier's invoice; its number cannot come twice.
        let (st, e) = s.post(&format!("/api/v1/purchase-orders/{oid}/invoice"), json!({"post": true})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: the supplier's number is needed: {e}");
        let (st, inv) = s
            .post(
                &format!("/api/v1/purchase-orders/{oid}/invoice"),
                json!({"supplier_invoice_number": "A-0003-00012345", "issue_date": "2026-12-01", "post": true}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label}: {inv}");
        assert_eq!(
            (text(&inv, "status"), text(&inv, "total"), text(&inv, "due_date")),
            ("posted", "60500.00", "2026-12-31"),
            "{label}: due 30 days after, from the supplier's terms"
        );
        let (_, order) = s.get(&format!("/api/v1/purchase-orders/{oid}")).await;
        assert_eq!(text(&order, "status"), "done", "{label}: all received and invoiced closes the order");
        let (_, second) = s
            .call_as(
                &buyer,
                Method::POST,
                "/api/v1/purchase-orders",
                Some(json!({"supplier_id": sid, "lines": [{"product_id": pid, "quantity": "1"}], "confirm": true})),
            )
            .await;
        s.call_as(&storeman, Method::POST, &format!("/api/v1/purchase-orders/{}/receive", id(&second)), None).await;
        let second_line = text(&second["lines"][0], "id").to_string();
        let (st, e) = s
            .post(
                &format!("/api/v1/purchase-orders/{}/invoice", id(&second)),
                json!({"supplier_invoice_number": "B-1", "lines": [{"line_id": second_line, "quantity": "2"}]}),
            )
            .await;
        assert!(st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::CONFLICT, "{label}: invoicing more than received: {st} {e}");
        let (st, e) = s
            .post(&format!("/api/v1/purchase-orders/{}/invoice", id(&second)), json!({"supplier_invoice_number": " a-0003-0001 2345"}))
            .await;
        assert_eq!(
            (st, e["error"]["fields"]["supplier_invoice_number"].is_string()),
            (StatusCode::UNPROCESSABLE_ENTITY, true),
            "{label}: the same number written differently is the same invoice: {e}"
        );

        // What is owed, then paid: not by who recorded the invoice.
        let (st, ageing) = s.get("/api/v1/payables/ageing?as_of=2026-12-04").await;
        assert_eq!((st, text(&ageing["totals"], "total")), (StatusCode::OK, "60500.00"), "{label}: {ageing}");
        let (st, run) = s.get("/api/v1/payables/payment-run?until=2026-12-31").await;
        assert_eq!((st, text(&run, "total")), (StatusCode::OK, "60500.00"), "{label}: {run}");
        let (st, run) = s.get("/api/v1/payables/payment-run?until=2026-12-30").await;
        assert_eq!((st, text(&run, "total")), (StatusCode::OK, "0.00"), "{label}: not due yet: {run}");
        let pay = json!({"supplier_id": sid, "amount": "60500.00", "issue_date": "2026-12-04"});
        let (st, e) = s.post("/api/v1/supplier-payments", pay.clone()).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("refused")), "{label}: {e}");
        assert!(text(&e["error"], "message").contains("factura"), "{label}: the refusal says why: {e}");
        let (st, e) =
            s.call_as(&treasurer, Method::POST, "/api/v1/supplier-payments", Some(json!({"supplier_id": sid, "amount": "99999.00"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: more than owed: {e}");
        let (st, paid) = s.call_as(&treasurer, Method::POST, "/api/v1/supplier-payments", Some(pay)).await;
        assert_eq!((st, text(&paid, "number")), (StatusCode::CREATED, "0001-00000001"), "{label}: {paid}");
        let (_, inv) = s.get(&format!("/api/v1/supplier-invoices/{}", id(&inv))).await;
        assert_eq!(text(&inv, "open_amount"), "0.00", "{label}: {inv}");
        let (st, account) = s.get(&format!("/api/v1/suppliers/{sid}/account")).await;
        assert_eq!((st, text(&account, "balance")), (StatusCode::OK, "0.00"), "{label}: {account}");
        assert_eq!(account["entries"].as_array().map(Vec::len), Some(2), "{label}: the invoice and the payment");
        let (_, chain) = s.get(&format!("/api/v1/purchase-orders/{oid}/chain")).await;
        let kinds: Vec<&str> = chain["items"].as_array().map(|a| a.iter().map(|d| text(d, "kind")).collect()).unwrap_or_default();
        assert_eq!(kinds.iter().filter(|k| **k == "reception").count(), 2, "{label}: {kinds:?}");
        assert!(kinds.contains(&"supplier_invoice"), "{label}: {kinds:?}");
        let (_, history) = s.get(&format!("/api/v1/purchase-orders/{oid}/history")).await;
        assert!(history.as_array().is_some_and(|h| h.len() >= 2), "{label}: {history}");

        // Printed: the order and a reception note, as PDF.
        for path in [format!("/api/v1/purchase-orders/{oid}/pdf"), format!("/api/v1/receptions/{}/pdf", id(&first))] {
            let res = s.http.get(format!("{}{path}", s.base)).bearer_auth(&s.token).send().await.expect("pdf");
            assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"), "{label}: {path}");
            assert!(res.bytes().await.expect("bytes").starts_with(b"%PDF"), "{label}: {path}");
        }

        // Malformed input is a clear error that changes nothing.
        let (_, before) = s.get("/api/v1/purchase-orders").await;
        for body in [
            json!({"supplier_id": "nadie", "lines": [{"product_id": pid, "quantity": "1"}]}),
            json!({"supplier_id": sid, "lines": [{"product_id": pid, "quantity": "muchos"}]}),
            json!({"supplier_id": sid, "lines": "x"}),
            json!({"supplier_id": sid, "extra": 1}),
        ] {
            let (st, e) = s.post("/api/v1/purchase-orders", body.clone()).await;
            assert!(st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST, "{label}: {body} → {st} {e}");
            assert!(e["error"]["code"].is_string(), "{label}: {e}");
        }
        let (_, after) = s.get("/api/v1/purchase-orders").await;
        assert_eq!(before["items"].as_array().map(Vec::len), after["items"].as_array().map(Vec::len), "{label}");
        let (st, _) = s.get("/api/v1/supplier-invoices/0192f000-0000-7000-8000-00000000dead").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{label}");
        let (st, _) = s.post(&format!("/api/v1/receptions/{}/cancel", id(&first)), json!({})).await;
        assert!(st == StatusCode::NOT_FOUND || st == StatusCode::METHOD_NOT_ALLOWED, "{label}: a reception is never cancelled: {st}");
        let (st, e) = s.get("/api/v1/payables/ageing?as_of=ayer").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {e}");

        // The business allows 10 % more on receptions and lets one person record and pay.
        let (st, e) = s.patch("/api/v1/settings/sales", json!({"receive_tolerance_percent": "mucho"})).await;
        assert_eq!(
            (st, e["error"]["fields"]["receive_tolerance_percent"].is_string()),
            (StatusCode::UNPROCESSABLE_ENTITY, true),
            "{label}: {e}"
        );
        let (st, settings) =
            s.patch("/api/v1/settings/sales", json!({"receive_tolerance_percent": "10", "segregate_supplier_payments": false})).await;
        assert_eq!(st, StatusCode::OK, "{label}: {settings}");
        assert_eq!((text(&settings, "receive_tolerance_percent"), settings["segregate_supplier_payments"].as_bool()), ("10", Some(false)));
        let (_, third) = s
            .post("/api/v1/purchase-orders", json!({"supplier_id": sid, "lines": [{"product_id": pid, "quantity": "10"}], "confirm": true}))
            .await;
        let third_line = text(&third["lines"][0], "id").to_string();
        let receive = format!("/api/v1/purchase-orders/{}/receive", id(&third));
        let (st, e) = s.post(&receive, json!({"lines": [{"line_id": third_line, "quantity": "11.001"}]})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label}: beyond the tolerance: {e}");
        let (st, r) = s.post(&receive, json!({"lines": [{"line_id": third_line, "quantity": "11"}]})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: within the tolerance: {r}");
        let (st, inv) = s
            .post(
                &format!("/api/v1/purchase-orders/{}/invoice", id(&third)),
                json!({"supplier_invoice_number": "A-0003-00012400", "post": true}),
            )
            .await;
        assert_eq!((st, text(&inv, "total")), (StatusCode::CREATED, "66550.00"), "{label}: 11 received, 11 invoiced: {inv}");
        let (st, paid) = s.post("/api/v1/supplier-payments", json!({"supplier_id": sid, "amount": "66550.00"})).await;
        assert_eq!(st, StatusCode::CREATED, "{label}: no segregation asked: {paid}");
    }
}

#[tokio::test]
async fn a_purchase_order_is_emailed_to_the_supplier_with_its_pdf() {
    if !app::testkit::have_aiosmtpd() {
        return;
    }
    let sink = app::testkit::SmtpSink::start(&[]);
    let cfg = app::mail::MailConfig::parse(&sink.url("smtp", ""), "Compras <compras@delplata.com.ar>").expect("config");
    let mailer = app::mail::Mailer::new(cfg).expect("mailer");
    let s = common::spawn_with_mailer(app::testkit::sqlite().await, Some(mailer)).await;
    let (_, article) = s
        .post(
            "/api/v1/products",
            json!({"code": "CAL-25", "name": "Cal 25 kg", "kind": "goods", "unit": "u", "sale_price": "9", "cost": "4"}),
        )
        .await;
    let (_, supplier) = s.post("/api/v1/suppliers", json!({"name": "Loma Negra Materiales", "email": "comercial@lomanegra.example"})).await;
    let (_, draft) = s
        .post("/api/v1/purchase-orders", json!({"supplier_id": id(&supplier), "lines": [{"product_id": id(&article), "quantity": "30"}]}))
        .await;
    let path = format!("/api/v1/purchase-orders/{}/email", id(&draft));
    let (st, e) = s.call(Method::POST, &path, None).await;
    assert_eq!(st, StatusCode::CONFLICT, "a draft is not sent: {e}");
    assert!(sink.received().is_empty());
    s.call(Method::POST, &format!("/api/v1/purchase-orders/{}/confirm", id(&draft)), None).await;
    let (st, sent) = s.call(Method::POST, &path, None).await;
    assert_eq!((st, sent["to"].clone()), (StatusCode::OK, json!(["comercial@lomanegra.example"])), "{sent}");
    let files = sink.received();
    assert_eq!(files.len(), 1, "one message arrived");
    let raw = std::fs::read_to_string(&files[0]).expect("message");
    assert!(raw.contains("application/pdf") && raw.contains("Orden-de-compra-0001-00000001.pdf"), "{raw}");
    let (_, hist) = s.get(&format!("/api/v1/purchase-orders/{}/history", id(&draft))).await;
    assert!(hist.as_array().is_some_and(|h| h.iter().any(|e| e["action"] == "email")), "{hist}");
    s.db.cleanup().await;
}
