//! Resource limits and input hygiene of issue 12, black-box: a gzip bomb of valid log lines is
//! refused and leaves nothing; a source larger than the ingest memory budget (and three at
//! once) ingests within it, measured on the real `cordon serve` process (`VmHWM`); the
//! per-incident timeline disk quota refuses the upload that would exceed it and leaves the
//! timeline and the evidence as they were; titles with NUL or ESC and indicators with U+202E
//! are refused by name and code point.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

// ---------- helpers ----------

/// `n` valid auth.log lines (sshd failures from a handful of addresses), `Mar 3 10:00:00` on,
/// each time and address repeated for `spread` lines.
fn auth_log(n: u64, spread: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n as usize * 96);
    for i in 0..n {
        let s = (i / spread) % 60;
        let m = (i / spread / 60) % 60;
        writeln!(
            out,
            "Mar  3 10:{m:02}:{s:02} web1 sshd[4242]: Failed password for root from 203.0.113.{} port 22 ssh2",
            1 + (i / spread) % 7
        )
        .unwrap();
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

async fn ingest(base: &str, http: &reqwest::Client, r: &str, name: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = http
        .post(format!(
            "{base}/api/v1/incidents/{r}/timeline/sources?name={name}&year=2024"
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    if !status.is_success() {
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert_eq!(ct, "application/problem+json", "{status}");
    }
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn incident(app: &TestApp) -> String {
    app.declare(ADMIN_TOKEN, "Limits", "security").await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list(app: &TestApp, path: &str) -> Vec<Value> {
    let (st, v) = app.get(path, ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    v.as_array().unwrap_or_else(|| panic!("{path}: {v}")).clone()
}

/// Every file under `dir` with its size, tantivy's lock and bookkeeping files left out.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if !name.ends_with(".lock") && name != ".managed.json" {
            out.push((p, e.metadata().unwrap().len()));
        }
    }
    out.sort();
    out
}

// ---------- the gzip ratio ----------

/// Issue 12, finding 8: a 1.7 MB gzip of valid log lines (500 MB unpacked) cost 1.6 GB of RSS
/// and 1 GB of disk. Past its first 16 MiB, a gzip upload may inflate at most 200× (the
/// default); this one is refused with 413 `gzip_ratio_exceeded` naming both figures, and
/// nothing of it is kept: no source, no events, no evidence item, no event file.
#[tokio::test]
async fn a_high_ratio_gzip_of_valid_lines_is_refused_and_nothing_is_kept() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    let plain = auth_log(600_000, 10_000);
    let packed = gzip(&plain);
    let ratio = plain.len() / packed.len();
    assert!(ratio > 250, "the test's gzip must be a bomb: {ratio}×");
    let timeline_dir = app.data_dir.join("timeline").join(&r);
    let (st, v) = ingest(&app.base, &app.http, &r, "bomb.log.gz", packed).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["code"], "gzip_ratio_exceeded", "{v}");
    assert_eq!(v["limit"], 200, "{v}");
    assert!(v["ratio"].as_u64().unwrap() > 200, "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("200×") && detail.contains("nothing was kept"),
        "{detail}"
    );

    assert!(
        list(&app, &format!("/api/v1/incidents/{r}/timeline/sources"))
            .await
            .is_empty()
    );
    assert!(list(&app, &format!("/api/v1/incidents/{r}/evidence")).await.is_empty());
    let (st, v) = app.get(&format!("/api/v1/incidents/{r}/timeline"), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["events"].as_array().map(Vec::len), Some(0), "{v}");
    let left: Vec<_> = files_under(&timeline_dir.join("events"));
    assert!(left.is_empty(), "no event file is left: {left:?}");
    let total: u64 = files_under(&timeline_dir).iter().map(|(_, n)| n).sum();
    assert!(
        total < 64 << 10,
        "no index segment is left: {:?}",
        files_under(&timeline_dir)
    );
    assert!(
        app.audit_actions()
            .await
            .contains(&"timeline.ingest.aborted".to_string())
    );

    // The same lines, less compressible (a real log's 10–30×), are an ordinary source.
    let mut varied = Vec::new();
    for (i, line) in plain.split(|b| *b == b'\n').take(50_000).enumerate() {
        varied.extend_from_slice(line);
        writeln!(varied, " session={:x}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).unwrap();
    }
    let packed = gzip(&varied);
    assert!(varied.len() / packed.len() < 50);
    let (st, v) = ingest(&app.base, &app.http, &r, "auth.log.gz", packed).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["events"], 50_000, "{v}");
}

// ---------- the memory budget, on the real process ----------

/// The real `cordon serve` binary, so its memory is its own.
struct Served {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(env: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cordon"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("CORDON_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CORDON_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut base = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                base = Some(url.to_owned());
                break;
            }
        }
        Served {
            base: base.expect("the server says where it listens"),
            child,
            _dir: dir,
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes: resident pages of every
    /// kind, read by the kernel, not by the server.
    fn peak(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib << 10
    }

    async fn incident(&self, http: &reqwest::Client) -> String {
        let v: Value = http
            .post(format!("{}/api/v1/incidents", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "title": "budget", "kind": "security", "severity": "SEV-2" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["id"].as_str().unwrap().to_owned()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 12, finding 8: ingest memory grew with the number of events in a source (1 M events ≈
/// 365 MB). With the smallest budget, 160 MiB, a source of 2.1 M events (≈ 180 MB of lines;
/// ≈ 330 MB of memory more before) ingests whole, and the server's peak resident memory grows by
/// less than the budget; three sources at once (two may run together) by less than twice it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_source_larger_than_the_memory_budget_ingests_within_it() {
    const BUDGET: u64 = 160 << 20;
    let served = Served::start(&[
        ("CORDON_TIMELINE_INGEST_MEMORY", "160MiB"),
        ("CORDON_TIMELINE_INGESTS_AT_ONCE", "2"),
    ]);
    let http = reqwest::Client::new();
    let r = served.incident(&http).await;
    // Warm up: the first ingest starts the index writer's threads and the allocator's arenas.
    let (st, v) = ingest(&served.base, &http, &r, "warm.log", auth_log(2_000, 1)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let before = served.peak();

    let big = auth_log(2_100_000, 1);
    assert!(big.len() as u64 > BUDGET, "the source is larger than the budget");
    let (st, v) = ingest(&served.base, &http, &r, "big.log", big).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["events"], 2_100_000, "{v}");
    let one = served.peak();
    eprintln!("peak: {} MiB idle, {} MiB after one ingest", before >> 20, one >> 20);
    assert!(
        one - before < BUDGET,
        "one ingest grew the peak by {} MiB (budget {} MiB)",
        (one - before) >> 20,
        BUDGET >> 20
    );

    // Three at once, into three incidents: two run, the third waits for a turn (up to 30 s,
    // then 503 `ingest_busy`: its body is not read meanwhile).
    let mut tasks = Vec::new();
    for i in 0..3 {
        let (http, base) = (http.clone(), served.base.clone());
        let r = served.incident(&http).await;
        let body = auth_log(120_000, 1 + i);
        tasks.push(tokio::spawn(async move {
            ingest(&base, &http, &r, "again.log", body).await
        }));
    }
    let mut kept = 0;
    for t in tasks {
        let (st, v) = t.await.unwrap();
        if st == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(v["code"], "ingest_busy", "{v}");
            assert_eq!(v["ingests_at_once"], 2, "{v}");
            continue;
        }
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["events"], 120_000, "{v}");
        kept += 1;
    }
    assert!(kept >= 2, "two ingests run at once");
    let three = served.peak();
    eprintln!("peak: {} MiB after three at once", three >> 20);
    assert!(
        three - before < 2 * BUDGET,
        "three ingests grew the peak by {} MiB (two at once, budget {} MiB each)",
        (three - before) >> 20,
        BUDGET >> 20
    );
}

// ---------- the disk quota ----------

/// The per-incident timeline disk quota: an upload that would take the incident's timeline
/// past it is refused with 507 `timeline_quota_exceeded` — whether the quota is crossed while
/// the events stream in or only once the last segment is written — and the timeline and the
/// evidence are left exactly as they were.
#[tokio::test]
async fn the_upload_that_would_exceed_the_disk_quota_is_refused_and_leaves_nothing() {
    let app = spawn_app_with(|c| c.timeline_disk_quota = 4 << 20).await;
    let r = incident(&app).await;
    let (st, v) = ingest(&app.base, &app.http, &r, "first.log", auth_log(500, 1)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let dir = app.data_dir.join("timeline").join(&r);
    let files = files_under(&dir);
    let sources = list(&app, &format!("/api/v1/incidents/{r}/timeline/sources")).await;
    let evidence = list(&app, &format!("/api/v1/incidents/{r}/evidence")).await;
    let evidence_files = files_under(&app.data_dir.join("evidence"));
    assert_eq!((sources.len(), evidence.len()), (1, 1));

    // 20 MB of lines: refused as the event file passes the quota; 3 MB: refused at the commit.
    for (name, lines) in [("huge.log", 200_000), ("medium.log", 30_000)] {
        let (st, v) = ingest(&app.base, &app.http, &r, name, auth_log(lines, 1)).await;
        assert_eq!(st, StatusCode::INSUFFICIENT_STORAGE, "{name}: {v}");
        assert_eq!(v["code"], "timeline_quota_exceeded", "{v}");
        assert_eq!(v["quota_bytes"], 4 << 20, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("nothing was kept"), "{v}");
        assert_eq!(files_under(&dir), files, "{name}: the timeline's files are as before");
        assert_eq!(
            list(&app, &format!("/api/v1/incidents/{r}/timeline/sources")).await,
            sources
        );
        assert_eq!(list(&app, &format!("/api/v1/incidents/{r}/evidence")).await, evidence);
        assert_eq!(files_under(&app.data_dir.join("evidence")), evidence_files, "{name}");
        let (_, page) = app
            .get(&format!("/api/v1/incidents/{r}/timeline?limit=1000"), ADMIN_TOKEN)
            .await;
        assert_eq!(page["events"].as_array().map(Vec::len), Some(500), "{name}");
    }
    // Another incident has its own quota.
    let other = incident(&app).await;
    let (st, v) = ingest(&app.base, &app.http, &other, "medium.log", auth_log(10_000, 1)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

// ---------- control and bidirectional characters ----------

/// Issue 12, finding 12: titles accepted NUL and ESC, indicators accepted U+202E. Each is
/// refused with 422 naming the field and the character's code point; nothing is stored.
#[tokio::test]
async fn titles_with_nul_or_esc_and_indicators_with_bidi_overrides_are_refused() {
    let app = spawn_app().await;
    for (title, point) in [
        ("Breach\u{0}of db1", "U+0000"),
        ("\u{1b}[2J\u{1b}[HAll clear", "U+001B"),
    ] {
        let (st, v) = app
            .post(
                "/api/v1/incidents",
                ADMIN_TOKEN,
                json!({ "title": title, "kind": "security", "severity": "SEV-2" }),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["field"], "title", "{v}");
        assert!(v["detail"].as_str().unwrap().contains(point), "{v}");
    }
    let (_, listed) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    let listed = listed.to_string();
    assert!(!listed.contains("Breach") && !listed.contains("All clear"), "{listed}");

    let r = incident(&app).await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}"),
            ADMIN_TOKEN,
            json!({ "title": "ok\u{7}" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    for (kind, value) in [
        ("domain", "evil\u{202E}moc.example"),
        ("account", "root\u{202E}"),
        ("user_agent", "curl/8.5 \u{2066}x"),
    ] {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{r}/iocs"),
                ADMIN_TOKEN,
                json!({ "kind": kind, "value": value }),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("U+20"), "{kind}: {v}");
    }
    assert!(list(&app, &format!("/api/v1/incidents/{r}/iocs")).await.is_empty());
    // Multi-line text keeps its line ends; an asset name does not take a tab.
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/assets"),
            ADMIN_TOKEN,
            json!({ "name": "web1\tweb2", "kind": "host", "state": "suspected" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("U+0009"), "{v}");
}
