//! `/incidents/{ref}`: the war room. Codename, severity, status, sealing, commander, time since
//! declared and the running regulatory clocks; the checklist as a board with a lane per owner
//! role (steps without an unmet gate can all run now, side by side; gated steps show locked
//! with the reason); the team, paging and who is on call; the activity; the conversation.
//!
//! The page is built from parts (`summary`, `board`, `team`, `activity`, `conversation`), each
//! also served alone at `/incidents/{ref}/parts/{part}`: `static/app.js` subscribes to the
//! incident's change stream (`/api/v1/incidents/{ref}/events`) and re-fetches the parts a
//! change concerns, so what anyone changes elsewhere shows within a second. Every form posts
//! with `_csrf` and works without script; a refusal (a locked gate, a missing right) renders the
//! page again with the reason, in the reader's language. The page's script posts the same forms
//! in the background with `Accept: application/json`: success is then `204 No Content` (the
//! change stream brings the change to every open page, this one included) and a refusal a
//! problem document whose `detail` is the same sentence in the reader's language, shown next to
//! the form. An incident the caller may not see is the not-found page (a `404` problem to a
//! script), and no title carries the incident's title.
//!
//! Forms: a step's status and assignee (and the commander's gate override), the incident's
//! status and severity, adding and removing team members, paging. Who may do what is the
//! service's decision; the page only leaves out forms the reader could not use
//! (`cordon_core::access`), and the service refuses (and audits) the rest.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::access::{Standing, can_command};
use cordon_core::incident::{Severity, Status};
use cordon_core::regulatory::MilestoneStatus;
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_service::paging::{IC_POLICY, PageRequest, PageTarget};
use cordon_service::{IncidentPatch, ServiceError, TaskPatch, UnmetGate};
use serde::Deserialize;

use super::activity::{ACTIVITY_SHOWN, ActivityLine, Steps};
use super::{Base, WebCaller, WebForm, not_found, page, see_other};
use crate::AppState;
use crate::problem::Problem;

/// How many messages of the conversation the page shows (the newest).
const MESSAGES_SHOWN: u32 = 100;

/// A regulatory deadline still to meet.
pub(crate) struct ClockLine {
    pub label: String,
    pub due: Timestamp,
    pub overdue: bool,
}

/// An unmet gate, named and explained in the reader's language.
pub(crate) struct GateLine {
    pub name: String,
    pub reason: String,
}

/// A checklist step on the board.
pub(crate) struct Card {
    pub step: u32,
    pub title: String,
    pub description: String,
    pub status: &'static str,
    pub assignee: Option<String>,
    pub gates: Vec<GateLine>,
    pub override_reason: Option<String>,
}

impl Card {
    pub fn locked(&self) -> bool {
        !self.gates.is_empty()
    }
}

/// The steps one owner role leads.
pub(crate) struct Lane {
    pub role: &'static str,
    pub cards: Vec<Card>,
}

pub(crate) struct MemberLine {
    pub name: String,
    pub role: &'static str,
}

impl MemberLine {
    /// This line's part of a control's id: the user and role, with every character other
    /// than ASCII letters and digits written as `_` and its code (so two lines never share it,
    /// and it stays the same when the part is rendered again).
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else {
                out.push_str(&format!("_{:x}", u32::from(c)));
            }
        }
        format!("{out}-{}", self.role)
    }
}

pub(crate) struct MessageLine {
    pub author: Option<String>,
    pub command: bool,
    pub body: String,
    pub at: Timestamp,
}

pub(crate) struct OnCallLine {
    pub schedule: String,
    pub user: Option<String>,
    pub until: Option<Timestamp>,
}

/// A message shown above the board after a form: an error (`role=alert`) or a confirmation.
pub(crate) struct Notice {
    pub error: bool,
    pub text: String,
}

