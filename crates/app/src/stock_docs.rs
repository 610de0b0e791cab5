//! The warehouse's own documents and what stock is worth: transfers between warehouses,
//! stock counts whose differences become adjustment moves, and the valuation of what is on
//! hand at each article's weighted-average cost.
//!
//! Both documents live as drafts (editable) until they are done, in one transaction that
//! takes their gap-free number (sequences `transfer` and `count`) and makes their moves,
//! each pointing to the document (`stock_document_id`) and carrying the article's cost
//! then; or they are cancelled while still drafts. The table of their states is
//! `domain::stock::transition`.

use crate::manufacturing::{id_field, positive, products};
use crate::master::{company_in, cut_page, page_limit_into, status_and_cursor, Page};
use crate::sales::qty;
use crate::{audit, clock, new_id, parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_scaled, parse_scaled, QUANTITY_SCALE};
use domain::stock::{self as rules, DocAction, DocStatus};
use domain::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use store::master::ProductRow;
use store::sales::{self as srows, MoveRow};
use store::stock::{self as rows, StockDocLineRow, StockDocRow};
use store::Conn;
use utoipa::{IntoParams, ToSchema};

/// At most this many lines typed in one document (a full count sheet may hold more).
const MAX_LINES: usize = 5_000;

/// Which of the warehouse's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Transfer,
    Count,
}

