//! The incident report (`GET …/report`, `cordon report`): everything Cordon knows about an
//! incident gathered into a plain [`cordon_report::Report`] and rendered as Markdown, HTML or
//! PDF. Its timeline of the team's own records also feeds internal communication drafts
//! (`comms.rs`).
//!
//! What the report says, section by section, is in [`document`]; times are shown in the zone
//! the reader asks for ([`ReportZone`], IANA names, UTC by default), and the configured
//! subject label ([`ReportSettings`]) heads every page.

mod document;
mod zone;

pub use zone::ReportZone;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::Incident;
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

/// How reports are labelled: the subject label (as in mail subjects) heads every report and
/// every PDF page.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub subject_label: String,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            subject_label: cordon_mail::DEFAULT_LABEL.to_owned(),
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

impl Cordon {
    /// Sets the label reports carry (default `Attorney Work Project`).
    pub fn with_reports(mut self, settings: ReportSettings) -> Self {
        self.reports = std::sync::Arc::new(settings);
        self
    }

    /// The subject label reports carry.
    pub(crate) fn report_label(&self) -> &str {
        &self.reports.subject_label
    }

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

    /// The incident report, its times in `zone`. Sealed incidents are reports only their team
    /// may read; the reading is audited.
    pub async fn incident_report(
        &self,
        p: &Principal,
        raw_ref: &str,
        format: IncidentReportFormat,
        zone: &ReportZone,
    ) -> Result<RenderedReport> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let now = self.clock.now();
        let report = self.gather_report(incident, now, zone).await?;
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
            json!({ "format": ext, "tz": zone.name() }),
        );
        self.store.append_audit(audit).await?;
        Ok(RenderedReport {
            format,
            file_name: format!("{}-report.{ext}", incident.codename.key()),
            bytes,
        })
    }
}
