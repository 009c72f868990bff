//! What the incident report says, for people: a one-page executive summary in sentences
//! (what happened, when, how bad, where it stands, what is compromised, what was done, what
//! remains, the deadlines), then the team, the compromised assets, the credentials (rotated
//! and not), the systems at risk, the registers and the war-room conversation as tables. Internal names
//! (`insider_threat_ruled_out`, `in_progress`) are written as words; counts agree with their
//! nouns; every time is in the reader's zone.

use std::collections::BTreeMap;

use cordon_core::Timestamp;
use cordon_core::incident::{Incident, Status};
use cordon_core::register::CredentialState;
use cordon_core::regulatory::{Jurisdiction, MilestoneStatus, postmortem_meeting_due};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_report::{Report, Section, Table, and_list, count};
use cordon_store::room::MessageKind;
use uuid::Uuid;

use super::ReportZone;
use crate::registers::risk_view;
use crate::{Cordon, Result};

/// `insider_threat_ruled_out` → `insider threat ruled out`.
pub(crate) fn words(name: &str) -> String {
    name.replace(['_', '-'], " ")
}

/// `1200` → `1,200`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `is` or `are` for a count.
fn is_are(n: usize) -> &'static str {
    if n == 1 { "is" } else { "are" }
}

/// `was` or `were` for a count.
fn was_were(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// A regulatory regime as people write it.
fn regime_name(code: &str) -> String {
    match code {
        "sec-8k" => "SEC Form 8-K".into(),
        other => other.to_uppercase(),
    }
}

fn status_phrase(s: Status) -> &'static str {
    match s {
        Status::Triage => "in triage",
        Status::Active => "active: the response is under way",
        Status::Contained => "contained",
        Status::Resolved => "resolved",
        Status::Closed => "closed",
        Status::NotAnIncident => "closed as not an incident",
    }
}

fn task_status(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Todo => "to do",
        TaskStatus::InProgress => "in progress",
        TaskStatus::Done => "done",
        TaskStatus::Skipped => "skipped",
    }
}

/// One line of the report's timeline.
struct Event {
    at: Timestamp,
    what: String,
}

impl Cordon {
    /// The name of a user, or `None` for an unknown id.
    async fn user_name(&self, id: Uuid, cache: &mut BTreeMap<Uuid, Option<String>>) -> Result<Option<String>> {
        if let Some(name) = cache.get(&id) {
            return Ok(name.clone());
        }
        let name = self.store.user_by_id(id).await?.map(|u| u.name);
        cache.insert(id, name.clone());
        Ok(name)
    }