impl Kind {
    /// Its `stock_documents.kind`, and the name of its numbering sequence.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Count => "count",
        }
    }

    /// What the audit trail calls it.
    fn entity(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Count => "stock_count",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockDocLine {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
    /// Transfer: what is moved; count: what was counted.
    #[schema(example = "3")]
    pub quantity: String,
    /// Count: on hand when the line was written; once done, on hand when it was done.
    pub expected: Option<String>,
    /// Count: counted − expected (once done, the adjustment made).
    pub difference: Option<String>,
    /// The article's cost per unit (once done, what it moved at).
    pub unit_cost: String,
    /// Transfer: quantity × cost; count: difference × cost.
    pub value: String,
    /// Count: why this line differs.
    pub reason: Option<String>,
}

/// A transfer between warehouses or a stock count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockDocument {
    pub id: String,
    /// transfer or count.
    pub kind: String,
    /// Taken when done: `0001-00000042`.
    pub number: Option<String>,
    /// draft, done or cancelled.
    pub status: String,
    /// Transfer: where the goods leave; count: the warehouse counted.
    pub warehouse_id: String,
    pub warehouse_name: String,
    /// Transfer: where the goods arrive.
    pub to_warehouse_id: Option<String>,
    pub to_warehouse_name: Option<String>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    pub lines: Vec<StockDocLine>,
    /// The sum of the lines' values.
    pub total_value: String,
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
pub struct TransferLineIn {
    pub product_id: Option<String>,
    /// More than 0.
    #[schema(example = "3")]
    pub quantity: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    /// Where the goods leave.
    pub warehouse_id: Option<String>,
    /// Where they arrive (another warehouse).
    pub to_warehouse_id: Option<String>,
    /// Given, they replace every line.
    pub lines: Option<Vec<TransferLineIn>>,
    pub reason: Option<String>,
    pub notes: Option<String>,
    /// Execute it now: number and moves, in the same transaction.
    pub done: Option<bool>,
    /// When changing: the version read (optional).
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountLineIn {
    pub product_id: Option<String>,
    /// What was found, 0 or more.
    #[schema(example = "7")]
    pub counted: Option<String>,
    /// Why it differs (the count's reason when not given).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountIn {
    /// The warehouse counted (the default one when not given).
    pub warehouse_id: Option<String>,
    /// Given, they replace every line.
    pub lines: Option<Vec<CountLineIn>>,
    /// A full count sheet: a line for every live stocked article that has stock (or had)
    /// in the warehouse, counted as on hand unless `lines` says otherwise.
    pub all_articles: Option<bool>,
    /// Why the count was made; the reason of lines that give none.
    pub reason: Option<String>,
    pub notes: Option<String>,
    /// Execute it now: number and adjustments, in the same transaction.
    pub done: Option<bool>,
    /// When changing: the version read (optional).
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockDocParams {
    /// draft, done or cancelled.
    pub status: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

// ---------------------------------------------------------------- reading

fn status_of(row: &StockDocRow) -> AppResult<DocStatus> {
    DocStatus::from_code(&row.status).ok_or_else(|| AppError::Internal(format!("stock document status {}", row.status)))
}

async fn load(conn: &mut Conn, kind: Kind, id: &str) -> AppResult<(StockDocRow, Vec<StockDocLineRow>)> {
    let id = parse_id(id)?;
    let row = rows::get_stock_doc(conn, kind.code(), &id).await?.ok_or(AppError::NotFound)?;
    let lines = rows::stock_doc_lines(conn, &id).await?;
    Ok((row, lines))
}

async fn warehouse_names(conn: &mut Conn) -> AppResult<HashMap<String, String>> {
    Ok(srows::warehouses(conn).await?.into_iter().map(|w| (w.id, w.name)).collect())
}

async fn read(conn: &mut Conn, row: StockDocRow, lines: Vec<StockDocLineRow>) -> AppResult<StockDocument> {
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    let products = products(conn, &ids).await?;
    let mut costs: HashMap<String, i64> = products.iter().map(|(id, p)| (id.clone(), p.cost)).collect();
    if row.status == DocStatus::Done.code() {
        costs.extend(rows::moved_costs(conn, &row.id).await?);
    }
    let d = company_in(conn).await?.decimals();
    let names = warehouse_names(conn).await?;
    Ok(document_of(row, lines, &products, &costs, &names, d))
}

fn document_of(
    row: StockDocRow,
    lines: Vec<StockDocLineRow>,
    products: &HashMap<String, ProductRow>,
    costs: &HashMap<String, i64>,
    names: &HashMap<String, String>,
    d: u32,
) -> StockDocument {
    let count = row.kind == Kind::Count.code();
    let mut total = 0i64;
    let lines = lines
        .into_iter()
        .map(|l| {
            let p = products.get(&l.product_id);
            let cost = costs.get(&l.product_id).copied().unwrap_or(0);
            let difference = l.quantity - l.expected;
            let value = rules::value_of(if count { difference } else { l.quantity }, cost);
            total = total.saturating_add(value);
            StockDocLine {
                product_code: p.map(|p| p.code.clone()).unwrap_or_default(),
                product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                unit: p.map(|p| p.unit.clone()).unwrap_or_default(),
                product_id: l.product_id,
                quantity: qty(l.quantity),
                expected: count.then(|| qty(l.expected)),
                difference: count.then(|| qty(difference)),
                unit_cost: format_scaled(cost, d),
                value: format_scaled(value, d),
                reason: l.reason,
            }
        })
        .collect();
    StockDocument {
        number: row.number.map(|n| domain::sales::format_number(1, n)),
        warehouse_name: names.get(&row.warehouse_id).cloned().unwrap_or_default(),
        to_warehouse_name: row.to_warehouse_id.as_ref().and_then(|w| names.get(w).cloned()),
        id: row.id,
        kind: row.kind,
        status: row.status,
        warehouse_id: row.warehouse_id,
        to_warehouse_id: row.to_warehouse_id,
        reason: row.reason,
        notes: row.notes,
        lines,
        total_value: format_scaled(total, d),
        created_at: row.created_at,
        created_by: row.created_by,
        done_at: row.done_at,
        done_by: row.done_by,
        cancelled_at: row.cancelled_at,
        cancelled_by: row.cancelled_by,
        version: row.version,
    }
}

pub async fn get(app: &App, actor: &Actor, kind: Kind, id: &str) -> AppResult<StockDocument> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut conn = app.db.reader().await?;
    let (row, lines) = load(&mut conn, kind, id).await?;
    read(&mut conn, row, lines).await
}

/// Transfers or counts, newest first; the list carries no lines (the document does).
pub async fn list(app: &App, actor: &Actor, kind: Kind, params: &StockDocParams) -> AppResult<Page<StockDocument>> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut errors = FieldErrors::new();
    let limit = page_limit_into(&mut errors, params.limit);
    let (status, before) = status_and_cursor(
        &mut errors,
        params.status.as_deref(),
        |s| DocStatus::from_code(s).map(DocStatus::code),
        params.cursor.as_deref(),
    );
    errors.into_result(())?;
    let mut conn = app.db.reader().await?;
    let mut found = rows::list_stock_docs(&mut conn, kind.code(), status, before.as_deref(), limit).await?;
    let next_cursor = cut_page(&mut found, limit, |o| o.id.clone());
    let d = company_in(&mut conn).await?.decimals();
    let names = warehouse_names(&mut conn).await?;
    let none = HashMap::new();
    Ok(Page { items: found.into_iter().map(|r| document_of(r, Vec::new(), &none, &HashMap::new(), &names, d)).collect(), next_cursor })
}

// ---------------------------------------------------------------- writing

/// A live warehouse that must be given.
async fn required_warehouse(tx: &mut Conn, errors: &mut FieldErrors, field: &str, id: Option<&str>) -> AppResult<Option<String>> {
    if id.map(str::trim).is_none_or(str::is_empty) {
        errors.add(field, "field-required");
        return Ok(None);
    }
    crate::sales::warehouse_id(tx, errors, field, id).await
}

/// One typed line, its quantity already parsed.
struct Typed {
    product_id: Option<String>,
    quantity: i64,
    reason: Option<String>,
}

/// The articles of the lines: known, stocked, live and each once; errors by row.
async fn check_articles(tx: &mut Conn, errors: &mut FieldErrors, lines: &[Typed]) -> AppResult<()> {
    if lines.len() > MAX_LINES {
        errors.add("lines", "stock-doc-too-many");
    }
    let ids: Vec<String> = lines.iter().filter_map(|l| l.product_id.clone()).collect();
    let found = products(tx, &ids).await?;
    let mut seen = HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(id) = &l.product_id else { continue };
        let field = format!("lines.{i}.product_id");
        match found.get(id) {
            None => errors.add(&field, "product-unknown"),
            Some(p) if p.kind == "service" => errors.add(&field, "product-not-stocked"),
            Some(p) if p.archived_at.is_some() => errors.add(&field, "product-archived"),
            Some(_) if !seen.insert(id.as_str()) => errors.add(&field, "stock-line-duplicate"),
            Some(_) => {}
        }
    }
    Ok(())
}

fn transfer_lines(errors: &mut FieldErrors, given: &[TransferLineIn]) -> Vec<Typed> {
    given
        .iter()
        .enumerate()
        .map(|(i, l)| Typed {
            product_id: id_field(errors, &format!("lines.{i}.product_id"), l.product_id.as_deref()),
            quantity: positive(errors, &format!("lines.{i}.quantity"), l.quantity.as_deref()),
            reason: None,
        })
        .collect()
}

fn count_lines(errors: &mut FieldErrors, given: &[CountLineIn]) -> Vec<Typed> {
    given
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let field = format!("lines.{i}.counted");
            let counted = match l.counted.as_deref().map(|q| parse_scaled(q, QUANTITY_SCALE, false)) {
                None => {
                    errors.add(&field, "field-required");
                    0
                }
                Some(Err(e)) => {
                    errors.add(&field, e.key());
                    0
                }
                Some(Ok(q)) => q,
            };
            Typed {
                product_id: id_field(errors, &format!("lines.{i}.product_id"), l.product_id.as_deref()),
                quantity: counted,
                reason: v::optional(errors, &format!("lines.{i}.reason"), l.reason.as_deref(), 200),
            }
        })
        .collect()
}

