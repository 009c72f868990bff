//! Evidence locker storage: streaming ingest that digests while it writes, write-once storage.
//!
//! This crate is the storage half of the evidence locker. It knows nothing of HTTP or of
//! the database: the server feeds it a request body, gets back an [`Ingested`] (key, size,
//! digests) and records custody itself.
//!
//! - [`BlobStore`] is the one storage abstraction: begin an upload, write chunks, finish
//!   with the computed digests → content-addressed [`BlobKey`]; open (with an optional
//!   [`ByteRange`]), stat, list. There is no delete or overwrite. [`LocalBlobStore`] is the
//!   local-filesystem implementation; the trait also fits an S3 bucket with Object Lock
//!   (see [`store`]).
//! - [`ingest_stream`] / [`ingest_reader`] run the pipeline: SHA-256 and BLAKE3 (MD5/SHA-1
//!   on request) in one pass, overlapping the write, with bounded memory.
//! - [`verify()`] re-reads a stored blob and recomputes its digests.
//!
//! Invariants: a key is visible only once its bytes are complete, durable and
//! write-protected; a failed, rejected or cancelled upload leaves nothing visible; stored
//! bytes are never changed through this API.
//!
//! ```
//! use cordon_evidence::{BlobStore, IngestOptions, LocalBlobStore, ingest_stream, verify};
//! # #[tokio::main] async fn main() -> Result<(), cordon_evidence::EvidenceError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let store = LocalBlobStore::new(dir.path()).await?;
//! store.cleanup_leftovers().await?; // once, at start
//!
//! let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"abc"))]);
//! let options = IngestOptions { declared_len: Some(3), ..IngestOptions::default() };
//! let item = ingest_stream(&store, body, &options).await?;
//! assert_eq!(item.key.to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
//!
//! let report = verify(&store, &item.key, &Default::default()).await?;
//! assert!(report.ok);
//! # Ok(()) }
//! ```

pub mod digest;
pub mod error;
pub mod ingest;
pub mod key;
pub mod local;
pub mod pipeline;
pub mod s3;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verify;

pub use digest::{Blake3Digest, DigestKind, Md5Digest, Sha1Digest, Sha256Digest};
pub use error::{EvidenceError, Result, SourceError};
pub use ingest::{IngestOptions, Ingested, ingest_reader, ingest_stream};
pub use key::{BlobKey, ByteRange};
pub use local::LocalBlobStore;
pub use pipeline::{PipelineConfig, PipelineStats};
pub use s3::{ObjectLock, S3BlobStore, S3Location, S3Options};
pub use store::{BlobMeta, BlobReader, BlobStore, BlobUpload, CleanupReport, ContentDigests, StoredBlob, UploadHint};
pub use verify::{ExpectedDigests, Mismatch, VerifyReport, verify};
