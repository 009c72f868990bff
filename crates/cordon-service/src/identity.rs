//! Verified chat identities: which Cordon user a Slack or Matrix account acts as.
//!
//! An account is linked to a user only with proof from the account — the user asks for a
//! one-time code ([`Cordon::request_link_code`]) and sends it from the chat account
//! (`!ic link CODE`, Slack `/ic link CODE`; [`Cordon::link_chat_identity`]) — or by an admin
//! ([`Cordon::admin_link_chat_identity`]). One account belongs to at most one user: the
//! store's unique index decides, on every node. The chat adapters ask
//! [`Cordon::principal_for_chat`] who an account is; an unlinked account, or one whose user is
//! disabled, is nobody.
//!
//! Codes are secrets: 60 random bits, stored as their SHA-256, valid for [`LINK_CODE_TTL`],
//! used once, one live code per user and kind; never logged and never in an audit payload.
//! A chat account that sends [`MAX_LINK_FAILURES`] wrong codes is not heard for
//! [`LINK_FAILURE_WINDOW`] (counted per node), and only those failures are audited, so a
//! flood of guesses can neither find a code nor grow the audit chain without bound.

use std::collections::HashMap;
use std::sync::Mutex;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::identity::{ChatIdentity, ChatKind, LinkCode};
use cordon_core::user::User;
use cordon_store::StoreError;
use cordon_store::identity::{ChatLink, LinkCodeRow};
use cordon_store::paging::ContactMethod;
use jiff::SignedDuration;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::draft;
use crate::incidents::new_id;
use crate::users::ensure_enabled;
use crate::{Cordon, Result, ServiceError, random};

/// How long a link code may be used.
pub const LINK_CODE_TTL: SignedDuration = SignedDuration::from_mins(10);
/// Wrong codes one chat account may send within [`LINK_FAILURE_WINDOW`].
pub const MAX_LINK_FAILURES: u32 = 5;
pub const LINK_FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
const LIMITER_MAX: usize = 10_000;

/// A chat account linked to a user, as listed.
pub use cordon_store::identity::ChatLink as LinkedChatIdentity;

/// A new link code, shown once to the user who asked for it.
#[derive(Debug, Clone)]
pub struct IssuedLinkCode {
    /// `XXXX-XXXX-XXXX`.
    pub code: String,
    pub kind: ChatKind,
    /// The account the code is bound to, when the user named one.
    pub account: Option<String>,
    pub expires_at: Timestamp,
}

/// A chat account several users claimed as a contact method before accounts had to be
/// proven: linked to nobody until an admin (or the account's own code) links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatIdentityConflict {
    pub kind: String,
    pub external_id: String,
    /// The claimers and when each claimed it, by name.
    pub claimed_by: Vec<(String, Timestamp)>,
}

/// The outcome of a successful `!ic link`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub user: String,
    pub account: String,
}

impl Linked {
    /// The chat reply: names the Cordon user, so a person tricked into sending someone
    /// else's code sees at once whom the account now acts as. Never the code.
    pub fn reply(&self) -> String {
        format!(
            "This account ({}) is now linked to the Cordon user {}.",
            self.account, self.user
        )
    }
}

/// Wrong link codes per chat account, per window.
#[derive(Debug, Default)]
pub(crate) struct LinkLimiter {
    failures: Mutex<HashMap<ChatIdentity, (Timestamp, u32)>>,
}

