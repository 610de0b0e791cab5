//! Manufacturing: bills of materials (several levels, no cycles), their explosion and
//! cost roll-up, production orders (draft → planned → reserved → done) that consume
//! components and add the article at its rolled-up cost, shortages, reorder rules and
//! the replenishment suggestions (buy or make). The rules live in
//! `domain::manufacturing`; each action here is one transaction, authorised and audited.

use crate::master::{company_in, cut_page, page_limit_into, status_and_cursor, Page};
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::manufacturing::{self as mf, Boms, Component, Status};
use domain::money::{format_scaled, format_trimmed, parse_scaled, PERCENT_SCALE, QUANTITY_SCALE};
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use store::manufacturing::{self as rows, BomRow, ComponentRow, ProductionLineRow, ProductionRow, RuleRow};
use store::master::{self as mrows, ProductRow};
use store::sales::{self as srows, MoveRow};
use store::Conn;
use utoipa::{IntoParams, ToSchema};

/// The production orders' sequence in `doc_sequences`.
const NUMBER_KIND: &str = "production";

fn qty(v: i64) -> String {
    format_trimmed(v, QUANTITY_SCALE)
}

/// A quantity field: required, decimal, greater than zero.
pub(crate) fn positive(errors: &mut FieldErrors, field: &str, input: Option<&str>) -> i64 {
    match input.map(|q| parse_scaled(q, QUANTITY_SCALE, true)) {
        None => errors.add(field, "field-required"),
        Some(Err(e)) => errors.add(field, e.key()),
        Some(Ok(q)) if q <= 0 => errors.add(field, "quantity-not-positive"),
        Some(Ok(q)) => return q,
    }
    0
}

/// An id field: `None` with its error when missing or malformed.
pub(crate) fn id_field(errors: &mut FieldErrors, field: &str, input: Option<&str>) -> Option<String> {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            errors.add(field, "field-required");
            None
        }
        Some(s) => parse_id(s).map_err(|_| errors.add(field, "id-invalid")).ok(),
    }
}

/// Articles by id.
pub(crate) async fn products(conn: &mut Conn, ids: &[String]) -> AppResult<HashMap<String, ProductRow>> {
    let ids: Vec<String> = ids.iter().cloned().collect::<HashSet<_>>().into_iter().collect();
    Ok(mrows::find_many::<ProductRow>(conn, "id", &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect())
}

/// The bills reachable from `roots`, read level by level (one query per level).
async fn boms_from(conn: &mut Conn, roots: &[String]) -> AppResult<Boms> {
    let mut boms = Boms::new();
    let mut frontier: Vec<String> = roots.to_vec();
    let mut seen: HashSet<String> = roots.iter().cloned().collect();
    while !frontier.is_empty() {
        let edges = rows::edges_from(conn, &frontier).await?;
        frontier.clear();
        for e in edges {
            if seen.insert(e.product_id.clone()) {
                frontier.push(e.product_id.clone());
            }
            boms.entry(e.parent_id).or_default().push(Component { product_id: e.product_id, quantity: e.quantity, scrap: e.scrap });
        }
    }
    Ok(boms)
}

/// Every article a set of bills mentions.
fn mentioned(root: &str, boms: &Boms) -> Vec<String> {
    let mut ids: HashSet<String> = boms.values().flatten().map(|c| c.product_id.clone()).collect();
    ids.insert(root.to_string());
    ids.into_iter().collect()
}

/// The stocked, live article `product_id` (already parsed) and the warehouse asked for
/// (the default one when none is), each as a field error when it is not there.
async fn article_and_warehouse(
    tx: &mut Conn,
    errors: &mut FieldErrors,
    product_id: Option<&str>,
    warehouse_id: Option<&str>,
) -> AppResult<(Option<ProductRow>, Option<srows::WarehouseRow>)> {
    let product = match product_id {
        Some(id) => mrows::get::<ProductRow>(tx, id).await?,
        None => None,
    };
    match &product {
        None if product_id.is_some() => errors.add("product_id", "product-unknown"),
        Some(p) if p.kind == "service" => errors.add("product_id", "product-not-stocked"),
        Some(p) if p.archived_at.is_some() => errors.add("product_id", "product-archived"),
        _ => {}
    }
    let warehouse = match warehouse_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(w) => match parse_id(w) {
            Ok(id) => srows::get_warehouse(tx, &id).await?.filter(|w| w.archived_at.is_none()),
            Err(_) => {
                errors.add("warehouse_id", "id-invalid");
                return Ok((product, None));
            }
        },
        None => srows::default_warehouse(tx).await?,
    };
    if warehouse.is_none() {
        errors.add("warehouse_id", "warehouse-unknown");
    }
    Ok((product, warehouse))
}

