//! The change feed (issue 15): every incident-related change, from any node and any front end
//! (API, CLI, web, Slack, Matrix, the engine), as `{incident, seq, kind}` — never what changed.
//!
//! The audit log is the one record every node shares and every change writes in its own
//! transaction, so the feed reads it: [`Cordon::poll_changes`] reads the entries after the last
//! one it saw, maps each to the incident it concerns and broadcasts a [`Change`] in-process
//! (a bounded tokio broadcast channel; a subscriber that falls behind is told it lagged and
//! catches up from the audit log with [`Cordon::changes_after`]). The loop that calls it every
//! [`POLL_INTERVAL`] lives at the edge (`cordon::wiring`); nothing here reads the clock.
//!
//! Which incident an entry concerns is read from its subject, without changing any audit format:
//! `incident:{id}` names it; an item's subject (`task:{id}`, `page:{id}`, `asset:{id}`, …) is
//! looked up in the item's table (`FeedStore::incident_of_item`, cached: an item never moves to
//! another incident). Entries about no incident (users, schedules, policies, templates, rooms),
//! refusals (`*.refused`, `*.rejected`, `*.aborted`) and audited reads (`incident.report`,
//! exports, searches) are not changes and are not broadcast.
//!
//! What a subscriber may receive is not decided here: whoever pushes a change to a person
//! passes it through the gate for that person first ([`Cordon::may_see_change`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cordon_core::access::Principal;
use cordon_store::AuditEntry;
use cordon_store::feed::IncidentItem;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{Cordon, Result, ServiceError};

/// How often the edge's loop polls the audit log.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Changes buffered for subscribers; one further behind has lagged and catches up from the log.
pub const FEED_CAPACITY: usize = 1024;
/// The most audit entries one poll reads (the next poll goes on).
const POLL_BATCH: u32 = 1000;
/// Item subjects remembered with their incident; the memory is cleared when full.
const ITEM_CACHE: usize = 10_000;
/// Streams one user may hold open at once on one node.
pub const MAX_STREAMS_PER_USER: usize = 8;

/// One change: which incident, which audit entry (its sequence number), and what kind of thing
/// changed — the words of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub incident: Uuid,
    pub seq: i64,
    pub kind: &'static str,
    /// The user whose place on the team this change ended (`member.remove`). They hear it
    /// though they may no longer see the incident — they knew of it, and what they have open
    /// must let it go — and nothing of the incident after it.
    pub departed: Option<Uuid>,
}

/// The kinds of change, by what a page shows: the incident itself (status, severity, title),
/// its team, checklist, decisions, conversation, pages, evidence, timeline, registers,
/// communications and contacts, regulatory clocks. A change to an asset or a credential may
/// create follow-up tasks too.
pub const KINDS: &[&str] = &[
    "incident",
    "member",
    "task",
    "decision",
    "message",
    "page",
    "evidence",
    "timeline",
    "asset",
    "system",
    "ioc",
    "credential",
    "exposure",
    "communication",
    "contact",
    "clock",
];

/// Audited reads: not changes.
const READS: &[&str] = &[
    "incident.report",
    "ioc.export",
    "ioc.search",
    "timeline.export",
    "evidence.custody_report",
];

/// The kind of change an audit action is; `None` for refusals and reads.
pub fn kind_of(action: &str) -> Option<&'static str> {
    if READS.contains(&action)
        || [".refused", ".rejected", ".aborted"]
            .iter()
            .any(|s| action.ends_with(s))
    {
        return None;
    }
    let prefix = action.split('.').next().unwrap_or(action);
    let kind = match prefix {
        "notification" => "page",
        other => KINDS.iter().copied().find(|k| *k == other).unwrap_or("incident"),
    };
    Some(kind)
}

/// The feed's state on this node.
#[derive(Debug)]
pub(crate) struct Feed {
    /// `None` once closed (the server is stopping): subscribers' streams end.
    sender: Mutex<Option<broadcast::Sender<Change>>>,
    /// The sequence number of the last entry read; negative until the feed started.
    position: AtomicI64,
    items: Mutex<HashMap<String, Option<Uuid>>>,
    streams: Mutex<HashMap<Uuid, usize>>,
    /// Rung after a write on this node: the loop reads the log at once instead of at the next
    /// tick (other nodes' writes wait for the tick).
    wake: tokio::sync::Notify,
}

