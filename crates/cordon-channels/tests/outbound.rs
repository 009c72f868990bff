//! Outbound channels against a real HTTP receiver on 127.0.0.1:0: the generic webhook, the
//! SMS gateway and Slack-compatible posting, with the transient/permanent error split.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cordon_channels::webhook::{self, TEST_TEXT};
use cordon_channels::{
    ChannelError, HttpTransport, Notice, OutboundPolicy, PhoneNumber, SecureLink, SlackClient, SmsGateway, SmsText,
    Timeouts, WebhookClient, WebhookMessage,
};
use cordon_core::codename::Codename;
use jiff::Timestamp;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A receiver that records every request and answers according to its path.
struct Receiver {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Receiver {
    async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let path = uri.path().to_owned();
                log.lock().unwrap().push(Recorded {
                    method,
                    path: path.clone(),
                    headers,
                    body,
                });
                answer(&path).await
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests.lock().unwrap();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests[0].clone()
    }
}

async fn answer(path: &str) -> Response {
    match path {
        "/ok" | "/hooks/secret-path" => "ok".into_response(),
        "/api/chat.postMessage" => axum::Json(json!({"ok": true, "ts": "1.2"})).into_response(),
        "/api/refused" => axum::Json(json!({"ok": false, "error": "channel_not_found"})).into_response(),
        "/api/chatty" => {
            axum::Json(json!({"ok": false, "error": "Token xoxb-LEAKED-1234 is revoked, see admin"})).into_response()
        }
        "/api/ratelimited" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            axum::Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response(),
        "/incoming-404" => (StatusCode::NOT_FOUND, "channel_not_found").into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late".into_response()
        }
        "/redirect" => (StatusCode::FOUND, [("location", "/ok")]).into_response(),
        other => match other.strip_prefix("/status/").and_then(|c| c.parse::<u16>().ok()) {
            Some(code) => (StatusCode::from_u16(code).unwrap(), "the receiver says no\nsecond line").into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_millis(500),
    }
}

/// The receivers of these tests listen on loopback, which must be allowed explicitly.
fn transport() -> HttpTransport {
    HttpTransport::new(timeouts(), OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

fn notice() -> Notice {
    Notice::new(
        Codename::from_key("sapphire-unicorn").unwrap(),
        "SEV-1".parse().unwrap(),
        SecureLink::parse("https://cordon.example/r/0190f1c2").unwrap(),
    )
}

fn header<'h>(r: &'h Recorded, name: &str) -> &'h str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn webhook_is_signed_json_that_the_receiver_verifies() {
    let rx = Receiver::start().await;
    let hook = WebhookClient::new(&transport(), &rx.url("/ok"), "whsec").unwrap();
    hook.send(&WebhookMessage::Page(notice()), now()).await.unwrap();

    let r = rx.only_request();
    assert_eq!(r.method, Method::POST);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert_eq!(header(&r, "x-cordon-timestamp"), "1767225600");
    assert!(header(&r, "x-cordon-signature").starts_with("v1="));
    webhook::verify_webhook_headers(b"whsec", &r.headers, &r.body, now()).unwrap();
    assert_eq!(
        webhook::verify_webhook_headers(b"wrong", &r.headers, &r.body, now()),
        Err(ChannelError::BadSignature)
    );
    let later = now().checked_add(jiff::SignedDuration::from_mins(6)).unwrap();
    assert!(matches!(
        webhook::verify_webhook_headers(b"whsec", &r.headers, &r.body, later),
        Err(ChannelError::StaleTimestamp { .. })
    ));

    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({
            "type": "page",
            "codename": "Sapphire Unicorn",
            "severity": "SEV-1",
            "link": "https://cordon.example/r/0190f1c2",
            "text": "SEV-1 Sapphire Unicorn: join the secure room https://cordon.example/r/0190f1c2",
            "sent_at": "2026-01-01T00:00:00Z",
        })
    );
}

#[tokio::test]
async fn sms_text_is_only_codename_severity_and_link() {
    let rx = Receiver::start().await;
    let gw = SmsGateway::new(&transport(), &rx.url("/ok"), Some("gw-token".into()), "smssec").unwrap();
    let to = PhoneNumber::parse("+1 555 123 4567").unwrap();
    gw.send(&to, &SmsText::Page(notice()), now()).await.unwrap();

    let r = rx.only_request();
    assert_eq!(header(&r, "authorization"), "Bearer gw-token");
    webhook::verify_webhook_headers(b"smssec", &r.headers, &r.body, now()).unwrap();
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({
            "to": "+15551234567",
            "text": "SEV-1 Sapphire Unicorn: join the secure room https://cordon.example/r/0190f1c2",
        })
    );

    // A test message, unsigned gateway without a token.
    let rx = Receiver::start().await;
    let gw = SmsGateway::new(&transport(), &rx.url("/ok"), None, "").unwrap();
    gw.send(&to, &SmsText::Test, now()).await.unwrap();
    let r = rx.only_request();
    assert!(r.headers.get("authorization").is_none());
    assert!(r.headers.get("x-cordon-signature").is_none());
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["text"], TEST_TEXT);
}

