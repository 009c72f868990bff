//! Errors of the domain rules, each with a stable machine code.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the incident cannot move from {from} to {to}")]
    IllegalTransition { from: &'static str, to: &'static str },
    /// A register record (asset, credential) cannot make this move.
    #[error("the {what} cannot move from {from} to {to}")]
    IllegalMove {
        what: &'static str,
        from: &'static str,
        to: &'static str,
    },
    #[error("invalid playbook: {0}")]
    Playbook(String),
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
