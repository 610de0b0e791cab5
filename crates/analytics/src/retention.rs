//! Retention: monthly cohorts, churn rate, the distribution of recency and conversion
//! rates.
//!
//! Inputs are purchase facts `(customer_id, date)`: one entry per purchase (or per
//! invoice / order line — duplicates on the same day do not change any result here).
//! Customer ids are strings, as in [`crate::rfm`]; any type that is `AsRef<str>` is
//! accepted, so `&[(&str, Date)]` and `&[(String, Date)]` both work, and a slice of
//! [`crate::Transaction`] maps to it with `tx.iter().map(|t| (t.customer_id.as_str(), t.date))`.
//!
//! Rates and shares are fractions in `[0, 1]` (multiply by 100 for a percentage). A rate
//! whose denominator is zero is `None`, never NaN.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use time::{Date, Month};

use crate::error::{AnalyticsError, Result};

/// `numerator / denominator`, `None` when the denominator is zero.
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Months since year 0: `year·12 + (month − 1)`, so that the difference of two of them is
/// a number of calendar months.
fn month_index(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1
}

/// `YYYY-MM` of a [`month_index`].
fn month_label(index: i64) -> String {
    format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
}

// ---------------------------------------------------------------------------- date ranges

/// A window of calendar days, both ends included (`start ≤ end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    start: Date,
    end: Date,
}

impl DateRange {
    /// The days from `start` to `end`, both included. Errors when `start > end`.
    pub fn new(start: Date, end: Date) -> Result<DateRange> {
        if start > end {
            return Err(AnalyticsError::InvalidInput(format!("date range starts ({start}) after it ends ({end})")));
        }
        Ok(DateRange { start, end })
    }

    /// The whole calendar month `year`-`month` (`month` 1–12).
    pub fn month(year: i32, month: u8) -> Result<DateRange> {
        let m = Month::try_from(month).map_err(|_| AnalyticsError::InvalidInput(format!("month {month} is not in 1-12")))?;
        let start = Date::from_calendar_date(year, m, 1).map_err(|e| AnalyticsError::InvalidInput(format!("{year}-{month:02}: {e}")))?;
        let end = Date::from_calendar_date(year, m, m.length(year))
            .map_err(|e| AnalyticsError::InvalidInput(format!("{year}-{month:02}: {e}")))?;
        Ok(DateRange { start, end })
    }

    /// First day (included).
    pub fn start(&self) -> Date {
        self.start
    }

    /// Last day (included).
    pub fn end(&self) -> Date {
        self.end
    }

    /// Whether `d` is inside the window.
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }
}

// ---------------------------------------------------------------------------- cohorts

/// One cell of a cohort row: how many customers of the cohort bought in the month
/// `offset` months after the cohort month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortCell {
    /// Months since the cohort month (0 = the month of the first purchase).
    pub offset: u32,
    /// Customers of the cohort with at least one purchase in that calendar month.
    pub customers: u64,
    /// `customers / cohort size` (always 1 at offset 0).
    pub share: f64,
}

/// One row of the cohort table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortRow {
    /// Month of the first purchase, `YYYY-MM`.
    pub cohort: String,
    /// Number of customers whose first purchase is in that month.
    pub size: u64,
    /// Offsets 0, 1, … up to the requested maximum or the as-of month, whichever comes
    /// first (months after the as-of month are not observed yet and have no cell).
    pub cells: Vec<CohortCell>,
}