/// Everything the war room shows, as its reader may see it.
pub(crate) struct Room {
    /// The change feed's position when the room was read: the page's script reads everything
    /// again when its stream opens further on (a change in between would be lost otherwise).
    pub seq: i64,
    pub key: String,
    pub codename: String,
    pub title: String,
    pub severity: String,
    pub status: &'static str,
    pub sealed: bool,
    pub commander: Option<String>,
    pub declared: Timestamp,
    pub now: Timestamp,
    pub clocks: Vec<ClockLine>,
    pub lanes: Vec<Lane>,
    pub team: Vec<MemberLine>,
    pub groups: Vec<String>,
    pub on_call: Vec<OnCallLine>,
    pub activity: Vec<ActivityLine>,
    /// The history page with the entries older than those shown, when there are any.
    pub older: Option<String>,
    pub messages: Vec<MessageLine>,
    /// The reader may work on the checklist (member, security group, admin).
    pub may_work: bool,
    /// The reader is on the command staff (commander, deputy, security lead, security group,
    /// admin): sees the status form and the team's remove buttons.
    pub may_command: bool,
    /// The reader is the incident commander (sees the gate override).
    pub commands: bool,
    /// The statuses the incident may move to from its own, its own first.
    pub statuses: Vec<&'static str>,
    pub people: Vec<String>,
    pub notice: Option<Notice>,
}

impl Room {
    /// Whether the status form says that closing as not an incident is the commander's: it
    /// offers that status to a reader who is not the commander.
    pub fn false_alarm_hint(&self) -> bool {
        !self.commands && self.statuses.contains(&Status::NotAnIncident.as_str())
    }

    /// The accessible name of a member line's remove button: whom it removes, in which role.
    pub fn remove_label(&self, base: &Base, m: &MemberLine) -> String {
        base.tn(
            "room.remove_member_label",
            &[
                ("user", &m.name),
                ("role", &base.t_or(&format!("role.{}", m.role), m.role)),
            ],
        )
    }

    pub fn severities(&self) -> [&'static str; 5] {
        Severity::ALL.map(Severity::as_str)
    }

    pub fn task_statuses(&self) -> [&'static str; 4] {
        TaskStatus::ALL.map(TaskStatus::as_str)
    }

