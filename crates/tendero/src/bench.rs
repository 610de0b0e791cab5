//! `tendero bench search`: the master-data workload of `docs/BENCHMARKS.md`. Loads N
//! customers and M articles into a fresh database through the import use case (timed:
//! rows per second), starts a real `tendero serve` process on it, and measures over HTTP
//! the customer search by name fragment and by tax id and the first page of the customer
//! list (p50/p99), and the server's resident memory.

use anyhow::{bail, Context, Result};
use app::transfer::{self, ImportKind, ImportOptions, Table};
use app::{auth, Actor, App};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct SearchOpts {
    pub customers: usize,
    pub products: usize,
    pub queries: usize,
    pub database_url: Option<String>,
    pub batch: usize,
}

const TRADES: &[&str] =
    &["Ferretería", "Corralón", "Pinturería", "Maderera", "Sanitarios", "Electricidad", "Bulonera", "Vidriería", "Herrajes", "Materiales"];
const SURNAMES: &[&str] = &[
    "Gómez",
    "Fernández",
    "Rodríguez",
    "López",
    "Martínez",
    "García",
    "Pérez",
    "Sánchez",
    "Romero",
    "Sosa",
    "Díaz",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Ramírez",
    "Flores",
    "Acosta",
    "Benítez",
    "Medina",
    "Herrera",
];
const CITIES: &[&str] =
    &["Córdoba", "Rosario", "Mendoza", "La Plata", "Salta", "Neuquén", "Mar del Plata", "Tucumán", "Posadas", "Bahía Blanca"];

fn customer_name(i: usize) -> String {
    format!("{} {} {i}", TRADES[i % TRADES.len()], SURNAMES[(i / TRADES.len()) % SURNAMES.len()])
}

/// A valid CUIT, distinct for each i (numbers three apart; a skipped check digit moves
/// the number by one at most).
fn cuit(i: usize) -> String {
    let mut n = 20_000_000 + i * 3;
    loop {
        let body = format!("30{n:08}");
        let sum: u32 = body.chars().zip([5, 4, 3, 2, 7, 6, 5, 4, 3, 2]).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
        match 11 - sum % 11 {
            10 => n += 1,
            11 => return format!("30-{n:08}-0"),
            c => return format!("30-{n:08}-{c}"),
        }
    }
}

/// Percentiles of latencies in milliseconds (nearest rank).
pub(crate) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({"p50_ms": round2(pct(&v, 50.0)), "p99_ms": round2(pct(&v, 99.0)), "max_ms": round2(v.last().copied().unwrap_or(0.0)), "n": v.len()})
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) struct Fresh {
    pub url: String,
    pub data_dir: Option<std::path::PathBuf>,
    pub pg: Option<(String, String)>,
}

pub(crate) async fn fresh_database(url: Option<&str>) -> Result<Fresh> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    match url {
        None => {
            let dir = std::env::temp_dir().join(format!("tendero-bench-{id}"));
            std::fs::create_dir_all(&dir)?;
            Ok(Fresh { url: format!("sqlite://{}", dir.join("tendero.db").display()), data_dir: Some(dir), pg: None })
        }
        Some(admin) => {
            let name = format!("tendero_bench_{id}");
            store::Db::create_postgres_database(admin, &name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let (base, _) = admin.rsplit_once('/').context("the database URL needs a /DATABASE part")?;
            Ok(Fresh { url: format!("{base}/{name}"), data_dir: None, pg: Some((admin.to_string(), name)) })
        }
    }
}

async fn load(app: &App, opts: &SearchOpts) -> Result<(f64, f64)> {
    let actor = Actor::system("bench");
    let import = |kind, table: Table| {
        let app = app.clone();
        let actor = actor.clone();
        async move {
            let r = transfer::import(&app, &actor, kind, &table, &ImportOptions::default(), &|_, _| {})
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if !r.applied || !r.errors.is_empty() {
                bail!("the generated rows were refused: {:?}", r.errors.first());
            }
            Ok(())
        }
    };
    let started = Instant::now();
    let mut done = 0;
    while done < opts.customers {
        let end = (done + opts.batch).min(opts.customers);
        let rows = (done..end)
            .map(|i| {
                vec![
                    format!("C{i:07}"),
                    customer_name(i),
                    cuit(i),
                    format!("cliente{i}@example.com"),
                    format!("+54 11 {:04}-{:04}", i / 10_000, i % 10_000),
                    CITIES[i % CITIES.len()].to_string(),
                ]
            })
            .collect();
        let headers = ["codigo", "nombre", "cuit", "email", "telefono", "ciudad"].map(String::from).to_vec();
        import(ImportKind::Customers, Table { headers, rows }).await?;
        done = end;
        eprintln!("  customers: {done}/{}", opts.customers);
    }
    let customers_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut done = 0;
    while done < opts.products {
        let end = (done + opts.batch).min(opts.products);
        let rows = (done..end)
            .map(|i| {
                vec![
                    format!("A{i:06}"),
                    format!("Artículo {} {i}", TRADES[i % TRADES.len()]),
                    format!("{}.{:02}", 10 + i % 5000, i % 100),
                    "u".into(),
                ]
            })
            .collect();
        let headers = ["codigo", "nombre", "precio", "unidad"].map(String::from).to_vec();
        import(ImportKind::Products, Table { headers, rows }).await?;
        done = end;
        eprintln!("  products: {done}/{}", opts.products);
    }
    Ok((customers_s, started.elapsed().as_secs_f64()))
}

