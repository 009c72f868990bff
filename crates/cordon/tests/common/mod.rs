//! Test helpers: boot the real server in-process on port 0 with a fresh data dir and a manual
//! clock, and one method per endpoint the tests drive.

#![allow(dead_code)]

pub mod browser;
pub mod oidc;

use std::path::PathBuf;
use std::sync::Arc;

use cordon::config::Config;
use cordon::serve::{self, Running};
use cordon_core::Timestamp;
use cordon_core::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "cordon_test_admin_token_0123456789";

pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub config: Config,
    _dir: tempfile::TempDir,
    running: Option<Running>,
}

pub fn start_time() -> Timestamp {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

/// The tests' peers (webhook receivers, the SMS gateway double, the Slack API double,
/// Synapse) listen on loopback, which the outbound policy refuses unless allowed: allowed
/// here, explicitly. `tests/outbound.rs` checks the refusals with a config without it.
pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".into(),
        admin_token: Some(ADMIN_TOKEN.into()),
        outbound_allow: vec!["127.0.0.0/8".into(), "::1/128".into()],
        ..Config::default()
    }
}

/// What a run of the real `cordon` binary printed.
pub struct CliOut {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real `cordon` binary against a server, as `token`.
pub async fn run_cli(base: &str, token: &str, args: &[&str]) -> CliOut {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(args)
        .env("CORDON_URL", base)
        .env("CORDON_TOKEN", token)
        .env("CORDON_LOG", "warn")
        .output()
        .await
        .unwrap();
    CliOut {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Boots the server with a configuration adjusted by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(start_time()));
    let running = serve::start(&config, clock.clone()).await.expect("server starts");
    TestApp {
        base: format!("http://{}", running.addr),
        admin: ADMIN_TOKEN.into(),
        clock,
        http: reqwest::Client::new(),
        data_dir: config.data_dir.clone(),
        config,
        _dir: dir,
        running: Some(running),
    }
}

impl TestApp {
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.unwrap();
        }
    }

    /// Restarts the server on the same data dir (a new port).
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = serve::start(&self.config, self.clock.clone())
            .await
            .expect("server restarts");
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if !status.is_success() {
            assert_eq!(
                ct, "application/problem+json",
                "errors are problem documents: {status} {v}"
            );
            assert!(v["code"].is_string(), "problem has a code: {v}");
        }
        (status, v)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }

    /// Creates a user and returns a token for them.
    pub async fn user(&self, name: &str, groups: &[&str]) -> String {
        let (st, v) = self
            .post(
                "/api/v1/users",
                &self.admin,
                json!({ "name": name, "email": format!("{name}@example.com"), "groups": groups }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = self
            .post(&format!("/api/v1/users/{name}/tokens"), &self.admin, json!({}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    /// Gives the existing user `name` a break-glass sign-in through the admin API: the
    /// password [`BREAK_GLASS_PASSWORD`] and a TOTP secret, which it returns (decoded).
    pub async fn break_glass(&self, name: &str) -> Vec<u8> {
        let (st, v) = self
            .request(
                reqwest::Method::PUT,
                &format!("/api/v1/users/{name}/password"),
                Some(&self.admin),
                Some(json!({ "password": BREAK_GLASS_PASSWORD })),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["totp_enrolled"], false, "{v}");
        let (st, v) = self
            .post(&format!("/api/v1/users/{name}/totp"), &self.admin, json!({}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let uri = v["uri"].as_str().unwrap();
        assert!(
            uri.starts_with(&format!("otpauth://totp/Cordon:{name}?secret=")),
            "{uri}"
        );
        base32_decode(v["secret"].as_str().unwrap())
    }

    pub async fn declare(&self, token: &str, title: &str, kind: &str) -> Value {
        let (st, v) = self
            .post(
                "/api/v1/incidents",
                token,
                json!({ "title": title, "kind": kind, "severity": "SEV-2" }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn tasks(&self, token: &str, r: &str) -> Vec<Value> {
        let (st, v) = self.get(&format!("/api/v1/incidents/{r}/tasks"), token).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v.as_array().unwrap().clone()
    }

    pub async fn task_id(&self, token: &str, r: &str, step: u64) -> String {
        let tasks = self.tasks(token, r).await;
        tasks.iter().find(|t| t["step"] == step).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn set_task(&self, token: &str, r: &str, step: u64, body: Value) -> (StatusCode, Value) {
        let id = self.task_id(token, r, step).await;
        self.patch(&format!("/api/v1/incidents/{r}/tasks/{id}"), token, body)
            .await
    }

    pub async fn add_member(&self, token: &str, r: &str, user: &str, role: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/incidents/{r}/members"),
            token,
            json!({ "user": user, "role": role }),
        )
        .await
    }

    pub async fn audit_verify(&self) -> Value {
        let (st, v) = self.get("/api/v1/audit/verify", &self.admin).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let (st, v) = self.get("/api/v1/audit?limit=10000", &self.admin).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The running application, to drive the paging engine with the manual clock.
    pub fn cordon(&self) -> &cordon_service::Cordon {
        &self.running.as_ref().expect("running").cordon
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(serve::SQLITE_FILE)
    }
}

/// The acknowledgement link in the newest of `mails` sent to `to`, as a path: the part after
/// the public URL `public` (a quoted-printable body's soft line breaks undone).
pub fn ack_link_in(mails: &[cordon_mail::testing::ReceivedMail], to: &str, public: &str) -> String {
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.rcpt_tos.iter().any(|r| r == to))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let body = mail.body().replace("=\r\n", "").replace("=\n", "");
    let link = body
        .split_whitespace()
        .find(|t| t.starts_with(&format!("{public}/ack/")))
        .expect("an ack link");
    link.trim_start_matches(public).to_owned()
}

/// The password [`TestApp::break_glass`] gives.
pub const BREAK_GLASS_PASSWORD: &str = "correct horse battery staple";

/// The bytes of a base32 secret (RFC 4648, as `otpauth://` URIs and TOTP enrolments carry it).
pub fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
