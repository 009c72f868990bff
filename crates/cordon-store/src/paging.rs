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
    /// Who triggered it; `None` for the engine (the system principal).
    pub created_by: Option<Uuid>,
    /// The role an acknowledging recipient is granted (`incident_commander`, …); `None` for
    /// pages that grant nothing.
    pub role: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which pages [`PagingStore::list_pages`] answers: newest first (`created_at`, then `id`,
/// descending), strictly after the keyset position `before` when given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// The last page of the previous batch: `(created_at, id)`.
    pub before: Option<(Timestamp, Uuid)>,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    pub incident: Option<Uuid>,
    pub limit: u32,
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

/// A one-time acknowledgement link: only the SHA-256 of its random token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLinkRow {
    pub token_hash: [u8; 32],
    pub page_id: Uuid,
    /// The recipient: the link acknowledges as this user and nobody else.
    pub user_id: Uuid,
    pub step: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
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
    /// Adds a contact method together with its sealed secret (a webhook's signing secret,
    /// encrypted by the service; the store never sees it in clear).
    async fn add_contact_with_secret(&self, c: &ContactMethod, sealed_secret: &[u8], audit: AuditDraft) -> Result<()>;
    /// Replaces the sealed secret of contact method `id` (a rotation); false, and nothing
    /// written, when there is no such contact method.
    async fn set_contact_secret(&self, id: Uuid, sealed_secret: &[u8], audit: AuditDraft) -> Result<bool>;
    /// A user's contact method of `kind` at `address`: its id and its sealed secret, if it has
    /// one. `None` when the user has no such contact method.
    async fn contact_secret(&self, user: Uuid, kind: &str, address: &str) -> Result<Option<(Uuid, Option<Vec<u8>>)>>;

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
    /// Pages of every incident (and none), newest first, as `q` asks: the service decides
    /// which of them a caller may see.
    async fn list_pages(&self, q: &PageQuery) -> Result<Vec<PageRow>>;
    /// Triggered pages with a notification to `user_name`, newest first, at most `limit`.
    async fn open_pages_notifying(&self, user_name: &str, limit: u32) -> Result<Vec<PageRow>>;
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

    /// Stores a new acknowledgement link (its token's hash).
    async fn add_ack_link(&self, link: &AckLinkRow) -> Result<()>;
    async fn ack_link(&self, token_hash: &[u8; 32]) -> Result<Option<AckLinkRow>>;
    /// Marks a link used at `at`, once: false when it was used already or has expired.
    async fn use_ack_link(&self, token_hash: &[u8; 32], at: Timestamp) -> Result<bool>;

    /// The room's incident as `viewer` sees it: among the open incidents bound to the room,
    /// those the viewer may see (as [`crate::Store::list_incidents`] decides), the ones the
    /// viewer is an active member of first, then the oldest. One row, however many incidents
    /// share the room.
    async fn room_incident(&self, room: &str, viewer: crate::Viewer) -> Result<Option<Uuid>>;
    /// Marks a room team-only (or not), with its audit entry.
    async fn set_room_team_only(&self, room: &str, team_only: bool, at: Timestamp, audit: AuditDraft) -> Result<()>;
    /// Whether the deployment marked the room team-only.
    async fn room_team_only(&self, room: &str) -> Result<bool>;
}
