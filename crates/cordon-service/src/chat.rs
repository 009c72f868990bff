//! The chat command dispatcher shared by the generic endpoint, the Slack-compatible endpoints
//! and the Matrix bot: a parsed command in, the same service calls the API uses, a reply out.
//!
//! A room reaches its incident only through the gate ([`Cordon::gate_room`]): to someone who
//! may not see the incidents bound to a room, the room belongs to no incident, and every
//! command behaves exactly as it would in such a room (`!ic page` there declares an incident
//! of the caller's own). A reply has two parts: [`ChatReply::reply`], for the caller alone
//! (an ephemeral Slack reply, a Matrix direct message, the generic endpoint's response), and
//! [`ChatReply::room`], the [`RoomNotice`] the whole room may read — codename, severity,
//! status and a link, nothing else. One small function per command.

use cordon_channels::{Command, RoomNotice, SecureLink, parse_chat_line};
use cordon_core::access::Principal;
use cordon_core::incident::{Incident, IncidentKind, Severity};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_notify::PageStatus;
use uuid::Uuid;

use crate::gate::{Access, See};
use crate::paging::{IC_POLICY, PageRequest, PageView};
use crate::{Cordon, Declare, Result, ServiceError};

/// The answer to a chat line.
#[derive(Debug, Clone, Default)]
pub struct ChatReply {
    /// For the caller alone: it may name people, roles, tasks and gates the caller may see.
    pub reply: String,
    /// For everyone in the room, when the command concerns the room's incident.
    pub room: Option<RoomNotice>,
    /// The codename of the incident the command acted on, when the caller may see it.
    pub incident: Option<String>,
    /// That incident's id (for [`Cordon::room_hears_replies`]).
    pub incident_id: Option<Uuid>,
    pub page: Option<Uuid>,
}

fn reply(text: impl Into<String>) -> ChatReply {
    ChatReply {
        reply: text.into(),
        ..ChatReply::default()
    }
}

/// A chat room's name as given: trimmed, 1 to 255 characters of one line.
fn room_name(raw: &str) -> Result<&str> {
    let room = raw.trim();
    if room.is_empty() || room.chars().count() > 255 {
        return Err(ServiceError::invalid("room", "a room name of 1 to 255 characters"));
    }
    cordon_core::text::check_line("room", room)?;
    Ok(room)
}

const NOT_BOUND: &str = "This room is not bound to an incident; start one with !ic page.";

/// Who a page reached and who it could not, and why: for the caller alone (it names people).
/// A page that reached nobody says so first and tells the caller what to do instead.
fn page_summary(v: &PageView) -> String {
    let s = v.reach_summary();
    if v.reached_nobody() {
        format!("{s}. Call someone directly, or page a person with !ic page <user>")
    } else {
        s
    }
}

impl Cordon {
    /// Runs one chat line typed by `p` in `room`. Lines that are not commands get `None`.
    pub async fn chat_command(&self, p: &Principal, room: &str, text: &str) -> Result<Option<ChatReply>> {
        room_name(room)?;
        let Some(cmd) = parse_chat_line(text) else {
            return Ok(None);
        };
        self.run_command(p, room, cmd).await.map(Some)
    }

    /// Runs a parsed command (the Slack slash command arrives already parsed).
    pub async fn run_command(&self, p: &Principal, room: &str, cmd: Command) -> Result<ChatReply> {
        let room = room_name(room)?;
        let here = self.gate_room(p, room).await?;
        self.dispatch(p, room, here, cmd).await
    }