#[tokio::test]
async fn slack_post_message_with_bearer_token() {
    let rx = Receiver::start().await;
    let slack = SlackClient::new(&transport(), &rx.url("/api/chat.postMessage"), Some("xoxb-1".into())).unwrap();
    slack.post_message("C024BE91L", "Paged <the IC> & co").await.unwrap();
    let r = rx.only_request();
    assert_eq!(r.path, "/api/chat.postMessage");
    assert_eq!(header(&r, "authorization"), "Bearer xoxb-1");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"channel": "C024BE91L", "text": "Paged &lt;the IC&gt; &amp; co"})
    );

    // An incoming webhook: plain "ok", no token.
    let hook = SlackClient::new(&transport(), &rx.url("/hooks/secret-path"), None).unwrap();
    hook.post_message("#war-room", "hi").await.unwrap();
}

#[tokio::test]
async fn errors_are_transient_or_permanent() {
    let rx = Receiver::start().await;
    let http = transport();
    let post = |path: &str| {
        let slack = SlackClient::new(&http, &rx.url(path), Some("t".into())).unwrap();
        async move { slack.post_message("C1", "x").await.unwrap_err() }
    };

    let e = post("/api/refused").await;
    assert!(!e.is_transient(), "{e}");
    assert_eq!(e.code(), "delivery_permanent");
    let d = e.delivery().unwrap();
    assert_eq!((d.status, d.code.as_deref()), (Some(200), Some("channel_not_found")));

    // Free text in place of a code is not passed on.
    let e = post("/api/chatty").await;
    assert_eq!(e.delivery().unwrap().code.as_deref(), Some("unknown_error"));
    assert!(!e.to_string().contains("LEAKED"), "{e}");

    let e = post("/api/ratelimited").await;
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.delivery().unwrap().retry_after, Some(Duration::from_secs(7)));

    let e = post("/incoming-404").await;
    assert!(!e.is_transient());
    assert_eq!(e.delivery().unwrap().code.as_deref(), Some("channel_not_found"));

    for (path, transient) in [
        ("/status/500", true),
        ("/status/502", true),
        ("/status/503", true),
        ("/status/408", true),
        ("/status/400", false),
        ("/status/401", false),
        ("/status/403", false),
        ("/status/410", false),
        ("/redirect", false),
    ] {
        let hook = WebhookClient::new(&http, &rx.url(path), "k").unwrap();
        let e = hook.send(&WebhookMessage::Test, now()).await.unwrap_err();
        assert_eq!(e.is_transient(), transient, "{path}: {e}");
        let d = e.delivery().unwrap();
        assert_eq!(d.status, Some(path.rsplit('/').next().unwrap().parse().unwrap_or(302)));
        // Reasons are one line, never echo the target URL, and say nothing the peer wrote.
        assert!(!e.to_string().contains('\n'), "{e}");
        assert!(!e.to_string().contains("receiver says"), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "delivery failed ({}): HTTP {}",
                if transient { "transient" } else { "permanent" },
                d.status.unwrap()
            )
        );
        assert!(!e.to_string().contains(&rx.base), "{e}");
    }

    // The receiver takes longer than the request timeout.
    let hook = WebhookClient::new(&http, &rx.url("/slow"), "k").unwrap();
    let e = hook.send(&WebhookMessage::Test, now()).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.delivery().unwrap().reason, "timed out");

    // Nobody listens: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let hook = WebhookClient::new(&http, &format!("http://{closed}/h"), "k").unwrap();
    let e = hook.send(&WebhookMessage::Test, now()).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.delivery().unwrap().reason, "could not connect");
    assert!(!e.to_string().contains(&closed.to_string()), "{e}");
}

/// A peer that answers `status` and then streams a chunked body forever; when the client
/// hangs up, it reports how many body bytes it managed to write.
async fn endless_peer(status: u16) -> (String, tokio::sync::mpsc::UnboundedReceiver<u64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
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
                    let text = "secret-token-xyz ".repeat(1024);
                    let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, &text[..16 * 1024]);
                    while sock.write_all(chunk.as_bytes()).await.is_ok() {
                        written += 16 * 1024;
                    }
                }
                let _ = done.send(written);
            });
        }
    });
    (base, finished)
}

/// What the endless peer wrote before the client hung up (which it must do, soon).
async fn written_before_hang_up(finished: &mut tokio::sync::mpsc::UnboundedReceiver<u64>) -> u64 {
    tokio::time::timeout(Duration::from_secs(10), finished.recv())
        .await
        .expect("the client hung up")
        .unwrap()
}

