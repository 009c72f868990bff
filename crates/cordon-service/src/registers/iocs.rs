//! Indicators of compromise: adding (normalized, merged with the same kind and value),
//! promoting a value out of a timeline event, searching every ingested timeline of the
//! incident for each indicator (sightings), the blocklist exports, and the re-attack watch
//! that checks each newly ingested source against the incident's indicators.
//!
//! Searches go through the same timeline queries as the API (`ip=` for addresses, `user=` for
//! accounts, a phrase query for everything else, checked against the event's text), so they
//! see exactly what the caller may see. They read every matching event, a page at a time, and
//! record the sightings of each page as they go: counts, first and last seen are over all
//! events, and memory holds one page (and the keys of the events seen).

use std::collections::HashSet;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::Incident;
use cordon_ioc::{ExportContext, ExportFormat, ExportIndicator, IndicatorKind, Normalized, Rendered};
use cordon_store::registers::{Indicator, Sighting};
use serde_json::{Value, json};
use uuid::Uuid;

use super::check_text;
use crate::audit::draft;
use crate::gate::Access;
use crate::incidents::new_id;
use crate::timeline::TimelineFilter;
use crate::{Cordon, Result, ServiceError};

/// Events read per page while searching (and sightings recorded per write).
const SEARCH_PAGE: u32 = 1000;
/// Addresses of a CIDR indicator looked up one by one (the most frequent in the timeline).
const CIDR_FANOUT: u32 = 1000;

/// A new indicator (or another sighting of a known one).
#[derive(Debug, Clone, Default)]
pub struct NewIndicator {
    pub kind: String,
    pub value: String,
    pub note: Option<String>,
}

/// An indicator with its sightings.
#[derive(Debug, Clone)]
pub struct IndicatorView {
    pub indicator: Indicator,
    pub sightings: Vec<Sighting>,
    /// True when the value was already known and this call merged into it.
    pub merged: bool,
}

impl IndicatorView {
    /// The warning for a private or reserved address.
    pub fn warning(&self) -> Option<String> {
        self.indicator.special.as_ref().map(|w| {
            format!(
                "{} is {w}; it is kept, and flagged in every export",
                self.indicator.value
            )
        })
    }
}

/// A value promoted out of one timeline event.
#[derive(Debug, Clone, Default)]
pub struct Promotion {
    pub source_id: String,
    pub line: u64,
    pub value: String,
    /// Guessed from the value when absent.
    pub kind: Option<String>,
    pub note: Option<String>,
}

/// What a search of the timelines found for one indicator.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// With first and last seen over every sighting.
    pub indicator: Indicator,
    /// Events that mention it, all of them.
    pub found: u64,
    /// Of those, not recorded before.
    pub new: u64,
    /// Sightings recorded for it now, in all.
    pub sightings: u64,
}

/// One page of the indicator search: the outcomes of the indicators searched and how many
/// indicators the incident has.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub outcomes: Vec<SearchOutcome>,
    pub total: usize,
}

/// The events of the incident's timelines that mention an indicator, read a page at a time.
struct HitScan {
    filters: Vec<TimelineFilter>,
    /// For text indicators: the event's JSON must contain this (lower-cased).
    text_check: Option<String>,
    /// The filter being read, and where its next page starts.
    at: usize,
    cursor: Option<String>,
}

/// A rendered export with its file name.
#[derive(Debug, Clone)]
pub struct IocExport {
    pub rendered: Rendered,
    pub format: ExportFormat,
    pub file_name: String,
}

/// One event that mentions an indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hit {
    source_id: Uuid,
    line: u64,
    byte_offset: u64,
    at: Timestamp,
    host: Option<String>,
}

fn hit_of(event: &Value) -> Option<Hit> {
    Some(Hit {
        source_id: Uuid::parse_str(event["source_id"].as_str()?).ok()?,
        line: event["provenance"]["line"].as_u64()?,
        byte_offset: event["provenance"]["byte_offset"].as_u64().unwrap_or(0),
        at: event["ts"].as_str()?.parse().ok()?,
        host: event["host"].as_str().map(str::to_owned),
    })
}

