//! Purchase to pay: purchase orders, receptions (partial, backorders), supplier invoices
//! against what was received, supplier payments allocated to invoices, and what the
//! business owes (accounts payable, ageing, the payment run, each supplier's account).
//!
//! Each function is one business action in one transaction. The documents are rows of
//! `documents` and share lines, numbering and allocations with sales documents; their
//! states change only through [`domain::purchase::transition`]. A reception brings the
//! goods in at the order's price and moves the article's weighted-average cost.

use crate::master::{company_in, Page};
use crate::sales::{self as s, Ctx, Pricing};
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_scaled, format_trimmed, parse_scaled, PERCENT_SCALE};
use domain::purchase::{self as rules, PurchaseKind};
use domain::sales::{format_number, Status, Transition, AGEING_BUCKETS};
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::master::{self as mrows, PartyRow};
use store::purchasing as prows;
use store::sales::{self as rows, AllocationRow, DocumentRow, LineRow, Progress};
use store::Conn;
use utoipa::{IntoParams, ToSchema};

/// The settings that decide purchasing's rules.
pub const TOLERANCE_KEY: &str = "purchasing.receive_tolerance";
pub const SEGREGATION_KEY: &str = "purchasing.segregate_payments";

// ---------------------------------------------------------------- what the API shows

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseDocument {
    pub id: String,
    /// purchase_order, reception, supplier_invoice or supplier_payment.
    pub kind: String,
    /// draft, confirmed, done, posted or cancelled.
    pub status: String,
    /// Where a purchase order stands: draft, confirmed, partially_received, received,
    /// partially_invoiced, invoiced, paid, done, cancelled. For other kinds, the status.
    pub progress: String,
    /// Tendero's own number, `0001-00000042`, once the document left draft.
    pub number: Option<String>,
    pub supplier_id: String,
    pub supplier_name: String,
    pub supplier_tax_id: Option<String>,
    /// Supplier invoices: the supplier's own number.
    pub supplier_invoice_number: Option<String>,
    /// The warehouse goods are received into.
    pub warehouse_id: Option<String>,
    /// YYYY-MM-DD.
    pub issue_date: String,
    /// Supplier invoices: when it must be paid.
    pub due_date: Option<String>,
    /// Purchase orders: when the supplier promised the goods.
    pub expected_date: Option<String>,
    /// The purchase order a reception or supplier invoice comes from.
    pub purchase_order_id: Option<String>,
    #[schema(example = "1000.00")]
    pub untaxed_amount: String,
    #[schema(example = "210.00")]
    pub tax_amount: String,
    #[schema(example = "1210.00")]
    pub total: String,
    /// Supplier invoices: what has been paid. Payments: what has been allocated.
    pub settled: String,
    /// `total − settled`.
    pub open_amount: String,
    pub notes: Option<String>,
    /// The supplier's reference (its quote or order confirmation).
    pub supplier_reference: Option<String>,
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
    pub lines: Vec<PurchaseLine>,
    pub taxes: Vec<s::TaxLine>,
    pub allocations: Vec<s::Allocation>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseLine {
    pub id: String,
    pub position: i64,
    pub product_id: Option<String>,
    pub description: String,
    #[schema(example = "10")]
    pub quantity: String,
    #[schema(example = "85.00")]
    pub unit_price: String,
    /// Percentage, e.g. "5".
    pub discount: String,
    pub tax_rate_id: Option<String>,
    pub tax_name: String,
    pub tax_rate: String,
    /// Quantity × price − discount, before tax.
    pub amount: String,
    pub stocked: bool,
    /// The purchase order line a reception or invoice line comes from.
    pub origin_line_id: Option<String>,
    /// Purchase order lines: quantity received so far.
    pub received: String,
    /// Purchase order lines: quantity the supplier invoiced so far.
    pub invoiced: String,
}

fn line_of(l: LineRow, d: u32) -> PurchaseLine {
    PurchaseLine {
        id: l.id,
        position: l.position,
        product_id: l.product_id,
        description: l.description,
        quantity: s::qty(l.quantity),
        unit_price: format_scaled(l.unit_price, d),
        discount: format_trimmed(l.discount, PERCENT_SCALE),
        tax_rate_id: l.tax_rate_id,
        tax_name: l.tax_name,
        tax_rate: format_trimmed(l.tax_rate, PERCENT_SCALE),
        amount: format_scaled(l.net, d),
        stocked: l.stocked != 0,
        origin_line_id: l.origin_line_id,
        received: s::qty(l.delivered),
        invoiced: s::qty(l.invoiced),
    }
}

/// Where a purchase order stands, from its lines and (for `paid`) its invoices.
fn progress(r: &DocumentRow, lines: &[LineRow], paid: bool) -> String {
    if r.kind != PurchaseKind::PurchaseOrder.code() || r.status != "confirmed" {
        return r.status.clone();
    }
    let stocked: Vec<&LineRow> = lines.iter().filter(|l| l.stocked != 0).collect();
    let all_invoiced = !lines.is_empty() && lines.iter().all(|l| l.invoiced >= l.quantity);
    let p = if all_invoiced && paid {
        "paid"
    } else if all_invoiced {
        "invoiced"
    } else if lines.iter().any(|l| l.invoiced > 0) {
        "partially_invoiced"
    } else if !stocked.is_empty() && stocked.iter().all(|l| l.delivered >= l.quantity) {
        "received"
    } else if stocked.iter().any(|l| l.delivered > 0) {
        "partially_received"
    } else {
        "confirmed"
    };
    p.to_string()
}

fn document_of(r: DocumentRow, lines: Vec<LineRow>, allocations: Vec<AllocationRow>, d: u32, paid: bool) -> PurchaseDocument {
    let progress = progress(&r, &lines, paid);
    let taxes = s::taxes_of(&lines, d);
    let id = r.id.clone();
    PurchaseDocument {
        progress,
        number: r.number.map(|n| format_number(r.point_of_sale, n)),
        supplier_id: r.party_id,
        supplier_name: r.party_name,
        supplier_tax_id: r.party_tax_id,
        supplier_invoice_number: r.supplier_invoice_number,
        warehouse_id: r.warehouse_id,
        issue_date: r.issue_date,
        due_date: r.due_date,
        expected_date: r.promised_date,
        purchase_order_id: r.order_id,
        untaxed_amount: format_scaled(r.untaxed, d),
        tax_amount: format_scaled(r.tax, d),
        total: format_scaled(r.total, d),
        settled: format_scaled(r.settled, d),
        open_amount: format_scaled(r.total - r.settled, d),
        notes: r.notes,
        supplier_reference: r.customer_reference,
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
            .map(|a| s::Allocation {
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
pub struct PurchaseOrderIn {
    pub supplier_id: Option<String>,
    /// Where the goods will be received; the default warehouse when not given.
    pub warehouse_id: Option<String>,
    /// YYYY-MM-DD; today when not given.
    pub issue_date: Option<String>,
    /// When the supplier promised the goods.
    pub expected_date: Option<String>,
    pub notes: Option<String>,
    pub supplier_reference: Option<String>,
    /// Each line's price defaults to the article's cost.
    pub lines: Option<Vec<s::LineIn>>,
    /// The version read, to refuse overwriting someone else's change.
    pub version: Option<i64>,
    /// Confirm at once (number taken), in the same transaction.
    pub confirm: Option<bool>,
}

/// What to receive of a purchase order: all that is left, or the lines given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveIn {
    pub lines: Option<Vec<s::PartLineIn>>,
    /// The order's warehouse when not given.
    pub warehouse_id: Option<String>,
    pub issue_date: Option<String>,
    /// The supplier's delivery note number, remarks.
    pub notes: Option<String>,
}

/// A supplier invoice for what was received of a purchase order (and not yet invoiced),
/// or for the lines given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierInvoiceIn {
    /// The supplier's own number, as printed on its invoice.
    #[schema(example = "A-0003-00012345")]
    pub supplier_invoice_number: Option<String>,
    /// The invoice's date; today when not given.
    pub issue_date: Option<String>,
    /// From the supplier's payment terms when not given.
    pub due_date: Option<String>,
    pub lines: Option<Vec<s::PartLineIn>>,
    /// Post at once (number, what is owed) instead of leaving a draft.
    pub post: Option<bool>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierPaymentIn {
    pub supplier_id: Option<String>,
    #[schema(example = "1210.00")]
    pub amount: Option<String>,
    pub issue_date: Option<String>,
    /// Which invoices it pays and how much; the oldest due first when not given.
    pub allocations: Option<Vec<SupplierAllocationIn>>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierAllocationIn {
    pub supplier_invoice_id: String,
    pub amount: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurchaseListParams {
    /// Only this supplier's.
    pub supplier_id: Option<String>,
    /// Only in this status.
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub fn resource(kind: PurchaseKind) -> Resource {
    match kind {
        PurchaseKind::PurchaseOrder => Resource::Purchases,
        PurchaseKind::Reception => Resource::Receptions,
        PurchaseKind::SupplierInvoice => Resource::Payables,
        PurchaseKind::SupplierPayment => Resource::SupplierPayments,
    }
}

// ---------------------------------------------------------------- helpers

async fn load(conn: &mut Conn, kind: PurchaseKind, id: &str) -> AppResult<(DocumentRow, Vec<LineRow>)> {
    let id = parse_id(id)?;
    let row = rows::get_document(conn, &id).await?.filter(|r| r.kind == kind.code()).ok_or(AppError::NotFound)?;
    let lines = rows::lines_of(conn, &id).await?;
    Ok((row, lines))
}

async fn step(conn: &mut Conn, row: &mut DocumentRow, t: Transition) -> AppResult<Status> {
    let kind = PurchaseKind::from_code(&row.kind).ok_or(AppError::NotFound)?;
    s::claim_step(conn, row, |from| rules::transition(kind, from, t)).await
}

async fn audit_doc(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    before: Option<&PurchaseDocument>,
    after: &PurchaseDocument,
) -> AppResult<()> {
    audit::record(conn, actor, action, &after.kind, &after.id, before, Some(after)).await
}

async fn supplier(conn: &mut Conn, errors: &mut FieldErrors, id: Option<&str>) -> AppResult<Option<PartyRow>> {
    let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) else {
        errors.add("supplier_id", "field-required");
        return Ok(None);
    };
    let found = match parse_id(id) {
        Ok(id) => mrows::get::<PartyRow>(conn, &id).await?,
        Err(_) => None,
    };
    match found {
        Some(p) if p.is_supplier == 0 => errors.add("supplier_id", "supplier-unknown"),
        Some(p) if p.archived_at.is_some() => errors.add("supplier_id", "supplier-archived"),
        Some(p) => return Ok(Some(p)),
        None => errors.add("supplier_id", "supplier-unknown"),
    }
    Ok(None)
}

async fn tolerance(conn: &mut Conn) -> AppResult<i64> {
    Ok(rows::setting(conn, TOLERANCE_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

async fn segregation_on(conn: &mut Conn) -> AppResult<bool> {
    Ok(rows::setting(conn, SEGREGATION_KEY).await?.as_deref() != Some("0"))
}

/// Whether a purchase order was all received (goods) and all invoiced: then it is done.
async fn close_if_complete(tx: &mut Conn, actor: &Actor, order_id: &str) -> AppResult<()> {
    let Some(mut order) = rows::get_document(tx, order_id).await? else { return Ok(()) };
    if order.status != "confirmed" {
        return Ok(());
    }
    let lines = rows::lines_of(tx, order_id).await?;
    let complete =
        lines.iter().all(
            |l| {
                if l.stocked != 0 {
                    l.delivered >= l.quantity && l.invoiced >= l.delivered
                } else {
                    l.invoiced >= l.quantity
                }
            },
        );
    if complete {
        step(tx, &mut order, Transition::Close).await?;
        order.updated_at = clock::now_text();
        rows::update_document(tx, &order).await?;
        audit::record(tx, actor, "close", &order.kind, order_id, Some(&"confirmed"), Some(&order.status)).await?;
    }
    Ok(())
}

fn child_row(order: &DocumentRow, kind: PurchaseKind, id: &str, c: &Ctx, actor: &Actor, now: &str) -> DocumentRow {
    DocumentRow {
        id: id.to_string(),
        kind: kind.code().into(),
        status: Status::Draft.code().into(),
        point_of_sale: c.pos,
        party_id: order.party_id.clone(),
        party_name: order.party_name.clone(),
        party_tax_id: order.party_tax_id.clone(),
        warehouse_id: order.warehouse_id.clone(),
        issue_date: c.today.clone(),
        origin_id: Some(order.id.clone()),
        order_id: Some(order.id.clone()),
        customer_reference: order.customer_reference.clone(),
        created_by: actor.username.clone(),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        version: 1,
        ..Default::default()
    }
}

// ---------------------------------------------------------------- reading

pub async fn list(app: &App, actor: &Actor, kind: PurchaseKind, params: &PurchaseListParams) -> AppResult<Page<PurchaseDocument>> {
    actor.authorize(Action::Read, resource(kind))?;
    let mut conn = app.db.reader().await?;
    let (found, next_cursor) = s::list_page(
        &mut conn,
        kind.code(),
        params.supplier_id.as_deref(),
        params.status.as_deref(),
        params.cursor.as_deref(),
        params.limit,
    )
    .await?;
    let d = company_in(&mut conn).await?.decimals();
    // A purchase order's progress comes from its lines: read for the whole page at once.
    let mut lines_by: BTreeMap<String, Vec<LineRow>> = BTreeMap::new();
    if kind == PurchaseKind::PurchaseOrder {
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        for l in rows::lines_of_many(&mut conn, &ids).await? {
            lines_by.entry(l.document_id.clone()).or_default().push(l);
        }
    }
    let items = found
        .into_iter()
        .map(|r| {
            let lines = lines_by.remove(&r.id).unwrap_or_default();
            let mut doc = document_of(r, lines, Vec::new(), d, false);
            doc.lines.clear();
            doc
        })
        .collect();
    Ok(Page { items, next_cursor })
}

pub async fn get(app: &App, actor: &Actor, kind: PurchaseKind, id: &str) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Read, resource(kind))?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let (row, lines) = load(&mut conn, kind, id).await?;
    view(&mut conn, row, lines, d).await
}

async fn view(conn: &mut Conn, row: DocumentRow, lines: Vec<LineRow>, d: u32) -> AppResult<PurchaseDocument> {
    let allocations = rows::allocations_of(conn, &row.id).await?;
    let paid = if row.kind == PurchaseKind::PurchaseOrder.code() {
        let related = rows::related_documents(conn, &row.id).await?;
        let invoices: Vec<&DocumentRow> = related.iter().filter(|r| r.kind == "supplier_invoice" && r.status == "posted").collect();
        !invoices.is_empty() && invoices.iter().all(|r| r.settled >= r.total)
    } else {
        false
    };
    Ok(document_of(row, lines, allocations, d, paid))
}

/// A purchase order with every document made from it (receptions, invoices), oldest first.
pub async fn chain(app: &App, actor: &Actor, id: &str) -> AppResult<Vec<PurchaseDocument>> {
    actor.authorize(Action::Read, Resource::Purchases)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let (row, _) = load(&mut conn, PurchaseKind::PurchaseOrder, id).await?;
    let mut out = Vec::new();
    for r in rows::related_documents(&mut conn, &row.id).await? {
        let kind = PurchaseKind::from_code(&r.kind);
        if kind.is_some_and(|k| actor.can(Action::Read, resource(k))) {
            let lines = rows::lines_of(&mut conn, &r.id).await?;
            out.push(document_of(r, lines, Vec::new(), d, false));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- purchase orders

fn header(errors: &mut FieldErrors, input: &PurchaseOrderIn, row: &mut DocumentRow, today: &str) {
    row.issue_date = s::date_field(errors, "issue_date", input.issue_date.as_deref()).unwrap_or_else(|| today.to_string());
    row.promised_date = s::date_field(errors, "expected_date", input.expected_date.as_deref());
    row.notes = v::optional(errors, "notes", input.notes.as_deref(), 4000);
    row.customer_reference = v::optional(errors, "supplier_reference", input.supplier_reference.as_deref(), 100);
}

pub async fn create_order(app: &App, actor: &Actor, input: &PurchaseOrderIn) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Create, Resource::Purchases)?;
    if input.confirm == Some(true) {
        actor.authorize(Action::Update, Resource::Purchases)?;
    }
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let mut errors = FieldErrors::new();
    let party = supplier(&mut tx, &mut errors, input.supplier_id.as_deref()).await?;
    let id = new_id();
    let now = clock::now_text();
    let mut row = DocumentRow {
        id: id.clone(),
        kind: PurchaseKind::PurchaseOrder.code().into(),
        status: Status::Draft.code().into(),
        point_of_sale: c.pos,
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now.clone(),
        version: 1,
        ..Default::default()
    };
    header(&mut errors, input, &mut row, &c.today);
    row.warehouse_id = s::warehouse_id(&mut tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    let lines = s::build_lines(&mut tx, actor, Pricing::Purchase, c.d, &id, input.lines.as_deref().unwrap_or(&[]), &mut errors).await?;
    errors.into_result(())?;
    let party = party.ok_or(AppError::NotFound)?;
    row.party_id = party.id;
    row.party_name = party.name;
    row.party_tax_id = party.tax_id;
    s::set_totals(&mut row, &lines);
    let mut action = "create";
    if input.confirm == Some(true) {
        row.status = Status::Confirmed.code().into();
        row.confirmed_at = Some(now.clone());
        row.confirmed_by = Some(actor.username.clone());
        confirm_effects(&mut tx, &mut row).await?;
        action = "confirm";
    }
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    let doc = document_of(row, lines, Vec::new(), c.d, false);
    audit_doc(&mut tx, actor, action, None, &doc).await?;
    s::commit(tx).await?;
    Ok(doc)
}

/// What confirming a purchase order does: it takes its number and its warehouse.
async fn confirm_effects(tx: &mut Conn, row: &mut DocumentRow) -> AppResult<()> {
    if row.warehouse_id.is_none() {
        row.warehouse_id = rows::default_warehouse(tx).await?.map(|w| w.id);
    }
    s::take_number(tx, row).await
}

/// Changes a draft purchase order: header fields given, and the lines when given (all of them).
pub async fn update_order(app: &App, actor: &Actor, id: &str, input: &PurchaseOrderIn) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Update, Resource::Purchases)?;
    if input.confirm.is_some() {
        return Err(AppError::Invalid(FieldErrors::single("confirm", "confirm-on-create-only")));
    }
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let (mut row, mut lines) = load(&mut tx, PurchaseKind::PurchaseOrder, id).await?;
    if row.status != "draft" {
        return Err(s::refused("doc-not-draft"));
    }
    if input.version.is_some_and(|v| v != row.version) {
        return Err(AppError::Conflict);
    }
    let before = document_of(row.clone(), lines.clone(), Vec::new(), c.d, false);
    let mut errors = FieldErrors::new();
    if input.supplier_id.is_some() {
        if let Some(p) = supplier(&mut tx, &mut errors, input.supplier_id.as_deref()).await? {
            row.party_id = p.id;
            row.party_name = p.name;
            row.party_tax_id = p.tax_id;
        }
    }
    let merged = PurchaseOrderIn {
        issue_date: input.issue_date.clone().or(Some(row.issue_date.clone())),
        expected_date: input.expected_date.clone().or(row.promised_date.clone()),
        notes: input.notes.clone().or(row.notes.clone()),
        supplier_reference: input.supplier_reference.clone().or(row.customer_reference.clone()),
        ..Default::default()
    };
    header(&mut errors, &merged, &mut row, &c.today);
    if input.warehouse_id.is_some() {
        row.warehouse_id = s::warehouse_id(&mut tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    }
    if let Some(new_lines) = &input.lines {
        lines = s::build_lines(&mut tx, actor, Pricing::Purchase, c.d, &row.id, new_lines, &mut errors).await?;
    }
    errors.into_result(())?;
    s::set_totals(&mut row, &lines);
    row.updated_at = clock::now_text();
    rows::update_document(&mut tx, &row).await?;
    row.version += 1;
    if input.lines.is_some() {
        rows::delete_lines(&mut tx, &row.id).await?;
        rows::insert_lines(&mut tx, &lines).await?;
    }
    let doc = document_of(row, lines, Vec::new(), c.d, false);
    audit_doc(&mut tx, actor, "update", Some(&before), &doc).await?;
    s::commit(tx).await?;
    Ok(doc)
}

/// Confirms, closes or cancels a purchase order; posts or cancels a supplier invoice.
pub async fn transition(app: &App, actor: &Actor, kind: PurchaseKind, id: &str, t: Transition) -> AppResult<PurchaseDocument> {
    let action = if t == Transition::Cancel { Action::Archive } else { Action::Update };
    actor.authorize(action, resource(kind))?;
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let (mut row, lines) = load(&mut tx, kind, id).await?;
    let before = document_of(row.clone(), lines.clone(), Vec::new(), c.d, false);
    let from = row.status.clone();
    let to = step(&mut tx, &mut row, t).await?;
    let now = clock::now_text();
    match (kind, to) {
        (PurchaseKind::PurchaseOrder, Status::Confirmed) => {
            if lines.is_empty() {
                return Err(s::refused("doc-empty"));
            }
            confirm_effects(&mut tx, &mut row).await?;
        }
        (PurchaseKind::PurchaseOrder, Status::Cancelled) if lines.iter().any(|l| l.delivered > 0 || l.invoiced > 0) => {
            return Err(s::refused("purchase-order-has-receptions"));
        }
        (PurchaseKind::SupplierInvoice, Status::Posted) => post_invoice_effects(&mut tx, &c, &mut row, &lines).await?,
        (PurchaseKind::SupplierInvoice, Status::Cancelled) if from == "posted" => {
            if row.settled > 0 {
                return Err(s::refused("supplier-invoice-paid"));
            }
            let back: Vec<(&str, i64)> = lines.iter().filter_map(|l| l.origin_line_id.as_deref().map(|o| (o, -l.quantity))).collect();
            if !rows::advance_lines(&mut tx, Progress::InvoicedOfDelivered, &back).await? {
                return Err(AppError::Conflict);
            }
            if let Some(order_id) = &row.order_id {
                reopen_if_done(&mut tx, order_id).await?;
            }
        }
        _ => {}
    }
    s::stamp(&mut row, to, &actor.username, &now);
    row.updated_at = now;
    rows::update_document(&mut tx, &row).await?;
    row.version += 1;
    let order_id = row.order_id.clone();
    let doc = document_of(row, lines, Vec::new(), c.d, false);
    audit_doc(&mut tx, actor, t.code(), Some(&before), &doc).await?;
    if let (PurchaseKind::SupplierInvoice, Status::Posted, Some(order_id)) = (kind, to, order_id) {
        close_if_complete(&mut tx, actor, &order_id).await?;
    }
    s::commit(tx).await?;
    Ok(doc)
}

/// A cancelled invoice gives its quantities back: an order closed by it is open again.
async fn reopen_if_done(tx: &mut Conn, order_id: &str) -> AppResult<()> {
    if let Some(mut order) = rows::get_document(tx, order_id).await? {
        if order.status == "done" {
            order.status = "confirmed".into();
            order.updated_at = clock::now_text();
            rows::update_document(tx, &order).await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- receptions

/// Receives a purchase order, all that is left or the lines given (up to the ordered
/// quantity plus the tolerance): a posted reception, the goods into the warehouse at the
/// order's net price, each article's weighted-average cost moved.
pub async fn receive(app: &App, actor: &Actor, id: &str, input: &ReceiveIn) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Create, Resource::Receptions)?;
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let tol = tolerance(&mut tx).await?;
    let (order, olines) = load(&mut tx, PurchaseKind::PurchaseOrder, id).await?;
    if order.status != "confirmed" {
        return Err(s::refused(if order.status == "draft" { "purchase-order-not-confirmed" } else { "purchase-order-closed" }));
    }
    let mut errors = FieldErrors::new();
    let stocked: Vec<LineRow> = olines.iter().filter(|l| l.stocked != 0).cloned().collect();
    let picked = s::parts(&mut errors, &stocked, input.lines.as_deref(), |l| rules::receivable_limit(l.quantity, tol) - l.delivered);
    // Receiving everything left takes what was ordered, not the tolerance on top.
    let picked: Vec<(usize, i64)> = if input.lines.is_none() {
        picked.into_iter().map(|(i, _)| (i, stocked[i].quantity - stocked[i].delivered)).filter(|(_, q)| *q > 0).collect()
    } else {
        picked
    };
    let wh = match input.warehouse_id.as_deref() {
        Some(w) => s::warehouse_id(&mut tx, &mut errors, "warehouse_id", Some(w)).await?,
        None => order.warehouse_id.clone(),
    };
    let issue_date = s::date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 4000);
    errors.into_result(())?;
    if picked.is_empty() {
        return Err(s::refused("nothing-to-receive"));
    }
    let wh = match wh {
        Some(w) => w,
        None => rows::default_warehouse(&mut tx).await?.map(|w| w.id).ok_or(s::refused("warehouse-missing"))?,
    };
    let rid = new_id();
    let now = clock::now_text();
    let deltas: Vec<(&str, i64)> = picked.iter().map(|(i, q)| (stocked[*i].id.as_str(), *q)).collect();
    if !rows::advance_lines(&mut tx, Progress::Received { tolerance: tol }, &deltas).await? {
        return Err(s::refused("receive-more-than-ordered"));
    }
    let lines = s::child_lines(&stocked, &picked, &rid);
    let mut row = child_row(&order, PurchaseKind::Reception, &rid, &c, actor, &now);
    row.status = Status::Posted.code().into();
    row.warehouse_id = Some(wh.clone());
    row.issue_date = issue_date;
    row.notes = notes;
    row.posted_at = Some(now.clone());
    row.posted_by = Some(actor.username.clone());
    s::set_totals(&mut row, &lines);
    row.number = Some(rows::take_number(&mut tx, PurchaseKind::Reception.code(), c.pos).await?);
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    let mut moves = Vec::with_capacity(lines.len());
    for l in s::by_product(lines.iter()) {
        let Some(p) = &l.product_id else { continue };
        // What one unit cost, after the line's discount, in minor units.
        let unit_cost = i64::try_from((i128::from(l.net) * 1000 + i128::from(l.quantity) / 2) / i128::from(l.quantity.max(1))).unwrap_or(0);
        let mut m = s::new_move(actor, p, &wh, l.quantity, "reception", None, l);
        m.unit_cost = Some(unit_cost);
        m.balance = rows::move_level(&mut tx, p, &wh, l.quantity, 0).await?;
        let (on_hand_after, cost) = prows::on_hand_and_cost(&mut tx, p).await?;
        let cost = domain::stock::weighted_average_cost(on_hand_after - l.quantity, cost, l.quantity, unit_cost);
        prows::set_cost(&mut tx, p, cost, &now).await?;
        moves.push(m);
    }
    rows::insert_moves(&mut tx, &moves).await?;
    let doc = document_of(row, lines, Vec::new(), c.d, false);
    audit_doc(&mut tx, actor, "post", None, &doc).await?;
    s::commit(tx).await?;
    Ok(doc)
}

// ---------------------------------------------------------------- supplier invoices

fn invoice_number(errors: &mut FieldErrors, v: Option<&str>) -> Option<String> {
    match v.map(rules::invoice_number_key) {
        Some(Some(k)) if k.chars().count() > 50 => {
            errors.add("supplier_invoice_number", "text-too-long");
            None
        }
        Some(Some(k)) => Some(k),
        _ => {
            errors.add("supplier_invoice_number", "field-required");
            None
        }
    }
}

async fn refuse_duplicate(conn: &mut Conn, party_id: &str, number: &str, id: &str) -> AppResult<()> {
    if prows::supplier_invoice_by_number(conn, party_id, number, id).await?.is_some() {
        return Err(AppError::Invalid(FieldErrors::single("supplier_invoice_number", "supplier-invoice-duplicate")));
    }
    Ok(())
}

/// Records the supplier's invoice for what was received of a purchase order and not yet
/// invoiced (or the lines given): a draft, or posted with `post`.
pub async fn invoice_order(app: &App, actor: &Actor, id: &str, input: &SupplierInvoiceIn) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Create, Resource::Payables)?;
    if input.post.unwrap_or(false) {
        actor.authorize(Action::Update, Resource::Payables)?;
    }
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let (order, olines) = load(&mut tx, PurchaseKind::PurchaseOrder, id).await?;
    if !matches!(order.status.as_str(), "confirmed" | "done") {
        return Err(s::refused("purchase-order-not-confirmed"));
    }
    let mut errors = FieldErrors::new();
    let number = invoice_number(&mut errors, input.supplier_invoice_number.as_deref());
    // Goods are invoiced as received; services (not received) as ordered.
    let left = |l: &LineRow| if l.stocked != 0 { l.delivered - l.invoiced } else { l.quantity - l.invoiced };
    let picked = s::parts(&mut errors, &olines, input.lines.as_deref(), left);
    let issue_date = s::date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    let due_date = s::date_field(&mut errors, "due_date", input.due_date.as_deref());
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 4000);
    errors.into_result(())?;
    if picked.is_empty() {
        return Err(s::refused("nothing-to-invoice-received"));
    }
    let number = number.unwrap_or_default();
    let iid = new_id();
    refuse_duplicate(&mut tx, &order.party_id, &number, &iid).await?;
    let now = clock::now_text();
    let mut lines = s::child_lines(&olines, &picked, &iid);
    let mut row = child_row(&order, PurchaseKind::SupplierInvoice, &iid, &c, actor, &now);
    row.supplier_invoice_number = Some(number);
    row.issue_date = issue_date;
    row.due_date = due_date;
    row.notes = notes;
    s::set_totals(&mut row, &lines);
    let mut action = "create";
    if input.post.unwrap_or(false) {
        row.status = Status::Posted.code().into();
        row.posted_at = Some(now.clone());
        row.posted_by = Some(actor.username.clone());
        post_invoice_effects(&mut tx, &c, &mut row, &lines).await?;
        action = "post";
    }
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_lines(&mut tx, &lines).await?;
    lines.sort_by_key(|l| l.position);
    let doc = document_of(row, lines, Vec::new(), c.d, false);
    audit_doc(&mut tx, actor, action, None, &doc).await?;
    if action == "post" {
        close_if_complete(&mut tx, actor, &order.id).await?;
    }
    s::commit(tx).await?;
    Ok(doc)
}

/// What posting a supplier invoice does besides its state: Tendero's number, the due
/// date from the supplier's payment terms, the order lines it invoices (never more than
/// was received), and the check that the supplier's number is not already recorded.
async fn post_invoice_effects(tx: &mut Conn, c: &Ctx, row: &mut DocumentRow, lines: &[LineRow]) -> AppResult<()> {
    if lines.is_empty() {
        return Err(s::refused("doc-empty"));
    }
    let party = mrows::get::<PartyRow>(tx, &row.party_id).await?.ok_or(AppError::NotFound)?;
    if party.archived_at.is_some() {
        return Err(s::refused("supplier-archived"));
    }
    let number = row.supplier_invoice_number.clone().ok_or(s::refused("supplier-invoice-number-missing"))?;
    refuse_duplicate(tx, &row.party_id, &number, &row.id).await?;
    s::take_number(tx, row).await?;
    if row.due_date.is_none() {
        let issue = s::parse_date(&row.issue_date).ok_or(s::refused("date-invalid"))?;
        row.due_date = Some(s::date_text(issue + time::Duration::days(party.payment_terms_days)));
    }
    let goods: Vec<(&str, i64)> =
        lines.iter().filter(|l| l.stocked != 0).filter_map(|l| l.origin_line_id.as_deref().map(|o| (o, l.quantity))).collect();
    let services: Vec<(&str, i64)> =
        lines.iter().filter(|l| l.stocked == 0).filter_map(|l| l.origin_line_id.as_deref().map(|o| (o, l.quantity))).collect();
    if !rows::advance_lines(tx, Progress::InvoicedOfDelivered, &goods).await?
        || !rows::advance_lines(tx, Progress::InvoicedOfOrdered, &services).await?
    {
        return Err(s::refused("invoice-more-than-received"));
    }
    let _ = c;
    Ok(())
}

// ---------------------------------------------------------------- supplier payments

/// Pays a supplier: a posted payment allocated to the invoices given, or to the oldest
/// due. Paying more than is owed is refused. When the segregation rule is on, whoever
/// recorded one of the invoices may not approve (make) its payment.
pub async fn create_payment(app: &App, actor: &Actor, input: &SupplierPaymentIn) -> AppResult<PurchaseDocument> {
    actor.authorize(Action::Create, Resource::SupplierPayments)?;
    let mut tx = app.db.begin().await?;
    let c = s::ctx(&mut tx).await?;
    let mut errors = FieldErrors::new();
    let party = supplier(&mut tx, &mut errors, input.supplier_id.as_deref()).await?;
    let amount = match input.amount.as_deref().map(|v| parse_scaled(v, c.d, false)) {
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
    let issue_date = s::date_field(&mut errors, "issue_date", input.issue_date.as_deref()).unwrap_or(c.today.clone());
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 4000);
    let mut wanted: Vec<(String, i64)> = Vec::new();
    if let Some(allocs) = &input.allocations {
        for (n, a) in allocs.iter().enumerate() {
            let Ok(inv) = parse_id(&a.supplier_invoice_id) else {
                errors.add(&format!("allocations.{n}.supplier_invoice_id"), "invoice-unknown");
                continue;
            };
            match parse_scaled(&a.amount, c.d, false) {
                Ok(0) => errors.add(&format!("allocations.{n}.amount"), "amount-not-positive"),
                Ok(v) => wanted.push((inv, v)),
                Err(e) => errors.add(&format!("allocations.{n}.amount"), e.key()),
            }
        }
        if wanted.iter().map(|w| w.1).sum::<i64>() != amount && errors.0.is_empty() {
            errors.add("allocations", "allocations-must-equal-amount");
        }
    }
    errors.into_result(())?;
    let party = party.ok_or(AppError::NotFound)?;
    if input.allocations.is_none() {
        let mut left = amount;
        for item in prows::open_payables(&mut tx, Some(&party.id), None).await? {
            if left == 0 {
                break;
            }
            if item.kind == "supplier_invoice" {
                let take = (item.total - item.settled).min(left);
                wanted.push((item.id, take));
                left -= take;
            }
        }
        if left > 0 {
            return Err(AppError::Invalid(FieldErrors::single("amount", "payment-more-than-owed")));
        }
    }
    let rule_on = segregation_on(&mut tx).await?;
    let pid = new_id();
    let now = clock::now_text();
    let mut allocations = Vec::with_capacity(wanted.len());
    for (n, (inv, a)) in wanted.iter().enumerate() {
        let doc = rows::get_document(&mut tx, inv).await?;
        let Some(doc) = doc.filter(|d| d.party_id == party.id && d.status == "posted" && d.kind == "supplier_invoice") else {
            return Err(AppError::Invalid(FieldErrors::single(&format!("allocations.{n}.supplier_invoice_id"), "invoice-unknown")));
        };
        let recorded_by: Vec<&str> = [Some(doc.created_by.as_str()), doc.posted_by.as_deref()].into_iter().flatten().collect();
        actor.authorize_payment_approval(rule_on, &recorded_by)?;
        if !rows::settle(&mut tx, inv, *a).await? {
            return Err(AppError::Invalid(FieldErrors::single(&format!("allocations.{n}.amount"), "payment-more-than-owed")));
        }
        allocations.push(AllocationRow {
            id: new_id(),
            source_id: pid.clone(),
            target_id: inv.clone(),
            amount: *a,
            created_at: now.clone(),
        });
    }
    let mut row = DocumentRow {
        id: pid.clone(),
        kind: PurchaseKind::SupplierPayment.code().into(),
        status: Status::Posted.code().into(),
        point_of_sale: c.pos,
        party_id: party.id.clone(),
        party_name: party.name.clone(),
        party_tax_id: party.tax_id.clone(),
        issue_date,
        untaxed: amount,
        total: amount,
        settled: allocations.iter().map(|a| a.amount).sum(),
        notes,
        posted_at: Some(now.clone()),
        posted_by: Some(actor.username.clone()),
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..Default::default()
    };
    row.number = Some(rows::take_number(&mut tx, PurchaseKind::SupplierPayment.code(), c.pos).await?);
    rows::insert_document(&mut tx, &row).await?;
    rows::insert_allocations(&mut tx, &allocations).await?;
    // Orders whose invoices are now all paid show it.
    let doc = document_of(row, Vec::new(), allocations, c.d, false);
    audit_doc(&mut tx, actor, "post", None, &doc).await?;
    s::commit(tx).await?;
    Ok(doc)
}

/// Sends a confirmed purchase order (its PDF already made) to the supplier, recorded on
/// the order and on the supplier's timeline.
pub async fn email_order(
    app: &App,
    actor: &Actor,
    mailer: Option<&crate::mail::Mailer>,
    id: &str,
    input: &s::EmailIn,
    out: s::Outgoing,
) -> AppResult<s::EmailSent> {
    actor.authorize(Action::Read, Resource::Purchases)?;
    actor.authorize(Action::Read, Resource::Suppliers)?;
    let mut conn = app.db.reader().await?;
    let (row, _) = load(&mut conn, PurchaseKind::PurchaseOrder, id).await?;
    drop(conn);
    if row.status == "draft" || row.status == "cancelled" {
        return Err(s::refused("purchase-order-not-confirmed"));
    }
    s::email_row(app, actor, mailer, &row, input, out).await
}

// ---------------------------------------------------------------- payables

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayablesParams {
    /// YYYY-MM-DD; today when not given.
    pub as_of: Option<String>,
    /// Only this supplier.
    pub supplier_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayablesAgeingRow {
    pub supplier_id: String,
    pub supplier_name: String,
    #[serde(flatten)]
    pub buckets: crate::receivables::Buckets,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayablesAgeing {
    pub as_of: String,
    pub items: Vec<PayablesAgeingRow>,
    pub totals: crate::receivables::Buckets,
}

fn as_of(v: Option<&str>, field: &str) -> AppResult<time::Date> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(x) => s::parse_date(x).ok_or_else(|| AppError::Invalid(FieldErrors::single(field, "date-invalid"))),
        None => Ok(clock::now().date()),
    }
}

fn supplier_filter(v: Option<&str>) -> AppResult<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Ok(Some(parse_id(p).map_err(|_| AppError::Invalid(FieldErrors::single("supplier_id", "supplier-unknown")))?)),
        None => Ok(None),
    }
}

/// What the business owes on an open item (negative: a payment not yet allocated).
fn owed_on(r: &DocumentRow) -> i64 {
    if r.kind == "supplier_invoice" {
        r.total - r.settled
    } else {
        r.settled - r.total
    }
}

/// What the business owes its suppliers as of a date, by days past due.
pub async fn ageing(app: &App, actor: &Actor, params: &PayablesParams) -> AppResult<PayablesAgeing> {
    actor.authorize(Action::Read, Resource::Payables)?;
    let as_of = as_of(params.as_of.as_deref(), "as_of")?;
    let party = supplier_filter(params.supplier_id.as_deref())?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let today = s::date_text(as_of);
    let mut per: BTreeMap<(String, String), [i64; AGEING_BUCKETS]> = BTreeMap::new();
    let mut totals = [0i64; AGEING_BUCKETS];
    for r in prows::open_payables(&mut conn, party.as_deref(), None).await?.iter().filter(|r| r.issue_date <= today) {
        let a = owed_on(r);
        let due = r.due_date.as_deref().and_then(s::parse_date).or_else(|| s::parse_date(&r.issue_date));
        let b = match due {
            Some(due) if a > 0 => domain::sales::ageing_bucket((as_of - due).whole_days()),
            _ => 0,
        };
        per.entry((r.party_name.clone(), r.party_id.clone())).or_insert([0; AGEING_BUCKETS])[b] += a;
        totals[b] += a;
    }
    Ok(PayablesAgeing {
        as_of: today,
        items: per
            .into_iter()
            .map(|((name, id), b)| PayablesAgeingRow {
                supplier_id: id,
                supplier_name: name,
                buckets: crate::receivables::buckets_of(&b, d),
            })
            .collect(),
        totals: crate::receivables::buckets_of(&totals, d),
    })
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentRunParams {
    /// Invoices due up to this day (YYYY-MM-DD); today when not given.
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueInvoice {
    pub supplier_invoice_id: String,
    pub number: Option<String>,
    pub supplier_invoice_number: Option<String>,
    pub issue_date: String,
    pub due_date: Option<String>,
    /// Days past due (0 or less: due later or today).
    pub days_past_due: i64,
    pub open_amount: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentRunSupplier {
    pub supplier_id: String,
    pub supplier_name: String,
    pub invoices: Vec<DueInvoice>,
    pub total: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentRun {
    pub until: String,
    pub items: Vec<PaymentRunSupplier>,
    pub total: String,
}

/// What is due to be paid by a day, supplier by supplier, oldest due first.
pub async fn payment_run(app: &App, actor: &Actor, params: &PaymentRunParams) -> AppResult<PaymentRun> {
    actor.authorize(Action::Read, Resource::Payables)?;
    let until = as_of(params.until.as_deref(), "until")?;
    let until_text = s::date_text(until);
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let mut per: BTreeMap<(String, String), (Vec<DueInvoice>, i64)> = BTreeMap::new();
    let mut total = 0;
    for r in prows::open_payables(&mut conn, None, Some(&until_text)).await? {
        let open = r.total - r.settled;
        let due = r.due_date.as_deref().and_then(s::parse_date);
        let e = per.entry((r.party_name.clone(), r.party_id.clone())).or_default();
        e.0.push(DueInvoice {
            supplier_invoice_id: r.id.clone(),
            number: r.number.map(|n| format_number(r.point_of_sale, n)),
            supplier_invoice_number: r.supplier_invoice_number.clone(),
            issue_date: r.issue_date.clone(),
            due_date: r.due_date.clone(),
            days_past_due: due.map(|due| (until - due).whole_days()).unwrap_or(0),
            open_amount: format_scaled(open, d),
        });
        e.1 += open;
        total += open;
    }
    Ok(PaymentRun {
        until: until_text,
        items: per
            .into_iter()
            .map(|((name, id), (invoices, t))| PaymentRunSupplier {
                supplier_id: id,
                supplier_name: name,
                invoices,
                total: format_scaled(t, d),
            })
            .collect(),
        total: format_scaled(total, d),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountEntry {
    pub date: String,
    pub document_id: String,
    /// supplier_invoice or supplier_payment.
    pub kind: String,
    pub number: Option<String>,
    pub supplier_invoice_number: Option<String>,
    pub due_date: Option<String>,
    /// What the business came to owe (invoices).
    pub credit: String,
    /// What it paid.
    pub debit: String,
    /// What it owes after this entry.
    pub balance: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierAccount {
    pub supplier_id: String,
    pub supplier_name: String,
    pub entries: Vec<AccountEntry>,
    /// What the business owes the supplier now.
    pub balance: String,
    pub ageing: crate::receivables::Buckets,
}

/// A supplier's account: every posted invoice and payment with the running balance, and
/// what is owed by days past due.
pub async fn account(app: &App, actor: &Actor, supplier_id: &str) -> AppResult<SupplierAccount> {
    actor.authorize(Action::Read, Resource::Payables)?;
    let id = parse_id(supplier_id)?;
    let mut conn = app.db.reader().await?;
    let party = mrows::get::<PartyRow>(&mut conn, &id).await?.filter(|p| p.is_supplier != 0).ok_or(AppError::NotFound)?;
    let d = company_in(&mut conn).await?.decimals();
    let mut balance = 0;
    let mut entries = Vec::new();
    for r in prows::supplier_ledger(&mut conn, &id).await? {
        let (credit, debit) = if r.kind == "supplier_invoice" { (r.total, 0) } else { (0, r.total) };
        balance += credit - debit;
        entries.push(AccountEntry {
            date: r.issue_date.clone(),
            document_id: r.id.clone(),
            kind: r.kind.clone(),
            number: r.number.map(|n| format_number(r.point_of_sale, n)),
            supplier_invoice_number: r.supplier_invoice_number.clone(),
            due_date: r.due_date.clone(),
            credit: format_scaled(credit, d),
            debit: format_scaled(debit, d),
            balance: format_scaled(balance, d),
        });
    }
    drop(conn);
    let aged = ageing(app, actor, &PayablesParams { as_of: None, supplier_id: Some(id.clone()) }).await?;
    Ok(SupplierAccount { supplier_id: id, supplier_name: party.name, entries, balance: format_scaled(balance, d), ageing: aged.totals })
}
