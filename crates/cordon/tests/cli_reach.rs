//! Issue 13, finding 4: the API capabilities that had no command — chat commands and rooms,
//! users' contact methods, communication templates, the timeline's histogram and facets —
//! driven through the real `cordon` binary against a real server.

mod common;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

async fn cli_ok(app: &TestApp, token: &str, args: &[&str]) -> String {
    let out = run_cli(&app.base, token, args).await;
    assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
    out.stdout
}

#[tokio::test]
async fn chat_contacts_templates_and_timeline_summaries_from_the_command_line() {
    let app = spawn_app().await;
    let olga = app.user("olga", &[]).await;

    // chat: the reply for the caller, the notice for the room
    let out = cli_ok(&app, ADMIN_TOKEN, &["chat", "say", "--room", "#war-room", "!status"]).await;
    assert!(out.contains("not bound to an incident"), "{out}");
    let (st, incident) = app
        .post(
            "/api/v1/incidents",
            ADMIN_TOKEN,
            json!({ "title": "Beaconing from build-7", "kind": "security", "severity": "SEV-2", "room": "#war-room" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{incident}");
    let r = incident["slug"].as_str().unwrap().to_owned();
    let out = cli_ok(&app, ADMIN_TOKEN, &["chat", "say", "--room", "#war-room", "!status"]).await;
    let notice = out
        .lines()
        .find_map(|l| l.strip_prefix("room: "))
        .expect("the room's notice");
    assert!(notice.contains(incident["codename"].as_str().unwrap()), "{out}");

    // rooms: read, and marked team-only by an admin only
    let out = cli_ok(&app, ADMIN_TOKEN, &["chat", "room", "!abc:corp.example"]).await;
    assert_eq!(out.trim(), "!abc:corp.example: team-only false");
    let out = cli_ok(
        &app,
        ADMIN_TOKEN,
        &["chat", "room", "!abc:corp.example", "--team-only", "true"],
    )
    .await;
    assert_eq!(out.trim(), "!abc:corp.example: team-only true");
    let refused = run_cli(
        &app.base,
        &olga,
        &["chat", "room", "!abc:corp.example", "--team-only", "false"],
    )
    .await;
    assert_ne!(refused.code, 0, "{}", refused.stdout);

    // contact methods: a webhook's secret once, rotated once more, never listed
    let out = cli_ok(
        &app,
        ADMIN_TOKEN,
        &[
            "user",
            "contact",
            "add",
            "olga",
            "--kind",
            "email",
            "--address",
            "olga@example.com",
        ],
    )
    .await;
    assert_eq!(out.trim(), "email olga@example.com");
    let out = cli_ok(
        &app,
        ADMIN_TOKEN,
        &[
            "user",
            "contact",
            "add",
            "olga",
            "--kind",
            "webhook",
            "--address",
            "http://127.0.0.1:9/hook",
        ],
    )
    .await;
    let first = out
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown only now): "));
    assert!(first.is_some_and(|s| s.starts_with("whsec_")), "{out}");
    let out = cli_ok(
        &app,
        ADMIN_TOKEN,
        &[
            "user",
            "contact",
            "rotate-secret",
            "olga",
            "--address",
            "http://127.0.0.1:9/hook",
        ],
    )
    .await;
    let second = out
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown only now): "));
    assert!(
        second.is_some_and(|s| s.starts_with("whsec_")) && second != first,
        "{out}"
    );
    let out = cli_ok(&app, ADMIN_TOKEN, &["user", "contact", "list", "olga"]).await;
    assert!(
        out.contains("olga@example.com") && out.contains("http://127.0.0.1:9/hook"),
        "{out}"
    );
    assert!(!out.contains("whsec_"), "{out}");
    // a test to a closed port on loopback is refused with the reason, and exits non-zero
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &[
            "user",
            "contact",
            "test",
            "olga",
            "--kind",
            "webhook",
            "--address",
            "http://127.0.0.1:9/hook",
        ],
    )
    .await;
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("error:"), "{}", out.stderr);

    // tokens and chat accounts by what people call them
    cli_ok(&app, ADMIN_TOKEN, &["user", "token", "olga", "--label", "laptop"]).await;
    let out = cli_ok(&app, ADMIN_TOKEN, &["user", "revoke-token", "olga", "laptop"]).await;
    assert!(out.contains("laptop"), "{out}");
    let again = run_cli(&app.base, ADMIN_TOKEN, &["user", "revoke-token", "olga", "laptop"]).await;
    assert!(again.stderr.contains("HTTP 409"), "revoked already: {}", again.stderr);
    let short = run_cli(&app.base, ADMIN_TOKEN, &["user", "revoke-token", "olga", "ab"]).await;
    assert!(short.stderr.contains("HTTP 404"), "{}", short.stderr);
    cli_ok(
        &app,
        ADMIN_TOKEN,
        &["user", "link", "olga", "matrix", "@olga:corp.example"],
    )
    .await;
    cli_ok(&app, ADMIN_TOKEN, &["user", "unlink", "olga", "@olga:corp.example"]).await;
    let (_, links) = app.get("/api/v1/users/olga/chat-identities", ADMIN_TOKEN).await;
    assert_eq!(links, json!([]));

    // templates: listed and replaced by the security team, refused to others
    let out = cli_ok(&app, ADMIN_TOKEN, &["comms", "templates"]).await;
    assert!(out.starts_with("NAME") && out.contains("external"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("vendor.md.j2");
    std::fs::write(
        &body,
        "Please rotate the keys you hold for us ({{ incident.codename }}).\n",
    )
    .unwrap();
    let body_arg = format!("@{}", body.display());
    let out = cli_ok(
        &app,
        ADMIN_TOKEN,
        &[
            "comms",
            "template",
            "vendor",
            "--audience",
            "vendor",
            "--title",
            "{{ today }}: key rotation",
            "--body",
            &body_arg,
        ],
    )
    .await;
    assert_eq!(out.trim(), "template vendor (vendor) saved");
    let (st, templates) = app.get("/api/v1/communications/templates", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    let vendor = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "vendor")
        .unwrap();
    assert!(vendor["body"].as_str().unwrap().contains("Please rotate"), "{vendor}");
    let refused = run_cli(&app.base, &olga, &["comms", "templates"]).await;
    assert_ne!(refused.code, 0);

    // the timeline's histogram and facets, and a sealed incident stays unseen
    let log = "Mar  3 10:00:01 build-7 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\n\
               Mar  3 10:00:02 build-7 sshd[1]: Failed password for root from 203.0.113.7 port 2 ssh2\n\
               Mar  3 10:20:02 build-7 sshd[2]: Accepted password for deploy from 198.51.100.4 port 3 ssh2\n";
    let path = dir.path().join("auth.log");
    std::fs::write(&path, log).unwrap();
    cli_ok(
        &app,
        ADMIN_TOKEN,
        &["timeline", "ingest", &r, path.to_str().unwrap(), "--year", "2026"],
    )
    .await;
    let out = cli_ok(&app, ADMIN_TOKEN, &["timeline", "histogram", &r, "--interval", "10m"]).await;
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0].split_whitespace().next(), Some("FROM"), "{out}");
    assert!(
        rows[1].starts_with("2026-03-03T10:00:00Z") && rows[1].contains(" 2 "),
        "{out}"
    );
    assert!(
        rows[2].starts_with("2026-03-03T10:20:00Z") && rows[2].contains(" 1 "),
        "{out}"
    );
    assert!(out.contains("3 events, 600 s a bucket"), "{out}");
    let out = cli_ok(&app, ADMIN_TOKEN, &["timeline", "facets", &r, "--top", "1"]).await;
    let ip = out.lines().find(|l| l.starts_with("ip ")).unwrap();
    assert_eq!(ip.split_whitespace().collect::<Vec<_>>(), ["ip", "203.0.113.7", "2"]);
    for cmd in ["histogram", "facets"] {
        let out = run_cli(&app.base, &olga, &["timeline", cmd, &r]).await;
        assert!(out.stderr.contains("not_found"), "{cmd}: {}", out.stderr);
    }
}
