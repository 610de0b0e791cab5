//! Translations: every text a user reads comes from `locales/{es,en}.ftl` (Fluent).
//! Spanish is the default; a key missing in English falls back to Spanish, and a key
//! missing everywhere shows itself, so a forgotten translation is visible, not fatal.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::sync::Arc;

pub struct Catalog {
    es: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they show up in plain-text contexts.
    b.set_use_isolating(false);
    let res = match FluentResource::try_new(source.to_string()) {
        Ok(r) => r,
        Err((r, errors)) => {
            tracing::error!(?errors, lang, "errors in the translation catalogue");
            r
        }
    };
    if let Err(errors) = b.add_resource(res) {
        tracing::error!(?errors, lang, "duplicate keys in the translation catalogue");
    }
    b
}

impl Catalog {
    pub fn load() -> Arc<Catalog> {
        Arc::new(Catalog { es: bundle("es", include_str!("../locales/es.ftl")), en: bundle("en", include_str!("../locales/en.ftl")) })
    }

    fn lookup(&self, b: &FluentBundle<FluentResource>, key: &str, args: Option<&FluentArgs>) -> Option<String> {
        let msg = b.get_message(key)?;
        let pattern = msg.value()?;
        let mut errors = vec![];
        Some(b.format_pattern(pattern, args, &mut errors).into_owned())
    }

    pub fn t(&self, locale: &str, key: &str) -> String {
        self.t_args(locale, key, None)
    }

    pub fn t_args(&self, locale: &str, key: &str, args: Option<&FluentArgs>) -> String {
        let first = if locale == "en" { &self.en } else { &self.es };
        self.lookup(first, key, args).or_else(|| self.lookup(&self.es, key, args)).unwrap_or_else(|| key.to_string())
    }

    pub fn has(&self, key: &str) -> bool {
        self.es.has_message(key)
    }
}

/// The language a visitor who is not logged in reads: from `Accept-Language`, Spanish
/// unless English comes first.
pub fn from_accept_language(header: Option<&str>) -> &'static str {
    let Some(h) = header else { return "es" };
    for part in h.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.starts_with("es") {
            return "es";
        }
        if tag.starts_with("en") {
            return "en";
        }
    }
    "es"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_string())
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let es = keys(include_str!("../locales/es.ftl"));
        let en = keys(include_str!("../locales/en.ftl"));
        let missing_en: Vec<_> = es.iter().filter(|k| !en.contains(k)).collect();
        let missing_es: Vec<_> = en.iter().filter(|k| !es.contains(k)).collect();
        assert!(missing_en.is_empty(), "missing in en.ftl: {missing_en:?}");
        assert!(missing_es.is_empty(), "missing in es.ftl: {missing_es:?}");
    }

    #[test]
    fn translates_with_fallback() {
        let c = Catalog::load();
        assert_eq!(c.t("es", "nav-customers"), "Clientes");
        assert_eq!(c.t("en", "nav-customers"), "Customers");
        assert_eq!(c.t("en", "no-such-key"), "no-such-key");
    }

    #[test]
    fn every_validation_key_the_domain_uses_is_translated() {
        let c = Catalog::load();
        for key in [
            "field-required",
            "field-too-long",
            "email-invalid",
            "phone-invalid",
            "taxid-empty",
            "taxid-too-long",
            "taxid-bad-format",
            "taxid-bad-check-digit",
            "taxid-unknown-scheme",
            "number-invalid",
            "number-too-many-decimals",
            "number-negative",
            "number-too-large",
            "payment-terms-invalid",
            "country-invalid",
            "tags-too-many",
            "code-no-spaces",
            "barcode-invalid",
            "barcode-bad-check-digit",
            "product-kind-invalid",
            "tax-exempt-must-be-zero",
            "value-duplicate",
            "salesperson-unknown",
            "party-unknown",
            "user-unknown",
            "tax-rate-unknown",
            "cursor-invalid",
            "limit-invalid",
            "password-too-short",
            "username-invalid",
            "username-immutable",
            "role-invalid",
            "locale-invalid",
            "cannot-deactivate-self",
            "setup-link-invalid",
            "party-needs-a-role",
            "currency-invalid",
            "currency-decimals-locked",
            "database-busy",
        ] {
            assert!(c.has(key), "{key} is not in es.ftl");
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language(Some("en-US,en;q=0.9")), "en");
        assert_eq!(from_accept_language(Some("es-AR,es;q=0.9,en;q=0.8")), "es");
        assert_eq!(from_accept_language(None), "es");
    }
}
