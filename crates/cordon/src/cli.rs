//! The command line: `cordon serve` and the client subcommands, grouped by noun.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cordon_api::incidents::{
    AuditVerifyOut, DeclareIncident, HeldTaskOut, IncidentOut, IncidentSummary, PatchTask, TaskKind, TaskOut,
};
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_core::playbook::Playbook;
use cordon_core::task::TaskStatus;

use crate::cli_lifecycle::{AuditLogArgs, DecisionCmd, MemberCmd, UpdateArgs};
use crate::cli_output::{Column, DocumentArgs, joined_or_dash, or_dash};
use crate::cli_values::named;
use crate::client::{Client, segment};
use crate::clock::SystemClock;
use crate::config::{self, FlagOverrides};
use crate::serve::{self, AdminBootstrap};

#[derive(Debug, Parser)]
#[command(name = "cordon", version, about = "Self-hosted security incident response")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Declare, list, show, update, resolve and close incidents; their team and decisions.
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// The incident's checklist.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Users, tokens and chat accounts.
    #[command(subcommand)]
    User(crate::cli_user::UserCmd),
    /// How people sign in: turn OIDC sign-in off (and on) for every node at once.
    #[command(subcommand)]
    Auth(crate::cli_auth::AuthCmd),
    /// Browser sessions: list and revoke.
    #[command(subcommand)]
    Session(crate::cli_session::SessionCmd),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Playbook files.
    #[command(subcommand)]
    Playbook(PlaybookCmd),
    /// Pages: trigger, list, show, acknowledge, resolve.
    #[command(subcommand)]
    Page(crate::cli_page::PageCmd),
    /// On-call schedules and escalation policies.
    #[command(subcommand)]
    Oncall(crate::cli_page::OncallCmd),
    /// The attack timeline: ingest logs, query, export.
    #[command(subcommand)]
    Timeline(crate::cli_timeline::TimelineCmd),
    /// The evidence locker.
    #[command(subcommand)]
    Evidence(crate::cli_evidence::EvidenceCmd),
    /// Communications: draft, lint, approve, send.
    #[command(subcommand)]
    Comms(crate::cli_comms::CommsCmd),
    /// Regulatory clocks.
    #[command(subcommand)]
    Clock(crate::cli_comms::ClockCmd),
    /// The contact log of outside parties (law enforcement, insurer, operators, …).
    #[command(subcommand)]
    Contact(crate::cli_comms::ContactCmd),
    /// Chat commands from the command line, and how rooms hear about incidents.
    #[command(subcommand)]
    Chat(crate::cli_chat::ChatCmd),
    /// The war-room conversation in Cordon: say something (or a chat command), read the log.
    #[command(subcommand)]
    Room(crate::cli_chat::RoomCmd),
    /// The incident report as Markdown, HTML or PDF.
    Report {
        r#ref: String,
        #[arg(long, default_value = "md", value_parser = ["md", "html", "pdf"])]
        format: String,
        #[command(flatten)]
        document: DocumentArgs,
        #[command(flatten)]
        remote: Remote,
    },
    /// Assets: suspected, compromised, isolated, imaged, rebuilt, clean; and the risk view.
    #[command(subcommand)]
    Asset(crate::cli_registers::AssetCmd),
    /// Systems credentials grant access to, with their owners.
    #[command(subcommand)]
    System(crate::cli_registers::SystemCmd),
    /// Credentials: where stored, what they grant, rotation.
    #[command(subcommand)]
    Credential(crate::cli_registers::CredentialCmd),
    /// Exposed data and affected customers.
    #[command(subcommand)]
    Exposure(crate::cli_registers::ExposureCmd),
    /// Indicators of compromise and blocklist exports.
    #[command(subcommand)]
    Ioc(crate::cli_registers::IocCmd),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML config file (default: ./cordon.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where the embedded database, evidence and indexes live [env: CORDON_DATA_DIR].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to serve HTTP on; port 0 picks a free port [env: CORDON_LISTEN].
    #[arg(long)]
    pub listen: Option<String>,
    /// `sqlite://…` or `postgres://…` [env: CORDON_DATABASE_URL].
    #[arg(long)]
    pub database_url: Option<String>,
    /// The URL people open [env: CORDON_PUBLIC_URL].
    #[arg(long)]
    pub public_url: Option<String>,
}

