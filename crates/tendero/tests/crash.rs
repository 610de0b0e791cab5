//! A server killed with SIGKILL in the middle of posting, on SQLite and PostgreSQL: every
//! posting is there whole or not at all. Afterwards the invoice numbers run 1..N with no
//! gap, every order's delivered quantities match its delivery notes, every stock level
//! equals the sum of its moves, and the audit chain verifies.

use app::sales::{self as s, DocumentIn, LineIn, TransitionIn};
use app::testkit::databases;
use app::{auth, Actor, App};
use domain::sales::{DocKind, Transition};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tendero");

struct Setup {
    token: String,
    invoices: Vec<String>,
    orders: Vec<String>,
}

async fn set_up(app: &App) -> Setup {
    let a = Actor::system("test");
    let rate = app::master::save_tax_rate(
        app,
        &a,
        None,
        &app::master::TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() },
    )
    .await
    .expect("rate");
    let p = app::master::save_product(
        app,
        &a,
        None,
        &app::master::ProductIn {
            code: Some("P1".into()),
            name: Some("Tornillo".into()),
            kind: Some("goods".into()),
            unit: Some("u".into()),
            sale_price: Some("10.00".into()),
            cost: Some("6".into()),
            tax_rate_id: Some(rate.id),
            ..Default::default()
        },
    )
    .await
    .expect("product");
    app::stock::adjust(
        app,
        &a,
        &app::stock::AdjustmentIn {
            product_id: Some(p.id.clone()),
            quantity: Some("100000".into()),
            reason: Some("inicial".into()),
            ..Default::default()
        },
    )
    .await
    .expect("stock");
    let c = app::master::create_party(
        app,
        &a,
        app::master::PartyRole::Customer,
        &app::master::PartyIn { name: Some("Cliente".into()), ..Default::default() },
    )
    .await
    .expect("customer");
    let draft = || DocumentIn {
        customer_id: Some(c.id.clone()),
        lines: Some(vec![LineIn { product_id: Some(p.id.clone()), quantity: Some("3".into()), ..Default::default() }]),
        ..Default::default()
    };
    let mut invoices = Vec::new();
    let mut orders = Vec::new();
    for _ in 0..150 {
        invoices.push(s::create_document(app, &a, DocKind::Invoice, &draft()).await.expect("invoice").id);
        let o = s::create_document(app, &a, DocKind::Order, &draft()).await.expect("order");
        s::transition(app, &a, DocKind::Order, &o.id, Transition::Confirm, &TransitionIn::default()).await.expect("confirm");
        orders.push(o.id);
    }
    let input = auth::UserInput {
        username: Some("admin".into()),
        password: Some("una-clave-larga-1".into()),
        role: Some("administrator".into()),
        ..Default::default()
    };
    auth::create_user(app, &a, &input).await.expect("user");
    let (_, token) = auth::new_token(app, &a, "admin", "crash").await.expect("token");
    Setup { token, invoices, orders }
}

