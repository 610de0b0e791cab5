//! `tendero bench manufacturing`: the manufacturing workload of issue 4. Loads a
//! five-level bill of materials with 1,000 distinct components and N articles (100,000 by
//! default) with stock and a reorder rule each into a fresh database, then times the
//! explosion and cost roll-up of the top article (in memory, and with reading the bills
//! and costs from the database) and the replenishment suggestions over every rule.

use crate::bench::{clean_up, fresh_database, pct, round2};
use crate::crm_bench::values;
use anyhow::Result;
use app::{Actor, App};
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;
use store::master::{self as mrows, ProductRow};

pub struct Opts {
    pub articles: usize,
    pub components: usize,
    pub runs: usize,
    pub database_url: Option<String>,
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn product(i: usize, kind: &str, now: &str) -> ProductRow {
    let code = format!("B{i:06}");
    ProductRow {
        id: app::new_id(),
        name: format!("Artículo {code}"),
        name_norm: format!("articulo {}", code.to_lowercase()),
        search_text: code.to_lowercase(),
        code,
        barcode: None,
        description: None,
        kind: kind.into(),
        unit: "u".into(),
        sale_price: 1_000,
        cost: 100 + (i as i64 % 900),
        tax_rate_id: None,
        category: None,
        archived_at: None,
        created_at: now.into(),
        updated_at: now.into(),
        version: 1,
    }
}

/// The shape of the bill: how many distinct components at each of the five levels.
fn level_sizes(components: usize) -> [usize; 5] {
    // 4, 16, 64, 256 and the rest at the bottom (660 of 1,000).
    let mut sizes = [4, 16, 64, 256, 0];
    let upper: usize = sizes.iter().sum();
    sizes[4] = components.saturating_sub(upper);
    sizes
}

async fn load(app: &App, opts: &Opts) -> Result<(String, f64)> {
    let started = Instant::now();
    let now = app::clock::now_text();
    let sizes = level_sizes(opts.components);
    let made: usize = 1 + sizes[..4].iter().sum::<usize>();
    let total = opts.articles.max(made + sizes[4]);
    let rows: Vec<ProductRow> = (0..total).map(|i| product(i, if i < made { "manufactured" } else { "goods" }, &now)).collect();
    let mut tx = app.db.begin().await.map_err(err)?;
    mrows::insert_many(&mut tx, &rows).await.map_err(err)?;

    // Level by level: every article of a level gets its share of the next level.
    let mut level: Vec<usize> = vec![0];
    let mut next_index = 1;
    for size in sizes {
        let mut next = Vec::new();
        for (k, parent) in level.iter().enumerate() {
            let share = size / level.len() + usize::from(k < size % level.len());
            let bom = store::manufacturing::BomRow {
                id: app::new_id(),
                product_id: rows[*parent].id.clone(),
                notes: None,
                created_at: now.clone(),
                updated_at: now.clone(),
                version: 1,
            };
            let comps: Vec<store::manufacturing::ComponentRow> = (0..share)
                .map(|j| {
                    let child = next_index + j;
                    next.push(child);
                    store::manufacturing::ComponentRow {
                        id: app::new_id(),
                        bom_id: bom.id.clone(),
                        position: j as i64,
                        product_id: rows[child].id.clone(),
                        quantity: 1_000 + (child as i64 % 4) * 500,
                        scrap: (child as i64 % 3) * 250,
                    }
                })
                .collect();
            next_index += share;
            if !comps.is_empty() {
                store::manufacturing::save_bom(&mut tx, &bom, true).await.map_err(err)?;
                store::manufacturing::replace_components(&mut tx, &bom.id, &comps).await.map_err(err)?;
            }
        }
        level = next;
    }

    // Stock and a reorder rule for every article in the default warehouse.
    let sqlite = app.backend() == app::Backend::Sqlite;
    let wh = store::sales::default_warehouse(&mut tx).await.map_err(err)?.map(|w| w.id).unwrap_or_default();
    for part in rows.chunks(5_000) {
        let sql =
            format!("INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved) VALUES {}", values(sqlite, part.len(), 4));
        let mut q = sqlx::query(&sql);
        for (i, p) in part.iter().enumerate() {
            q = q.bind(&p.id).bind(&wh).bind((i as i64 % 40) * 1_000).bind((i as i64 % 7) * 1_000);
        }
        q.execute(&mut *tx).await?;
        let sql = format!(
            "INSERT INTO reorder_rules (product_id, warehouse_id, reorder_point, reorder_quantity, updated_at) VALUES {}",
            values(sqlite, part.len(), 5)
        );
        let mut q = sqlx::query(&sql);
        for (i, p) in part.iter().enumerate() {
            q = q.bind(&p.id).bind(&wh).bind(20_000_i64).bind((i as i64 % 5 + 1) * 10_000).bind(&now);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    for table in ["products", "stock_levels", "reorder_rules", "bom_components", "boms"] {
        app.db.refresh_statistics(table).await.map_err(err)?;
    }
    Ok((rows[0].id.clone(), started.elapsed().as_secs_f64()))
}

fn ms_summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({"p50_ms": round2(pct(&v, 50.0)), "max_ms": round2(v.last().copied().unwrap_or(0.0)), "n": v.len()})
}

pub async fn run(opts: Opts) -> Result<serde_json::Value> {
    let fresh = fresh_database(opts.database_url.as_deref()).await?;
    let backend = if fresh.pg.is_some() { "postgres" } else { "sqlite" };
    eprintln!("tendero bench manufacturing: {} components, {} articles with reorder rules on {backend}", opts.components, opts.articles);
    let result = async {
        let app = App::open(&fresh.url).await.map_err(err)?;
        let actor = Actor::system("bench");
        let (top, load_s) = load(&app, &opts).await?;

        // End to end: read the bills level by level and the costs, explode, roll up.
        let mut with_io = Vec::new();
        let mut lines = 0;
        let mut unit_cost = 0;
        for _ in 0..opts.runs.max(1) + 2 {
            let started = Instant::now();
            (unit_cost, lines) = app::manufacturing::rollup_unit_cost(&app, &actor, &top).await.map_err(err)?;
            with_io.push(started.elapsed().as_secs_f64() * 1e3);
        }
        with_io.drain(..2);

        // The pure work alone, on bills and costs already in memory.
        let mut conn = app.db.reader().await.map_err(err)?;
        let edges: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT b.product_id, c.product_id, c.quantity, c.scrap FROM bom_components c JOIN boms b ON b.id = c.bom_id")
                .fetch_all(&mut *conn)
                .await?;
        let costs: HashMap<String, i64> =
            sqlx::query_as::<_, (String, i64)>("SELECT id, cost FROM products").fetch_all(&mut *conn).await?.into_iter().collect();
        drop(conn);
        let mut boms = domain::manufacturing::Boms::new();
        for (parent, product_id, quantity, scrap) in edges {
            boms.entry(parent).or_default().push(domain::manufacturing::Component { product_id, quantity, scrap });
        }
        let mut in_memory = Vec::new();
        for _ in 0..opts.runs.max(1) {
            let started = Instant::now();
            std::hint::black_box(app::manufacturing::explode_and_cost(&top, 1_000, &boms, &costs));
            in_memory.push(started.elapsed().as_secs_f64() * 1e3);
        }

        let mut replenish = Vec::new();
        let mut suggestions = 0;
        for _ in 0..3 {
            let started = Instant::now();
            suggestions = app::manufacturing::replenishment(&app, &actor).await.map_err(err)?.items.len();
            replenish.push(started.elapsed().as_secs_f64() * 1e3);
        }
        app.db.close().await;
        Ok::<_, anyhow::Error>(json!({
            "workload": "manufacturing",
            "backend": backend,
            "bom_components": lines,
            "bom_levels": 5,
            "rolled_up_unit_cost_minor": unit_cost,
            "articles_with_reorder_rules": opts.articles,
            "suggestions": suggestions,
            "load_s": round2(load_s),
            "explode_and_cost_in_memory": ms_summary(in_memory),
            "explode_and_cost_with_reads": ms_summary(with_io),
            "replenishment": ms_summary(replenish),
        }))
    }
    .await;
    clean_up(&fresh).await;
    result
}