/// Cohorts by month of first purchase × months since.
///
/// Conventions:
/// * Purchases after `as_of` are ignored (as if the data ended on `as_of`).
/// * A customer belongs to the cohort of the calendar month of their **first** purchase
///   (on or before `as_of`), whatever they did later.
/// * Offset k is the k-th calendar month after the cohort month (January → February is 1
///   whatever the days); a customer counts once per month however often they bought.
///   So offset 0 is always the whole cohort (share 1).
/// * Cells go from offset 0 to `max_offset`, stopping at the month of `as_of`; that
///   last month may be partial (only the days up to `as_of`).
/// * Rows are in cohort order; months in which nobody bought for the first time have no
///   row.
pub fn cohorts<S: AsRef<str>>(purchases: &[(S, Date)], as_of: Date, max_offset: u32) -> Vec<CohortRow> {
    // customer -> months (as month indices) with a purchase; the first is the cohort
    let mut months_of: HashMap<&str, BTreeSet<i64>> = HashMap::new();
    for (id, d) in purchases {
        if *d <= as_of {
            months_of.entry(id.as_ref()).or_default().insert(month_index(*d));
        }
    }
    let last_month = month_index(as_of);
    // cohort month -> (size, customers per offset)
    let mut table: BTreeMap<i64, (u64, Vec<u64>)> = BTreeMap::new();
    for months in months_of.values() {
        let Some(&first) = months.first() else { continue };
        let observed = u32::try_from(last_month - first).unwrap_or(u32::MAX).min(max_offset);
        let (size, counts) = table.entry(first).or_insert_with(|| (0, vec![0; observed as usize + 1]));
        *size += 1;
        for &m in months {
            if let Some(c) = usize::try_from(m - first).ok().and_then(|k| counts.get_mut(k)) {
                *c += 1;
            }
        }
    }
    table
        .into_iter()
        .map(|(first, (size, counts))| CohortRow {
            cohort: month_label(first),
            size,
            cells: counts
                .into_iter()
                .zip(0u32..)
                .map(|(customers, offset)| CohortCell { offset, customers, share: customers as f64 / size as f64 })
                .collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------- churn

/// Churn between two periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Churn {
    /// Customers with a purchase in the previous period.
    pub active_previous: u64,
    /// Of those, the ones who also bought in the current period.
    pub retained: u64,
    /// Of those, the ones who did not buy in the current period.
    pub churned: u64,
    /// `churned / active_previous`; `None` when nobody was active in the previous period.
    pub rate: Option<f64>,
}

/// Churn rate of the customers active in `previous` over `current`.
///
/// A customer is *active* in a window when they have at least one purchase dated inside
/// it. churn rate = (customers active in `previous` and not active in `current`) /
/// (customers active in `previous`). Customers who first bought in `current` do not
/// enter the rate; retention rate = 1 − churn rate = `retained / active_previous`.
///
/// The windows are usually consecutive periods of equal length (e.g. March then April);
/// that is not enforced.
pub fn churn<S: AsRef<str>>(purchases: &[(S, Date)], previous: DateRange, current: DateRange) -> Churn {
    let active_in =
        |w: DateRange| -> HashSet<&str> { purchases.iter().filter(|(_, d)| w.contains(*d)).map(|(id, _)| id.as_ref()).collect() };
    let before = active_in(previous);
    let now = active_in(current);
    let active_previous = before.len() as u64;
    let retained = before.iter().filter(|id| now.contains(*id)).count() as u64;
    let churned = active_previous - retained;
    Churn { active_previous, retained, churned, rate: ratio(churned, active_previous) }
}

// ---------------------------------------------------------------------------- recency

/// Default bucket edges for [`recency_distribution`]: 0–30, 31–60, 61–90, 91–180,
/// 181–365 and more than 365 days.
pub const DEFAULT_RECENCY_EDGES: [u32; 5] = [30, 60, 90, 180, 365];

/// One bucket of the recency histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecencyBucket {
    /// `"0-30"`, `"31-60"`, …, `">365"` (`"0+"` when there is a single, unbounded bucket).
    pub label: String,
    /// Fewest days since the last purchase in this bucket (included).
    pub min_days: u32,
    /// Most days since the last purchase (included); `None` for the last, open bucket.
    pub max_days: Option<u32>,
    /// Customers in the bucket.
    pub customers: u64,
    /// `customers / all customers`; `None` when there are no customers at all.
    pub share: Option<f64>,
}

/// The recency histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecencyDistribution {
    /// Customers with a purchase on or before the as-of date.
    pub customers: u64,
    /// One bucket per edge, plus the open one after the last edge.
    pub buckets: Vec<RecencyBucket>,
}