    pub fn roles(&self) -> Vec<&'static str> {
        Role::ALL
            .iter()
            .filter(|r| **r != Role::Reporter)
            .map(|r| r.as_str())
            .collect()
    }

    /// A catalogue key for a closed-list value: `k("role", "legal")` is `role.legal`.
    pub fn k(&self, prefix: &str, value: &str) -> String {
        format!("{prefix}.{value}")
    }

    /// How long until `due` (or since, when past) as `H:MM:SS` (the template says which); the page's script keeps it
    /// counting.
    pub fn countdown(&self, due: &Timestamp) -> String {
        let secs = due.duration_since(self.now).as_secs();
        let s = secs.unsigned_abs();
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// Whether two closed-list names are the same (templates compare through it).
    pub fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    pub fn messages_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

macro_rules! room_template {
    ($name:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name {
            base: Base,
            room: Room,
        }
    };
}

room_template!(WarRoomPage, "war_room.html");
room_template!(SummaryPart, "war_room/summary.html");
room_template!(BoardPart, "war_room/board.html");
room_template!(TeamPart, "war_room/team.html");
room_template!(ActivityPart, "war_room/activity.html");
room_template!(ConversationPart, "war_room/conversation.html");

/// Reads everything the room shows through the service (the gate decides; `NotFound` for an
/// incident the caller may not see).
async fn load(state: &AppState, caller: &WebCaller, r: &str) -> Result<Room, ServiceError> {
    let c = &state.cordon;
    let p = &caller.principal;
    let base = &caller.base;
    // Read before anything else: every change the feed had read by then is in what follows.
    let seq = c.changes_position();
    let details = c.incident(p, r).await?;
    let tasks = c.tasks(p, r).await?.checklist;
    let activity = c.activity(p, r, None, ACTIVITY_SHOWN).await?;
    let clocks = c.clocks(p, r).await?;
    let messages = c.messages(p, r, None, MESSAGES_SHOWN).await?;
    let on_call = c.on_call_now().await?;
    let now = c.clock().now();

    let incident = &details.incident;
    let playbook = incident.playbook.clone();
    let active: Vec<_> = details.members.iter().filter(|m| m.ended_at.is_none()).collect();
    let commander = active
        .iter()
        .find(|m| m.role == Role::IncidentCommander)
        .map(|m| m.user_name.clone());
    let standing = Standing {
        active_roles: active
            .iter()
            .filter(|m| m.user_id == p.user_id)
            .map(|m| m.role)
            .collect(),
    };
    let member = standing.is_member();
    let commands = standing.holds(Role::IncidentCommander);
    let mut people: Vec<String> = active.iter().map(|m| m.user_name.clone()).collect();
    people.sort();
    people.dedup();

    let steps = Steps {
        playbook: &playbook,
        steps: tasks
            .iter()
            .map(|t| (t.task.step, t.task.key.clone(), t.task.title.clone()))
            .collect(),
    };
    let key = incident.codename.key();
    let (activity, older) = super::activity::lines(base, &steps, &key, &activity);

    let mut lanes: Vec<Lane> = Vec::new();
    for t in &tasks {
        let key = &t.task.key;
        let card = Card {
            step: t.task.step,
            title: base.t_or(&format!("playbook.{playbook}.{key}.title"), &t.task.title),
            description: base.t_or(&format!("playbook.{playbook}.{key}.description"), &t.description),
            status: t.task.status.as_str(),
            assignee: t.assignee_name.clone(),
            gates: gate_lines(base, &t.blocked_by),
            override_reason: t.task.override_reason.clone(),
        };
        let role = t.task.owner_role.as_str();
        match lanes.iter_mut().find(|l| l.role == role) {
            Some(lane) => lane.cards.push(card),
            None => lanes.push(Lane {
                role,
                cards: vec![card],
            }),
        }
    }

    let clocks = clocks
        .iter()
        .flat_map(|cv| {
            let regime = cv.clock.regime.as_str();
            cv.milestones
                .iter()
                .filter(|m| m.status != MilestoneStatus::Met)
                .map(move |m| (regime, m))
        })
        .map(|(regime, m)| ClockLine {
            label: base.tn(
                "room.clock_label",
                &[
                    ("regime", &super::activity::regime_name(base, regime)),
                    (
                        "milestone",
                        &super::activity::milestone_name(base, regime, &m.name, &m.description),
                    ),
                ],
            ),
            due: m.due,
            overdue: m.due <= now,
        })
        .collect();

    let mut messages: Vec<MessageLine> = messages
        .into_iter()
        .map(|m| MessageLine {
            command: m.kind == cordon_store::room::MessageKind::Command,
            author: m.author,
            body: m.body,
            at: m.created_at,
        })
        .collect();
    messages.reverse();

    let mut statuses = vec![incident.status];
    statuses.extend(incident.status.next());
    Ok(Room {
        seq,
        key,
        codename: incident.codename.to_string(),
        title: incident.title.clone(),
        severity: incident.severity.to_string(),
        status: incident.status.as_str(),
        sealed: incident.sealed,
        commander,
        declared: incident.created_at,
        now,
        clocks,
        lanes,
        team: active
            .iter()
            .map(|m| MemberLine {
                name: m.user_name.clone(),
                role: m.role.as_str(),
            })
            .collect(),
        groups: details.teams.clone(),
        on_call: on_call
            .schedules
            .into_iter()
            .map(|s| OnCallLine {
                schedule: s.schedule,
                until: s.on_call.as_ref().map(|o| o.shift_end),
                user: s.on_call.map(|o| o.user),
            })
            .collect(),
        activity,
        older,
        messages,
        may_work: member || p.sees_all_incidents(),
        may_command: can_command(p, &standing),
        commands,
        statuses: statuses.into_iter().map(Status::as_str).collect(),
        people,
        notice: None,
    })
}

fn gate_lines(base: &Base, gates: &[UnmetGate]) -> Vec<GateLine> {
    gates
        .iter()
        .map(|g| GateLine {
            name: base.t_or(&format!("gate.{}.name", g.name), &g.name),
            reason: base.t_or(&format!("gate.{}.description", g.name), &g.description),
        })
        .collect()
}

/// The room, or the answer for why not: the not-found page, or a problem.
async fn room_or_answer(state: &AppState, caller: &WebCaller, r: &str) -> Result<Room, Response> {
    match load(state, caller, r).await {
        Ok(room) => Ok(room),
        Err(ServiceError::NotFound(_)) => Err(not_found(caller.base.clone())),
        Err(e) => Err(Problem::from(e).into_response()),
    }
}

/// `GET /incidents/{ref}`.
pub(crate) async fn show(State(state): State<AppState>, caller: WebCaller, Path(r): Path<String>) -> Response {
    match room_or_answer(&state, &caller, &r).await {
        Ok(room) => page(
            StatusCode::OK,
            &WarRoomPage {
                base: caller.base,
                room,
            },
        ),
        Err(answer) => answer,
    }
}

/// `GET /incidents/{ref}/parts/{part}`: one part of the room, for the page's script to swap in
/// after a change.
pub(crate) async fn part(
    State(state): State<AppState>,
    caller: WebCaller,
    Path((r, part)): Path<(String, String)>,
) -> Response {
    if !["summary", "board", "team", "activity", "conversation"].contains(&part.as_str()) {
        return not_found(caller.base);
    }
    let room = match room_or_answer(&state, &caller, &r).await {
        Ok(room) => room,
        Err(answer) => return answer,
    };
    let base = caller.base;
    match part.as_str() {
        "summary" => page(StatusCode::OK, &SummaryPart { base, room }),
        "board" => page(StatusCode::OK, &BoardPart { base, room }),
        "team" => page(StatusCode::OK, &TeamPart { base, room }),
        "activity" => page(StatusCode::OK, &ActivityPart { base, room }),
        _ => page(StatusCode::OK, &ConversationPart { base, room }),
    }
}

/// How the browser wants a form's outcome: the page (a form posted by the browser itself) or,
/// for the page's script (`Accept: application/json`), `204` on success and a problem
/// document in the reader's words on refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    Page,
    Json,
}