fn ioc_error(e: cordon_ioc::IocError) -> ServiceError {
    match &e {
        cordon_ioc::IocError::Unknown(_) => ServiceError::invalid("kind", e.to_string()),
        _ => ServiceError::invalid("value", e.to_string()),
    }
}

fn parse_kind(raw: &str) -> Result<IndicatorKind> {
    raw.trim().to_ascii_lowercase().parse().map_err(ioc_error)
}

fn widen(i: &mut Indicator, at: Timestamp) {
    i.first_seen = Some(i.first_seen.map_or(at, |f| f.min(at)));
    i.last_seen = Some(i.last_seen.map_or(at, |l| l.max(at)));
}

impl Cordon {
    /// A scan of the incident's timelines (or of one source of them) for the indicator.
    async fn hit_scan<L>(&self, access: &Access<L>, source: Option<Uuid>, n: &Normalized) -> Result<HitScan> {
        let source = source.map(|s| s.to_string());
        let mut filters = Vec::new();
        let mut text_check = None;
        match n.kind {
            IndicatorKind::Ip => filters.push(TimelineFilter {
                ip: Some(n.value.clone()),
                ..TimelineFilter::default()
            }),
            IndicatorKind::Cidr => {
                let net = n.net().ok_or_else(|| ServiceError::invalid("value", "not a network"))?;
                let everything = TimelineFilter {
                    source: source.clone(),
                    ..TimelineFilter::default()
                };
                let facets = self.timeline_facets_in(access, &everything, Some(CIDR_FANOUT)).await?;
                for f in facets.ips {
                    if f.value.parse::<std::net::IpAddr>().is_ok_and(|ip| net.contains(&ip)) {
                        filters.push(TimelineFilter {
                            ip: Some(f.value),
                            ..TimelineFilter::default()
                        });
                    }
                }
            }
            IndicatorKind::Account => filters.push(TimelineFilter {
                user: Some(n.value.clone()),
                ..TimelineFilter::default()
            }),
            _ => {
                filters.push(TimelineFilter {
                    q: Some(format!("\"{}\"", n.value.replace('"', " "))),
                    ..TimelineFilter::default()
                });
                text_check = Some(n.value.to_lowercase());
            }
        }
        for f in &mut filters {
            f.source.clone_from(&source);
        }
        Ok(HitScan {
            filters,
            text_check,
            at: 0,
            cursor: None,
        })
    }

    /// The next page of the scan's hits (possibly empty); `None` once every event was read.
    async fn next_hits<L>(&self, access: &Access<L>, scan: &mut HitScan) -> Result<Option<Vec<Hit>>> {
        let Some(filter) = scan.filters.get(scan.at) else {
            return Ok(None);
        };
        let page = self
            .timeline_query_in(access, filter, Some(SEARCH_PAGE), scan.cursor.as_deref())
            .await?;
        match page.next_cursor {
            Some(c) => scan.cursor = Some(c),
            None => {
                scan.at += 1;
                scan.cursor = None;
            }
        }
        let mut hits = Vec::with_capacity(page.events.len());
        for raw in &page.events {
            if let Some(needle) = &scan.text_check
                && !String::from_utf8_lossy(raw).to_lowercase().contains(needle.as_str())
            {
                continue;
            }
            if let Ok(v) = serde_json::from_slice::<Value>(raw)
                && let Some(h) = hit_of(&v)
            {
                hits.push(h);
            }
        }
        Ok(Some(hits))
    }

