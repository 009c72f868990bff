//! The Slack-compatible channel: verifying inbound requests (`X-Slack-Signature` v0 with a
//! 5-minute replay window), parsing Events API and slash-command bodies, and posting
//! messages out (incoming webhooks or a `chat.postMessage`-compatible endpoint).
//!
//! The HTTP routes live in the server; a handler does, in this order:
//!
//! 1. [`SlackVerifier::check`] on the raw body bytes (401 on error), then remembers the
//!    [`VerifiedRequest::replay_key`] until [`VerifiedRequest::replayable_until`] and refuses
//!    the same signed request a second time; an Events API delivery is also remembered by its
//!    [`event_id`], since Slack redelivers an event (`X-Slack-Retry-Num`) signed anew;
//! 2. [`parse_event`] (Events API, JSON) or [`parse_slash_command`] (form body);
//! 3. answers `url_verification` with the challenge, runs [`SlackMessage::command`] /
//!    [`SlashCommand::command`] through the dispatcher, and replies with
//!    [`SlackClient::post_message`] or, for a slash command, the [`slash_response`] body.

use std::fmt;

use jiff::Timestamp;
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::command::{self, Command};
use crate::error::{ChannelError, DeliveryFailure};
use crate::http::{
    DELIVERY_BODY_LIMIT, HttpTransport, parse_target_url, read_limited, retry_after, status_is_transient,
    transport_error,
};
use crate::signature::{REPLAY_WINDOW_SECS, check_signature, check_timestamp, signature_header};
use crate::webhook::header_str;

/// Slack's signature header.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// Slack's timestamp header.
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
/// How many times Slack has redelivered an Events API request (absent on the first try).
pub const RETRY_NUM_HEADER: &str = "X-Slack-Retry-Num";

/// A request that passed [`SlackVerifier::check`], with what it takes to act on it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// Names the signed request (hex SHA-256 of the signed base string `v0:{ts}:{body}`): the
    /// same bytes replayed have the same key, however the signature header is spelled.
    pub replay_key: String,
    /// Until when the same request would still verify: remember the key at least that long.
    pub replayable_until: Timestamp,
}

/// Verifies inbound Slack requests with the app's signing secret
/// (`CORDON_SLACK_SIGNING_SECRET`).
#[derive(Clone)]
pub struct SlackVerifier {
    secret: Vec<u8>,
}

impl fmt::Debug for SlackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SlackVerifier { .. }")
    }
}

impl SlackVerifier {
    /// A verifier for `signing_secret`, which must not be empty.
    pub fn new(signing_secret: impl Into<Vec<u8>>) -> Result<Self, ChannelError> {
        let secret = signing_secret.into();
        if secret.is_empty() {
            return Err(ChannelError::invalid("slack signing secret", "must not be empty"));
        }
        Ok(Self { secret })
    }

    /// The `v0=<hex>` signature Slack sends for `body` at `timestamp`:
    /// HMAC-SHA256 over `v0:{timestamp}:{body}`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        signature_header(&self.secret, "v0", &[b"v0:", timestamp.as_bytes(), b":", body])
    }

    /// Checks a request: both headers present, the timestamp within ±5 minutes of `now`
    /// (replays are refused with [`ChannelError::StaleTimestamp`]), and the signature equal,
    /// in constant time, to [`Self::sign`] of the raw body.
    pub fn verify(
        &self,
        timestamp_header: Option<&str>,
        signature_header: Option<&str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), ChannelError> {
        let ts = timestamp_header.ok_or(ChannelError::MissingHeader(TIMESTAMP_HEADER))?;
        let sig = signature_header.ok_or(ChannelError::MissingHeader(SIGNATURE_HEADER))?;
        check_timestamp(ts, now)?;
        check_signature(&self.secret, "v0", sig, &[b"v0:", ts.trim().as_bytes(), b":", body])
    }

    /// [`Self::verify`] reading the headers from a header map (axum's `HeaderMap`).
    pub fn verify_headers(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), ChannelError> {
        self.verify(
            header_str(headers, TIMESTAMP_HEADER)?,
            header_str(headers, SIGNATURE_HEADER)?,
            body,
            now,
        )
    }

    /// [`Self::verify_headers`], and what the caller must remember so that the request is
    /// acted on once: a signature only proves the bytes came from Slack at some time in the
    /// window, not that this is the first time they arrive.
    pub fn check(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<VerifiedRequest, ChannelError> {
        self.verify_headers(headers, body, now)?;
        let ts_header = header_str(headers, TIMESTAMP_HEADER)?.ok_or(ChannelError::MissingHeader(TIMESTAMP_HEADER))?;
        let ts = check_timestamp(ts_header, now)?;
        let mut digest = Sha256::new();
        digest.update(b"v0:");
        digest.update(ts_header.trim().as_bytes());
        digest.update(b":");
        digest.update(body);
        let replayable_until = Timestamp::from_second(ts.saturating_add(REPLAY_WINDOW_SECS + 1))
            .map_err(|_| ChannelError::MalformedSignature)?;
        Ok(VerifiedRequest {
            replay_key: hex::encode(digest.finalize()),
            replayable_until,
        })
    }
}

