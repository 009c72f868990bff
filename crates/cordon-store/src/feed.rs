//! What the change feed (issue 15) asks of the store: where the audit log ends, and which
//! incident an item named by an audit entry's subject (`task:{id}`, `asset:{id}`, …) belongs
//! to. The audit log itself is read with [`crate::Store::audit_page`].

use async_trait::async_trait;
use uuid::Uuid;

use crate::Result;

/// The kinds of item an audit subject names that belong to an incident, by their table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentItem {
    /// A checklist step or a follow-up task (`task:{id}`).
    Task,
    Page,
    /// A regulatory clock (`clock:{id}`).
    Clock,
    /// An indicator of compromise (`ioc:{id}`).
    Indicator,
    Asset,
    System,
    Credential,
    Exposure,
    Communication,
    /// A contact with an outside party (`contact:{id}` of the communications register).
    Contact,
    Evidence,
}

impl IncidentItem {
    /// The item kind an audit subject's prefix names (`task`, `ioc`, …); `None` for subjects
    /// that are not an incident's items (`user`, `schedule`, `policy`, `template`, `room`).
    pub fn from_subject_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix {
            "task" => Self::Task,
            "page" => Self::Page,
            "clock" => Self::Clock,
            "ioc" => Self::Indicator,
            "asset" => Self::Asset,
            "system" => Self::System,
            "credential" => Self::Credential,
            "exposure" => Self::Exposure,
            "communication" => Self::Communication,
            "contact" => Self::Contact,
            "evidence" => Self::Evidence,
            _ => return None,
        })
    }

    /// The query answering the incident of the item `$1`.
    pub(crate) fn incident_query(self) -> &'static str {
        match self {
            Self::Task => {
                "SELECT incident_id FROM tasks WHERE id = $1
                 UNION ALL SELECT incident_id FROM follow_up_tasks WHERE id = $1"
            }
            Self::Page => "SELECT incident_id FROM pages WHERE id = $1",
            Self::Clock => "SELECT incident_id FROM regulatory_clocks WHERE id = $1",
            Self::Indicator => "SELECT incident_id FROM indicators WHERE id = $1",
            Self::Asset => "SELECT incident_id FROM assets WHERE id = $1",
            Self::System => "SELECT incident_id FROM systems WHERE id = $1",
            Self::Credential => "SELECT incident_id FROM credentials WHERE id = $1",
            Self::Exposure => "SELECT incident_id FROM exposures WHERE id = $1",
            Self::Communication => "SELECT incident_id FROM communications WHERE id = $1",
            Self::Contact => "SELECT incident_id FROM contact_log WHERE id = $1",
            Self::Evidence => "SELECT incident_id FROM evidence_items WHERE id = $1",
        }
    }
}

/// Reads for the change feed. Part of [`crate::Store`].
#[async_trait]
pub trait FeedStore: Send + Sync {
    /// The sequence number of the newest audit entry; 0 while the log is empty.
    async fn audit_head(&self) -> Result<i64>;
    /// The incident the item `id` of kind `item` belongs to; `None` when there is no such item
    /// (or, for a page, when it is about no incident).
    async fn incident_of_item(&self, item: IncidentItem, id: Uuid) -> Result<Option<Uuid>>;
}
