//! Regulatory clocks: the user records the event a law counts from; Cordon computes the
//! milestones (business days from the jurisdiction's calendar), reminds the incident commander
//! before each one, exactly once per reminder, and reports which were met or missed.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::Incident;
use cordon_core::regulatory::{self, ClockSpec, Jurisdiction, MilestoneStatus, Regime};
use cordon_store::comms::{ClockRow, MilestoneRow, ReminderRow};
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError};

/// A clock to start.
#[derive(Debug, Clone)]
pub struct StartClock {
    pub regime: String,
    pub started_at: Timestamp,
    pub jurisdiction: Option<String>,
    pub unlawful_purpose: bool,
}

/// A milestone with where it stands.
#[derive(Debug, Clone)]
pub struct MilestoneView {
    pub name: String,
    pub description: String,
    pub due: Timestamp,
    pub met_at: Option<Timestamp>,
    pub status: MilestoneStatus,
}

/// A clock with its milestones.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub clock: ClockRow,
    pub anchor: &'static str,
    pub milestones: Vec<MilestoneView>,
}

fn view(clock: ClockRow, milestones: Vec<MilestoneRow>, now: Timestamp) -> ClockView {
    ClockView {
        anchor: clock.regime.anchor(),
        clock,
        milestones: milestones
            .into_iter()
            .map(|m| MilestoneView {
                status: MilestoneStatus::of(m.due_at, m.met_at, now),
                name: m.name,
                description: m.description,
                due: m.due_at,
                met_at: m.met_at,
            })
            .collect(),
    }
}

impl Cordon {
    /// Starts a regulatory clock from the event its law names. An unknown regime or
    /// jurisdiction, or a start in the future, is refused (and audited).
    pub async fn start_clock(&self, p: &Principal, raw_ref: &str, s: StartClock) -> Result<ClockView> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let subject = format!("incident:{}", incident.id);
        let access = self
            .work_as(
                access,
                "clock.start",
                subject.clone(),
                "only the response team may start regulatory clocks",
            )
            .await?;
        let incident = access.incident();
        let now = self.clock.now();
        let spec = (|| -> Result<ClockSpec> {
            let regime: Regime = s.regime.parse()?;
            let jurisdiction = s.jurisdiction.as_deref().map(str::parse::<Jurisdiction>).transpose()?;
            Ok(ClockSpec::new(
                regime,
                s.started_at,
                jurisdiction,
                s.unlawful_purpose,
                now,
            )?)
        })();
        let spec = match spec {
            Ok(spec) => spec,
            Err(e) => return Err(self.refuse(p, "clock.start", subject, e).await),
        };
        let id = new_id(now);
        let clock = ClockRow {
            id,
            incident_id: incident.id,
            regime: spec.regime,
            started_at: spec.started_at,
            jurisdiction: spec.jurisdiction,
            unlawful_purpose: spec.unlawful_purpose,
            created_by: p.user_id,
            created_at: now,
        };
        let milestones: Vec<MilestoneRow> = regulatory::milestones(&spec)
            .into_iter()
            .map(|m| MilestoneRow {
                name: m.name.to_owned(),
                description: m.description.to_owned(),
                due_at: m.due,
                met_at: None,
            })
            .collect();
        let reminders: Vec<ReminderRow> = milestones
            .iter()
            .flat_map(|m| {
                regulatory::reminders(m.due_at, now).into_iter().map(|at| ReminderRow {
                    id: new_id(now),
                    clock_id: id,
                    milestone: m.name.clone(),
                    remind_at: at,
                })
            })
            .collect();
        let audit = draft(
            now,
            &p.name,
            "clock.start",
            format!("clock:{id}"),
            json!({
                "incident": incident.id,
                "regime": spec.regime.as_str(),
                "started_at": spec.started_at.to_string(),
                "jurisdiction": spec.jurisdiction.as_str(),
                "milestones": milestones.iter().map(|m| json!({ "name": m.name, "due": m.due_at.to_string() })).collect::<Vec<_>>(),
            }),
        );
        self.store.create_clock(&clock, &milestones, &reminders, audit).await?;
        Ok(view(clock, milestones, now))
    }

    /// The incident's clocks with their milestones' status now.
    pub async fn clocks(&self, p: &Principal, raw_ref: &str) -> Result<Vec<ClockView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        self.clock_views(incident).await
    }

    pub(crate) async fn clock_views(&self, incident: &Incident) -> Result<Vec<ClockView>> {
        let now = self.clock.now();
        Ok(self
            .store
            .clocks(incident.id)
            .await?
            .into_iter()
            .map(|(c, ms)| view(c, ms, now))
            .collect())
    }

    /// Records that a milestone was met (the notification was filed), at `at` or now.
    pub async fn meet_milestone(
        &self,
        p: &Principal,
        raw_ref: &str,
        clock_id: &str,
        name: &str,
        at: Option<Timestamp>,
    ) -> Result<ClockView> {
        let access = self.gate(p, raw_ref).await?;
        let clock_id = Uuid::parse_str(clock_id).map_err(|_| ServiceError::NotFound("clock"))?;
        let subject = format!("clock:{clock_id}");
        let access = self
            .work_as(
                access,
                "clock.milestone_met",
                subject.clone(),
                "only the response team may record filings",
            )
            .await?;
        let incident = access.incident();
        if !self
            .store
            .clocks(incident.id)
            .await?
            .iter()
            .any(|(c, _)| c.id == clock_id)
        {
            return Err(ServiceError::NotFound("clock"));
        }
        let now = self.clock.now();
        let at = at.unwrap_or(now);
        if at > now {
            return Err(ServiceError::invalid("met_at", "cannot be in the future"));
        }
        let audit = draft(
            now,
            &p.name,
            "clock.milestone_met",
            subject,
            json!({ "milestone": name, "met_at": at.to_string() }),
        );
        if !self.store.mark_milestone_met(clock_id, name, at, audit).await? {
            return Err(ServiceError::Conflict(format!(
                "milestone `{name}` was recorded as met already"
            )));
        }
        self.clock_views(incident)
            .await?
            .into_iter()
            .find(|c| c.clock.id == clock_id)
            .ok_or(ServiceError::NotFound("clock"))
    }

    /// Sends every reminder due at `now`: each is claimed once (several engines never both
    /// send it), then pages the incident's commanders — or the `incident-commander` policy
    /// when it has none. Reminders of milestones already met are dropped. Returns how many
    /// pages were triggered.
    pub async fn remind_due(&self, now: Timestamp) -> Result<usize> {
        let mut sent = 0;
        for due in self.store.due_reminders(now, 100).await? {
            let r = &due.reminder;
            let action = if due.met {
                "clock.reminder_dropped"
            } else {
                "clock.remind"
            };
            let audit = draft(
                now,
                "system",
                action,
                format!("clock:{}", r.clock_id),
                json!({ "regime": due.regime.as_str(), "milestone": r.milestone, "due": due.due_at.to_string() }),
            );
            if !self.store.claim_reminder(r.id, now, audit).await? || due.met {
                continue;
            }
            let access = match self.gate_system(due.incident_id, "clock.remind").await {
                Ok(a) => a,
                Err(ServiceError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let commanders = self.commanders_of(due.incident_id).await?;
            let why = format!(
                "regulatory reminder: {} {} due {}",
                due.regime.as_str(),
                r.milestone,
                due.due_at
            );
            sent += self.page_commanders(&access, commanders, &why).await;
        }
        Ok(sent)
    }
}