fn line_rows(doc_id: &str, typed: Vec<(String, i64, i64, Option<String>)>) -> Vec<StockDocLineRow> {
    typed
        .into_iter()
        .enumerate()
        .map(|(i, (product_id, quantity, expected, reason))| StockDocLineRow {
            id: new_id(),
            stock_document_id: doc_id.to_string(),
            position: i as i64,
            product_id,
            quantity,
            expected,
            reason,
        })
        .collect()
}

/// A count's lines with what is on hand now in `wh`: the given ones, after the whole
/// sheet of the warehouse when `all` (a given line sets the count of its article).
async fn count_sheet(tx: &mut Conn, wh: &str, all: bool, given: Vec<Typed>) -> AppResult<Vec<(String, i64, i64, Option<String>)>> {
    let given: Vec<(String, i64, Option<String>)> = given.into_iter().filter_map(|t| Some((t.product_id?, t.quantity, t.reason))).collect();
    let mut out: Vec<(String, i64, i64, Option<String>)> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    if all {
        for (p, on_hand) in rows::articles_in(tx, wh).await? {
            by_id.insert(p.clone(), out.len());
            out.push((p, on_hand, on_hand, None));
        }
    }
    let ids: Vec<String> = given.iter().map(|g| g.0.clone()).collect();
    let levels: HashMap<String, i64> =
        store::manufacturing::levels_in(tx, wh, &ids).await?.into_iter().map(|(p, on_hand, _)| (p, on_hand)).collect();
    for (p, counted, reason) in given {
        match by_id.get(&p) {
            Some(&i) => {
                out[i].1 = counted;
                out[i].3 = reason;
            }
            None => {
                let on_hand = levels.get(&p).copied().unwrap_or(0);
                out.push((p, counted, on_hand, reason));
            }
        }
    }
    Ok(out)
}

