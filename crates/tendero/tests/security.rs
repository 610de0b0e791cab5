//! People and security: the permission matrix walked through the API for every role, the
//! pages' log-in with CSRF and throttling, and the one-time setup link.

mod common;

use app::testkit::databases;
use common::spawn;
use domain::access::{can, Action, Resource, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Every resource the API serves, with a valid body to create one, a harmless change, and
/// the path of its collection.
fn endpoints(party_id: &str, n: &str) -> Vec<(Resource, &'static str, Value, Value)> {
    vec![
        (Resource::Customers, "/api/v1/customers", json!({"name": format!("Cliente {n}")}), json!({"phone": "+54 11 4555-0000"})),
        (Resource::Suppliers, "/api/v1/suppliers", json!({"name": format!("Proveedor {n}")}), json!({"city": "Rosario"})),
        (
            Resource::Contacts,
            "/api/v1/contacts",
            json!({"party_id": party_id, "name": format!("Contacto {n}")}),
            json!({"job_title": "Compras"}),
        ),
        (Resource::Salespeople, "/api/v1/salespeople", json!({"name": format!("Vendedor {n}")}), json!({"phone": "+54 11 4555-0001"})),
        (
            Resource::Products,
            "/api/v1/products",
            json!({"code": format!("P-{n}"), "name": format!("Artículo {n}")}),
            json!({"category": "Varios"}),
        ),
        (Resource::TaxRates, "/api/v1/tax-rates", json!({"name": format!("Tasa {n}"), "rate": "5"}), json!({"rate": "6"})),
        (
            Resource::Users,
            "/api/v1/users",
            json!({"username": format!("u-{n}"), "password": "una-clave-larga-2", "role": "marketing"}),
            json!({"display_name": "Otro nombre"}),
        ),
    ]
}

#[tokio::test]
async fn the_permission_matrix_is_enforced_for_every_role_and_action() {
    for db in databases().await {
        let s = spawn(db).await;
        let label = s.db.label;
        let (_, party) = s.post("/api/v1/customers", json!({"name": "Cliente base"})).await;
        let party_id = party["id"].as_str().expect("party").to_string();
        let mut checked = 0;
        for role in Role::ALL {
            let token = s.token_for(role.code()).await;
            for (i, (resource, path, create, change)) in endpoints(&party_id, &format!("{}-{}", role.code(), 0)).into_iter().enumerate() {
                // Records made by the administrator for this role to change and archive.
                let seed = endpoints(&party_id, &format!("{}-seed-{i}", role.code())).swap_remove(i).2;
                let (st, target) = s.post(path, seed).await;
                assert_eq!(st, StatusCode::CREATED, "{label} seed {path}: {target}");
                let target = target["id"].as_str().expect("id").to_string();
                let seed2 = endpoints(&party_id, &format!("{}-seed2-{i}", role.code())).swap_remove(i).2;
                let (_, victim) = s.post(path, seed2).await;
                let victim = victim["id"].as_str().expect("id").to_string();

                let calls = [
                    (Action::Read, Method::GET, path.to_string(), None),
                    (Action::Create, Method::POST, path.to_string(), Some(create.clone())),
                    (Action::Update, Method::PATCH, format!("{path}/{target}"), Some(change.clone())),
                    (Action::Archive, Method::DELETE, format!("{path}/{victim}"), None),
                ];
                for (action, method, url, body) in calls {
                    let (st, answer) = s.call_as(&token, method.clone(), &url, body).await;
                    let allowed = can(role, action, resource);
                    if allowed {
                        assert!(st.is_success(), "{label} {role:?} may {action:?} {resource:?} ({method} {url}) but got {st}: {answer}");
                    } else {
                        assert_eq!(
                            st,
                            StatusCode::FORBIDDEN,
                            "{label} {role:?} may not {action:?} {resource:?} ({method} {url}): {answer}"
                        );
                        assert_eq!(answer["error"]["code"], "forbidden");
                    }
                    checked += 1;
                }
            }
            // The company's profile.
            for (action, method, body) in
                [(Action::Read, Method::GET, None), (Action::Update, Method::PATCH, Some(json!({"phone": "+54 11 4383-0000"})))]
            {
                let (st, _) = s.call_as(&token, method, "/api/v1/company", body).await;
                assert_eq!(st == StatusCode::FORBIDDEN, !can(role, action, Resource::Company), "{label} {role:?} {action:?} company: {st}");
                checked += 1;
            }
            // Credit terms: segregation of duties inside the customer record.
            let (st, _) = s
                .call_as(
                    &token,
                    Method::PATCH,
                    &format!("/api/v1/customers/{party_id}"),
                    Some(json!({"credit_limit": format!("{}.00", 1000 + checked)})),
                )
                .await;
            let allowed = can(role, Action::Update, Resource::Customers) && can(role, Action::Update, Resource::CreditTerms);
            assert_eq!(st.is_success(), allowed, "{label} {role:?} credit limit: {st}");
            checked += 1;
        }
        assert_eq!(checked, Role::ALL.len() * (7 * 4 + 3));
        s.db.cleanup().await;
    }
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
}

#[tokio::test]
async fn pages_need_a_session_csrf_and_stop_password_guessing() {
    for db in databases().await {
        let s = spawn(db).await;
        let _ = s.token_for("manager").await; // user "user-manager", password "una-clave-larga-99"
        let browser = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let url = |p: &str| format!("{}{}", s.base, p);

        // Without a session, pages send you to the log-in page.
        let res = browser.get(url("/customers")).send().await.expect("get");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap_or("").starts_with("/login"));

        // A log-in form without its CSRF token is refused.
        let res = browser
            .post(url("/login"))
            .form(&[("username", "user-manager"), ("password", "una-clave-larga-99")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Five wrong passwords lock the name, even for the right password afterwards.
        for _ in 0..5 {
            let csrf = csrf_of(&browser.get(url("/login")).send().await.expect("get").text().await.expect("text"));
            let res = browser
                .post(url("/login"))
                .form(&[("_csrf", csrf.as_str()), ("username", "admin"), ("password", "adivinando-1234")])
                .send()
                .await
                .expect("post");
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let csrf = csrf_of(&browser.get(url("/login")).send().await.expect("get").text().await.expect("text"));
        let res = browser
            .post(url("/login"))
            .form(&[("_csrf", csrf.as_str()), ("username", "admin"), ("password", "correcto-caballo-42")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

        // Another user is not affected; a manager sees customers but not users.
        let csrf = csrf_of(&browser.get(url("/login")).send().await.expect("get").text().await.expect("text"));
        let res = browser
            .post(url("/login"))
            .form(&[("_csrf", csrf.as_str()), ("username", "user-manager"), ("password", "una-clave-larga-99"), ("next", "/customers")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let set_cookie = res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n");
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        let page = browser.get(url("/customers")).send().await.expect("get");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("text");
        assert!(html.contains("Clientes"));
        assert_eq!(browser.get(url("/users")).send().await.expect("get").status(), StatusCode::FORBIDDEN);

        // A form posted without the session's CSRF token changes nothing.
        let res = browser.post(url("/customers/new")).form(&[("name", "Cliente forjado")]).send().await.expect("post");
        assert!(res.status().is_client_error(), "{}", res.status());
        let csrf = csrf_of(&html);
        let res = browser
            .post(url("/customers/new"))
            .form(&[("_csrf", csrf.as_str()), ("name", "Cliente legítimo"), ("is_customer", "on")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, list) = s.get("/api/v1/customers").await;
        let names: Vec<String> =
            list["items"].as_array().cloned().unwrap_or_default().iter().map(|c| c["name"].as_str().unwrap_or("").to_string()).collect();
        assert_eq!(names, vec!["Cliente legítimo".to_string()], "{}", s.db.label);

        // After log-out the session is gone.
        let res = browser.post(url("/logout")).form(&[("_csrf", csrf.as_str())]).send().await.expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(browser.get(url("/customers")).send().await.expect("get").status(), StatusCode::SEE_OTHER);

        // Once users exist, no setup link works.
        assert_eq!(browser.get(url("/setup?token=anything")).send().await.expect("get").status(), StatusCode::FORBIDDEN);
        s.db.cleanup().await;
    }
}

#[tokio::test]
async fn the_setup_link_creates_one_administrator_once() {
    for db in databases().await {
        let app = &db.app;
        assert!(app::auth::needs_setup(app).await.expect("needs"));
        let first = app::auth::issue_setup_token(app).await.expect("issue").expect("token");
        let token = app::auth::issue_setup_token(app).await.expect("issue").expect("token");
        let input =
            app::auth::UserInput { username: Some("duena".into()), password: Some("una-clave-larga-3".into()), ..Default::default() };
        // A replaced link no longer works; the newest does, once, and makes an administrator.
        assert!(app::auth::complete_setup(app, &first, &input).await.is_err());
        let user = app::auth::complete_setup(app, &token, &input).await.expect("setup");
        assert_eq!(user.role, Role::Administrator);
        let again = app::auth::UserInput { username: Some("intruso".into()), ..input };
        assert!(app::auth::complete_setup(app, &token, &again).await.is_err());
        assert!(app::auth::issue_setup_token(app).await.expect("issue").is_none());
        db.cleanup().await;
    }
}
