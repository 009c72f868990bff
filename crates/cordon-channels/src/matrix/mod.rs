//! A thin Matrix client-server API client over reqwest (no ruma, no matrix-sdk; see
//! shared/notes/dependency-stack.md §4), and the [`MatrixBot`] built on it.
//!
//! Endpoints used (all `/_matrix/client/v3`): `POST /login` (password), `GET
//! /account/whoami`, `GET /sync` (long poll with `since` and `timeout`), `GET /joined_rooms`, `POST
//! /join/{room}`, `POST /rooms/{room}/leave`, `PUT /rooms/{room}/send/m.room.message/{txn}`
//! and `POST /createRoom`. Rooms must be unencrypted: the bot does not do end-to-end
//! encryption, and `m.room.encrypted` events are ignored.

mod bot;
mod sync;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

pub use bot::{BotCommand, InvitePolicy, MatrixBot};
pub use sync::{Invite, RoomMessage, SyncBatch, parse_sync};

use crate::error::{ChannelError, DeliveryFailure};
use crate::http::{HttpTransport, parse_target_url, read_limited, retry_after, status_is_transient, transport_error};

/// The filter sent with every `/sync`: no presence or account data, at most 50 timeline
/// events per room, only messages and memberships in timelines.
const SYNC_FILTER: &str = r#"{"presence":{"types":[]},"account_data":{"types":[]},"room":{"timeline":{"limit":50,"types":["m.room.message","m.room.member"]},"ephemeral":{"types":[]},"account_data":{"types":[]}}}"#;

/// At most this much of a Matrix answer other than `/sync` is read (1 MiB): `whoami`, `join`,
/// `send` and the like answer a few hundred bytes.
pub const MATRIX_BODY_LIMIT: usize = 1024 * 1024;

/// At most this much of a `/sync` answer is read (16 MiB). The bot must parse it whole, and
/// [`SYNC_FILTER`] keeps it small (50 timeline events per room, no presence, no account
/// data), so only a bot in thousands of busy rooms comes near; a larger answer is an error
/// and the bot tries again.
pub const MATRIX_SYNC_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// An authenticated Matrix session.
pub struct MatrixClient {
    http: HttpTransport,
    homeserver: Url,
    access_token: String,
    user_id: String,
    device_id: Option<String>,
    txn_prefix: String,
    txn_counter: AtomicU64,
}

impl fmt::Debug for MatrixClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatrixClient")
            .field("homeserver", &self.homeserver.as_str())
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// The answer of `whoami`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoAmI {
    pub user_id: String,
    pub device_id: Option<String>,
}