    /// The dispatcher: runs `cmd` typed by `p` in `room`, whose incident (as `p` sees it) is
    /// `here`. Chat rooms reach it through [`Cordon::run_command`]; the war room in Cordon
    /// (`crate::room`) with the incident it passed the gate for.
    pub(crate) async fn dispatch(
        &self,
        p: &Principal,
        room: &str,
        here: Option<Access<See>>,
        cmd: Command,
    ) -> Result<ChatReply> {
        match cmd {
            Command::Help | Command::Unknown { .. } => Ok(reply(cmd.reply_text().unwrap_or_default())),
            Command::Link { .. } => Ok(reply(crate::identity::LINK_FROM_CHAT_ONLY)),
            Command::PageCommander => self.chat_page_commander(p, room, here).await,
            Command::PageUser { user } => self.chat_page_user(p, room, here, user.trim_start_matches('@')).await,
            Command::PageResponders => self.chat_page_responders(p, room, here).await,
            Command::WhoIsCommander => self.chat_who_commands(here).await,
            Command::ListResponders => self.chat_responders(here).await,
            Command::WhoIsOnCall { target } => self.chat_who_is_on_call(here, target.trim_start_matches('@')).await,
            Command::Ack => self.chat_ack(p, here).await,
            Command::Status => self.chat_status(here).await,
        }
    }

    /// The link to an incident's war room in Cordon.
    fn incident_link(&self, i: &Incident) -> Result<SecureLink> {
        let url = format!("{}/incidents/{}", self.paging.public_url, i.codename.key());
        SecureLink::parse(&url).map_err(|e| ServiceError::invalid("public_url", e.to_string()))
    }

    /// What the whole room may read about `i`.
    pub(crate) fn room_notice(&self, i: &Incident) -> Result<RoomNotice> {
        Ok(RoomNotice {
            codename: i.codename.clone(),
            severity: i.severity,
            status: i.status,
            link: self.incident_link(i)?,
        })
    }

    /// `!ic page`: pages the on-call incident commander about the room's incident — in a room
    /// with none (for this caller), declares a sealed security incident first.
    async fn chat_page_commander(&self, p: &Principal, room: &str, here: Option<Access<See>>) -> Result<ChatReply> {
        let (access, declared) = match here {
            Some(a) => (a, false),
            None => {
                let d = Declare {
                    title: format!("Declared from chat room {room} by {}", p.name),
                    description: Some("Declared with !ic page — not sure? trigger anyway.".into()),
                    kind: IncidentKind::Security,
                    severity: Severity::new(2).expect("SEV-2"),
                    room: Some(room.to_owned()),
                };
                let details = self.declare(p, d).await?;
                (self.gate_id(p, details.incident.id).await?, true)
            }
        };
        let incident = access.incident().clone();
        let head = if declared {
            format!(
                "Declared {} ({}, sealed); this room is its war room.",
                incident.codename, incident.severity
            )
        } else {
            format!("{}:", incident.codename)
        };
        let text = if self.store.policy(IC_POLICY).await?.is_none() {
            tracing::warn!(incident = %incident.codename, "!ic page: no `{IC_POLICY}` escalation policy; nobody was paged");
            format!(
                "{head} Nobody was paged: this deployment has no `{IC_POLICY}` escalation policy. \
                 An admin sets one up with `cordon oncall policy`; meanwhile page a person with !ic page <user>."
            )
        } else {
            let why = format!("!ic page by {} in {room}", p.name);
            let v = self.page_as(access, PageRequest::commander().because(why)).await?;
            return Ok(ChatReply {
                reply: format!(
                    "{head} Paging the incident commander: {}. Acknowledge with !ack.",
                    page_summary(&v)
                ),
                room: Some(self.room_notice(&incident)?),
                incident: Some(incident.codename.to_string()),
                incident_id: Some(incident.id),
                page: Some(v.id),
            });
        };
        Ok(ChatReply {
            reply: text,
            room: Some(self.room_notice(&incident)?),
            incident: Some(incident.codename.to_string()),
            incident_id: Some(incident.id),
            page: None,
        })
    }