/// The `event_id` of an Events API envelope, if it has one (`url_verification` has none).
pub fn event_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        event_id: Option<String>,
    }
    serde_json::from_slice::<Id>(body)
        .ok()?
        .event_id
        .filter(|id| !id.is_empty() && id.len() <= 256)
}

/// A verified Events API delivery, reduced to what Cordon acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackEvent {
    /// `url_verification`: answer 200 with the challenge (as text, or `{"challenge": …}`).
    UrlVerification { challenge: String },
    /// A person's message in a channel.
    Message(SlackMessage),
    /// Something to acknowledge with 200 and otherwise ignore: bot messages (including our
    /// own replies), edits, deletions, joins, other event types.
    Ignored { reason: String },
}

/// A person's message from an `event_callback` of type `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    /// The envelope's `event_id`: Slack retries deliveries, so dedupe on it.
    pub event_id: Option<String>,
    pub team_id: Option<String>,
    pub channel: String,
    pub user: String,
    /// The text as Slack sends it (`&`, `<`, `>` escaped as `&amp;`, `&lt;`, `&gt;`;
    /// mentions as `<@U…>`).
    pub text: String,
    pub ts: String,
    pub thread_ts: Option<String>,
}

impl SlackMessage {
    /// The chat command in the message, if it is one.
    pub fn command(&self) -> Option<Command> {
        command::parse_chat_line(&self.text)
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    challenge: Option<String>,
    team_id: Option<String>,
    event_id: Option<String>,
    event: Option<Value>,
}

/// Parses an Events API body (after verification).
pub fn parse_event(body: &[u8]) -> Result<SlackEvent, ChannelError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| ChannelError::malformed(format!("Slack event: {e}")))?;
    let ignored = |reason: String| Ok(SlackEvent::Ignored { reason });
    match envelope.kind.as_str() {
        "url_verification" => {
            let challenge = envelope
                .challenge
                .ok_or_else(|| ChannelError::malformed("url_verification without challenge"))?;
            Ok(SlackEvent::UrlVerification { challenge })
        }
        "event_callback" => {
            let event = envelope
                .event
                .ok_or_else(|| ChannelError::malformed("event_callback without event"))?;
            let field = |name: &str| event.get(name).and_then(Value::as_str);
            let kind = field("type").unwrap_or_default();
            if kind != "message" {
                return ignored(format!("event type `{kind}`"));
            }
            if field("bot_id").is_some() || event.get("bot_profile").is_some() {
                return ignored("bot message".to_owned());
            }
            if let Some(subtype) = field("subtype") {
                return ignored(format!("message subtype `{subtype}`"));
            }
            let (Some(channel), Some(user), Some(ts)) = (field("channel"), field("user"), field("ts")) else {
                return Err(ChannelError::malformed("message event without channel, user or ts"));
            };
            Ok(SlackEvent::Message(SlackMessage {
                event_id: envelope.event_id,
                team_id: envelope.team_id,
                channel: channel.to_owned(),
                user: user.to_owned(),
                text: field("text").unwrap_or_default().to_owned(),
                ts: ts.to_owned(),
                thread_ts: field("thread_ts").map(str::to_owned),
            }))
        }
        other => ignored(format!("envelope type `{other}`")),
    }
}

/// A slash-command invocation (`application/x-www-form-urlencoded` body).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlashCommand {
    /// The command name with its slash, e.g. `/ic`.
    pub command: String,
    /// Everything after the command name, e.g. `page`.
    #[serde(default)]
    pub text: String,
    pub user_id: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub channel_id: String,
    #[serde(default)]
    pub channel_name: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default)]
    pub team_domain: Option<String>,
    /// Where delayed replies may be POSTed (for 30 minutes).
    #[serde(default)]
    pub response_url: Option<String>,
    #[serde(default)]
    pub trigger_id: Option<String>,
}

