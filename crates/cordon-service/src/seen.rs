//! Inbound requests acted on once: a signed chat request (or an Events API delivery) is taken
//! by its key until it could no longer be replayed, on whichever node sees it first; and
//! refusals of unauthenticated requests, audited as one summary per interval rather than one
//! chain entry each.

use cordon_core::Timestamp;
use serde_json::Value;

use crate::audit::draft;
use crate::{Cordon, Result};

impl Cordon {
    /// Takes `key` in `scope` until `until`: true the first time, false while it is taken
    /// (here or on another node sharing the database).
    pub async fn see_once(&self, scope: &str, key: &str, until: Timestamp) -> Result<bool> {
        Ok(self.store.see_once(scope, key, until, self.clock.now()).await?)
    }

    /// One audit entry (`{action}.refused`) summing up refused requests: `summary` says how
    /// many, why (a sample reason) and from where.
    pub async fn audit_refused_summary(&self, actor: &str, action: &str, summary: Value) -> Result<()> {
        let d = draft(
            self.clock.now(),
            actor,
            &format!("{action}.refused"),
            "requests".into(),
            summary,
        );
        self.store.append_audit(d).await?;
        Ok(())
    }
}
