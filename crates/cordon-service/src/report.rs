//! The incident report (`GET …/report`, `cordon report`): everything Cordon knows about an
//! incident gathered into a plain [`cordon_report::Report`] and rendered as Markdown, HTML or
//! PDF. Its timeline of the team's own records also feeds internal communication drafts
//! (`comms.rs`).

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::{Incident, Status};
use cordon_core::regulatory::{Jurisdiction, postmortem_meeting_due};
use cordon_core::task::TaskStatus;
use cordon_report::{Report, Section, Table};
use serde_json::json;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError};

/// The format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentReportFormat {
    Markdown,
    Html,
    Pdf,
}

impl std::str::FromStr for IncidentReportFormat {
    type Err = ServiceError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "md" | "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            "pdf" => Ok(Self::Pdf),
            other => Err(ServiceError::invalid(
                "format",
                format!("`{other}`: expected md, html or pdf"),
            )),
        }
    }
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct RenderedReport {
    pub format: IncidentReportFormat,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One exposure from the exposure register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureFact {
    pub data: String,
    pub classification: String,
    pub records: Option<u64>,
    pub customers: Vec<String>,
}

/// One indicator from the indicator register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorFact {
    pub kind: String,
    pub value: String,
    pub note: String,
}

/// What the registers of issue 6 (assets, indicators, exposures) hold for an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFacts {
    pub exposures: Vec<ExposureFact>,
    pub indicators: Vec<IndicatorFact>,
}

/// One line of the incident's own timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub what: String,
}

