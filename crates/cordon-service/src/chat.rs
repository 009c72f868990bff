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
//!
//! Replies are in the language of whoever typed the command ([`Cordon::reply_lang`]): their
//! setting, else the language the front end hints (the war room in a browser: the browser's),
//! else English. Every sentence is a catalogue message under `chat.` (`cordon-i18n`); command
//! words and names stay as typed. English names roles, statuses and gates by the ids the
//! commands and the API take (`reporter`, `triage`); Japanese by their names ([`word`]). A
//! refused command answers with a sentence per kind of refusal ([`refusal`]):
//! [`Cordon::answer_command`] (Slack, Matrix) and the war room reply with it, the generic
//! endpoint keeps its HTTP problem.

use cordon_channels::{Command, RoomNotice, SecureLink, parse_chat_line};
use cordon_core::access::Principal;
use cordon_core::incident::{Incident, IncidentKind, Severity};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_i18n::Lang;
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

/// What a reply names from a closed list (a role, a status, a gate, a channel) or a playbook
/// (a step's title): in English `english`, the word the commands and the API use (or the step's
/// title as the playbook writes it); in another language the catalogue's name under `key`,
/// else `english`.
pub(crate) fn word<'a>(lang: Lang, key: &str, english: &'a str) -> &'a str {
    match lang {
        Lang::En => english,
        _ => lang.lookup(key).unwrap_or(english),
    }
}

/// What a command refused (or failed) with `e` answers, in `lang`: a sentence per kind of
/// refusal; an internal error only as such (its cause goes to the log).
pub(crate) fn refusal(cmd: &Command, e: &ServiceError, lang: Lang) -> String {
    match e {
        ServiceError::Forbidden(_) | ServiceError::ForbiddenRole(_) => lang
            .t(match cmd {
                Command::PageCommander => "chat.refused.page_team",
                Command::PageUser { .. } | Command::PageResponders => "chat.refused.page_staff",
                Command::Ack => "chat.refused.ack",
                _ => "chat.refused.forbidden",
            })
            .to_owned(),
        ServiceError::Invalid { field, message } => match cmd {
            Command::PageUser { user } if message.starts_with("no user named") => {
                lang.tf("chat.refused.no_such_user", &[("user", user.trim_start_matches('@'))])
            }
            _ => lang.tf("chat.refused.invalid", &[("field", field), ("detail", message)]),
        },
        ServiceError::Conflict(_) if matches!(cmd, Command::Ack) => lang.t("chat.refused.page_resolved").to_owned(),
        ServiceError::NotFound(_) => lang.t("chat.refused.not_found").to_owned(),
        ServiceError::Internal(_) | ServiceError::Evidence(_) | ServiceError::Report(_) => {
            tracing::error!(error = ?e, command = %cmd, "a chat command failed");
            lang.t("chat.refused.failed").to_owned()
        }
        other => lang.tf("chat.refused.other", &[("detail", &other.to_string())]),
    }
}

/// Who a page reached and who it could not, and why: for the caller alone (it names people).
/// A page that reached nobody says so first and tells the caller what to do instead.
fn page_summary(v: &PageView, lang: Lang) -> String {
    let s = v.reach_summary_in(lang);
    if v.reached_nobody() {
        lang.tf("chat.page.reached_nobody", &[("summary", &s)])
    } else {
        s
    }
}

impl Cordon {
    /// The language of Cordon's replies to `p`: their setting, else `hint` (what the front end
    /// knows: the browser's language for the war room in a browser; Slack and Matrix give
    /// none), else English.
    pub async fn reply_lang(&self, p: &Principal, hint: Option<Lang>) -> Result<Lang> {
        let setting = self.settings(p).await?.locale;
        Ok(setting.as_deref().and_then(Lang::from_tag).or(hint).unwrap_or_default())
    }

    /// Runs one chat line typed by `p` in `room`. Lines that are not commands get `None`.
    /// `hint`: see [`Cordon::reply_lang`].
    pub async fn chat_command(
        &self,
        p: &Principal,
        room: &str,
        text: &str,
        hint: Option<Lang>,
    ) -> Result<Option<ChatReply>> {
        room_name(room)?;
        let Some(cmd) = parse_chat_line(text) else {
            return Ok(None);
        };
        self.run_command(p, room, cmd, hint).await.map(Some)
    }