impl LinkLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChatIdentity, (Timestamp, u32)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn blocked(&self, who: &ChatIdentity, now: Timestamp) -> bool {
        self.lock()
            .get(who)
            .is_some_and(|(since, n)| *n >= MAX_LINK_FAILURES && now.duration_since(*since) < LINK_FAILURE_WINDOW)
    }

    /// Counts a failure; how many this window.
    fn fail(&self, who: &ChatIdentity, now: Timestamp) -> u32 {
        let mut m = self.lock();
        if m.len() >= LIMITER_MAX {
            m.retain(|_, (since, _)| now.duration_since(*since) < LINK_FAILURE_WINDOW);
            if m.len() >= LIMITER_MAX {
                m.clear();
            }
        }
        let e = m.entry(who.clone()).or_insert((now, 0));
        if now.duration_since(e.0) >= LINK_FAILURE_WINDOW || e.0 > now {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1
    }

    fn clear(&self, who: &ChatIdentity) {
        self.lock().remove(who);
    }
}

fn code_hash(code: &LinkCode) -> [u8; 32] {
    Sha256::digest(code.canonical().as_bytes()).into()
}

fn wrong_code() -> ServiceError {
    ServiceError::invalid(
        "code",
        "that code is wrong, expired or used already; ask Cordon for a new one",
    )
}

impl Cordon {
    /// Issues a one-time code that links the chat account it is sent from to `p` (only that
    /// account, when `account` names one). A new code replaces the caller's earlier one.
    pub async fn request_link_code(&self, p: &Principal, kind: &str, account: Option<&str>) -> Result<IssuedLinkCode> {
        let kind: ChatKind = kind.parse()?;
        let account = account.map(|a| ChatIdentity::parse(kind, a)).transpose()?;
        let u = self.me(p).await?;
        ensure_enabled(&u, "user")?;
        let now = self.clock.now();
        let code = LinkCode::from_random(random::bytes::<8>());
        let row = LinkCodeRow {
            hash: code_hash(&code),
            user_id: u.id,
            kind: kind.as_str().to_owned(),
            external_id: account.as_ref().map(|a| a.id().to_owned()),
            created_at: now,
            expires_at: now + LINK_CODE_TTL,
        };
        let payload = json!({
            "kind": kind.as_str(),
            "account": row.external_id,
            "expires_at": row.expires_at.to_string(),
        });
        let audit = draft(now, &p.name, "identity.code", format!("user:{}", u.name), payload);
        self.store.put_link_code(&row, audit).await?;
        Ok(IssuedLinkCode {
            code: code.display(),
            kind,
            account: row.external_id,
            expires_at: row.expires_at,
        })
    }

