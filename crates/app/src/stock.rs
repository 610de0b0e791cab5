//! Warehouses and stock: levels (on hand, reserved, available), adjustments with a
//! reason, and each article's stock card (*kardex*). Deliveries and returns move stock
//! from `sales`; every move goes through `store::sales::apply_move`, which keeps the level
//! equal to the sum of the moves.

use crate::master::company_in;
use crate::master::Page;
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_trimmed, parse_scaled, QUANTITY_SCALE};
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use store::master::{self as mrows, ProductRow};
use store::sales::{self as rows, MoveRow, WarehouseRow};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Warehouse {
    pub id: String,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub is_default: bool,
    pub archived: bool,
    pub version: i64,
}

fn warehouse_of(w: WarehouseRow) -> Warehouse {
    Warehouse {
        id: w.id,
        code: w.code,
        name: w.name,
        address: w.address,
        is_default: w.is_default != 0,
        archived: w.archived_at.is_some(),
        version: w.version,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseIn {
    pub code: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub archived: Option<bool>,
    pub version: Option<i64>,
}

pub async fn list_warehouses(app: &App, actor: &Actor) -> AppResult<Vec<Warehouse>> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut conn = app.db.reader().await?;
    Ok(rows::warehouses(&mut conn).await?.into_iter().map(warehouse_of).collect())
}

pub async fn get_warehouse(app: &App, actor: &Actor, id: &str) -> AppResult<Warehouse> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    rows::get_warehouse(&mut conn, &id).await?.map(warehouse_of).ok_or(AppError::NotFound)
}