impl SlashCommand {
    /// The chat command: `/ic` + `page` is [`Command::PageCommander`], as `!ic page` is.
    pub fn command(&self) -> Command {
        command::parse_slash_command(&self.command, &self.text)
    }
}

/// Parses a slash-command form body (after verification).
pub fn parse_slash_command(body: &[u8]) -> Result<SlashCommand, ChannelError> {
    serde_urlencoded::from_bytes(body).map_err(|e| ChannelError::malformed(format!("Slack slash command: {e}")))
}

/// The JSON body to answer a slash command with: `ephemeral` (only the caller sees it) or
/// `in_channel`. The text is escaped with [`escape_text`].
pub fn slash_response(text: &str, in_channel: bool) -> Value {
    json!({
        "response_type": if in_channel { "in_channel" } else { "ephemeral" },
        "text": escape_text(text),
    })
}

/// Escapes `&`, `<` and `>` as Slack requires, so that text echoed from users cannot form
/// mentions such as `<!channel>` or links.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Posts messages to a Slack-compatible endpoint: an incoming-webhook URL (no token) or a
/// `chat.postMessage`-compatible URL with a bearer token.
pub struct SlackClient {
    http: HttpTransport,
    url: Url,
    bearer: Option<String>,
}

impl fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackClient")
            .field("host", &self.url.host_str())
            .field("bearer", &self.bearer.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl SlackClient {
    pub fn new(http: &HttpTransport, url: &str, bearer: Option<String>) -> Result<Self, ChannelError> {
        Ok(Self {
            http: http.clone(),
            url: parse_target_url("slack url", url)?,
            bearer: bearer.filter(|t| !t.is_empty()),
        })
    }

    /// POSTs `{"channel": channel, "text": escape_text(text)}`.
    ///
    /// Success is a 2xx whose body is not a JSON object with `"ok": false`. Slack-style
    /// refusals (`channel_not_found`, `invalid_auth`, …) are permanent; `ratelimited`,
    /// `internal_error`, `service_unavailable`, 429 and 5xx are transient. At most
    /// [`DELIVERY_BODY_LIMIT`] of the answer is read; of it, only a machine error code
    /// (lower-case letters, digits and `_`, at most 64) is kept, never free text.
    pub async fn post_message(&self, channel: &str, text: &str) -> Result<(), ChannelError> {
        let payload = json!({ "channel": channel, "text": escape_text(text) });
        self.post_to(&self.url, &payload).await
    }

    /// Whether this client can post ephemeral messages (it talks to the Web API's
    /// `chat.postMessage`, whose sibling is `chat.postEphemeral`; an incoming webhook cannot).
    pub fn can_post_ephemeral(&self) -> bool {
        self.ephemeral_url().is_some()
    }

    fn ephemeral_url(&self) -> Option<Url> {
        let path = self.url.path();
        let base = path.strip_suffix("chat.postMessage")?;
        let mut url = self.url.clone();
        url.set_path(&format!("{base}chat.postEphemeral"));
        Some(url)
    }

    /// Posts `{"channel", "user", "text"}` to `chat.postEphemeral`: a message only `user`
    /// sees in `channel`. Fails with [`ChannelError::Invalid`] on a client that cannot.
    pub async fn post_ephemeral(&self, channel: &str, user: &str, text: &str) -> Result<(), ChannelError> {
        let url = self.ephemeral_url().ok_or_else(|| {
            ChannelError::invalid(
                "slack url",
                "ephemeral replies need the Web API (a …/chat.postMessage URL), not an incoming webhook",
            )
        })?;
        let payload = json!({ "channel": channel, "user": user, "text": escape_text(text) });
        self.post_to(&url, &payload).await
    }

    async fn post_to(&self, url: &Url, payload: &Value) -> Result<(), ChannelError> {
        let mut request = self.http.request(Method::POST, url)?.json(payload);
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry = retry_after(&response);
        let body = read_limited(response, DELIVERY_BODY_LIMIT).await?.bytes;
        let api_error = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
            (v.get("ok") == Some(&Value::Bool(false))).then(|| {
                v.get("error")
                    .and_then(Value::as_str)
                    .filter(|c| is_error_code(c))
                    .unwrap_or("unknown_error")
                    .to_owned()
            })
        });
        if status.is_success() && api_error.is_none() {
            return Ok(());
        }
        // Incoming webhooks answer errors as plain-text codes (`channel_not_found`).
        let plain_code = std::str::from_utf8(&body)
            .ok()
            .filter(|b| is_error_code(b))
            .map(str::to_owned);
        let code = api_error.or(plain_code);
        let transient = status_is_transient(status)
            || matches!(
                code.as_deref(),
                Some("ratelimited" | "internal_error" | "service_unavailable" | "request_timeout" | "fatal_error")
            );
        let failure = DeliveryFailure {
            status: Some(status.as_u16()),
            reason: String::new(),
            code,
            retry_after: retry,
        };
        Err(if transient {
            ChannelError::Transient(failure)
        } else {
            ChannelError::Permanent(failure)
        })
    }
}