    pub(super) async fn gather_report(&self, incident: &Incident, now: Timestamp, zone: &ReportZone) -> Result<Report> {
        let id = incident.id;
        let tasks = self.store.tasks(id).await?;
        let members = self.store.memberships(id).await?;
        let registers = self.report_registers(incident).await?;
        let evidence = self.store.evidence_items(id).await?;
        let comms = self.store.communications(id).await?;
        let contacts = self.store.contact_log(id).await?;
        let clocks = self.clock_views(incident).await?;
        let decisions = self.store.decisions(id).await?;
        let assets = self.store.assets(id).await?;
        let moves = self.store.asset_moves(id).await?;
        let credentials = self.store.credentials(id).await?;
        let systems = self.store.systems(id).await?;
        let follow_ups = self.store.follow_up_tasks(id).await?;
        let conversation = self.store.room_log(id).await?;
        let risk = risk_view(&assets, &credentials, &systems);
        let mut names = BTreeMap::new();

        // ---- the facts everything below draws on ----
        let active: Vec<_> = members.iter().filter(|m| m.ended_at.is_none()).collect();
        let commander = active
            .iter()
            .find(|m| m.role == Role::IncidentCommander)
            .map(|m| m.user_name.clone());
        let reporter = members
            .iter()
            .find(|m| m.role == Role::Reporter)
            .map(|m| m.user_name.clone());
        let done = tasks.iter().filter(|t| t.status == TaskStatus::Done).count();
        let skipped = tasks.iter().filter(|t| t.status == TaskStatus::Skipped).count();
        let mut open: Vec<_> = tasks.iter().filter(|t| !t.status.is_finished()).collect();
        open.sort_by_key(|t| t.step);
        let compromised: Vec<_> = assets.iter().filter(|a| a.state.implies_compromise()).collect();
        let rotated: Vec<_> = credentials
            .iter()
            .filter(|c| matches!(c.state, CredentialState::Rotated | CredentialState::Revoked))
            .collect();
        let unrotated: Vec<_> = credentials
            .iter()
            .filter(|c| c.state == CredentialState::Compromised)
            .collect();
        let sent: Vec<_> = comms.iter().filter(|c| c.sent_at.is_some()).collect();
        let open_follow_ups = follow_ups.iter().filter(|t| !t.status.is_finished()).count();
        let mut pending: Vec<_> = clocks
            .iter()
            .flat_map(|c| c.milestones.iter().map(move |m| (c, m)))
            .filter(|(_, m)| m.status == MilestoneStatus::Pending)
            .collect();
        pending.sort_by_key(|(_, m)| m.due);
        let missed: Vec<_> = clocks
            .iter()
            .flat_map(|c| c.milestones.iter().map(move |m| (c, m)))
            .filter(|(_, m)| m.status == MilestoneStatus::Missed)
            .collect();
        // A deadline counted in local business days is shown in its jurisdiction's time, with
        // the reader's time beside it when that differs.
        let deadline = |j: Jurisdiction, business_days: bool, t: Timestamp| {
            if !business_days {
                return zone.minute(t);
            }
            let local = j.local(t);
            let local_text = local.strftime("%Y-%m-%d %H:%M %Z").to_string();
            if zone.same_as(local.time_zone(), t) {
                local_text
            } else {
                format!("{local_text} ({})", zone.minute(t))
            }
        };
        let resolved = matches!(incident.status, Status::Resolved | Status::Closed);
        let from = if resolved { incident.updated_at } else { now };
        let meeting_at = postmortem_meeting_due(incident.severity.level(), from, Jurisdiction::Us);
        let (rule, meeting) = if incident.severity.level() <= 1 {
            ("within 3 calendar days for SEV-1", zone.minute(meeting_at))
        } else {
            ("within 5 business days", deadline(Jurisdiction::Us, true, meeting_at))
        };

        // ---- the executive summary, in sentences ----
        let mut summary = Vec::new();
        let declared_by = reporter.map(|r| format!(" by {r}")).unwrap_or_default();
        summary.push(format!(
            "{} is a {} {} incident: {}. It was declared on {}{declared_by} and is {}. {}",
            incident.codename,
            incident.severity,
            incident.kind.as_str(),
            incident.title.trim_end_matches('.'),
            zone.spoken(incident.created_at),
            status_phrase(incident.status),
            match &commander {
                Some(c) => format!("{c} is the incident commander."),
                None => "No incident commander is assigned.".into(),
            }
        ));
        for paragraph in incident
            .description
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            summary.push(paragraph.to_owned());
        }

        let mut harm = Vec::new();
        if compromised.is_empty() {
            harm.push("No asset is recorded as compromised.".to_owned());
        } else {
            let names: Vec<_> = compromised.iter().map(|a| a.name.as_str()).collect();
            harm.push(format!(
                "{} {} known to be compromised: {}.",
                count(compromised.len(), "asset", "assets"),
                is_are(compromised.len()),
                and_list(&names)
            ));
        }
        if !rotated.is_empty() || !unrotated.is_empty() {
            let mut parts = Vec::new();
            if !unrotated.is_empty() {
                let n: Vec<_> = unrotated.iter().map(|c| c.name.as_str()).collect();
                parts.push(format!(
                    "{} exposed and not yet rotated ({})",
                    count(unrotated.len(), "credential is", "credentials are"),
                    and_list(&n)
                ));
            }
            if !rotated.is_empty() {
                let n: Vec<_> = rotated.iter().map(|c| c.name.as_str()).collect();
                parts.push(format!(
                    "{} rotated or revoked ({})",
                    count(rotated.len(), "credential was", "credentials were"),
                    and_list(&n)
                ));
            }
            let mut sentence = and_list(&parts);
            if let Some(first) = sentence.get(..1) {
                sentence = format!("{}{}.", first.to_uppercase(), &sentence[1..]);
            }
            harm.push(sentence);
        }
        if !risk.systems_at_risk.is_empty() {
            let n: Vec<_> = risk.systems_at_risk.iter().map(|s| s.system.as_str()).collect();
            harm.push(format!(
                "Until those credentials are rotated, {} {} at risk: {}.",
                count(n.len(), "system", "systems"),
                is_are(n.len()),
                and_list(&n)
            ));
        }
        if registers.exposures.is_empty() {
            harm.push("No data exposure is recorded.".into());
        } else {
            let items: Vec<_> = registers
                .exposures
                .iter()
                .map(|e| match e.records {
                    Some(r) => format!(
                        "{} ({}, {} {})",
                        e.data,
                        e.classification,
                        thousands(r),
                        if r == 1 { "record" } else { "records" }
                    ),
                    None => format!("{} ({})", e.data, e.classification),
                })
                .collect();
            harm.push(format!(
                "{} recorded: {}.",
                count(items.len(), "data exposure is", "data exposures are"),
                and_list(&items)
            ));
        }
        summary.push(harm.join(" "));

