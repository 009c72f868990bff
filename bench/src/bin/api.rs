//! `bench-api`: request rate and latency of the core API under load on loopback, beside
//! `GET /healthz` measured in the same run as the ceiling.
//!
//! Targets (2 cores, SQLite): GET incident ≥ 30 % of the /healthz rate with p99 < 10 ms;
//! declare ≥ 500 incidents/s.
//!
//! Run: `cargo build --release -p cordon -p cordon-bench && target/release/bench-api [seconds] [connections]`

use std::sync::Arc;
use std::time::Duration;

use cordon_bench::{Server, load, print_table};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let conns: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let dur = Duration::from_secs(secs);

    let server = Server::start()?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(conns).build()?;
    let base = Arc::new(server.url.clone());
    let token = Arc::new(server.token.clone());

    // Fixtures: one incident to read, and its tasks to patch.
    let inc: Value = http
        .post(format!("{base}/api/v1/incidents"))
        .bearer_auth(token.as_str())
        .json(&json!({ "title": "bench", "kind": "security", "severity": "SEV-2" }))
        .send()
        .await?
        .json()
        .await?;
    let slug = inc["slug"].as_str().unwrap_or_default().to_owned();
    let tasks: Value = http
        .get(format!("{base}/api/v1/incidents/{slug}/tasks"))
        .bearer_auth(token.as_str())
        .send()
        .await?
        .json()
        .await?;
    // Ungated steps only, so every PATCH is a real write.
    let task_ids: Arc<Vec<String>> = Arc::new(
        tasks
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["blocked_by"].as_array().is_some_and(|b| b.is_empty()))
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect(),
    );

    println!(
        "bench-api: {secs} s per endpoint, {conns} connections, server {}",
        server.url
    );

    let (h, b) = (http.clone(), base.clone());
    let healthz = load("GET /healthz (ceiling)", conns, dur, move |_| {
        let (h, b) = (h.clone(), b.clone());
        async move {
            h.get(format!("{b}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    let (h, b, t, s) = (http.clone(), base.clone(), token.clone(), slug.clone());
    let get = load("GET /api/v1/incidents/{ref}", conns, dur, move |_| {
        let (h, b, t, s) = (h.clone(), b.clone(), t.clone(), s.clone());
        async move {
            h.get(format!("{b}/api/v1/incidents/{s}"))
                .bearer_auth(t.as_str())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    let (h, b, t) = (http.clone(), base.clone(), token.clone());
    let declare = load("POST /api/v1/incidents", conns, dur, move |i| {
        let (h, b, t) = (h.clone(), b.clone(), t.clone());
        async move {
            h.post(format!("{b}/api/v1/incidents"))
                .bearer_auth(t.as_str())
                .json(&json!({ "title": format!("bench {i}"), "kind": "security", "severity": "SEV-3" }))
                .send()
                .await
                .is_ok_and(|r| r.status().as_u16() == 201)
        }
    })
    .await;

    let (h, b, t, s, ids) = (
        http.clone(),
        base.clone(),
        token.clone(),
        slug.clone(),
        task_ids.clone(),
    );
    let patch = load("PATCH /api/v1/incidents/{ref}/tasks/{id}", conns, dur, move |i| {
        let (h, b, t, s, ids) = (h.clone(), b.clone(), t.clone(), s.clone(), ids.clone());
        async move {
            let id = &ids[i % ids.len()];
            let status = if (i / ids.len()) % 2 == 0 {
                "in_progress"
            } else {
                "todo"
            };
            h.patch(format!("{b}/api/v1/incidents/{s}/tasks/{id}"))
                .bearer_auth(t.as_str())
                .json(&json!({ "status": status }))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    println!();
    print_table(&[get.clone(), declare.clone(), patch], &healthz);
    println!();
    let get_share = 100.0 * get.rate() / healthz.rate();
    println!(
        "target GET ≥ 30 % of /healthz with p99 < 10 ms: {:.1} %, p99 {:.2} ms → {}",
        get_share,
        get.p99_ms,
        if get_share >= 30.0 && get.p99_ms < 10.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "target declare ≥ 500 incidents/s: {:.0}/s → {}",
        declare.rate(),
        if declare.rate() >= 500.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
