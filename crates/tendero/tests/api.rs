//! The REST API as an integrator uses it, on SQLite and PostgreSQL.

mod common;

use app::testkit::databases;
use common::{cuit, spawn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_master_data_kind_has_the_same_five_operations() {
    for db in databases().await {
        let s = spawn(db).await;
        let label = s.db.label;
        let (st, customer) = s
            .post(
                "/api/v1/customers",
                json!({"name": "Ferretería Ñandú", "tax_id": cuit(30, 71234567), "credit_limit": "150000.50", "tags": ["vip"]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{label} {customer}");
        let cid = customer["id"].as_str().expect("id").to_string();
        assert_eq!(customer["credit_limit"], "150000.50");

        let (st, rate) = s.post("/api/v1/tax-rates", json!({"name": "IVA 21 %", "rate": "21"})).await;
        assert_eq!(st, StatusCode::CREATED, "{rate}");
        let bodies = [
            (
                "/api/v1/suppliers",
                json!({"name": "Acindar Distribución", "tax_id": cuit(30, 60000000)}),
                json!({"city": "Rosario"}),
                "city",
                "Rosario",
            ),
            (
                "/api/v1/contacts",
                json!({"party_id": cid, "name": "Lucía Martínez", "email": "lucia@nandu.com.ar"}),
                json!({"job_title": "Compras"}),
                "job_title",
                "Compras",
            ),
            (
                "/api/v1/salespeople",
                json!({"name": "Roberto Ibáñez", "code": "V01", "commission_pct": "3.5"}),
                json!({"phone": "+54 11 4383-0000"}),
                "phone",
                "+54 11 4383-0000",
            ),
            (
                "/api/v1/products",
                json!({"code": "MART-500", "name": "Martillo 500 g", "sale_price": "8450.00", "cost": "5070", "tax_rate_id": rate["id"]}),
                json!({"sale_price": "8999.99"}),
                "sale_price",
                "8999.99",
            ),
            ("/api/v1/tax-rates", json!({"name": "IVA 10,5 %", "rate": "10.5"}), json!({"name": "IVA reducido"}), "name", "IVA reducido"),
            (
                "/api/v1/users",
                json!({"username": "paula", "password": "una-clave-larga-1", "role": "salesperson"}),
                json!({"display_name": "Paula Q."}),
                "display_name",
                "Paula Q.",
            ),
            (
                "/api/v1/customers",
                json!({"name": "Corralón San Martín"}),
                json!({"phone": "+54 11 4753-2200"}),
                "phone",
                "+54 11 4753-2200",
            ),
        ];
        for (path, create, change, field, value) in bodies {
            let (st, rec) = s.post(path, create).await;
            assert_eq!(st, StatusCode::CREATED, "{label} POST {path}: {rec}");
            let id = rec["id"].as_str().expect("id").to_string();
            let (st, got) = s.get(&format!("{path}/{id}")).await;
            assert_eq!((st, &got["id"]), (StatusCode::OK, &rec["id"]), "{label} GET {path}");
            let (st, changed) = s.patch(&format!("{path}/{id}"), change).await;
            assert_eq!(st, StatusCode::OK, "{label} PATCH {path}: {changed}");
            assert_eq!(changed[field], value, "{label} {path}");
            let (st, list) = s.get(&format!("{path}?limit=200")).await;
            assert_eq!(st, StatusCode::OK);
            assert!(items(&list).iter().any(|r| r["id"] == rec["id"]), "{label} {path} list");
            let (st, archived) = s.delete(&format!("{path}/{id}")).await;
            assert_eq!(st, StatusCode::OK, "{label} DELETE {path}: {archived}");
            let (_, list) = s.get(&format!("{path}?limit=200")).await;
            assert!(!items(&list).iter().any(|r| r["id"] == rec["id"]), "{label} {path}: archived records leave the list");
            let (_, list) = s.get(&format!("{path}?limit=200&archived=true")).await;
            assert!(items(&list).iter().any(|r| r["id"] == rec["id"]), "{label} {path}: but can still be listed");
            let (st, _) = s.get(&format!("{path}/{id}")).await;
            assert_eq!(st, StatusCode::OK, "{label} archived {path} is still readable");
            let (st, hist) = s.get(&format!("{path}/{id}/history")).await;
            assert_eq!(st, StatusCode::OK);
            assert!(hist.as_array().map_or(0, Vec::len) >= 2, "{label} {path} history {hist}");
            let (st, e) = s.get(&format!("{path}/0190aaaa-0000-7000-8000-000000000000")).await;
            assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{label} {path}");
        }
        // The customer is found by search, by a fragment of its tax id, ignoring accents.
        for q in ["nandu", "FERRETERIA", "71234567"] {
            let (_, found) = s.get(&format!("/api/v1/customers?q={q}")).await;
            assert_eq!(items(&found).len(), 1, "{label} q={q}");
        }
        let (_, hits) = s.get("/api/v1/search?q=%C3%B1andu").await;
        assert!(items(&hits).iter().any(|h| h["kind"] == "customer" && h["id"] == cid.as_str()), "{label} {hits}");
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn lists_are_keyset_paginated() {
    for db in databases().await {
        let s = spawn(db).await;
        for i in 0..25 {
            let (st, _) = s
                .post("/api/v1/products", json!({"code": format!("P{i:03}"), "name": format!("Artículo {i:03}"), "sale_price": "1.00"}))
                .await;
            assert_eq!(st, StatusCode::CREATED);
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/products?limit=10".to_string();
        loop {
            let (st, page) = s.get(&path).await;
            assert_eq!(st, StatusCode::OK);
            seen.extend(items(&page).into_iter().map(|p| p["code"].as_str().unwrap_or("").to_string()));
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/products?limit=10&cursor={c}"),
                None => break,
            }
        }
        let expected: Vec<String> = (0..25).map(|i| format!("P{i:03}")).collect();
        assert_eq!(seen, expected, "{}", s.db.label);
        let (st, e) = s.get("/api/v1/products?cursor=garbage!").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (st, _) = s.get("/api/v1/products?limit=0").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let (st, _) = s.get("/api/v1/products?limit=abc").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    for db in databases().await {
        let s = spawn(db).await;
        let label = s.db.label;
        let (st, _) = s.post("/api/v1/products", json!({"code": "P1", "name": "Uno", "sale_price": "10"})).await;
        assert_eq!(st, StatusCode::CREATED);
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"name": "X", "tax_id": "20-12345678-0"}), "/api/v1/customers", "tax_id"),
            (json!({"tax_id": cuit(20, 11111111)}), "/api/v1/customers", "name"),
            (json!({"name": "x".repeat(201)}), "/api/v1/customers", "name"),
            (json!({"name": "X", "email": "no-es-mail"}), "/api/v1/customers", "email"),
            (json!({"name": "X", "credit_limit": "-5"}), "/api/v1/customers", "credit_limit"),
            (json!({"name": "X", "credit_limit": "10.001"}), "/api/v1/customers", "credit_limit"),
            (json!({"code": "P1", "name": "Otra vez"}), "/api/v1/products", "code"),
            (json!({"code": "P2", "name": "Negativo", "sale_price": "-1"}), "/api/v1/products", "sale_price"),
            (
                json!({"code": "P3", "name": "Sin IVA", "tax_rate_id": "0190aaaa-0000-7000-8000-000000000000"}),
                "/api/v1/products",
                "tax_rate_id",
            ),
            (json!({"name": "Sin empresa"}), "/api/v1/contacts", "party_id"),
            (json!({"username": "x", "password": "corta", "role": "manager"}), "/api/v1/users", "password"),
            (json!({"username": "y", "password": "una-clave-larga", "role": "jefe"}), "/api/v1/users", "role"),
        ];
        for (body, path, field) in cases {
            let (st, e) = s.post(path, body.clone()).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{label} {path} {body}: {e}");
            assert_eq!(e["error"]["code"], "validation_failed");
            assert!(e["error"]["fields"][field].is_string(), "{label} {path} {body}: no message for {field}: {e}");
        }
        // Wrong JSON types and unknown fields are 422 too; malformed JSON 400; not JSON 415.
        let (st, e) = s.post("/api/v1/customers", json!({"name": 123})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (st, e) = s.post("/api/v1/customers", json!({"name": "X", "colour": "red"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let res = s
            .http
            .post(format!("{}/api/v1/customers", s.base))
            .bearer_auth(&s.token)
            .header("content-type", "application/json")
            .body("{\"name\":")
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let e: Value = res.json().await.expect("json");
        assert_eq!(e["error"]["code"], "bad_request");
        let res = s.http.post(format!("{}/api/v1/customers", s.base)).bearer_auth(&s.token).body("name=X").send().await.expect("send");
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // English when asked.
        let res = s
            .http
            .post(format!("{}/api/v1/customers", s.base))
            .bearer_auth(&s.token)
            .header("accept-language", "en")
            .json(&json!({"name": "X", "tax_id": "20-12345678-0"}))
            .send()
            .await
            .expect("send");
        let e: Value = res.json().await.expect("json");
        assert!(e["error"]["fields"]["tax_id"].as_str().unwrap_or("").contains("check digit"), "{e}");
        // Nothing of the above was stored.
        let (_, list) = s.get("/api/v1/customers?archived=true").await;
        assert!(items(&list).is_empty(), "{label}: {list}");
        let (_, list) = s.get("/api/v1/products").await;
        assert_eq!(items(&list).len(), 1);
        // Control characters in a search (found by fuzzing: a NUL broke the full-text query).
        for path in ["/api/v1/search?q=u%C3%A1V%00%25%5D%0Aabc", "/api/v1/suppliers?archived=true&q=V%C3%B5%0A%00xyz%C2%91"] {
            let (st, body) = s.get(path).await;
            assert_eq!(st, StatusCode::OK, "{label} {path}: {body}");
        }
        // Authentication.
        let res = s.http.get(format!("{}/api/v1/customers", s.base)).send().await.expect("send");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let (st, _) = s.call_as("tdr_not-a-token", Method::GET, "/api/v1/customers", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // Unknown ids in the URL are 404, whatever their shape.
        let (st, _) = s.get("/api/v1/customers/not-a-uuid").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // A stale version is refused.
        let (_, p) = s.get("/api/v1/products").await;
        let id = items(&p)[0]["id"].as_str().unwrap_or("").to_string();
        let (st, _) = s.patch(&format!("/api/v1/products/{id}"), json!({"name": "Nuevo nombre", "version": 1})).await;
        assert_eq!(st, StatusCode::OK);
        let (st, e) = s.patch(&format!("/api/v1/products/{id}"), json!({"name": "Pisado", "version": 1})).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    for db in databases().await {
        let s = spawn(db).await;
        let t = s.token_for("manager").await;
        let (st, _) = s.call_as(&t, Method::GET, "/api/v1/customers", None).await;
        assert_eq!(st, StatusCode::OK);
        app::auth::revoke_token(&s.db.app, &app::Actor::system("t"), &t[..12]).await.expect("revoke");
        let (st, _) = s.call_as(&t, Method::GET, "/api/v1/customers", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_api_is_documented_and_answers_405_with_allow() {
    let db = app::testkit::sqlite().await;
    let s = spawn(db).await;
    let doc: Value = s.http.get(format!("{}/api/v1/openapi.json", s.base)).send().await.expect("send").json().await.expect("json");
    for path in [
        "/api/v1/customers",
        "/api/v1/suppliers",
        "/api/v1/contacts",
        "/api/v1/salespeople",
        "/api/v1/products",
        "/api/v1/tax-rates",
        "/api/v1/users",
    ] {
        for method in ["get", "post"] {
            assert!(doc["paths"][path][method].is_object(), "{path} {method}");
        }
        for method in ["get", "patch", "delete"] {
            assert!(doc["paths"][format!("{path}/{{id}}")][method].is_object(), "{path}/id {method}");
        }
        assert!(doc["paths"][path]["post"]["responses"]["422"].is_object());
    }
    let html = s.http.get(format!("{}/api/v1/docs", s.base)).send().await.expect("send").text().await.expect("text");
    assert!(html.contains("/api/v1/customers/{id}"));
    let res = s.http.put(format!("{}/api/v1/customers", s.base)).bearer_auth(&s.token).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = res.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let res = s.http.get(format!("{}/healthz", s.base)).send().await.expect("send");
    assert_eq!(res.status(), StatusCode::OK);
    s.db.cleanup().await;
}

#[tokio::test]
async fn the_company_logo_is_an_image_kept_in_the_database() {
    for db in databases().await {
        let s = spawn(db).await;
        let png = include_bytes!("../../../docs/screenshots/customer.png");
        let put = |token: String, body: Vec<u8>| {
            let (http, url) = (s.http.clone(), format!("{}/api/v1/company/logo", s.base));
            async move { http.put(url).bearer_auth(token).header("content-type", "image/png").body(body).send().await.expect("put").status() }
        };
        let (st, _) = s.get("/api/v1/company/logo").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(put(s.token.clone(), png.to_vec()).await, StatusCode::NO_CONTENT);
        let res = s.http.get(format!("{}/api/v1/company/logo", s.base)).bearer_auth(&s.token).send().await.expect("get");
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.bytes().await.expect("bytes").as_ref(), png.as_slice(), "{}", s.db.label);
        // Not an image, too large, or not allowed: refused, and the logo stays.
        assert_eq!(put(s.token.clone(), b"<svg onload=alert(1)>".to_vec()).await, StatusCode::UNPROCESSABLE_ENTITY);
        let mut big = png.to_vec();
        big.resize(2 * 1024 * 1024, 0);
        assert_eq!(put(s.token.clone(), big).await, StatusCode::UNPROCESSABLE_ENTITY);
        let seller = s.token_for("salesperson").await;
        assert_eq!(put(seller.clone(), png.to_vec()).await, StatusCode::FORBIDDEN);
        let (st, _) = s.call_as(&seller, Method::GET, "/api/v1/company/logo", None).await;
        assert_eq!(st, StatusCode::OK, "every role reads the company");
        let (st, _) = s.call(Method::DELETE, "/api/v1/company/logo", None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = s.get("/api/v1/company/logo").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(app::audit::verify(&s.db.app).await.expect("verify").first_bad, None);
        s.db.cleanup().await;
    }
}