    /// Reads every event the scan finds and records each one not `known` as a sighting of
    /// `i` (`how`), a page at a time, widening first and last seen with every event found.
    /// Returns the events found and the new sightings.
    async fn record_hits<L>(
        &self,
        access: &Access<L>,
        i: &mut Indicator,
        mut scan: HitScan,
        mut known: HashSet<(Uuid, u64)>,
        how: &str,
    ) -> Result<(u64, u64)> {
        let (mut found, mut new) = (0u64, 0u64);
        // An event naming two addresses of a network is found twice: count it once.
        let mut counted: HashSet<(Uuid, u64)> = HashSet::new();
        while let Some(hits) = self.next_hits(access, &mut scan).await? {
            let before = (i.first_seen, i.last_seen);
            let mut fresh = Vec::new();
            for h in hits {
                if scan.filters.len() > 1 && !counted.insert((h.source_id, h.line)) {
                    continue;
                }
                found += 1;
                widen(i, h.at);
                if known.insert((h.source_id, h.line)) {
                    fresh.push(h);
                }
            }
            if fresh.is_empty() && before == (i.first_seen, i.last_seen) {
                continue;
            }
            let now = self.clock.now();
            let sightings: Vec<Sighting> = fresh.iter().map(|h| Self::sighting(i, h, how, now)).collect();
            new += sightings.len() as u64;
            i.updated_at = now;
            let payload = json!({ "kind": i.kind, "value": i.value, "new_sightings": sightings.len(),
                                  "how": how, "source_id": scan.filters.first().and_then(|f| f.source.clone()) });
            let audit = draft(
                now,
                access.actor_name(),
                "ioc.sightings",
                format!("ioc:{}", i.id),
                payload,
            );
            self.store.put_indicator(i, &sightings, audit).await?;
        }
        Ok((found, new))
    }

    fn sighting(indicator: &Indicator, h: &Hit, how: &str, now: Timestamp) -> Sighting {
        Sighting {
            id: new_id(now),
            indicator_id: indicator.id,
            incident_id: indicator.incident_id,
            source_id: h.source_id,
            line: h.line,
            byte_offset: h.byte_offset,
            seen_at: h.at,
            host: h.host.clone(),
            how: how.to_owned(),
            recorded_at: now,
        }
    }

    /// Adds an indicator, or merges into the known one of the same kind and normalized value
    /// (the note is appended). A private or reserved address is kept and flagged.
    async fn upsert_indicator(
        &self,
        p: &Principal,
        incident: &Incident,
        n: Normalized,
        note: Option<String>,
        hits: &[Hit],
        how: &str,
    ) -> Result<IndicatorView> {
        let note = note.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(n) = &note {
            check_text("note", n, 2000)?;
        }
        let now = self.clock.now();
        let known = self
            .store
            .indicators(incident.id)
            .await?
            .into_iter()
            .find(|i| i.kind == n.kind.as_str() && i.value == n.value);
        let merged = known.is_some();
        let mut i = known.unwrap_or_else(|| Indicator {
            id: new_id(now),
            incident_id: incident.id,
            kind: n.kind.as_str().to_owned(),
            value: n.value.clone(),
            special: n.special.map(str::to_owned),
            notes: Vec::new(),
            first_seen: None,
            last_seen: None,
            created_by: p.user_id,
            created_at: now,
            updated_at: now,
        });
        if let Some(note) = &note
            && !i.notes.contains(note)
        {
            i.notes.push(note.clone());
        }
        let sightings: Vec<Sighting> = hits.iter().map(|h| Self::sighting(&i, h, how, now)).collect();
        for h in hits {
            widen(&mut i, h.at);
        }
        i.updated_at = now;
        let action = if merged { "ioc.merge" } else { "ioc.add" };
        let payload = json!({ "kind": i.kind, "value": i.value, "note": note, "special": i.special,
                              "sightings": sightings.len(), "how": how });
        let audit = draft(now, &p.name, action, format!("ioc:{}", i.id), payload);
        self.store.put_indicator(&i, &sightings, audit).await?;
        let all = self.store.sightings(incident.id).await?;
        Ok(IndicatorView {
            sightings: all.into_iter().filter(|s| s.indicator_id == i.id).collect(),
            indicator: i,
            merged,
        })
    }

    /// Adds an indicator (normalized; an invalid value is 422 and nothing is written).
    pub async fn add_indicator(&self, p: &Principal, raw_ref: &str, new: NewIndicator) -> Result<IndicatorView> {
        let access = self.work_on(p, raw_ref, "ioc.add", "indicators").await?;
        let incident = access.incident();
        let kind = parse_kind(&new.kind)?;
        let n = cordon_ioc::normalize(kind, &new.value).map_err(ioc_error)?;
        self.upsert_indicator(p, incident, n, new.note, &[], "promoted").await
    }

