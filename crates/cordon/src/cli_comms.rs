//! `cordon comms …`, `cordon clock …`, `cordon contact …` and `cordon report`: draft, lint,
//! approve and send messages; start and watch regulatory clocks; log contacts with outside
//! parties; fetch the incident report.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::cli::{Remote, client, s, table};
use crate::client::segment;

#[derive(Debug, Subcommand)]
pub enum CommsCmd {
    /// Draft a message; without --title/--body the audience's template prefills it.
    Draft {
        r#ref: String,
        /// internal, external, customer_security, law_enforcement, regulator, insurer, vendor.
        #[arg(long)]
        audience: String,
        #[arg(long)]
        title: Option<String>,
        /// The body; `@FILE` reads it from a file.
        #[arg(long)]
        body: Option<String>,
        #[arg(long)]
        template: Option<String>,
        /// A recipient (user name or address); repeatable.
        #[arg(long = "to")]
        recipients: Vec<String>,
        /// Third parties named have already disclosed their part.
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's messages.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// One message with its findings.
    Show {
        r#ref: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Edit a draft: re-linted, approvals dropped.
    Edit {
        r#ref: String,
        id: String,
        #[arg(long)]
        title: Option<String>,
        /// The body; `@FILE` reads it from a file.
        #[arg(long)]
        body: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Approve in the roles you hold.
    Approve {
        r#ref: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Send (or publish) an approved message whose gate is met.
    Send {
        r#ref: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClockCmd {
    /// Start a regulatory clock from the event its law names.
    Start {
        r#ref: String,
        /// gdpr, nis2, dora, sec-8k, hipaa, appi.
        #[arg(long)]
        regime: String,
        /// RFC 3339 time of the event (awareness, determination, discovery, …).
        #[arg(long)]
        started_at: String,
        /// Holiday calendar: us, jp, eu, uk.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// APPI: the unlawful-purpose category.
        #[arg(long)]
        unlawful_purpose: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's clocks and milestones.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Record that a milestone was met (the filing was made).
    ///
    /// Example: `cordon clock met sapphire-unicorn gdpr supervisory_authority`
    Met {
        r#ref: String,
        /// The clock: its regime (`gdpr`) when the incident has one clock of it, else
        /// `regime:jurisdiction` (`gdpr:eu`), a unique id prefix (4+ hex digits) or its id.
        clock: String,
        milestone: String,
        /// RFC 3339; default now.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactCmd {
    /// Log a contact with an outside party (steps 12–13).
    Add {
        r#ref: String,
        /// legal, law_enforcement, security_firm, insurer, operator.
        #[arg(long)]
        party: String,
        #[arg(long)]
        name: String,
        /// RFC 3339 time of the contact.
        #[arg(long)]
        at: String,
        #[arg(long)]
        reference: Option<String>,
        #[arg(long)]
        outcome: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's contact log.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
}

fn base(r: &str) -> String {
    format!("/api/v1/incidents/{}", segment(r))
}

async fn body_arg(b: Option<String>) -> anyhow::Result<Option<String>> {
    match b {
        Some(b) if b.starts_with('@') => Ok(Some(
            tokio::fs::read_to_string(&b[1..])
                .await
                .with_context(|| format!("reading {}", &b[1..]))?,
        )),
        other => Ok(other),
    }
}

fn print_comm(v: &Value) {
    println!(
        "{} · {} · {} — {}",
        s(&v["id"]),
        s(&v["audience"]),
        s(&v["status"]),
        s(&v["title"])
    );
    let missing: Vec<String> = v["missing_approvals"].as_array().into_iter().flatten().map(s).collect();
    if !missing.is_empty() {
        println!("needs approval by: {}", missing.join(", "));
    }
    let blocked: Vec<String> = v["blocked_by"].as_array().into_iter().flatten().map(s).collect();
    if !blocked.is_empty() {
        println!("waits for: {}", blocked.join(", "));
    }
    let rows: Vec<Vec<String>> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| vec![s(&f["severity"]), s(&f["rule"]), s(&f["message"])])
        .collect();
    if rows.is_empty() {
        println!("no findings");
    } else {
        table(&["SEVERITY", "RULE", "MESSAGE"], rows);
    }
}

fn print_clock(c: &Value) {
    println!(
        "{} ({}) {} from {} ({})",
        s(&c["handle"]),
        s(&c["id"]),
        s(&c["regime"]),
        s(&c["started_at"]),
        s(&c["anchor"])
    );
    let rows = c["milestones"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| vec![s(&m["name"]), s(&m["due"]), s(&m["status"])])
        .collect();
    table(&["MILESTONE", "DUE", "STATUS"], rows);
}

pub async fn run_comms(cmd: CommsCmd) -> anyhow::Result<i32> {
    let (v, json_out, list) = match cmd {
        CommsCmd::Draft {
            r#ref,
            audience,
            title,
            body,
            template,
            recipients,
            public,
            remote,
        } => {
            let mut b = json!({ "audience": audience, "recipients": recipients, "third_parties_public": public });
            if let Some(t) = title {
                b["title"] = json!(t);
            }
            if let Some(x) = body_arg(body).await? {
                b["body"] = json!(x);
            }
            if let Some(t) = template {
                b["template"] = json!(t);
            }
            let v = client(&remote)?
                .post(&format!("{}/communications", base(&r#ref)), &b)
                .await?;
            (v, remote.json, false)
        }
        CommsCmd::List { r#ref, remote } => (
            client(&remote)?
                .get(&format!("{}/communications", base(&r#ref)))
                .await?,
            remote.json,
            true,
        ),
        CommsCmd::Show { r#ref, id, remote } => (
            client(&remote)?
                .get(&format!("{}/communications/{}", base(&r#ref), segment(&id)))
                .await?,
            remote.json,
            false,
        ),
        CommsCmd::Edit {
            r#ref,
            id,
            title,
            body,
            remote,
        } => {
            let mut b = json!({});
            if let Some(t) = title {
                b["title"] = json!(t);
            }
            if let Some(x) = body_arg(body).await? {
                b["body"] = json!(x);
            }
            let v = client(&remote)?
                .patch(&format!("{}/communications/{}", base(&r#ref), segment(&id)), &b)
                .await?;
            (v, remote.json, false)
        }
        CommsCmd::Approve { r#ref, id, remote } => (
            client(&remote)?
                .post(
                    &format!("{}/communications/{}/approve", base(&r#ref), segment(&id)),
                    &json!({}),
                )
                .await?,
            remote.json,
            false,
        ),
        CommsCmd::Send { r#ref, id, remote } => (
            client(&remote)?
                .post(
                    &format!("{}/communications/{}/send", base(&r#ref), segment(&id)),
                    &json!({}),
                )
                .await?,
            remote.json,
            false,
        ),
    };
    if json_out {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if list {
        let rows = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                vec![
                    s(&c["id"]),
                    s(&c["audience"]),
                    s(&c["status"]),
                    c["findings"].as_array().map(|f| f.len()).unwrap_or(0).to_string(),
                    s(&c["title"]),
                ]
            })
            .collect();
        table(&["ID", "AUDIENCE", "STATUS", "FINDINGS", "TITLE"], rows);
    } else {
        print_comm(&v);
    }
    Ok(0)
}

pub async fn run_clock(cmd: ClockCmd) -> anyhow::Result<i32> {
    let (v, json_out) = match cmd {
        ClockCmd::Start {
            r#ref,
            regime,
            started_at,
            jurisdiction,
            unlawful_purpose,
            remote,
        } => {
            let b = json!({ "regime": regime, "started_at": started_at, "jurisdiction": jurisdiction, "unlawful_purpose": unlawful_purpose });
            (
                client(&remote)?.post(&format!("{}/clocks", base(&r#ref)), &b).await?,
                remote.json,
            )
        }
        ClockCmd::List { r#ref, remote } => (
            client(&remote)?.get(&format!("{}/clocks", base(&r#ref))).await?,
            remote.json,
        ),
        ClockCmd::Met {
            r#ref,
            clock,
            milestone,
            at,
            remote,
        } => (
            client(&remote)?
                .post(
                    &format!(
                        "{}/clocks/{}/milestones/{}/met",
                        base(&r#ref),
                        segment(&clock),
                        segment(&milestone)
                    ),
                    &json!({ "met_at": at }),
                )
                .await?,
            remote.json,
        ),
    };
    if json_out {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if let Some(list) = v.as_array() {
        list.iter().for_each(print_clock);
    } else {
        print_clock(&v);
    }
    Ok(0)
}

pub async fn run_contact(cmd: ContactCmd) -> anyhow::Result<i32> {
    let (v, json_out) = match cmd {
        ContactCmd::Add {
            r#ref,
            party,
            name,
            at,
            reference,
            outcome,
            remote,
        } => {
            let b = json!({ "party": party, "name": name, "at": at, "reference": reference, "outcome": outcome });
            (
                client(&remote)?.post(&format!("{}/contacts", base(&r#ref)), &b).await?,
                remote.json,
            )
        }
        ContactCmd::List { r#ref, remote } => (
            client(&remote)?.get(&format!("{}/contacts", base(&r#ref))).await?,
            remote.json,
        ),
    };
    if json_out {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let items: Vec<Value> = match v {
        Value::Array(a) => a,
        one => vec![one],
    };
    let rows = items
        .iter()
        .map(|c| {
            vec![
                s(&c["at"]),
                s(&c["party"]),
                s(&c["name"]),
                s(&c["reference"]),
                s(&c["step"]),
            ]
        })
        .collect();
    table(&["AT", "PARTY", "NAME", "REFERENCE", "STEP"], rows);
    Ok(0)
}

/// `cordon report REF --format md|html|pdf [-o FILE]`.
pub async fn run_report(r: String, format: String, output: Option<PathBuf>, remote: Remote) -> anyhow::Result<i32> {
    anyhow::ensure!(
        matches!(format.as_str(), "md" | "html" | "pdf"),
        "--format must be md, html or pdf"
    );
    if format == "pdf" && output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("a PDF is not for a terminal: write it to a file with -o FILE");
    }
    let cl = client(&remote)?;
    let path = format!("{}/report?format={format}", base(&r));
    let body = cl.send(cl.request(Method::GET, &path)).await?.bytes().await?;
    match output {
        Some(out) => {
            tokio::fs::write(&out, &body)
                .await
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!("report written to {}", out.display());
        }
        None => {
            let mut stdout = tokio::io::stdout();
            stdout.write_all(&body).await?;
            stdout.flush().await?;
        }
    }
    Ok(0)
}
