//! SQLite implementation of [`CommsStore`]: communications and their approvals, templates,
//! the contact log and regulatory clocks, each change with its audit entry in one transaction.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::{from_micros, to_micros};
use cordon_core::comms::DraftStatus;
use cordon_core::task::Task;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::{SqliteStore, append_in, conflict_on_unique, parse_col, uuid_col};
use crate::comms::{
    ApprovalRow, ClockRow, CommsStore, CommunicationRow, ContactRow, DueReminder, MilestoneRow, ReminderRow,
    TemplateRow,
};
use crate::rows::{self as from_row};
use crate::{AuditDraft, Result, StoreError};

/// `SELECT` of communications, followed by a literal tail.
macro_rules! comm_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT id, incident_id, audience, title, body, recipients, third_parties_public, status,
                    findings, channel, sent_at, sent_by, created_by, created_at, updated_at, lint_override FROM communications ",
            $tail
        )
    };
}

fn opt_time(r: &SqliteRow, col: &str) -> Result<Option<Timestamp>> {
    let v: Option<i64> = r.try_get(col)?;
    Ok(v.map(from_micros))
}

impl SqliteStore {
    async fn with_approvals(&self, mut c: CommunicationRow) -> Result<CommunicationRow> {
        let rows = sqlx::query(
            "SELECT role, user_name, at FROM communication_approvals WHERE communication_id = $1 ORDER BY at, role",
        )
        .bind(c.id.to_string())
        .fetch_all(&self.reader)
        .await?;
        c.approvals = rows
            .iter()
            .map(|r| {
                Ok(ApprovalRow {
                    role: parse_col(r, "role")?,
                    user_name: r.try_get("user_name")?,
                    at: from_micros(r.try_get("at")?),
                })
            })
            .collect::<Result<_>>()?;
        Ok(c)
    }
}

