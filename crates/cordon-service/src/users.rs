//! Users, groups and API tokens, and the first-run admin bootstrap.

use std::collections::HashMap;
use std::sync::Mutex;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::{User, validate_email, validate_name, validate_pgp_key};
use cordon_store::NewToken;
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};

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

/// How long a resolved token is trusted without asking the store again. Bounds how long a
/// change to a user's groups (or a revoked token) takes to apply on every node.
pub const TOKEN_CACHE_TTL: SignedDuration = SignedDuration::from_secs(30);
const TOKEN_CACHE_MAX: usize = 10_000;

/// Recently resolved tokens (by hash), so the hot path does not ask the store every request.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (Principal, Timestamp)>>,
}

impl TokenCache {
    fn get(&self, hash: &[u8; 32], now: Timestamp) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| now.duration_since(*at) < TOKEN_CACHE_TTL && *at <= now)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, hash: [u8; 32], p: Principal, now: Timestamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, (p, now));
    }
}

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
    /// Resolves a bearer token to its user.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if token.is_empty() || token.len() > 256 {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = token_hash(token);
        let now = self.clock.now();
        if let Some(p) = self.tokens.get(&hash, now) {
            return Ok(p);
        }
        match self.store.user_by_token_hash(&hash).await? {
            Some(u) => {
                let p = Principal::from_user(&u);
                self.tokens.put(hash, p.clone(), now);
                Ok(p)
            }
            None => Err(ServiceError::Unauthenticated),
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
            hash: token_hash(&token),
            user_id: user.id,
            label: "bootstrap".into(),
            created_at: now,
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

    /// The caller's own user record.
    pub async fn me(&self, p: &Principal) -> Result<User> {
        self.store
            .user_by_name(&p.name)
            .await?
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Issues a new API token for `user` (admins, or the user themself). The clear token is
    /// returned once; only its hash is stored.
    pub async fn issue_token(&self, p: &Principal, user: &str, label: Option<String>) -> Result<String> {
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
        let label = label.unwrap_or_else(|| "api".into());
        if label.chars().count() > 100 {
            return Err(ServiceError::invalid("label", "longer than 100 characters"));
        }
        cordon_core::text::check_line("label", &label)?;
        let now = self.clock.now();
        let token = new_token();
        let t = NewToken {
            hash: token_hash(&token),
            user_id: target.id,
            label: label.clone(),
            created_at: now,
        };
        self.store
            .add_token(
                &t,
                draft(now, &p.name, "token.create", subject, json!({ "label": label })),
            )
            .await?;
        Ok(token)
    }
}
