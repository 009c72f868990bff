//! How people spell the domain's closed lists (incident kinds and statuses, severities, task
//! statuses, roles, register kinds and states, audiences, regimes, …), decided in one place for
//! the API, the CLI and chat alike.
//!
//! A value is matched by its [`key`]: ASCII case folded, `-` and spaces read as `_`, so
//! `in-progress`, `IN_PROGRESS` and `in progress` all name `in_progress`, and `SEC_8K` names
//! `sec-8k`. Folding case is harmless for every list here: no two values differ only in case
//! or separator. A value that names nothing is refused by [`not_one_of`], which names the field,
//! quotes what was given and lists what is allowed, in the canonical spelling.

use crate::error::DomainError;

/// A closed list of named values with one canonical spelling each.
pub trait Named: Copy + Sized + 'static {
    /// The field such a value is usually given in, for errors (`status`, `severity`, …).
    const FIELD: &'static str;

    /// Every value, in the order they are listed to people.
    fn all() -> &'static [Self];

    /// The canonical spelling: what the API answers and the CLI lists.
    fn name(self) -> &'static str;

    /// Other spellings people use for a value (`ic` for `incident_commander`), as keys.
    fn alias(_key: &str) -> Option<Self> {
        None
    }

    /// Reads a value in any spelling [`key`] folds together, or one of its aliases.
    fn parse_name(raw: &str) -> Result<Self, DomainError> {
        lookup(raw).ok_or_else(|| not_one_of(Self::FIELD, raw, Self::names()))
    }

    /// The canonical spellings of every value.
    fn names() -> Vec<&'static str> {
        Self::all().iter().map(|v| v.name()).collect()
    }
}

/// The value `raw` names, in any spelling, if any.
pub fn lookup<T: Named>(raw: &str) -> Option<T> {
    let k = key(raw);
    T::all()
        .iter()
        .copied()
        .find(|v| key(v.name()) == k)
        .or_else(|| T::alias(&k))
}

/// The spelling-free key of a name: trimmed, ASCII lower case, `-` and spaces as `_`.
pub fn key(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The refusal of a value that is none of `allowed`: `"SEV-9" is not one of SEV-1, …`, for
/// `field`.
pub fn not_one_of<'a>(field: &'static str, raw: &str, allowed: impl IntoIterator<Item = &'a str>) -> DomainError {
    let allowed: Vec<&str> = allowed.into_iter().collect();
    DomainError::invalid(field, format!("{} is not one of {}", quoted(raw), allowed.join(", ")))
}

/// `raw` in double quotes for a message: escaped, and cut after 60 characters.
pub fn quoted(raw: &str) -> String {
    const MAX: usize = 60;
    let mut shown: String = raw.chars().take(MAX).collect::<String>().escape_debug().collect();
    if raw.chars().count() > MAX {
        shown.push('…');
    }
    format!("\"{shown}\"")
}

/// Implements [`Named`] for an enum with an `ALL` list and an `as_str` spelling.
#[macro_export]
macro_rules! named {
    ($ty:ty, $field:literal) => {
        impl $crate::names::Named for $ty {
            const FIELD: &'static str = $field;
            fn all() -> &'static [Self] {
                &Self::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{IncidentKind, Severity, Status};
    use crate::role::Role;
    use crate::task::TaskStatus;

    #[test]
    fn dashes_underscores_spaces_and_case_name_the_same_value() {
        for raw in [
            "in_progress",
            "in-progress",
            "IN_PROGRESS",
            "In-Progress",
            " in progress ",
        ] {
            assert_eq!(raw.parse::<TaskStatus>().unwrap(), TaskStatus::InProgress, "{raw}");
        }
        assert_eq!("not-an-incident".parse::<Status>().unwrap(), Status::NotAnIncident);
        assert_eq!("Security".parse::<IncidentKind>().unwrap(), IncidentKind::Security);
        assert_eq!("incident-commander".parse::<Role>().unwrap(), Role::IncidentCommander);
        assert_eq!("IC".parse::<Role>().unwrap(), Role::IncidentCommander);
        for raw in ["SEV-2", "sev-2", "sev_2", "Sev2", "2"] {
            assert_eq!(raw.parse::<Severity>().unwrap(), Severity::new(2).unwrap(), "{raw}");
        }
    }

    #[test]
    fn a_value_that_names_nothing_is_refused_with_the_field_and_the_allowed_values() {
        let e = "SEV-9".parse::<Severity>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "severity: \"SEV-9\" is not one of SEV-1, SEV-2, SEV-3, SEV-4, SEV-5"
        );
        let e = "in.progress".parse::<TaskStatus>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "status: \"in.progress\" is not one of todo, in_progress, done, skipped"
        );
        let long = "x".repeat(100);
        let e = long.parse::<Status>().unwrap_err().to_string();
        assert!(e.contains('…') && e.len() < 200, "{e}");
        let e = "a\u{202e}b".parse::<Status>().unwrap_err().to_string();
        assert!(e.contains("\\u{202e}"), "{e}");
    }

    #[test]
    fn every_canonical_name_reads_back_as_itself() {
        fn check<T: Named + PartialEq + std::fmt::Debug>() {
            for v in T::all() {
                assert_eq!(T::parse_name(v.name()).unwrap(), *v);
                assert_eq!(T::parse_name(&v.name().to_uppercase().replace('_', "-")).unwrap(), *v);
            }
            let keys: std::collections::HashSet<String> = T::all().iter().map(|v| key(v.name())).collect();
            assert_eq!(keys.len(), T::all().len(), "two values of {} share a key", T::FIELD);
        }
        check::<IncidentKind>();
        check::<Severity>();
        check::<Status>();
        check::<TaskStatus>();
        check::<Role>();
        check::<crate::register::AssetKind>();
        check::<crate::register::AssetState>();
        check::<crate::register::CredentialKind>();
        check::<crate::register::CredentialState>();
        check::<crate::register::Classification>();
        check::<crate::comms::Audience>();
        check::<crate::comms::DraftStatus>();
        check::<crate::comms::Party>();
        check::<crate::regulatory::Regime>();
        check::<crate::regulatory::calendar::Jurisdiction>();
        check::<crate::identity::ChatKind>();
    }
}
