//! `tendero bench crm`: the CRM workload of issue 5. Loads 1,000 customers and N
//! interactions (a tenth of them, 100,000 by default, on one customer) and M open tickets
//! with their status histories into a fresh database, then measures over HTTP the first
//! page and a deep page of that customer's timeline (p50/p99), and in process the
//! recomputation of every open ticket's due times (the SLA clock alone, and with reading
//! and writing the tickets).

use crate::bench::{clean_up, fresh_database, pct, round2, Server};
use anyhow::{bail, Result};
use app::transfer::{self, ImportKind, ImportOptions, Table};
use app::{auth, Actor, App};
use serde_json::json;
use std::time::Instant;

pub struct Opts {
    pub interactions: usize,
    pub tickets: usize,
    pub queries: usize,
    pub database_url: Option<String>,
}

const CUSTOMERS: usize = 1_000;
const BATCH: usize = 2_000;
const KINDS: &[(&str, &str)] = &[("call", "phone"), ("email", "email"), ("visit", "in_person"), ("chat", "chat"), ("note", "other")];

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// `$1, $2, …` or `?, ?, …` for a multi-row insert of `rows` × `width`.
pub(crate) fn values(sqlite: bool, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| if sqlite { "?".into() } else { format!("${}", r * width + c) }).collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A timestamp `seconds` before 2026-11-01, in the stored form.
fn at(seconds: usize) -> String {
    let base = time::macros::datetime!(2026-11-01 00:00:00 UTC);
    app::clock::text(base - time::Duration::seconds(seconds as i64))
}