fn draft_row(
    kind: Kind,
    actor: &Actor,
    warehouse_id: String,
    to: Option<String>,
    reason: Option<String>,
    notes: Option<String>,
) -> StockDocRow {
    let now = clock::now_text();
    StockDocRow {
        id: new_id(),
        kind: kind.code().into(),
        status: DocStatus::Draft.code().into(),
        warehouse_id,
        to_warehouse_id: to,
        reason,
        notes,
        created_by: actor.username.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        ..StockDocRow::default()
    }
}

/// Saves a new draft (and does it at once when asked), audited, in the caller's transaction.
async fn insert(
    tx: &mut Conn,
    actor: &Actor,
    kind: Kind,
    row: StockDocRow,
    typed: Vec<(String, i64, i64, Option<String>)>,
    done: bool,
) -> AppResult<StockDocument> {
    rows::save_stock_doc(tx, &row, true).await?;
    let lines = line_rows(&row.id, typed);
    rows::replace_stock_doc_lines(tx, &row.id, &lines).await?;
    let draft = read(tx, row.clone(), lines.clone()).await?;
    audit::record(tx, actor, "create", kind.entity(), &draft.id, None::<&()>, Some(&draft)).await?;
    if done {
        return execute(tx, actor, kind, row, lines, draft).await;
    }
    Ok(draft)
}

/// The two warehouses of a transfer, which must differ.
fn different(errors: &mut FieldErrors, from: &Option<String>, to: &Option<String>) {
    if from.is_some() && from == to {
        errors.add("to_warehouse_id", "transfer-same-warehouse");
    }
}

fn some_lines(errors: &mut FieldErrors, n: usize) {
    if n == 0 && !errors.0.keys().any(|k| k.starts_with("lines")) {
        errors.add("lines", "stock-doc-empty");
    }
}

/// A draft transfer, or a done one with `"done": true`.
pub async fn create_transfer(app: &App, actor: &Actor, input: &TransferIn) -> AppResult<StockDocument> {
    actor.authorize(Action::Create, Resource::Stock)?;
    if input.done == Some(true) {
        actor.authorize(Action::Update, Resource::Stock)?;
    }
    let mut tx = app.db.begin().await?;
    let mut errors = FieldErrors::new();
    let from = required_warehouse(&mut tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    let to = required_warehouse(&mut tx, &mut errors, "to_warehouse_id", input.to_warehouse_id.as_deref()).await?;
    different(&mut errors, &from, &to);
    let typed = transfer_lines(&mut errors, input.lines.as_deref().unwrap_or_default());
    check_articles(&mut tx, &mut errors, &typed).await?;
    some_lines(&mut errors, typed.len());
    let reason = v::optional(&mut errors, "reason", input.reason.as_deref(), 200);
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 500);
    errors.into_result(())?;
    let (Some(from), Some(to)) = (from, to) else { return Err(AppError::NotFound) };
    let lines = typed.into_iter().filter_map(|t| Some((t.product_id?, t.quantity, 0, None))).collect();
    let row = draft_row(Kind::Transfer, actor, from, Some(to), reason, notes);
    let after = insert(&mut tx, actor, Kind::Transfer, row, lines, input.done == Some(true)).await?;
    crate::sales::commit(tx).await?;
    Ok(after)
}

