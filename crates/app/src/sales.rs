//! Order to cash: quotes, orders, delivery notes, invoices, credit and debit notes and
//! receipts; the stock they move; what customers owe.
//!
//! Each function is one business action in one transaction. States change only through
//! [`domain::sales::transition`]; a document's number is taken when it leaves draft, in
//! the same transaction, from `doc_sequences` (see the migration for why that has no gaps).

use crate::master::{company_in, Page};
use crate::{audit, auth, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_scaled, format_trimmed, parse_scaled, PERCENT_SCALE, QUANTITY_SCALE};
use domain::sales::{self as rules, DocKind, Status, TaxedNet, Transition};
use domain::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::master::{self as mrows, PartyRow, ProductRow, TaxRateRow};
use store::sales::{self as rows, AllocationRow, DocumentRow, LineRow, MoveRow, Progress};
use store::Conn;
use time::Date;
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------- what the API shows

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: String,
    /// quote, order, delivery, invoice, credit_note, debit_note or receipt.
    pub kind: String,
    /// draft, sent, accepted, rejected, confirmed, done, posted or cancelled.
    pub status: String,
    /// Where an order stands: draft, confirmed, partially_delivered, delivered,
    /// partially_invoiced, invoiced, paid, cancelled. For other kinds, the status.
    pub progress: String,
    /// `0001-00000042`, once the document left draft.
    pub number: Option<String>,
    pub customer_id: String,
    pub customer_name: String,
    pub customer_tax_id: Option<String>,
    pub salesperson_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// YYYY-MM-DD.
    pub issue_date: String,
    pub due_date: Option<String>,
    pub promised_date: Option<String>,
    pub valid_until: Option<String>,
    /// The document this one came from.
    pub origin_id: Option<String>,
    /// The order this document belongs to.
    pub order_id: Option<String>,
    #[schema(example = "1000.00")]
    pub untaxed_amount: String,
    #[schema(example = "210.00")]
    pub tax_amount: String,
    #[schema(example = "1210.00")]
    pub total: String,
    /// Invoices and debit notes: what has been paid or credited. Receipts and credit
    /// notes: what has been allocated to invoices.
    pub settled: String,
    /// `total − settled`.
    pub open_amount: String,
    pub reason: Option<String>,
    pub returns_goods: bool,
    pub notes: Option<String>,
    pub customer_reference: Option<String>,
    /// Orders: the secret that lets the customer follow the order at `/track/{token}`.
    pub tracking_token: Option<String>,
    pub credit_override_by: Option<String>,
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
    pub posted_at: Option<String>,
    pub posted_by: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub lines: Vec<Line>,
    pub taxes: Vec<TaxLine>,
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Line {
    pub id: String,
    pub position: i64,
    pub product_id: Option<String>,
    pub description: String,
    #[schema(example = "2")]
    pub quantity: String,
    #[schema(example = "150.00")]
    pub unit_price: String,
    /// Percentage, e.g. "10".
    pub discount: String,
    pub tax_rate_id: Option<String>,
    pub tax_name: String,
    pub tax_rate: String,
    /// Quantity × price − discount, before tax.
    pub amount: String,
    pub stocked: bool,
    pub origin_line_id: Option<String>,
    /// Order lines: quantity delivered so far.
    pub delivered: String,
    /// Order lines: quantity invoiced so far.
    pub invoiced: String,
    /// Invoice lines: quantity credited so far.
    pub credited: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxLine {
    pub name: String,
    pub rate: String,
    pub base: String,
    pub tax: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Allocation {
    /// The other document: the invoice a receipt paid, or the receipt that paid an invoice.
    pub document_id: String,
    pub amount: String,
}

pub(crate) fn qty(v: i64) -> String {
    format_trimmed(v, QUANTITY_SCALE)
}

fn line_of(l: LineRow, d: u32) -> Line {
    Line {
        id: l.id,
        position: l.position,
        product_id: l.product_id,
        description: l.description,
        quantity: qty(l.quantity),
        unit_price: format_scaled(l.unit_price, d),
        discount: format_trimmed(l.discount, PERCENT_SCALE),
        tax_rate_id: l.tax_rate_id,
        tax_name: l.tax_name,
        tax_rate: format_trimmed(l.tax_rate, PERCENT_SCALE),
        amount: format_scaled(l.net, d),
        stocked: l.stocked != 0,
        origin_line_id: l.origin_line_id,
        delivered: qty(l.delivered),
        invoiced: qty(l.invoiced),
        credited: qty(l.credited),
    }
}

pub(crate) fn taxes_of(lines: &[LineRow], d: u32) -> Vec<TaxLine> {
    let names: HashMap<(String, i64), String> = lines.iter().map(|l| ((tax_key(l), l.tax_rate), l.tax_name.clone())).collect();
    totals_of(lines)
        .by_rate
        .into_iter()
        .map(|t| TaxLine {
            name: names.get(&(t.tax_key.clone(), t.rate)).cloned().unwrap_or_default(),
            rate: format_trimmed(t.rate, PERCENT_SCALE),
            base: format_scaled(t.base, d),
            tax: format_scaled(t.tax, d),
        })
        .collect()
}

fn tax_key(l: &LineRow) -> String {
    l.tax_rate_id.clone().unwrap_or_else(|| l.tax_name.clone())
}

fn totals_of(lines: &[LineRow]) -> rules::Totals {
    let keys: Vec<String> = lines.iter().map(tax_key).collect();
    rules::totals(lines.iter().zip(&keys).map(|(l, k)| TaxedNet { net: l.net, tax_key: k, rate: l.tax_rate }))
}

/// Where an order stands, from its lines (and, for `paid`, from its invoices).
fn progress(r: &DocumentRow, lines: &[LineRow], all_invoices_paid: bool) -> String {
    let kind = DocKind::from_code(&r.kind);
    if kind != Some(DocKind::Order) || !matches!(r.status.as_str(), "confirmed" | "done") {
        return r.status.clone();
    }
    let stocked: Vec<&LineRow> = lines.iter().filter(|l| l.stocked != 0).collect();
    let all_invoiced = !lines.is_empty() && lines.iter().all(|l| l.invoiced >= l.quantity);
    let any_invoiced = lines.iter().any(|l| l.invoiced > 0);
    let all_delivered = stocked.iter().all(|l| l.delivered >= l.quantity);
    let any_delivered = stocked.iter().any(|l| l.delivered > 0);
    let p = if all_invoiced && all_invoices_paid {
        "paid"
    } else if all_invoiced {
        "invoiced"
    } else if any_invoiced {
        "partially_invoiced"
    } else if !stocked.is_empty() && all_delivered {
        "delivered"
    } else if any_delivered {
        "partially_delivered"
    } else {
        "confirmed"
    };
    p.to_string()
}

fn document_of(r: DocumentRow, lines: Vec<LineRow>, allocations: Vec<AllocationRow>, d: u32, paid: bool) -> Document {
    let progress = progress(&r, &lines, paid);
    let taxes = taxes_of(&lines, d);
    let id = r.id.clone();
    Document {
        progress,
        number: r.number.map(|n| rules::format_number(r.point_of_sale, n)),
        customer_id: r.party_id,
        customer_name: r.party_name,
        customer_tax_id: r.party_tax_id,
        salesperson_id: r.salesperson_id,
        warehouse_id: r.warehouse_id,
        issue_date: r.issue_date,
        due_date: r.due_date,
        promised_date: r.promised_date,
        valid_until: r.valid_until,
        origin_id: r.origin_id,
        order_id: r.order_id,
        untaxed_amount: format_scaled(r.untaxed, d),
        tax_amount: format_scaled(r.tax, d),
        total: format_scaled(r.total, d),
        settled: format_scaled(r.settled, d),
        open_amount: format_scaled(r.total - r.settled, d),
        reason: r.reason,
        returns_goods: r.returns_goods != 0,
        notes: r.notes,
        customer_reference: r.customer_reference,
        tracking_token: r.public_token,
        credit_override_by: r.credit_override_by,
        confirmed_at: r.confirmed_at,
        confirmed_by: r.confirmed_by,
        posted_at: r.posted_at,
        posted_by: r.posted_by,
        cancelled_at: r.cancelled_at,
        cancelled_by: r.cancelled_by,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
        lines: lines.into_iter().map(|l| line_of(l, d)).collect(),
        taxes,
        allocations: allocations
            .into_iter()
            .map(|a| Allocation {
                document_id: if a.source_id == id { a.target_id } else { a.source_id },
                amount: format_scaled(a.amount, d),
            })
            .collect(),
        id,
        kind: r.kind,
        status: r.status,
    }
}

// ---------------------------------------------------------------- what the API takes

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    pub customer_id: Option<String>,
    pub salesperson_id: Option<String>,
    pub warehouse_id: Option<String>,
    /// YYYY-MM-DD; today when not given.
    pub issue_date: Option<String>,
    /// Invoices: YYYY-MM-DD; from the customer's payment terms when not given.
    pub due_date: Option<String>,
    /// Orders: the delivery date promised to the customer.
    pub promised_date: Option<String>,
    /// Quotes: valid until.
    pub valid_until: Option<String>,
    pub notes: Option<String>,
    pub customer_reference: Option<String>,
    /// Credit notes: why (return, price, discount, error, other).
    pub reason: Option<String>,
    /// Credit notes: the goods come back into stock.
    pub returns_goods: Option<bool>,
    /// Credit and debit notes: the invoice they correct.
    pub invoice_id: Option<String>,
    pub lines: Option<Vec<LineIn>>,
    /// The version read, to refuse overwriting someone else's change.
    pub version: Option<i64>,
    /// Orders, on creation: confirm at once (number, stock reserved, credit checked), in the
    /// same transaction.
    pub confirm: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub product_id: Option<String>,
    /// Defaults to the article's name.
    pub description: Option<String>,
    #[schema(example = "2")]
    pub quantity: Option<String>,
    /// Defaults to the article's sale price; another price needs permission.
    pub unit_price: Option<String>,
    /// Percentage; a discount needs permission.
    pub discount: Option<String>,
    /// Defaults to the article's tax rate.
    pub tax_rate_id: Option<String>,
}

/// Which lines of an order to deliver or invoice, and how much; all that is left when
/// not given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartIn {
    pub lines: Option<Vec<PartLineIn>>,
    /// Deliveries: the warehouse the goods leave (the order's when not given).
    pub warehouse_id: Option<String>,
    /// Invoices: post at once (take the number) instead of leaving a draft.
    pub post: Option<bool>,
    pub issue_date: Option<String>,
    /// Credit notes: why, and whether goods come back.
    pub reason: Option<String>,
    pub returns_goods: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartLineIn {
    pub line_id: String,
    pub quantity: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// Orders over the customer's credit limit: a manager lets it through (recorded).
    pub override_credit_limit: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    pub customer_id: Option<String>,
    #[schema(example = "1210.00")]
    pub amount: Option<String>,
    pub issue_date: Option<String>,
    /// Which invoices it pays and how much; oldest first when not given.
    pub allocations: Option<Vec<AllocationIn>>,
    /// Keep what is left over as an advance instead of refusing it.
    pub advance: Option<bool>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationIn {
    pub invoice_id: String,
    pub amount: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocListParams {
    /// Only this customer's.
    pub customer_id: Option<String>,
    /// Only in this status.
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------- helpers

pub fn resource(kind: DocKind) -> Resource {
    match kind {
        DocKind::Quote | DocKind::Order => Resource::Sales,
        DocKind::Delivery => Resource::Deliveries,
        DocKind::Invoice | DocKind::CreditNote | DocKind::DebitNote => Resource::Invoices,
        DocKind::Receipt => Resource::Receipts,
    }
}

/// What each operation needs to know about the business.
pub(crate) struct Ctx {
    pub(crate) d: u32,
    pub(crate) pos: i64,
    pub(crate) allow_negative: bool,
    pub(crate) today: String,
}

pub(crate) async fn ctx(conn: &mut Conn) -> AppResult<Ctx> {
    // One statement: the company's decimals and the settings a sale needs.
    let set = rows::settings_of(conn, &["sales.point_of_sale", "stock.allow_negative"]).await?;
    let get = |k: &str| set.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let d = get("company.currency_decimals").and_then(|v| v.parse().ok()).unwrap_or(2);
    let pos = get("sales.point_of_sale").and_then(|v| v.parse().ok()).unwrap_or(1);
    let allow_negative = get("stock.allow_negative") == Some("1");
    Ok(Ctx { d, pos, allow_negative, today: today() })
}

fn today() -> String {
    let t = clock::now();
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

pub(crate) fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A date as stored and compared: `YYYY-MM-DD`.
pub(crate) fn date_key(d: Date) -> String {
    date_text(d)
}

pub(crate) fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn date_field(errors: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<String> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match parse_date(v) {
        Some(d) => Some(date_text(d)),
        None => {
            errors.add(field, "date-invalid");
            None
        }
    }
}

pub(crate) fn refused(key: &'static str) -> AppError {
    AppError::Refused(key)
}

/// Stamps who moved a document to `to` and when (confirmed, posted, cancelled).
pub(crate) fn stamp(row: &mut DocumentRow, to: Status, by: &str, now: &str) {
    let (at, who) = match to {
        Status::Confirmed => (&mut row.confirmed_at, &mut row.confirmed_by),
        Status::Posted => (&mut row.posted_at, &mut row.posted_by),
        Status::Cancelled => (&mut row.cancelled_at, &mut row.cancelled_by),
        _ => return,
    };
    *at = Some(now.to_string());
    *who = Some(by.to_string());
}

pub(crate) async fn commit(tx: store::Tx) -> AppResult<()> {
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// A document of `kind` with its lines; anything else is not found.
async fn load(conn: &mut Conn, kind: DocKind, id: &str) -> AppResult<(DocumentRow, Vec<LineRow>)> {
    let id = parse_id(id)?;
    let row = rows::get_document(conn, &id).await?.filter(|r| r.kind == kind.code()).ok_or(AppError::NotFound)?;
    let lines = rows::lines_of(conn, &id).await?;
    Ok((row, lines))
}

/// Moves a document from its state by `t`, as the transition table allows; claims the
/// row so that a concurrent change of state is refused instead of applied twice.
async fn step(conn: &mut Conn, row: &mut DocumentRow, t: Transition) -> AppResult<Status> {
    let kind = DocKind::from_code(&row.kind).ok_or(AppError::NotFound)?;
    claim_step(conn, row, |from| rules::transition(kind, from, t)).await
}

/// [`step`] under any table of transitions (`rule` gives the state reached from a state).
pub(crate) async fn claim_step(
    conn: &mut Conn,
    row: &mut DocumentRow,
    rule: impl Fn(Status) -> Result<Status, &'static str>,
) -> AppResult<Status> {
    let from = Status::from_code(&row.status).ok_or_else(|| AppError::Internal(format!("unknown status {}", row.status)))?;
    let to = rule(from).map_err(refused)?;
    if !rows::claim(conn, &row.id, &row.status).await? {
        // Someone changed it between our read and now: report what they did.
        let now = rows::get_document(conn, &row.id).await?.ok_or(AppError::NotFound)?;
        let from = Status::from_code(&now.status).unwrap_or(from);
        rule(from).map_err(refused)?;
        return Err(AppError::Conflict);
    }
    row.version += 1;
    row.status = to.code().to_string();
    Ok(to)
}

pub(crate) async fn take_number(conn: &mut Conn, row: &mut DocumentRow) -> AppResult<()> {
    if row.number.is_none() {
        row.number = Some(rows::take_number(conn, &row.kind, row.point_of_sale).await?);
    }
    Ok(())
}

async fn audit_doc(conn: &mut Conn, actor: &Actor, action: &str, before: Option<&Document>, after: &Document) -> AppResult<()> {
    audit::record(conn, actor, action, &after.kind, &after.id, before, Some(after)).await
}

async fn customer(conn: &mut Conn, errors: &mut FieldErrors, id: Option<&str>) -> AppResult<Option<PartyRow>> {
    let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.add("customer_id", "field-required");
        return Ok(None);
    };
    let Ok(id) = parse_id(id) else {
        errors.add("customer_id", "customer-unknown");
        return Ok(None);
    };
    match mrows::get::<PartyRow>(conn, &id).await? {
        Some(p) if p.is_customer == 0 => errors.add("customer_id", "customer-unknown"),
        Some(p) if p.archived_at.is_some() => errors.add("customer_id", "customer-archived"),
        Some(p) => return Ok(Some(p)),
        None => errors.add("customer_id", "customer-unknown"),
    }
    Ok(None)
}

pub(crate) async fn warehouse_id(conn: &mut Conn, errors: &mut FieldErrors, field: &str, id: Option<&str>) -> AppResult<Option<String>> {
    match id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => match parse_id(id) {
            Ok(id) => match rows::get_warehouse(conn, &id).await? {
                Some(w) if w.archived_at.is_none() => Ok(Some(w.id)),
                _ => {
                    errors.add(field, "warehouse-unknown");
                    Ok(None)
                }
            },
            Err(_) => {
                errors.add(field, "warehouse-unknown");
                Ok(None)
            }
        },
        None => Ok(rows::default_warehouse(conn).await?.map(|w| w.id)),
    }
}

pub(crate) fn quantity(errors: &mut FieldErrors, field: &str, v: Option<&str>) -> i64 {
    match v.map(|s| parse_scaled(s, QUANTITY_SCALE, false)) {
        None => {
            errors.add(field, "field-required");
            0
        }
        Some(Err(e)) => {
            errors.add(field, e.key());
            0
        }
        Some(Ok(0)) => {
            errors.add(field, "quantity-not-positive");
            0
        }
        Some(Ok(q)) => q,
    }
}

/// Which of an article's prices a line starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pricing {
    /// The sale price; another price or a discount needs permission.
    Sale,
    /// The cost: what the business pays a supplier, agreed by purchasing.
    Purchase,
}

/// Lines from what the user typed: article defaults for price, description and tax;
/// on sales, another price or a discount only with permission.
pub(crate) async fn build_lines(
    conn: &mut Conn,
    actor: &Actor,
    pricing: Pricing,
    d: u32,
    doc_id: &str,
    input: &[LineIn],
    errors: &mut FieldErrors,
) -> AppResult<Vec<LineRow>> {
    if input.is_empty() {
        errors.add("lines", "lines-empty");
    }
    if input.len() > 1000 {
        errors.add("lines", "lines-too-many");
        return Ok(Vec::new());
    }
    let ids: Vec<String> = input.iter().filter_map(|l| l.product_id.as_deref().and_then(|p| parse_id(p).ok())).collect();
    let products: HashMap<String, ProductRow> =
        mrows::find_many::<ProductRow>(conn, "id", &ids).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
    let mut rates: HashMap<String, Option<TaxRateRow>> = HashMap::new();
    let may_price = pricing == Pricing::Purchase || actor.can(Action::Update, Resource::PriceOverride);
    let mut out = Vec::with_capacity(input.len());
    for (i, l) in input.iter().enumerate() {
        let f = |name: &str| format!("lines.{i}.{name}");
        let product = match l.product_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => match parse_id(p).ok().and_then(|p| products.get(&p)) {
                Some(p) if p.archived_at.is_some() => {
                    errors.add(&f("product_id"), "product-archived");
                    None
                }
                Some(p) => Some(p),
                None => {
                    errors.add(&f("product_id"), "product-unknown");
                    None
                }
            },
            None => None,
        };
        let q = quantity(errors, &f("quantity"), l.quantity.as_deref());
        let default_price = product.map(|p| if pricing == Pricing::Sale { p.sale_price } else { p.cost });
        let price = match (l.unit_price.as_deref().map(str::trim).filter(|s| !s.is_empty()), default_price) {
            (Some(s), _) => match parse_scaled(s, d, false) {
                Ok(v) => {
                    if Some(v) != default_price && !may_price {
                        errors.add(&f("unit_price"), "price-override-forbidden");
                    }
                    v
                }
                Err(e) => {
                    errors.add(&f("unit_price"), e.key());
                    0
                }
            },
            (None, Some(p)) => p,
            (None, None) => {
                errors.add(&f("unit_price"), "field-required");
                0
            }
        };
        let discount = match l.discount.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => 0,
            Some(s) => match parse_scaled(s, PERCENT_SCALE, false) {
                Ok(v) if v > 10_000 => {
                    errors.add(&f("discount"), "percent-out-of-range");
                    0
                }
                Ok(v) => {
                    if v != 0 && !may_price {
                        errors.add(&f("discount"), "price-override-forbidden");
                    }
                    v
                }
                Err(e) => {
                    errors.add(&f("discount"), e.key());
                    0
                }
            },
        };
        let rate_id = l
            .tax_rate_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| product.and_then(|p| p.tax_rate_id.clone()));
        let rate = match &rate_id {
            Some(id) => {
                if !rates.contains_key(id) {
                    let r = match parse_id(id) {
                        Ok(pid) => mrows::get::<TaxRateRow>(conn, &pid).await?,
                        Err(_) => None,
                    };
                    rates.insert(id.clone(), r);
                }
                match rates.get(id).and_then(|r| r.as_ref()) {
                    Some(r) => Some(r),
                    None => {
                        errors.add(&f("tax_rate_id"), "tax-rate-unknown");
                        None
                    }
                }
            }
            None => None,
        };
        let description = match l.description.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() > 1000 => {
                errors.add(&f("description"), "text-too-long");
                String::new()
            }
            Some(s) => s.to_string(),
            None => match product {
                Some(p) => p.name.clone(),
                None => {
                    errors.add(&f("description"), "field-required");
                    String::new()
                }
            },
        };
        out.push(LineRow {
            id: new_id(),
            document_id: doc_id.to_string(),
            position: i as i64 + 1,
            product_id: product.map(|p| p.id.clone()),
            description,
            quantity: q,
            unit_price: price,
            discount,
            tax_rate_id: rate.map(|r| r.id.clone()),
            tax_name: rate.map(|r| r.name.clone()).unwrap_or_else(|| "—".into()),
            tax_rate: rate.map(|r| r.rate).unwrap_or(0),
            net: rules::line_net(q, price, discount),
            stocked: i64::from(product.is_some_and(|p| p.kind != "service")),
            origin_line_id: None,
            delivered: 0,
            invoiced: 0,
            credited: 0,
        });
    }
    Ok(out)
}

