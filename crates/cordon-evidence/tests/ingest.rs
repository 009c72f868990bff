//! Streaming ingest against the local store: round trips, known digest vectors,
//! deduplication, every rejection path leaving nothing behind, cancellation, and bounded
//! memory on a larger upload.

mod common;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use cordon_evidence::{
    BlobKey, BlobReader, BlobStore, BlobUpload, ByteRange, CleanupReport, ContentDigests, EvidenceError, IngestOptions,
    LocalBlobStore, PipelineConfig, Sha256Digest, StoredBlob, UploadHint, ingest_reader, ingest_stream,
};
use futures::StreamExt;

#[tokio::test]
async fn round_trip_returns_digests_and_reads_back() {
    let t = new_store().await;
    let data = test_bytes(3 * 1024 * 1024 + 17, 1);
    let item = ingest_stream(&t.store, body(&data, 16 * 1024), &IngestOptions::default())
        .await
        .unwrap();
    assert_eq!(item.size, data.len() as u64);
    assert_eq!(item.sha256.to_hex(), sha256_hex(&data));
    assert_eq!(item.blake3.to_hex(), blake3_hex(&data));
    assert_eq!(item.key.to_hex(), item.sha256.to_hex());
    assert!(item.newly_stored);
    assert_eq!((item.md5, item.sha1), (None, None));

    let reader = t.store.open(&item.key, None).await.unwrap();
    assert_eq!(reader.total_size(), data.len() as u64);
    assert_eq!(read_all(reader).await, data);
    assert_no_temporaries(&t.store);
}

