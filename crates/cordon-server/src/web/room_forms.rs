//! The war room's forms (`/incidents/{ref}/…` POSTs): a step's status and assignee (and the
//! commander's gate override), the incident's status and severity, adding and removing team
//! members, paging, and the conversation for browsers without script. Each takes a
//! [`WebForm`] (session, CSRF token, same-site origin), calls one `Cordon` method — the service
//! decides who may and audits refusals — and answers as [`Reply`] asks: the browser's own
//! post gets a 303 back to the room, or the room again with the refusal in the reader's words;
//! the page's script (`Accept: application/json`) gets `204`, or a problem document whose
//! `detail` is that sentence. An incident the caller may not see is the not-found page (a
//! `404` problem to a script).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_core::incident::{Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_service::paging::{IC_POLICY, PageRequest, PageTarget};
use cordon_service::{IncidentPatch, ServiceError, TaskPatch};
use serde::Deserialize;

use super::war_room::{Notice, WarRoomPage, gate_lines, room_or_answer};
use super::{Base, WebCaller, WebForm, not_found, page, see_other};
use crate::AppState;
use crate::problem::Problem;

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
