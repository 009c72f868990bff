//! The implementation of [`ActivityStore`].

use async_trait::async_trait;
use cordon_core::audit::AuditRecord;
use uuid::Uuid;

use super::SqlStore;
use crate::Result;
use crate::activity::ActivityStore;
use crate::dialect::{Backend, Cols, sql};

/// An incident's history: the entries whose subject is the incident (`$1`: `incident:{id}`) or
/// one of its items (`$2`: its id), before `$3`, newest first, at most `$4`.
const ACTIVITY: &str = "SELECT seq, at, actor, action, subject, payload FROM audit_log
     WHERE subject IN (SELECT $1
     UNION ALL SELECT 'task:' || CAST(id AS TEXT) FROM tasks WHERE incident_id = $2
     UNION ALL SELECT 'task:' || CAST(id AS TEXT) FROM follow_up_tasks WHERE incident_id = $2
     UNION ALL SELECT 'page:' || CAST(id AS TEXT) FROM pages WHERE incident_id = $2
     UNION ALL SELECT 'clock:' || CAST(id AS TEXT) FROM regulatory_clocks WHERE incident_id = $2
     UNION ALL SELECT 'ioc:' || CAST(id AS TEXT) FROM indicators WHERE incident_id = $2
     UNION ALL SELECT 'asset:' || CAST(id AS TEXT) FROM assets WHERE incident_id = $2
     UNION ALL SELECT 'system:' || CAST(id AS TEXT) FROM systems WHERE incident_id = $2
     UNION ALL SELECT 'credential:' || CAST(id AS TEXT) FROM credentials WHERE incident_id = $2
     UNION ALL SELECT 'exposure:' || CAST(id AS TEXT) FROM exposures WHERE incident_id = $2
     UNION ALL SELECT 'communication:' || CAST(id AS TEXT) FROM communications WHERE incident_id = $2
     UNION ALL SELECT 'contact:' || CAST(id AS TEXT) FROM contact_log WHERE incident_id = $2
     UNION ALL SELECT 'evidence:' || CAST(id AS TEXT) FROM evidence_items WHERE incident_id = $2)
     AND ($3 IS NULL OR seq < $3)
     ORDER BY seq DESC LIMIT $4";

#[async_trait]
impl<B: Backend> ActivityStore for SqlStore<B> {
    async fn incident_activity(&self, incident: Uuid, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>> {
        sql(ACTIVITY)
            .bind(format!("incident:{incident}"))
            .bind(incident)
            .bind(before)
            .bind(limit)
            .map_all(&mut *self.read().await?, |r| {
                Ok(AuditRecord {
                    seq: r.int("seq")?,
                    at_micros: r.int("at")?,
                    actor: r.text("actor")?,
                    action: r.text("action")?,
                    subject: r.text("subject")?,
                    payload: r.text("payload")?,
                })
            })
            .await
    }
}
