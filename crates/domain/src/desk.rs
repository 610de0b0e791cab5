//! The service desk (*PQR*: peticiones, quejas y reclamos): what a ticket is, the life of
//! its status, which service-level policy governs it, and the words of an interaction.
//! The clock of a service level is in [`crate::sla`].

use crate::sla::Clock;

/// The kinds of contact with a customer an interaction records.
pub const INTERACTION_KINDS: &[&str] = &["call", "email", "visit", "chat", "letter", "fax", "note", "meeting", "sms"];
/// The ways a contact arrives or leaves.
pub const CHANNELS: &[&str] = &["phone", "email", "in_person", "web", "chat", "whatsapp", "post", "fax", "other"];
pub const DIRECTIONS: &[&str] = &["in", "out"];
pub const TICKET_TYPES: &[&str] = &["request", "complaint", "claim", "suggestion", "praise"];
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
pub const TEAMS: &[&str] = &["front_office", "back_office"];

/// A ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Open,
    /// Waiting for the customer: the clock pauses.
    Waiting,
    /// Passed to the back office.
    Escalated,
    Solved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::New, Status::Open, Status::Waiting, Status::Escalated, Status::Solved, Status::Closed];
    /// The statuses in which a ticket still needs work.
    pub const OPEN: [Status; 4] = [Status::New, Status::Open, Status::Waiting, Status::Escalated];

    pub fn code(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Waiting => "waiting",
            Status::Escalated => "escalated",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the service-level clock runs in this status.
    pub fn clock(self) -> Clock {
        match self {
            Status::New | Status::Open | Status::Escalated => Clock::Running,
            Status::Waiting => Clock::Paused,
            Status::Solved | Status::Closed => Clock::Stopped,
        }
    }

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

/// What can happen to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// An agent takes it (new → open).
    Take,
    /// Asked the customer something; the clock waits for the answer.
    Wait,
    /// The customer answered (or an agent resumes it).
    Resume,
    /// Passed to the back office under its service level.
    Escalate,
    Solve,
    Close,
    /// Opened again after being solved (the customer was not satisfied).
    Reopen,
}

/// The status a move leads to from `from`, or `None` when the move is not allowed.
/// Written once here; the use cases and pages ask it.
pub fn next(from: Status, m: Move, escalated: bool) -> Option<Status> {
    use Status::*;
    let working = if escalated { Escalated } else { Open };
    match (from, m) {
        (New, Move::Take) => Some(Open),
        (New | Open | Waiting, Move::Wait) if from != Waiting => Some(Waiting),
        (Waiting, Move::Resume) => Some(working),
        (New | Open | Waiting, Move::Escalate) if !escalated => Some(Escalated),
        (New | Open | Waiting | Escalated, Move::Solve) => Some(Solved),
        (Escalated, Move::Wait) => Some(Waiting),
        (Solved, Move::Close) => Some(Closed),
        (Solved, Move::Reopen) => Some(working),
        _ => None,
    }
}

/// What a policy's conditions look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub ticket_type: &'a str,
    pub priority: &'a str,
    pub channel: &'a str,
    pub tier: Option<&'a str>,
}

/// A policy's conditions: lists of codes separated by spaces; an empty list matches
/// anything.
#[derive(Debug, Clone, Copy)]
pub struct Conditions<'a> {
    pub types: &'a str,
    pub priorities: &'a str,
    pub channels: &'a str,
    pub tiers: &'a str,
}

impl Conditions<'_> {
    pub fn matches(&self, f: &Facts) -> bool {
        fn one(list: &str, value: Option<&str>) -> bool {
            let mut codes = list.split_whitespace().peekable();
            codes.peek().is_none() || value.is_some_and(|v| list.split_whitespace().any(|c| c.eq_ignore_ascii_case(v)))
        }
        one(self.types, Some(f.ticket_type))
            && one(self.priorities, Some(f.priority))
            && one(self.channels, Some(f.channel))
            && one(self.tiers, f.tier)
    }
}

/// The index of the first policy (in the order given) whose conditions match.
pub fn choose<'a>(policies: impl IntoIterator<Item = Conditions<'a>>, facts: &Facts) -> Option<usize> {
    policies.into_iter().position(|c| c.matches(facts))
}

/// The reference of a ticket in mail subjects: `T-000123`.
pub fn reference(number: i64) -> String {
    format!("T-{number:06}")
}

/// The ticket number in a mail subject such as `Re: [T-000123] Factura duplicada`.
pub fn reference_in(subject: &str) -> Option<i64> {
    let upper = subject.to_ascii_uppercase();
    let mut rest = upper.as_str();
    while let Some(i) = rest.find("[T-") {
        let after = &rest[i + 3..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_escalated_once_and_resumes_where_it_was() {
        assert_eq!(next(Status::New, Move::Escalate, false), Some(Status::Escalated));
        assert_eq!(next(Status::Escalated, Move::Escalate, true), None);
        assert_eq!(next(Status::Escalated, Move::Wait, true), Some(Status::Waiting));
        assert_eq!(next(Status::Waiting, Move::Resume, true), Some(Status::Escalated));
        assert_eq!(next(Status::Waiting, Move::Resume, false), Some(Status::Open));
        assert_eq!(next(Status::Waiting, Move::Wait, false), None);
        assert_eq!(next(Status::Closed, Move::Reopen, false), None);
        assert_eq!(next(Status::Solved, Move::Reopen, true), Some(Status::Escalated));
        assert_eq!(next(Status::Closed, Move::Solve, false), None);
    }

    #[test]
    fn the_clock_pauses_while_waiting_and_stops_when_solved() {
        assert_eq!(Status::Waiting.clock(), Clock::Paused);
        assert_eq!(Status::Escalated.clock(), Clock::Running);
        assert_eq!(Status::Solved.clock(), Clock::Stopped);
    }

    #[test]
    fn the_first_matching_policy_governs() {
        let immediate = Conditions { types: "", priorities: "", channels: "phone in_person chat", tiers: "" };
        let vip = Conditions { types: "complaint claim", priorities: "", channels: "", tiers: "gold" };
        let deferred = Conditions { types: "", priorities: "", channels: "", tiers: "" };
        let phone = Facts { ticket_type: "complaint", priority: "normal", channel: "phone", tier: None };
        let mail_gold = Facts { channel: "email", tier: Some("gold"), ..phone };
        let mail = Facts { channel: "email", ..phone };
        assert_eq!(choose([immediate, vip, deferred], &phone), Some(0));
        assert_eq!(choose([immediate, vip, deferred], &mail_gold), Some(1));
        assert_eq!(choose([immediate, vip, deferred], &mail), Some(2));
        assert_eq!(choose([immediate, vip], &mail), None);
    }

    #[test]
    fn references_are_found_in_reply_subjects() {
        assert_eq!(reference(123), "T-000123");
        assert_eq!(reference_in("Re: [T-000123] Factura duplicada"), Some(123));
        assert_eq!(reference_in("RE: RE: [t-42] algo"), Some(42));
        assert_eq!(reference_in("[T-] [T-12x] nada"), None);
        assert_eq!(reference_in("Consulta"), None);
    }
}
