//! The one place that maps errors to HTTP: `application/problem+json` (RFC 9457) bodies with a
//! stable machine `code`. 5xx bodies reveal nothing internal; the cause goes to the log.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_service::{Limit, ServiceError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine code, e.g. `not_found`, `gate_unmet`, `invalid_body`.
    pub code: String,
    /// Extra members for some problems (e.g. `gates` for `gate_unmet`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub extra: Option<serde_json::Map<String, Value>>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            extra: None,
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// The problem for a status that a layer below the handlers answered on its own (axum's
    /// extractors and method router, hyper, the edge's limits): one stable code per status.
    pub fn for_status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new(status, status_code(status), detail)
    }
}

/// The stable `code` of a status answered outside the handlers.
pub(crate) fn status_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::LENGTH_REQUIRED => "length_required",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::INTERNAL_SERVER_ERROR => "internal",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "client_error",
        _ => "server_error",
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(self)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        let code = e.code();
        match &e {
            ServiceError::Unauthenticated => Problem::new(StatusCode::UNAUTHORIZED, code, e.to_string()),
            ServiceError::NotFound(what) => Problem::new(StatusCode::NOT_FOUND, code, format!("{what} not found")),
            ServiceError::Forbidden(_) => Problem::new(StatusCode::FORBIDDEN, code, e.to_string()),
            ServiceError::Invalid { field, .. } => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).with("field", Value::from(*field))
            }
            ServiceError::GateUnmet { gates } => {
                let list: Vec<Value> = gates
                    .iter()
                    .map(|g| serde_json::json!({ "name": g.name, "description": g.description }))
                    .collect();
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
                    .with(
                        "gate",
                        Value::from(gates.first().map(|g| g.name.clone()).unwrap_or_default()),
                    )
                    .with("gates", Value::from(list))
            }
            ServiceError::Conflict(_) | ServiceError::IllegalTransition { .. } | ServiceError::IllegalMove { .. } => {
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
            }
            ServiceError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code,
                    "internal error; see the server log",
                )
            }
            ServiceError::NotAllowed(_) => Problem::new(StatusCode::METHOD_NOT_ALLOWED, code, e.to_string()),
            ServiceError::RangeNotSatisfiable { size } => {
                Problem::new(StatusCode::RANGE_NOT_SATISFIABLE, code, e.to_string()).with("size", Value::from(*size))
            }
            ServiceError::ForbiddenRole(_) => Problem::new(StatusCode::FORBIDDEN, code, e.to_string()),
            ServiceError::NotApproved { missing } => Problem::new(StatusCode::CONFLICT, code, e.to_string())
                .with("missing_approvals", Value::from(missing.clone())),
            ServiceError::Template(_) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()),
            ServiceError::MailRefused(_) | ServiceError::PartlySent(_) => {
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
            }
            ServiceError::Report(cause) => {
                tracing::error!(error = %cause, "report rendering failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code,
                    "internal error; see the server log",
                )
            }
            ServiceError::Ambiguous { candidates, .. } => Problem::new(StatusCode::CONFLICT, code, e.to_string())
                .with("candidates", Value::from(candidates.clone())),
            ServiceError::StorageFull => Problem::new(StatusCode::INSUFFICIENT_STORAGE, code, e.to_string()),
            ServiceError::LimitExceeded { limit, .. } => match *limit {
                Limit::GzipRatio { ratio, max } => Problem::new(StatusCode::PAYLOAD_TOO_LARGE, code, e.to_string())
                    .with("ratio", Value::from(ratio))
                    .with("limit", Value::from(max)),
                Limit::TimelineQuota { quota, used } => {
                    Problem::new(StatusCode::INSUFFICIENT_STORAGE, code, e.to_string())
                        .with("quota_bytes", Value::from(quota))
                        .with("used_bytes", Value::from(used))
                }
                Limit::TemplateCost => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()),
                Limit::IngestBusy { at_once } => Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, e.to_string())
                    .with("ingests_at_once", Value::from(at_once)),
            },
            ServiceError::Evidence(cause) => {
                tracing::error!(error = %cause, source = ?std::error::Error::source(cause), "evidence storage error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code,
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.body_text())
            }
            JsonRejection::JsonSyntaxError(e) => Problem::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the request body is too large",
                    )
                } else {
                    Problem::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
                }
            }
            other => Problem::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(r: PathRejection) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_path", r.body_text())
    }
}
