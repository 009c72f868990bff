//! The shared outbound HTTP client (reqwest over rustls): the outbound address policy,
//! timeouts, bounded response bodies, and the mapping of outcomes to transient and permanent
//! [`ChannelError`]s that say what happened — a status, `timed out`, `could not connect`,
//! `refused: …` — and never what the peer wrote.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode, Url, header};

use crate::error::{ChannelError, DeliveryFailure};
use crate::outbound::{OutboundError, OutboundPolicy, PinnedResolver};

/// At most this much of a webhook, SMS gateway or Slack answer is read (64 KiB): their
/// status is what counts, and Slack's `{"ok":false,"error":"…"}` is tiny.
pub const DELIVERY_BODY_LIMIT: usize = 64 * 1024;

/// Timeouts of the outbound client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// The whole request, from sending to reading the body. Matrix long polls add their
    /// poll timeout on top of this.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(15),
        }
    }
}

/// A pooled HTTP client shared by every outbound channel. Cheap to clone.
///
/// Every connection it makes passes the [`OutboundPolicy`]: names through its resolver
/// (resolved once; only allowed addresses are connected to), IP literals before the request
/// is built. It does not follow redirects (a webhook that redirects is a configuration error,
/// a redirect must not carry a bearer token elsewhere, and it could lead past the policy)
/// and ignores proxy settings (a proxy would resolve names where the policy cannot see).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    pub(crate) timeouts: Timeouts,
    policy: Arc<OutboundPolicy>,
}

impl HttpTransport {
    /// Builds the client under `policy`.
    pub fn new(timeouts: Timeouts, policy: OutboundPolicy) -> Result<Self, ChannelError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PinnedResolver(policy.clone())))
            .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ChannelError::invalid("http client", e.without_url().to_string()))?;
        Ok(Self {
            client,
            timeouts,
            policy,
        })
    }

    /// The timeouts this transport was built with.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The outbound policy this transport enforces.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }

    /// Checks a target when it is configured (a webhook contact being added): every address
    /// of its host must be allowed. Bounded by the connect timeout.
    pub async fn check_target(&self, url: &Url) -> Result<(), ChannelError> {
        match tokio::time::timeout(self.timeouts.connect, self.policy.check_target(url)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(outbound_error(e)),
            Err(_) => Err(ChannelError::Transient(failure(None, "timed out resolving the host"))),
        }
    }

    /// A request to `url`, once its host passes the policy if it is an IP literal (names are
    /// checked by the resolver when the request connects).
    pub(crate) fn request(&self, method: Method, url: &Url) -> Result<RequestBuilder, ChannelError> {
        self.policy
            .check_url_literal(url)
            .map_err(|r| outbound_error(r.into()))?;
        Ok(self.client.request(method, url.clone()))
    }
}

/// Parses and checks an outbound target URL: `http` or `https`, with a host.
pub fn parse_target_url(field: &'static str, raw: &str) -> Result<Url, ChannelError> {
    let url = Url::parse(raw.trim()).map_err(|e| ChannelError::invalid(field, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ChannelError::invalid(field, "the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ChannelError::invalid(field, "the URL has no host"));
    }
    Ok(url)
}

fn failure(status: Option<u16>, reason: &str) -> DeliveryFailure {
    DeliveryFailure {
        status,
        code: None,
        retry_after: None,
        reason: reason.to_owned(),
    }
}

/// A policy refusal is permanent (the same address stays refused); a name that does not
/// resolve may resolve later.
fn outbound_error(e: OutboundError) -> ChannelError {
    match e {
        OutboundError::Refused(r) => ChannelError::Refused(r),
        OutboundError::Unresolved => ChannelError::Transient(failure(None, "could not resolve the host")),
    }
}

/// Maps a reqwest error (no response) to a delivery error with a fixed reason: the URL is
/// stripped (incoming-webhook paths are secrets) and nothing from the peer is kept. A refusal
/// of the outbound policy, raised inside the resolver, is found in the error's sources.
pub(crate) fn transport_error(err: reqwest::Error) -> ChannelError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(o) = e.downcast_ref::<OutboundError>() {
            return outbound_error(o.clone());
        }
        source = e.source();
    }
    let status = err.status().map(|s| s.as_u16());
    let (transient, reason) = if err.is_timeout() {
        (true, "timed out")
    } else if err.is_connect() {
        (true, "could not connect")
    } else if err.is_body() || err.is_decode() {
        (true, "the response broke off")
    } else if err.is_request() {
        (true, "the request failed")
    } else if err.is_redirect() {
        (false, "redirected")
    } else {
        (false, "the request could not be made")
    };
    let failure = failure(status, reason);
    if transient {
        ChannelError::Transient(failure)
    } else {
        ChannelError::Permanent(failure)
    }
}

/// Whether a status is worth retrying: 5xx, 408 Request Timeout, 429 Too Many Requests.
pub(crate) fn status_is_transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS
}

/// `Retry-After` in seconds, when present.
pub(crate) fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A response body read up to a limit.
pub(crate) struct Body {
    pub bytes: Vec<u8>,
    /// The peer had more to say than the limit; the rest was not read.
    pub truncated: bool,
}

/// Reads at most `limit` bytes of the body, chunk by chunk, and drops the connection when
/// the peer has more (a declared `Content-Length` over the limit is not read at all). Memory
/// stays bounded by the limit however long the peer streams; time, by the request timeout.
pub(crate) async fn read_limited(mut response: Response, limit: usize) -> Result<Body, ChannelError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(Body {
            bytes: Vec::new(),
            truncated: true,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        let room = limit - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Body { bytes, truncated: true });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes,
        truncated: false,
    })
}

/// The error for a non-2xx status: `HTTP 500`, transient or permanent by [`status_is_transient`].
pub(crate) fn status_error(status: StatusCode, retry: Option<Duration>) -> ChannelError {
    let failure = DeliveryFailure {
        status: Some(status.as_u16()),
        code: None,
        retry_after: retry,
        reason: String::new(),
    };
    if status_is_transient(status) {
        ChannelError::Transient(failure)
    } else {
        ChannelError::Permanent(failure)
    }
}

/// Judges a delivery by its status alone: `Ok` on 2xx, else the status error. At most
/// [`DELIVERY_BODY_LIMIT`] of the body is read (so the connection can be reused) and
/// nothing of it is kept; a 2xx whose body breaks off still counts as delivered.
pub(crate) async fn read_status(response: Response) -> Result<(), ChannelError> {
    let status = response.status();
    let retry = retry_after(&response);
    let _ = read_limited(response, DELIVERY_BODY_LIMIT).await;
    if status.is_success() {
        Ok(())
    } else {
        Err(status_error(status, retry))
    }
}
