//! Verification: a stored blob re-read and re-hashed matches its key and custody digests,
//! and a single flipped byte on disk is detected.

mod common;

use std::io::{Read, Seek, SeekFrom, Write};

use common::*;
use cordon_evidence::{ExpectedDigests, IngestOptions, Mismatch, ingest_stream, verify};

#[tokio::test]
async fn an_untouched_blob_verifies() {
    let t = new_store().await;
    let data = test_bytes(2 * 1024 * 1024 + 1, 30);
    let item = ingest_stream(&t.store, body(&data, 50_000), &IngestOptions::default())
        .await
        .unwrap();
    let expected = ExpectedDigests {
        size: Some(item.size),
        sha256: Some(item.sha256),
        blake3: Some(item.blake3),
    };
    let report = verify(&t.store, &item.key, &expected).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.size, data.len() as u64);
    assert_eq!(report.sha256, item.sha256);
    assert_eq!(report.blake3, item.blake3);
    assert!(report.mismatches.is_empty());
}

#[tokio::test]
async fn a_flipped_byte_fails_verification() {
    let t = new_store().await;
    let data = test_bytes(1024 * 1024 + 77, 31);
    let item = ingest_stream(&t.store, body(&data, 50_000), &IngestOptions::default())
        .await
        .unwrap();
    let path = t.store.object_path(&item.key);

    // Tamper with the stored file behind the store's back.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let offset = 654_321;
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&[byte[0] ^ 0x01]).unwrap();
    drop(file);

    let expected = ExpectedDigests {
        size: Some(item.size),
        sha256: Some(item.sha256),
        blake3: Some(item.blake3),
    };
    let report = verify(&t.store, &item.key, &expected).await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.size, item.size, "same size, different content");
    assert_ne!(report.sha256, item.sha256);
    assert_ne!(report.blake3, item.blake3);
    assert_eq!(
        report.mismatches,
        [
            Mismatch::Sha256VsKey,
            Mismatch::Sha256VsExpected,
            Mismatch::Blake3VsExpected
        ]
    );
    // Even without custody digests, the key alone catches it.
    let report = verify(&t.store, &item.key, &ExpectedDigests::default()).await.unwrap();
    assert_eq!(report.mismatches, [Mismatch::Sha256VsKey]);
}

#[tokio::test]
async fn wrong_custody_digests_fail_verification() {
    let t = new_store().await;
    let item = ingest_stream(&t.store, body(b"abc", 1), &IngestOptions::default())
        .await
        .unwrap();
    let other = ingest_stream(&t.store, body(b"abd", 1), &IngestOptions::default())
        .await
        .unwrap();
    let expected = ExpectedDigests {
        size: Some(4),
        sha256: Some(other.sha256),
        blake3: Some(other.blake3),
    };
    let report = verify(&t.store, &item.key, &expected).await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.mismatches.iter().map(Mismatch::code).collect::<Vec<_>>(),
        ["sha256_vs_expected", "blake3_vs_expected", "size_vs_expected"]
    );
}
