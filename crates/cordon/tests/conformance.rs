//! The API against its own OpenAPI document (issue 12, finding 12): schemathesis (`st run
//! --checks all`) drives the real server, holding some data, with the admin's token, and must
//! find no server error and no conformance failure — undocumented statuses or content types,
//! responses that do not match their schema, schema-valid input refused or schema-invalid input
//! accepted.
//!
//! schemathesis comes from `scripts/test-env.sh` (`CORDON_SCHEMATHESIS_BIN`, or `st` in
//! `CORDON_IT_VENV`); without it the test fails, unless `CORDON_TEST_SCHEMATHESIS=skip`.
//! `CORDON_SCHEMATHESIS_SEED` replays one run; `CORDON_SCHEMATHESIS_EXAMPLES` sets the examples
//! per operation.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{ADMIN_TOKEN, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// The whole run is bounded: schemathesis is killed after this.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Operations where schema-valid input may still be refused, with the rule the schema cannot
/// express: it depends on stored data, the clock, or another field's value. Everything else
/// schema-valid must be accepted (2xx, or 401/403/404/409 as usual).
const DATA_RULES: &[(&str, &str, &str)] = &[
    (
        "POST /api/v1/incidents/{ref}/messages",
        "422",
        "a message is 1 to 4096 bytes (not characters) of text, not blank, without control or invisible formatting characters",
    ),
    (
        "PUT /api/v1/incidents/{ref}/evidence/{id}",
        "405",
        "evidence is write-once: the documented answer",
    ),
    (
        "PATCH /api/v1/incidents/{ref}/evidence/{id}",
        "405",
        "evidence is write-once: the documented answer",
    ),
    (
        "DELETE /api/v1/incidents/{ref}/evidence/{id}",
        "405",
        "evidence is write-once: the documented answer",
    ),
    (
        "PUT /api/v1/incidents/{ref}/evidence/{id}/content",
        "405",
        "evidence is write-once: the documented answer",
    ),
    (
        "DELETE /api/v1/incidents/{ref}/evidence/{id}/content",
        "405",
        "evidence is write-once: the documented answer",
    ),
    (
        "PATCH /api/v1/incidents/{ref}/tasks/{id}",
        "422",
        "the assignee must be an existing user",
    ),
    (
        "PATCH /api/v1/incidents/{ref}/follow-ups/{id}",
        "422",
        "the assignee must be an existing user",
    ),
    ("POST /api/v1/incidents/{ref}/members", "422", "the user must exist"),
    (
        "POST /api/v1/users/{name}/chat-identities",
        "422",
        "a disabled user gets no chat account",
    ),
    (
        "POST /api/v1/users/{name}/tokens",
        "422",
        "a token lives one minute to 366 days: a range of a duration, not a pattern",
    ),
    (
        "POST /api/v1/incidents/{ref}/decisions",
        "422",
        "the name must be a decision of the incident's playbook",
    ),
    (
        "POST /api/v1/incidents/{ref}/contacts",
        "422",
        "a contact cannot be in the future",
    ),
    (
        "POST /api/v1/incidents/{ref}/clocks",
        "422",
        "no start in the future; `unlawful_purpose` only for APPI",
    ),
    (
        "POST /api/v1/incidents/{ref}/iocs",
        "422",
        "the value must be one of its kind (an IP, a domain, …)",
    ),
    (
        "POST /api/v1/incidents/{ref}/iocs/promote",
        "422",
        "the named event must mention the value",
    ),
    (
        "POST /api/v1/incidents/{ref}/credentials",
        "422",
        "the assets it is stored on must exist",
    ),
    (
        "POST /api/v1/incidents/{ref}/systems",
        "422",
        "its owner and assets must exist",
    ),
    (
        "POST /api/v1/incidents/{ref}/exposures",
        "422",
        "evidence and events must exist",
    ),
    (
        "POST /api/v1/incidents/{ref}/pages",
        "422",
        "the policy or user must exist",
    ),
    (
        "POST /api/v1/incidents/{ref}/evidence",
        "422",
        "an upload must not be empty",
    ),
    (
        "POST /api/v1/incidents/{ref}/evidence/{id}/transfer",
        "422",
        "custody goes to someone else",
    ),
    (
        "POST /api/v1/incidents/{ref}/timeline/sources",
        "422",
        "the log must be readable in its format, year and zone",
    ),
    (
        "POST /api/v1/incidents/{ref}/communications",
        "422",
        "recipients, templates and the body's rules",
    ),
    (
        "PATCH /api/v1/incidents/{ref}/communications/{id}",
        "422",
        "recipients and the body's rules",
    ),
    (
        "PUT /api/v1/communications/templates/{name}",
        "422",
        "the template must render",
    ),
    (
        "POST /api/v1/oncall/schedules",
        "422",
        "an IANA zone, ISO 8601 shifts and existing users",
    ),
    (
        "POST /api/v1/oncall/escalation-policies",
        "422",
        "ISO 8601 delays and existing schedules and users",
    ),
    ("POST /api/v1/users", "422", "a readable OpenPGP key"),
    (
        "POST /api/v1/users/{name}/contacts",
        "422",
        "the address must fit its kind",
    ),
    (
        "POST /api/v1/users/{name}/contacts/test",
        "422",
        "the address must fit its kind",
    ),
    (
        "GET /api/v1/incidents/{ref}/timeline",
        "422",
        "a cursor this server handed out; `to` not before `from`; a source of the incident",
    ),
    (
        "GET /api/v1/incidents/{ref}/timeline/export",
        "422",
        "`to` not before `from`",
    ),
    (
        "POST /api/v1/incidents/{ref}/clocks/{id}/milestones/{name}/met",
        "422",
        "a milestone cannot be met in the future",
    ),
    (
        "GET /api/v1/incidents/{ref}/timeline/facets",
        "422",
        "`to` not before `from`",
    ),
    (
        "GET /api/v1/incidents/{ref}/timeline/histogram",
        "422",
        "`to` not before `from`; an interval (`30s`, `PT5M`) giving at most 10,000 buckets",
    ),
];

