//! `cordon page …` and `cordon oncall …`: trigger, list, show, acknowledge and resolve pages
//! (each answer says who was reached and who could not be, and why); set up schedules and
//! escalation policies from JSON files; ask who is on call and whether pages can reach anyone.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cordon_api::paging::{
    EscalationPolicySpec, OnCallOut, PageListQuery, PageOut, ReadinessOut, ScheduleSpec, TriggerPage,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, or_dash, print_table};
use crate::client::{segment, with_query};

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

fn print_page(v: &PageOut) {
    println!(
        "page {} — {} (policy {}, level {}{})",
        v.id,
        v.status,
        v.policy,
        v.level,
        v.incident
            .as_deref()
            .map(|c| format!(", incident {c}"))
            .unwrap_or_default()
    );
    print_table(
        &v.notifications,
        &[
            ("LEVEL", |n| n.level.to_string()),
            ("USER", |n| n.user.clone()),
            ("CHANNEL", |n| n.channel.clone()),
            ("STATUS", |n| n.status.clone()),
            ("ATTEMPTS", |n| n.attempts.to_string()),
            ("ERROR", |n| or_dash(&n.error)),
        ],
    );
    if let Some(reason) = &v.reason {
        println!("reason: {reason}");
    }
    print_reach(v);
}

/// Who was reached and who could not be: on standard error, loudly, when nobody was.
fn print_reach(v: &PageOut) {
    if v.reached_nobody {
        eprintln!("warning: {}", v.summary);
    } else {
        println!("{}", v.summary);
    }
}

/// The pages as `page list` shows them.
const PAGE_COLUMNS: &[Column<PageOut>] = &[
    ("SHORT", |p| p.id.to_string().chars().take(8).collect()),
    ("INCIDENT", |p| or_dash(&p.incident)),
    ("STATUS", |p| p.status.clone()),
    ("LEVEL", |p| p.level.to_string()),
    ("TRIGGERED", |p| p.triggered_at.to_string()),
    ("REASON", |p| or_dash(&p.reason)),
    ("REACH", |p| p.summary.clone()),
    ("ID", |p| p.id.to_string()),
];

pub async fn run(cmd: PageCmd) -> anyhow::Result<i32> {
    let triggered = matches!(cmd, PageCmd::Trigger { .. });
    let (v, remote): (PageOut, Remote) = match cmd {
        PageCmd::List { r#ref, status, remote } => {
            let query = PageListQuery {
                status: status.map(|s| s.as_str().to_owned()),
                incident: r#ref,
            };
            let v: Vec<PageOut> = client(&remote)?.list(&with_query("/api/v1/pages", &query)?).await?;
            remote.output().list(&v, PAGE_COLUMNS)?;
            return Ok(0);
        }
        PageCmd::Trigger {
            r#ref,
            policy,
            user,
            reason,
            remote,
        } => {
            let body = TriggerPage {
                policy,
                user,
                role: None,
                reason,
            };
            let v = client(&remote)?
                .post(&format!("/api/v1/incidents/{}/pages", segment(&r#ref)), &body)
                .await?;
            (v, remote)
        }
        PageCmd::Show { id, remote } => (
            client(&remote)?.get(&format!("/api/v1/pages/{}", segment(&id))).await?,
            remote,
        ),
        PageCmd::Ack { id, remote } => (
            client(&remote)?
                .post_empty(&format!("/api/v1/pages/{}/ack", segment(&id)))
                .await?,
            remote,
        ),
        PageCmd::Resolve { id, remote } => (
            client(&remote)?
                .post_empty(&format!("/api/v1/pages/{}/resolve", segment(&id)))
                .await?,
            remote,
        ),
    };
    remote.output().one(&v, print_page)?;
    // A page nobody received is not a success (and is said so on standard error).
    Ok(if triggered && v.reached_nobody { 1 } else { 0 })
}

/// Who is on call now, per schedule.
const ON_CALL_COLUMNS: &[Column<OnCallOut>] =
    &[("SCHEDULE", |o| o.schedule.clone()), ("ON CALL", |o| or_dash(&o.user))];

pub async fn run_oncall(cmd: OncallCmd) -> anyhow::Result<i32> {
    match cmd {
        OncallCmd::Schedule { file, remote } => {
            let v: ScheduleSpec = post_file(&remote, "/api/v1/oncall/schedules", &file).await?;
            remote.output().one(&v, |v| println!("saved {}", v.name))?;
            Ok(0)
        }
        OncallCmd::Policy { file, remote } => {
            let v: EscalationPolicySpec = post_file(&remote, "/api/v1/oncall/escalation-policies", &file).await?;
            remote.output().one(&v, |v| println!("saved {}", v.name))?;
            Ok(0)
        }
        OncallCmd::List { remote } => crate::cli_lifecycle::oncall_list(&remote).await,
        OncallCmd::Who { remote } => {
            let v: Vec<OnCallOut> = client(&remote)?.list("/api/v1/oncall/schedules").await?;
            remote.output().list(&v, ON_CALL_COLUMNS)?;
            Ok(0)
        }
        OncallCmd::Check { remote } => {
            let v: ReadinessOut = client(&remote)?.get("/api/v1/oncall/readiness").await?;
            remote.output().one(&v, |v| {
                print_table(
                    &v.channels,
                    &[
                        ("CHANNEL", |c| c.channel.clone()),
                        ("STATE", |c| if c.ready { "ready" } else { "off" }.to_owned()),
                        ("DETAIL", |c| c.detail.clone()),
                    ],
                );
                for w in &v.warnings {
                    eprintln!("warning: {w}");
                }
            })?;
            Ok(if v.ok { 0 } else { 1 })
        }
    }
}

/// POSTs a spec written in a JSON file as it is: the server validates it, and its refusal
/// names the field that is wrong.
async fn post_file<T: DeserializeOwned>(remote: &Remote, path: &str, file: &PathBuf) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let body: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    client(remote)?.post(path, &body).await
}