/// Histogram of the days since each customer's last purchase at `as_of`.
///
/// days = `as_of` − date of the last purchase on or before `as_of` (0 = bought on
/// `as_of`); purchases after `as_of` are ignored and a customer with none before it is
/// not counted. `upper_edges` are the inclusive upper bounds of the buckets, strictly
/// increasing: `[30, 60]` gives 0–30, 31–60 and >60. See [`DEFAULT_RECENCY_EDGES`].
///
/// Errors when the edges are not strictly increasing.
pub fn recency_distribution<S: AsRef<str>>(purchases: &[(S, Date)], as_of: Date, upper_edges: &[u32]) -> Result<RecencyDistribution> {
    if let Some(w) = upper_edges.windows(2).find(|w| w[0] >= w[1]) {
        return Err(AnalyticsError::InvalidInput(format!(
            "recency bucket edges must be strictly increasing, found {} then {}",
            w[0], w[1]
        )));
    }
    let mut last: HashMap<&str, Date> = HashMap::new();
    for (id, d) in purchases {
        if *d <= as_of {
            let e = last.entry(id.as_ref()).or_insert(*d);
            *e = (*e).max(*d);
        }
    }
    let mut counts = vec![0u64; upper_edges.len() + 1];
    for d in last.values() {
        let days = (as_of - *d).whole_days();
        let k = upper_edges.partition_point(|&edge| i64::from(edge) < days);
        counts[k] += 1;
    }
    let total = last.len() as u64;
    let buckets = counts
        .into_iter()
        .enumerate()
        .map(|(k, customers)| {
            let min_days = if k == 0 { 0 } else { upper_edges[k - 1].saturating_add(1) };
            let max_days = upper_edges.get(k).copied();
            let label = match (k, max_days) {
                (_, Some(max)) => format!("{min_days}-{max}"),
                (0, None) => "0+".to_string(),
                (_, None) => format!(">{}", upper_edges[k - 1]),
            };
            RecencyBucket { label, min_days, max_days, customers, share: ratio(customers, total) }
        })
        .collect();
    Ok(RecencyDistribution { customers: total, buckets })
}

// ---------------------------------------------------------------------------- conversion

/// Conversion rate `to / from`: the share of the `from` entities that reached the next
/// stage. `None` when `from` is 0.
///
/// Counting is the caller's: `to` should count the members of the `from` group that
/// converted (a cohort of leads, quotes, opportunities), so the rate is in `[0, 1]`.
/// Counting conversions of an earlier group in `to` can push it above 1; it is returned
/// as computed.
pub fn conversion(from: u64, to: u64) -> Option<f64> {
    ratio(to, from)
}

/// Lead → customer: leads that became customers / leads (e.g. leads created in a month
/// and how many of them have bought since).
pub fn lead_to_customer(leads: u64, became_customers: u64) -> Option<f64> {
    conversion(leads, became_customers)
}

/// Quote → order: quotes converted to an order / quotes sent (drafts not sent do not
/// count).
pub fn quote_to_order(quotes_sent: u64, converted_to_order: u64) -> Option<f64> {
    conversion(quotes_sent, converted_to_order)
}

