//! Ingest speed: a generated file is ingested through the pipeline (SHA-256 + BLAKE3 while
//! writing, fsync, seal) into a temporary store, and the figure is printed beside the
//! references measured in the same run on the same bytes: SHA-256 only, BLAKE3 only, and a
//! plain copy with fsync (like `dd conv=fsync`). Hashing and the durable write overlap, so
//! the floor is the slower of "SHA-256 only" and "write + fsync".
//!
//! Run: `cargo run --release -p cordon-evidence --example ingest_speed -- [MiB] [dir]`
//! (default 1024 MiB in the system temp directory; give a dir on the disk you care about,
//! not a tmpfs). The source file is in the page cache, so source read speed is not measured.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cordon_evidence::{BlobStore, IngestOptions, LocalBlobStore, ingest_reader};

const BUF: usize = 1 << 20;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1024);
    let base: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let work = tempfile::tempdir_in(&base)?;
    let size = mib << 20;
    let source = work.path().join("source.bin");
    println!("generating {mib} MiB in {} …", work.path().display());
    generate(&source, size)?;

    let sha256 = time(|| {
        hash_file(&source, |data, state: &mut sha2::Sha256| {
            sha2::Digest::update(state, data)
        })
    })?;
    let blake3 = time(|| {
        hash_file(&source, |data, state: &mut blake3::Hasher| {
            state.update(data);
        })
    })?;

    // This machine's disk varies a lot from one second to the next, so write-only and
    // ingest runs alternate and the medians are compared.
    let mut writes = Vec::new();
    let mut ingests = Vec::new();
    for round in 0..ROUNDS {
        let copy_path = work.path().join("copy.bin");
        writes.push(time(|| copy_with_fsync(&source, &copy_path))?);
        std::fs::remove_file(&copy_path)?;
        let store_dir = work.path().join(format!("store{round}"));
        ingests.push(ingest_once(&source, &store_dir, size).await?);
    }
    let write = median(&mut writes);
    let ingest = median(&mut ingests);
    let floor = write.max(sha256);

    let rate = |d: Duration| mib as f64 / d.as_secs_f64();
    let list = |ds: &[Duration]| {
        ds.iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!();
    println!("{mib} MiB, same bytes, same run       seconds     MiB/s   runs (s)");
    let row = |name: &str, d: Duration, runs: &str| {
        println!("{name:<34} {:>8.3} {:>9.0}   {runs}", d.as_secs_f64(), rate(d));
    };
    row("SHA-256 only (1 thread)", sha256, "");
    row("BLAKE3 only (1 thread)", blake3, "");
    row("write + fsync only (median)", write, &list(&writes));
    row("pipeline ingest (median)", ingest, &list(&ingests));
    println!();
    println!(
        "ingest = {:.2} x floor max(SHA-256, write + fsync) = {:.3} s (target <= 1.25); \
         doing them one after the other would take {:.3} s",
        ingest.as_secs_f64() / floor.as_secs_f64(),
        floor.as_secs_f64(),
        (sha256 + write).as_secs_f64(),
    );
    Ok(())
}

async fn ingest_once(source: &Path, store_dir: &Path, size: u64) -> Result<Duration, Box<dyn std::error::Error>> {
    let store = LocalBlobStore::new(store_dir).await?;
    store.cleanup_leftovers().await?;
    let options = IngestOptions {
        declared_len: Some(size),
        ..IngestOptions::default()
    };
    let started = Instant::now();
    let mut file = tokio::fs::File::open(source).await?;
    file.set_max_buf_size(options.pipeline.chunk_size());
    let item = ingest_reader(&store, file, &options).await?;
    let elapsed = started.elapsed();
    println!(
        "ingested {} bytes in {:.3} s: sha256 {}, blake3 {}, peak {} chunks ({} MiB) in flight",
        item.size,
        elapsed.as_secs_f64(),
        item.sha256,
        item.blake3,
        item.pipeline.peak_chunks_in_flight,
        item.pipeline.peak_bytes_in_flight >> 20
    );
    std::fs::remove_dir_all(store_dir)?;
    Ok(elapsed)
}

fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(f: impl FnOnce() -> io::Result<()>) -> io::Result<Duration> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed())
}

/// Pseudo-random bytes (xorshift64*), fsynced so later runs do not pay for its write-back.
fn generate(path: &Path, size: u64) -> io::Result<()> {
    let mut file = File::create(path)?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; BUF];
    let mut left = size;
    while left > 0 {
        for word in buf.chunks_exact_mut(8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            word.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        let n = left.min(BUF as u64) as usize;
        file.write_all(&buf[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

fn hash_file<H: Default>(path: &Path, mut update: impl FnMut(&[u8], &mut H)) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; BUF];
    let mut state = H::default();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        update(&buf[..n], &mut state);
    }
    std::hint::black_box(&state);
    Ok(())
}

fn copy_with_fsync(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = File::create(to)?;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])?;
    }
    dst.sync_all()
}
