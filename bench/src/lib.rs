//! Shared helpers for the benchmark programs: start a release `cordon serve` as a child
//! process, drive load with a fixed number of concurrent keep-alive connections, and print
//! figures as a table; [`browser`] signs in as a browser for the web benchmarks.

pub mod browser;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A `cordon serve` child process on a free loopback port with a fresh data dir.
pub struct Server {
    pub url: String,
    pub token: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `cordon` binary beside this benchmark (`target/release/cordon`), or `$CORDON_BIN`.
pub fn cordon_bin() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("CORDON_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let bin = exe.parent().context("no parent dir")?.join("cordon");
    if !bin.exists() {
        bail!(
            "{} not found: build it first with `cargo build --release -p cordon -p cordon-bench`",
            bin.display()
        );
    }
    Ok(bin)
}

impl Server {
    /// The server's process id (for reading its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start() -> anyhow::Result<Self> {
        Self::start_with_env(&[])
    }

    /// Starts the server with extra `CORDON_*` settings.
    pub fn start_with_env(env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let token = "cordon_bench_admin_token_000000000000".to_owned();
        let mut child = Command::new(cordon_bin()?)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .envs(env.iter().copied())
            .env("CORDON_ADMIN_TOKEN", &token)
            .env("CORDON_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting cordon serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(u) = line.strip_prefix("listening on ") {
                url = Some(u.to_owned());
                break;
            }
        }
        let url = url.context("cordon serve did not say where it listens")?;
        Ok(Self {
            url,
            token,
            child,
            _dir: dir,
        })
    }
}

/// The figures of one load run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub name: String,
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Figures {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Runs `make(i)` requests from `concurrency` workers for `duration`, recording latencies.
pub async fn load<F, Fut>(name: &str, concurrency: usize, duration: Duration, make: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::new();
    for w in 0..concurrency {
        let make = make.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0;
            let mut i = w;
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = make(i).await;
                lat.push(t.elapsed().as_micros() as u32);
                if !ok {
                    errors += 1;
                }
                i += concurrency;
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    let seconds = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Figures {
        name: name.to_owned(),
        requests: all.len(),
        errors,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// Prints figures side by side with their reference row.
pub fn print_table(rows: &[Figures], reference: &Figures) {
    println!(
        "{:<44} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "endpoint", "req/s", "p50 ms", "p99 ms", "% ref", "errors"
    );
    for r in std::iter::once(reference).chain(rows) {
        println!(
            "{:<44} {:>10.0} {:>9.2} {:>9.2} {:>8.1}% {:>8}",
            r.name,
            r.rate(),
            r.p50_ms,
            r.p99_ms,
            100.0 * r.rate() / reference.rate(),
            r.errors
        );
    }
}
