//! The implementation of [`SessionStore`]. Ending a session is a conditional `UPDATE` (`ended_at
//! IS NULL`), so a logout, an admin's revocation and a disabling end it once, on any node.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use cordon_core::user::User;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, Cols, sql, sql_built};
use crate::sessions::{NewSession, SessionRecord, SessionStore};
use crate::{AuditDraft, Result, Store};

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.method, s.created_at, s.last_seen_at, s.expires_at, s.address, \
                               s.user_agent, s.ended_at, s.end_reason";

fn session(r: &impl Cols) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        method: r.text("method")?,
        created_at: r.time("created_at")?,
        last_seen_at: r.time("last_seen_at")?,
        expires_at: r.time("expires_at")?,
        address: r.opt_text("address")?,
        user_agent: r.opt_text("user_agent")?,
        ended_at: r.opt_time("ended_at")?,
        end_reason: r.opt_text("end_reason")?,
    })
}

#[async_trait]
impl<B: Backend> SessionStore for SqlStore<B> {
    async fn open_session(&self, s: &NewSession, forget_before: Timestamp, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql("DELETE FROM sessions WHERE expires_at < $1")
            .bind(to_micros(forget_before))
            .execute(&mut *tx)
            .await?;
        sql(
            "INSERT INTO sessions (id, token_hash, user_id, method, created_at, last_seen_at, expires_at, address, user_agent)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
        )
        .bind(s.id)
        .bind(&s.hash[..])
        .bind(s.user_id)
        .bind(&s.method)
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.expires_at))
        .bind(&s.address)
        .bind(&s.user_agent)
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(User, SessionRecord)>> {
        let q = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.token_hash = $1 AND s.ended_at IS NULL");
        let Some(s) = sql_built(q)
            .bind(&hash[..])
            .map_optional(&mut *self.read().await?, session)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.user_by_id(s.user_id).await?.map(|u| (u, s)))
    }

    async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>> {
        let q = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = $1");
        sql_built(q)
            .bind(id)
            .map_optional(&mut *self.read().await?, session)
            .await
    }

    async fn sessions_of(&self, user: Uuid, now: Timestamp) -> Result<Vec<SessionRecord>> {
        let q = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s
             WHERE s.user_id = $1 AND s.ended_at IS NULL AND s.expires_at > $2
             ORDER BY s.created_at DESC, s.id"
        );
        sql_built(q)
            .bind(user)
            .bind(to_micros(now))
            .map_all(&mut *self.read().await?, session)
            .await
    }

    async fn all_sessions(&self, now: Timestamp, limit: u32) -> Result<Vec<SessionRecord>> {
        let q = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s
             WHERE s.ended_at IS NULL AND s.expires_at > $1
             ORDER BY s.created_at DESC, s.id LIMIT $2"
        );
        sql_built(q)
            .bind(to_micros(now))
            .bind(limit)
            .map_all(&mut *self.read().await?, session)
            .await
    }

    async fn touch_session(&self, id: Uuid, at: Timestamp) -> Result<()> {
        sql("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(id)
            .bind(to_micros(at))
            .execute(&mut *self.writer.acquire().await?)
            .await?;
        Ok(())
    }

    async fn end_session(&self, id: Uuid, at: Timestamp, reason: &str, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sql("UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL")
            .bind(id)
            .bind(to_micros(at))
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
