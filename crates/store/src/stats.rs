//! Sales statistics: sums of posted invoices, debit notes and credit notes, by day,
//! customer, article and salesperson. Only SQL here; ranges, periods and formatting are in
//! `app::stats`.
//!
//! Sales are net of credit notes: a posted credit note's amounts (and its lines'
//! quantities) count negative. Drafts and cancelled documents never count. Dates are the
//! documents' `issue_date` (`YYYY-MM-DD` text, so text order is date order on both
//! databases); `from` and `to` are inclusive.

use crate::{Conn, StoreError};
use sqlx::FromRow;

/// The documents that make sales, and the sign each kind gives its amounts.
const SALES: &str =
    "d.status = 'posted' AND d.kind IN ('invoice', 'debit_note', 'credit_note') AND d.issue_date >= $1 AND d.issue_date <= $2";
const SIGN: &str = "CASE WHEN d.kind = 'credit_note' THEN -1 ELSE 1 END";

/// Sales of one day, or of the whole range ([`sales_sum`]), in minor units.
#[derive(Debug, Clone, FromRow, Default, PartialEq, Eq)]
pub struct DayRow {
    pub issue_date: String,
    /// Posted documents (invoices, debit and credit notes) in the figure.
    pub documents: i64,
    pub untaxed: i64,
    pub total: i64,
}

/// Sales of one group of a ranking (a customer, an article, a salesperson), in minor units.
#[derive(Debug, Clone, FromRow, Default, PartialEq, Eq)]
pub struct GroupRow {
    /// The customer's, article's or salesperson's id; empty for documents without a
    /// salesperson and for lines without an article.
    pub group_key: String,
    /// Customers: their current name. Articles: the code. Salespeople: the name.
    pub label: Option<String>,
    /// Articles: the name.
    pub label2: Option<String>,
    pub documents: i64,
    /// Articles: the quantity sold less the quantity credited, in thousandths.
    pub quantity: i64,
    pub untaxed: i64,
    /// Customers and salespeople: with tax. Articles: 0 (see [`article_tax_bases`]).
    pub total: i64,
}

/// Sales per day in `from..=to`, oldest first; days without sales are absent.
pub async fn daily_sales(conn: &mut Conn, from: &str, to: &str) -> Result<Vec<DayRow>, StoreError> {
    let sql = format!(
        "SELECT d.issue_date AS issue_date, COUNT(*) AS documents, CAST(SUM({SIGN} * d.untaxed) AS BIGINT) AS untaxed, \
         CAST(SUM({SIGN} * d.total) AS BIGINT) AS total FROM documents d WHERE {SALES} GROUP BY d.issue_date ORDER BY d.issue_date"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(conn).await?)
}

/// All sales in `from..=to` as one figure (`issue_date` is empty).
pub async fn sales_sum(conn: &mut Conn, from: &str, to: &str) -> Result<DayRow, StoreError> {
    let sql = format!(
        "SELECT '' AS issue_date, COUNT(*) AS documents, CAST(COALESCE(SUM({SIGN} * d.untaxed), 0) AS BIGINT) AS untaxed, \
         CAST(COALESCE(SUM({SIGN} * d.total), 0) AS BIGINT) AS total FROM documents d WHERE {SALES}"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_one(conn).await?)
}

/// The `limit` customers who bought most (untaxed) in `from..=to`, labelled with their
/// current name.
pub async fn by_customer(conn: &mut Conn, from: &str, to: &str, limit: i64) -> Result<Vec<GroupRow>, StoreError> {
    let sql = format!(
        "SELECT d.party_id AS group_key, p.name AS label, CAST(NULL AS TEXT) AS label2, COUNT(*) AS documents, \
         CAST(0 AS BIGINT) AS quantity, CAST(SUM({SIGN} * d.untaxed) AS BIGINT) AS untaxed, CAST(SUM({SIGN} * d.total) AS BIGINT) AS total \
         FROM documents d JOIN parties p ON p.id = d.party_id WHERE {SALES} GROUP BY d.party_id, p.name \
         ORDER BY untaxed DESC, group_key LIMIT {limit}"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(conn).await?)
}

/// The `limit` salespeople who sold most (untaxed) in `from..=to`; documents without a
/// salesperson make one group with an empty key and no label.
pub async fn by_salesperson(conn: &mut Conn, from: &str, to: &str, limit: i64) -> Result<Vec<GroupRow>, StoreError> {
    let sql = format!(
        "SELECT COALESCE(d.salesperson_id, '') AS group_key, e.name AS label, CAST(NULL AS TEXT) AS label2, COUNT(*) AS documents, \
         CAST(0 AS BIGINT) AS quantity, CAST(SUM({SIGN} * d.untaxed) AS BIGINT) AS untaxed, CAST(SUM({SIGN} * d.total) AS BIGINT) AS total \
         FROM documents d LEFT JOIN employees e ON e.id = d.salesperson_id WHERE {SALES} GROUP BY COALESCE(d.salesperson_id, ''), e.name \
         ORDER BY untaxed DESC, group_key LIMIT {limit}"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(conn).await?)
}

/// The `limit` articles that sold most (untaxed) in `from..=to`, from the documents'
/// lines, labelled with their code and name; lines without an article make one group
/// with an empty key. `total` is left at 0: tax is charged per rate on each document, so
/// an article's share of it comes from [`article_tax_bases`].
pub async fn by_article(conn: &mut Conn, from: &str, to: &str, limit: i64) -> Result<Vec<GroupRow>, StoreError> {
    let sql = format!(
        "SELECT COALESCE(l.product_id, '') AS group_key, p.code AS label, p.name AS label2, COUNT(DISTINCT l.document_id) AS documents, \
         CAST(SUM({SIGN} * l.quantity) AS BIGINT) AS quantity, CAST(SUM({SIGN} * l.net) AS BIGINT) AS untaxed, CAST(0 AS BIGINT) AS total \
         FROM document_lines l JOIN documents d ON d.id = l.document_id LEFT JOIN products p ON p.id = l.product_id WHERE {SALES} \
         GROUP BY COALESCE(l.product_id, ''), p.code, p.name ORDER BY untaxed DESC, group_key LIMIT {limit}"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(conn).await?)
}

/// Net sales of each article at each tax rate in `from..=to`: `(article id or empty,
/// rate in hundredths of a percent, untaxed)`, to work out what the articles sold with tax.
pub async fn article_tax_bases(conn: &mut Conn, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let sql = format!(
        "SELECT COALESCE(l.product_id, '') AS group_key, l.tax_rate, CAST(SUM({SIGN} * l.net) AS BIGINT) AS untaxed \
         FROM document_lines l JOIN documents d ON d.id = l.document_id WHERE {SALES} \
         GROUP BY COALESCE(l.product_id, ''), l.tax_rate ORDER BY group_key, l.tax_rate"
    );
    Ok(sqlx::query_as(&sql).bind(from).bind(to).fetch_all(conn).await?)
}
