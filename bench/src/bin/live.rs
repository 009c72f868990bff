//! `bench-live`: how long a change takes to reach another open page — from a change made
//! through the API by one user until a second user's open war room shows it. The second user
//! is a signed-in browser session (break-glass sign-in, session cookie), and this program does
//! what the page's script does: it holds the incident's server-sent event stream
//! (`GET /api/v1/incidents/{ref}/events`, fed by the change feed that polls the audit log) and,
//! on each change, fetches the server-rendered parts of the page that kind of change concerns
//! (`/incidents/{ref}/parts/…`, as `static/app.js` does), side by side. Two figures: the event
//! reaching the page, and the page's parts rendered again. Changes alternate between a war-room
//! message and a checklist move; the page also holds the all-incidents stream, as the incidents
//! list does.
//!
//! Target (issue 15): p99 < 500 ms.
//!
//! Run: `cargo build --release -p cordon -p cordon-bench && target/release/bench-live [changes]`

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cordon_bench::Server;
use cordon_bench::browser::{Api, percentile};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const TARGET_P99_MS: f64 = 500.0;

/// Reads a server-sent event stream; sends each `change` event's data on the channel.
async fn stream(http: &reqwest::Client, url: String, cookie: &str) -> anyhow::Result<mpsc::UnboundedReceiver<Value>> {
    let res = http
        .get(url)
        .header("cookie", cookie)
        .header("accept", "text/event-stream")
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("stream refused: {}", res.status());
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = res.bytes_stream();
    tokio::spawn(async move {
        let mut buf = String::new();
        let mut event = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(nl) = buf.find('\n') {
                let line = buf[..nl].to_owned();
                buf.drain(..=nl);
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ")
                    && event == "change"
                    && let Ok(v) = serde_json::from_str::<Value>(d)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        }
    });
    Ok(rx)
}

/// The parts of the war room a kind of change concerns (`PARTS` in `static/app.js`).
fn parts_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "message" => &["conversation"],
        "task" | "decision" => &["board", "activity"],
        "member" => &["summary", "board", "team", "activity"],
        "incident" => &["summary", "board", "activity"],
        "page" => &["team", "activity"],
        "clock" => &["summary", "activity"],
        _ => &["activity"],
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(300);
    let server = Server::start()?;
    let api = Api::new(&server.url)?;
    let admin = server.token.clone();
    let call =
        async |method: reqwest::Method, path: &str, token: &str, body: Value| api.call(method, path, token, body).await;
    let alice = api.user(&admin, "alice", &[]).await?;
    api.user(&admin, "bob", &[]).await?;
    let bob = api.browser_session(&admin, "bob").await?;
    let inc = call(
        reqwest::Method::POST,
        "/api/v1/incidents",
        &alice,
        json!({ "title": "bench", "kind": "security", "severity": "SEV-2" }),
    )
    .await?;
    let r = inc["slug"].as_str().context("slug")?.to_owned();
    call(
        reqwest::Method::POST,
        &format!("/api/v1/incidents/{r}/members"),
        &admin,
        json!({ "user": "bob", "role": "incident_commander" }),
    )
    .await?;
    let tasks = call(
        reqwest::Method::GET,
        &format!("/api/v1/incidents/{r}/tasks"),
        &alice,
        json!({}),
    )
    .await?;
    let task = tasks[0]["id"].as_str().context("task")?.to_owned();
    let (status, _) = api.page(&bob, &format!("/incidents/{r}")).await?;
    anyhow::ensure!(status.is_success(), "bob's war room: {status}");

    // Bob's page: the incident's stream, and the incidents list's stream beside it.
    let base = &server.url;
    let mut page = stream(&api.http, format!("{base}/api/v1/incidents/{r}/events"), &bob).await?;
    let _list = stream(&api.http, format!("{base}/api/v1/events"), &bob).await?;
    // Let the streams open before measuring.
    tokio::time::sleep(Duration::from_millis(300)).await;

    println!("bench-live: {n} changes by alice through the API, each until bob's open war room shows it");
    let mut heard = Vec::with_capacity(n);
    let mut shown = Vec::with_capacity(n);
    let statuses = ["in_progress", "todo"];
    for i in 0..n {
        let t = Instant::now();
        let kind = if i % 2 == 0 {
            call(
                reqwest::Method::POST,
                &format!("/api/v1/incidents/{r}/messages"),
                &alice,
                json!({ "body": format!("update {i}") }),
            )
            .await?;
            "message"
        } else {
            call(
                reqwest::Method::PATCH,
                &format!("/api/v1/incidents/{r}/tasks/{task}"),
                &alice,
                json!({ "status": statuses[(i / 2) % 2] }),
            )
            .await?;
            "task"
        };
        loop {
            let c = tokio::time::timeout(Duration::from_secs(5), page.recv())
                .await
                .context("no change arrived within 5 s")?
                .context("the stream ended")?;
            if c["kind"] == kind {
                break;
            }
        }
        heard.push(t.elapsed().as_secs_f64() * 1000.0);
        // The page's script fetches the parts the change concerns, side by side.
        let paths: Vec<String> = parts_of(kind)
            .iter()
            .map(|part| format!("/incidents/{r}/parts/{part}"))
            .collect();
        for res in futures::future::join_all(paths.iter().map(|p| api.page(&bob, p))).await {
            let (status, _) = res?;
            anyhow::ensure!(status.is_success(), "a part of bob's page: {status}");
        }
        shown.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "{:<52} {:>9} {:>9} {:>9} {:>11}",
        "measure", "p50 ms", "p99 ms", "max ms", "target p99"
    );
    let mut over = false;
    for (name, mut figures) in [
        ("change via API → event on another open page", heard),
        ("change via API → that page's parts rendered again", shown),
    ] {
        figures.sort_by(f64::total_cmp);
        let (p50, p99, max) = (
            percentile(&figures, 0.50),
            percentile(&figures, 0.99),
            figures[figures.len() - 1],
        );
        over |= p99 >= TARGET_P99_MS;
        println!("{name:<52} {p50:>9.1} {p99:>9.1} {max:>9.1} {TARGET_P99_MS:>8.0} ms");
    }
    println!("{}", if over { "OVER the target" } else { "within the target" });
    Ok(())
}
