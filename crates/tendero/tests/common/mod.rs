//! A Tendero server on a random port over a fresh database, and a client with a token.

#![allow(dead_code)]

use app::auth::{self, UserInput};
use app::testkit::TestDb;
use app::Actor;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;

pub struct Server {
    pub base: String,
    pub db: TestDb,
    pub token: String,
    pub http: Client,
}

pub async fn spawn(db: TestDb) -> Server {
    spawn_with_mailer(db, None).await
}

/// A server that sends mail through `mailer`.
pub async fn spawn_with_mailer(db: TestDb, mailer: Option<app::mail::Mailer>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let state = web::AppState::new(db.app.clone(), false).with_mailer(mailer);
    tokio::spawn(web::serve(listener, state, std::future::pending()));
    let admin = Actor::system("test");
    let input = UserInput {
        username: Some("admin".into()),
        password: Some("correcto-caballo-42".into()),
        role: Some("administrator".into()),
        ..Default::default()
    };
    auth::create_user(&db.app, &admin, &input).await.expect("admin");
    let (_, token) = auth::new_token(&db.app, &admin, "admin", "tests").await.expect("token");
    Server { base, db, token, http: Client::new() }
}

impl Server {
    /// A token for a new user with this role.
    pub async fn token_for(&self, role: &str) -> String {
        let admin = Actor::system("test");
        let name = format!("user-{role}");
        let input = UserInput {
            username: Some(name.clone()),
            password: Some("una-clave-larga-99".into()),
            role: Some(role.into()),
            ..Default::default()
        };
        auth::create_user(&self.db.app, &admin, &input).await.expect("user");
        auth::new_token(&self.db.app, &admin, &name, "tests").await.expect("token").1
    }

    pub async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res: Response = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(&self.token.clone(), method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

/// A valid CUIT near `number` (modulo 11).
pub fn cuit(prefix: u32, number: u32) -> String {
    for n in number.. {
        let body = format!("{prefix}{n:08}");
        let sum: u32 = body.chars().zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        return format!("{}-{}-{check}", &body[..2], &body[2..]);
    }
    unreachable!()
}
