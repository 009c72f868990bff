//! Evidence locker routes (issue 5): streaming uploads, records with their chain of custody,
//! downloads with HTTP `Range`, verification, transfers and custody reports. Stored evidence
//! is write-once: `PUT`, `PATCH` and `DELETE` on an item answer 405 and are audited.
//!
//! The bodies and queries are `cordon_api::evidence`'; what makes the bodies from the
//! service's answers is here, beside the handlers.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{
    ACCEPT_RANGES, ALLOW, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap,
    HeaderValue, RANGE,
};
use axum::response::{IntoResponse, Response};
use cordon_api::evidence::{
    AddEvidenceQuery, ContentQuery, CustodyOut, CustodyQuery, EvidenceOut, TransferIn, VerifyAllOut, VerifyOut,
};
use cordon_service::ServiceError;
use cordon_service::evidence::{
    CustodyEvent, EvidenceChange, EvidenceView, NewEvidence, RangeRequest, ReadPurpose, ReportFormat, Transfer,
    Verification,
};
use cordon_service::report::ReportZone;
use serde_json::Value;
use tokio_util::io::ReaderStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire};

/// Read buffer of a download stream.
const DOWNLOAD_CHUNK: usize = 256 * 1024;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_evidence, list_evidence))
        .routes(routes!(get_evidence, put_evidence, patch_evidence, delete_evidence))
        .routes(routes!(download_evidence, put_content, delete_content))
        .routes(routes!(verify_evidence))
        .routes(routes!(verify_all_evidence))
        .routes(routes!(transfer_evidence))
        .routes(routes!(custody_report))
}

// ---------- bodies ----------

