//! Text rules shared by search and uniqueness.

use unicode_normalization::UnicodeNormalization;

/// The form in which names are searched and sorted: lower case, accents removed,
/// inner whitespace collapsed. "  José  PÉREZ " and "jose perez" meet here.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        // Control characters (a NUL from a pasted file or a fuzzer) count as spaces: they
        // mean nothing in a name and would break the full-text query syntax.
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Trims and collapses inner whitespace; `None` when nothing is left.
pub fn clean(s: &str) -> Option<String> {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_accents_case_and_spacing() {
        assert_eq!(fold("  José   PÉREZ "), "jose perez");
        assert_eq!(fold("Ñandú Güemes"), "nandu guemes");
        assert_eq!(fold("CAFÉ"), fold("cafe"));
        assert_eq!(fold("a\u{0}b\r\nc\u{91}"), "a b c");
    }

    #[test]
    fn clean_collapses_whitespace() {
        assert_eq!(clean("  a \t b  "), Some("a b".to_string()));
        assert_eq!(clean("   "), None);
    }
}
