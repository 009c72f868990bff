//! Browser sessions and signing in (issue 15).
//!
//! A session is opened after a successful sign-in — with a local (break-glass) password and
//! TOTP code here ([`Cordon::sign_in_password`]), or by the OIDC flow, which calls
//! [`Cordon::open_session`] once the provider vouched for the user. Its token (256 random bits,
//! 64 hex characters) goes into the browser's cookie and nowhere else; the store keeps its
//! SHA-256, so every node honours it and a database leak does not hand out sessions.
//!
//! A session ends at the first of: its idle timeout ([`SessionSettings::idle`], measured from
//! the last request, written at most once a minute), its absolute end
//! ([`SessionSettings::max`] after sign-in), signing out, a revocation by its owner or an admin,
//! and the user's being disabled (the same transaction as the disabling).
//!
//! Each session has a CSRF token derived from its token (SHA-256 over a label and the token):
//! a page knows it, another site cannot (the cookie is HttpOnly and never leaves the browser
//! except to us), and nothing more needs storing.
//!
//! Failed sign-ins are rate-limited per account and per client address, counted in the store
//! (so every node agrees): [`ACCOUNT_FAILURES`] or [`ADDRESS_FAILURES`] within
//! [`SIGNIN_WINDOW`] refuse further attempts until the oldest ages out. Every refusal is
//! audited as `auth.signin.refused` with its reason — never the password or code — except that
//! a key already over its limit is audited once per window, so a flood cannot grow the chain
//! without bound. Every success is audited as `auth.signin`.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::User;
use cordon_store::sessions::{NewSession, SessionRecord};
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError, random};

/// Failed sign-ins one account may have within [`SIGNIN_WINDOW`].
pub const ACCOUNT_FAILURES: u64 = 5;
/// Failed sign-ins one client address may have within [`SIGNIN_WINDOW`].
pub const ADDRESS_FAILURES: u64 = 20;
/// The window failed sign-ins are counted over.
pub const SIGNIN_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// A session's last activity is written at most this often.
pub const LAST_SEEN_RESOLUTION: SignedDuration = SignedDuration::from_secs(60);
/// Sessions whose absolute end is older than this are removed when new ones open.
const FORGET_AFTER: SignedDuration = SignedDuration::from_hours(24 * 30);

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Without a request for this long a session ends (`CORDON_SESSION_IDLE`, default 30 min).
    pub idle: SignedDuration,
    /// A session ends this long after sign-in whatever its activity (`CORDON_SESSION_MAX`,
    /// default 12 h).
    pub max: SignedDuration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: SignedDuration::from_mins(30),
            max: SignedDuration::from_hours(12),
        }
    }
}

/// How a user signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A local break-glass account: password and TOTP code.
    Password,
    /// The OIDC provider.
    Oidc,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Oidc => "oidc",
        }
    }
}

/// Who is signing in, as the edge saw the request: recorded with the session and in the audit
/// log, and the address is a rate-limiting key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer's IP address.
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened: what goes into the cookie (`token`), the page's CSRF token and the
/// absolute end.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedSession {
    pub id: Uuid,
    /// 64 hex characters; shown once, stored hashed.
    pub token: String,
    pub csrf: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedSession")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The caller of a request made with a session cookie.
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub principal: Principal,
    pub session_id: Uuid,
    /// The token forms and scripts must send back on state-changing requests.
    pub csrf: String,
}

impl SessionCaller {
    /// Whether `given` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, given: &str) -> bool {
        same_bytes(self.csrf.as_bytes(), given.trim().as_bytes())
    }
}

/// A session as listed to its owner and admins: never its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub record: SessionRecord,
    pub user: String,
    /// When it ends unless used again before (the earlier of idle and absolute end).
    pub ends_at: Timestamp,
}

