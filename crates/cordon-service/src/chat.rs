//! The chat command dispatcher shared by the generic endpoint, the Slack-compatible endpoints
//! and the Matrix bot: a parsed command in, the same service calls the API uses, a reply out.
//!
//! Replies never carry more than the caller may see: to someone outside a sealed incident,
//! a war room's incident is only its codename.

use cordon_channels::{Command, parse_chat_line};
use cordon_core::access::{Principal, Standing, can_view};
use cordon_core::incident::{IncidentKind, Severity};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_notify::PageStatus;
use uuid::Uuid;

use crate::paging::{IC_POLICY, PageTarget, PageView};
use crate::{Cordon, Declare, Result, ServiceError};

/// The answer to a chat line.
#[derive(Debug, Clone, Default)]
pub struct ChatReply {
    pub reply: String,
    /// The codename of the room's incident, when there is one.
    pub incident: Option<String>,
    pub page: Option<Uuid>,
}

fn reply(text: impl Into<String>) -> ChatReply {
    ChatReply {
        reply: text.into(),
        ..ChatReply::default()
    }
}

fn page_summary(v: &PageView) -> String {
    let mut reached: Vec<String> = v.notifications.iter().map(|n| n.user_name.clone()).collect();
    reached.sort();
    reached.dedup();
    let mut s = if reached.is_empty() {
        "nobody is on call to reach".to_owned()
    } else {
        format!("paging {} (level {})", reached.join(", "), v.state.level)
    };
    if !v.unreached.is_empty() {
        s.push_str(&format!("; nobody reached through {}", v.unreached.join(", ")));
    }
    s
}

impl Cordon {
    /// Runs one chat line typed by `p` in `room`. Lines that are not commands get `None`.
    pub async fn chat_command(&self, p: &Principal, room: &str, text: &str) -> Result<Option<ChatReply>> {
        let Some(cmd) = parse_chat_line(text) else {
            return Ok(None);
        };
        self.run_command(p, room, cmd).await.map(Some)
    }

