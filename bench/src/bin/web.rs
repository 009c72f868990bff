//! `bench-web`: the war room served to a signed-in browser session — the incident page with
//! the 14 steps of the security checklist and 500 activity entries, requested one after another
//! over a keep-alive connection with the session cookie — and the weight of the first page
//! (`/` after signing in) with its assets (the one style sheet and the one script, both
//! embedded in the binary), and of the war room with them.
//!
//! Targets (issue 15): the incident page p99 < 20 ms; the first page < 200 KB with its assets.
//!
//! Run: `cargo build --release -p cordon -p cordon-bench && target/release/bench-web [requests]`

use std::time::Instant;

use anyhow::{Context, bail};
use cordon_bench::Server;
use cordon_bench::browser::{Api, percentile};
use serde_json::{Value, json};

const TARGET_P99_MS: f64 = 20.0;
const TARGET_FIRST_PAGE_KB: f64 = 200.0;
const ACTIVITY_ENTRIES: usize = 500;
/// The addresses of the page's own style sheets and scripts.
fn assets_of(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"/assets/", "src=\"/assets/"] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let start = i + attr.len() - "/assets/".len();
            let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
            out.push(rest[start..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let server = Server::start()?;
    let api = Api::new(&server.url)?;
    let admin = server.token.clone();

    // alice, a break-glass account in the security group, signs in as a browser does.
    let token = api.user(&admin, "alice", &["security"]).await?;
    let cookie = api.browser_session(&admin, "alice").await?;
    let call =
        async |method: reqwest::Method, path: &str, token: &str, body: Value| api.call(method, path, token, body).await;

    // An incident with its 14 steps and 500 entries of activity (checklist moves).
    let inc = call(
        reqwest::Method::POST,
        "/api/v1/incidents",
        &token,
        json!({ "title": "bench", "kind": "security", "severity": "SEV-2" }),
    )
    .await?;
    let slug = inc["slug"].as_str().context("slug")?.to_owned();
    let tasks = call(
        reqwest::Method::GET,
        &format!("/api/v1/incidents/{slug}/tasks"),
        &token,
        json!({}),
    )
    .await?;
    let steps = tasks.as_array().context("tasks")?.len();
    let statuses = ["in_progress", "todo"];
    for i in 0..ACTIVITY_ENTRIES {
        // Steps 1–9 have no gate: each move is one entry of activity.
        let step = i % 9 + 1;
        call(
            reqwest::Method::PATCH,
            &format!("/api/v1/incidents/{slug}/tasks/{step}"),
            &token,
            json!({ "status": statuses[(i / 9) % 2], "assignee": "alice" }),
        )
        .await?;
    }

    let get = async |path: &str| api.page(&cookie, path).await;
    let room = format!("/incidents/{slug}");
    let (status, html) = get(&room).await?;
    if !status.is_success() {
        bail!("{room}: {status}");
    }
    let shown = String::from_utf8_lossy(&html).matches("<li><time").count();

    // Warm up, then time.
    for _ in 0..50 {
        get(&room).await?;
    }
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (status, _) = get(&room).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.is_success(), "{room}: {status}");
    }
    latencies.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
    );

    // Weights: the page's HTML and the assets it links.
    let weigh = async |path: &str| -> anyhow::Result<(usize, usize)> {
        let (_, html) = get(path).await?;
        let mut assets = 0;
        for a in assets_of(&String::from_utf8_lossy(&html)) {
            let (status, bytes) = get(&a).await?;
            anyhow::ensure!(status.is_success(), "{a}: {status}");
            assets += bytes.len();
        }
        Ok((html.len(), assets))
    };
    let (first_html, first_assets) = weigh("/").await?;
    let (room_html, room_assets) = weigh(&room).await?;
    let kb = |b: usize| b as f64 / 1024.0;

    println!(
        "bench-web: {n} requests of the war room ({steps} steps, {ACTIVITY_ENTRIES} checklist moves, {shown} activity lines shown) by a signed-in session"
    );
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>12}",
        "measure", "p50 ms", "p99 ms", "max ms", "target"
    );
    println!(
        "{:<46} {:>9.2} {:>9.2} {:>9.2} {:>9.0} ms {}",
        "GET /incidents/{ref} (war room)",
        p50,
        p99,
        max,
        TARGET_P99_MS,
        if p99 < TARGET_P99_MS { "ok" } else { "OVER" }
    );
    println!(
        "{:<46} {:>9} {:>9} {:>9} {:>12}",
        "page weight", "HTML KB", "assets KB", "total KB", "target"
    );
    let total = kb(first_html + first_assets);
    println!(
        "{:<46} {:>9.1} {:>9.1} {:>9.1} {:>9.0} KB {}",
        "first page (/ after sign-in) with its assets",
        kb(first_html),
        kb(first_assets),
        total,
        TARGET_FIRST_PAGE_KB,
        if total < TARGET_FIRST_PAGE_KB { "ok" } else { "OVER" }
    );
    println!(
        "{:<46} {:>9.1} {:>9.1} {:>9.1} {:>12}",
        "war room (500 activity lines) with its assets",
        kb(room_html),
        kb(room_assets),
        kb(room_html + room_assets),
        "—"
    );
    Ok(())
}
