//! `/ack/{token}`: the landing of the acknowledgement link in a page mail. Opening it (GET)
//! only shows which incident (codename and severity, never its title) and the Acknowledge
//! button; only the POST acknowledges, so mail scanners and link previews that follow links
//! never acknowledge on anyone's behalf. The token is the credential (single use, 24 hours,
//! acts as its recipient only; `cordon_service::paging::links`), so the POST needs no session
//! and no CSRF token; the page sets no cookie and sends no referrer. Shown in the browser's
//! language (`Accept-Language`, `?lang=`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_service::ServiceError;

use super::{Base, anonymous_base, not_found, page};
use crate::AppState;
use crate::problem::Problem;

#[derive(Template)]
#[template(path = "ack.html")]
struct AckPage {
    base: Base,
    token: String,
    codename: String,
    severity: String,
    /// Whether the button would acknowledge (the link is neither used nor expired).
    usable: bool,
    /// Set after the POST: the page was acknowledged.
    done: bool,
}

fn no_referrer(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// `GET /ack/{token}`: what the link is for, and the button.
pub(crate) async fn show(State(state): State<AppState>, Path(token): Path<String>, parts: Parts) -> Response {
    let base = anonymous_base(&parts);
    let info = match state.cordon.ack_link_info(&token).await {
        Ok(info) => info,
        Err(ServiceError::NotFound(_)) => return no_referrer(not_found(base)),
        Err(e) => return Problem::from(e).into_response(),
    };
    no_referrer(page(
        StatusCode::OK,
        &AckPage {
            base,
            token,
            codename: info.codename.unwrap_or_default(),
            severity: info.severity.map(|s| s.to_string()).unwrap_or_default(),
            usable: info.usable,
            done: false,
        },
    ))
}

/// `POST /ack/{token}`: acknowledges, once.
pub(crate) async fn acknowledge(State(state): State<AppState>, Path(token): Path<String>, parts: Parts) -> Response {
    let base = anonymous_base(&parts);
    match state.cordon.ack_by_link(&token).await {
        Ok(v) => {
            let codename = v.incident.map(|(_, c)| c).unwrap_or_default();
            no_referrer(page(
                StatusCode::OK,
                &AckPage {
                    base,
                    token: String::new(),
                    codename,
                    severity: String::new(),
                    usable: false,
                    done: true,
                },
            ))
        }
        Err(ServiceError::NotFound(_)) => no_referrer(not_found(base)),
        Err(ServiceError::Conflict(_)) => {
            let info = state.cordon.ack_link_info(&token).await.ok();
            no_referrer(page(
                StatusCode::CONFLICT,
                &AckPage {
                    base,
                    token: String::new(),
                    codename: info.as_ref().and_then(|i| i.codename.clone()).unwrap_or_default(),
                    severity: info.and_then(|i| i.severity).map(|s| s.to_string()).unwrap_or_default(),
                    usable: false,
                    done: false,
                },
            ))
        }
        Err(e) => Problem::from(e).into_response(),
    }
}
