//! The error type of indicator parsing.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IocError {
    /// The value is not a valid indicator of its kind.
    #[error("{0}")]
    Invalid(String),
    /// A CIDR whose host bits are set (`10.0.0.1/8`): ambiguous, so refused.
    #[error("`{given}` has host bits set; the network is `{network}`")]
    HostBitsSet { given: String, network: String },
    /// An unknown kind or export format name.
    #[error("{0}")]
    Unknown(String),
}

impl IocError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_indicator",
            Self::HostBitsSet { .. } => "cidr_host_bits_set",
            Self::Unknown(_) => "unknown_name",
        }
    }
}
