//! The local filesystem store on its own: read-only files on disk, range reads, stat and
//! list, and removal of what crashed uploads left behind.

mod common;

use bytes::Bytes;
use common::*;
use cordon_evidence::{BlobKey, BlobStore, ByteRange, ContentDigests, IngestOptions, LocalBlobStore, ingest_stream};

#[cfg(unix)]
#[tokio::test]
async fn stored_files_are_read_only_on_disk() {
    use std::os::unix::fs::PermissionsExt;
    let t = new_store().await;
    let item = ingest_stream(&t.store, body(b"evidence", 3), &IngestOptions::default())
        .await
        .unwrap();
    let path = t.store.object_path(&item.key);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o444, "mode {mode:o}");
    // Fanned out by the first two hex digits of the key.
    let hex = item.key.to_hex();
    assert!(path.ends_with(format!("objects/{}/{hex}", &hex[..2])), "{path:?}");
    let meta = t.store.stat(&item.key).await.unwrap().unwrap();
    assert_eq!(meta.size, 8);
    assert!(meta.write_protected);
}

#[tokio::test]
async fn range_reads_return_exactly_the_range() {
    let t = new_store().await;
    let data = test_bytes(3 * 1024 * 1024 + 123, 20);
    let item = ingest_stream(&t.store, body(&data, 65_536), &IngestOptions::default())
        .await
        .unwrap();
    let size = data.len() as u64;
    let ranges = [
        ByteRange::new(0, 10).unwrap(),
        ByteRange::new(10, 20).unwrap(),
        ByteRange::from_inclusive(1_048_570, 2_097_160).unwrap(),
        ByteRange::new(size - 1, size).unwrap(),
        ByteRange::full(size),
        ByteRange::new(size, size).unwrap(),
        ByteRange::new(500, 500).unwrap(),
    ];
    for range in ranges {
        let reader = t.store.open(&item.key, Some(range)).await.unwrap();
        assert_eq!(reader.range(), range);
        assert_eq!(reader.total_size(), size);
        let got = read_all(reader).await;
        assert_eq!(got, &data[range.start() as usize..range.end() as usize], "{range:?}");
    }
    for past_end in [
        ByteRange::new(0, size + 1).unwrap(),
        ByteRange::new(size + 1, size + 2).unwrap(),
    ] {
        let err = t.store.open(&item.key, Some(past_end)).await.unwrap_err();
        assert_eq!(err.code(), "invalid_range");
    }
}

#[tokio::test]
async fn unknown_keys_are_not_found() {
    let t = new_store().await;
    let key: BlobKey = sha256_hex(b"never stored").parse().unwrap();
    let err = t.store.open(&key, None).await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert_eq!(t.store.stat(&key).await.unwrap(), None);
    let err = cordon_evidence::verify(&t.store, &key, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
}

#[tokio::test]
async fn list_returns_every_stored_key_sorted() {
    let t = new_store().await;
    assert!(t.store.list().await.unwrap().is_empty());
    let mut keys = Vec::new();
    for seed in 0..5 {
        let data = test_bytes(1000 + seed as usize, seed);
        let item = ingest_stream(&t.store, body(&data, 100), &IngestOptions::default())
            .await
            .unwrap();
        keys.push(item.key);
    }
    keys.sort();
    assert_eq!(t.store.list().await.unwrap(), keys);
}

#[tokio::test]
async fn cleanup_leftovers_removes_stale_temporaries_only() {
    let dir = tempfile::tempdir().unwrap();
    let kept = {
        let store = LocalBlobStore::new(dir.path()).await.unwrap();
        let kept = ingest_stream(&store, body(b"kept", 2), &IngestOptions::default())
            .await
            .unwrap();
        // A "crash" mid-upload: the upload is never finished, aborted or dropped.
        let mut crashed = store.begin(&Default::default()).await.unwrap();
        crashed.write(Bytes::from_static(b"half an image")).await.unwrap();
        std::mem::forget(crashed);
        // And a stray file from an older process.
        std::fs::write(store.incoming_dir().join("1234-0.partial"), b"stale").unwrap();
        kept
    };
    assert_eq!(files_under(&dir.path().join("incoming")).len(), 2);

    // Restart: a new store value over the same directory.
    let store = LocalBlobStore::new(dir.path()).await.unwrap();
    let mut live = store.begin(&Default::default()).await.unwrap();
    live.write(Bytes::from_static(b"in progress")).await.unwrap();

    let report = store.cleanup_leftovers().await.unwrap();
    assert_eq!(report.removed, 2);
    assert_eq!(report.bytes, 13 + 5);
    // The live upload survived the cleanup and still completes.
    let data = b"in progress";
    let digests = ContentDigests {
        size: data.len() as u64,
        sha256: sha256_hex(data).parse().unwrap(),
        blake3: blake3_hex(data).parse().unwrap(),
        md5: None,
        sha1: None,
    };
    let stored = live.finish(&digests).await.unwrap();
    assert!(stored.newly_stored);
    assert_no_temporaries(&store);
    let mut want = vec![kept.key, stored.key];
    want.sort();
    assert_eq!(store.list().await.unwrap(), want);
    assert_eq!(store.cleanup_leftovers().await.unwrap().removed, 0);
}

#[tokio::test]
async fn dropping_or_aborting_an_upload_removes_its_temporary() {
    let t = new_store().await;
    let mut dropped = t.store.begin(&Default::default()).await.unwrap();
    dropped.write(Bytes::from_static(b"abc")).await.unwrap();
    drop(dropped);
    let mut aborted = t.store.begin(&Default::default()).await.unwrap();
    aborted.write(Bytes::from_static(b"abc")).await.unwrap();
    aborted.abort().await.unwrap();
    assert_nothing_kept(&t.store);
}

#[tokio::test]
async fn finish_refuses_a_size_that_was_not_written() {
    let t = new_store().await;
    let mut upload = t.store.begin(&Default::default()).await.unwrap();
    upload.write(Bytes::from_static(b"abc")).await.unwrap();
    let digests = ContentDigests {
        size: 4,
        sha256: sha256_hex(b"abc").parse().unwrap(),
        blake3: blake3_hex(b"abc").parse().unwrap(),
        md5: None,
        sha1: None,
    };
    let err = upload.finish(&digests).await.unwrap_err();
    assert_eq!(err.code(), "internal");
    assert_nothing_kept(&t.store);
}

#[tokio::test]
async fn early_writeback_does_not_change_the_result() {
    let dir = tempfile::tempdir().unwrap();
    // Write-back after every 64 KiB: many background fdatasyncs during one upload.
    let store = LocalBlobStore::with_writeback_interval(dir.path(), Some(64 * 1024))
        .await
        .unwrap();
    let data = test_bytes(2 * 1024 * 1024, 21);
    let options = IngestOptions {
        pipeline: cordon_evidence::PipelineConfig::new(32 * 1024, 2),
        ..IngestOptions::default()
    };
    let item = ingest_stream(&store, body(&data, 10_000), &options).await.unwrap();
    assert_eq!(read_all(store.open(&item.key, None).await.unwrap()).await, data);
    assert_no_temporaries(&store);
}