#[tokio::test]
async fn endless_bodies_are_cut_off_and_never_shown() {
    let http = HttpTransport::new(
        Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(60),
        },
        OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap(),
    )
    .unwrap();
    for (status, transient) in [(200, None), (500, Some(true)), (403, Some(false))] {
        let (base, mut finished) = endless_peer(status).await;
        let hook = WebhookClient::new(&http, &format!("{base}/h"), "k").unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(20), hook.send(&WebhookMessage::Test, now()))
            .await
            .expect("cut off after the limit, not at the request timeout");
        match transient {
            None => outcome.unwrap(),
            Some(t) => {
                let e = outcome.unwrap_err();
                assert_eq!(e.is_transient(), t);
                assert_eq!(e.delivery().unwrap().status, Some(status));
                assert_eq!(e.delivery().unwrap().reason, "");
                assert!(!e.to_string().contains("secret-token"), "{e}");
            }
        }
        // The limit plus what the socket buffers hold, not gigabytes.
        let sent = written_before_hang_up(&mut finished).await;
        assert!(sent < 64 * 1024 * 1024, "{status}: the peer wrote {sent} bytes");
    }

    // Slack reads its answer to look for `"ok": false`: bounded the same way.
    let (base, mut finished) = endless_peer(200).await;
    let slack = SlackClient::new(&http, &format!("{base}/api/chat.postMessage"), None).unwrap();
    slack.post_message("C1", "x").await.unwrap();
    assert!(written_before_hang_up(&mut finished).await < 64 * 1024 * 1024);

    // So does Matrix, with its own (larger) limit.
    let (base, mut finished) = endless_peer(200).await;
    let e = cordon_channels::MatrixClient::with_access_token(&http, &base, "t")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "malformed_payload", "{e}");
    assert!(!e.to_string().contains("secret-token"), "{e}");
    assert!(written_before_hang_up(&mut finished).await < 64 * 1024 * 1024);
}

#[tokio::test]
async fn the_policy_refuses_before_anything_is_sent() {
    let rx = Receiver::start().await;
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let strict = HttpTransport::new(timeouts(), OutboundPolicy::strict()).unwrap();
    for url in [
        rx.url("/ok"),
        format!("http://localhost:{port}/ok"),
        format!("http://0x7f000001:{port}/ok"),
        format!("http://2130706433:{port}/ok"),
        format!("http://127.1:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ] {
        let hook = WebhookClient::new(&strict, &url, "k").unwrap();
        let e = hook.send(&WebhookMessage::Test, now()).await.unwrap_err();
        assert!(matches!(e, ChannelError::Refused(_)), "{url}: {e:?}");
        assert_eq!(e.code(), "outbound_refused");
        assert!(!e.is_transient());
        assert!(e.to_string().starts_with("refused: "), "{e}");
        assert!(!e.to_string().contains("/ok"), "{e}");
    }
    let e = WebhookClient::new(&strict, &format!("http://localhost:{port}/ok"), "k")
        .unwrap()
        .send(&WebhookMessage::Test, now())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");

    // The SMS gateway, Slack and Matrix go through the same transport.
    let gw = SmsGateway::new(&strict, &rx.url("/ok"), None, "").unwrap();
    let to = PhoneNumber::parse("+15551234567").unwrap();
    assert!(matches!(
        gw.send(&to, &SmsText::Test, now()).await,
        Err(ChannelError::Refused(_))
    ));
    let slack = SlackClient::new(&strict, &format!("http://localhost:{port}/api/chat.postMessage"), None).unwrap();
    assert!(matches!(
        slack.post_message("C1", "x").await,
        Err(ChannelError::Refused(_))
    ));
    let matrix = cordon_channels::MatrixClient::with_access_token(&strict, &rx.url("/"), "t").await;
    assert!(matches!(matrix, Err(ChannelError::Refused(_))), "{matrix:?}");

    assert!(rx.requests.lock().unwrap().is_empty(), "nothing reached the receiver");

    // A public address is not refused by the policy (it fails otherwise: nothing listens on
    // TEST-NET… which is itself special; use a name that does not resolve instead).
    let e = WebhookClient::new(&strict, "http://no-such-host.invalid/h", "k")
        .unwrap()
        .send(&WebhookMessage::Test, now())
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.delivery().unwrap().reason, "could not resolve the host");

    // With the network allowed, the same receiver is reached.
    let allowed = HttpTransport::new(timeouts(), OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap()).unwrap();
    WebhookClient::new(&allowed, &format!("http://localhost:{port}/ok"), "k")
        .unwrap()
        .send(&WebhookMessage::Test, now())
        .await
        .unwrap();
    assert_eq!(rx.requests.lock().unwrap().len(), 1);
}
