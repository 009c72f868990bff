//! First run, restarts and refusals at start: the admin bootstrap, a newer schema, and the real
//! `cordon serve` process with its `listening on` line.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::Arc;

use cordon::config::Config;
use cordon::serve::{self, ADMIN_TOKEN_FILE, AdminBootstrap};
use cordon_core::clock::ManualClock;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(common::start_time()))
}

#[tokio::test]
async fn first_start_writes_a_private_admin_token_and_later_starts_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        admin_token: None,
        ..common::test_config(dir.path())
    };
    let running = serve::start(&config, clock()).await.unwrap();
    let AdminBootstrap::Generated(path) = running.admin.clone() else {
        panic!("expected a generated token")
    };
    assert_eq!(path, config.data_dir.join(ADMIN_TOKEN_FILE));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(&config.data_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let token = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    let res = reqwest::Client::new()
        .get(format!("http://{}/api/v1/me", running.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["name"], "admin");
    assert_eq!(me["admin"], true);
    running.stop().await.unwrap();

    let again = serve::start(&config, clock()).await.unwrap();
    assert_eq!(again.admin, AdminBootstrap::Existing);
    again.stop().await.unwrap();
}

#[tokio::test]
async fn the_configured_admin_token_is_used_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path());
    let running = serve::start(&config, clock()).await.unwrap();
    assert_eq!(running.admin, AdminBootstrap::FromConfig);
    assert!(!config.data_dir.join(ADMIN_TOKEN_FILE).exists());
    running.stop().await.unwrap();
    let short = Config {
        admin_token: Some("short".into()),
        ..common::test_config(&dir.path().join("other"))
    };
    let err = serve::start(&short, clock()).await.unwrap_err();
    assert!(format!("{err:#}").contains("at least 16"), "{err:#}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path());
    serve::start(&config, clock()).await.unwrap().stop().await.unwrap();
    let db = config.data_dir.join(serve::SQLITE_FILE);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', CURRENT_TIMESTAMP, TRUE, X'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let err = serve::start(&config, clock()).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("newer than this binary"), "{msg}");
}

/// The real binary: `cordon serve` prints `listening on http://…` with the real port and
/// answers `/healthz`.
#[tokio::test]
async fn the_binary_serves_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("CORDON_ADMIN_TOKEN")
        .env("CORDON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("listening on ");
            out.push(line);
            if done {
                break;
            }
        }
        out
    })
    .await
    .unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("admin token written to ")),
        "{lines:?}"
    );
    let url = lines.last().unwrap().strip_prefix("listening on ").unwrap().to_owned();
    assert!(!url.ends_with(":0"), "{url}");
    let res = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Every path under `dir` (itself included) with its permission bits, symlinks left out.
