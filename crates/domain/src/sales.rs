//! Sales documents: their kinds, their states and the one table of allowed transitions,
//! line amounts and document totals with the one rounding rule, document numbers, and
//! receivables ageing.
//!
//! # The rounding rule
//! Amounts are integers of the currency's minor unit (cents), quantities integers of
//! thousandths, percentages integers of hundredths. A line's net amount is
//! `quantity × unit price × (1 − discount)` rounded once, half away from zero, to the
//! minor unit. Tax is computed per tax rate on the sum of the nets of that rate, rounded
//! the same way. The total is the sum of the nets plus the sum of the taxes. Everything is
//! integer arithmetic in `i128`: exact, and the same on every machine.

use serde::{Deserialize, Serialize};

/// The kinds of sales document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Quote,
    Order,
    Delivery,
    Invoice,
    CreditNote,
    DebitNote,
    Receipt,
}

impl DocKind {
    pub const ALL: [DocKind; 7] =
        [DocKind::Quote, DocKind::Order, DocKind::Delivery, DocKind::Invoice, DocKind::CreditNote, DocKind::DebitNote, DocKind::Receipt];

    pub fn code(self) -> &'static str {
        match self {
            DocKind::Quote => "quote",
            DocKind::Order => "order",
            DocKind::Delivery => "delivery",
            DocKind::Invoice => "invoice",
            DocKind::CreditNote => "credit_note",
            DocKind::DebitNote => "debit_note",
            DocKind::Receipt => "receipt",
        }
    }

    pub fn from_code(code: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether the document carries article lines (a receipt carries allocations instead).
    pub fn has_lines(self) -> bool {
        self != DocKind::Receipt
    }

    /// Whether posting it changes what the customer owes: `+1` owes more, `-1` owes less.
    pub fn receivable_sign(self) -> i64 {
        match self {
            DocKind::Invoice | DocKind::DebitNote => 1,
            DocKind::CreditNote | DocKind::Receipt => -1,
            _ => 0,
        }
    }

    /// The action that takes a draft to its working state: quotes are sent, orders are
    /// confirmed, the others are posted.
    pub fn main_transition(self) -> Transition {
        match self {
            DocKind::Quote => Transition::Send,
            DocKind::Order => Transition::Confirm,
            _ => Transition::Post,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    /// A quote given to the customer.
    Sent,
    /// A quote the customer accepted (it became an order).
    Accepted,
    /// A quote the customer declined.
    Rejected,
    /// An order the business committed to: stock is reserved.
    Confirmed,
    /// An order closed: all delivered and invoiced, or what was left was given up.
    Done,
    /// A delivery, invoice, note or receipt that took its number and its effects.
    Posted,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::Sent,
        Status::Accepted,
        Status::Rejected,
        Status::Confirmed,
        Status::Done,
        Status::Posted,
        Status::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Confirmed => "confirmed",
            Status::Done => "done",
            Status::Posted => "posted",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Send,
    Accept,
    Reject,
    Confirm,
    Close,
    Post,
    Cancel,
}

impl Transition {
    pub fn code(self) -> &'static str {
        match self {
            Transition::Send => "send",
            Transition::Accept => "accept",
            Transition::Reject => "reject",
            Transition::Confirm => "confirm",
            Transition::Close => "close",
            Transition::Post => "post",
            Transition::Cancel => "cancel",
        }
    }
}

/// The one table of allowed transitions: the state a document of `kind` in state `from`
/// reaches by `t`, or the translation key of the refusal.
pub fn transition(kind: DocKind, from: Status, t: Transition) -> Result<Status, &'static str> {
    use DocKind as K;
    use Status as S;
    use Transition as T;
    let to = match (kind, from, t) {
        (K::Quote, S::Draft, T::Send) => S::Sent,
        (K::Quote, S::Draft | S::Sent, T::Accept) => S::Accepted,
        (K::Quote, S::Draft | S::Sent, T::Reject) => S::Rejected,
        (K::Quote, S::Draft | S::Sent, T::Cancel) => S::Cancelled,

        (K::Order, S::Draft, T::Confirm) => S::Confirmed,
        (K::Order, S::Confirmed, T::Close) => S::Done,
        // A confirmed order can be cancelled only while nothing was delivered or invoiced
        // (the use case checks the lines).
        (K::Order, S::Draft | S::Confirmed, T::Cancel) => S::Cancelled,

        (K::Delivery | K::Invoice | K::CreditNote | K::DebitNote | K::Receipt, S::Draft, T::Post) => S::Posted,
        (K::Delivery | K::Invoice | K::CreditNote | K::DebitNote | K::Receipt, S::Draft, T::Cancel) => S::Cancelled,

        (_, S::Posted, T::Post) => return Err("doc-already-posted"),
        (K::Invoice | K::CreditNote | K::DebitNote | K::Receipt | K::Delivery, S::Posted, _) => return Err("doc-posted-immutable"),
        (_, S::Cancelled, _) => return Err("doc-cancelled"),
        _ => return Err("doc-transition-invalid"),
    };
    Ok(to)
}

