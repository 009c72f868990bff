//! Reports for people (issue 13, finding 8), black-box: the real server on port 0, the real
//! binary, and the PDFs read back with `pdftotext` (poppler-utils; `scripts/test-env.sh`
//! installs it). The incident report reads as a document — tables, a summary in sentences,
//! the team, compromised assets, credentials and systems at risk, no Markdown leaking into the
//! PDF or HTML, nouns that agree with their counts — under the configured subject label on
//! every page; the custody form credits the acquisition to the person named, lists transfers
//! with signature lines and no internal fields; both show times in the zone asked for.

mod common;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

const LABEL: &str = "Privileged & Confidential";

async fn post_ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (st, v) = app.post(path, token, body.clone()).await;
    assert!(st.is_success(), "{path} {body}: {st} {v}");
    v
}

/// The text of a report, with its status.
async fn fetch(app: &TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The pages of a PDF file as `pdftotext -layout` reads them.
fn pdf_pages(path: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test-env.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// An incident with a team, a compromised and a suspected asset, two systems, a credential
/// still to rotate and one rotated, an exposure, a decision and a regulatory clock.
async fn worked_incident(app: &TestApp) -> (String, String, String) {
    let alice = app.user("alice", &[]).await;
    app.user("olga", &[]).await;
    let inc = app
        .declare(&alice, "Deploy key stolen from the storefront", "security")
        .await;
    let r = inc["codename"].as_str().unwrap().replace(' ', "-").to_lowercase();
    for (u, role) in [("alice", "incident_commander"), ("olga", "service_owner")] {
        let (st, v) = app.add_member(&app.admin, &r, u, role).await;
        assert!(st.is_success(), "{v}");
    }
    let base = format!("/api/v1/incidents/{r}");
    for body in [
        json!({ "name": "web1", "kind": "host", "address": "10.0.0.5", "state": "compromised" }),
        json!({ "name": "db1", "kind": "database", "state": "suspected" }),
    ] {
        post_ok(app, &alice, &format!("{base}/assets"), body).await;
    }
    for body in [
        json!({ "name": "billing", "owner": "olga", "assets": ["db1"] }),
        json!({ "name": "github", "assets": [] }),
    ] {
        post_ok(app, &alice, &format!("{base}/systems"), body).await;
    }
    post_ok(
        app,
        &alice,
        &format!("{base}/credentials"),
        json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": ["billing"] }),
    )
    .await;
    let ci = post_ok(
        app,
        &alice,
        &format!("{base}/credentials"),
        json!({ "name": "ci-token", "kind": "token", "stored_on": ["web1"], "grants": ["github"] }),
    )
    .await;
    let (st, v) = app
        .patch(
            &format!("{base}/credentials/{}", ci["id"].as_str().unwrap()),
            &alice,
            json!({ "state": "rotated" }),
        )
        .await;
    assert!(st.is_success(), "{v}");
    post_ok(
        app,
        &alice,
        &format!("{base}/exposures"),
        json!({ "data": "email addresses", "classification": "pii", "records": 1 }),
    )
    .await;
    post_ok(
        app,
        &alice,
        &format!("{base}/decisions"),
        json!({ "name": "insider_threat_ruled_out", "value": true, "note": "badge logs clean" }),
    )
    .await;
    post_ok(
        app,
        &alice,
        &format!("{base}/clocks"),
        json!({ "regime": "gdpr", "started_at": "2026-11-27T09:00:00Z" }),
    )
    .await;
    let codename = inc["codename"].as_str().unwrap().to_owned();
    (r, alice, codename)
}

#[tokio::test]
async fn the_incident_report_reads_as_a_document_under_the_configured_label() {
    let app = spawn_app_with(|c| c.subject_label = LABEL.into()).await;
    let (r, alice, codename) = worked_incident(&app).await;

    let (st, md) = fetch(&app, &alice, &format!("/api/v1/incidents/{r}/report?tz=Europe/Berlin")).await;
    assert_eq!(st, StatusCode::OK, "{md}");
    assert!(
        md.starts_with(&format!("**{LABEL}**\n\n# Incident report: {codename}")),
        "{md}"
    );
    assert!(
        md.trim_end().contains(&format!("{LABEL} · {codename}")),
        "the label closes it too"
    );
    // Declared at the test clock's 12:00 UTC: 13:00 in Berlin.
    assert!(md.contains("- **Declared:** 2026-11-27 13:00 CET"), "{md}");
    assert!(md.contains("- **Times in:** Europe/Berlin"), "{md}");

    // The executive summary says what happened, in sentences with agreeing nouns.
    let summary = md
        .split("## Executive summary")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    for sentence in [
        &format!("{codename} is a SEV-2 security incident: Deploy key stolen from the storefront."),
        "It was declared on 27 November 2026 at 13:00 CET by alice",
        "alice is the incident commander.",
        "1 asset is known to be compromised: web1.",
        "1 credential is exposed and not yet rotated (deploy-key) and 1 credential was rotated or revoked (ci-token).",
        "Until those credentials are rotated, 1 system is at risk: billing.",
        "1 data exposure is recorded: email addresses (pii, 1 record).",
        "What remains:",
        "1 credential to rotate",
        "The next regulatory deadline is GDPR",
        "The postmortem meeting is due by",
    ] {
        assert!(summary.contains(sentence), "summary lacks {sentence:?}:\n{summary}");
    }
    assert!(!md.contains("1 exposures") && !md.contains("1 records"), "{md}");

    // Lists are tables: the team, the compromised assets, credentials and systems at risk.
    for row in [
        "| Name | Role | Since | Until |",
        "| alice | Incident Commander, Reporter | 2026-11-27 13:00 CET |",
        "| olga | Service Owner |",
        "| web1 | host | 10.0.0.5 | compromised |",
        "| deploy-key | ssh key | not rotated | web1 | billing |",
        "| ci-token | token | rotated | web1 | github |",
        "| billing | olga | deploy-key | db1 |",
        "| email addresses | pii | 1 |",
    ] {
        assert!(md.contains(row), "missing row {row:?}:\n{md}");
    }
    assert!(
        md.contains("Also tracked, not known to be compromised: db1 (suspected)."),
        "{md}"
    );
    let at_risk = md
        .split("## Systems at risk")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    assert!(
        !at_risk.contains("github"),
        "a rotated credential puts nothing at risk: {at_risk}"
    );
    // Internal names are words, and nothing is in code spans.
    assert!(md.contains("insider threat ruled out — yes: badge logs clean"), "{md}");
    assert!(
        md.contains("| Rotate ssh key deploy-key (grants billing) | to do | olga |"),
        "{md}"
    );
    assert!(!md.contains('`') && !md.contains("insider_threat"), "{md}");

    // HTML: the label heads it, lists are tables, no Markdown syntax.
    let (st, html) = fetch(
        &app,
        &alice,
        &format!("/api/v1/incidents/{r}/report?format=html&tz=Europe/Berlin"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("<header class=\"label\">Privileged &amp; Confidential</header>"),
        "{html}"
    );
    assert!(html.contains("<footer>Privileged &amp; Confidential · "), "{html}");
    assert!(
        html.contains("<th>Name</th><th>Role</th><th>Since</th><th>Until</th>"),
        "{html}"
    );
    assert!(
        html.contains("<td>alice</td><td>Incident Commander, Reporter</td>"),
        "{html}"
    );
    for leak in ["`", "**", "| --- |", "## "] {
        assert!(!html.contains(leak), "{leak} leaks into the HTML");
    }

    // PDF through the binary: the label at the top and bottom of every page, tables, about
    // two pages, times in Berlin, no Markdown.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    let out = run_cli(
        &app.base,
        &alice,
        &[
            "report",
            &r,
            "--format",
            "pdf",
            "--tz",
            "Europe/Berlin",
            "-o",
            path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pages = pdf_pages(&path);
    assert!(
        (1..=3).contains(&pages.len()),
        "a small incident fits in about two pages, not {}",
        pages.len()
    );
    for (n, page) in pages.iter().enumerate() {
        assert!(
            page.matches(LABEL).count() >= 2,
            "page {} carries the label at top and bottom:\n{page}",
            n + 1
        );
        assert!(page.contains(&format!("page {} of {}", n + 1, pages.len())), "{page}");
    }
    let text = pages.join("\n");
    for needle in [
        "Executive summary",
        "1 asset is known to be compromised: web1.",
        "Incident Commander",
        "Compromised assets",
        "Systems at risk",
        "not rotated",
        "2026-11-27 13:00 CET",
    ] {
        assert!(text.contains(needle), "the PDF lacks {needle:?}:\n{text}");
    }
    // A table row keeps its cells on one line.
    assert!(
        text.lines()
            .any(|l| l.contains("alice") && l.contains("Incident Commander") && l.contains("13:00 CET")),
        "{text}"
    );
    for leak in ["`", "**", "| ---", "1 exposures", "1 records", "insider_threat"] {
        assert!(!text.contains(leak), "{leak:?} leaks into the PDF:\n{text}");
    }
}

#[tokio::test]
async fn report_time_zones_are_iana_names_and_a_wrong_one_is_refused_by_name() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Phishing wave", "security").await;
    let r = inc["id"].as_str().unwrap();
    // Default: UTC, and the default label.
    let (st, md) = fetch(&app, ADMIN_TOKEN, &format!("/api/v1/incidents/{r}/report")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(md.starts_with("**Attorney Work Project**"), "{md}");
    assert!(md.contains("- **Declared:** 2026-11-27 12:00 UTC"), "{md}");
    let (_, md) = fetch(
        &app,
        ADMIN_TOKEN,
        &format!("/api/v1/incidents/{r}/report?tz=America/New_York"),
    )
    .await;
    assert!(md.contains("- **Declared:** 2026-11-27 07:00 EST"), "{md}");

    for (path, what) in [
        (format!("/api/v1/incidents/{r}/report?tz=Mars/Olympus"), "report"),
        (format!("/api/v1/incidents/{r}/report?format=pdf&tz=CET%3B"), "report"),
    ] {
        let (st, p) = app.get(&path, ADMIN_TOKEN).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {p}");
        assert_eq!(p["field"], "tz", "{p}");
        assert!(p["detail"].as_str().unwrap().contains("IANA"), "{p}");
    }
    let out = run_cli(&app.base, ADMIN_TOKEN, &["report", r, "--tz", "Mars/Olympus"]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("tz"), "{}", out.stderr);

    // Outsiders see nothing, whatever the zone.
    let eve = app.user("eve", &[]).await;
    let (st, _) = app
        .get(&format!("/api/v1/incidents/{r}/report?tz=Europe/Berlin"), &eve)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_custody_form_credits_the_acquirer_lists_transfers_and_has_signature_lines() {
    let app = spawn_app_with(|c| c.subject_label = LABEL.into()).await;
    let inc = app
        .declare(ADMIN_TOKEN, "Ransomware on the file server", "security")
        .await;
    let r = inc["id"].as_str().unwrap();
    let codename = inc["codename"].as_str().unwrap();
    let res = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{r}/evidence?name=fs1-root.img&acquired_by=Ana%20Ruiz&tool=ewfacquire&source_asset=fs1",
            app.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body(vec![7u8; 40_000])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let item: Value = res.json().await.unwrap();
    let id = item["id"].as_str().unwrap();
    let evidence = format!("/api/v1/incidents/{r}/evidence/{id}");
    post_ok(
        &app,
        ADMIN_TOKEN,
        &format!("{evidence}/transfer"),
        json!({ "to": "Det. Jane Roe", "organisation": "Metro Police Cyber Unit", "reason": "criminal complaint" }),
    )
    .await;

    let (st, md) = fetch(&app, ADMIN_TOKEN, &format!("{evidence}/custody?tz=Europe/Berlin")).await;
    assert_eq!(st, StatusCode::OK, "{md}");
    assert!(md.starts_with(&format!("**{LABEL}**")), "{md}");
    for needle in [
        "| 1 | 2026-11-27 13:00:00 CET | acquisition | Ana Ruiz (recorded by admin) | Acquired from fs1 with ewfacquire |",
        "| 2 | 2026-11-27 13:00:00 CET | receipt | admin | Received into the evidence locker",
        "| # | Time | Handed over by | Received by | Organisation | Reason |",
        "| 1 | 2026-11-27 13:00:00 CET | admin | Det. Jane Roe | Metro Police Cyber Unit | criminal complaint |",
        "| Acquired by | Ana Ruiz |",
        "| Handed over by | admin |",
        "| Received by | Det. Jane Roe, Metro Police Cyber Unit |",
        "| | Name | Signature | Date |",
        codename,
    ] {
        assert!(md.contains(needle), "the custody form lacks {needle:?}:\n{md}");
    }
    for internal in [
        "seconds",
        "stored: new",
        "deduplicated",
        "declared length",
        "Ransomware",
    ] {
        assert!(!md.contains(internal), "{internal:?} is not for the form:\n{md}");
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custody.pdf");
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &[
            "evidence",
            "custody",
            r,
            id,
            "--format",
            "pdf",
            "--tz",
            "Europe/Berlin",
            "-o",
            path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pages = pdf_pages(&path);
    for (n, page) in pages.iter().enumerate() {
        assert!(page.matches(LABEL).count() >= 2, "page {}:\n{page}", n + 1);
    }
    let text = pages.join("\n");
    for needle in [
        "Ana Ruiz (recorded by admin)",
        "Handed over by",
        "Received by",
        "Det. Jane Roe",
        "Signature",
        "Date",
        "13:00:00 CET",
    ] {
        assert!(text.contains(needle), "the custody PDF lacks {needle:?}:\n{text}");
    }
    for internal in ["seconds", "stored:", "`"] {
        assert!(!text.contains(internal), "{internal:?} in the custody PDF:\n{text}");
    }

    let (st, p) = app
        .get(&format!("{evidence}/custody?format=pdf&tz=Nowhere"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "tz");
    let eve = app.user("eve", &[]).await;
    let (st, _) = app.get(&format!("{evidence}/custody?tz=UTC"), &eve).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
