//! The war-room conversation and the live change streams (issue 15).
//!
//! `POST/GET /api/v1/incidents/{ref}/messages` post to and page through an incident's
//! conversation (newest first). `GET /api/v1/incidents/{ref}/events` and `GET /api/v1/events`
//! are server-sent event streams of the change feed (`cordon_service::feed`): one incident's
//! changes, or those of every incident the caller may see. Each stream runs in a task of its
//! own that, for every change it pushes, first authenticates the request's credentials again
//! (a revoked token, an ended session or a disabled user ends the stream) and passes the change
//! through the gate for that caller (a member removed stops receiving at once: their
//! one-incident stream ends; the all-incidents stream skips what they may not see). A stream
//! opens with a `ready` event, sends a comment every [`HEARTBEAT`], resumes after
//! `Last-Event-ID` (an audit sequence number: the same on every node), and catches up from the
//! audit log when it falls behind the feed (or says `resync` when too much was missed). A user
//! holds at most [`MAX_STREAMS_PER_USER`] streams per node (429 `too_many_streams`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use cordon_i18n::Lang;
use cordon_service::Principal;
use cordon_service::feed::{Change, MAX_STREAMS_PER_USER, Subscription};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use cordon_api::room::*;

use crate::pagination::{Page, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::FromService;

/// A comment line this often keeps proxies from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// The most audit entries a stream reads to replay what a client missed; past it, `resync`.
const REPLAY_MAX: u32 = 10_000;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_message, list_messages))
        .routes(routes!(incident_events))
        .routes(routes!(all_events))
}

/// The query of the conversation, paged by sequence number (the extractor is [`Paging`]).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MessagePageParams {
    /// Messages per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Where the page starts: take it from the previous page's `Link: <…>; rel="next"`.
    #[param(pattern = "^[0-9]{0,18}$")]
    cursor: Option<String>,
}

/// Where a stream resumes.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct ResumeHeader {
    /// The id of the last event received (a browser's `EventSource` sends it when it
    /// reconnects): the changes after it are sent first.
    #[param(rename = "Last-Event-ID", pattern = "^[0-9]{1,18}$", nullable = false)]
    last_event_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/messages", tag = "live", request_body = PostMessage,
    params(("ref" = String, Path, description = "incident id, or codename in any case with spaces or hyphens")),
    responses(
        (status = 201, description = "the message, and Cordon's reply when it was a chat command", body = PostedOut),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, description = "`invalid_field` `body`: blank, over 4096 bytes, or holding control or invisible formatting characters", body = Problem),
    ),
    security(("bearer" = [])))]
async fn post_message(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<PostMessage>,
) -> ApiResult<Response> {
    // Cordon answers a command in its author's language: their setting, else (the page's
    // script posts here) the browser's.
    let browser = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language);
    Ok(created(PostedOut::from_service(
        s.cordon.post_message(&p, &r, &b.body, browser).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/messages", tag = "live",
    params(MessagePageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, description = "the war-room conversation, newest first", body = Vec<MessageOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_messages(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<MessageOut>> {
    let before = match paging.position() {
        None => None,
        Some(pos) => Some(
            pos.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && pos.len() <= 18)
                .ok_or_else(|| paging.invalid())?,
        ),
    };
    let messages = s.cordon.messages(&p, &r, before, paging.limit + 1).await?;
    Ok(paging
        .keyset(messages, |m| m.seq.to_string())
        .map(MessageOut::from_service))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/events", tag = "live",
    params(ResumeHeader, ("ref" = String, Path, description = "incident id or codename")),
    responses(
        (status = 200, description = "server-sent events: `ready`, then a `change` for each change of the incident, a `: heartbeat` comment every 15 s; the stream ends when the caller may no longer see the incident", content_type = "text/event-stream", body = StreamEvent),
        (status = 404, body = Problem),
        (status = 422, description = "`invalid_field` `Last-Event-ID`: not an event id this stream sent", body = Problem),
        (status = 429, description = "`too_many_streams`: the caller holds as many streams as one user may", body = Problem),
    ),
    security(("bearer" = [])))]
async fn incident_events(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    parts: Parts,
) -> ApiResult<Response> {
    let resume = last_event_id(&parts)?;
    let incident = s.cordon.watch_incident(&p, &r).await?;
    open_stream(s, p, parts, Some(incident), resume)
}

#[utoipa::path(get, path = "/api/v1/events", tag = "live", params(ResumeHeader),
    responses(
        (status = 200, description = "server-sent events: `ready`, then a `change` for each change of every incident the caller may see at that moment (and for their own removal from an incident's team), a `: heartbeat` comment every 15 s", content_type = "text/event-stream", body = StreamEvent),
        (status = 422, description = "`invalid_field` `Last-Event-ID`: not an event id this stream sent", body = Problem),
        (status = 429, description = "`too_many_streams`: the caller holds as many streams as one user may", body = Problem),
    ),
    security(("bearer" = [])))]
async fn all_events(State(s): State<AppState>, Caller(p): Caller, parts: Parts) -> ApiResult<Response> {
    let resume = last_event_id(&parts)?;
    open_stream(s, p, parts, None, resume)
}

fn last_event_id(parts: &Parts) -> Result<Option<i64>, Problem> {
    let Some(v) = parts.headers.get("last-event-id") else {
        return Ok(None);
    };
    // A browser sends the header only with an id it was given; an empty one is not one.
    let text = v.to_str().unwrap_or("\u{0}").trim();
    text.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0 && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()))
        .map(Some)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "Last-Event-ID: must be the id of an event this stream sent (a sequence number)",
            )
            .with("field", "Last-Event-ID".into())
        })
}