/// How client subcommands reach the server.
#[derive(Debug, Args, Clone)]
pub struct Remote {
    /// Server URL.
    #[arg(long, env = "CORDON_URL", default_value = "http://127.0.0.1:8077", global = true)]
    pub url: String,
    /// API token.
    #[arg(
        long,
        env = "CORDON_TOKEN",
        hide_env_values = true,
        default_value = "",
        global = true
    )]
    pub token: String,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Declare an incident. Not sure it is one? Declare anyway.
    Declare {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "security", value_parser = named::<IncidentKind>())]
        kind: String,
        #[arg(long, default_value = "SEV-2", value_parser = named::<Severity>())]
        severity: String,
        #[arg(long)]
        description: Option<String>,
        /// Chat room to bind as the war room.
        #[arg(long)]
        room: Option<String>,
        /// Print only the incident's handle (`sapphire-unicorn`), for scripts:
        /// `INCIDENT=$(cordon incident declare … --quiet)`.
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incidents you may see.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// One incident, by id or codename.
    Show {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Change the title, severity, status or description (command staff).
    Update(UpdateArgs),
    /// Mark the incident resolved (from contained).
    Resolve {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Close the incident (from resolved), or close a false alarm with --not-an-incident (from
    /// triage or active; the incident commander's call).
    Close {
        r#ref: String,
        /// It was a false alarm: close as `not_an_incident`.
        #[arg(long)]
        not_an_incident: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Hand over command: USER becomes the incident commander (or the --role given), and the
    /// previous holder's term ends.
    Handover {
        r#ref: String,
        user: String,
        #[arg(long, value_parser = named::<cordon_core::role::Role>(), default_value = "incident_commander")]
        role: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The response team: list, add, remove.
    #[command(subcommand)]
    Member(MemberCmd),
    /// Decisions the playbook's gates wait for: record, list.
    #[command(subcommand)]
    Decision(DecisionCmd),
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// The checklist of an incident.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The tasks assigned to you, on every incident (also those of incidents whose team you
    /// are not on: you see and work your own tasks there, nothing else).
    Mine {
        #[command(flatten)]
        remote: Remote,
    },
    /// Change a task: a checklist step by its number, a follow-up task by its handle.
    Set {
        r#ref: String,
        /// The step number (1–14 on the security checklist), `STEP.N` for a follow-up task
        /// (as `task list` shows it), a unique id prefix (4+ hex digits) or the id.
        task: String,
        #[arg(long, value_parser = named::<TaskStatus>())]
        status: Option<String>,
        /// User name; `-` unassigns.
        #[arg(long)]
        assignee: Option<String>,
        /// Incident commander only: move past an unmet gate, for this reason.
        #[arg(long)]
        override_reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Re-walk the hash chain; exits 1 when it is broken.
    Verify {
        #[command(flatten)]
        remote: Remote,
    },
    /// Read the log (admins), a page at a time, oldest first; filters narrow it.
    Log(AuditLogArgs),
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCmd {
    /// Validate playbook files (default: the built-in ones) and warn about stale review dates.
    Check {
        files: Vec<PathBuf>,
        /// Exit 1 on warnings too.
        #[arg(long)]
        strict: bool,
    },
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(a) => serve_cmd(a).await,
        Command::Incident(c) => incident_cmd(c).await,
        Command::Task(c) => task_cmd(c).await,
        Command::User(c) => crate::cli_user::user_cmd(c).await,
        Command::Auth(c) => crate::cli_auth::auth_cmd(c).await,
        Command::Session(c) => crate::cli_session::run(c).await,
        Command::Audit(AuditCmd::Verify { remote }) => {
            let v: AuditVerifyOut = client(&remote)?.get("/api/v1/audit/verify").await?;
            remote.output().one(&v, |v| {
                if v.ok {
                    println!("audit chain ok: {} entries", v.entries);
                } else {
                    println!(
                        "audit chain BROKEN at entry {} ({} entries read)",
                        v.first_bad_entry.map_or_else(|| "null".to_owned(), |n| n.to_string()),
                        v.entries
                    );
                }
            })?;
            Ok(if v.ok { 0 } else { 1 })
        }
        Command::Audit(AuditCmd::Log(a)) => crate::cli_lifecycle::audit_log(a).await,
        Command::Completions { shell } => Ok(crate::cli_lifecycle::completions(shell)),
        Command::Playbook(PlaybookCmd::Check { files, strict }) => playbook_check(files, strict),
        Command::Timeline(c) => crate::cli_timeline::run(c).await,
        Command::Page(c) => crate::cli_page::run(c).await,
        Command::Oncall(c) => crate::cli_page::run_oncall(c).await,
        Command::Evidence(c) => crate::cli_evidence::run(c).await,
        Command::Comms(c) => crate::cli_comms::run_comms(c).await,
        Command::Chat(c) => crate::cli_chat::chat_cmd(c).await,
        Command::Room(c) => crate::cli_chat::room_cmd(c).await,
        Command::Clock(c) => crate::cli_comms::run_clock(c).await,
        Command::Contact(c) => crate::cli_comms::run_contact(c).await,
        Command::Report {
            r#ref,
            format,
            document,
            remote,
        } => crate::cli_comms::run_report(r#ref, format, document, remote).await,
        Command::Asset(c) => crate::cli_registers::run_asset(c).await.map(|()| 0),
        Command::System(c) => crate::cli_registers::run_system(c).await.map(|()| 0),
        Command::Credential(c) => crate::cli_registers::run_credential(c).await.map(|()| 0),
        Command::Exposure(c) => crate::cli_registers::run_exposure(c).await.map(|()| 0),
        Command::Ioc(c) => crate::cli_registers::run_ioc(c).await.map(|()| 0),
    }
}

async fn serve_cmd(a: ServeArgs) -> anyhow::Result<i32> {
    let flags = FlagOverrides {
        data_dir: a.data_dir,
        listen: a.listen,
        database_url: a.database_url,
        public_url: a.public_url,
    };
    let config = config::load(a.config.as_deref(), std::env::vars(), &flags)?;
    tracing::debug!(?config, "configuration loaded");
    let running = serve::start(&config, Arc::new(SystemClock)).await?;
    match &running.admin {
        AdminBootstrap::Generated(path) => {
            println!("admin token written to {} (user `admin`)", path.display());
        }
        AdminBootstrap::FromConfig => {
            println!("admin user `admin` created with the token from CORDON_ADMIN_TOKEN")
        }
        AdminBootstrap::Existing => {}
    }
    println!("listening on http://{}", running.addr);
    tracing::info!(addr = %running.addr, public_url = %config.public_url_or(&running.addr.to_string()), "serving");
    let mut running = running;
    tokio::select! {
        r = shutdown_signal() => r?,
        r = running.finished() => {
            r?;
            anyhow::bail!("the server stopped unexpectedly");
        }
    }
    // Stopping is bounded (`http_shutdown_grace`); a second signal does not wait for it.
    tokio::select! {
        r = running.stop() => r?,
        r = shutdown_signal() => {
            r?;
            eprintln!("second signal: stopping without waiting for requests in flight");
            return Ok(1);
        }
    }
    Ok(0)
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

pub(crate) fn client(remote: &Remote) -> anyhow::Result<Client> {
    Client::new(&remote.url, &remote.token)
}

/// One incident and its team, as `incident show` prints it.
pub(crate) fn print_incident(v: &IncidentOut) {
    let i = &v.summary;
    println!("{} ({})", i.codename, i.id);
    println!("  title:    {}", i.title);
    println!(
        "  kind:     {}   severity: {}   status: {}   sealed: {}",
        i.kind, i.severity, i.status, i.sealed
    );
    if let Some(room) = &i.room {
        println!("  room:     {room}");
    }
    let active: Vec<String> = v
        .members
        .iter()
        .filter(|m| m.active)
        .map(|m| format!("{} ({})", m.user, m.role))
        .collect();
    println!("  team:     {}", joined_or_dash(&active, ", "));
}

async fn incident_cmd(c: IncidentCmd) -> anyhow::Result<i32> {
    match c {
        IncidentCmd::Declare {
            title,
            kind,
            severity,
            description,
            room,
            quiet,
            remote,
        } => {
            let body = DeclareIncident {
                title,
                description,
                kind: kind.parse()?,
                severity: severity.parse()?,
                room,
            };
            let v: IncidentOut = client(&remote)?.post("/api/v1/incidents", &body).await?;
            if quiet {
                println!("{}", v.summary.slug)
            } else {
                remote.output().one(&v, print_incident)?
            }
        }
        IncidentCmd::List { remote } => {
            let v: Vec<IncidentSummary> = client(&remote)?.list("/api/v1/incidents").await?;
            remote.output().list(
                &v,
                &[
                    ("CODENAME", |i| i.codename.clone()),
                    ("KIND", |i| i.kind.clone()),
                    ("SEVERITY", |i| i.severity.clone()),
                    ("STATUS", |i| i.status.clone()),
                    ("CREATED", |i| i.created_at.to_string()),
                    ("TITLE", |i| i.title.clone()),
                ],
            )?;
        }
        IncidentCmd::Show { r#ref, remote } => {
            let v: IncidentOut = client(&remote)?
                .get(&format!("/api/v1/incidents/{}", segment(&r#ref)))
                .await?;
            remote.output().one(&v, print_incident)?
        }
        IncidentCmd::Update(args) => return crate::cli_lifecycle::update(args).await,
        IncidentCmd::Resolve { r#ref, remote } => {
            return crate::cli_lifecycle::move_to(&r#ref, Status::Resolved, &remote).await;
        }
        IncidentCmd::Close {
            r#ref,
            not_an_incident,
            remote,
        } => {
            let to = if not_an_incident {
                Status::NotAnIncident
            } else {
                Status::Closed
            };
            return crate::cli_lifecycle::move_to(&r#ref, to, &remote).await;
        }
        IncidentCmd::Handover {
            r#ref,
            user,
            role,
            remote,
        } => return crate::cli_lifecycle::handover(&r#ref, &user, &role, &remote).await,
        IncidentCmd::Member(c) => return crate::cli_lifecycle::member(c).await,
        IncidentCmd::Decision(c) => return crate::cli_lifecycle::decision(c).await,
    }
    Ok(0)
}

/// The checklist as `task list` shows it.
const TASK_COLUMNS: &[Column<TaskOut>] = &[
    ("TASK", |t| t.handle.clone()),
    ("STATUS", |t| t.status.clone()),
    ("OWNER", |t| or_dash(&t.owner_role)),
    ("ASSIGNEE", |t| or_dash(&t.assignee)),
    ("BLOCKED BY", |t| joined_or_dash(&t.blocked_by, ",")),
    ("TITLE", |t| t.title.clone()),
];

/// The tasks a caller holds, on every incident.
const HELD_TASK_COLUMNS: &[Column<HeldTaskOut>] = &[
    ("INCIDENT", |h| h.slug.clone()),
    ("TASK", |h| h.task.handle.clone()),
    ("KIND", |h| h.task.kind.as_str().to_owned()),
    ("STATUS", |h| h.task.status.clone()),
    ("TITLE", |h| h.task.title.clone()),
    ("ID", |h| h.task.id.to_string()),
];

async fn task_cmd(c: TaskCmd) -> anyhow::Result<i32> {
    match c {
        TaskCmd::List { r#ref, remote } => {
            let v: Vec<TaskOut> = client(&remote)?
                .list(&format!("/api/v1/incidents/{}/tasks", segment(&r#ref)))
                .await?;
            remote.output().list(&v, TASK_COLUMNS)?;
        }
        TaskCmd::Mine { remote } => {
            let v: Vec<HeldTaskOut> = client(&remote)?.list("/api/v1/tasks").await?;
            remote.output().list(&v, HELD_TASK_COLUMNS)?;
        }
        TaskCmd::Set {
            r#ref,
            task,
            status,
            assignee,
            override_reason,
            remote,
        } => {
            let body = PatchTask {
                status: status.map(|s| s.parse()).transpose()?,
                assignee: assignee.map(|a| (a != "-").then_some(a)),
                override_reason,
            };
            let path = format!("/api/v1/incidents/{}/tasks/{}", segment(&r#ref), segment(&task));
            let v: TaskOut = client(&remote)?.patch(&path, &body).await?;
            remote.output().one(&v, |v| {
                let what = match v.kind {
                    TaskKind::FollowUp => "follow-up",
                    TaskKind::Checklist => "step",
                };
                println!("{what} {}: {} — {}", v.handle, v.status, v.title);
            })?;
        }
    }
    Ok(0)
}

fn playbook_check(files: Vec<PathBuf>, strict: bool) -> anyhow::Result<i32> {
    let sources: Vec<(String, String)> = if files.is_empty() {
        vec![
            (
                "built-in security".into(),
                cordon_service::playbooks::BUILTIN_SECURITY.to_owned(),
            ),
            (
                "built-in operational".into(),
                cordon_service::playbooks::BUILTIN_OPERATIONAL.to_owned(),
            ),
        ]
    } else {
        files
            .iter()
            .map(|f| {
                Ok((
                    f.display().to_string(),
                    std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
                ))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let today = crate::clock::today();
    let mut invalid = false;
    let mut warnings = 0;
    for (name, text) in sources {
        match Playbook::parse(&text) {
            Err(e) => {
                invalid = true;
                eprintln!("error: {name}: {e}");
            }
            Ok(p) => {
                let w = p.review_warnings(today);
                for line in &w {
                    eprintln!("warning: {line}");
                }
                warnings += w.len();
                println!(
                    "{name}: ok ({} steps, reviewed {}, tested {})",
                    p.steps.len(),
                    p.last_reviewed.map(|d| d.to_string()).unwrap_or("-".into()),
                    p.last_tested.map(|d| d.to_string()).unwrap_or("-".into())
                );
            }
        }
    }
    Ok(if invalid {
        2
    } else if strict && warnings > 0 {
        1
    } else {
        0
    })
}
