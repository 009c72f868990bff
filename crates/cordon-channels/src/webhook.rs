//! The generic outgoing webhook: a signed JSON POST that carries only a [`Notice`]
//! (codename, severity, link), and the verify function its receivers use.
//!
//! # Signature
//!
//! Each webhook contact has its own secret: Cordon draws 32 random bytes when the contact is
//! added and shows them once, as `whsec_<64 hex>`, in the answer to
//! `POST /api/v1/users/{name}/contacts` (field `secret`); `POST …/contacts/rotate-secret`
//! draws a new one. The HMAC key is that whole string's UTF-8 bytes, prefix included. No other
//! secret signs webhooks (not the Slack signing secret, not another contact's).
//!
//! ```text
//! X-Cordon-Timestamp: <Unix seconds>
//! X-Cordon-Signature: v1=<lower-case hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>
//! ```
//!
//! # Verifying as a receiver
//!
//! 1. Read the raw body bytes before any JSON parsing (re-serializing changes them).
//! 2. Reject a request without both headers, or whose timestamp is more than 5 minutes from
//!    your clock (a captured request cannot be replayed later).
//! 3. Compute `HMAC-SHA256(secret, timestamp + "." + body)`, hex-encode it, and compare it
//!    with the part after `v1=` in constant time (`hmac.compare_digest`,
//!    `crypto.timingSafeEqual`, `subtle::ConstantTimeEq`).
//! 4. Optionally remember `(timestamp, signature)` pairs for 5 minutes to refuse exact replays.
//!
//! In Python:
//!
//! ```text
//! mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
//! ok = abs(time.time() - int(ts)) <= 300 and hmac.compare_digest("v1=" + mac, sig)
//! ```
//!
//! In Rust, [`verify_webhook`] (or [`verify_webhook_headers`]) does steps 2 and 3.
//!
//! # What the sender does with the answer
//!
//! Any 2xx is delivered; anything else is a failure that records only the status
//! (`HTTP 500`). At most [`crate::http::DELIVERY_BODY_LIMIT`] of the answer is read and
//! none of it is kept or shown. Redirects are not followed. The receiver's address must pass
//! the [`crate::outbound`] policy.

use jiff::Timestamp;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, Url};
use serde_json::json;

use crate::error::ChannelError;
use crate::http::{HttpTransport, parse_target_url, read_status, transport_error};
use crate::notice::Notice;
use crate::signature::{check_signature, check_timestamp, signature_header};

/// The timestamp header of an outgoing webhook.
pub const TIMESTAMP_HEADER: &str = "X-Cordon-Timestamp";
/// The signature header of an outgoing webhook.
pub const SIGNATURE_HEADER: &str = "X-Cordon-Signature";
/// The text of a test message ("send test" on a contact method).
pub const TEST_TEXT: &str = "Cordon test message: this contact method receives incident pages.";

/// What a webhook may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookMessage {
    /// Someone is paged about an incident.
    Page(Notice),
    /// A "send test" from the contact method's settings.
    Test,
}

impl WebhookMessage {
    /// The exact body bytes that are signed and sent:
    ///
    /// ```json
    /// {"type":"page","codename":"Sapphire Unicorn","severity":"SEV-1",
    ///  "link":"https://…","text":"SEV-1 Sapphire Unicorn: join the secure room https://…",
    ///  "sent_at":"2026-01-01T00:00:00Z"}
    /// {"type":"test","text":"Cordon test message: …","sent_at":"…"}
    /// ```
    pub fn to_json(&self, now: Timestamp) -> Vec<u8> {
        let value = match self {
            Self::Page(n) => json!({
                "type": "page",
                "codename": n.codename.to_string(),
                "severity": n.severity.to_string(),
                "link": n.link.as_str(),
                "text": n.text(),
                "sent_at": now.to_string(),
            }),
            Self::Test => json!({
                "type": "test",
                "text": TEST_TEXT,
                "sent_at": now.to_string(),
            }),
        };
        serde_json::to_vec(&value).expect("a JSON value serializes")
    }
}

/// The `v1=<hex>` signature of `body` sent at `timestamp` (Unix seconds).
pub fn sign_webhook(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    signature_header(secret, "v1", &[ts.as_bytes(), b".", body])
}

/// Verifies a Cordon webhook as its receiver: both headers present, timestamp within
/// ±5 minutes of `now`, signature equal (constant-time) to [`sign_webhook`] of the raw body.
pub fn verify_webhook(
    secret: &[u8],
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    now: Timestamp,
) -> Result<(), ChannelError> {
    let ts = timestamp_header.ok_or(ChannelError::MissingHeader(TIMESTAMP_HEADER))?;
    let sig = signature_header.ok_or(ChannelError::MissingHeader(SIGNATURE_HEADER))?;
    check_timestamp(ts, now)?;
    check_signature(secret, "v1", sig, &[ts.trim().as_bytes(), b".", body])
}

