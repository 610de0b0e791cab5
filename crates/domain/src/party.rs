//! Parties: the people and companies the business deals with. One party can be a
//! customer and a supplier at once; contacts are people who work for a party; employees
//! (some of them salespeople) work for the business itself.

use crate::money::{self, DecimalError};
use crate::taxid::{TaxId, TaxScheme};
use crate::validation::{self as v, FieldErrors};

/// What a person types to create or change a party, before validation.
#[derive(Debug, Clone, Default)]
pub struct PartyInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub trade_name: Option<String>,
    pub tax_scheme: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub payment_terms_days: Option<String>,
    pub credit_limit: Option<String>,
    pub notes: Option<String>,
    pub tags: Option<String>,
}

/// A party's data once every field is known to be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyData {
    pub code: Option<String>,
    pub name: String,
    pub trade_name: Option<String>,
    pub tax_id: Option<TaxId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub website: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub payment_terms_days: i64,
    /// In minor units of the company's currency; `None` means no limit.
    pub credit_limit_minor: Option<i64>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
}

pub const NAME_MAX: usize = 200;
pub const NOTES_MAX: usize = 5000;

/// Validates a party. `default_scheme` comes from the company's country; the input may
/// name another (a foreign customer). `currency_decimals` bounds the credit limit.
pub fn validate_party(input: &PartyInput, default_scheme: TaxScheme, currency_decimals: u32) -> Result<PartyData, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = v::required(&mut e, "name", input.name.as_deref(), NAME_MAX);
    let code = v::optional(&mut e, "code", input.code.as_deref(), 32).map(|c| c.to_uppercase());
    let scheme = match input.tax_scheme.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => default_scheme,
        Some(code) => TaxScheme::from_code(code).unwrap_or_else(|| {
            e.add("tax_scheme", "taxid-unknown-scheme");
            default_scheme
        }),
    };
    let tax_id = match input.tax_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match TaxId::parse(scheme, raw) {
            Ok(t) => Some(t),
            Err(err) => {
                e.add("tax_id", err.key());
                None
            }
        },
    };
    let email = v::email(&mut e, "email", input.email.as_deref());
    let phone = v::phone(&mut e, "phone", input.phone.as_deref());
    let mobile = v::phone(&mut e, "mobile", input.mobile.as_deref());
    let website = v::optional(&mut e, "website", input.website.as_deref(), 200);
    let street = v::optional(&mut e, "street", input.street.as_deref(), 200);
    let city = v::optional(&mut e, "city", input.city.as_deref(), 100);
    let region = v::optional(&mut e, "region", input.region.as_deref(), 100);
    let postal_code = v::optional(&mut e, "postal_code", input.postal_code.as_deref(), 20);
    let country = v::optional(&mut e, "country", input.country.as_deref(), 2).map(|c| c.to_uppercase());
    if let Some(c) = &country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            e.add("country", "country-invalid");
        }
    }
    let payment_terms_days = match input.payment_terms_days.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(d) if (0..=365).contains(&d) => d,
            _ => {
                e.add("payment_terms_days", "payment-terms-invalid");
                0
            }
        },
    };
    let credit_limit_minor = match input.credit_limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match money::parse_scaled(s, currency_decimals, false) {
            Ok(m) => Some(m),
            Err(err) => {
                e.add("credit_limit", err.key());
                None
            }
        },
    };
    let notes = v::optional(&mut e, "notes", input.notes.as_deref(), NOTES_MAX);
    let tags = parse_tags(&mut e, input.tags.as_deref());
    let trade_name = v::optional(&mut e, "trade_name", input.trade_name.as_deref(), NAME_MAX);
    e.into_result(PartyData {
        code,
        name,
        trade_name,
        tax_id,
        email,
        phone,
        mobile,
        website,
        street,
        city,
        region,
        postal_code,
        country,
        payment_terms_days,
        credit_limit_minor,
        notes,
        tags,
    })
}

/// Tags are typed as a comma-separated list; kept lower-case, unique, in order.
fn parse_tags(e: &mut FieldErrors, input: Option<&str>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for t in input.unwrap_or("").split(',').filter_map(crate::text::clean) {
        let t = t.to_lowercase();
        if t.chars().count() > 40 {
            e.add("tags", "field-too-long");
        } else if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > 20 {
        e.add("tags", "tags-too-many");
    }
    tags
}

/// A contact person of a party.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: Option<String>,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactData {
    pub name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub notes: Option<String>,
}