/// A draft count, its expected quantities what is on hand now; done at once with
/// `"done": true`.
pub async fn create_count(app: &App, actor: &Actor, input: &CountIn) -> AppResult<StockDocument> {
    actor.authorize(Action::Create, Resource::Stock)?;
    if input.done == Some(true) {
        actor.authorize(Action::Update, Resource::Stock)?;
    }
    let mut tx = app.db.begin().await?;
    let mut errors = FieldErrors::new();
    let wh = crate::sales::warehouse_id(&mut tx, &mut errors, "warehouse_id", input.warehouse_id.as_deref()).await?;
    if wh.is_none() {
        errors.add("warehouse_id", "warehouse-unknown");
    }
    let typed = count_lines(&mut errors, input.lines.as_deref().unwrap_or_default());
    check_articles(&mut tx, &mut errors, &typed).await?;
    let reason = v::optional(&mut errors, "reason", input.reason.as_deref(), 200);
    let notes = v::optional(&mut errors, "notes", input.notes.as_deref(), 500);
    let all = input.all_articles == Some(true);
    if !all {
        some_lines(&mut errors, typed.len());
    }
    errors.into_result(())?;
    let Some(wh) = wh else { return Err(AppError::NotFound) };
    let lines = count_sheet(&mut tx, &wh, all, typed).await?;
    if lines.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("lines", "stock-doc-empty")));
    }
    let row = draft_row(Kind::Count, actor, wh, None, reason, notes);
    let after = insert(&mut tx, actor, Kind::Count, row, lines, input.done == Some(true)).await?;
    crate::sales::commit(tx).await?;
    Ok(after)
}

/// A draft to change: its row, lines and what it looked like, or the refusal.
async fn editable(
    tx: &mut Conn,
    kind: Kind,
    id: &str,
    version: Option<i64>,
) -> AppResult<(StockDocRow, Vec<StockDocLineRow>, StockDocument)> {
    let (row, lines) = load(tx, kind, id).await?;
    rules::transition(status_of(&row)?, DocAction::Edit).map_err(AppError::Refused)?;
    if version.is_some_and(|v| v != row.version) {
        return Err(AppError::Conflict);
    }
    let before = read(tx, row.clone(), lines.clone()).await?;
    Ok((row, lines, before))
}

/// Absent fields stay, `""` clears.
fn text_change(errors: &mut FieldErrors, field: &str, given: Option<&str>, old: Option<String>, max: usize) -> Option<String> {
    match given {
        Some(t) => v::optional(errors, field, Some(t), max),
        None => old,
    }
}

/// Saves a changed draft (and does it when asked), audited.
async fn save(
    tx: &mut Conn,
    actor: &Actor,
    kind: Kind,
    mut row: StockDocRow,
    lines: Vec<StockDocLineRow>,
    before: StockDocument,
    done: bool,
) -> AppResult<StockDocument> {
    row.updated_at = clock::now_text();
    rows::save_stock_doc(tx, &row, false).await?;
    row.version += 1;
    rows::replace_stock_doc_lines(tx, &row.id, &lines).await?;
    let after = read(tx, row.clone(), lines.clone()).await?;
    audit::record(tx, actor, "update", kind.entity(), &after.id, Some(&before), Some(&after)).await?;
    if done {
        return execute(tx, actor, kind, row, lines, after).await;
    }
    Ok(after)
}

