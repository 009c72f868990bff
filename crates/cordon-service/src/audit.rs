//! Building audit drafts, appending refusals, and verifying the chain.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::audit::{ChainVerifier, VerifyOutcome};
use cordon_store::{AuditDraft, AuditEntry};
use serde_json::Value;

use crate::{Cordon, Result, ServiceError};

/// Page size of the verification walk: memory stays flat however long the chain.
const VERIFY_PAGE: u32 = 2000;

pub(crate) fn draft(at: Timestamp, actor: &str, action: &str, subject: String, payload: Value) -> AuditDraft {
    AuditDraft {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject,
        payload: payload.to_string(),
    }
}

impl Cordon {
    /// Records that `p` was refused `action` on `subject`, then hands back the refusal.
    pub(crate) async fn refuse(&self, p: &Principal, action: &str, subject: String, err: ServiceError) -> ServiceError {
        self.refuse_as(&p.name, action, subject, err).await
    }

    /// Records that `actor` was refused `action` on `subject`, then hands back the refusal.
    pub(crate) async fn refuse_as(
        &self,
        actor: &str,
        action: &str,
        subject: String,
        err: ServiceError,
    ) -> ServiceError {
        let payload = serde_json::json!({ "code": err.code(), "reason": err.to_string() });
        let d = draft(self.clock.now(), actor, &format!("{action}.refused"), subject, payload);
        if let Err(e) = self.store.append_audit(d).await {
            tracing::error!(error = %e, "could not audit a refusal");
            return ServiceError::Internal(e);
        }
        err
    }

    /// Records a refused request from outside the API's token authentication (a forged
    /// signature, an unlinked chat account).
    pub async fn audit_refused_request(&self, actor: &str, action: &str, reason: &str) -> Result<()> {
        let d = draft(
            self.clock.now(),
            actor,
            &format!("{action}.refused"),
            "request".into(),
            serde_json::json!({ "reason": reason }),
        );
        self.store.append_audit(d).await?;
        Ok(())
    }

    /// Audit entries after `after`, oldest first (admins only).
    pub async fn audit_entries(&self, p: &Principal, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        if !p.is_admin {
            return Err(self
                .refuse(
                    p,
                    "audit.read",
                    "audit".into(),
                    ServiceError::Forbidden("only admins may read the audit log".into()),
                )
                .await);
        }
        Ok(self.store.audit_page(after, limit.clamp(1, 10_000)).await?)
    }

    /// Re-walks the whole audit chain (admins only).
    pub async fn verify_audit(&self, p: &Principal) -> Result<VerifyOutcome> {
        if !p.is_admin {
            return Err(self
                .refuse(
                    p,
                    "audit.verify",
                    "audit".into(),
                    ServiceError::Forbidden("only admins may verify the audit log".into()),
                )
                .await);
        }
        let mut v = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.store.audit_page(after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.record.seq;
            for e in &page {
                v.push(&e.record, &e.prev_hash, &e.hash);
            }
        }
        Ok(v.finish())
    }
}