    /// Runs a parsed command (the Slack slash command arrives already parsed). A refusal is
    /// the error; [`Cordon::answer_command`] answers it instead.
    pub async fn run_command(&self, p: &Principal, room: &str, cmd: Command, hint: Option<Lang>) -> Result<ChatReply> {
        let lang = self.reply_lang(p, hint).await?;
        self.run_in(p, room, cmd, lang).await
    }

    /// Runs a parsed command and always answers: a refusal or a failure is the reply, in the
    /// caller's language (chat rooms tell the caller what went wrong).
    pub async fn answer_command(&self, p: &Principal, room: &str, cmd: Command, hint: Option<Lang>) -> ChatReply {
        let shown = cmd.clone();
        let lang = match self.reply_lang(p, hint).await {
            Ok(lang) => lang,
            Err(e) => return reply(refusal(&shown, &e, hint.unwrap_or_default())),
        };
        self.run_in(p, room, cmd, lang)
            .await
            .unwrap_or_else(|e| reply(refusal(&shown, &e, lang)))
    }

    async fn run_in(&self, p: &Principal, room: &str, cmd: Command, lang: Lang) -> Result<ChatReply> {
        let room = room_name(room)?;
        let here = self.gate_room(p, room).await?;
        self.dispatch(p, room, here, cmd, lang).await
    }

