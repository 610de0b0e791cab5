//! Printed documents and e-mail through the API: the invoice's PDF says what the invoice
//! says (read back with pdftotext), and e-mailing it reaches a real SMTP server with the
//! PDF attached and is recorded on the invoice and on the customer.

mod common;

use app::testkit::{available, have_aiosmtpd, runs, SmtpSink};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::Command;

/// A tax rate, an article and a customer: (article id, customer id).
async fn fixture(s: &common::Server) -> (String, String) {
    let (_, rate) = s.post("/api/v1/tax-rates", json!({"name": "IVA 21 %", "rate": "21"})).await;
    let (_, p) = s
        .post(
            "/api/v1/products",
            json!({"code": "MART-500", "name": "Martillo carpintero 500 g", "kind": "service", "unit": "u", "sale_price": "1234.50", "cost": "1", "tax_rate_id": rate["id"]}),
        )
        .await;
    let (_, c) = s
        .post(
            "/api/v1/customers",
            json!({"name": "Ferretería Ñandú", "tax_id": "30-71234567-1", "email": "compras@nandu.com.ar", "city": "Rosario"}),
        )
        .await;
    (p["id"].as_str().unwrap_or_default().to_string(), c["id"].as_str().unwrap_or_default().to_string())
}

/// A posted invoice of `lines` lines of one article: its id.
async fn posted_invoice(s: &common::Server, (product, customer): &(String, String), lines: usize) -> String {
    let lines: Vec<_> = (0..lines).map(|_| json!({"product_id": product, "quantity": "1"})).collect();
    let (st, inv) = s.post("/api/v1/invoices", json!({"customer_id": customer, "lines": lines})).await;
    assert_eq!(st, StatusCode::CREATED, "{inv}");
    let id = inv["id"].as_str().unwrap_or_default().to_string();
    let (st, posted) = s.call(Method::POST, &format!("/api/v1/invoices/{id}/post"), None).await;
    assert_eq!(st, StatusCode::OK, "{posted}");
    id
}

async fn pdf(s: &common::Server, path: &str) -> Vec<u8> {
    let res = s.http.get(format!("{}{path}", s.base)).bearer_auth(&s.token).send().await.expect("pdf");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    res.bytes().await.expect("bytes").to_vec()
}

fn text_of(pdf: &[u8]) -> Option<String> {
    if !available("pdftotext", "apt-get install poppler-utils", runs("pdftotext", &["-v"])) {
        return None;
    }
    let dir = app::testkit::TempDir::new("tendero-pdf");
    let path = dir.0.join("doc.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output().expect("pdftotext");
    Some(String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test]
async fn an_invoice_prints_with_its_totals_words_and_pages() {
    let s = common::spawn(app::testkit::sqlite().await).await;
    let fx = fixture(&s).await;
    let id = posted_invoice(&s, &fx, 2).await;
    let customer = fx.1.clone();
    let bytes = pdf(&s, &format!("/api/v1/invoices/{id}/pdf")).await;
    assert!(bytes.starts_with(b"%PDF-"));
    if let Some(text) = text_of(&bytes) {
        // 2 × 1,234.50 = 2,469.00 + 21 % = 2,987.49
        for expected in ["FACTURA", "0001-00000001", "Ferretería Ñandú", "30-71234567-1", "2.469,00", "518,49", "2.987,49", "Página 1 de 1"]
        {
            assert!(text.contains(expected), "the PDF lacks {expected:?}:\n{text}");
        }
        assert!(text.to_lowercase().contains("son pesos dos mil novecientos ochenta y siete con 49/100"), "{text}");
    }
    // A long invoice continues over pages, each numbered.
    let long = posted_invoice(&s, &fx, 90).await;
    if let Some(text) = text_of(&pdf(&s, &format!("/api/v1/invoices/{long}/pdf")).await) {
        assert!(text.contains("Página 1 de ") && text.contains("Página 2 de "), "{text}");
    }
    let statement = pdf(&s, &format!("/api/v1/customers/{customer}/statement/pdf")).await;
    if let Some(text) = text_of(&statement) {
        assert!(text.to_lowercase().contains("estado de cuenta") && text.contains("2.987,49"), "{text}");
        assert!(text.contains("134.437,05") && text.contains("137.424,54"), "the 90-line invoice and the balance of both: {text}");
    }
    let (st, _) = s.get("/api/v1/invoices/0192f000-0000-7000-8000-00000000dead/pdf").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.db.cleanup().await;
}

#[tokio::test]
async fn an_invoice_is_emailed_with_its_pdf_and_the_sending_is_recorded() {
    if !have_aiosmtpd() {
        return;
    }
    let sink = SmtpSink::start(&[]);
    let cfg = app::mail::MailConfig::parse(&sink.url("smtp", ""), "Ventas <ventas@delplata.com.ar>").expect("config");
    let mailer = app::mail::Mailer::new(cfg).expect("mailer");
    let s = common::spawn_with_mailer(app::testkit::sqlite().await, Some(mailer)).await;
    let fx = fixture(&s).await;
    let id = posted_invoice(&s, &fx, 1).await;
    let customer = fx.1.clone();

    let (st, sent) = s.call(Method::POST, &format!("/api/v1/invoices/{id}/email"), None).await;
    assert_eq!(st, StatusCode::OK, "{sent}");
    assert_eq!(sent["to"], json!(["compras@nandu.com.ar"]));
    let files = sink.received();
    assert_eq!(files.len(), 1, "one message arrived");
    let raw = std::fs::read_to_string(&files[0]).expect("message");
    assert!(raw.contains("compras@nandu.com.ar"));
    assert!(raw.contains("application/pdf") && raw.contains("Factura-0001-00000001.pdf"), "{raw}");

    let (_, hist) = s.get(&format!("/api/v1/invoices/{id}/history")).await;
    assert!(hist.as_array().is_some_and(|h| h.iter().any(|e| e["action"] == "email")), "{hist}");
    let (_, hist) = s.get(&format!("/api/v1/customers/{customer}/history")).await;
    assert!(hist.as_array().is_some_and(|h| h.iter().any(|e| e["action"] == "email")), "the customer's history shows it: {hist}");
    let (_, timeline) = s.get(&format!("/api/v1/customers/{customer}/timeline?sources=interaction")).await;
    assert_eq!(
        (timeline["items"][0]["kind"].as_str(), timeline["items"][0]["direction"].as_str()),
        (Some("email"), Some("out")),
        "the mail is on the customer's timeline: {timeline}"
    );

    // A bad address is a field error and nothing is sent.
    let (st, bad) = s.post(&format!("/api/v1/invoices/{id}/email"), json!({"to": ["no es un correo"]})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(sink.received().len(), 1);
    s.db.cleanup().await;
}

#[tokio::test]
async fn without_a_mail_server_sending_is_refused_clearly() {
    let s = common::spawn(app::testkit::sqlite().await).await;
    let fx = fixture(&s).await;
    let id = posted_invoice(&s, &fx, 1).await;
    let (st, body) = s.call(Method::POST, &format!("/api/v1/invoices/{id}/email"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("TENDERO_SMTP_URL")), "{body}");
    s.db.cleanup().await;
}
