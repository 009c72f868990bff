//! Black-box tests of communications, the contact log, regulatory clocks and the incident
//! report (issue 7): the real server on port 0, driven over HTTP and through the binary.
//! Each item of the "Checked from outside" list is a test here.

mod common;

use common::{TestApp, run_cli, spawn_app};
use cordon_core::clock::Clock;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An incident with a commander (alice), legal (lena) and marketing (mark); returns its ref
/// and the tokens.
struct Team {
    r: String,
    alice: String,
    lena: String,
    mark: String,
}

async fn team(app: &TestApp, title: &str) -> Team {
    let alice = app.user("alice", &[]).await;
    let lena = app.user("lena", &[]).await;
    let mark = app.user("mark", &[]).await;
    let inc = app.declare(&alice, title, "security").await;
    let r = inc["codename"].as_str().unwrap().replace(' ', "-").to_lowercase();
    for (u, role) in [
        ("alice", "incident_commander"),
        ("lena", "legal"),
        ("mark", "marketing"),
    ] {
        let (st, v) = app.add_member(&app.admin, &r, u, role).await;
        assert!(st.is_success(), "{v}");
    }
    Team { r, alice, lena, mark }
}

fn rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

const PLAIN_BODY: &str = "On 2026-11-24 at 22:10 UTC an attacker used a stolen deploy key to read our order \
    database. At 03:05 UTC on 2026-11-25 we revoked the key and locked the account.";

async fn draft(app: &TestApp, t: &Team, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/incidents/{}/communications", t.r), token, body)
        .await
}

#[tokio::test]
async fn an_undated_serious_notice_gets_both_findings_and_a_dated_plain_one_neither() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "Security incident",
                "body": format!("We take security very seriously. {PLAIN_BODY}") }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let found = rules(&v);
    assert!(found.contains(&"title-date".to_string()), "{v}");
    assert!(found.contains(&"banned-phrase".to_string()), "{v}");
    assert!(v["findings"][0]["severity"].is_string() && v["findings"][0]["message"].is_string());

    let (st, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "2026-11-27: Unauthorized access to order data", "body": PLAIN_BODY }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["findings"], json!([]), "{v}");

    // Every edit is linted again.
    let id = v["id"].as_str().unwrap();
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{}/communications/{id}", t.r),
            &t.mark,
            json!({ "title": "Update" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(rules(&v), ["title-date"]);
}

#[tokio::test]
async fn sending_an_unapproved_external_notice_is_refused_and_the_approved_one_is_published() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (_, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "2026-11-27: Unauthorized access", "body": PLAIN_BODY }),
    )
    .await;
    let id = v["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{}/communications/{id}", t.r);

    let (st, v) = app.post(&format!("{path}/send"), &t.mark, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "not_approved");
    assert!(
        app.audit_actions()
            .await
            .contains(&"communication.send.refused".to_string())
    );
    let (_, v) = app.get(&path, &t.mark).await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["sent_at"], Value::Null, "nothing sent");

    // A member without the role cannot approve.
    let (st, v) = app.post(&format!("{path}/approve"), &t.mark, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "forbidden_role");
    assert!(
        app.audit_actions()
            .await
            .contains(&"communication.approve.refused".to_string())
    );

    // The commander alone is not enough for an external notice.
    let (st, v) = app.post(&format!("{path}/approve"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["missing_approvals"], json!(["legal"]));
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!((st, v["code"].as_str()), (StatusCode::CONFLICT, Some("not_approved")));

    let (st, v) = app.post(&format!("{path}/approve"), &t.lena, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");

    // Approved, but the facts (steps 5 and 6) are not established: the gate holds it.
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "gate_unmet");
    assert_eq!(v["gate"], "facts_confirmed");

    for step in [5, 6] {
        let (st, v) = app.set_task(&t.alice, &t.r, step, json!({ "status": "done" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "sent");
    assert_eq!(v["published"], true);
    assert_eq!(v["sent_at"], "2026-11-27T12:00:00Z");
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "sent once: {v}");

    // An edit after approval drops the approvals.
    let (_, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "regulator", "title": "Notice", "body": PLAIN_BODY }),
    )
    .await;
    let p2 = format!("/api/v1/incidents/{}/communications/{}", t.r, v["id"].as_str().unwrap());
    let (_, v) = app.post(&format!("{p2}/approve"), &t.alice, json!({})).await;
    assert_eq!(v["status"], "approved");
    let (_, v) = app
        .patch(&p2, &t.mark, json!({ "body": format!("{PLAIN_BODY} More.") }))
        .await;
    assert_eq!(
        (v["status"].as_str(), v["approvals"].as_array().unwrap().len()),
        (Some("draft"), 0)
    );
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn internal_messages_wait_for_the_insider_decision() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (_, v) = draft(
        &app,
        &t,
        &t.alice,
        json!({ "audience": "internal", "title": "Update", "body": PLAIN_BODY }),
    )
    .await;
    let path = format!("/api/v1/incidents/{}/communications/{}", t.r, v["id"].as_str().unwrap());
    assert_eq!(v["blocked_by"], json!(["insider_threat_ruled_out"]));
    app.post(&format!("{path}/approve"), &t.alice, json!({})).await;
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(
        (st, v["gate"].as_str()),
        (StatusCode::CONFLICT, Some("insider_threat_ruled_out"))
    );
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/decisions", t.r),
            &t.alice,
            json!({ "name": "insider_threat_ruled_out", "value": true, "note": "forensics: outside actor" }),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["channel"], "recorded",
        "no recipients: recorded as sent by other means"
    );
}