pub(crate) fn set_totals(row: &mut DocumentRow, lines: &[LineRow]) {
    let t = totals_of(lines);
    row.untaxed = t.untaxed;
    row.tax = t.tax;
    row.total = t.total;
}

async fn view(conn: &mut Conn, row: DocumentRow, lines: Vec<LineRow>, d: u32) -> AppResult<Document> {
    let allocations = rows::allocations_of(conn, &row.id).await?;
    let paid = if row.kind == "order" {
        let related = rows::related_documents(conn, &row.id).await?;
        let invoices: Vec<&DocumentRow> = related.iter().filter(|r| r.kind == "invoice" && r.status == "posted").collect();
        !invoices.is_empty() && invoices.iter().all(|r| r.settled >= r.total)
    } else {
        false
    };
    Ok(document_of(row, lines, allocations, d, paid))
}

/// The view of a document just written, without reading it back (lines and allocations
/// as the caller has them).
fn fresh(row: DocumentRow, lines: Vec<LineRow>, allocations: Vec<AllocationRow>, d: u32) -> Document {
    document_of(row, lines, allocations, d, false)
}

// ---------------------------------------------------------------- reading

/// One page of documents of `kind` (sales or purchasing), newest first: the filters a
/// list was asked for checked, the rows read, and the cursor of the next page.
pub(crate) async fn list_page(
    conn: &mut Conn,
    kind: &str,
    party: Option<&str>,
    status: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> AppResult<(Vec<DocumentRow>, Option<String>)> {
    let limit = crate::master::page_limit(limit)?;
    let mut errors = FieldErrors::new();
    let party_id = party.filter(|s| !s.is_empty()).map(|s| parse_id(s).unwrap_or_default());
    let status = status.filter(|s| !s.is_empty()).map(|s| {
        if Status::from_code(s).is_none() {
            errors.add("status", "status-invalid");
        }
        s.to_string()
    });
    let before_id = match cursor.filter(|s| !s.is_empty()) {
        Some(c) => Some(parse_id(c).map_err(|_| AppError::Invalid(FieldErrors::single("cursor", "cursor-invalid")))?),
        None => None,
    };
    errors.into_result(())?;
    let q = rows::DocQuery { kind: kind.into(), party_id, status, before_id, limit };
    let mut found = rows::list_documents(conn, &q).await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok((found, next_cursor))
}

pub async fn list_documents(app: &App, actor: &Actor, kind: DocKind, params: &DocListParams) -> AppResult<Page<Document>> {
    actor.authorize(Action::Read, resource(kind))?;
    let mut conn = app.db.reader().await?;
    let (found, next_cursor) =
        list_page(&mut conn, kind.code(), params.customer_id.as_deref(), params.status.as_deref(), params.cursor.as_deref(), params.limit)
            .await?;
    let d = company_in(&mut conn).await?.decimals();
    // An order's progress comes from its lines and invoices: both read for the whole page.
    let (paid, mut lines_of) = if kind == DocKind::Order {
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let mut by_doc: HashMap<String, Vec<LineRow>> = HashMap::new();
        for l in rows::lines_of_many(&mut conn, &ids).await? {
            by_doc.entry(l.document_id.clone()).or_default().push(l);
        }
        (rows::orders_paid(&mut conn, &ids).await?, by_doc)
    } else {
        (Vec::new(), HashMap::new())
    };
    let mut items = Vec::with_capacity(found.len());
    for r in found {
        let lines = lines_of.remove(&r.id).unwrap_or_default();
        let is_paid = paid.contains(&r.id);
        let mut doc = document_of(r, lines, Vec::new(), d, is_paid);
        doc.lines.clear();
        items.push(doc);
    }
    Ok(Page { items, next_cursor })
}

pub async fn get_document(app: &App, actor: &Actor, kind: DocKind, id: &str) -> AppResult<Document> {
    actor.authorize(Action::Read, resource(kind))?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let (row, lines) = load(&mut conn, kind, id).await?;
    view(&mut conn, row, lines, d).await
}

/// A document of any kind (the kind comes from the record).
pub async fn get_any_document(app: &App, actor: &Actor, id: &str) -> AppResult<Document> {
    let id = parse_id(id)?;
    let mut conn = app.db.reader().await?;
    let row = rows::get_document(&mut conn, &id).await?.ok_or(AppError::NotFound)?;
    let kind = DocKind::from_code(&row.kind).ok_or(AppError::NotFound)?;
    actor.authorize(Action::Read, resource(kind))?;
    let d = company_in(&mut conn).await?.decimals();
    let lines = rows::lines_of(&mut conn, &id).await?;
    view(&mut conn, row, lines, d).await
}

/// How many documents of each kind a customer has, of the kinds the actor may read.
pub async fn document_counts(app: &App, actor: &Actor, customer_id: &str) -> AppResult<Vec<(DocKind, i64)>> {
    let id = parse_id(customer_id)?;
    let mut conn = app.db.reader().await?;
    let counts = rows::count_by_kind(&mut conn, &id).await?;
    Ok(DocKind::ALL
        .into_iter()
        .filter(|k| actor.can(Action::Read, resource(*k)))
        .map(|k| (k, counts.iter().find(|(c, _)| c == k.code()).map(|(_, n)| *n).unwrap_or(0)))
        .collect())
}

/// An order's whole chain: the quote it came from, its deliveries, invoices, credit notes
/// and the receipts that paid them.
pub async fn order_chain(app: &App, actor: &Actor, id: &str) -> AppResult<Vec<Document>> {
    actor.authorize(Action::Read, Resource::Sales)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let (order, _) = load(&mut conn, DocKind::Order, id).await?;
    chain(&mut conn, &order, d).await
}

async fn chain(conn: &mut Conn, order: &DocumentRow, d: u32) -> AppResult<Vec<Document>> {
    let mut docs = Vec::new();
    if let Some(q) = &order.origin_id {
        if let Some(r) = rows::get_document(conn, q).await? {
            docs.push(r);
        }
    }
    let related = rows::related_documents(conn, &order.id).await?;
    let mut receipts = Vec::new();
    for r in &related {
        if r.kind == "invoice" {
            for a in rows::allocations_of(conn, &r.id).await? {
                if a.target_id == r.id && !receipts.iter().any(|x: &DocumentRow| x.id == a.source_id) {
                    if let Some(src) = rows::get_document(conn, &a.source_id).await? {
                        if src.kind == "receipt" {
                            receipts.push(src);
                        }
                    }
                }
            }
        }
    }
    docs.extend(related);
    docs.extend(receipts);
    let mut out = Vec::with_capacity(docs.len());
    for r in docs {
        let allocations = rows::allocations_of(conn, &r.id).await?;
        out.push(document_of(r, Vec::new(), allocations, d, false));
    }
    Ok(out)
}

/// What a customer sees at `/track/{token}`: the order and its chain, without logging in.
pub async fn track(app: &App, token: &str) -> AppResult<(Document, Vec<Document>)> {
    let token = token.trim();
    if token.len() < 20 || token.len() > 100 {
        return Err(AppError::NotFound);
    }
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let order = rows::document_by_token(&mut conn, token).await?.filter(|r| r.kind == "order").ok_or(AppError::NotFound)?;
    let lines = rows::lines_of(&mut conn, &order.id).await?;
    let docs = chain(&mut conn, &order, d).await?;
    let doc = view(&mut conn, order, lines, d).await?;
    Ok((doc, docs))
}

// ---------------------------------------------------------------- drafts

fn header(errors: &mut FieldErrors, kind: DocKind, input: &DocumentIn, row: &mut DocumentRow, today: &str) {
    row.issue_date = date_field(errors, "issue_date", input.issue_date.as_deref()).unwrap_or_else(|| today.to_string());
    row.due_date = date_field(errors, "due_date", input.due_date.as_deref());
    row.promised_date = if kind == DocKind::Order { date_field(errors, "promised_date", input.promised_date.as_deref()) } else { None };
    row.valid_until = if kind == DocKind::Quote { date_field(errors, "valid_until", input.valid_until.as_deref()) } else { None };
    row.notes = domain::validation::optional(errors, "notes", input.notes.as_deref(), 4000);
    row.customer_reference = domain::validation::optional(errors, "customer_reference", input.customer_reference.as_deref(), 100);
    if kind == DocKind::CreditNote {
        row.reason = domain::validation::optional(errors, "reason", input.reason.as_deref(), 200);
        row.returns_goods = i64::from(input.returns_goods.unwrap_or(false));
    }
}

/// A new draft quote, order, invoice, credit note or debit note.
pub async fn create_document(app: &App, actor: &Actor, kind: DocKind, input: &DocumentIn) -> AppResult<Document> {
    let mut tx = app.db.begin().await?;
    let doc = create_document_tx(&mut tx, actor, kind, input).await?;
    commit(tx).await?;
    Ok(doc)
}

/// Creates a document inside the caller's transaction (e.g. a quote for an opportunity).
pub(crate) async fn create_document_tx(tx: &mut Conn, actor: &Actor, kind: DocKind, input: &DocumentIn) -> AppResult<Document> {
    actor.authorize(Action::Create, resource(kind))?;
    if matches!(kind, DocKind::Delivery | DocKind::Receipt) {
        return Err(refused("doc-create-from-order"));
    }
    let c = ctx(tx).await?;
    let mut errors = FieldErrors::new();
    let party = customer(tx, &mut errors, input.customer_id.as_deref()).await?;
    let id = new_id();
    let now = clock::now_text();
    let mut row = DocumentRow {
        id: id.clone(),
        kind: kind.code().into(),
        status: Status::Draft.code().into(),
        point_of_sale: c.pos,
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..Default::default()
    };
    header(&mut errors, kind, input, &mut row, &c.today);
    row.warehouse_id = warehouse_id(tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    row.salesperson_id = salesperson(tx, &mut errors, input.salesperson_id.as_deref(), party.as_ref()).await?;
    if matches!(kind, DocKind::CreditNote | DocKind::DebitNote) {
        row.origin_id = origin_invoice(tx, &mut errors, input.invoice_id.as_deref(), party.as_ref()).await?;
    }
    let lines = build_lines(tx, actor, Pricing::Sale, c.d, &id, input.lines.as_deref().unwrap_or(&[]), &mut errors).await?;
    errors.into_result(())?;
    let party = party.ok_or(AppError::NotFound)?;
    row.party_id = party.id;
    row.party_name = party.name;
    row.party_tax_id = party.tax_id;
    set_totals(&mut row, &lines);
    let mut action = "create";
    if input.confirm == Some(true) {
        if kind != DocKind::Order {
            return Err(AppError::Invalid(FieldErrors::single("confirm", "confirm-orders-only")));
        }
        actor.authorize(Action::Update, resource(kind))?;
        row.status = Status::Confirmed.code().into();
        row.confirmed_at = Some(row.created_at.clone());
        row.confirmed_by = Some(actor.username.clone());
        confirm_order(tx, actor, &c, &mut row, &lines, &TransitionIn::default()).await?;
        action = "confirm";
    }
    rows::insert_document(tx, &row).await?;
    rows::insert_lines(tx, &lines).await?;
    let doc = fresh(row, lines, Vec::new(), c.d);
    audit_doc(tx, actor, action, None, &doc).await?;
    Ok(doc)
}

async fn salesperson(conn: &mut Conn, errors: &mut FieldErrors, id: Option<&str>, party: Option<&PartyRow>) -> AppResult<Option<String>> {
    match id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => match parse_id(id) {
            Ok(id) if mrows::get::<store::master::EmployeeRow>(conn, &id).await?.is_some_and(|e| e.is_salesperson != 0) => Ok(Some(id)),
            _ => {
                errors.add("salesperson_id", "salesperson-unknown");
                Ok(None)
            }
        },
        None => Ok(party.and_then(|p| p.salesperson_id.clone())),
    }
}

async fn origin_invoice(
    conn: &mut Conn,
    errors: &mut FieldErrors,
    id: Option<&str>,
    party: Option<&PartyRow>,
) -> AppResult<Option<String>> {
    let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let found = match parse_id(id) {
        Ok(id) => rows::get_document(conn, &id).await?,
        Err(_) => None,
    };
    match found {
        Some(inv) if inv.kind == "invoice" && inv.status == "posted" && party.is_none_or(|p| p.id == inv.party_id) => Ok(Some(inv.id)),
        Some(inv) if inv.kind == "invoice" && inv.status != "posted" => {
            errors.add("invoice_id", "invoice-not-posted");
            Ok(None)
        }
        _ => {
            errors.add("invoice_id", "invoice-unknown");
            Ok(None)
        }
    }
}

/// Changes a draft: header fields given, and the lines when given (all of them).
pub async fn update_document(app: &App, actor: &Actor, kind: DocKind, id: &str, input: &DocumentIn) -> AppResult<Document> {
    actor.authorize(Action::Update, resource(kind))?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (mut row, mut lines) = load(&mut tx, kind, id).await?;
    if !rules::editable(Status::from_code(&row.status).unwrap_or(Status::Posted)) {
        return Err(refused(if row.status == "posted" { "doc-posted-immutable" } else { "doc-not-draft" }));
    }
    if input.version.is_some_and(|v| v != row.version) {
        return Err(AppError::Conflict);
    }
    let before = fresh(row.clone(), lines.clone(), Vec::new(), c.d);
    let mut errors = FieldErrors::new();
    if input.customer_id.is_some() {
        if let Some(p) = customer(&mut tx, &mut errors, input.customer_id.as_deref()).await? {
            row.party_id = p.id;
            row.party_name = p.name;
            row.party_tax_id = p.tax_id;
        }
    }
    let merged = DocumentIn {
        issue_date: input.issue_date.clone().or(Some(row.issue_date.clone())),
        due_date: input.due_date.clone().or(row.due_date.clone()),
        promised_date: input.promised_date.clone().or(row.promised_date.clone()),
        valid_until: input.valid_until.clone().or(row.valid_until.clone()),
        notes: input.notes.clone().or(row.notes.clone()),
        customer_reference: input.customer_reference.clone().or(row.customer_reference.clone()),
        reason: input.reason.clone().or(row.reason.clone()),
        returns_goods: input.returns_goods.or(Some(row.returns_goods != 0)),
        ..Default::default()
    };
    header(&mut errors, kind, &merged, &mut row, &c.today);
    if input.warehouse_id.is_some() {
        row.warehouse_id = warehouse_id(&mut tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    }
    if input.salesperson_id.is_some() {
        row.salesperson_id = salesperson(&mut tx, &mut errors, input.salesperson_id.as_deref(), None).await?;
    }
    if let Some(new_lines) = &input.lines {
        lines = build_lines(&mut tx, actor, Pricing::Sale, c.d, &row.id, new_lines, &mut errors).await?;
    }
    errors.into_result(())?;
    set_totals(&mut row, &lines);
    row.updated_at = clock::now_text();
    rows::update_document(&mut tx, &row).await?;
    row.version += 1;
    if input.lines.is_some() {
        rows::delete_lines(&mut tx, &row.id).await?;
        rows::insert_lines(&mut tx, &lines).await?;
    }
    let doc = fresh(row, lines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, "update", Some(&before), &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

// ---------------------------------------------------------------- transitions

/// Sends, accepts or rejects a quote; confirms, closes or cancels an order; posts or
/// cancels an invoice, credit or debit note.
pub async fn transition(app: &App, actor: &Actor, kind: DocKind, id: &str, t: Transition, opts: &TransitionIn) -> AppResult<Document> {
    let action = if t == Transition::Cancel { Action::Archive } else { Action::Update };
    actor.authorize(action, resource(kind))?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (mut row, mut lines) = load(&mut tx, kind, id).await?;
    let before = fresh(row.clone(), lines.clone(), Vec::new(), c.d);
    let mut allocations = Vec::new();
    let from = row.status.clone();
    let to = step(&mut tx, &mut row, t).await?;
    let now = clock::now_text();
    match (kind, to) {
        (DocKind::Order, Status::Confirmed) => confirm_order(&mut tx, actor, &c, &mut row, &lines, opts).await?,
        (DocKind::Order, Status::Cancelled | Status::Done) => {
            if to == Status::Cancelled && lines.iter().any(|l| l.delivered > 0 || l.invoiced > 0) {
                return Err(refused("order-has-deliveries"));
            }
            if from == "confirmed" {
                release(&mut tx, &row, &lines).await?;
            }
        }
        (_, Status::Posted) => {
            if lines.is_empty() {
                return Err(refused("doc-empty"));
            }
            allocations = post_effects(&mut tx, actor, &c, &mut row, &mut lines).await?;
        }
        (DocKind::Quote, Status::Sent | Status::Accepted) => take_number(&mut tx, &mut row).await?,
        _ => {}
    }
    stamp(&mut row, to, &actor.username, &now);
    row.updated_at = now;
    rows::update_document(&mut tx, &row).await?;
    crate::crm::after_invoicing(&mut tx, &row).await?;
    row.version += 1;
    let doc = fresh(row, lines, allocations, c.d);
    audit_doc(&mut tx, actor, t.code(), Some(&before), &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

async fn confirm_order(
    tx: &mut Conn,
    actor: &Actor,
    c: &Ctx,
    row: &mut DocumentRow,
    lines: &[LineRow],
    opts: &TransitionIn,
) -> AppResult<()> {
    if lines.is_empty() {
        return Err(refused("doc-empty"));
    }
    let party = mrows::get::<PartyRow>(tx, &row.party_id).await?.ok_or(AppError::NotFound)?;
    if party.archived_at.is_some() {
        return Err(refused("customer-archived"));
    }
    if let Some(limit) = party.credit_limit {
        let mut exposure = rows::owed(tx, &party.id).await?;
        for o in rows::confirmed_orders(tx, &party.id).await? {
            if o.id == row.id || o.untaxed == 0 {
                continue;
            }
            let ol = rows::lines_of(tx, &o.id).await?;
            let uninvoiced: i128 =
                ol.iter().map(|l| i128::from(l.net) * i128::from(l.quantity - l.invoiced) / i128::from(l.quantity.max(1))).sum();
            exposure += i64::try_from(uninvoiced * i128::from(o.total) / i128::from(o.untaxed)).unwrap_or(i64::MAX);
        }
        if rules::over_credit_limit(Some(limit), exposure, row.total) {
            if !opts.override_credit_limit.unwrap_or(false) {
                return Err(refused("credit-limit-exceeded"));
            }
            actor.authorize(Action::Update, Resource::CreditOverride)?;
            row.credit_override_by = Some(actor.username.clone());
        }
    }
    let wh = match &row.warehouse_id {
        Some(w) => w.clone(),
        None => rows::default_warehouse(tx).await?.map(|w| w.id).ok_or(refused("warehouse-missing"))?,
    };
    row.warehouse_id = Some(wh.clone());
    for l in by_product(lines.iter().filter(|l| l.stocked != 0)) {
        if let Some(p) = &l.product_id {
            rows::reserve(tx, p, &wh, l.quantity).await?;
        }
    }
    take_number(tx, row).await?;
    if row.public_token.is_none() {
        row.public_token = Some(auth::secret());
    }
    let _ = c;
    Ok(())
}

/// Gives back what a confirmed order still reserved.
async fn release(tx: &mut Conn, row: &DocumentRow, lines: &[LineRow]) -> AppResult<()> {
    let Some(wh) = &row.warehouse_id else { return Ok(()) };
    for l in by_product(lines.iter().filter(|l| l.stocked != 0 && l.quantity > l.delivered)) {
        if let Some(p) = &l.product_id {
            rows::reserve(tx, p, wh, -(l.quantity - l.delivered)).await?;
        }
    }
    Ok(())
}

/// What posting an invoice, credit or debit note does besides its state: the number,
/// the due date, the order lines it invoices, the invoice a credit note settles and the
/// goods it brings back.
async fn post_effects(
    tx: &mut Conn,
    actor: &Actor,
    c: &Ctx,
    row: &mut DocumentRow,
    lines: &mut [LineRow],
) -> AppResult<Vec<AllocationRow>> {
    let kind = DocKind::from_code(&row.kind).ok_or(AppError::NotFound)?;
    let party = mrows::get::<PartyRow>(tx, &row.party_id).await?.ok_or(AppError::NotFound)?;
    if party.archived_at.is_some() {
        return Err(refused("customer-archived"));
    }
    if lines.iter().any(|l| l.quantity <= 0) {
        return Err(refused("quantity-not-positive"));
    }
    take_number(tx, row).await?;
    if row.due_date.is_none() && matches!(kind, DocKind::Invoice | DocKind::DebitNote) {
        let issue = parse_date(&row.issue_date).ok_or(refused("date-invalid"))?;
        row.due_date = Some(date_text(issue + time::Duration::days(party.payment_terms_days)));
    }
    let mut allocations = Vec::new();
    match kind {
        DocKind::Invoice => {
            let from_order = |stocked: bool| -> Vec<(&str, i64)> {
                lines
                    .iter()
                    .filter(|l| (l.stocked != 0) == stocked)
                    .filter_map(|l| l.origin_line_id.as_deref().map(|o| (o, l.quantity)))
                    .collect()
            };
            let (goods, services) = (from_order(true), from_order(false));
            if !rows::advance_lines(tx, Progress::InvoicedOfDelivered, &goods).await?
                || !rows::advance_lines(tx, Progress::InvoicedOfOrdered, &services).await?
            {
                return Err(refused("invoice-more-than-delivered"));
            }
            let touched = !goods.is_empty() || !services.is_empty();
            if touched {
                if let Some(order_id) = row.order_id.clone() {
                    close_if_complete(tx, actor, &order_id).await?;
                }
            }
        }
        DocKind::CreditNote => {
            let credited: Vec<(&str, i64)> = lines.iter().filter_map(|l| l.origin_line_id.as_deref().map(|o| (o, l.quantity))).collect();
            if !rows::advance_lines(tx, Progress::Credited, &credited).await? {
                return Err(refused("credit-more-than-invoiced"));
            }
            if let Some(inv_id) = row.origin_id.clone() {
                // Settle what the invoice still owes, up to the note's total; the rest of
                // the note stays as the customer's credit.
                let inv = rows::get_document(tx, &inv_id).await?.ok_or(AppError::NotFound)?;
                let amount = (inv.total - inv.settled).min(row.total);
                if amount > 0 {
                    if !rows::settle(tx, &inv.id, amount).await? || !rows::settle(tx, &row.id, amount).await? {
                        return Err(AppError::Conflict);
                    }
                    row.settled += amount;
                    allocations.push(AllocationRow {
                        id: new_id(),
                        source_id: row.id.clone(),
                        target_id: inv.id.clone(),
                        amount,
                        created_at: clock::now_text(),
                    });
                    rows::insert_allocations(tx, &allocations).await?;
                }
            }
            if row.returns_goods != 0 {
                let wh = match &row.warehouse_id {
                    Some(w) => w.clone(),
                    None => rows::default_warehouse(tx).await?.map(|w| w.id).ok_or(refused("warehouse-missing"))?,
                };
                row.warehouse_id = Some(wh.clone());
                for l in by_product(lines.iter().filter(|l| l.stocked != 0)) {
                    if let Some(p) = &l.product_id {
                        let mut m = new_move(actor, p, &wh, l.quantity, "return", row.reason.clone(), l);
                        rows::apply_move(tx, &mut m, 0).await?;
                    }
                }
            }
        }
        _ => {}
    }
    let _ = c;
    Ok(allocations)
}

/// Lines in the order of their articles: every transaction that touches stock levels locks
/// them in the same order, so two of them (a confirmation and a delivery sharing articles)
/// never wait for each other in a circle.
pub(crate) fn by_product<'a>(lines: impl Iterator<Item = &'a LineRow>) -> Vec<&'a LineRow> {
    let mut v: Vec<&LineRow> = lines.collect();
    v.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    v
}

/// The move a document's line makes in a warehouse.
pub(crate) fn new_move(
    actor: &Actor,
    product: &str,
    wh: &str,
    quantity: i64,
    kind: &str,
    reason: Option<String>,
    line: &LineRow,
) -> MoveRow {
    MoveRow {
        id: new_id(),
        product_id: product.to_string(),
        warehouse_id: wh.to_string(),
        quantity,
        kind: kind.to_string(),
        reason,
        document_id: Some(line.document_id.clone()),
        line_id: Some(line.id.clone()),
        balance: 0,
        at: clock::now_text(),
        created_by: actor.username.clone(),
        ..MoveRow::default()
    }
}

/// An order all delivered and invoiced is done.
async fn close_if_complete(tx: &mut Conn, actor: &Actor, order_id: &str) -> AppResult<()> {
    let Some(mut order) = rows::get_document(tx, order_id).await? else { return Ok(()) };
    if order.status != "confirmed" {
        return Ok(());
    }
    let lines = rows::lines_of(tx, order_id).await?;
    let complete = lines.iter().all(|l| l.invoiced >= l.quantity && (l.stocked == 0 || l.delivered >= l.quantity));
    if complete {
        let before = order.status.clone();
        step(tx, &mut order, Transition::Close).await?;
        order.updated_at = clock::now_text();
        rows::update_document(tx, &order).await?;
        audit::record(tx, actor, "close", "order", order_id, Some(&before), Some(&order.status)).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- conversions

/// The customer accepted a quote: a draft order with its lines.
pub async fn convert_quote(app: &App, actor: &Actor, id: &str) -> AppResult<Document> {
    actor.authorize(Action::Update, Resource::Sales)?;
    actor.authorize(Action::Create, Resource::Sales)?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (mut quote, qlines) = load(&mut tx, DocKind::Quote, id).await?;
    let before = fresh(quote.clone(), qlines.clone(), Vec::new(), c.d);
    step(&mut tx, &mut quote, Transition::Accept).await?;
    take_number(&mut tx, &mut quote).await?;
    let party = mrows::get::<PartyRow>(&mut tx, &quote.party_id).await?.ok_or(AppError::NotFound)?;
    if party.archived_at.is_some() {
        return Err(refused("customer-archived"));
    }
    let now = clock::now_text();
    quote.updated_at = now.clone();
    rows::update_document(&mut tx, &quote).await?;
    quote.version += 1;
    let oid = new_id();
    let order = DocumentRow {
        id: oid.clone(),
        kind: "order".into(),
        status: "draft".into(),
        point_of_sale: c.pos,
        number: None,
        party_id: quote.party_id.clone(),
        party_name: party.name,
        party_tax_id: party.tax_id,
        salesperson_id: quote.salesperson_id.clone(),
        warehouse_id: quote.warehouse_id.clone(),
        issue_date: c.today.clone(),
        origin_id: Some(quote.id.clone()),
        untaxed: quote.untaxed,
        tax: quote.tax,
        total: quote.total,
        notes: quote.notes.clone(),
        customer_reference: quote.customer_reference.clone(),
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..Default::default()
    };
    let lines: Vec<LineRow> = qlines
        .iter()
        .map(|l| LineRow { id: new_id(), document_id: oid.clone(), origin_line_id: Some(l.id.clone()), ..l.clone() })
        .collect();
    rows::insert_document(&mut tx, &order).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    let q_after = fresh(quote, qlines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, "accept", Some(&before), &q_after).await?;
    let doc = fresh(order, lines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, "create", None, &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

/// A document made from another (a delivery or invoice from an order, a credit note from
/// an invoice): same customer, salesperson and warehouse, linked to it and to its order.
fn child_row(parent: &DocumentRow, kind: DocKind, id: &str, c: &Ctx, actor: &Actor, now: &str) -> DocumentRow {
    let order_id = if parent.kind == "order" { Some(parent.id.clone()) } else { parent.order_id.clone() };
    DocumentRow {
        id: id.to_string(),
        kind: kind.code().into(),
        status: Status::Draft.code().into(),
        point_of_sale: c.pos,
        party_id: parent.party_id.clone(),
        party_name: parent.party_name.clone(),
        party_tax_id: parent.party_tax_id.clone(),
        salesperson_id: parent.salesperson_id.clone(),
        warehouse_id: parent.warehouse_id.clone(),
        issue_date: c.today.clone(),
        origin_id: Some(parent.id.clone()),
        order_id,
        customer_reference: parent.customer_reference.clone(),
        created_by: actor.username.clone(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        version: 1,
        ..Default::default()
    }
}

/// The lines of a document made from another: the `picked` parent lines with the
/// quantities taken, priced as on the parent.
pub(crate) fn child_lines(parent: &[LineRow], picked: &[(usize, i64)], doc_id: &str) -> Vec<LineRow> {
    picked
        .iter()
        .enumerate()
        .map(|(n, (i, q))| {
            let pl = &parent[*i];
            LineRow {
                id: new_id(),
                document_id: doc_id.to_string(),
                position: n as i64 + 1,
                quantity: *q,
                net: rules::line_net(*q, pl.unit_price, pl.discount),
                origin_line_id: Some(pl.id.clone()),
                delivered: 0,
                invoiced: 0,
                credited: 0,
                ..pl.clone()
            }
        })
        .collect()
}

/// The quantities of an order's lines a delivery or invoice takes: those asked for, or
/// everything `left` gives.
pub(crate) fn parts(
    errors: &mut FieldErrors,
    lines: &[LineRow],
    asked: Option<&[PartLineIn]>,
    left: impl Fn(&LineRow) -> i64,
) -> Vec<(usize, i64)> {
    match asked {
        None => lines.iter().enumerate().map(|(i, l)| (i, left(l))).filter(|(_, q)| *q > 0).collect(),
        Some(asked) => {
            let mut out = Vec::new();
            for (n, a) in asked.iter().enumerate() {
                let Some(i) = lines.iter().position(|l| l.id == a.line_id.trim()) else {
                    errors.add(&format!("lines.{n}.line_id"), "line-unknown");
                    continue;
                };
                let q = match a.quantity.as_deref() {
                    None => left(&lines[i]),
                    Some(s) => quantity(errors, &format!("lines.{n}.quantity"), Some(s)),
                };
                if q > left(&lines[i]) {
                    errors.add(&format!("lines.{n}.quantity"), "quantity-more-than-left");
                }
                if q > 0 {
                    out.push((i, q));
                }
            }
            out
        }
    }
}

/// Delivers an order, all that is left or the lines given: a posted delivery note, the
/// goods out of the warehouse, the order's reservation released.
pub async fn deliver_order(app: &App, actor: &Actor, id: &str, input: &PartIn) -> AppResult<Document> {
    actor.authorize(Action::Create, Resource::Deliveries)?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (order, olines) = load(&mut tx, DocKind::Order, id).await?;
    if order.status != "confirmed" {
        return Err(refused(if order.status == "draft" { "order-not-confirmed" } else { "order-closed" }));
    }
    let mut errors = FieldErrors::new();
    let stocked: Vec<LineRow> = olines.iter().filter(|l| l.stocked != 0).cloned().collect();
    let picked = parts(&mut errors, &stocked, input.lines.as_deref(), |l| l.quantity - l.delivered);
    let from_wh = order.warehouse_id.clone();
    let wh = match input.warehouse_id.as_deref() {
        Some(w) => warehouse_id(&mut tx, &mut errors, "warehouse_id", Some(w)).await?,
        None => from_wh.clone(),
    };
    let issue_date = date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    errors.into_result(())?;
    if picked.is_empty() {
        return Err(refused("nothing-to-deliver"));
    }
    let wh = wh.ok_or(refused("warehouse-missing"))?;
    let did = new_id();
    let now = clock::now_text();
    let deltas: Vec<(&str, i64)> = picked.iter().map(|(i, q)| (stocked[*i].id.as_str(), *q)).collect();
    if !rows::advance_lines(&mut tx, Progress::Delivered, &deltas).await? {
        return Err(refused("deliver-more-than-ordered"));
    }
    let lines = child_lines(&stocked, &picked, &did);
    let mut row = child_row(&order, DocKind::Delivery, &did, &c, actor, &now);
    row.status = Status::Posted.code().into();
    row.warehouse_id = Some(wh.clone());
    row.issue_date = issue_date;
    row.posted_at = Some(now.clone());
    row.posted_by = Some(actor.username.clone());
    set_totals(&mut row, &lines);
    row.number = Some(rows::take_number(&mut tx, "delivery", c.pos).await?);
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    let mut moves = Vec::with_capacity(lines.len());
    for l in by_product(lines.iter()) {
        let Some(p) = &l.product_id else { continue };
        let mut m = new_move(actor, p, &wh, -l.quantity, "delivery", None, l);
        // The reservation was made in the order's warehouse: released with the move when
        // the goods leave from there, separately when they leave from another.
        let same = from_wh.as_deref() == Some(wh.as_str());
        m.balance = rows::move_level(&mut tx, p, &wh, -l.quantity, if same { -l.quantity } else { 0 }).await?;
        if m.balance < 0 && !c.allow_negative {
            return Err(refused("stock-insufficient"));
        }
        if let (Some(res_wh), false) = (&from_wh, same) {
            rows::reserve(&mut tx, p, res_wh, -l.quantity).await?;
        }
        moves.push(m);
    }
    rows::insert_moves(&mut tx, &moves).await?;
    let doc = fresh(row, lines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, "post", None, &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

/// Invoices an order: what was delivered and not yet invoiced (goods), what was ordered
/// and not yet invoiced (services), or the lines given. A draft, or posted with `post`.
pub async fn invoice_order(app: &App, actor: &Actor, id: &str, input: &PartIn) -> AppResult<Document> {
    actor.authorize(Action::Create, Resource::Invoices)?;
    if input.post.unwrap_or(false) {
        actor.authorize(Action::Update, Resource::Invoices)?;
    }
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (order, olines) = load(&mut tx, DocKind::Order, id).await?;
    if !matches!(order.status.as_str(), "confirmed" | "done") {
        return Err(refused("order-not-confirmed"));
    }
    let mut errors = FieldErrors::new();
    let left = |l: &LineRow| if l.stocked != 0 { l.delivered - l.invoiced } else { l.quantity - l.invoiced };
    let picked = parts(&mut errors, &olines, input.lines.as_deref(), left);
    let issue_date = date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    errors.into_result(())?;
    if picked.is_empty() {
        return Err(refused("nothing-to-invoice"));
    }
    let iid = new_id();
    let now = clock::now_text();
    let mut lines = child_lines(&olines, &picked, &iid);
    let mut row = child_row(&order, DocKind::Invoice, &iid, &c, actor, &now);
    row.issue_date = issue_date;
    set_totals(&mut row, &lines);
    let mut action = "create";
    if input.post.unwrap_or(false) {
        row.status = "posted".into();
        row.posted_at = Some(now.clone());
        row.posted_by = Some(actor.username.clone());
        // Effects read the row's fields only; it is inserted right after.
        post_effects(&mut tx, actor, &c, &mut row, &mut lines).await?;
        action = "post";
    }
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    crate::crm::after_invoicing(&mut tx, &row).await?;
    let doc = fresh(row, lines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, action, None, &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

/// A draft credit note for a posted invoice: all of it, or the lines and quantities given.
pub async fn credit_invoice(app: &App, actor: &Actor, id: &str, input: &PartIn) -> AppResult<Document> {
    actor.authorize(Action::Create, Resource::Invoices)?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let (inv, ilines) = load(&mut tx, DocKind::Invoice, id).await?;
    if inv.status != "posted" {
        return Err(refused("invoice-not-posted"));
    }
    let mut errors = FieldErrors::new();
    let picked = parts(&mut errors, &ilines, input.lines.as_deref(), |l| l.quantity - l.credited);
    let reason = domain::validation::optional(&mut errors, "reason", input.reason.as_deref(), 200);
    let issue_date = date_field(&mut errors, "issue_date", input.issue_date.as_deref());
    errors.into_result(())?;
    if picked.is_empty() {
        return Err(refused("nothing-to-credit"));
    }
    let cid = new_id();
    let now = clock::now_text();
    let lines = child_lines(&ilines, &picked, &cid);
    let mut row = child_row(&inv, DocKind::CreditNote, &cid, &c, actor, &now);
    row.reason = reason;
    row.returns_goods = i64::from(input.returns_goods.unwrap_or(false));
    if let Some(d) = issue_date {
        row.issue_date = d;
    }
    set_totals(&mut row, &lines);
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    let doc = fresh(row, lines, Vec::new(), c.d);
    audit_doc(&mut tx, actor, "create", None, &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

// ---------------------------------------------------------------- receipts

/// Records a customer's payment, posted at once: allocated to the invoices given, or to
/// the oldest open ones; what is left over is refused unless kept as an advance.
pub async fn create_receipt(app: &App, actor: &Actor, input: &ReceiptIn) -> AppResult<Document> {
    actor.authorize(Action::Create, Resource::Receipts)?;
    let mut tx = app.db.begin().await?;
    let c = ctx(&mut tx).await?;
    let mut errors = FieldErrors::new();
    let party = customer(&mut tx, &mut errors, input.customer_id.as_deref()).await?;
    let amount = match input.amount.as_deref().map(|s| parse_scaled(s, c.d, false)) {
        None => {
            errors.add("amount", "field-required");
            0
        }
        Some(Err(e)) => {
            errors.add("amount", e.key());
            0
        }
        Some(Ok(0)) => {
            errors.add("amount", "amount-not-positive");
            0
        }
        Some(Ok(v)) => v,
    };
    let issue_date = date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    let notes = domain::validation::optional(&mut errors, "notes", input.notes.as_deref(), 4000);
    let mut wanted: Vec<(String, i64)> = Vec::new();
    if let Some(allocs) = &input.allocations {
        for (n, a) in allocs.iter().enumerate() {
            let Ok(inv) = parse_id(&a.invoice_id) else {
                errors.add(&format!("allocations.{n}.invoice_id"), "invoice-unknown");
                continue;
            };
            match parse_scaled(&a.amount, c.d, false) {
                Ok(0) => errors.add(&format!("allocations.{n}.amount"), "amount-not-positive"),
                Ok(v) => wanted.push((inv, v)),
                Err(e) => errors.add(&format!("allocations.{n}.amount"), e.key()),
            }
        }
        if wanted.iter().map(|w| w.1).sum::<i64>() > amount {
            errors.add("allocations", "allocations-exceed-amount");
        }
    }
    errors.into_result(())?;
    let party = party.ok_or(AppError::NotFound)?;
    let rid = new_id();
    let now = clock::now_text();
    if input.allocations.is_none() {
        let mut left = amount;
        for item in rows::open_items(&mut tx, Some(&party.id)).await? {
            if left == 0 {
                break;
            }
            if matches!(item.kind.as_str(), "invoice" | "debit_note") {
                let take = (item.total - item.settled).min(left);
                wanted.push((item.id, take));
                left -= take;
            }
        }
    }
    let mut allocations = Vec::with_capacity(wanted.len());
    for (n, (inv, a)) in wanted.iter().enumerate() {
        let doc = rows::get_document(&mut tx, inv).await?;
        let ok = doc
            .as_ref()
            .is_some_and(|d| d.party_id == party.id && d.status == "posted" && matches!(d.kind.as_str(), "invoice" | "debit_note"));
        if !ok {
            return Err(AppError::Invalid(FieldErrors::single(&format!("allocations.{n}.invoice_id"), "invoice-unknown")));
        }
        if !rows::settle(&mut tx, inv, *a).await? {
            return Err(AppError::Invalid(FieldErrors::single(&format!("allocations.{n}.amount"), "payment-more-than-owed")));
        }
        allocations.push(AllocationRow {
            id: new_id(),
            source_id: rid.clone(),
            target_id: inv.clone(),
            amount: *a,
            created_at: now.clone(),
        });
    }
    let allocated: i64 = allocations.iter().map(|a| a.amount).sum();
    if allocated < amount && !input.advance.unwrap_or(false) {
        return Err(AppError::Invalid(FieldErrors::single("amount", "payment-more-than-owed")));
    }
    let mut row = DocumentRow {
        id: rid.clone(),
        kind: "receipt".into(),
        status: "posted".into(),
        point_of_sale: c.pos,
        party_id: party.id.clone(),
        party_name: party.name.clone(),
        party_tax_id: party.tax_id.clone(),
        issue_date,
        untaxed: amount,
        total: amount,
        settled: allocated,
        notes,
        posted_at: Some(now.clone()),
        posted_by: Some(actor.username.clone()),
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..Default::default()
    };
    row.number = Some(rows::take_number(&mut tx, "receipt", c.pos).await?);
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_allocations(&mut tx, &allocations).await?;
    let doc = fresh(row, Vec::new(), allocations, c.d);
    audit_doc(&mut tx, actor, "post", None, &doc).await?;
    commit(tx).await?;
    Ok(doc)
}

// ---------------------------------------------------------------- e-mail

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailIn {
    /// Recipients; the customer's e-mail when not given.
    pub to: Option<Vec<String>>,
    pub subject: Option<String>,
    pub message: Option<String>,
}

/// What was sent, as recorded on the document and on the customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailSent {
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub attachment: String,
}

/// What is sent unless the user wrote otherwise: subject, text and the PDF.
pub struct Outgoing {
    pub subject: String,
    pub text: String,
    pub pdf: crate::mail::Attachment,
}

/// Sends a document (its PDF already made) to the customer and records the sending on the
/// document's and the customer's history. Nothing is recorded when the server refuses it.
pub async fn email_document(
    app: &App,
    actor: &Actor,
    mailer: Option<&crate::mail::Mailer>,
    kind: DocKind,
    id: &str,
    input: &EmailIn,
    out: Outgoing,
) -> AppResult<EmailSent> {
    actor.authorize(Action::Read, resource(kind))?;
    actor.authorize(Action::Read, Resource::Customers)?;
    let mut conn = app.db.reader().await?;
    let (row, _) = load(&mut conn, kind, id).await?;
    drop(conn);
    email_row(app, actor, mailer, &row, input, out).await
}

/// Sends a document already read (and its reading authorised) to its party: a customer's
/// quote or invoice, a supplier's purchase order.
pub(crate) async fn email_row(
    app: &App,
    actor: &Actor,
    mailer: Option<&crate::mail::Mailer>,
    row: &DocumentRow,
    input: &EmailIn,
    out: Outgoing,
) -> AppResult<EmailSent> {
    let Outgoing { subject, text, pdf } = out;
    let Some(mailer) = mailer else { return Err(refused("mail-not-configured")) };
    let mut conn = app.db.reader().await?;
    let party = mrows::get::<PartyRow>(&mut conn, &row.party_id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let to: Vec<String> = match &input.to {
        Some(list) if !list.iter().all(|t| t.trim().is_empty()) => {
            list.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
        }
        _ => party.email.clone().into_iter().collect(),
    };
    if to.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("to", "mail-no-recipient")));
    }
    if to.len() > 20 {
        return Err(AppError::Invalid(FieldErrors::single("to", "text-too-long")));
    }
    let subject = input.subject.clone().filter(|s| !s.trim().is_empty()).unwrap_or(subject);
    let text = input.message.clone().filter(|s| !s.trim().is_empty()).unwrap_or(text);
    if subject.chars().count() > 300 || text.chars().count() > 20_000 {
        return Err(AppError::Invalid(FieldErrors::single("message", "text-too-long")));
    }
    let attachment = pdf.filename.clone();
    let msg = crate::mail::Message { to: to.clone(), subject: subject.clone(), text, attachments: vec![pdf], reply_to: None };
    let message_id = match mailer.send(&msg).await {
        Ok(id) => id,
        Err(crate::mail::MailError::BadAddress(_)) => return Err(AppError::Invalid(FieldErrors::single("to", "email-invalid"))),
        Err(e) => {
            tracing::warn!(error = %e, "sending a document by e-mail failed");
            return Err(refused("mail-failed"));
        }
    };
    let sent = EmailSent { to, subject, message_id, attachment };
    let mut tx = app.db.begin().await?;
    audit::record(&mut tx, actor, "email", &row.kind, &row.id, None::<&()>, Some(&sent)).await?;
    audit::record(&mut tx, actor, "email", "party", &party.id, None::<&()>, Some(&sent)).await?;
    // The customer's timeline shows the mail among their calls and visits.
    let now = clock::now_text();
    let interaction = store::crm::InteractionRow {
        id: new_id(),
        party_id: party.id.clone(),
        kind: "email".into(),
        channel: "email".into(),
        direction: "out".into(),
        occurred_at: now.clone(),
        user_id: actor.user_id.clone(),
        user_name: actor.display_name.clone(),
        subject: sent.subject.clone(),
        body: Some(format!("{} → {}", sent.attachment, sent.to.join(", "))),
        document_id: Some(row.id.clone()),
        created_at: now,
        ..Default::default()
    };
    store::crm::insert_interaction(&mut tx, &interaction).await?;
    commit(tx).await?;
    Ok(sent)
}
