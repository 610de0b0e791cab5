//! Stock valuation rules shared by purchasing and production: the weighted-average cost
//! an article carries after goods come in, and the value of what is on hand.
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
