//! Stock rules: the weighted-average cost an article carries after goods come in
//! (purchasing and production), the value of what is on hand, and the one table of the
//! life of the warehouse's own documents, transfers and counts (draft → done, draft →
//! cancelled).
//!
//! Quantities are thousandths (as everywhere), costs minor units of the currency per one
//! unit of the article. Integer arithmetic in `i128`, rounded half away from zero.

use crate::sales::{clamp, div_round};

const QTY_ONE: i128 = 1_000;

/// The cost per unit after `qty_in` units at `unit_cost_in` join `on_hand` units at
/// `cost`: `(on_hand × cost + qty_in × unit_cost_in) / (on_hand + qty_in)`. When nothing
/// (or less than nothing) was on hand, the new goods set the cost alone: a negative
/// balance carries no value to average with.
pub fn weighted_average_cost(on_hand: i64, cost: i64, qty_in: i64, unit_cost_in: i64) -> i64 {
    if qty_in <= 0 {
        return cost;
    }
    if on_hand <= 0 {
        return unit_cost_in;
    }
    let value = i128::from(on_hand) * i128::from(cost) + i128::from(qty_in) * i128::from(unit_cost_in);
    clamp(div_round(value, i128::from(on_hand) + i128::from(qty_in)))
}

/// The value of `quantity` (thousandths) at `unit_cost` (minor units per unit), rounded
/// to the minor unit.
pub fn value_of(quantity: i64, unit_cost: i64) -> i64 {
    clamp(div_round(i128::from(quantity) * i128::from(unit_cost), QTY_ONE))
}

// ---------------------------------------------------------------- transfers and counts

/// A transfer's or a count's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStatus {
    Draft,
    Done,
    Cancelled,
}

impl DocStatus {
    pub const ALL: [DocStatus; 3] = [DocStatus::Draft, DocStatus::Done, DocStatus::Cancelled];

    pub fn code(self) -> &'static str {
        match self {
            DocStatus::Draft => "draft",
            DocStatus::Done => "done",
            DocStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<DocStatus> {
        DocStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What can be done to a transfer or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocAction {
    /// Change its warehouses, lines or notes.
    Edit,
    /// Execute it: number, moves.
    Done,
    Cancel,
}

impl DocAction {
    pub const ALL: [DocAction; 3] = [DocAction::Edit, DocAction::Done, DocAction::Cancel];

    pub fn code(self) -> &'static str {
        match self {
            DocAction::Edit => "edit",
            DocAction::Done => "done",
            DocAction::Cancel => "cancel",
        }
    }

    pub fn from_code(code: &str) -> Option<DocAction> {
        DocAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// The one table of a transfer's or count's life: the state `from` reaches by `action`,
/// or the translation key of the refusal. Only a draft changes; done and cancelled are
/// final (a done transfer is undone by another transfer, a done count by another count).
pub fn transition(from: DocStatus, action: DocAction) -> Result<DocStatus, &'static str> {
    use DocAction as A;
    use DocStatus as S;
    match (from, action) {
        (S::Draft, A::Edit) => Ok(S::Draft),
        (S::Draft, A::Done) => Ok(S::Done),
        (S::Draft, A::Cancel) => Ok(S::Cancelled),
        (S::Done, _) => Err("stock-doc-done"),
        (S::Cancelled, _) => Err("stock-doc-cancelled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_life_of_a_transfer_or_count() {
        use DocAction as A;
        use DocStatus as S;
        assert_eq!(transition(S::Draft, A::Edit), Ok(S::Draft));
        assert_eq!(transition(S::Draft, A::Done), Ok(S::Done));
        assert_eq!(transition(S::Draft, A::Cancel), Ok(S::Cancelled));
        for a in DocAction::ALL {
            assert_eq!(transition(S::Done, a), Err("stock-doc-done"));
            assert_eq!(transition(S::Cancelled, a), Err("stock-doc-cancelled"));
        }
        for s in DocStatus::ALL {
            assert_eq!(DocStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(DocAction::from_code("produce"), None);
    }

    #[test]
    fn averages_by_quantity() {
        // 10 at 100.00 and 30 at 120.00 → 115.00
        assert_eq!(weighted_average_cost(10_000, 10_000, 30_000, 12_000), 11_500);
        // 1 at 1.00 and 2 at 2.00 → 1.6666… → 1.67
        assert_eq!(weighted_average_cost(1_000, 100, 2_000, 200), 167);
    }

    #[test]
    fn nothing_on_hand_takes_the_new_cost() {
        assert_eq!(weighted_average_cost(0, 5_000, 4_000, 7_000), 7_000);
        assert_eq!(weighted_average_cost(-2_000, 5_000, 4_000, 7_000), 7_000);
        assert_eq!(weighted_average_cost(3_000, 5_000, 0, 7_000), 5_000);
    }

    #[test]
    fn values_round_to_the_minor_unit() {
        assert_eq!(value_of(2_500, 1_001), 2_503); // 2.5 × 10.01 = 25.025 → 25.03
        assert_eq!(value_of(-2_500, 1_001), -2_503);
    }

    proptest! {
        #[test]
        fn the_average_lies_between_the_two_costs(on_hand in 1i64..10_000_000, cost in 0i64..100_000_000,
                                                  qty in 1i64..10_000_000, unit in 0i64..100_000_000) {
            let avg = weighted_average_cost(on_hand, cost, qty, unit);
            prop_assert!(avg >= cost.min(unit) && avg <= cost.max(unit));
        }
    }
}
