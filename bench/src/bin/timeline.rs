//! `bench-timeline`: the attack timeline end to end. Generates a mixed corpus (sshd/sudo
//! auth.log, nginx access log, PostgreSQL `%m [%p] %q%u@%d ` log) of N lines, streams it
//! through a release `cordon serve` into one incident, and prints events/s beside, in the same
//! run, the time `wc -l` takes on the same bytes and Plaso (`log2timeline` + `psort`, from
//! the venv `bench/plaso-env.sh` creates) on a slice of the same files. Then IP pivots
//! (`GET …/timeline?ip=X&limit=10000`, the IP of a random event each time) with p50/p99.
//!
//! Targets (2 cores): ≥ 250 k events/s end to end, ≥ 100× Plaso, pivot p50 < 20 ms and
//! p99 < 100 ms over 10 M events.
//!
//! Run: `cargo build --release -p cordon -p cordon-bench && eval "$(bench/plaso-env.sh)" &&
//! target/release/bench-timeline 1000000 10000000 [--plaso-lines=30000] [--pivots=200]`

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use cordon_bench::Server;
use serde_json::{Value, json};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Client addresses: a pool of `lines / 50`, the first ones far more frequent (a few noisy
/// scanners, a long tail of single visitors).
fn ip(rng: &mut Rng, pool: u64) -> String {
    let u = rng.unit();
    let i = ((pool as f64) * u * u * u) as u64;
    format!(
        "{}.{}.{}.{}",
        11 + (i >> 24) % 200,
        (i >> 16) & 255,
        (i >> 8) & 255,
        1 + (i & 255) % 254
    )
}

const USERS: &[&str] = &[
    "root", "admin", "alice", "bob", "deploy", "postgres", "www-data", "backup",
];
const PATHS: &[&str] = &[
    "/",
    "/index.php",
    "/wp-login.php",
    "/api/v1/orders?id=",
    "/static/app.js",
    "/admin/config",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.31.0",
];

/// Writes the corpus (cached by size under `dir`) and returns its files.
fn corpus(dir: &Path, lines: u64) -> anyhow::Result<Vec<PathBuf>> {
    let files = ["auth.log", "access.log", "postgresql.log"].map(|f| dir.join(f));
    if files.iter().all(|f| f.exists()) && dir.join("done").exists() {
        return Ok(files.to_vec());
    }
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ lines);
    let pool = (lines / 50).max(100);
    let mut out: Vec<BufWriter<std::fs::File>> = files
        .iter()
        .map(|f| Ok(BufWriter::with_capacity(1 << 20, std::fs::File::create(f)?)))
        .collect::<anyhow::Result<_>>()?;
    // 35 % auth, 40 % access, 25 % PostgreSQL, spread over 30 days.
    let span = 30 * 86_400u64;
    for i in 0..lines {
        let secs = i * span / lines.max(1);
        let (day, h, m, s) = (1 + secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let user = USERS[rng.below(USERS.len() as u64) as usize];
        let pid = 1000 + rng.below(30_000);
        match rng.below(20) {
            0..7 => {
                let host = format!("web{}", rng.below(8));
                let msg = match rng.below(6) {
                    0 => format!(
                        "sshd[{pid}]: Failed password for invalid user {user} from {} port {} ssh2",
                        ip(&mut rng, pool),
                        1024 + rng.below(60_000)
                    ),
                    1 => format!(
                        "sshd[{pid}]: Accepted publickey for {user} from {} port {} ssh2: RSA SHA256:abcdefghijklmnop",
                        ip(&mut rng, pool),
                        1024 + rng.below(60_000)
                    ),
                    2 => format!(
                        "sudo:    {user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
                        rng.below(9)
                    ),
                    3 => format!("sshd[{pid}]: pam_unix(sshd:session): session opened for user {user} by (uid=0)"),
                    4 => format!("CRON[{pid}]: (root) CMD (/usr/lib/php/sessionclean)"),
                    _ => format!(
                        "sshd[{pid}]: Connection closed by authenticating user {user} {} port {} [preauth]",
                        ip(&mut rng, pool),
                        1024 + rng.below(60_000)
                    ),
                };
                writeln!(out[0], "Mar {day:>2} {h:02}:{m:02}:{s:02} {host} {msg}")?;
            }
            7..15 => {
                let path = PATHS[rng.below(PATHS.len() as u64) as usize];
                writeln!(
                    out[1],
                    "{} - - [{day:02}/Mar/2024:{h:02}:{m:02}:{s:02} +0000] \"{} {path}{} HTTP/1.1\" {} {} \"https://example.com/\" \"{}\"",
                    ip(&mut rng, pool),
                    if rng.below(5) == 0 { "POST" } else { "GET" },
                    rng.below(1000),
                    [200, 200, 200, 301, 404, 500][rng.below(6) as usize],
                    rng.below(50_000),
                    AGENTS[rng.below(AGENTS.len() as u64) as usize],
                )?;
            }
            _ => {
                let head = format!(
                    "2024-03-{day:02} {h:02}:{m:02}:{s:02}.{:03} UTC [{pid}] {user}@shop ",
                    rng.below(1000)
                );
                let msg = match rng.below(5) {
                    0 => format!(
                        "LOG:  duration: {}.{:03} ms  statement: SELECT * FROM orders WHERE customer_id = {}",
                        rng.below(100),
                        rng.below(1000),
                        rng.below(100_000)
                    ),
                    1 => format!(
                        "LOG:  statement: UPDATE customers SET last_seen = now() WHERE id = {}",
                        rng.below(100_000)
                    ),
                    2 => format!("LOG:  connection authorized: user={user} database=shop application_name=psql"),
                    3 => "ERROR:  relation \"customer\" does not exist at character 15".to_owned(),
                    _ => format!(
                        "LOG:  connection received: host={} port={}",
                        ip(&mut rng, pool),
                        rng.below(65_000)
                    ),
                };
                writeln!(out[2], "{head}{msg}")?;
            }
        }
    }
    for mut w in out {
        w.flush()?;
    }
    std::fs::write(dir.join("done"), b"")?;
    Ok(files.to_vec())
}

fn size_of(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// CPU seconds of a running process (user + system).
fn pid_cpu(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// The process's peak resident memory (`VmHWM`) in MiB.
fn pid_peak_mib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib >> 10)
}

struct Plaso {
    events: u64,
    lines: u64,
    seconds: f64,
}

/// Runs log2timeline + psort on the first `lines` lines of the corpus (split like the
/// corpus). `Err` says why it could not run.
fn plaso(files: &[PathBuf], lines: u64, work: &Path) -> Result<Plaso, String> {
    let venv = std::env::var("CORDON_PLASO_VENV").unwrap_or_else(|_| "/var/tmp/cordon-bench/plaso-venv".into());
    let bin = |names: &[&str]| {
        names
            .iter()
            .map(|n| Path::new(&venv).join("bin").join(n))
            .find(|p| p.exists())
    };
    let (Some(l2t), Some(psort)) = (bin(&["log2timeline", "log2timeline.py"]), bin(&["psort", "psort.py"])) else {
        return Err(format!("not installed in {venv} (run bench/plaso-env.sh)"));
    };
    let src = work.join("plaso-src");
    let _ = std::fs::remove_dir_all(work.join("plaso-src"));
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    let total_bytes = size_of(files).max(1);
    let mut taken = 0;
    for f in files {
        // Each file contributes in proportion to its size.
        let share = lines * std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) / total_bytes;
        let text = std::fs::read_to_string(f).map_err(|e| e.to_string())?;
        let slice: Vec<&str> = text.lines().take(share as usize).collect();
        taken += slice.len() as u64;
        std::fs::write(src.join(f.file_name().unwrap_or_default()), slice.join("\n") + "\n")
            .map_err(|e| e.to_string())?;
    }
    let storage = work.join("bench.plaso");
    let out = work.join("bench.jsonl");
    let _ = std::fs::remove_file(&storage);
    let _ = std::fs::remove_file(&out);
    let start = Instant::now();
    // Plaso writes its own log files into the working directory: keep them out of the repo.
    let st = Command::new(&l2t)
        .current_dir(work)
        .args(["--status_view", "none", "--unattended", "--storage_file"])
        .arg(&storage)
        .arg(&src)
        .output()
        .map_err(|e| e.to_string())?;
    if !st.status.success() {
        return Err(format!(
            "log2timeline failed: {}",
            String::from_utf8_lossy(&st.stderr).lines().last().unwrap_or("")
        ));
    }
    let st = Command::new(&psort)
        .current_dir(work)
        .args(["--status_view", "none", "--unattended", "-o", "json_line", "-w"])
        .arg(&out)
        .arg(&storage)
        .output()
        .map_err(|e| e.to_string())?;
    if !st.status.success() {
        return Err(format!(
            "psort failed: {}",
            String::from_utf8_lossy(&st.stderr).lines().last().unwrap_or("")
        ));
    }
    let seconds = start.elapsed().as_secs_f64();
    let events = std::fs::read_to_string(&out)
        .map(|t| t.lines().count() as u64)
        .unwrap_or(0);
    Ok(Plaso {
        events,
        lines: taken,
        seconds,
    })
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut sizes = Vec::new();
    let mut plaso_lines = 30_000u64;
    let mut pivots = 200usize;
    for a in std::env::args().skip(1) {
        if let Some(v) = a.strip_prefix("--plaso-lines=") {
            plaso_lines = v.parse().context("--plaso-lines")?;
        } else if let Some(v) = a.strip_prefix("--pivots=") {
            pivots = v.parse().context("--pivots")?;
        } else {
            let v = a.to_ascii_uppercase();
            let n: f64 = v
                .trim_end_matches(['M', 'K'])
                .parse()
                .with_context(|| format!("size `{a}`"))?;
            sizes.push(
                (n * if v.ends_with('M') {
                    1e6
                } else if v.ends_with('K') {
                    1e3
                } else {
                    1.0
                }) as u64,
            );
        }
    }
    if sizes.is_empty() {
        sizes = vec![1_000_000, 10_000_000];
    }
    let work = PathBuf::from("/var/tmp/cordon-bench");
    std::fs::create_dir_all(&work)?;
    let http = reqwest::Client::new();

    for lines in sizes {
        let dir = work.join(format!("timeline-corpus-{lines}"));
        let t = Instant::now();
        let files = corpus(&dir, lines)?;
        let bytes = size_of(&files);
        eprintln!(
            "corpus: {lines} lines, {:.0} MB ({:.1} s to generate or find)",
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );

        // wc -l on the same bytes (read once before, so the page cache is as warm as for cordon).
        let t = Instant::now();
        let wc = Command::new("wc").arg("-l").args(&files).output()?;
        let wc_secs = t.elapsed().as_secs_f64();
        let wc_lines: u64 = String::from_utf8_lossy(&wc.stdout)
            .lines()
            .last()
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);

        let server = Server::start()?;
        let base = server.url.clone();
        let token = server.token.clone();
        let inc: Value = http
            .post(format!("{base}/api/v1/incidents"))
            .bearer_auth(&token)
            .json(&json!({ "title": "bench timeline", "kind": "security", "severity": "SEV-2" }))
            .send()
            .await?
            .json()
            .await?;
        let id = inc["id"].as_str().context("no incident id")?.to_owned();

        let server_pid = server_pid();
        let cpu0 = server_pid.map(pid_cpu);
        let t = Instant::now();
        let mut events = 0;
        let mut skipped = 0;
        for f in &files {
            let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let file = tokio::fs::File::open(f).await?;
            let res = http
                .post(format!(
                    "{base}/api/v1/incidents/{id}/timeline/sources?year=2024&name={name}"
                ))
                .bearer_auth(&token)
                .body(reqwest::Body::from(file))
                .send()
                .await?;
            let status = res.status();
            let v: Value = res.json().await?;
            if !status.is_success() {
                bail!("ingest of {name} failed: {status} {v}");
            }
            events += v["events"].as_u64().unwrap_or(0);
            skipped += v["skipped"].as_u64().unwrap_or(0);
        }
        let ingest_secs = t.elapsed().as_secs_f64();
        let server_cpu = match (server_pid, cpu0) {
            (Some(p), Some(c)) => Some(pid_cpu(p) - c),
            _ => None,
        };
        let rate = events as f64 / ingest_secs;
        let ingest_peak = server_pid.and_then(pid_peak_mib);

        // Pivots: the IP of a random access-log event each time.
        let access = std::fs::read_to_string(&files[1])?;
        let access_ips: Vec<&str> = access.lines().filter_map(|l| l.split(' ').next()).collect();
        let mut rng = Rng(42);
        let mut lat = Vec::with_capacity(pivots);
        let mut hits = Vec::with_capacity(pivots);
        let mut resp_bytes = 0usize;
        for i in 0..pivots + 10 {
            let ip = access_ips[rng.below(access_ips.len() as u64) as usize];
            let t = Instant::now();
            let body = http
                .get(format!("{base}/api/v1/incidents/{id}/timeline?ip={ip}&limit=10000"))
                .bearer_auth(&token)
                .send()
                .await?
                .bytes()
                .await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if i < 10 {
                continue; // warm-up
            }
            lat.push(ms);
            resp_bytes += body.len();
            let v: Value = serde_json::from_slice(&body)?;
            hits.push(v["events"].as_array().map_or(0, Vec::len));
        }
        lat.sort_by(f64::total_cmp);
        hits.sort_unstable();
        drop(server);

        let plaso = if plaso_lines == 0 {
            Err("skipped (--plaso-lines=0)".to_owned())
        } else {
            plaso(&files, plaso_lines.min(lines), &work)
        };

        println!();
        println!(
            "bench-timeline: {lines} lines ({:.0} MB: auth.log, access.log, postgresql.log), 2 cores",
            bytes as f64 / 1e6
        );
        println!(
            "{:<52} {:>14} {:>10} {:>16}",
            "measure", "events|lines", "seconds", "per second"
        );
        println!(
            "{:<52} {:>14} {:>10.2} {:>16.0}",
            "cordon ingest over HTTP, end to end", events, ingest_secs, rate
        );
        if let Some(cpu) = server_cpu {
            println!(
                "{:<52} {:>14} {:>10.2} {:>16.0}",
                "  (server CPU seconds; events per CPU second)",
                "",
                cpu,
                events as f64 / cpu
            );
        }
        if let Some(mib) = ingest_peak {
            println!(
                "{:<52} {:>14} {:>10} {:>16}",
                "  (server peak resident memory after ingest, MiB)", mib, "", ""
            );
        }
        println!("{:<52} {:>14} {:>10} {:>16}", "  skipped lines", skipped, "", "");
        println!(
            "{:<52} {:>14} {:>10.3} {:>16.0}",
            "wc -l, same bytes",
            wc_lines,
            wc_secs,
            wc_lines as f64 / wc_secs
        );
        match &plaso {
            Ok(p) => {
                let prate = p.events as f64 / p.seconds;
                println!(
                    "{:<52} {:>14} {:>10.2} {:>16.1}",
                    format!("plaso log2timeline+psort ({} of the lines)", p.lines),
                    p.events,
                    p.seconds,
                    prate
                );
                println!(
                    "{:<52} {:>14} {:>10} {:>15.0}x",
                    "cordon / plaso (events/s)",
                    "",
                    "",
                    rate / prate
                );
            }
            Err(why) => println!("{:<52} {why}", "plaso log2timeline+psort: NOT MEASURED"),
        }
        println!(
            "{:<52} p50 {:.2} ms, p99 {:.2} ms; hits min {} median {} max {}; {:.1} MB/answer avg",
            format!("pivot ip= (limit 10000) x{}, over {events} events", lat.len()),
            pct(&lat, 0.50),
            pct(&lat, 0.99),
            hits.first().copied().unwrap_or(0),
            hits.get(hits.len() / 2).copied().unwrap_or(0),
            hits.last().copied().unwrap_or(0),
            resp_bytes as f64 / lat.len().max(1) as f64 / 1e6,
        );
        println!(
            "targets: >= 250000 events/s end to end, >= 100x plaso, pivot p50 < 20 ms and p99 < 100 ms (at 10 M events)"
        );
    }
    Ok(())
}

/// The pid of the `cordon serve` child of this process (for its CPU time).
fn server_pid() -> Option<u32> {
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1));
        let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == Some(me.as_str()) && String::from_utf8_lossy(&cmd).contains("serve") {
            return Some(pid);
        }
    }
    None
}