#[tokio::test]
async fn templates_prefill_drafts_and_a_broken_template_is_a_clear_error() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = draft(&app, &t, &t.mark, json!({ "audience": "external" })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(v["title"].as_str().unwrap().starts_with("2026-11-27"), "{v}");
    assert!(
        v["body"]
            .as_str()
            .unwrap()
            .contains("2026-11-27 12:00 UTC: We discovered the incident and started our response."),
        "{v}"
    );
    assert!(!rules(&v).contains(&"title-date".to_string()), "{v}");

    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/communications/templates/external",
            Some(&app.admin),
            Some(
                json!({ "audience": "external", "title": "{{ today }}: notice", "body": "{{ incident.nope.deeper }}" }),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = draft(&app, &t, &t.mark, json!({ "audience": "external" })).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "template_error");
    assert!(v["detail"].as_str().unwrap().contains("undefined"), "{v}");
    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/communications/templates/external",
            Some(&app.admin),
            Some(json!({ "audience": "external", "title": "{% if %}", "body": "x" })),
        )
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("template_error")),
        "{v}"
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"communication.create.refused".to_string()));
    assert!(actions.contains(&"template.put.refused".to_string()));
}

async fn put_template(app: &TestApp, name: &str, title: &str, body: &str) {
    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/communications/templates/{name}"),
            Some(&app.admin),
            Some(json!({ "audience": "internal", "title": title, "body": body })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// Issue 12, finding 9: a template with nested ranges never returned, memory grew ~12 MB/s and
/// SIGTERM did not stop the server. Every render is bounded in steps, nesting and output, and
/// a template over a bound is refused at once with `template_too_costly`.
#[tokio::test]
async fn a_template_that_would_loop_or_recurse_forever_is_refused_at_once() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    put_template(
        &app,
        "nested",
        "loop",
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    )
    .await;
    put_template(
        &app,
        "recursive",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
        "body",
    )
    .await;
    put_template(
        &app,
        "wide",
        "wide",
        "{% for i in range(1000) %}{{ 'x' * 1000000 }}{% endfor %}",
    )
    .await;
    for (name, why) in [("nested", "steps"), ("recursive", "levels"), ("wide", "bytes")] {
        let started = std::time::Instant::now();
        let (st, v) = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            draft(&app, &t, &t.mark, json!({ "audience": "internal", "template": name })),
        )
        .await
        .unwrap_or_else(|_| panic!("the {name} template did not return"));
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
        assert_eq!(v["code"], "template_too_costly", "{name}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.contains(name) && detail.contains(why), "{name}: {detail}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{name} took {:?}",
            started.elapsed()
        );
    }
    // Nothing was drafted, the refusals are audited, and the server goes on as before.
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{}/communications", t.r), &t.mark)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(0), "{v}");
    let refused = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "communication.create.refused")
        .count();
    assert_eq!(refused, 3);
    let (st, v) = draft(&app, &t, &t.mark, json!({ "audience": "external" })).await;
    assert_eq!(st, StatusCode::CREATED, "the default templates still render: {v}");
}

