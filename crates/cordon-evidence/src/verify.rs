//! Verification: re-read a stored blob and recompute its SHA-256 and BLAKE3, then compare
//! them with its key and with what the custody record says.

use crate::digest::{Blake3Digest, DigestKind, Sha256Digest};
use crate::error::{EvidenceError, Result};
use crate::key::BlobKey;
use crate::pipeline::{self, PipelineConfig, reader_chunks};
use crate::store::BlobStore;

/// What the caller (normally the custody record) says the blob should be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectedDigests {
    pub size: Option<u64>,
    pub sha256: Option<Sha256Digest>,
    pub blake3: Option<Blake3Digest>,
}

/// One way a stored blob failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mismatch {
    /// The recomputed SHA-256 is not the key: the stored bytes changed.
    Sha256VsKey,
    /// The recomputed SHA-256 differs from the expected one.
    Sha256VsExpected,
    /// The recomputed BLAKE3 differs from the expected one.
    Blake3VsExpected,
    /// The size read differs from the expected one.
    SizeVsExpected,
}

impl Mismatch {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Sha256VsKey => "sha256_vs_key",
            Self::Sha256VsExpected => "sha256_vs_expected",
            Self::Blake3VsExpected => "blake3_vs_expected",
            Self::SizeVsExpected => "size_vs_expected",
        }
    }
}

/// Result of [`verify`]: what was recomputed from the stored bytes, and whether it matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub key: BlobKey,
    /// True when `mismatches` is empty.
    pub ok: bool,
    pub size: u64,
    pub sha256: Sha256Digest,
    pub blake3: Blake3Digest,
    pub mismatches: Vec<Mismatch>,
}

/// Re-reads the blob under `key` from `store`, recomputes SHA-256 and BLAKE3 (in parallel,
/// one pass) and compares them with the key and `expected`.
///
/// A changed blob is an `Ok` report with `ok == false`; `Err` means it could not be read
/// (`not_found`, `io`).
pub async fn verify<B>(store: &B, key: &BlobKey, expected: &ExpectedDigests) -> Result<VerifyReport>
where
    B: BlobStore + ?Sized,
{
    let config = PipelineConfig::default();
    let reader = store.open(key, None).await?;
    let output = pipeline::run(
        reader_chunks(reader, config.chunk_size()),
        None,
        &[DigestKind::Sha256, DigestKind::Blake3],
        &config,
        None,
    )
    .await
    .map_err(|err| match err {
        // The "source" here is the store itself.
        EvidenceError::Interrupted(source) => match source.downcast::<std::io::Error>() {
            Ok(io) => EvidenceError::Io {
                op: "re-reading a stored blob",
                source: *io,
            },
            Err(other) => EvidenceError::Internal(other.to_string()),
        },
        other => other,
    })?;
    let missing = || EvidenceError::Internal("a digest lane produced nothing".into());
    let sha256 = output.digests.sha256.ok_or_else(missing)?;
    let blake3 = output.digests.blake3.ok_or_else(missing)?;

    let mut mismatches = Vec::new();
    if sha256 != key.sha256() {
        mismatches.push(Mismatch::Sha256VsKey);
    }
    if expected.sha256.is_some_and(|want| want != sha256) {
        mismatches.push(Mismatch::Sha256VsExpected);
    }
    if expected.blake3.is_some_and(|want| want != blake3) {
        mismatches.push(Mismatch::Blake3VsExpected);
    }
    if expected.size.is_some_and(|want| want != output.size) {
        mismatches.push(Mismatch::SizeVsExpected);
    }
    let ok = mismatches.is_empty();
    if ok {
        tracing::debug!(%key, size = output.size, "evidence blob verified");
    } else {
        tracing::warn!(%key, ?mismatches, "evidence blob failed verification");
    }
    Ok(VerifyReport {
        key: *key,
        ok,
        size: output.size,
        sha256,
        blake3,
        mismatches,
    })
}
