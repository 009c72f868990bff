//! Helpers shared by the integration tests: a fresh store in a temp dir, deterministic
//! test data, body streams, and "nothing was left behind" checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use cordon_evidence::LocalBlobStore;
use futures::Stream;
use tokio::io::AsyncReadExt;

pub struct TestStore {
    pub dir: tempfile::TempDir,
    pub store: LocalBlobStore,
}

pub async fn new_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = LocalBlobStore::new(dir.path()).await.expect("store");
    TestStore { dir, store }
}

/// Deterministic pseudo-random bytes (xorshift64*), so digests do not hide structure.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A body stream delivering `data` in pieces of `piece` bytes, like an HTTP body.
pub fn body(data: &[u8], piece: usize) -> impl Stream<Item = Result<Bytes, std::io::Error>> + use<> {
    let pieces: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(piece.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(pieces)
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let entry = entry.expect("entry");
            let ty = entry.file_type().expect("file type");
            if ty.is_dir() {
                todo.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// No stored blob and no temporary file anywhere in the store.
pub fn assert_nothing_kept(store: &LocalBlobStore) {
    let files = files_under(store.root());
    assert!(files.is_empty(), "files left behind: {files:?}");
}

/// Only sealed blobs, no temporary files.
pub fn assert_no_temporaries(store: &LocalBlobStore) {
    let files = files_under(store.incoming_dir());
    assert!(files.is_empty(), "temporary files left behind: {files:?}");
}

pub async fn read_all(mut reader: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.expect("read");
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

pub fn blake3_hex(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}