    /// `!ic page <user>`: calls one person onto the team (the command staff's call).
    async fn chat_page_user(
        &self,
        p: &Principal,
        room: &str,
        here: Option<Access<See>>,
        user: &str,
    ) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply(NOT_BOUND));
        };
        let (codename, id) = (a.incident().codename.to_string(), a.incident().id);
        let why = format!("!ic page {user} by {} in {room}", p.name);
        let v = self.page_as(a, PageRequest::person(user).because(why)).await?;
        Ok(ChatReply {
            reply: format!("{codename}: {}.", page_summary(&v)),
            incident: Some(codename),
            incident_id: Some(id),
            page: Some(v.id),
            room: None,
        })
    }

    /// `!ic page responders`: calls everyone on call onto the team.
    async fn chat_page_responders(&self, p: &Principal, room: &str, here: Option<Access<See>>) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply(NOT_BOUND));
        };
        let a = self
            .command(
                a,
                "page.trigger",
                "only the incident's command staff may page people onto it",
            )
            .await?;
        let now = self.clock.now();
        let mut paged: Vec<String> = Vec::new();
        let mut outcomes: Vec<String> = Vec::new();
        let why = format!("!ic page responders by {} in {room}", p.name);
        for s in self.schedules().await? {
            if let Some(on) = s.on_call_at(now)
                && !paged.contains(&on.user)
            {
                let v = self
                    .page_responder(&a, PageRequest::person(on.user.clone()).because(why.clone()))
                    .await?;
                outcomes.push(v.reach_summary());
                paged.push(on.user);
            }
        }
        let who = if paged.is_empty() {
            "NOBODY WAS REACHED — nobody is on call".into()
        } else {
            outcomes.join("; ")
        };
        let codename = a.incident().codename.to_string();
        Ok(ChatReply {
            reply: format!("{codename}: paging all responders on call: {who}."),
            incident: Some(codename),
            incident_id: Some(a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic`: who commands the room's incident, and who is on call to.
    async fn chat_who_commands(&self, here: Option<Access<See>>) -> Result<ChatReply> {
        let mut lines = Vec::new();
        let mut codename = None;
        if let Some(a) = &here {
            let i = a.incident();
            match self.commanders_of(i.id).await?.first() {
                Some(name) => lines.push(format!("Incident commander of {}: {name}.", i.codename)),
                None => lines.push(format!("{} has no incident commander yet.", i.codename)),
            }
            codename = Some(i.codename.to_string());
        }
        lines.push(self.ic_on_call_line().await?);
        Ok(ChatReply {
            reply: lines.join(" "),
            incident: codename,
            incident_id: here.as_ref().map(|a| a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic responders`: the room's team, and who is on call on each schedule.
    async fn chat_responders(&self, here: Option<Access<See>>) -> Result<ChatReply> {
        let now = self.clock.now();
        let mut lines = Vec::new();
        let mut codename = None;
        if let Some(a) = &here {
            let i = a.incident();
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
            codename = Some(i.codename.to_string());
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
        Ok(ChatReply {
            reply: lines.join(" "),
            incident: codename,
            incident_id: here.as_ref().map(|a| a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic who <schedule|role|user>`.
    async fn chat_who_is_on_call(&self, here: Option<Access<See>>, target: &str) -> Result<ChatReply> {
        let now = self.clock.now();
        if let Some(s) = self.schedules().await?.iter().find(|s| s.name() == target) {
            let who = s
                .on_call_at(now)
                .map(|o| format!("{} until {}", o.user, o.shift_end))
                .unwrap_or_else(|| "nobody".into());
            return Ok(reply(format!("On call for {target}: {who}.")));
        }
        if let Ok(role) = target.parse::<Role>() {
            let Some(a) = here else {
                return Ok(reply(format!("No incident here whose {} you may see.", role.title())));
            };
            let i = a.incident();
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
            return Ok(ChatReply {
                reply: format!("{} of {}: {who}.", role.title(), i.codename),
                incident: Some(i.codename.to_string()),
                incident_id: Some(i.id),
                ..ChatReply::default()
            });
        }
        Ok(match self.store.user_by_name(target).await? {
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
        })
    }

    /// `!ack`: acknowledges the page that reached the caller (one about the room's incident
    /// first, else the newest), or — for the room incident's command staff — its newest open
    /// page.
    async fn chat_ack(&self, p: &Principal, here: Option<Access<See>>) -> Result<ChatReply> {
        let here_id = here.as_ref().map(|a| a.incident().id);
        let mine = self.open_pages_for(p).await?;
        let chosen = mine
            .iter()
            .find(|r| here_id.is_some() && r.incident_id == here_id)
            .or(mine.first())
            .map(|r| r.id);
        let chosen = match (chosen, &here) {
            (Some(id), _) => Some(id),
            (None, Some(a)) if a.may_command() => self
                .store
                .pages_for_incident(a.incident().id)
                .await?
                .into_iter()
                .rev()
                .find(|r| r.status == PageStatus::Triggered.as_str())
                .map(|r| r.id),
            (None, _) => None,
        };
        let Some(id) = chosen else {
            return Ok(reply("No open page here to acknowledge."));
        };
        let v = self.ack_page(p, &id.to_string()).await?;
        let codename = v.incident.as_ref().map(|(_, c)| c.clone());
        Ok(ChatReply {
            reply: format!(
                "{} acknowledged the page{}; escalation stopped.",
                p.name,
                codename.as_ref().map(|c| format!(" for {c}")).unwrap_or_default()
            ),
            incident: codename,
            incident_id: v.incident.as_ref().and_then(|(id, _)| *id),
            page: Some(v.id),
            room: None,
        })
    }

    /// `!status`: the room's incident — the room reads its codename, severity and status; the
    /// caller also its open tasks, unmet gates and pages.
    async fn chat_status(&self, here: Option<Access<See>>) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply("This room is not bound to an incident."));
        };
        let i = a.incident();
        let tasks = self.views(i, self.store.tasks(i.id).await?).await?;
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
                let names: Vec<&str> = t.blocked_by.iter().map(|g| g.name.as_str()).collect();
                format!("step {} waits for {}", t.task.step, names.join(" + "))
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
        Ok(ChatReply {
            reply: text,
            room: Some(self.room_notice(i)?),
            incident: Some(i.codename.to_string()),
            incident_id: Some(i.id),
            page: None,
        })
    }

    /// Whether a reply about `incident` may go to the whole `room` rather than to its caller
    /// alone: only when the deployment marked the room team-only and every one of its
    /// `members` (chat ids of `kind`, e.g. `matrix_user`; the bot left out by the caller) is a
    /// linked Cordon user who may see the incident. Anything less — an unlinked member, a
    /// member outside the team, an unmarked room — and the room gets only the notice.
    pub async fn room_hears_replies(&self, room: &str, incident: Uuid, kind: &str, members: &[String]) -> Result<bool> {
        if members.is_empty() || !self.store.room_team_only(room).await? {
            return Ok(false);
        }
        for m in members {
            let Some(p) = self.principal_for_chat(kind, m).await? else {
                return Ok(false);
            };
            match self.gate_id(&p, incident).await {
                Ok(_) => {}
                Err(ServiceError::NotFound(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Marks a chat room team-only (or not): admins and the security team. A team-only room
    /// gets replies in full only while Cordon can check that all its members are on the team.
    pub async fn set_room_team_only(&self, p: &Principal, room: &str, team_only: bool) -> Result<()> {
        let room = room_name(room)?;
        let subject = format!("room:{room}");
        if !p.sees_all_incidents() {
            let e = ServiceError::Forbidden("only admins and the security team may mark rooms".into());
            return Err(self.refuse(p, "room.update", subject, e).await);
        }
        let now = self.clock.now();
        let audit = crate::audit::draft(
            now,
            &p.name,
            "room.update",
            subject,
            serde_json::json!({ "team_only": team_only }),
        );
        self.store.set_room_team_only(room, team_only, now, audit).await?;
        Ok(())
    }

    /// Whether a room is marked team-only.
    pub async fn room_team_only(&self, _p: &Principal, room: &str) -> Result<bool> {
        Ok(self.store.room_team_only(room_name(room)?).await?)
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
