//! `cordon comms …`, `cordon clock …`, `cordon contact …` and `cordon report`: draft, lint,
//! approve and send messages; start and watch regulatory clocks; log contacts with outside
//! parties; fetch the incident report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cordon_api::comms::{
    AddContactLog, ClockOut, CommunicationAction, CommunicationOut, ContactLogOut, CreateCommunication, MeetMilestone,
    PatchCommunication, PutTemplate, ReportQuery, StartClockBody, TemplateOut,
};

use crate::cli::{Remote, client};
use crate::cli_output::{Column, DocumentArgs, or_dash, print_table};
use crate::cli_values::{instant, named};
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

/// A body flag's text: as given, or read from the file an `@FILE` names.
async fn read_body(b: String) -> anyhow::Result<String> {
    match b.strip_prefix('@') {
        Some(file) => tokio::fs::read_to_string(file)
            .await
            .with_context(|| format!("reading {file}")),
        None => Ok(b),
    }
}

/// An optional body flag's text ([`read_body`]).
async fn body_arg(b: Option<String>) -> anyhow::Result<Option<String>> {
    match b {
        Some(b) => read_body(b).await.map(Some),
        None => Ok(None),
    }
}

/// A message in full: its fields, findings, override and body.
fn print_full(v: &CommunicationOut) {
    println!("id:        {}", v.id);
    println!("title:     {}", v.title);
    println!("audience:  {}", v.audience);
    println!("status:    {}", v.status);
    if !v.recipients.is_empty() {
        println!("to:        {}", v.recipients.join(", "));
    }
    let approvals: Vec<String> = v.approvals.iter().map(|a| format!("{} ({})", a.user, a.role)).collect();
    if !approvals.is_empty() {
        println!("approved:  {}", approvals.join(", "));
    }
    if let Some(sent_at) = &v.sent_at {
        println!(
            "sent:      {sent_at} by {} ({})",
            or_dash(&v.sent_by),
            or_dash(&v.channel)
        );
    }
    print_state(v);
    println!();
    println!("{}", v.body);
}

/// One line about a message, then what holds it back and its findings.
fn print_comm(v: &CommunicationOut) {
    println!("{} · {} · {} — {}", v.id, v.audience, v.status, v.title);
    print_state(v);
}

