//! An incident's activity: its history as the audit log recorded it (who declared it, paged,
//! acknowledged, moved a task, overrode a gate, …), newest first, for the war room. Only the
//! incident's viewers read it (through the gate); reads and refusals recorded in the log are
//! not activity, nor are conversation messages (the conversation shows those).

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::clock::from_micros;
use uuid::Uuid;

use crate::{Cordon, Result};

/// The most entries one read returns.
pub const ACTIVITY_LIMIT: u32 = 500;

/// One thing that happened to an incident or one of its items.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    /// The audit entry's sequence number (the list's cursor).
    pub seq: i64,
    pub at: Timestamp,
    /// Who did it (a user name, or `system` for the engine).
    pub actor: String,
    /// The audit action (`incident.declare`, `task.gate_override`, `page.ack`, …).
    pub action: String,
    /// The entry's payload (what changed), as recorded.
    pub payload: serde_json::Value,
}

impl Cordon {
    /// The incident's activity, newest first: at most `limit` entries (capped at
    /// [`ACTIVITY_LIMIT`]) before the sequence number `before`.
    pub async fn activity(
        &self,
        p: &Principal,
        raw_ref: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ActivityEntry>> {
        let a = self.gate(p, raw_ref).await?;
        self.activity_of(a.incident().id, before, limit).await
    }

    pub(crate) async fn activity_of(
        &self,
        incident: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ActivityEntry>> {
        let records = self
            .store
            .incident_activity(incident, before, limit.clamp(1, ACTIVITY_LIMIT))
            .await?;
        Ok(records
            .into_iter()
            .filter(|r| crate::feed::kind_of(&r.action).is_some_and(|k| k != "message"))
            .map(|r| ActivityEntry {
                seq: r.seq,
                at: from_micros(r.at_micros),
                actor: r.actor,
                payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
                action: r.action,
            })
            .collect())
    }
}
