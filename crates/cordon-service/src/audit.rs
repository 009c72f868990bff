//! Building audit drafts, appending refusals, and verifying the chain.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::audit::{ChainVerifier, VerifyOutcome};
use cordon_store::{AuditDraft, AuditEntry};
use serde_json::Value;

use crate::{Cordon, Result, ServiceError};

/// Page size of the verification walk: memory stays flat however long the chain.
const VERIFY_PAGE: u32 = 2000;

/// The most entries one filtered read of the audit log looks at; past it the page ends short
/// and its cursor says where to go on.
const FILTER_SCAN: usize = 20_000;

/// Which audit entries a read keeps. Every filter set must match; none set keeps all.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this actor (`admin`, `system`).
    pub actor: Option<String>,
    /// This action, or a family of them: `incident` keeps `incident.update` and
    /// `incident.update.refused`, `member.add` keeps `member.add.refused`.
    pub action: Option<String>,
    /// Exactly this subject (`incident:{id}`, `user:olga`).
    pub subject: Option<String>,
    /// At or after this instant.
    pub since: Option<Timestamp>,
    /// Before this instant.
    pub until: Option<Timestamp>,
}

impl AuditFilter {
    fn keeps(&self, e: &AuditEntry) -> bool {
        let r = &e.record;
        let at = cordon_core::clock::from_micros(r.at_micros);
        self.actor.as_ref().is_none_or(|a| &r.actor == a)
            && self.action.as_ref().is_none_or(|a| {
                r.action == *a
                    || r.action
                        .strip_prefix(a.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
            && self.subject.as_ref().is_none_or(|s| &r.subject == s)
            && self.since.is_none_or(|t| at >= t)
            && self.until.is_none_or(|t| at < t)
    }
}

/// One page of a filtered read: the entries kept, and the sequence number to read on after
/// while more may follow (a page can end short of its limit when the scan bound is reached).
#[derive(Debug)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<i64>,
}

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

    /// The audit entries after sequence number `after` that `filter` keeps, at most `limit`
    /// (admins only). At most [`FILTER_SCAN`] entries are looked at per call.
    pub async fn audit_log(&self, p: &Principal, after: i64, limit: u32, filter: &AuditFilter) -> Result<AuditPage> {
        let limit = limit.clamp(1, 10_000);
        let mut kept = Vec::new();
        let mut cursor = after;
        let mut scanned = 0;
        loop {
            let page = self.audit_entries(p, cursor, limit).await?;
            let full = page.len() as u32 >= limit;
            for e in page {
                cursor = e.record.seq;
                scanned += 1;
                if filter.keeps(&e) {
                    kept.push(e);
                    if kept.len() as u32 >= limit {
                        return Ok(AuditPage {
                            entries: kept,
                            next_after: Some(cursor),
                        });
                    }
                }
            }
            if !full {
                return Ok(AuditPage {
                    entries: kept,
                    next_after: None,
                });
            }
            if scanned >= FILTER_SCAN {
                return Ok(AuditPage {
                    entries: kept,
                    next_after: Some(cursor),
                });
            }
        }
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
