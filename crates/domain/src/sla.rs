//! The service-level (SLA) clock of service-desk tickets: business-hours calendars, open
//! time between two instants, the instant a span of open time runs out, and where a
//! ticket's targets (first response, resolution) stand.
//!
//! # The rules
//! - Opening hours and holidays are in the business's local time (a fixed UTC offset).
//!   An opening interval is half-open: `09:00-18:00` is open at 09:00 and closed at 18:00.
//! - A ticket's clock runs only while its status maps to [`Clock::Running`] and only
//!   during open time; a ticket created outside hours starts counting at the next opening.
//! - A target is met when the clock stops with elapsed open time at most the target (a
//!   3-minute target answered at exactly 3:00 is met). It is breached once elapsed exceeds
//!   the target, or when elapsed has reached the target and the clock is still running: the
//!   deadline passed without an answer, which must show even over a closed weekend when
//!   elapsed cannot grow.
//!
//! # Cost
//! [`add_business`] and [`business_between`] walk days, not minutes, and jump whole weeks
//! at once while no holiday is in the way, so a typical target costs a handful of days of
//! work: well within budget for recomputing 100,000 tickets.

use std::collections::BTreeSet;
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use unicode_normalization::UnicodeNormalization;

/// Minutes in a day: the largest opening-interval end (`24:00`).
const DAY_MINUTES: u16 = 1440;
/// How many consecutive closed days [`add_business`] crosses before giving up.
const MAX_CLOSED_DAYS: u32 = 3660;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A business-hours calendar: when the clock of a service level runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The business's local time; opening hours and holidays are local.
    pub offset: UtcOffset,
    /// Opening hours per weekday, Monday first: sorted, non-overlapping
    /// (start_minute, end_minute) from local midnight, 0 <= start < end <= 1440.
    pub week: [Vec<(u16, u16)>; 7],
    /// Local dates on which the business is closed all day.
    pub holidays: BTreeSet<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Unknown day, bad time, reversed or overlapping range.
    #[error("sla-hours-invalid")]
    Hours,
    /// No open time at all in the week.
    #[error("sla-hours-empty")]
    Empty,
}

