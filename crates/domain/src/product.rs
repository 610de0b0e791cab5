//! Articles (goods, services, manufactured articles) and the tax rates they carry.

use crate::money;
use crate::party::percent;
use crate::validation::{self as v, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Goods,
    Service,
    Manufactured,
}

impl ProductKind {
    pub const ALL: [ProductKind; 3] = [ProductKind::Goods, ProductKind::Service, ProductKind::Manufactured];
    pub fn code(self) -> &'static str {
        match self {
            ProductKind::Goods => "goods",
            ProductKind::Service => "service",
            ProductKind::Manufactured => "manufactured",
        }
    }
    pub fn from_code(s: &str) -> Option<ProductKind> {
        ProductKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }
    /// Whether the article is kept in stock (a service never is).
    pub fn is_stocked(self) -> bool {
        self != ProductKind::Service
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub code: Option<String>,
    pub barcode: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub unit: Option<String>,
    pub sale_price: Option<String>,
    pub cost: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductData {
    pub code: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub kind: ProductKind,
    pub unit: String,
    pub sale_price_minor: i64,
    pub cost_minor: i64,
    pub category: Option<String>,
}

pub fn validate_product(input: &ProductInput, currency_decimals: u32) -> Result<ProductData, FieldErrors> {
    let mut e = FieldErrors::new();
    let code = v::required(&mut e, "code", input.code.as_deref(), 32).to_uppercase();
    if code.chars().any(char::is_whitespace) {
        e.add("code", "code-no-spaces");
    }
    let barcode = v::optional(&mut e, "barcode", input.barcode.as_deref(), 32);
    if let Some(b) = &barcode {
        if !b.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            e.add("barcode", "barcode-invalid");
        } else if b.chars().all(|c| c.is_ascii_digit()) && matches!(b.len(), 8 | 12 | 13 | 14) && !gtin_ok(b) {
            e.add("barcode", "barcode-bad-check-digit");
        }
    }
    let kind = match input.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => ProductKind::Goods,
        Some(k) => ProductKind::from_code(k).unwrap_or_else(|| {
            e.add("kind", "product-kind-invalid");
            ProductKind::Goods
        }),
    };
    let unit = v::optional(&mut e, "unit", input.unit.as_deref(), 16).unwrap_or_else(|| "u".to_string());
    let mut money_field = |field: &str, value: Option<&str>| match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => money::parse_scaled(s, currency_decimals, false).unwrap_or_else(|err| {
            e.add(field, err.key());
            0
        }),
    };
    let sale_price_minor = money_field("sale_price", input.sale_price.as_deref());
    let cost_minor = money_field("cost", input.cost.as_deref());
    let data = ProductData {
        name: v::required(&mut e, "name", input.name.as_deref(), 200),
        description: v::optional(&mut e, "description", input.description.as_deref(), 5000),
        category: v::optional(&mut e, "category", input.category.as_deref(), 100),
        code,
        barcode,
        kind,
        unit,
        sale_price_minor,
        cost_minor,
    };
    e.into_result(data)
}

/// GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14): weights 3 and 1 from the right.
fn gtin_ok(code: &str) -> bool {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    let Some((check, body)) = digits.split_last() else { return false };
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    (10 - sum % 10) % 10 == *check
}

#[derive(Debug, Clone, Default)]
pub struct TaxRateInput {
    pub name: Option<String>,
    pub rate: Option<String>,
    pub exempt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRateData {
    pub name: String,
    /// Percent scaled by `money::PERCENT_SCALE`: 21 % → 2100.
    pub rate: i64,
    /// Exempt (*exento*) differs from 0 % on printed invoices and tax reports.
    pub exempt: bool,
}

pub fn validate_tax_rate(input: &TaxRateInput) -> Result<TaxRateData, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = v::required(&mut e, "name", input.name.as_deref(), 60);
    if input.rate.as_deref().map(str::trim).unwrap_or("").is_empty() {
        e.add("rate", "field-required");
    }
    let rate = percent(&mut e, "rate", input.rate.as_deref());
    if input.exempt && rate != 0 {
        e.add("rate", "tax-exempt-must-be-zero");
    }
    e.into_result(TaxRateData { name, rate, exempt: input.exempt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_with_prices() {
        let p = validate_product(
            &ProductInput {
                code: Some(" p001 ".into()),
                name: Some("Martillo".into()),
                sale_price: Some("1234.50".into()),
                cost: Some("740,7".into()),
                barcode: Some("7790001000019".into()),
                ..Default::default()
            },
            2,
        )
        .expect("valid");
        assert_eq!((p.code.as_str(), p.sale_price_minor, p.cost_minor), ("P001", 123_450, 74_070));
        assert_eq!((p.kind, p.unit.as_str()), (ProductKind::Goods, "u"));
    }

    #[test]
    fn bad_products_are_refused_field_by_field() {
        let e = validate_product(
            &ProductInput {
                code: Some("A B".into()),
                sale_price: Some("-1".into()),
                kind: Some("magic".into()),
                barcode: Some("7790001000012".into()),
                ..Default::default()
            },
            2,
        )
        .expect_err("invalid");
        for f in ["code", "name", "sale_price", "kind", "barcode"] {
            assert!(e.0.contains_key(f), "{f} in {e:?}");
        }
    }

    #[test]
    fn gtin_check_digits() {
        assert!(gtin_ok("4006381333931"));
        assert!(gtin_ok("96385074"));
        assert!(!gtin_ok("4006381333932"));
    }

    #[test]
    fn tax_rates() {
        let t = validate_tax_rate(&TaxRateInput { name: Some("IVA 10,5 %".into()), rate: Some("10.5".into()), exempt: false });
        assert_eq!(t.map(|t| t.rate), Ok(1050));
        assert!(validate_tax_rate(&TaxRateInput { name: Some("Exento".into()), rate: Some("21".into()), exempt: true }).is_err());
        assert!(validate_tax_rate(&TaxRateInput { name: Some("X".into()), rate: None, exempt: false }).is_err());
    }
}
