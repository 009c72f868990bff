//! Storage of the paging domain (issue 3): schedules, escalation policies, contact methods,
//! pages with their durable escalation deadlines, and notification attempts.

use async_trait::async_trait;
use cordon_core::Timestamp;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// A user's way of being reached: `email`, `webhook`, `sms`, `slack`, `matrix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMethod {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub address: String,
    pub created_at: Timestamp,
}

/// A page as stored: its escalation state is the paging engine's serialized `PageState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRow {
    pub id: Uuid,
    pub incident_id: Option<Uuid>,
    pub status: String,
    /// JSON of `cordon_notify::PageState`.
    pub state: String,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A pending escalation: the page's `step` fires at `due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineRow {
    pub page_id: Uuid,
    pub step: i64,
    pub due_at: Timestamp,
}

/// One notification to one user over one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: Uuid,
    pub page_id: Uuid,
    pub step: i64,
    pub level: i64,
    pub user_name: String,
    pub channel: String,
    pub address: String,
    /// `pending`, `delivered`, `failed` (out of retries or permanent), `refused` (a rule said no).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Try again at the given instant.
    Retry {
        error: String,
        at: Timestamp,
    },
    /// Permanently failed.
    Failed {
        error: String,
    },
    /// A communication rule refused it (e.g. an outside recipient without a key).
    Refused {
        error: String,
    },
}

/// Schedules, policies, contact methods, pages, deadlines and notifications. Part of
/// [`crate::Store`].
#[async_trait]
pub trait PagingStore: Send + Sync {
    /// Creates or replaces a schedule (its validated spec as JSON).
    async fn put_schedule(&self, name: &str, spec: &str, at: Timestamp, audit: AuditDraft) -> Result<()>;
    async fn schedules(&self) -> Result<Vec<(String, String)>>;
    /// Creates or replaces an escalation policy (its validated spec as JSON).
    async fn put_policy(&self, name: &str, spec: &str, at: Timestamp, audit: AuditDraft) -> Result<()>;
    async fn policy(&self, name: &str) -> Result<Option<String>>;
    async fn policies(&self) -> Result<Vec<(String, String)>>;

    async fn add_contact(&self, c: &ContactMethod, audit: AuditDraft) -> Result<()>;
    async fn contacts(&self, user: Uuid) -> Result<Vec<ContactMethod>>;

    /// Stores a new page with its first deadline (if any) and its first notifications.
    async fn create_page(
        &self,
        page: &PageRow,
        deadline: Option<DeadlineRow>,
        notifications: &[NotificationRow],
        audit: AuditDraft,
    ) -> Result<()>;
    async fn page(&self, id: Uuid) -> Result<Option<PageRow>>;
    async fn pages_for_incident(&self, incident: Uuid) -> Result<Vec<PageRow>>;
    /// Deadlines due at `now`, oldest first.
    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<DeadlineRow>>;
    /// Applies one escalation exactly once: marks the deadline done (false, and nothing
    /// written, when it was done already), stores the new state, the next deadline and the
    /// new notifications.
    async fn escalate(
        &self,
        done: DeadlineRow,
        page: &PageRow,
        next: Option<DeadlineRow>,
        notifications: &[NotificationRow],
        audit: AuditDraft,
    ) -> Result<bool>;
    /// Marks a deadline done without escalating (it went stale).
    async fn drop_deadline(&self, d: DeadlineRow) -> Result<()>;
    /// Stores a new state after acknowledge/resolve; pending deadlines of the page are dropped.
    async fn update_page(&self, page: &PageRow, audit: AuditDraft) -> Result<()>;

    /// Notifications to attempt at `now` (pending, and due).
    async fn due_notifications(&self, now: Timestamp, limit: u32) -> Result<Vec<NotificationRow>>;
    /// Claims a due notification for one delivery attempt: its next attempt moves to
    /// `lease_until`, so no other engine (on this node or another) sends it meanwhile. False
    /// when someone else claimed it first. A crash mid-send retries after the lease.
    async fn claim_notification(&self, id: Uuid, now: Timestamp, lease_until: Timestamp) -> Result<bool>;
    async fn notifications(&self, page: Uuid) -> Result<Vec<NotificationRow>>;
    /// Records one attempt and its audit entry.
    async fn record_attempt(&self, id: Uuid, attempt: &Attempt, at: Timestamp, audit: AuditDraft) -> Result<()>;

    /// A named secret, created from `fresh` the first time it is asked for.
    async fn secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>>;
    /// Records a one-time link as used; false when it was used before.
    async fn use_link(&self, nonce: &str, at: Timestamp) -> Result<bool>;
    /// The open incident bound to a chat room.
    async fn incident_id_by_room(&self, room: &str) -> Result<Option<Uuid>>;
}
