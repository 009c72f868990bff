//! The implementation of [`EvidenceStore`]: evidence items and custody events, each
//! custody event appended to the audit chain in the same transaction. The schema refuses UPDATE
//! and DELETE on both tables (SQLite's triggers; PostgreSQL's plpgsql triggers, TRUNCATE too).

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use uuid::Uuid;

use super::{SqlStore, append_entry};
use crate::dialect::{Backend, Conn, sql};
use crate::error::refusal;
use crate::evidence::{CustodyEvent, EvidenceItem, EvidenceStore, NewCustody};
use crate::rows::{self as from_row};
use crate::{Result, StoreError};

/// `SELECT` of evidence items (aliased `e`) with the uploader's name, followed by a literal tail.
macro_rules! item_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT e.id, e.incident_id, e.name, e.description, e.blob_key, e.size, e.sha256, e.blake3,
                    e.md5, e.sha1, e.acquired_by, e.tool, e.source_asset, e.created_by, e.created_at,
                    u.name AS created_by_name
             FROM evidence_items e JOIN users u ON u.id = e.created_by ",
            $tail
        )
    };
}

/// `SELECT` of custody events (aliased `c`) with their audit entry's hash, followed by a tail.
macro_rules! custody_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT c.id, c.item_id, c.kind, c.actor, c.at, c.details, c.audit_seq, a.hash AS audit_hash
             FROM custody_events c JOIN audit_log a ON a.seq = c.audit_seq ",
            $tail
        )
    };
}

/// Appends the event's audit entry, then the event pointing at it; returns the stored event.
async fn insert_custody<C: Conn>(conn: &mut C, e: &NewCustody) -> Result<CustodyEvent> {
    let (seq, hash) = append_entry(&mut *conn, &e.audit).await?;
    sql(
        "INSERT INTO custody_events (id, item_id, kind, actor, at, details, audit_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id)
    .bind(e.item_id)
    .bind(e.kind.as_str())
    .bind(&e.actor)
    .bind(to_micros(e.at))
    .bind(&e.details)
    .bind(seq)
    .execute(&mut *conn)
    .await
    .map_err(refusal("custody event", "evidence"))?;
    Ok(CustodyEvent {
        id: e.id,
        item_id: e.item_id,
        kind: e.kind,
        actor: e.actor.clone(),
        at: e.at,
        details: e.details.clone(),
        audit_seq: seq,
        audit_hash: hash.to_vec(),
    })
}

#[async_trait]
impl<B: Backend> EvidenceStore for SqlStore<B> {
    async fn create_evidence(&self, item: &EvidenceItem, custody: &[NewCustody]) -> Result<Vec<CustodyEvent>> {
        let size = i64::try_from(item.size).map_err(|_| StoreError::corrupt("evidence size above i64::MAX"))?;
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO evidence_items (id, incident_id, name, description, blob_key, size, sha256, blake3, md5,
                                         sha1, acquired_by, tool, source_asset, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(item.id)
        .bind(item.incident_id)
        .bind(&item.name)
        .bind(&item.description)
        .bind(&item.blob_key)
        .bind(size)
        .bind(&item.sha256)
        .bind(&item.blake3)
        .bind(&item.md5)
        .bind(&item.sha1)
        .bind(&item.acquired_by)
        .bind(&item.tool)
        .bind(&item.source_asset)
        .bind(item.created_by)
        .bind(to_micros(item.created_at))
        .execute(&mut *tx)
        .await
        .map_err(refusal("evidence", "incident"))?;
        let mut events = Vec::with_capacity(custody.len());
        for e in custody {
            if e.item_id != item.id {
                return Err(StoreError::corrupt(
                    "a custody event of another item was passed with a new item",
                ));
            }
            events.push(insert_custody(&mut *tx, e).await?);
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn append_custody(&self, event: &NewCustody) -> Result<CustodyEvent> {
        let mut tx = self.begin().await?;
        let stored = insert_custody(&mut *tx, event).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn evidence_item(&self, incident: Uuid, id: Uuid) -> Result<Option<EvidenceItem>> {
        const Q: &str = item_query!("WHERE e.id = $1 AND e.incident_id = $2");
        let row = sql(Q)
            .bind(id)
            .bind(incident)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.as_ref().map(from_row::evidence_item).transpose()
    }

    async fn evidence_items(&self, incident: Uuid) -> Result<Vec<EvidenceItem>> {
        // Oldest first; items received in the same instant in the order they were recorded.
        const Q: &str = item_query!(
            "WHERE e.incident_id = $1
             ORDER BY e.created_at, (SELECT MIN(c.audit_seq) FROM custody_events c WHERE c.item_id = e.id), e.id"
        );
        let rows = sql(Q).bind(incident).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::evidence_item).collect()
    }

    async fn custody_events(&self, item: Uuid) -> Result<Vec<CustodyEvent>> {
        const Q: &str = custody_query!("WHERE c.item_id = $1 ORDER BY c.audit_seq");
        let rows = sql(Q).bind(item).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::custody_event).collect()
    }

    async fn incident_custody(&self, incident: Uuid) -> Result<Vec<CustodyEvent>> {
        const Q: &str =
            custody_query!("JOIN evidence_items e ON e.id = c.item_id WHERE e.incident_id = $1 ORDER BY c.audit_seq");
        let rows = sql(Q).bind(incident).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::custody_event).collect()
    }

    async fn evidence_due_for_verification(
        &self,
        verified_before: Timestamp,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<EvidenceItem>> {
        // PostgreSQL's uuid order is byte order, the same as SQLite's order of the lower-case text form.
        const Q: &str = item_query!(
            "WHERE ($1 IS NULL OR e.id > $1)
               AND COALESCE((SELECT MAX(c.at) FROM custody_events c
                             WHERE c.item_id = e.id AND c.kind = 'verification'), e.created_at) <= $2
             ORDER BY e.id LIMIT $3",
        );
        let rows = sql(Q)
            .bind(after)
            .bind(to_micros(verified_before))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(from_row::evidence_item).collect()
    }
}