    /// Promotes a value out of one timeline event (its source and first line): the event must
    /// mention the value; it becomes the indicator's first sighting.
    pub async fn promote_indicator(&self, p: &Principal, raw_ref: &str, pr: Promotion) -> Result<IndicatorView> {
        let access = self.work_on(p, raw_ref, "ioc.add", "indicators").await?;
        let incident = access.incident();
        let kind = match pr.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => parse_kind(k)?,
            None => cordon_ioc::guess_kind(&pr.value),
        };
        let n = cordon_ioc::normalize(kind, &pr.value).map_err(ioc_error)?;
        let source = self
            .source_id_in(incident.id, &pr.source_id)
            .await
            .map_err(|e| match e {
                ServiceError::Invalid { message, .. } => ServiceError::invalid("source_id", message),
                other => other,
            })?;
        let mut scan = self.hit_scan(&access, Some(source), &n).await?;
        let mut hit = None;
        while hit.is_none()
            && let Some(hits) = self.next_hits(&access, &mut scan).await?
        {
            hit = hits.into_iter().find(|h| h.source_id == source && h.line == pr.line);
        }
        let hit = hit.ok_or_else(|| {
            ServiceError::invalid(
                "value",
                format!("no event at line {} of source {source} mentions `{}`", pr.line, n.value),
            )
        })?;
        self.upsert_indicator(p, incident, n, pr.note, &[hit], "promoted").await
    }

    /// The incident's indicators with their sightings.
    pub async fn indicators(&self, p: &Principal, raw_ref: &str) -> Result<Vec<IndicatorView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let sightings = self.store.sightings(incident.id).await?;
        Ok(self
            .store
            .indicators(incident.id)
            .await?
            .into_iter()
            .map(|indicator| IndicatorView {
                sightings: sightings
                    .iter()
                    .filter(|s| s.indicator_id == indicator.id)
                    .cloned()
                    .collect(),
                indicator,
                merged: false,
            })
            .collect())
    }

    /// Searches every ingested timeline of the incident for the indicators `start..start +
    /// limit` (in the list's order; the whole list when `limit` covers it) and records every
    /// event found as a sighting (first and last seen widen with them). Every matching event
    /// is read, however many there are.
    pub async fn search_indicators(
        &self,
        p: &Principal,
        raw_ref: &str,
        start: usize,
        limit: usize,
    ) -> Result<SearchPage> {
        let access = self.work_on(p, raw_ref, "ioc.search", "indicators").await?;
        let incident = access.incident();
        let all = self.store.indicators(incident.id).await?;
        let total = all.len();
        let known = self.store.sightings(incident.id).await?;
        let mut outcomes = Vec::new();
        for mut i in all.into_iter().skip(start).take(limit) {
            let Ok(kind) = i.kind.parse::<IndicatorKind>() else {
                continue;
            };
            let Ok(n) = cordon_ioc::normalize(kind, &i.value) else {
                continue;
            };
            let mine: HashSet<(Uuid, u64)> = known
                .iter()
                .filter(|s| s.indicator_id == i.id)
                .map(|s| (s.source_id, s.line))
                .collect();
            let before = mine.len() as u64;
            let scan = self.hit_scan(&access, None, &n).await?;
            let (found, new) = self.record_hits(&access, &mut i, scan, mine, "search").await?;
            outcomes.push(SearchOutcome {
                found,
                new,
                sightings: before + new,
                indicator: i,
            });
        }
        Ok(SearchPage { outcomes, total })
    }

    /// The blocklist export in `format`; private and reserved ranges are kept with a warning
    /// unless `include_special` is false (then left out, with a warning naming them). The
    /// export is audited.
    pub async fn export_indicators(
        &self,
        p: &Principal,
        raw_ref: &str,
        format: &str,
        include_special: bool,
    ) -> Result<IocExport> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let format: ExportFormat = format
            .trim()
            .to_ascii_lowercase()
            .parse()
            .map_err(|e: cordon_ioc::IocError| ServiceError::invalid("format", e.to_string()))?;
        let sightings = self.store.sightings(incident.id).await?;
        let indicators: Vec<ExportIndicator> = self
            .store
            .indicators(incident.id)
            .await?
            .into_iter()
            .filter_map(|i| {
                Some(ExportIndicator {
                    id: i.id,
                    kind: i.kind.parse().ok()?,
                    sightings: sightings.iter().filter(|s| s.indicator_id == i.id).count() as u64,
                    value: i.value,
                    special: i.special,
                    note: i.notes.join("; "),
                    first_seen: i.first_seen,
                    last_seen: i.last_seen,
                    created_at: i.created_at,
                    updated_at: i.updated_at,
                })
            })
            .collect();
        let now = self.clock.now();
        let key = incident.codename.key();
        let ctx = ExportContext {
            name: &key,
            generated_at: now,
            bundle_id: new_id(now),
            include_special,
        };
        let rendered = cordon_ioc::render(format, &ctx, &indicators);
        let payload = json!({ "format": format.as_str(), "entries": rendered.entries,
                              "warnings": rendered.warnings.len(), "include_special": include_special });
        self.store
            .append_audit(draft(
                now,
                &p.name,
                "ioc.export",
                format!("incident:{}", incident.id),
                payload,
            ))
            .await?;
        Ok(IocExport {
            file_name: format!("{key}-blocklist.{}", format.extension()),
            format,
            rendered,
        })
    }

    /// The re-attack watch, called once a timeline source is ingested: events of the new
    /// source that match an indicator become sightings (`watch`), and any match is an alert —
    /// an audit entry (`ioc.reattack`) and a page to the incident commander(s), or to the
    /// `incident-commander` policy when the incident has none. Failures are logged: the
    /// ingest itself already succeeded.
    pub(crate) async fn watch_new_source(&self, incident: Uuid, source: Uuid) {
        if let Err(e) = self.watch(incident, source).await {
            tracing::error!(error = %e, incident = %incident, "the re-attack watch failed");
        }
    }

    async fn watch(&self, incident: Uuid, source: Uuid) -> Result<()> {
        let access = self.gate_system(incident, "timeline.watch").await?;
        let incident = access.incident();
        let indicators = self.store.indicators(incident.id).await?;
        let mut matched = Vec::new();
        for mut i in indicators {
            let Ok(kind) = i.kind.parse::<IndicatorKind>() else {
                continue;
            };
            let Ok(n) = cordon_ioc::normalize(kind, &i.value) else {
                continue;
            };
            let scan = self.hit_scan(&access, Some(source), &n).await?;
            let (found, _) = self.record_hits(&access, &mut i, scan, HashSet::new(), "watch").await?;
            if found > 0 {
                matched.push(json!({ "kind": i.kind, "value": i.value, "events": found }));
            }
        }
        if matched.is_empty() {
            return Ok(());
        }
        let commanders = self.commanders_of(incident.id).await?;
        let now = self.clock.now();
        let payload = json!({ "source_id": source.to_string(), "matches": matched, "paged": commanders });
        self.store
            .append_audit(draft(
                now,
                access.actor_name(),
                "ioc.reattack",
                access.subject(),
                payload,
            ))
            .await?;
        self.page_commanders(&access, commanders, &reattack_reason(&matched))
            .await;
        Ok(())
    }
}

/// The reason a re-attack page carries: what was seen, e.g. `re-attack: ip 203.0.113.9 seen
/// in 3 new events`.
fn reattack_reason(matched: &[serde_json::Value]) -> String {
    let seen: Vec<String> = matched
        .iter()
        .map(|m| {
            let value: String = m["value"].as_str().unwrap_or_default().chars().take(120).collect();
            format!(
                "{} {} seen in {} new events",
                m["kind"].as_str().unwrap_or_default(),
                value,
                m["events"]
            )
        })
        .collect();
    let mut reason = format!("re-attack: {}", seen.join("; "));
    if reason.chars().count() > crate::paging::MAX_REASON_CHARS {
        reason = reason
            .chars()
            .take(crate::paging::MAX_REASON_CHARS - 1)
            .collect::<String>()
            + "…";
    }
    reason
}