/// The server under test, a separate process so that its memory is its own.
pub(crate) struct Server {
    child: std::process::Child,
    pub base: String,
}

impl Server {
    pub fn start(fresh: &Fresh) -> Result<Server> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        match &fresh.data_dir {
            Some(dir) => cmd.arg("--data-dir").arg(dir),
            None => cmd.arg("--database-url").arg(&fresh.url),
        };
        let mut child =
            cmd.args(["serve", "--addr", "127.0.0.1:0"]).env("TENDERO_LOG", "warn").stderr(Stdio::piped()).stdout(Stdio::null()).spawn()?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut base = String::new();
        for line in lines.by_ref() {
            let line = line?;
            if let Some(rest) = line.strip_prefix("Tendero listening on ") {
                base = rest.trim().to_string();
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        if base.is_empty() {
            bail!("the server did not start");
        }
        Ok(Server { child, base })
    }

    /// (peak, current) resident memory in MiB, from /proc.
    pub fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (round2(kb("VmHWM:") / 1024.0), round2(kb("VmRSS:") / 1024.0))
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

async fn timed(client: &reqwest::Client, url: &str, token: &str, expect_hit: bool) -> Result<f64> {
    let started = Instant::now();
    let res = client.get(url).bearer_auth(token).send().await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        bail!("{url}: {status} {body}");
    }
    if expect_hit && body["items"].as_array().is_none_or(|a| a.is_empty()) {
        bail!("{url}: found nothing");
    }
    Ok(ms)
}

pub async fn search(opts: SearchOpts) -> Result<serde_json::Value> {
    let fresh = fresh_database(opts.database_url.as_deref()).await?;
    let backend = if fresh.pg.is_some() { "postgres" } else { "sqlite" };
    eprintln!("tendero bench search: {} customers, {} articles on {backend}", opts.customers, opts.products);
    let result = async {
        let app = App::open(&fresh.url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let admin = Actor::system("bench");
        let input = auth::UserInput {
            username: Some("bench".into()),
            password: Some("una-clave-larga-bench".into()),
            role: Some("administrator".into()),
            ..Default::default()
        };
        auth::create_user(&app, &admin, &input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let (_, token) = auth::new_token(&app, &admin, "bench", "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let (customers_s, products_s) = load(&app, &opts).await?;
        app.db.close().await;

        let server = Server::start(&fresh)?;
        let client = reqwest::Client::new();
        let mut rng = StdRng::seed_from_u64(42);
        let base = server.base.clone();
        let mut by_name = Vec::new();
        let mut by_tax_id = Vec::new();
        let mut first_page = Vec::new();
        let pick = |rng: &mut StdRng| rng.gen_range(0..opts.customers.max(1));
        for _ in 0..20 {
            timed(&client, &format!("{base}/api/v1/customers?limit=50"), &token, true).await?;
        }
        for q in 0..opts.queries {
            let i = pick(&mut rng);
            // Half: a surname fragment and the number; half: five digits of the number.
            let fragment = if q % 2 == 0 {
                let surname = domain::text::fold(SURNAMES[(i / TRADES.len()) % SURNAMES.len()]);
                format!("{} {i}", surname.chars().take(4).collect::<String>())
            } else {
                let digits = format!("{i:06}");
                digits[digits.len() - 5..].to_string()
            };
            let expect = q % 2 == 0;
            by_name
                .push(timed(&client, &format!("{base}/api/v1/customers?limit=50&q={}", fragment.replace(' ', "+")), &token, expect).await?);
            let j = pick(&mut rng);
            let id = if q % 2 == 0 { cuit(j) } else { cuit(j).replace('-', "") };
            by_tax_id.push(timed(&client, &format!("{base}/api/v1/customers?q={id}"), &token, true).await?);
        }
        for _ in 0..opts.queries.min(500) {
            first_page.push(timed(&client, &format!("{base}/api/v1/customers?limit=50"), &token, true).await?);
        }
        let (peak, rss) = server.rss_mib();
        server.stop();
        Ok::<_, anyhow::Error>(json!({
            "workload": "search",
            "backend": backend,
            "customers": opts.customers,
            "products": opts.products,
            "import_customers_rows_per_s": round2(opts.customers as f64 / customers_s.max(1e-9)),
            "import_products_rows_per_s": round2(opts.products as f64 / products_s.max(1e-9)),
            "search_by_name": summary(by_name),
            "search_by_tax_id": summary(by_tax_id),
            "customer_list_first_page": summary(first_page),
            "server_peak_rss_mb": peak,
            "server_rss_mb": rss,
        }))
    }
    .await;
    clean_up(&fresh).await;
    result
}

/// Removes the benchmark's database, unless `TENDERO_BENCH_KEEP=1` asks to keep it (to
/// look at query plans).
pub(crate) async fn clean_up(fresh: &Fresh) {
    let keep = std::env::var_os("TENDERO_BENCH_KEEP").is_some();
    if let Some(dir) = &fresh.data_dir {
        if keep {
            eprintln!("kept {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    if let Some((admin, name)) = &fresh.pg {
        if keep {
            eprintln!("kept database {name}");
        } else {
            let _ = store::Db::drop_postgres_database(admin, name).await;
        }
    }
}