/// [`verify_webhook`] reading the two headers from a header map (axum's `HeaderMap` is the
/// same type).
pub fn verify_webhook_headers(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<(), ChannelError> {
    verify_webhook(
        secret,
        header_str(headers, TIMESTAMP_HEADER)?,
        header_str(headers, SIGNATURE_HEADER)?,
        body,
        now,
    )
}

/// A header's value as text; a non-text value counts as malformed.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ChannelError> {
    headers
        .get(name)
        .map(|v| v.to_str().map_err(|_| ChannelError::MalformedSignature))
        .transpose()
}

/// One configured webhook target.
pub struct WebhookClient {
    http: HttpTransport,
    url: Url,
    secret: Vec<u8>,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient")
            .field("host", &self.url.host_str())
            .finish_non_exhaustive()
    }
}

impl WebhookClient {
    /// A webhook to `url` (http or https) signed with `secret` (not empty).
    pub fn new(http: &HttpTransport, url: &str, secret: impl Into<Vec<u8>>) -> Result<Self, ChannelError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(ChannelError::invalid("webhook secret", "must not be empty"));
        }
        Ok(Self {
            http: http.clone(),
            url: parse_target_url("webhook url", url)?,
            secret,
        })
    }

    /// POSTs the message, signed at `now`. Any 2xx is success.
    pub async fn send(&self, message: &WebhookMessage, now: Timestamp) -> Result<(), ChannelError> {
        let body = message.to_json(now);
        post_signed(&self.http, &self.url, &self.secret, None, body, now).await
    }
}

/// POSTs a JSON body with the `X-Cordon-*` signature headers (and a bearer token if given).
pub(crate) async fn post_signed(
    http: &HttpTransport,
    url: &Url,
    secret: &[u8],
    bearer: Option<&str>,
    body: Vec<u8>,
    now: Timestamp,
) -> Result<(), ChannelError> {
    let ts = now.as_second();
    let mut request = http
        .request(Method::POST, url)?
        .header(CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, ts.to_string());
    if !secret.is_empty() {
        request = request.header(SIGNATURE_HEADER, sign_webhook(secret, ts, &body));
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.body(body).send().await.map_err(transport_error)?;
    read_status(response).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::SecureLink;
    use cordon_core::codename::Codename;

    fn now() -> Timestamp {
        Timestamp::from_second(1_767_225_600).unwrap()
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let body = br#"{"type":"test"}"#;
        let sig = sign_webhook(b"s3cret", 1_767_225_600, body);
        assert!(sig.starts_with("v1=") && sig.len() == 67);
        assert_eq!(
            sig,
            format!(
                "v1={}",
                hex::encode(crate::signature::hmac_sha256(b"s3cret", &[b"1767225600.", body]))
            )
        );
        assert!(verify_webhook(b"s3cret", Some("1767225600"), Some(&sig), body, now()).is_ok());
        assert_eq!(
            verify_webhook(b"other", Some("1767225600"), Some(&sig), body, now()),
            Err(ChannelError::BadSignature)
        );
        assert_eq!(
            verify_webhook(b"s3cret", Some("1767225600"), Some(&sig), b"{}", now()),
            Err(ChannelError::BadSignature)
        );
        assert_eq!(
            verify_webhook(b"s3cret", None, Some(&sig), body, now()),
            Err(ChannelError::MissingHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify_webhook(b"s3cret", Some("1767225600"), None, body, now()),
            Err(ChannelError::MissingHeader(SIGNATURE_HEADER))
        );
        let later = now().checked_add(jiff::SignedDuration::from_secs(301)).unwrap();
        assert_eq!(
            verify_webhook(b"s3cret", Some("1767225600"), Some(&sig), body, later),
            Err(ChannelError::StaleTimestamp { skew_secs: 301 })
        );
    }

    #[test]
    fn page_body_holds_only_codename_severity_and_link() {
        let notice = Notice::new(
            Codename::from_key("sapphire-unicorn").unwrap(),
            "SEV-2".parse().unwrap(),
            SecureLink::parse("https://cordon.example/r/7").unwrap(),
        );
        let body: serde_json::Value = serde_json::from_slice(&WebhookMessage::Page(notice).to_json(now())).unwrap();
        let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["codename", "link", "sent_at", "severity", "text", "type"]);
        assert_eq!(body["codename"], "Sapphire Unicorn");
        assert_eq!(body["severity"], "SEV-2");
        assert_eq!(body["sent_at"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn empty_secret_and_bad_urls_are_refused() {
        let http = HttpTransport::new(Default::default(), crate::OutboundPolicy::strict()).unwrap();
        assert!(WebhookClient::new(&http, "https://example.test/h", "").is_err());
        assert!(WebhookClient::new(&http, "file:///etc/passwd", "k").is_err());
        assert!(WebhookClient::new(&http, "not a url", "k").is_err());
        let c = WebhookClient::new(&http, "https://example.test/h/secret-path", "k").unwrap();
        assert!(!format!("{c:?}").contains("secret-path"));
    }
}
