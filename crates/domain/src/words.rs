//! Amounts in words, as printed on Spanish-language invoices: "son pesos mil doscientos
//! treinta y cuatro con 50/100".
//!
//! Spanish uses the long scale (millón = 10⁶, billón = 10¹², trillón = 10¹⁸), so
//! 10⁹ is "mil millones", never "un billón". "Uno" shortens to "un" before a masculine
//! noun ("un millón", "veintiún mil") and becomes "una" before a feminine one; on an
//! invoice the currency comes first ("son pesos veintiuno"), so the amount itself is
//! written in its standalone form.

/// How a cardinal number agrees with what follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberForm {
    /// Said on its own, or after the noun: "uno", "veintiuno", "ciento uno".
    Standalone,
    /// Before a masculine noun: "un peso", "veintiún dólares", "ciento un mil".
    Masculine,
    /// Before a feminine noun: "una libra", "veintiuna coronas", "doscientas mil libras".
    Feminine,
}

/// The amount `minor_units / 10^decimals` in words, e.g.
/// `amount_in_words_es(123450, 2, "pesos")` → `"son pesos mil doscientos treinta y cuatro con 50/100"`.
///
/// The fraction is written in figures over its denominator ("con 05/100", "con 250/1000")
/// and left out when the currency has no decimals. A negative amount reads
/// "son pesos menos …". An empty `currency_plural` is simply left out.
pub fn amount_in_words_es(minor_units: i64, decimals: u32, currency_plural: &str) -> String {
    let magnitude = u128::from(minor_units.unsigned_abs());
    // Past 10^38 the denominator does not fit; every digit is then a fraction digit anyway.
    let (whole, fraction, denominator) = match 10u128.checked_pow(decimals) {
        Some(d) => (magnitude / d, magnitude % d, Some(d)),
        None => (0, magnitude, None),
    };

    let mut out = String::from("son");
    let currency = currency_plural.trim();
    if !currency.is_empty() {
        out.push(' ');
        out.push_str(currency);
    }
    if minor_units < 0 {
        out.push_str(" menos");
    }
    out.push(' ');
    // An i64 holds at most 9.2·10^18 whole units, well inside u64.
    out.push_str(&number_in_words_es(u64::try_from(whole).unwrap_or(u64::MAX), NumberForm::Standalone));
    if decimals > 0 {
        let width = decimals as usize;
        let denominator = match denominator {
            Some(d) => d.to_string(),
            None => format!("1{}", "0".repeat(width)),
        };
        out.push_str(&format!(" con {fraction:0width$}/{denominator}"));
    }
    out
}

/// A whole number in Spanish words ("cero", "veintidós", "un millón doscientos mil").
pub fn number_in_words_es(n: u64, form: NumberForm) -> String {
    if n == 0 {
        return "cero".to_string();
    }
    // Groups of six digits: units, millones, billones, trillones (the long scale).
    const SCALES: [(&str, &str); 3] = [("millón", "millones"), ("billón", "billones"), ("trillón", "trillones")];
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1_000_000);
        rest /= 1_000_000;
    }
    let mut parts: Vec<String> = Vec::new();
    for (i, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            continue;
        }
        if i == 0 {
            parts.push(below_million(group, form));
        } else {
            let (one, many) = SCALES[i - 1];
            if group == 1 {
                parts.push(format!("un {one}"));
            } else {
                // Millón is a masculine noun, whatever the gender of what is counted.
                parts.push(format!("{} {many}", below_million(group, NumberForm::Masculine)));
            }
        }
    }
    parts.join(" ")
}

/// 1..=999_999.
fn below_million(n: u64, form: NumberForm) -> String {
    let thousands = n / 1000;
    let rest = n % 1000;
    let mut parts = Vec::new();
    match thousands {
        0 => {}
        1 => parts.push("mil".to_string()),
        // "Mil" is not a noun, so the form passes through: "doscientas mil libras".
        t => parts.push(format!("{} mil", below_thousand(t, if form == NumberForm::Standalone { NumberForm::Masculine } else { form }))),
    }
    if rest > 0 {
        parts.push(below_thousand(rest, form));
    }
    parts.join(" ")
}

/// 1..=999.
fn below_thousand(n: u64, form: NumberForm) -> String {
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds == 1 && rest == 0 {
        return "cien".to_string();
    }
    // "Ciento" never agrees; "doscientos" and the rest do ("doscientas libras").
    let stem = match hundreds {
        0 | 1 => "",
        2 => "doscient",
        3 => "trescient",
        4 => "cuatrocient",
        5 => "quinient",
        6 => "seiscient",
        7 => "setecient",
        8 => "ochocient",
        _ => "novecient",
    };
    let mut out = String::new();
    if hundreds == 1 {
        out.push_str("ciento");
    } else if hundreds > 1 {
        out.push_str(stem);
        out.push_str(if form == NumberForm::Feminine { "as" } else { "os" });
    }
    if rest > 0 {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&below_hundred(rest, form));
    }
    out
}

