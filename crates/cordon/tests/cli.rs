//! The CLI against a real server: `cordon incident|task|user|audit|playbook`, table and `--json`.

mod common;

use common::{ADMIN_TOKEN, spawn_app};
use serde_json::Value;

type Out = common::CliOut;

async fn cordon(base: &str, token: &str, args: &[&str]) -> Out {
    common::run_cli(base, token, args).await
}

#[tokio::test]
async fn declare_list_show_tasks_and_audit_from_the_command_line() {
    let app = spawn_app().await;
    let b = app.base.as_str();

    let out = cordon(
        b,
        ADMIN_TOKEN,
        &[
            "incident",
            "declare",
            "--title",
            "Leaked deploy key",
            "--severity",
            "SEV-1",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(inc["sealed"], true);
    assert_eq!(inc["severity"], "SEV-1");
    let codename = inc["codename"].as_str().unwrap().to_owned();

    let out = cordon(b, ADMIN_TOKEN, &["incident", "list"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("CODENAME"), "{}", out.stdout);
    assert!(out.stdout.contains(&codename) && out.stdout.contains("Leaked deploy key"));

    let out = cordon(b, ADMIN_TOKEN, &["incident", "show", &codename]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("sealed: true") && out.stdout.contains("admin (reporter)"),
        "{}",
        out.stdout
    );

    let out = cordon(
        b,
        ADMIN_TOKEN,
        &["task", "list", &codename.to_lowercase().replace(' ', "-"), "--json"],
    )
    .await;
    let tasks: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 14);
    let out = cordon(b, ADMIN_TOKEN, &["task", "list", &codename]).await;
    assert!(
        out.stdout.contains("systems_secured,monitoring_in_place"),
        "{}",
        out.stdout
    );

    // A gated move fails with the server's reason and a non-zero exit.
    let out = cordon(b, ADMIN_TOKEN, &["task", "set", &codename, "10", "--status", "done"]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("gate_unmet") && out.stderr.contains("systems_secured"),
        "{}",
        out.stderr
    );
    let out = cordon(
        b,
        ADMIN_TOKEN,
        &["task", "set", &codename, "1", "--status", "done", "--assignee", "admin"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("step 1: done"), "{}", out.stdout);

    // Users and tokens.
    let out = cordon(
        b,
        ADMIN_TOKEN,
        &["user", "create", "olivia", "--email", "olivia@example.com"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = cordon(b, ADMIN_TOKEN, &["user", "token", "olivia"]).await;
    let olivia = out.stdout.trim().to_owned();
    assert!(olivia.starts_with("cordon_"));
    let out = cordon(b, &olivia, &["incident", "show", &codename]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not_found"), "{}", out.stderr);
    let out = cordon(b, &olivia, &["incident", "list", "--json"]).await;
    assert_eq!(out.stdout.trim(), "[]");

    let out = cordon(b, ADMIN_TOKEN, &["audit", "verify"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("audit chain ok"), "{}", out.stdout);
    let out = cordon(b, ADMIN_TOKEN, &["audit", "verify", "--json"]).await;
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);

    let out = cordon(b, "", &["incident", "list"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("CORDON_TOKEN"), "{}", out.stderr);
}

#[tokio::test]
async fn playbook_check_validates_and_warns_about_stale_dates() {
    let dir = tempfile::tempdir().unwrap();
    let out = cordon("http://127.0.0.1:9", "", &["playbook", "check"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("built-in security: ok (14 steps"), "{}", out.stdout);

    let stale = dir.path().join("stale.toml");
    std::fs::write(
        &stale,
        "name = \"old\"\ntitle = \"Old\"\nversion = 1\nlast_reviewed = \"2020-01-01\"\n\
         [[steps]]\nstep = 1\nkey = \"a\"\ntitle = \"A\"\nowner_role = \"incident_commander\"\n",
    )
    .unwrap();
    let path = stale.to_str().unwrap();
    let out = cordon("http://127.0.0.1:9", "", &["playbook", "check", path]).await;
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.contains("last_reviewed 2020-01-01 is") && out.stderr.contains("last_tested is missing"),
        "{}",
        out.stderr
    );
    let out = cordon("http://127.0.0.1:9", "", &["playbook", "check", "--strict", path]).await;
    assert_eq!(out.code, 1);

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "name = \"x\"\n").unwrap();
    let out = cordon(
        "http://127.0.0.1:9",
        "",
        &["playbook", "check", broken.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("error:"), "{}", out.stderr);
}