#[tokio::test]
async fn a_server_killed_while_posting_leaves_whole_postings_only() {
    for db in databases().await {
        let label = db.label;
        let setup = set_up(&db.app).await;
        db.app.db.close().await;

        let mut server = Command::new(BIN)
            .args(["--database-url", &db.url, "serve", "--addr", "127.0.0.1:0"])
            .env("TENDERO_LOG", "warn")
            .env_remove("TENDERO_DATA_DIR")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the server");
        let stderr = server.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut base = String::new();
        for line in lines.by_ref() {
            let line = line.expect("line");
            if let Some(rest) = line.strip_prefix("Tendero listening on ") {
                base = rest.trim().to_string();
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        assert!(!base.is_empty(), "{label}: the server did not start");

        // Four clients post invoices and deliver orders as fast as they can.
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for k in 0..4 {
            let (client, base, token) = (client.clone(), base.clone(), setup.token.clone());
            let invoices: Vec<String> = setup.invoices.iter().skip(k).step_by(4).cloned().collect();
            let orders: Vec<String> = setup.orders.iter().skip(k).step_by(4).cloned().collect();
            tasks.push(tokio::spawn(async move {
                for (inv, order) in invoices.iter().zip(&orders) {
                    let _ = client.post(format!("{base}/api/v1/invoices/{inv}/post")).bearer_auth(&token).send().await;
                    let _ = client.post(format!("{base}/api/v1/orders/{order}/deliver")).bearer_auth(&token).send().await;
                }
            }));
        }
        // Let some postings commit, then pull the plug.
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let resp = reqwest::Client::new()
                .get(format!("{base}/api/v1/invoices?status=posted&limit=200"))
                .bearer_auth(&setup.token)
                .send()
                .await
                .ok();
            let posted = match resp {
                Some(r) => futures_len(r).await.unwrap_or(0),
                None => 0,
            };
            if posted >= 10 || started.elapsed() > Duration::from_secs(30) {
                break;
            }
        }
        let _ = Command::new("kill").args(["-KILL", &server.id().to_string()]).status();
        let _ = server.wait();
        for t in tasks {
            let _ = t.await;
        }

        // Reopen the database as the next start would.
        let app = App::open(&db.url).await.expect("reopen");
        let a = Actor::system("check");
        let mut numbers = Vec::new();
        for id in &setup.invoices {
            let d = s::get_document(&app, &a, DocKind::Invoice, id).await.expect("invoice");
            match d.status.as_str() {
                "posted" => numbers.push(d.number.clone().expect("a posted invoice has its number")),
                "draft" => assert!(d.number.is_none(), "{label}: a draft with a number"),
                other => panic!("{label}: unexpected status {other}"),
            }
        }
        numbers.sort();
        let expected: Vec<String> = (1..=numbers.len()).map(|i| format!("0001-{i:08}")).collect();
        assert_eq!(numbers, expected, "{label}: posted invoice numbers have no gap");
        assert!(numbers.len() < setup.invoices.len(), "{label}: the kill came before everything was posted");

        let mut delivered_orders = 0;
        for id in &setup.orders {
            let o = s::get_document(&app, &a, DocKind::Order, id).await.expect("order");
            let deliveries: Vec<s::Document> =
                s::order_chain(&app, &a, id).await.expect("chain").into_iter().filter(|d| d.kind == "delivery").collect();
            let line = &o.lines[0];
            match deliveries.len() {
                0 => assert_eq!(line.delivered, "0", "{label}: delivered without a delivery note"),
                1 => {
                    assert_eq!(line.delivered, "3", "{label}: a delivery note without the order's progress");
                    delivered_orders += 1;
                }
                n => panic!("{label}: {n} delivery notes for one order"),
            }
        }
        assert!(app::stock::mismatches(&app).await.expect("mismatches").is_empty(), "{label}: on hand equals the sum of moves");
        let levels = app::stock::levels(&app, &a, &Default::default()).await.expect("levels");
        let on_hand: f64 = levels[0].on_hand.parse().unwrap_or(0.0);
        assert_eq!(on_hand, 100_000.0 - 3.0 * f64::from(delivered_orders), "{label}: stock moved once per delivery");
        let reserved: f64 = levels[0].reserved.parse().unwrap_or(-1.0);
        assert_eq!(
            reserved,
            3.0 * (setup.orders.len() - delivered_orders as usize) as f64,
            "{label}: reservations released once per delivery"
        );
        let report = app::audit::verify(&app).await.expect("verify");
        assert!(report.first_bad.is_none(), "{label}: the audit chain holds");
        app.db.close().await;
        db.cleanup().await;
    }
}

/// How many items a list response holds.
async fn futures_len(r: reqwest::Response) -> Option<usize> {
    let v: serde_json::Value = r.json().await.ok()?;
    v["items"].as_array().map(Vec::len)
}