/// Changes a draft transfer: absent fields stay, `lines` replace all of them.
pub async fn update_transfer(app: &App, actor: &Actor, id: &str, input: &TransferIn) -> AppResult<StockDocument> {
    actor.authorize(Action::Update, Resource::Stock)?;
    let mut tx = app.db.begin().await?;
    let (mut row, lines, before) = editable(&mut tx, Kind::Transfer, id, input.version).await?;
    let mut errors = FieldErrors::new();
    let from = match input.warehouse_id.as_deref() {
        Some(w) => required_warehouse(&mut tx, &mut errors, "warehouse_id", Some(w)).await?,
        None => Some(row.warehouse_id.clone()),
    };
    let to = match input.to_warehouse_id.as_deref() {
        Some(w) => required_warehouse(&mut tx, &mut errors, "to_warehouse_id", Some(w)).await?,
        None => row.to_warehouse_id.clone(),
    };
    different(&mut errors, &from, &to);
    let lines = match input.lines.as_deref() {
        Some(given) => {
            let typed = transfer_lines(&mut errors, given);
            check_articles(&mut tx, &mut errors, &typed).await?;
            some_lines(&mut errors, typed.len());
            line_rows(&row.id, typed.into_iter().filter_map(|t| Some((t.product_id?, t.quantity, 0, None))).collect())
        }
        None => lines,
    };
    row.reason = text_change(&mut errors, "reason", input.reason.as_deref(), row.reason.take(), 200);
    row.notes = text_change(&mut errors, "notes", input.notes.as_deref(), row.notes.take(), 500);
    errors.into_result(())?;
    let (Some(from), Some(to)) = (from, to) else { return Err(AppError::NotFound) };
    row.warehouse_id = from;
    row.to_warehouse_id = Some(to);
    let after = save(&mut tx, actor, Kind::Transfer, row, lines, before, input.done == Some(true)).await?;
    crate::sales::commit(tx).await?;
    Ok(after)
}

/// Changes a draft count: absent fields stay; `lines` (or `all_articles`) rewrite the
/// sheet with what is on hand now as expected.
pub async fn update_count(app: &App, actor: &Actor, id: &str, input: &CountIn) -> AppResult<StockDocument> {
    actor.authorize(Action::Update, Resource::Stock)?;
    let mut tx = app.db.begin().await?;
    let (mut row, lines, before) = editable(&mut tx, Kind::Count, id, input.version).await?;
    let mut errors = FieldErrors::new();
    let wh = match input.warehouse_id.as_deref() {
        Some(w) => required_warehouse(&mut tx, &mut errors, "warehouse_id", Some(w)).await?,
        None => Some(row.warehouse_id.clone()),
    };
    let all = input.all_articles == Some(true);
    let typed = count_lines(&mut errors, input.lines.as_deref().unwrap_or_default());
    check_articles(&mut tx, &mut errors, &typed).await?;
    if input.lines.is_some() && !all {
        some_lines(&mut errors, typed.len());
    }
    row.reason = text_change(&mut errors, "reason", input.reason.as_deref(), row.reason.take(), 200);
    row.notes = text_change(&mut errors, "notes", input.notes.as_deref(), row.notes.take(), 500);
    errors.into_result(())?;
    let Some(wh) = wh else { return Err(AppError::NotFound) };
    let moved = wh != row.warehouse_id;
    row.warehouse_id = wh;
    let lines = if input.lines.is_some() || all || moved {
        // Another warehouse keeps the articles and counts but not what was expected.
        let typed = if input.lines.is_some() {
            typed
        } else {
            lines.into_iter().map(|l| Typed { product_id: Some(l.product_id), quantity: l.quantity, reason: l.reason }).collect()
        };
        let sheet = count_sheet(&mut tx, &row.warehouse_id, all, typed).await?;
        if sheet.is_empty() {
            return Err(AppError::Invalid(FieldErrors::single("lines", "stock-doc-empty")));
        }
        line_rows(&row.id, sheet)
    } else {
        lines
    };
    let after = save(&mut tx, actor, Kind::Count, row, lines, before, input.done == Some(true)).await?;
    crate::sales::commit(tx).await?;
    Ok(after)
}

