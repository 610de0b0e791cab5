//! Field errors: what a form shows next to each field and the API returns in
//! `error.fields`. Values are translation keys, never text, so that each user reads them in
//! their own language.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, key: &str) {
        self.0.entry(field.to_string()).or_insert_with(|| key.to_string());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn single(field: &str, key: &str) -> Self {
        let mut e = Self::new();
        e.add(field, key);
        e
    }
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// A required text field: trimmed, not empty, at most `max` characters.
pub fn required(errors: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) -> String {
    match value.and_then(crate::text::clean) {
        None => {
            errors.add(field, "field-required");
            String::new()
        }
        Some(v) if v.chars().count() > max => {
            errors.add(field, "field-too-long");
            v
        }
        Some(v) => v,
    }
}

/// An optional text field: trimmed, empty becomes `None`, at most `max` characters.
/// Multi-line text (notes) keeps its line breaks.
pub fn optional(errors: &mut FieldErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.add(field, "field-too-long");
    }
    Some(v.to_string())
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
pub fn email(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<String> {
    let v = optional(errors, field, value, 254)?;
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        errors.add(field, "email-invalid");
    }
    Some(v.to_lowercase())
}

/// A phone number as people write it: digits with `+ ( ) - . /` and spaces, 5 to 20 digits.
pub fn phone(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<String> {
    let v = optional(errors, field, value, 40)?;
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v.chars().all(|c| c.is_ascii_digit() || " +()-./".contains(c));
    if !allowed || !(5..=20).contains(&digits) {
        errors.add(field, "phone-invalid");
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_lengths() {
        let mut e = FieldErrors::new();
        assert_eq!(required(&mut e, "name", Some("  Ana  "), 10), "Ana");
        assert!(e.is_empty());
        required(&mut e, "name", Some("   "), 10);
        required(&mut e, "code", Some("abcdefghijk"), 10);
        assert_eq!(e.0.get("name").map(String::as_str), Some("field-required"));
        assert_eq!(e.0.get("code").map(String::as_str), Some("field-too-long"));
    }

    #[test]
    fn emails_and_phones() {
        let mut e = FieldErrors::new();
        assert_eq!(email(&mut e, "email", Some(" Ana@Example.COM ")), Some("ana@example.com".into()));
        assert!(e.is_empty());
        email(&mut e, "email", Some("ana@"));
        phone(&mut e, "phone", Some("+54 (11) 4555-1234"));
        assert!(!e.0.contains_key("phone"));
        phone(&mut e, "mobile", Some("call me"));
        assert!(e.0.contains_key("email") && e.0.contains_key("mobile"));
    }
}