impl Calendar {
    /// Open all the time, every day, no holidays (used by an "immediate" policy and by tests).
    pub fn always() -> Calendar {
        Calendar { offset: UtcOffset::UTC, week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]), holidays: BTreeSet::new() }
    }

    /// Parses hours written like `mon-fri 09:00-13:00,14:00-18:00; sat 09:00-13:00`.
    ///
    /// Days are `mon`..`sun` or the Spanish `lun mar mie/mié jue vie sab/sáb dom`, alone,
    /// as forward ranges (`mon-fri`) or lists (`mon,wed`); case and spacing do not matter.
    /// `24:00` may end a range. Intervals of a day that touch (`09:00-13:00,13:00-18:00`)
    /// are merged so that equal hours give equal calendars. `always` or `24x7` means open
    /// all the time (the holidays given still close their days).
    pub fn parse(hours: &str, holidays: BTreeSet<Date>, offset: UtcOffset) -> Result<Calendar, CalendarError> {
        let text: String = hours.nfc().flat_map(char::to_lowercase).collect();
        let text = text.trim();
        if text == "always" || text == "24x7" {
            return Ok(Calendar { offset, holidays, ..Calendar::always() });
        }
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for group in text.split(';').map(str::trim).filter(|g| !g.is_empty()) {
            // The days are everything before the first digit, the times the rest.
            let split = group.find(|c: char| c.is_ascii_digit()).ok_or(CalendarError::Hours)?;
            let (days, times) = group.split_at(split);
            let days = parse_days(&without_spaces(days))?;
            let times = without_spaces(times);
            for range in times.split(',') {
                let (start, end) = range.split_once('-').ok_or(CalendarError::Hours)?;
                let (start, end) = (parse_time(start).ok_or(CalendarError::Hours)?, parse_time(end).ok_or(CalendarError::Hours)?);
                if start >= end {
                    return Err(CalendarError::Hours);
                }
                for &day in &days {
                    week[day].push((start, end));
                }
            }
        }
        for day in &mut week {
            day.sort_unstable();
            let mut merged: Vec<(u16, u16)> = Vec::with_capacity(day.len());
            for &(start, end) in day.iter() {
                match merged.last_mut() {
                    Some(last) if start < last.1 => return Err(CalendarError::Hours),
                    Some(last) if start == last.1 => last.1 = end,
                    _ => merged.push((start, end)),
                }
            }
            *day = merged;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::Empty);
        }
        Ok(Calendar { offset, week, holidays })
    }

    /// The hours written back in the canonical form `parse` reads (English day names,
    /// consecutive days with the same hours grouped as ranges, e.g.
    /// "mon-fri 09:00-18:00; sat 09:00-13:00"; an always-open week as "24x7").
    pub fn hours_text(&self) -> String {
        if self.week.iter().all(|d| d.as_slice() == [(0, DAY_MINUTES)]) {
            return "24x7".to_string();
        }
        let mut groups = Vec::new();
        let mut i = 0;
        while i < 7 {
            let mut j = i;
            while j + 1 < 7 && self.week[j + 1] == self.week[i] {
                j += 1;
            }
            if !self.week[i].is_empty() {
                let days = if i == j { DAYS[i].to_string() } else { format!("{}-{}", DAYS[i], DAYS[j]) };
                let times: Vec<String> = self.week[i].iter().map(|&(s, e)| format!("{}-{}", hhmm(s), hhmm(e))).collect();
                groups.push(format!("{days} {}", times.join(",")));
            }
            i = j + 1;
        }
        groups.join("; ")
    }

    /// Whether the calendar is open at instant t.
    pub fn is_open(&self, t: OffsetDateTime) -> bool {
        let local = t.to_offset(self.offset);
        if self.holidays.contains(&local.date()) {
            return false;
        }
        // Intervals are whole minutes, so the minute of the day decides.
        let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
        self.week[weekday(local.date())].iter().any(|&(s, e)| s <= minute && minute < e)
    }

    /// Open minutes in a week without holidays.
    fn week_minutes(&self) -> i64 {
        self.week.iter().flatten().map(|&(s, e)| i64::from(e.saturating_sub(s))).sum()
    }

    /// The open spans of a local date, as instants (none on a holiday).
    fn spans(&self, date: Date) -> impl Iterator<Item = (OffsetDateTime, OffsetDateTime)> + '_ {
        let midnight = date.midnight().assume_offset(self.offset);
        let intervals: &[(u16, u16)] = if self.holidays.contains(&date) { &[] } else { &self.week[weekday(date)] };
        intervals.iter().filter_map(move |&(s, e)| {
            let at = |m: u16| midnight.checked_add(Duration::minutes(i64::from(m.min(DAY_MINUTES))));
            Some((at(s)?, at(e)?))
        })
    }

    /// Days from `date` (included) to the next holiday, or `i64::MAX` when there is none.
    fn days_to_holiday(&self, date: Date) -> i64 {
        self.holidays.range(date..).next().map_or(i64::MAX, |h| (*h - date).whole_days())
    }
}

fn weekday(date: Date) -> usize {
    usize::from(date.weekday().number_days_from_monday())
}

fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn day_index(name: &str) -> Option<usize> {
    Some(match name {
        "mon" | "lun" => 0,
        "tue" | "mar" => 1,
        "wed" | "mie" | "mié" => 2,
        "thu" | "jue" => 3,
        "fri" | "vie" => 4,
        "sat" | "sab" | "sáb" => 5,
        "sun" | "dom" => 6,
        _ => return None,
    })
}

