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
