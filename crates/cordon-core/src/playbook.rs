//! Playbooks as data: the checklist's steps, their owners and delegation, and hard gates.
//!
//! A playbook is parsed from TOML once (`Playbook::parse`) and validated: step numbers are
//! unique, every gate refers to a step or a declared decision, every role exists. Gates are
//! evaluated by [`Playbook::unmet_gates`], a pure function of the tasks' statuses and the
//! decisions recorded so far.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use serde::Deserialize;

use crate::error::DomainError;
use crate::role::Role;
use crate::task::TaskStatus;

/// A review or test date older than this many days draws a warning.
pub const REVIEW_MAX_AGE_DAYS: i32 = 90;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playbook {
    pub name: String,
    pub title: String,
    pub version: u32,
    pub last_reviewed: Option<Date>,
    pub last_tested: Option<Date>,
    /// Groups that are always on the response team (see every incident run by this playbook).
    pub always_involved: Vec<String>,
    pub decisions: Vec<DecisionDef>,
    pub steps: Vec<StepDef>,
}

/// A decision the team records (e.g. "insider threat ruled out") that gates can wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionDef {
    pub name: String,
    pub question: String,
    /// Roles allowed to record it (admins and the security group always may).
    pub decided_by: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDef {
    pub step: u32,
    pub key: String,
    pub title: String,
    pub description: String,
    pub owner_role: Role,
    pub check_items: Vec<String>,
    pub gates: Vec<GateDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateDef {
    pub name: String,
    pub description: String,
    pub requires: Requirement,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Every listed step is done.
    StepsDone(Vec<u32>),
    /// The named decision has been recorded as true.
    Decision(String),
}

// The file format. Kept private: the rest of the code sees only the validated types above.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlaybook {
    name: String,
    title: String,
    version: u32,
    last_reviewed: Option<String>,
    last_tested: Option<String>,
    #[serde(default)]
    always_involved: Vec<String>,
    #[serde(default)]
    decisions: Vec<FileDecision>,
    steps: Vec<FileStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecision {
    name: String,
    question: String,
    #[serde(default)]
    decided_by: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStep {
    step: u32,
    key: String,
    title: String,
    #[serde(default)]
    description: String,
    owner_role: String,
    #[serde(default)]
    check_items: Vec<String>,
    #[serde(default)]
    gates: Vec<FileGate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGate {
    name: String,
    #[serde(default)]
    description: String,
    steps_done: Option<Vec<u32>>,
    decision: Option<String>,
}

fn bad(msg: impl Into<String>) -> DomainError {
    DomainError::Playbook(msg.into())
}

fn parse_date(field: &str, s: Option<String>) -> Result<Option<Date>, DomainError> {
    s.map(|s| {
        s.parse::<Date>()
            .map_err(|e| bad(format!("{field} `{s}` is not a YYYY-MM-DD date: {e}")))
    })
    .transpose()
}

fn parse_role(s: &str) -> Result<Role, DomainError> {
    s.parse::<Role>().map_err(|e| bad(e.to_string()))
}

impl Playbook {
    /// Parses and validates a playbook file.
    pub fn parse(toml_text: &str) -> Result<Self, DomainError> {
        let f: FilePlaybook = toml::from_str(toml_text).map_err(|e| bad(e.to_string()))?;
        let decisions = f
            .decisions
            .into_iter()
            .map(|d| {
                Ok(DecisionDef {
                    name: d.name,
                    question: d.question,
                    decided_by: d.decided_by.iter().map(|r| parse_role(r)).collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let decision_names: HashSet<&str> = decisions.iter().map(|d| d.name.as_str()).collect();
        let step_numbers: HashSet<u32> = f.steps.iter().map(|s| s.step).collect();
        if step_numbers.len() != f.steps.len() {
            return Err(bad("step numbers must be unique"));
        }
        if f.steps.is_empty() {
            return Err(bad("a playbook needs at least one step"));
        }
        let mut keys = HashSet::new();
        let mut steps = Vec::with_capacity(f.steps.len());
        for s in f.steps {
            if !keys.insert(s.key.clone()) {
                return Err(bad(format!("step key `{}` is used twice", s.key)));
            }
            let mut gates = Vec::new();
            for g in s.gates {
                let requires = match (g.steps_done, g.decision) {
                    (Some(done), None) => {
                        if let Some(missing) = done.iter().find(|n| !step_numbers.contains(n)) {
                            return Err(bad(format!("gate `{}` waits for unknown step {missing}", g.name)));
                        }
                        if done.contains(&s.step) {
                            return Err(bad(format!("gate `{}` of step {} waits for itself", g.name, s.step)));
                        }
                        Requirement::StepsDone(done)
                    }
                    (None, Some(decision)) => {
                        if !decision_names.contains(decision.as_str()) {
                            return Err(bad(format!(
                                "gate `{}` waits for undeclared decision `{decision}`",
                                g.name
                            )));
                        }
                        Requirement::Decision(decision)
                    }
                    _ => {
                        return Err(bad(format!(
                            "gate `{}` needs exactly one of steps_done or decision",
                            g.name
                        )));
                    }
                };
                gates.push(GateDef {
                    name: g.name,
                    description: g.description,
                    requires,
                });
            }
            steps.push(StepDef {
                step: s.step,
                key: s.key,
                title: s.title,
                description: s.description,
                owner_role: parse_role(&s.owner_role)?,
                check_items: s.check_items,
                gates,
            });
        }
        steps.sort_by_key(|s| s.step);
        Ok(Self {
            name: f.name,
            title: f.title,
            version: f.version,
            last_reviewed: parse_date("last_reviewed", f.last_reviewed)?,
            last_tested: parse_date("last_tested", f.last_tested)?,
            always_involved: f.always_involved,
            decisions,
            steps,
        })
    }

    pub fn step(&self, step: u32) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.step == step)
    }

    pub fn decision(&self, name: &str) -> Option<&DecisionDef> {
        self.decisions.iter().find(|d| d.name == name)
    }

    /// The gates of `step` that are not met, given each step's status and the decisions
    /// recorded as true.
    pub fn unmet_gates<'a>(
        &'a self,
        step: u32,
        statuses: &HashMap<u32, TaskStatus>,
        decisions: &BTreeSet<String>,
    ) -> Vec<&'a GateDef> {
        let Some(def) = self.step(step) else {
            return Vec::new();
        };
        def.gates
            .iter()
            .filter(|g| match &g.requires {
                Requirement::StepsDone(steps) => !steps.iter().all(|n| statuses.get(n) == Some(&TaskStatus::Done)),
                Requirement::Decision(name) => !decisions.contains(name),
            })
            .collect()
    }

    /// Warnings for `cordon playbook check`: missing or stale review and test dates.
    pub fn review_warnings(&self, today: Date) -> Vec<String> {
        let mut out = Vec::new();
        for (what, date) in [("last_reviewed", self.last_reviewed), ("last_tested", self.last_tested)] {
            match date {
                None => out.push(format!("{}: {what} is missing", self.name)),
                Some(d) if d > today => out.push(format!("{}: {what} {d} is in the future", self.name)),
                Some(d) => {
                    // A span between two dates is counted in days by default.
                    let age = d.until(today).map(|s| s.get_days()).unwrap_or(0);
                    if age > REVIEW_MAX_AGE_DAYS {
                        out.push(format!(
                            "{}: {what} {d} is {age} days old (more than {REVIEW_MAX_AGE_DAYS})",
                            self.name
                        ));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
name = "mini"
title = "Mini"
version = 1
last_reviewed = "2026-01-01"
last_tested = "2026-03-01"

[[decisions]]
name = "insider_ruled_out"
question = "Ruled out?"
decided_by = ["incident_commander"]

[[steps]]
step = 1
key = "one"
title = "One"
owner_role = "incident_commander"

[[steps]]
step = 2
key = "two"
title = "Two"
owner_role = "ic"
[[steps.gates]]
name = "one_done"
steps_done = [1]
[[steps.gates]]
name = "insider"
decision = "insider_ruled_out"
"#;

    #[test]
    fn gates_follow_statuses_and_decisions() {
        let p = Playbook::parse(MINI).unwrap();
        let mut st = HashMap::from([(1, TaskStatus::InProgress), (2, TaskStatus::Todo)]);
        let mut dec = BTreeSet::new();
        let names = |g: Vec<&GateDef>| g.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(p.unmet_gates(2, &st, &dec)), ["one_done", "insider"]);
        st.insert(1, TaskStatus::Skipped);
        assert_eq!(
            names(p.unmet_gates(2, &st, &dec)),
            ["one_done", "insider"],
            "skipped is not done"
        );
        st.insert(1, TaskStatus::Done);
        assert_eq!(names(p.unmet_gates(2, &st, &dec)), ["insider"]);
        dec.insert("insider_ruled_out".into());
        assert!(p.unmet_gates(2, &st, &dec).is_empty());
        assert!(p.unmet_gates(1, &st, &dec).is_empty());
    }

    #[test]
    fn invalid_playbooks_are_refused_with_a_reason() {
        let cases = [
            (MINI.replace("steps_done = [1]", "steps_done = [7]"), "unknown step 7"),
            (
                MINI.replace("decision = \"insider_ruled_out\"", "decision = \"nope\""),
                "undeclared decision",
            ),
            (
                MINI.replace("owner_role = \"ic\"", "owner_role = \"janitor\""),
                "role: \"janitor\" is not one of incident_commander",
            ),
            (MINI.replace("step = 2", "step = 1"), "unique"),
            (MINI.replace("version = 1", "version = 1\ncolour = 3"), "unknown field"),
            (MINI.replace("2026-01-01", "2026-02-30"), "not a YYYY-MM-DD"),
        ];
        for (text, needle) in cases {
            let err = Playbook::parse(&text).unwrap_err().to_string();
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
    }

    #[test]
    fn review_dates_warn_when_missing_or_stale() {
        let p = Playbook::parse(MINI).unwrap();
        let today: Date = "2026-03-15".parse().unwrap();
        assert!(p.review_warnings(today).is_empty(), "{:?}", p.review_warnings(today));
        let later: Date = "2026-05-01".parse().unwrap();
        let w = p.review_warnings(later);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("last_reviewed") && w[0].contains("120 days"), "{w:?}");
        let missing = Playbook::parse(&MINI.replace("last_tested = \"2026-03-01\"\n", "")).unwrap();
        assert!(
            missing
                .review_warnings(today)
                .iter()
                .any(|w| w.contains("last_tested is missing"))
        );
    }
}
