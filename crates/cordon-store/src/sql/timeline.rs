//! The implementation of [`TimelineStore`].

use async_trait::async_trait;
use cordon_core::clock::to_micros;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, sql};
use crate::error::conflict_on_unique;
use crate::rows::{self as from_row};
use crate::timeline::{TimelineSource, TimelineStore};
use crate::{AuditDraft, Result};

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[async_trait]
impl<B: Backend> TimelineStore for SqlStore<B> {
    async fn add_timeline_source(&self, s: &TimelineSource, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO timeline_sources (id, incident_id, name, host, format, sha256, bytes, lines, events,
                                           skipped, diagnostics_total, diagnostics, state, created_by, created_at,
                                           evidence_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(s.id)
        .bind(s.incident_id)
        .bind(&s.name)
        .bind(&s.host)
        .bind(&s.format)
        .bind(&s.sha256)
        .bind(count(s.bytes))
        .bind(count(s.lines))
        .bind(count(s.events))
        .bind(count(s.skipped))
        .bind(count(s.diagnostics_total))
        .bind(&s.diagnostics)
        .bind(s.state.as_str())
        .bind(s.created_by)
        .bind(to_micros(s.created_at))
        .bind(s.evidence_id)
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("timeline source"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn timeline_sources(&self, incident: Uuid) -> Result<Vec<TimelineSource>> {
        let rows = sql(
            "SELECT id, incident_id, name, host, format, sha256, bytes, lines, events, skipped, diagnostics_total,
                    diagnostics, state, created_by, created_at, evidence_id
             FROM timeline_sources WHERE incident_id = $1 ORDER BY created_at, id",
        )
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::timeline_source).collect()
    }
}