/// Issue 12, finding 12: any user could read every communications template. Templates are read,
/// like written, by admins and the security group; a responder drafts from one by name and sees
/// only the draft rendered for the incident.
#[tokio::test]
async fn templates_are_read_by_admins_and_the_security_group_only() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let sec = app.user("sam", &["security"]).await;
    let nobody = app.user("nick", &[]).await;
    for token in [&t.alice, &t.mark, &nobody] {
        let (st, v) = app.get("/api/v1/communications/templates", token).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert_eq!(v["code"], "forbidden");
        assert!(
            v.to_string().find("{{").is_none(),
            "no template text in the refusal: {v}"
        );
    }
    for token in [&app.admin, &sec] {
        let (st, v) = app.get("/api/v1/communications/templates", token).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(v.as_array().unwrap().iter().any(|t| t["name"] == "external"), "{v}");
    }
    let refused = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a == "template.list.refused")
        .count();
    assert_eq!(refused, 3);
    // Drafting from a template still works for the team.
    let (st, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "template": "external" }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn clock(app: &TestApp, t: &Team, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/incidents/{}/clocks", t.r), &t.alice, body)
        .await
}

fn due(v: &Value, name: &str) -> String {
    v["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no milestone {name} in {v}"))["due"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn gdpr_nis2_sec_and_hipaa_milestones_land_on_the_right_dates() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = clock(
        &app,
        &t,
        json!({ "regime": "gdpr", "started_at": "2026-11-26T09:30:00Z" }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(due(&v, "supervisory_authority"), "2026-11-29T09:30:00Z");

    let (_, v) = clock(
        &app,
        &t,
        json!({ "regime": "nis2", "started_at": "2026-11-27T10:00:00Z" }),
    )
    .await;
    assert_eq!(due(&v, "early_warning"), "2026-11-28T10:00:00Z");
    assert_eq!(due(&v, "incident_notification"), "2026-11-30T10:00:00Z");
    assert_eq!(due(&v, "final_report"), "2026-12-30T10:00:00Z");

    // Materiality determined on Wednesday 2026-11-25 (15:00 New York): Thanksgiving on the
    // 26th and the weekend do not count; due at the end of Wednesday 2 December.
    let (_, v) = clock(
        &app,
        &t,
        json!({ "regime": "sec-8k", "started_at": "2026-11-25T20:00:00Z", "jurisdiction": "us" }),
    )
    .await;
    assert_eq!(due(&v, "form_8k"), "2026-12-02T23:59:59-05:00");
    let form = v["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "form_8k")
        .unwrap();
    assert_eq!(form["due_date"], "2026-12-02");

    let (_, v) = clock(
        &app,
        &t,
        json!({ "regime": "hipaa", "started_at": "2026-11-20T08:00:00Z" }),
    )
    .await;
    assert_eq!(due(&v, "individual_notice"), "2027-01-19T08:00:00Z");

    let (st, list) = app.get(&format!("/api/v1/incidents/{}/clocks", t.r), &t.alice).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 4);
    let of = |list: &Value, regime: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["regime"] == regime)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&list, "gdpr")["milestones"][0]["status"], "pending");

    // After the GDPR deadline, unmet milestones are missed; a filing in time is met.
    app.clock.advance(SignedDuration::from_hours(72));
    let (_, list) = app.get(&format!("/api/v1/incidents/{}/clocks", t.r), &t.alice).await;
    assert_eq!(of(&list, "gdpr")["milestones"][0]["missed"], true);
    let nis2 = of(&list, "nis2")["id"].as_str().unwrap().to_owned();
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/clocks/{nis2}/milestones/early_warning/met", t.r),
            &t.alice,
            json!({ "met_at": "2026-11-28T09:00:00Z" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["milestones"][0]["status"], "met");
}

#[tokio::test]
async fn bad_clocks_are_refused_and_audited() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = clock(
        &app,
        &t,
        json!({ "regime": "ccpa", "started_at": "2026-11-26T09:30:00Z" }),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")),
        "{v}"
    );
    assert_eq!(v["field"], "regime");
    let (st, v) = clock(
        &app,
        &t,
        json!({ "regime": "gdpr", "started_at": "2026-11-28T00:00:00Z" }),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "started_at");
    let refused = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "clock.start.refused")
        .count();
    assert_eq!(refused, 2);
    let (_, list) = app.get(&format!("/api/v1/incidents/{}/clocks", t.r), &t.alice).await;
    assert_eq!(list, json!([]));
}