pub fn validate_contact(input: &ContactInput) -> Result<ContactData, FieldErrors> {
    let mut e = FieldErrors::new();
    let data = ContactData {
        name: v::required(&mut e, "name", input.name.as_deref(), NAME_MAX),
        job_title: v::optional(&mut e, "job_title", input.job_title.as_deref(), 100),
        email: v::email(&mut e, "email", input.email.as_deref()),
        phone: v::phone(&mut e, "phone", input.phone.as_deref()),
        mobile: v::phone(&mut e, "mobile", input.mobile.as_deref()),
        notes: v::optional(&mut e, "notes", input.notes.as_deref(), NOTES_MAX),
    };
    e.into_result(data)
}

/// An employee of the business; a salesperson when `is_salesperson`.
#[derive(Debug, Clone, Default)]
pub struct EmployeeInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub commission_pct: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeData {
    pub code: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Percent with `money::PERCENT_SCALE` decimals (5.5 % → 550).
    pub commission_pct: i64,
}

pub fn validate_employee(input: &EmployeeInput) -> Result<EmployeeData, FieldErrors> {
    let mut e = FieldErrors::new();
    let commission_pct = percent(&mut e, "commission_pct", input.commission_pct.as_deref());
    let data = EmployeeData {
        code: v::optional(&mut e, "code", input.code.as_deref(), 32).map(|c| c.to_uppercase()),
        name: v::required(&mut e, "name", input.name.as_deref(), NAME_MAX),
        email: v::email(&mut e, "email", input.email.as_deref()),
        phone: v::phone(&mut e, "phone", input.phone.as_deref()),
        commission_pct,
    };
    e.into_result(data)
}

/// A percentage between 0 and 100 with at most two decimals; empty is 0.
pub fn percent(e: &mut FieldErrors, field: &str, input: Option<&str>) -> i64 {
    match input.map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match money::parse_scaled(s, money::PERCENT_SCALE, false) {
            Ok(p) if p <= 100 * 10_i64.pow(money::PERCENT_SCALE) => p,
            Ok(_) => {
                e.add(field, DecimalError::TooLarge.key());
                0
            }
            Err(err) => {
                e.add(field, err.key());
                0
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, tax_id: &str) -> PartyInput {
        PartyInput { name: Some(name.into()), tax_id: Some(tax_id.into()), ..Default::default() }
    }

    #[test]
    fn a_valid_customer_is_normalised() {
        let mut i = input("  Ferretería   El Tornillo ", "20-12345678-6");
        i.credit_limit = Some("150000,50".into());
        i.tags = Some("Mayorista, vip ,vip".into());
        i.country = Some("ar".into());
        let p = validate_party(&i, TaxScheme::ArCuit, 2).expect("valid");
        assert_eq!(p.name, "Ferretería El Tornillo");
        assert_eq!(p.credit_limit_minor, Some(15_000_050));
        assert_eq!(p.tags, vec!["mayorista", "vip"]);
        assert_eq!(p.country.as_deref(), Some("AR"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut i = input("", "20-12345678-0");
        i.email = Some("no-es-un-mail".into());
        i.credit_limit = Some("-5".into());
        i.payment_terms_days = Some("treinta".into());
        let e = validate_party(&i, TaxScheme::ArCuit, 2).expect_err("invalid");
        assert_eq!(e.0.get("name").map(String::as_str), Some("field-required"));
        assert_eq!(e.0.get("tax_id").map(String::as_str), Some("taxid-bad-check-digit"));
        assert_eq!(e.0.get("email").map(String::as_str), Some("email-invalid"));
        assert_eq!(e.0.get("credit_limit").map(String::as_str), Some("number-negative"));
        assert_eq!(e.0.get("payment_terms_days").map(String::as_str), Some("payment-terms-invalid"));
    }

    #[test]
    fn a_foreign_scheme_can_be_named() {
        let mut i = input("Cliente Chileno", "12.345.678-5");
        i.tax_scheme = Some("cl_rut".into());
        let p = validate_party(&i, TaxScheme::ArCuit, 2).expect("valid");
        assert_eq!(p.tax_id.map(|t| t.as_str().to_string()).as_deref(), Some("12345678-5"));
    }

    #[test]
    fn percentages_are_bounded() {
        let mut e = FieldErrors::new();
        assert_eq!(percent(&mut e, "p", Some("10.5")), 1050);
        percent(&mut e, "q", Some("120"));
        assert!(e.0.contains_key("q") && !e.0.contains_key("p"));
    }
}