impl FromService<CustodyEvent> for CustodyOut {
    fn from_service(e: CustodyEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            actor: e.actor,
            at: e.at,
            details: serde_json::from_str(&e.details).unwrap_or(Value::String(e.details)),
            audit_seq: e.audit_seq,
            audit_hash: e.audit_hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl FromService<EvidenceView> for EvidenceOut {
    fn from_service(v: EvidenceView) -> Self {
        let i = v.item;
        Self {
            id: i.id,
            handle: v.handle,
            incident_id: i.incident_id,
            name: i.name,
            description: i.description,
            size: i.size,
            sha256: i.sha256,
            blake3: i.blake3,
            md5: i.md5,
            sha1: i.sha1,
            acquired_by: i.acquired_by,
            tool: i.tool,
            source_asset: i.source_asset,
            created_by: i.created_by_name,
            created_at: i.created_at,
            custody: v.custody.into_iter().map(IntoWire::into_wire).collect(),
        }
    }
}

impl FromService<Verification> for VerifyOut {
    fn from_service(v: Verification) -> Self {
        Self {
            id: v.item.id,
            name: v.item.name,
            ok: v.ok,
            sha256: v.sha256,
            blake3: v.blake3,
            size: v.size,
            mismatches: v.mismatches,
            custody: v.custody.into_wire(),
        }
    }
}

// ---------- helpers ----------

/// Parses `Range: bytes=…`. Anything else (another unit, several ranges, bad syntax) is
/// ignored, as RFC 9110 allows: the whole content is served.
fn parse_range(header: &str) -> Option<RangeRequest> {
    let (unit, spec) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (first, last) = spec.trim().split_once('-')?;
    match (first.trim(), last.trim()) {
        ("", n) => number(n).map(RangeRequest::Suffix),
        (a, "") => number(a).map(RangeRequest::From),
        (a, b) => {
            let (a, b) = (number(a)?, number(b)?);
            (a <= b).then_some(RangeRequest::FromTo(a, b))
        }
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` with the name made safe for a header.
fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A refused change as a 405 problem with `Allow`.
fn refused_change(e: ServiceError, allow: &'static str) -> Response {
    let method_not_allowed = matches!(e, ServiceError::NotAllowed(_));
    let mut res = Problem::from(e).into_response();
    if method_not_allowed {
        res.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    }
    res
}

// ---------- handlers ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/evidence", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), AddEvidenceQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "the raw bytes, streamed (any size); with `Content-Length` a different length keeps nothing"),
    responses(
        (status = 201, description = "stored durably, digests and custody recorded", body = EvidenceOut),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "`invalid_field`: wrong length or digest, broken upload; nothing was kept", body = Problem),
        (status = 507, description = "`storage_full`: nothing was kept", body = Problem),
    ),
    security(("bearer" = [])))]
async fn add_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<AddEvidenceQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let declared_len = match headers.get(CONTENT_LENGTH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| ServiceError::invalid("content-length", "not a byte count"))?,
        ),
    };
    let new = NewEvidence {
        name: q.name.unwrap_or_default(),
        description: q.description,
        acquired_by: q.acquired_by,
        tool: q.tool,
        source_asset: q.source_asset,
        expected_sha256: q.expected_sha256,
        declared_len,
        md5: q.md5,
        sha1: q.sha1,
    };
    let view = s.cordon.add_evidence(&p, &r, new, body.into_data_stream()).await?;
    Ok(created(EvidenceOut::from_service(view)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/evidence", tag = "evidence",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, description = "oldest first, with digests and custody", body = Vec<EvidenceOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<EvidenceOut>> {
    let items = s.cordon.evidence_list(&p, &r).await?;
    paging.offset(items.into_iter().map(IntoWire::into_wire).collect())
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/evidence/{id}", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 200, body = EvidenceOut), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> ApiResult<axum::Json<EvidenceOut>> {
    Ok(axum::Json(s.cordon.evidence(&p, &r, &id).await?.into_wire()))
}

#[utoipa::path(put, path = "/api/v1/incidents/{ref}/evidence/{id}", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 405, description = "`method_not_allowed`: evidence is write-once (audited)", body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn put_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> Response {
    refused_change(
        s.cordon.change_evidence(&p, &r, &id, EvidenceChange::Update).await,
        "GET",
    )
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/evidence/{id}", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 405, description = "`method_not_allowed`: evidence is write-once (audited)", body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn patch_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> Response {
    refused_change(
        s.cordon.change_evidence(&p, &r, &id, EvidenceChange::Update).await,
        "GET",
    )
}

#[utoipa::path(delete, path = "/api/v1/incidents/{ref}/evidence/{id}", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 405, description = "`method_not_allowed`: evidence is never deleted (audited)", body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn delete_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> Response {
    refused_change(
        s.cordon.change_evidence(&p, &r, &id, EvidenceChange::Delete).await,
        "GET",
    )
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/evidence/{id}/content", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id"), ContentQuery,
        ("Range" = Option<String>, Header, description = "`bytes=first-last`, `bytes=first-` or `bytes=-n`")),
    responses(
        (status = 200, description = "the bytes, streamed; recorded as a custody `download` (or `export`)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "the requested range, with `Content-Range`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 416, description = "`range_not_satisfiable`", body = Problem),
    ),
    security(("bearer" = [])))]
async fn download_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    query: Result<Query<ContentQuery>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let range = headers.get(RANGE).and_then(|v| v.to_str().ok()).and_then(parse_range);
    let purpose = match q.export_to {
        Some(to) => ReadPurpose::Export { to, reason: q.reason },
        None => {
            // A reason only means something with an export, but it is text all the same.
            if let Some(reason) = &q.reason {
                cordon_core::text::check_multiline("reason", reason).map_err(ServiceError::from)?;
            }
            ReadPurpose::Download
        }
    };
    let d = match s.cordon.download_evidence(&p, &r, &id, range, purpose).await {
        Err(e @ ServiceError::RangeNotSatisfiable { size }) => {
            let mut res = Problem::from(e).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                res.headers_mut().insert(CONTENT_RANGE, v);
            }
            return Ok(res);
        }
        other => other?,
    };
    let len = d.reader.range().len();
    let mut res = Response::builder()
        .status(if d.partial.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, len)
        .header(ACCEPT_RANGES, "bytes")
        .header(ETAG, format!("\"{}\"", d.item.sha256))
        .header(CONTENT_DISPOSITION, content_disposition("attachment", &d.item.name));
    if let Some((first, last)) = d.partial {
        res = res.header(CONTENT_RANGE, format!("bytes {first}-{last}/{}", d.total_size));
    }
    let body = Body::from_stream(ReaderStream::with_capacity(d.reader, DOWNLOAD_CHUNK));
    res.body(body).map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("building the response: {e}"),
        )
    })
}

#[utoipa::path(put, path = "/api/v1/incidents/{ref}/evidence/{id}/content", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 405, description = "`method_not_allowed`: stored bytes never change (audited)", body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn put_content(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> Response {
    refused_change(
        s.cordon.change_evidence(&p, &r, &id, EvidenceChange::Update).await,
        "GET",
    )
}

#[utoipa::path(delete, path = "/api/v1/incidents/{ref}/evidence/{id}/content", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 405, description = "`method_not_allowed`: stored bytes are never deleted (audited)", body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn delete_content(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> Response {
    refused_change(
        s.cordon.change_evidence(&p, &r, &id, EvidenceChange::Delete).await,
        "GET",
    )
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/evidence/{id}/verify", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses(
        (status = 200, description = "re-read and recorded as a custody `verification`; a mismatch is audited (`evidence.mismatch`) and alerts the incident commander", body = VerifyOut),
        (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = [])))]
async fn verify_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> ApiResult<axum::Json<VerifyOut>> {
    Ok(axum::Json(s.cordon.verify_evidence(&p, &r, &id).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/evidence/verify", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, description = "every item re-read, oldest first", body = VerifyAllOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn verify_all_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<axum::Json<VerifyAllOut>> {
    let items: Vec<VerifyOut> = s
        .cordon
        .verify_incident_evidence(&p, &r)
        .await?
        .into_iter()
        .map(IntoWire::into_wire)
        .collect();
    Ok(axum::Json(VerifyAllOut {
        ok: items.iter().all(|i| i.ok),
        items,
    }))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/evidence/{id}/transfer", tag = "evidence", request_body = TransferIn,
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id")),
    responses((status = 201, description = "the custody `transfer` event", body = CustodyOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn transfer_evidence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<TransferIn>,
) -> ApiResult<Response> {
    let t = Transfer {
        to: b.to,
        organisation: b.organisation,
        reason: b.reason,
    };
    let event = s.cordon.transfer_evidence(&p, &r, &id, t).await?;
    Ok(created(CustodyOut::from_service(event)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/evidence/{id}/custody", tag = "evidence",
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "evidence id"), CustodyQuery),
    responses(
        (status = 200, description = "the custody report: Markdown, PDF (embedded font), or the events as JSON", content(
            (String = "text/markdown"),
            (Vec<u8> = "application/pdf"),
            (Vec<CustodyOut> = "application/json"),
        )),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = [])))]
async fn custody_report(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    query: Result<Query<CustodyQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let zone = ReportZone::parse("tz", q.tz.as_deref())?;
    let format = match q.format.as_deref().unwrap_or("md") {
        "md" | "markdown" => ReportFormat::Markdown,
        "pdf" => ReportFormat::Pdf,
        "json" => {
            let view = s.cordon.evidence(&p, &r, &id).await?;
            let events: Vec<CustodyOut> = view.custody.into_iter().map(IntoWire::into_wire).collect();
            return Ok(axum::Json(events).into_response());
        }
        other => {
            return Err(ServiceError::invalid("format", format!("`{other}`: expected md, pdf or json")).into());
        }
    };
    let report = s.cordon.custody_report(&p, &r, &id, format, &zone).await?;
    let (content_type, disposition) = match report.format {
        ReportFormat::Markdown => ("text/markdown; charset=utf-8", "inline"),
        ReportFormat::Pdf => ("application/pdf", "attachment"),
    };
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CONTENT_DISPOSITION, content_disposition(disposition, &report.filename)),
        ],
        report.body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_parse_or_are_ignored() {
        assert_eq!(parse_range("bytes=0-99"), Some(RangeRequest::FromTo(0, 99)));
        assert_eq!(parse_range("Bytes = 100-"), Some(RangeRequest::From(100)));
        assert_eq!(parse_range("bytes=-500"), Some(RangeRequest::Suffix(500)));
        for ignored in [
            "bytes=5-4",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=+1-2",
            "bytes=-",
            "bytes=a-b",
            "0-1",
        ] {
            assert_eq!(parse_range(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn file_names_are_safe_in_headers() {
        let v = content_disposition("attachment", "web1 \"root\".img\r\nX: y");
        let text = v.to_str().unwrap();
        assert!(
            text.starts_with("attachment; filename=\"web1 _root_.img__X: y\""),
            "{text}"
        );
        assert!(
            text.contains("filename*=UTF-8''web1%20%22root%22.img%0D%0AX%3A%20y"),
            "{text}"
        );
    }
}