async fn page_count(app: &TestApp, t: &Team) -> usize {
    let (st, v) = app.get(&format!("/api/v1/incidents/{}/pages", t.r), &t.alice).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().len()
}

async fn remind_count(app: &TestApp) -> usize {
    app.audit_actions()
        .await
        .iter()
        .filter(|a| *a == "clock.remind")
        .count()
}

/// Waits (without sleeping) until the incident has `n` pages: the server's own engine may
/// have claimed a reminder first and be creating its page.
async fn until_pages(app: &TestApp, t: &Team, n: usize) -> usize {
    for _ in 0..500 {
        let got = page_count(app, t).await;
        if got >= n {
            return got;
        }
        tokio::task::yield_now().await;
    }
    page_count(app, t).await
}

#[tokio::test]
async fn reminders_page_the_commander_once_before_each_milestone() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    // GDPR clock started now: due in 72 h; reminders 24 h and 1 h before.
    let (st, v) = clock(
        &app,
        &t,
        json!({ "regime": "gdpr", "started_at": "2026-11-27T12:00:00Z" }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let cordon = app.cordon();
    assert_eq!(cordon.remind_due(app.clock.now()).await.unwrap(), 0);
    assert_eq!(page_count(&app, &t).await, 0);

    app.clock.advance(SignedDuration::from_hours(48));
    let now = app.clock.now();
    // Several engines (ours twice, and the server's own loop) race for the reminder.
    let (a, b) = tokio::join!(cordon.remind_due(now), cordon.remind_due(now));
    assert!(a.unwrap() + b.unwrap() <= 1);
    assert_eq!(until_pages(&app, &t, 1).await, 1, "one page for the 24 h reminder");
    assert_eq!(remind_count(&app).await, 1);
    assert_eq!(cordon.remind_due(now).await.unwrap(), 0);

    app.clock.advance(SignedDuration::from_hours(23));
    cordon.remind_due(app.clock.now()).await.unwrap();
    assert_eq!(until_pages(&app, &t, 2).await, 2, "and one for the 1 h reminder");
    assert_eq!(remind_count(&app).await, 2);
    let (_, pages) = app.get(&format!("/api/v1/incidents/{}/pages", t.r), &t.alice).await;
    let to: Vec<&str> = pages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert!(to.iter().all(|p| p.contains("alice")), "the commander is paged: {to:?}");
}

#[tokio::test]
async fn contacts_are_logged_and_advance_their_step() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/contacts", t.r),
            &t.alice,
            json!({ "party": "law_enforcement", "name": "FBI field office", "at": "2026-11-27T11:00:00Z", "reference": "CASE-42" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["step"], 12);
    let tasks = app.tasks(&t.alice, &t.r).await;
    assert_eq!(tasks.iter().find(|x| x["step"] == 12).unwrap()["status"], "in_progress");
    app.post(
        &format!("/api/v1/incidents/{}/contacts", t.r),
        &t.alice,
        json!({ "party": "operator", "name": "Hostly", "at": "2026-11-27T11:30:00Z", "outcome": "account closed" }),
    )
    .await;
    let (_, list) = app.get(&format!("/api/v1/incidents/{}/contacts", t.r), &t.alice).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let tasks = app.tasks(&t.alice, &t.r).await;
    assert_eq!(tasks.iter().find(|x| x["step"] == 13).unwrap()["status"], "in_progress");
    // The operator is now a third party the linter knows.
    let (_, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "2026-11-27 notice", "body": format!("{PLAIN_BODY} The key leaked at Hostly.") }),
    )
    .await;
    assert_eq!(rules(&v), ["third-party-named"]);
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/contacts", t.r),
            &t.alice,
            json!({ "party": "astrologer", "name": "x", "at": "2026-11-27T11:30:00Z" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test]
async fn the_markdown_report_names_the_incident_and_the_pdf_is_a_pdf_with_japanese() {
    let app = spawn_app().await;
    let t = team(&app, "顧客データへの不正アクセス").await;
    clock(
        &app,
        &t,
        json!({ "regime": "appi", "started_at": "2026-11-27T01:00:00Z" }),
    )
    .await;
    let (_, inc) = app.get(&format!("/api/v1/incidents/{}", t.r), &t.alice).await;
    let codename = inc["codename"].as_str().unwrap().to_owned();

    let res = app
        .http
        .get(format!("{}/api/v1/incidents/{}/report?format=md", app.base, t.r))
        .bearer_auth(&t.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let md = res.text().await.unwrap();
    assert!(md.contains(&format!("# Incident report: {codename}")), "{md}");
    assert!(md.contains("顧客データへの不正アクセス"));
    for heading in [
        "## Executive summary",
        "## Timeline",
        "## Actions and task outcomes",
        "## Exposures",
        "## Indicators",
        "## Evidence",
        "## Communications sent",
        "## Regulatory milestones",
        "## Postmortem",
    ] {
        assert!(md.contains(heading), "{heading} missing");
    }
    assert!(md.contains("| APPI | 速報: preliminary report to the PPC"), "{md}");
    // Declared Friday 2026-11-27: five business days end with Friday 4 December (New York).
    assert!(
        md.contains("Meeting due by 2026-12-04 23:59 EST"),
        "SEV-2: five business days: {md}"
    );

    let html = app
        .http
        .get(format!("{}/api/v1/incidents/{}/report?format=html", app.base, t.r))
        .bearer_auth(&t.alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains(&codename));

    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("report.pdf");
    let out = run_cli(
        &app.base,
        &t.alice,
        &["report", &t.r, "--format", "pdf", "-o", pdf_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pdf = std::fs::read(&pdf_path).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() < 500_000, "fonts are subset: {} bytes", pdf.len());
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test-env.sh installs it)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("顧客データへの不正アクセス"),
        "Japanese glyphs render: {text}"
    );
    assert!(text.contains(&codename));

    // Outsiders get 404, exactly as for an incident that does not exist.
    let eve = app.user("eve", &[]).await;
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{}/report?format=md", t.r), &eve)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, _) = app
        .get(&format!("/api/v1/incidents/{}/communications", t.r), &eve)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app.get(&format!("/api/v1/incidents/{}/clocks", t.r), &eve).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_cli_drafts_and_lists_messages_and_clocks() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let out = run_cli(
        &app.base,
        &t.mark,
        &[
            "comms",
            "draft",
            &t.r,
            "--audience",
            "external",
            "--title",
            "Security incident",
            "--body",
            "We take security seriously.",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("title-date") && out.stdout.contains("banned-phrase"),
        "{}",
        out.stdout
    );
    let out = run_cli(&app.base, &t.mark, &["comms", "list", &t.r, "--json"]).await;
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    let out = run_cli(
        &app.base,
        &t.alice,
        &[
            "clock",
            "start",
            &t.r,
            "--regime",
            "sec-8k",
            "--started-at",
            "2026-11-25T20:00:00Z",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("form_8k") && out.stdout.contains("2026-12-02T23:59:59-05:00"),
        "{}",
        out.stdout
    );
    let out = run_cli(
        &app.base,
        &t.alice,
        &[
            "contact",
            "add",
            &t.r,
            "--party",
            "insurer",
            "--name",
            "Cyber Mutual",
            "--at",
            "2026-11-27T10:00:00Z",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Cyber Mutual"));
    let out = run_cli(&app.base, &t.alice, &["report", &t.r]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("**Attorney Work Project**\n\n# Incident report:")
    );
}

#[tokio::test]
async fn exposures_feed_the_linter_and_the_report() {
    let app = spawn_app().await;
    let t = team(&app, "Order database read").await;
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/exposures", t.r),
            &t.alice,
            json!({ "data": "email addresses", "classification": "pii", "records": 1200 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/iocs", t.r),
            &t.alice,
            json!({ "kind": "ip", "value": "203.0.113.7" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    let (_, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "2026-11-27: Unauthorized access", "body": PLAIN_BODY }),
    )
    .await;
    assert_eq!(rules(&v), ["exposure-stated", "exposure-stated"], "{v}");
    let body = format!(
        "{PLAIN_BODY} Email addresses of 1,200 customers were exposed; affected customers may receive phishing mail."
    );
    let (_, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "2026-11-27: Unauthorized access", "body": body }),
    )
    .await;
    assert_eq!(v["findings"], json!([]), "{v}");
    // The template lists the exposure.
    let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": "regulator" })).await;
    assert!(
        v["body"]
            .as_str()
            .unwrap()
            .contains("email addresses (pii, 1200 records)"),
        "{v}"
    );

    let md = app
        .http
        .get(format!("{}/api/v1/incidents/{}/report", app.base, t.r))
        .bearer_auth(&t.alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(md.contains("| email addresses | pii | 1,200 |"), "{md}");
    assert!(md.contains("203.0.113.7"), "{md}");
}
