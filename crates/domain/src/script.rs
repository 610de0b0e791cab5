//! Call scripts: a sequence of questions whose answers choose the next question. A script
//! is checked whole when saved (every branch leads somewhere, no question can come back,
//! every question can be reached), and a run is checked against it: the answers must
//! follow one path from the first question to the end.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The word a branch uses to finish the script.
pub const END: &str = "end";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub question: String,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub label: String,
    /// The next step's id, or `end`.
    pub next: String,
}

/// What is wrong with a script; the value is a translation key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("script-empty")]
    Empty,
    #[error("script-step-invalid")]
    Step,
    #[error("script-next-unknown")]
    NextUnknown,
    #[error("script-cycle")]
    Cycle,
    #[error("script-unreachable")]
    Unreachable,
}

/// Checks a script: steps with a unique id and a question, answers with a label leading
/// to a known step or the end, no way back to an earlier question, nothing unreachable.
pub fn check(steps: &[Step]) -> Result<(), ScriptError> {
    if steps.is_empty() || steps.len() > 200 {
        return Err(ScriptError::Empty);
    }
    let mut ids = HashSet::new();
    for s in steps {
        let blank = s.id.trim().is_empty() || s.id == END || s.question.trim().is_empty() || s.answers.is_empty();
        if blank || s.answers.iter().any(|a| a.label.trim().is_empty()) || !ids.insert(s.id.as_str()) {
            return Err(ScriptError::Step);
        }
    }
    let by_id: HashMap<&str, &Step> = steps.iter().map(|s| (s.id.as_str(), s)).collect();
    if steps.iter().flat_map(|s| &s.answers).any(|a| a.next != END && !by_id.contains_key(a.next.as_str())) {
        return Err(ScriptError::NextUnknown);
    }
    // Depth-first from the first step: a step met again on the current path is a cycle.
    fn visit<'a>(
        id: &'a str,
        by_id: &HashMap<&'a str, &'a Step>,
        path: &mut Vec<&'a str>,
        seen: &mut HashSet<&'a str>,
    ) -> Result<(), ScriptError> {
        if path.contains(&id) {
            return Err(ScriptError::Cycle);
        }
        if !seen.insert(id) {
            return Ok(());
        }
        path.push(id);
        if let Some(step) = by_id.get(id) {
            for a in &step.answers {
                if a.next != END {
                    visit(&a.next, by_id, path, seen)?;
                }
            }
        }
        path.pop();
        Ok(())
    }
    let mut seen = HashSet::new();
    visit(&steps[0].id, &by_id, &mut Vec::new(), &mut seen)?;
    if seen.len() != steps.len() {
        return Err(ScriptError::Unreachable);
    }
    Ok(())
}

/// One question asked and the answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    pub step: String,
    pub answer: String,
}

/// Whether the answers follow the script from its first question, each answer one the
/// question offers and each next question the one that answer leads to. A run may stop
/// before the end (the caller hung up); it may not go past it.
pub fn follows(steps: &[Step], given: &[Given]) -> bool {
    let mut expected = steps.first().map(|s| s.id.as_str());
    for g in given {
        let Some(step) = expected.and_then(|id| steps.iter().find(|s| s.id == id)) else { return false };
        if step.id != g.step {
            return false;
        }
        let Some(a) = step.answers.iter().find(|a| a.label == g.answer) else { return false };
        expected = (a.next != END).then_some(a.next.as_str());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, answers: &[(&str, &str)]) -> Step {
        Step {
            id: id.into(),
            question: format!("¿{id}?"),
            answers: answers.iter().map(|(l, n)| Answer { label: (*l).into(), next: (*n).into() }).collect(),
        }
    }

    fn sales() -> Vec<Step> {
        vec![
            step("interes", &[("Sí", "presupuesto"), ("No", "motivo")]),
            step("presupuesto", &[("Enviar", END)]),
            step("motivo", &[("Precio", END), ("Ya tiene proveedor", END)]),
        ]
    }

    #[test]
    fn a_branching_script_is_good_and_runs_follow_it() {
        let s = sales();
        assert_eq!(check(&s), Ok(()));
        let g = |step: &str, answer: &str| Given { step: step.into(), answer: answer.into() };
        assert!(follows(&s, &[g("interes", "No"), g("motivo", "Precio")]));
        assert!(follows(&s, &[g("interes", "Sí")]), "a call may end early");
        assert!(!follows(&s, &[g("interes", "No"), g("presupuesto", "Enviar")]), "the answer chose another question");
        assert!(!follows(&s, &[g("interes", "Quizás")]), "not an answer offered");
        assert!(!follows(&s, &[g("motivo", "Precio")]), "runs start at the first question");
        assert!(!follows(&s, &[g("interes", "Sí"), g("presupuesto", "Enviar"), g("interes", "Sí")]), "nothing after the end");
    }

    #[test]
    fn bad_scripts_are_refused_with_the_reason() {
        assert_eq!(check(&[]), Err(ScriptError::Empty));
        assert_eq!(check(&[step("a", &[("x", "b")])]), Err(ScriptError::NextUnknown));
        assert_eq!(check(&[step("a", &[("x", "b")]), step("b", &[("y", "a")])]), Err(ScriptError::Cycle));
        assert_eq!(check(&[step("a", &[("x", END)]), step("b", &[("y", END)])]), Err(ScriptError::Unreachable));
        assert_eq!(check(&[step("a", &[("x", END)]), step("a", &[("y", END)])]), Err(ScriptError::Step));
        assert_eq!(check(&[step("a", &[])]), Err(ScriptError::Step));
    }
}