#[tokio::test]
async fn digests_match_known_vectors_for_abc_and_empty() {
    let t = new_store().await;
    let options = IngestOptions {
        md5: true,
        sha1: true,
        ..IngestOptions::default()
    };
    let cases = [
        (
            &b"abc"[..],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
            "900150983cd24fb0d6963f7d28e17f72",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        (
            &b""[..],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            "d41d8cd98f00b204e9800998ecf8427e",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
    ];
    for (input, sha256, blake3, md5, sha1) in cases {
        let item = ingest_stream(&t.store, body(input, 1), &options).await.unwrap();
        assert_eq!(item.size, input.len() as u64);
        assert_eq!(item.sha256.to_hex(), sha256);
        assert_eq!(item.key.to_string(), sha256);
        assert_eq!(item.blake3.to_hex(), blake3);
        assert_eq!(item.md5.unwrap().to_hex(), md5);
        assert_eq!(item.sha1.unwrap().to_hex(), sha1);
        let stored = read_all(t.store.open(&item.key, None).await.unwrap()).await;
        assert_eq!(stored, input);
    }
}

#[tokio::test]
async fn ingest_reader_matches_ingest_stream() {
    let t = new_store().await;
    let data = test_bytes(2 * 1024 * 1024 + 5, 2);
    let options = IngestOptions {
        declared_len: Some(data.len() as u64),
        pipeline: PipelineConfig::new(256 * 1024, 2),
        ..IngestOptions::default()
    };
    let item = ingest_reader(&t.store, &data[..], &options).await.unwrap();
    assert_eq!(item.sha256.to_hex(), sha256_hex(&data));
    assert_eq!(item.blake3.to_hex(), blake3_hex(&data));
    assert_eq!(item.pipeline.chunks, 9);
}

#[tokio::test]
async fn same_bytes_twice_are_stored_once() {
    let t = new_store().await;
    let data = test_bytes(100_000, 3);
    let first = ingest_stream(&t.store, body(&data, 4096), &IngestOptions::default())
        .await
        .unwrap();
    let second = ingest_stream(&t.store, body(&data, 999), &IngestOptions::default())
        .await
        .unwrap();
    assert_eq!(first.key, second.key);
    assert!(first.newly_stored);
    assert!(!second.newly_stored);
    assert_eq!(t.store.list().await.unwrap(), vec![first.key]);
    assert_eq!(files_under(t.store.root()), vec![t.store.object_path(&first.key)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_of_the_same_bytes_both_succeed_with_one_copy() {
    let t = new_store().await;
    let data = test_bytes(4 * 1024 * 1024, 4);
    let options = IngestOptions {
        pipeline: PipelineConfig::new(64 * 1024, 2),
        ..IngestOptions::default()
    };
    let (a, b) = tokio::join!(
        ingest_stream(&t.store, body(&data, 8192), &options),
        ingest_stream(&t.store, body(&data, 5000), &options),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.key, b.key);
    assert_eq!(
        u8::from(a.newly_stored) + u8::from(b.newly_stored),
        1,
        "exactly one upload stores the bytes"
    );
    assert_eq!(files_under(t.store.root()), vec![t.store.object_path(&a.key)]);
    assert_eq!(read_all(t.store.open(&a.key, None).await.unwrap()).await, data);
}

#[tokio::test]
async fn declared_length_mismatch_keeps_nothing() {
    let t = new_store().await;
    let data = test_bytes(50_000, 5);
    for declared in [49_999u64, 50_001, 0, 10] {
        let options = IngestOptions {
            declared_len: Some(declared),
            pipeline: PipelineConfig::new(4096, 2),
            ..IngestOptions::default()
        };
        let err = ingest_stream(&t.store, body(&data, 1000), &options).await.unwrap_err();
        assert_eq!(err.code(), "length_mismatch", "declared {declared}: {err}");
        match err {
            EvidenceError::LengthMismatch { declared: d, received } => {
                assert_eq!(d, declared);
                // Overruns stop early, so `received` is at most one piece past the limit.
                assert!(received != declared && received <= 50_000);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_nothing_kept(&t.store);
    }
}

#[tokio::test]
async fn digest_mismatch_keeps_nothing() {
    let t = new_store().await;
    let data = test_bytes(70_000, 6);
    let wrong = Sha256Digest::from_hex(&sha256_hex(b"something else")).unwrap();
    let options = IngestOptions {
        expected_sha256: Some(wrong),
        declared_len: Some(data.len() as u64),
        ..IngestOptions::default()
    };
    let err = ingest_stream(&t.store, body(&data, 4096), &options).await.unwrap_err();
    assert_eq!(err.code(), "digest_mismatch");
    assert!(matches!(err, EvidenceError::DigestMismatch { expected, actual }
        if expected == wrong && actual.to_hex() == sha256_hex(&data)));
    assert_nothing_kept(&t.store);

    // The right digest is accepted.
    let right = IngestOptions {
        expected_sha256: Some(Sha256Digest::from_hex(&sha256_hex(&data)).unwrap()),
        ..options
    };
    ingest_stream(&t.store, body(&data, 4096), &right).await.unwrap();
}

#[tokio::test]
async fn a_stream_that_fails_half_way_keeps_nothing() {
    let t = new_store().await;
    let data = test_bytes(3 * 1024 * 1024, 7);
    let half = data.len() / 2;
    let failing = body(&data[..half], 64 * 1024).chain(futures::stream::iter([Err(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "client went away",
    ))]));
    let err = ingest_stream(&t.store, failing, &IngestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "interrupted");
    assert!(std::error::Error::source(&err).is_some(), "cause kept for the log");
    assert_nothing_kept(&t.store);
}

#[tokio::test]
async fn a_reader_that_fails_half_way_keeps_nothing() {
    let t = new_store().await;
    let data = test_bytes(1024 * 1024, 8);
    let reader = tokio::io::AsyncReadExt::chain(&data[..], FailingReader);
    let err = ingest_reader(&t.store, reader, &IngestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "interrupted");
    assert_nothing_kept(&t.store);
}

struct FailingReader;

impl tokio::io::AsyncRead for FailingReader {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        _buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "disk gone")))
    }
}

#[tokio::test]
async fn a_cancelled_upload_keeps_nothing() {
    let t = new_store().await;
    let data = test_bytes(256 * 1024, 9);
    let (stalled_tx, stalled_rx) = tokio::sync::oneshot::channel::<()>();
    let mut stalled_tx = Some(stalled_tx);
    // Delivers the data, then signals and never ends: a client that stops sending.
    let stalling = body(&data, 8192).chain(futures::stream::poll_fn(move |_| {
        if let Some(tx) = stalled_tx.take() {
            let _ = tx.send(());
        }
        std::task::Poll::Pending
    }));
    let options = IngestOptions {
        pipeline: PipelineConfig::new(16 * 1024, 2),
        ..IngestOptions::default()
    };
    tokio::select! {
        result = ingest_stream(&t.store, stalling, &options) => panic!("cannot finish: {result:?}"),
        _ = stalled_rx => {}
    }
    // The ingest future was dropped mid-upload (as when a request is cancelled).
    assert_nothing_kept(&t.store);
}

/// A store whose disk fills up after `capacity` bytes of an upload.
struct FullDisk {
    inner: LocalBlobStore,
    capacity: u64,
    aborted: Arc<AtomicBool>,
}

struct FullDiskUpload {
    inner: Box<dyn BlobUpload>,
    room: u64,
    aborted: Arc<AtomicBool>,
}

#[async_trait]
impl BlobStore for FullDisk {
    async fn begin(&self, hint: &UploadHint) -> cordon_evidence::Result<Box<dyn BlobUpload>> {
        Ok(Box::new(FullDiskUpload {
            inner: self.inner.begin(hint).await?,
            room: self.capacity,
            aborted: Arc::clone(&self.aborted),
        }))
    }
    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> cordon_evidence::Result<BlobReader> {
        self.inner.open(key, range).await
    }
    async fn stat(&self, key: &BlobKey) -> cordon_evidence::Result<Option<cordon_evidence::BlobMeta>> {
        self.inner.stat(key).await
    }
    async fn list(&self) -> cordon_evidence::Result<Vec<BlobKey>> {
        self.inner.list().await
    }
    async fn cleanup_leftovers(&self) -> cordon_evidence::Result<CleanupReport> {
        self.inner.cleanup_leftovers().await
    }
}

#[async_trait]
impl BlobUpload for FullDiskUpload {
    async fn write(&mut self, chunk: Bytes) -> cordon_evidence::Result<()> {
        if chunk.len() as u64 > self.room {
            return Err(EvidenceError::Io {
                op: "writing an upload to its temporary file",
                source: io::Error::from(io::ErrorKind::StorageFull),
            });
        }
        self.room -= chunk.len() as u64;
        self.inner.write(chunk).await
    }
    async fn finish(self: Box<Self>, digests: &ContentDigests) -> cordon_evidence::Result<StoredBlob> {
        self.inner.finish(digests).await
    }
    async fn abort(self: Box<Self>) -> cordon_evidence::Result<()> {
        self.aborted.store(true, Ordering::SeqCst);
        self.inner.abort().await
    }
}

#[tokio::test]
async fn a_full_disk_fails_with_storage_full_and_keeps_nothing() {
    let t = new_store().await;
    let store = FullDisk {
        inner: t.store.clone(),
        capacity: 1024 * 1024,
        aborted: Arc::new(AtomicBool::new(false)),
    };
    let data = test_bytes(3 * 1024 * 1024, 10);
    let err = ingest_stream(&store, body(&data, 64 * 1024), &IngestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "storage_full");
    assert!(store.aborted.load(Ordering::SeqCst), "the upload was aborted");
    assert_nothing_kept(&t.store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_64_mib_ingest_keeps_its_buffers_bounded() {
    let t = new_store().await;
    let data = test_bytes(64 * 1024 * 1024, 11);
    let config = PipelineConfig::default();
    let options = IngestOptions {
        declared_len: Some(data.len() as u64),
        md5: true,
        sha1: true,
        pipeline: config,
        ..IngestOptions::default()
    };
    // 16 KiB pieces, the way an HTTP body arrives.
    let item = ingest_stream(&t.store, body(&data, 16 * 1024), &options).await.unwrap();
    assert_eq!(item.sha256.to_hex(), sha256_hex(&data));
    assert_eq!(item.blake3.to_hex(), blake3_hex(&data));
    let stats = item.pipeline;
    assert_eq!(stats.chunks, 64);
    assert!(
        stats.peak_chunks_in_flight <= config.max_chunks_in_flight(),
        "{stats:?}"
    );
    assert!(stats.peak_bytes_in_flight <= config.max_bytes_in_flight(), "{stats:?}");
    assert!(config.max_bytes_in_flight() <= 8 * 1024 * 1024, "a few MiB at most");
    assert_eq!(
        std::fs::metadata(t.store.object_path(&item.key)).unwrap().len(),
        data.len() as u64
    );
}
