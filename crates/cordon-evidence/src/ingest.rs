//! Streaming ingest: bytes in (an HTTP body stream or any `AsyncRead`), a durable,
//! write-protected blob plus its digests out.
//!
//! SHA-256 and BLAKE3 (and MD5/SHA-1 on request) are computed in the same single pass that
//! writes the bytes, each digest on its own thread, overlapping with the store's writes
//! (see [`crate::pipeline`]). [`Ingested`] is returned only after the store has made the
//! bytes durable. On every error (wrong length, wrong digest, source failure, storage
//! failure) the upload is aborted, so nothing is kept and no key is returned; if the future
//! is dropped mid-way the store's upload is dropped too, which discards it.

use std::time::Instant;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncRead;

use crate::digest::{Blake3Digest, DigestKind, Md5Digest, Sha1Digest, Sha256Digest};
use crate::error::{EvidenceError, Result, SourceError};
use crate::key::BlobKey;
use crate::pipeline::{self, PipelineConfig, PipelineOutput, PipelineStats, reader_chunks};
use crate::store::{BlobStore, ContentDigests, UploadHint};

/// What the uploader declared and asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestOptions {
    /// The length the uploader announced (e.g. `Content-Length`); any other length fails
    /// with `length_mismatch`, and an overrun stops the upload as soon as it happens.
    pub declared_len: Option<u64>,
    /// The SHA-256 the uploader announced; a different content digest fails with
    /// `digest_mismatch`.
    pub expected_sha256: Option<Sha256Digest>,
    /// Also compute MD5.
    pub md5: bool,
    /// Also compute SHA-1.
    pub sha1: bool,
    /// Chunk size and queue depth.
    pub pipeline: PipelineConfig,
}

impl IngestOptions {
    fn digest_kinds(&self) -> Vec<DigestKind> {
        let mut kinds = vec![DigestKind::Sha256, DigestKind::Blake3];
        if self.md5 {
            kinds.push(DigestKind::Md5);
        }
        if self.sha1 {
            kinds.push(DigestKind::Sha1);
        }
        kinds
    }
}

/// A successfully stored upload: durable, write-protected, with its digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The content address (the SHA-256).
    pub key: BlobKey,
    pub size: u64,
    pub sha256: Sha256Digest,
    pub blake3: Blake3Digest,
    pub md5: Option<Md5Digest>,
    pub sha1: Option<Sha1Digest>,
    /// `false` when the same bytes were already stored; the upload still succeeded and
    /// should still be recorded (the same bytes twice are stored once, recorded twice).
    pub newly_stored: bool,
    /// Pipeline counters, including the peak buffer use.
    pub pipeline: PipelineStats,
}

/// Ingests a stream of byte chunks, such as `axum::body::Body::into_data_stream()`.
///
/// A stream error becomes [`EvidenceError::Interrupted`]. Must run inside a Tokio runtime
/// (hashing and file writes run on its blocking pool).
pub async fn ingest_stream<B, S, E>(store: &B, body: S, options: &IngestOptions) -> Result<Ingested>
where
    B: BlobStore + ?Sized,
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: Into<SourceError>,
{
    let source = body.map(|item| item.map_err(|e| EvidenceError::Interrupted(e.into())));
    ingest_chunks(store, source, options).await
}

/// Ingests everything an `AsyncRead` yields until end of file. A read error becomes
/// [`EvidenceError::Interrupted`].
pub async fn ingest_reader<B, R>(store: &B, reader: R, options: &IngestOptions) -> Result<Ingested>
where
    B: BlobStore + ?Sized,
    R: AsyncRead,
{
    let source = reader_chunks(reader, options.pipeline.chunk_size());
    ingest_chunks(store, source, options).await
}

async fn ingest_chunks<B, S>(store: &B, source: S, options: &IngestOptions) -> Result<Ingested>
where
    B: BlobStore + ?Sized,
    S: Stream<Item = Result<Bytes>>,
{
    let started = Instant::now();
    let hint = UploadHint {
        declared_len: options.declared_len,
        expected_sha256: options.expected_sha256,
    };
    let mut upload = store.begin(&hint).await?;
    let outcome = pipeline::run(
        source,
        Some(upload.as_mut()),
        &options.digest_kinds(),
        &options.pipeline,
        options.declared_len,
    )
    .await
    .and_then(|output| check(output, options));

    let (digests, stats) = match outcome {
        Ok(checked) => checked,
        Err(err) => {
            if let Err(abort_err) = upload.abort().await {
                tracing::warn!(error = %abort_err, "could not discard a failed upload; cleanup_leftovers will");
            }
            tracing::info!(code = err.code(), error = %err, "evidence upload rejected");
            return Err(err);
        }
    };

    // On failure the upload discards itself (the store's contract).
    let stored = upload.finish(&digests).await.inspect_err(|err| {
        tracing::warn!(code = err.code(), error = %err, "evidence upload could not be sealed");
    })?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        key = %stored.key,
        size = digests.size,
        newly_stored = stored.newly_stored,
        mib_per_s = digests.size as f64 / (1024.0 * 1024.0) / secs.max(1e-9),
        "evidence ingested"
    );
    Ok(Ingested {
        key: stored.key,
        size: digests.size,
        sha256: digests.sha256,
        blake3: digests.blake3,
        md5: digests.md5,
        sha1: digests.sha1,
        newly_stored: stored.newly_stored,
        pipeline: stats,
    })
}

/// Checks the declared length and expected digest; nothing is finished before this passes.
fn check(output: PipelineOutput, options: &IngestOptions) -> Result<(ContentDigests, PipelineStats)> {
    if let Some(declared) = options.declared_len
        && declared != output.size
    {
        return Err(EvidenceError::LengthMismatch {
            declared,
            received: output.size,
        });
    }
    let missing = || EvidenceError::Internal("a required digest lane produced nothing".into());
    let sha256 = output.digests.sha256.ok_or_else(missing)?;
    let blake3 = output.digests.blake3.ok_or_else(missing)?;
    if let Some(expected) = options.expected_sha256
        && expected != sha256
    {
        return Err(EvidenceError::DigestMismatch {
            expected,
            actual: sha256,
        });
    }
    let digests = ContentDigests {
        size: output.size,
        sha256,
        blake3,
        md5: output.digests.md5,
        sha1: output.digests.sha1,
    };
    Ok((digests, output.stats))
}
