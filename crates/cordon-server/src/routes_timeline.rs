//! Attack timeline routes (issue 4): streamed log ingest, the sources list, the time-ordered
//! query with its cursor, the histogram, the facets and the streamed export. Thin handlers:
//! each reads its query (`cordon_api::timeline`) and calls one `Cordon` timeline function.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_api::timeline::{
    BucketOut, DiagnosticOut, ExportQuery, FacetOut, FacetsOut, FacetsQuery, HistogramOut, HistogramQuery, IngestQuery,
    SourceOut, TimelineFilters, TimelinePageOut, TimelineQuery,
};
use cordon_service::timeline::{ExportFormat, IngestParams, Ingested, SourceEntry, TimelineFilter};
use cordon_store::timeline::TimelineSource;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_source, list_sources))
        .routes(routes!(query_timeline))
        .routes(routes!(timeline_histogram))
        .routes(routes!(timeline_facets))
        .routes(routes!(export_timeline))
}

// ---------- bodies ----------

/// A source with its handle and the diagnostics shown.
fn source(s: TimelineSource, handle: String, diagnostics: Vec<DiagnosticOut>) -> SourceOut {
    SourceOut {
        source_id: s.id,
        handle,
        name: s.name,
        host: s.host,
        format: s.format,
        sha256: s.sha256,
        evidence_id: s.evidence_id,
        bytes: s.bytes,
        lines: s.lines,
        events: s.events,
        skipped: s.skipped,
        diagnostics_total: s.diagnostics_total,
        diagnostics,
        state: s.state.as_str().to_owned(),
        created_at: s.created_at,
    }
}

impl FromService<Ingested> for SourceOut {
    fn from_service(i: Ingested) -> Self {
        let diags = i
            .diagnostics
            .into_iter()
            .map(|d| DiagnosticOut {
                line: d.line,
                byte_offset: d.byte_offset,
                code: d.code.as_str().to_owned(),
                message: d.message,
            })
            .collect();
        source(i.source, i.handle, diags)
    }
}

impl FromService<SourceEntry> for SourceOut {
    fn from_service(SourceEntry { source: s, handle }: SourceEntry) -> Self {
        let diags: Vec<Value> = serde_json::from_str(&s.diagnostics).unwrap_or_default();
        let diags = diags
            .into_iter()
            .map(|d| DiagnosticOut {
                line: d["line"].as_u64().unwrap_or(0),
                byte_offset: d["byte_offset"].as_u64().unwrap_or(0),
                code: d["code"].as_str().unwrap_or("").to_owned(),
                message: d["message"].as_str().unwrap_or("").to_owned(),
            })
            .collect();
        source(s, handle, diags)
    }
}

/// The filters of a timeline read, as the service takes them.
fn filter(f: TimelineFilters) -> TimelineFilter {
    let TimelineFilters {
        ip,
        user,
        host,
        kind,
        q,
        from,
        to,
        source,
    } = f;
    TimelineFilter {
        ip,
        user,
        host,
        kind,
        q,
        from,
        to,
        source,
    }
}

// ---------- handlers ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/timeline/sources", tag = "timeline",
    params(("ref" = String, Path, description = "incident id or codename"), IngestQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the raw log bytes (plain or gzip), streamed"),
    responses(
        (status = 201, body = SourceOut),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`duplicate_source`: a source of the incident holds these exact bytes (`source_id`, `source_name`); nothing is kept unless `again=true`", body = Problem),
        (status = 422, description = "a bad parameter, an empty upload, or an upload that broke off (nothing is kept)", body = Problem),
        (status = 413, description = "`gzip_ratio_exceeded`: the gzip inflates past `timeline_gzip_max_ratio` (nothing is kept)", body = Problem),
        (status = 503, description = "`ingest_busy`: `timeline_ingests_at_once` ingests ran for the whole wait (nothing was read)", body = Problem),
        (status = 507, description = "`timeline_quota_exceeded`: the incident's timeline would exceed `timeline_disk_quota` (nothing is kept)", body = Problem),
    ),
    security(("bearer" = [])))]