impl Default for Feed {
    fn default() -> Self {
        Self {
            sender: Mutex::new(Some(broadcast::channel(FEED_CAPACITY).0)),
            position: AtomicI64::new(-1),
            items: Mutex::default(),
            streams: Mutex::default(),
            wake: tokio::sync::Notify::new(),
        }
    }
}

/// A subscription to the feed: the receiver, and the sequence number of the last entry read
/// before it was taken (the receiver gets the changes of every later entry).
#[derive(Debug)]
pub struct Subscription {
    pub changes: broadcast::Receiver<Change>,
    pub position: i64,
}

/// An open stream counted against its user's [`MAX_STREAMS_PER_USER`]; dropping it ends the
/// count.
#[derive(Debug)]
pub struct StreamSlot {
    feed: Arc<Feed>,
    user: Uuid,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.feed.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = streams.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.user);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cordon {
    /// Starts the feed at the end of the audit log (changes from now on); a no-op once started.
    pub async fn start_changes(&self) -> Result<()> {
        if self.feed.position.load(Ordering::Acquire) >= 0 {
            return Ok(());
        }
        let head = self.store.audit_head().await?;
        let _ = self
            .feed
            .position
            .compare_exchange(-1, head, Ordering::AcqRel, Ordering::Acquire);
        Ok(())
    }

    /// One step of the feed: reads the audit entries after the last one read, broadcasts their
    /// changes, and returns how many entries it read (a full batch: call again at once).
    pub async fn poll_changes(&self) -> Result<usize> {
        self.start_changes().await?;
        let after = self.feed.position.load(Ordering::Acquire);
        let entries = self.store.audit_page(after, POLL_BATCH).await?;
        let Some(last) = entries.last().map(|e| e.record.seq) else {
            return Ok(0);
        };
        let changes = self.map_entries(&entries).await?;
        // Sending and moving the position under the sender's lock: a subscriber taken at
        // position N gets exactly the changes of the entries after N.
        let sender = lock(&self.feed.sender);
        if let Some(tx) = sender.as_ref() {
            for c in changes {
                // No subscriber is not an error.
                let _ = tx.send(c);
            }
        }
        self.feed.position.store(last, Ordering::Release);
        Ok(entries.len())
    }

    /// Says something was written on this node: the feed's loop reads the log at once (a wake
    /// while it reads makes it read again).
    pub fn wake_changes(&self) {
        self.feed.wake.notify_one();
    }

    /// Resolves at the next [`Cordon::wake_changes`] (or at once if one came since the last).
    pub async fn changes_woken(&self) {
        self.feed.wake.notified().await;
    }

    /// Subscribes to the feed; `None` when it has not started or has closed.
    pub fn subscribe_changes(&self) -> Option<Subscription> {
        let sender = lock(&self.feed.sender);
        let position = self.feed.position.load(Ordering::Acquire);
        let tx = sender.as_ref()?;
        (position >= 0).then(|| Subscription {
            changes: tx.subscribe(),
            position,
        })
    }

    /// The sequence number of the last audit entry the feed read (negative before it started).
    pub fn changes_position(&self) -> i64 {
        self.feed.position.load(Ordering::Acquire)
    }

    /// The id of the incident `raw_ref` names, for `p` to watch its changes: through the gate,
    /// so an incident `p` may not see is not found.
    pub async fn watch_incident(&self, p: &Principal, raw_ref: &str) -> Result<Uuid> {
        Ok(self.gate(p, raw_ref).await?.incident().id)
    }

    /// Closes the feed: every subscription ends (the server is stopping).
    pub fn close_changes(&self) {
        lock(&self.feed.sender).take();
    }

    /// The changes of the audit entries after `after` up to `until` (inclusive), reading at most
    /// `max_entries` entries; `None` when more than that lie between (the caller resyncs).
    pub async fn changes_after(&self, after: i64, until: i64, max_entries: u32) -> Result<Option<Vec<Change>>> {
        if until.saturating_sub(after) > i64::from(max_entries) {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut at = after;
        while at < until {
            let entries: Vec<AuditEntry> = self
                .store
                .audit_page(at, POLL_BATCH.min(max_entries))
                .await?
                .into_iter()
                .filter(|e| e.record.seq <= until)
                .collect();
            let Some(last) = entries.last().map(|e| e.record.seq) else {
                break;
            };
            out.extend(self.map_entries(&entries).await?);
            at = last;
        }
        Ok(Some(out))
    }

    /// Whether `p` may see the incident a change concerns, now: the gate decides, for every
    /// change pushed to anyone.
    pub async fn may_see_change(&self, p: &Principal, change: &Change) -> Result<bool> {
        match self.gate_id(p, change.incident).await {
            Ok(_) => Ok(true),
            Err(ServiceError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes one of `p`'s stream slots; `None` when they hold [`MAX_STREAMS_PER_USER`].
    pub fn open_stream(&self, p: &Principal) -> Option<StreamSlot> {
        let mut streams = lock(&self.feed.streams);
        let n = streams.entry(p.user_id).or_insert(0);
        if *n >= MAX_STREAMS_PER_USER {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            feed: self.feed.clone(),
            user: p.user_id,
        })
    }

    async fn map_entries(&self, entries: &[AuditEntry]) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        for e in entries {
            let r = &e.record;
            let Some(kind) = kind_of(&r.action) else {
                continue;
            };
            if let Some(incident) = self.incident_of_subject(&r.subject).await? {
                let departed = if r.action == "member.remove" {
                    self.departed_user(&r.payload).await?
                } else {
                    None
                };
                out.push(Change {
                    incident,
                    seq: r.seq,
                    kind,
                    departed,
                });
            }
        }
        Ok(out)
    }

    /// The user a `member.remove` entry names (`{"user": name, …}`), if they still exist.
    async fn departed_user(&self, payload: &str) -> Result<Option<Uuid>> {
        let name = serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| v["user"].as_str().map(str::to_owned));
        match name {
            Some(name) => Ok(self.store.user_by_name(&name).await?.map(|u| u.id)),
            None => Ok(None),
        }
    }

    /// The incident an audit subject concerns.
    async fn incident_of_subject(&self, subject: &str) -> Result<Option<Uuid>> {
        let Some((prefix, id)) = subject.split_once(':') else {
            return Ok(None);
        };
        let Ok(id) = Uuid::try_parse(id) else {
            return Ok(None);
        };
        if prefix == "incident" {
            return Ok(Some(id));
        }
        let Some(item) = IncidentItem::from_subject_prefix(prefix) else {
            return Ok(None);
        };
        if let Some(known) = lock(&self.feed.items).get(subject) {
            return Ok(*known);
        }
        let incident = self.store.incident_of_item(item, id).await?;
        let mut items = lock(&self.feed.items);
        if items.len() >= ITEM_CACHE {
            items.clear();
        }
        items.insert(subject.to_owned(), incident);
        Ok(incident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_to_kinds_and_reads_and_refusals_are_not_changes() {
        assert_eq!(kind_of("task.update"), Some("task"));
        assert_eq!(kind_of("task.gate_override"), Some("task"));
        assert_eq!(kind_of("member.add"), Some("member"));
        assert_eq!(kind_of("message.post"), Some("message"));
        assert_eq!(kind_of("message.reply"), Some("message"));
        assert_eq!(kind_of("notification.delivered"), Some("page"));
        assert_eq!(kind_of("incident.declare"), Some("incident"));
        assert_eq!(
            kind_of("something.new"),
            Some("incident"),
            "unknown: refetch the incident"
        );
        assert_eq!(kind_of("task.update.refused"), None);
        assert_eq!(kind_of("evidence.add.rejected"), None);
        assert_eq!(kind_of("timeline.ingest.aborted"), None);
        assert_eq!(kind_of("incident.report"), None);
        assert_eq!(kind_of("ioc.export"), None);
    }
}
