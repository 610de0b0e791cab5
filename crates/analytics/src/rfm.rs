//! Transactions, the calibration-period RFM summary used by BG/NBD and Gamma-Gamma
//! (recency / frequency / monetary value in the conventions of the `lifetimes` package),
//! and RFM scores 1–5 with named segments.
//!
//! ## Summary conventions (as in `lifetimes.utils.summary_data_from_transaction_data`)
//!
//! * Rows dated after `calibration_end` are ignored; a customer whose first purchase is
//!   after `calibration_end` does not appear at all.
//! * **Same-day rule:** all rows of one customer on one calendar day are one purchase;
//!   their amounts are summed.
//! * `frequency` x = number of distinct purchase days − 1 (repeat purchases).
//! * `recency` t_x = (last purchase day − first purchase day) in the time unit (days/7
//!   for weeks, not rounded); 0 when x = 0.
//! * `T` = (`calibration_end` − first purchase day) in the time unit.
//! * `monetary_value` = mean over the *repeat* purchase days of the per-day summed
//!   amount (the first purchase day is excluded); 0 when x = 0.

use std::collections::HashMap;

use serde::Serialize;
use time::Date;

use crate::error::{AnalyticsError, Result};

/// One purchase row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transaction {
    /// Customer identifier (any non-empty string; numeric ids sort numerically).
    pub customer_id: String,
    /// Calendar day of the purchase.
    pub date: Date,
    /// Amount spent (≥ 0, finite).
    pub amount: f64,
}

/// Time unit in which recency, T and model time are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// One day.
    Day,
    /// One week = 7 days (the unit of the BG/NBD paper and of the CDNOW reference).
    #[default]
    Week,
}

impl TimeUnit {
    /// Length of the unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    /// Units per month as `lifetimes` counts them for CLV (`freq='W'` → 4.345 weeks,
    /// `freq='D'` → 30 days).
    pub fn per_month(self) -> f64 {
        match self {
            TimeUnit::Day => 30.0,
            TimeUnit::Week => 4.345,
        }
    }
}

/// Calibration-period summary of one customer (see the module docs for the conventions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerSummary {
    /// Customer identifier.
    pub customer_id: String,
    /// x: number of repeat purchases (distinct purchase days − 1).
    pub frequency: u32,
    /// t_x: time from the first to the last purchase, in the time unit.
    pub recency: f64,
    /// T: time from the first purchase to the end of the calibration period.
    #[serde(rename = "T")]
    pub t: f64,
    /// Mean per-day amount over the repeat purchase days (0 when x = 0).
    pub monetary_value: f64,
}

// ---------------------------------------------------------------------------- CSV

const COLUMNS: [&str; 3] = ["customer_id", "date", "amount"];