/// A Slack error code: `channel_not_found`, `invalid_auth`.
fn is_error_code(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    #[test]
    fn ephemeral_messages_go_to_the_sibling_web_api_method() {
        let http = HttpTransport::new(Default::default(), crate::OutboundPolicy::strict()).unwrap();
        let api = SlackClient::new(&http, "https://slack.example/api/chat.postMessage", Some("xoxb".into())).unwrap();
        assert_eq!(
            api.ephemeral_url().unwrap().as_str(),
            "https://slack.example/api/chat.postEphemeral"
        );
        let hook = SlackClient::new(&http, "https://hooks.slack.example/services/T/B/x", None).unwrap();
        assert!(!hook.can_post_ephemeral());
    }

    #[test]
    fn slack_published_example_vector() {
        let v = SlackVerifier::new(SECRET).unwrap();
        assert_eq!(v.sign(TS, BODY.as_bytes()), EXPECTED);
        assert_eq!(
            v.verify(Some(TS), Some(EXPECTED), BODY.as_bytes(), at(1_531_420_618)),
            Ok(())
        );
        // Anywhere inside the window, either way.
        assert!(
            v.verify(Some(TS), Some(EXPECTED), BODY.as_bytes(), at(1_531_420_618 + 300))
                .is_ok()
        );
        assert!(
            v.verify(Some(TS), Some(EXPECTED), BODY.as_bytes(), at(1_531_420_618 - 300))
                .is_ok()
        );
    }

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP_HEADER, ts.parse().unwrap());
        h.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        h
    }

    #[test]
    fn a_verified_request_is_named_by_what_was_signed() {
        let v = SlackVerifier::new(SECRET).unwrap();
        let now = at(1_531_420_618);
        let first = v.check(&headers(TS, EXPECTED), BODY.as_bytes(), now).unwrap();
        // The same MAC spelled in upper case is the same request.
        let shouted = format!("v0={}", EXPECTED[3..].to_ascii_uppercase());
        let again = v.check(&headers(TS, &shouted), BODY.as_bytes(), now).unwrap();
        assert_eq!(first.replay_key, again.replay_key);
        assert_eq!(first.replayable_until, at(1_531_420_618 + 301));
        let other_ts = "1531420619";
        let sig = v.sign(other_ts, BODY.as_bytes());
        let other = v.check(&headers(other_ts, &sig), BODY.as_bytes(), now).unwrap();
        assert_ne!(first.replay_key, other.replay_key);
        assert!(v.check(&headers(TS, "v0=00"), BODY.as_bytes(), now).is_err());
    }

    #[test]
    fn event_ids_are_read_from_the_envelope() {
        assert_eq!(
            event_id(br#"{"type":"event_callback","event_id":"Ev01","event":{}}"#).as_deref(),
            Some("Ev01")
        );
        assert_eq!(event_id(br#"{"type":"url_verification","challenge":"x"}"#), None);
        assert_eq!(event_id(b"not json"), None);
    }

    #[test]
    fn forged_and_stale_requests_are_refused() {
        let v = SlackVerifier::new(SECRET).unwrap();
        let now = at(1_531_420_618);
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            v.verify(Some(TS), Some(EXPECTED), tampered.as_bytes(), now),
            Err(ChannelError::BadSignature)
        );
        let other = SlackVerifier::new("not-the-secret").unwrap();
        assert_eq!(
            other.verify(Some(TS), Some(EXPECTED), BODY.as_bytes(), now),
            Err(ChannelError::BadSignature)
        );
        // The signature binds the timestamp: a fresh timestamp on an old signature fails.
        assert_eq!(
            v.verify(Some("1531420619"), Some(EXPECTED), BODY.as_bytes(), now),
            Err(ChannelError::BadSignature)
        );
        let replay = at(1_531_420_618 + 301);
        let err = v.verify(Some(TS), Some(EXPECTED), BODY.as_bytes(), replay).unwrap_err();
        assert_eq!(err, ChannelError::StaleTimestamp { skew_secs: 301 });
        assert!(err.is_unauthenticated());
        assert_eq!(err.code(), "signature_stale");
        assert_eq!(
            v.verify(Some(TS), Some(&EXPECTED.replace("v0=", "v1=")), BODY.as_bytes(), now),
            Err(ChannelError::MalformedSignature)
        );
        assert_eq!(
            v.verify(None, Some(EXPECTED), BODY.as_bytes(), now),
            Err(ChannelError::MissingHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            v.verify(Some(TS), None, BODY.as_bytes(), now),
            Err(ChannelError::MissingHeader(SIGNATURE_HEADER))
        );
        assert!(SlackVerifier::new("").is_err());
    }

    #[test]
    fn verify_reads_a_header_map() {
        let v = SlackVerifier::new(SECRET).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-slack-request-timestamp", TS.parse().unwrap());
        headers.insert("x-slack-signature", EXPECTED.parse().unwrap());
        assert!(v.verify_headers(&headers, BODY.as_bytes(), at(1_531_420_700)).is_ok());
        headers.remove("x-slack-signature");
        assert_eq!(
            v.verify_headers(&headers, BODY.as_bytes(), at(1_531_420_700)),
            Err(ChannelError::MissingHeader(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn the_example_body_parses_as_a_slash_command() {
        let cmd = parse_slash_command(BODY.as_bytes()).unwrap();
        assert_eq!(cmd.command, "/webhook-collect");
        assert_eq!(cmd.user_id, "U2CERLKJA");
        assert_eq!(cmd.channel_id, "G8PSS9T3V");
        assert_eq!(
            cmd.response_url.as_deref(),
            Some("https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN")
        );
        assert_eq!(cmd.command(), Command::Help);
    }

    #[test]
    fn slash_ic_page_is_the_chat_command() {
        let body = b"command=%2Fic&text=page&user_id=U1&channel_id=C1&team_id=T1";
        let cmd = parse_slash_command(body).unwrap();
        assert_eq!(cmd.command(), Command::PageCommander);
        let body = b"command=%2Fic&text=page+responders&user_id=U1&channel_id=C1";
        assert_eq!(parse_slash_command(body).unwrap().command(), Command::PageResponders);
        assert!(parse_slash_command(b"command=%2Fic&text=page").is_err());
        assert!(parse_slash_command(b"\xff\xfe").is_err());
    }

    #[test]
    fn url_verification() {
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        assert_eq!(
            parse_event(body).unwrap(),
            SlackEvent::UrlVerification {
                challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
            }
        );
        assert!(parse_event(br#"{"type":"url_verification"}"#).is_err());
    }

    #[test]
    fn message_events() {
        let body = br#"{"token":"x","team_id":"T123","api_app_id":"A1","type":"event_callback",
            "event_id":"Ev01","event_time":1531420618,
            "event":{"type":"message","channel":"C024BE91L","user":"U2147483697",
                     "text":"!ic page","ts":"1355517523.000005","channel_type":"channel"}}"#;
        let SlackEvent::Message(m) = parse_event(body).unwrap() else {
            panic!("not a message")
        };
        assert_eq!(m.channel, "C024BE91L");
        assert_eq!(m.user, "U2147483697");
        assert_eq!(m.event_id.as_deref(), Some("Ev01"));
        assert_eq!(m.team_id.as_deref(), Some("T123"));
        assert_eq!(m.command(), Some(Command::PageCommander));

        for ignored in [
            r#"{"type":"event_callback","event":{"type":"message","channel":"C1","user":"U1","text":"!ack","ts":"1.2","bot_id":"B1"}}"#,
            r#"{"type":"event_callback","event":{"type":"message","subtype":"bot_message","channel":"C1","text":"hi","ts":"1.2","bot_id":"B1"}}"#,
            r#"{"type":"event_callback","event":{"type":"message","subtype":"message_changed","channel":"C1","ts":"1.2"}}"#,
            r#"{"type":"event_callback","event":{"type":"reaction_added","user":"U1"}}"#,
            r#"{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820}"#,
        ] {
            assert!(
                matches!(parse_event(ignored.as_bytes()).unwrap(), SlackEvent::Ignored { .. }),
                "{ignored}"
            );
        }
        for bad in [
            "",
            "[]",
            r#"{"type":"event_callback"}"#,
            r#"{"type":"event_callback","event":{"type":"message","text":"!ack"}}"#,
        ] {
            assert!(parse_event(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn outgoing_text_is_escaped() {
        assert_eq!(escape_text("<!channel> & <@U1>"), "&lt;!channel&gt; &amp; &lt;@U1&gt;");
        assert_eq!(
            slash_response("a<b", false),
            json!({"response_type":"ephemeral","text":"a&lt;b"})
        );
    }
}
