//! `bench-paging`: time from `!ic page` to the page mail being accepted by a real SMTP server
//! on loopback (aiosmtpd), for 200 commands; and the escalation timing error (when level 2's
//! mail arrives versus when it was due).
//!
//! Targets: p99 < 250 ms from command to accepted mail; escalation error < 1 s.
//!
//! Run: `scripts/test-env.sh` once (installs the SMTP sink), then
//! `cargo build --release -p cordon -p cordon-bench && target/release/bench-paging [commands]`

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use cordon_bench::Server;
use cordon_mail::testing::SmtpSink;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let server = Server::start_with_env(&[("CORDON_SMTP_URL", &smtp), ("CORDON_COMPANY_DOMAINS", "corp.example")])?;
    let http = reqwest::Client::new();
    let (base, token) = (server.url.clone(), server.token.clone());
    let post = async |path: &str, body: Value| -> anyhow::Result<Value> {
        let r = http
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
        Ok(v)
    };
    for u in ["alice", "bob"] {
        post(
            "/api/v1/users",
            json!({ "name": u, "email": format!("{u}@corp.example") }),
        )
        .await?;
    }
    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time
    let handoff = jiff::Timestamp::now().to_string();
    post(
        "/api/v1/oncall/schedules",
        json!({ "name": "ic", "time_zone": "UTC", "rotations": [{ "users": ["alice"], "shift": "P7D", "handoff": handoff }] }),
    )
    .await?;
    post(
        "/api/v1/oncall/escalation-policies",
        json!({ "name": "incident-commander", "repeat": 0, "levels": [
            { "targets": [{ "schedule": "ic" }], "after": "PT2S" },
            { "targets": [{ "user": "bob" }], "after": "PT2S" } ] }),
    )
    .await?;

    println!(
        "bench-paging: {n} × `!ic page`, SMTP sink {smtp}, server {}",
        server.url
    );
    // Send the commands one after another (as people would, in different rooms).
    let mut sent: HashMap<String, SystemTime> = HashMap::new();
    let mut acks = Vec::new();
    for i in 0..n {
        #[allow(clippy::disallowed_methods)]
        let at = SystemTime::now();
        let v = post(
            "/api/v1/chat/commands",
            json!({ "room": format!("#bench-{i}"), "text": "!ic page" }),
        )
        .await?;
        let codename = v["incident"].as_str().unwrap_or_default().to_owned();
        sent.insert(codename, at);
        // Acknowledge all but the last ten pages, so escalation is measured on those ten only.
        if i + 10 < n {
            acks.push(v["page"].as_str().unwrap_or_default().to_owned());
        }
    }
    let start = Instant::now();
    let mut mails = sink.wait_for_messages(n, Duration::from_secs(60)).await;
    for id in &acks {
        post(&format!("/api/v1/pages/{id}/ack"), json!({})).await?;
    }
    let mut latencies = Vec::new();
    for m in &mails {
        if !m.rcpt_tos.iter().any(|r| r == "alice@corp.example") {
            continue;
        }
        if let Some((_, at)) = sent
            .iter()
            .find(|(c, _)| !c.is_empty() && m.body().contains(c.as_str()))
        {
            let accepted = m.received_at();
            latencies.push(accepted.duration_since(*at).unwrap_or_default().as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |v: &[f64], p: f64| {
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };

    // Level 2 is due 2 s after each unacknowledged page was triggered.
    let wanted = n + 10;
    while mails.len() < wanted && start.elapsed() < Duration::from_secs(30) {
        mails = sink.wait_for_messages(wanted, Duration::from_secs(30)).await;
    }
    let mut errors = Vec::new();
    for m in mails
        .iter()
        .filter(|m| m.rcpt_tos.iter().any(|r| r == "bob@corp.example"))
    {
        if let Some((_, at)) = sent
            .iter()
            .find(|(c, _)| !c.is_empty() && m.body().contains(c.as_str()))
        {
            let due = *at + Duration::from_secs(2);
            let err = m
                .received_at()
                .duration_since(due)
                .map(|d| d.as_secs_f64())
                .unwrap_or_else(|e| -e.duration().as_secs_f64());
            errors.push(err * 1000.0);
        }
    }
    errors.sort_by(|a, b| a.total_cmp(b));

    println!();
    println!("{:<52} {:>10} {:>10} {:>10}", "measure", "p50", "p99", "target");
    println!(
        "{:<52} {:>8.1}ms {:>8.1}ms {:>10}",
        format!("`!ic page` → mail accepted by SMTP ({} mails)", latencies.len()),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        "p99<250ms"
    );
    println!(
        "{:<52} {:>8.1}ms {:>8.1}ms {:>10}",
        format!("escalation to level 2: arrival − due ({} pages)", errors.len()),
        pct(&errors, 0.5),
        pct(&errors, 0.99),
        "<1000ms"
    );
    let ok = pct(&latencies, 0.99) < 250.0 && errors.iter().all(|e| e.abs() < 1000.0) && !errors.is_empty();
    println!("\ntargets {}", if ok { "met" } else { "NOT met" });
    Ok(())
}
