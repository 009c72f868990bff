//! The one error type of the paging domain, each variant with a stable machine code.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NotifyError {
    /// A field of a schedule, override or policy failed validation. `field` is a path such as
    /// `layers[1].shift` so the caller can point at the offending input.
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The time zone name is not in the IANA database.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// Two overrides of one schedule cover a common instant.
    #[error(
        "override for {user} ({start} – {end}) overlaps the override for {other_user} \
         ({other_start} – {other_end})"
    )]
    OverlappingOverrides {
        user: String,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
        other_user: String,
        other_start: jiff::Timestamp,
        other_end: jiff::Timestamp,
    },
    /// A listing window is empty, reversed or too long.
    #[error("invalid window: {0}")]
    InvalidWindow(String),
    /// The page is resolved; it can no longer be acknowledged or resolved.
    #[error("the page is already resolved")]
    PageResolved,
    /// A stored page state does not fit its policy snapshot (e.g. a level that does not exist).
    #[error("inconsistent page state: {0}")]
    CorruptPage(String),
    /// A computed instant falls outside the representable range.
    #[error("time out of range: {0}")]
    TimeOutOfRange(String),
}

impl NotifyError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The stable machine code clients can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_field",
            Self::UnknownTimeZone(_) => "unknown_time_zone",
            Self::OverlappingOverrides { .. } => "overlapping_overrides",
            Self::InvalidWindow(_) => "invalid_window",
            Self::PageResolved => "page_resolved",
            Self::CorruptPage(_) => "corrupt_page",
            Self::TimeOutOfRange(_) => "time_out_of_range",
        }
    }
}