impl MatrixClient {
    /// Logs in with `m.login.password` as `user` (a localpart or a full `@user:server` id).
    pub async fn login_password(
        http: &HttpTransport,
        homeserver: &str,
        user: &str,
        password: &str,
        device_display_name: &str,
    ) -> Result<Self, ChannelError> {
        let homeserver = parse_target_url("matrix homeserver", homeserver)?;
        let body = json!({
            "type": "m.login.password",
            "identifier": { "type": "m.id.user", "user": user },
            "password": password,
            "initial_device_display_name": device_display_name,
        });
        let url = endpoint(&homeserver, &["login"]);
        let request = http.request(Method::POST, &url)?.json(&body);
        let response = send_json(request, MATRIX_BODY_LIMIT).await?;
        let field = |name: &str| response.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(access_token), Some(user_id)) = (field("access_token"), field("user_id")) else {
            return Err(ChannelError::malformed(
                "Matrix login answer without access_token or user_id",
            ));
        };
        Ok(Self::new(http, homeserver, access_token, user_id, field("device_id")))
    }

    /// Uses an existing access token; asks `whoami` for the user id (which also checks the
    /// token).
    pub async fn with_access_token(
        http: &HttpTransport,
        homeserver: &str,
        access_token: &str,
    ) -> Result<Self, ChannelError> {
        let homeserver = parse_target_url("matrix homeserver", homeserver)?;
        let mut client = Self::new(http, homeserver, access_token.to_owned(), String::new(), None);
        let me = client.whoami().await?;
        client.user_id = me.user_id;
        client.device_id = me.device_id;
        Ok(client)
    }

    fn new(
        http: &HttpTransport,
        homeserver: Url,
        access_token: String,
        user_id: String,
        device_id: Option<String>,
    ) -> Self {
        Self {
            http: http.clone(),
            homeserver,
            access_token,
            user_id,
            device_id,
            txn_prefix: format!("cordon{:016x}", rand::random::<u64>()),
            txn_counter: AtomicU64::new(0),
        }
    }

    /// Our full user id, e.g. `@irbot:example.org`.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The device id of this session, when known.
    pub fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }

    /// The access token, to store and reuse with [`Self::with_access_token`].
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// `GET /account/whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI, ChannelError> {
        let v = self.call(Method::GET, &["account", "whoami"], None).await?;
        let user_id = v
            .get("user_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ChannelError::malformed("whoami answer without user_id"))?;
        Ok(WhoAmI {
            user_id: user_id.to_owned(),
            device_id: v.get("device_id").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// One `/sync`: waits up to `timeout` for something new after `since` (`None` = initial
    /// sync, which returns at once).
    pub async fn sync(&self, since: Option<&str>, timeout: Duration) -> Result<SyncBatch, ChannelError> {
        let mut url = endpoint(&self.homeserver, &["sync"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("filter", SYNC_FILTER);
            q.append_pair("timeout", &timeout.as_millis().to_string());
            if let Some(since) = since {
                q.append_pair("since", since);
            }
        }
        let request = self
            .http
            .request(Method::GET, &url)?
            .bearer_auth(&self.access_token)
            .timeout(self.http.timeouts.request + timeout);
        let v = send_json(request, MATRIX_SYNC_BODY_LIMIT).await?;
        parse_sync(&v, &self.user_id).ok_or_else(|| ChannelError::malformed("sync answer without next_batch"))
    }

    /// Joins a room by id or alias; returns the room id.
    pub async fn join(&self, room_id_or_alias: &str) -> Result<String, ChannelError> {
        let v = self
            .call(Method::POST, &["join", room_id_or_alias], Some(json!({})))
            .await?;
        v.get("room_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ChannelError::malformed("join answer without room_id"))
    }

    /// The ids of the rooms we have joined.
    pub async fn joined_rooms(&self) -> Result<Vec<String>, ChannelError> {
        let v = self.call(Method::GET, &["joined_rooms"], None).await?;
        Ok(v.get("joined_rooms")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect())
    }

    /// Leaves a room, or declines an invitation.
    pub async fn leave(&self, room_id: &str) -> Result<(), ChannelError> {
        self.call(Method::POST, &["rooms", room_id, "leave"], Some(json!({})))
            .await
            .map(drop)
    }

    /// Sends an `m.text` message (with an HTML `formatted_body` when given) under a fresh
    /// transaction id; returns the event id.
    pub async fn send_text(&self, room_id: &str, body: &str, html: Option<&str>) -> Result<String, ChannelError> {
        let mut content = json!({ "msgtype": "m.text", "body": body });
        if let Some(html) = html {
            content["format"] = json!("org.matrix.custom.html");
            content["formatted_body"] = json!(html);
        }
        self.send_event(room_id, "m.room.message", content).await
    }

    /// Sends any message event with a fresh transaction id; returns the event id.
    /// Retrying a call of this function sends a new event: reuse is not attempted.
    pub async fn send_event(&self, room_id: &str, event_type: &str, content: Value) -> Result<String, ChannelError> {
        let txn = format!(
            "{}-{}",
            self.txn_prefix,
            self.txn_counter.fetch_add(1, Ordering::Relaxed)
        );
        let v = self
            .call(
                Method::PUT,
                &["rooms", room_id, "send", event_type, &txn],
                Some(content),
            )
            .await?;
        v.get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ChannelError::malformed("send answer without event_id"))
    }

    /// Creates a private room, inviting `invite` (user ids); returns the room id.
    pub async fn create_room(&self, name: Option<&str>, invite: &[&str]) -> Result<String, ChannelError> {
        let mut body = json!({ "preset": "private_chat", "invite": invite });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let v = self.call(Method::POST, &["createRoom"], Some(body)).await?;
        v.get("room_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ChannelError::malformed("createRoom answer without room_id"))
    }

    /// Creates a direct-message room with `user` (`is_direct`, the `trusted_private_chat`
    /// preset); returns the room id.
    pub async fn create_direct_room(&self, user: &str) -> Result<String, ChannelError> {
        let body = json!({ "preset": "trusted_private_chat", "is_direct": true, "invite": [user] });
        let v = self.call(Method::POST, &["createRoom"], Some(body)).await?;
        v.get("room_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ChannelError::malformed("createRoom answer without room_id"))
    }

    /// The user ids of a room's joined members.
    pub async fn joined_members(&self, room_id: &str) -> Result<Vec<String>, ChannelError> {
        let v = self
            .call(Method::GET, &["rooms", room_id, "joined_members"], None)
            .await?;
        let joined = v
            .get("joined")
            .and_then(Value::as_object)
            .ok_or_else(|| ChannelError::malformed("joined_members answer without joined"))?;
        Ok(joined.keys().cloned().collect())
    }

    /// Who may read a room's past messages (`m.room.history_visibility`: `joined`, `invited`,
    /// `shared` — the default — or `world_readable`).
    pub async fn history_visibility(&self, room_id: &str) -> Result<String, ChannelError> {
        match self
            .call(
                Method::GET,
                &["rooms", room_id, "state", "m.room.history_visibility", ""],
                None,
            )
            .await
        {
            Ok(v) => Ok(v
                .get("history_visibility")
                .and_then(Value::as_str)
                .unwrap_or("shared")
                .to_owned()),
            Err(ChannelError::Permanent(f)) if f.status == Some(404) => Ok("shared".into()),
            Err(e) => Err(e),
        }
    }

    /// The members of a room (joined or invited) as far as the room's state says: used to
    /// check that a direct room still has its counterpart.
    pub async fn member_state(&self, room_id: &str, user: &str) -> Result<Option<String>, ChannelError> {
        match self
            .call(Method::GET, &["rooms", room_id, "state", "m.room.member", user], None)
            .await
        {
            Ok(v) => Ok(v.get("membership").and_then(Value::as_str).map(str::to_owned)),
            Err(ChannelError::Permanent(f)) if f.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn call(&self, method: Method, path: &[&str], body: Option<Value>) -> Result<Value, ChannelError> {
        let mut request = self
            .http
            .request(method, &endpoint(&self.homeserver, path))?
            .bearer_auth(&self.access_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send_json(request, MATRIX_BODY_LIMIT).await
    }
}

/// `{homeserver}/_matrix/client/v3/{segments…}`, each segment percent-encoded.
fn endpoint(homeserver: &Url, segments: &[&str]) -> Url {
    let mut url = homeserver.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .expect("http(s) URLs have a path")
        .pop_if_empty()
        .extend(["_matrix", "client", "v3"])
        .extend(segments);
    url
}

/// A Matrix error code: `M_FORBIDDEN`, `M_LIMIT_EXCEEDED` (or a namespaced `IO_…` one).
fn is_errcode(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// Sends a request and reads a JSON answer of at most `limit` bytes; maps Matrix errors
/// (`errcode`, `retry_after_ms`) to transient (429, `M_LIMIT_EXCEEDED`, 5xx) or permanent
/// failures. Only the status and the `errcode` (`M_` and capitals) are kept of an error
/// answer; its free-text `error` is not, as nothing else a peer writes is.
async fn send_json(request: reqwest::RequestBuilder, limit: usize) -> Result<Value, ChannelError> {
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    let retry = retry_after(&response);
    let body = read_limited(response, limit).await?;
    if body.truncated && status.is_success() {
        return Err(ChannelError::malformed(format!(
            "Matrix answer larger than {} KiB",
            limit / 1024
        )));
    }
    let parsed: Option<Value> = serde_json::from_slice(&body.bytes).ok();
    if status.is_success() {
        return parsed.ok_or_else(|| ChannelError::malformed("Matrix answer is not JSON"));
    }
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let errcode = field("errcode").filter(|c| is_errcode(c));
    let retry_ms = parsed
        .as_ref()
        .and_then(|v| v.get("retry_after_ms"))
        .and_then(Value::as_u64)
        .map(Duration::from_millis);
    let transient = status_is_transient(status)
        || status == StatusCode::TOO_MANY_REQUESTS
        || errcode.as_deref() == Some("M_LIMIT_EXCEEDED");
    let failure = DeliveryFailure {
        status: Some(status.as_u16()),
        reason: String::new(),
        code: errcode,
        retry_after: retry_ms.or(retry),
    };
    Err(if transient {
        ChannelError::Transient(failure)
    } else {
        ChannelError::Permanent(failure)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_encode_room_ids_and_aliases() {
        let hs = Url::parse("http://127.0.0.1:8008/").unwrap();
        assert_eq!(
            endpoint(&hs, &["rooms", "!abc:localhost", "send", "m.room.message", "t1"]).as_str(),
            "http://127.0.0.1:8008/_matrix/client/v3/rooms/!abc:localhost/send/m.room.message/t1"
        );
        assert_eq!(
            endpoint(&hs, &["join", "#war/room:localhost"]).as_str(),
            "http://127.0.0.1:8008/_matrix/client/v3/join/%23war%2Froom:localhost"
        );
        let prefixed = Url::parse("https://example.org/matrix/?x=1").unwrap();
        assert_eq!(
            endpoint(&prefixed, &["sync"]).as_str(),
            "https://example.org/matrix/_matrix/client/v3/sync"
        );
    }
}
