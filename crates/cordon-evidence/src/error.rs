//! The crate's single error type, [`EvidenceError`], with stable machine codes.
//!
//! The HTTP edge maps [`EvidenceError::code`] to a status and a problem body; the `Display`
//! text never contains paths or other internal detail, the cause chain (`source()`) does and
//! belongs in the log.

use std::io;

use crate::digest::Sha256Digest;
use crate::key::BlobKey;

/// Boxed error from an upload source (an HTTP body, a socket, a reader).
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout the crate.
pub type Result<T, E = EvidenceError> = std::result::Result<T, E>;

/// Everything that can go wrong in the evidence locker's storage half.
///
/// Every variant of an ingest error guarantees that nothing was kept: no key was returned
/// and the temporary data was removed (see [`crate::ingest`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The number of bytes received differs from the declared length. When the upload ran
    /// past the declared length it is stopped early, so `received` is then a lower bound.
    #[error("declared length was {declared} bytes but {received} bytes were received")]
    LengthMismatch { declared: u64, received: u64 },

    /// The content's SHA-256 differs from the one the uploader said to expect.
    #[error("content SHA-256 is {actual}, but {expected} was expected")]
    DigestMismatch {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },

    /// The upload source failed (client disconnect, body error, read error on the source)
    /// before the end of the data.
    #[error("the upload stream failed before its end")]
    Interrupted(#[source] SourceError),

    /// The storage backend failed; `op` says what the locker was doing.
    /// `code()` is `storage_full` for ENOSPC/EDQUOT, `io` otherwise.
    #[error("storage failed while {op}")]
    Io {
        op: &'static str,
        #[source]
        source: io::Error,
    },

    /// No stored blob has this key.
    #[error("no stored blob has key {key}")]
    NotFound { key: BlobKey },

    /// A byte range is reversed, or reaches past the end of the blob (`size`, when known).
    #[error("invalid byte range {start}..{end}")]
    InvalidRange { start: u64, end: u64, size: Option<u64> },

    /// Text that should be a hex digest of the given kind is not one.
    #[error("invalid {kind} digest: expected {expected_hex_len} hexadecimal characters")]
    InvalidDigest {
        kind: &'static str,
        expected_hex_len: usize,
    },

    /// Text that should be a blob key (64 lowercase hex characters of a SHA-256) is not one.
    #[error("invalid blob key: expected 64 lowercase hexadecimal characters")]
    InvalidKey,

    /// A blob is already stored under this key but its size differs from the new upload's:
    /// the stored copy has been damaged or tampered with. Nothing was overwritten.
    #[error("a different copy is already stored under key {key}")]
    StoredCopyDiffers {
        key: BlobKey,
        stored_size: u64,
        new_size: u64,
    },

    /// A bug or a crashed worker thread inside the locker.
    #[error("internal evidence locker error: {0}")]
    Internal(String),
}

impl EvidenceError {
    /// A stable, machine-readable code; never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LengthMismatch { .. } => "length_mismatch",
            Self::DigestMismatch { .. } => "digest_mismatch",
            Self::Interrupted(_) => "interrupted",
            Self::Io { source, .. } => match source.kind() {
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "storage_full",
                _ => "io",
            },
            Self::NotFound { .. } => "not_found",
            Self::InvalidRange { .. } => "invalid_range",
            Self::InvalidDigest { .. } => "invalid_digest",
            Self::InvalidKey => "invalid_key",
            Self::StoredCopyDiffers { .. } => "stored_copy_differs",
            Self::Internal(_) => "internal",
        }
    }

    /// An [`EvidenceError::Io`] builder for `map_err`: `.map_err(EvidenceError::io("syncing"))`.
    pub fn io(op: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { op, source }
    }

    pub(crate) fn worker_failed(err: tokio::task::JoinError) -> Self {
        Self::Internal(format!("a blocking worker failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_full_has_its_own_code() {
        let full = EvidenceError::Io {
            op: "writing",
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        assert_eq!(full.code(), "storage_full");
        let other = EvidenceError::Io {
            op: "writing",
            source: io::Error::other("boom"),
        };
        assert_eq!(other.code(), "io");
    }

    #[test]
    fn display_reveals_no_cause_detail() {
        let err = EvidenceError::Io {
            op: "renaming into place",
            source: io::Error::other("/secret/path/xyz"),
        };
        assert!(!err.to_string().contains("/secret"));
    }
}
