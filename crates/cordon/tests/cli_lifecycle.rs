//! The incident's lifecycle through the real `cordon` binary against a real server (issue 13,
//! finding 4): update, resolve and close; members and hand-over; decisions; the audit log with
//! filters and its cursor; users and on-call; refused status moves that say what is allowed;
//! `-`/`_` and case in every named value; errors that name the field and the allowed values;
//! `--help` examples and value lists; shell completions.

mod common;

use common::{ADMIN_TOKEN, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn cordon(base: &str, token: &str, args: &[&str]) -> common::CliOut {
    common::run_cli(base, token, args).await
}

/// Runs a command that must succeed and returns its standard output.
async fn ok(base: &str, token: &str, args: &[&str]) -> String {
    let out = cordon(base, token, args).await;
    assert_eq!(out.code, 0, "cordon {args:?} failed:\n{}{}", out.stdout, out.stderr);
    out.stdout
}

async fn ok_json(base: &str, token: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = ok(base, token, &args).await;
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn an_incident_is_worked_from_declaration_to_closing_on_the_command_line() {
    let app = spawn_app().await;
    let b = app.base.as_str();
    app.user("bob", &[]).await;
    app.user("carol", &[]).await;

    // Declared with a severity in another spelling: stored as the canonical one.
    let inc = ok_json(
        b,
        ADMIN_TOKEN,
        &[
            "incident",
            "declare",
            "--title",
            "Deploy key leaked",
            "--severity",
            "sev-2",
        ],
    )
    .await;
    assert_eq!(inc["severity"], "SEV-2");
    let slug = inc["slug"].as_str().unwrap().to_owned();
    let r = slug.as_str();

    // Title and severity.
    let out = ok(
        b,
        ADMIN_TOKEN,
        &[
            "incident",
            "update",
            r,
            "--severity",
            "SEV-1",
            "--title",
            "Deploy key used from 203.0.113.7",
        ],
    )
    .await;
    assert!(
        out.contains("severity: SEV-1") && out.contains("title:    Deploy key used from 203.0.113.7"),
        "{out}"
    );
    let out = cordon(b, ADMIN_TOKEN, &["incident", "update", r]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);

    // A refused move says which moves are allowed, on the CLI and in the problem document.
    let out = cordon(b, ADMIN_TOKEN, &["incident", "resolve", r]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot move from triage to resolved")
            && out
                .stderr
                .contains("from triage it can move to active or not_an_incident")
            && out.stderr.contains("illegal_transition")
            && out.stderr.contains("409"),
        "{}",
        out.stderr
    );
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}"),
            ADMIN_TOKEN,
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "illegal_transition");
    assert_eq!(v["from"], "triage");
    assert_eq!(v["to"], "resolved");
    assert_eq!(v["allowed"], json!(["active", "not_an_incident"]));
    assert!(
        v["detail"].as_str().unwrap().contains("active or not_an_incident"),
        "{v}"
    );

    // The team: add in a role named by its alias, hand over command twice, remove.
    let out = ok(
        b,
        ADMIN_TOKEN,
        &["incident", "member", "add", r, "bob", "--role", "sme"],
    )
    .await;
    assert!(out.contains("added bob as subject_matter_expert"), "{out}");
    let out = ok(b, ADMIN_TOKEN, &["incident", "handover", r, "bob"]).await;
    assert!(out.contains("bob is now incident commander"), "{out}");
    assert!(!out.contains("(was"), "nobody held command before: {out}");
    let out = ok(b, ADMIN_TOKEN, &["incident", "handover", r, "carol"]).await;
    assert!(out.contains("carol is now incident commander (was bob)"), "{out}");
    let team = ok_json(b, ADMIN_TOKEN, &["incident", "member", "list", r]).await;
    let active: Vec<(String, String)> = team
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        active.contains(&("carol".into(), "incident_commander".into())),
        "{team}"
    );
    assert!(
        active.contains(&("bob".into(), "subject_matter_expert".into())),
        "{team}"
    );
    assert!(!active.contains(&("bob".into(), "incident_commander".into())), "{team}");
    let all = ok(b, ADMIN_TOKEN, &["incident", "member", "list", r, "--all"]).await;
    assert!(all.starts_with("USER"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with("bob") && l.contains("incident_commander") && !l.trim_end().ends_with('-')),
        "bob's ended term is listed with its end: {all}"
    );
    let out = ok(
        b,
        ADMIN_TOKEN,
        &[
            "incident",
            "member",
            "remove",
            r,
            "bob",
            "--role",
            "subject-matter-expert",
        ],
    )
    .await;
    assert!(out.contains("bob is no longer subject_matter_expert"), "{out}");
    let out = ok(b, ADMIN_TOKEN, &["incident", "member", "list", r]).await;
    assert!(!out.lines().any(|l| l.starts_with("bob")), "{out}");

    // Decisions.
    let out = ok(
        b,
        ADMIN_TOKEN,
        &[
            "incident",
            "decision",
            "record",
            r,
            "insider_threat_ruled_out",
            "--note",
            "badge logs checked",
        ],
    )
    .await;
    assert!(out.contains("recorded insider_threat_ruled_out = true"), "{out}");
    let decisions = ok_json(b, ADMIN_TOKEN, &["incident", "decision", "list", r]).await;
    assert_eq!(decisions[0]["name"], "insider_threat_ruled_out");
    assert_eq!(decisions[0]["note"], "badge logs checked");
    assert_eq!(decisions[0]["decided_by"], "admin");
    let out = cordon(
        b,
        ADMIN_TOKEN,
        &["incident", "decision", "record", r, "aliens_ruled_out"],
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("name: unknown decision `aliens_ruled_out`")
            && out.stderr.contains("insider_threat_ruled_out"),
        "{}",
        out.stderr
    );

    // Through the lifecycle to closed, in `-` spellings.
    for status in ["active", "Contained"] {
        ok(b, ADMIN_TOKEN, &["incident", "update", r, "--status", status]).await;
    }
    let out = ok(b, ADMIN_TOKEN, &["incident", "resolve", r]).await;
    assert!(out.contains("status: resolved"), "{out}");
    let id = inc["id"].as_str().unwrap();
    let closed = ok_json(b, ADMIN_TOKEN, &["incident", "close", id]).await;
    assert_eq!(closed["status"], "closed");
    let out = cordon(b, ADMIN_TOKEN, &["incident", "update", id, "--status", "active"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("closed is final"), "{}", out.stderr);

    // A false alarm is closed as not-an-incident.
    let other = app.declare(ADMIN_TOKEN, "Odd login", "security").await;
    let other_id = other["id"].as_str().unwrap();
    // (the incident commander's call alone)
    ok(b, ADMIN_TOKEN, &["incident", "handover", other_id, "admin"]).await;
    let out = ok(b, ADMIN_TOKEN, &["incident", "close", other_id, "--not-an-incident"]).await;
    assert!(out.contains("status: not_an_incident"), "{out}");

    // Every change is in the audit log, which the chain still verifies.
    let actions = app.audit_actions().await;
    for action in [
        "incident.update",
        "incident.update.refused",
        "member.add",
        "member.remove",
        "decision.record",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn the_audit_log_is_read_with_filters_and_a_cursor() {
    let app = spawn_app().await;
    let b = app.base.as_str();
    app.user("bob", &[]).await;
    let inc = app.declare(ADMIN_TOKEN, "Phishing wave", "security").await;
    let r = inc["slug"].as_str().unwrap();
    let other = app.declare(ADMIN_TOKEN, "Other incident", "security").await;
    app.add_member(ADMIN_TOKEN, r, "bob", "scribe").await;
    app.add_member(ADMIN_TOKEN, other["slug"].as_str().unwrap(), "bob", "scribe")
        .await;

    // The whole log, followed to its end, is what the API holds.
    let all = ok_json(b, ADMIN_TOKEN, &["audit", "log", "--all", "--limit", "2"]).await;
    let (st, api) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(all, api);
    let seqs: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // One page, and the cursor that reads the next.
    let out = cordon(b, ADMIN_TOKEN, &["audit", "log", "--limit", "2"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("SEQ"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let hint = format!("more entries follow: add --after {}", seqs[1]);
    assert!(out.stderr.contains(&hint), "{}", out.stderr);
    let next = ok_json(
        b,
        ADMIN_TOKEN,
        &["audit", "log", "--limit", "2", "--after", &seqs[1].to_string()],
    )
    .await;
    assert_eq!(next[0]["seq"].as_i64(), Some(seqs[2]));

    // Filters: one incident's member changes, by its codename.
    let members = ok_json(
        b,
        ADMIN_TOKEN,
        &["audit", "log", "--incident", r, "--action", "member", "--all"],
    )
    .await;
    let members = members.as_array().unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0]["action"], "member.add");
    assert_eq!(
        members[0]["subject"],
        format!("incident:{}", inc["id"].as_str().unwrap())
    );
    // Filtered pages carry the filters into their next link.
    let (st, page) = app.get("/api/v1/audit?limit=1&action=member", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(page.as_array().unwrap().len(), 1);
    let res = app
        .http
        .get(format!("{}/api/v1/audit?limit=1&action=member", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("action=member") && link.contains("limit=1"), "{link}");
    let by_actor = ok_json(b, ADMIN_TOKEN, &["audit", "log", "--actor", "nobody-at-all", "--all"]).await;
    assert_eq!(by_actor, json!([]));
    let future = ok_json(b, ADMIN_TOKEN, &["audit", "log", "--since", "2099-01-01T00:00:00Z"]).await;
    assert_eq!(future, json!([]));
    let (st, v) = app.get("/api/v1/audit?since=yesterday", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "since");

    // Only admins read it.
    let bob = app.post("/api/v1/users/bob/tokens", ADMIN_TOKEN, json!({})).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = cordon(b, &bob, &["audit", "log"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("forbidden") && out.stderr.contains("403"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_sealed_incident_stays_invisible_to_outsiders_on_every_new_command() {
    let app = spawn_app().await;
    let b = app.base.as_str();
    let olga = app.user("olga", &[]).await;
    app.user("bob", &[]).await;
    let inc = app.declare(ADMIN_TOKEN, "Ransomware on build host", "security").await;
    let r = inc["slug"].as_str().unwrap();

    for args in [
        vec!["incident", "update", r, "--severity", "SEV-1"],
        vec!["incident", "resolve", r],
        vec!["incident", "close", r],
        vec!["incident", "handover", r, "olga"],
        vec!["incident", "member", "list", r],
        vec!["incident", "member", "add", r, "olga", "--role", "scribe"],
        vec!["incident", "member", "remove", r, "admin", "--role", "reporter"],
        vec!["incident", "decision", "list", r],
        vec!["incident", "decision", "record", r, "insider_threat_ruled_out"],
    ] {
        let out = cordon(b, &olga, &args).await;
        assert_eq!(out.code, 1, "{args:?}: {}", out.stdout);
        assert!(
            out.stderr.contains("not_found") && out.stderr.contains("404"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("Ransomware") && !out.stdout.contains("Ransomware"));
    }
    // Nothing changed.
    let (_, v) = app.get(&format!("/api/v1/incidents/{r}"), ADMIN_TOKEN).await;
    assert_eq!(v["severity"], "SEV-2");
    assert!(!v["members"].to_string().contains("olga"));

    // Users: yourself, or anyone for an admin.
    let me = ok_json(b, &olga, &["user", "show", "olga"]).await;
    assert_eq!(me["email"], "olga@example.com");
    let out = cordon(b, &olga, &["user", "show", "bob"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
    let out = ok(b, ADMIN_TOKEN, &["user", "show", "bob"]).await;
    assert!(
        out.contains("email:    bob@example.com") && out.contains("admin:    false"),
        "{out}"
    );
    let out = cordon(b, ADMIN_TOKEN, &["user", "show", "nobody"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("user not found"), "{}", out.stderr);
    let out = ok(b, ADMIN_TOKEN, &["user", "list"]).await;
    assert!(out.contains("olga") && out.contains("bob"), "{out}");
}

#[tokio::test]
async fn wrong_values_name_the_field_and_what_is_allowed_and_any_spelling_is_read() {
    let app = spawn_app().await;
    let b = app.base.as_str();

    // The API: the field, the value and the allowed ones; never serde's words.
    let cases = [
        (
            json!({ "title": "x", "kind": "security", "severity": "SEV-9" }),
            "severity",
            "severity: \"SEV-9\" is not one of SEV-1, SEV-2, SEV-3, SEV-4, SEV-5",
        ),
        (
            json!({ "title": "x", "kind": "secret", "severity": "SEV-1" }),
            "kind",
            "kind: \"secret\" is not one of security, operational",
        ),
        (
            json!({ "kind": "security", "severity": "SEV-1" }),
            "title",
            "title: is required",
        ),
        (
            json!({ "title": "x", "kind": "security", "severity": 3 }),
            "severity",
            "severity: expected a string, got integer 3",
        ),
        (
            json!({ "title": "x", "kind": "security", "severity": "SEV-1", "colour": "red" }),
            "colour",
            "colour: is not a field of this body; the fields are title, description, kind, severity, room",
        ),
    ];
    for (body, field, detail) in cases {
        let (st, v) = app.post("/api/v1/incidents", ADMIN_TOKEN, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["code"], "invalid_body", "{v}");
        assert_eq!(v["field"], field, "{v}");
        assert_eq!(v["detail"], detail, "{v}");
        let text = v["detail"].as_str().unwrap();
        assert!(
            !text.contains("line ") && !text.contains("column") && !text.contains('`'),
            "{text}"
        );
    }

    // Any case, `-` or `_`.
    let (st, v) = app
        .post(
            "/api/v1/incidents",
            ADMIN_TOKEN,
            json!({ "title": "Checkout slow", "kind": "Operational", "severity": "sev-3" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["kind"].as_str(), v["severity"].as_str()),
        (Some("operational"), Some("SEV-3"))
    );
    let r = v["slug"].as_str().unwrap().to_owned();
    let (st, v) = app
        .set_task(ADMIN_TOKEN, &r, 1, json!({ "status": "in-progress" }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "in_progress");
    let (st, v) = app
        .set_task(ADMIN_TOKEN, &r, 2, json!({ "status": "IN_PROGRESS" }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app.set_task(ADMIN_TOKEN, &r, 2, json!({ "status": "started" })).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "status");
    assert_eq!(
        v["detail"],
        "status: \"started\" is not one of todo, in_progress, done, skipped"
    );
    app.add_member(ADMIN_TOKEN, &r, "admin", "incident_commander").await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}"),
            ADMIN_TOKEN,
            json!({ "status": "Not-An-Incident" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "not_an_incident");

    // Register values read alike, and name their field when wrong.
    let inc = app.declare(ADMIN_TOKEN, "Web shell", "security").await;
    let s = inc["slug"].as_str().unwrap();
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{s}/assets"),
            ADMIN_TOKEN,
            json!({ "name": "web1", "kind": "Host", "state": "compromised" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{s}/assets"),
            ADMIN_TOKEN,
            json!({ "name": "web2", "kind": "host", "state": "compromized" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "state");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("state: \"compromized\" is not one of suspected, compromised, isolated"),
        "{v}"
    );

    // The CLI: the same words before anything is sent, with the allowed values.
    let out = cordon(
        b,
        ADMIN_TOKEN,
        &["incident", "declare", "--title", "x", "--severity", "SEV-9"],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--severity: \"SEV-9\" is not one of SEV-1, SEV-2, SEV-3, SEV-4, SEV-5"),
        "{}",
        out.stderr
    );
    let out = ok(b, ADMIN_TOKEN, &["task", "set", s, "3", "--status", "in-progress"]).await;
    assert!(out.contains("step 3: in_progress"), "{out}");
    let out = cordon(b, ADMIN_TOKEN, &["task", "set", s, "3", "--status", "started"]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--status: \"started\" is not one of todo, in_progress, done, skipped"),
        "{}",
        out.stderr
    );
    let out = ok(b, ADMIN_TOKEN, &["asset", "move", s, "web1", "Isolated"]).await;
    assert!(out.contains("isolated"), "{out}");
}

#[tokio::test]
async fn help_shows_examples_and_allowed_values_and_completions_are_printed() {
    // No server needed.
    let b = "http://127.0.0.1:9";
    let help = ok(b, "", &["incident", "update", "--help"]).await;
    assert!(
        help.contains("Examples:\n  cordon incident update sapphire-unicorn --severity SEV-1"),
        "{help}"
    );
    assert!(
        help.contains("[possible values: triage, active, contained, resolved, closed, not_an_incident]"),
        "{help}"
    );
    assert!(
        help.contains("[possible values: SEV-1, SEV-2, SEV-3, SEV-4, SEV-5]"),
        "{help}"
    );
    let help = ok(b, "", &["task", "set", "--help"]).await;
    assert!(
        help.contains("[possible values: todo, in_progress, done, skipped]"),
        "{help}"
    );
    assert!(help.contains("Examples:"), "{help}");
    let help = ok(b, "", &["comms", "draft", "--help"]).await;
    assert!(
        help.contains("internal, external, customer_security, law_enforcement, regulator, insurer, vendor"),
        "{help}"
    );
    let help = ok(b, "", &["incident", "member", "add", "--help"]).await;
    assert!(
        help.contains("incident_commander") && help.contains("Example:"),
        "{help}"
    );
    let help = ok(b, "", &["ioc", "export", "--help"]).await;
    assert!(help.contains("nftables") && help.contains("stix"), "{help}");
    let help = ok(b, "", &["timeline", "ingest", "--help"]).await;
    assert!(help.contains("auto") && help.contains("nginx-error"), "{help}");

    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(b, "", &["completions", shell]).await;
        assert!(script.len() > 1000, "{shell}: {script}");
        assert!(
            script.contains("handover") && script.contains("not_an_incident"),
            "{shell}"
        );
    }
    let out = cordon(b, "", &["completions", "tcsh"]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("bash") && out.stderr.contains("elvish"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn on_call_schedules_and_policies_are_listed() {
    let app = spawn_app().await;
    let b = app.base.as_str();
    app.user("bob", &[]).await;
    let (st, v) = app
        .post(
            "/api/v1/oncall/schedules",
            ADMIN_TOKEN,
            json!({ "name": "primary", "time_zone": "UTC",
                    "rotations": [{ "users": ["bob"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 1,
                    "levels": [{ "targets": [{ "schedule": "primary" }], "after": "PT5M" },
                               { "targets": [{ "user": "admin" }], "after": "PT10M" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    let out = ok(b, ADMIN_TOKEN, &["oncall", "list"]).await;
    assert!(out.contains("SCHEDULE") && out.contains("ON CALL NOW"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("primary") && l.contains("bob")),
        "{out}"
    );
    assert!(
        out.contains("incident-commander") && out.contains("1: schedule primary after PT5M; 2: user admin after PT10M"),
        "{out}"
    );
    let v = ok_json(b, ADMIN_TOKEN, &["oncall", "list"]).await;
    assert_eq!(v["schedules"][0]["user"], "bob");
    assert_eq!(v["policies"][0]["name"], "incident-commander");
    let out = ok(b, ADMIN_TOKEN, &["oncall", "who"]).await;
    assert!(out.contains("primary") && out.contains("bob"), "{out}");
}
