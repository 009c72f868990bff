//! The containment and impact registers, black-box over HTTP and through the real binary:
//! a key on a host falls with the host (and gets a rotation task for the owner of what it
//! grants) while a password on a merely suspected host does not; indicators normalize and
//! merge; the nftables and iptables exports pass `nft -c` and `iptables-restore --test` (real
//! tools, installed by `scripts/test-env-firewall.sh`) and aggregate adjacent ranges; the
//! STIX export is a bundle of indicators; sightings by promotion, search and the re-attack
//! watch; exposures; the risk view; bad input; need-to-know.

mod common;

use std::io::Write;
use std::process::Command;

use common::{ADMIN_TOKEN, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

// ---------- helpers ----------

async fn incident(app: &TestApp) -> String {
    let v = app.declare(ADMIN_TOKEN, "Webshell on the storefront", "security").await;
    v["id"].as_str().unwrap().to_owned()
}

async fn post_ok(app: &TestApp, r: &str, what: &str, body: Value) -> Value {
    let (st, v) = app
        .post(&format!("/api/v1/incidents/{r}/{what}"), ADMIN_TOKEN, body.clone())
        .await;
    assert_eq!(st, StatusCode::CREATED, "{what} {body}: {v}");
    v
}

async fn list(app: &TestApp, r: &str, what: &str) -> Vec<Value> {
    let (st, v) = app.get(&format!("/api/v1/incidents/{r}/{what}"), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{what}: {v}");
    v.as_array().unwrap().clone()
}

async fn move_asset(app: &TestApp, r: &str, id: &str, state: &str) -> (StatusCode, Value) {
    app.patch(
        &format!("/api/v1/incidents/{r}/assets/{id}"),
        ADMIN_TOKEN,
        json!({ "state": state }),
    )
    .await
}

/// The raw export with its warnings header.
async fn export(app: &TestApp, r: &str, query: &str) -> (StatusCode, String, u64) {
    let res = app
        .http
        .get(format!("{}/api/v1/incidents/{r}/iocs/export?{query}", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let warnings = res
        .headers()
        .get("cordon-warnings")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .unwrap_or(0);
    (status, res.text().await.unwrap(), warnings)
}

/// Runs a firewall tool in check mode on `body`; panics with its complaint when it refuses.
fn check_with(tool: &str, args: &[&str], body: &str) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(body.as_bytes()).unwrap();
    let out = Command::new(tool)
        .args(args)
        .arg(f.path())
        .output()
        .unwrap_or_else(|e| panic!("{tool} is not runnable ({e}); run scripts/test-env-firewall.sh"));
    assert!(
        out.status.success(),
        "{tool} {args:?} refused the export:\n{}\n---\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn ingest(app: &TestApp, r: &str, name: &str, log: &str) -> Value {
    let res = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{r}/timeline/sources?name={name}&year=2026&tz=UTC&host=web1",
            app.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body(log.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

// ---------- assets, credentials, rotation ----------

#[tokio::test]
async fn a_key_falls_with_its_host_and_a_password_on_a_suspected_host_does_not() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    app.user("olga", &[]).await;

    let web1 = post_ok(
        &app,
        &r,
        "assets",
        json!({ "name": "web1", "kind": "host", "address": "10.0.0.11", "state": "suspected" }),
    )
    .await;
    post_ok(
        &app,
        &r,
        "assets",
        json!({ "name": "web2", "kind": "instance", "state": "suspected" }),
    )
    .await;
    post_ok(
        &app,
        &r,
        "assets",
        json!({ "name": "db1", "kind": "database", "state": "suspected" }),
    )
    .await;
    post_ok(
        &app,
        &r,
        "systems",
        json!({ "name": "billing", "owner": "olga", "assets": ["db1"] }),
    )
    .await;
    let key = post_ok(
        &app,
        &r,
        "credentials",
        json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": ["billing"] }),
    )
    .await;
    let pw = post_ok(
        &app,
        &r,
        "credentials",
        json!({ "name": "db-password", "kind": "password", "stored_on": ["web2"], "grants": ["billing"] }),
    )
    .await;
    assert_eq!(key["state"], "unaffected");
    assert_eq!(pw["state"], "unaffected");

    // the host is compromised: the key falls at once, with a rotation task for billing's owner
    let web1_id = web1["id"].as_str().unwrap();
    let (st, moved) = move_asset(&app, &r, web1_id, "compromised").await;
    assert_eq!(st, StatusCode::OK, "{moved}");
    assert_eq!(moved["history"].as_array().unwrap().len(), 2);
    assert_eq!(moved["history"][1]["from"], "suspected");
    assert_eq!(moved["history"][1]["by"], "admin");
    let creds = list(&app, &r, "credentials").await;
    let key = creds.iter().find(|c| c["name"] == "deploy-key").unwrap();
    let pw = creds.iter().find(|c| c["name"] == "db-password").unwrap();
    assert_eq!(key["state"], "compromised");
    assert_eq!(key["tasks"].as_array().unwrap().len(), 1, "{key}");
    assert_eq!(key["tasks"][0]["assignee"], "olga");
    assert_eq!(key["tasks"][0]["parent_step"], 9);
    assert_eq!(key["tasks"][0]["status"], "todo");
    assert_eq!(
        pw["state"], "unaffected",
        "a password on a merely suspected host stays unaffected"
    );
    assert!(pw["tasks"].as_array().unwrap().is_empty());
    let unrotated = list(&app, &r, "credentials?state=unrotated").await;
    assert_eq!(
        unrotated.iter().map(|c| c["name"].clone()).collect::<Vec<_>>(),
        [json!("deploy-key")]
    );

    // the checklist: the rotation task under step 9, containment progress on step 4
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let step9 = tasks.iter().find(|t| t["step"] == 9).unwrap();
    assert_eq!(
        step9["follow_ups"][0]["key"],
        format!("rotate:{}:billing", key["id"].as_str().unwrap())
    );
    // … and in the task list itself, after the 14 steps, worked through the same endpoint
    assert_eq!(tasks.iter().filter(|t| t["kind"] == "checklist").count(), 14);
    let rotation = tasks
        .iter()
        .find(|t| t["kind"] == "follow_up")
        .expect("the rotation task is listed");
    assert_eq!(rotation["key"], step9["follow_ups"][0]["key"]);
    assert_eq!(
        (rotation["step"].as_u64(), rotation["assignee"].as_str()),
        (Some(9), Some("olga"))
    );
    let (st, t) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{}", rotation["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(
        (t["kind"].as_str(), t["status"].as_str()),
        (Some("follow_up"), Some("in_progress"))
    );
    let step4 = tasks.iter().find(|t| t["step"] == 4).unwrap();
    assert_eq!(step4["progress"], json!({ "isolated": 0, "imaged": 0, "of": 1 }));
    for state in ["isolated", "imaged"] {
        let (st, v) = move_asset(&app, &r, web1_id, state).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let step4 = tasks.iter().find(|t| t["step"] == 4).unwrap();
    assert_eq!(step4["progress"], json!({ "isolated": 1, "imaged": 1, "of": 1 }));

    // the risk view: the key on web1 grants billing, whose db1 is not compromised (yet)
    let (st, risk) = app.get(&format!("/api/v1/incidents/{r}/risk"), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(risk["compromised_assets"], json!(["web1"]));
    assert_eq!(
        risk["systems_at_risk"],
        json!([{ "system": "billing", "owner": "olga", "via": ["deploy-key"], "assets_at_risk": ["db1"] }])
    );

    // a credential recorded on the already compromised host is compromised from the start;
    // the system it grants has no owner, so its rotation falls to the incident commander role
    let vpn = post_ok(
        &app,
        &r,
        "credentials",
        json!({ "name": "vpn-cert", "kind": "certificate", "stored_on": ["web1"], "grants": ["vpn"] }),
    )
    .await;
    assert_eq!(vpn["state"], "compromised");
    assert_eq!(vpn["tasks"][0]["owner_role"], "incident_commander");
    assert_eq!(vpn["tasks"][0]["assignee"], Value::Null);
    // the commander hands it to someone and it is worked like any task
    let task_id = vpn["tasks"][0]["id"].as_str().unwrap();
    let (st, t) = app
        .patch(
            &format!("/api/v1/incidents/{r}/follow-ups/{task_id}"),
            ADMIN_TOKEN,
            json!({ "status": "in_progress", "assignee": "olga" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(
        (t["status"].as_str(), t["assignee"].as_str()),
        (Some("in_progress"), Some("olga"))
    );
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{r}/follow-ups/{task_id}"),
            ADMIN_TOKEN,
            json!({ "status": "finished" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // the CLI lists what is still to rotate
    let out = common::run_cli(&app.base, ADMIN_TOKEN, &["credential", "list", &r, "--unrotated"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("deploy-key") && out.stdout.contains("vpn-cert"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("db-password"), "{}", out.stdout);

    // rotation closes the task and takes the key off the unrotated list and the risk view
    let out = common::run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["credential", "rotate", &r, "deploy-key", "--json"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rotated: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rotated["state"], "rotated");
    assert_eq!(rotated["tasks"][0]["status"], "done");
    let unrotated = list(&app, &r, "credentials?state=unrotated").await;
    assert_eq!(
        unrotated.iter().map(|c| c["name"].clone()).collect::<Vec<_>>(),
        [json!("vpn-cert")]
    );
    let (_, risk) = app.get(&format!("/api/v1/incidents/{r}/risk"), ADMIN_TOKEN).await;
    assert!(
        risk["systems_at_risk"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["system"] != "billing"),
        "{risk}"
    );

    let actions = app.audit_actions().await;
    for a in [
        "asset.create",
        "asset.move",
        "credential.compromised",
        "task.create",
        "credential.rotated",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn illegal_moves_and_unknown_assets_are_refused_with_nothing_written() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    let web1 = post_ok(
        &app,
        &r,
        "assets",
        json!({ "name": "web1", "kind": "host", "state": "suspected" }),
    )
    .await;
    let id = web1["id"].as_str().unwrap();

    let (st, p) = move_asset(&app, &r, id, "imaged").await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "illegal_transition");
    assert!(p["detail"].as_str().unwrap().contains("suspected"), "{p}");
    // the refusal says where the asset may go
    assert_eq!(p["allowed"], json!(["compromised", "clean"]), "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .ends_with("from suspected it can move to compromised or clean"),
        "{p}"
    );
    assert!(app.audit_actions().await.iter().any(|a| a == "asset.move.refused"));
    // the CLI names assets by name and shows the refusal
    let out = common::run_cli(&app.base, ADMIN_TOKEN, &["asset", "move", &r, "web1", "rebuilt"]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("illegal_transition"), "{}", out.stderr);
    let out = common::run_cli(&app.base, ADMIN_TOKEN, &["asset", "move", &r, "web1", "compromised"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("web1 (host) is compromised"), "{}", out.stdout);
    assert_eq!(
        list(&app, &r, "assets").await[0]["history"].as_array().unwrap().len(),
        2,
        "the refused moves left no trace in the history"
    );

    for (body, field) in [
        (
            json!({ "name": "web2", "kind": "laptop", "state": "suspected" }),
            "kind",
        ),
        (json!({ "name": "web2", "kind": "host", "state": "owned" }), "state"),
        (json!({ "name": " ", "kind": "host", "state": "suspected" }), "name"),
    ] {
        let (st, p) = app
            .post(&format!("/api/v1/incidents/{r}/assets"), ADMIN_TOKEN, body)
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["field"], field);
    }
    let (st, _) = app
        .post(
            &format!("/api/v1/incidents/{r}/assets"),
            ADMIN_TOKEN,
            json!({ "name": "web1", "kind": "host", "state": "clean" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    let (st, p) = app
        .post(
            &format!("/api/v1/incidents/{r}/credentials"),
            ADMIN_TOKEN,
            json!({ "name": "k", "kind": "ssh_key", "stored_on": ["web1", "nope"], "grants": [] }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "stored_on");
    assert!(p["detail"].as_str().unwrap().contains("nope"));
    assert!(list(&app, &r, "credentials").await.is_empty(), "nothing half-written");
    let key = post_ok(
        &app,
        &r,
        "credentials",
        json!({ "name": "k", "kind": "ssh_key", "stored_on": ["web1"] }),
    )
    .await;
    let (st, p) = app
        .patch(
            &format!("/api/v1/incidents/{r}/credentials/{}", key["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "state": "compromised" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "compromise is Cordon's call: {p}");
    assert_eq!(
        (p["from"].clone(), p["allowed"].clone()),
        (json!("compromised"), json!(["rotated", "revoked"])),
        "{p}"
    );
}

// ---------- indicators ----------

#[tokio::test]
async fn indicators_normalize_and_merge() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    let first = post_ok(
        &app,
        &r,
        "iocs",
        json!({ "kind": "ip", "value": "45.9.148[.]7", "note": "ssh brute force" }),
    )
    .await;
    assert_eq!(first["value"], "45.9.148.7");
    assert_eq!(first["merged"], false);
    let again = post_ok(
        &app,
        &r,
        "iocs",
        json!({ "kind": "ip", "value": " 45.9.148.7 ", "note": "also scanned nginx" }),
    )
    .await;
    assert_eq!(again["merged"], true);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["notes"], json!(["ssh brute force", "also scanned nginx"]));

    for (kind, raw, normalized) in [
        ("domain", "Evil-Example[.]COM.", "evil-example.com"),
        (
            "url",
            "hxxp://Evil-Example[.]com/Drop.sh",
            "http://evil-example.com/Drop.sh",
        ),
        ("ip", "2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"),
        ("email", "mallory[at]evil-example[.]com", "mallory@evil-example.com"),
        ("sha256", &"AB".repeat(32), &"ab".repeat(32)),
        ("cidr", "45.9.149.0/24", "45.9.149.0/24"),
    ] {
        let v = post_ok(&app, &r, "iocs", json!({ "kind": kind, "value": raw })).await;
        assert_eq!(v["value"], normalized, "{kind} {raw}");
    }
    // the same domain written another way merges
    let v = post_ok(
        &app,
        &r,
        "iocs",
        json!({ "kind": "domain", "value": "evil-example.com" }),
    )
    .await;
    assert_eq!(v["merged"], true);

    let before = list(&app, &r, "iocs").await.len();
    for (kind, value) in [
        ("ip", "999.1.1.1"),
        ("ip", "45.9.148"),
        ("cidr", "45.9.148.7/24"),
        ("cidr", "10.0.0.0/33"),
        ("md5", "xyz"),
        ("hash", "x"),
    ] {
        let (st, p) = app
            .post(
                &format!("/api/v1/incidents/{r}/iocs"),
                ADMIN_TOKEN,
                json!({ "kind": kind, "value": value }),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{kind} {value}: {p}");
    }
    let (_, p) = app
        .post(
            &format!("/api/v1/incidents/{r}/iocs"),
            ADMIN_TOKEN,
            json!({ "kind": "cidr", "value": "45.9.148.7/24" }),
        )
        .await;
    assert!(p["detail"].as_str().unwrap().contains("host bits"), "{p}");
    assert_eq!(list(&app, &r, "iocs").await.len(), before, "nothing written");

    // a private address is allowed, and flagged
    let private = post_ok(&app, &r, "iocs", json!({ "kind": "ip", "value": "10.0.0.5" })).await;
    assert!(private["warning"].as_str().unwrap().contains("private"), "{private}");
    assert!(first["warning"].is_null());
}

#[tokio::test]
async fn firewall_exports_pass_nft_and_iptables_and_aggregate_adjacent_ranges() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    for (kind, value) in [
        ("ip", "45.9.148.0"),
        ("ip", "45.9.148.1"),
        ("cidr", "45.9.148.2/31"),
        ("cidr", "45.9.148.4/30"),
        ("ip", "198.51.100.77"),
        ("ip", "10.0.0.5"),
        ("cidr", "2a00:1450:4001::/48"),
        ("cidr", "2a00:1450:4001:8::/64"),
        ("ip", "2a00:1450:4002::1"),
        ("domain", "evil-example.com"),
    ] {
        post_ok(&app, &r, "iocs", json!({ "kind": kind, "value": value })).await;
    }

    let (st, cidr, warnings) = export(&app, &r, "format=cidr").await;
    assert_eq!(st, StatusCode::OK);
    let lines: Vec<&str> = cidr.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "10.0.0.5/32",
            "45.9.148.0/29",
            "198.51.100.77/32",
            "2a00:1450:4001::/48",
            "2a00:1450:4002::1/128"
        ],
        "adjacent and contained ranges aggregated:\n{cidr}"
    );
    // private and documentation ranges are kept and warned about, never dropped silently
    assert_eq!(warnings, 2, "{cidr}");
    assert!(cidr.contains("# WARNING: 10.0.0.5 is private-use"), "{cidr}");

    let (st, nft, warnings) = export(&app, &r, "format=nftables").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(warnings, 2);
    assert!(nft.contains("45.9.148.0/29"), "{nft}");
    check_with("nft", &["-c", "-f"], &nft);

    let (_, v4, _) = export(&app, &r, "format=iptables").await;
    assert!(v4.contains("-A CORDON-BLOCK -s 45.9.148.0/29"), "{v4}");
    assert!(!v4.contains("45.9.148.1/"), "aggregated: {v4}");
    check_with("iptables-restore", &["--test"], &v4);
    let (_, v6, _) = export(&app, &r, "format=ip6tables").await;
    assert!(v6.contains("-s 2a00:1450:4001::/48"), "{v6}");
    check_with("ip6tables-restore", &["--test"], &v6);

    let (_, ipset, _) = export(&app, &r, "format=ipset").await;
    assert!(
        ipset.contains("add cordon-") && ipset.contains("family inet6"),
        "{ipset}"
    );

    let (_, csv, _) = export(&app, &r, "format=csv").await;
    assert!(csv.starts_with("kind,value,"), "{csv}");
    assert_eq!(csv.lines().count(), 11, "every indicator, not only addresses: {csv}");

    // private ranges left out on request, and named
    let (_, cidr, _) = export(&app, &r, "format=cidr&include_private=false").await;
    assert!(!cidr.lines().any(|l| l == "10.0.0.5/32"), "{cidr}");
    assert!(cidr.contains("10.0.0.5 is private-use (RFC 1918): left out"), "{cidr}");

    let (st, _, _) = export(&app, &r, "format=pf").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // the CLI writes the same ruleset to a file, which nft accepts
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("block.nft");
    let out = common::run_cli(
        &app.base,
        ADMIN_TOKEN,
        &[
            "ioc",
            "export",
            &r,
            "--format",
            "nftables",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("2 warning(s)"), "{}", out.stderr);
    check_with("nft", &["-c", "-f"], &std::fs::read_to_string(&file).unwrap());
    assert!(app.audit_actions().await.iter().any(|a| a == "ioc.export"));
}

#[tokio::test]
async fn the_stix_export_is_a_bundle_of_indicators() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    for (kind, value) in [
        ("ip", "45.9.148.7"),
        ("cidr", "2a00:1450:4001::/48"),
        ("domain", "evil-example.com"),
        ("url", "http://evil-example.com/drop.sh"),
        ("sha256", &"ab".repeat(32)),
        ("account", "backup"),
    ] {
        post_ok(&app, &r, "iocs", json!({ "kind": kind, "value": value })).await;
    }
    let (st, body, _) = export(&app, &r, "format=stix").await;
    assert_eq!(st, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], "bundle");
    assert!(v["id"].as_str().unwrap().starts_with("bundle--"));
    let objects = v["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 6);
    for o in objects {
        assert_eq!(o["type"], "indicator");
        assert_eq!(o["spec_version"], "2.1");
        assert_eq!(o["pattern_type"], "stix");
        assert!(o["id"].as_str().unwrap().starts_with("indicator--"));
        assert!(o["valid_from"].as_str().unwrap().ends_with('Z'));
    }
    let patterns: Vec<&str> = objects.iter().map(|o| o["pattern"].as_str().unwrap()).collect();
    assert!(patterns.contains(&"[ipv4-addr:value = '45.9.148.7']"), "{patterns:?}");
    assert!(
        patterns.contains(&"[ipv6-addr:value = '2a00:1450:4001::/48']"),
        "{patterns:?}"
    );
    assert!(
        patterns.contains(&"[domain-name:value = 'evil-example.com']"),
        "{patterns:?}"
    );
    assert!(
        patterns.contains(&"[user-account:account_login = 'backup']"),
        "{patterns:?}"
    );
}

// ---------- sightings and the re-attack watch ----------

const FIRST_LOG: &str = "\
Dec  1 10:00:01 web1 sshd[811]: Failed password for root from 45.9.148.7 port 50122 ssh2
Dec  1 10:00:05 web1 sshd[811]: Accepted password for backup from 45.9.148.7 port 50124 ssh2
Dec  1 10:05:00 web1 sshd[900]: Accepted publickey for deploy from 192.0.2.10 port 40000 ssh2
";

const SECOND_LOG: &str = "\
Dec  3 22:10:00 web1 sshd[1200]: Accepted password for backup from 45.9.148.7 port 51000 ssh2
";

#[tokio::test]
async fn sightings_by_promotion_search_and_the_reattack_watch() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    let (st, v) = app.add_member(ADMIN_TOKEN, &r, "admin", "incident_commander").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let source = ingest(&app, &r, "auth.log", FIRST_LOG).await;
    let source_id = source["source_id"].as_str().unwrap();

    // promote the account out of the second event
    let promoted = post_ok(
        &app,
        &r,
        "iocs/promote",
        json!({ "source_id": source_id, "line": 2, "value": "backup" }),
    )
    .await;
    assert_eq!(promoted["kind"], "account");
    assert_eq!(promoted["sightings"].as_array().unwrap().len(), 1);
    assert_eq!(promoted["sightings"][0]["line"], 2);
    assert_eq!(promoted["sightings"][0]["how"], "promoted");
    assert_eq!(promoted["first_seen"], "2026-12-01T10:00:05Z");
    let (st, p) = app
        .post(
            &format!("/api/v1/incidents/{r}/iocs/promote"),
            ADMIN_TOKEN,
            json!({ "source_id": source_id, "line": 3, "value": "backup" }),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "line 3 does not mention backup: {p}"
    );

    // search every timeline for each indicator
    post_ok(&app, &r, "iocs", json!({ "kind": "ip", "value": "45.9.148.7" })).await;
    post_ok(&app, &r, "iocs", json!({ "kind": "cidr", "value": "192.0.2.0/24" })).await;
    let (st, found) = app
        .post(&format!("/api/v1/incidents/{r}/iocs/search"), ADMIN_TOKEN, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    let by_value = |v: &str| {
        found
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["value"] == v)
            .unwrap()
            .clone()
    };
    assert_eq!(by_value("45.9.148.7")["found"], 2);
    assert_eq!(by_value("45.9.148.7")["new"], 2);
    assert_eq!(by_value("192.0.2.0/24")["found"], 1);
    assert_eq!(
        by_value("backup")["new"],
        0,
        "the promoted sighting is not recorded twice"
    );
    let iocs = list(&app, &r, "iocs").await;
    let ip = iocs.iter().find(|i| i["value"] == "45.9.148.7").unwrap();
    assert_eq!(ip["first_seen"], "2026-12-01T10:00:01Z");
    assert_eq!(ip["last_seen"], "2026-12-01T10:00:05Z");
    let (_, again) = app
        .post(&format!("/api/v1/incidents/{r}/iocs/search"), ADMIN_TOKEN, json!({}))
        .await;
    assert!(again.as_array().unwrap().iter().all(|x| x["new"] == 0), "{again}");
    assert!(!app.audit_actions().await.iter().any(|a| a == "ioc.reattack"));

    // the attacker comes back: the new source is checked at once, the IC is paged
    ingest(&app, &r, "auth.log.1", SECOND_LOG).await;
    let iocs = list(&app, &r, "iocs").await;
    let ip = iocs.iter().find(|i| i["value"] == "45.9.148.7").unwrap();
    assert_eq!(ip["last_seen"], "2026-12-03T22:10:00Z");
    assert!(
        ip["sightings"].as_array().unwrap().iter().any(|s| s["how"] == "watch"),
        "{ip}"
    );
    let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    let entries = audit.as_array().unwrap();
    let alert = entries
        .iter()
        .find(|e| e["action"] == "ioc.reattack")
        .expect("re-attack alert audited");
    let payload: Value = match &alert["payload"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    assert_eq!(payload["paged"], json!(["admin"]), "{payload}");
    assert_eq!(
        payload["matches"].as_array().unwrap().len(),
        2,
        "the address and the account: {payload}"
    );
    let alert_seq = alert["seq"].as_i64().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "page.trigger" && e["seq"].as_i64().unwrap() > alert_seq),
        "the incident commander is paged"
    );
}

// ---------- exposures ----------

#[tokio::test]
async fn exposures_link_evidence_and_events_of_the_incident() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    let res = app
        .http
        .post(format!("{}/api/v1/incidents/{r}/evidence?name=dump.sql", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .body("INSERT INTO customers VALUES (1, 'ACME');")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let evidence: Value = res.json().await.unwrap();
    let source = ingest(&app, &r, "auth.log", FIRST_LOG).await;
    let e = post_ok(
        &app,
        &r,
        "exposures",
        json!({ "data": "customers table", "classification": "pii", "records": 12000, "customers": ["ACME", "Globex"],
                "evidence": [evidence["id"]], "events": [{ "source_id": source["source_id"], "line": 2 }] }),
    )
    .await;
    assert_eq!(e["regulated"], true);
    assert_eq!(e["records"], 12000);
    assert_eq!(list(&app, &r, "exposures").await.len(), 1);

    let other = incident(&app).await;
    for body in [
        json!({ "data": "x", "classification": "pii", "evidence": [evidence["id"]] }),
        json!({ "data": "x", "classification": "secret" }),
        json!({ "data": "x", "classification": "pii", "events": [{ "source_id": source["source_id"], "line": 1 }] }),
    ] {
        let (st, p) = app
            .post(&format!("/api/v1/incidents/{other}/exposures"), ADMIN_TOKEN, body)
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    }
    assert!(list(&app, &other, "exposures").await.is_empty());
    let out = common::run_cli(&app.base, ADMIN_TOKEN, &["exposure", "list", &r]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("customers table") && out.stdout.contains("ACME, Globex"),
        "{}",
        out.stdout
    );
}

// ---------- need-to-know ----------

#[tokio::test]
async fn outsiders_get_404_on_every_register_of_a_sealed_incident() {
    let app = spawn_app().await;
    let r = incident(&app).await;
    post_ok(
        &app,
        &r,
        "assets",
        json!({ "name": "web1", "kind": "host", "state": "compromised" }),
    )
    .await;
    post_ok(&app, &r, "iocs", json!({ "kind": "ip", "value": "45.9.148.7" })).await;
    let outsider = app.user("eve", &[]).await;
    for path in [
        "assets",
        "iocs",
        "iocs/export?format=nftables",
        "iocs/export?format=stix",
        "credentials",
        "exposures",
        "systems",
        "risk",
        "follow-ups",
    ] {
        let (st, p) = app.get(&format!("/api/v1/incidents/{r}/{path}"), &outsider).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "GET {path}: {p}");
    }
    for (path, body) in [
        ("assets", json!({ "name": "x", "kind": "host", "state": "suspected" })),
        ("iocs", json!({ "kind": "ip", "value": "1.2.3.4" })),
        ("credentials", json!({ "name": "x", "kind": "password" })),
        ("exposures", json!({ "data": "x", "classification": "pii" })),
        ("iocs/search", json!({})),
    ] {
        let (st, p) = app
            .post(&format!("/api/v1/incidents/{r}/{path}"), &outsider, body)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "POST {path}: {p}");
    }
    assert_eq!(list(&app, &r, "assets").await.len(), 1);
    assert_eq!(list(&app, &r, "iocs").await.len(), 1);
}

#[tokio::test]
async fn the_openapi_description_names_every_register_endpoint() {
    let app = spawn_app().await;
    let spec: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for (p, method) in [
        ("/api/v1/incidents/{ref}/assets", "post"),
        ("/api/v1/incidents/{ref}/assets/{id}", "patch"),
        ("/api/v1/incidents/{ref}/iocs", "post"),
        ("/api/v1/incidents/{ref}/iocs/export", "get"),
        ("/api/v1/incidents/{ref}/iocs/promote", "post"),
        ("/api/v1/incidents/{ref}/iocs/search", "post"),
        ("/api/v1/incidents/{ref}/credentials", "post"),
        ("/api/v1/incidents/{ref}/credentials/{id}", "patch"),
        ("/api/v1/incidents/{ref}/exposures", "get"),
        ("/api/v1/incidents/{ref}/systems", "post"),
        ("/api/v1/incidents/{ref}/risk", "get"),
        ("/api/v1/incidents/{ref}/follow-ups/{id}", "patch"),
    ] {
        assert!(
            paths.get(p).is_some_and(|v| v[method].is_object()),
            "openapi lacks {method} {p}"
        );
    }
}
