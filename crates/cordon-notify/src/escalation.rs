//! Escalation policies: who is notified at each level of a page, and how long a level waits
//! for an acknowledgement before the next one is notified.
//!
//! A policy has 1–[`MAX_LEVELS`] levels, each with 1–[`MAX_TARGETS`] targets (a schedule,
//! meaning whoever is on call for it when the level fires, or a user) and an `after` delay:
//! the time this level has to acknowledge before the page escalates to the next level (from
//! the last level: back to the first, while `repeat` loops remain). Delays are real elapsed
//! time between [`MIN_DELAY`] and [`MAX_DELAY`].

use jiff::{SignedDuration, SpanRelativeTo};
use serde::{Deserialize, Serialize};

use crate::error::NotifyError;
use crate::parse;

/// Most extra loops through the levels (PagerDuty's maximum).
pub const MAX_REPEAT: u32 = 9;
/// Most levels in a policy.
pub const MAX_LEVELS: usize = 20;
/// Most targets on one level.
pub const MAX_TARGETS: usize = 50;
/// Shortest escalation delay. One second, so tests and drills can escalate quickly.
pub const MIN_DELAY: SignedDuration = SignedDuration::from_secs(1);
/// Longest escalation delay.
pub const MAX_DELAY: SignedDuration = SignedDuration::from_hours(24);

/// A validated escalation policy. Build it with [`EscalationPolicy::parse`].
///
/// Serializes as its [`EscalationPolicySpec`]; deserializing validates again, so a policy
/// snapshot stored with a page comes back only if it is still valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EscalationPolicySpec", into = "EscalationPolicySpec")]
pub struct EscalationPolicy {
    name: String,
    repeat: u32,
    levels: Vec<Level>,
}

/// One level of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    targets: Vec<Target>,
    after: SignedDuration,
}

/// Whom a level notifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Whoever is on call for the named schedule when the level fires.
    Schedule(String),
    /// The named user.
    User(String),
}

/// The unvalidated form of an [`EscalationPolicy`], shaped like the body of
/// `POST /api/v1/oncall/escalation-policies`:
///
/// ```json
/// {"name": "incident-commander", "repeat": 2,
///  "levels": [{"targets": [{"schedule": "ic-primary"}], "after": "PT5M"},
///             {"targets": [{"user": "carol"}], "after": "PT10M"}]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicySpec {
    pub name: String,
    /// Extra loops through the levels, 0–9.
    #[serde(default)]
    pub repeat: i64,
    pub levels: Vec<LevelSpec>,
}

/// The unvalidated form of a [`Level`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    pub targets: Vec<Target>,
    /// ISO 8601 duration: how long this level has to acknowledge, e.g. `PT5M`.
    pub after: String,
}

impl EscalationPolicy {
    /// Validates `spec`. Errors name the offending field (`levels[1].after`).
    pub fn parse(spec: &EscalationPolicySpec) -> Result<Self, NotifyError> {
        let name = parse::name("name", &spec.name)?;
        let repeat = u32::try_from(spec.repeat)
            .ok()
            .filter(|r| *r <= MAX_REPEAT)
            .ok_or_else(|| NotifyError::invalid("repeat", format!("must be between 0 and {MAX_REPEAT}")))?;
        if spec.levels.is_empty() {
            return Err(NotifyError::invalid("levels", "a policy needs at least one level"));
        }
        if spec.levels.len() > MAX_LEVELS {
            return Err(NotifyError::invalid("levels", format!("at most {MAX_LEVELS} levels")));
        }
        let levels = spec
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| Level::parse(&format!("levels[{i}]"), l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { name, repeat, levels })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Extra loops through the levels after the first pass.
    pub fn repeat(&self) -> u32 {
        self.repeat
    }

    /// Never empty.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Level `number`, counted from 1.
    pub fn level(&self, number: u32) -> Option<&Level> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.levels.get(index)
    }

    /// The number of the last level (the count of levels).
    pub fn last_level(&self) -> u32 {
        u32::try_from(self.levels.len()).unwrap_or(u32::MAX)
    }

    /// Every schedule and user the policy names, for the caller to check they exist.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.levels.iter().flat_map(|l| l.targets.iter())
    }

    /// Back to the unvalidated form (round-trips through [`EscalationPolicy::parse`]).
    pub fn to_spec(&self) -> EscalationPolicySpec {
        EscalationPolicySpec {
            name: self.name.clone(),
            repeat: i64::from(self.repeat),
            levels: self
                .levels
                .iter()
                .map(|l| LevelSpec {
                    targets: l.targets.clone(),
                    after: l.after.to_string(),
                })
                .collect(),
        }
    }
}