    /// `!ic link CODE` from a chat account (`kind` `slack`/`matrix`, or the old contact kinds
    /// `slack_user`/`matrix_user`; `external_id` as the verified chat request names the
    /// sender): links the account to the user the code was issued to.
    pub async fn link_chat_identity(&self, kind: &str, external_id: &str, code: &str) -> Result<Linked> {
        let kind: ChatKind = kind.parse()?;
        let who = ChatIdentity::parse(kind, external_id)?;
        let now = self.clock.now();
        if self.link_limiter.blocked(&who, now) {
            return Err(ServiceError::Forbidden(format!(
                "too many wrong codes from this account; try again in {} minutes",
                LINK_FAILURE_WINDOW.as_mins()
            )));
        }
        match self.try_link(&who, code, now).await {
            Ok(linked) => {
                self.link_limiter.clear(&who);
                Ok(linked)
            }
            Err(e @ ServiceError::Invalid { .. }) => {
                let n = self.link_limiter.fail(&who, now);
                if n <= MAX_LINK_FAILURES {
                    self.audit_refused_request(
                        &who.to_string(),
                        "identity.link",
                        &format!("{e} ({n} of {MAX_LINK_FAILURES})"),
                    )
                    .await?;
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn try_link(&self, who: &ChatIdentity, code: &str, now: Timestamp) -> Result<Linked> {
        let code = LinkCode::parse(code).ok_or_else(wrong_code)?;
        let hash = code_hash(&code);
        let row = self.store.link_code(&hash).await?.ok_or_else(wrong_code)?;
        let fits = row.kind == who.kind().as_str()
            && row.expires_at > now
            && row.external_id.as_deref().is_none_or(|a| a == who.id());
        if !fits {
            return Err(wrong_code());
        }
        let u = self.store.user_by_id(row.user_id).await?.ok_or_else(wrong_code)?;
        if u.is_disabled() {
            return Err(wrong_code());
        }
        if let Some(owner) = self.store.user_by_chat_identity(who.kind().as_str(), who.id()).await? {
            return Err(ServiceError::Conflict(if owner.id == u.id {
                "this account is linked to you already".into()
            } else {
                "this account is linked to another Cordon user; ask an admin to unlink it first".into()
            }));
        }
        let link = ChatLink {
            id: new_id(now),
            kind: who.kind().as_str().to_owned(),
            external_id: who.id().to_owned(),
            user_id: u.id,
            user_name: u.name.clone(),
            linked_at: now,
            linked_by: who.to_string(),
            via: "code".into(),
        };
        let audit = draft(
            now,
            &who.to_string(),
            "identity.link",
            format!("user:{}", u.name),
            json!({ "kind": link.kind, "account": link.external_id, "via": "code" }),
        );
        match self.store.redeem_link_code(&hash, &link, now, audit).await {
            Ok(true) => Ok(Linked {
                user: u.name,
                account: who.id().to_owned(),
            }),
            Ok(false) => Err(wrong_code()),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(
                "this account is linked to another Cordon user; ask an admin to unlink it first".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The user behind a linked chat account (`slack`/`slack_user`, `matrix`/`matrix_user`):
    /// `None` for an account linked to nobody, or to a disabled user.
    pub async fn principal_for_chat(&self, kind: &str, external_id: &str) -> Result<Option<Principal>> {
        let Ok(kind) = kind.parse::<ChatKind>() else {
            return Ok(None);
        };
        let Ok(who) = ChatIdentity::parse(kind, external_id) else {
            return Ok(None);
        };
        Ok(self
            .store
            .user_by_chat_identity(kind.as_str(), who.id())
            .await?
            .filter(|u| !u.is_disabled())
            .map(|u| Principal::from_user(&u)))
    }

    /// Links a chat account to `user` without a code (admins only; everyone else links their
    /// own accounts with a code).
    pub async fn admin_link_chat_identity(
        &self,
        p: &Principal,
        user: &str,
        kind: &str,
        external_id: &str,
    ) -> Result<LinkedChatIdentity> {
        let subject = format!("user:{user}");
        if !p.is_admin {
            let e = ServiceError::Forbidden(
                "only admins link chat accounts to users; link your own with a code: POST /api/v1/me/chat-identities, \
                 then send `!ic link CODE` from the account"
                    .into(),
            );
            return Err(self.refuse(p, "identity.link", subject, e).await);
        }
        let kind: ChatKind = kind.parse()?;
        let who = ChatIdentity::parse(kind, external_id)?;
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        ensure_enabled(&u, "user")?;
        let now = self.clock.now();
        let link = ChatLink {
            id: new_id(now),
            kind: kind.as_str().to_owned(),
            external_id: who.id().to_owned(),
            user_id: u.id,
            user_name: u.name.clone(),
            linked_at: now,
            linked_by: p.name.clone(),
            via: "admin".into(),
        };
        let audit = draft(
            now,
            &p.name,
            "identity.link",
            subject,
            json!({ "kind": link.kind, "account": link.external_id, "via": "admin" }),
        );
        match self.store.link_chat_identity(&link, audit).await {
            Ok(()) => Ok(link),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "{who} is linked to a user already; unlink it first"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// An old-style `slack_user`/`matrix_user` contact: an admin's links the account (as
    /// [`Cordon::admin_link_chat_identity`]), anyone else's is refused with the way to do it.
    pub(crate) async fn add_chat_contact(
        &self,
        p: &Principal,
        user: &str,
        kind: &str,
        address: &str,
    ) -> Result<ContactMethod> {
        let link = self.admin_link_chat_identity(p, user, kind, address).await?;
        Ok(ContactMethod {
            id: link.id,
            user_id: link.user_id,
            kind: kind.to_owned(),
            address: link.external_id,
            created_at: link.linked_at,
        })
    }

    /// The chat accounts linked to a user (admins, or the user themself).
    pub async fn chat_identities(&self, p: &Principal, user: &str) -> Result<Vec<LinkedChatIdentity>> {
        let u = self.linked_user(p, user, "identity.list").await?;
        Ok(self.store.chat_identities(u.id).await?)
    }

    /// Unlinks one of a user's chat accounts (admins, or the user themself).
    pub async fn unlink_chat_identity(&self, p: &Principal, user: &str, id: &str) -> Result<LinkedChatIdentity> {
        let u = self.linked_user(p, user, "identity.unlink").await?;
        // By its account (`U024BE7LH`, `@olivia:corp.example`), a unique id prefix or its id.
        let links = self.store.chat_identities(u.id).await?;
        let link = crate::handles::resolve("chat identity", "id", id, &links, |l| crate::handles::Named {
            id: l.id,
            names: vec![l.external_id.clone()],
        })
        .map_err(|e| crate::handles::not_found_unless_ambiguous(e, "chat identity"))?
        .clone();
        let id = link.id;
        let now = self.clock.now();
        let audit = draft(
            now,
            &p.name,
            "identity.unlink",
            format!("user:{}", u.name),
            json!({ "kind": link.kind, "account": link.external_id }),
        );
        if !self.store.unlink_chat_identity(u.id, id, audit).await? {
            return Err(ServiceError::NotFound("chat identity"));
        }
        Ok(link)
    }

    async fn linked_user(&self, p: &Principal, user: &str, action: &str) -> Result<User> {
        if !p.is_admin && p.name != user {
            let e = ServiceError::Forbidden("only admins may manage other users' chat accounts".into());
            return Err(self.refuse(p, action, format!("user:{user}"), e).await);
        }
        self.store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Chat accounts several users claimed before proof was needed (admins): linked to nobody
    /// until an admin links each to its owner.
    pub async fn chat_identity_conflicts(&self, p: &Principal) -> Result<Vec<ChatIdentityConflict>> {
        if !p.is_admin {
            let e = ServiceError::Forbidden("only admins may read chat identity conflicts".into());
            return Err(self.refuse(p, "identity.conflicts", "identities".into(), e).await);
        }
        self.conflicts().await
    }

    async fn conflicts(&self) -> Result<Vec<ChatIdentityConflict>> {
        let mut out: Vec<ChatIdentityConflict> = Vec::new();
        for c in self.store.chat_claims().await? {
            match out.last_mut() {
                Some(last) if last.kind == c.kind && last.external_id == c.external_id => {
                    last.claimed_by.push((c.user_name, c.claimed_at));
                }
                _ => out.push(ChatIdentityConflict {
                    kind: c.kind,
                    external_id: c.external_id,
                    claimed_by: vec![(c.user_name, c.claimed_at)],
                }),
            }
        }
        Ok(out)
    }

    /// Logs a warning for every chat account several users claimed (run at start): they act
    /// as nobody until an admin links them. Returns how many there are.
    pub async fn warn_chat_identity_conflicts(&self) -> Result<usize> {
        let conflicts = self.conflicts().await?;
        for c in &conflicts {
            let users: Vec<&str> = c.claimed_by.iter().map(|(u, _)| u.as_str()).collect();
            tracing::warn!(
                kind = %c.kind,
                account = %c.external_id,
                users = %users.join(", "),
                "a {} account was claimed by several users ({}); it is linked to nobody until an admin links it \
                 (GET /api/v1/chat-identities/conflicts, POST /api/v1/users/{{name}}/chat-identities)",
                c.kind,
                users.join(", ")
            );
        }
        Ok(conflicts.len())
    }
}