impl<S: Send + Sync> FromRequestParts<S> for Reply {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(
            if accept.contains("application/json") && !accept.contains("text/html") {
                Reply::Json
            } else {
                Reply::Page
            },
        )
    }
}

/// Which words a refusal of the missing right takes: what the form tried to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Work on the checklist, page, post.
    Work,
    /// Change the team.
    Team,
    /// Change the incident's status or severity.
    Incident,
    /// Close the incident as not an incident (the commander's alone).
    FalseAlarm,
}

impl Attempt {
    fn forbidden_key(self) -> &'static str {
        match self {
            Attempt::Work => "room.forbidden",
            Attempt::Team => "room.team_forbidden",
            Attempt::Incident => "room.status_forbidden",
            Attempt::FalseAlarm => "room.false_alarm_refused",
        }
    }
}

/// After a form: back to the room (303) on success, or the room again with the refusal in
/// the reader's words; to the page's script, `204` or the refusal as a problem document.
async fn answer(
    state: &AppState,
    caller: WebCaller,
    reply: Reply,
    r: &str,
    outcome: Result<(), ServiceError>,
    attempt: Attempt,
    anchor: &str,
) -> Response {
    let (status, text) = match outcome {
        Ok(()) if reply == Reply::Json => return StatusCode::NO_CONTENT.into_response(),
        Ok(()) => {
            let key = match state.cordon.incident(&caller.principal, r).await {
                Ok(d) => d.incident.codename.key(),
                Err(_) => r.to_owned(),
            };
            return see_other(&format!("/incidents/{key}{anchor}"));
        }
        Err(ServiceError::NotFound("incident")) if reply == Reply::Json => return Problem::not_found().into_response(),
        Err(ServiceError::NotFound("incident")) => return not_found(caller.base),
        Err(e) => match refusal(&caller.base, &e, attempt) {
            Some((status, text)) if reply == Reply::Json => {
                return Problem::new(status, e.code(), text).into_response();
            }
            Some(r) => r,
            None => return Problem::from(e).into_response(),
        },
    };
    refused_page(state, caller, r, status, text).await
}