impl Level {
    fn parse(field: &str, spec: &LevelSpec) -> Result<Self, NotifyError> {
        if spec.targets.is_empty() {
            return Err(NotifyError::invalid(
                format!("{field}.targets"),
                "a level needs at least one target",
            ));
        }
        if spec.targets.len() > MAX_TARGETS {
            return Err(NotifyError::invalid(
                format!("{field}.targets"),
                format!("at most {MAX_TARGETS} targets per level"),
            ));
        }
        let mut targets: Vec<Target> = Vec::with_capacity(spec.targets.len());
        for (i, target) in spec.targets.iter().enumerate() {
            let target_field = format!("{field}.targets[{i}]");
            let target = match target {
                Target::Schedule(name) => Target::Schedule(parse::name(&target_field, name)?),
                Target::User(name) => Target::User(parse::name(&target_field, name)?),
            };
            if targets.contains(&target) {
                return Err(NotifyError::invalid(target_field, "listed twice"));
            }
            targets.push(target);
        }
        let after = delay(&format!("{field}.after"), &spec.after)?;
        Ok(Self { targets, after })
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// How long this level has to acknowledge before the page escalates.
    pub fn after(&self) -> SignedDuration {
        self.after
    }
}

/// An ISO 8601 delay between [`MIN_DELAY`] and [`MAX_DELAY`], as elapsed time.
fn delay(field: &str, raw: &str) -> Result<SignedDuration, NotifyError> {
    let span = parse::span(field, raw)?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(NotifyError::invalid(
            field,
            "years and months are not allowed in a delay",
        ));
    }
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| NotifyError::invalid(field, e.to_string()))?;
    if !(MIN_DELAY..=MAX_DELAY).contains(&duration) {
        return Err(NotifyError::invalid(field, "must be between PT1S and PT24H"));
    }
    Ok(duration)
}

impl TryFrom<EscalationPolicySpec> for EscalationPolicy {
    type Error = NotifyError;

    fn try_from(spec: EscalationPolicySpec) -> Result<Self, Self::Error> {
        Self::parse(&spec)
    }
}

impl From<EscalationPolicy> for EscalationPolicySpec {
    fn from(policy: EscalationPolicy) -> Self {
        policy.to_spec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> EscalationPolicySpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn parses_the_contract_shape() {
        let policy = EscalationPolicy::parse(&spec(
            r#"{"name":"incident-commander","repeat":2,"levels":[
                {"targets":[{"schedule":"ic-primary"},{"user":"dana"}],"after":"PT5M"},
                {"targets":[{"schedule":"ic-backup"}],"after":"PT3S"}]}"#,
        ))
        .unwrap();
        assert_eq!(policy.name(), "incident-commander");
        assert_eq!(policy.repeat(), 2);
        assert_eq!(policy.last_level(), 2);
        let first = policy.level(1).unwrap();
        assert_eq!(
            first.targets(),
            [Target::Schedule("ic-primary".into()), Target::User("dana".into())]
        );
        assert_eq!(first.after(), SignedDuration::from_mins(5));
        assert_eq!(policy.level(2).unwrap().after(), SignedDuration::from_secs(3));
        assert!(policy.level(0).is_none() && policy.level(3).is_none());
        // Round trip through the spec and through serde.
        assert_eq!(EscalationPolicy::parse(&policy.to_spec()).unwrap(), policy);
        let json = serde_json::to_string(&policy).unwrap();
        assert_eq!(serde_json::from_str::<EscalationPolicy>(&json).unwrap(), policy);
    }

    #[test]
    fn bad_policies_name_the_field() {
        let level = r#"{"targets":[{"user":"a"}],"after":"PT5M"}"#;
        let cases = [
            (r#"{"name":" ","levels":[LEVEL]}"#, "name"),
            (r#"{"name":"p","repeat":10,"levels":[LEVEL]}"#, "repeat"),
            (r#"{"name":"p","repeat":-1,"levels":[LEVEL]}"#, "repeat"),
            (r#"{"name":"p","levels":[]}"#, "levels"),
            (
                r#"{"name":"p","levels":[LEVEL,{"targets":[],"after":"PT5M"}]}"#,
                "levels[1].targets",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"user":"a"},{"user":"a"}],"after":"PT5M"}]}"#,
                "levels[0].targets[1]",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"schedule":""}],"after":"PT5M"}]}"#,
                "levels[0].targets[0]",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"user":"a"}],"after":"PT0S"}]}"#,
                "levels[0].after",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"user":"a"}],"after":"PT24H1S"}]}"#,
                "levels[0].after",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"user":"a"}],"after":"P1M"}]}"#,
                "levels[0].after",
            ),
            (
                r#"{"name":"p","levels":[{"targets":[{"user":"a"}],"after":"soon"}]}"#,
                "levels[0].after",
            ),
        ];
        for (json, field) in cases {
            let err = EscalationPolicy::parse(&spec(&json.replace("LEVEL", level))).unwrap_err();
            assert_eq!(err.code(), "invalid_field", "{json}");
            match err {
                NotifyError::Invalid { field: got, .. } => assert_eq!(got, field, "{json}"),
                other => panic!("{other:?}"),
            }
        }
        // The bounds themselves are allowed.
        for after in ["PT1S", "PT24H", "P1D", "PT90M"] {
            let json = format!(r#"{{"name":"p","levels":[{{"targets":[{{"user":"a"}}],"after":"{after}"}}]}}"#);
            assert!(EscalationPolicy::parse(&spec(&json)).is_ok(), "{after}");
        }
    }
}