// ---------------------------------------------------------------- bills of materials

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BomComponent {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
    /// Per one unit of the article made.
    #[schema(example = "2.5")]
    pub quantity: String,
    /// Percent lost in making.
    #[schema(example = "10")]
    pub scrap_percent: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bom {
    pub id: String,
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub notes: Option<String>,
    pub components: Vec<BomComponent>,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentIn {
    pub product_id: Option<String>,
    #[schema(example = "2.5")]
    pub quantity: Option<String>,
    /// 0 to less than 100 (default 0).
    #[schema(example = "10")]
    pub scrap_percent: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BomIn {
    /// The article made; its bill is created or replaced.
    pub product_id: Option<String>,
    pub components: Option<Vec<ComponentIn>>,
    pub notes: Option<String>,
    /// When replacing: the version read (optional).
    pub version: Option<i64>,
}

fn bom_of(b: BomRow, comps: Vec<ComponentRow>, products: &HashMap<String, ProductRow>) -> Bom {
    let name = |id: &str| products.get(id).map(|p| (p.code.clone(), p.name.clone(), p.unit.clone())).unwrap_or_default();
    let (product_code, product_name, _) = name(&b.product_id);
    Bom {
        components: comps
            .into_iter()
            .map(|c| {
                let (product_code, product_name, unit) = name(&c.product_id);
                BomComponent {
                    product_id: c.product_id,
                    product_code,
                    product_name,
                    unit,
                    quantity: qty(c.quantity),
                    scrap_percent: format_trimmed(c.scrap, PERCENT_SCALE),
                }
            })
            .collect(),
        id: b.id,
        product_id: b.product_id,
        product_code,
        product_name,
        notes: b.notes,
        updated_at: b.updated_at,
        version: b.version,
    }
}

async fn read_bom(conn: &mut Conn, b: BomRow) -> AppResult<Bom> {
    let comps = rows::components_of(conn, std::slice::from_ref(&b.id)).await?;
    let mut ids: Vec<String> = comps.iter().map(|c| c.product_id.clone()).collect();
    ids.push(b.product_id.clone());
    let products = products(conn, &ids).await?;
    Ok(bom_of(b, comps, &products))
}

/// Creates the bill of an article, or replaces its components. Refuses a component that
/// is the article or contains it at any depth, bad quantities or scrap, a component
/// listed twice, services and archived or unknown articles: nothing is saved then.
pub async fn save_bom(app: &App, actor: &Actor, input: &BomIn) -> AppResult<Bom> {
    actor.authorize(Action::Create, Resource::Production)?;
    let mut errors = FieldErrors::new();
    let product_id = id_field(&mut errors, "product_id", input.product_id.as_deref());
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 500);
    let given = input.components.as_deref().unwrap_or_default();
    if given.len() > 2_000 {
        errors.add("components", "bom-too-many");
    }
    let mut components = Vec::with_capacity(given.len());
    for (i, c) in given.iter().enumerate() {
        let id = id_field(&mut errors, &format!("components.{i}.product_id"), c.product_id.as_deref());
        let quantity = match c.quantity.as_deref().map(|q| parse_scaled(q, QUANTITY_SCALE, true)) {
            None => {
                errors.add(&format!("components.{i}.quantity"), "field-required");
                1
            }
            Some(Err(e)) => {
                errors.add(&format!("components.{i}.quantity"), e.key());
                1
            }
            Some(Ok(q)) => q,
        };
        let scrap = match c.scrap_percent.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => 0,
            Some(s) => parse_scaled(s, PERCENT_SCALE, true).unwrap_or_else(|e| {
                errors.add(&format!("components.{i}.scrap_percent"), e.key());
                0
            }),
        };
        components.push(Component { product_id: id.unwrap_or_else(|| format!("?{i}")), quantity, scrap });
    }
    let mut tx = app.db.begin().await?;
    let product = match &product_id {
        Some(id) => mrows::get::<ProductRow>(&mut tx, id).await?,
        None => None,
    };
    match &product {
        None if product_id.is_some() => errors.add("product_id", "product-unknown"),
        Some(p) if p.kind != "manufactured" => errors.add("product_id", "bom-not-manufactured"),
        Some(p) if p.archived_at.is_some() => errors.add("product_id", "product-archived"),
        _ => {}
    }
    let ids: Vec<String> = components.iter().map(|c| c.product_id.clone()).filter(|id| !id.starts_with('?')).collect();
    let found = products(&mut tx, &ids).await?;
    for (i, c) in components.iter().enumerate() {
        let field = format!("components.{i}.product_id");
        match found.get(&c.product_id) {
            _ if c.product_id.starts_with('?') => {}
            None => errors.add(&field, "product-unknown"),
            Some(p) if p.kind == "service" => errors.add(&field, "product-not-stocked"),
            Some(p) if p.archived_at.is_some() => errors.add(&field, "product-archived"),
            _ => {}
        }
    }
    let boms = boms_from(&mut tx, &ids).await?;
    let root = product_id.clone().unwrap_or_default();
    for (field, key) in mf::check_bom(&root, &components, &boms) {
        if !errors.0.contains_key(&field) {
            errors.add(&field, key);
        }
    }
    errors.into_result(())?;
    let Some(product) = product else { return Err(AppError::NotFound) };
    let now = clock::now_text();
    let before = match rows::bom_of(&mut tx, &product.id).await? {
        Some(b) => Some(read_bom(&mut tx, b).await?),
        None => None,
    };
    if let (Some(b), Some(v)) = (&before, input.version) {
        if b.version != v {
            return Err(AppError::Conflict);
        }
    }
    let row = BomRow {
        id: before.as_ref().map(|b| b.id.clone()).unwrap_or_else(new_id),
        product_id: product.id.clone(),
        notes,
        created_at: now.clone(),
        updated_at: now,
        version: before.as_ref().map(|b| b.version).unwrap_or(1),
    };
    rows::save_bom(&mut tx, &row, before.is_none()).await?;
    let comp_rows: Vec<ComponentRow> = components
        .iter()
        .enumerate()
        .map(|(i, c)| ComponentRow {
            id: new_id(),
            bom_id: row.id.clone(),
            position: i as i64,
            product_id: c.product_id.clone(),
            quantity: c.quantity,
            scrap: c.scrap,
        })
        .collect();
    rows::replace_components(&mut tx, &row.id, &comp_rows).await?;
    let fresh = rows::get_bom(&mut tx, &row.id).await?.ok_or(AppError::NotFound)?;
    let after = read_bom(&mut tx, fresh).await?;
    audit::record(&mut tx, actor, if before.is_some() { "update" } else { "create" }, "bom", &after.id, before.as_ref(), Some(&after))
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

pub async fn get_bom(app: &App, actor: &Actor, id: &str) -> AppResult<Bom> {
    actor.authorize(Action::Read, Resource::Production)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let b = rows::get_bom(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    read_bom(&mut conn, b).await
}

/// The bill of an article, if it has one.
pub async fn bom_of_product(app: &App, actor: &Actor, product_id: &str) -> AppResult<Option<Bom>> {
    actor.authorize(Action::Read, Resource::Production)?;
    let id = parse_id(product_id)?;
    let mut conn = app.db.reader().await?;
    match rows::bom_of(&mut conn, &id).await? {
        Some(b) => Ok(Some(read_bom(&mut conn, b).await?)),
        None => Ok(None),
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BomParams {
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

pub async fn list_boms(app: &App, actor: &Actor, params: &BomParams) -> AppResult<Page<Bom>> {
    actor.authorize(Action::Read, Resource::Production)?;
    let mut errors = FieldErrors::new();
    let limit = page_limit_into(&mut errors, params.limit);
    let after = match params.cursor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => parse_id(c).map_err(|_| errors.add("cursor", "id-invalid")).ok(),
        None => None,
    };
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let mut found = rows::list_boms(&mut conn, after.as_deref(), limit).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|b| b.id.clone())
    } else {
        None
    };
    let bom_ids: Vec<String> = found.iter().map(|b| b.id.clone()).collect();
    let comps = rows::components_of(&mut conn, &bom_ids).await?;
    let mut ids: Vec<String> = comps.iter().map(|c| c.product_id.clone()).collect();
    ids.extend(found.iter().map(|b| b.product_id.clone()));
    let products = products(&mut conn, &ids).await?;
    let mut by_bom: HashMap<String, Vec<ComponentRow>> = HashMap::new();
    for c in comps {
        by_bom.entry(c.bom_id.clone()).or_default().push(c);
    }
    let items = found
        .into_iter()
        .map(|b| {
            let comps = by_bom.remove(&b.id).unwrap_or_default();
            bom_of(b, comps, &products)
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Deletes a bill no open production order uses.
pub async fn delete_bom(app: &App, actor: &Actor, id: &str) -> AppResult<()> {
    actor.authorize(Action::Archive, Resource::Production)?;
    let id = parse_id(id)?;
    let mut tx = app.db.begin().await?;
    let b = rows::get_bom(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    if rows::open_orders_of(&mut tx, &b.product_id).await? > 0 {
        return Err(AppError::Refused("bom-in-use"));
    }
    let before = read_bom(&mut tx, b).await?;
    rows::delete_bom(&mut tx, &id).await?;
    audit::record(&mut tx, actor, "delete", "bom", &id, Some(&before), None::<&()>).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RollupLine {
    /// 1 = a direct component.
    pub level: u32,
    pub parent_id: String,
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    /// Needed for the quantity asked, scrap included.
    pub quantity: String,
    /// Rolled up when it is made, its article cost when bought.
    pub unit_cost: String,
    /// Whether it has its own bill (exploded on the following lines).
    pub made: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostRollup {
    pub product_id: String,
    pub quantity: String,
    /// One unit, rolled up from the components' costs.
    pub unit_cost: String,
    /// The quantity asked at the unit cost.
    pub total_cost: String,
    /// The article's current cost (weighted average of what was made and bought).
    pub current_cost: String,
    pub lines: Vec<RollupLine>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollupParams {
    /// How many to make (default 1).
    pub quantity: Option<String>,
}

/// Explodes `quantity` of an article to every level and rolls its cost up.
pub async fn cost_rollup(app: &App, actor: &Actor, product_id: &str, params: &RollupParams) -> AppResult<CostRollup> {
    actor.authorize(Action::Read, Resource::Production)?;
    let id = parse_id(product_id)?;
    let mut errors = FieldErrors::new();
    let quantity = match params.quantity.as_deref() {
        None => 1_000,
        q => positive(&mut errors, "quantity", q),
    };
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let product = mrows::get::<ProductRow>(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    let d = company_in(&mut conn).await?.decimals();
    let boms = boms_from(&mut conn, std::slice::from_ref(&id)).await?;
    let products = products(&mut conn, &mentioned(&id, &boms)).await?;
    let costs: HashMap<String, i64> = products.iter().map(|(k, p)| (k.clone(), p.cost)).collect();
    Ok(rollup_of(&product, quantity, &boms, &products, &costs, d))
}

fn rollup_of(
    product: &ProductRow,
    quantity: i64,
    boms: &Boms,
    products: &HashMap<String, ProductRow>,
    costs: &HashMap<String, i64>,
    d: u32,
) -> CostRollup {
    let unit = mf::roll_up(&product.id, boms, costs);
    let lines = mf::explode(&product.id, quantity, boms);
    let unit_cost = unit.get(&product.id).copied().unwrap_or(product.cost);
    CostRollup {
        product_id: product.id.clone(),
        quantity: qty(quantity),
        unit_cost: format_scaled(unit_cost, d),
        total_cost: format_scaled(domain::stock::value_of(quantity, unit_cost), d),
        current_cost: format_scaled(product.cost, d),
        lines: lines
            .into_iter()
            .map(|l| {
                let p = products.get(&l.product_id);
                RollupLine {
                    level: l.level,
                    unit_cost: format_scaled(unit.get(&l.product_id).copied().unwrap_or(0), d),
                    product_code: p.map(|p| p.code.clone()).unwrap_or_default(),
                    product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                    parent_id: l.parent_id,
                    product_id: l.product_id,
                    quantity: qty(l.quantity),
                    made: l.made,
                }
            })
            .collect(),
    }
}

/// Explosion and roll-up of an article from bills and costs already in memory (the
/// benchmark's measure of the pure work): the rolled-up unit cost and the number of lines.
pub fn explode_and_cost(product_id: &str, quantity: i64, boms: &Boms, costs: &HashMap<String, i64>) -> (i64, usize) {
    let lines = mf::explode(product_id, quantity, boms);
    let unit = mf::roll_up(product_id, boms, costs);
    (unit.get(product_id).copied().unwrap_or(0), lines.len())
}

/// What the benchmark times end to end: read the bills and costs, explode and roll up.
pub async fn rollup_unit_cost(app: &App, actor: &Actor, product_id: &str) -> AppResult<(i64, usize)> {
    actor.authorize(Action::Read, Resource::Production)?;
    let mut conn = app.db.reader().await?;
    let boms = boms_from(&mut conn, &[product_id.to_string()]).await?;
    let ids = mentioned(product_id, &boms);
    let costs: HashMap<String, i64> = rows::costs_of(&mut conn, &ids).await?.into_iter().collect();
    Ok(explode_and_cost(product_id, 1_000, &boms, &costs))
}

// ---------------------------------------------------------------- production orders

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductionLine {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
    /// Needed, scrap included.
    pub quantity: String,
    /// Reserved of it for this order.
    pub reserved: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductionOrder {
    pub id: String,
    /// Taken when planned: `0001-00000042`.
    pub number: Option<String>,
    /// draft, planned, reserved, done, cancelled.
    pub status: String,
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub quantity: String,
    pub warehouse_id: String,
    pub planned_date: Option<String>,
    pub notes: Option<String>,
    /// Per unit made, rolled up from what was consumed (when done).
    pub unit_cost: Option<String>,
    /// The direct components (written when planned).
    pub lines: Vec<ProductionLine>,
    pub created_at: String,
    pub created_by: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionIn {
    pub product_id: Option<String>,
    #[schema(example = "10")]
    pub quantity: Option<String>,
    /// The default warehouse when not given.
    pub warehouse_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub planned_date: Option<String>,
    pub notes: Option<String>,
}

async fn read_order(conn: &mut Conn, o: ProductionRow) -> AppResult<ProductionOrder> {
    let lines = rows::production_lines(conn, &o.id).await?;
    let mut ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    ids.extend(o.product_id.clone());
    let products = products(conn, &ids).await?;
    let d = company_in(conn).await?.decimals();
    Ok(order_of(o, lines, &products, d))
}

fn order_of(o: ProductionRow, lines: Vec<ProductionLineRow>, products: &HashMap<String, ProductRow>, d: u32) -> ProductionOrder {
    let product_id = o.product_id.unwrap_or_default();
    let p = products.get(&product_id);
    ProductionOrder {
        id: o.id,
        number: o.number.map(|n| domain::sales::format_number(1, n)),
        status: o.status,
        product_code: p.map(|p| p.code.clone()).unwrap_or_default(),
        product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
        product_id,
        quantity: qty(o.quantity.unwrap_or(0)),
        warehouse_id: o.warehouse_id,
        planned_date: o.planned_date,
        notes: o.notes,
        unit_cost: o.unit_cost.map(|c| format_scaled(c, d)),
        lines: lines
            .into_iter()
            .map(|l| {
                let p = products.get(&l.product_id);
                ProductionLine {
                    product_code: p.map(|p| p.code.clone()).unwrap_or_default(),
                    product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                    unit: p.map(|p| p.unit.clone()).unwrap_or_default(),
                    product_id: l.product_id,
                    quantity: qty(l.quantity),
                    reserved: qty(l.expected),
                }
            })
            .collect(),
        created_at: o.created_at,
        created_by: o.created_by,
        done_at: o.done_at,
        done_by: o.done_by,
        cancelled_at: o.cancelled_at,
        cancelled_by: o.cancelled_by,
        version: o.version,
    }
}

/// A draft production order of an article that has a bill of materials.
pub async fn create_order(app: &App, actor: &Actor, input: &ProductionIn) -> AppResult<ProductionOrder> {
    actor.authorize(Action::Create, Resource::Production)?;
    let mut errors = FieldErrors::new();
    let product_id = id_field(&mut errors, "product_id", input.product_id.as_deref());
    let quantity = positive(&mut errors, "quantity", input.quantity.as_deref());
    let planned_date = match input.planned_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE) {
            Ok(d) => Some(d.to_string()),
            Err(_) => {
                errors.add("planned_date", "date-invalid");
                None
            }
        },
        None => None,
    };
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 500);
    let mut tx = app.db.begin().await?;
    let (product, warehouse) = article_and_warehouse(&mut tx, &mut errors, product_id.as_deref(), input.warehouse_id.as_deref()).await?;
    if let Some(p) = product.as_ref().filter(|_| !errors.0.contains_key("product_id")) {
        if rows::bom_of(&mut tx, &p.id).await?.is_none() {
            errors.add("product_id", "production-no-bom");
        }
    }
    errors.into_result(())?;
    let (Some(product), Some(warehouse)) = (product, warehouse) else { return Err(AppError::NotFound) };
    let now = clock::now_text();
    let row = ProductionRow {
        id: new_id(),
        status: Status::Draft.code().into(),
        warehouse_id: warehouse.id,
        product_id: Some(product.id),
        quantity: Some(quantity),
        planned_date,
        notes,
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..ProductionRow::default()
    };
    rows::save_production(&mut tx, &row, true).await?;
    let after = read_order(&mut tx, row).await?;
    audit::record(&mut tx, actor, "create", "production_order", &after.id, None::<&()>, Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

pub async fn get_order(app: &App, actor: &Actor, id: &str) -> AppResult<ProductionOrder> {
    actor.authorize(Action::Read, Resource::Production)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let o = rows::get_production(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    read_order(&mut conn, o).await
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductionParams {
    /// draft, planned, reserved, done or cancelled.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// Production orders, newest first.
pub async fn list_orders(app: &App, actor: &Actor, params: &ProductionParams) -> AppResult<Page<ProductionOrder>> {
    actor.authorize(Action::Read, Resource::Production)?;
    let mut errors = FieldErrors::new();
    let limit = page_limit_into(&mut errors, params.limit);
    let (status, before) =
        status_and_cursor(&mut errors, params.status.as_deref(), |s| Status::from_code(s).map(Status::code), params.cursor.as_deref());
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let mut found = rows::list_productions(&mut conn, status, before.as_deref(), limit).await?;
    let next_cursor = cut_page(&mut found, limit, |o| o.id.clone());
    let ids: Vec<String> = found.iter().filter_map(|o| o.product_id.clone()).collect();
    let products = products(&mut conn, &ids).await?;
    let d = company_in(&mut conn).await?.decimals();
    // The list shows no component lines; the order's page does.
    Ok(Page { items: found.into_iter().map(|o| order_of(o, Vec::new(), &products, d)).collect(), next_cursor })
}

/// Moves an order along its life: plan (number and component lines), reserve
/// (components held), produce (components consumed, the article added at its rolled-up
/// cost, its cost averaged) or cancel (reservations released). One transaction.
pub async fn act(app: &App, actor: &Actor, id: &str, action: mf::Action) -> AppResult<ProductionOrder> {
    actor.authorize(Action::Update, Resource::Production)?;
    let id = parse_id(id)?;
    let mut tx = app.db.begin().await?;
    let mut o = rows::get_production(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    let from = Status::from_code(&o.status).ok_or_else(|| AppError::Internal(format!("production status {}", o.status)))?;
    let to = mf::transition(from, action).map_err(AppError::Refused)?;
    let before = read_order(&mut tx, o.clone()).await?;
    let product_id = o.product_id.clone().unwrap_or_default();
    let quantity = o.quantity.unwrap_or(0);
    let now = clock::now_text();
    let mut lines = rows::production_lines(&mut tx, &o.id).await?;
    match action {
        mf::Action::Plan => {
            let boms = boms_from(&mut tx, std::slice::from_ref(&product_id)).await?;
            let direct = boms.get(&product_id).ok_or(AppError::Refused("production-no-bom"))?;
            lines = direct
                .iter()
                .enumerate()
                .map(|(i, c)| ProductionLineRow {
                    id: new_id(),
                    stock_document_id: o.id.clone(),
                    position: i as i64,
                    product_id: c.product_id.clone(),
                    quantity: mf::gross(quantity, c.quantity, c.scrap),
                    expected: 0,
                })
                .collect();
            o.number = Some(srows::take_number(&mut tx, NUMBER_KIND, 1).await?);
        }
        mf::Action::Reserve => {
            for l in &mut lines {
                srows::reserve(&mut tx, &l.product_id, &o.warehouse_id, l.quantity).await?;
                l.expected = l.quantity;
            }
        }
        mf::Action::Cancel => {
            for l in &mut lines {
                if l.expected != 0 {
                    srows::reserve(&mut tx, &l.product_id, &o.warehouse_id, -l.expected).await?;
                    l.expected = 0;
                }
            }
        }
        mf::Action::Produce => {
            o.unit_cost = Some(produce(&mut tx, actor, &o, &product_id, quantity, &mut lines, &now).await?);
            o.done_at = Some(now.clone());
            o.done_by = Some(actor.username.clone());
        }
    }
    if action == mf::Action::Cancel {
        o.cancelled_at = Some(now.clone());
        o.cancelled_by = Some(actor.username.clone());
    }
    rows::replace_production_lines(&mut tx, &o.id, &lines).await?;
    o.status = to.code().into();
    o.updated_at = now;
    rows::save_production(&mut tx, &o, false).await?;
    o.version += 1;
    let after = read_order(&mut tx, o).await?;
    audit::record(&mut tx, actor, action.code(), "production_order", &after.id, Some(&before), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

/// Consumes the direct components (releasing what was reserved), adds the article at
/// the cost of what was consumed and averages the article's cost over every warehouse:
/// returns the unit cost of what was made. Refuses, field by field, components that
/// would go below zero unless the stock policy allows it.
async fn produce(
    tx: &mut Conn,
    actor: &Actor,
    o: &ProductionRow,
    product_id: &str,
    quantity: i64,
    lines: &mut [ProductionLineRow],
    now: &str,
) -> AppResult<i64> {
    let allow_negative = srows::setting(tx, "stock.allow_negative").await?.as_deref() == Some("1");
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).chain([product_id.to_string()]).collect();
    let products = products(tx, &ids).await?;
    let mut errors = FieldErrors::new();
    let mut consumed = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter_mut().enumerate() {
        let cost = products.get(&l.product_id).map(|p| p.cost).unwrap_or(0);
        let mut m = MoveRow {
            id: new_id(),
            product_id: l.product_id.clone(),
            warehouse_id: o.warehouse_id.clone(),
            quantity: -l.quantity,
            kind: "consumption".into(),
            at: now.to_string(),
            created_by: actor.username.clone(),
            unit_cost: Some(cost),
            stock_document_id: Some(o.id.clone()),
            ..MoveRow::default()
        };
        let balance = srows::apply_move(tx, &mut m, -l.expected).await?;
        if balance < 0 && !allow_negative {
            errors.add(&format!("lines.{i}.quantity"), "stock-insufficient");
        }
        l.expected = 0;
        consumed.push((l.quantity, cost));
    }
    errors.into_result(())?;
    let unit_cost = mf::made_unit_cost(&consumed, quantity);
    let product = products.get(product_id).ok_or(AppError::NotFound)?;
    let on_hand = rows::total_on_hand(tx, product_id).await?;
    let mut m = MoveRow {
        id: new_id(),
        product_id: product_id.to_string(),
        warehouse_id: o.warehouse_id.clone(),
        quantity,
        kind: "production".into(),
        at: now.to_string(),
        created_by: actor.username.clone(),
        unit_cost: Some(unit_cost),
        stock_document_id: Some(o.id.clone()),
        ..MoveRow::default()
    };
    srows::apply_move(tx, &mut m, 0).await?;
    let cost = domain::stock::weighted_average_cost(on_hand, product.cost, quantity, unit_cost);
    store::purchasing::set_cost(tx, product_id, cost, now).await?;
    Ok(unit_cost)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShortageLine {
    /// 1 = a direct component; 0 on the totals of bought articles.
    pub level: u32,
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub required: String,
    /// On hand less reserved (what this order reserved counts as its own).
    pub available: String,
    pub missing: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shortages {
    pub order_id: String,
    pub warehouse_id: String,
    /// Every level, gross (each made component as if none were in stock).
    pub lines: Vec<ShortageLine>,
    /// The bought articles in total.
    pub leaves: Vec<ShortageLine>,
    /// Whether anything is missing at the first level or among the bought articles.
    pub complete: bool,
}

/// What is missing to make an open order, exploding every level.
pub async fn shortages(app: &App, actor: &Actor, id: &str) -> AppResult<Shortages> {
    actor.authorize(Action::Read, Resource::Production)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let o = rows::get_production(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    if !Status::from_code(&o.status).is_some_and(Status::open) {
        return Err(AppError::Refused("production-not-open"));
    }
    let product_id = o.product_id.clone().unwrap_or_default();
    let boms = boms_from(&mut conn, std::slice::from_ref(&product_id)).await?;
    let lines = mf::explode(&product_id, o.quantity.unwrap_or(0), &boms);
    let ids = mentioned(&product_id, &boms);
    let own: HashMap<String, i64> =
        rows::production_lines(&mut conn, &o.id).await?.into_iter().map(|l| (l.product_id, l.expected)).collect();
    let available: HashMap<String, i64> = rows::levels_in(&mut conn, &o.warehouse_id, &ids)
        .await?
        .into_iter()
        .map(|(p, on_hand, reserved)| {
            let mine = own.get(&p).copied().unwrap_or(0);
            (p, on_hand - reserved + mine)
        })
        .collect();
    let products = products(&mut conn, &ids).await?;
    let (per_level, leaves) = mf::shortages(&lines, &available);
    let line = |s: mf::Shortage| {
        let p = products.get(&s.product_id);
        ShortageLine {
            level: s.level,
            product_code: p.map(|p| p.code.clone()).unwrap_or_default(),
            product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
            product_id: s.product_id,
            required: qty(s.required),
            available: qty(s.available),
            missing: qty(s.missing),
        }
    };
    let complete = per_level.iter().filter(|s| s.level == 1).all(|s| s.missing == 0) || leaves.iter().all(|s| s.missing == 0);
    Ok(Shortages {
        order_id: o.id,
        warehouse_id: o.warehouse_id,
        lines: per_level.into_iter().map(line).collect(),
        leaves: leaves.into_iter().map(line).collect(),
        complete,
    })
}

// ---------------------------------------------------------------- reorder rules and replenishment

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReorderRule {
    pub product_id: String,
    pub warehouse_id: String,
    #[schema(example = "10")]
    pub reorder_point: String,
    #[schema(example = "25")]
    pub reorder_quantity: String,
    pub updated_at: String,
}

fn rule_of(r: RuleRow) -> ReorderRule {
    ReorderRule {
        product_id: r.product_id,
        warehouse_id: r.warehouse_id,
        reorder_point: qty(r.reorder_point),
        reorder_quantity: qty(r.reorder_quantity),
        updated_at: r.updated_at,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderRuleIn {
    pub product_id: Option<String>,
    /// The default warehouse when not given.
    pub warehouse_id: Option<String>,
    /// Below this (projected), suggest more; 0 or more.
    pub reorder_point: Option<String>,
    /// At least this much each time; more than 0.
    pub reorder_quantity: Option<String>,
}

/// Sets the reorder point and quantity of an article in a warehouse.
pub async fn set_rule(app: &App, actor: &Actor, input: &ReorderRuleIn) -> AppResult<ReorderRule> {
    actor.authorize(Action::Update, Resource::Stock)?;
    let mut errors = FieldErrors::new();
    let product_id = id_field(&mut errors, "product_id", input.product_id.as_deref());
    let point = match input.reorder_point.as_deref().map(|q| parse_scaled(q, QUANTITY_SCALE, false)) {
        None => {
            errors.add("reorder_point", "field-required");
            0
        }
        Some(Err(e)) => {
            errors.add("reorder_point", e.key());
            0
        }
        Some(Ok(q)) => q,
    };
    let quantity = positive(&mut errors, "reorder_quantity", input.reorder_quantity.as_deref());
    let mut tx = app.db.begin().await?;
    let (product, warehouse) = article_and_warehouse(&mut tx, &mut errors, product_id.as_deref(), input.warehouse_id.as_deref()).await?;
    errors.into_result(())?;
    let (Some(product), Some(warehouse)) = (product, warehouse) else { return Err(AppError::NotFound) };
    let before = rows::get_rule(&mut tx, &product.id, &warehouse.id).await?.map(rule_of);
    let row = RuleRow {
        product_id: product.id,
        warehouse_id: warehouse.id,
        reorder_point: point,
        reorder_quantity: quantity,
        updated_at: clock::now_text(),
    };
    rows::set_rule(&mut tx, &row).await?;
    let after = rule_of(row);
    let key = format!("{}:{}", after.product_id, after.warehouse_id);
    audit::record(&mut tx, actor, if before.is_some() { "update" } else { "create" }, "reorder_rule", &key, before.as_ref(), Some(&after))
        .await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleParams {
    pub product_id: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

pub async fn list_rules(app: &App, actor: &Actor, params: &RuleParams) -> AppResult<Page<ReorderRule>> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut errors = FieldErrors::new();
    let limit = page_limit_into(&mut errors, params.limit);
    let product = match params.product_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => parse_id(p).map_err(|_| errors.add("product_id", "id-invalid")).ok(),
        None => None,
    };
    let after = match params.cursor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => match c.split_once(':').map(|(p, w)| (parse_id(p), parse_id(w))) {
            Some((Ok(p), Ok(w))) => (p, w),
            _ => {
                errors.add("cursor", "id-invalid");
                Default::default()
            }
        },
        None => Default::default(),
    };
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let mut found = rows::rules(&mut conn, product.as_deref(), (&after.0, &after.1), limit).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| format!("{}:{}", r.product_id, r.warehouse_id))
    } else {
        None
    };
    Ok(Page { items: found.into_iter().map(rule_of).collect(), next_cursor })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub warehouse_id: String,
    /// buy or make.
    pub action: String,
    /// How much to buy or make.
    pub quantity: String,
    pub on_hand: String,
    pub reserved: String,
    pub open_purchase: String,
    pub open_production: String,
    /// On hand − reserved + open purchase + open production.
    pub projected: String,
    pub reorder_point: String,
    pub reorder_quantity: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// What to buy or make: every reorder rule whose projected stock is below its point.
pub async fn replenishment(app: &App, actor: &Actor) -> AppResult<Suggestions> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut conn = app.db.reader().await?;
    let positions = rows::positions(&mut conn).await?;
    let items = positions
        .into_iter()
        .filter_map(|r| {
            let p = mf::StockPosition {
                on_hand: r.on_hand,
                reserved: r.reserved,
                open_purchase: r.open_purchase,
                open_production: r.open_production,
                reorder_point: r.reorder_point,
                reorder_quantity: r.reorder_quantity,
                makeable: r.kind == "manufactured" && r.has_bom != 0,
            };
            let (action, quantity) = mf::suggest(&p)?;
            Some(Suggestion {
                product_id: r.product_id,
                product_code: r.code,
                product_name: r.name,
                warehouse_id: r.warehouse_id,
                action: action.code().into(),
                quantity: qty(quantity),
                on_hand: qty(r.on_hand),
                reserved: qty(r.reserved),
                open_purchase: qty(r.open_purchase),
                open_production: qty(r.open_production),
                projected: qty(mf::projected(&p)),
                reorder_point: qty(r.reorder_point),
                reorder_quantity: qty(r.reorder_quantity),
            })
        })
        .collect();
    Ok(Suggestions { items })
}
