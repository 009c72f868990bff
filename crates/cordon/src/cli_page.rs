//! `cordon page …` and `cordon oncall …`: trigger, list, show, acknowledge and resolve pages
//! (each answer says who was reached and who could not be, and why); set up schedules and
//! escalation policies from JSON files; ask who is on call and whether pages can reach anyone.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::cli::{Remote, client, s, table};
use crate::client::segment;

/// A page's status, for `--status`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PageStatusArg {
    Triggered,
    Acknowledged,
    Resolved,
}

impl PageStatusArg {
    fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PageCmd {
    /// Page a policy (default `incident-commander`) or one person about an incident, and say
    /// who was reached and who could not be. Exits 1 when the page reached nobody.
    Trigger {
        r#ref: String,
        #[arg(long, conflicts_with = "user")]
        policy: Option<String>,
        #[arg(long)]
        user: Option<String>,
        /// Why: shown to the team in the page, never in the notice.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The pages you may see, newest first (of one incident with REF).
    List {
        /// An incident's id or codename.
        r#ref: Option<String>,
        #[arg(long, value_enum)]
        status: Option<PageStatusArg>,
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
    /// Whether pages can reach anyone: the channels, and on-call people without a contact
    /// that can deliver (admins and the security team). Exits 1 when there are warnings.
    Check {
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
    if let Some(reason) = v["reason"].as_str() {
        println!("reason: {reason}");
    }
    print_reach(v);
}

/// Who was reached and who could not be: on standard error, loudly, when nobody was.
fn print_reach(v: &Value) {
    let summary = s(&v["summary"]);
    if v["reached_nobody"] == true {
        eprintln!("warning: {summary}");
    } else {
        println!("{summary}");
    }
}

fn print_page_list(v: &Value) {
    let rows = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let id = s(&p["id"]);
            vec![
                id.chars().take(8).collect(),
                s(&p["incident"]),
                s(&p["status"]),
                s(&p["level"]),
                s(&p["triggered_at"]),
                s(&p["reason"]),
                s(&p["summary"]),
                id,
            ]
        })
        .collect();
    table(
        &[
            "SHORT",
            "INCIDENT",
            "STATUS",
            "LEVEL",
            "TRIGGERED",
            "REASON",
            "REACH",
            "ID",
        ],
        rows,
    );
}

pub async fn run(cmd: PageCmd) -> anyhow::Result<i32> {
    let triggered = matches!(cmd, PageCmd::Trigger { .. });
    let (v, json_out) = match cmd {
        PageCmd::List { r#ref, status, remote } => {
            let mut query: Vec<String> = Vec::new();
            if let Some(r) = r#ref {
                query.push(format!("incident={}", segment(&r)));
            }
            if let Some(st) = status {
                query.push(format!("status={}", st.as_str()));
            }
            let query = query.join("&");
            let v = client(&remote)?.get(&format!("/api/v1/pages?{query}")).await?;
            if remote.json {
                println!("{v}");
            } else {
                print_page_list(&v);
            }
            return Ok(0);
        }
        PageCmd::Trigger {
            r#ref,
            policy,
            user,
            reason,
            remote,
        } => {
            let body = json!({ "policy": policy, "user": user, "reason": reason });
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
    // A page nobody received is not a success (and is said so on standard error).
    Ok(if triggered && v["reached_nobody"] == true { 1 } else { 0 })
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
        OncallCmd::Check { remote } => {
            let v = client(&remote)?.get("/api/v1/oncall/readiness").await?;
            if remote.json {
                println!("{v}");
            } else {
                let rows = v["channels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        vec![
                            s(&c["channel"]),
                            if c["ready"] == true { "ready" } else { "off" }.to_owned(),
                            s(&c["detail"]),
                        ]
                    })
                    .collect();
                table(&["CHANNEL", "STATE", "DETAIL"], rows);
                for w in v["warnings"].as_array().into_iter().flatten() {
                    eprintln!("warning: {}", s(w));
                }
            }
            Ok(if v["ok"] == true { 0 } else { 1 })
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
