//! The pages of the shell itself: `/settings` (language and time zone), `/settings/sessions`
//! (the user's own sessions, each of which they may end), the not-found page and the refusal
//! of a request whose CSRF token did not check out.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_service::{ServiceError, SessionInfo};
use serde::Deserialize;

use super::{Base, WebCaller, WebForm, page, see_other};
use crate::AppState;
use crate::problem::Problem;

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    base: Base,
}

pub(crate) fn not_found(mut base: Base) -> Response {
    // One body for every address: a signed-out browser's language links stay on the address
    // without naming it.
    if base.user.is_none() {
        base.here.clear();
    }
    page(StatusCode::NOT_FOUND, &NotFoundPage { base })
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    base: Base,
}

pub(crate) fn forbidden(base: Base) -> Response {
    page(StatusCode::FORBIDDEN, &ForbiddenPage { base })
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    base: Base,
    locale: String,
    time_zone: String,
    saved: bool,
    invalid: bool,
}

/// `GET /settings`: the user's language and time zone.
pub(crate) async fn settings(State(state): State<AppState>, caller: WebCaller) -> Response {
    let s = match state.cordon.settings(&caller.principal).await {
        Ok(s) => s,
        Err(e) => return axum::response::IntoResponse::into_response(crate::problem::Problem::from(e)),
    };
    let saved = caller.base.here.contains("saved=1");
    page(
        StatusCode::OK,
        &SettingsPage {
            base: caller.base,
            locale: s.locale.unwrap_or_default(),
            time_zone: s.time_zone.unwrap_or_default(),
            saved,
            invalid: false,
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct SettingsForm {
    locale: Option<String>,
    time_zone: Option<String>,
    /// Where to go back to (the language switch in the header sends the page it is on).
    next: Option<String>,
}

/// `POST /settings`: saves language and/or time zone (the header's language switch sends
/// only `locale` and `next`).
pub(crate) async fn save_settings(State(state): State<AppState>, form: WebForm<SettingsForm>) -> Response {
    let WebForm { caller, form } = form;
    match state
        .cordon
        .update_settings(&caller.principal, form.locale.as_deref(), form.time_zone.as_deref())
        .await
    {
        Ok(_) => match form.next {
            Some(next) => see_other(&super::safe_next(Some(&next))),
            None => see_other("/settings?saved=1"),
        },
        Err(cordon_service::ServiceError::Invalid { .. }) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                base: caller.base,
                locale: form.locale.unwrap_or_default(),
                time_zone: form.time_zone.unwrap_or_default(),
                saved: false,
                invalid: true,
            },
        ),
        Err(e) => axum::response::IntoResponse::into_response(crate::problem::Problem::from(e)),
    }
}

/// One of the user's sessions as the page lists it (never its token).
struct SessionRow {
    /// Its place in the list (`#2`), which names its button too.
    n: String,
    id: String,
    /// The catalogue key of how it signed in.
    method: &'static str,
    address: Option<String>,
    user_agent: Option<String>,
    started: Timestamp,
    last_seen: Timestamp,
    /// When it ends unless used before (idle or absolute end, the earlier).
    ends: Timestamp,
    /// This browser's session.
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    base: Base,
    sessions: Vec<SessionRow>,
    ended: bool,
    gone: bool,
    /// Whose sessions these are, when not the reader's own (an admin's view of another user).
    of: Option<String>,
    /// The reader is an admin (the page offers another user's sessions).
    admin: bool,
}

fn session_rows(list: Vec<SessionInfo>, current: uuid::Uuid) -> Vec<SessionRow> {
    list.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let r = s.record;
            SessionRow {
                n: (i + 1).to_string(),
                id: r.id.to_string(),
                method: if r.method == "oidc" {
                    "sessions.method_oidc"
                } else {
                    "sessions.method_password"
                },
                address: r.address,
                user_agent: r.user_agent,
                started: r.created_at,
                last_seen: r.last_seen_at,
                ends: s.ends_at,
                current: r.id == current,
            }
        })
        .collect()
}

/// The sessions page: the live sessions of `of` (an admin's view of another user) or of the
/// caller, through `Cordon::sessions` — which lets a user list only their own and an admin
/// anyone's, and audits a refusal (the forbidden page here). An unknown user is not found.
async fn render_sessions(
    state: &AppState,
    caller: WebCaller,
    of: Option<String>,
    status: StatusCode,
    ended: bool,
    gone: bool,
) -> Response {
    let of = of.filter(|u| *u != caller.principal.name);
    let name = of.clone().unwrap_or_else(|| caller.principal.name.clone());
    match state.cordon.sessions(&caller.principal, &name).await {
        Ok(list) => page(
            status,
            &SessionsPage {
                sessions: session_rows(list, caller.session_id),
                admin: caller.principal.is_admin,
                base: caller.base,
                ended,
                gone,
                of,
            },
        ),
        Err(ServiceError::Forbidden(_)) => forbidden(caller.base),
        Err(ServiceError::NotFound(_)) => super::not_found(caller.base),
        Err(e) => Problem::from(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SessionsQuery {
    /// Another user whose sessions an admin looks at.
    #[serde(default)]
    user: String,
    #[serde(default)]
    ended: String,
}

/// `GET /settings/sessions[?user=NAME]`: where the user (or, for an admin, `NAME`) is signed in.
pub(crate) async fn sessions(
    State(state): State<AppState>,
    caller: WebCaller,
    axum::extract::Query(q): axum::extract::Query<SessionsQuery>,
) -> Response {
    let of = Some(q.user.trim().to_owned()).filter(|u| !u.is_empty());
    render_sessions(&state, caller, of, StatusCode::OK, q.ended == "1", false).await
}

#[derive(Deserialize)]
pub(crate) struct EndSessionForm {
    #[serde(default)]
    session: String,
    /// Whose list the form was on (an admin's view of another user), to go back to.
    #[serde(default)]
    user: String,
}

/// `POST /settings/sessions/end`: ends one session through `Cordon::revoke_session` (one's
/// own, or anyone's for an admin; audited). Ending this browser's own session signs it out:
/// the cookie goes and the browser is sent to the sign-in page.
pub(crate) async fn end_session(State(state): State<AppState>, form: WebForm<EndSessionForm>) -> Response {
    let WebForm { caller, form } = form;
    let of = Some(form.user.trim().to_owned()).filter(|u| !u.is_empty() && *u != caller.principal.name);
    match state
        .cordon
        .revoke_session(&caller.principal, form.session.trim())
        .await
    {
        Ok(info) if info.record.id == caller.session_id => {
            let mut res = see_other("/login?signed_out=1");
            res.headers_mut().insert(SET_COOKIE, state.web.clear_cookie());
            res
        }
        Ok(_) if of.is_some() => see_other(&format!(
            "/settings/sessions?user={}&ended=1",
            super::encode_query(of.as_deref().unwrap_or_default())
        )),
        Ok(_) => see_other("/settings/sessions?ended=1"),
        Err(ServiceError::NotFound(_) | ServiceError::Invalid { .. }) => {
            render_sessions(&state, caller, of, StatusCode::NOT_FOUND, false, true).await
        }
        Err(e) => Problem::from(e).into_response(),
    }
}
