//! `/`: the incidents the user may see, newest first, filtered by status and severity, and the
//! prominent Declare ("not sure? declare anyway": one click, at most a title), which redirects
//! to the new incident's war room.
//!
//! The list is live: it is also served alone, with the same filters, at `/parts/incidents`
//! (`templates/incidents_list.html`, which the page includes), and `static/app.js` re-fetches
//! it whenever the user's change stream (`/api/v1/events`, which carries only changes of
//! incidents the user may see) says an incident was declared or changed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_service::Declare;
use serde::Deserialize;

use super::{Base, WebCaller, WebForm, encode_query, page, see_other};
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

impl IncidentRow {
    /// The catalogue key of its status.
    pub fn status_key(&self) -> String {
        format!("status.{}", self.status)
    }
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

/// The list alone (`/parts/incidents`), for the page's script to swap in.
#[derive(Template)]
#[template(path = "incidents_list.html")]
struct IncidentsPart {
    base: Base,
    incidents: Vec<IncidentRow>,
    now: Timestamp,
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

/// `GET /parts/incidents?status=…&severity=…`: the list alone, as the page shows it with those
/// filters.
pub(crate) async fn part(State(state): State<AppState>, caller: WebCaller, Query(filter): Query<Filter>) -> Response {
    let (want_status, want_severity) = filter.parse();
    match rows(&state, &caller, want_status, want_severity).await {
        Ok(incidents) => page(
            StatusCode::OK,
            &IncidentsPart {
                base: caller.base,
                incidents,
                now: state.cordon.clock().now(),
            },
        ),
        Err(e) => Problem::from(e).into_response(),
    }
}

impl Filter {
    /// The filters that name a status and a severity (anything else: no filter).
    fn parse(&self) -> (Option<Status>, Option<Severity>) {
        (self.status.parse().ok(), self.severity.parse().ok())
    }
}

/// The incidents the caller may see (the service's need-to-know list), filtered.
async fn rows(
    state: &AppState,
    caller: &WebCaller,
    want_status: Option<Status>,
    want_severity: Option<Severity>,
) -> Result<Vec<IncidentRow>, cordon_service::ServiceError> {
    let list = state
        .cordon
        .incidents_with_commanders(&caller.principal, LISTED)
        .await?;
    Ok(list
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
        .collect())
}

async fn render(
    state: &AppState,
    caller: WebCaller,
    filter: Filter,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (want_status, want_severity) = filter.parse();
    let incidents = match rows(state, &caller, want_status, want_severity).await {
        Ok(rows) => rows,
        Err(e) => return Problem::from(e).into_response(),
    };
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

    /// Where the page's script re-fetches the list: the fragment with the page's filters.
    fn parts_url(&self) -> String {
        let mut query = Vec::new();
        if !self.status.is_empty() {
            query.push(format!("status={}", encode_query(&self.status)));
        }
        if !self.severity.is_empty() {
            query.push(format!("severity={}", encode_query(&self.severity)));
        }
        if query.is_empty() {
            "/parts/incidents".to_owned()
        } else {
            format!("/parts/incidents?{}", query.join("&"))
        }
    }
}