/// Checks that do not apply to an operation, and why.
const NOT_APPLICABLE: &[(&str, &str, &str)] = &[(
    "POST /api/v1/users/{name}/contacts/test",
    "ensure_resource_availability",
    "its 404 names the contact method (it must be one of the user's), not the user",
)];

/// Server-sent event streams never end by themselves: schemathesis reads each answer only up
/// to its first event (the `ready` every stream opens with), and checks that event.
const STREAMS: &[&str] = &["GET /api/v1/incidents/{ref}/events", "GET /api/v1/events"];

fn schemathesis() -> Option<PathBuf> {
    if std::env::var("CORDON_TEST_SCHEMATHESIS").is_ok_and(|v| v == "skip") {
        eprintln!("CORDON_TEST_SCHEMATHESIS=skip: skipping the schemathesis conformance run");
        return None;
    }
    let candidates = [
        std::env::var_os("CORDON_SCHEMATHESIS_BIN").map(PathBuf::from),
        std::env::var_os("CORDON_IT_VENV").map(|v| PathBuf::from(v).join("bin/st")),
        Some(PathBuf::from("/var/tmp/cordon-it/venv/bin/st")),
    ];
    match candidates.into_iter().flatten().find(|p| p.is_file()) {
        Some(p) => Some(p),
        None => panic!(
            "schemathesis (`st`) is not installed: run `eval \"$(scripts/test-env.sh)\"`, or set \
             CORDON_TEST_SCHEMATHESIS=skip to skip this test"
        ),
    }
}

