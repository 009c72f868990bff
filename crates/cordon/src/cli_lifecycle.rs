//! The incident's lifecycle from the command line: update, resolve and close an incident, hand
//! over command, add, remove and list members, record and list decisions; read the audit log
//! page by page; show a user; list on-call schedules and policies; print shell completions.
//! Each is one call of the same API the web and chat use.

use clap::Subcommand;
use cordon_core::incident::{Severity, Status};
use cordon_core::role::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{Remote, client, print_list, s, table};
use crate::cli_values::named;
use crate::client::segment;

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
    let mut body = serde_json::Map::new();
    for (field, value) in [
        ("title", args.title),
        ("severity", args.severity),
        ("status", args.status),
        ("description", args.description),
    ] {
        if let Some(v) = value {
            body.insert(field.into(), json!(v));
        }
    }
    anyhow::ensure!(
        !body.is_empty(),
        "nothing to change: give --title, --severity, --status or --description"
    );
    set(&args.r#ref, Value::Object(body), &args.remote).await
}

/// Moves the incident to `status` and prints it.
pub async fn move_to(r: &str, status: Status, remote: &Remote) -> anyhow::Result<i32> {
    set(r, json!({ "status": status.as_str() }), remote).await
}

async fn set(r: &str, body: Value, remote: &Remote) -> anyhow::Result<i32> {
    let v = client(remote)?.patch(&incident_path(r), &body).await?;
    if remote.json {
        println!("{v}");
    } else {
        crate::cli::print_incident(&v);
    }
    Ok(0)
}

