//! The pages of the shell itself: `/settings` (language and time zone), the not-found page
//! and the refusal of a request whose CSRF token did not check out.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Base, WebCaller, WebForm, page, see_other};
use crate::AppState;

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
