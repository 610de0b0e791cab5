//! iCalendar (RFC 5545) text, written by hand: a feed of a user's agenda needs only a few
//! properties, and the rules for them are short — text values escape `\`, `;`, `,` and
//! line breaks (§3.3.11), content lines end in CRLF and are folded so that none is longer
//! than 75 octets, never inside a UTF-8 character (§3.1), and times in UTC are written
//! `YYYYMMDDTHHMMSSZ` (§3.3.5).

use time::OffsetDateTime;

/// A text value with `\`, `;`, `,` and line breaks escaped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in a text value.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded: at most 75 octets a line, continuation lines starting with a
/// space, each line ending in CRLF.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            // The leading space counts.
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// A time in UTC as iCalendar writes it: `20260314T153000Z`.
pub fn utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// A calendar being written: properties are added in order, each folded and escaped.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A property whose value is written as is (a code, a time, a number).
    pub fn raw(&mut self, name: &str, value: &str) -> &mut Self {
        self.out.push_str(&fold_line(&format!("{name}:{value}")));
        self
    }

    /// A property whose value is text (escaped).
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.raw(name, &escape_text(value))
    }

    pub fn begin(&mut self, component: &str) -> &mut Self {
        self.raw("BEGIN", component)
    }

    pub fn end(&mut self, component: &str) -> &mut Self {
        self.raw("END", component)
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(escape_text("bell\u{7}"), "bell");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let line = format!("DESCRIPTION:{}", "ñ".repeat(100));
        let folded = fold_line(&line);
        assert!(folded.ends_with("\r\n"));
        for (i, part) in folded.trim_end_matches("\r\n").split("\r\n").enumerate() {
            assert!(part.len() <= 75, "{} octets: {part}", part.len());
            if i > 0 {
                assert!(part.starts_with(' '));
            }
        }
        let unfolded: String = folded.trim_end_matches("\r\n").split("\r\n ").collect();
        assert_eq!(unfolded, line);
        assert_eq!(fold_line("SHORT:x"), "SHORT:x\r\n");
    }

    #[test]
    fn times_are_written_in_utc() {
        let t = time::macros::datetime!(2026-03-14 12:30:05 -3);
        assert_eq!(utc(t), "20260314T153005Z");
    }

    #[test]
    fn a_writer_folds_and_escapes() {
        let mut w = Writer::new();
        w.begin("VEVENT").text("SUMMARY", "Llamar, sin falta; hoy").end("VEVENT");
        assert_eq!(w.finish(), "BEGIN:VEVENT\r\nSUMMARY:Llamar\\, sin falta\\; hoy\r\nEND:VEVENT\r\n");
    }
}
