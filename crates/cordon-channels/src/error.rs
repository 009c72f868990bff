//! The one error type of this crate, with stable machine codes and the transient/permanent
//! split that the paging engine's retry logic reads.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use crate::outbound::Refused;

/// Everything that can go wrong in a channel: verifying an inbound request, parsing its
/// payload, or delivering an outbound message.
///
/// Messages never contain secrets, tokens, target URLs (an incoming-webhook URL is a secret)
/// or anything a peer answered beyond its status and a machine error code (`channel_not_found`,
/// `M_FORBIDDEN`), so they are safe to log and to show to the caller who named the target.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChannelError {
    /// A signature or timestamp header is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// The signature header is not `v0=<64 hex>` / `v1=<64 hex>`, or the timestamp is not
    /// an integer.
    #[error("malformed signature or timestamp header")]
    MalformedSignature,
    /// The request timestamp is outside the replay window (`skew_secs` = now − timestamp).
    #[error("request timestamp is {skew_secs} s away from now, outside the replay window")]
    StaleTimestamp { skew_secs: i64 },
    /// The signature does not match the body.
    #[error("signature does not match")]
    BadSignature,
    /// An inbound payload (Slack event, slash-command form, Matrix response) is not what the
    /// protocol says.
    #[error("malformed payload: {0}")]
    MalformedPayload(String),
    /// A value given to this crate is invalid (a URL, a phone number, a link).
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Delivery failed, but the same request may succeed later: timeout, connection
    /// failure, 5xx, 408, 429.
    #[error("delivery failed (transient): {0}")]
    Transient(DeliveryFailure),
    /// Delivery failed and retrying the same request will not help: 4xx, a redirect, an
    /// API-level refusal such as Slack's `channel_not_found` or Matrix's `M_FORBIDDEN`.
    #[error("delivery failed (permanent): {0}")]
    Permanent(DeliveryFailure),
    /// The outbound policy refused the target's address (loopback, private, metadata, …;
    /// [`crate::outbound`]). Nothing was sent. Permanent.
    #[error("{0}")]
    Refused(Refused),
}

/// What is known about a failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The platform's error code when it sent one (Slack `error`, Matrix `errcode`).
    pub code: Option<String>,
    /// How long the receiver asked us to wait (`Retry-After`, Matrix `retry_after_ms`).
    pub retry_after: Option<Duration>,
    /// A short fixed reason (`timed out`, `could not connect`), never the peer's words.
    pub reason: String,
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "HTTP {status}")?;
            if self.code.is_some() || !self.reason.is_empty() {
                f.write_str(": ")?;
            }
        }
        if let Some(code) = &self.code {
            write!(f, "{code}")?;
            if !self.reason.is_empty() {
                f.write_str(" ")?;
            }
        }
        f.write_str(&self.reason)
    }
}

impl ChannelError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Self::MalformedPayload(message.into())
    }

    /// The stable machine code clients and the audit log can match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "signature_missing",
            Self::MalformedSignature => "signature_malformed",
            Self::StaleTimestamp { .. } => "signature_stale",
            Self::BadSignature => "signature_mismatch",
            Self::MalformedPayload(_) => "malformed_payload",
            Self::Invalid { .. } => "invalid_field",
            Self::Transient(_) => "delivery_transient",
            Self::Permanent(_) => "delivery_permanent",
            Self::Refused(_) => "outbound_refused",
        }
    }

    /// Whether retrying the same delivery later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    /// Whether this is a verification failure of an inbound request (answer 401).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            Self::MissingHeader(_) | Self::MalformedSignature | Self::StaleTimestamp { .. } | Self::BadSignature
        )
    }

    /// The failure details of a delivery error.
    pub fn delivery(&self) -> Option<&DeliveryFailure> {
        match self {
            Self::Transient(d) | Self::Permanent(d) => Some(d),
            _ => None,
        }
    }
}
