//! The shared outbound HTTP client (reqwest over rustls) with timeouts, and the mapping of
//! its outcomes to transient and permanent [`ChannelError`]s.

use std::time::Duration;

use reqwest::{Response, StatusCode, Url, header};

use crate::error::{ChannelError, DeliveryFailure};

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
/// It does not follow redirects (a webhook that redirects is a configuration error, and a
/// redirect must not carry a bearer token elsewhere) and reads no proxy settings.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    pub(crate) client: reqwest::Client,
    pub(crate) timeouts: Timeouts,
}

impl HttpTransport {
    /// Builds the client.
    pub fn new(timeouts: Timeouts) -> Result<Self, ChannelError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ChannelError::invalid("http client", e.without_url().to_string()))?;
        Ok(Self { client, timeouts })
    }

    /// The timeouts this transport was built with.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
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

/// Maps a reqwest error (no response) to a delivery error. The URL is stripped: it may hold
/// a secret (incoming-webhook paths do).
pub(crate) fn transport_error(err: reqwest::Error) -> ChannelError {
    let status = err.status().map(|s| s.as_u16());
    let transient = err.is_timeout() || err.is_connect() || err.is_request() || err.is_body();
    let reason = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        err.without_url().to_string()
    };
    let failure = DeliveryFailure {
        status,
        code: None,
        retry_after: None,
        reason,
    };
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

/// The first `max` characters of a response body, single-line, for error reasons.
pub(crate) fn snippet(body: &str, max: usize) -> String {
    let mut s: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if body.chars().count() > max {
        s.push('…');
    }
    s.trim().to_owned()
}

/// Reads a response: `Ok(body)` on 2xx, otherwise the matching delivery error.
pub(crate) async fn read_response(response: Response) -> Result<String, ChannelError> {
    let status = response.status();
    let retry = retry_after(&response);
    let body = response.text().await.map_err(transport_error)?;
    if status.is_success() {
        return Ok(body);
    }
    let failure = DeliveryFailure {
        status: Some(status.as_u16()),
        code: None,
        retry_after: retry,
        reason: snippet(&body, 200),
    };
    Err(if status_is_transient(status) {
        ChannelError::Transient(failure)
    } else {
        ChannelError::Permanent(failure)
    })
}
