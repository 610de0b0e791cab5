//! Sales statistics, a read model for reports and the dashboard: sales by period (day,
//! ISO week, month, year), the top customers, articles and salespeople, and this period
//! against the one before.
//!
//! Sales are posted invoices and debit notes less posted credit notes, by issue date;
//! `untaxed` is net of tax, `total` includes it. The database sums per day; this module
//! makes the periods, so that weeks and months come out the same on SQLite and
//! PostgreSQL (neither's date functions are used). All arithmetic is in integer minor
//! units.

use crate::master::company_in;
use crate::{Actor, App, AppError, AppResult};
use domain::access::{Action, Resource};
use domain::money::{format_scaled, format_trimmed, QUANTITY_SCALE};
use domain::sales::tax_on;
use domain::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::stats::{self as rows, GroupRow};
use time::{Date, Duration, Month};
use utoipa::{IntoParams, ToSchema};

/// The label of documents without a salesperson and of lines without an article.
pub const NONE_LABEL: &str = "—";

/// The longest range a report may cover, in years.
const MAX_YEARS: i32 = 10;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// YYYY-MM-DD, inclusive; the first of the month twelve months before `to` when not given.
    pub from: Option<String>,
    /// YYYY-MM-DD, inclusive; today when not given.
    pub to: Option<String>,
    /// Sales by period: day, week (ISO), month (default) or year.
    pub group: Option<String>,
    /// Rankings: how many rows, 1–500 (default 20).
    pub limit: Option<i64>,
}

/// One period, customer, article or salesperson.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct StatRow {
    /// The period (`2026-11-17`, `2026-W47`, `2026-11`, `2026`) or the customer's,
    /// article's or salesperson's id (empty for "none").
    #[schema(example = "2026-11")]
    pub key: String,
    /// The period, the customer's name, the article's code and name, or the salesperson's
    /// name; `—` for documents without a salesperson or lines without an article.
    #[schema(example = "2026-11")]
    pub label: String,
    /// Posted invoices, debit and credit notes in the figure.
    pub documents: i64,
    /// Articles only: quantity sold less quantity credited.
    #[schema(example = "12")]
    pub quantity: Option<String>,
    #[schema(example = "1000.00")]
    pub untaxed: String,
    #[schema(example = "1210.00")]
    pub total: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Stats {
    /// The range reported, YYYY-MM-DD, inclusive.
    pub from: String,
    pub to: String,
    pub rows: Vec<StatRow>,
    /// All sales in the range (not only the rows of a ranking), net of tax.
    #[schema(example = "1000.00")]
    pub untaxed: String,
    /// All sales in the range, with tax.
    #[schema(example = "1210.00")]
    pub total: String,
}

/// How sales by period are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Day,
    /// ISO 8601 weeks, Monday to Sunday, labelled with the ISO week-numbering year
    /// (`2027-01-01` is in `2026-W53`).
    Week,
    Month,
    Year,
}

impl Group {
    pub fn from_code(code: &str) -> Option<Group> {
        match code {
            "day" => Some(Group::Day),
            "week" => Some(Group::Week),
            "month" => Some(Group::Month),
            "year" => Some(Group::Year),
            _ => None,
        }
    }

    /// The label of the period a day belongs to; labels sort in time order.
    pub fn label(self, d: Date) -> String {
        match self {
            Group::Day => date_text(d),
            Group::Week => {
                let (year, week, _) = d.to_iso_week_date();
                format!("{year:04}-W{week:02}")
            }
            Group::Month => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
            Group::Year => format!("{:04}", d.year()),
        }
    }
}

/// What a report asks for, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub from: Date,
    pub to: Date,
    pub group: Group,
    pub limit: i64,
}

impl Query {
    fn start_text(&self) -> String {
        date_text(self.from)
    }
    fn end_text(&self) -> String {
        date_text(self.to)
    }
}

fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A date as typed (YYYY-MM-DD); years before 1 are refused so every date prints as
/// four digits and sorts as text.
fn parse_date(errors: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<Option<Date>> {
    let Some(v) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Some(None) };
    match Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) if d.year() >= 1 => Some(Some(d)),
        _ => {
            errors.add(field, "date-invalid");
            None
        }
    }
}

