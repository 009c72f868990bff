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
use crate::cli_values::named;
use crate::client::segment;

#[derive(Debug, Subcommand)]
pub enum CommsCmd {
    /// Draft a message; without --title/--body the audience's template prefills it from the
    /// registers, leaving `<…>` placeholders (error findings) where they record nothing.
    Draft {
        r#ref: String,
        #[arg(long, value_parser = named::<cordon_core::comms::Audience>())]
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
    /// One message: title, audience, status, findings, approvals and the body.
    Show {
        r#ref: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Edit a draft: re-linted, approvals and any override dropped. Without --title and
    /// --body, opens $EDITOR (or $VISUAL, else vi) on the body and saves it when changed.
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
    /// Approve in the roles you hold. Error findings refuse it (409 lint_errors) unless the
    /// incident commander overrides them with a reason.
    Approve {
        r#ref: String,
        id: String,
        /// The incident commander approves despite error findings, for this reason (recorded
        /// on the message and audited).
        #[arg(long, value_name = "REASON")]
        override_reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Send (or publish) an approved message whose gate is met; linted again first.
    Send {
        r#ref: String,
        id: String,
        /// The incident commander sends despite error findings, for this reason (recorded on
        /// the message and audited).
        #[arg(long, value_name = "REASON")]
        override_reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The templates drafts are prefilled from (admins and the security group).
    Templates {
        #[command(flatten)]
        remote: Remote,
    },
    /// Replace (or add) a template: minijinja title and body (docs/communications-rules.md).
    Template {
        /// The template's name; an audience's name makes it that audience's default.
        name: String,
        #[arg(long, value_parser = named::<cordon_core::comms::Audience>())]
        audience: String,
        #[arg(long)]
        title: String,
        /// The body, or `@file` to read it from a file.
        #[arg(long)]
        body: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClockCmd {
    /// Start a regulatory clock from the event its law names.
    Start {
        r#ref: String,
        #[arg(long, value_parser = named::<cordon_core::regulatory::Regime>())]
        regime: String,
        /// RFC 3339 time of the event (awareness, determination, discovery, …).
        #[arg(long)]
        started_at: String,
        /// Holiday calendar (default: the regime's).
        #[arg(long, value_parser = named::<cordon_core::regulatory::calendar::Jurisdiction>())]
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
        #[arg(long, value_parser = named::<cordon_core::comms::Party>())]
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

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().map(s).collect()
}

/// A message in full: its fields, findings, override and body.
fn print_full(v: &Value) {
    println!("id:        {}", s(&v["id"]));
    println!("title:     {}", s(&v["title"]));
    println!("audience:  {}", s(&v["audience"]));
    println!("status:    {}", s(&v["status"]));
    let to = strings(&v["recipients"]);
    if !to.is_empty() {
        println!("to:        {}", to.join(", "));
    }
    let approvals: Vec<String> = v["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{} ({})", s(&a["user"]), s(&a["role"])))
        .collect();
    if !approvals.is_empty() {
        println!("approved:  {}", approvals.join(", "));
    }
    if !v["sent_at"].is_null() {
        println!(
            "sent:      {} by {} ({})",
            s(&v["sent_at"]),
            s(&v["sent_by"]),
            s(&v["channel"])
        );
    }
    print_state(v);
    println!();
    println!("{}", s(&v["body"]));
}

/// One line about a message, then what holds it back and its findings.
fn print_comm(v: &Value) {
    println!(
        "{} · {} · {} — {}",
        s(&v["id"]),
        s(&v["audience"]),
        s(&v["status"]),
        s(&v["title"])
    );
    print_state(v);
}

fn print_state(v: &Value) {
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
        .map(|f| {
            let severity = if f["overridden"] == true {
                format!("{} (overridden)", s(&f["severity"]))
            } else {
                s(&f["severity"])
            };
            vec![severity, s(&f["rule"]), s(&f["message"])]
        })
        .collect();
    if rows.is_empty() {
        println!("no findings");
    } else {
        table(&["SEVERITY", "RULE", "MESSAGE"], rows);
    }
    let blocking = strings(&v["blocking_findings"]);
    if !blocking.is_empty() && v["status"] != "sent" {
        println!(
            "held back by error findings: {} (fix the text, or the incident commander overrides with --override-reason)",
            blocking.join(", ")
        );
    }
    let o = &v["lint_override"];
    if o.is_object() {
        println!(
            "override by {} at {} ({}): {} — covers {}",
            s(&o["by"]),
            s(&o["at"]),
            s(&o["during"]),
            s(&o["reason"]),
            strings(&o["rules"]).join(", ")
        );
    }
}

/// Where `cordon comms edit` writes the body for the editor: a new file only the caller may
/// read (the draft may be confidential), in the temporary directory.
fn edit_file(id: &str) -> anyhow::Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let short: String = id.chars().filter(char::is_ascii_alphanumeric).take(12).collect();
    let dir = std::env::temp_dir();
    for n in 0..100u32 {
        let path = dir.join(format!("cordon-comms-{short}-{}-{n}.md", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    anyhow::bail!("cannot create a file for the editor in {}", dir.display())
}

/// The editor to run: `$EDITOR`, else `$VISUAL`, else `vi`. It may carry arguments
/// (`code --wait`): it runs through the shell, with the file as its last argument.
fn editor() -> String {
    ["EDITOR", "VISUAL"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

/// Lets the user edit `body` in their editor; the text saved, or `None` when it is unchanged.
async fn edit_in_editor(id: &str, body: &str) -> anyhow::Result<Option<String>> {
    use std::io::Write;
    let (path, mut file) = edit_file(id)?;
    let written = if body.ends_with('\n') {
        body.to_owned()
    } else {
        format!("{body}\n")
    };
    let outcome = async {
        file.write_all(written.as_bytes())
            .and_then(|_| file.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        drop(file);
        let editor = editor();
        let status = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .status()
            .await
            .with_context(|| format!("starting the editor `{editor}`"))?;
        anyhow::ensure!(
            status.success(),
            "the editor `{editor}` exited with {status}; nothing was saved"
        );
        tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("reading {}", path.display()))
    }
    .await;
    let _ = std::fs::remove_file(&path);
    let edited = outcome?;
    if edited == written {
        return Ok(None);
    }
    // An editor adds a final line end; the body keeps the ending it had.
    let edited = if body.ends_with('\n') {
        edited
    } else {
        edited.strip_suffix('\n').unwrap_or(&edited).to_owned()
    };
    Ok(Some(edited))
}

/// Approves or sends; a refusal for error findings shows them (and how to override).
async fn act(
    remote: &Remote,
    r: &str,
    id: &str,
    action: &str,
    override_reason: Option<String>,
) -> anyhow::Result<Value> {
    let cl = client(remote)?;
    let path = format!("{}/communications/{}", base(r), segment(id));
    let body = match override_reason {
        Some(reason) => json!({ "override_reason": reason }),
        None => json!({}),
    };
    match cl.post(&format!("{path}/{action}"), &body).await {
        Ok(v) => Ok(v),
        Err(e) => {
            let lint = e
                .downcast_ref::<crate::client::ApiError>()
                .is_some_and(|a| a.code == "lint_errors");
            if lint && let Ok(v) = cl.get(&path).await {
                let rows: Vec<Vec<String>> = v["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|f| f["severity"] == "error" && f["overridden"] != true)
                    .map(|f| vec![s(&f["rule"]), s(&f["message"])])
                    .collect();
                if !rows.is_empty() {
                    eprintln!("error findings (as last saved):");
                    for row in rows {
                        eprintln!("  {}: {}", row[0], row[1]);
                    }
                }
                eprintln!(
                    "fix them with `cordon comms edit {r} {id}`, or, as the incident commander, `cordon comms {action} {r} {id} --override-reason \"…\"`"
                );
            }
            Err(e)
        }
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
        CommsCmd::Show { r#ref, id, remote } => {
            let v = client(&remote)?
                .get(&format!("{}/communications/{}", base(&r#ref), segment(&id)))
                .await?;
            if remote.json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_full(&v);
            }
            return Ok(0);
        }
        CommsCmd::Edit {
            r#ref,
            id,
            title,
            body,
            remote,
        } => {
            let cl = client(&remote)?;
            let path = format!("{}/communications/{}", base(&r#ref), segment(&id));
            let mut b = json!({});
            if title.is_none() && body.is_none() {
                let current = cl.get(&path).await?;
                anyhow::ensure!(
                    current["status"] != "sent",
                    "the message was sent and cannot change; draft a new one"
                );
                match edit_in_editor(&id, current["body"].as_str().unwrap_or_default()).await? {
                    Some(edited) => b["body"] = json!(edited),
                    None => {
                        eprintln!("the body is unchanged; nothing saved");
                        return Ok(0);
                    }
                }
            }
            if let Some(t) = title {
                b["title"] = json!(t);
            }
            if let Some(x) = body_arg(body).await? {
                b["body"] = json!(x);
            }
            (cl.patch(&path, &b).await?, remote.json, false)
        }
        CommsCmd::Approve {
            r#ref,
            id,
            override_reason,
            remote,
        } => (
            act(&remote, &r#ref, &id, "approve", override_reason).await?,
            remote.json,
            false,
        ),
        CommsCmd::Send {
            r#ref,
            id,
            override_reason,
            remote,
        } => (
            act(&remote, &r#ref, &id, "send", override_reason).await?,
            remote.json,
            false,
        ),
        CommsCmd::Templates { remote } => {
            let v = client(&remote)?.get("/api/v1/communications/templates").await?;
            let columns = [
                ("NAME", "name"),
                ("AUDIENCE", "audience"),
                ("UPDATED BY", "updated_by"),
                ("TITLE", "title"),
            ];
            crate::cli::print_list(&remote, &v, &columns);
            return Ok(0);
        }
        CommsCmd::Template {
            name,
            audience,
            title,
            body,
            remote,
        } => {
            let body = body_arg(Some(body)).await?;
            let b = json!({ "audience": audience, "title": title, "body": body });
            let v = client(&remote)?
                .call(
                    reqwest::Method::PUT,
                    &format!("/api/v1/communications/templates/{}", segment(&name)),
                    Some(&b),
                )
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("template {} ({}) saved", s(&v["name"]), s(&v["audience"]));
            }
            return Ok(0);
        }
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
pub async fn run_report(
    r: String,
    format: String,
    tz: Option<String>,
    output: Option<PathBuf>,
    remote: Remote,
) -> anyhow::Result<i32> {
    anyhow::ensure!(
        matches!(format.as_str(), "md" | "html" | "pdf"),
        "--format must be md, html or pdf"
    );
    if format == "pdf" && output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("a PDF is not for a terminal: write it to a file with -o FILE");
    }
    let cl = client(&remote)?;
    let mut path = format!("{}/report?format={format}", base(&r));
    if let Some(tz) = tz {
        path.push_str(&format!("&tz={}", crate::client::segment(&tz)));
    }
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
