//! The implementation of [`RoomStore`].

use async_trait::async_trait;
use cordon_core::clock::to_micros;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, Cols, sql};
use crate::error::conflict_on_unique;
use crate::room::{NewRoomMessage, RoomMessage, RoomStore};
use crate::{AuditDraft, Result};

/// The columns of a message (aliased `m`) with its author's name.
macro_rules! message_query {
    ($tail:literal) => {
        concat!(
            "SELECT m.seq, m.id, m.incident_id, m.author_id, u.name AS author_name, m.kind, m.body, m.reply_to,
                    m.created_at
             FROM room_messages m LEFT JOIN users u ON u.id = m.author_id ",
            $tail
        )
    };
}

fn message(r: &impl Cols) -> Result<RoomMessage> {
    Ok(RoomMessage {
        seq: r.int("seq")?,
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        author: r.opt_uuid("author_id")?,
        author_name: r.opt_text("author_name")?,
        kind: r.parse("kind")?,
        body: r.text("body")?,
        reply_to: r.opt_uuid("reply_to")?,
        created_at: r.time("created_at")?,
    })
}

#[async_trait]
impl<B: Backend> RoomStore for SqlStore<B> {
    async fn add_room_message(&self, m: &NewRoomMessage, audit: AuditDraft) -> Result<RoomMessage> {
        let mut tx = self.begin().await?;
        let seq = append_in(&mut *tx, &audit).await?;
        sql(
            "INSERT INTO room_messages (seq, id, incident_id, author_id, kind, body, reply_to, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(m.id)
        .bind(m.incident_id)
        .bind(m.author)
        .bind(m.kind.as_str())
        .bind(m.body.as_str())
        .bind(m.reply_to)
        .bind(to_micros(m.created_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("message"))?;
        let stored = sql(message_query!("WHERE m.seq = $1"))
            .bind(seq)
            .map_optional(&mut *tx, message)
            .await?
            .ok_or(crate::StoreError::NotFound("message"))?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn room_messages(&self, incident: Uuid, before: Option<i64>, limit: u32) -> Result<Vec<RoomMessage>> {
        sql(message_query!(
            "WHERE m.incident_id = $1 AND ($2 IS NULL OR m.seq < $2) ORDER BY m.seq DESC LIMIT $3"
        ))
        .bind(incident)
        .bind(before)
        .bind(limit)
        .map_all(&mut *self.read().await?, message)
        .await
    }

    async fn room_log(&self, incident: Uuid) -> Result<Vec<RoomMessage>> {
        sql(message_query!("WHERE m.incident_id = $1 ORDER BY m.seq"))
            .bind(incident)
            .map_all(&mut *self.read().await?, message)
            .await
    }
}