/// The room with a refusal above it.
async fn refused_page(state: &AppState, caller: WebCaller, r: &str, status: StatusCode, text: String) -> Response {
    let mut room = match room_or_answer(state, &caller, r).await {
        Ok(room) => room,
        Err(answer) => return answer,
    };
    room.notice = Some(Notice { error: true, text });
    page(
        status,
        &WarRoomPage {
            base: caller.base,
            room,
        },
    )
}

/// A refusal in the reader's words, with its status; `None` for failures that are not the
/// reader's to fix.
fn refusal(base: &Base, e: &ServiceError, attempt: Attempt) -> Option<(StatusCode, String)> {
    let status = |s: &str| base.t_or(&format!("status.{s}"), s);
    Some(match e {
        ServiceError::GateUnmet { gates } => {
            let names: Vec<String> = gate_lines(base, gates)
                .into_iter()
                .map(|g| format!("{} ({})", g.name, g.reason))
                .collect();
            (
                StatusCode::CONFLICT,
                base.tf("room.gate_refused", "gates", &names.join(base.t("room.list_separator"))),
            )
        }
        ServiceError::Forbidden(_) | ServiceError::ForbiddenRole(_) => {
            (StatusCode::FORBIDDEN, base.t(attempt.forbidden_key()).to_owned())
        }
        ServiceError::Invalid { field, message } if message.starts_with("no user named") => (
            StatusCode::UNPROCESSABLE_ENTITY,
            base.tf("room.no_such_user", "field", field),
        ),
        ServiceError::Invalid { field, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            base.tf("room.invalid", "field", field),
        ),
        ServiceError::IllegalTransition { from, to, .. } => (
            StatusCode::CONFLICT,
            base.tn("room.illegal_status", &[("from", &status(from)), ("to", &status(to))]),
        ),
        // Someone else changed it first (the incident itself being gone is the not-found page).
        ServiceError::NotFound("membership") => (StatusCode::CONFLICT, base.t("room.no_membership").to_owned()),
        ServiceError::NotFound(_) => (StatusCode::CONFLICT, base.t("room.gone").to_owned()),
        ServiceError::Conflict(_) | ServiceError::IllegalMove { .. } => {
            (StatusCode::CONFLICT, base.t("room.conflict").to_owned())
        }
        ServiceError::LimitExceeded { .. } => (StatusCode::TOO_MANY_REQUESTS, base.t("room.conflict").to_owned()),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct TaskForm {
    status: Option<String>,
    assignee: Option<String>,
    /// Present on the commander's override form, whose reason is mandatory.
    #[serde(rename = "override")]
    overriding: Option<String>,
    override_reason: Option<String>,
}

/// `POST /incidents/{ref}/tasks/{step}`: a step's status and assignee; with `override` the
/// commander moves it past its gate, giving the reason.
pub(crate) async fn update_task(
    State(state): State<AppState>,
    Path((r, step)): Path<(String, u32)>,
    reply: Reply,
    form: WebForm<TaskForm>,
) -> Response {
    let WebForm { caller, form } = form;
    let anchor = format!("#step-{step}");
    let reason = form.override_reason.as_deref().map(str::trim).unwrap_or("");
    if form.overriding.is_some() && reason.is_empty() {
        let text = caller.base.t("room.reason_required").to_owned();
        return match reply {
            Reply::Json => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", text)
                .with("field", "override_reason".into())
                .into_response(),
            Reply::Page => refused_page(&state, caller, &r, StatusCode::UNPROCESSABLE_ENTITY, text).await,
        };
    }
    let status = match form.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => match s.parse::<TaskStatus>() {
            Ok(s) => Some(s),
            Err(e) => return answer(&state, caller, reply, &r, Err(e.into()), Attempt::Work, &anchor).await,
        },
        None => None,
    };
    let assignee = form
        .assignee
        .map(|a| Some(a.trim().to_owned()).filter(|a| !a.is_empty()));
    let patch = TaskPatch {
        status,
        assignee,
        override_reason: form.overriding.is_some().then(|| reason.to_owned()),
    };
    let outcome = state
        .cordon
        .update_task(&caller.principal, &r, &step.to_string(), patch)
        .await
        .map(drop);
    answer(&state, caller, reply, &r, outcome, Attempt::Work, &anchor).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct IncidentForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    /// What the form showed when it was rendered: only what the reader changed is sent on, so
    /// a page that missed someone else's change cannot undo it.
    #[serde(default)]
    shown_status: String,
    #[serde(default)]
    shown_severity: String,
}

/// `POST /incidents/{ref}/status`: the incident's status and severity (the command staff;
/// closing as not an incident, the commander alone — the service decides).
pub(crate) async fn update_incident(
    State(state): State<AppState>,
    Path(r): Path<String>,
    reply: Reply,
    form: WebForm<IncidentForm>,
) -> Response {
    let WebForm { caller, form } = form;
    let changed = |to: &str, shown: &str| Some(to.trim().to_owned()).filter(|t| !t.is_empty() && t != shown.trim());
    let parsed = (|| -> Result<IncidentPatch, ServiceError> {
        Ok(IncidentPatch {
            status: changed(&form.status, &form.shown_status)
                .map(|s| s.parse::<Status>())
                .transpose()?,
            severity: changed(&form.severity, &form.shown_severity)
                .map(|s| s.parse::<Severity>())
                .transpose()?,
            title: None,
            description: None,
        })
    })();
    let attempt = match &parsed {
        Ok(p) if p.status == Some(Status::NotAnIncident) => Attempt::FalseAlarm,
        _ => Attempt::Incident,
    };
    let outcome = match parsed {
        Ok(p) if p.status.is_none() && p.severity.is_none() => Ok(()),
        Ok(p) => state.cordon.update_incident(&caller.principal, &r, p).await.map(drop),
        Err(e) => Err(e),
    };
    answer(&state, caller, reply, &r, outcome, attempt, "#part-summary").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

/// `POST /incidents/{ref}/members`: adds someone to the team in a role.
pub(crate) async fn add_member(
    State(state): State<AppState>,
    Path(r): Path<String>,
    reply: Reply,
    form: WebForm<MemberForm>,
) -> Response {
    change_team(&state, &r, reply, form, TeamChange::Add).await
}

/// `POST /incidents/{ref}/members/remove`: takes someone's role on the team from them (the
/// command staff; the service decides). Someone removed from a sealed incident who is not in
/// the security group no longer sees it: its address is then the not-found page to them.
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    Path(r): Path<String>,
    reply: Reply,
    form: WebForm<MemberForm>,
) -> Response {
    change_team(&state, &r, reply, form, TeamChange::Remove).await
}

enum TeamChange {
    Add,
    Remove,
}

async fn change_team(
    state: &AppState,
    r: &str,
    reply: Reply,
    form: WebForm<MemberForm>,
    change: TeamChange,
) -> Response {
    let WebForm { caller, form } = form;
    let (c, p, user) = (&state.cordon, &caller.principal, form.user.trim());
    let outcome = match form.role.parse::<Role>() {
        Ok(role) => match change {
            TeamChange::Add => c.add_member(p, r, user, role).await.map(drop),
            TeamChange::Remove => c.remove_member(p, r, user, role).await.map(drop),
        },
        Err(e) => Err(e.into()),
    };
    answer(state, caller, reply, r, outcome, Attempt::Team, "#team").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageForm {
    /// A person to page; absent: the incident-commander policy.
    user: Option<String>,
    reason: Option<String>,
}

/// `POST /incidents/{ref}/pages`: pages a person, or the incident-commander policy.
pub(crate) async fn page_someone(
    State(state): State<AppState>,
    Path(r): Path<String>,
    reply: Reply,
    form: WebForm<PageForm>,
) -> Response {
    let WebForm { caller, form } = form;
    let target = match form.user.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) {
        Some(user) => PageTarget::User(user),
        None => PageTarget::Policy(IC_POLICY.into()),
    };
    let req = PageRequest {
        target,
        role: None,
        reason: form.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    let outcome = state.cordon.trigger_page(&caller.principal, &r, req).await.map(drop);
    answer(&state, caller, reply, &r, outcome, Attempt::Work, "#team").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageForm {
    #[serde(default)]
    body: String,
}

/// `POST /incidents/{ref}/messages`: a message or `!ic` command in the conversation, for
/// browsers without script (the script posts to the JSON API).
pub(crate) async fn post_message(
    State(state): State<AppState>,
    Path(r): Path<String>,
    reply: Reply,
    form: WebForm<MessageForm>,
) -> Response {
    let WebForm { caller, form } = form;
    let outcome = state
        .cordon
        .post_message(&caller.principal, &r, &form.body, Some(caller.base.lang))
        .await
        .map(drop);
    answer(&state, caller, reply, &r, outcome, Attempt::Work, "#conversation").await
}

#[cfg(test)]
mod tests {
    use cordon_core::regulatory::{ClockSpec, Regime, milestones};
    use cordon_service::Playbooks;

    use super::*;

    /// Every closed list the war room shows by name: a key per value, in both catalogues (the
    /// catalogue test checks the Japanese has every English key). A new regime, deadline,
    /// status, role, step or gate cannot ship without its words.
    #[test]
    fn every_name_the_war_room_shows_is_in_both_catalogues() {
        let mut keys = Vec::new();
        let start = "2026-11-27T12:00:00Z".parse().unwrap();
        for regime in Regime::ALL {
            keys.push(format!("milestone.{}.regime", regime.as_str()));
            for unlawful in [false, true] {
                let Ok(spec) = ClockSpec::new(regime, start, None, unlawful, start) else {
                    continue;
                };
                for m in milestones(&spec) {
                    keys.push(format!("milestone.{}.{}", regime.as_str(), m.name));
                }
            }
        }
        assert!(keys.len() > Regime::ALL.len() * 2, "{keys:?}");
        keys.extend(Status::ALL.map(|s| format!("status.{}", s.as_str())));
        keys.extend(TaskStatus::ALL.map(|s| format!("task_status.{}", s.as_str())));
        keys.extend(Role::ALL.iter().map(|r| format!("role.{}", r.as_str())));
        let playbooks = Playbooks::builtin();
        for playbook in [&playbooks.security, &playbooks.operational] {
            for step in &playbook.steps {
                let at = format!("playbook.{}.{}", playbook.name, step.key);
                keys.push(format!("{at}.title"));
                if !step.description.is_empty() {
                    keys.push(format!("{at}.description"));
                }
                for gate in &step.gates {
                    keys.push(format!("gate.{}.name", gate.name));
                    keys.push(format!("gate.{}.description", gate.name));
                }
            }
            for decision in &playbook.decisions {
                keys.push(format!("gate.{}.name", decision.name));
            }
        }
        let catalogues = [
            ("en", include_str!("../../../cordon-i18n/locales/en.toml")),
            ("ja", include_str!("../../../cordon-i18n/locales/ja.toml")),
        ];
        let mut missing: Vec<String> = Vec::new();
        for (lang, text) in catalogues {
            let table: toml::Table = toml::from_str(text).unwrap();
            for key in &keys {
                let mut at = Some(&table);
                let parts: Vec<&str> = key.split('.').collect();
                let (last, path) = parts.split_last().unwrap();
                for part in path {
                    at = at.and_then(|t| t.get(*part)).and_then(toml::Value::as_table);
                }
                let found = at.and_then(|t| t.get(*last)).and_then(toml::Value::as_str);
                if found.is_none_or(str::is_empty) {
                    missing.push(format!("{key} ({lang})"));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "missing from the catalogues:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn member_slugs_are_distinct_and_stable() {
        let line = |name: &str| MemberLine {
            name: name.into(),
            role: "scribe",
        };
        assert_eq!(line("bob").slug(), "bob-scribe");
        assert_ne!(line("a.b").slug(), line("a-b").slug());
        assert_eq!(line("a.b").slug(), line("a.b").slug());
        assert!(
            line("é x")
                .slug()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        );
    }
}
