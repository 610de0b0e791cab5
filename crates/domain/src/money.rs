//! Money and quantities: exact decimals in the domain, integers in the database.
//!
//! An amount is kept as an integer count of the currency's minor unit (cents for a
//! currency with 2 decimals), a quantity as an integer count of thousandths. Parsing
//! refuses more decimals than the scale can hold instead of rounding silently: a price
//! typed as `10.005` is an error the user sees, not a cent that vanishes.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Decimals kept for quantities (thousandths: grams of a kilo, millilitres of a litre).
pub const QUANTITY_SCALE: u32 = 3;
/// Decimals kept for percentages (tax rates, discounts): 10.5 % is stored as 1050.
pub const PERCENT_SCALE: u32 = 2;
/// The largest amount accepted, in whole units: far above any real document, far below
/// where an `i64` of minor units would overflow after summing millions of them.
const MAX_WHOLE_UNITS: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a number (`"abc"`, `"1,2,3"`, empty).
    NotANumber,
    /// More decimals than the scale holds.
    TooManyDecimals,
    /// Below zero where only zero or more makes sense.
    Negative,
    /// Beyond the largest accepted amount.
    TooLarge,
}

impl DecimalError {
    /// The translation key of the message a user reads.
    pub fn key(self) -> &'static str {
        match self {
            DecimalError::NotANumber => "number-invalid",
            DecimalError::TooManyDecimals => "number-too-many-decimals",
            DecimalError::Negative => "number-negative",
            DecimalError::TooLarge => "number-too-large",
        }
    }
}

/// Parses a decimal written with a dot (`1234.50`) or, as people in Spanish-speaking
/// countries write it, with a decimal comma (`1234,50`). Thousands separators are refused
/// because `1.234` is ambiguous.
pub fn parse_decimal(input: &str) -> Result<Decimal, DecimalError> {
    let s = input.trim();
    if s.is_empty() || s.len() > 40 {
        return Err(DecimalError::NotANumber);
    }
    let normalized = if s.contains(',') && !s.contains('.') { s.replacen(',', ".", 1) } else { s.to_string() };
    if normalized.contains(',') || normalized.contains('e') || normalized.contains('E') {
        return Err(DecimalError::NotANumber);
    }
    Decimal::from_str(&normalized).map_err(|_| DecimalError::NotANumber)
}

/// A decimal as an integer scaled by `10^scale`, refusing what the scale cannot hold.
pub fn to_scaled(value: Decimal, scale: u32, allow_negative: bool) -> Result<i64, DecimalError> {
    if !allow_negative && value.is_sign_negative() && !value.is_zero() {
        return Err(DecimalError::Negative);
    }
    let normalized = value.normalize();
    if normalized.scale() > scale {
        return Err(DecimalError::TooManyDecimals);
    }
    let whole = normalized.trunc().abs();
    if whole >= Decimal::from(MAX_WHOLE_UNITS) {
        return Err(DecimalError::TooLarge);
    }
    let mut scaled = normalized;
    scaled.rescale(scale);
    i64::try_from(scaled.mantissa()).map_err(|_| DecimalError::TooLarge)
}

/// Parses text straight into a scaled integer.
pub fn parse_scaled(input: &str, scale: u32, allow_negative: bool) -> Result<i64, DecimalError> {
    to_scaled(parse_decimal(input)?, scale, allow_negative)
}

/// The exact decimal held by a scaled integer.
pub fn from_scaled(value: i64, scale: u32) -> Decimal {
    Decimal::new(value, scale)
}

/// The text form used by the API and CSV: always `scale` decimals, a dot, no grouping
/// (`"1234.50"`).
pub fn format_scaled(value: i64, scale: u32) -> String {
    from_scaled(value, scale).to_string()
}

/// A quantity or percentage for people: no trailing zeros (`"2.5"`, `"21"`).
pub fn format_trimmed(value: i64, scale: u32) -> String {
    from_scaled(value, scale).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dot_and_comma_decimals() {
        assert_eq!(parse_scaled("1234.50", 2, false), Ok(123_450));
        assert_eq!(parse_scaled("1234,5", 2, false), Ok(123_450));
        assert_eq!(parse_scaled(" 7 ", 2, false), Ok(700));
        assert_eq!(parse_scaled("0.125", 3, false), Ok(125));
    }

    #[test]
    fn refuses_what_would_be_lost() {
        assert_eq!(parse_scaled("10.005", 2, false), Err(DecimalError::TooManyDecimals));
        assert_eq!(parse_scaled("-1", 2, false), Err(DecimalError::Negative));
        assert_eq!(parse_scaled("-1", 2, true), Ok(-100));
        assert_eq!(parse_scaled("1.234,5", 2, false), Err(DecimalError::NotANumber));
        assert_eq!(parse_scaled("abc", 2, false), Err(DecimalError::NotANumber));
        assert_eq!(parse_scaled("1e5", 2, false), Err(DecimalError::NotANumber));
        assert_eq!(parse_scaled("", 2, false), Err(DecimalError::NotANumber));
        assert_eq!(parse_scaled("99999999999999999", 2, false), Err(DecimalError::TooLarge));
    }

    #[test]
    fn trailing_zeros_are_not_extra_decimals() {
        assert_eq!(parse_scaled("5.100000", 2, false), Ok(510));
        assert_eq!(parse_scaled("-0", 2, false), Ok(0));
    }

    #[test]
    fn formats_round_trip() {
        for (text, scale) in [("1234.50", 2), ("0.00", 2), ("-3.07", 2), ("2.500", 3)] {
            let v = parse_scaled(text, scale, true).unwrap_or(i64::MIN);
            assert_eq!(format_scaled(v, scale), text);
        }
        assert_eq!(format_trimmed(1050, 2), "10.5");
        assert_eq!(format_trimmed(2100, 2), "21");
    }
}
