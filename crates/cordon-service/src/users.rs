//! Users, groups and API tokens, and the first-run admin bootstrap; tokens that expire, are
//! listed and revoked; users who are disabled (everything that lets them act or be paged
//! ends at once) and enabled again.

use std::collections::HashMap;
use std::sync::Mutex;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::{User, validate_email, validate_name, validate_pgp_key};
use cordon_store::NewToken;
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError, random};

/// The name of the first admin user.
pub const ADMIN_USER: &str = "admin";
/// API tokens start with this, so leaked ones are easy to find with secret scanners.
pub const TOKEN_PREFIX: &str = "cordon_";

/// A user to create.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub pgp_key: Option<String>,
    pub groups: Vec<String>,
    pub admin: bool,
}

/// How long a resolved token is trusted without asking the store again. A revocation, an
/// expiry or a disabling made on this node applies at once (the cache forgets the token or
/// the user, and checks expiry on every hit); one made on another node sharing the database
/// applies here within this much.
pub const TOKEN_CACHE_TTL: SignedDuration = SignedDuration::from_secs(5);
const TOKEN_CACHE_MAX: usize = 10_000;
/// A token's last use is written at most this often.
pub const LAST_USED_RESOLUTION: SignedDuration = SignedDuration::from_secs(60);

#[derive(Debug, Clone)]
struct CachedToken {
    principal: Principal,
    token_id: Uuid,
    expires_at: Option<Timestamp>,
    cached_at: Timestamp,
    /// The last use written to the store (or read from it).
    last_used_at: Option<Timestamp>,
}

/// Recently resolved tokens (by hash), so the hot path does not ask the store every request.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], CachedToken>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], CachedToken>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached token, if it is fresh and unexpired at `now`; and whether its last use
    /// should be written now (the entry is marked written, so concurrent requests do not all
    /// write).
    fn get(&self, hash: &[u8; 32], now: Timestamp) -> Option<(Principal, Uuid, bool)> {
        let mut entries = self.lock();
        let e = entries.get_mut(hash)?;
        let fresh = e.cached_at <= now && now.duration_since(e.cached_at) < TOKEN_CACHE_TTL;
        if !fresh || e.expires_at.is_some_and(|x| now >= x) {
            entries.remove(hash);
            return None;
        }
        let touch = due_for_touch(e.last_used_at, now);
        if touch {
            e.last_used_at = Some(now);
        }
        Some((e.principal.clone(), e.token_id, touch))
    }

    fn put(&self, hash: [u8; 32], entry: CachedToken) {
        let mut entries = self.lock();
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, entry);
    }

    /// Forgets one token (revoked).
    pub(crate) fn forget_token(&self, id: Uuid) {
        self.lock().retain(|_, e| e.token_id != id);
    }

    /// Forgets every token of a user (disabled).
    pub(crate) fn forget_user(&self, user: Uuid) {
        self.lock().retain(|_, e| e.principal.user_id != user);
    }
}

fn due_for_touch(last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|l| now.duration_since(l) >= LAST_USED_RESOLUTION || l > now)
}

/// Refuses a user who is disabled as the target of `field` (a member, a token's owner, …).
pub(crate) fn ensure_enabled(u: &User, field: &'static str) -> Result<()> {
    if u.is_disabled() {
        return Err(ServiceError::invalid(field, format!("`{}` is disabled", u.name)));
    }
    Ok(())
}

/// Refuses to act on a disabled user named by the address (`/users/{name}/…`: a token, a
/// password, a TOTP secret): the request is valid, the user's state is what stands in the way,
/// so it is a conflict.
pub(crate) fn ensure_enabled_target(u: &User) -> Result<()> {
    if u.is_disabled() {
        return Err(ServiceError::Conflict(format!(
            "`{}` is disabled; an admin enables them first (cordon user enable {})",
            u.name, u.name
        )));
    }
    Ok(())
}

/// What disabling a user ended.
pub use cordon_store::identity::Disabled;
/// A token as its owner and admins see it: never the secret, never its hash.
pub use cordon_store::identity::TokenRecord as TokenInfo;

/// The outcome of the first-run bootstrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The admin's token, in clear: shown once, stored hashed.
    pub token: String,
    /// Whether the token was generated (rather than given by the operator).
    pub generated: bool,
}

pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", hex::encode(random::bytes::<32>()))
}

