//! The incident's lifecycle from the command line: update, resolve and close an incident, hand
//! over command, add, remove and list members, record and list decisions; read the audit log
//! page by page; show a user; list on-call schedules and policies; print shell completions.
//! Each is one call of the same API the web and chat use.

use clap::Subcommand;
use cordon_api::incidents::{
    AddMember, AuditEntryOut, AuditQuery, DecisionOut, IncidentOut, MemberOut, PatchIncident, RecordDecision,
};
use cordon_api::paging::{EscalationPolicySpec, OnCallOut, Target};
use cordon_api::users::UserOut;
use cordon_core::incident::{Severity, Status};
use cordon_core::role::Role;
use serde::Serialize;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, joined_or_dash, or_dash};
use crate::cli_values::named;
use crate::client::{segment, with_query};

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// The incident's team: who holds which role, since when (add --all for past terms).
    List {
        r#ref: String,
        /// Past terms too, with when they ended.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Put a user on the team in a role (command staff). A single-holder role (incident
    /// commander, deputy, scribe) passes from its holder to the user.
    Add {
        r#ref: String,
        user: String,
        #[arg(long, value_parser = named::<Role>(), default_value = "subject_matter_expert")]
        role: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// End a user's term in a role (command staff).
    Remove {
        r#ref: String,
        user: String,
        #[arg(long, value_parser = named::<Role>())]
        role: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum DecisionCmd {
    /// Record a decision the playbook's gates wait for (e.g. `insider_threat_ruled_out`).
    Record {
        r#ref: String,
        /// The decision's name, as the playbook spells it.
        name: String,
        /// Record it as false (default: true).
        #[arg(long)]
        no: bool,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The decisions recorded on an incident.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// `cordon incident update REF`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    pub r#ref: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, value_parser = named::<Severity>())]
    pub severity: Option<String>,
    /// A move the status machine allows: triage → active | not_an_incident; active →
    /// contained | not_an_incident; contained → active | resolved; resolved → active | closed.
    #[arg(long, value_parser = named::<Status>())]
    pub status: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

fn incident_path(r: &str) -> String {
    format!("/api/v1/incidents/{}", segment(r))
}

/// PATCHes the incident and prints it (or the server's JSON).
pub async fn update(args: UpdateArgs) -> anyhow::Result<i32> {
    let body = PatchIncident {
        status: args.status.map(|s| s.parse()).transpose()?,
        severity: args.severity.map(|s| s.parse()).transpose()?,
        title: args.title,
        description: args.description,
    };
    anyhow::ensure!(
        body.status.is_some() || body.severity.is_some() || body.title.is_some() || body.description.is_some(),
        "nothing to change: give --title, --severity, --status or --description"
    );
    set(&args.r#ref, &body, &args.remote).await
}

/// Moves the incident to `status` and prints it.
pub async fn move_to(r: &str, status: Status, remote: &Remote) -> anyhow::Result<i32> {
    let body = PatchIncident {
        status: Some(status),
        severity: None,
        title: None,
        description: None,
    };
    set(r, &body, remote).await
}

async fn set(r: &str, body: &PatchIncident, remote: &Remote) -> anyhow::Result<i32> {
    let v: IncidentOut = client(remote)?.patch(&incident_path(r), body).await?;
    remote.output().one(&v, crate::cli::print_incident)?;
    Ok(0)
}

/// Gives `role` (the incident commander's by default) to `user`; the previous holder's term ends.
pub async fn handover(r: &str, user: &str, role: &str, remote: &Remote) -> anyhow::Result<i32> {
    let cl = client(remote)?;
    let before: IncidentOut = cl.get(&incident_path(r)).await?;
    let body = AddMember {
        user: user.to_owned(),
        role: role.to_owned(),
    };
    let v: IncidentOut = cl.post(&format!("{}/members", incident_path(r)), &body).await?;
    let holders = |inc: &IncidentOut| -> Vec<String> {
        inc.members
            .iter()
            .filter(|m| m.active && m.role == role)
            .map(|m| m.user.clone())
            .collect()
    };
    remote.output().one(&v, |v| {
        let was: Vec<String> = holders(&before).into_iter().filter(|u| u != user).collect();
        let now = holders(v);
        println!(
            "{}: {} is now {}{}",
            v.summary.codename,
            now.join(", "),
            role.replace('_', " "),
            if was.is_empty() {
                String::new()
            } else {
                format!(" (was {})", was.join(", "))
            }
        );
    })?;
    Ok(0)
}

/// The team as `member list` shows it.
const MEMBER_COLUMNS: &[Column<MemberOut>] = &[
    ("USER", |m| m.user.clone()),
    ("ROLE", |m| m.role.clone()),
    ("SINCE", |m| m.started_at.to_string()),
    ("ENDED", |m| or_dash(&m.ended_at)),
];

pub async fn member(c: MemberCmd) -> anyhow::Result<i32> {
    match c {
        MemberCmd::List { r#ref, all, remote } => {
            let mut v: Vec<MemberOut> = client(&remote)?
                .list(&format!("{}/members", incident_path(&r#ref)))
                .await?;
            if !all {
                v.retain(|m| m.active);
            }
            remote.output().list(&v, MEMBER_COLUMNS)?;
        }
        MemberCmd::Add {
            r#ref,
            user,
            role,
            remote,
        } => {
            let body = AddMember {
                user: user.clone(),
                role: role.clone(),
            };
            let v: IncidentOut = client(&remote)?
                .post(&format!("{}/members", incident_path(&r#ref)), &body)
                .await?;
            remote
                .output()
                .one(&v, |v| println!("{}: added {user} as {role}", v.summary.codename))?;
        }
        MemberCmd::Remove {
            r#ref,
            user,
            role,
            remote,
        } => {
            let path = format!(
                "{}/members/{}/{}",
                incident_path(&r#ref),
                segment(&user),
                segment(&role)
            );
            let v: IncidentOut = client(&remote)?.delete(&path).await?;
            remote
                .output()
                .one(&v, |v| println!("{}: {user} is no longer {role}", v.summary.codename))?;
        }
    }
    Ok(0)
}

/// The decisions as `decision list` shows them.
const DECISION_COLUMNS: &[Column<DecisionOut>] = &[
    ("NAME", |d| d.name.clone()),
    ("VALUE", |d| d.value.to_string()),
    ("BY", |d| d.decided_by.clone()),
    ("AT", |d| d.decided_at.to_string()),
    ("NOTE", |d| d.note.clone()),
];

pub async fn decision(c: DecisionCmd) -> anyhow::Result<i32> {
    match c {
        DecisionCmd::Record {
            r#ref,
            name,
            no,
            note,
            remote,
        } => {
            let body = RecordDecision {
                name: name.clone(),
                value: !no,
                note,
            };
            let v: IncidentOut = client(&remote)?
                .post(&format!("{}/decisions", incident_path(&r#ref)), &body)
                .await?;
            remote
                .output()
                .one(&v, |v| println!("{}: recorded {name} = {}", v.summary.codename, !no))?;
        }
        DecisionCmd::List { r#ref, remote } => {
            let v: Vec<DecisionOut> = client(&remote)?
                .list(&format!("{}/decisions", incident_path(&r#ref)))
                .await?;
            remote.output().list(&v, DECISION_COLUMNS)?;
        }
    }
    Ok(0)
}

/// `cordon audit log`.
#[derive(Debug, clap::Args)]
pub struct AuditLogArgs {
    /// Start after this sequence number (the cursor a previous page printed).
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// Entries per page (1–10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Every page to the end instead of one.
    #[arg(long)]
    pub all: bool,
    /// Only this actor (`admin`, `system`, a user name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action or family of actions (`incident` keeps `incident.update` and
    /// `incident.update.refused`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only this subject (`incident:ID`, `user:NAME`).
    #[arg(long, conflicts_with = "incident")]
    pub subject: Option<String>,
    /// Only entries about this incident (id or codename).
    #[arg(long)]
    pub incident: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only entries before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    #[command(flatten)]
    pub remote: Remote,
}

/// The audit log as `audit log` shows it.
const AUDIT_COLUMNS: &[Column<AuditEntryOut>] = &[
    ("SEQ", |e| e.seq.to_string()),
    ("AT", |e| e.at.to_string()),
    ("ACTOR", |e| e.actor.clone()),
    ("ACTION", |e| e.action.clone()),
    ("SUBJECT", |e| e.subject.clone()),
];

/// Reads the audit log one page at a time (or every page with `--all`); the cursor of the next
/// page goes to standard error as the flag that reads it.
pub async fn audit_log(a: AuditLogArgs) -> anyhow::Result<i32> {
    let cl = client(&a.remote)?;
    let subject = match (&a.subject, &a.incident) {
        (Some(subject), _) => Some(subject.clone()),
        (None, Some(r)) => {
            let inc: IncidentOut = cl.get(&incident_path(r)).await?;
            Some(format!("incident:{}", inc.summary.id))
        }
        (None, None) => None,
    };
    let query = AuditQuery {
        after: a.after,
        limit: Some(a.limit),
        actor: a.actor,
        action: a.action,
        subject,
        since: a.since,
        until: a.until,
    };
    let mut path = with_query("/api/v1/audit", &query)?;
    let mut entries: Vec<AuditEntryOut> = Vec::new();
    let next = loop {
        let (page, next) = cl.list_page(&path).await?;
        entries.extend(page);
        match next {
            Some(n) if a.all => path = n,
            other => break other,
        }
    };
    a.remote.output().list(&entries, AUDIT_COLUMNS)?;
    if let Some(after) = next.as_deref().and_then(after_of) {
        eprintln!("more entries follow: add --after {after}");
    }
    Ok(0)
}

/// The `after` cursor of a next-page link.
fn after_of(link: &str) -> Option<&str> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|p| p.strip_prefix("after="))
}

/// `cordon user show NAME`.
pub async fn user_show(name: &str, remote: &Remote) -> anyhow::Result<i32> {
    let v: UserOut = client(remote)?.get(&format!("/api/v1/users/{}", segment(name))).await?;
    remote.output().one(&v, |v| {
        println!("{} ({})", v.name, v.id);
        println!("  email:    {}", v.email);
        println!("  groups:   {}", joined_or_dash(&v.groups, ", "));
        println!(
            "  admin:    {}   pgp key: {}",
            v.admin,
            if v.has_pgp_key { "yes" } else { "no" }
        );
        println!("  created:  {}", v.created_at);
        if v.disabled {
            println!("  disabled: {}", or_dash(&v.disabled_at));
        }
    })?;
    Ok(0)
}

/// What `cordon oncall list` answers: every schedule with who is on call now, and every
/// escalation policy.
#[derive(Debug, Serialize)]
struct OncallListing {
    schedules: Vec<OnCallOut>,
    policies: Vec<EscalationPolicySpec>,
}

/// A policy's levels in one cell: `1: schedule ic-primary after PT5M; 2: user carol after PT10M`.
fn levels(p: &EscalationPolicySpec) -> String {
    let level = |(i, l): (usize, &cordon_api::paging::LevelSpec)| {
        let targets: Vec<String> = l
            .targets
            .iter()
            .map(|t| match t {
                Target::Schedule(s) => format!("schedule {s}"),
                Target::User(u) => format!("user {u}"),
            })
            .collect();
        format!("{}: {} after {}", i + 1, targets.join(" + "), l.after)
    };
    p.levels.iter().enumerate().map(level).collect::<Vec<_>>().join("; ")
}

/// `cordon oncall list`: every schedule with who is on call now, and every escalation policy.
pub async fn oncall_list(remote: &Remote) -> anyhow::Result<i32> {
    let cl = client(remote)?;
    let listing = OncallListing {
        schedules: cl.list("/api/v1/oncall/schedules").await?,
        policies: cl.list("/api/v1/oncall/escalation-policies").await?,
    };
    remote.output().one(&listing, |l| {
        crate::cli_output::print_table(
            &l.schedules,
            &[
                ("SCHEDULE", |o| o.schedule.clone()),
                ("ON CALL NOW", |o| or_dash(&o.user)),
            ],
        );
        println!();
        crate::cli_output::print_table(
            &l.policies,
            &[
                ("POLICY", |p| p.name.clone()),
                ("REPEAT", |p| p.repeat.to_string()),
                ("LEVELS", levels),
            ],
        );
    })?;
    Ok(0)
}

/// `cordon completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = crate::cli_help::command();
    clap_complete::generate(shell, &mut cmd, "cordon", &mut std::io::stdout());
    0
}
