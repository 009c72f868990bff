//! The HTTP edge under attack, black-box (issue 12, findings 6, 7 and 12): slow and half-sent
//! requests, floods of connections, shutdown with a request hanging, every error status as a
//! problem document, and Slack requests replayed or forged.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// Reads until the server closes the connection (or `within` passes): what it sent, and
/// whether it closed.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends raw bytes on a new connection and reads the answer: status, head, parsed body.
async fn raw(base: &str, request: &[u8]) -> (u16, String, Value) {
    let mut s = TcpStream::connect(addr(base)).await.unwrap();
    // The server may answer and close before it read everything; a failed write is fine.
    let _ = s.write_all(request).await;
    let (bytes, closed) = read_to_close(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?} (closed: {closed})"));
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_ascii_lowercase(), body)
}

fn assert_problem(head: &str, body: &Value, status: u16, code: &str) {
    assert!(
        head.contains("content-type: application/problem+json"),
        "{status}: {head}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

// ---------- finding 7: slow clients ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_flood_leaves_healthz_answering_and_descriptors_bounded() {
    const FLOOD: usize = 3000;
    const CAP: usize = 200;
    // The test holds its own end of every flood connection: make room for them.
    let fd_limit = cordon_server::raise_fd_limit();
    assert!(
        fd_limit as usize > FLOOD + CAP + 500,
        "the open-file limit ({fd_limit}) is too low for this test"
    );
    let app = spawn_app_with(|c| {
        c.http_max_connections = Some(CAP);
        c.http_header_timeout = jiff::SignedDuration::from_secs(60);
        c.http_idle_timeout = jiff::SignedDuration::from_secs(60);
    })
    .await;
    let before = open_fds();
    let started = Instant::now();
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        // Connections the server closed already are fine: the point is to keep opening them.
        if let Ok(mut s) = TcpStream::connect(addr(&app.base)).await {
            let _ = s.write_all(b"GET /healthz HTT").await;
            flood.push(s);
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the flood itself is bounded in time"
    );
    assert!(flood.len() > FLOOD / 2, "the flood connected: {}", flood.len());

    // A new client is served within a second, although the cap is full of half-sent heads.
    let fresh = reqwest::Client::new();
    let t = Instant::now();
    let res = fresh
        .get(format!("{}/healthz", app.base))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .expect("healthz answers a new client during the flood");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    // The server's own descriptors stay near the cap: ours are the flood's `FLOOD` client
    // ends plus what we had before; the server may hold at most `CAP` connections more (and
    // a few in the middle of being closed).
    let bound = before + flood.len() + CAP + 64;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut now_open = open_fds();
    while now_open > bound && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        now_open = open_fds();
    }
    assert!(
        now_open <= bound,
        "descriptors: {now_open} open, {before} before a flood of {} (cap {CAP})",
        flood.len()
    );
    // Most flood connections were closed by the server to make room.
    let mut closed = 0;
    for s in flood.iter_mut().take(100) {
        let mut b = [0u8; 1];
        if matches!(
            tokio::time::timeout(Duration::from_millis(50), s.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        ) {
            closed += 1;
        }
    }
    assert!(
        closed > 90,
        "the oldest half-sent connections were closed: {closed}/100"
    );
}

#[tokio::test]
async fn slow_and_idle_connections_are_cut_off() {
    let app = spawn_app_with(|c| {
        c.http_header_timeout = jiff::SignedDuration::from_secs(1);
        c.http_idle_timeout = jiff::SignedDuration::from_secs(2);
    })
    .await;
    // Headers dribbling in, one line every 200 ms: cut off one second after the first byte.
    let mut slow = TcpStream::connect(addr(&app.base)).await.unwrap();
    let idle = TcpStream::connect(addr(&app.base)).await.unwrap();
    let t = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut buf = [0u8; 64];
    let cut = loop {
        tokio::select! {
            r = slow.read(&mut buf) => {
                assert!(matches!(r, Ok(0) | Err(_)), "no answer to an incomplete head: {r:?}");
                break t.elapsed();
            }
            _ = tick.tick() => {
                if slow.write_all(b"X-Slow: yes\r\n").await.is_err() {
                    break t.elapsed();
                }
                assert!(t.elapsed() < Duration::from_secs(5), "the slow client was never cut off");
            }
        }
    };
    assert!(
        cut >= Duration::from_millis(900) && cut < Duration::from_secs(3),
        "cut after {cut:?}"
    );
    // A connection that sends nothing is closed after the idle timeout.
    let mut idle = idle;
    let (sent, closed) = read_to_close(&mut idle, Duration::from_secs(5)).await;
    assert!(closed && sent.is_empty(), "idle connection closed silently");
    assert!(t.elapsed() >= Duration::from_millis(1900), "{:?}", t.elapsed());

    // A keep-alive connection serves several requests, then closes when idle.
    let mut ka = TcpStream::connect(addr(&app.base)).await.unwrap();
    for _ in 0..2 {
        ka.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut got = Vec::new();
        while !String::from_utf8_lossy(&got).contains("\"ok\"") {
            let n = ka.read(&mut buf).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200"));
    }
}

#[tokio::test]
async fn a_stalled_body_is_408_and_a_slow_upload_is_not_cut_short() {
    let app = spawn_app_with(|c| {
        c.http_body_idle_timeout = jiff::SignedDuration::from_secs(1);
        c.http_request_timeout = jiff::SignedDuration::from_secs(2);
    })
    .await;
    let mut s = TcpStream::connect(addr(&app.base)).await.unwrap();
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\":"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (bytes, _) = read_to_close(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("\"request_timeout\""), "{text}");
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    assert_eq!(list, json!([]), "nothing was declared");

    // An evidence upload that keeps sending for longer than the request timeout completes.
    let inc = app.declare(ADMIN_TOKEN, "Slow upload", "security").await;
    let id = inc["id"].as_str().unwrap();
    let chunks = futures::stream::unfold(0u32, |i| async move {
        if i == 8 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 1000])), i + 1))
    });
    let t = Instant::now();
    let res = app
        .http
        .post(format!("{}/api/v1/incidents/{id}/evidence?name=slow.bin", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert!(t.elapsed() > Duration::from_millis(2100));
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["size"], 8000);
}