    /// The dispatcher: runs `cmd` typed by `p` in `room`, whose incident (as `p` sees it) is
    /// `here`, and answers in `lang`. Chat rooms reach it through [`Cordon::run_command`]; the
    /// war room in Cordon (`crate::room`) with the incident it passed the gate for.
    pub(crate) async fn dispatch(
        &self,
        p: &Principal,
        room: &str,
        here: Option<Access<See>>,
        cmd: Command,
        lang: Lang,
    ) -> Result<ChatReply> {
        match cmd {
            Command::Help | Command::Unknown { .. } => Ok(reply(cmd.reply_in(lang).unwrap_or_default())),
            Command::Link { .. } => Ok(reply(lang.t("chat.link_from_chat_only"))),
            Command::PageCommander => self.chat_page_commander(p, room, here, lang).await,
            Command::PageUser { user } => {
                self.chat_page_user(p, room, here, user.trim_start_matches('@'), lang)
                    .await
            }
            Command::PageResponders => self.chat_page_responders(p, room, here, lang).await,
            Command::WhoIsCommander => self.chat_who_commands(here, lang).await,
            Command::ListResponders => self.chat_responders(here, lang).await,
            Command::WhoIsOnCall { target } => {
                self.chat_who_is_on_call(here, target.trim_start_matches('@'), lang)
                    .await
            }
            Command::Ack => self.chat_ack(p, here, lang).await,
            Command::Status => self.chat_status(here, lang).await,
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
    async fn chat_page_commander(
        &self,
        p: &Principal,
        room: &str,
        here: Option<Access<See>>,
        lang: Lang,
    ) -> Result<ChatReply> {
        let (access, declared) = match here {
            Some(a) => (a, false),
            None => {
                let d = Declare {
                    title: lang.tf("chat.declared_title", &[("room", room), ("user", &p.name)]),
                    description: Some(lang.t("chat.declared_description").to_owned()),
                    kind: IncidentKind::Security,
                    severity: Severity::new(2).expect("SEV-2"),
                    room: Some(room.to_owned()),
                };
                let details = self.declare(p, d).await?;
                (self.gate_id(p, details.incident.id).await?, true)
            }
        };
        let incident = access.incident().clone();
        let codename = incident.codename.to_string();
        let head = if declared {
            lang.tf(
                "chat.page.declared",
                &[("codename", &codename), ("severity", &incident.severity.to_string())],
            )
        } else {
            lang.tf("chat.page.head", &[("codename", &codename)])
        };
        let text = if self.store.policy(IC_POLICY).await?.is_none() {
            tracing::warn!(incident = %incident.codename, "!ic page: no `{IC_POLICY}` escalation policy; nobody was paged");
            lang.tf("chat.page.no_policy", &[("head", &head), ("policy", IC_POLICY)])
        } else {
            let why = format!("!ic page by {} in {room}", p.name);
            let v = self.page_as(access, PageRequest::commander().because(why)).await?;
            return Ok(ChatReply {
                reply: lang.tf(
                    "chat.page.commander",
                    &[("head", &head), ("summary", &page_summary(&v, lang))],
                ),
                room: Some(self.room_notice(&incident)?),
                incident: Some(codename),
                incident_id: Some(incident.id),
                page: Some(v.id),
            });
        };
        Ok(ChatReply {
            reply: text,
            room: Some(self.room_notice(&incident)?),
            incident: Some(codename),
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
        lang: Lang,
    ) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply(lang.t("chat.not_bound")));
        };
        let (codename, id) = (a.incident().codename.to_string(), a.incident().id);
        let why = format!("!ic page {user} by {} in {room}", p.name);
        let v = self.page_as(a, PageRequest::person(user).because(why)).await?;
        Ok(ChatReply {
            reply: lang.tf(
                "chat.page.person",
                &[("codename", &codename), ("summary", &page_summary(&v, lang))],
            ),
            incident: Some(codename),
            incident_id: Some(id),
            page: Some(v.id),
            room: None,
        })
    }

    /// `!ic page responders`: calls everyone on call onto the team.
    async fn chat_page_responders(
        &self,
        p: &Principal,
        room: &str,
        here: Option<Access<See>>,
        lang: Lang,
    ) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply(lang.t("chat.not_bound")));
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
                outcomes.push(v.reach_summary_in(lang));
                paged.push(on.user);
            }
        }
        let who = if paged.is_empty() {
            lang.t("chat.page.nobody_on_call").to_owned()
        } else {
            outcomes.join(lang.t("chat.list"))
        };
        let codename = a.incident().codename.to_string();
        Ok(ChatReply {
            reply: lang.tf("chat.page.responders", &[("codename", &codename), ("who", &who)]),
            incident: Some(codename),
            incident_id: Some(a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic`: who commands the room's incident, and who is on call to.
    async fn chat_who_commands(&self, here: Option<Access<See>>, lang: Lang) -> Result<ChatReply> {
        let mut lines = Vec::new();
        let mut codename = None;
        if let Some(a) = &here {
            let i = a.incident();
            let c = i.codename.to_string();
            match self.commanders_of(i.id).await?.first() {
                Some(name) => lines.push(lang.tf("chat.commander.is", &[("codename", &c), ("name", name)])),
                None => lines.push(lang.tf("chat.commander.none", &[("codename", &c)])),
            }
            codename = Some(c);
        }
        lines.push(self.ic_on_call_line(lang).await?);
        Ok(ChatReply {
            reply: lines.join(lang.t("chat.gap")),
            incident: codename,
            incident_id: here.as_ref().map(|a| a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic responders`: the room's team, and who is on call on each schedule.
    async fn chat_responders(&self, here: Option<Access<See>>, lang: Lang) -> Result<ChatReply> {
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
                .map(|m| {
                    let id = m.role.as_str();
                    let role = word(lang, &format!("role.{id}"), id);
                    lang.tf("chat.responders.member", &[("user", &m.user_name), ("role", role)])
                })
                .collect();
            let team = if team.is_empty() {
                lang.t("chat.responders.no_team").to_owned()
            } else {
                team.join(lang.t("chat.names"))
            };
            let c = i.codename.to_string();
            lines.push(lang.tf("chat.responders.team", &[("codename", &c), ("team", &team)]));
            codename = Some(c);
        }
        let on_call: Vec<String> = self
            .schedules()
            .await?
            .iter()
            .map(|s| {
                let user = s.on_call_at(now).map(|o| o.user);
                lang.tf(
                    "chat.responders.schedule",
                    &[
                        ("schedule", s.name()),
                        ("user", user.as_deref().unwrap_or(lang.t("chat.nobody"))),
                    ],
                )
            })
            .collect();
        let schedules = if on_call.is_empty() {
            lang.t("chat.responders.no_schedules").to_owned()
        } else {
            on_call.join(lang.t("chat.list"))
        };
        lines.push(lang.tf("chat.responders.on_call", &[("schedules", &schedules)]));
        Ok(ChatReply {
            reply: lines.join(lang.t("chat.gap")),
            incident: codename,
            incident_id: here.as_ref().map(|a| a.incident().id),
            ..ChatReply::default()
        })
    }

    /// `!ic who <schedule|role|user>`.
    async fn chat_who_is_on_call(&self, here: Option<Access<See>>, target: &str, lang: Lang) -> Result<ChatReply> {
        let now = self.clock.now();
        if let Some(s) = self.schedules().await?.iter().find(|s| s.name() == target) {
            let who = s
                .on_call_at(now)
                .map(|o| {
                    lang.tf(
                        "chat.who.until",
                        &[("user", &o.user), ("until", &o.shift_end.to_string())],
                    )
                })
                .unwrap_or_else(|| lang.t("chat.nobody").to_owned());
            return Ok(reply(
                lang.tf("chat.who.schedule", &[("schedule", target), ("who", &who)]),
            ));
        }
        if let Ok(role) = target.parse::<Role>() {
            let title = word(lang, &format!("role.{}", role.as_str()), role.title());
            let Some(a) = here else {
                return Ok(reply(lang.tf("chat.who.no_incident", &[("role", title)])));
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
                lang.t("chat.nobody").to_owned()
            } else {
                holders.join(lang.t("chat.names"))
            };
            let codename = i.codename.to_string();
            return Ok(ChatReply {
                reply: lang.tf(
                    "chat.who.role",
                    &[("role", title), ("codename", &codename), ("who", &who)],
                ),
                incident: Some(codename),
                incident_id: Some(i.id),
                ..ChatReply::default()
            });
        }
        Ok(match self.store.user_by_name(target).await? {
            Some(u) => {
                let kinds: Vec<String> = self
                    .reachable(&u)
                    .await?
                    .into_iter()
                    .map(|c| word(lang, &format!("activity.channel.{}", c.kind), &c.kind).to_owned())
                    .collect();
                reply(lang.tf(
                    "chat.who.user",
                    &[("user", &u.name), ("channels", &kinds.join(lang.t("chat.names")))],
                ))
            }
            None => reply(lang.tf("chat.who.unknown", &[("target", target)])),
        })
    }

    /// `!ack`: acknowledges the page that reached the caller (one about the room's incident
    /// first, else the newest), or — for the room incident's command staff — its newest open
    /// page.
    async fn chat_ack(&self, p: &Principal, here: Option<Access<See>>, lang: Lang) -> Result<ChatReply> {
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
            return Ok(reply(lang.t("chat.ack.none")));
        };
        let v = self.ack_page(p, &id.to_string()).await?;
        let codename = v.incident.as_ref().map(|(_, c)| c.clone());
        let text = match &codename {
            Some(c) => lang.tf("chat.ack.done_for", &[("user", &p.name), ("codename", c)]),
            None => lang.tf("chat.ack.done", &[("user", &p.name)]),
        };
        Ok(ChatReply {
            reply: text,
            incident: codename,
            incident_id: v.incident.as_ref().and_then(|(id, _)| *id),
            page: Some(v.id),
            room: None,
        })
    }

    /// `!status`: the room's incident — the room reads its codename, severity and status; the
    /// caller also its open tasks, unmet gates and pages.
    async fn chat_status(&self, here: Option<Access<See>>, lang: Lang) -> Result<ChatReply> {
        let Some(a) = here else {
            return Ok(reply(lang.t("chat.status.not_bound")));
        };
        let i = a.incident();
        let list = lang.t("chat.list");
        let tasks = self.views(i, self.store.tasks(i.id).await?).await?;
        let open = tasks.iter().filter(|t| !t.task.status.is_finished()).count();
        let doing: Vec<String> = tasks
            .iter()
            .filter(|t| t.task.status == TaskStatus::InProgress)
            .map(|t| {
                let key = format!("playbook.{}.{}.title", i.playbook, t.task.key);
                lang.tf(
                    "chat.status.step",
                    &[
                        ("step", &t.task.step.to_string()),
                        ("title", word(lang, &key, &t.task.title)),
                    ],
                )
            })
            .collect();
        let gates: Vec<String> = tasks
            .iter()
            .filter(|t| !t.blocked_by.is_empty())
            .map(|t| {
                let names: Vec<&str> = t
                    .blocked_by
                    .iter()
                    .map(|g| word(lang, &format!("gate.{}.name", g.name), &g.name))
                    .collect();
                lang.tf(
                    "chat.status.waits",
                    &[
                        ("step", &t.task.step.to_string()),
                        ("gates", &names.join(lang.t("chat.status.gate_and"))),
                    ],
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
            let status = lang
                .lookup(&format!("chat.page_status.{}", row.status))
                .unwrap_or(&row.status);
            let mut s = lang.tf("chat.status.page", &[("status", status)]);
            if failed > 0 {
                s.push_str(&lang.tf("chat.status.failed", &[("n", &failed.to_string())]));
            }
            if pending > 0 {
                s.push_str(&lang.tf("chat.status.retrying", &[("n", &pending.to_string())]));
            }
            pages.push(s);
        }
        let status = i.status.as_str();
        let mut sentences = vec![lang.tf(
            "chat.status.summary",
            &[
                ("codename", &i.codename.to_string()),
                ("severity", &i.severity.to_string()),
                ("status", word(lang, &format!("status.{status}"), status)),
                ("open", &open.to_string()),
                ("total", &tasks.len().to_string()),
            ],
        )];
        if !doing.is_empty() {
            sentences.push(lang.tf("chat.status.in_progress", &[("steps", &doing.join(list))]));
        }
        if !gates.is_empty() {
            sentences.push(lang.tf("chat.status.gates", &[("gates", &gates.join(list))]));
        }
        if !pages.is_empty() {
            sentences.push(lang.tf("chat.status.pages", &[("pages", &pages.join(list))]));
        }
        Ok(ChatReply {
            reply: sentences.join(lang.t("chat.gap")),
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

    async fn ic_on_call_line(&self, lang: Lang) -> Result<String> {
        let now = self.clock.now();
        let Ok(policy) = self.load_policy(IC_POLICY).await else {
            return Ok(lang.tf("chat.commander.no_policy", &[("policy", IC_POLICY)]));
        };
        let schedules = self.schedules().await?;
        let mut names = Vec::new();
        if let Some(level) = policy.levels().first() {
            for t in level.targets() {
                match t {
                    cordon_notify::Target::User(u) => names.push(u.clone()),
                    cordon_notify::Target::Schedule(s) => {
                        if let Some(on) = schedules.iter().find(|x| x.name() == s).and_then(|x| x.on_call_at(now)) {
                            names.push(lang.tf("chat.commander.via", &[("user", &on.user), ("schedule", s)]));
                        }
                    }
                }
            }
        }
        Ok(if names.is_empty() {
            lang.t("chat.commander.nobody_on_call").to_owned()
        } else {
            lang.tf(
                "chat.commander.on_call",
                &[("names", &names.join(lang.t("chat.names")))],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cordon_core::clock::ManualClock;
    use cordon_store::SqliteStore;
    use tempfile::TempDir;

    use super::*;
    use crate::{NewUser, Playbooks, TaskPatch};

    /// A deployment with an admin, kenji (who set Japanese), bob (no setting) and carol, and
    /// an incident bound to the chat room `#war-1` whose team has kenji and bob (neither on the
    /// command staff).
    struct World {
        cordon: Cordon,
        admin: Principal,
        kenji: Principal,
        bob: Principal,
        key: String,
        codename: String,
        _dir: TempDir,
    }

    async fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("cordon.db")).await.unwrap();
        let clock = Arc::new(ManualClock::new("2026-11-27T12:00:00Z".parse().unwrap()));
        let cordon = Cordon::new(Arc::new(store), clock, Playbooks::builtin());
        let token = "cordon_service_test_token_0123456789".to_owned();
        cordon.bootstrap_admin(Some(token.clone())).await.unwrap();
        let admin = cordon.authenticate(&token).await.unwrap();
        let mut people = Vec::new();
        for (name, locale) in [("kenji", Some("ja")), ("bob", None), ("carol", None)] {
            let new = NewUser {
                name: name.into(),
                email: format!("{name}@corp.example"),
                pgp_key: None,
                groups: Vec::new(),
                admin: false,
            };
            cordon.create_user(&admin, new).await.unwrap();
            let t = cordon.issue_token(&admin, name, None, None).await.unwrap();
            let p = cordon.authenticate(&t.token).await.unwrap();
            if locale.is_some() {
                cordon.update_settings(&p, locale, None).await.unwrap();
            }
            people.push(p);
        }
        let declared = cordon
            .declare(
                &admin,
                Declare {
                    title: "Payroll export copied to an unknown host".into(),
                    description: None,
                    kind: IncidentKind::Security,
                    severity: Severity::new(2).unwrap(),
                    room: Some("#war-1".into()),
                },
            )
            .await
            .unwrap();
        let key = declared.incident.codename.key();
        cordon.add_member(&admin, &key, "kenji", Role::Scribe).await.unwrap();
        cordon
            .add_member(&admin, &key, "bob", Role::SubjectMatterExpert)
            .await
            .unwrap();
        let mut people = people.into_iter();
        World {
            kenji: people.next().unwrap(),
            bob: people.next().unwrap(),
            cordon,
            admin,
            key,
            codename: declared.incident.codename.to_string(),
            _dir: dir,
        }
    }

    impl World {
        /// Cordon's answer to `line` typed by `p` in the incident's war room.
        async fn in_war_room(&self, p: &Principal, line: &str, hint: Option<Lang>) -> String {
            let posted = self.cordon.post_message(p, &self.key, line, hint).await.unwrap();
            posted.reply.expect("a command gets a reply").body
        }

        /// Cordon's answer to `line` typed by `p` in the chat room `room` (Slack, Matrix).
        async fn in_chat(&self, p: &Principal, room: &str, line: &str) -> String {
            let cmd = parse_chat_line(line).expect("a command");
            self.cordon.answer_command(p, room, cmd, None).await.reply
        }
    }

    /// Runs of four or more ASCII letters in `text` once command words, names and quoted code
    /// (`` `cordon oncall policy` ``) are taken out: English words.
    fn english_words(text: &str, names: &[&str]) -> Vec<String> {
        let mut text = text.to_owned();
        while let Some(start) = text.find('`') {
            let end = text[start + 1..].find('`').map_or(text.len(), |e| start + e + 2);
            text.replace_range(start..end, " ");
        }
        let commands = [
            "!ic page responders",
            "!ic responders",
            "!ic page",
            "!ic who",
            "!ic link",
            "!ic",
            "!ack",
            "!status",
            "!help",
            "Cordon",
        ];
        for n in names.iter().chain(&commands) {
            text = text.replace(n, " ");
        }
        let mut words: Vec<String> = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 4)
            .map(str::to_owned)
            .collect();
        words.dedup();
        words
    }

    #[tokio::test]
    async fn status_help_and_unknown_commands_answer_in_the_readers_language() {
        let w = world().await;
        let patch = TaskPatch {
            status: Some(TaskStatus::InProgress),
            assignee: None,
            override_reason: None,
        };
        w.cordon.update_task(&w.admin, &w.key, "1", patch).await.unwrap();
        let names = [w.codename.as_str(), "SEV"];

        // kenji set Japanese: the war room and a chat room answer him in Japanese.
        for status in [
            w.in_war_room(&w.kenji, "!status", None).await,
            w.in_chat(&w.kenji, "#war-1", "!status").await,
        ] {
            assert!(status.starts_with(&format!("{} — SEV-2・", w.codename)), "{status}");
            assert!(status.contains("未完了のタスクは 14 件中 14 件です。"), "{status}");
            assert!(status.contains("対応中：ステップ1「"), "{status}");
            assert!(status.contains("ゲート待ち：ステップ"), "{status}");
            assert_eq!(english_words(&status, &names), Vec::<String>::new(), "{status}");
        }
        let help = w.in_war_room(&w.kenji, "!ic help", None).await;
        assert_eq!(help, Lang::Ja.t("chat.help"));
        assert!(help.starts_with("コマンド一覧"), "{help}");
        let unknown = w.in_war_room(&w.kenji, "!ic dance", None).await;
        assert!(
            unknown.starts_with("`!ic dance` というコマンドはありません。\nコマンド一覧"),
            "{unknown}"
        );
        let who = w.in_war_room(&w.kenji, "!ic", None).await;
        assert!(who.contains("にはまだインシデントコマンダーがいません。"), "{who}");
        assert_eq!(english_words(&who, &names), Vec::<String>::new(), "{who}");

        // bob set nothing: English, as Slack, Matrix and the API have always answered.
        for status in [
            w.in_war_room(&w.bob, "!status", None).await,
            w.in_chat(&w.bob, "#war-1", "!status").await,
        ] {
            assert!(
                status.starts_with(&format!(
                    "{} — SEV-2 triage, 14 open tasks of 14. In progress: 1. ",
                    w.codename
                )),
                "{status}"
            );
            assert!(status.contains(" Gates: step "), "{status}");
        }
        let help = w.in_war_room(&w.bob, "!ic help", None).await;
        assert!(help.starts_with("Commands:\n  !ic "), "{help}");
        let unknown = w.in_war_room(&w.bob, "!ic dance", None).await;
        assert!(
            unknown.starts_with("`!ic dance` is not a command.\nCommands:"),
            "{unknown}"
        );
        let who = w.in_war_room(&w.bob, "!ic", None).await;
        assert!(who.contains("has no incident commander yet."), "{who}");
    }

    #[tokio::test]
    async fn paging_with_no_policy_and_then_nobody_reachable_says_so_in_the_readers_language() {
        let w = world().await;
        let names = [w.codename.as_str(), "bob", "CORDON_SMTP_URL"];
        // No `incident-commander` policy: nobody was paged, and what to do.
        let ja = w.in_war_room(&w.kenji, "!ic page", None).await;
        assert!(
            ja.starts_with(&format!("{}：誰も呼び出していません。", w.codename)),
            "{ja}"
        );
        assert!(
            ja.contains("`incident-commander`") && ja.contains("!ic page <ユーザー>"),
            "{ja}"
        );
        assert_eq!(english_words(&ja, &names), Vec::<String>::new(), "{ja}");
        let en = w.in_war_room(&w.bob, "!ic page", None).await;
        assert_eq!(
            en,
            format!(
                "{}: Nobody was paged: this deployment has no `incident-commander` escalation policy. \
                 An admin sets one up with `cordon oncall policy`; meanwhile page a person with !ic page <user>.",
                w.codename
            )
        );
        // In a room with no incident, `!ic page` declares one first.
        let ja = w.in_chat(&w.kenji, "#kenji-room", "!ic page").await;
        assert!(
            ja.starts_with("インシデント ") && ja.contains("、機密指定）を宣言しました。"),
            "{ja}"
        );
        let en = w.in_chat(&w.bob, "#bob-room", "!ic page").await;
        assert!(
            en.starts_with("Declared ") && en.contains(", sealed); this room is its war room."),
            "{en}"
        );
        // Its stock title and description are in the declarer's words too.
        let listed = w
            .cordon
            .list_incidents(&w.admin, cordon_store::IncidentQuery::default(), 10, None)
            .await
            .unwrap();
        let of_room = |room: &str| {
            listed
                .iter()
                .find(|l| l.incident.room.as_deref() == Some(room))
                .map(|l| l.incident.clone())
                .unwrap()
        };
        let (kenjis, bobs) = (of_room("#kenji-room"), of_room("#bob-room"));
        assert_eq!(kenjis.title, "チャットルーム #kenji-room で kenji が宣言");
        assert!(
            kenjis.description.starts_with("!ic page で宣言されました。"),
            "{}",
            kenjis.description
        );
        assert_eq!(bobs.title, "Declared from chat room #bob-room by bob");

        // A policy that pages bob, whom no channel can reach (no mail here): the summary says
        // so first, in each reader's words.
        let spec = serde_json::from_value(serde_json::json!({
            "name": IC_POLICY,
            "repeat": 0,
            "levels": [{ "targets": [{ "user": "bob" }], "after": "PT5M" }],
        }))
        .unwrap();
        w.cordon.put_policy(&w.admin, spec).await.unwrap();
        let ja = w.in_war_room(&w.kenji, "!ic page", None).await;
        assert!(
            ja.contains(
                "インシデントコマンダーを呼び出しています：誰にも届いていません — bob に届きませんでした（第1段階）：\
                 メールは送信失敗（メールが設定されていません（CORDON_SMTP_URL））。直接連絡するか、"
            ),
            "{ja}"
        );
        assert_eq!(english_words(&ja, &names), Vec::<String>::new(), "{ja}");
        let en = w.in_war_room(&w.bob, "!ic page", None).await;
        assert!(
            en.contains(
                ": Paging the incident commander: NOBODY WAS REACHED — could not reach bob (level 1): \
                 mail failed: mail is not configured (CORDON_SMTP_URL). Call someone directly"
            ),
            "{en}"
        );
        // `!status` lists the pages, in words.
        let ja = w.in_war_room(&w.kenji, "!status", None).await;
        assert!(ja.contains("呼び出し：応答待ち・配信失敗 1 件"), "{ja}");
        let en = w.in_war_room(&w.bob, "!status", None).await;
        assert!(en.contains("Pages: page triggered, 1 delivery failed"), "{en}");
    }

    #[tokio::test]
    async fn a_refusal_answers_in_the_readers_language() {
        let w = world().await;
        // Calling people onto the team is the command staff's; kenji and bob are not.
        for (p, lang) in [(&w.kenji, Lang::Ja), (&w.bob, Lang::En)] {
            let refused = lang.t("chat.refused.page_staff");
            assert_eq!(w.in_war_room(p, "!ic page responders", None).await, refused);
            assert_eq!(w.in_war_room(p, "!ic page carol", None).await, refused);
            assert_eq!(w.in_chat(p, "#war-1", "!ic page carol").await, refused);
            // The API's endpoint keeps its problem (403).
            let cmd = parse_chat_line("!ic page carol").unwrap();
            let e = w.cordon.run_command(p, "#war-1", cmd, None).await.unwrap_err();
            assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
        }
        assert_eq!(
            Lang::Ja.t("chat.refused.page_staff"),
            "対応チームに人を呼び出せるのは、指揮官・副指揮官・セキュリティ責任者、セキュリティチーム、管理者のみです。"
        );
        assert_eq!(
            Lang::En.t("chat.refused.page_staff"),
            "Only the incident's command staff may page people onto it."
        );
        // The command staff may, but not someone who does not exist.
        let ja = w.in_war_room(&w.admin, "!ic page @ghost", Some(Lang::Ja)).await;
        assert_eq!(ja, "`ghost` というユーザーはいません。");
        let en = w.in_war_room(&w.admin, "!ic page @ghost", None).await;
        assert_eq!(en, "There is no user named `ghost`.");
    }

    #[tokio::test]
    async fn the_setting_comes_before_the_browser_and_english_comes_last() {
        let w = world().await;
        let ja = Lang::Ja.t("chat.help");
        let en = Lang::En.t("chat.help");
        assert_eq!(w.in_war_room(&w.kenji, "!help", Some(Lang::En)).await, ja);
        assert_eq!(w.in_war_room(&w.bob, "!help", Some(Lang::Ja)).await, ja);
        assert_eq!(w.in_war_room(&w.bob, "!help", Some(Lang::En)).await, en);
        assert_eq!(w.in_war_room(&w.bob, "!help", None).await, en);
        w.cordon.update_settings(&w.bob, Some("en"), None).await.unwrap();
        assert_eq!(w.in_war_room(&w.bob, "!help", Some(Lang::Ja)).await, en);
        // The stored reply is what every reader of the conversation reads (newest first).
        let list = w.cordon.messages(&w.admin, &w.key, None, 100).await.unwrap();
        let replies: Vec<&str> = list
            .iter()
            .filter(|m| m.author.is_none())
            .map(|m| m.body.as_str())
            .collect();
        assert_eq!(replies, [en, en, en, ja, ja]);
    }

    /// Every `chat.` key the chat code names, and the names it looks up by id, are in the
    /// catalogues (the catalogue test in cordon-i18n checks English and Japanese agree).
    #[test]
    fn every_chat_key_named_is_in_the_catalogues() {
        let re = regex::Regex::new(r#""(chat\.[a-z0-9_.]+)""#).unwrap();
        let here = env!("CARGO_MANIFEST_DIR");
        let mut missing = Vec::new();
        let mut named = 0;
        for file in [
            "src/chat.rs",
            "src/room.rs",
            "src/paging/reach.rs",
            "../cordon-channels/src/command.rs",
        ] {
            let text = std::fs::read_to_string(format!("{here}/{file}")).unwrap();
            for c in re.captures_iter(&text) {
                named += 1;
                if Lang::En.lookup(&c[1]).is_none() {
                    missing.push(format!("{file}: {}", &c[1]));
                }
            }
        }
        assert!(named > 50, "{named}");
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Role::ALL.iter().map(|r| format!("role.{}", r.as_str())));
        keys.extend(
            crate::paging::PAGE_CHANNELS
                .iter()
                .map(|c| format!("activity.channel.{c}")),
        );
        keys.extend(["pending", "delivered", "failed", "refused"].map(|s| format!("chat.delivery.{s}")));
        keys.extend(
            [PageStatus::Triggered, PageStatus::Acknowledged, PageStatus::Resolved]
                .map(|s| format!("chat.page_status.{}", s.as_str())),
        );
        keys.extend(cordon_core::incident::Status::ALL.map(|s| format!("status.{}", s.as_str())));
        for key in keys {
            if Lang::Ja.lookup(&key).is_none_or(|t| t.is_empty()) {
                missing.push(key);
            }
        }
        assert!(missing.is_empty(), "not in the catalogues:\n{}", missing.join("\n"));
        // English names what the commands take; the page statuses are those words.
        assert_eq!(Lang::En.t("chat.page_status.triggered"), "triggered");
    }
}
