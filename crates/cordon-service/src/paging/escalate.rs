//! The escalation half of the engine: deadlines are rows, each flipped to done once in the
//! same transaction as the escalation it causes, so several engines (or nodes) escalate a page
//! exactly once, and a page triggered before a crash still escalates after the restart.

use cordon_core::Timestamp;
use cordon_notify::{DeadlineOutcome, page};
use cordon_store::paging::{DeadlineRow, PageRow};
use serde_json::json;

use super::{EngineReport, state_of};
use crate::audit::draft;
use crate::{Cordon, Result, ServiceError};

impl Cordon {
    pub(crate) fn wake_engine(&self) {
        self.engine_wakeup.notify_one();
    }

    /// Resolves when something asks the engine to run early (a new page).
    pub async fn engine_woken(&self) {
        self.engine_wakeup.notified().await;
    }

    /// Processes everything due at `now`: escalations, then deliveries. Safe to run from
    /// several places at once; each deadline escalates once.
    pub async fn run_engine(&self, now: Timestamp) -> Result<EngineReport> {
        let escalations = self.escalate_due(now).await?;
        let mut report = self.deliver_due(now).await?;
        report.escalations = escalations;
        Ok(report)
    }

    /// Escalates every page whose deadline is due at `now`; returns how many escalated.
    pub async fn escalate_due(&self, now: Timestamp) -> Result<usize> {
        let mut escalations = 0;
        for d in self.store.due_deadlines(now, 100).await? {
            let Some(row) = self.store.page(d.page_id).await? else {
                self.store.drop_deadline(d).await?;
                continue;
            };
            let state = state_of(&row)?;
            match page::on_deadline(&state, d.step as u64, now)
                .map_err(|e| ServiceError::invalid("page", e.to_string()))?
            {
                DeadlineOutcome::NotDue { .. } => {}
                DeadlineOutcome::Stale => self.store.drop_deadline(d).await?,
                DeadlineOutcome::Escalated { state, notify } => {
                    let (notifications, unreached) = self.notifications_for(&notify, now).await?;
                    let new_row = PageRow {
                        status: state.status.as_str().to_owned(),
                        state: serde_json::to_string(&*state).expect("page state serializes"),
                        updated_at: now,
                        ..row
                    };
                    let next = state.next_deadline.map(|n| DeadlineRow {
                        page_id: d.page_id,
                        step: n.step as i64,
                        due_at: n.at,
                    });
                    let payload = json!({ "level": notify.level, "round": notify.round, "step": notify.step, "unreached": unreached });
                    let audit = draft(now, "system", "page.escalate", format!("page:{}", d.page_id), payload);
                    if self.store.escalate(d, &new_row, next, &notifications, audit).await? {
                        escalations += 1;
                        self.wake_engine();
                    }
                }
            }
        }
        Ok(escalations)
    }
}