#[tokio::test]
async fn shutdown_is_not_blocked_by_a_hanging_request() {
    let mut app = spawn_app_with(|c| {
        c.http_shutdown_grace = jiff::SignedDuration::from_millis(500);
        c.http_body_idle_timeout = jiff::SignedDuration::from_secs(600);
    })
    .await;
    let mut hanging = TcpStream::connect(addr(&app.base)).await.unwrap();
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"title\":\"x"
    );
    hanging.write_all(head.as_bytes()).await.unwrap();
    // The request is inside the handler, waiting for its body, when shutdown starts.
    let (st, _) = app.get("/healthz", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("stop completes");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let (_, closed) = read_to_close(&mut hanging, Duration::from_secs(2)).await;
    assert!(closed, "the hanging request's connection was closed");
}

// ---------- finding 12: every error status is a problem document ----------

#[tokio::test]
async fn every_error_status_is_a_problem_document() {
    let app = spawn_app_with(|_| {}).await;
    let auth = format!("Authorization: Bearer {ADMIN_TOKEN}\r\n");

    // 405 from the method router, with `Allow`.
    let (st, head, body) = raw(
        &app.base,
        format!("DELETE /api/v1/incidents HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(st, 405);
    assert_problem(&head, &body, 405, "method_not_allowed");
    assert!(head.contains("allow: "), "{head}");

    // 413 from the body limit of a raw-body route and of a JSON route.
    let big = "x".repeat(2 * 1024 * 1024);
    for path in ["/api/v1/users/admin/tokens", "/api/v1/incidents"] {
        let res = app
            .http
            .post(format!("{}{path}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], "body_too_large", "{path}: {v}");
    }

    // 414: a long target (the router's limit), and a request line longer than hyper takes.
    let long = "a".repeat(cordon_server::MAX_URI_BYTES + 10);
    let (st, head, body) = raw(
        &app.base,
        format!("GET /api/v1/incidents?q={long} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(st, 414);
    assert_problem(&head, &body, 414, "uri_too_long");
    let huge = "a".repeat(70 * 1024);
    let (st, head, body) = raw(&app.base, format!("GET /{huge} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await;
    assert_eq!(st, 414);
    assert_problem(&head, &body, 414, "uri_too_long");

    // 431: headers over the router's limit, and a head over hyper's buffer.
    for size in [cordon_server::MAX_HEADER_BYTES + 10, cordon_server::MAX_HEAD_BYTES + 10] {
        let filler: String = (0..size / 1000 + 1)
            .map(|i| format!("X-Filler-{i}: {}\r\n", "f".repeat(990)))
            .collect();
        let (st, head, body) = raw(
            &app.base,
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{filler}\r\n").as_bytes(),
        )
        .await;
        assert_eq!(st, 431, "{size}");
        assert_problem(&head, &body, 431, "headers_too_large");
    }

    // 400 from hyper: a malformed head.
    let (st, head, body) = raw(&app.base, b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n").await;
    assert_eq!(st, 400);
    assert_problem(&head, &body, 400, "bad_request");

    // 400 from extractors: a path that is not UTF-8, a query of the wrong type.
    let (st, v) = app.get("/api/v1/incidents/%FF%FE", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = app.get("/api/v1/audit?limit=many", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "invalid_query");

    // 415: JSON expected.
    let res = app
        .http
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    // 404 and 401.
    let (st, v) = app.get("/no/such/thing", ADMIN_TOKEN).await;
    assert_eq!((st, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (st, v) = app.request(reqwest::Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
}

// ---------- finding 6: Slack replays and forgeries ----------

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

struct Slack {
    verifier: cordon_channels::SlackVerifier,
}

impl Slack {
    fn new() -> Self {
        Self {
            verifier: cordon_channels::SlackVerifier::new(SLACK_SECRET.as_bytes().to_vec()).unwrap(),
        }
    }

    /// A signed request: (timestamp, signature).
    fn sign(&self, at_offset: i64, body: &str) -> (String, String) {
        let ts = (common::start_time().as_second() + at_offset).to_string();
        let sig = self.verifier.sign(&ts, body.as_bytes());
        (ts, sig)
    }
}

async fn slack_post(
    app: &common::TestApp,
    path: &str,
    body: &str,
    (ts, sig): &(String, String),
    retry: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .post(format!("{}{path}", app.base))
        .header("X-Slack-Request-Timestamp", ts)
        .header("X-Slack-Signature", sig)
        .body(body.to_owned());
    req = if path.ends_with("/events") {
        req.header("content-type", "application/json")
    } else {
        req.header("content-type", "application/x-www-form-urlencoded")
    };
    if let Some(n) = retry {
        req = req.header("X-Slack-Retry-Num", n);
    }
    let res = req.send().await.unwrap();
    let st = res.status();
    (st, res.json().await.unwrap_or(Value::Null))
}

async fn slack_app() -> common::TestApp {
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.into());
        c.slack_refusal_interval = jiff::SignedDuration::from_millis(300);
    })
    .await;
    app.user("rita", &["security"]).await;
    let (st, v) = app
        .post(
            "/api/v1/users/rita/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "slack_user", "address": "U2CERLKJA" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    app
}

async fn incident_count(app: &common::TestApp) -> usize {
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    list.as_array().unwrap().len()
}

/// The `slack.request.refused` summaries in the audit log, once at least `total` refusals are
/// summed up in them (they are written at the end of each interval).
async fn refusal_summaries(app: &common::TestApp, total: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
        let summaries: Vec<Value> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "slack.request.refused")
            .cloned()
            .collect();
        let counted: u64 = summaries
            .iter()
            .map(|e| e["payload"]["count"].as_u64().unwrap_or(1))
            .sum();
        if counted >= total || Instant::now() > deadline {
            assert_eq!(counted, total, "{summaries:?}");
            return summaries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_signed_slack_command_is_acted_on_once() {
    let app = slack_app().await;
    let slack = Slack::new();
    let form = "command=%2Fic&text=page&user_id=U2CERLKJA&channel_id=C123&team_id=T1";
    let signed = slack.sign(0, form);
    let (st, first) = slack_post(&app, "/api/v1/slack/commands", form, &signed, None).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    for _ in 0..2 {
        let (st, v) = slack_post(&app, "/api/v1/slack/commands", form, &signed, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["code"], "replayed_request");
    }
    assert_eq!(incident_count(&app).await, 1, "declared once");
    // The same command signed anew (a person typing it again) is a new request.
    let again = slack.sign(1, form);
    let (st, _) = slack_post(&app, "/api/v1/slack/commands", form, &again, None).await;
    assert_eq!(st, StatusCode::OK);
    // Both replays are in one summary entry.
    let summaries = refusal_summaries(&app, 2).await;
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert_eq!(
        summaries[0]["payload"]["reason"],
        "this signed request was received before"
    );
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn a_redelivered_slack_event_is_acknowledged_and_not_run_twice() {
    let app = slack_app().await;
    let slack = Slack::new();
    let event = |ts: &str| {
        json!({
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev0PV52K25",
            "event": { "type": "message", "channel": "C777", "user": "U2CERLKJA", "text": "!ic page", "ts": ts }
        })
        .to_string()
    };
    let body = event("1355517523.000005");
    let first = slack.sign(0, &body);
    let (st, _) = slack_post(&app, "/api/v1/slack/events", &body, &first, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(incident_count(&app).await, 1);
    // Slack's redelivery: the same event, signed anew, with a retry number.
    let retry = slack.sign(60, &body);
    let (st, v) = slack_post(&app, "/api/v1/slack/events", &body, &retry, Some("1")).await;
    assert_eq!((st, v), (StatusCode::OK, json!({})));
    // And the first delivery replayed as it was.
    let (st, _) = slack_post(&app, "/api/v1/slack/events", &body, &first, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(incident_count(&app).await, 1, "the command ran once");
}

#[tokio::test]
async fn forged_slack_requests_are_limited_and_audited_in_aggregate() {
    let app = slack_app().await;
    let slack = Slack::new();
    let form = "command=%2Fic&text=page&user_id=U2CERLKJA&channel_id=C9&team_id=T1";
    let (ts, _) = slack.sign(0, form);
    let forged = (ts, format!("v0={}", "0".repeat(64)));
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..1000 {
        let (st, v) = slack_post(&app, "/api/v1/slack/commands", form, &forged, None).await;
        assert!(v["code"].is_string(), "{v}");
        *statuses.entry(st.as_u16()).or_insert(0) += 1;
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "1,000 forged requests took {took:?}");
    // The first ones of an interval are 401; past the source's budget, 429.
    assert!(statuses.get(&401).copied().unwrap_or(0) >= 20, "{statuses:?}");
    assert!(statuses.get(&429).copied().unwrap_or(0) > 500, "{statuses:?}");
    // A real request from the same address still passes, and quickly.
    let t = Instant::now();
    let (st, v) = slack_post(&app, "/api/v1/slack/commands", form, &slack.sign(0, form), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // A bounded number of audit entries: one per interval at most.
    let summaries = refusal_summaries(&app, 1000).await;
    let intervals = (took.as_millis() / 300 + 2) as usize;
    assert!(
        summaries.len() <= intervals,
        "{} summaries for {took:?}",
        summaries.len()
    );
    assert!(
        summaries[0]["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
    assert!(summaries[0]["payload"]["sources"]["127.0.0.1"].as_u64().unwrap() > 0);
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn sigterm_stops_the_binary_with_a_request_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cordon"))
        .arg("serve")
        .env("CORDON_DATA_DIR", dir.path().join("data"))
        .env("CORDON_LISTEN", "127.0.0.1:0")
        .env("CORDON_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("CORDON_HTTP_SHUTDOWN_GRACE", "500ms")
        .env("CORDON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut addr = String::new();
    let mut line = String::new();
    while addr.is_empty() {
        line.clear();
        let n = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut line),
        )
        .await
        .expect("the server starts")
        .unwrap();
        assert!(n > 0, "the server exited before listening");
        if let Some(rest) = line.trim().strip_prefix("listening on http://") {
            addr = rest.to_owned();
        }
    }
    // A request stuck in its body, inside a handler.
    let mut hanging = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"title\":\"x"
    );
    hanging.write_all(head.as_bytes()).await.unwrap();
    let res = reqwest::get(format!("http://{addr}/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let t = Instant::now();
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits after SIGTERM although a request hangs")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
