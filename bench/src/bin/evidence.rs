//! `bench-evidence`: evidence ingest through a release `cordon serve` — a streamed HTTP upload
//! that the server hashes (SHA-256 and BLAKE3) while it writes a durable, write-once blob —
//! beside, in the same run and on the same file, `openssl dgst -sha256` (the hashing
//! reference) and `dd bs=1M conv=fsync` (the durable-write reference).
//!
//! Floor = the slower of the two references, since hashing and a durable write can overlap.
//! Target (issue 5): ingest time ≤ 1.25 × floor, and the server's memory flat (peak RSS growth
//! under 100 MB for a 4 GiB upload, read from `/proc/<pid>/status` `VmHWM`).
//!
//! The test file lives in the same temporary filesystem as the server's data dir and is in
//! the page cache for all three runs, so each is measured the same way.
//!
//! Run: `cargo build --release -p cordon -p cordon-bench && target/release/bench-evidence [GiB …]`
//! (default: `1`; e.g. `1 4`).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use cordon_bench::Server;
use serde_json::{Value, json};
use tokio_util::io::ReaderStream;

const MIB: u64 = 1 << 20;
const TARGET_RATIO: f64 = 1.25;
const TARGET_RSS_GROWTH_MB: f64 = 100.0;

/// One timed step.
struct Row {
    name: String,
    seconds: f64,
}

/// Writes `size` bytes of incompressible data and makes them durable.
fn make_file(path: &Path, size: u64) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(8 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; 8 << 20];
    let mut left = size;
    while left > 0 {
        for word in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.into_inner()?.sync_all()?;
    Ok(())
}

/// Runs a command to completion and returns (seconds, stdout).
fn timed(cmd: &mut Command) -> anyhow::Result<(f64, String)> {
    let started = Instant::now();
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((seconds, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// A `/proc/<pid>/status` field in MiB (`VmRSS`, `VmHWM`).
fn proc_mib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed status line")?
        .parse()?;
    Ok(kib / 1024.0)
}

async fn ingest(
    http: &reqwest::Client,
    server: &Server,
    incident: &str,
    path: &Path,
    size: u64,
) -> anyhow::Result<(f64, Value)> {
    let started = Instant::now();
    let file = tokio::fs::File::open(path).await?;
    let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(file, MIB as usize));
    let res = http
        .post(format!(
            "{}/api/v1/incidents/{incident}/evidence?name=bench.img&source_asset=bench",
            server.url
        ))
        .bearer_auth(&server.token)
        .header("content-type", "application/octet-stream")
        .header("content-length", size)
        .body(body)
        .send()
        .await?;
    let status = res.status();
    let v: Value = res.json().await?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(status.as_u16() == 201, "upload answered {status}: {v}");
    Ok((seconds, v))
}

async fn run(gib: u64) -> anyhow::Result<bool> {
    let size = gib << 30;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("evidence.img");
    let copy = dir.path().join("dd-copy.img");
    make_file(&file, size)?;

    let server = Server::start()?;
    let pid = server.pid();
    let http = reqwest::Client::new();
    let inc: Value = http
        .post(format!("{}/api/v1/incidents", server.url))
        .bearer_auth(&server.token)
        .json(&json!({ "title": "bench", "kind": "security", "severity": "SEV-2" }))
        .send()
        .await?
        .json()
        .await?;
    let incident = inc["id"].as_str().context("no incident id")?.to_owned();

    let (openssl_s, openssl_out) = timed(Command::new("openssl").args(["dgst", "-sha256", "-r"]).arg(&file))?;
    let reference_sha256 = openssl_out.split_whitespace().next().unwrap_or_default().to_owned();
    let (dd_s, _) = timed(
        Command::new("dd")
            .arg(format!("if={}", file.display()))
            .arg(format!("of={}", copy.display()))
            .args(["bs=1M", "conv=fsync", "status=none"]),
    )?;
    std::fs::remove_file(&copy)?;

    let rss_before = proc_mib(pid, "VmRSS")?;
    let (ingest_s, item) = ingest(&http, &server, &incident, &file, size).await?;
    let peak = proc_mib(pid, "VmHWM")?;
    if item["sha256"] != json!(reference_sha256) {
        bail!(
            "the server's SHA-256 {} differs from openssl's {reference_sha256}",
            item["sha256"]
        );
    }
    ensure!(
        item["size"] == json!(size),
        "stored size {} is not {size}",
        item["size"]
    );

    let floor = openssl_s.max(dd_s);
    let rows = [
        Row {
            name: "openssl dgst -sha256 (reference)".into(),
            seconds: openssl_s,
        },
        Row {
            name: "dd bs=1M conv=fsync (reference)".into(),
            seconds: dd_s,
        },
        Row {
            name: "floor = slower of the two".into(),
            seconds: floor,
        },
        Row {
            name: "POST …/evidence (SHA-256 + BLAKE3, fsync)".into(),
            seconds: ingest_s,
        },
    ];
    println!();
    println!(
        "bench-evidence: {gib} GiB file, server {} (pid {pid}), {} cores",
        server.url,
        cores()
    );
    println!("{:<44} {:>9} {:>10} {:>9}", "step", "seconds", "MiB/s", "× floor");
    for r in &rows {
        println!(
            "{:<44} {:>9.2} {:>10.1} {:>9.2}",
            r.name,
            r.seconds,
            size as f64 / MIB as f64 / r.seconds,
            r.seconds / floor
        );
    }
    let ratio = ingest_s / floor;
    let growth = peak - rss_before;
    let growth_mb = growth * 1.048_576;
    println!(
        "ingest / floor = {ratio:.2} (target ≤ {TARGET_RATIO}): {}",
        if ratio <= TARGET_RATIO { "met" } else { "NOT MET" }
    );
    println!(
        "server memory: RSS {rss_before:.1} MiB before, peak (VmHWM) {peak:.1} MiB: growth {growth:.1} MiB = {growth_mb:.1} MB (target < {TARGET_RSS_GROWTH_MB} MB): {}",
        if growth_mb < TARGET_RSS_GROWTH_MB {
            "met"
        } else {
            "NOT MET"
        }
    );
    println!("sha256 {reference_sha256} (server and openssl agree)");
    Ok(ratio <= TARGET_RATIO && growth_mb < TARGET_RSS_GROWTH_MB)
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().with_context(|| format!("`{a}` is not a size in GiB")))
        .collect::<anyhow::Result<_>>()?;
    let sizes = if sizes.is_empty() { vec![1] } else { sizes };
    let mut all_met = true;
    for gib in sizes {
        all_met &= run(gib).await?;
    }
    if !all_met {
        std::process::exit(1);
    }
    Ok(())
}