/// `mon-fri`, `mon,wed`, `sat`: the day indexes, Monday 0. Ranges go forward only.
fn parse_days(days: &str) -> Result<Vec<usize>, CalendarError> {
    let mut out = Vec::new();
    for item in days.split(',') {
        let (first, last) = item.split_once('-').unwrap_or((item, item));
        let (first, last) = (day_index(first).ok_or(CalendarError::Hours)?, day_index(last).ok_or(CalendarError::Hours)?);
        if first > last {
            return Err(CalendarError::Hours);
        }
        out.extend(first..=last);
    }
    Ok(out)
}

/// `9:00`, `09:00`, `24:00` → minutes from midnight.
fn parse_time(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (m < 60 && minutes <= DAY_MINUTES).then_some(minutes)
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Whether the clock runs: a ticket maps its status to one of these (new/open/escalated → Running,
/// waiting for the customer → Paused, solved/closed → Stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Running,
    Paused,
    Stopped,
}

/// Open (business) time from `a` to `b` (zero if b <= a).
pub fn business_between(cal: &Calendar, a: OffsetDateTime, b: OffsetDateTime) -> Duration {
    let mut total = Duration::ZERO;
    if b <= a {
        return total;
    }
    let first = a.to_offset(cal.offset).date();
    let last = b.to_offset(cal.offset).date();
    let week = Duration::minutes(cal.week_minutes());
    let mut date = first;
    while date <= last {
        if date > first {
            // Whole weeks strictly inside (a, b) with no holiday add up the same each time.
            let weeks = cal.days_to_holiday(date).min((last - date).whole_days()) / 7;
            if let (Ok(w), Some(next)) = (i32::try_from(weeks), date.checked_add(Duration::weeks(weeks))) {
                if w > 0 {
                    total += week * w;
                    date = next;
                    continue;
                }
            }
        }
        for (start, end) in cal.spans(date) {
            let (start, end) = (start.max(a), end.min(b));
            if start < end {
                total += end - start;
            }
        }
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    total
}

/// The instant at which `d` of open time has passed after `from` (the earliest such
/// instant, so a span ending exactly at closing time falls due at closing, not at the next
/// opening), in `from`'s offset; `from` itself when `d` is zero or negative.
/// Returns None only when the calendar has no open time in 3660 consecutive days (all
/// holidays, or an empty week) or the result is beyond the dates `time` represents.
pub fn add_business(cal: &Calendar, from: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    if d <= Duration::ZERO {
        return Some(from);
    }
    let week_minutes = cal.week_minutes();
    if week_minutes == 0 {
        return None;
    }
    let week = Duration::minutes(week_minutes);
    let mut left = d;
    let mut date = from.to_offset(cal.offset).date();
    let mut closed_days = 0;
    let mut first = true;
    loop {
        if !first {
            // At the start of `date`: jump the whole weeks `left` outlasts while no holiday
            // is in the way, keeping some time left for the day walk to place exactly.
            let needed = (left.whole_nanoseconds() - 1) / week.whole_nanoseconds();
            let weeks = i64::try_from(needed).unwrap_or(i64::MAX).min(cal.days_to_holiday(date) / 7);
            if weeks > 0 {
                left -= week * i32::try_from(weeks).ok()?;
                date = date.checked_add(Duration::weeks(weeks))?;
                closed_days = 0;
            }
        }
        first = false;
        let mut open = false;
        for (start, end) in cal.spans(date) {
            let start = start.max(from);
            if start >= end {
                continue;
            }
            open = true;
            if left <= end - start {
                return Some(start.checked_add(left)?.to_offset(from.offset()));
            }
            left -= end - start;
        }
        closed_days = if open { 0 } else { closed_days + 1 };
        if closed_days > MAX_CLOSED_DAYS {
            return None;
        }
        date = date.next_day()?;
    }
}

/// The running spans of a history, each clamped to `now` (changes after `now` are ignored:
/// the clock cannot have run in the future).
fn running_spans(history: &[(OffsetDateTime, Clock)], now: OffsetDateTime) -> impl Iterator<Item = (OffsetDateTime, OffsetDateTime)> + '_ {
    history.iter().enumerate().filter(|(_, (_, c))| *c == Clock::Running).map(move |(i, &(t, _))| {
        let end = history.get(i + 1).map_or(now, |next| next.0).min(now);
        (t, end)
    })
}

/// Open time during which the clock ran: history is the list of (instant, clock) changes, sorted by instant,
/// the first entry being the ticket's creation; each state lasts until the next change, the last one until `now`.
/// Only Running spans count.
pub fn elapsed(cal: &Calendar, history: &[(OffsetDateTime, Clock)], now: OffsetDateTime) -> Duration {
    running_spans(history, now).map(|(a, b)| business_between(cal, a, b)).sum()
}

/// Where a target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// When the target falls due if the clock keeps running from now: None while Paused or Stopped
    /// (or if add_business returns None). Once breached, the instant elapsed reached the target.
    pub at: Option<OffsetDateTime>,
    /// Target minus elapsed open time; negative once breached.
    pub remaining: Duration,
    /// Elapsed exceeds the target, or reached it with the clock still running (see the
    /// module's rules).
    pub breached: bool,
    pub paused: bool,
}

