//! An incident's history, for its war room's activity list (issue 15): the audit entries about
//! the incident itself (`incident:{id}`) and about each of its items (`task:{id}`,
//! `page:{id}`, `clock:{id}`, … — every kind [`crate::feed::IncidentItem`] names), newest
//! first. The audit log is the record; nothing is copied. Migration 0017 indexes the log by
//! subject so that reading one incident's history does not scan everyone's.

use async_trait::async_trait;
use cordon_core::audit::AuditRecord;
use uuid::Uuid;

use crate::Result;

/// Reads of an incident's history. Part of [`crate::Store`].
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// At most `limit` audit records about the incident and its items, newest first, before
    /// the sequence number `before` (from the newest when `None`).
    async fn incident_activity(&self, incident: Uuid, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>>;
}
