//! Request and response bodies of communications, the contact log, regulatory clocks and
//! templates. Unknown fields are rejected.

use cordon_core::Timestamp;
use cordon_service::comms::{CommunicationView, FindingView, LintOverride};
use cordon_service::regulatory::ClockView;
use cordon_store::comms::{ContactRow, TemplateRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommunication {
    /// `internal`, `external`, `customer_security`, `law_enforcement`, `regulator`, `insurer`, `vendor`.
    pub audience: String,
    /// With `body`: the message as written. Without: a template fills what is missing.
    pub title: Option<String>,
    pub body: Option<String>,
    /// A template name (default: the audience's own) to prefill from the incident.
    pub template: Option<String>,
    /// Cordon user names or mail addresses; empty: recorded as sent by other means.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Third parties named in the message have already disclosed their part.
    #[serde(default)]
    pub third_parties_public: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCommunication {
    pub title: Option<String>,
    pub body: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub third_parties_public: Option<bool>,
}

/// Approving or sending: the body may be left out.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CommunicationAction {
    /// The incident commander's reason to approve or send despite error findings (recorded on
    /// the message and audited). Refused from anyone else, and when there is nothing to
    /// override.
    pub override_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOut {
    pub rule: String,
    /// `error` or `warning`. An error holds the message back unless overridden.
    pub severity: String,
    pub message: String,
    /// An error finding the incident commander's override covers.
    pub overridden: bool,
}

impl FindingOut {
    fn of(f: FindingView, o: Option<&LintOverride>) -> Self {
        let overridden =
            f.is_error() && o.is_some_and(|o| o.findings.iter().any(|x| x.rule == f.rule && x.message == f.message));
        Self {
            rule: f.rule,
            severity: f.severity,
            message: f.message,
            overridden,
        }
    }
}

/// The incident commander's override of error findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct LintOverrideOut {
    pub reason: String,
    /// The incident commander who gave it.
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `approve` or `send`.
    pub during: String,
    /// The rules of the error findings it covers.
    pub rules: Vec<String>,
}

impl From<LintOverride> for LintOverrideOut {
    fn from(o: LintOverride) -> Self {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalOut {
    pub role: String,
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunicationOut {
    pub id: Uuid,
    pub audience: String,
    pub title: String,
    pub body: String,
    pub recipients: Vec<String>,
    pub third_parties_public: bool,
    /// `draft`, `approved`, `sent`.
    pub status: String,
    pub findings: Vec<FindingOut>,
    /// Rules of the error findings that hold the message back: approving and sending answer
    /// 409 `lint_errors` while any is left, unless the incident commander overrides.
    pub blocking_findings: Vec<String>,
    /// The incident commander's override of error findings, if any (an edit clears it).
    pub lint_override: Option<LintOverrideOut>,
    pub approvals: Vec<ApprovalOut>,
    /// Roles whose approval is still needed.
    pub missing_approvals: Vec<String>,
    /// Names of the unmet gates the message waits for.
    pub blocked_by: Vec<String>,
    /// `published`, `mail` or `recorded`, once sent.
    pub channel: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    pub sent_by: Option<String>,
    /// True once an external notice is published.
    pub published: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<CommunicationView> for CommunicationOut {
    fn from(v: CommunicationView) -> Self {
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
                .map(|f| FindingOut::of(f, v.lint_override.as_ref()))
                .collect(),
            blocking_findings: {
                let mut rules: Vec<String> = v.blocking.into_iter().map(|f| f.rule).collect();
                rules.dedup();
                rules
            },
            lint_override: v.lint_override.map(Into::into),
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTemplate {
    pub audience: String,
    /// A minijinja template of the title.
    pub title: String,
    /// A minijinja template of the body. Every audience sees `today`, `audience`, `incident`,
    /// `compromised`, `timeline`, `exposures`, `mitigations` and `actions`; some `indicators`;
    /// `internal` alone also `decisions`, `contacts`, `team` and `steps_done`
    /// (docs/communications-rules.md).
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub name: String,
    pub audience: String,
    pub title: String,
    pub body: String,
    pub updated_by: String,
}

impl From<TemplateRow> for TemplateOut {
    fn from(t: TemplateRow) -> Self {
        Self {
            name: t.name,
            audience: t.audience.as_str().to_owned(),
            title: t.title,
            body: t.body,
            updated_by: t.updated_by,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContactLog {
    /// `legal`, `law_enforcement`, `security_firm`, `insurer`, `operator`.
    pub party: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub reference: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactLogOut {
    pub id: Uuid,
    pub party: String,
    pub name: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub reference: Option<String>,
    pub outcome: Option<String>,
    /// The checklist step tracking the contact (12, or 13 for operators).
    pub step: u32,
    pub task_id: Option<Uuid>,
}

impl From<ContactRow> for ContactLogOut {
    fn from(c: ContactRow) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartClockBody {
    /// `gdpr`, `nis2`, `dora`, `sec-8k`, `hipaa`, `appi`.
    pub regime: String,
    /// When the event the law counts from happened (awareness, classification, …).
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// Holiday calendar: `us`, `jp`, `eu`, `uk` (default per regime).
    pub jurisdiction: Option<String>,
    /// APPI only: the unlawful-purpose category (final report in 60 days).
    #[serde(default)]
    pub unlawful_purpose: bool,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MeetMilestone {
    /// When the filing was made (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub met_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MilestoneOut {
    pub name: String,
    pub description: String,
    /// RFC 3339. A deadline counted in business days (SEC 8-K) is written with the offset of
    /// its jurisdiction's zone, so its date is the local day the law means; others in UTC.
    #[schema(value_type = String, format = DateTime)]
    pub due: String,
    /// The calendar day of `due` in the jurisdiction's zone.
    #[schema(value_type = String, format = Date)]
    pub due_date: String,
    /// `pending`, `met`, `missed`.
    pub status: String,
    pub met: bool,
    pub missed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub met_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockOut {
    pub id: Uuid,
    /// What paths take in place of the id: the regime (`gdpr`) when the incident has one
    /// clock of it, else `regime:jurisdiction`, else a short id prefix.
    pub handle: String,
    pub regime: String,
    /// The event the law counts from.
    pub anchor: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    pub jurisdiction: String,
    pub milestones: Vec<MilestoneOut>,
}

impl From<ClockView> for ClockOut {
    fn from(v: ClockView) -> Self {
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
