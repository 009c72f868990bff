//! The pages a caller may see, newest first, one keyset batch at a time: every page of the
//! incidents they may see (through the gate), and — of a page about an incident they may not
//! see — only their own notifications, as its recipient. A sealed incident's pages stay
//! invisible to everyone else.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_notify::PageStatus;
use cordon_store::paging::PageQuery;
use uuid::Uuid;

use super::PageView;
use super::pages::may_view;
use crate::gate::{Access, See};
use crate::{Cordon, Result, ServiceError};

/// What `GET /api/v1/pages` filters on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFilter {
    /// An incident reference (id or codename): only its pages; "not found" unless the caller
    /// may see the incident.
    pub incident: Option<String>,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: Option<String>,
}

/// One batch of the page list.
#[derive(Debug, Clone)]
pub struct PageList {
    pub pages: Vec<PageView>,
}

impl PageFilter {
    fn status(&self) -> Result<Option<PageStatus>> {
        match self.status.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                ServiceError::invalid(
                    "status",
                    format!("`{s}` is not a page status; use one of triggered, acknowledged, resolved"),
                )
            }),
        }
    }
}

impl Cordon {
    /// Up to `limit` pages `p` may see, newest first, strictly after the keyset position
    /// `after` (`(created_at, id)` of the last page of the previous batch).
    pub async fn list_pages(
        &self,
        p: &Principal,
        filter: &PageFilter,
        after: Option<(Timestamp, Uuid)>,
        limit: u32,
    ) -> Result<PageList> {
        let status = filter.status()?;
        let only: Option<Access<See>> = match &filter.incident {
            Some(r) => Some(self.gate(p, r).await?),
            None => None,
        };
        let mut seen: HashMap<Uuid, Option<Access<See>>> = HashMap::new();
        let mut pages = Vec::new();
        let batch = limit.saturating_mul(2).clamp(50, 1000);
        let mut before = after;
        loop {
            let rows = self
                .store
                .list_pages(&PageQuery {
                    before,
                    status: status.map(|s| s.as_str().to_owned()),
                    incident: only.as_ref().map(|a| a.incident().id),
                    limit: batch,
                })
                .await?;
            let exhausted = rows.len() < batch as usize;
            for row in rows {
                before = Some((row.created_at, row.id));
                let access = match (row.incident_id, &only) {
                    (_, Some(a)) => Some(a),
                    (None, None) => None,
                    (Some(iid), None) => {
                        if let Entry::Vacant(slot) = seen.entry(iid) {
                            slot.insert(match self.gate_id(p, iid).await {
                                Ok(a) => Some(a),
                                Err(ServiceError::NotFound(_)) => None,
                                Err(e) => return Err(e),
                            });
                        }
                        seen.get(&iid).and_then(Option::as_ref)
                    }
                };
                let notified = access.is_none()
                    && self
                        .store
                        .notifications(row.id)
                        .await?
                        .iter()
                        .any(|n| n.user_name == p.name);
                if !may_view(p, &row, access.is_some(), notified) {
                    continue;
                }
                pages.push(self.view_as(p, &row, access).await?);
                if pages.len() >= limit as usize {
                    return Ok(PageList { pages });
                }
            }
            if exhausted {
                return Ok(PageList { pages });
            }
        }
    }
}