/// Opportunity → won (win rate): won / closed opportunities (won + lost). Open
/// opportunities are left out so that a fresh pipeline does not look like a bad one.
pub fn opportunity_to_won(closed: u64, won: u64) -> Option<f64> {
    conversion(closed, won)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn cells(row: &CohortRow) -> Vec<(u32, u64, f64)> {
        row.cells.iter().map(|c| (c.offset, c.customers, c.share)).collect()
    }

    #[test]
    fn cohort_table_by_hand() {
        let purchases = [
            ("a", date!(2024 - 03 - 02)), // listed before a's first purchase: order does not matter
            ("a", date!(2024 - 01 - 05)),
            ("a", date!(2024 - 01 - 20)), // same month as the first: still one customer at offset 0
            ("b", date!(2024 - 01 - 31)),
            ("b", date!(2024 - 02 - 01)),
            ("c", date!(2024 - 02 - 10)),
            ("c", date!(2024 - 03 - 15)),
            ("d", date!(2024 - 02 - 28)),
            ("e", date!(2024 - 03 - 01)),
            ("e", date!(2024 - 04 - 02)), // after as-of: ignored
            ("f", date!(2024 - 05 - 01)), // only after as-of: in no cohort
            ("g", date!(2023 - 12 - 31)),
            ("g", date!(2024 - 01 - 01)), // next calendar month, one day later: offset 1
        ];
        let t = cohorts(&purchases, date!(2024 - 03 - 20), 3);
        let labels: Vec<&str> = t.iter().map(|r| r.cohort.as_str()).collect();
        assert_eq!(labels, ["2023-12", "2024-01", "2024-02", "2024-03"]);
        // 2023-12 = {g}: Dec 1/1, Jan 1/1, Feb 0/1, Mar 0/1 (Mar = as-of month = offset 3)
        assert_eq!(t[0].size, 1);
        assert_eq!(cells(&t[0]), [(0, 1, 1.0), (1, 1, 1.0), (2, 0, 0.0), (3, 0, 0.0)]);
        // 2024-01 = {a, b}: Jan 2/2; Feb {b} 1/2 = 0.5; Mar {a} 1/2 = 0.5; Apr not observed
        assert_eq!(t[1].size, 2);
        assert_eq!(cells(&t[1]), [(0, 2, 1.0), (1, 1, 0.5), (2, 1, 0.5)]);
        // 2024-02 = {c, d}: Feb 2/2; Mar {c} 1/2
        assert_eq!(t[2].size, 2);
        assert_eq!(cells(&t[2]), [(0, 2, 1.0), (1, 1, 0.5)]);
        // 2024-03 = {e}: Mar 1/1 (e's April purchase is after as-of)
        assert_eq!(t[3].size, 1);
        assert_eq!(cells(&t[3]), [(0, 1, 1.0)]);

        // max_offset cuts the rows: offsets 0..=1 only
        let t = cohorts(&purchases, date!(2024 - 03 - 20), 1);
        assert_eq!(cells(&t[0]), [(0, 1, 1.0), (1, 1, 1.0)]);
        assert_eq!(cells(&t[1]), [(0, 2, 1.0), (1, 1, 0.5)]);
        // max_offset 0: every row is just the 100 % column
        let t = cohorts(&purchases, date!(2024 - 03 - 20), 0);
        assert!(t.iter().all(|r| cells(r) == [(0, r.size, 1.0)]));
        // owned ids work too
        let owned: Vec<(String, Date)> = purchases.iter().map(|(i, d)| (i.to_string(), *d)).collect();
        assert_eq!(cohorts(&owned, date!(2024 - 03 - 20), 3), cohorts(&purchases, date!(2024 - 03 - 20), 3));
    }

    #[test]
    fn cohorts_of_nothing() {
        let none: [(&str, Date); 0] = [];
        assert!(cohorts(&none, date!(2024 - 01 - 01), 12).is_empty());
        // everything after as-of
        assert!(cohorts(&[("a", date!(2024 - 02 - 01))], date!(2024 - 01 - 31), 12).is_empty());
    }

    #[test]
    fn churn_by_hand() {
        let purchases = [
            ("a", date!(2024 - 02 - 03)),
            ("a", date!(2024 - 03 - 04)), // active in both: retained
            ("b", date!(2024 - 02 - 10)), // only February: churned
            ("c", date!(2024 - 02 - 20)),
            ("c", date!(2024 - 02 - 21)), // two February purchases, none in March: churned (once)
            ("d", date!(2024 - 03 - 05)), // new in March: not in the rate
            ("e", date!(2024 - 01 - 05)),
            ("e", date!(2024 - 03 - 01)), // not active in February: not in the rate
            ("f", date!(2024 - 04 - 01)), // outside both windows
            ("g", date!(2024 - 02 - 29)),
            ("g", date!(2024 - 03 - 31)), // window ends are included: retained
        ];
        let feb = DateRange::month(2024, 2).unwrap();
        let mar = DateRange::month(2024, 3).unwrap();
        // active in Feb = {a, b, c, g} = 4; retained {a, g} = 2; churned {b, c} = 2; rate 2/4
        let c = churn(&purchases, feb, mar);
        assert_eq!(c, Churn { active_previous: 4, retained: 2, churned: 2, rate: Some(0.5) });
        // Jan -> Feb: active in Jan = {e}; e did not buy in Feb: 1/1
        let jan = DateRange::month(2024, 1).unwrap();
        assert_eq!(churn(&purchases, jan, feb).rate, Some(1.0));
        // nobody active in the previous window
        let dec = DateRange::month(2023, 12).unwrap();
        assert_eq!(churn(&purchases, dec, jan), Churn { active_previous: 0, retained: 0, churned: 0, rate: None });
        let none: [(&str, Date); 0] = [];
        assert_eq!(churn(&none, feb, mar).rate, None);
    }

    #[test]
    fn date_ranges() {
        let feb = DateRange::month(2024, 2).unwrap();
        assert_eq!((feb.start(), feb.end()), (date!(2024 - 02 - 01), date!(2024 - 02 - 29)));
        let feb23 = DateRange::month(2023, 2).unwrap();
        assert_eq!(feb23.end(), date!(2023 - 02 - 28));
        assert!(DateRange::month(2024, 13).is_err());
        assert!(DateRange::month(2024, 0).is_err());
        assert!(DateRange::new(date!(2024 - 01 - 02), date!(2024 - 01 - 01)).is_err());
        let one = DateRange::new(date!(2024 - 01 - 01), date!(2024 - 01 - 01)).unwrap();
        assert!(one.contains(date!(2024 - 01 - 01)));
        assert!(!one.contains(date!(2024 - 01 - 02)));
    }

    #[test]
    fn recency_by_hand() {
        let as_of = date!(2024 - 12 - 31);
        let purchases = [
            ("a", date!(2024 - 12 - 31)), // 0 days
            ("b", date!(2024 - 12 - 01)), // 30 days: upper edge included in 0-30
            ("c", date!(2024 - 11 - 30)), // 31 days
            ("d", date!(2024 - 01 - 01)),
            ("d", date!(2024 - 10 - 02)), // last one counts: 29 (rest of Oct) + 30 (Nov) + 31 (Dec) = 90
            ("e", date!(2023 - 12 - 31)), // 366 days (2024 is a leap year)
            ("f", date!(2025 - 01 - 05)), // after as-of: not counted
            ("g", date!(2024 - 01 - 01)), // 365 days
        ];
        let r = recency_distribution(&purchases, as_of, &DEFAULT_RECENCY_EDGES).unwrap();
        // 6 customers (a b c d e g)
        assert_eq!(r.customers, 6);
        let got: Vec<(&str, u32, Option<u32>, u64)> =
            r.buckets.iter().map(|b| (b.label.as_str(), b.min_days, b.max_days, b.customers)).collect();
        assert_eq!(
            got,
            [
                ("0-30", 0, Some(30), 2),
                ("31-60", 31, Some(60), 1),
                ("61-90", 61, Some(90), 1),
                ("91-180", 91, Some(180), 0),
                ("181-365", 181, Some(365), 1),
                (">365", 366, None, 1),
            ]
        );
        // shares: 2/6, 1/6, 1/6, 0/6, 1/6, 1/6
        let shares: Vec<Option<f64>> = r.buckets.iter().map(|b| b.share).collect();
        assert_eq!(shares, [Some(2.0 / 6.0), Some(1.0 / 6.0), Some(1.0 / 6.0), Some(0.0), Some(1.0 / 6.0), Some(1.0 / 6.0)]);

        // a single edge at 0: bought on as-of day vs any earlier day
        let r = recency_distribution(&purchases, as_of, &[0]).unwrap();
        let got: Vec<(&str, u64)> = r.buckets.iter().map(|b| (b.label.as_str(), b.customers)).collect();
        assert_eq!(got, [("0-0", 1), (">0", 5)]);
        // no edges: one open bucket with everybody
        let r = recency_distribution(&purchases, as_of, &[]).unwrap();
        assert_eq!(r.buckets.len(), 1);
        assert_eq!((r.buckets[0].label.as_str(), r.buckets[0].customers, r.buckets[0].share), ("0+", 6, Some(1.0)));
    }

    #[test]
    fn recency_edge_cases() {
        let none: [(&str, Date); 0] = [];
        let r = recency_distribution(&none, date!(2024 - 01 - 01), &DEFAULT_RECENCY_EDGES).unwrap();
        assert_eq!(r.customers, 0);
        assert_eq!(r.buckets.len(), 6);
        assert!(r.buckets.iter().all(|b| b.customers == 0 && b.share.is_none()));
        let e = recency_distribution(&none, date!(2024 - 01 - 01), &[30, 30]).unwrap_err();
        assert_eq!(e.to_string(), "invalid input: recency bucket edges must be strictly increasing, found 30 then 30");
        assert!(recency_distribution(&none, date!(2024 - 01 - 01), &[60, 30]).is_err());
    }

    #[test]
    fn conversion_rates() {
        // 10 of 40 leads became customers: 10/40 = 0.25
        assert_eq!(lead_to_customer(40, 10), Some(0.25));
        // 3 of 12 sent quotes were ordered: 3/12 = 0.25
        assert_eq!(quote_to_order(12, 3), Some(0.25));
        // 6 won of 8 closed (6 won + 2 lost): 6/8 = 0.75
        assert_eq!(opportunity_to_won(8, 6), Some(0.75));
        assert_eq!(conversion(5, 0), Some(0.0));
        assert_eq!(conversion(5, 5), Some(1.0));
        assert_eq!(conversion(0, 0), None);
        assert_eq!(conversion(0, 3), None);
        assert_eq!(lead_to_customer(0, 0), None);
        assert_eq!(quote_to_order(0, 0), None);
        assert_eq!(opportunity_to_won(0, 0), None);
    }
}