/// Does a draft (number and moves) or cancels it; one transaction.
pub async fn act(app: &App, actor: &Actor, kind: Kind, id: &str, action: DocAction) -> AppResult<StockDocument> {
    actor.authorize(Action::Update, Resource::Stock)?;
    let mut tx = app.db.begin().await?;
    let (mut row, lines) = load(&mut tx, kind, id).await?;
    rules::transition(status_of(&row)?, action).map_err(AppError::Refused)?;
    let before = read(&mut tx, row.clone(), lines.clone()).await?;
    let after = match action {
        DocAction::Done => execute(&mut tx, actor, kind, row, lines, before).await?,
        DocAction::Cancel => {
            let now = clock::now_text();
            row.status = DocStatus::Cancelled.code().into();
            row.cancelled_at = Some(now.clone());
            row.cancelled_by = Some(actor.username.clone());
            row.updated_at = now;
            rows::save_stock_doc(&mut tx, &row, false).await?;
            row.version += 1;
            let after = read(&mut tx, row, lines).await?;
            audit::record(&mut tx, actor, "cancel", kind.entity(), &after.id, Some(&before), Some(&after)).await?;
            after
        }
        DocAction::Edit => before,
    };
    crate::sales::commit(tx).await?;
    Ok(after)
}

/// Does a draft inside the caller's transaction: takes its number, makes its moves at the
/// articles' current cost and marks it done, audited. A transfer that would take the
/// source below zero is refused line by line unless the stock policy allows it; a count
/// adjusts each article by counted − on hand now (nothing when equal).
async fn execute(
    tx: &mut Conn,
    actor: &Actor,
    kind: Kind,
    mut row: StockDocRow,
    mut lines: Vec<StockDocLineRow>,
    before: StockDocument,
) -> AppResult<StockDocument> {
    let to = rules::transition(status_of(&row)?, DocAction::Done).map_err(AppError::Refused)?;
    let allow_negative = srows::setting(tx, "stock.allow_negative").await?.as_deref() == Some("1");
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    let products = products(tx, &ids).await?;
    let mut errors = FieldErrors::new();
    for (i, l) in lines.iter().enumerate() {
        if products.get(&l.product_id).is_none_or(|p| p.archived_at.is_some()) {
            errors.add(&format!("lines.{i}.product_id"), "product-archived");
        }
    }
    for (field, wh) in [("warehouse_id", Some(&row.warehouse_id)), ("to_warehouse_id", row.to_warehouse_id.as_ref())] {
        let Some(wh) = wh else { continue };
        if srows::get_warehouse(tx, wh).await?.is_none_or(|w| w.archived_at.is_some()) {
            errors.add(field, "warehouse-unknown");
        }
    }
    errors.into_result(())?;
    let mut errors = FieldErrors::new();
    row.number = Some(srows::take_number(tx, kind.code(), 1).await?);
    let now = clock::now_text();
    let cost = |p: &str| products.get(p).map(|p| p.cost).unwrap_or(0);
    let new_move = |product: &str, wh: &str, quantity: i64, move_kind: &str, reason: Option<String>| MoveRow {
        id: new_id(),
        product_id: product.to_string(),
        warehouse_id: wh.to_string(),
        quantity,
        kind: move_kind.to_string(),
        reason,
        at: now.clone(),
        created_by: actor.username.clone(),
        unit_cost: Some(cost(product)),
        stock_document_id: Some(row.id.clone()),
        ..MoveRow::default()
    };
    match kind {
        Kind::Transfer => {
            let dest = row.to_warehouse_id.clone().ok_or_else(|| AppError::Internal("transfer without destination".into()))?;
            // Every level in one order (article, then warehouse), as other stock changes
            // lock them: two transfers in opposite directions never wait for each other.
            let mut steps: Vec<(usize, &str, i64)> = Vec::with_capacity(lines.len() * 2);
            for (i, l) in lines.iter().enumerate() {
                steps.push((i, row.warehouse_id.as_str(), -l.quantity));
                steps.push((i, dest.as_str(), l.quantity));
            }
            steps.sort_by(|a, b| (&lines[a.0].product_id, a.1).cmp(&(&lines[b.0].product_id, b.1)));
            for (i, wh, q) in steps {
                let l = &lines[i];
                let mut m = new_move(&l.product_id, wh, q, if q < 0 { "transfer_out" } else { "transfer_in" }, row.reason.clone());
                let balance = srows::apply_move(tx, &mut m, 0).await?;
                if q < 0 && balance < 0 && !allow_negative {
                    errors.add(&format!("lines.{i}.quantity"), "stock-insufficient");
                }
            }
        }
        Kind::Count => {
            let mut order: Vec<usize> = (0..lines.len()).collect();
            order.sort_by(|a, b| lines[*a].product_id.cmp(&lines[*b].product_id));
            for i in order {
                // Moving the level by nothing locks it and tells what is on hand now.
                let on_hand = srows::move_level(tx, &lines[i].product_id, &row.warehouse_id, 0, 0).await?;
                let l = &mut lines[i];
                l.expected = on_hand;
                let difference = l.quantity - on_hand;
                if difference != 0 {
                    let reason = l.reason.clone().or(row.reason.clone());
                    let mut m = new_move(&l.product_id, &row.warehouse_id, difference, "count", reason);
                    srows::apply_move(tx, &mut m, 0).await?;
                }
            }
            rows::replace_stock_doc_lines(tx, &row.id, &lines).await?;
        }
    }
    errors.into_result(())?;
    row.status = to.code().into();
    row.done_at = Some(now.clone());
    row.done_by = Some(actor.username.clone());
    row.updated_at = now.clone();
    rows::save_stock_doc(tx, &row, false).await?;
    row.version += 1;
    let after = read(tx, row, lines).await?;
    audit::record(tx, actor, "done", kind.entity(), &after.id, Some(&before), Some(&after)).await?;
    Ok(after)
}

