//! Outbound safety end to end (issue 12, findings 4 and 5): webhook contacts that point
//! inside — loopback, link-local, metadata, private, in every spelling and through a name —
//! are refused when added unless `outbound_allow` names their network; a peer that streams
//! forever or answers 500 with a secret in its body costs a bounded read and shows only its
//! status, to the API caller and in the page's notifications; each webhook is signed with its
//! own secret, shown once, sealed in the database, rotatable, and never the Slack secret.

mod common;

use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::{ADMIN_TOKEN, TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

const TITLE: &str = "Payroll export reached a paste site";

/// What a peer that answers badly keeps in its body: none of it may come back to the caller.
const PEER_SECRET: &str = "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

async fn add_webhook(app: &TestApp, user: &str, address: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/users/{user}/contacts"),
        ADMIN_TOKEN,
        json!({ "kind": "webhook", "address": address }),
    )
    .await
}

/// Targets that reach inside, each as a user could write it, and the kind of address the
/// refusal must name.
fn inside_targets(port: u16) -> Vec<(String, &'static str)> {
    vec![
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        ("http://169.254.169.254/latest/meta-data/iam/".into(), "cloud metadata"),
        (format!("http://[::1]:{port}/hook"), "loopback"),
        (format!("http://0x7f000001:{port}/hook"), "loopback"),
        (format!("http://2130706433:{port}/hook"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "loopback"),
        (format!("http://localhost:{port}/hook"), "loopback"),
        (format!("http://0177.0.0.1:{port}/hook"), "loopback"),
        ("http://0.0.0.0/hook".into(), "this network"),
        ("http://10.1.2.3/hook".into(), "private-use"),
        ("http://100.64.0.1/hook".into(), "CGNAT"),
        ("http://[fd00:ec2::254]/latest/meta-data/".into(), "cloud metadata"),
        ("http://[fe80::1]/hook".into(), "link-local"),
    ]
}

#[tokio::test]
async fn webhook_targets_inside_are_refused_unless_allowed() {
    // No outbound_allow: the default of a deployment.
    let app = spawn_app_with(|c| c.outbound_allow.clear()).await;
    app.user("alice", &[]).await;
    for (target, what) in inside_targets(9) {
        let (st, p) = add_webhook(&app, "alice", &target).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{target}: {p}");
        assert_eq!(p["code"], "invalid_field", "{target}: {p}");
        assert_eq!(p["field"], "address", "{target}: {p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("refused: "), "{target}: {detail}");
        assert!(detail.contains(what), "{target}: {detail}");
        assert!(detail.contains("outbound_allow"), "{target}: {detail}");
    }
    let (st, v) = app.get("/api/v1/users/alice/contacts", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        v.as_array().unwrap().iter().all(|c| c["kind"] != "webhook"),
        "nothing stored: {v}"
    );
    // Each attempt to point a webhook inside is on the record.
    let refused = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "contact.add.refused")
        .count();
    assert_eq!(refused, inside_targets(9).len());
    // A host that does not resolve is refused too, without a record.
    let (st, p) = add_webhook(&app, "alice", "https://hooks.no-such-host.invalid/x").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("does not resolve"), "{p}");

    // The networks outbound_allow names are allowed — and only those.
    let app = spawn_app_with(|c| {
        c.outbound_allow = [
            "127.0.0.0/8",
            "::1",
            "169.254.169.254/32",
            "fe80::/10",
            "fd00:ec2::254/128",
        ]
        .map(String::from)
        .to_vec();
    })
    .await;
    app.user("alice", &[]).await;
    for (target, what) in inside_targets(9) {
        let (st, p) = add_webhook(&app, "alice", &target).await;
        if ["this network", "private-use", "CGNAT"].contains(&what) {
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{target}: {p}");
        } else {
            assert_eq!(st, StatusCode::CREATED, "{target}: {p}");
            assert!(p["secret"].as_str().unwrap().starts_with("whsec_"), "{p}");
        }
    }

    // Allowing the whole link-local network does not open the metadata endpoint.
    let app = spawn_app_with(|c| c.outbound_allow = vec!["169.254.0.0/16".into()]).await;
    app.user("alice", &[]).await;
    let (st, _) = add_webhook(&app, "alice", "http://169.254.7.7/hook").await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, p) = add_webhook(&app, "alice", "http://169.254.169.254/latest/").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("cloud metadata"), "{p}");
}

