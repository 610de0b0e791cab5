//! `tendero bench order-to-cash`: the workload of `shared/BENCHMARKS.md`. One company, a
//! 21 % tax, 1,000 customers, 100 articles with plenty of stock; then, timed, per order:
//! create and confirm it (5 lines), deliver it all, invoice and post, and pay it with one
//! receipt. In-process (calling the use cases) or over the HTTP API of a real server
//! process, with one or several concurrent clients. The first 200 orders replay the
//! reference file so that the invoice sums can be checked to the cent.

use crate::bench::{fresh_database, pct, round2, Fresh, Server};
use anyhow::{anyhow, bail, Context, Result};
use app::master::{self as m, ProductIn, TaxRateIn};
use app::sales::{self as s, AllocationIn, DocumentIn, LineIn, PartIn, ReceiptIn};
use app::stock::{self as st, AdjustmentIn};
use app::transfer::{self, ImportKind, ImportOptions, Table};
use app::{auth, Actor, App};
use domain::money::parse_scaled;
use domain::sales::DocKind;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

pub struct Opts {
    pub orders: usize,
    pub database_url: Option<String>,
    pub http: bool,
    pub clients: usize,
    pub reference: Option<std::path::PathBuf>,
}

/// One order: customer number and `(article number, quantity)` lines.
#[derive(Clone)]
struct Order {
    customer: usize,
    lines: Vec<(usize, u32)>,
    /// From the reference file: untaxed, tax, total in cents.
    expected: Option<(i64, i64, i64)>,
}

fn cents(v: &Value) -> Option<i64> {
    v.as_str().and_then(|s| parse_scaled(s, 2, true).ok())
}