// ---------------------------------------------------------------- valuation

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValuationParams {
    /// Only this warehouse.
    pub warehouse_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValuationLine {
    pub product_id: String,
    pub product_code: String,
    pub product_name: String,
    pub unit: String,
    #[schema(example = "12")]
    pub on_hand: String,
    /// The article's weighted-average cost.
    #[schema(example = "1500.00")]
    pub unit_cost: String,
    /// On hand × cost, rounded to the minor unit.
    #[schema(example = "18000.00")]
    pub value: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarehouseValuation {
    pub warehouse_id: String,
    pub warehouse_code: String,
    pub warehouse_name: String,
    pub lines: Vec<ValuationLine>,
    /// The sum of its lines' values.
    pub total: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Valuation {
    pub warehouses: Vec<WarehouseValuation>,
    /// The sum over the warehouses.
    pub total: String,
}

/// What the stock is worth: per warehouse and article, on hand × the article's cost
/// (each line rounded once, totals the sums of the lines shown).
pub async fn valuation(app: &App, actor: &Actor, params: &ValuationParams) -> AppResult<Valuation> {
    actor.authorize(Action::Read, Resource::Stock)?;
    let mut conn = app.db.reader().await?;
    let warehouse = match params.warehouse_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(w) => match parse_id(w) {
            Ok(id) if srows::get_warehouse(&mut conn, &id).await?.is_some() => Some(id),
            _ => return Err(AppError::Invalid(FieldErrors::single("warehouse_id", "warehouse-unknown"))),
        },
        None => None,
    };
    let d = company_in(&mut conn).await?.decimals();
    let found = rows::valuation(&mut conn, warehouse.as_deref()).await?;
    let mut warehouses: Vec<(WarehouseValuation, i64)> = Vec::new();
    let mut total = 0i64;
    for r in found {
        let value = rules::value_of(r.on_hand, r.cost);
        total = total.saturating_add(value);
        if warehouses.last().is_none_or(|(w, _)| w.warehouse_id != r.warehouse_id) {
            let w = WarehouseValuation {
                warehouse_id: r.warehouse_id.clone(),
                warehouse_code: r.warehouse_code.clone(),
                warehouse_name: r.warehouse_name.clone(),
                lines: Vec::new(),
                total: String::new(),
            };
            warehouses.push((w, 0));
        }
        if let Some((w, sum)) = warehouses.last_mut() {
            *sum = sum.saturating_add(value);
            w.lines.push(ValuationLine {
                product_id: r.product_id,
                product_code: r.code,
                product_name: r.name,
                unit: r.unit,
                on_hand: qty(r.on_hand),
                unit_cost: format_scaled(r.cost, d),
                value: format_scaled(value, d),
            });
        }
    }
    Ok(Valuation {
        warehouses: warehouses.into_iter().map(|(w, sum)| WarehouseValuation { total: format_scaled(sum, d), ..w }).collect(),
        total: format_scaled(total, d),
    })
}
