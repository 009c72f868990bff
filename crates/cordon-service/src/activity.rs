//! An incident's activity: its history as the audit log recorded it (who declared it, paged,
//! acknowledged, moved a task, overrode a gate, …), newest first, for the war room. Only the
//! incident's viewers read it (through the gate); reads and refusals recorded in the log are
//! not activity, nor are conversation messages (the conversation shows those).
//!
//! Paging: the log holds entries that are not activity, so a page is filled by reading the
//! log in batches and dropping those. The cursor handed back ([`ActivityPage::next_before`])
//! is the sequence number of the last audit record *read* — not of the last entry kept — so
//! the next page starts right after what this one looked at: no entry is skipped (a batch
//! that held only dropped records still moves the cursor on) and none is shown twice.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::audit::AuditRecord;
use cordon_core::clock::from_micros;
use uuid::Uuid;

use crate::{Cordon, Result};

/// The most entries one read returns.
pub const ACTIVITY_LIMIT: u32 = 500;
/// The most batches of the log one read looks at to fill a page; past it, the page is handed
/// back short with its cursor (a history of nothing but dropped records costs bounded work).
const MAX_BATCHES: usize = 8;

/// One thing that happened to an incident or one of its items.
#[derive(Debug, Clone)]
pub struct ActivityEntry {
    /// The audit entry's sequence number.
    pub seq: i64,
    pub at: Timestamp,
    /// Who did it (a user name, or `system` for the engine).
    pub actor: String,
    /// The audit action (`incident.declare`, `task.gate_override`, `page.ack`, …).
    pub action: String,
    /// The entry's payload (what changed), as recorded.
    pub payload: serde_json::Value,
}

/// One page of an incident's activity, newest first.
#[derive(Debug, Clone, Default)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// Where the next (older) page starts: pass it as `before`. `None` when the history has
    /// no older records.
    pub next_before: Option<i64>,
}

/// Whether an audit record is activity: a change to the incident (not a read or a refusal)
/// that is not a conversation message.
fn is_activity(r: &AuditRecord) -> bool {
    crate::feed::kind_of(&r.action).is_some_and(|k| k != "message")
}

fn entry(r: AuditRecord) -> ActivityEntry {
    ActivityEntry {
        seq: r.seq,
        at: from_micros(r.at_micros),
        actor: r.actor,
        payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
        action: r.action,
    }
}

impl Cordon {
    /// The incident's activity, newest first: at most `limit` entries (capped at
    /// [`ACTIVITY_LIMIT`]) before the sequence number `before`, and where the next page starts.
    pub async fn activity(
        &self,
        p: &Principal,
        raw_ref: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<ActivityPage> {
        let a = self.gate(p, raw_ref).await?;
        self.activity_of(a.incident().id, before, limit).await
    }

    pub(crate) async fn activity_of(&self, incident: Uuid, before: Option<i64>, limit: u32) -> Result<ActivityPage> {
        let limit = limit.clamp(1, ACTIVITY_LIMIT);
        let wanted = limit as usize;
        let mut page = ActivityPage::default();
        let mut cursor = before;
        for _ in 0..MAX_BATCHES {
            let records = self.store.incident_activity(incident, cursor, limit).await?;
            let exhausted = records.len() < wanted;
            let mut records = records.into_iter();
            for r in records.by_ref() {
                cursor = Some(r.seq);
                if is_activity(&r) {
                    page.entries.push(entry(r));
                    if page.entries.len() == wanted {
                        break;
                    }
                }
            }
            let rest_has_activity = records.any(|r| is_activity(&r));
            if page.entries.len() == wanted {
                page.next_before = (rest_has_activity || !exhausted).then_some(cursor).flatten();
                return Ok(page);
            }
            if exhausted {
                return Ok(page);
            }
        }
        page.next_before = cursor;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cordon_core::clock::ManualClock;
    use cordon_core::incident::{IncidentKind, Severity};
    use cordon_core::task::TaskStatus;
    use cordon_store::SqliteStore;

    use super::*;
    use crate::{Declare, Playbooks, TaskPatch};

    /// An incident whose history interleaves activity with conversation messages (which are
    /// not activity), paged through with pages smaller than the history: every entry shows
    /// once, newest first, and a page that read only messages still moves on.
    #[tokio::test]
    async fn pages_walk_the_whole_history_once_in_order_past_dropped_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("cordon.db")).await.unwrap();
        let clock = Arc::new(ManualClock::new("2026-11-27T12:00:00Z".parse().unwrap()));
        let cordon = Cordon::new(Arc::new(store), clock, Playbooks::builtin());
        let token = "cordon_service_test_token_0123456789".to_owned();
        cordon.bootstrap_admin(Some(token.clone())).await.unwrap();
        let admin = cordon.authenticate(&token).await.unwrap();
        let inc = cordon
            .declare(
                &admin,
                Declare {
                    title: "Paging through history".into(),
                    description: None,
                    kind: IncidentKind::Security,
                    severity: Severity::new(2).unwrap(),
                    room: None,
                },
            )
            .await
            .unwrap();
        let r = inc.incident.codename.key();
        let statuses = [TaskStatus::InProgress, TaskStatus::Todo];
        // 1 declaration, then 13 moves with a run of 9 messages after the 4th and 2 messages
        // after every other one.
        for i in 0..13 {
            let patch = TaskPatch {
                status: Some(statuses[i % 2]),
                assignee: None,
                override_reason: None,
            };
            cordon.update_task(&admin, &r, "1", patch).await.unwrap();
            for m in 0..if i == 4 { 9 } else { 2 } {
                cordon
                    .post_message(&admin, &r, &format!("note {i}.{m}"), None)
                    .await
                    .unwrap();
            }
        }
        let everything = cordon.activity(&admin, &r, None, ACTIVITY_LIMIT).await.unwrap();
        assert_eq!(everything.entries.len(), 14, "{everything:?}");
        assert_eq!(everything.next_before, None);
        assert!(everything.entries.iter().all(|e| e.action != "message.post"));

        for limit in [1, 3, 4, 5, 13, 14] {
            let mut seen = Vec::new();
            let mut before = None;
            let mut pages = 0;
            loop {
                let page = cordon.activity(&admin, &r, before, limit).await.unwrap();
                pages += 1;
                assert!(page.entries.len() <= limit as usize);
                seen.extend(page.entries.iter().map(|e| e.seq));
                match page.next_before {
                    Some(next) => before = Some(next),
                    None => break,
                }
                assert!(pages < 100, "the cursor moves on");
            }
            let all: Vec<i64> = everything.entries.iter().map(|e| e.seq).collect();
            assert_eq!(seen, all, "limit {limit}: all of it, newest first, once each");
        }
    }
}
