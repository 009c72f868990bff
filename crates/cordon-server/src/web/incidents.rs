//! `/`: the incidents the user may see, newest first, filtered by status and severity, and the
//! prominent Declare ("not sure? declare anyway": one click, at most a title), which redirects
//! to the new incident's war room.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_service::Declare;
use serde::Deserialize;

use super::{Base, WebCaller, WebForm, page, see_other};
use crate::AppState;
use crate::problem::Problem;

/// How many incidents the page lists.
const LISTED: u32 = 200;

/// One incident as the list shows it: never its title (titles stay out of lists and tabs;
/// the codename names it).
pub(crate) struct IncidentRow {
    pub key: String,
    pub codename: String,
    pub severity: String,
    pub status: &'static str,
    pub commander: Option<String>,
    pub declared: Timestamp,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    base: Base,
    incidents: Vec<IncidentRow>,
    now: Timestamp,
    status: String,
    severity: String,
    statuses: [&'static str; 6],
    severities: Vec<String>,
    error: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
}

/// `GET /`.
pub(crate) async fn list(State(state): State<AppState>, caller: WebCaller, Query(filter): Query<Filter>) -> Response {
    render(&state, caller, filter, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    caller: WebCaller,
    filter: Filter,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let list = match state.cordon.incidents_with_commanders(&caller.principal, LISTED).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).into_response(),
    };
    let want_status = filter.status.parse::<Status>().ok();
    let want_severity = filter.severity.parse::<Severity>().ok();
    let incidents = list
        .into_iter()
        .filter(|(i, _)| want_status.is_none_or(|s| i.status == s))
        .filter(|(i, _)| want_severity.is_none_or(|s| i.severity == s))
        .map(|(i, commander)| IncidentRow {
            key: i.codename.key(),
            codename: i.codename.to_string(),
            severity: i.severity.to_string(),
            status: i.status.as_str(),
            commander,
            declared: i.created_at,
        })
        .collect();
    page(
        status,
        &IncidentsPage {
            base: caller.base,
            incidents,
            now: state.cordon.clock().now(),
            status: want_status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            severity: want_severity.map(|s| s.to_string()).unwrap_or_default(),
            statuses: Status::ALL.map(Status::as_str),
            severities: Severity::ALL.iter().map(ToString::to_string).collect(),
            error,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeclareForm {
    #[serde(default)]
    title: String,
}

/// `POST /incidents`: declares a security incident at the default severity with the title
/// given (or a stock one in the declarer's language) and opens its war room.
pub(crate) async fn declare(State(state): State<AppState>, form: WebForm<DeclareForm>) -> Response {
    let WebForm { caller, form } = form;
    let title = match form.title.trim() {
        "" => caller.base.t("home.declare_default_title").to_owned(),
        t => t.to_owned(),
    };
    let d = Declare {
        title,
        description: None,
        kind: IncidentKind::Security,
        severity: Severity::new(2).expect("SEV-2 exists"),
        room: None,
    };
    match state.cordon.declare(&caller.principal, d).await {
        Ok(details) => see_other(&format!("/incidents/{}", details.incident.codename.key())),
        Err(cordon_service::ServiceError::Invalid { .. }) => {
            render(
                &state,
                caller,
                Filter::default(),
                Some("home.declare_invalid"),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

impl IncidentsPage {
    fn status_key(&self, status: &str) -> String {
        format!("status.{status}")
    }
}
