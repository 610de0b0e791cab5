//! The sales pipeline's rules: what a lead can be, where it came from, and what an
//! opportunity must have before it enters a stage.

pub const LEAD_STATUSES: &[&str] = &["new", "contacted", "qualified", "converted", "disqualified"];
/// The statuses a user sets by hand; `converted` comes only from converting the lead.
pub const LEAD_STATUSES_BY_HAND: &[&str] = &["new", "contacted", "qualified", "disqualified"];
pub const SOURCES: &[&str] = &["web", "referral", "fair", "campaign", "cold_call", "email", "social", "other"];
/// What a stage may require of an opportunity.
pub const REQUIREMENTS: &[&str] = &["expected_value", "expected_close", "customer"];

/// What an opportunity has, as far as stage requirements go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Has {
    pub expected_value: bool,
    pub expected_close: bool,
    pub customer: bool,
}

/// The requirements of a stage (codes separated by spaces) that the opportunity lacks.
pub fn missing(required: &str, has: Has) -> Vec<&str> {
    required
        .split_whitespace()
        .filter(|r| match *r {
            "expected_value" => !has.expected_value,
            "expected_close" => !has.expected_close,
            "customer" => !has.customer,
            _ => false,
        })
        .collect()
}

/// Won out of closed, in hundredths of a percent (`None` when nothing closed yet).
pub fn win_rate(won: i64, lost: i64) -> Option<i64> {
    let closed = won + lost;
    (closed > 0).then(|| won * 10_000 / closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_names_what_is_missing() {
        let has = Has { expected_value: true, ..Has::default() };
        assert_eq!(missing("expected_value expected_close customer", has), vec!["expected_close", "customer"]);
        assert!(missing("", has).is_empty());
        assert!(missing("expected_value", has).is_empty());
    }

    #[test]
    fn win_rate_is_won_over_closed() {
        assert_eq!(win_rate(1, 3), Some(2_500));
        assert_eq!(win_rate(2, 1), Some(6_666));
        assert_eq!(win_rate(0, 0), None);
    }
}
