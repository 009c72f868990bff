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

    /// A request body that does not fit its type, as `field: what is wrong` (422
    /// `invalid_body`, with the field's path in `field`): serde's own phrases ("unknown variant
    /// `x`, expected one of `a`, `b`", "invalid type: integer `3`, expected a string", "missing
    /// field `title`") become sentences that name the field and what is allowed. `path` is where
    /// the deserializer stood (`.` for the body itself, `rotations[0].shift`).
    pub fn invalid_body(path: &str, message: &str) -> Self {
        let (field, text) = explain_body_error(path, message);
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("{field}: {text}"),
        )
        .with("field", Value::from(field))
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

/// The field and the sentence for one of serde's error messages at `path`.
fn explain_body_error(path: &str, message: &str) -> (String, String) {
    let path = if path == "." { "" } else { path };
    let at = |name: &str| match path {
        "" => name.to_owned(),
        p if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
        p => format!("{p}.{name}"),
    };
    let here = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    let ticked = backticked(message);
    if message.starts_with("missing field ")
        && let Some(name) = ticked.first()
    {
        return (at(name), "is required".into());
    }
    if message.starts_with("unknown field ")
        && let Some((name, allowed)) = ticked.split_first()
    {
        let text = if allowed.is_empty() {
            "is not a field of this body".to_owned()
        } else {
            format!("is not a field of this body; the fields are {}", allowed.join(", "))
        };
        return (at(name), text);
    }
    if message.starts_with("unknown variant ")
        && let Some((given, allowed)) = ticked.split_first()
    {
        let allowed: Vec<&str> = allowed.to_vec();
        let e = cordon_core::names::not_one_of("value", given, allowed);
        let text = match e {
            cordon_core::DomainError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        return (here(), text);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return (here(), format!("expected {expected}, got {}", got.replace('`', "")));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        return (here(), format!("expected {expected}, got {}", got.replace('`', "")));
    }
    (here(), message.replace('`', ""))
}

/// The `` `quoted` `` words of a serde message, in order.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
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
            ServiceError::SignInRefused(cordon_service::SignInRefusal::RateLimited) => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, code, e.to_string())
            }
            ServiceError::SignInRefused(_) => Problem::new(StatusCode::UNAUTHORIZED, code, e.to_string()),
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
            ServiceError::IllegalTransition { from, to, allowed }
            | ServiceError::IllegalMove { from, to, allowed, .. } => {
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
                    .with("from", Value::from(*from))
                    .with("to", Value::from(*to))
                    .with("allowed", Value::from(allowed.clone()))
            }
            ServiceError::Conflict(_) => Problem::new(StatusCode::CONFLICT, code, e.to_string()),
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
            ServiceError::LintErrors { findings } => {
                let list: Vec<Value> = findings
                    .iter()
                    .map(|f| serde_json::json!({ "rule": f.rule, "severity": f.severity, "message": f.message }))
                    .collect();
                let mut rules: Vec<Value> = findings.iter().map(|f| Value::from(f.rule.clone())).collect();
                rules.dedup();
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
                    .with("rules", Value::from(rules))
                    .with("findings", Value::from(list))
            }
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
            ServiceError::DuplicateSource { source_id, name, .. } => {
                Problem::new(StatusCode::CONFLICT, code, e.to_string())
                    .with("source_id", Value::from(source_id.to_string()))
                    .with("source_name", Value::from(name.clone()))
            }
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
