//! The S3 store against a real S3 server (SeaweedFS, `cordon_evidence::testing`): single-PUT
//! and multipart objects, ranged reads, deduplication, listing, Object Lock reported and
//! enforced, and nothing kept of a broken upload.

mod common;

use bytes::Bytes;
use common::*;
use cordon_evidence::testing::SeaweedS3;
use cordon_evidence::{BlobKey, BlobStore, ByteRange, IngestOptions, S3BlobStore, S3Options, ingest_stream, verify};

/// Objects above 1 MiB go multipart, in 5 MiB parts.
fn small_sizes(server: &SeaweedS3) -> S3Options {
    S3Options {
        single_put_max: Some(1 << 20),
        part_size: Some(5 << 20),
        ..server.options()
    }
}

#[tokio::test]
async fn blobs_are_stored_read_back_deduplicated_and_listed_on_a_locked_bucket() {
    let Some(server) = SeaweedS3::start().await else { return };
    let location = server.bucket("evidence-locked", true).await;
    let spool = tempfile::tempdir().unwrap();
    let store = S3BlobStore::open_with(location, spool.path(), &small_sizes(&server))
        .await
        .unwrap();
    assert!(store.object_lock().protects_writes(), "{:?}", store.object_lock());

    let small = test_bytes(300_000, 1);
    let large = test_bytes(11 * 1024 * 1024 + 17, 2); // three parts
    let mut keys = Vec::new();
    for data in [&small, &large] {
        let item = ingest_stream(&store, body(data, 65_536), &IngestOptions::default())
            .await
            .unwrap();
        assert!(item.newly_stored);
        assert_eq!(item.key.to_string(), sha256_hex(data));
        // In the bucket under objects/<sha256>, byte for byte.
        let stored = server
            .object("evidence-locked", &store.object_key(&item.key))
            .await
            .unwrap();
        assert!(stored == *data, "stored bytes differ for {}", item.key);
        let meta = store.stat(&item.key).await.unwrap().unwrap();
        assert_eq!(meta.size, data.len() as u64);
        assert!(meta.write_protected);
        let report = verify(&store, &item.key, &Default::default()).await.unwrap();
        assert!(report.ok, "{report:?}");
        keys.push(item.key);
    }
    assert!(files_under(spool.path()).is_empty(), "the spool keeps nothing");

    // The same bytes again: stored once.
    for data in [&small, &large] {
        let again = ingest_stream(&store, body(data, 100_000), &IngestOptions::default())
            .await
            .unwrap();
        assert!(!again.newly_stored);
    }
    keys.sort();
    assert_eq!(store.list().await.unwrap(), keys);

    // Ranges, including across part boundaries.
    let size = large.len() as u64;
    let key: BlobKey = sha256_hex(&large).parse().unwrap();
    for range in [
        ByteRange::new(0, 10).unwrap(),
        ByteRange::new(5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 3).unwrap(),
        ByteRange::new(size - 1, size).unwrap(),
        ByteRange::new(size, size).unwrap(),
        ByteRange::full(size),
    ] {
        let reader = store.open(&key, Some(range)).await.unwrap();
        assert_eq!((reader.range(), reader.total_size()), (range, size));
        let got = read_all(reader).await;
        assert!(got == large[range.start() as usize..range.end() as usize], "{range:?}");
    }
    let err = store
        .open(&key, Some(ByteRange::new(0, size + 1).unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_range");
    let unknown: BlobKey = sha256_hex(b"never stored").parse().unwrap();
    assert_eq!(store.open(&unknown, None).await.unwrap_err().code(), "not_found");
    assert_eq!(store.stat(&unknown).await.unwrap(), None);
}

#[tokio::test]
async fn a_broken_upload_leaves_nothing_in_the_bucket_or_the_spool() {
    let Some(server) = SeaweedS3::start().await else { return };
    let location = server.bucket("evidence-broken", true).await;
    let spool = tempfile::tempdir().unwrap();
    let store = S3BlobStore::open_with(location, spool.path(), &small_sizes(&server))
        .await
        .unwrap();
    let pieces: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(test_bytes(2 << 20, 3))),
        Err(std::io::Error::other("the client went away")),
    ];
    let err = ingest_stream(&store, futures::stream::iter(pieces), &IngestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "interrupted", "{err}");
    // A declared length that does not match is refused before anything is stored.
    let options = IngestOptions {
        declared_len: Some(10),
        ..IngestOptions::default()
    };
    assert!(ingest_stream(&store, body(b"eleven bytes", 4), &options).await.is_err());
    assert!(store.list().await.unwrap().is_empty());
    assert!(files_under(spool.path()).is_empty());
    assert_eq!(store.cleanup_leftovers().await.unwrap().removed, 0);
}

#[tokio::test]
async fn a_bucket_without_object_lock_is_reported_unprotected() {
    let Some(server) = SeaweedS3::start().await else { return };
    let location = server.bucket("evidence-open", false).await;
    let spool = tempfile::tempdir().unwrap();
    let store = S3BlobStore::open_with(location, spool.path(), &server.options())
        .await
        .unwrap();
    assert!(!store.object_lock().protects_writes());
    let item = ingest_stream(&store, body(b"plain", 2), &IngestOptions::default())
        .await
        .unwrap();
    assert!(!store.stat(&item.key).await.unwrap().unwrap().write_protected);
}

#[tokio::test]
async fn the_same_bytes_uploaded_twice_at_once_are_stored_once() {
    let Some(server) = SeaweedS3::start().await else { return };
    let location = server.bucket("evidence-race", true).await;
    let spool = tempfile::tempdir().unwrap();
    let store = S3BlobStore::open_with(location, spool.path(), &small_sizes(&server))
        .await
        .unwrap();
    for (round, len) in [(0u64, 200_000usize), (1, 6 << 20)] {
        let data = test_bytes(len, 10 + round);
        let options = IngestOptions::default();
        let (a, b) = tokio::join!(
            ingest_stream(&store, body(&data, 50_000), &options),
            ingest_stream(&store, body(&data, 70_000), &options),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.key, b.key);
        assert!(a.newly_stored || b.newly_stored, "one of them stored it");
        if len as u64 <= store.single_put_max() {
            // The conditional PUT lets exactly one win.
            assert!(!(a.newly_stored && b.newly_stored));
        }
        let got = read_all(store.open(&a.key, None).await.unwrap()).await;
        assert!(got == data);
    }
    assert_eq!(store.list().await.unwrap().len(), 2);
    assert!(files_under(spool.path()).is_empty());
}
