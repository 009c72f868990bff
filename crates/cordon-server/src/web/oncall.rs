//! `/oncall`: who is on call now on each schedule, and the escalation policies (which levels
//! page whom, and after how long).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_notify::Target;

use super::{Base, WebCaller, page};
use crate::AppState;
use crate::problem::Problem;

pub(crate) struct ShiftLine {
    pub schedule: String,
    pub user: Option<String>,
    pub until: Option<Timestamp>,
}

pub(crate) struct LevelLine {
    pub targets: String,
    pub after_minutes: i64,
}

pub(crate) struct PolicyLine {
    pub name: String,
    pub repeat: u32,
    pub levels: Vec<LevelLine>,
}

#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    base: Base,
    shifts: Vec<ShiftLine>,
    policies: Vec<PolicyLine>,
}

/// `GET /oncall`.
pub(crate) async fn show(State(state): State<AppState>, caller: WebCaller) -> Response {
    let now = match state.cordon.on_call_now().await {
        Ok(now) => now,
        Err(e) => return Problem::from(e).into_response(),
    };
    let base = caller.base;
    let shifts = now
        .schedules
        .into_iter()
        .map(|s| ShiftLine {
            schedule: s.schedule,
            until: s.on_call.as_ref().map(|o| o.shift_end),
            user: s.on_call.map(|o| o.user),
        })
        .collect();
    let policies = now
        .policies
        .iter()
        .map(|p| PolicyLine {
            name: p.name().to_owned(),
            repeat: p.repeat(),
            levels: p
                .levels()
                .iter()
                .map(|l| LevelLine {
                    targets: l
                        .targets()
                        .iter()
                        .map(|t| match t {
                            Target::Schedule(s) => base.tf("oncall.target_schedule", "name", s),
                            Target::User(u) => u.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    after_minutes: l.after().as_secs() / 60,
                })
                .collect(),
        })
        .collect();
    page(StatusCode::OK, &OnCallPage { base, shifts, policies })
}
