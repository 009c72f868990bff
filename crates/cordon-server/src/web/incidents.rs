//! `/`: the incidents the user may see, newest first, filtered by status and severity, and the
//! prominent Declare ("not sure? declare anyway": one click, at most a title), which redirects
//! to the new incident's war room.
//!
//! The list is live: it is also served alone, with the same filters, at `/parts/incidents`
//! (`templates/incidents_list.html`, which the page includes), and `static/app.js` re-fetches
//! it whenever the user's change stream (`/api/v1/events`, which carries only changes of
//! incidents the user may see) says an incident was declared or changed.
//!
//! The filters are the store's (so a filter finds every match, not only among the newest), and
//! the list comes [`LISTED`] at a time, newest first, with an "older incidents" link to the next
//! page (`?after=<position>`, the keyset position the API's list uses).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_service::Declare;
use cordon_store::IncidentQuery;
use serde::Deserialize;

use super::{Base, WebCaller, WebForm, encode_query, page, see_other};
use crate::AppState;
use crate::problem::Problem;

/// How many incidents one page lists.
const LISTED: u32 = 100;

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
    older: Option<String>,
    now: Timestamp,
    /// Where the page's script re-fetches the list.
    parts_url: String,
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
    older: Option<String>,
    now: Timestamp,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    /// The position of the last incident of the page before (`{µs}-{id}`), for older ones.
    #[serde(default)]
    after: String,
}

/// `GET /`.
pub(crate) async fn list(State(state): State<AppState>, caller: WebCaller, Query(filter): Query<Filter>) -> Response {
    render(&state, caller, filter, None, StatusCode::OK).await
}

/// `GET /parts/incidents?status=…&severity=…`: the list alone, as the page shows it with those
/// filters.
pub(crate) async fn part(State(state): State<AppState>, caller: WebCaller, Query(filter): Query<Filter>) -> Response {
    match listing(&state, &caller, &filter).await {
        Ok((incidents, older)) => page(
            StatusCode::OK,
            &IncidentsPart {
                base: caller.base,
                incidents,
                older,
                now: state.cordon.clock().now(),
            },
        ),
        Err(e) => Problem::from(e).into_response(),
    }
}

impl Filter {
    /// The filters that name a status and a severity (anything else: no filter).
    fn query(&self) -> IncidentQuery {
        IncidentQuery {
            status: self.status.parse().ok(),
            severity: self.severity.parse().ok(),
        }
    }

    /// The page's address with these filters and `after` (empty: the first page).
    fn href(&self, path: &str, after: &str) -> String {
        let q = self.query();
        let mut pairs = Vec::new();
        if let Some(s) = q.status {
            pairs.push(format!("status={}", s.as_str()));
        }
        if let Some(s) = q.severity {
            pairs.push(format!("severity={}", encode_query(&s.to_string())));
        }
        if !after.is_empty() {
            pairs.push(format!("after={}", encode_query(after)));
        }
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }
}

/// One page of the incidents the caller may see (the service's need-to-know list) that the
/// filters match, and the address of the next (older) page when there is one. A position that
/// is not one is the first page.
async fn listing(
    state: &AppState,
    caller: &WebCaller,
    filter: &Filter,
) -> Result<(Vec<IncidentRow>, Option<String>), cordon_service::ServiceError> {
    let after = crate::routes::incident_position(&filter.after);
    let mut list = state
        .cordon
        .list_incidents(&caller.principal, filter.query(), LISTED + 1, after)
        .await?;
    let older = if list.len() > LISTED as usize {
        list.truncate(LISTED as usize);
        list.last()
            .map(|l| filter.href("/", &crate::routes::incident_cursor(&l.incident)))
    } else {
        None
    };
    let rows = list
        .into_iter()
        .map(|l| IncidentRow {
            key: l.incident.codename.key(),
            codename: l.incident.codename.to_string(),
            severity: l.incident.severity.to_string(),
            status: l.incident.status.as_str(),
            commander: l.commander,
            declared: l.incident.created_at,
        })
        .collect();
    Ok((rows, older))
}

async fn render(
    state: &AppState,
    caller: WebCaller,
    filter: Filter,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (incidents, older) = match listing(state, &caller, &filter).await {
        Ok(listed) => listed,
        Err(e) => return Problem::from(e).into_response(),
    };
    let q = filter.query();
    page(
        status,
        &IncidentsPage {
            base: caller.base,
            incidents,
            older,
            now: state.cordon.clock().now(),
            // The live list re-fetches this same page: these filters, this position (if it is one).
            parts_url: filter.href(
                "/parts/incidents",
                if crate::routes::incident_position(&filter.after).is_some() {
                    &filter.after
                } else {
                    ""
                },
            ),
            status: q.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            severity: q.severity.map(|s| s.to_string()).unwrap_or_default(),
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