fn open_stream(
    s: AppState,
    p: Principal,
    parts: Parts,
    incident: Option<Uuid>,
    resume: Option<i64>,
) -> ApiResult<Response> {
    let slot = s.cordon.open_stream(&p).ok_or_else(|| {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!("at most {MAX_STREAMS_PER_USER} change streams per user at once; close one (a browser tab) first"),
        )
    })?;
    let sub = s.cordon.subscribe_changes().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "live changes are not available right now; try again shortly",
        )
    })?;
    let (tx, rx) = mpsc::channel::<Event>(64);
    let stream = Stream {
        state: s,
        parts,
        principal: p,
        incident,
        tx,
    };
    tokio::spawn(async move {
        let _slot = slot;
        stream.run(sub, resume).await;
    });
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    let mut res = Sse::new(events).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// What woke a stream's task.
enum Wake {
    Closed,
    Beat,
    Change(Result<Change, broadcast::error::RecvError>),
}

/// Why a stream ends.
enum End {
    /// The client went away, or the feed closed.
    Gone,
}

/// One open stream: the request it answers (to authenticate again), whose it is, and what it
/// watches (`incident`, or every incident when `None`).
struct Stream {
    state: AppState,
    parts: Parts,
    principal: Principal,
    incident: Option<Uuid>,
    tx: mpsc::Sender<Event>,
}

impl Stream {
    async fn run(mut self, mut sub: Subscription, resume: Option<i64>) {
        let ready = Event::default()
            .event("ready")
            .data(json!({ "seq": sub.position }).to_string());
        if self.send(ready).await.is_err() {
            return;
        }
        // The last feed position dealt with (pushed or not).
        let mut seen = sub.position;
        if let Some(after) = resume
            && after < sub.position
            && self.catch_up(after, sub.position).await.is_err()
        {
            return;
        }
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        loop {
            let wake = tokio::select! {
                () = self.tx.closed() => Wake::Closed,
                _ = heartbeat.tick() => Wake::Beat,
                r = sub.changes.recv() => Wake::Change(r),
            };
            let outcome = match wake {
                Wake::Closed | Wake::Change(Err(broadcast::error::RecvError::Closed)) => Err(End::Gone),
                Wake::Beat => self.beat().await,
                Wake::Change(Ok(c)) if c.seq <= seen => Ok(()),
                Wake::Change(Ok(c)) => {
                    seen = c.seq;
                    self.push(&c).await
                }
                Wake::Change(Err(broadcast::error::RecvError::Lagged(_))) => {
                    let now = self.state.cordon.changes_position();
                    let r = self.catch_up(seen, now).await;
                    seen = now;
                    r
                }
            };
            if outcome.is_err() {
                return;
            }
        }
    }

    async fn send(&self, e: Event) -> Result<(), End> {
        self.tx.send(e).await.map_err(|_| End::Gone)
    }

    /// The caller's credentials, authenticated again; the stream ends when they no longer are.
    async fn reauthenticate(&mut self) -> Result<(), End> {
        let mut parts = self.parts.clone();
        match Caller::from_request_parts(&mut parts, &self.state).await {
            Ok(Caller(p)) => {
                self.principal = p;
                Ok(())
            }
            Err(_) => Err(End::Gone),
        }
    }

    /// A heartbeat comment, after checking that the caller still is who they were (and, on a
    /// one-incident stream, may still see it).
    async fn beat(&mut self) -> Result<(), End> {
        self.reauthenticate().await?;
        if let Some(incident) = self.incident {
            let probe = Change {
                incident,
                seq: 0,
                kind: "incident",
                departed: None,
            };
            if !self.gate(&probe).await? {
                return Err(End::Gone);
            }
        }
        self.send(Event::default().comment("heartbeat")).await
    }

    /// Whether the caller may see the change's incident now (errors count as no).
    async fn gate(&self, c: &Change) -> Result<bool, End> {
        match self.state.cordon.may_see_change(&self.principal, c).await {
            Ok(yes) => Ok(yes),
            Err(e) => {
                tracing::warn!(error = %e, "a change stream could not check access; the change was not sent");
                Ok(false)
            }
        }
    }

    /// Pushes one change, if it is this stream's and the caller may see it now.
    async fn push(&mut self, c: &Change) -> Result<(), End> {
        if self.incident.is_some_and(|i| i != c.incident) {
            return Ok(());
        }
        self.reauthenticate().await?;
        if !self.gate(c).await? {
            // A one-incident stream whose caller lost sight of it ends; the browser's
            // reconnection then meets the same 404 as for an incident that never existed.
            if self.incident.is_some() {
                return Err(End::Gone);
            }
            // The all-incidents stream carries nothing of an incident its caller may not see,
            // except their own removal from its team (so an open list lets the row go).
            if c.departed != Some(self.principal.user_id) {
                return Ok(());
            }
        }
        let data = serde_json::to_string(&ChangeOut::from_service(c)).unwrap_or_default();
        self.send(Event::default().event("change").id(c.seq.to_string()).data(data))
            .await
    }

    /// Sends the changes after `after` up to `until` from the audit log, or `resync` when more
    /// than [`REPLAY_MAX`] entries lie between.
    async fn catch_up(&mut self, after: i64, until: i64) -> Result<(), End> {
        match self.state.cordon.changes_after(after, until, REPLAY_MAX).await {
            Ok(Some(changes)) => {
                for c in &changes {
                    self.push(c).await?;
                }
                Ok(())
            }
            Ok(None) => {
                self.send(
                    Event::default()
                        .event("resync")
                        .data(json!({ "seq": until }).to_string()),
                )
                .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "a change stream could not read the audit log; asking the client to resync");
                self.send(
                    Event::default()
                        .event("resync")
                        .data(json!({ "seq": until }).to_string()),
                )
                .await
            }
        }
    }
}