/// A peer on loopback that answers `status` and then streams a body forever (lines that look
/// like secrets); when the client hangs up it reports how many bytes it wrote.
async fn endless_peer(status: u16) -> (String, UnboundedReceiver<u64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (done, finished) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let done = done.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = sock.read(&mut buf).await;
                let head =
                    format!("HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n");
                let mut written = 0u64;
                if sock.write_all(head.as_bytes()).await.is_ok() {
                    let line = format!("{PEER_SECRET}\n").repeat(256);
                    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
                    while sock.write_all(chunk.as_bytes()).await.is_ok() {
                        written += line.len() as u64;
                    }
                }
                let _ = done.send(written);
            });
        }
    });
    (url, finished)
}

/// A peer that answers every request with 500 and a secret-looking body, counting requests.
async fn failing_peer() -> (String, UnboundedReceiver<()>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move || {
        let tx = tx.clone();
        async move {
            let _ = tx.send(());
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error; debug dump follows\n{PEER_SECRET}\nsession=eyJhbGciOi.secret"),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

fn now(app: &TestApp) -> jiff::Timestamp {
    use cordon_core::clock::Clock;
    app.clock.now()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn test_contact(app: &TestApp, address: &str) -> (StatusCode, Value) {
    app.post(
        "/api/v1/users/alice/contacts/test",
        ADMIN_TOKEN,
        json!({ "kind": "webhook", "address": address }),
    )
    .await
}

#[tokio::test]
async fn an_endless_answer_is_read_only_so_far_and_shown_as_its_status() {
    let app = spawn_app_with(|_| {}).await;
    app.user("alice", &[]).await;
    let rss_before = rss_kib();
    for (status, expect) in [(500, Some("HTTP 500")), (200, None)] {
        let (url, mut finished) = endless_peer(status).await;
        let (st, v) = add_webhook(&app, "alice", &url).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = tokio::time::timeout(Duration::from_secs(10), test_contact(&app, &url))
            .await
            .expect("the answer is cut off, not read to the request timeout");
        match expect {
            Some(status_text) => {
                assert_eq!(st, StatusCode::CONFLICT, "{v}");
                let detail = v["detail"].as_str().unwrap();
                assert!(detail.ends_with(status_text), "{detail}");
                assert!(!v.to_string().contains("aws_secret"), "{v}");
            }
            None => assert_eq!(st, StatusCode::OK, "{v}"),
        }
        let written = tokio::time::timeout(Duration::from_secs(10), finished.recv())
            .await
            .expect("Cordon hung up")
            .unwrap();
        // 64 KiB read, plus what the two sockets' buffers hold: megabytes at most, where an
        // unbounded read takes gigabytes before the request timeout.
        assert!(written < 64 * 1024 * 1024, "the peer wrote {written} bytes");
    }
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < 256 * 1024, "RSS grew by {grown} KiB");
}

#[tokio::test]
async fn a_failing_peers_body_never_reaches_the_caller_nor_the_page() {
    let app = spawn_app_with(|_| {}).await;
    app.user("alice", &["security"]).await;
    let (url, mut hits) = failing_peer().await;
    let (st, v) = add_webhook(&app, "alice", &url).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // "Send test": the caller sees the status only.
    let (st, v) = test_contact(&app, &url).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["detail"],
        "test message not delivered: delivery failed (transient): HTTP 500"
    );
    hits.recv().await.unwrap();

    // A page: its notification records the status only, attempt after attempt.
    let inc = app.declare(ADMIN_TOKEN, TITLE, "security").await;
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{}/pages", inc["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "user": "alice" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let page_id = page["id"].as_str().unwrap();
    let mut notification = Value::Null;
    for _ in 0..3 {
        app.cordon().deliver_due(now(&app)).await.unwrap();
        let (_, p) = app.get(&format!("/api/v1/pages/{page_id}"), ADMIN_TOKEN).await;
        notification = p["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["channel"] == "webhook")
            .cloned()
            .unwrap();
        assert!(!p.to_string().contains("aws_secret"), "{p}");
        assert!(!p.to_string().contains("debug dump"), "{p}");
        // Past the backoff, for the next attempt.
        app.clock.advance(jiff::SignedDuration::from_mins(10));
    }
    assert!(notification["attempts"].as_i64().unwrap() >= 2, "{notification}");
    assert_eq!(notification["error"], "delivery failed (transient): HTTP 500");

    // Nor does the audit log carry it.
    let (_, log) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    assert!(!log.to_string().contains("aws_secret"));
    assert!(log.to_string().contains("HTTP 500"));
}

/// A webhook receiver on loopback that hands over every request it gets.
async fn receiver() -> (String, UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |h: HeaderMap, b: Bytes| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((h, b));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn next(rx: &mut UnboundedReceiver<(HeaderMap, Bytes)>) -> (HeaderMap, Bytes) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery")
        .unwrap()
}

async fn page(app: &TestApp, incident: &Value, user: &str) {
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/pages", incident["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "user": user }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    app.cordon().deliver_due(now(app)).await.unwrap();
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8], app: &TestApp) -> bool {
    cordon_channels::webhook::verify_webhook_headers(secret.as_bytes(), headers, body, now(app)).is_ok()
}

#[tokio::test]
async fn each_webhook_is_signed_with_its_own_secret_never_the_slack_one() {
    const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    let app = spawn_app_with(|c| c.slack_signing_secret = Some(SLACK_SECRET.into())).await;
    app.user("alice", &["security"]).await;
    app.user("bob", &["security"]).await;
    let bobby = app.user("bobby", &[]).await;
    let (alice_url, mut alice_rx) = receiver().await;
    let (bob_url, mut bob_rx) = receiver().await;
    let (st, a) = add_webhook(&app, "alice", &alice_url).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (st, b) = add_webhook(&app, "bob", &bob_url).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let alice_secret = a["secret"].as_str().unwrap().to_owned();
    let bob_secret = b["secret"].as_str().unwrap().to_owned();
    assert!(
        alice_secret.starts_with("whsec_") && alice_secret.len() == 6 + 64,
        "{alice_secret}"
    );
    assert_ne!(alice_secret, bob_secret);

    // Shown once: never listed again.
    let (_, list) = app.get("/api/v1/users/alice/contacts", ADMIN_TOKEN).await;
    assert!(!list.to_string().contains(&alice_secret), "{list}");
    assert!(list.as_array().unwrap().iter().all(|c| c.get("secret").is_none()));

    // Stored sealed: the database holds neither the secret nor its hex.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", app.db_path().display()))
        .await
        .unwrap();
    let stored: Vec<(String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT address, secret_sealed FROM contact_methods WHERE kind = 'webhook'")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    for (_, sealed) in &stored {
        let sealed = sealed.as_ref().expect("a sealed secret");
        for secret in [&alice_secret, &bob_secret] {
            assert!(!sealed.windows(16).any(|w| w == &secret.as_bytes()[6..22]), "in clear");
        }
    }
    db.close().await;

    let inc = app.declare(ADMIN_TOKEN, TITLE, "security").await;
    page(&app, &inc, "alice").await;
    let (headers, body) = next(&mut alice_rx).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["type"], "page");
    assert!(verify(&alice_secret, &headers, &body, &app), "alice's own secret");
    assert!(!verify(SLACK_SECRET, &headers, &body, &app), "never the Slack secret");
    assert!(!verify(&bob_secret, &headers, &body, &app), "never another contact's");

    page(&app, &inc, "bob").await;
    let (headers, body) = next(&mut bob_rx).await;
    assert!(verify(&bob_secret, &headers, &body, &app));
    assert!(!verify(&alice_secret, &headers, &body, &app));

    // Rotation: a new secret, shown once; the old one stops verifying.
    let (st, r) = app
        .post(
            "/api/v1/users/alice/contacts/rotate-secret",
            ADMIN_TOKEN,
            json!({ "address": alice_url }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let rotated = r["secret"].as_str().unwrap().to_owned();
    assert_ne!(rotated, alice_secret);
    let (st, _) = test_contact(&app, &alice_url).await;
    assert_eq!(st, StatusCode::OK);
    let (headers, body) = next(&mut alice_rx).await;
    assert!(verify(&rotated, &headers, &body, &app));
    assert!(!verify(&alice_secret, &headers, &body, &app));

    // Only admins or the owner rotate; an unknown webhook is 404.
    let (st, _) = app
        .post(
            "/api/v1/users/alice/contacts/rotate-secret",
            &bobby,
            json!({ "address": alice_url }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = app
        .post(
            "/api/v1/users/alice/contacts/rotate-secret",
            ADMIN_TOKEN,
            json!({ "address": "https://elsewhere.example/h" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a == "contact.rotate_secret"));
    assert!(actions.iter().any(|a| a == "contact.rotate_secret.refused"));

    // A restart reads the same key file: the secret still opens.
    let mut app = app;
    app.restart().await;
    let (st, v) = test_contact(&app, &alice_url).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (headers, body) = next(&mut alice_rx).await;
    assert!(verify(&rotated, &headers, &body, &app));

    // A webhook from before per-contact secrets (its column NULL after migration 0010) sends
    // nothing, says why, and works again once rotated.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path().display()))
        .await
        .unwrap();
    sqlx::query("UPDATE contact_methods SET secret_sealed = NULL WHERE address = $1")
        .bind(&alice_url)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let (st, v) = test_contact(&app, &alice_url).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("rotate"), "{v}");
    let (st, r) = app
        .post(
            "/api/v1/users/alice/contacts/rotate-secret",
            ADMIN_TOKEN,
            json!({ "address": alice_url }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let (st, _) = test_contact(&app, &alice_url).await;
    assert_eq!(st, StatusCode::OK);
    let (headers, body) = next(&mut alice_rx).await;
    assert!(verify(r["secret"].as_str().unwrap(), &headers, &body, &app));
}

#[tokio::test]
async fn webhooks_are_delivered_without_slack_configured() {
    let app = spawn_app_with(|c| assert!(c.slack_signing_secret.is_none())).await;
    // Without CORDON_SECRET_KEY, the sealing key is made on first start, private.
    {
        use std::os::unix::fs::PermissionsExt;
        let key_file = app.data_dir.join(cordon::wiring::SECRET_KEY_FILE);
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim().len(), 64);
    }
    app.user("alice", &["security"]).await;
    let (url, mut rx) = receiver().await;
    let (st, a) = add_webhook(&app, "alice", &url).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let secret = a["secret"].as_str().unwrap();
    let inc = app.declare(ADMIN_TOKEN, TITLE, "security").await;
    page(&app, &inc, "alice").await;
    let (headers, body) = next(&mut rx).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["codename"], inc["codename"]);
    assert!(verify(secret, &headers, &body, &app));
}

#[tokio::test]
async fn a_configured_key_seals_secrets_and_another_key_cannot_open_them() {
    let key = "0f".repeat(32);
    let app = spawn_app_with(|c| c.secret_key = Some(key.clone())).await;
    assert!(
        !app.data_dir.join(cordon::wiring::SECRET_KEY_FILE).exists(),
        "no key file when CORDON_SECRET_KEY is set"
    );
    app.user("alice", &["security"]).await;
    let (url, mut rx) = receiver().await;
    let (st, a) = add_webhook(&app, "alice", &url).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let secret = a["secret"].as_str().unwrap().to_owned();
    let (st, _) = test_contact(&app, &url).await;
    assert_eq!(st, StatusCode::OK);
    let (headers, body) = next(&mut rx).await;
    assert!(verify(&secret, &headers, &body, &app));

    // The same database with another key: the secret does not open, and the failure says why.
    let mut app = app;
    app.stop().await;
    app.config.secret_key = Some("f0".repeat(32));
    app.restart().await;
    let (st, v) = test_contact(&app, &url).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("CORDON_SECRET_KEY"), "{v}");
    // A bad key is refused at start.
    app.stop().await;
    let mut bad = app.config.clone();
    bad.secret_key = Some("not hex".into());
    let clock = std::sync::Arc::new(cordon_core::clock::ManualClock::new(common::start_time()));
    let err = cordon::serve::start(&bad, clock).await.unwrap_err();
    assert!(format!("{err:#}").contains("CORDON_SECRET_KEY"), "{err:#}");
}
