//! The one storage abstraction of the evidence locker: [`BlobStore`], a write-once,
//! content-addressed blob store, and the types that cross it.
//!
//! There is deliberately no method that deletes, renames or overwrites a stored blob.
//!
//! # Mapping onto an S3-compatible bucket with Object Lock
//!
//! The trait is shaped so that a later S3 backend fits without changes here:
//!
//! | method | local filesystem ([`crate::LocalBlobStore`]) | S3 with Object Lock |
//! | --- | --- | --- |
//! | [`BlobStore::begin`] | create `incoming/<unique>.partial` | `CreateMultipartUpload`: on the final key `objects/<sha256>` when [`UploadHint::expected_sha256`] is known, else on a staging key in an unlocked staging bucket/prefix |
//! | [`BlobUpload::write`] | append (periodic early write-back) | buffer to the part size (≥ 5 MiB), `UploadPart` |
//! | [`BlobUpload::finish`] | fsync, chmod 0444, `link` (fails if the key exists), fsync directory | `CompleteMultipartUpload` with `If-None-Match: *` on the final key, or server-side copy of the staging object to it with `If-None-Match: *`; HTTP 412 means "already stored" (`newly_stored = false`). The bucket's default COMPLIANCE retention locks it. |
//! | [`BlobUpload::abort`] | remove the temporary file | `AbortMultipartUpload` |
//! | [`BlobStore::cleanup_leftovers`] | remove everything in `incoming/` not in use | `ListMultipartUploads` + abort on the staging prefix |
//! | [`BlobStore::open`] | open, seek, take | `GetObject` with `Range` |
//! | [`BlobStore::stat`] / [`BlobStore::list`] | `stat` / directory walk | `HeadObject` / `ListObjectsV2` |
//!
//! S3's own multipart SHA-256 checksums are per part, not whole-object, so the whole-object
//! digests always come from the ingest pipeline and are handed to [`BlobUpload::finish`]
//! (an S3 backend may store them as object metadata).

use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncRead, ReadBuf};

use crate::digest::{Blake3Digest, Md5Digest, Sha1Digest, Sha256Digest};
use crate::error::Result;
use crate::key::{BlobKey, ByteRange};

/// A write-once, content-addressed blob store.
///
/// Implementations must guarantee:
/// - a key appears (in `stat`, `list`, `open`) only after its bytes are durable, complete
///   and write-protected;
/// - an existing key is never overwritten: finishing an upload whose key exists stores
///   nothing new and reports `newly_stored = false`;
/// - an upload that is aborted, dropped or fails leaves nothing visible, and whatever a
///   crash leaves behind is removed by [`BlobStore::cleanup_leftovers`].
///
/// Prefer [`crate::ingest_stream`] / [`crate::ingest_reader`] over driving
/// [`BlobUpload`] by hand: they compute the digests that [`BlobUpload::finish`] trusts.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts an upload. The hint lets a backend pick a strategy; it is not checked here
    /// (the ingest pipeline checks length and digest before finishing).
    async fn begin(&self, hint: &UploadHint) -> Result<Box<dyn BlobUpload>>;

    /// Opens a stored blob for reading, optionally only `range` of it.
    /// Fails with `not_found` for an unknown key and `invalid_range` for a range past the end.
    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobReader>;

    /// Size and protection of a stored blob, or `None` if the key is not stored.
    async fn stat(&self, key: &BlobKey) -> Result<Option<BlobMeta>>;

    /// Every stored key, sorted. Meant for reconciliation with the custody records; the
    /// locker holds evidence items, not millions of objects, so a `Vec` is fine.
    async fn list(&self) -> Result<Vec<BlobKey>>;

    /// Removes what interrupted or crashed uploads left behind. Call it once at start,
    /// before serving uploads; uploads in progress on this same store value are skipped.
    async fn cleanup_leftovers(&self) -> Result<CleanupReport>;
}

/// One upload in progress. Dropping it without `finish` discards it (best effort; the
/// next `cleanup_leftovers` removes anything a drop could not).
#[async_trait]
pub trait BlobUpload: Send {
    /// Appends a chunk. Chunks arrive in order; the store may keep the `Bytes` until written.
    async fn write(&mut self, chunk: Bytes) -> Result<()>;

    /// Makes the upload durable and write-protected under the key `digests.sha256`.
    ///
    /// `digests` must describe exactly the bytes written: the store checks the size but
    /// trusts the digests. On error the upload is discarded; the key may or may not exist
    /// afterwards (if it does, it is complete: content addressing makes it the same bytes).
    async fn finish(self: Box<Self>, digests: &ContentDigests) -> Result<StoredBlob>;

    /// Discards the upload and everything written so far.
    async fn abort(self: Box<Self>) -> Result<()>;
}

/// What the uploader announced before sending any bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadHint {
    pub declared_len: Option<u64>,
    pub expected_sha256: Option<Sha256Digest>,
}

/// Digests of a complete upload, computed by the ingest pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentDigests {
    pub size: u64,
    pub sha256: Sha256Digest,
    pub blake3: Blake3Digest,
    pub md5: Option<Md5Digest>,
    pub sha1: Option<Sha1Digest>,
}

/// Outcome of [`BlobUpload::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub key: BlobKey,
    /// `false` when the same bytes were already stored (this upload was deduplicated).
    pub newly_stored: bool,
}

/// What [`BlobStore::stat`] knows about a stored blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    /// The backend reports the blob as protected against writes (mode 0444 locally,
    /// an Object Lock retention on S3).
    pub write_protected: bool,
}

/// What [`BlobStore::cleanup_leftovers`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub removed: u64,
    pub bytes: u64,
}

/// A reader over a stored blob (or a range of it), with what an HTTP `Content-Range`
/// header needs.
pub struct BlobReader {
    range: ByteRange,
    total_size: u64,
    inner: Pin<Box<dyn AsyncRead + Send>>,
}

impl BlobReader {
    /// Wraps a backend reader that yields exactly `range.len()` bytes.
    pub fn new(range: ByteRange, total_size: u64, inner: Pin<Box<dyn AsyncRead + Send>>) -> Self {
        Self {
            range,
            total_size,
            inner,
        }
    }

    /// The range this reader yields.
    pub fn range(&self) -> ByteRange {
        self.range
    }

    /// The size of the whole blob.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("range", &self.range)
            .field("total_size", &self.total_size)
            .finish_non_exhaustive()
    }
}

impl AsyncRead for BlobReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_read(cx, buf)
    }
}