fn reference_path(given: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    ["../shared/data/bench/order-to-cash-200.json", "shared/data/bench/order-to-cash-200.json"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

/// The reference orders first, then orders drawn as the workload says.
fn orders(n: usize, reference: Option<&std::path::Path>) -> Result<(Vec<Order>, bool)> {
    let mut out = Vec::with_capacity(n);
    let mut replayed = false;
    if let Some(path) = reference_path(reference) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_str(&text)?;
        for o in v["orders"].as_array().into_iter().flatten().take(n) {
            let lines = o["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| Some((l[0].as_u64()? as usize, l[1].as_u64()? as u32)))
                .collect();
            let expected = (|| Some((cents(&o["untaxed"])?, cents(&o["tax"])?, cents(&o["total"])?)))();
            out.push(Order { customer: o["customer"].as_u64().unwrap_or(1) as usize, lines, expected });
        }
        replayed = !out.is_empty();
    }
    let mut rng = StdRng::seed_from_u64(42);
    while out.len() < n {
        let lines = (0..5).map(|_| (rng.gen_range(1..=100), rng.gen_range(1..=5))).collect();
        out.push(Order { customer: rng.gen_range(1..=1000), lines, expected: None });
    }
    Ok((out, replayed))
}

struct World {
    customers: Vec<String>,
    products: Vec<String>,
}

async fn set_up(app: &App) -> Result<World> {
    let a = Actor::system("bench");
    let e = |e: app::AppError| anyhow!("{e}");
    let rate = m::save_tax_rate(app, &a, None, &TaxRateIn { name: Some("IVA 21 %".into()), rate: Some("21".into()), ..Default::default() })
        .await
        .map_err(e)?;
    let table = Table {
        headers: vec!["codigo".into(), "nombre".into()],
        rows: (1..=1000).map(|n| vec![format!("C{n:04}"), format!("Customer {n:04}")]).collect(),
    };
    transfer::import(app, &a, ImportKind::Customers, &table, &ImportOptions::default(), &|_, _| {}).await.map_err(e)?;
    let mut customers = Vec::with_capacity(1000);
    let mut conn = app.db.reader().await.map_err(|e| anyhow!("{e}"))?;
    let company = m::company_tx(&mut conn).await.map_err(e)?;
    for n in 1..=1000 {
        let p = m::find_party_tx(&mut conn, &company, None, None, Some(&format!("C{n:04}"))).await.map_err(e)?.context("customer")?;
        customers.push(p.id);
    }
    drop(conn);
    let mut products = Vec::with_capacity(100);
    for n in 1..=100 {
        let price = 5 + n;
        let p = m::save_product(
            app,
            &a,
            None,
            &ProductIn {
                code: Some(format!("P{n:03}")),
                name: Some(format!("Product {n:03}")),
                kind: Some("goods".into()),
                unit: Some("u".into()),
                sale_price: Some(format!("{price}.00")),
                cost: Some(format!("{:.2}", f64::from(price as u32) * 0.6)),
                tax_rate_id: Some(rate.id.clone()),
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
        st::adjust(
            app,
            &a,
            &AdjustmentIn {
                product_id: Some(p.id.clone()),
                quantity: Some("1000000".into()),
                reason: Some("bench".into()),
                ..Default::default()
            },
        )
        .await
        .map_err(e)?;
        products.push(p.id);
    }
    Ok(World { customers, products })
}

/// Milliseconds of each step of one order, and the invoice's amounts in cents.
type Cycle = ([f64; 4], (i64, i64, i64));

fn amounts(doc: &Value) -> Result<(i64, i64, i64)> {
    Ok((
        cents(&doc["untaxed_amount"]).context("untaxed")?,
        cents(&doc["tax_amount"]).context("tax")?,
        cents(&doc["total"]).context("total")?,
    ))
}

async fn cycle_in_process(app: &App, a: &Actor, w: &World, o: &Order) -> Result<Cycle> {
    let e = |e: app::AppError| anyhow!("{e}");
    let mut ms = [0.0; 4];
    let t = Instant::now();
    let lines = o
        .lines
        .iter()
        .map(|(p, q)| LineIn { product_id: Some(w.products[p - 1].clone()), quantity: Some(q.to_string()), ..Default::default() })
        .collect();
    // Created and confirmed in one transaction (`"confirm": true`), as a salesperson does
    // when the customer orders on the spot.
    let order = s::create_document(
        app,
        a,
        DocKind::Order,
        &DocumentIn {
            customer_id: Some(w.customers[o.customer - 1].clone()),
            lines: Some(lines),
            confirm: Some(true),
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    ms[0] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    s::deliver_order(app, a, &order.id, &PartIn::default()).await.map_err(e)?;
    ms[1] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let inv = s::invoice_order(app, a, &order.id, &PartIn { post: Some(true), ..Default::default() }).await.map_err(e)?;
    ms[2] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    s::create_receipt(
        app,
        a,
        &ReceiptIn {
            customer_id: Some(inv.customer_id.clone()),
            amount: Some(inv.total.clone()),
            allocations: Some(vec![AllocationIn { invoice_id: inv.id.clone(), amount: inv.total.clone() }]),
            ..Default::default()
        },
    )
    .await
    .map_err(e)?;
    ms[3] = t.elapsed().as_secs_f64() * 1000.0;
    Ok((ms, amounts(&serde_json::to_value(&inv)?)?))
}

struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Http {
    async fn post(&self, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.client.post(format!("{}/api/v1{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let v: Value = res.json().await?;
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }
}

async fn cycle_http(h: &Http, w: &World, o: &Order) -> Result<Cycle> {
    let mut ms = [0.0; 4];
    let t = Instant::now();
    let lines: Vec<Value> = o.lines.iter().map(|(p, q)| json!({"product_id": w.products[p - 1], "quantity": q.to_string()})).collect();
    let order = h.post("/orders", Some(json!({"customer_id": w.customers[o.customer - 1], "lines": lines, "confirm": true}))).await?;
    let id = order["id"].as_str().context("order id")?.to_string();
    ms[0] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    h.post(&format!("/orders/{id}/deliver"), None).await?;
    ms[1] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let inv = h.post(&format!("/orders/{id}/invoice"), Some(json!({"post": true}))).await?;
    ms[2] = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let total = inv["total"].clone();
    h.post(
        "/receipts",
        Some(json!({"customer_id": inv["customer_id"], "amount": total, "allocations": [{"invoice_id": inv["id"], "amount": total}]})),
    )
    .await?;
    ms[3] = t.elapsed().as_secs_f64() * 1000.0;
    Ok((ms, amounts(&inv)?))
}

fn self_peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok());
    round2(kb.unwrap_or(0.0) / 1024.0)
}

fn money(c: i64) -> String {
    domain::money::format_scaled(c, 2)
}

pub async fn run(opts: Opts) -> Result<Value> {
    let fresh: Fresh = fresh_database(opts.database_url.as_deref()).await?;
    let backend = if fresh.pg.is_some() { "postgres" } else { "sqlite" };
    let clients = opts.clients.max(1);
    eprintln!(
        "tendero bench order-to-cash: {} orders on {backend}, {}, {clients} client(s)",
        opts.orders,
        if opts.http { "HTTP" } else { "in-process" }
    );
    let result = async {
        let (orders, replayed) = orders(opts.orders, opts.reference.as_deref())?;
        let app = App::open(&fresh.url).await.map_err(|e| anyhow!("{e}"))?;
        let world = Arc::new(set_up(&app).await?);
        let admin = Actor::system("bench");
        let mut server = None;
        let http = if opts.http {
            let input = auth::UserInput {
                username: Some("bench".into()),
                password: Some("una-clave-larga-bench".into()),
                role: Some("administrator".into()),
                ..Default::default()
            };
            auth::create_user(&app, &admin, &input).await.map_err(|e| anyhow!("{e}"))?;
            let (_, token) = auth::new_token(&app, &admin, "bench", "bench").await.map_err(|e| anyhow!("{e}"))?;
            app.db.close().await;
            let srv = Server::start(&fresh)?;
            let h = Arc::new(Http { client: reqwest::Client::new(), base: srv.base.clone(), token });
            server = Some(srv);
            Some(h)
        } else {
            None
        };
        eprintln!("  set up; timing {} orders", orders.len());
        let orders = Arc::new(orders);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (orders, next, world, app, http, admin) = (orders.clone(), next.clone(), world.clone(), app.clone(), http.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                let mut done: Vec<(usize, Cycle)> = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(o) = orders.get(i) else { break };
                    let c = match &http {
                        Some(h) => cycle_http(h, &world, o).await?,
                        None => cycle_in_process(&app, &admin, &world, o).await?,
                    };
                    done.push((i, c));
                }
                Ok::<_, anyhow::Error>(done)
            }));
        }
        let mut cycles = Vec::with_capacity(orders.len());
        for t in tasks {
            cycles.extend(t.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let peak_rss = match &server {
            Some(srv) => srv.rss_mib().0,
            None => self_peak_rss_mb(),
        };
        if let Some(srv) = server {
            srv.stop();
        } else {
            app.db.close().await;
        }
        cycles.sort_by_key(|(i, _)| *i);
        let sums = cycles.iter().fold((0, 0, 0), |acc, (_, (_, a))| (acc.0 + a.0, acc.1 + a.1, acc.2 + a.2));
        let mismatches: Vec<usize> =
            cycles.iter().filter(|(i, (_, a))| orders[*i].expected.is_some_and(|e| e != *a)).map(|(i, _)| i + 1).collect();
        let expected_sums = orders.iter().filter_map(|o| o.expected).fold((0, 0, 0), |acc, a| (acc.0 + a.0, acc.1 + a.1, acc.2 + a.2));
        let phases = ["order", "deliver", "invoice", "receipt"];
        let mut phases_ms = serde_json::Map::new();
        let mut phases_p90 = serde_json::Map::new();
        for (k, name) in phases.iter().enumerate() {
            let mut v: Vec<f64> = cycles.iter().map(|(_, (ms, _))| ms[k]).collect();
            v.sort_by(f64::total_cmp);
            phases_ms.insert((*name).into(), json!(round2(pct(&v, 50.0))));
            phases_p90.insert((*name).into(), json!(round2(pct(&v, 90.0))));
        }
        Ok::<_, anyhow::Error>(json!({
            "workload": "order-to-cash",
            "backend": backend,
            "mode": if opts.http { "http" } else { "in-process" },
            "clients": clients,
            "orders": cycles.len(),
            "seconds": round2(elapsed),
            "cycles_per_s": round2(cycles.len() as f64 / elapsed.max(1e-9)),
            "phases_ms": phases_ms,
            "phases_p90_ms": phases_p90,
            "sum_untaxed": money(sums.0),
            "sum_tax": money(sums.1),
            "sum_total": money(sums.2),
            "reference_replayed": replayed,
            "reference_sums": if replayed { json!({"untaxed": money(expected_sums.0), "tax": money(expected_sums.1), "total": money(expected_sums.2)}) } else { Value::Null },
            "reference_mismatches": mismatches,
            "peak_rss_mb": peak_rss,
        }))
    }
    .await;
    crate::bench::clean_up(&fresh).await;
    result
}
