//! Black-box tests of safe communications (issue 13, findings 1 and 2): error findings hold a
//! message back at approval and at sending unless the incident commander overrides them with
//! a reason (audited, shown on the message); unfilled placeholders are errors; prefilled drafts
//! for outside audiences carry nothing internal and claim nothing the registers do not record;
//! `cordon comms show` prints the message and `cordon comms edit` opens the editor. The real
//! server on port 0, over HTTP and through the binary; the override story on SQLite and on
//! PostgreSQL.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{TestApp, run_cli, spawn_app, spawn_app_with};
use cordon_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An incident with a commander (alice), legal (lena) and marketing (mark).
struct Team {
    r: String,
    alice: String,
    lena: String,
    mark: String,
}

async fn team(app: &TestApp) -> Team {
    let alice = app.user("alice", &[]).await;
    let lena = app.user("lena", &[]).await;
    let mark = app.user("mark", &[]).await;
    let inc = app.declare(&alice, "Deploy key leaked from web1", "security").await;
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

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

async fn draft(app: &TestApp, t: &Team, token: &str, body: Value) -> (String, Value) {
    let (st, v) = app
        .post(&format!("/api/v1/incidents/{}/communications", t.r), token, body)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let path = format!("/api/v1/incidents/{}/communications/{}", t.r, v["id"].as_str().unwrap());
    (path, v)
}

async fn count(app: &TestApp, action: &str) -> usize {
    app.audit_actions().await.iter().filter(|a| *a == action).count()
}

const PLAIN_BODY: &str = "On 2026-11-24 at 22:10 UTC an attacker used a stolen deploy key to read our order \
    database. At 03:05 UTC on 2026-11-25 we revoked the key and locked the account.";

/// Finding 1: an external draft with three error findings was approved by legal and the
/// commander and published. Now each approval and the sending answer 409 `lint_errors`
/// naming the findings, until the commander overrides them with a reason — recorded on the
/// message, audited, and cleared by an edit.
async fn error_findings_hold_a_notice_back_until_the_commander_overrides(app: &TestApp) {
    let t = team(app).await;
    for step in [5, 6] {
        let (st, v) = app.set_task(&t.alice, &t.r, step, json!({ "status": "done" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (path, v) = draft(
        app,
        &t,
        &t.mark,
        json!({ "audience": "external", "title": "Security incident",
                "body": "We take security seriously. Something happened last week." }),
    )
    .await;
    assert_eq!(rules(&v), ["title-date", "banned-phrase", "timeline"], "{v}");
    assert_eq!(
        strs(&v["blocking_findings"]),
        ["title-date", "banned-phrase", "timeline"]
    );
    assert_eq!(v["lint_override"], Value::Null);

    for token in [&t.lena, &t.alice] {
        let (st, p) = app.post(&format!("{path}/approve"), token, json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{p}");
        assert_eq!(p["code"], "lint_errors");
        assert_eq!(strs(&p["rules"]), ["title-date", "banned-phrase", "timeline"], "{p}");
        assert_eq!(p["findings"].as_array().unwrap().len(), 3, "{p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("title-date") && detail.contains("override"), "{detail}");
    }
    // An approval without a body at all is the same request.
    let res = app
        .http
        .post(format!("{}{path}/approve", app.base))
        .bearer_auth(&t.alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    // Only the incident commander may override; legal with a reason is refused.
    let (st, p) = app
        .post(
            &format!("{path}/approve"),
            &t.lena,
            json!({ "override_reason": "looks fine to me" }),
        )
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("incident commander"), "{p}");
    let (_, v) = app.get(&path, &t.mark).await;
    assert_eq!(
        (v["status"].as_str(), v["approvals"].as_array().unwrap().len()),
        (Some("draft"), 0),
        "nothing was approved: {v}"
    );
    assert_eq!(count(app, "communication.approve.refused").await, 4);

    // A blank reason is no reason.
    let (st, p) = app
        .post(&format!("{path}/approve"), &t.alice, json!({ "override_reason": "  " }))
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("lint_errors")),
        "{p}"
    );

    // The commander overrides with a reason: recorded on the message and audited.
    let (st, v) = app
        .post(
            &format!("{path}/approve"),
            &t.alice,
            json!({ "override_reason": "status page wording agreed with counsel; dates follow in the update" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["missing_approvals"], json!(["legal"]));
    let o = &v["lint_override"];
    assert_eq!(o["by"], "alice", "{v}");
    assert_eq!(
        o["reason"],
        "status page wording agreed with counsel; dates follow in the update"
    );
    assert_eq!(o["during"], "approve");
    assert_eq!(strs(&o["rules"]), ["title-date", "banned-phrase", "timeline"]);
    assert_eq!(v["blocking_findings"], json!([]), "{v}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["overridden"] == true),
        "{v}"
    );
    let (_, audit) = app.get("/api/v1/audit?limit=10000", &app.admin).await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "communication.lint_override")
        .expect("the override is audited");
    assert_eq!(entry["actor"], "alice", "{entry}");
    assert!(entry.to_string().contains("dates follow in the update"), "{entry}");

    // Legal approves now; the notice is published, the override still on it.
    let (st, v) = app.post(&format!("{path}/approve"), &t.lena, json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let (st, v) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["published"], true);
    assert_eq!(v["lint_override"]["by"], "alice");

    // An edit clears the override with the approvals: the new text is held back again.
    let (path, _) = draft(
        app,
        &t,
        &t.mark,
        json!({ "audience": "regulator", "title": "Notice", "body": "Something happened last week." }),
    )
    .await;
    let (st, v) = app
        .post(
            &format!("{path}/approve"),
            &t.alice,
            json!({ "override_reason": "timeline follows" }),
        )
        .await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let (st, v) = app
        .patch(&path, &t.mark, json!({ "body": "Something happened last month." }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["lint_override"], Value::Null, "{v}");
    assert_eq!(v["status"], "draft");
    let (st, p) = app.post(&format!("{path}/approve"), &t.alice, json!({})).await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("lint_errors")),
        "{p}"
    );

    // Nothing to override: the reason is refused, naming the field.
    let (path, _) = draft(
        app,
        &t,
        &t.mark,
        json!({ "audience": "regulator", "title": "Notice", "body": PLAIN_BODY }),
    )
    .await;
    let (st, p) = app
        .post(
            &format!("{path}/approve"),
            &t.alice,
            json!({ "override_reason": "just in case" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "override_reason");

    // A sealed incident stays invisible to outsiders on these routes too.
    let eve = app.user("eve", &[]).await;
    for action in ["approve", "send"] {
        let (st, p) = app
            .post(&format!("{path}/{action}"), &eve, json!({ "override_reason": "x" }))
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    }
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn error_findings_hold_a_notice_back_until_the_commander_overrides_on_sqlite() {
    let app = spawn_app().await;
    error_findings_hold_a_notice_back_until_the_commander_overrides(&app).await;
}

#[tokio::test]
async fn error_findings_hold_a_notice_back_until_the_commander_overrides_on_postgresql() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = db.url().to_owned();
    let app = spawn_app_with(move |c| c.database_url = Some(url)).await;
    error_findings_hold_a_notice_back_until_the_commander_overrides(&app).await;
}

/// Finding 1: the findings are taken again at send time — the registers may have changed
/// since approval (here an exposure is recorded that the approved text does not state).
#[tokio::test]
async fn a_message_is_linted_again_when_it_is_sent() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (path, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "regulator", "title": "2026-11-27: Notification", "body": PLAIN_BODY }),
    )
    .await;
    assert_eq!(v["findings"], json!([]), "{v}");
    let (st, v) = app.post(&format!("{path}/approve"), &t.alice, json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{}/exposures", t.r),
            &t.alice,
            json!({ "data": "email addresses", "classification": "pii", "records": 1200 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    let (st, p) = app.post(&format!("{path}/send"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "lint_errors");
    assert_eq!(strs(&p["rules"]), ["exposure-stated"], "{p}");
    assert!(p.to_string().contains("email addresses"), "{p}");
    let (_, v) = app.get(&path, &t.alice).await;
    assert_eq!((v["status"].as_str(), v["sent_at"].as_str()), (Some("approved"), None));
    assert_eq!(count(&app, "communication.send.refused").await, 1);

    // Someone other than the commander cannot send it anyway.
    let (st, p) = app
        .post(&format!("{path}/send"), &t.mark, json!({ "override_reason": "urgent" }))
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role")),
        "{p}"
    );

    let (st, v) = app
        .post(
            &format!("{path}/send"),
            &t.alice,
            json!({ "override_reason": "the exposure goes in the follow-up notice due tomorrow" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "sent");
    assert_eq!(v["lint_override"]["during"], "send");
    assert_eq!(strs(&v["lint_override"]["rules"]), ["exposure-stated"]);
    assert_eq!(count(&app, "communication.lint_override").await, 1);
}

/// Finding 1: templates left `<Describe the impact…>` and still linted clean. Finding 2: with
/// nothing recorded, the external template asserted "no evidence that customer data was
/// exposed". Now what the registers do not record is a placeholder, and a placeholder is an
/// error that holds the draft back.
#[tokio::test]
async fn a_prefilled_draft_claims_nothing_unrecorded_and_its_placeholders_block_it() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (path, v) = draft(&app, &t, &t.mark, json!({ "audience": "external" })).await;
    let body = v["body"].as_str().unwrap();
    assert!(!body.to_lowercase().contains("no evidence"), "{body}");
    assert!(
        !body.contains("unauthorized access"),
        "no compromise is recorded: {body}"
    );
    for placeholder in [
        "<Say what happened — no compromised system or credential is recorded yet>",
        "<State what data was exposed — no exposure is recorded yet>",
        "<Describe the impact on affected customers and what they should do.>",
        "<Say what you have done — no containment or rotation is recorded yet>",
    ] {
        assert!(body.contains(placeholder), "{placeholder} missing: {body}");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "placeholder"
                    && f["severity"] == "error"
                    && f["message"].as_str().unwrap().contains(placeholder)),
            "{placeholder} is not a finding: {v}"
        );
    }
    assert!(strs(&v["blocking_findings"]).contains(&"placeholder".to_string()));
    let (st, p) = app.post(&format!("{path}/approve"), &t.alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert!(strs(&p["rules"]).contains(&"placeholder".to_string()), "{p}");

    // Every outside template marks what it cannot know; the prefill of each is held back.
    for audience in ["customer_security", "regulator", "insurer", "law_enforcement", "vendor"] {
        let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": audience })).await;
        assert!(
            rules(&v).contains(&"placeholder".to_string()),
            "{audience}: {}",
            v["body"]
        );
        assert!(
            !v["body"].as_str().unwrap().contains("Under investigation"),
            "{audience}"
        );
    }
    // Filling the placeholders in clears the finding.
    let filled = format!("{PLAIN_BODY} Email addresses were not affected; we rotated the key.");
    let (st, v) = app.patch(&path, &t.mark, json!({ "body": filled })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(!rules(&v).contains(&"placeholder".to_string()), "{v}");
}

/// Finding 2: the external and customer-security templates wrote decisions, contacts with law
/// enforcement and checklist titles. Outside audiences now see only what the registers
/// support, counted and phrased for them; the team's own update still sees its records.
#[tokio::test]
async fn outside_drafts_never_carry_internal_records() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let base = format!("/api/v1/incidents/{}", t.r);
    let ok = |st: StatusCode, v: &Value| assert!(st.is_success(), "{v}");
    let (st, v) = app
        .post(
            &format!("{base}/decisions"),
            &app.admin,
            json!({ "name": "insider_threat_ruled_out", "value": true, "note": "forensics: outside actor" }),
        )
        .await;
    ok(st, &v);
    for (party, name) in [("law_enforcement", "FBI field office"), ("insurer", "Cyber Mutual")] {
        let (st, v) = app
            .post(
                &format!("{base}/contacts"),
                &t.alice,
                json!({ "party": party, "name": name, "at": "2026-11-27T11:00:00Z" }),
            )
            .await;
        ok(st, &v);
    }
    for step in [5, 6] {
        let (st, v) = app.set_task(&t.alice, &t.r, step, json!({ "status": "done" })).await;
        ok(st, &v);
    }
    let step5 = app
        .tasks(&t.alice, &t.r)
        .await
        .into_iter()
        .find(|x| x["step"] == 5)
        .unwrap()["title"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, web1) = app
        .post(
            &format!("{base}/assets"),
            &t.alice,
            json!({ "name": "web1", "kind": "host", "state": "compromised" }),
        )
        .await;
    ok(st, &web1);
    let (st, key) = app
        .post(
            &format!("{base}/credentials"),
            &t.alice,
            json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": [] }),
        )
        .await;
    ok(st, &key);
    let (st, v) = app
        .patch(
            &format!("{base}/assets/{}", web1["id"].as_str().unwrap()),
            &t.alice,
            json!({ "state": "isolated" }),
        )
        .await;
    ok(st, &v);
    let (st, v) = app
        .patch(
            &format!("{base}/credentials/{}", key["id"].as_str().unwrap()),
            &t.alice,
            json!({ "state": "rotated" }),
        )
        .await;
    ok(st, &v);
    let (st, v) = app
        .post(
            &format!("{base}/exposures"),
            &t.alice,
            json!({ "data": "email addresses", "classification": "pii", "records": 1200, "customers": ["Acme Corp"] }),
        )
        .await;
    ok(st, &v);

    let internal_only = [
        "insider_threat_ruled_out",
        "Decision",
        "FBI",
        "Cyber Mutual",
        "law_enforcement",
        "admin",
        "alice",
        "lena",
        "incident_commander",
        "Incident Commander",
        "web1",
        "deploy-key",
        "Acme Corp",
        "Deploy key leaked",
        step5.as_str(),
    ];
    for audience in [
        "external",
        "customer_security",
        "regulator",
        "insurer",
        "law_enforcement",
        "vendor",
    ] {
        let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": audience })).await;
        let text = format!("{}\n{}", v["title"].as_str().unwrap(), v["body"].as_str().unwrap());
        for secret in internal_only {
            assert!(!text.contains(secret), "{audience} draft carries `{secret}`:\n{text}");
        }
    }
    let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": "external" })).await;
    let body = v["body"].as_str().unwrap();
    for said in [
        "we discovered unauthorized access to our systems",
        "- email addresses (1200 records)",
        "We isolated one affected system from the network.",
        "We rotated one credential that may have been exposed.",
        "We confirmed unauthorized access to one of our systems.",
    ] {
        assert!(body.contains(said), "`{said}` missing:\n{body}");
    }
    assert!(!body.contains("<State what data was exposed"), "{body}");
    let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": "regulator" })).await;
    let body = v["body"].as_str().unwrap();
    assert!(
        body.contains("email addresses (pii, 1200 records)")
            && body.contains("One affected system isolated from the network.")
            && body.contains("One credential that may have been exposed rotated."),
        "{body}"
    );
    // The team's own update keeps its records and names.
    let (_, v) = draft(&app, &t, &t.mark, json!({ "audience": "internal" })).await;
    let body = v["body"].as_str().unwrap();
    for said in ["insider_threat_ruled_out", "web1", "Rotated credentials: deploy-key"] {
        assert!(body.contains(said), "`{said}` missing:\n{body}");
    }
}

/// Runs the real binary with extra environment (the editor).
async fn cli_with_env(app: &TestApp, token: &str, args: &[&str], env: &[(&str, &str)]) -> common::CliOut {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_cordon"));
    cmd.args(args)
        .env("CORDON_URL", &app.base)
        .env("CORDON_TOKEN", token)
        .env("CORDON_LOG", "warn")
        .env_remove("VISUAL")
        .env_remove("EDITOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    common::CliOut {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cordon comms show` prints the message with its body; `cordon comms edit` opens the editor
/// on the body and saves it through the API (nothing when unchanged), printing the findings
/// the server took again; approving from the CLI shows what holds a message back.
#[tokio::test]
async fn the_cli_shows_edits_in_the_editor_and_overrides() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (path, v) = draft(&app, &t, &t.mark, json!({ "audience": "regulator" })).await;
    let id = v["id"].as_str().unwrap().to_owned();

    let out = run_cli(&app.base, &t.mark, &["comms", "show", &t.r, &id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for said in [
        "Personal data breach notification",
        "audience:  regulator",
        "status:    draft",
        "placeholder",
        "<Describe the likely consequences for the people concerned.>",
        "## Measures taken",
        "held back by error findings: placeholder",
    ] {
        assert!(out.stdout.contains(said), "`{said}` missing:\n{}", out.stdout);
    }

    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.to_str().unwrap().to_owned()
    };
    // An editor that saves nothing new: no request is made.
    let untouched = script("untouched.sh", "test -f \"$1\" && grep -q 'Measures taken' \"$1\"");
    let updates = count(&app, "communication.update").await;
    let out = cli_with_env(&app, &t.mark, &["comms", "edit", &t.r, &id], &[("EDITOR", &untouched)]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("unchanged"), "{}", out.stderr);
    assert_eq!(count(&app, "communication.update").await, updates, "no request");

    // An editor that fills the placeholders in: saved, linted again, the findings printed.
    let fill = script(
        "fill.sh",
        "sed -i \
           -e 's/<Describe the likely consequences[^>]*>/Affected customers may receive phishing mail./' \
           -e 's/<Describe the nature of the breach[^>]*>/An attacker used a stolen deploy key./' \
           -e 's/<State what data was involved[^>]*>/- no personal data was involved/' \
           -e 's/<Say what was done[^>]*>/- the key was revoked on 2026-11-25 at 03:05 UTC/' \
           \"$1\"",
    );
    let out = cli_with_env(&app, &t.mark, &["comms", "edit", &t.r, &id], &[("EDITOR", &fill)]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count(&app, "communication.update").await, updates + 1);
    let (_, v) = app.get(&path, &t.mark).await;
    let body = v["body"].as_str().unwrap();
    assert!(body.contains("An attacker used a stolen deploy key."), "{body}");
    assert!(!body.ends_with('\n'), "the body keeps its ending");
    // One placeholder is left (the contact point): printed, and it holds the draft back.
    assert_eq!(rules(&v), ["placeholder"], "{v}");
    assert!(
        out.stdout.contains("placeholder") && out.stdout.contains("<Name the contact point"),
        "{}",
        out.stdout
    );
    // $VISUAL serves when $EDITOR is unset.
    let contact = script(
        "contact.sh",
        "sed -i 's/<Name the contact point[^>]*>/Dana Privacy, dpo@example.com/' \"$1\"",
    );
    let out = cli_with_env(&app, &t.mark, &["comms", "edit", &t.r, &id], &[("VISUAL", &contact)]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("no findings"), "{}", out.stdout);
    // An editor that fails saves nothing.
    let fails = script("fails.sh", "echo scribbled > \"$1\"; exit 3");
    let out = cli_with_env(&app, &t.mark, &["comms", "edit", &t.r, &id], &[("EDITOR", &fails)]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("nothing was saved"), "{}", out.stderr);
    let (_, v) = app.get(&path, &t.mark).await;
    assert!(v["body"].as_str().unwrap().contains("Dana Privacy"), "{v}");

    // Approving a draft with error findings from the CLI: refused, the findings shown.
    let (bad, v) = draft(
        &app,
        &t,
        &t.mark,
        json!({ "audience": "insurer", "title": "Notice", "body": "Something happened. TBD." }),
    )
    .await;
    let bad_id = v["id"].as_str().unwrap().to_owned();
    let out = run_cli(&app.base, &t.alice, &["comms", "approve", &t.r, &bad_id]).await;
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("lint_errors"), "{}", out.stderr);
    assert!(
        out.stderr.contains("placeholder: ") && out.stderr.contains("timeline: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--override-reason"), "{}", out.stderr);
    let out = run_cli(
        &app.base,
        &t.alice,
        &[
            "comms",
            "approve",
            &t.r,
            &bad_id,
            "--override-reason",
            "claim number follows by phone",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("override by alice") && out.stdout.contains("claim number follows by phone"),
        "{}",
        out.stdout
    );
    let (_, v) = app.get(&bad, &t.alice).await;
    assert_eq!(v["status"], "approved");
    let out = run_cli(&app.base, &t.alice, &["comms", "show", &t.r, &bad_id]).await;
    assert!(out.stdout.contains("error (overridden)"), "{}", out.stdout);
}