fn modes_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        out.push((p.clone(), meta.permissions().mode() & 0o7777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

fn set_mode(p: &std::path::Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Issue 12: an existing data dir kept its mode (a 0755 dir got a 0644 `cordon.db` and a 0755
/// `evidence/`). Every start makes the dir 0700 and takes group and other bits off everything
/// in it; evidence stays read-only for its owner; a fresh database is 0600.
#[tokio::test]
async fn every_start_makes_the_data_dir_and_everything_in_it_private() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path());
    // A pre-made, world-readable data dir.
    std::fs::create_dir_all(&config.data_dir).unwrap();
    set_mode(&config.data_dir, 0o755);
    std::fs::write(config.data_dir.join("notes.txt"), "operator notes").unwrap();
    set_mode(&config.data_dir.join("notes.txt"), 0o644);

    let running = serve::start(&config, clock()).await.unwrap();
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let declared: serde_json::Value = http
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&serde_json::json!({ "title": "modes", "kind": "security", "severity": "SEV-3" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = declared["id"].as_str().expect("declared").to_owned();
    // A log: evidence file, timeline index and body file.
    let res = http
        .post(format!(
            "{base}/api/v1/incidents/{r}/timeline/sources?name=auth.log&year=2024"
        ))
        .bearer_auth(common::ADMIN_TOKEN)
        .body("Mar  3 10:00:00 web1 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // The database and its WAL files, as SQLite made them on this first start.
    for f in ["cordon.db", "cordon.db-wal", "cordon.db-shm"] {
        let p = config.data_dir.join(f);
        if p.exists() {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f} on first start");
        }
    }
    running.stop().await.unwrap();

    // Someone opens everything up between two starts.
    let before = modes_under(&config.data_dir);
    assert!(before.len() > 10, "{before:?}");
    let mut evidence_files = 0;
    for (p, mode) in &before {
        if p.is_dir() {
            set_mode(p, 0o755);
        } else if mode & 0o200 == 0 {
            evidence_files += 1; // write-once evidence: read-only, now for everyone
            set_mode(p, 0o444);
        } else {
            set_mode(p, 0o664);
        }
    }
    assert!(evidence_files > 0, "the ingested log is kept as read-only evidence");

    serve::start(&config, clock()).await.unwrap().stop().await.unwrap();
    let after = modes_under(&config.data_dir);
    for (p, mode) in &after {
        if *p == config.data_dir {
            assert_eq!(*mode, 0o700, "the data dir");
        } else {
            assert_eq!(mode & 0o077, 0, "{} is {mode:04o}", p.display());
            let was = before.iter().find(|(q, _)| q == p).map(|(_, m)| *m);
            if was.is_some_and(|m| m & 0o200 == 0) && !p.is_dir() {
                assert_eq!(*mode, 0o400, "{} stays read-only for its owner", p.display());
            }
        }
    }
    for must in ["cordon.db", "evidence", "timeline", "notes.txt"] {
        let (_, mode) = after
            .iter()
            .find(|(p, _)| *p == config.data_dir.join(must))
            .unwrap_or_else(|| panic!("{must} is there"));
        assert_eq!(mode & 0o077, 0, "{must}");
    }
}

/// A path the server cannot keep private (here: owned by another user, who could open it up
/// again at any time) stops the start with an error that names it.
#[tokio::test]
async fn a_data_dir_entry_that_cannot_be_made_private_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::test_config(dir.path());
    serve::start(&config, clock()).await.unwrap().stop().await.unwrap();
    let foreign = config.data_dir.join("evidence").join("foreign");
    std::fs::write(&foreign, "not ours").unwrap();
    set_mode(&foreign, 0o644);
    // Root can give the file away; anyone else gets an unreadable directory instead.
    let culprit = match std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)) {
        Ok(()) => foreign.clone(),
        Err(_) => {
            std::fs::remove_file(&foreign).unwrap();
            let locked = config.data_dir.join("locked");
            std::fs::create_dir(&locked).unwrap();
            std::fs::write(locked.join("inside"), "x").unwrap();
            set_mode(&locked, 0o000);
            locked.join("inside")
        }
    };
    let err = format!("{:#}", serve::start(&config, clock()).await.unwrap_err());
    let named = culprit.parent().unwrap().display().to_string();
    assert!(err.contains(&named), "{err}");
    if culprit == foreign {
        assert!(
            err.contains(&foreign.display().to_string()) && err.contains("65534"),
            "{err}"
        );
        // Once it is ours again, the start goes on and the file is private.
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata(&config.data_dir).unwrap().uid();
        std::os::unix::fs::chown(&foreign, Some(me), Some(me)).unwrap();
        serve::start(&config, clock()).await.unwrap().stop().await.unwrap();
        let mode = std::fs::metadata(&foreign).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// A data dir reached through a symbolic link is made private too (the link is followed at
/// the top only).
#[tokio::test]
async fn a_symlinked_data_dir_is_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    set_mode(&real, 0o755);
    let config = common::test_config(dir.path());
    std::os::unix::fs::symlink(&real, &config.data_dir).unwrap();
    serve::start(&config, clock()).await.unwrap().stop().await.unwrap();
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(real.join(serve::SQLITE_FILE).exists());
}
