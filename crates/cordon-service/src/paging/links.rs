//! One-time acknowledgement links, carried by the notices a page sends.
//!
//! A link is `{public_url}/ack/{token}` with a 256-bit random token: nothing readable in it
//! (no user name, no page id). Only the token's SHA-256 is stored, with the recipient, the
//! page, an expiry ([`ACK_LINK_TTL`]) and the instant it was used. Opening a link (GET) only
//! shows what it is for; acknowledging (POST) uses it once, acts as its recipient and nobody
//! else, and goes through the same [`Cordon::ack_page`] as every other acknowledgement — so a
//! recipient who may not see the incident still gets only what the page was for.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::User;
use cordon_store::paging::AckLinkRow;
use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::PageView;
use crate::{Cordon, Result, ServiceError, random};

/// How long an acknowledgement link works after it was sent.
pub const ACK_LINK_TTL: SignedDuration = SignedDuration::from_hours(24);

/// What opening a link shows before anyone acknowledges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLinkInfo {
    /// The incident's codename, as the notice carrying the link said.
    pub codename: Option<String>,
    /// The incident's severity, which the notice said too.
    pub severity: Option<cordon_core::incident::Severity>,
    /// Whether a POST would acknowledge: not used, not expired.
    pub usable: bool,
    pub expires_at: Timestamp,
}

fn hash_of(token: &str) -> Option<[u8; 32]> {
    // Tokens are 64 lower-case hex characters; anything else names no link.
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Sha256::digest(token.as_bytes()).into())
}

impl Cordon {
    /// A fresh one-time link that acknowledges `page` as `user`, valid for [`ACK_LINK_TTL`].
    pub(crate) async fn ack_link(&self, page: Uuid, user: &User, step: i64, now: Timestamp) -> Result<String> {
        let token = hex::encode(random::bytes::<32>());
        let row = AckLinkRow {
            token_hash: Sha256::digest(token.as_bytes()).into(),
            page_id: page,
            user_id: user.id,
            step,
            created_at: now,
            expires_at: now + ACK_LINK_TTL,
            used_at: None,
        };
        self.store.add_ack_link(&row).await?;
        Ok(format!("{}/ack/{token}", self.paging.public_url))
    }

    /// The stored link `token` names; unknown or malformed tokens are "not found".
    async fn ack_link_of(&self, token: &str) -> Result<AckLinkRow> {
        let hash = hash_of(token).ok_or(ServiceError::NotFound("link"))?;
        self.store.ack_link(&hash).await?.ok_or(ServiceError::NotFound("link"))
    }

    /// What a link is for, without using it (the page a GET shows). Unknown links are "not
    /// found".
    pub async fn ack_link_info(&self, token: &str) -> Result<AckLinkInfo> {
        let link = self.ack_link_of(token).await?;
        let now = self.clock.now();
        let facts = match self.store.page(link.page_id).await?.and_then(|p| p.incident_id) {
            Some(iid) => self.notice_facts(iid).await?,
            None => None,
        };
        Ok(AckLinkInfo {
            codename: facts.as_ref().map(|f| f.codename.to_string()),
            severity: facts.map(|f| f.severity),
            usable: link.used_at.is_none() && link.expires_at > now,
            expires_at: link.expires_at,
        })
    }

    /// Acknowledges through a link: used once, before it expires, as its recipient.
    pub async fn ack_by_link(&self, token: &str) -> Result<PageView> {
        let link = self.ack_link_of(token).await?;
        let now = self.clock.now();
        if link.used_at.is_some() {
            return Err(ServiceError::Conflict("this link was used already".into()));
        }
        if link.expires_at <= now {
            return Err(ServiceError::Conflict(
                "this link has expired; acknowledge in Cordon or with !ack".into(),
            ));
        }
        // A disabled recipient's links stop working with the rest of what they had.
        let recipient = self
            .store
            .user_by_id(link.user_id)
            .await?
            .filter(|u| !u.is_disabled())
            .ok_or(ServiceError::NotFound("link"))?;
        if !self.store.use_ack_link(&link.token_hash, now).await? {
            return Err(ServiceError::Conflict("this link was used already".into()));
        }
        self.ack_page(&Principal::from_user(&recipient), &link.page_id.to_string())
            .await
    }
}