/// Parse a `customer_id,date,amount` CSV.
///
/// * A header line is required; the three columns may come in any order (names are
///   matched case-insensitively); any other column is an error naming it.
/// * `date` is an ISO date `YYYY-MM-DD`; `amount` a decimal number ≥ 0.
/// * A UTF-8 byte-order mark and CRLF line ends are accepted; blank lines are skipped.
/// * Fields are split on `,` and trimmed. Quoted fields (`"…"`) are not supported and
///   are reported as such.
/// * Errors name the 1-based data row: the line right after the header is row 1
///   (blank lines count, so row N is line N + 1 of the file).
pub fn parse_transactions_csv(text: &str) -> Result<Vec<Transaction>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let header = loop {
        match lines.next() {
            None => return Err(AnalyticsError::EmptyCsv),
            Some(l) if l.trim().is_empty() => continue,
            Some(l) => break l,
        }
    };
    if header.contains('"') {
        return Err(AnalyticsError::Header("quoted fields are not supported; write the header as customer_id,date,amount".into()));
    }
    let names: Vec<String> = header.split(',').map(|h| h.trim().to_ascii_lowercase()).collect();
    let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| !COLUMNS.contains(n)).collect();
    if !unknown.is_empty() {
        let list =
            unknown.iter().map(|u| if u.is_empty() { "(empty name)".to_string() } else { format!("`{u}`") }).collect::<Vec<_>>().join(", ");
        return Err(AnalyticsError::Header(format!("unknown column(s) {list}; expected exactly customer_id, date, amount (in any order)")));
    }
    let mut idx = [usize::MAX; 3];
    for (pos, name) in names.iter().enumerate() {
        if let Some(k) = COLUMNS.iter().position(|c| c == name) {
            if idx[k] != usize::MAX {
                return Err(AnalyticsError::Header(format!("column `{name}` appears twice")));
            }
            idx[k] = pos;
        }
    }
    let missing: Vec<&str> = COLUMNS.iter().zip(idx).filter(|(_, i)| *i == usize::MAX).map(|(c, _)| *c).collect();
    if !missing.is_empty() {
        return Err(AnalyticsError::Header(format!("missing column(s) {}", missing.join(", "))));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");

    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let row = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row_err = |message: String| AnalyticsError::Row { row, message };
        if line.contains('"') {
            return Err(row_err("quoted fields are not supported".into()));
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err(row_err(format!("expected {} fields, found {}", names.len(), fields.len())));
        }
        let customer_id = fields[idx[0]];
        if customer_id.is_empty() {
            return Err(row_err("customer_id is empty".into()));
        }
        let date_text = fields[idx[1]];
        let date = Date::parse(date_text, &date_format)
            .map_err(|_| row_err(format!("date `{date_text}` is not a valid ISO date (YYYY-MM-DD)")))?;
        let amount_text = fields[idx[2]];
        let amount: f64 = amount_text.parse().map_err(|_| row_err(format!("amount `{amount_text}` is not a number")))?;
        if !amount.is_finite() {
            return Err(row_err(format!("amount `{amount_text}` is not a finite number")));
        }
        if amount < 0.0 {
            return Err(row_err(format!("amount is negative ({amount_text})")));
        }
        out.push(Transaction { customer_id: customer_id.to_string(), date, amount });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- summary

/// Per-customer purchase days (same-day rows merged, amounts summed in row order),
/// ascending, up to `calibration_end`, in customer-id order.
type PurchaseDays = Vec<(String, Vec<(Date, f64)>)>;

/// Written for millions of rows: each row's customer id is looked up once (not at all
/// when it repeats the previous row's, as rows usually come grouped by customer), rows
/// are bucketed by customer with a counting sort (stable, so same-day amounts are added
/// in row order, as before), each customer's few rows are sorted by date, and the
/// customers are ordered by id with keys parsed once. Same result as a map of maps.
fn purchase_days(tx: &[Transaction], calibration_end: Date) -> Result<PurchaseDays> {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut ids: Vec<&str> = Vec::new();
    let mut row_customer: Vec<(u32, u32)> = Vec::with_capacity(tx.len()); // (customer, row)
    let mut previous: Option<(&str, u32)> = None;
    for (i, t) in tx.iter().enumerate() {
        if t.customer_id.is_empty() {
            return Err(AnalyticsError::InvalidInput(format!("transaction {}: customer_id is empty", i + 1)));
        }
        if !t.amount.is_finite() || t.amount < 0.0 {
            return Err(AnalyticsError::InvalidInput(format!(
                "transaction {} (customer {}): amount {} must be finite and >= 0",
                i + 1,
                t.customer_id,
                t.amount
            )));
        }
        if t.date > calibration_end {
            continue;
        }
        let id = t.customer_id.as_str();
        let k = match previous {
            Some((p, k)) if p == id => k,
            _ => {
                let k = *index.entry(id).or_insert_with(|| {
                    ids.push(id);
                    u32::try_from(ids.len() - 1).unwrap_or(u32::MAX)
                });
                previous = Some((id, k));
                k
            }
        };
        row_customer.push((k, u32::try_from(i).unwrap_or(u32::MAX)));
    }
    drop(index);
    // counting sort of the rows by customer (stable)
    let mut start = vec![0usize; ids.len() + 1];
    for &(k, _) in &row_customer {
        start[k as usize + 1] += 1;
    }
    for i in 0..ids.len() {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut rows: Vec<(Date, f64)> = vec![(calibration_end, 0.0); row_customer.len()];
    for &(k, i) in &row_customer {
        let t = &tx[i as usize];
        rows[next[k as usize]] = (t.date, t.amount);
        next[k as usize] += 1;
    }
    drop(row_customer);
    let order = customer_order(&ids);
    let mut out: PurchaseDays = Vec::with_capacity(ids.len());
    for k in order {
        let slice = &mut rows[start[k]..start[k + 1]];
        slice.sort_by_key(|r| r.0); // stable: same-day rows stay in row order
        let mut days: Vec<(Date, f64)> = Vec::with_capacity(slice.len());
        for &(d, amount) in slice.iter() {
            match days.last_mut() {
                Some(last) if last.0 == d => last.1 += amount,
                _ => days.push((d, 0.0 + amount)),
            }
        }
        out.push((ids[k].to_string(), days));
    }
    Ok(out)
}

/// Indices of `ids` in customer-id order (see [`sort_by_customer_id`]); the ids must be
/// distinct.
fn customer_order(ids: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    let numeric: Option<Vec<u128>> = ids.iter().map(|id| id.parse::<u128>().ok()).collect();
    match numeric {
        Some(keys) => order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]).then_with(|| ids[a].cmp(ids[b]))),
        None => order.sort_unstable_by(|&a, &b| ids[a].cmp(ids[b])),
    }
    order
}