/// Why a sign-in was refused. The person signing in is told only whether to try again later
/// ([`SignInRefusal::RateLimited`]) or that what they gave was wrong; the reason is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    RateLimited,
    UnknownUser,
    NoPassword,
    WrongPassword,
    /// A password but no TOTP enrolled: break-glass needs both.
    NoTotp,
    WrongTotp,
    /// A code already used (its time step taken).
    ReplayedTotp,
    Disabled,
}

impl SignInRefusal {
    /// The reason as audited.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::UnknownUser => "unknown_user",
            Self::NoPassword => "no_password",
            Self::WrongPassword => "wrong_password",
            Self::NoTotp => "totp_not_enrolled",
            Self::WrongTotp => "wrong_totp",
            Self::ReplayedTotp => "totp_replayed",
            Self::Disabled => "disabled",
        }
    }
}

/// Compares two byte strings in time that depends on their lengths only.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The CSRF token of the session whose token is `token`.
pub fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"cordon csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

fn clip(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

pub(crate) fn account_key(name: &str) -> String {
    format!("account:{}", clip(&name.trim().to_lowercase(), 64))
}

fn address_key(client: &ClientInfo) -> Option<String> {
    client.address.as_ref().map(|a| format!("address:{}", clip(a, 64)))
}

impl Cordon {
    /// Sets how long sessions live.
    pub fn with_sessions(mut self, settings: SessionSettings) -> Self {
        self.sessions = std::sync::Arc::new(settings);
        self
    }

    pub fn session_settings(&self) -> SessionSettings {
        *self.sessions
    }

    /// Opens a session for `user_id`, who has just proven who they are by `method` (the
    /// password path here, or the OIDC flow after the provider's answer checked out). A
    /// disabled user is refused (audited as `auth.signin.refused`, reason `disabled`),
    /// whatever vouched for them. Audited as `auth.signin` with the method and the client.
    pub async fn open_session(
        &self,
        user_id: Uuid,
        method: SignInMethod,
        client: &ClientInfo,
        now: Timestamp,
    ) -> Result<OpenedSession> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if user.is_disabled() {
            self.refuse_sign_in(&user.name, Some(&user), client, SignInRefusal::Disabled, now, false)
                .await?;
            return Err(ServiceError::SignInRefused(SignInRefusal::Disabled));
        }
        let token = hex::encode(random::bytes::<32>());
        let expires_at = now + self.sessions.max;
        let session = NewSession {
            id: crate::incidents::new_id(now),
            hash: session_hash(&token),
            user_id,
            method: method.as_str().into(),
            created_at: now,
            expires_at,
            address: client.address.as_deref().map(|a| clip(a, 64)),
            user_agent: client.user_agent.as_deref().map(|a| clip(a, 200)),
        };
        let audit = draft(
            now,
            &user.name,
            "auth.signin",
            format!("user:{}", user.name),
            json!({
                "method": method.as_str(),
                "session": session.id,
                "address": session.address,
                "user_agent": session.user_agent,
            }),
        );
        self.store.open_session(&session, now - FORGET_AFTER, audit).await?;
        Ok(OpenedSession {
            id: session.id,
            csrf: csrf_for(&token),
            token,
            expires_at,
        })
    }

    /// Signs in with a local (break-glass) account: user name, password and TOTP code, all
    /// three needed. A refusal says only [`ServiceError::SignInRefused`]; its reason is audited.
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
        totp: &str,
        client: &ClientInfo,
    ) -> Result<OpenedSession> {
        let now = self.clock.now();
        let account = account_key(username);
        let address = address_key(client);
        let since = now - SIGNIN_WINDOW;
        let mut over = self.store.signin_failures(&account, since).await? >= ACCOUNT_FAILURES;
        if let Some(a) = &address {
            over = over || self.store.signin_failures(a, since).await? >= ADDRESS_FAILURES;
        }
        let user = self.store.user_by_name(username.trim()).await?;
        if over {
            // Audited once per key and window: a flood does not grow the chain.
            let first = self
                .store
                .see_once("signin.limited", &account, now + SIGNIN_WINDOW, now)
                .await?;
            if first {
                self.refuse_sign_in(username, user.as_ref(), client, SignInRefusal::RateLimited, now, false)
                    .await?;
            }
            return Err(ServiceError::SignInRefused(SignInRefusal::RateLimited));
        }
        let outcome = self.check_local(user.as_ref(), password, totp, now).await?;
        match (outcome, user) {
            (Ok(()), Some(user)) => {
                self.store.clear_signin_failures(&account).await?;
                self.open_session(user.id, SignInMethod::Password, client, now).await
            }
            (Err(reason), user) => {
                self.refuse_sign_in(username, user.as_ref(), client, reason, now, true)
                    .await?;
                Err(ServiceError::SignInRefused(reason))
            }
            (Ok(()), None) => Err(ServiceError::SignInRefused(SignInRefusal::UnknownUser)),
        }
    }

    /// Checks password, code and standing, in that order; the password is verified (or a
    /// dummy hash is, for an unknown user or one without a password) whatever happens, so the
    /// time taken does not tell whether the account exists.
    async fn check_local(
        &self,
        user: Option<&User>,
        password: &str,
        totp: &str,
        now: Timestamp,
    ) -> Result<Result<(), SignInRefusal>> {
        let cred = match user {
            Some(u) => self.store.local_credential(u.id).await?,
            None => None,
        };
        let hash = cred.as_ref().and_then(|c| c.password_hash.clone());
        let password_ok = crate::accounts::verify_password(password, hash.as_deref()).await;
        let Some(user) = user else {
            return Ok(Err(SignInRefusal::UnknownUser));
        };
        if hash.is_none() {
            return Ok(Err(SignInRefusal::NoPassword));
        }
        if !password_ok {
            return Ok(Err(SignInRefusal::WrongPassword));
        }
        let Some(sealed) = cred.as_ref().and_then(|c| c.totp_sealed.as_ref()) else {
            return Ok(Err(SignInRefusal::NoTotp));
        };
        let secret = self.open_totp_secret(user.id, sealed)?;
        let Some(step) = crate::totp::matching_step(&secret, totp, crate::totp::step_at(now.as_second())) else {
            return Ok(Err(SignInRefusal::WrongTotp));
        };
        if !self.store.take_totp_step(user.id, step).await? {
            return Ok(Err(SignInRefusal::ReplayedTotp));
        }
        if user.is_disabled() {
            return Ok(Err(SignInRefusal::Disabled));
        }
        Ok(Ok(()))
    }

    /// Audits a refused sign-in (`auth.signin.refused`: the reason, the name given, the
    /// client — never the password or code) and, when `count`, counts it against the account
    /// and the address.
    async fn refuse_sign_in(
        &self,
        username: &str,
        user: Option<&User>,
        client: &ClientInfo,
        reason: SignInRefusal,
        now: Timestamp,
        count: bool,
    ) -> Result<()> {
        let subject = match user {
            Some(u) => format!("user:{}", u.name),
            None => "signin".to_owned(),
        };
        let audit = draft(
            now,
            "anonymous",
            "auth.signin.refused",
            subject,
            json!({
                "reason": reason.as_str(),
                "username": clip(username, 64),
                "address": client.address.as_deref().map(|a| clip(a, 64)),
                "user_agent": client.user_agent.as_deref().map(|a| clip(a, 200)),
            }),
        );
        if count {
            let mut keys = vec![account_key(username)];
            keys.extend(address_key(client));
            self.store
                .record_signin_failure(&keys, now, now - SIGNIN_WINDOW, audit)
                .await?;
        } else {
            self.store.append_audit(audit).await?;
        }
        Ok(())
    }

    /// Resolves a session cookie's token to its caller. An unknown, ended, idle or expired
    /// session, or one of a disabled user, is refused. Activity is written at most once a
    /// minute.
    pub async fn authenticate_session(&self, token: &str) -> Result<SessionCaller> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Unauthenticated);
        }
        let now = self.clock.now();
        let Some((user, s)) = self.store.session_by_hash(&session_hash(token)).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        if !self.is_live(&s, now) || user.is_disabled() {
            return Err(ServiceError::Unauthenticated);
        }
        if now.duration_since(s.last_seen_at) >= LAST_SEEN_RESOLUTION
            && let Err(e) = self.store.touch_session(s.id, now).await
        {
            tracing::warn!(error = %e, session = %s.id, "could not record a session's activity");
        }
        Ok(SessionCaller {
            principal: Principal::from_user(&user),
            session_id: s.id,
            csrf: csrf_for(token),
        })
    }

    fn is_live(&self, s: &SessionRecord, now: Timestamp) -> bool {
        s.ended_at.is_none() && now < s.expires_at && now < s.last_seen_at + self.sessions.idle
    }

    fn session_info(&self, record: SessionRecord, user: String) -> SessionInfo {
        let ends_at = std::cmp::min(record.expires_at, record.last_seen_at + self.sessions.idle);
        SessionInfo { record, user, ends_at }
    }

    /// Ends the session whose token is `token` (signing out). Signing out of a session that
    /// has ended already changes nothing.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let Ok(caller) = self.authenticate_session(token).await else {
            return Ok(());
        };
        let now = self.clock.now();
        let name = &caller.principal.name;
        let audit = draft(
            now,
            name,
            "session.end",
            format!("user:{name}"),
            json!({ "session": caller.session_id, "reason": "signed out" }),
        );
        self.store
            .end_session(caller.session_id, now, "signed out", audit)
            .await?;
        Ok(())
    }

    /// A user's live sessions, newest first (admins, or the user themself).
    pub async fn sessions(&self, p: &Principal, user: &str) -> Result<Vec<SessionInfo>> {
        if !p.is_admin && p.name != user {
            let e = ServiceError::Forbidden("only admins may list the sessions of other users".into());
            return Err(self.refuse(p, "session.list", format!("user:{user}"), e).await);
        }
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let now = self.clock.now();
        Ok(self
            .store
            .sessions_of(u.id, now)
            .await?
            .into_iter()
            .filter(|s| self.is_live(s, now))
            .map(|s| self.session_info(s, u.name.clone()))
            .collect())
    }

    /// Ends a session named by its id or a unique id prefix: one's own, or anyone's for an
    /// admin. Someone else's session is "not found" to a non-admin.
    pub async fn revoke_session(&self, p: &Principal, id: &str) -> Result<SessionInfo> {
        let now = self.clock.now();
        let candidates = if p.is_admin {
            self.store.all_sessions(now, 100_000).await?
        } else {
            self.store.sessions_of(p.user_id, now).await?
        };
        let live: Vec<_> = candidates.into_iter().filter(|s| self.is_live(s, now)).collect();
        let s = crate::handles::resolve("session", "id", id, &live, |s| crate::handles::Named {
            id: s.id,
            names: Vec::new(),
        })
        .map_err(|e| crate::handles::not_found_unless_ambiguous(e, "session"))?
        .clone();
        let owner = self
            .store
            .user_by_id(s.user_id)
            .await?
            .ok_or(ServiceError::NotFound("session"))?;
        let reason = if owner.id == p.user_id {
            "revoked by its owner".to_owned()
        } else {
            format!("revoked by {}", p.name)
        };
        let audit = draft(
            now,
            &p.name,
            "session.revoke",
            format!("user:{}", owner.name),
            json!({ "session": s.id, "reason": reason }),
        );
        if !self.store.end_session(s.id, now, &reason, audit).await? {
            return Err(ServiceError::NotFound("session"));
        }
        let mut info = self.session_info(s, owner.name);
        info.record.ended_at = Some(now);
        info.record.end_reason = Some(reason);
        Ok(info)
    }
}