/// Creates a warehouse (`id` none) or changes one.
pub async fn save_warehouse(app: &App, actor: &Actor, id: Option<&str>, input: &WarehouseIn) -> AppResult<Warehouse> {
    actor.authorize(if id.is_some() { Action::Update } else { Action::Create }, Resource::Stock)?;
    if input.archived == Some(true) {
        actor.authorize(Action::Archive, Resource::Stock)?;
    }
    let mut tx = app.db.begin().await?;
    let now = clock::now_text();
    let before = match id {
        Some(id) => Some(rows::get_warehouse(&mut tx, &parse_id(id)?).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let (Some(b), Some(v)) = (&before, input.version) {
        if b.version != v {
            return Err(AppError::Conflict);
        }
    }
    let mut errors = FieldErrors::new();
    let code = match (&before, input.code.as_deref()) {
        (Some(b), None) => b.code.clone(),
        (_, c) => v::required(&mut errors, "code", c, 20).to_uppercase(),
    };
    let name = match (&before, input.name.as_deref()) {
        (Some(b), None) => b.name.clone(),
        (_, n) => v::required(&mut errors, "name", n, 120),
    };
    let address = match (&before, &input.address) {
        (Some(b), None) => b.address.clone(),
        (_, a) => v::optional(&mut errors, "address", a.as_deref(), 300),
    };
    errors.into_result(())?;
    let archived_at = match (input.archived, &before) {
        (Some(true), Some(b)) => b.archived_at.clone().or(Some(now.clone())),
        (Some(true), None) => Some(now.clone()),
        (Some(false), _) => None,
        (None, Some(b)) => b.archived_at.clone(),
        (None, None) => None,
    };
    if archived_at.is_some() && before.as_ref().is_some_and(|b| b.is_default != 0) {
        return Err(AppError::Refused("warehouse-default-archive"));
    }
    let row = WarehouseRow {
        id: before.as_ref().map(|b| b.id.clone()).unwrap_or_else(new_id),
        code,
        name,
        address,
        is_default: before.as_ref().map(|b| b.is_default).unwrap_or(0),
        archived_at,
        created_at: before.as_ref().map(|b| b.created_at.clone()).unwrap_or(now.clone()),
        updated_at: now,
        version: before.as_ref().map(|b| b.version).unwrap_or(1),
    };
    match &before {
        Some(_) => rows::update_warehouse(&mut tx, &row).await?,
        None => rows::insert_warehouse(&mut tx, &row).await?,
    }
    let after = Warehouse { version: row.version + i64::from(before.is_some()), ..warehouse_of(row) };
    let b = before.map(warehouse_of);
    audit::record(&mut tx, actor, if b.is_some() { "update" } else { "create" }, "warehouse", &after.id, b.as_ref(), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevel {
    pub warehouse_id: String,
    pub product_id: String,
    #[schema(example = "12")]
    pub on_hand: String,
    /// Held by confirmed orders not yet delivered.
    pub reserved: String,
    /// On hand less reserved.
    pub available: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockParams {
    pub product_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// Stock card: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Stock card: page size, 1–500 (default 100).
    pub limit: Option<i64>,
}

fn opt_id(errors: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<String> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match parse_id(v) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "id-invalid");
            None
        }
    }
}

pub async fn levels(app: &App, actor: &Actor, params: &StockParams) -> AppResult<Vec<StockLevel>> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut errors = FieldErrors::new();
    let product = opt_id(&mut errors, "product_id", params.product_id.as_deref());
    let warehouse = opt_id(&mut errors, "warehouse_id", params.warehouse_id.as_deref());
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let found = rows::levels(&mut conn, product.as_deref(), warehouse.as_deref()).await?;
    Ok(found
        .into_iter()
        .map(|l| StockLevel {
            warehouse_id: l.warehouse_id,
            product_id: l.product_id,
            on_hand: format_trimmed(l.on_hand, QUANTITY_SCALE),
            reserved: format_trimmed(l.reserved, QUANTITY_SCALE),
            available: format_trimmed(l.on_hand - l.reserved, QUANTITY_SCALE),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockMove {
    pub id: String,
    pub product_id: String,
    pub warehouse_id: String,
    /// Positive in, negative out.
    pub quantity: String,
    /// adjustment, delivery, return…
    pub kind: String,
    pub reason: Option<String>,
    pub document_id: Option<String>,
    /// The transfer, count or production order that caused it.
    pub stock_document_id: Option<String>,
    /// The number of the document that caused it (`0001-00000042`), once it has one.
    pub document_number: Option<String>,
    /// The balance in the warehouse right after this move.
    pub balance: String,
    pub at: String,
    pub created_by: String,
}

fn move_of(m: MoveRow) -> StockMove {
    StockMove {
        id: m.id,
        product_id: m.product_id,
        warehouse_id: m.warehouse_id,
        quantity: format_trimmed(m.quantity, QUANTITY_SCALE),
        kind: m.kind,
        reason: m.reason,
        document_id: m.document_id,
        stock_document_id: m.stock_document_id,
        document_number: None,
        balance: format_trimmed(m.balance, QUANTITY_SCALE),
        at: m.at,
        created_by: m.created_by,
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    pub product_id: Option<String>,
    /// The default warehouse when not given.
    pub warehouse_id: Option<String>,
    /// Positive adds, negative removes; opening stock is a positive adjustment.
    #[schema(example = "25")]
    pub quantity: Option<String>,
    /// Why: opening stock, count, breakage, loss…
    pub reason: Option<String>,
}

/// Opening stock or a correction: one move with its reason.
pub async fn adjust(app: &App, actor: &Actor, input: &AdjustmentIn) -> AppResult<StockMove> {
    actor.authorize(Action::Create, Resource::Stock)?;
    let mut tx = app.db.begin().await?;
    let mut errors = FieldErrors::new();
    let product = match opt_id(&mut errors, "product_id", input.product_id.as_deref()) {
        Some(id) => mrows::get::<ProductRow>(&mut tx, &id).await?,
        None => None,
    };
    match &product {
        None if !errors.0.contains_key("product_id") => errors.add("product_id", "product-unknown"),
        Some(p) if p.kind == "service" => errors.add("product_id", "product-not-stocked"),
        Some(p) if p.archived_at.is_some() => errors.add("product_id", "product-archived"),
        _ => {}
    }
    let warehouse = match opt_id(&mut errors, "warehouse_id", input.warehouse_id.as_deref()) {
        Some(id) => rows::get_warehouse(&mut tx, &id).await?.filter(|w| w.archived_at.is_none()),
        None => rows::default_warehouse(&mut tx).await?,
    };
    if warehouse.is_none() {
        errors.add("warehouse_id", "warehouse-unknown");
    }
    let quantity = match input.quantity.as_deref().map(|q| parse_scaled(q, QUANTITY_SCALE, true)) {
        None => {
            errors.add("quantity", "field-required");
            0
        }
        Some(Err(e)) => {
            errors.add("quantity", e.key());
            0
        }
        Some(Ok(0)) => {
            errors.add("quantity", "quantity-zero");
            0
        }
        Some(Ok(q)) => q,
    };
    let reason = v::required(&mut errors, "reason", input.reason.as_deref(), 200);
    errors.into_result(())?;
    let (Some(product), Some(warehouse)) = (product, warehouse) else { return Err(AppError::NotFound) };
    let allow_negative = rows::setting(&mut tx, "stock.allow_negative").await?.as_deref() == Some("1");
    let mut m = MoveRow {
        id: new_id(),
        product_id: product.id,
        warehouse_id: warehouse.id,
        quantity,
        kind: "adjustment".into(),
        reason: Some(reason),
        document_id: None,
        line_id: None,
        balance: 0,
        at: clock::now_text(),
        created_by: actor.username.clone(),
        ..MoveRow::default()
    };
    let balance = rows::apply_move(&mut tx, &mut m, 0).await?;
    if balance < 0 && !allow_negative {
        return Err(AppError::Invalid(FieldErrors::single("quantity", "stock-insufficient")));
    }
    let out = move_of(m);
    audit::record(&mut tx, actor, "adjust", "stock", &out.product_id, None::<&()>, Some(&out)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(out)
}

/// An article's stock card in a warehouse (the default one when not given): every move,
/// oldest first, with the running balance.
pub async fn card(app: &App, actor: &Actor, params: &StockParams) -> AppResult<Page<StockMove>> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut errors = FieldErrors::new();
    let product = opt_id(&mut errors, "product_id", params.product_id.as_deref());
    if product.is_none() && !errors.0.contains_key("product_id") {
        errors.add("product_id", "field-required");
    }
    let warehouse = opt_id(&mut errors, "warehouse_id", params.warehouse_id.as_deref());
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        errors.add("limit", "limit-invalid");
    }
    let after = opt_id(&mut errors, "cursor", params.cursor.as_deref());
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let warehouse = match warehouse {
        Some(w) => w,
        None => rows::default_warehouse(&mut conn).await?.map(|w| w.id).ok_or(AppError::NotFound)?,
    };
    let _ = company_in(&mut conn).await?;
    let mut found = rows::card(&mut conn, &product.unwrap_or_default(), &warehouse, after.as_deref(), limit).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|m| m.id.clone())
    } else {
        None
    };
    // Each move names the document that caused it.
    let doc_ids: Vec<String> = found.iter().filter_map(|m| m.document_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let stock_doc_ids: Vec<String> = found.iter().filter_map(|m| m.stock_document_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let numbers: HashMap<String, String> = store::stock::document_numbers(&mut conn, &doc_ids, &stock_doc_ids)
        .await?
        .into_iter()
        .filter_map(|(id, pos, n)| Some((id, domain::sales::format_number(pos, n?))))
        .collect();
    let items = found
        .into_iter()
        .map(|m| {
            let number = m.document_id.as_ref().or(m.stock_document_id.as_ref()).and_then(|d| numbers.get(d).cloned());
            StockMove { document_number: number, ..move_of(m) }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Whether every level equals the sum of its moves (the articles where it does not).
pub async fn mismatches(app: &App) -> AppResult<Vec<(String, String, i64, i64)>> {
    let mut conn = app.db.reader().await?;
    Ok(rows::level_mismatches(&mut conn).await?)
}

/// What the business decided about selling and stock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesSettings {
    /// Deliveries and adjustments may take stock below zero.
    pub allow_negative_stock: bool,
    /// The point of sale documents are numbered under (1–9999): `0001-00000042`.
    pub point_of_sale: i64,
    /// A customer with no posted invoice for this many days is inactive (a deserter).
    pub customer_inactive_after_days: i64,
    /// How much more than ordered a reception may bring, in percent ("0", "2.5").
    #[schema(example = "0")]
    pub receive_tolerance_percent: String,
    /// Whoever records or posts a supplier invoice may not approve its payment.
    pub segregate_supplier_payments: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesSettingsIn {
    pub allow_negative_stock: Option<bool>,
    pub point_of_sale: Option<i64>,
    /// 1–3650 days.
    pub customer_inactive_after_days: Option<i64>,
    /// 0–100, at most two decimals.
    pub receive_tolerance_percent: Option<String>,
    pub segregate_supplier_payments: Option<bool>,
}

pub async fn settings(app: &App, actor: &Actor) -> AppResult<SalesSettings> {
    actor.authorize(Action::Read, Resource::Company)?;
    let mut conn = app.db.reader().await?;
    Ok(SalesSettings {
        allow_negative_stock: rows::setting(&mut conn, "stock.allow_negative").await?.as_deref() == Some("1"),
        point_of_sale: rows::setting(&mut conn, "sales.point_of_sale").await?.and_then(|v| v.parse().ok()).unwrap_or(1),
        customer_inactive_after_days: rows::setting(&mut conn, crate::crm::INACTIVE_AFTER_KEY)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::crm::INACTIVE_AFTER_DEFAULT),
        receive_tolerance_percent: domain::money::format_trimmed(
            rows::setting(&mut conn, crate::purchasing::TOLERANCE_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(0),
            2,
        ),
        segregate_supplier_payments: rows::setting(&mut conn, crate::purchasing::SEGREGATION_KEY).await?.as_deref() != Some("0"),
    })
}

/// Changes the stock policy or the point of sale (managers and administrators).
pub async fn update_settings(app: &App, actor: &Actor, input: &SalesSettingsIn) -> AppResult<SalesSettings> {
    actor.authorize(Action::Update, Resource::Company)?;
    if input.point_of_sale.is_some_and(|p| !(1..=9999).contains(&p)) {
        return Err(AppError::Invalid(FieldErrors::single("point_of_sale", "point-of-sale-invalid")));
    }
    if input.customer_inactive_after_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(AppError::Invalid(FieldErrors::single("customer_inactive_after_days", "inactive-days-invalid")));
    }
    let tolerance = match input.receive_tolerance_percent.as_deref().map(str::trim) {
        Some(t) => match domain::money::parse_scaled(t, 2, false) {
            Ok(v) if (0..=10_000).contains(&v) => Some(v),
            _ => return Err(AppError::Invalid(FieldErrors::single("receive_tolerance_percent", "tolerance-invalid"))),
        },
        None => None,
    };
    let before = settings(app, actor).await?;
    let mut tx = app.db.begin().await?;
    let now = clock::now_text();
    if let Some(allow) = input.allow_negative_stock {
        rows::set_setting(&mut tx, "stock.allow_negative", if allow { "1" } else { "0" }, &now).await?;
    }
    if let Some(pos) = input.point_of_sale {
        rows::set_setting(&mut tx, "sales.point_of_sale", &pos.to_string(), &now).await?;
    }
    if let Some(days) = input.customer_inactive_after_days {
        rows::set_setting(&mut tx, crate::crm::INACTIVE_AFTER_KEY, &days.to_string(), &now).await?;
        let cutoff = (clock::now().date() - time::Duration::days(days)).to_string();
        store::crm::refresh_lifecycles(&mut tx, None, &cutoff).await?;
    }
    if let Some(t) = tolerance {
        rows::set_setting(&mut tx, crate::purchasing::TOLERANCE_KEY, &t.to_string(), &now).await?;
    }
    if let Some(on) = input.segregate_supplier_payments {
        rows::set_setting(&mut tx, crate::purchasing::SEGREGATION_KEY, if on { "1" } else { "0" }, &now).await?;
    }
    let after = SalesSettings {
        allow_negative_stock: input.allow_negative_stock.unwrap_or(before.allow_negative_stock),
        point_of_sale: input.point_of_sale.unwrap_or(before.point_of_sale),
        customer_inactive_after_days: input.customer_inactive_after_days.unwrap_or(before.customer_inactive_after_days),
        receive_tolerance_percent: tolerance
            .map(|t| domain::money::format_trimmed(t, 2))
            .unwrap_or(before.receive_tolerance_percent.clone()),
        segregate_supplier_payments: input.segregate_supplier_payments.unwrap_or(before.segregate_supplier_payments),
    };
    audit::record(&mut tx, actor, "update", "settings", "sales", Some(&before), Some(&after)).await?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(after)
}
