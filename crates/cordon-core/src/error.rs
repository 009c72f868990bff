//! Errors of the domain rules, each with a stable machine code.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The incident's status machine refuses `from → to`; `allowed` are the moves from `from`.
    #[error("the incident cannot move from {from} to {to}; {}", moves_from(from, allowed))]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
        allowed: Vec<&'static str>,
    },
    /// A register record (asset, credential) cannot make this move.
    #[error("the {what} cannot move from {from} to {to}; {}", moves_from(from, allowed))]
    IllegalMove {
        what: &'static str,
        from: &'static str,
        to: &'static str,
        allowed: Vec<&'static str>,
    },
    #[error("invalid playbook: {0}")]
    Playbook(String),
}

/// "from triage it can move to active or not_an_incident" (or "… it is final").
pub fn moves_from(from: &str, allowed: &[&str]) -> String {
    match allowed {
        [] => format!("{from} is final"),
        [one] => format!("from {from} it can move to {one}"),
        [init @ .., last] => format!("from {from} it can move to {} or {last}", init.join(", ")),
    }
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::IllegalTransition { .. } | Self::IllegalMove { .. } => "illegal_transition",
            Self::Playbook(_) => "invalid_playbook",
        }
    }
}