/// Gives `role` (the incident commander's by default) to `user`; the previous holder's term ends.
pub async fn handover(r: &str, user: &str, role: &str, remote: &Remote) -> anyhow::Result<i32> {
    let cl = client(remote)?;
    let before = cl.get(&incident_path(r)).await?;
    let v = cl
        .post(
            &format!("{}/members", incident_path(r)),
            &json!({ "user": user, "role": role }),
        )
        .await?;
    if remote.json {
        println!("{v}");
        return Ok(0);
    }
    let holders = |inc: &Value| -> Vec<String> {
        inc["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["active"] == json!(true) && m["role"] == json!(role))
            .map(|m| s(&m["user"]))
            .collect()
    };
    let was: Vec<String> = holders(&before).into_iter().filter(|u| u != user).collect();
    let now = holders(&v);
    println!(
        "{}: {} is now {}{}",
        s(&v["codename"]),
        now.join(", "),
        role.replace('_', " "),
        if was.is_empty() {
            String::new()
        } else {
            format!(" (was {})", was.join(", "))
        }
    );
    Ok(0)
}

pub async fn member(c: MemberCmd) -> anyhow::Result<i32> {
    match c {
        MemberCmd::List { r#ref, all, remote } => {
            let v = client(&remote)?
                .get(&format!("{}/members", incident_path(&r#ref)))
                .await?;
            let v = if all {
                v
            } else {
                Value::Array(
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .filter(|m| m["active"] == json!(true))
                        .cloned()
                        .collect(),
                )
            };
            print_list(
                &remote,
                &v,
                &[
                    ("USER", "user"),
                    ("ROLE", "role"),
                    ("SINCE", "started_at"),
                    ("ENDED", "ended_at"),
                ],
            );
        }
        MemberCmd::Add {
            r#ref,
            user,
            role,
            remote,
        } => {
            let v = client(&remote)?
                .post(
                    &format!("{}/members", incident_path(&r#ref)),
                    &json!({ "user": user, "role": role }),
                )
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("{}: added {user} as {role}", s(&v["codename"]));
            }
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
            let v = client(&remote)?.call(Method::DELETE, &path, None).await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("{}: {user} is no longer {role}", s(&v["codename"]));
            }
        }
    }
    Ok(0)
}

pub async fn decision(c: DecisionCmd) -> anyhow::Result<i32> {
    match c {
        DecisionCmd::Record {
            r#ref,
            name,
            no,
            note,
            remote,
        } => {
            let v = client(&remote)?
                .post(
                    &format!("{}/decisions", incident_path(&r#ref)),
                    &json!({ "name": name, "value": !no, "note": note }),
                )
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("{}: recorded {name} = {}", s(&v["codename"]), !no);
            }
        }
        DecisionCmd::List { r#ref, remote } => {
            let v = client(&remote)?
                .get(&format!("{}/decisions", incident_path(&r#ref)))
                .await?;
            print_list(
                &remote,
                &v,
                &[
                    ("NAME", "name"),
                    ("VALUE", "value"),
                    ("BY", "decided_by"),
                    ("AT", "decided_at"),
                    ("NOTE", "note"),
                ],
            );
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

/// Reads the audit log one page at a time (or every page with `--all`); the cursor of the next
/// page goes to standard error as the flag that reads it.
pub async fn audit_log(a: AuditLogArgs) -> anyhow::Result<i32> {
    let cl = client(&a.remote)?;
    let subject = match (&a.subject, &a.incident) {
        (Some(subject), _) => Some(subject.clone()),
        (None, Some(r)) => {
            let inc = cl.get(&incident_path(r)).await?;
            Some(format!("incident:{}", s(&inc["id"])))
        }
        (None, None) => None,
    };
    let mut query = vec![("after", a.after.to_string()), ("limit", a.limit.to_string())];
    for (name, value) in [
        ("actor", &a.actor),
        ("action", &a.action),
        ("subject", &subject),
        ("since", &a.since),
        ("until", &a.until),
    ] {
        if let Some(v) = value {
            query.push((name, v.clone()));
        }
    }
    let mut path = format!("/api/v1/audit?{}", query_string(&query));
    let mut entries = Vec::new();
    let next = loop {
        let (page, next) = cl.get_page(&path).await?;
        entries.extend(page.as_array().cloned().unwrap_or_default());
        match next {
            Some(n) if a.all => path = n,
            other => break other,
        }
    };
    let v = Value::Array(entries);
    if a.remote.json {
        println!("{v}");
    } else {
        let rows = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                vec![
                    s(&e["seq"]),
                    s(&e["at"]),
                    s(&e["actor"]),
                    s(&e["action"]),
                    s(&e["subject"]),
                ]
            })
            .collect();
        table(&["SEQ", "AT", "ACTOR", "ACTION", "SUBJECT"], rows);
    }
    if let Some(after) = next.as_deref().and_then(after_of) {
        eprintln!("more entries follow: add --after {after}");
    }
    Ok(0)
}

/// `a=1&b=x%20y` for the pairs.
fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", segment(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `after` cursor of a next-page link.
fn after_of(link: &str) -> Option<&str> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|p| p.strip_prefix("after="))
}

/// `cordon user show NAME`.
pub async fn user_show(name: &str, remote: &Remote) -> anyhow::Result<i32> {
    let v = client(remote)?.get(&format!("/api/v1/users/{}", segment(name))).await?;
    if remote.json {
        println!("{v}");
        return Ok(0);
    }
    let groups: Vec<String> = v["groups"].as_array().into_iter().flatten().map(s).collect();
    println!("{} ({})", s(&v["name"]), s(&v["id"]));
    println!("  email:    {}", s(&v["email"]));
    println!(
        "  groups:   {}",
        if groups.is_empty() {
            "-".into()
        } else {
            groups.join(", ")
        }
    );
    println!(
        "  admin:    {}   pgp key: {}",
        s(&v["admin"]),
        if v["has_pgp_key"] == json!(true) { "yes" } else { "no" }
    );
    println!("  created:  {}", s(&v["created_at"]));
    if v["disabled"] == json!(true) {
        println!("  disabled: {}", s(&v["disabled_at"]));
    }
    Ok(0)
}

/// `cordon oncall list`: every schedule with who is on call now, and every escalation policy.
pub async fn oncall_list(remote: &Remote) -> anyhow::Result<i32> {
    let cl = client(remote)?;
    let schedules = cl.get("/api/v1/oncall/schedules").await?;
    let policies = cl.get("/api/v1/oncall/escalation-policies").await?;
    if remote.json {
        println!("{}", json!({ "schedules": schedules, "policies": policies }));
        return Ok(0);
    }
    let rows = schedules
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| vec![s(&o["schedule"]), s(&o["user"])])
        .collect();
    table(&["SCHEDULE", "ON CALL NOW"], rows);
    println!();
    let rows = policies
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let levels: Vec<String> = p["levels"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, l)| {
                    let targets: Vec<String> = l["targets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_object)
                        .flat_map(|t| t.iter().map(|(k, v)| format!("{k} {}", s(v))))
                        .collect();
                    format!("{}: {} after {}", i + 1, targets.join(" + "), s(&l["after"]))
                })
                .collect();
            vec![s(&p["name"]), s(&p["repeat"]), levels.join("; ")]
        })
        .collect();
    table(&["POLICY", "REPEAT", "LEVELS"], rows);
    Ok(0)
}

/// `cordon completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = crate::cli_help::command();
    clap_complete::generate(shell, &mut cmd, "cordon", &mut std::io::stdout());
    0
}
