//! Storage of communications, their approvals and templates, the contact log of steps 12–13,
//! and regulatory clocks with their milestones and reminders (issue 7).

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::comms::{Audience, DraftStatus, Party};
use cordon_core::regulatory::{Jurisdiction, Regime};
use cordon_core::role::Role;
use cordon_core::task::Task;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// One role's approval of a communication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub role: Role,
    pub user_name: String,
    pub at: Timestamp,
}

/// A communication as stored. `recipients` and `findings` are JSON the service writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunicationRow {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub audience: Audience,
    pub title: String,
    pub body: String,
    /// JSON array of recipient strings.
    pub recipients: String,
    pub third_parties_public: bool,
    pub status: DraftStatus,
    /// JSON array of `{"rule","severity","message"}`.
    pub findings: String,
    /// `published`, `mail` or `recorded`, once sent.
    pub channel: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// JSON of the incident commander's override of error findings (`reason`, `by`, `at`,
    /// `findings`), or none. Written by [`CommsStore::override_findings`] and cleared by an
    /// edit through [`CommsStore::update_communication`].
    pub lint_override: Option<String>,
    /// Filled on read; ignored on write.
    pub approvals: Vec<ApprovalRow>,
}

/// An editable template of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    pub name: String,
    pub audience: Audience,
    pub title: String,
    pub body: String,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

/// One contact with an outside party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub party: Party,
    pub name: String,
    pub at: Timestamp,
    pub reference: Option<String>,
    pub outcome: Option<String>,
    /// The checklist task the contact advanced.
    pub task_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: Timestamp,
}

/// A regulatory clock as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRow {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub regime: Regime,
    pub started_at: Timestamp,
    pub jurisdiction: Jurisdiction,
    pub unlawful_purpose: bool,
    pub created_by: Uuid,
    pub created_at: Timestamp,
}

/// One deadline of a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneRow {
    pub name: String,
    pub description: String,
    pub due_at: Timestamp,
    pub met_at: Option<Timestamp>,
}

/// A reminder to send before a milestone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    pub id: Uuid,
    pub clock_id: Uuid,
    pub milestone: String,
    pub remind_at: Timestamp,
}

/// A due reminder with what the engine needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub reminder: ReminderRow,
    pub incident_id: Uuid,
    pub regime: Regime,
    pub due_at: Timestamp,
    pub met: bool,
}

/// Communications, templates, the contact log and regulatory clocks. Part of [`crate::Store`].
#[async_trait]
pub trait CommsStore: Send + Sync {
    async fn create_communication(&self, c: &CommunicationRow, audit: AuditDraft) -> Result<()>;
    /// Writes title, body, recipients, the public mark, status, findings, the lint override and
    /// updated_at;
    /// `clear_approvals` drops the approvals (an edit needs approving again).
    async fn update_communication(&self, c: &CommunicationRow, clear_approvals: bool, audit: AuditDraft) -> Result<()>;
    /// Records one approval and the status after it, only if the communication is still as the
    /// approver read it (`seen` is its `updated_at` then): otherwise [`crate::StoreError::Conflict`]
    /// `communication` and nothing written, so an edit or a concurrent approval is never
    /// approved blind.
    async fn add_approval(
        &self,
        communication: Uuid,
        approval: &ApprovalRow,
        status: DraftStatus,
        seen: Timestamp,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Records the incident commander's override of error findings (`lint_override` JSON) with
    /// the findings as linted now, only if the communication is still as the commander read it
    /// (`seen` is its `updated_at` then) and not sent: otherwise [`crate::StoreError::Conflict`]
    /// `communication` and nothing written. `at` becomes its `updated_at`.
    async fn override_findings(
        &self,
        communication: Uuid,
        lint_override: &str,
        findings: &str,
        seen: Timestamp,
        at: Timestamp,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Marks an approved communication sent, exactly once: false (and nothing written) when it
    /// is not `approved` any more.
    async fn mark_sent(
        &self,
        communication: Uuid,
        channel: &str,
        at: Timestamp,
        by: &str,
        audit: AuditDraft,
    ) -> Result<bool>;
    /// Undoes [`CommsStore::mark_sent`] when the delivery it claimed failed: back to `approved`,
    /// so it can be sent again. False when it is not `sent` on `channel`.
    async fn unmark_sent(&self, communication: Uuid, channel: &str, audit: AuditDraft) -> Result<bool>;
    /// One communication of an incident, with its approvals.
    async fn communication(&self, incident: Uuid, id: Uuid) -> Result<Option<CommunicationRow>>;
    /// The communications of an incident, oldest first, with their approvals.
    async fn communications(&self, incident: Uuid) -> Result<Vec<CommunicationRow>>;

    /// Creates or replaces a template.
    async fn put_template(&self, t: &TemplateRow, audit: AuditDraft) -> Result<()>;
    async fn template(&self, name: &str) -> Result<Option<TemplateRow>>;
    async fn templates(&self) -> Result<Vec<TemplateRow>>;

    /// Records a contact and, in the same transaction, the task it advanced.
    async fn add_contact_log(&self, c: &ContactRow, task: Option<&Task>, audit: AuditDraft) -> Result<()>;
    /// The contact log of an incident, by time.
    async fn contact_log(&self, incident: Uuid) -> Result<Vec<ContactRow>>;

    /// Records a clock with its milestones (in order) and reminders.
    async fn create_clock(
        &self,
        clock: &ClockRow,
        milestones: &[MilestoneRow],
        reminders: &[ReminderRow],
        audit: AuditDraft,
    ) -> Result<()>;
    /// The clocks of an incident, oldest first, each with its milestones in order.
    async fn clocks(&self, incident: Uuid) -> Result<Vec<(ClockRow, Vec<MilestoneRow>)>>;
    /// Records that a milestone was met at `at`; false when it was recorded already.
    async fn mark_milestone_met(&self, clock: Uuid, name: &str, at: Timestamp, audit: AuditDraft) -> Result<bool>;
    /// Reminders due at `now` and not done, oldest first.
    async fn due_reminders(&self, now: Timestamp, limit: u32) -> Result<Vec<DueReminder>>;
    /// Marks a reminder done, once: false (and nothing written) when it was done already.
    async fn claim_reminder(&self, id: Uuid, at: Timestamp, audit: AuditDraft) -> Result<bool>;
}