#[async_trait]
impl CommsStore for SqliteStore {
    async fn create_communication(&self, c: &CommunicationRow, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "INSERT INTO communications (id, incident_id, audience, title, body, recipients, third_parties_public,
                                         status, findings, channel, sent_at, sent_by, created_by, created_at, updated_at,
                                         lint_override)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(c.id.to_string())
        .bind(c.incident_id.to_string())
        .bind(c.audience.as_str())
        .bind(&c.title)
        .bind(&c.body)
        .bind(&c.recipients)
        .bind(i64::from(c.third_parties_public))
        .bind(c.status.as_str())
        .bind(&c.findings)
        .bind(&c.channel)
        .bind(c.sent_at.map(to_micros))
        .bind(&c.sent_by)
        .bind(c.created_by.to_string())
        .bind(to_micros(c.created_at))
        .bind(to_micros(c.updated_at))
        .bind(&c.lint_override)
        .execute(&mut *tx)
        .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                return Err(StoreError::NotFound("incident"));
            }
            r => r.map_err(conflict_on_unique("communication"))?,
        };
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_communication(&self, c: &CommunicationRow, clear_approvals: bool, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE communications SET title = $3, body = $4, recipients = $5, third_parties_public = $6,
                    status = $7, findings = $8, updated_at = $9, lint_override = $10
             WHERE id = $1 AND incident_id = $2 AND status <> 'sent'",
        )
        .bind(c.id.to_string())
        .bind(c.incident_id.to_string())
        .bind(&c.title)
        .bind(&c.body)
        .bind(&c.recipients)
        .bind(i64::from(c.third_parties_public))
        .bind(c.status.as_str())
        .bind(&c.findings)
        .bind(to_micros(c.updated_at))
        .bind(&c.lint_override)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound("communication"));
        }
        if clear_approvals {
            sqlx::query("DELETE FROM communication_approvals WHERE communication_id = $1")
                .bind(c.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut tx, &audit).await?;
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
        sqlx::query(
            "INSERT INTO communication_approvals (communication_id, role, user_name, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (communication_id, role) DO NOTHING",
        )
        .bind(communication.to_string())
        .bind(approval.role.as_str())
        .bind(&approval.user_name)
        .bind(to_micros(approval.at))
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query(
            "UPDATE communications SET status = $2, updated_at = $3
                 WHERE id = $1 AND status <> 'sent' AND updated_at = $4",
        )
        .bind(communication.to_string())
        .bind(status.as_str())
        .bind(to_micros(approval.at))
        .bind(to_micros(seen))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            // sent, edited or approved by someone else since the approver read it
            return Err(StoreError::Conflict("communication"));
        }
        append_in(&mut tx, &audit).await?;
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
        let r = sqlx::query(
            "UPDATE communications SET lint_override = $2, findings = $3, updated_at = $4
             WHERE id = $1 AND status <> 'sent' AND updated_at = $5",
        )
        .bind(communication.to_string())
        .bind(lint_override)
        .bind(findings)
        .bind(to_micros(at))
        .bind(to_micros(seen))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            // sent, edited or approved since the commander read it
            return Err(StoreError::Conflict("communication"));
        }
        append_in(&mut tx, &audit).await?;
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
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE communications SET status = 'sent', channel = $2, sent_at = $3, sent_by = $4, updated_at = $3
             WHERE id = $1 AND status = 'approved'",
        )
        .bind(communication.to_string())
        .bind(channel)
        .bind(to_micros(at))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn unmark_sent(&self, communication: Uuid, channel: &str, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE communications SET status = 'approved', channel = NULL, sent_at = NULL, sent_by = NULL
             WHERE id = $1 AND status = 'sent' AND channel = $2",
        )
        .bind(communication.to_string())
        .bind(channel)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn communication(&self, incident: Uuid, id: Uuid) -> Result<Option<CommunicationRow>> {
        const Q: &str = comm_query!("WHERE id = $1 AND incident_id = $2");
        let row = sqlx::query(Q)
            .bind(id.to_string())
            .bind(incident.to_string())
            .fetch_optional(&self.reader)
            .await?;
        match row {
            Some(r) => Ok(Some(self.with_approvals(from_row::communication(&r)?).await?)),
            None => Ok(None),
        }
    }

    async fn communications(&self, incident: Uuid) -> Result<Vec<CommunicationRow>> {
        const Q: &str = comm_query!("WHERE incident_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(Q)
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.with_approvals(from_row::communication(r)?).await?);
        }
        Ok(out)
    }

    async fn put_template(&self, t: &TemplateRow, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
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
        .bind(to_micros(t.updated_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn template(&self, name: &str) -> Result<Option<TemplateRow>> {
        let row = sqlx::query(
            "SELECT name, audience, title, body, updated_by, updated_at FROM communication_templates WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(from_row::template).transpose()
    }

    async fn templates(&self) -> Result<Vec<TemplateRow>> {
        let rows = sqlx::query(
            "SELECT name, audience, title, body, updated_by, updated_at FROM communication_templates ORDER BY name",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::template).collect()
    }

    async fn add_contact_log(&self, c: &ContactRow, task: Option<&Task>, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "INSERT INTO contact_log (id, incident_id, party, name, at, reference, outcome, task_id, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(c.id.to_string())
        .bind(c.incident_id.to_string())
        .bind(c.party.as_str())
        .bind(&c.name)
        .bind(to_micros(c.at))
        .bind(&c.reference)
        .bind(&c.outcome)
        .bind(c.task_id.map(|t| t.to_string()))
        .bind(c.created_by.to_string())
        .bind(to_micros(c.created_at))
        .execute(&mut *tx)
        .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                return Err(StoreError::NotFound("incident"));
            }
            r => r.map_err(conflict_on_unique("contact"))?,
        };
        if let Some(t) = task {
            // Only the move out of `todo`, and only if nobody moved the task meanwhile: a contact
            // never undoes a status, assignee or override set by someone else.
            sqlx::query(
                "UPDATE tasks SET status = $3, updated_at = $4
                 WHERE id = $1 AND incident_id = $2 AND status = 'todo'",
            )
            .bind(t.id.to_string())
            .bind(t.incident_id.to_string())
            .bind(t.status.as_str())
            .bind(to_micros(t.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn contact_log(&self, incident: Uuid) -> Result<Vec<ContactRow>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, party, name, at, reference, outcome, task_id, created_by, created_at
             FROM contact_log WHERE incident_id = $1 ORDER BY at, created_at, id",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::contact).collect()
    }

    async fn create_clock(
        &self,
        clock: &ClockRow,
        milestones: &[MilestoneRow],
        reminders: &[ReminderRow],
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "INSERT INTO regulatory_clocks (id, incident_id, regime, started_at, jurisdiction, unlawful_purpose,
                                            created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(clock.id.to_string())
        .bind(clock.incident_id.to_string())
        .bind(clock.regime.as_str())
        .bind(to_micros(clock.started_at))
        .bind(clock.jurisdiction.as_str())
        .bind(i64::from(clock.unlawful_purpose))
        .bind(clock.created_by.to_string())
        .bind(to_micros(clock.created_at))
        .execute(&mut *tx)
        .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                return Err(StoreError::NotFound("incident"));
            }
            r => r.map_err(conflict_on_unique("clock"))?,
        };
        for (i, m) in milestones.iter().enumerate() {
            sqlx::query(
                "INSERT INTO clock_milestones (clock_id, name, description, due_at, met_at, position)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(clock.id.to_string())
            .bind(&m.name)
            .bind(&m.description)
            .bind(to_micros(m.due_at))
            .bind(m.met_at.map(to_micros))
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        for r in reminders {
            sqlx::query("INSERT INTO clock_reminders (id, clock_id, milestone, remind_at) VALUES ($1, $2, $3, $4)")
                .bind(r.id.to_string())
                .bind(r.clock_id.to_string())
                .bind(&r.milestone)
                .bind(to_micros(r.remind_at))
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clocks(&self, incident: Uuid) -> Result<Vec<(ClockRow, Vec<MilestoneRow>)>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, regime, started_at, jurisdiction, unlawful_purpose, created_by, created_at
             FROM regulatory_clocks WHERE incident_id = $1 ORDER BY created_at, id",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let clock = from_row::clock(r)?;
            let ms = sqlx::query(
                "SELECT name, description, due_at, met_at FROM clock_milestones WHERE clock_id = $1 ORDER BY position",
            )
            .bind(clock.id.to_string())
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|m| {
                Ok(MilestoneRow {
                    name: m.try_get("name")?,
                    description: m.try_get("description")?,
                    due_at: from_micros(m.try_get("due_at")?),
                    met_at: opt_time(m, "met_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            out.push((clock, ms));
        }
        Ok(out)
    }

    async fn mark_milestone_met(&self, clock: Uuid, name: &str, at: Timestamp, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let exists: Option<Option<i64>> =
            sqlx::query_scalar("SELECT met_at FROM clock_milestones WHERE clock_id = $1 AND name = $2")
                .bind(clock.to_string())
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        match exists {
            None => return Err(StoreError::NotFound("milestone")),
            Some(Some(_)) => return Ok(false),
            Some(None) => {}
        }
        sqlx::query("UPDATE clock_milestones SET met_at = $3 WHERE clock_id = $1 AND name = $2 AND met_at IS NULL")
            .bind(clock.to_string())
            .bind(name)
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn due_reminders(&self, now: Timestamp, limit: u32) -> Result<Vec<DueReminder>> {
        let rows = sqlx::query(
            "SELECT r.id, r.clock_id, r.milestone, r.remind_at, c.incident_id, c.regime, m.due_at, m.met_at
             FROM clock_reminders r
             JOIN regulatory_clocks c ON c.id = r.clock_id
             JOIN clock_milestones m ON m.clock_id = r.clock_id AND m.name = r.milestone
             WHERE r.done_at IS NULL AND r.remind_at <= $1
             ORDER BY r.remind_at, r.id LIMIT $2",
        )
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueReminder {
                    reminder: ReminderRow {
                        id: uuid_col(r, "id")?,
                        clock_id: uuid_col(r, "clock_id")?,
                        milestone: r.try_get("milestone")?,
                        remind_at: from_micros(r.try_get("remind_at")?),
                    },
                    incident_id: uuid_col(r, "incident_id")?,
                    regime: parse_col(r, "regime")?,
                    due_at: from_micros(r.try_get("due_at")?),
                    met: opt_time(r, "met_at")?.is_some(),
                })
            })
            .collect()
    }

    async fn claim_reminder(&self, id: Uuid, at: Timestamp, audit: AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("UPDATE clock_reminders SET done_at = $2 WHERE id = $1 AND done_at IS NULL")
            .bind(id.to_string())
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
