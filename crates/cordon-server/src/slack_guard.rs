//! The gate in front of the Slack-compatible routes (issue 12, finding 6): a request reaches a
//! handler only once, and only with a valid signature.
//!
//! - The signature and its five-minute window are checked on the raw body.
//! - A verified request is taken by its key in the store (`see_once`, migration 0011) until
//!   it could no longer verify: the same signed request a second time is refused (401
//!   `replayed_request`), on this node or any other sharing the database. An Events API
//!   delivery is also taken by its `event_id` for an hour: Slack redelivers an event it thinks
//!   was lost (`X-Slack-Retry-Num`, signed anew), and that redelivery is acknowledged with 200
//!   without running the command again.
//! - Refusals (bad or missing signature, stale timestamp, replay) are counted per source
//!   address; past the budget of an interval a source gets 429 with `Retry-After` (a valid
//!   request always passes, so Slack is never locked out behind a proxy). They are audited in
//!   aggregate: one `slack.request.refused` entry per interval with the count, a sample reason
//!   and the busiest sources, not one chain entry (and one chain lock) each.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cordon_channels::slack::event_id;
use cordon_service::Cordon;
use serde_json::json;

use crate::problem::Problem;
use crate::{AppState, JSON_BODY_LIMIT};

/// The routes behind the gate.
const SLACK_PREFIX: &str = "/api/v1/slack/";
const EVENTS_PATH: &str = "/api/v1/slack/events";
/// How long an Events API `event_id` is remembered: Slack's redeliveries come within minutes.
const EVENT_MEMORY_SECS: i64 = 3600;
/// Sources named in one summary at most.
const SOURCES_PER_SUMMARY: usize = 16;
/// Sources counted per interval at most (beyond, new sources share one bucket).
const SOURCES_TRACKED: usize = 4096;

/// How refused Slack requests are limited and audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlackRefusalLimits {
    /// One audit entry sums up the refusals of this long.
    pub audit_interval: Duration,
    /// Refusals a source gets per interval before it is answered 429.
    pub per_source: u32,
}

impl Default for SlackRefusalLimits {
    fn default() -> Self {
        Self {
            audit_interval: Duration::from_secs(60),
            per_source: 20,
        }
    }
}

/// The refusals of the current interval.
#[derive(Debug, Default)]
struct Interval {
    count: u64,
    sample: String,
    by_source: HashMap<Option<IpAddr>, u64>,
    first_at: Option<cordon_core::Timestamp>,
}

#[derive(Debug)]
pub(crate) struct SlackGuard {
    limits: SlackRefusalLimits,
    current: Mutex<Option<Interval>>,
}

impl SlackGuard {
    pub(crate) fn new(limits: SlackRefusalLimits) -> Self {
        Self {
            limits,
            current: Mutex::new(None),
        }
    }

    /// Counts a refusal; true when `source` is over its budget. The first refusal of an
    /// interval schedules its summary.
    fn count(self: &Arc<Self>, cordon: &Cordon, source: Option<IpAddr>, reason: &str) -> bool {
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let interval = current.get_or_insert_with(|| {
            let guard = self.clone();
            let summarizer = cordon.clone();
            tokio::spawn(async move {
                tokio::time::sleep(guard.limits.audit_interval).await;
                guard.flush(&summarizer).await;
            });
            Interval {
                first_at: Some(cordon.clock().now()),
                sample: reason.to_owned(),
                ..Interval::default()
            }
        });
        interval.count += 1;
        let key = if interval.by_source.len() < SOURCES_TRACKED || interval.by_source.contains_key(&source) {
            source
        } else {
            None
        };
        let seen = interval.by_source.entry(key).or_insert(0);
        *seen += 1;
        *seen > u64::from(self.limits.per_source)
    }

    /// Audits the interval's refusals as one entry.
    async fn flush(&self, cordon: &Cordon) {
        let Some(interval) = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        else {
            return;
        };
        let mut sources: Vec<(String, u64)> = interval
            .by_source
            .into_iter()
            .map(|(ip, n)| (ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()), n))
            .collect();
        sources.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        sources.truncate(SOURCES_PER_SUMMARY);
        let summary = json!({
            "count": interval.count,
            "reason": interval.sample,
            "first_at": interval.first_at.map(|t| t.to_string()),
            "interval_seconds": self.limits.audit_interval.as_secs(),
            "sources": sources.into_iter().collect::<BTreeMap<_, _>>(),
        });
        if let Err(e) = cordon.audit_refused_summary("slack", "slack.request", summary).await {
            tracing::error!(error = %e, count = interval.count, "could not audit refused Slack requests");
        }
    }
}

fn refused(status: StatusCode, code: &str, detail: String, retry_after: Option<Duration>) -> Response {
    let mut res = Problem::new(status, code, detail).into_response();
    if let Some(after) = retry_after
        && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
    {
        res.headers_mut().insert(RETRY_AFTER, v);
    }
    res
}

/// The middleware: see the module documentation.
pub(crate) async fn gate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(SLACK_PREFIX) {
        return next.run(req).await;
    }
    // Without Slack configured the handlers answer 404 themselves.
    let Some(slack) = s.slack.clone() else {
        return next.run(req).await;
    };
    let source = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, JSON_BODY_LIMIT).await else {
        return Problem::for_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large or broke off",
        )
        .into_response();
    };
    let cordon = &s.cordon;
    let refuse = |reason: String, code: &str| {
        let over = s.slack_guard.count(cordon, source, &reason);
        if over {
            refused(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many refused requests from this address; try again later".into(),
                Some(s.slack_guard.limits.audit_interval),
            )
        } else {
            refused(StatusCode::UNAUTHORIZED, code, reason, None)
        }
    };
    let verified = match slack.verifier.check(&parts.headers, &bytes, cordon.clock().now()) {
        Ok(v) => v,
        Err(e) => return refuse(e.to_string(), "bad_signature"),
    };
    if parts.uri.path() == EVENTS_PATH
        && let Some(id) = event_id(&bytes)
    {
        let until = cordon.clock().now() + jiff::SignedDuration::from_secs(EVENT_MEMORY_SECS);
        match cordon.see_once("slack.event", &id, until).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(event_id = %id, retry = ?parts.headers.get(cordon_channels::slack::RETRY_NUM_HEADER),
                    "Slack event delivered again; acknowledged, not run twice");
                return Json(json!({})).into_response();
            }
            Err(e) => return Problem::from(e).into_response(),
        }
    }
    match cordon
        .see_once("slack.request", &verified.replay_key, verified.replayable_until)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return refuse("this signed request was received before".into(), "replayed_request");
        }
        Err(e) => return Problem::from(e).into_response(),
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
