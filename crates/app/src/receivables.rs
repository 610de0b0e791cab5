//! What customers owe: each customer's balance and open items, ageing by days past due
//! (for one customer and for all), and the account statement.

use crate::master::company_in;
use crate::{parse_id, Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::format_scaled;
use domain::sales::{self as rules, DocKind, AGEING_BUCKETS};
use domain::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::master::{self as mrows, PartyRow};
use store::sales::{self as rows, DocumentRow};
use time::Date;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgeingParams {
    /// YYYY-MM-DD; today when not given.
    pub as_of: Option<String>,
    /// Only this customer.
    pub customer_id: Option<String>,
}

/// Amounts by bucket: current (not yet due), 1–30, 31–60, 61–90 and more than 90 days past due.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Buckets {
    pub current: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub over_90: String,
    pub total: String,
}

pub(crate) fn buckets_of(b: &[i64; AGEING_BUCKETS], d: u32) -> Buckets {
    Buckets {
        current: format_scaled(b[0], d),
        days_1_30: format_scaled(b[1], d),
        days_31_60: format_scaled(b[2], d),
        days_61_90: format_scaled(b[3], d),
        over_90: format_scaled(b[4], d),
        total: format_scaled(b.iter().sum(), d),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgeingRow {
    pub customer_id: String,
    pub customer_name: String,
    #[serde(flatten)]
    pub buckets: Buckets,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ageing {
    pub as_of: String,
    pub items: Vec<AgeingRow>,
    pub totals: Buckets,
}

fn date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn as_of(v: Option<&str>) -> AppResult<Date> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => date(s).ok_or_else(|| AppError::Invalid(FieldErrors::single("as_of", "date-invalid"))),
        None => Ok(crate::clock::now().date()),
    }
}

/// The open amount of a posted document as the customer's debt: positive for invoices
/// and debit notes, negative for unallocated receipts and credit notes.
fn open_amount(r: &DocumentRow) -> i64 {
    let sign = DocKind::from_code(&r.kind).map(|k| k.receivable_sign()).unwrap_or(0);
    sign * (r.total - r.settled)
}

fn bucket_of(r: &DocumentRow, as_of: Date) -> usize {
    let due = r.due_date.as_deref().and_then(date).or_else(|| date(&r.issue_date));
    match due {
        Some(due) if open_amount(r) > 0 => rules::ageing_bucket((as_of - due).whole_days()),
        _ => 0,
    }
}

/// Ageing of what customers owe, as of a date: one row per customer who owes or is owed.
pub async fn ageing(app: &App, actor: &Actor, params: &AgeingParams) -> AppResult<Ageing> {
    actor.authorize(Action::Read, Resource::Invoices)?;
    let as_of = as_of(params.as_of.as_deref())?;
    let party = match params.customer_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Some(parse_id(p).map_err(|_| AppError::Invalid(FieldErrors::single("customer_id", "customer-unknown")))?),
        None => None,
    };
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let items = rows::open_items(&mut conn, party.as_deref()).await?;
    let mut per: BTreeMap<(String, String), [i64; AGEING_BUCKETS]> = BTreeMap::new();
    let mut totals = [0i64; AGEING_BUCKETS];
    for r in items.iter().filter(|r| r.issue_date.as_str() <= crate::sales::date_key(as_of).as_str()) {
        let b = bucket_of(r, as_of);
        let a = open_amount(r);
        per.entry((r.party_name.clone(), r.party_id.clone())).or_insert([0; AGEING_BUCKETS])[b] += a;
        totals[b] += a;
    }
    Ok(Ageing {
        as_of: crate::sales::date_key(as_of),
        items: per
            .into_iter()
            .map(|((name, id), b)| AgeingRow { customer_id: id, customer_name: name, buckets: buckets_of(&b, d) })
            .collect(),
        totals: buckets_of(&totals, d),
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementEntry {
    pub date: String,
    pub document_id: String,
    pub kind: String,
    pub number: Option<String>,
    pub due_date: Option<String>,
    /// What the customer was charged (invoices, debit notes).
    pub debit: String,
    /// What the customer paid or was credited (receipts, credit notes).
    pub credit: String,
    /// The running balance after this entry.
    pub balance: String,
    /// What of this document is still open.
    pub open: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    pub customer_id: String,
    pub customer_name: String,
    pub customer_tax_id: Option<String>,
    pub as_of: String,
    pub entries: Vec<StatementEntry>,
    /// What the customer owes (negative: what the business owes the customer).
    pub balance: String,
    pub ageing: Buckets,
}

/// A customer's account: every posted invoice, note and receipt with the running balance,
/// and the ageing of what is open.
pub async fn statement(app: &App, actor: &Actor, customer_id: &str, params: &AgeingParams) -> AppResult<Statement> {
    actor.authorize(Action::Read, Resource::Invoices)?;
    let as_of = as_of(params.as_of.as_deref())?;
    let id = parse_id(customer_id)?;
    let mut conn = app.db.reader().await?;
    let d = company_in(&mut conn).await?.decimals();
    let party = mrows::get::<PartyRow>(&mut conn, &id).await?.filter(|p| p.is_customer != 0).ok_or(AppError::NotFound)?;
    let key = crate::sales::date_key(as_of);
    let ledger = rows::ledger(&mut conn, &id).await?;
    let mut balance = 0i64;
    let mut buckets = [0i64; AGEING_BUCKETS];
    let mut entries = Vec::with_capacity(ledger.len());
    for r in ledger.iter().filter(|r| r.issue_date <= key) {
        let sign = DocKind::from_code(&r.kind).map(|k| k.receivable_sign()).unwrap_or(0);
        balance += sign * r.total;
        let open = open_amount(r);
        if open != 0 {
            buckets[bucket_of(r, as_of)] += open;
        }
        entries.push(StatementEntry {
            date: r.issue_date.clone(),
            document_id: r.id.clone(),
            kind: r.kind.clone(),
            number: r.number.map(|n| rules::format_number(r.point_of_sale, n)),
            due_date: r.due_date.clone(),
            debit: format_scaled(if sign > 0 { r.total } else { 0 }, d),
            credit: format_scaled(if sign < 0 { r.total } else { 0 }, d),
            balance: format_scaled(balance, d),
            open: format_scaled(open, d),
        });
    }
    Ok(Statement {
        customer_id: party.id,
        customer_name: party.name,
        customer_tax_id: party.tax_id,
        as_of: key,
        entries,
        balance: format_scaled(balance, d),
        ageing: buckets_of(&buckets, d),
    })
}