/// Whether a document in this state may still be edited (lines, customer, dates).
pub fn editable(status: Status) -> bool {
    status == Status::Draft
}

/// `0001-00000042`: the point of sale and the number, as printed.
pub fn format_number(point_of_sale: i64, number: i64) -> String {
    format!("{point_of_sale:04}-{number:08}")
}

/// `n / d` rounded half away from zero (the one rounding of every amount).
pub(crate) fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q + n.signum() * d.signum()
    } else {
        q
    }
}

const QTY_ONE: i128 = 1_000; // quantities in thousandths
const PCT_ONE: i128 = 10_000; // 100 % in hundredths of a percent

/// A line's net amount in minor units: quantity (thousandths) × unit price (minor units)
/// × (1 − discount), discount in hundredths of a percent, rounded once.
pub fn line_net(quantity: i64, unit_price: i64, discount: i64) -> i64 {
    let n = i128::from(quantity) * i128::from(unit_price) * (PCT_ONE - i128::from(discount));
    clamp(div_round(n, QTY_ONE * PCT_ONE))
}

/// Tax on a base at a rate in hundredths of a percent, rounded once.
pub fn tax_on(base: i64, rate: i64) -> i64 {
    clamp(div_round(i128::from(base) * i128::from(rate), PCT_ONE))
}

/// An `i128` result back in `i64`, saturating.
pub(crate) fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// What totals need from a line: its net and its tax rate (the key groups lines of the
/// same rate; the rate is in hundredths of a percent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxedNet<'a> {
    pub net: i64,
    pub tax_key: &'a str,
    pub rate: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxTotal {
    pub tax_key: String,
    pub rate: i64,
    pub base: i64,
    pub tax: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub untaxed: i64,
    pub tax: i64,
    pub total: i64,
    /// One entry per tax rate, in the order rates first appear on the document.
    pub by_rate: Vec<TaxTotal>,
}

/// A document's totals under the rounding rule (see the module's documentation).
pub fn totals<'a>(lines: impl IntoIterator<Item = TaxedNet<'a>>) -> Totals {
    let mut by_rate: Vec<TaxTotal> = Vec::new();
    for l in lines {
        match by_rate.iter_mut().find(|t| t.tax_key == l.tax_key && t.rate == l.rate) {
            Some(t) => t.base += l.net,
            None => by_rate.push(TaxTotal { tax_key: l.tax_key.to_string(), rate: l.rate, base: l.net, tax: 0 }),
        }
    }
    for t in &mut by_rate {
        t.tax = tax_on(t.base, t.rate);
    }
    let untaxed = by_rate.iter().map(|t| t.base).sum();
    let tax = by_rate.iter().map(|t| t.tax).sum();
    Totals { untaxed, tax, total: untaxed + tax, by_rate }
}