/// Sort by customer id: numerically when every id is a non-negative integer (ties such
/// as `7` / `007` broken by the text), else lexicographically. Stable. The keys are
/// parsed once, not at every comparison.
pub fn sort_by_customer_id<T>(items: &mut [T], id: impl Fn(&T) -> &str) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    {
        let ids: Vec<&str> = items.iter().map(&id).collect();
        let numeric: Option<Vec<u128>> = ids.iter().map(|id| id.parse::<u128>().ok()).collect();
        match numeric {
            Some(keys) => order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then_with(|| ids[a].cmp(ids[b]))),
            None => order.sort_by(|&a, &b| ids[a].cmp(ids[b])),
        }
    }
    // apply the permutation in place: position i receives the item at order[i]
    let mut done = vec![false; items.len()];
    for i in 0..items.len() {
        if done[i] {
            continue;
        }
        let mut cur = i;
        loop {
            done[cur] = true;
            let next = order[cur];
            if next == i {
                break;
            }
            items.swap(cur, next);
            cur = next;
        }
    }
}

/// Calibration-period RFM summary of every customer whose first purchase is on or
/// before `calibration_end`, sorted by customer id (see the module docs).
///
/// Errors if a transaction has an empty customer id or a negative / non-finite amount
/// (possible when `Transaction`s are built by hand rather than parsed).
pub fn summary(tx: &[Transaction], calibration_end: Date, unit: TimeUnit) -> Result<Vec<CustomerSummary>> {
    let days = purchase_days(tx, calibration_end)?;
    let unit_days = unit.days();
    let mut out = Vec::with_capacity(days.len());
    for (customer_id, by_day) in days {
        let (Some(&(first, _)), Some(&(last, _))) = (by_day.first(), by_day.last()) else {
            continue;
        };
        let n_days = by_day.len();
        let frequency = u32::try_from(n_days - 1).unwrap_or(u32::MAX);
        let repeat_total: f64 = by_day.iter().skip(1).map(|d| d.1).sum();
        let monetary_value = if n_days > 1 { repeat_total / (n_days - 1) as f64 } else { 0.0 };
        if !monetary_value.is_finite() {
            return Err(AnalyticsError::InvalidInput(format!("customer {customer_id}: the amounts are too large to add up")));
        }
        out.push(CustomerSummary {
            customer_id,
            frequency,
            recency: (last - first).whole_days() as f64 / unit_days,
            t: (calibration_end - first).whole_days() as f64 / unit_days,
            monetary_value,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------- RFM scores

/// Named RFM segment. See [`Segment::from_scores`] for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Bought recently, buy often and spend the most.
    Champions,
    /// Buy often and spend well, fairly recently.
    Loyal,
    /// Recent customers with average frequency / spend.
    PotentialLoyalists,
    /// Bought very recently, not often yet.
    New,
    /// Recent, low frequency / spend.
    Promising,
    /// Middling on everything.
    NeedAttention,
    /// Below-average recency, frequency and spend.
    AboutToSleep,
    /// Spent well and often, but long ago.
    AtRisk,
    /// Were among the best customers, but have not come back for a long time.
    CantLoseThem,
    /// Long ago, few purchases, low spend.
    Hibernating,
    /// Lowest recency, frequency and spend.
    Lost,
}

impl Segment {
    /// Every segment, best first (the order of the table in [`Segment::from_scores`]).
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalists,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLoseThem,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// The code it serialises as (`champions`, `cant_lose_them`, …).
    pub fn code(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::AtRisk => "at_risk",
            Segment::CantLoseThem => "cant_lose_them",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// The segment of a code from [`Segment::code`].
    pub fn from_code(code: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Human-readable name ("champions", "can't lose them", …).
    pub fn label(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need attention",
            Segment::AboutToSleep => "about to sleep",
            Segment::AtRisk => "at risk",
            Segment::CantLoseThem => "can't lose them",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// Segment from the R, F and M scores (each 1–5, 5 best; out-of-range values are
    /// clamped into 1–5).
    ///
    /// F and M are first combined into FM = ⌈(F + M)/2⌉ (their mean, halves rounded up),
    /// then the segment is read from this R × FM table:
    ///
    /// | R \ FM | 1              | 2                   | 3                   | 4         | 5               |
    /// |--------|----------------|---------------------|---------------------|-----------|-----------------|
    /// | **5**  | new            | potential loyalists | potential loyalists | champions | champions       |
    /// | **4**  | promising      | potential loyalists | potential loyalists | loyal     | loyal           |
    /// | **3**  | about to sleep | about to sleep      | need attention      | loyal     | loyal           |
    /// | **2**  | hibernating    | hibernating         | at risk             | at risk   | can't lose them |
    /// | **1**  | lost           | lost                | at risk             | at risk   | can't lose them |
    pub fn from_scores(r: u8, f: u8, m: u8) -> Segment {
        let clamp = |s: u8| s.clamp(1, 5);
        let (r, f, m) = (clamp(r), clamp(f), clamp(m));
        let fm = (f + m).div_ceil(2);
        match (r, fm) {
            (5, 1) => Segment::New,
            (5, 2 | 3) | (4, 2 | 3) => Segment::PotentialLoyalists,
            (5, _) => Segment::Champions,
            (4, 1) => Segment::Promising,
            (4, _) | (3, 4 | 5) => Segment::Loyal,
            (3, 1 | 2) => Segment::AboutToSleep,
            (3, _) => Segment::NeedAttention,
            (_, 5) => Segment::CantLoseThem,
            (_, 3 | 4) => Segment::AtRisk,
            (2, _) => Segment::Hibernating,
            _ => Segment::Lost,
        }
    }
}

/// RFM scores of one customer over the calibration period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RfmScore {
    /// Customer identifier.
    pub customer_id: String,
    /// Raw R: days from the last purchase to the end of the calibration period (fewer is better).
    pub days_since_last_purchase: i64,
    /// Raw F: number of distinct purchase days (x + 1; more is better).
    pub purchase_days: u32,
    /// Raw M: total amount spent in the calibration period, first purchase included
    /// (more is better).
    pub total_spend: f64,
    /// Recency score 1–5 (5 = most recent).
    pub r: u8,
    /// Frequency score 1–5 (5 = most purchase days).
    pub f: u8,
    /// Monetary score 1–5 (5 = highest total spend).
    pub m: u8,
    /// Segment from [`Segment::from_scores`].
    pub segment: Segment,
}

/// Quintile score 1–5 of each value, 5 best.
///
/// score = 1 + ⌊5·w/n⌋ where w is the number of values *strictly worse* than this one
/// (smaller when `higher_is_better`, larger otherwise) and n the number of values. Ties
/// get the same score; the worst value always scores 1; a group of tied values that
/// covers more than a fifth of the customers makes some scores unused.
pub fn quintile_scores(values: &[f64], higher_is_better: bool) -> Vec<u8> {
    let n = values.len();
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    values
        .iter()
        .map(|&v| {
            let worse = if higher_is_better { sorted.partition_point(|&s| s < v) } else { n - sorted.partition_point(|&s| s <= v) };
            let s = 1 + (5 * worse) / n.max(1);
            u8::try_from(s.min(5)).unwrap_or(5)
        })
        .collect()
}

/// RFM scores and segments of every customer with a purchase on or before
/// `calibration_end` (rows after it are ignored), sorted by customer id.
///
/// R is scored on the days since the last purchase at `calibration_end` (fewer =
/// better), F on the number of distinct purchase days, M on the total spend; each by
/// [`quintile_scores`]. Same-day rows count as one purchase day.
pub fn rfm_scores(tx: &[Transaction], calibration_end: Date) -> Result<Vec<RfmScore>> {
    let days = purchase_days(tx, calibration_end)?;
    let mut raw = Vec::with_capacity(days.len());
    for (customer_id, by_day) in days {
        let Some(&(last, _)) = by_day.last() else {
            continue;
        };
        let total: f64 = by_day.iter().map(|d| d.1).sum();
        if !total.is_finite() {
            return Err(AnalyticsError::InvalidInput(format!("customer {customer_id}: the amounts are too large to add up")));
        }
        raw.push((customer_id, (calibration_end - last).whole_days(), u32::try_from(by_day.len()).unwrap_or(u32::MAX), total));
    }
    let r_vals: Vec<f64> = raw.iter().map(|r| r.1 as f64).collect();
    let f_vals: Vec<f64> = raw.iter().map(|r| f64::from(r.2)).collect();
    let m_vals: Vec<f64> = raw.iter().map(|r| r.3).collect();
    let (rs, fs, ms) = (quintile_scores(&r_vals, false), quintile_scores(&f_vals, true), quintile_scores(&m_vals, true));
    Ok(raw
        .into_iter()
        .enumerate()
        .map(|(i, (customer_id, days_since, n_days, total))| RfmScore {
            customer_id,
            days_since_last_purchase: days_since,
            purchase_days: n_days,
            total_spend: total,
            r: rs[i],
            f: fs[i],
            m: ms[i],
            segment: Segment::from_scores(rs[i], fs[i], ms[i]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn segment_codes_are_what_serde_writes() {
        for s in Segment::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.code().into()));
            assert_eq!(Segment::from_code(s.code()), Some(s));
        }
        assert_eq!(Segment::from_code("champion"), None);
    }

    fn tx(id: &str, d: Date, amount: f64) -> Transaction {
        Transaction { customer_id: id.into(), date: d, amount }
    }

    #[test]
    fn sort_by_customer_id_numeric_and_text() {
        let mut v = vec!["10", "9", "007", "7", "100"];
        sort_by_customer_id(&mut v, |s| s);
        assert_eq!(v, ["007", "7", "9", "10", "100"]);
        let mut v = vec!["b", "10", "a", "9"];
        sort_by_customer_id(&mut v, |s| s);
        assert_eq!(v, ["10", "9", "a", "b"]);
    }

    #[test]
    fn summary_of_interleaved_rows_equals_grouped_rows() {
        // the same rows, grouped by customer or interleaved, give the same summary
        let d = |n: i64| date!(2024 - 01 - 01) + time::Duration::days(n);
        let grouped = vec![tx("2", d(3), 1.5), tx("2", d(3), 2.25), tx("2", d(9), 4.0), tx("10", d(0), 7.0), tx("10", d(20), 0.1)];
        let interleaved = vec![tx("10", d(20), 0.1), tx("2", d(3), 1.5), tx("10", d(0), 7.0), tx("2", d(9), 4.0), tx("2", d(3), 2.25)];
        let a = summary(&grouped, d(30), TimeUnit::Week).unwrap();
        let b = summary(&interleaved, d(30), TimeUnit::Week).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].customer_id, "2");
        assert_eq!(a[0].frequency, 1);
        assert_eq!(a[0].monetary_value, 4.0);
        assert_eq!(a[1].monetary_value, 0.1);
    }

    #[test]
    fn summary_of_a_hand_example() {
        // customer 1: 3 rows, two on the same day (merged), one after calibration end
        // customer 2: a single purchase
        // customer 3: first purchase after calibration end -> excluded
        let rows = vec![
            tx("1", date!(2024 - 01 - 01), 10.0),
            tx("1", date!(2024 - 01 - 15), 5.0),
            tx("1", date!(2024 - 01 - 15), 7.5),
            tx("1", date!(2024 - 01 - 29), 20.0),
            tx("1", date!(2024 - 03 - 01), 99.0),
            tx("2", date!(2024 - 01 - 08), 3.0),
            tx("3", date!(2024 - 02 - 10), 8.0),
        ];
        let s = summary(&rows, date!(2024 - 02 - 05), TimeUnit::Week).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].customer_id, "1");
        assert_eq!(s[0].frequency, 2);
        assert_eq!(s[0].recency, 4.0); // 28 days
        assert_eq!(s[0].t, 5.0); // 35 days
        assert_eq!(s[0].monetary_value, (12.5 + 20.0) / 2.0);
        assert_eq!(s[1].customer_id, "2");
        assert_eq!(s[1].frequency, 0);
        assert_eq!(s[1].recency, 0.0);
        assert_eq!(s[1].t, 4.0);
        assert_eq!(s[1].monetary_value, 0.0);

        let d = summary(&rows, date!(2024 - 02 - 05), TimeUnit::Day).unwrap();
        assert_eq!(d[0].recency, 28.0);
        assert_eq!(d[0].t, 35.0);
    }

    #[test]
    fn summary_sorts_ids() {
        let d = date!(2024 - 01 - 01);
        let rows = vec![tx("10", d, 1.0), tx("9", d, 1.0), tx("100", d, 1.0)];
        let s = summary(&rows, d, TimeUnit::Week).unwrap();
        let ids: Vec<&str> = s.iter().map(|c| c.customer_id.as_str()).collect();
        assert_eq!(ids, ["9", "10", "100"]);
        let rows = vec![tx("b", d, 1.0), tx("10", d, 1.0), tx("a", d, 1.0), tx("9", d, 1.0)];
        let s = summary(&rows, d, TimeUnit::Week).unwrap();
        let ids: Vec<&str> = s.iter().map(|c| c.customer_id.as_str()).collect();
        assert_eq!(ids, ["10", "9", "a", "b"]);
    }

    #[test]
    fn summary_refuses_bad_amounts() {
        let d = date!(2024 - 01 - 01);
        assert!(summary(&[tx("1", d, -1.0)], d, TimeUnit::Week).is_err());
        assert!(summary(&[tx("1", d, f64::NAN)], d, TimeUnit::Week).is_err());
        assert!(summary(&[tx("", d, 1.0)], d, TimeUnit::Week).is_err());
        assert!(summary(&[], d, TimeUnit::Week).unwrap().is_empty());
        let (d1, d2) = (date!(2024 - 01 - 02), date!(2024 - 01 - 03));
        let huge = [tx("1", d, 1.0), tx("1", d1, 1e308), tx("1", d2, 1e308)];
        assert!(summary(&huge, d2, TimeUnit::Week).is_err());
        assert!(rfm_scores(&huge, d2).is_err());
    }

    #[test]
    fn csv_parsing() {
        let text = "\u{feff}date,amount,customer_id\r\n2024-01-02,10.50,7\r\n\r\n2024-01-03, 0 ,8\r\n";
        let t = parse_transactions_csv(text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0], tx("7", date!(2024 - 01 - 02), 10.5));
        assert_eq!(t[1], tx("8", date!(2024 - 01 - 03), 0.0));
        // header only
        assert!(parse_transactions_csv("customer_id,date,amount\n").unwrap().is_empty());
    }

    #[test]
    fn csv_errors() {
        let err = |t: &str| parse_transactions_csv(t).unwrap_err().to_string();
        assert_eq!(err(""), "the CSV is empty: a header line `customer_id,date,amount` is required");
        let e = err("customer_id,date,amount,cds,note\n");
        assert!(e.contains("unknown column(s) `cds`, `note`"), "{e}");
        let e = err("customer_id,date,amount,\n");
        assert!(e.contains("unknown column(s) (empty name)"), "{e}");
        let e = err("customer_id,date\n");
        assert!(e.contains("missing column(s) amount"), "{e}");
        let e = err("customer_id,date,amount,date\n");
        assert!(e.contains("appears twice"), "{e}");
        let h = "customer_id,date,amount\n";
        let e = err(&format!("{h}1,2024-01-01,1\n1,2024-01-02,-3.5\n"));
        assert_eq!(e, "row 2: amount is negative (-3.5)");
        let e = err(&format!("{h}1,2024-01-01,1\n\n1,2024-13-02,3\n"));
        assert_eq!(e, "row 3: date `2024-13-02` is not a valid ISO date (YYYY-MM-DD)");
        let e = err(&format!("{h}1,2024-01-01,abc\n"));
        assert_eq!(e, "row 1: amount `abc` is not a number");
        let e = err(&format!("{h}1,2024-01-01,NaN\n"));
        assert_eq!(e, "row 1: amount `NaN` is not a finite number");
        let e = err(&format!("{h}1,2024-01-01\n"));
        assert_eq!(e, "row 1: expected 3 fields, found 2");
        let e = err(&format!("{h}\"1\",2024-01-01,2\n"));
        assert_eq!(e, "row 1: quoted fields are not supported");
        let e = err(&format!("{h},2024-01-01,2\n"));
        assert_eq!(e, "row 1: customer_id is empty");
    }

    #[test]
    fn quintiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quintile_scores(&v, true), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(quintile_scores(&v, false), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        // ties share a score; the worst group scores 1
        assert_eq!(quintile_scores(&[1.0, 1.0, 1.0, 2.0], true), [1, 1, 1, 4]);
        assert!(quintile_scores(&[], true).is_empty());
        assert_eq!(quintile_scores(&[3.0], true), [1]);
    }

    #[test]
    fn segment_table() {
        assert_eq!(Segment::from_scores(5, 5, 5), Segment::Champions);
        assert_eq!(Segment::from_scores(5, 4, 3), Segment::Champions); // FM = 4
        assert_eq!(Segment::from_scores(4, 5, 4), Segment::Loyal);
        assert_eq!(Segment::from_scores(3, 4, 4), Segment::Loyal);
        assert_eq!(Segment::from_scores(5, 2, 3), Segment::PotentialLoyalists);
        assert_eq!(Segment::from_scores(5, 1, 1), Segment::New);
        assert_eq!(Segment::from_scores(4, 1, 1), Segment::Promising);
        assert_eq!(Segment::from_scores(3, 3, 3), Segment::NeedAttention);
        assert_eq!(Segment::from_scores(3, 1, 2), Segment::AboutToSleep);
        assert_eq!(Segment::from_scores(2, 3, 4), Segment::AtRisk);
        assert_eq!(Segment::from_scores(1, 5, 5), Segment::CantLoseThem);
        assert_eq!(Segment::from_scores(2, 1, 2), Segment::Hibernating);
        assert_eq!(Segment::from_scores(1, 1, 2), Segment::Lost);
        assert_eq!(Segment::from_scores(0, 9, 9), Segment::CantLoseThem); // clamped
                                                                          // every cell of the table maps to something and all 11 segments occur
        let mut seen = std::collections::HashSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    seen.insert(Segment::from_scores(r, f, m));
                }
            }
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(Segment::CantLoseThem.label(), "can't lose them");
    }

    #[test]
    fn rfm_scores_small_example() {
        let end = date!(2024 - 03 - 31);
        let mut rows = Vec::new();
        // customer i buys i times, the last purchase i days before the end, 10·i each
        for i in 1..=10u8 {
            for k in 0..i {
                let d = end - time::Duration::days(i64::from(i) + 7 * i64::from(k));
                rows.push(tx(&i.to_string(), d, 10.0 * f64::from(i)));
            }
        }
        rows.push(tx("1", end + time::Duration::days(1), 1000.0)); // after the end: ignored
        let s = rfm_scores(&rows, end).unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s[0].customer_id, "1");
        assert_eq!(s[0].days_since_last_purchase, 1);
        assert_eq!(s[0].purchase_days, 1);
        assert_eq!(s[0].total_spend, 10.0);
        assert_eq!((s[0].r, s[0].f, s[0].m), (5, 1, 1));
        assert_eq!(s[0].segment, Segment::New);
        assert_eq!((s[9].r, s[9].f, s[9].m), (1, 5, 5));
        assert_eq!(s[9].segment, Segment::CantLoseThem);
        assert_eq!(s[9].total_spend, 1000.0);
    }
}
