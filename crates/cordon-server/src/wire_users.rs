//! Users, API tokens and chat identities as the API's bodies. A token's hash never becomes
//! one; a secret (a token, a link code) only the one answer that creates it.

use cordon_api::users::{
    ChatIdentityConflictOut, ChatIdentityOut, ClaimOut, DisabledOut, LinkCodeOut, TokenInfoOut, TokenOut, UserOut,
};
use cordon_core::Timestamp;
use cordon_core::user::User;
use cordon_service::identity::{ChatIdentityConflict, IssuedLinkCode, LinkedChatIdentity};
use cordon_service::{Disabled, IssuedToken, TokenInfo};

use crate::wire::{FromService, IntoWire};

impl FromService<User> for UserOut {
    fn from_service(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            groups: u.groups,
            admin: u.is_admin,
            has_pgp_key: u.pgp_key.is_some(),
            created_at: u.created_at,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at,
        }
    }
}

impl FromService<IssuedToken> for TokenOut {
    fn from_service(t: IssuedToken) -> Self {
        Self {
            token: t.token,
            id: t.id,
            expires_at: t.expires_at,
        }
    }
}

/// A token as listed at `now`: never the secret, never its hash.
pub(crate) fn token_info(t: TokenInfo, now: Timestamp) -> TokenInfoOut {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.is_live(now) {
        "active"
    } else {
        "expired"
    };
    TokenInfoOut {
        id: t.id,
        label: t.label,
        state: state.to_owned(),
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
    }
}

/// A disabled user, and what disabling ended.
pub(crate) fn disabled(u: User, d: Disabled) -> DisabledOut {
    DisabledOut {
        user: u.into_wire(),
        revoked_tokens: d.tokens,
        unlinked_chat_identities: d.chat_identities,
        cancelled_notifications: d.notifications,
        ended_sessions: d.sessions,
    }
}

impl FromService<IssuedLinkCode> for LinkCodeOut {
    fn from_service(c: IssuedLinkCode) -> Self {
        let instructions = format!(
            "From your {} account, send `!ic link {}` in a direct message to the Cordon bot{}; the code works once, \
             until {}. Anyone who sees it can use it, so do not post it in a shared room.",
            c.kind.title(),
            c.code,
            if c.kind == cordon_core::identity::ChatKind::Slack {
                " (or type `/ic link CODE`)"
            } else {
                ""
            },
            c.expires_at
        );
        Self {
            code: c.code,
            kind: c.kind.as_str().to_owned(),
            id: c.account,
            expires_at: c.expires_at,
            instructions,
        }
    }
}

impl FromService<LinkedChatIdentity> for ChatIdentityOut {
    fn from_service(l: LinkedChatIdentity) -> Self {
        Self {
            id: l.id,
            kind: l.kind,
            external_id: l.external_id,
            user: l.user_name,
            linked_at: l.linked_at,
            linked_by: l.linked_by,
            via: l.via,
        }
    }
}

impl FromService<ChatIdentityConflict> for ChatIdentityConflictOut {
    fn from_service(c: ChatIdentityConflict) -> Self {
        Self {
            kind: c.kind,
            external_id: c.external_id,
            claimed_by: c
                .claimed_by
                .into_iter()
                .map(|(user, claimed_at)| ClaimOut { user, claimed_at })
                .collect(),
        }
    }
}
