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
    /// What paths take in place of the id: the regime (`gdpr`) when the incident has one
    /// clock of it, else regime and jurisdiction (`gdpr:eu`), else a short id prefix.
    pub handle: String,
    pub anchor: &'static str,
    pub milestones: Vec<MilestoneView>,
}

/// The names a clock answers to: `regime:jurisdiction` (what ambiguity answers show) and
/// the bare regime.
fn clock_names(c: &ClockRow) -> Vec<String> {
    vec![
        format!("{}:{}", c.regime.as_str(), c.jurisdiction.as_str()),
        c.regime.as_str().to_owned(),
    ]
}

/// The handle each clock is shown with: the shortest of its names that names it alone, else
/// its short id prefix.
fn clock_handles(clocks: &[ClockRow]) -> Vec<String> {
    let ids: Vec<Uuid> = clocks.iter().map(|c| c.id).collect();
    let shorts = crate::handles::short_handles(&ids);
    clocks
        .iter()
        .zip(shorts)
        .map(|(c, short)| {
            let mut names = clock_names(c);
            names.reverse();
            names
                .into_iter()
                .find(|n| clocks.iter().filter(|o| clock_names(o).contains(n)).count() == 1)
                .unwrap_or(short)
        })
        .collect()
}

/// A clock handle as typed, with its regime and jurisdiction spelled as stored (`GDPR/EU`,
/// `sec_8k` → `gdpr:eu`, `sec-8k`); anything else unchanged (an id or a prefix).
fn normalize_clock_handle(handle: &str) -> String {
    let handle = handle.trim();
    let (regime, jurisdiction) = match handle.split_once([':', '/']) {
        Some((r, j)) => (r, Some(j)),
        None => (handle, None),
    };
    let Ok(regime) = regime.parse::<Regime>() else {
        return handle.to_owned();
    };
    match jurisdiction.map(str::parse::<Jurisdiction>) {
        None => regime.as_str().to_owned(),
        Some(Ok(j)) => format!("{}:{}", regime.as_str(), j.as_str()),
        Some(Err(_)) => handle.to_owned(),
    }
}

fn view(clock: ClockRow, milestones: Vec<MilestoneRow>, now: Timestamp) -> ClockView {
    ClockView {
        handle: String::new(),
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
        self.clock_views(incident)
            .await?
            .into_iter()
            .find(|c| c.clock.id == id)
            .ok_or(ServiceError::NotFound("clock"))
    }

    /// The incident's clocks with their milestones' status now.
    pub async fn clocks(&self, p: &Principal, raw_ref: &str) -> Result<Vec<ClockView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        self.clock_views(incident).await
    }

    pub(crate) async fn clock_views(&self, incident: &Incident) -> Result<Vec<ClockView>> {
        let now = self.clock.now();
        let clocks = self.store.clocks(incident.id).await?;
        let handles = clock_handles(&clocks.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>());
        Ok(clocks
            .into_iter()
            .zip(handles)
            .map(|((c, ms), handle)| ClockView {
                handle,
                ..view(c, ms, now)
            })
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
        let clocks: Vec<ClockRow> = self
            .store
            .clocks(access.incident().id)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let handle = normalize_clock_handle(clock_id);
        let clock_id = crate::handles::resolve("clock", "id", &handle, &clocks, |c| crate::handles::Named {
            id: c.id,
            names: clock_names(c),
        })?
        .id;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(n: u128, regime: Regime, jurisdiction: Jurisdiction) -> ClockRow {
        let at: Timestamp = "2026-11-27T09:30:00Z".parse().unwrap();
        ClockRow {
            id: Uuid::from_u128(0x0193_b4e7_c2a1_7000_8000_0000_0000_0000 + n),
            incident_id: Uuid::nil(),
            regime,
            started_at: at,
            jurisdiction,
            unlawful_purpose: false,
            created_by: Uuid::nil(),
            created_at: at,
        }
    }

    #[test]
    fn a_clock_is_shown_by_the_shortest_name_that_is_its_own() {
        let clocks = [
            clock(1, Regime::Gdpr, Jurisdiction::Eu),
            clock(2, Regime::Gdpr, Jurisdiction::Uk),
            clock(3, Regime::Nis2, Jurisdiction::Eu),
            clock(4, Regime::Nis2, Jurisdiction::Eu),
            clock(5, Regime::Dora, Jurisdiction::Eu),
        ];
        assert_eq!(
            clock_handles(&clocks),
            [
                "gdpr:eu",
                "gdpr:uk",
                "0193b4e7c2a170008000000000000003",
                "0193b4e7c2a170008000000000000004",
                "dora"
            ]
        );
    }

    #[test]
    fn clock_handles_are_read_as_the_domain_spells_regimes_and_jurisdictions() {
        assert_eq!(normalize_clock_handle(" GDPR "), "gdpr");
        assert_eq!(normalize_clock_handle("sec_8k/USA"), "sec-8k:us");
        assert_eq!(normalize_clock_handle("gdpr:eea"), "gdpr:eu");
        assert_eq!(normalize_clock_handle("gdpr:mars"), "gdpr:mars");
        assert_eq!(normalize_clock_handle("0193b4e7"), "0193b4e7");
    }
}