/// Counts `failures="N"` and `errors="N"` over the JUnit report's test suites, and the tests.
fn junit_counts(xml: &str) -> (u64, u64, u64) {
    let attr = |tag: &str, name: &str| -> u64 {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let mut totals = (0, 0, 0);
    for tag in xml.split('<').filter(|t| t.starts_with("testsuite ")) {
        totals.0 += attr(tag, "tests");
        totals.1 += attr(tag, "failures");
        totals.2 += attr(tag, "errors");
    }
    totals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing() {
    let Some(st) = schemathesis() else {
        return;
    };
    let app = spawn_app().await;
    // Data for the operations to find: users, an incident with a task, an asset, an indicator,
    // a credential, evidence and a communication draft.
    app.user("rita", &["security"]).await;
    let inc = app.declare(ADMIN_TOKEN, "Conformance incident", "security").await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let codename = inc["codename"].as_str().unwrap().to_lowercase().replace(' ', "-");
    let task = app.task_id(ADMIN_TOKEN, &id, 1).await;
    for (path, body) in [
        (
            format!("/api/v1/incidents/{id}/assets"),
            json!({ "name": "web1", "kind": "host", "state": "compromised" }),
        ),
        (
            format!("/api/v1/incidents/{id}/iocs"),
            json!({ "kind": "ip", "value": "203.0.113.7" }),
        ),
        (
            format!("/api/v1/incidents/{id}/credentials"),
            json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": ["prod"] }),
        ),
        (
            format!("/api/v1/incidents/{id}/communications"),
            json!({ "audience": "internal", "title": "Status", "body": "We are investigating." }),
        ),
    ] {
        let (st, v) = app.post(&path, ADMIN_TOKEN, body).await;
        assert_eq!(st, StatusCode::CREATED, "{path}: {v}");
    }
    let res = app
        .http
        .post(format!("{}/api/v1/incidents/{id}/evidence?name=disk.img", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .body(vec![7u8; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let evidence: serde_json::Value = res.json().await.unwrap();
    let evidence_id = evidence["id"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            r#"[dictionaries.incidents]
values = ["{id}", "{codename}"]

[dictionaries.users]
values = ["admin", "rita"]

[dictionaries.items]
values = ["{task}", "{evidence_id}"]

# A request target over 8 KiB is refused at the edge (414), whatever the schema allows its
# parameters to be: OpenAPI has no word for the length of a whole URI.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "414"]

[parameters]
"path.ref" = {{ dictionary = "incidents", probability = 0.8 }}
"path.name" = {{ dictionary = "users", probability = 0.5 }}
"path.id" = {{ dictionary = "items", probability = 0.5 }}
{operations}"#,
            operations = DATA_RULES
                .iter()
                .map(|(op, status, why)| format!(
                    "\n# {why}\n[[operations]]\ninclude-name = \"{op}\"\n\
                     checks.positive_data_acceptance.expected-statuses = \
                     [\"2xx\", \"401\", \"403\", \"404\", \"409\", \"414\", \"{status}\"]\n"
                ))
                .chain(NOT_APPLICABLE.iter().map(|(op, check, why)| format!(
                    "\n# {why}\n[[operations]]\ninclude-name = \"{op}\"\nchecks.{check}.enabled = false\n"
                )))
                .chain(STREAMS.iter().map(|op| format!(
                    "\n# An event stream: read up to its first event.\n[[operations]]\ninclude-name = \"{op}\"\nmax-stream-events = 1\n"
                )))
                .collect::<String>()
        ),
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let seed = std::env::var("CORDON_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261127".into());
    let examples = std::env::var("CORDON_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".into());
    let mut cmd = tokio::process::Command::new(&st);
    cmd.arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", app.base))
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {ADMIN_TOKEN}")])
        .args(["--max-examples", &examples, "--seed", &seed])
        .args(["--request-timeout", "20", "--no-color", "--workers", "2"])
        .args(["--report", "junit", "--report-junit-path"])
        .arg(&junit)
        .current_dir(dir.path())
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .expect("schemathesis finishes within the time limit")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = std::fs::read_to_string(&junit).unwrap_or_default();
    let (tests, failures, errors) = junit_counts(&report);
    assert!(
        out.status.success() && tests > 0 && failures == 0 && errors == 0,
        "schemathesis found something (exit {:?}, {tests} tests, {failures} failures, {errors} errors; \
         seed {seed}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    // Every operation of the document was run.
    let spec: serde_json::Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(
        stdout.contains(&format!("Tested: {operations}")),
        "not every one of the {operations} operations was tested:\n{stdout}"
    );
}

#[test]
fn junit_failures_are_counted() {
    let xml = r#"<?xml version="1.0"?><testsuites><testsuite name="a" tests="3" failures="1" errors="0">
        </testsuite><testsuite name="b" tests="2" failures="0" errors="2"></testsuite></testsuites>"#;
    assert_eq!(junit_counts(xml), (5, 1, 2));
}
