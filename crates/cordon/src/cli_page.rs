//! `cordon page …` and `cordon oncall …`: trigger, show, acknowledge and resolve pages; set up
//! schedules and escalation policies from JSON files; ask who is on call.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::cli::{Remote, client, s, table};
use crate::client::segment;

#[derive(Debug, Subcommand)]
pub enum PageCmd {
    /// Page a policy (default `incident-commander`) or one person about an incident.
    Trigger {
        r#ref: String,
        #[arg(long, conflicts_with = "user")]
        policy: Option<String>,
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// A page with every notification attempt.
    Show {
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Acknowledge a page: escalation stops.
    Ack {
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Resolve a page.
    Resolve {
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum OncallCmd {
    /// Create or replace a schedule from a JSON file (the body of POST /api/v1/oncall/schedules).
    Schedule {
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// Create or replace an escalation policy from a JSON file.
    Policy {
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// Every schedule with who is on call now, and every escalation policy with its levels.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Who is on call now, per schedule.
    Who {
        #[command(flatten)]
        remote: Remote,
    },
}

fn print_page(v: &Value) {
    println!(
        "page {} — {} (policy {}, level {}{})",
        s(&v["id"]),
        s(&v["status"]),
        s(&v["policy"]),
        s(&v["level"]),
        v["incident"]
            .as_str()
            .map(|c| format!(", incident {c}"))
            .unwrap_or_default()
    );
    let rows = v["notifications"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            vec![
                s(&n["level"]),
                s(&n["user"]),
                s(&n["channel"]),
                s(&n["status"]),
                s(&n["attempts"]),
                s(&n["error"]),
            ]
        })
        .collect();
    table(&["LEVEL", "USER", "CHANNEL", "STATUS", "ATTEMPTS", "ERROR"], rows);
}

pub async fn run(cmd: PageCmd) -> anyhow::Result<i32> {
    let (v, json_out) = match cmd {
        PageCmd::Trigger {
            r#ref,
            policy,
            user,
            remote,
        } => {
            let body = json!({ "policy": policy, "user": user });
            (
                client(&remote)?
                    .post(&format!("/api/v1/incidents/{}/pages", segment(&r#ref)), &body)
                    .await?,
                remote.json,
            )
        }
        PageCmd::Show { id, remote } => (
            client(&remote)?.get(&format!("/api/v1/pages/{}", segment(&id))).await?,
            remote.json,
        ),
        PageCmd::Ack { id, remote } => (
            client(&remote)?
                .post(&format!("/api/v1/pages/{}/ack", segment(&id)), &json!({}))
                .await?,
            remote.json,
        ),
        PageCmd::Resolve { id, remote } => (
            client(&remote)?
                .post(&format!("/api/v1/pages/{}/resolve", segment(&id)), &json!({}))
                .await?,
            remote.json,
        ),
    };
    if json_out {
        println!("{v}")
    } else {
        print_page(&v)
    }
    Ok(0)
}

pub async fn run_oncall(cmd: OncallCmd) -> anyhow::Result<i32> {
    match cmd {
        OncallCmd::Schedule { file, remote } => post_file(&remote, "/api/v1/oncall/schedules", &file).await,
        OncallCmd::Policy { file, remote } => post_file(&remote, "/api/v1/oncall/escalation-policies", &file).await,
        OncallCmd::List { remote } => crate::cli_lifecycle::oncall_list(&remote).await,
        OncallCmd::Who { remote } => {
            let v = client(&remote)?.get("/api/v1/oncall/schedules").await?;
            if remote.json {
                println!("{v}");
            } else {
                let rows = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| vec![s(&o["schedule"]), s(&o["user"])])
                    .collect();
                table(&["SCHEDULE", "ON CALL"], rows);
            }
            Ok(0)
        }
    }
}

async fn post_file(remote: &Remote, path: &str, file: &PathBuf) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let body: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let v = client(remote)?.post(path, &body).await?;
    if remote.json {
        println!("{v}")
    } else {
        println!("saved {}", s(&v["name"]))
    }
    Ok(0)
}
