//! Communications (drafts, approval, sending), their templates, the contact log of outside
//! parties and regulatory clocks. Requests refuse unknown fields.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchCommunication {
    pub title: Option<String>,
    pub body: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub third_parties_public: Option<bool>,
}

/// Approving or sending: the body may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationAction {
    /// The incident commander's reason to approve or send despite error findings (recorded on
    /// the message and audited). Refused from anyone else, and when there is nothing to
    /// override.
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FindingOut {
    pub rule: String,
    /// `error` or `warning`. An error holds the message back unless overridden.
    pub severity: String,
    pub message: String,
    /// An error finding the incident commander's override covers.
    pub overridden: bool,
}

/// The incident commander's override of error findings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApprovalOut {
    pub role: String,
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateOut {
    pub name: String,
    pub audience: String,
    pub title: String,
    pub body: String,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetMilestone {
    /// When the filing was made (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub met_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

// ---------- query parameters ----------

/// Query of a report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `md` (default), `html` or `pdf`.
    pub format: Option<String>,
    /// The time zone of the report's times: an IANA name such as `Europe/Berlin` (default `UTC`).
    pub tz: Option<String>,
}
