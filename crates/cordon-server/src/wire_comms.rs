//! Communications, templates, the contact log and regulatory clocks as the API's bodies.

use cordon_api::comms::{
    ApprovalOut, ClockOut, CommunicationOut, ContactLogOut, FindingOut, LintOverrideOut, MilestoneOut, TemplateOut,
};
use cordon_service::comms::{CommunicationView, FindingView, LintOverride};
use cordon_service::regulatory::ClockView;
use cordon_store::comms::{ContactRow, TemplateRow};

use crate::wire::{FromService, IntoWire};

/// A finding, and whether the incident commander's override covers it.
fn finding(f: FindingView, o: Option<&LintOverride>) -> FindingOut {
    let overridden =
        f.is_error() && o.is_some_and(|o| o.findings.iter().any(|x| x.rule == f.rule && x.message == f.message));
    FindingOut {
        rule: f.rule,
        severity: f.severity,
        message: f.message,
        overridden,
    }
}

impl FromService<LintOverride> for LintOverrideOut {
    fn from_service(o: LintOverride) -> Self {
        let mut rules: Vec<String> = o.findings.into_iter().map(|f| f.rule).collect();
        rules.dedup();
        Self {
            reason: o.reason,
            by: o.by,
            at: o.at,
            during: o.during,
            rules,
        }
    }
}

impl FromService<CommunicationView> for CommunicationOut {
    fn from_service(v: CommunicationView) -> Self {
        let r = v.row;
        Self {
            id: r.id,
            audience: r.audience.as_str().to_owned(),
            title: r.title,
            body: r.body,
            recipients: v.recipients,
            third_parties_public: r.third_parties_public,
            status: r.status.as_str().to_owned(),
            findings: v
                .findings
                .into_iter()
                .map(|f| finding(f, v.lint_override.as_ref()))
                .collect(),
            blocking_findings: {
                let mut rules: Vec<String> = v.blocking.into_iter().map(|f| f.rule).collect();
                rules.dedup();
                rules
            },
            lint_override: v.lint_override.map(IntoWire::into_wire),
            approvals: r
                .approvals
                .into_iter()
                .map(|a| ApprovalOut {
                    role: a.role.as_str().to_owned(),
                    user: a.user_name,
                    at: a.at,
                })
                .collect(),
            missing_approvals: v.missing_approvals.iter().map(|r| r.as_str().to_owned()).collect(),
            blocked_by: v.blocked_by.into_iter().map(|g| g.name).collect(),
            published: r.channel.as_deref() == Some("published"),
            channel: r.channel,
            sent_at: r.sent_at,
            sent_by: r.sent_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl FromService<TemplateRow> for TemplateOut {
    fn from_service(t: TemplateRow) -> Self {
        Self {
            name: t.name,
            audience: t.audience.as_str().to_owned(),
            title: t.title,
            body: t.body,
            updated_by: t.updated_by,
        }
    }
}

impl FromService<ContactRow> for ContactLogOut {
    fn from_service(c: ContactRow) -> Self {
        Self {
            id: c.id,
            step: c.party.step(),
            party: c.party.as_str().to_owned(),
            name: c.name,
            at: c.at,
            reference: c.reference,
            outcome: c.outcome,
            task_id: c.task_id,
        }
    }
}

impl FromService<ClockView> for ClockOut {
    fn from_service(v: ClockView) -> Self {
        use cordon_core::regulatory::MilestoneStatus;
        let zone = v.clock.jurisdiction;
        let local = v.clock.regime.counts_business_days();
        Self {
            id: v.clock.id,
            handle: v.handle,
            regime: v.clock.regime.as_str().to_owned(),
            anchor: v.anchor.to_owned(),
            started_at: v.clock.started_at,
            jurisdiction: v.clock.jurisdiction.as_str().to_owned(),
            milestones: v
                .milestones
                .into_iter()
                .map(|m| MilestoneOut {
                    status: m.status.as_str().to_owned(),
                    met: m.status == MilestoneStatus::Met,
                    missed: m.status == MilestoneStatus::Missed,
                    name: m.name,
                    description: m.description,
                    // RFC 3339 offsets are whole minutes; a zone's local mean time of long ago
                    // is not (`-00:01:15`), and then the instant is given in UTC.
                    due: if local && zone.local(m.due).offset().seconds() % 60 == 0 {
                        zone.local(m.due).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
                    } else {
                        m.due.to_string()
                    },
                    due_date: zone.local(m.due).date().to_string(),
                    met_at: m.met_at,
                })
                .collect(),
        }
    }
}
