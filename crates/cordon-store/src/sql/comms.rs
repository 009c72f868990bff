//! [`CommsStore`], once for both databases: communications and their approvals, templates, the
//! contact log and regulatory clocks, each change with its audit entry in one transaction.
//!
//! What must happen once is a conditional UPDATE whose rows affected decide: a communication is
//! marked sent only while `approved`, a milestone met only while `met_at IS NULL`, a reminder
//! claimed only while `done_at IS NULL`; approvals and overrides only while `updated_at` is
//! what the caller read. With several nodes on PostgreSQL, the second node's UPDATE waits for
//! the first to commit, re-checks, changes nothing and appends no audit entry; an approval
//! updates the communication's row before inserting its own, so an edit or a send on another
//! node waits for it (or it for them). SQLite's one writer runs these transactions one after
//! the other, to the same outcome.

use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use cordon_core::comms::DraftStatus;
use cordon_core::task::Task;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::comms::{
    ApprovalRow, ClockRow, CommsStore, CommunicationRow, ContactRow, DueReminder, MilestoneRow, ReminderRow,
    TemplateRow,
};
use crate::dialect::{Backend, sql, sql_built};
use crate::error::conflict_on_unique;
use crate::rows;
use crate::{AuditDraft, Result, StoreError};

/// `SELECT` of communications (aliased `c`) with their approvals as a JSON array `approvals`
/// (see [`rows::communication`]), followed by `tail`.
fn comm_query<B: Backend>(tail: &str) -> String {
    format!(
        "SELECT c.id, c.incident_id, c.audience, c.title, c.body, c.recipients, c.third_parties_public,
                c.status, c.findings, c.channel, c.sent_at, c.sent_by, c.created_by, c.created_at,
                c.updated_at, c.lint_override,
                (SELECT {} FROM communication_approvals a WHERE a.communication_id = c.id) AS approvals
         FROM communications c {tail}",
        B::json_agg(
            &B::json_tuple("a.role, a.user_name, a.at"),
            "a.at, a.role COLLATE \"C\""
        )
    )
}

/// `SELECT` of templates, followed by a literal tail.
macro_rules! template_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT name, audience, title, body, updated_by, updated_at FROM communication_templates ",
            $tail
        )
    };
}

/// A foreign-key violation means the incident (or a row it names) is gone: `NotFound`.
fn missing_incident_or(what: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
            StoreError::NotFound("incident")
        }
        e => conflict_on_unique(what)(e),
    }
}