        let mut done_parts = vec![format!(
            "{done} of {} {} done{}",
            count(tasks.len(), "checklist step", "checklist steps"),
            if done == 1 { "is" } else { "are" },
            if skipped > 0 {
                format!(" and {skipped} skipped")
            } else {
                String::new()
            }
        )];
        if !evidence.is_empty() {
            done_parts.push(format!(
                "{} {} held in the evidence locker",
                count(evidence.len(), "evidence item", "evidence items"),
                is_are(evidence.len())
            ));
        }
        if !sent.is_empty() {
            let audiences: Vec<_> = sent.iter().map(|c| words(c.audience.as_str())).collect();
            done_parts.push(format!(
                "{} {} sent ({})",
                count(sent.len(), "communication", "communications"),
                was_were(sent.len()),
                and_list(&audiences)
            ));
        }
        if !contacts.is_empty() {
            done_parts.push(format!(
                "{} with outside parties {} recorded",
                count(contacts.len(), "contact", "contacts"),
                was_were(contacts.len())
            ));
        }
        summary.push(format!("So far {}.", and_list(&done_parts)));

        let mut remains = Vec::new();
        if let Some(next) = open.first() {
            remains.push(format!(
                "{} {} open, the next being step {}, “{}”",
                count(open.len(), "checklist step", "checklist steps"),
                is_are(open.len()),
                next.step,
                next.title
            ));
        }
        if !unrotated.is_empty() {
            remains.push(format!(
                "{} to rotate",
                count(unrotated.len(), "credential", "credentials")
            ));
        }
        if open_follow_ups > 0 {
            remains.push(format!(
                "{} open",
                count(open_follow_ups, "follow-up task is", "follow-up tasks are")
            ));
        }
        summary.push(if remains.is_empty() {
            "Nothing remains open on the checklist.".into()
        } else {
            format!("What remains: {}.", remains.join("; "))
        });

        let mut deadlines = Vec::new();
        if let Some((c, m)) = pending.first() {
            deadlines.push(format!(
                "The next regulatory deadline is {} — {} — due {}.",
                regime_name(c.clock.regime.as_str()),
                m.description.trim_end_matches('.'),
                deadline(c.clock.jurisdiction, c.clock.regime.counts_business_days(), m.due)
            ));
            if pending.len() > 1 {
                deadlines.push(format!(
                    "{} more {} pending.",
                    count(pending.len() - 1, "deadline", "deadlines"),
                    is_are(pending.len() - 1)
                ));
            }
        } else if clocks.is_empty() {
            deadlines.push("No regulatory clock is running.".into());
        } else {
            deadlines.push("No regulatory deadline is pending.".into());
        }
        if !missed.is_empty() {
            let items: Vec<_> = missed
                .iter()
                .map(|(c, m)| format!("{} {}", regime_name(c.clock.regime.as_str()), words(&m.name)))
                .collect();
            deadlines.push(format!(
                "{} {} missed: {}.",
                count(missed.len(), "deadline", "deadlines"),
                was_were(missed.len()),
                and_list(&items)
            ));
        }
        deadlines.push(format!("The postmortem meeting is due by {meeting}, {rule}."));
        summary.push(deadlines.join(" "));