fn minute(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A deadline the law counts in local business days, in the jurisdiction's own time.
fn local_minute(j: Jurisdiction, t: Timestamp) -> String {
    j.local(t).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

impl Cordon {
    /// The incident's exposures and indicators from the registers (issue 6).
    pub(crate) async fn report_registers(&self, incident: &Incident) -> Result<RegisterFacts> {
        let exposures = self
            .store
            .exposures(incident.id)
            .await?
            .into_iter()
            .map(|e| ExposureFact {
                data: e.data,
                classification: e.classification.as_str().to_owned(),
                records: e.records,
                customers: e.customers,
            })
            .collect();
        let indicators = self
            .store
            .indicators(incident.id)
            .await?
            .into_iter()
            .map(|i| IndicatorFact {
                kind: i.kind,
                value: i.value,
                note: i.notes.join("; "),
            })
            .collect();
        Ok(RegisterFacts { exposures, indicators })
    }

    /// Key events: the declaration, decisions, finished checklist steps, contacts made and
    /// communications sent, in time order.
    pub(crate) async fn incident_timeline(&self, incident: &Incident) -> Result<Vec<TimelineEntry>> {
        let mut out = vec![TimelineEntry {
            at: incident.created_at,
            what: format!("Incident declared ({})", incident.severity),
        }];
        for d in self.store.decisions(incident.id).await? {
            out.push(TimelineEntry {
                at: d.decided_at,
                what: format!("Decision `{}` = {} by {}", d.name, d.value, d.decided_by_name),
            });
        }
        for t in self.store.tasks(incident.id).await? {
            if t.status.is_finished() {
                out.push(TimelineEntry {
                    at: t.updated_at,
                    what: format!("Step {} {}: {}", t.step, t.status.as_str(), t.title),
                });
            }
        }
        for c in self.store.contact_log(incident.id).await? {
            out.push(TimelineEntry {
                at: c.at,
                what: format!("Contacted {} ({})", c.name, c.party),
            });
        }
        for c in self.store.communications(incident.id).await? {
            if let Some(at) = c.sent_at {
                out.push(TimelineEntry {
                    at,
                    what: format!("{} communication sent: {}", c.audience, c.title),
                });
            }
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    /// The incident report. Sealed incidents are reports only their team may read; the
    /// reading is audited.
    pub async fn incident_report(
        &self,
        p: &Principal,
        raw_ref: &str,
        format: IncidentReportFormat,
    ) -> Result<RenderedReport> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let now = self.clock.now();
        let report = self.gather_report(incident, now).await?;
        let (bytes, ext) = match format {
            IncidentReportFormat::Markdown => (cordon_report::markdown(&report).into_bytes(), "md"),
            IncidentReportFormat::Html => (cordon_report::html(&report).into_bytes(), "html"),
            // Font subsetting and layout are CPU work: off the async workers.
            IncidentReportFormat::Pdf => (
                tokio::task::spawn_blocking(move || cordon_report::pdf(&report))
                    .await
                    .map_err(|e| ServiceError::Report(format!("PDF worker failed: {e}")))?
                    .map_err(|e| ServiceError::Report(e.to_string()))?,
                "pdf",
            ),
        };
        let audit = draft(
            now,
            &p.name,
            "incident.report",
            format!("incident:{}", incident.id),
            json!({ "format": ext }),
        );
        self.store.append_audit(audit).await?;
        Ok(RenderedReport {
            format,
            file_name: format!("{}-report.{ext}", incident.codename.key()),
            bytes,
        })
    }

    async fn gather_report(&self, incident: &Incident, now: Timestamp) -> Result<Report> {
        let id = incident.id;
        let tasks = self.store.tasks(id).await?;
        let members = self.store.memberships(id).await?;
        let registers = self.report_registers(incident).await?;
        let evidence = self.store.evidence_items(id).await?;
        let custody = self.store.incident_custody(id).await?;
        let comms = self.store.communications(id).await?;
        let contacts = self.store.contact_log(id).await?;
        let clocks = self.clock_views(incident).await?;
        let timeline = self.incident_timeline(incident).await?;

        let done = tasks.iter().filter(|t| t.status == TaskStatus::Done).count();
        let commander = members
            .iter()
            .filter(|m| m.role == cordon_core::role::Role::IncidentCommander && m.ended_at.is_none())
            .map(|m| m.user_name.clone())
            .next()
            .unwrap_or_else(|| "none assigned".into());
        let missed = clocks
            .iter()
            .flat_map(|c| &c.milestones)
            .filter(|m| m.status == cordon_core::regulatory::MilestoneStatus::Missed)
            .count();
        let sent = comms.iter().filter(|c| c.sent_at.is_some()).count();
        let mut summary = vec![format!(
            "{} ({}) is a {} {} incident, declared {}, now {}. Incident commander: {commander}.",
            incident.codename,
            incident.title,
            incident.severity,
            incident.kind.as_str(),
            minute(incident.created_at),
            incident.status.as_str()
        )];
        summary.push(format!(
            "{done} of {} checklist steps are done; {} evidence items are held; {} exposures and {} indicators are recorded; {sent} communications were sent; {} regulatory milestones are tracked, {missed} missed.",
            tasks.len(),
            evidence.len(),
            registers.exposures.len(),
            registers.indicators.len(),
            clocks.iter().map(|c| c.milestones.len()).sum::<usize>(),
        ));
        if !incident.description.is_empty() {
            summary.push(incident.description.clone());
        }

        let resolved = matches!(incident.status, Status::Resolved | Status::Closed);
        let from = if resolved { incident.updated_at } else { now };
        let meeting = postmortem_meeting_due(incident.severity.level(), from, Jurisdiction::Us);
        let (rule, meeting) = if incident.severity.level() <= 1 {
            ("within 3 calendar days for SEV-1", minute(meeting))
        } else {
            ("within 5 business days", local_minute(Jurisdiction::Us, meeting))
        };

        let table = |headers: &[&str], rows: Vec<Vec<String>>| {
            Some(Table {
                headers: headers.iter().map(|h| h.to_string()).collect(),
                rows,
            })
        };
        let sections = vec![
            Section {
                heading: "Executive summary".into(),
                paragraphs: summary,
                ..Section::default()
            },
            Section {
                heading: "Timeline".into(),
                table: table(
                    &["time", "event"],
                    timeline.iter().map(|e| vec![minute(e.at), e.what.clone()]).collect(),
                ),
                empty: "No events recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Actions and task outcomes".into(),
                table: table(
                    &["step", "task", "status", "owner", "note"],
                    tasks
                        .iter()
                        .map(|t| {
                            vec![
                                t.step.to_string(),
                                t.title.clone(),
                                t.status.as_str().to_owned(),
                                t.owner_role.title().to_owned(),
                                t.override_reason
                                    .as_ref()
                                    .map(|r| format!("gate overridden: {r}"))
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect(),
                ),
                empty: "No checklist.".into(),
                ..Section::default()
            },
            Section {
                heading: "Exposures".into(),
                table: table(
                    &["data", "classification", "records", "customers"],
                    registers
                        .exposures
                        .iter()
                        .map(|e| {
                            vec![
                                e.data.clone(),
                                e.classification.clone(),
                                e.records.map(|r| r.to_string()).unwrap_or_default(),
                                e.customers.join(", "),
                            ]
                        })
                        .collect(),
                ),
                empty: "No exposures recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Indicators".into(),
                table: table(
                    &["kind", "value", "note"],
                    registers
                        .indicators
                        .iter()
                        .map(|i| vec![i.kind.clone(), i.value.clone(), i.note.clone()])
                        .collect(),
                ),
                empty: "No indicators recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Evidence".into(),
                table: table(
                    &["item", "size", "sha256", "blake3", "custody"],
                    evidence
                        .iter()
                        .map(|e| {
                            let chain: Vec<String> = custody
                                .iter()
                                .filter(|c| c.item_id == e.id)
                                .map(|c| format!("{} {} by {} (audit #{})", minute(c.at), c.kind, c.actor, c.audit_seq))
                                .collect();
                            vec![
                                e.name.clone(),
                                format!("{} bytes", e.size),
                                e.sha256.clone(),
                                e.blake3.clone(),
                                chain.join("; "),
                            ]
                        })
                        .collect(),
                ),
                empty: "No evidence held.".into(),
                ..Section::default()
            },
            Section {
                heading: "Communications sent".into(),
                table: table(
                    &["sent", "audience", "title", "channel", "approved by"],
                    comms
                        .iter()
                        .filter_map(|c| {
                            let at = c.sent_at?;
                            let approvals: Vec<String> = c
                                .approvals
                                .iter()
                                .map(|a| format!("{} ({})", a.user_name, a.role.as_str()))
                                .collect();
                            Some(vec![
                                minute(at),
                                c.audience.as_str().to_owned(),
                                c.title.clone(),
                                c.channel.clone().unwrap_or_default(),
                                approvals.join(", "),
                            ])
                        })
                        .collect(),
                ),
                empty: "No communications sent.".into(),
                ..Section::default()
            },
            Section {
                heading: "Contacts with outside parties".into(),
                table: table(
                    &["when", "party", "name", "reference", "outcome"],
                    contacts
                        .iter()
                        .map(|c| {
                            vec![
                                minute(c.at),
                                c.party.as_str().to_owned(),
                                c.name.clone(),
                                c.reference.clone().unwrap_or_default(),
                                c.outcome.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                ),
                empty: "No contacts recorded.".into(),
                ..Section::default()
            },
            Section {
                heading: "Regulatory milestones".into(),
                table: table(
                    &["regime", "milestone", "due", "status", "met"],
                    clocks
                        .iter()
                        .flat_map(|c| {
                            c.milestones.iter().map(|m| {
                                vec![
                                    c.clock.regime.as_str().to_owned(),
                                    m.name.clone(),
                                    if c.clock.regime.counts_business_days() {
                                        local_minute(c.clock.jurisdiction, m.due)
                                    } else {
                                        minute(m.due)
                                    },
                                    m.status.as_str().to_owned(),
                                    m.met_at.map(minute).unwrap_or_default(),
                                ]
                            })
                        })
                        .collect(),
                ),
                empty: "No regulatory clocks started.".into(),
                ..Section::default()
            },
            Section {
                heading: "Postmortem".into(),
                paragraphs: vec![
                    format!("Meeting due by {meeting} ({rule})."),
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
        Ok(Report {
            title: format!("Incident report: {}", incident.codename),
            facts: vec![
                ("Codename".into(), incident.codename.to_string()),
                ("Title".into(), incident.title.clone()),
                ("Severity".into(), incident.severity.to_string()),
                ("Status".into(), incident.status.as_str().into()),
                ("Declared".into(), minute(incident.created_at)),
                ("Generated".into(), minute(now)),
            ],
            sections,
            footer: format!(
                "Attorney Work Project · {} · generated {}",
                incident.codename,
                minute(now)
            ),
            generated_unix: now.as_second(),
        })
    }
}
