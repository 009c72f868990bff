//! PostgreSQL implementation of [`TimelineStore`].

use async_trait::async_trait;
use cordon_core::clock::{from_micros, to_micros};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PostgresStore, append_in, parse_col};
use crate::error::conflict_on_unique;
use crate::timeline::{SourceState, TimelineSource, TimelineStore};
use crate::{AuditDraft, Result, StoreError};

fn count(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn count_col(r: &PgRow, col: &str) -> Result<u64> {
    let v: i64 = r.try_get(col)?;
    u64::try_from(v).map_err(|_| StoreError::corrupt(format!("{col} {v}")))
}

fn source_from_row(r: &PgRow) -> Result<TimelineSource> {
    Ok(TimelineSource {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        name: r.try_get("name")?,
        host: r.try_get("host")?,
        format: r.try_get("format")?,
        sha256: r.try_get("sha256")?,
        bytes: count_col(r, "bytes")?,
        lines: count_col(r, "lines")?,
        events: count_col(r, "events")?,
        skipped: count_col(r, "skipped")?,
        diagnostics_total: count_col(r, "diagnostics_total")?,
        diagnostics: r.try_get("diagnostics")?,
        state: parse_col::<SourceState>(r, "state")?,
        evidence_id: r.try_get("evidence_id")?,
        created_by: r.try_get("created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}

#[async_trait]
impl TimelineStore for PostgresStore {
    async fn add_timeline_source(&self, s: &TimelineSource, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
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
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn timeline_sources(&self, incident: Uuid) -> Result<Vec<TimelineSource>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, name, host, format, sha256, bytes, lines, events, skipped, diagnostics_total,
                    diagnostics, state, created_by, created_at, evidence_id
             FROM timeline_sources WHERE incident_id = $1 ORDER BY created_at, id",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(source_from_row).collect()
    }
}
