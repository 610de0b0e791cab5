//! The agenda's rules: kinds of activity, how long one may last and when its reminder is
//! due, and the words of a phone memo (urgency, what was agreed), plus how a caller's
//! phone number is recognised among the contacts'.

use time::{Duration, OffsetDateTime};

/// What an activity is: a call to make, a meeting, a task.
pub const ACTIVITY_KINDS: &[&str] = &["call", "meeting", "task"];
/// The longest an activity lasts: a day, in minutes.
pub const MAX_DURATION_MINUTES: i64 = 24 * 60;
/// The earliest a reminder may come: a week before, in minutes.
pub const MAX_REMINDER_MINUTES: i64 = 7 * 24 * 60;
/// How urgent a phone memo is.
pub const URGENCIES: &[&str] = &["low", "normal", "high"];
/// What was agreed with the caller.
pub const AGREED: &[&str] = &["call_back", "will_call_again", "returned_your_call"];

/// Why an activity's times are refused; each names the field at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// The duration is negative or longer than a day.
    Duration,
    /// It ends before it starts.
    EndsBeforeStart,
    /// Calls and meetings take some time; only a task may have none.
    DurationRequired,
    /// The reminder is negative or more than a week before.
    Reminder,
}

impl TimeError {
    pub fn field(self) -> &'static str {
        match self {
            TimeError::Duration | TimeError::DurationRequired => "duration_minutes",
            TimeError::EndsBeforeStart => "ends_at",
            TimeError::Reminder => "reminder_minutes_before",
        }
    }

    /// The translation key of the message.
    pub fn key(self) -> &'static str {
        match self {
            TimeError::Duration => "duration-invalid",
            TimeError::EndsBeforeStart => "activity-ends-before-start",
            TimeError::DurationRequired => "field-required",
            TimeError::Reminder => "reminder-invalid",
        }
    }
}

/// An activity's time: when it starts and ends, and when its reminder is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub starts_at: OffsetDateTime,
    pub duration_minutes: Option<i64>,
    pub ends_at: OffsetDateTime,
    pub remind_at: Option<OffsetDateTime>,
}

/// Works out an activity's span from its start and either a duration or an end; a task
/// may have neither (it is due at `starts_at`).
pub fn span(
    kind: &str,
    starts_at: OffsetDateTime,
    duration_minutes: Option<i64>,
    ends_at: Option<OffsetDateTime>,
    reminder_minutes_before: Option<i64>,
) -> Result<Span, TimeError> {
    let duration = match (duration_minutes, ends_at) {
        (Some(d), _) if !(0..=MAX_DURATION_MINUTES).contains(&d) => return Err(TimeError::Duration),
        (Some(d), Some(end)) if starts_at + Duration::minutes(d) != end => return Err(TimeError::EndsBeforeStart),
        (Some(d), _) => Some(d),
        (None, Some(end)) if end < starts_at => return Err(TimeError::EndsBeforeStart),
        (None, Some(end)) => {
            let d = (end - starts_at).whole_minutes();
            if d > MAX_DURATION_MINUTES {
                return Err(TimeError::Duration);
            }
            Some(d)
        }
        (None, None) if kind == "task" => None,
        (None, None) => return Err(TimeError::DurationRequired),
    };
    let remind_at = match reminder_minutes_before {
        Some(r) if !(0..=MAX_REMINDER_MINUTES).contains(&r) => return Err(TimeError::Reminder),
        Some(r) => Some(starts_at - Duration::minutes(r)),
        None => None,
    };
    Ok(Span { starts_at, duration_minutes: duration, ends_at: starts_at + Duration::minutes(duration.unwrap_or(0)), remind_at })
}

/// The digits of a phone number as people write it.
pub fn phone_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The fewest digits a caller's number must have to be looked up among the contacts.
pub const MIN_PHONE_DIGITS: usize = 7;

/// Whether a number on file is the caller's: the same digits, or the number on file with
/// a country or area prefix the caller left out (at least eight digits given).
pub fn same_phone(on_file: &str, given_digits: &str) -> bool {
    let file = phone_digits(on_file);
    if given_digits.len() < MIN_PHONE_DIGITS || file.is_empty() {
        return false;
    }
    file == given_digits || (given_digits.len() >= 8 && file.ends_with(given_digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn spans_from_a_duration_or_an_end() {
        let at = datetime!(2026-03-10 14:00 UTC);
        let s = span("call", at, Some(30), None, Some(15)).expect("span");
        assert_eq!(s.ends_at, datetime!(2026-03-10 14:30 UTC));
        assert_eq!(s.remind_at, Some(datetime!(2026-03-10 13:45 UTC)));
        let s = span("meeting", at, None, Some(datetime!(2026-03-10 15:30 UTC)), None).expect("span");
        assert_eq!(s.duration_minutes, Some(90));
        let task = span("task", at, None, None, None).expect("task");
        assert_eq!((task.duration_minutes, task.ends_at), (None, at));
    }

    #[test]
    fn bad_times_name_their_field() {
        let at = datetime!(2026-03-10 14:00 UTC);
        assert_eq!(span("call", at, Some(-5), None, None), Err(TimeError::Duration));
        assert_eq!(span("call", at, Some(1441), None, None), Err(TimeError::Duration));
        assert_eq!(span("call", at, None, Some(datetime!(2026-03-10 13:00 UTC)), None), Err(TimeError::EndsBeforeStart));
        assert_eq!(span("call", at, None, Some(datetime!(2026-03-12 13:00 UTC)), None), Err(TimeError::Duration));
        assert_eq!(span("call", at, None, None, None), Err(TimeError::DurationRequired));
        assert_eq!(span("task", at, None, None, Some(-1)), Err(TimeError::Reminder));
        assert_eq!(TimeError::EndsBeforeStart.field(), "ends_at");
    }

    #[test]
    fn callers_are_recognised_by_their_digits() {
        assert!(same_phone("+54 11 4555-1234", "541145551234"));
        assert!(same_phone("+54 11 4555-1234", "1145551234"), "without the country code");
        assert!(!same_phone("+54 11 4555-1234", "1234"), "too few digits");
        assert!(!same_phone("+54 11 4555-1234", "1145559999"));
        assert!(!same_phone("", "1145551234"));
    }
}