async fn ingest_source(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<IngestQuery>, QueryRejection>,
    body: Body,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let params = IngestParams {
        format: q.format,
        name: q.name,
        host: q.host,
        year: q.year,
        tz: q.tz,
        again: q.again.unwrap_or(false),
    };
    let ingested = s.cordon.ingest_source(&p, &r, params, body.into_data_stream()).await?;
    Ok(created(SourceOut::from_service(ingested)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/timeline/sources", tag = "timeline",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<SourceOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_sources(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<SourceOut>> {
    paging.offset(
        s.cordon
            .timeline_source_entries(&p, &r)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/timeline", tag = "timeline",
    params(("ref" = String, Path, description = "incident id or codename"), TimelineQuery),
    responses((status = 200, body = TimelinePageOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn query_timeline(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let page = s
        .cordon
        .timeline_query(&p, &r, &filter(q.filters()), q.limit, q.cursor.as_deref())
        .await?;
    // The events are stored as the JSON they are served as: join them, do not re-encode.
    let size: usize = page.events.iter().map(|e| e.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(b"{\"events\":[");
    for (i, e) in page.events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e);
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    out.extend_from_slice(
        serde_json::to_string(&page.next_cursor)
            .unwrap_or_else(|_| "null".into())
            .as_bytes(),
    );
    out.push(b'}');
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        out,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/timeline/histogram", tag = "timeline",
    params(("ref" = String, Path, description = "incident id or codename"), HistogramQuery),
    responses((status = 200, body = HistogramOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn timeline_histogram(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<HistogramQuery>, QueryRejection>,
) -> ApiResult<Json<HistogramOut>> {
    let Query(q) = query?;
    let h = s
        .cordon
        .timeline_histogram(&p, &r, &filter(q.filters()), q.interval.as_deref(), q.buckets)
        .await?;
    Ok(Json(HistogramOut {
        interval_seconds: h.interval_seconds,
        total: h.total,
        buckets: h
            .buckets
            .into_iter()
            .map(|b| BucketOut {
                start: b.start,
                count: b.count,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/timeline/facets", tag = "timeline",
    params(("ref" = String, Path, description = "incident id or codename"), FacetsQuery),
    responses((status = 200, body = FacetsOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn timeline_facets(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<FacetsQuery>, QueryRejection>,
) -> ApiResult<Json<FacetsOut>> {
    let Query(q) = query?;
    let f = s.cordon.timeline_facets(&p, &r, &filter(q.filters()), q.top).await?;
    let list = |v: Vec<cordon_timeline::index::Facet>| {
        v.into_iter()
            .map(|f| FacetOut {
                value: f.value,
                count: f.count,
            })
            .collect()
    };
    Ok(Json(FacetsOut {
        total: f.total,
        ips: list(f.ips),
        users: list(f.users),
        hosts: list(f.hosts),
        kinds: list(f.kinds),
    }))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/timeline/export", tag = "timeline",
    params(("ref" = String, Path, description = "incident id or codename"), ExportQuery),
    responses(
        (status = 200, description = "every matching event in time order, streamed: JSON lines (`application/x-ndjson`) or Timesketch CSV (`text/csv`)", content(
            (String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = [])))]
async fn export_timeline(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => ExportFormat::Jsonl,
        Some(name) => ExportFormat::from_name(name).ok_or_else(|| {
            Problem::from(cordon_service::ServiceError::invalid(
                "format",
                format!("`{name}` is not `jsonl` or `timesketch-csv`"),
            ))
        })?,
    };
    let stream = s.cordon.timeline_export(&p, &r, &filter(q.filters()), format).await?;
    let disposition = format!("attachment; filename=\"timeline.{}\"", format.extension());
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