/// 1..=99.
fn below_hundred(n: u64, form: NumberForm) -> String {
    const UNITS: [&str; 30] = [
        "",
        "uno",
        "dos",
        "tres",
        "cuatro",
        "cinco",
        "seis",
        "siete",
        "ocho",
        "nueve",
        "diez",
        "once",
        "doce",
        "trece",
        "catorce",
        "quince",
        "dieciséis",
        "diecisiete",
        "dieciocho",
        "diecinueve",
        "veinte",
        "veintiuno",
        "veintidós",
        "veintitrés",
        "veinticuatro",
        "veinticinco",
        "veintiséis",
        "veintisiete",
        "veintiocho",
        "veintinueve",
    ];
    const TENS: [&str; 10] = ["", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"];
    let one = |standalone: &'static str, masculine: &'static str, feminine: &'static str| match form {
        NumberForm::Standalone => standalone,
        NumberForm::Masculine => masculine,
        NumberForm::Feminine => feminine,
    };
    match n {
        1 => one("uno", "un", "una").to_string(),
        21 => one("veintiuno", "veintiún", "veintiuna").to_string(),
        0..30 => UNITS[n as usize].to_string(),
        _ => {
            let tens = TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_string(),
                1 => format!("{tens} y {}", one("uno", "un", "una")),
                u => format!("{tens} y {}", UNITS[u as usize]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pesos(whole: i64) -> String {
        amount_in_words_es(whole * 100, 2, "pesos")
    }

    /// The words alone, for a whole number of pesos.
    fn words(whole: i64) -> String {
        let s = pesos(whole);
        s.strip_prefix("son pesos ").and_then(|s| s.strip_suffix(" con 00/100")).unwrap_or(&s).to_string()
    }

    #[test]
    fn the_example_from_the_invoice() {
        assert_eq!(amount_in_words_es(123450, 2, "pesos"), "son pesos mil doscientos treinta y cuatro con 50/100");
    }

    #[test]
    fn zero() {
        assert_eq!(amount_in_words_es(0, 2, "pesos"), "son pesos cero con 00/100");
        assert_eq!(amount_in_words_es(5, 2, "pesos"), "son pesos cero con 05/100");
        assert_eq!(amount_in_words_es(0, 0, "guaraníes"), "son guaraníes cero");
    }

    #[test]
    fn units_and_teens() {
        let cases = [
            (1, "uno"),
            (2, "dos"),
            (9, "nueve"),
            (10, "diez"),
            (11, "once"),
            (15, "quince"),
            (16, "dieciséis"),
            (17, "diecisiete"),
            (19, "diecinueve"),
            (20, "veinte"),
            (21, "veintiuno"),
            (22, "veintidós"),
            (23, "veintitrés"),
            (26, "veintiséis"),
            (29, "veintinueve"),
        ];
        for (n, expected) in cases {
            assert_eq!(words(n), expected, "{n}");
        }
    }

    #[test]
    fn tens() {
        let cases = [(30, "treinta"), (31, "treinta y uno"), (44, "cuarenta y cuatro"), (58, "cincuenta y ocho"), (99, "noventa y nueve")];
        for (n, expected) in cases {
            assert_eq!(words(n), expected, "{n}");
        }
    }

    #[test]
    fn hundreds() {
        let cases = [
            (100, "cien"),
            (101, "ciento uno"),
            (115, "ciento quince"),
            (121, "ciento veintiuno"),
            (200, "doscientos"),
            (300, "trescientos"),
            (416, "cuatrocientos dieciséis"),
            (500, "quinientos"),
            (555, "quinientos cincuenta y cinco"),
            (600, "seiscientos"),
            (700, "setecientos"),
            (800, "ochocientos"),
            (900, "novecientos"),
            (999, "novecientos noventa y nueve"),
        ];
        for (n, expected) in cases {
            assert_eq!(words(n), expected, "{n}");
        }
    }

    #[test]
    fn thousands() {
        let cases = [
            (1_000, "mil"),
            (1_001, "mil uno"),
            (1_100, "mil cien"),
            (2_000, "dos mil"),
            (2_022, "dos mil veintidós"),
            (21_000, "veintiún mil"),
            (21_021, "veintiún mil veintiuno"),
            (31_000, "treinta y un mil"),
            (100_000, "cien mil"),
            (101_000, "ciento un mil"),
            (116_000, "ciento dieciséis mil"),
            (500_500, "quinientos mil quinientos"),
            (999_999, "novecientos noventa y nueve mil novecientos noventa y nueve"),
        ];
        for (n, expected) in cases {
            assert_eq!(words(n), expected, "{n}");
        }
    }

    #[test]
    fn millions_and_beyond() {
        let cases = [
            (1_000_000, "un millón"),
            (1_000_001, "un millón uno"),
            (1_200_000, "un millón doscientos mil"),
            (2_000_000, "dos millones"),
            (21_000_000, "veintiún millones"),
            (31_000_000, "treinta y un millones"),
            (100_000_000, "cien millones"),
            (101_000_000, "ciento un millones"),
            (1_000_000_000, "mil millones"),
            (1_001_000_000, "mil un millones"),
            (2_500_000_000, "dos mil quinientos millones"),
            (21_000_000_000, "veintiún mil millones"),
            (1_000_000_000_000, "un billón"),
            (2_000_000_000_001, "dos billones uno"),
            (
                999_999_999_999,
                "novecientos noventa y nueve mil novecientos noventa y nueve millones \
                 novecientos noventa y nueve mil novecientos noventa y nueve",
            ),
            (
                123_456_789_012,
                "ciento veintitrés mil cuatrocientos cincuenta y seis millones \
                 setecientos ochenta y nueve mil doce",
            ),
        ];
        for (n, expected) in cases {
            assert_eq!(words(n), expected, "{n}");
        }
    }

    #[test]
    fn fractions_and_scales() {
        assert_eq!(amount_in_words_es(2_105, 2, "pesos"), "son pesos veintiuno con 05/100");
        assert_eq!(amount_in_words_es(100_099, 2, "soles"), "son soles mil con 99/100");
        assert_eq!(amount_in_words_es(1_500, 0, "guaraníes"), "son guaraníes mil quinientos");
        assert_eq!(amount_in_words_es(1_250, 3, "dinares"), "son dinares uno con 250/1000");
        assert_eq!(amount_in_words_es(1_007, 3, "dinares"), "son dinares uno con 007/1000");
        assert_eq!(amount_in_words_es(15, 1, "pesos"), "son pesos uno con 5/10");
        assert_eq!(amount_in_words_es(99_999_999_999_999, 2, "pesos"), format!("son pesos {} con 99/100", words(999_999_999_999)));
    }

    #[test]
    fn negative_amounts() {
        assert_eq!(amount_in_words_es(-11_550, 2, "pesos"), "son pesos menos ciento quince con 50/100");
        assert_eq!(amount_in_words_es(-1, 2, "pesos"), "son pesos menos cero con 01/100");
    }

    #[test]
    fn extremes_do_not_panic() {
        let max = amount_in_words_es(i64::MAX, 2, "pesos");
        assert!(max.starts_with("son pesos noventa y dos mil doscientos treinta y tres billones"), "{max}");
        assert!(max.ends_with("con 07/100"), "{max}");
        let min = amount_in_words_es(i64::MIN, 0, "pesos");
        assert!(min.starts_with("son pesos menos nueve trillones"), "{min}");
        assert!(min.ends_with("ocho"), "{min}");
        assert_eq!(amount_in_words_es(7, 40, "pesos"), format!("son pesos cero con {:040}/1{}", 7, "0".repeat(40)));
    }

    #[test]
    fn empty_currency_is_left_out() {
        assert_eq!(amount_in_words_es(100, 2, " "), "son uno con 00/100");
    }

    #[test]
    fn agreement_with_the_noun() {
        assert_eq!(number_in_words_es(1, NumberForm::Masculine), "un");
        assert_eq!(number_in_words_es(1, NumberForm::Feminine), "una");
        assert_eq!(number_in_words_es(21, NumberForm::Masculine), "veintiún");
        assert_eq!(number_in_words_es(41, NumberForm::Feminine), "cuarenta y una");
        assert_eq!(number_in_words_es(200_000, NumberForm::Feminine), "doscientas mil");
        assert_eq!(number_in_words_es(200_000, NumberForm::Standalone), "doscientos mil");
        assert_eq!(number_in_words_es(221_301, NumberForm::Feminine), "doscientas veintiuna mil trescientas una");
        // Millón is masculine: the count before it stays masculine.
        assert_eq!(number_in_words_es(200_000_000, NumberForm::Feminine), "doscientos millones");
        assert_eq!(number_in_words_es(0, NumberForm::Feminine), "cero");
    }
}