    /// Runs a parsed command (the Slack slash command arrives already parsed).
    pub async fn run_command(&self, p: &Principal, room: &str, cmd: Command) -> Result<ChatReply> {
        let room = room.trim();
        if room.is_empty() || room.chars().count() > 255 {
            return Err(ServiceError::invalid("room", "a room name of 1 to 255 characters"));
        }
        let bound = self.store.incident_id_by_room(room).await?;
        let incident = match bound {
            Some(id) => self.store.incident(id).await?,
            None => None,
        };
        let standing = match &incident {
            Some(i) => Standing {
                active_roles: self.store.active_roles(i.id, p.user_id).await?,
            },
            None => Standing::default(),
        };
        let sees = incident.as_ref().is_some_and(|i| can_view(p, i, &standing));
        let codename = incident.as_ref().map(|i| i.codename.to_string());
        let out = match cmd {
            Command::Help | Command::Unknown { .. } => reply(cmd.reply_text().unwrap_or_default()),
            Command::Link { .. } => reply(crate::identity::LINK_FROM_CHAT_ONLY),
            Command::PageCommander => {
                let (incident, declared) = match incident {
                    Some(i) => (i, false),
                    None => {
                        let d = Declare {
                            title: format!("Declared from chat room {room} by {}", p.name),
                            description: Some("Declared with !ic page — not sure? trigger anyway.".into()),
                            kind: IncidentKind::Security,
                            severity: Severity::new(2).expect("SEV-2"),
                            room: Some(room.to_owned()),
                        };
                        (self.declare(p, d).await?.incident, true)
                    }
                };
                let v = self
                    .page_incident(p, &incident, PageTarget::Policy(IC_POLICY.into()))
                    .await?;
                let head = if declared {
                    format!(
                        "Declared {} ({}, sealed); this room is its war room.",
                        incident.codename, incident.severity
                    )
                } else {
                    format!("{}:", incident.codename)
                };
                ChatReply {
                    reply: format!(
                        "{head} Paging the incident commander: {}. Acknowledge with !ack.",
                        page_summary(&v)
                    ),
                    incident: Some(incident.codename.to_string()),
                    page: Some(v.id),
                }
            }
            Command::PageUser { user } => {
                let Some(i) = incident else {
                    return Ok(reply("This room is not bound to an incident; start one with !ic page."));
                };
                let user = user.trim_start_matches('@').to_owned();
                let v = self.page_incident(p, &i, PageTarget::User(user)).await?;
                ChatReply {
                    reply: format!("{}: {}.", i.codename, page_summary(&v)),
                    incident: codename,
                    page: Some(v.id),
                }
            }
            Command::PageResponders => {
                let Some(i) = incident else {
                    return Ok(reply("This room is not bound to an incident; start one with !ic page."));
                };
                let mut paged = Vec::new();
                for s in self.schedules().await? {
                    if let Some(on) = s.on_call_at(self.clock.now())
                        && !paged.contains(&on.user)
                    {
                        self.page_incident(p, &i, PageTarget::User(on.user.clone())).await?;
                        paged.push(on.user);
                    }
                }
                let who = if paged.is_empty() {
                    "nobody is on call".into()
                } else {
                    paged.join(", ")
                };
                ChatReply {
                    reply: format!("{}: paging all responders on call: {who}.", i.codename),
                    incident: codename,
                    page: None,
                }
            }
            Command::WhoIsCommander => {
                let mut lines = Vec::new();
                if let Some(i) = &incident {
                    let ic = self
                        .store
                        .memberships(i.id)
                        .await?
                        .into_iter()
                        .find(|m| m.role == Role::IncidentCommander && m.ended_at.is_none());
                    match (ic, sees) {
                        (Some(m), true) => {
                            lines.push(format!("Incident commander of {}: {}.", i.codename, m.user_name))
                        }
                        (None, true) => lines.push(format!("{} has no incident commander yet.", i.codename)),
                        (_, false) => lines.push(format!("This room belongs to {}.", i.codename)),
                    }
                }
                lines.push(self.ic_on_call_line().await?);
                ChatReply {
                    reply: lines.join(" "),
                    incident: codename,
                    page: None,
                }
            }
            Command::ListResponders => {
                let now = self.clock.now();
                let mut lines = Vec::new();
                if let (Some(i), true) = (&incident, sees) {
                    let team: Vec<String> = self
                        .store
                        .memberships(i.id)
                        .await?
                        .into_iter()
                        .filter(|m| m.ended_at.is_none())
                        .map(|m| format!("{} ({})", m.user_name, m.role.as_str()))
                        .collect();
                    lines.push(format!(
                        "Team of {}: {}.",
                        i.codename,
                        if team.is_empty() { "-".into() } else { team.join(", ") }
                    ));
                }
                let on_call: Vec<String> = self
                    .schedules()
                    .await?
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {}",
                            s.name(),
                            s.on_call_at(now).map(|o| o.user).unwrap_or_else(|| "nobody".into())
                        )
                    })
                    .collect();
                lines.push(format!(
                    "On call — {}.",
                    if on_call.is_empty() {
                        "no schedules".into()
                    } else {
                        on_call.join("; ")
                    }
                ));
                ChatReply {
                    reply: lines.join(" "),
                    incident: codename,
                    page: None,
                }
            }
            Command::WhoIsOnCall { target } => {
                let target = target.trim_start_matches('@');
                let now = self.clock.now();
                if let Some(s) = self.schedules().await?.iter().find(|s| s.name() == target) {
                    let who = s
                        .on_call_at(now)
                        .map(|o| format!("{} until {}", o.user, o.shift_end))
                        .unwrap_or_else(|| "nobody".into());
                    return Ok(reply(format!("On call for {target}: {who}.")));
                }
                if let Ok(role) = target.parse::<Role>() {
                    let Some(i) = incident.filter(|_| sees) else {
                        return Ok(reply(format!("No incident here whose {} you may see.", role.title())));
                    };
                    let holders: Vec<String> = self
                        .store
                        .memberships(i.id)
                        .await?
                        .into_iter()
                        .filter(|m| m.role == role && m.ended_at.is_none())
                        .map(|m| m.user_name)
                        .collect();
                    let who = if holders.is_empty() {
                        "nobody".into()
                    } else {
                        holders.join(", ")
                    };
                    return Ok(reply(format!("{} of {}: {who}.", role.title(), i.codename)));
                }
                match self.store.user_by_name(target).await? {
                    Some(u) => {
                        let kinds: Vec<String> = self.reachable(&u).await?.into_iter().map(|c| c.kind).collect();
                        reply(format!(
                            "{} can be paged with `!ic page {}` ({}).",
                            u.name,
                            u.name,
                            kinds.join(", ")
                        ))
                    }
                    None => reply(format!("No schedule, role or user named `{target}`.")),
                }
            }
            Command::Ack => {
                let mut candidates = Vec::new();
                if let Some(i) = &incident {
                    candidates = self.store.pages_for_incident(i.id).await?;
                }
                let mut acked = None;
                for row in candidates
                    .iter()
                    .rev()
                    .filter(|r| r.status == PageStatus::Triggered.as_str())
                {
                    let notified = self
                        .store
                        .notifications(row.id)
                        .await?
                        .iter()
                        .any(|n| n.user_name == p.name);
                    if notified || sees {
                        acked = Some(self.ack_page(p, &row.id.to_string()).await?);
                        break;
                    }
                }
                match acked {
                    Some(v) => ChatReply {
                        reply: format!(
                            "{} acknowledged the page{}; escalation stopped.",
                            p.name,
                            codename.as_ref().map(|c| format!(" for {c}")).unwrap_or_default()
                        ),
                        incident: codename,
                        page: Some(v.id),
                    },
                    None => reply("No open page here to acknowledge."),
                }
            }
            Command::Status => {
                let Some(i) = incident else {
                    return Ok(reply("This room is not bound to an incident."));
                };
                if !sees {
                    return Ok(reply(format!("This room belongs to {}.", i.codename)));
                }
                let tasks = self.tasks(p, &i.id.to_string()).await?;
                let open = tasks.iter().filter(|t| !t.task.status.is_finished()).count();
                let doing: Vec<String> = tasks
                    .iter()
                    .filter(|t| t.task.status == TaskStatus::InProgress)
                    .map(|t| format!("{}. {}", t.task.step, t.task.title))
                    .collect();
                let gates: Vec<String> = tasks
                    .iter()
                    .filter(|t| !t.blocked_by.is_empty())
                    .map(|t| {
                        format!(
                            "step {} waits for {}",
                            t.task.step,
                            t.blocked_by
                                .iter()
                                .map(|g| g.name.as_str())
                                .collect::<Vec<_>>()
                                .join(" + ")
                        )
                    })
                    .collect();
                let mut pages = Vec::new();
                for row in self.store.pages_for_incident(i.id).await? {
                    let ns = self.store.notifications(row.id).await?;
                    let failed = ns
                        .iter()
                        .filter(|n| n.status == "failed" || n.status == "refused")
                        .count();
                    let pending = ns.iter().filter(|n| n.status == "pending" && n.attempts > 0).count();
                    let mut s = format!("page {}", row.status);
                    if failed > 0 {
                        s.push_str(&format!(", {failed} delivery failed"));
                    }
                    if pending > 0 {
                        s.push_str(&format!(", {pending} retrying"));
                    }
                    pages.push(s);
                }
                let mut text = format!(
                    "{} — {} {}, {} open tasks of {}.",
                    i.codename,
                    i.severity,
                    i.status.as_str(),
                    open,
                    tasks.len()
                );
                if !doing.is_empty() {
                    text.push_str(&format!(" In progress: {}.", doing.join("; ")));
                }
                if !gates.is_empty() {
                    text.push_str(&format!(" Gates: {}.", gates.join("; ")));
                }
                if !pages.is_empty() {
                    text.push_str(&format!(" Pages: {}.", pages.join("; ")));
                }
                ChatReply {
                    reply: text,
                    incident: codename,
                    page: None,
                }
            }
        };
        Ok(out)
    }

    async fn ic_on_call_line(&self) -> Result<String> {
        let now = self.clock.now();
        let Ok(policy) = self.load_policy(IC_POLICY).await else {
            return Ok("No `incident-commander` escalation policy is set up.".into());
        };
        let schedules = self.schedules().await?;
        let mut names = Vec::new();
        if let Some(level) = policy.levels().first() {
            for t in level.targets() {
                match t {
                    cordon_notify::Target::User(u) => names.push(u.clone()),
                    cordon_notify::Target::Schedule(s) => {
                        if let Some(on) = schedules.iter().find(|x| x.name() == s).and_then(|x| x.on_call_at(now)) {
                            names.push(format!("{} ({s})", on.user));
                        }
                    }
                }
            }
        }
        Ok(if names.is_empty() {
            "Nobody is on call as incident commander.".into()
        } else {
            format!(
                "On call as incident commander: {}. Page with !ic page.",
                names.join(", ")
            )
        })
    }
}