        // ---- the timeline ----
        let mut events = vec![Event {
            at: incident.created_at,
            what: format!("Incident declared ({})", incident.severity),
        }];
        for d in &decisions {
            let note = if d.note.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", d.note.trim())
            };
            events.push(Event {
                at: d.decided_at,
                what: format!(
                    "Decision recorded by {}: {} — {}{note}",
                    d.decided_by_name,
                    words(&d.name),
                    if d.value { "yes" } else { "no" }
                ),
            });
        }
        for t in tasks.iter().filter(|t| t.status.is_finished()) {
            events.push(Event {
                at: t.updated_at,
                what: format!("Step {} {}: {}", t.step, task_status(t.status), t.title),
            });
        }
        let asset_names: BTreeMap<Uuid, &str> = assets.iter().map(|a| (a.id, a.name.as_str())).collect();
        for m in &moves {
            let name = asset_names.get(&m.asset_id).copied().unwrap_or("an asset");
            let what = match m.from {
                None => format!("Asset {name} recorded as {} by {}", m.to.as_str(), m.by_name),
                Some(from) => format!("Asset {name}: {} → {} by {}", from.as_str(), m.to.as_str(), m.by_name),
            };
            events.push(Event { at: m.at, what });
        }
        for c in &rotated {
            events.push(Event {
                at: c.updated_at,
                what: format!("Credential {} {}", c.name, c.state.as_str()),
            });
        }
        for c in &contacts {
            events.push(Event {
                at: c.at,
                what: format!("Contacted {} ({})", c.name, words(c.party.as_str())),
            });
        }
        for c in &sent {
            if let Some(at) = c.sent_at {
                events.push(Event {
                    at,
                    what: format!("Communication sent to {}: {}", words(c.audience.as_str()), c.title),
                });
            }
        }
        events.sort_by_key(|e| e.at);

        // ---- the sections ----
        // One row per person and term: their roles (command first), since, until.
        let mut team: Vec<_> = members.iter().collect();
        team.sort_by_key(|m| {
            (
                m.ended_at.is_some(),
                Role::ALL.iter().position(|r| *r == m.role),
                m.started_at,
            )
        });
        let mut team_rows: Vec<Vec<String>> = Vec::new();
        let mut row_of: BTreeMap<(String, Option<Timestamp>), usize> = BTreeMap::new();
        for m in team {
            match row_of.get(&(m.user_name.clone(), m.ended_at)) {
                Some(&i) => {
                    let row = &mut team_rows[i];
                    row[1] = format!("{}, {}", row[1], m.role.title());
                }
                None => {
                    row_of.insert((m.user_name.clone(), m.ended_at), team_rows.len());
                    team_rows.push(vec![
                        m.user_name.clone(),
                        m.role.title().to_owned(),
                        zone.minute(m.started_at),
                        m.ended_at.map(|t| zone.minute(t)).unwrap_or_default(),
                    ]);
                }
            }
        }
        let last_move: BTreeMap<Uuid, Timestamp> = moves.iter().map(|m| (m.asset_id, m.at)).collect();
        let others: Vec<_> = assets
            .iter()
            .filter(|a| !a.state.implies_compromise())
            .map(|a| format!("{} ({})", a.name, a.state.as_str()))
            .collect();
        let mut credential_rows: Vec<_> = credentials.iter().collect();
        credential_rows.sort_by_key(|c| {
            (
                match c.state {
                    CredentialState::Compromised => 0,
                    CredentialState::Unaffected => 1,
                    CredentialState::Rotated | CredentialState::Revoked => 2,
                },
                c.name.clone(),
            )
        });
        let mut rotation_of: BTreeMap<Uuid, String> = BTreeMap::new();
        for t in &follow_ups {
            let Some(cid) = t.credential_id else { continue };
            let who = match t.assignee {
                Some(u) => self.user_name(u, &mut names).await?,
                None => t.owner_role.map(|r| r.title().to_owned()),
            };
            let line = match who {
                Some(w) => format!("{} ({w})", task_status(t.status)),
                None => task_status(t.status).to_owned(),
            };
            rotation_of
                .entry(cid)
                .and_modify(|s| {
                    s.push_str(", ");
                    s.push_str(&line);
                })
                .or_insert(line);
        }
        let mut checklist = Vec::new();
        for t in &tasks {
            let assignee = match t.assignee {
                Some(u) => self.user_name(u, &mut names).await?.unwrap_or_default(),
                None => String::new(),
            };
            let mut note = String::new();
            if let Some(r) = &t.override_reason {
                note = format!("gate overridden: {r}");
            }
            let owner = if assignee.is_empty() {
                t.owner_role.title().to_owned()
            } else {
                format!("{assignee} ({})", t.owner_role.title())
            };
            checklist.push(vec![
                t.step.to_string(),
                t.title.clone(),
                task_status(t.status).to_owned(),
                owner,
                note,
            ]);
        }
        let kind_of: BTreeMap<Uuid, &str> = credentials.iter().map(|c| (c.id, c.kind.as_str())).collect();
        for t in &follow_ups {
            // Titles name the credential in a code span and its kind by code: words here.
            let mut title = t.title.replace('`', "");
            if let Some(kind) = t.credential_id.and_then(|c| kind_of.get(&c)) {
                title = title.replace(kind, &words(kind));
            }
            let owner = match t.assignee {
                Some(u) => self.user_name(u, &mut names).await?.unwrap_or_default(),
                None => t.owner_role.map(|r| r.title().to_owned()).unwrap_or_default(),
            };
            checklist.push(vec![
                format!("{} (follow-up)", t.parent_step),
                title,
                task_status(t.status).to_owned(),
                owner,
                String::new(),
            ]);
        }

        let sections = vec![
            Section {
                heading: "Executive summary".into(),
                paragraphs: summary,
                ..Section::default()
            },
            Section {
                heading: "Team".into(),
                table: Some(Table::new(&["Name", "Role", "Since", "Until"], team_rows)),
                empty: "Nobody is on the team.".into(),
                ..Section::default()
            },
            Section {
                heading: "Compromised assets".into(),
                paragraphs: if others.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "Also tracked, not known to be compromised: {}.",
                        others.join(", ")
                    )]
                },
                table: Some(Table::new(
                    &["Asset", "Kind", "Address", "State", "Since"],
                    compromised
                        .iter()
                        .map(|a| {
                            vec![
                                a.name.clone(),
                                a.kind.as_str().to_owned(),
                                a.address.clone().unwrap_or_default(),
                                a.state.as_str().to_owned(),
                                last_move.get(&a.id).map(|t| zone.minute(*t)).unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )),
                empty: "No asset is recorded as compromised.".into(),
                ..Section::default()
            },
            Section {
                heading: "Credentials".into(),
                paragraphs: if credentials.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "{} rotated or revoked; {} still to rotate.",
                        count(rotated.len(), "credential", "credentials"),
                        unrotated.len()
                    )]
                },
                table: Some(Table::new(
                    &["Credential", "Kind", "State", "Stored on", "Grants", "Rotation"],
                    credential_rows
                        .iter()
                        .map(|c| {
                            vec![
                                c.name.clone(),
                                words(c.kind.as_str()),
                                match c.state {
                                    CredentialState::Compromised => "not rotated".to_owned(),
                                    s => s.as_str().to_owned(),
                                },
                                c.stored_on.join(", "),
                                c.grants.join(", "),
                                rotation_of.get(&c.id).cloned().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )),
                empty: "No credentials recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Systems at risk".into(),
                table: Some(Table::new(
                    &["System", "Owner", "Through credentials", "Assets at risk"],
                    risk.systems_at_risk
                        .iter()
                        .map(|s| {
                            vec![
                                s.system.clone(),
                                s.owner.clone().unwrap_or_default(),
                                s.via.join(", "),
                                s.assets_at_risk.join(", "),
                            ]
                        })
                        .collect(),
                )),
                empty: "No system is at risk through an unrotated credential.".into(),
                ..Section::default()
            },
            Section {
                heading: "Timeline".into(),
                table: Some(Table::new(
                    &["Time", "Event"],
                    events.iter().map(|e| vec![zone.minute(e.at), e.what.clone()]).collect(),
                )),
                empty: "No events recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Actions and task outcomes".into(),
                table: Some(Table::new(&["Step", "Task", "Status", "Owner", "Note"], checklist)),
                empty: "No checklist.".into(),
                ..Section::default()
            },
            Section {
                heading: "Exposures".into(),
                table: Some(Table::new(
                    &["Data", "Classification", "Records", "Customers"],
                    registers
                        .exposures
                        .iter()
                        .map(|e| {
                            vec![
                                e.data.clone(),
                                e.classification.clone(),
                                e.records.map(thousands).unwrap_or_default(),
                                e.customers.join(", "),
                            ]
                        })
                        .collect(),
                )),
                empty: "No exposures recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Indicators".into(),
                table: Some(Table::new(
                    &["Kind", "Value", "Note"],
                    registers
                        .indicators
                        .iter()
                        .map(|i| vec![words(&i.kind), i.value.clone(), i.note.clone()])
                        .collect(),
                )),
                empty: "No indicators recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Evidence".into(),
                paragraphs: if evidence.is_empty() {
                    Vec::new()
                } else {
                    vec!["Each item's chain of custody is in its own custody report (cordon evidence custody).".into()]
                },
                table: Some(Table::new(
                    &["Item", "Size", "SHA-256", "Acquired by", "Received"],
                    evidence
                        .iter()
                        .map(|e| {
                            vec![
                                e.name.clone(),
                                crate::evidence::format_size(e.size),
                                e.sha256.clone(),
                                e.acquired_by.clone(),
                                zone.minute(e.created_at),
                            ]
                        })
                        .collect(),
                )),
                empty: "No evidence held.".into(),
                ..Section::default()
            },
            Section {
                heading: "Communications sent".into(),
                table: Some(Table::new(
                    &["Sent", "Audience", "Title", "Channel", "Approved by"],
                    sent.iter()
                        .filter_map(|c| {
                            let at = c.sent_at?;
                            let approvals: Vec<String> = c
                                .approvals
                                .iter()
                                .map(|a| format!("{} ({})", a.user_name, a.role.title()))
                                .collect();
                            Some(vec![
                                zone.minute(at),
                                words(c.audience.as_str()),
                                c.title.clone(),
                                c.channel.clone().unwrap_or_default(),
                                approvals.join(", "),
                            ])
                        })
                        .collect(),
                )),
                empty: "No communications sent.".into(),
                ..Section::default()
            },
            Section {
                heading: "Contacts with outside parties".into(),
                table: Some(Table::new(
                    &["When", "Party", "Name", "Reference", "Outcome"],
                    contacts
                        .iter()
                        .map(|c| {
                            vec![
                                zone.minute(c.at),
                                words(c.party.as_str()),
                                c.name.clone(),
                                c.reference.clone().unwrap_or_default(),
                                c.outcome.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )),
                empty: "No contacts recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Regulatory milestones".into(),
                table: Some(Table::new(
                    &["Regime", "Milestone", "Due", "Status", "Met"],
                    clocks
                        .iter()
                        .flat_map(|c| {
                            c.milestones.iter().map(|m| {
                                vec![
                                    regime_name(c.clock.regime.as_str()),
                                    m.description.clone(),
                                    deadline(c.clock.jurisdiction, c.clock.regime.counts_business_days(), m.due),
                                    m.status.as_str().to_owned(),
                                    m.met_at.map(|t| zone.minute(t)).unwrap_or_default(),
                                ]
                            })
                        })
                        .collect(),
                )),
                empty: "No regulatory clocks started.".into(),
                ..Section::default()
            },
            Section {
                heading: "War-room conversation".into(),
                table: Some(Table::new(
                    &["When", "Who", "Message"],
                    conversation
                        .iter()
                        .map(|m| {
                            let who = match (&m.author_name, m.kind) {
                                (Some(name), MessageKind::Command) => format!("{name} (command)"),
                                (Some(name), _) => name.clone(),
                                (None, _) => "Cordon (reply)".into(),
                            };
                            vec![zone.minute(m.created_at), who, m.body.clone()]
                        })
                        .collect(),
                )),
                empty: "Nothing was said in the war room.".into(),
                ..Section::default()
            },
            Section {
                heading: "Postmortem".into(),
                paragraphs: vec![
                    format!("Meeting due by {meeting}, {rule}."),
                    "Owner: (assign)".into(),
                    "Summary: what happened, in two or three sentences.".into(),
                    "What went well.".into(),
                    "What went wrong, and why (blameless: systems and decisions, not people).".into(),
                    "Where we got lucky.".into(),
                    "Action items: each with an owner and a due date.".into(),
                ],
                ..Section::default()
            },
        ];
        let label = self.report_label().to_owned();
        Ok(Report {
            title: format!("Incident report: {}", incident.codename),
            label,
            kind: "Incident report".into(),
            facts: vec![
                ("Codename".into(), incident.codename.to_string()),
                ("Title".into(), incident.title.clone()),
                ("Severity".into(), incident.severity.to_string()),
                ("Status".into(), words(incident.status.as_str())),
                ("Declared".into(), zone.minute(incident.created_at)),
                (
                    "Incident commander".into(),
                    commander.unwrap_or_else(|| "none assigned".into()),
                ),
                ("Generated".into(), zone.minute(now)),
                ("Times in".into(), zone.name().to_owned()),
            ],
            sections,
            footer: format!("{} · generated {}", incident.codename, zone.minute(now)),
            generated_unix: now.as_second(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_read_as_words() {
        assert_eq!(words("insider_threat_ruled_out"), "insider threat ruled out");
        assert_eq!(thousands(1200), "1,200");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(regime_name("sec-8k"), "SEC Form 8-K");
        assert_eq!(regime_name("gdpr"), "GDPR");
    }
}