/// Receivables ageing buckets: current (not yet due), 1–30, 31–60, 61–90 and more than
/// 90 days past due.
pub const AGEING_BUCKETS: usize = 5;

/// The bucket of an open item `days_past_due` days after its due date (negative or zero:
/// not yet due).
pub fn ageing_bucket(days_past_due: i64) -> usize {
    match days_past_due {
        d if d <= 0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// Whether confirming `amount` more for a customer who already owes or has on order
/// `exposure` goes over their credit `limit` (no limit: never).
pub fn over_credit_limit(limit: Option<i64>, exposure: i64, amount: i64) -> bool {
    limit.is_some_and(|l| exposure.saturating_add(amount) > l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_amounts_round_half_away_from_zero_once() {
        // 3 × 10.00 = 30.00
        assert_eq!(line_net(3_000, 1_000, 0), 3_000);
        // 1.5 × 0.99 = 1.485 → 1.49
        assert_eq!(line_net(1_500, 99, 0), 149);
        // 1 × 10.00 − 12.5 % = 8.75
        assert_eq!(line_net(1_000, 1_000, 1_250), 875);
        // 1 × 0.05 − 50 % = 0.025 → 0.03
        assert_eq!(line_net(1_000, 5, 5_000), 3);
        // returns: negative quantities round symmetrically
        assert_eq!(line_net(-1_500, 99, 0), -149);
        // 0.333 kg × 3.00 = 0.999 → 1.00
        assert_eq!(line_net(333, 300, 0), 100);
        assert_eq!(line_net(1_000, 1_000, 10_000), 0);
    }

    #[test]
    fn tax_is_computed_per_rate_on_the_sum_not_per_line() {
        // Five lines of 0.02 at 21 %: per line 0.0042 would round to 0.00 each; on the
        // sum, 0.10 × 21 % = 0.021 → 0.02.
        let lines: Vec<TaxedNet> = (0..5).map(|_| TaxedNet { net: 2, tax_key: "iva21", rate: 2_100 }).collect();
        let t = totals(lines);
        assert_eq!(t.untaxed, 10);
        assert_eq!(t.tax, 2);
        assert_eq!(t.total, 12);
    }

    #[test]
    fn totals_break_down_by_rate() {
        let t = totals([
            TaxedNet { net: 100_000, tax_key: "iva21", rate: 2_100 },
            TaxedNet { net: 50_000, tax_key: "iva105", rate: 1_050 },
            TaxedNet { net: 20_000, tax_key: "iva21", rate: 2_100 },
            TaxedNet { net: 7_000, tax_key: "exento", rate: 0 },
        ]);
        assert_eq!(t.by_rate.len(), 3);
        assert_eq!((t.by_rate[0].base, t.by_rate[0].tax), (120_000, 25_200));
        assert_eq!((t.by_rate[1].base, t.by_rate[1].tax), (50_000, 5_250));
        assert_eq!((t.by_rate[2].base, t.by_rate[2].tax), (7_000, 0));
        assert_eq!(t.untaxed, 177_000);
        assert_eq!(t.tax, 30_450);
        assert_eq!(t.total, 207_450);
    }

    #[test]
    fn the_transition_table_allows_the_life_of_each_document_and_nothing_else() {
        assert_eq!(transition(DocKind::Quote, Status::Draft, Transition::Send), Ok(Status::Sent));
        assert_eq!(transition(DocKind::Quote, Status::Sent, Transition::Accept), Ok(Status::Accepted));
        assert_eq!(transition(DocKind::Order, Status::Draft, Transition::Confirm), Ok(Status::Confirmed));
        assert_eq!(transition(DocKind::Order, Status::Confirmed, Transition::Close), Ok(Status::Done));
        assert_eq!(transition(DocKind::Invoice, Status::Draft, Transition::Post), Ok(Status::Posted));
        assert_eq!(transition(DocKind::Invoice, Status::Posted, Transition::Post), Err("doc-already-posted"));
        assert_eq!(transition(DocKind::Invoice, Status::Posted, Transition::Cancel), Err("doc-posted-immutable"));
        assert_eq!(transition(DocKind::Order, Status::Confirmed, Transition::Confirm), Err("doc-transition-invalid"));
        assert_eq!(transition(DocKind::Order, Status::Cancelled, Transition::Confirm), Err("doc-cancelled"));
        assert_eq!(transition(DocKind::Invoice, Status::Draft, Transition::Confirm), Err("doc-transition-invalid"));
        // Every state reached is a state the kind can be in.
        for k in DocKind::ALL {
            for s in Status::ALL {
                for t in [
                    Transition::Send,
                    Transition::Accept,
                    Transition::Reject,
                    Transition::Confirm,
                    Transition::Close,
                    Transition::Post,
                    Transition::Cancel,
                ] {
                    if let Ok(to) = transition(k, s, t) {
                        assert_ne!(to, Status::Draft, "{k:?} {s:?} {t:?}");
                        assert!(!matches!(to, Status::Posted) || !matches!(k, DocKind::Quote | DocKind::Order));
                    }
                }
            }
        }
    }

    #[test]
    fn codes_round_trip_and_numbers_print_with_their_point_of_sale() {
        for k in DocKind::ALL {
            assert_eq!(DocKind::from_code(k.code()), Some(k));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        assert_eq!(format_number(1, 42), "0001-00000042");
    }

    #[test]
    fn ageing_buckets_and_credit_limit() {
        assert_eq!([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400].map(ageing_bucket), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
        assert!(!over_credit_limit(None, 1_000_000, 1));
        assert!(!over_credit_limit(Some(1_000), 400, 600));
        assert!(over_credit_limit(Some(1_000), 400, 601));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn line() -> impl Strategy<Value = (i64, i64, i64, usize)> {
        (1i64..1_000_000, 0i64..100_000_000, 0i64..=10_000, 0usize..3)
    }

    const RATES: [(&str, i64); 3] = [("iva21", 2_100), ("iva105", 1_050), ("exento", 0)];

    proptest! {
        #[test]
        fn a_line_is_within_half_a_cent_of_the_exact_amount((q, p, d, _) in line()) {
            let net = line_net(q, p, d);
            let exact = i128::from(q) * i128::from(p) * (10_000 - i128::from(d));
            let diff = i128::from(net) * 10_000_000 - exact;
            prop_assert!(2 * diff.abs() <= 10_000_000, "net {net} exact {exact}");
            prop_assert_eq!(line_net(-q, p, d), -net);
        }

        #[test]
        fn totals_add_up_and_do_not_depend_on_line_order(lines in prop::collection::vec(line(), 1..40)) {
            let nets: Vec<(i64, usize)> = lines.iter().map(|&(q, p, d, r)| (line_net(q, p, d), r)).collect();
            let t = totals(nets.iter().map(|&(net, r)| TaxedNet { net, tax_key: RATES[r].0, rate: RATES[r].1 }));
            prop_assert_eq!(t.untaxed, nets.iter().map(|n| n.0).sum::<i64>());
            prop_assert_eq!(t.total, t.untaxed + t.tax);
            prop_assert_eq!(t.by_rate.iter().map(|r| r.base).sum::<i64>(), t.untaxed);
            for r in &t.by_rate {
                let exact = i128::from(r.base) * i128::from(r.rate);
                prop_assert!(2 * (i128::from(r.tax) * 10_000 - exact).abs() <= 10_000);
            }
            let mut reversed = t.by_rate.clone();
            let back = totals(nets.iter().rev().map(|&(net, r)| TaxedNet { net, tax_key: RATES[r].0, rate: RATES[r].1 }));
            reversed.sort_by_key(|r| r.rate);
            let mut b = back.by_rate.clone();
            b.sort_by_key(|r| r.rate);
            prop_assert_eq!(reversed, b);
            prop_assert_eq!(back.total, t.total);
        }
    }
}