impl Cordon {
    /// Resolves a bearer token to its user. An expired or revoked token, or a disabled user,
    /// is refused. A token's last use is written at most once a minute.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if token.is_empty() || token.len() > 256 {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = token_hash(token);
        let now = self.clock.now();
        if let Some((p, id, touch)) = self.tokens.get(&hash, now) {
            if touch {
                self.touch_token(id, now).await;
            }
            return Ok(p);
        }
        let Some((u, rec)) = self.store.token_by_hash(&hash).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        if !rec.is_live(now) || u.is_disabled() {
            return Err(ServiceError::Unauthenticated);
        }
        let p = Principal::from_user(&u);
        let touch = due_for_touch(rec.last_used_at, now);
        self.tokens.put(
            hash,
            CachedToken {
                principal: p.clone(),
                token_id: rec.id,
                expires_at: rec.expires_at,
                cached_at: now,
                last_used_at: if touch { Some(now) } else { rec.last_used_at },
            },
        );
        if touch {
            self.touch_token(rec.id, now).await;
        }
        Ok(p)
    }

    async fn touch_token(&self, id: Uuid, now: Timestamp) {
        if let Err(e) = self.store.touch_token(id, now).await {
            tracing::warn!(error = %e, token = %id, "could not record a token's last use");
        }
    }

    /// On an empty database, creates the admin user with `token` (or a generated one).
    /// Returns `None` when users already exist.
    pub async fn bootstrap_admin(&self, token: Option<String>) -> Result<Option<Bootstrap>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let (token, generated) = match token {
            Some(t) if t.trim().len() >= 16 => (t.trim().to_owned(), false),
            Some(_) => {
                return Err(ServiceError::invalid("admin_token", "must be at least 16 characters"));
            }
            None => (new_token(), true),
        };
        let user = User {
            id: crate::incidents::new_id(now),
            name: ADMIN_USER.into(),
            email: "admin@localhost".into(),
            pgp_key: None,
            groups: Vec::new(),
            is_admin: true,
            created_at: now,
            disabled_at: None,
        };
        let d = draft(
            now,
            "system",
            "user.create",
            format!("user:{}", user.name),
            json!({ "admin": true, "bootstrap": true }),
        );
        match self.store.create_user(&user, d).await {
            Ok(()) => {}
            // Another node sharing the database bootstrapped the admin first: its token stands.
            Err(cordon_store::StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let t = NewToken {
            id: crate::incidents::new_id(now),
            hash: token_hash(&token),
            user_id: user.id,
            label: "bootstrap".into(),
            created_at: now,
            expires_at: None,
        };
        let d = draft(
            now,
            "system",
            "token.create",
            format!("user:{}", user.name),
            json!({ "label": "bootstrap" }),
        );
        self.store.add_token(&t, d).await?;
        Ok(Some(Bootstrap { token, generated }))
    }

    /// Creates a user (admins only).
    pub async fn create_user(&self, p: &Principal, new: NewUser) -> Result<User> {
        let subject = format!("user:{}", new.name);
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may create users".into());
            return Err(self.refuse(p, "user.create", subject, e).await);
        }
        let name = validate_name("name", &new.name)?;
        let email = validate_email(&new.email)?;
        let pgp_key = new.pgp_key.as_deref().map(validate_pgp_key).transpose()?;
        if let Some(k) = &pgp_key {
            let key = cordon_mail::parse_public_key(k).map_err(|e| ServiceError::invalid("pgp_key", e.to_string()))?;
            if !key.can_encrypt_at(self.clock.now()) {
                return Err(ServiceError::invalid(
                    "pgp_key",
                    "the key cannot encrypt (expired, revoked or sign-only)",
                ));
            }
        }
        let mut groups = new
            .groups
            .iter()
            .map(|g| validate_name("groups", g))
            .collect::<Result<Vec<_>, _>>()?;
        groups.sort();
        groups.dedup();
        let now = self.clock.now();
        let user = User {
            id: crate::incidents::new_id(now),
            name,
            email,
            pgp_key,
            groups,
            is_admin: new.admin,
            created_at: now,
            disabled_at: None,
        };
        let payload = json!({ "email": user.email, "groups": user.groups, "admin": user.is_admin, "pgp_key": user.pgp_key.is_some() });
        match self
            .store
            .create_user(&user, draft(now, &p.name, "user.create", subject, payload))
            .await
        {
            Err(cordon_store::StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "a user named `{}` already exists",
                user.name
            ))),
            r => r.map(|()| user).map_err(Into::into),
        }
    }

    pub async fn list_users(&self, p: &Principal) -> Result<Vec<User>> {
        if !p.is_admin {
            return Err(ServiceError::Forbidden("only admins may list users".into()));
        }
        Ok(self.store.list_users().await?)
    }

    /// One user's record (admins, or the user themself).
    pub async fn user(&self, p: &Principal, name: &str) -> Result<User> {
        if !p.is_admin && p.name != name {
            return Err(ServiceError::Forbidden("only admins may see other users".into()));
        }
        self.store
            .user_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// The caller's own user record.
    pub async fn me(&self, p: &Principal) -> Result<User> {
        self.store
            .user_by_name(&p.name)
            .await?
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Issues a new API token for `user` (admins, or the user themself), living `expires_in`
    /// (an ISO 8601 duration) or until revoked. The clear token is returned once; only its
    /// hash is stored.
    pub async fn issue_token(
        &self,
        p: &Principal,
        user: &str,
        label: Option<String>,
        expires_in: Option<&str>,
    ) -> Result<IssuedToken> {
        let subject = format!("user:{user}");
        if !p.is_admin && p.name != user {
            let e = ServiceError::Forbidden("only admins may issue tokens for other users".into());
            return Err(self.refuse(p, "token.create", subject, e).await);
        }
        let target = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        ensure_enabled_target(&target)?;
        let label = label.unwrap_or_else(|| "api".into());
        if label.chars().count() > 100 {
            return Err(ServiceError::invalid("label", "longer than 100 characters"));
        }
        cordon_core::text::check_line("label", &label)?;
        let now = self.clock.now();
        let expires_at = expires_in
            .map(|raw| cordon_core::identity::token_lifetime(raw, now))
            .transpose()?
            .map(|d| now + d);
        let token = new_token();
        let t = NewToken {
            id: crate::incidents::new_id(now),
            hash: token_hash(&token),
            user_id: target.id,
            label: label.clone(),
            created_at: now,
            expires_at,
        };
        let payload = json!({ "id": t.id, "label": label, "expires_at": expires_at.map(|e| e.to_string()) });
        self.store
            .add_token(&t, draft(now, &p.name, "token.create", subject, payload))
            .await?;
        Ok(IssuedToken {
            token,
            id: t.id,
            expires_at,
        })
    }

    /// The user `name` as `p` may manage it: themself, or anyone for an admin. Anyone else is
    /// refused (`action` audited as refused).
    async fn user_managed_by(&self, p: &Principal, name: &str, action: &str, what: &str) -> Result<User> {
        if !p.is_admin && p.name != name {
            let e = ServiceError::Forbidden(format!("only admins may {what} of other users"));
            return Err(self.refuse(p, action, format!("user:{name}"), e).await);
        }
        self.store
            .user_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// A user's tokens, newest first, without their secrets (admins, or the user themself).
    pub async fn tokens(&self, p: &Principal, user: &str) -> Result<Vec<TokenInfo>> {
        let u = self.user_managed_by(p, user, "token.list", "list the tokens").await?;
        Ok(self.store.tokens(u.id).await?)
    }

    /// Revokes one of a user's tokens (admins, or the user themself); it stops working on
    /// this node at once.
    pub async fn revoke_token(&self, p: &Principal, user: &str, id: &str) -> Result<TokenInfo> {
        let u = self
            .user_managed_by(p, user, "token.revoke", "revoke the tokens")
            .await?;
        // By its label, a unique id prefix or its id, among this user's tokens.
        let tokens = self.store.tokens(u.id).await?;
        let t = crate::handles::resolve("token", "id", id, &tokens, |t| crate::handles::Named {
            id: t.id,
            names: vec![t.label.clone()],
        })
        .map_err(|e| crate::handles::not_found_unless_ambiguous(e, "token"))?
        .clone();
        let id = t.id;
        if t.revoked_at.is_some() {
            return Err(ServiceError::Conflict("the token was revoked already".into()));
        }
        let now = self.clock.now();
        let audit = draft(
            now,
            &p.name,
            "token.revoke",
            format!("user:{}", u.name),
            json!({ "id": id, "label": t.label }),
        );
        if !self.store.revoke_token(u.id, id, now, audit).await? {
            return Err(ServiceError::Conflict("the token was revoked already".into()));
        }
        self.tokens.forget_token(id);
        Ok(TokenInfo {
            revoked_at: Some(now),
            ..t
        })
    }

    /// Disables a user (admins): in one transaction with its audit entry, every token is
    /// revoked, every chat identity unlinked, every pending link code dropped, every pending
    /// notification cancelled and every browser session ended. Nothing authenticates as them any more and nothing
    /// pages them. Disabling a disabled user changes nothing.
    pub async fn disable_user(&self, p: &Principal, name: &str) -> Result<(User, Disabled)> {
        let subject = format!("user:{name}");
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may disable users".into());
            return Err(self.refuse(p, "user.disable", subject, e).await);
        }
        let u = self
            .store
            .user_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if u.id == p.user_id {
            let e = ServiceError::Conflict("you cannot disable yourself; ask another admin".into());
            return Err(self.refuse(p, "user.disable", subject, e).await);
        }
        let now = self.clock.now();
        let audit = draft(now, &p.name, "user.disable", subject, json!({ "user": u.name }));
        let done = self.store.disable_user(u.id, now, audit).await?;
        self.tokens.forget_user(u.id);
        let u = self
            .store
            .user_by_id(u.id)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        Ok((u, done.unwrap_or_default()))
    }

    /// Enables a disabled user (admins). Their tokens stay revoked and their chat identities
    /// unlinked: they start again with new ones.
    pub async fn enable_user(&self, p: &Principal, name: &str) -> Result<User> {
        let subject = format!("user:{name}");
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may enable users".into());
            return Err(self.refuse(p, "user.enable", subject, e).await);
        }
        let u = self
            .store
            .user_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let audit = draft(
            self.clock.now(),
            &p.name,
            "user.enable",
            subject,
            json!({ "user": u.name }),
        );
        self.store.enable_user(u.id, audit).await?;
        self.store.user_by_id(u.id).await?.ok_or(ServiceError::NotFound("user"))
    }
}

/// A new token: the secret, shown once, and how it is listed.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub id: Uuid,
    pub expires_at: Option<Timestamp>,
}