async fn load(app: &App, opts: &Opts) -> Result<(String, f64, f64)> {
    let actor = Actor::system("bench");
    let rows = (0..CUSTOMERS).map(|i| vec![format!("K{i:05}"), format!("Cliente CRM {i}"), format!("crm{i}@example.com")]).collect();
    let table = Table { headers: ["codigo", "nombre", "email"].map(String::from).to_vec(), rows };
    let r = transfer::import(app, &actor, ImportKind::Customers, &table, &ImportOptions::default(), &|_, _| {}).await.map_err(err)?;
    if !r.applied {
        bail!("the customers were refused: {:?}", r.errors.first());
    }
    let mut conn = app.db.reader().await.map_err(err)?;
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM parties WHERE is_customer = 1 ORDER BY code").fetch_all(&mut *conn).await?;
    drop(conn);
    let ids: Vec<String> = ids.into_iter().map(|(i,)| i).collect();
    let busy = ids.first().cloned().unwrap_or_default();
    let sqlite = app.backend() == app::Backend::Sqlite;

    let started = Instant::now();
    let mut done = 0;
    while done < opts.interactions {
        let mut tx = app.db.begin().await.map_err(err)?;
        let end = (done + 50_000).min(opts.interactions);
        let mut i = done;
        while i < end {
            let n = BATCH.min(end - i);
            let sql = format!(
                "INSERT INTO interactions (id, party_id, kind, channel, direction, occurred_at, user_name, subject, created_at) VALUES {}",
                values(sqlite, n, 9)
            );
            let mut q = sqlx::query(&sql);
            for k in i..i + n {
                // Every tenth interaction is the busy customer's; the rest are spread.
                let party = if k % 10 == 0 { &busy } else { &ids[k % ids.len()] };
                let (kind, channel) = KINDS[k % KINDS.len()];
                let when = at(k * 97 % (3 * 365 * 86_400));
                q = q
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(party.clone())
                    .bind(kind)
                    .bind(channel)
                    .bind(if k % 2 == 0 { "in" } else { "out" })
                    .bind(when.clone())
                    .bind("bench")
                    .bind(format!("Contacto {k}"))
                    .bind(when);
            }
            q.execute(&mut *tx).await?;
            i += n;
        }
        tx.commit().await?;
        done = end;
        eprintln!("  interactions: {done}/{}", opts.interactions);
    }
    let interactions_s = started.elapsed().as_secs_f64();

    // Open tickets under the deferred policy on the business-hours calendar, half of them
    // having waited for the customer once.
    let started = Instant::now();
    let mut tx = app.db.begin().await.map_err(err)?;
    sqlx::query("UPDATE sla_policies SET calendar_id = '019a0000-0000-7000-8000-000000000101' WHERE code = 'deferred'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut done = 0;
    while done < opts.tickets {
        let mut tx = app.db.begin().await.map_err(err)?;
        let end = (done + 20_000).min(opts.tickets);
        for chunk_start in (done..end).step_by(BATCH / 2) {
            let n = (BATCH / 2).min(end - chunk_start);
            let sql = format!(
                "INSERT INTO tickets (id, number, type, channel, party_id, subject, priority, status, team, sla_policy_id, sla_started_at, \
                 created_by, created_at, updated_at) VALUES {}",
                values(sqlite, n, 14)
            );
            let mut q = sqlx::query(&sql);
            let mut events = Vec::new();
            for k in chunk_start..chunk_start + n {
                let id = uuid::Uuid::now_v7().to_string();
                let created = at(k % (20 * 86_400));
                let waiting = k % 2 == 0;
                q = q
                    .bind(id.clone())
                    .bind(k as i64 + 1)
                    .bind("claim")
                    .bind("email")
                    .bind(ids[k % ids.len()].clone())
                    .bind(format!("Reclamo {k}"))
                    .bind("normal")
                    .bind(if waiting { "waiting" } else { "open" })
                    .bind("back_office")
                    .bind("019a0000-0000-7000-8000-000000000112")
                    .bind(created.clone())
                    .bind("bench")
                    .bind(created.clone())
                    .bind(created.clone());
                events.push((id.clone(), created.clone(), "new"));
                if waiting {
                    events.push((id, at((k % (20 * 86_400)).saturating_sub(3_600)), "waiting"));
                }
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "INSERT INTO ticket_events (id, ticket_id, at, status, team, sla_policy_id, actor_name) VALUES {}",
                values(sqlite, events.len(), 7)
            );
            let mut q = sqlx::query(&sql);
            for (ticket, when, status) in events {
                q = q
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(ticket)
                    .bind(when)
                    .bind(status)
                    .bind("back_office")
                    .bind("019a0000-0000-7000-8000-000000000112")
                    .bind("bench");
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        done = end;
        eprintln!("  tickets: {done}/{}", opts.tickets);
    }
    let tickets_s = started.elapsed().as_secs_f64();
    app.db.refresh_statistics("interactions").await.map_err(err)?;
    app.db.refresh_statistics("tickets").await.map_err(err)?;
    Ok((busy, interactions_s, tickets_s))
}

fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({"p50_ms": round2(pct(&v, 50.0)), "p99_ms": round2(pct(&v, 99.0)), "max_ms": round2(v.last().copied().unwrap_or(0.0)), "n": v.len()})
}

async fn page(client: &reqwest::Client, url: &str, token: &str) -> Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let res = client.get(url).bearer_auth(token).send().await?;
    let status = res.status();
    let body: serde_json::Value = res.json().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() || body["items"].as_array().is_none_or(|a| a.is_empty()) {
        bail!("{url}: {status} {body}");
    }
    Ok((ms, body))
}

pub async fn run(opts: Opts) -> Result<serde_json::Value> {
    let fresh = fresh_database(opts.database_url.as_deref()).await?;
    let backend = if fresh.pg.is_some() { "postgres" } else { "sqlite" };
    eprintln!("tendero bench crm: {} interactions, {} open tickets on {backend}", opts.interactions, opts.tickets);
    let result = async {
        let app = App::open(&fresh.url).await.map_err(err)?;
        let admin = Actor::system("bench");
        let input = auth::UserInput {
            username: Some("bench".into()),
            password: Some("una-clave-larga-bench".into()),
            role: Some("administrator".into()),
            ..Default::default()
        };
        auth::create_user(&app, &admin, &input).await.map_err(err)?;
        let (_, token) = auth::new_token(&app, &admin, "bench", "bench").await.map_err(err)?;
        let (busy, interactions_s, tickets_s) = load(&app, &opts).await?;

        // The SLA clock for every open ticket: computed, and written back.
        let refreshed = app::desk::refresh_due_times(&app).await.map_err(err)?;
        let started = Instant::now();
        let again = app::desk::refresh_due_times(&app).await.map_err(err)?;
        let refresh_s = started.elapsed().as_secs_f64();
        app.db.close().await;

        let server = Server::start(&fresh)?;
        let client = reqwest::Client::new();
        let base = format!("{}/api/v1/customers/{busy}/timeline?limit=50", server.base);
        for _ in 0..20 {
            page(&client, &base, &token).await?;
        }
        let mut first = Vec::new();
        let mut deep = Vec::new();
        // A cursor half way down the history, found by walking it once.
        let (_, mut body) = page(&client, &base, &token).await?;
        let entries = opts.interactions / 10;
        for _ in 0..(entries / 50 / 2).min(1000) {
            let Some(c) = body["next_cursor"].as_str().map(str::to_string) else { break };
            body = page(&client, &format!("{base}&cursor={c}"), &token).await?.1;
        }
        let middle = body["next_cursor"].as_str().unwrap_or_default().to_string();
        for q in 0..opts.queries {
            first.push(page(&client, &base, &token).await?.0);
            if !middle.is_empty() && q % 2 == 0 {
                deep.push(page(&client, &format!("{base}&cursor={middle}"), &token).await?.0);
            }
        }
        let (peak, rss) = server.rss_mib();
        server.stop();
        Ok::<_, anyhow::Error>(json!({
            "workload": "crm",
            "backend": backend,
            "interactions": opts.interactions,
            "busy_customer_timeline_entries": entries,
            "open_tickets": refreshed.open,
            "load_interactions_rows_per_s": round2(opts.interactions as f64 / interactions_s.max(1e-9)),
            "load_tickets_rows_per_s": round2(opts.tickets as f64 / tickets_s.max(1e-9)),
            "timeline_first_page": summary(first),
            "timeline_middle_page": summary(deep),
            "sla_due_times_compute_s": (again.compute_s * 1e3).round() / 1e3,
            "sla_due_times_refresh_with_io_s": (refresh_s * 1e3).round() / 1e3,
            "sla_first_refresh_changed": refreshed.changed,
            "server_peak_rss_mb": peak,
            "server_rss_mb": rss,
        }))
    }
    .await;
    clean_up(&fresh).await;
    result
}