fn print_state(v: &CommunicationOut) {
    if !v.missing_approvals.is_empty() {
        println!("needs approval by: {}", v.missing_approvals.join(", "));
    }
    if !v.blocked_by.is_empty() {
        println!("waits for: {}", v.blocked_by.join(", "));
    }
    if v.findings.is_empty() {
        println!("no findings");
    } else {
        print_table(
            &v.findings,
            &[
                ("SEVERITY", |f| {
                    if f.overridden {
                        format!("{} (overridden)", f.severity)
                    } else {
                        f.severity.clone()
                    }
                }),
                ("RULE", |f| f.rule.clone()),
                ("MESSAGE", |f| f.message.clone()),
            ],
        );
    }
    if !v.blocking_findings.is_empty() && v.status != "sent" {
        println!(
            "held back by error findings: {} (fix the text, or the incident commander overrides with --override-reason)",
            v.blocking_findings.join(", ")
        );
    }
    if let Some(o) = &v.lint_override {
        println!(
            "override by {} at {} ({}): {} — covers {}",
            o.by,
            o.at,
            o.during,
            o.reason,
            o.rules.join(", ")
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
) -> anyhow::Result<CommunicationOut> {
    let cl = client(remote)?;
    let path = format!("{}/communications/{}", base(r), segment(id));
    let body = CommunicationAction { override_reason };
    match cl.post(&format!("{path}/{action}"), &body).await {
        Ok(v) => Ok(v),
        Err(e) => {
            let lint = e
                .downcast_ref::<crate::client::ApiError>()
                .is_some_and(|a| a.code == "lint_errors");
            if lint && let Ok(v) = cl.get::<CommunicationOut>(&path).await {
                let open: Vec<_> = v
                    .findings
                    .iter()
                    .filter(|f| f.severity == "error" && !f.overridden)
                    .collect();
                if !open.is_empty() {
                    eprintln!("error findings (as last saved):");
                    for f in open {
                        eprintln!("  {}: {}", f.rule, f.message);
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

fn print_clock(c: &ClockOut) {
    println!(
        "{} ({}) {} from {} ({})",
        c.handle, c.id, c.regime, c.started_at, c.anchor
    );
    print_table(
        &c.milestones,
        &[
            ("MILESTONE", |m| m.name.clone()),
            ("DUE", |m| m.due.clone()),
            ("STATUS", |m| m.status.clone()),
        ],
    );
}

/// The messages as `comms list` shows them.
const COMMS_COLUMNS: &[Column<CommunicationOut>] = &[
    ("ID", |c| c.id.to_string()),
    ("AUDIENCE", |c| c.audience.clone()),
    ("STATUS", |c| c.status.clone()),
    ("FINDINGS", |c| c.findings.len().to_string()),
    ("TITLE", |c| c.title.clone()),
];

/// The templates as `comms templates` shows them.
const TEMPLATE_COLUMNS: &[Column<TemplateOut>] = &[
    ("NAME", |t| t.name.clone()),
    ("AUDIENCE", |t| t.audience.clone()),
    ("UPDATED BY", |t| t.updated_by.clone()),
    ("TITLE", |t| t.title.clone()),
];

pub async fn run_comms(cmd: CommsCmd) -> anyhow::Result<i32> {
    match cmd {
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
            let b = CreateCommunication {
                audience,
                title,
                body: body_arg(body).await?,
                template,
                recipients,
                third_parties_public: public,
            };
            let v: CommunicationOut = client(&remote)?
                .post(&format!("{}/communications", base(&r#ref)), &b)
                .await?;
            remote.output().pretty().one(&v, print_comm)?;
        }
        CommsCmd::List { r#ref, remote } => {
            let v: Vec<CommunicationOut> = client(&remote)?
                .list(&format!("{}/communications", base(&r#ref)))
                .await?;
            remote.output().pretty().list(&v, COMMS_COLUMNS)?;
        }
        CommsCmd::Show { r#ref, id, remote } => {
            let v: CommunicationOut = client(&remote)?
                .get(&format!("{}/communications/{}", base(&r#ref), segment(&id)))
                .await?;
            remote.output().pretty().one(&v, print_full)?;
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
            let body = match (&title, body) {
                (None, None) => {
                    let current: CommunicationOut = cl.get(&path).await?;
                    anyhow::ensure!(
                        current.status != "sent",
                        "the message was sent and cannot change; draft a new one"
                    );
                    match edit_in_editor(&id, &current.body).await? {
                        Some(edited) => Some(edited),
                        None => {
                            eprintln!("the body is unchanged; nothing saved");
                            return Ok(0);
                        }
                    }
                }
                (_, body) => body_arg(body).await?,
            };
            let b = PatchCommunication {
                title,
                body,
                recipients: None,
                third_parties_public: None,
            };
            let v: CommunicationOut = cl.patch(&path, &b).await?;
            remote.output().pretty().one(&v, print_comm)?;
        }
        CommsCmd::Approve {
            r#ref,
            id,
            override_reason,
            remote,
        } => {
            let v = act(&remote, &r#ref, &id, "approve", override_reason).await?;
            remote.output().pretty().one(&v, print_comm)?;
        }
        CommsCmd::Send {
            r#ref,
            id,
            override_reason,
            remote,
        } => {
            let v = act(&remote, &r#ref, &id, "send", override_reason).await?;
            remote.output().pretty().one(&v, print_comm)?;
        }
        CommsCmd::Templates { remote } => {
            let v: Vec<TemplateOut> = client(&remote)?.list("/api/v1/communications/templates").await?;
            remote.output().list(&v, TEMPLATE_COLUMNS)?;
        }
        CommsCmd::Template {
            name,
            audience,
            title,
            body,
            remote,
        } => {
            let b = PutTemplate {
                audience,
                title,
                body: read_body(body).await?,
            };
            let v: TemplateOut = client(&remote)?
                .put(&format!("/api/v1/communications/templates/{}", segment(&name)), &b)
                .await?;
            remote
                .output()
                .one(&v, |v| println!("template {} ({}) saved", v.name, v.audience))?;
        }
    }
    Ok(0)
}

pub async fn run_clock(cmd: ClockCmd) -> anyhow::Result<i32> {
    match cmd {
        ClockCmd::Start {
            r#ref,
            regime,
            started_at,
            jurisdiction,
            unlawful_purpose,
            remote,
        } => {
            let b = StartClockBody {
                regime,
                started_at: instant("started_at", &started_at)?,
                jurisdiction,
                unlawful_purpose,
            };
            let v: ClockOut = client(&remote)?.post(&format!("{}/clocks", base(&r#ref)), &b).await?;
            remote.output().pretty().one(&v, print_clock)?;
        }
        ClockCmd::List { r#ref, remote } => {
            let v: Vec<ClockOut> = client(&remote)?.list(&format!("{}/clocks", base(&r#ref))).await?;
            remote.output().pretty().one(&v, |v| v.iter().for_each(print_clock))?;
        }
        ClockCmd::Met {
            r#ref,
            clock,
            milestone,
            at,
            remote,
        } => {
            let b = MeetMilestone {
                met_at: at.as_deref().map(|at| instant("met_at", at)).transpose()?,
            };
            let path = format!(
                "{}/clocks/{}/milestones/{}/met",
                base(&r#ref),
                segment(&clock),
                segment(&milestone)
            );
            let v: ClockOut = client(&remote)?.post(&path, &b).await?;
            remote.output().pretty().one(&v, print_clock)?;
        }
    }
    Ok(0)
}

/// The contact log as `contact add` and `contact list` show it.
const CONTACT_COLUMNS: &[Column<ContactLogOut>] = &[
    ("AT", |c| c.at.to_string()),
    ("PARTY", |c| c.party.clone()),
    ("NAME", |c| c.name.clone()),
    ("REFERENCE", |c| or_dash(&c.reference)),
    ("STEP", |c| c.step.to_string()),
];

pub async fn run_contact(cmd: ContactCmd) -> anyhow::Result<i32> {
    match cmd {
        ContactCmd::Add {
            r#ref,
            party,
            name,
            at,
            reference,
            outcome,
            remote,
        } => {
            let b = AddContactLog {
                party,
                name,
                at: instant("at", &at)?,
                reference,
                outcome,
            };
            let v: ContactLogOut = client(&remote)?.post(&format!("{}/contacts", base(&r#ref)), &b).await?;
            remote
                .output()
                .pretty()
                .one(&v, |v| print_table(std::slice::from_ref(v), CONTACT_COLUMNS))?;
        }
        ContactCmd::List { r#ref, remote } => {
            let v: Vec<ContactLogOut> = client(&remote)?.list(&format!("{}/contacts", base(&r#ref))).await?;
            remote.output().pretty().list(&v, CONTACT_COLUMNS)?;
        }
    }
    Ok(0)
}

/// `cordon report REF --format md|html|pdf [-o FILE]`.
pub async fn run_report(r: String, format: String, document: DocumentArgs, remote: Remote) -> anyhow::Result<i32> {
    anyhow::ensure!(
        matches!(format.as_str(), "md" | "html" | "pdf"),
        "--format must be md, html or pdf"
    );
    let pdf = format == "pdf";
    let query = ReportQuery {
        format: Some(format),
        tz: document.tz,
    };
    let path = format!("{}/report", base(&r));
    crate::cli_output::write_document(&remote, &path, &query, pdf, document.output, "report").await?;
    Ok(0)
}
