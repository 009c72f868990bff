//! The command line: `cordon serve` and the client subcommands, grouped by noun.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_core::playbook::Playbook;
use cordon_core::task::TaskStatus;
use serde_json::{Value, json};

use crate::cli_lifecycle::{AuditLogArgs, DecisionCmd, MemberCmd, UpdateArgs};
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
        /// Show times in this IANA time zone, e.g. `Europe/Berlin` (default UTC).
        #[arg(long)]
        tz: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
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
        Command::Session(c) => crate::cli_session::run(c).await,
        Command::Audit(AuditCmd::Verify { remote }) => {
            let v = client(&remote)?.get("/api/v1/audit/verify").await?;
            if remote.json {
                println!("{v}");
            } else if v["ok"] == json!(true) {
                println!("audit chain ok: {} entries", v["entries"]);
            } else {
                println!(
                    "audit chain BROKEN at entry {} ({} entries read)",
                    v["first_bad_entry"], v["entries"]
                );
            }
            Ok(if v["ok"] == json!(true) { 0 } else { 1 })
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
            tz,
            output,
            remote,
        } => crate::cli_comms::run_report(r#ref, format, tz, output, remote).await,
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

pub(crate) fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Prints a JSON list: as it came with `--json`, else the `(header, field)` columns of each
/// item as a table; a field starting with `/` is a JSON pointer into the item (`/task/step`).
pub(crate) fn print_list(remote: &Remote, v: &Value, columns: &[(&str, &str)]) {
    if remote.json {
        println!("{v}");
        return;
    }
    let rows = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            columns
                .iter()
                .map(|(_, field)| match field.strip_prefix('/') {
                    Some(_) => item.pointer(field).map_or_else(|| "-".to_owned(), s),
                    None => s(&item[*field]),
                })
                .collect()
        })
        .collect();
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    table(&headers, rows);
}

/// Prints rows as aligned columns.
pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

pub(crate) fn print_incident(v: &Value) {
    println!("{} ({})", s(&v["codename"]), s(&v["id"]));
    println!("  title:    {}", s(&v["title"]));
    println!(
        "  kind:     {}   severity: {}   status: {}   sealed: {}",
        s(&v["kind"]),
        s(&v["severity"]),
        s(&v["status"]),
        s(&v["sealed"])
    );
    if let Some(room) = v["room"].as_str() {
        println!("  room:     {room}");
    }
    if let Some(members) = v["members"].as_array() {
        let active: Vec<String> = members
            .iter()
            .filter(|m| m["active"] == json!(true))
            .map(|m| format!("{} ({})", s(&m["user"]), s(&m["role"])))
            .collect();
        println!(
            "  team:     {}",
            if active.is_empty() {
                "-".into()
            } else {
                active.join(", ")
            }
        );
    }
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
            let body =
                json!({ "title": title, "kind": kind, "severity": severity, "description": description, "room": room });
            let v = client(&remote)?.post("/api/v1/incidents", &body).await?;
            if quiet {
                println!("{}", s(&v["slug"]))
            } else if remote.json {
                println!("{v}")
            } else {
                print_incident(&v)
            }
        }
        IncidentCmd::List { remote } => {
            let v = client(&remote)?.get("/api/v1/incidents").await?;
            print_list(
                &remote,
                &v,
                &[
                    ("CODENAME", "codename"),
                    ("KIND", "kind"),
                    ("SEVERITY", "severity"),
                    ("STATUS", "status"),
                    ("CREATED", "created_at"),
                    ("TITLE", "title"),
                ],
            );
        }
        IncidentCmd::Show { r#ref, remote } => {
            let v = client(&remote)?
                .get(&format!("/api/v1/incidents/{}", segment(&r#ref)))
                .await?;
            if remote.json {
                println!("{v}")
            } else {
                print_incident(&v)
            }
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

async fn task_cmd(c: TaskCmd) -> anyhow::Result<i32> {
    match c {
        TaskCmd::List { r#ref, remote } => {
            let v = client(&remote)?
                .get(&format!("/api/v1/incidents/{}/tasks", segment(&r#ref)))
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                let rows = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        let blocked: Vec<String> = t["blocked_by"].as_array().into_iter().flatten().map(s).collect();
                        vec![
                            s(&t["handle"]),
                            s(&t["status"]),
                            s(&t["owner_role"]),
                            s(&t["assignee"]),
                            if blocked.is_empty() {
                                "-".into()
                            } else {
                                blocked.join(",")
                            },
                            s(&t["title"]),
                        ]
                    })
                    .collect();
                table(&["TASK", "STATUS", "OWNER", "ASSIGNEE", "BLOCKED BY", "TITLE"], rows);
            }
        }
        TaskCmd::Mine { remote } => {
            let v = client(&remote)?.get("/api/v1/tasks").await?;
            let columns = [
                ("INCIDENT", "/slug"),
                ("TASK", "/task/handle"),
                ("KIND", "/task/kind"),
                ("STATUS", "/task/status"),
                ("TITLE", "/task/title"),
                ("ID", "/task/id"),
            ];
            print_list(&remote, &v, &columns);
        }
        TaskCmd::Set {
            r#ref,
            task,
            status,
            assignee,
            override_reason,
            remote,
        } => {
            let cl = client(&remote)?;
            let base = format!("/api/v1/incidents/{}/tasks", segment(&r#ref));
            let mut body = serde_json::Map::new();
            if let Some(st) = status {
                body.insert("status".into(), json!(st));
            }
            if let Some(a) = assignee {
                body.insert("assignee".into(), if a == "-" { Value::Null } else { json!(a) });
            }
            if let Some(r) = override_reason {
                body.insert("override_reason".into(), json!(r));
            }
            let v = cl
                .patch(&format!("{base}/{}", segment(&task)), &Value::Object(body))
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                let what = if v["kind"] == "follow_up" { "follow-up" } else { "step" };
                println!("{what} {}: {} — {}", s(&v["handle"]), s(&v["status"]), s(&v["title"]));
            }
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