/// Due time of a target (first response or resolution) of `target` open time for a ticket with this history, at `now`.
///
/// While running with time left, `at` is `add_business` of what is left from `now` (or from
/// the last change if that is later); with none left, `at` is the instant elapsed reached the
/// target, found by walking the history (it may be in the past). An empty history is a
/// ticket whose clock never started: nothing elapsed, nothing due.
pub fn due(cal: &Calendar, history: &[(OffsetDateTime, Clock)], target: Duration, now: OffsetDateTime) -> Due {
    let remaining = target - elapsed(cal, history, now);
    let Some(&(last_at, clock)) = history.last() else {
        return Due { at: None, remaining, breached: false, paused: false };
    };
    let running = clock == Clock::Running;
    let at = match running {
        false => None,
        true if remaining > Duration::ZERO => add_business(cal, now.max(last_at), remaining),
        true => reached_at(cal, history, target, now),
    };
    Due { at, remaining, breached: remaining < Duration::ZERO || (running && remaining == Duration::ZERO), paused: clock == Clock::Paused }
}

/// The instant at which the running time of `history` reached `target`, if it did by `now`.
fn reached_at(cal: &Calendar, history: &[(OffsetDateTime, Clock)], target: Duration, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let mut acc = Duration::ZERO;
    for (a, b) in running_spans(history, now) {
        let span = business_between(cal, a, b);
        if acc + span >= target {
            return add_business(cal, a, target - acc);
        }
        acc += span;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    fn office(holidays: &[Date]) -> Calendar {
        Calendar::parse("mon-fri 09:00-18:00", holidays.iter().copied().collect(), offset!(-3)).expect("valid hours")
    }

    #[test]
    fn parse_reads_ranges_lists_spanish_names_and_writes_them_back() {
        let c = Calendar::parse("Lun-VIE 9:00-13:00, 14:00-18:00; SÁB 09:00-13:00;dom 22:00-24:00", BTreeSet::new(), UtcOffset::UTC)
            .expect("valid hours");
        assert_eq!(c.week[0], vec![(540, 780), (840, 1080)]);
        assert_eq!(c.week[5], vec![(540, 780)]);
        assert_eq!(c.week[6], vec![(1320, 1440)]);
        assert_eq!(c.hours_text(), "mon-fri 09:00-13:00,14:00-18:00; sat 09:00-13:00; sun 22:00-24:00");
        let c = Calendar::parse("mon,wed 08:00-12:00; mié 12:00-13:00", BTreeSet::new(), UtcOffset::UTC).expect("valid hours");
        assert_eq!(c.hours_text(), "mon 08:00-12:00; wed 08:00-13:00");
        assert_eq!(Calendar::parse("24x7", BTreeSet::new(), UtcOffset::UTC), Ok(Calendar::always()));
        assert_eq!(Calendar::parse(" Always ", BTreeSet::new(), UtcOffset::UTC), Ok(Calendar::always()));
        assert_eq!(Calendar::always().hours_text(), "24x7");
        for bad in [
            "mon 09:00-08:00",
            "mon 09:00-12:00,11:00-13:00",
            "fri-mon 09:00-12:00",
            "xyz 09:00-10:00",
            "mon 24:00-24:00",
            "mon 9:60-10:00",
            "mon",
            "09:00-10:00",
            "mon 25:00-26:00",
            "mon,mon 09:00-10:00",
        ] {
            assert_eq!(Calendar::parse(bad, BTreeSet::new(), UtcOffset::UTC), Err(CalendarError::Hours), "{bad}");
        }
        assert_eq!(Calendar::parse(" ; ", BTreeSet::new(), UtcOffset::UTC), Err(CalendarError::Empty));
    }

    #[test]
    fn is_open_uses_local_time_half_open_intervals_and_holidays() {
        let c = office(&[date!(2024 - 03 - 05)]);
        assert!(c.is_open(datetime!(2024-03-04 12:00 UTC))); // Monday 09:00 local
        assert!(!c.is_open(datetime!(2024-03-04 11:59 UTC)));
        assert!(!c.is_open(datetime!(2024-03-04 21:00 UTC))); // 18:00 local: closed
        assert!(!c.is_open(datetime!(2024-03-05 15:00 UTC))); // holiday
        assert!(!c.is_open(datetime!(2024-03-02 15:00 UTC))); // Saturday
    }

    #[test]
    fn friday_evening_ticket_falls_due_on_wednesday() {
        // 2 min on Friday, 9 h Monday, 9 h Tuesday: 18 h 02 min; the 5 h 58 min left of the
        // 24 h run out on Wednesday at 14:58.
        let created = datetime!(2024-03-01 17:58 -3);
        let at = add_business(&office(&[]), created, Duration::hours(24));
        assert_eq!(at, Some(datetime!(2024-03-06 14:58 -3)));
        let d = due(&office(&[]), &[(created, Clock::Running)], Duration::hours(24), created);
        assert_eq!(d.at, Some(datetime!(2024-03-06 14:58 -3)));
        assert!(!d.breached && !d.paused);
    }

    #[test]
    fn a_holiday_in_the_middle_moves_the_due_time_a_day() {
        let created = datetime!(2024-03-01 17:58 -3);
        let at = add_business(&office(&[date!(2024 - 03 - 04)]), created, Duration::hours(24));
        assert_eq!(at, Some(datetime!(2024-03-07 14:58 -3)));
    }

    #[test]
    fn a_ticket_created_outside_hours_starts_at_the_next_opening() {
        let at = add_business(&office(&[]), datetime!(2024-03-02 10:00 -3), Duration::hours(1));
        assert_eq!(at, Some(datetime!(2024-03-04 10:00 -3)));
        // A span ending exactly at closing falls due at closing.
        assert_eq!(add_business(&office(&[]), datetime!(2024-03-04 17:00 -3), Duration::hours(1)), Some(datetime!(2024-03-04 18:00 -3)));
        let holidays: Vec<Date> = (0..4000).map(|i| date!(2024 - 01 - 01) + Duration::days(i)).collect();
        assert_eq!(add_business(&office(&holidays), datetime!(2024-01-01 10:00 -3), Duration::hours(1)), None);
    }

    #[test]
    fn waiting_for_the_customer_pushes_the_due_time_by_the_paused_open_time() {
        let cal = office(&[]);
        let created = datetime!(2024-03-04 09:00 -3);
        let target = Duration::hours(8);
        let plain = due(&cal, &[(created, Clock::Running)], target, created);
        assert_eq!(plain.at, Some(datetime!(2024-03-04 17:00 -3)));
        // Paused from Monday 16:00 (1 h left) to Tuesday 10:00: 2 h + 1 h of open time.
        let history = [(created, Clock::Running), (datetime!(2024-03-04 16:00 -3), Clock::Paused)];
        let paused = due(&cal, &history, target, datetime!(2024-03-05 09:30 -3));
        assert_eq!((paused.at, paused.paused, paused.remaining, paused.breached), (None, true, Duration::hours(1), false));
        let resumed = [history[0], history[1], (datetime!(2024-03-05 10:00 -3), Clock::Running)];
        let d = due(&cal, &resumed, target, datetime!(2024-03-05 10:00 -3));
        assert_eq!(d.at, Some(datetime!(2024-03-05 11:00 -3)));
        let paused_open = business_between(&cal, history[1].0, resumed[2].0);
        assert_eq!(paused_open, Duration::hours(3));
        assert_eq!(d.at, plain.at.and_then(|at| add_business(&cal, at, paused_open)));
        assert!(!d.breached && !d.paused);
    }

    #[test]
    fn a_three_minute_target_on_an_always_open_calendar() {
        let cal = Calendar::always();
        let t0 = datetime!(2024-03-04 09:00 UTC);
        let target = Duration::minutes(3);
        let d = due(&cal, &[(t0, Clock::Running)], target, t0 + Duration::minutes(2));
        assert_eq!((d.at, d.remaining, d.breached), (Some(t0 + target), Duration::minutes(1), false));
        // Answered at exactly 3:00: met.
        let met = [(t0, Clock::Running), (t0 + target, Clock::Stopped)];
        let d = due(&cal, &met, target, t0 + Duration::hours(1));
        assert_eq!((d.at, d.remaining, d.breached, d.paused), (None, Duration::ZERO, false, false));
        // Still running at 3:00: the deadline passed unanswered.
        let d = due(&cal, &[(t0, Clock::Running)], target, t0 + target);
        assert_eq!((d.at, d.breached), (Some(t0 + target), true));
    }

    #[test]
    fn a_breach_reports_the_instant_it_happened() {
        let cal = office(&[]);
        let t0 = datetime!(2024-03-04 17:00 -3);
        // Paused 17:30 Monday to 09:15 Tuesday; 1 h target reached at 09:45 Tuesday.
        let history =
            [(t0, Clock::Running), (datetime!(2024-03-04 17:30 -3), Clock::Paused), (datetime!(2024-03-05 09:15 -3), Clock::Running)];
        let d = due(&cal, &history, Duration::hours(1), datetime!(2024-03-05 12:00 -3));
        assert_eq!((d.at, d.remaining, d.breached), (Some(datetime!(2024-03-05 09:45 -3)), Duration::minutes(-135), true));
        // Reached at closing on Friday: breached all weekend although elapsed cannot grow.
        let d = due(&cal, &[(datetime!(2024-03-01 17:00 -3), Clock::Running)], Duration::hours(1), datetime!(2024-03-02 12:00 -3));
        assert_eq!((d.at, d.remaining, d.breached), (Some(datetime!(2024-03-01 18:00 -3)), Duration::ZERO, true));
    }

    #[test]
    fn stopped_freezes_elapsed() {
        let cal = Calendar::always();
        let t0 = datetime!(2024-03-04 09:00 UTC);
        let history = [(t0, Clock::Running), (t0 + Duration::minutes(1), Clock::Stopped)];
        for later in [Duration::minutes(1), Duration::hours(5), Duration::days(40)] {
            assert_eq!(elapsed(&cal, &history, t0 + later), Duration::minutes(1));
        }
        assert_eq!(elapsed(&cal, &[], t0), Duration::ZERO);
        assert_eq!(due(&cal, &history, Duration::minutes(3), t0 + Duration::days(1)).at, None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const BASE: OffsetDateTime = datetime!(2024-01-01 00:00 UTC);

    /// Valid hours text: each day closed or up to three disjoint, non-touching intervals.
    fn hours() -> impl Strategy<Value = String> {
        let day = proptest::collection::btree_set(0u16..=1440, 0..=6);
        proptest::array::uniform7(day)
            .prop_map(|week| {
                let groups: Vec<String> = week
                    .iter()
                    .enumerate()
                    .filter_map(|(i, bounds)| {
                        let b: Vec<u16> = bounds.iter().copied().collect();
                        let times: Vec<String> = b.chunks_exact(2).map(|p| format!("{}-{}", hhmm(p[0]), hhmm(p[1]))).collect();
                        (!times.is_empty()).then(|| format!("{} {}", DAYS[i], times.join(",")))
                    })
                    .collect();
                groups.join("; ")
            })
            .prop_filter("some open time", |h| !h.is_empty())
    }

    fn calendar() -> impl Strategy<Value = Calendar> {
        (hours(), proptest::collection::btree_set(0i64..90, 0..20), -12i8..=14).prop_map(|(h, hol, off)| {
            let holidays = hol.into_iter().map(|d| BASE.date() + Duration::days(d)).collect();
            Calendar::parse(&h, holidays, UtcOffset::from_hms(off, 0, 0).expect("offset in range")).expect("generated hours are valid")
        })
    }

    /// An instant within 60 days of BASE, to the nanosecond.
    fn instant() -> impl Strategy<Value = OffsetDateTime> {
        (0i64..60 * 86_400_000_000_000).prop_map(|n| BASE + Duration::nanoseconds(n))
    }

    fn clock() -> impl Strategy<Value = Clock> {
        prop_oneof![Just(Clock::Running), Just(Clock::Paused), Just(Clock::Stopped)]
    }

    proptest! {
        #[test]
        fn add_business_then_between_gives_back_the_duration(cal in calendar(), from in instant(), n in 0i64..30 * 86_400_000_000_000) {
            let d = Duration::nanoseconds(n);
            let to = add_business(&cal, from, d).expect("the calendar has open time");
            prop_assert_eq!(business_between(&cal, from, to), d);
        }

        #[test]
        fn between_is_additive(cal in calendar(), mut x in proptest::array::uniform3(instant())) {
            x.sort();
            let [a, b, c] = x;
            prop_assert_eq!(business_between(&cal, a, b) + business_between(&cal, b, c), business_between(&cal, a, c));
        }

        #[test]
        fn always_open_counts_wall_clock_time(a in instant(), b in instant()) {
            let expected = if b > a { b - a } else { Duration::ZERO };
            prop_assert_eq!(business_between(&Calendar::always(), a, b), expected);
        }

        #[test]
        fn elapsed_is_bounded_and_a_pause_never_adds(
            cal in calendar(),
            changes in proptest::collection::vec((0i64..5 * 86_400, clock()), 1..8),
            tail in 0i64..5 * 86_400,
            (p, q) in (0i64..40 * 86_400, 0i64..40 * 86_400),
        ) {
            let mut t = BASE;
            let history: Vec<(OffsetDateTime, Clock)> = changes.iter().map(|&(gap, c)| { t += Duration::seconds(gap); (t, c) }).collect();
            let now = t + Duration::seconds(tail);
            let before = elapsed(&cal, &history, now);
            prop_assert!(before <= now - history[0].0);
            // Paused over [s, e), everything else unchanged.
            let first = history[0].0;
            let (s, e) = ((BASE + Duration::seconds(p.min(q))).max(first), (BASE + Duration::seconds(p.max(q))).max(first));
            let state_at_e = history.iter().rev().find(|h| h.0 <= e).map_or(history[0].1, |h| h.1);
            let mut paused: Vec<_> = history.iter().copied().filter(|h| h.0 < s).collect();
            paused.push((s, Clock::Paused));
            paused.push((e, state_at_e));
            paused.extend(history.iter().copied().filter(|h| h.0 > e));
            prop_assert!(elapsed(&cal, &paused, now) <= before);
        }

        #[test]
        fn hours_text_round_trips(cal in calendar()) {
            prop_assert_eq!(Calendar::parse(&cal.hours_text(), cal.holidays.clone(), cal.offset), Ok(cal));
        }
    }
}
