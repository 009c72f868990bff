//! The implementation of [`IdentityStore`]. What must happen once is a conditional
//! statement whose rows affected decide (a code is used by the one `DELETE` that removes it; a
//! user is disabled by the one `UPDATE` that sets `disabled_at`), and the unique index on
//! `(kind, external_id)` refuses a second link of one account from any node.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use cordon_core::user::User;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, Cols, Conn, sql, sql_built};
use crate::error::conflict_on_unique;
use crate::identity::{
    self as rows, CANCELLED, ChatClaim, ChatLink, Disabled, IdentityStore, LinkCodeRow, TokenRecord,
};
use crate::{AuditDraft, Result, Store};

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.label, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

async fn insert_link<C: Conn>(conn: &mut C, link: &ChatLink) -> Result<()> {
    sql(
        "INSERT INTO chat_identities (id, kind, external_id, user_id, linked_at, linked_by, via)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(link.id)
    .bind(&link.kind)
    .bind(&link.external_id)
    .bind(link.user_id)
    .bind(to_micros(link.linked_at))
    .bind(&link.linked_by)
    .bind(&link.via)
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("chat identity"))?;
    sql("DELETE FROM chat_identity_claims WHERE kind = $1 AND external_id = $2")
        .bind(&link.kind)
        .bind(&link.external_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> IdentityStore for SqlStore<B> {
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(User, TokenRecord)>> {
        let q = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL");
        let Some(r) = sql_built(q)
            .bind(&hash[..])
            .fetch_optional(&mut *self.read().await?)
            .await?
        else {
            return Ok(None);
        };
        let token = rows::token(&r)?;
        Ok(self.user_by_id(token.user_id).await?.map(|u| (u, token)))
    }

    async fn tokens(&self, user: Uuid) -> Result<Vec<TokenRecord>> {
        let q =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id");
        let rows = sql_built(q).bind(user).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(rows::token).collect()
    }

    async fn revoke_token(&self, user: Uuid, id: Uuid, at: Timestamp, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sql("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
            .bind(id)
            .bind(user)
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await?;
        if r == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn touch_token(&self, id: Uuid, at: Timestamp) -> Result<()> {
        sql("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
            .bind(id)
            .bind(to_micros(at))
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        Ok(())
    }

    async fn disable_user(&self, user: Uuid, at: Timestamp, audit: AuditDraft) -> Result<Option<Disabled>> {
        let mut tx = self.begin().await?;
        let at_us = to_micros(at);
        let name = sql("UPDATE users SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL RETURNING name")
            .bind(user)
            .bind(at_us)
            .map_optional(&mut *tx, |r| r.text("name"))
            .await?;
        let Some(name) = name else {
            return Ok(None);
        };
        let tokens = sql("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user)
            .bind(at_us)
            .execute(&mut *tx)
            .await?;
        let chat_identities = sql("DELETE FROM chat_identities WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let link_codes = sql("DELETE FROM chat_link_codes WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let sessions = sql(
            "UPDATE sessions SET ended_at = $2, end_reason = 'user disabled' WHERE user_id = $1 AND ended_at IS NULL",
        )
        .bind(user)
        .bind(at_us)
        .execute(&mut *tx)
        .await?;
        let notifications = sql(
            "UPDATE notifications SET status = $3, next_attempt_at = NULL, error = 'the user was disabled',
                                      updated_at = $2
             WHERE user_name = $1 AND status = 'pending'",
        )
        .bind(&name)
        .bind(at_us)
        .bind(CANCELLED)
        .execute(&mut *tx)
        .await?;
        let done = Disabled {
            tokens,
            chat_identities,
            link_codes,
            notifications,
            sessions,
        };
        append_in(&mut *tx, &done.into_audit(audit)).await?;
        tx.commit().await?;
        Ok(Some(done))
    }

    async fn enable_user(&self, user: Uuid, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sql("UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if r == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn link_chat_identity(&self, link: &ChatLink, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_link(&mut *tx, link).await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_chat_identity(&self, kind: &str, external_id: &str) -> Result<Option<User>> {
        let id = sql("SELECT user_id FROM chat_identities WHERE kind = $1 AND external_id = $2")
            .bind(kind)
            .bind(external_id)
            .map_optional(&mut *self.read().await?, |r| r.uuid("user_id"))
            .await?;
        match id {
            Some(id) => self.user_by_id(id).await,
            None => Ok(None),
        }
    }

    async fn chat_identities(&self, user: Uuid) -> Result<Vec<ChatLink>> {
        let rows = sql(
            "SELECT c.id, c.kind, c.external_id, c.user_id, u.name AS user_name, c.linked_at, c.linked_by, c.via
             FROM chat_identities c JOIN users u ON u.id = c.user_id
             WHERE c.user_id = $1 ORDER BY c.linked_at, c.id",
        )
        .bind(user)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(rows::chat_link).collect()
    }

    async fn unlink_chat_identity(&self, user: Uuid, id: Uuid, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sql("DELETE FROM chat_identities WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if r == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn chat_claims(&self) -> Result<Vec<ChatClaim>> {
        let rows = sql(
            "SELECT c.kind, c.external_id, c.user_id, u.name AS user_name, c.claimed_at
             FROM chat_identity_claims c JOIN users u ON u.id = c.user_id
             ORDER BY c.kind, c.external_id COLLATE \"C\", u.name COLLATE \"C\"",
        )
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(rows::chat_claim).collect()
    }

    async fn put_link_code(&self, code: &LinkCodeRow, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql("DELETE FROM chat_link_codes WHERE expires_at <= $1 OR (user_id = $2 AND kind = $3)")
            .bind(to_micros(code.created_at))
            .bind(code.user_id)
            .bind(&code.kind)
            .execute(&mut *tx)
            .await?;
        sql(
            "INSERT INTO chat_link_codes (code_hash, user_id, kind, external_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&code.hash[..])
        .bind(code.user_id)
        .bind(&code.kind)
        .bind(&code.external_id)
        .bind(to_micros(code.created_at))
        .bind(to_micros(code.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("link code"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn link_code(&self, hash: &[u8; 32]) -> Result<Option<LinkCodeRow>> {
        let r = sql(
            "SELECT code_hash, user_id, kind, external_id, created_at, expires_at FROM chat_link_codes
             WHERE code_hash = $1",
        )
        .bind(&hash[..])
        .fetch_optional(&mut *self.read().await?)
        .await?;
        r.as_ref().map(rows::link_code).transpose()
    }

    async fn redeem_link_code(
        &self,
        hash: &[u8; 32],
        link: &ChatLink,
        now: Timestamp,
        audit: AuditDraft,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let used = sql("DELETE FROM chat_link_codes WHERE code_hash = $1 AND user_id = $2 AND expires_at > $3")
            .bind(&hash[..])
            .bind(link.user_id)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
        if used == 0 {
            return Ok(false);
        }
        insert_link(&mut *tx, link).await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