/// The first day of the month `months` months before `d`'s.
fn first_of_month_before(d: Date, months: i32) -> Option<Date> {
    let n = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - months;
    let month = Month::try_from(u8::try_from(n.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(n.div_euclid(12), month, 1).ok()
}

/// `d`, `years` years earlier; 29 February becomes the 28th in a common year.
fn years_before(d: Date, years: i32) -> Option<Date> {
    let y = d.year() - years;
    Date::from_calendar_date(y, d.month(), d.day()).or_else(|_| Date::from_calendar_date(y, d.month(), 28)).ok()
}

/// Checks a report's parameters against `today`: dates, a range of at most ten years with
/// `from` not after `to`, the grouping and the ranking's size. Every problem is reported
/// at once, under the parameter's name.
pub fn query(params: &StatsParams, today: Date) -> AppResult<Query> {
    let mut errors = FieldErrors::new();
    let from = parse_date(&mut errors, "from", params.from.as_deref());
    let to = parse_date(&mut errors, "to", params.to.as_deref());
    let group = match params.group.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(Group::Month),
        Some(g) => Group::from_code(g),
    };
    if group.is_none() {
        errors.add("group", "group-invalid");
    }
    let limit = params.limit.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        errors.add("limit", "limit-invalid");
    }
    let mut range = None;
    if let (Some(from), Some(to)) = (from, to) {
        let to = to.unwrap_or(today);
        match from.or_else(|| first_of_month_before(to, 12)) {
            Some(from) if from <= to && years_before(to, MAX_YEARS).is_some_and(|earliest| from >= earliest) => range = Some((from, to)),
            _ => errors.add("from", "range-invalid"),
        }
    }
    match (range, group) {
        (Some((from, to)), Some(group)) if errors.is_empty() => Ok(Query { from, to, group, limit }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// Checks the actor may see the business's sales figures, then the parameters (see
/// [`query`]) against today.
///
/// Reading invoices is not enough: salespeople and back office read invoices to serve
/// customers, but the whole company's sales, every customer's and every colleague's, are
/// for those who also see the money come in (receipts): administrators, managers and
/// billing. A resource of its own in `domain::access` would say this in the one matrix.
fn start(actor: &Actor, params: &StatsParams) -> AppResult<Query> {
    actor.authorize(Action::Read, Resource::Invoices)?;
    actor.authorize(Action::Read, Resource::Receipts)?;
    query(params, crate::clock::now().date())
}

/// Every period from `from` to `to`, oldest first: `(label, first day, last day)`. The
/// first and last may be partial (a range starting on the 15th gives half a month).
pub fn periods(from: Date, to: Date, group: Group) -> Vec<(String, Date, Date)> {
    let mut out: Vec<(String, Date, Date)> = Vec::new();
    let mut d = from;
    while d <= to {
        let label = group.label(d);
        match out.last_mut() {
            Some(last) if last.0 == label => last.2 = d,
            _ => out.push((label, d, d)),
        }
        match d.next_day() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// Sales by period: every day, ISO week, month or year of the range, oldest first,
/// periods without sales included at zero.
pub async fn by_period(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Stats> {
    let q = start(actor, params)?;
    let mut conn = app.db.reader().await?;
    let dec = company_in(&mut conn).await?.decimals();
    let days = rows::daily_sales(&mut conn, &q.start_text(), &q.end_text()).await?;
    let mut per: HashMap<String, (i64, i64, i64)> = HashMap::new();
    let (mut untaxed, mut total) = (0i64, 0i64);
    for day in days {
        let Ok(date) = Date::parse(&day.issue_date, time::macros::format_description!("[year]-[month]-[day]")) else {
            return Err(AppError::Internal(format!("stored issue date {:?} is not a date", day.issue_date)));
        };
        let p = per.entry(q.group.label(date)).or_default();
        p.0 += day.documents;
        p.1 += day.untaxed;
        p.2 += day.total;
        untaxed += day.untaxed;
        total += day.total;
    }
    let rows = periods(q.from, q.to, q.group)
        .into_iter()
        .map(|(label, _, _)| {
            let (documents, u, t) = per.get(&label).copied().unwrap_or_default();
            StatRow { key: label.clone(), label, documents, quantity: None, untaxed: format_scaled(u, dec), total: format_scaled(t, dec) }
        })
        .collect();
    Ok(Stats { from: q.start_text(), to: q.end_text(), rows, untaxed: format_scaled(untaxed, dec), total: format_scaled(total, dec) })
}

/// The rankings, each one query in `store::stats`.
#[derive(Debug, Clone, Copy)]
enum Ranking {
    Customer,
    Salesperson,
    Article,
}

/// A ranking's rows, made by `row` from the groups in the database, and the range's totals.
async fn ranking(app: &App, q: &Query, which: Ranking, row: impl Fn(GroupRow, u32) -> StatRow) -> AppResult<Stats> {
    let mut conn = app.db.reader().await?;
    let dec = company_in(&mut conn).await?.decimals();
    let (from, to) = (q.start_text(), q.end_text());
    let groups = match which {
        Ranking::Customer => rows::by_customer(&mut conn, &from, &to, q.limit).await?,
        Ranking::Salesperson => rows::by_salesperson(&mut conn, &from, &to, q.limit).await?,
        Ranking::Article => rows::by_article(&mut conn, &from, &to, q.limit).await?,
    };
    let sum = rows::sales_sum(&mut conn, &from, &to).await?;
    Ok(Stats {
        rows: groups.into_iter().map(|g| row(g, dec)).collect(),
        untaxed: format_scaled(sum.untaxed, dec),
        total: format_scaled(sum.total, dec),
        from,
        to,
    })
}

fn label_or_none(label: Option<String>) -> String {
    label.filter(|l| !l.is_empty()).unwrap_or_else(|| NONE_LABEL.to_string())
}

/// The customers who bought most in the range, by untaxed amount (most first, at most
/// `limit`), with their current names.
pub async fn by_customer(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Stats> {
    let q = start(actor, params)?;
    ranking(app, &q, Ranking::Customer, |g, dec| StatRow {
        label: label_or_none(g.label),
        key: g.group_key,
        documents: g.documents,
        quantity: None,
        untaxed: format_scaled(g.untaxed, dec),
        total: format_scaled(g.total, dec),
    })
    .await
}

/// The salespeople who sold most in the range, by untaxed amount (most first, at most
/// `limit`); documents without a salesperson are one row labelled `—` with an empty key.
pub async fn by_salesperson(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Stats> {
    let q = start(actor, params)?;
    ranking(app, &q, Ranking::Salesperson, |g, dec| StatRow {
        label: if g.group_key.is_empty() { NONE_LABEL.to_string() } else { label_or_none(g.label) },
        key: g.group_key,
        documents: g.documents,
        quantity: None,
        untaxed: format_scaled(g.untaxed, dec),
        total: format_scaled(g.total, dec),
    })
    .await
}

/// The articles that sold most in the range, from the lines of invoices and debit notes
/// less those of credit notes, by untaxed amount (most first, at most `limit`), with the
/// quantity. Lines without an article are one row labelled `—` with an empty key.
///
/// An article's `total` is its net plus the tax on it at each rate it was sold at, rounded
/// once per article and rate; documents round tax once per document and rate, so the
/// articles' totals may differ from the documents' by a few minor units.
pub async fn by_article(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<Stats> {
    let q = start(actor, params)?;
    let mut conn = app.db.reader().await?;
    let mut tax: HashMap<String, i64> = HashMap::new();
    for (key, rate, base) in rows::article_tax_bases(&mut conn, &q.start_text(), &q.end_text()).await? {
        *tax.entry(key).or_default() += tax_on(base, rate);
    }
    drop(conn);
    ranking(app, &q, Ranking::Article, |g, dec| {
        let total = g.untaxed + tax.get(&g.group_key).copied().unwrap_or(0);
        let label = match (g.label.filter(|c| !c.is_empty()), g.label2.filter(|n| !n.is_empty())) {
            (Some(code), Some(name)) => format!("{code} · {name}"),
            (code, name) => label_or_none(code.or(name)),
        };
        StatRow {
            label,
            key: g.group_key,
            documents: g.documents,
            quantity: Some(format_trimmed(g.quantity, QUANTITY_SCALE)),
            untaxed: format_scaled(g.untaxed, dec),
            total: format_scaled(total, dec),
        }
    })
    .await
}

/// Sales of the range against the same number of days just before it, net of tax:
/// `(current, previous)`. For a dashboard's "this month against last": the previous
/// period of 1–30 November is 2–31 October (30 days), not October.
pub async fn compare(app: &App, actor: &Actor, params: &StatsParams) -> AppResult<(String, String)> {
    let q = start(actor, params)?;
    let (prev_from, prev_to) = previous(q.from, q.to).ok_or_else(|| AppError::Invalid(FieldErrors::single("from", "range-invalid")))?;
    let mut conn = app.db.reader().await?;
    let dec = company_in(&mut conn).await?.decimals();
    let current = rows::sales_sum(&mut conn, &q.start_text(), &q.end_text()).await?;
    let before = rows::sales_sum(&mut conn, &date_text(prev_from), &date_text(prev_to)).await?;
    Ok((format_scaled(current.untaxed, dec), format_scaled(before.untaxed, dec)))
}

/// The range of the same length that ends the day before `from`.
pub fn previous(from: Date, to: Date) -> Option<(Date, Date)> {
    let days = (to - from).whole_days() + 1;
    let prev_to = from.previous_day()?;
    let prev_from = from.checked_sub(Duration::days(days))?;
    (prev_from.year() >= 1).then_some((prev_from, prev_to))
}