#[async_trait::async_trait]
impl<B: Backend> CommsStore for SqlStore<B> {
    async fn create_communication(&self, c: &CommunicationRow, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql("INSERT INTO communications (id, incident_id, audience, title, body, recipients, third_parties_public,
                                         status, findings, channel, sent_at, sent_by, created_by, created_at, updated_at,
                                         lint_override)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
        .bind(c.id)
        .bind(c.incident_id)
        .bind(c.audience.as_str())
        .bind(&c.title)
        .bind(&c.body)
        .bind(&c.recipients)
        .bind(c.third_parties_public)
        .bind(c.status.as_str())
        .bind(&c.findings)
        .bind(&c.channel)
        .bind(c.sent_at.map(to_micros))
        .bind(&c.sent_by)
        .bind(c.created_by)
        .bind(to_micros(c.created_at))
        .bind(to_micros(c.updated_at))
        .bind(&c.lint_override)
        .execute(&mut *tx)
        .await
        .map_err(missing_incident_or("communication"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_communication(&self, c: &CommunicationRow, clear_approvals: bool, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sql(
            "UPDATE communications SET title = $3, body = $4, recipients = $5, third_parties_public = $6,
                    status = $7, findings = $8, updated_at = $9, lint_override = $10
             WHERE id = $1 AND incident_id = $2 AND status <> 'sent'",
        )
        .bind(c.id)
        .bind(c.incident_id)
        .bind(&c.title)
        .bind(&c.body)
        .bind(&c.recipients)
        .bind(c.third_parties_public)
        .bind(c.status.as_str())
        .bind(&c.findings)
        .bind(to_micros(c.updated_at))
        .bind(&c.lint_override)
        .execute(&mut *tx)
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound("communication"));
        }
        if clear_approvals {
            sql("DELETE FROM communication_approvals WHERE communication_id = $1")
                .bind(c.id)
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_approval(
        &self,
        communication: Uuid,
        approval: &ApprovalRow,
        status: DraftStatus,
        seen: Timestamp,
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        // The communication's row first: an edit or a send on another node waits for us (or we
        // for it), and a sent communication takes no approval.
        let n = sql("UPDATE communications SET status = $2, updated_at = $3
             WHERE id = $1 AND status <> 'sent' AND updated_at = $4")
        .bind(communication)
        .bind(status.as_str())
        .bind(to_micros(approval.at))
        .bind(to_micros(seen))
        .execute(&mut *tx)
        .await?;
        if n == 0 {
            // sent, edited or approved by someone else since the approver read it
            return Err(StoreError::Conflict("communication"));
        }
        sql(
            "INSERT INTO communication_approvals (communication_id, role, user_name, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (communication_id, role) DO NOTHING",
        )
        .bind(communication)
        .bind(approval.role.as_str())
        .bind(&approval.user_name)
        .bind(to_micros(approval.at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn override_findings(
        &self,
        communication: Uuid,
        lint_override: &str,
        findings: &str,
        seen: Timestamp,
        at: Timestamp,
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sql(
            "UPDATE communications SET lint_override = $2, findings = $3, updated_at = $4
             WHERE id = $1 AND status <> 'sent' AND updated_at = $5",
        )
        .bind(communication)
        .bind(lint_override)
        .bind(findings)
        .bind(to_micros(at))
        .bind(to_micros(seen))
        .execute(&mut *tx)
        .await?;
        if n == 0 {
            // sent, edited or approved since the commander read it
            return Err(StoreError::Conflict("communication"));
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_sent(
        &self,
        communication: Uuid,
        channel: &str,
        at: Timestamp,
        by: &str,
        audit: AuditDraft,
    ) -> Result<bool> {
        self.change_audited(
            sql(
                "UPDATE communications SET status = 'sent', channel = $2, sent_at = $3, sent_by = $4, updated_at = $3
             WHERE id = $1 AND status = 'approved'",
            )
            .bind(communication)
            .bind(channel)
            .bind(to_micros(at))
            .bind(by),
            &audit,
        )
        .await
    }

    async fn unmark_sent(&self, communication: Uuid, channel: &str, audit: AuditDraft) -> Result<bool> {
        self.change_audited(
            sql(
                "UPDATE communications SET status = 'approved', channel = NULL, sent_at = NULL, sent_by = NULL
             WHERE id = $1 AND status = 'sent' AND channel = $2",
            )
            .bind(communication)
            .bind(channel),
            &audit,
        )
        .await
    }

    async fn communication(&self, incident: Uuid, id: Uuid) -> Result<Option<CommunicationRow>> {
        sql_built(comm_query::<B>("WHERE c.id = $1 AND c.incident_id = $2"))
            .bind(id)
            .bind(incident)
            .map_optional(&mut *self.read().await?, rows::communication)
            .await
    }

    async fn communications(&self, incident: Uuid) -> Result<Vec<CommunicationRow>> {
        sql_built(comm_query::<B>("WHERE c.incident_id = $1 ORDER BY c.created_at, c.id"))
            .bind(incident)
            .map_all(&mut *self.read().await?, rows::communication)
            .await
    }

    async fn put_template(&self, t: &TemplateRow, audit: AuditDraft) -> Result<()> {
        self.write_audited(
            sql(
                "INSERT INTO communication_templates (name, audience, title, body, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET audience = excluded.audience, title = excluded.title,
                body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(&t.name)
            .bind(t.audience.as_str())
            .bind(&t.title)
            .bind(&t.body)
            .bind(&t.updated_by)
            .bind(to_micros(t.updated_at)),
            &audit,
        )
        .await?;
        Ok(())
    }

    async fn template(&self, name: &str) -> Result<Option<TemplateRow>> {
        sql(template_query!("WHERE name = $1"))
            .bind(name)
            .map_optional(&mut *self.read().await?, rows::template)
            .await
    }

    async fn templates(&self) -> Result<Vec<TemplateRow>> {
        sql(template_query!("ORDER BY name COLLATE \"C\""))
            .map_all(&mut *self.read().await?, rows::template)
            .await
    }

    async fn add_contact_log(&self, c: &ContactRow, task: Option<&Task>, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO contact_log (id, incident_id, party, name, at, reference, outcome, task_id, created_by,
                                      created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(c.id)
        .bind(c.incident_id)
        .bind(c.party.as_str())
        .bind(&c.name)
        .bind(to_micros(c.at))
        .bind(&c.reference)
        .bind(&c.outcome)
        .bind(c.task_id)
        .bind(c.created_by)
        .bind(to_micros(c.created_at))
        .execute(&mut *tx)
        .await
        .map_err(missing_incident_or("contact"))?;
        if let Some(t) = task {
            // Only the move out of `todo`, and only if nobody moved the task meanwhile: a contact
            // never undoes a status, assignee or override set by someone else.
            sql("UPDATE tasks SET status = $3, updated_at = $4
                 WHERE id = $1 AND incident_id = $2 AND status = 'todo'")
            .bind(t.id)
            .bind(t.incident_id)
            .bind(t.status.as_str())
            .bind(to_micros(t.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn contact_log(&self, incident: Uuid) -> Result<Vec<ContactRow>> {
        sql(
            "SELECT id, incident_id, party, name, at, reference, outcome, task_id, created_by, created_at
             FROM contact_log WHERE incident_id = $1 ORDER BY at, created_at, id",
        )
        .bind(incident)
        .map_all(&mut *self.read().await?, rows::contact)
        .await
    }

    async fn create_clock(
        &self,
        clock: &ClockRow,
        milestones: &[MilestoneRow],
        reminders: &[ReminderRow],
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO regulatory_clocks (id, incident_id, regime, started_at, jurisdiction, unlawful_purpose,
                                            created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(clock.id)
        .bind(clock.incident_id)
        .bind(clock.regime.as_str())
        .bind(to_micros(clock.started_at))
        .bind(clock.jurisdiction.as_str())
        .bind(clock.unlawful_purpose)
        .bind(clock.created_by)
        .bind(to_micros(clock.created_at))
        .execute(&mut *tx)
        .await
        .map_err(missing_incident_or("clock"))?;
        for (position, m) in (0_i64..).zip(milestones) {
            sql(
                "INSERT INTO clock_milestones (clock_id, name, description, due_at, met_at, position)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(clock.id)
            .bind(&m.name)
            .bind(&m.description)
            .bind(to_micros(m.due_at))
            .bind(m.met_at.map(to_micros))
            .bind(position)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("milestone"))?;
        }
        for r in reminders {
            sql("INSERT INTO clock_reminders (id, clock_id, milestone, remind_at) VALUES ($1, $2, $3, $4)")
                .bind(r.id)
                .bind(r.clock_id)
                .bind(&r.milestone)
                .bind(to_micros(r.remind_at))
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique("reminder"))?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clocks(&self, incident: Uuid) -> Result<Vec<(ClockRow, Vec<MilestoneRow>)>> {
        // Every clock with its milestones in one statement (one snapshot, one round trip).
        sql_built(format!(
            "SELECT k.id, k.incident_id, k.regime, k.started_at, k.jurisdiction, k.unlawful_purpose, k.created_by,
                    k.created_at,
                    (SELECT {} FROM clock_milestones m WHERE m.clock_id = k.id) AS milestones
             FROM regulatory_clocks k WHERE k.incident_id = $1 ORDER BY k.created_at, k.id",
            B::json_agg(
                &B::json_tuple("m.name, m.description, m.due_at, m.met_at"),
                "m.position"
            )
        ))
        .bind(incident)
        .map_all(&mut *self.read().await?, rows::clock_with_milestones)
        .await
    }

    async fn mark_milestone_met(&self, clock: Uuid, name: &str, at: Timestamp, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        // The conditional UPDATE decides: a second node marking the same milestone waits for our
        // commit, re-checks `met_at IS NULL`, and changes nothing.
        let n = sql("UPDATE clock_milestones SET met_at = $3 WHERE clock_id = $1 AND name = $2 AND met_at IS NULL")
            .bind(clock)
            .bind(name)
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await?;
        if n == 0 {
            let exists = sql("SELECT 1 AS one FROM clock_milestones WHERE clock_id = $1 AND name = $2")
                .bind(clock)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return if exists {
                Ok(false)
            } else {
                Err(StoreError::NotFound("milestone"))
            };
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn due_reminders(&self, now: Timestamp, limit: u32) -> Result<Vec<DueReminder>> {
        sql(
            "SELECT r.id, r.clock_id, r.milestone, r.remind_at, c.incident_id, c.regime, m.due_at, m.met_at
             FROM clock_reminders r
             JOIN regulatory_clocks c ON c.id = r.clock_id
             JOIN clock_milestones m ON m.clock_id = r.clock_id AND m.name = r.milestone
             WHERE r.done_at IS NULL AND r.remind_at <= $1
             ORDER BY r.remind_at, r.id LIMIT $2",
        )
        .bind(to_micros(now))
        .bind(limit)
        .map_all(&mut *self.read().await?, rows::due_reminder)
        .await
    }

    async fn claim_reminder(&self, id: Uuid, at: Timestamp, audit: AuditDraft) -> Result<bool> {
        self.change_audited(
            sql("UPDATE clock_reminders SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
                .bind(id)
                .bind(to_micros(at)),
            &audit,
        )
        .await
    }
}
