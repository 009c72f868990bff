//! Communications (checklist steps 11–14): drafts per audience, prefilled from editable
//! templates, linted against the guide on every change, approved by the roles the audience
//! needs, held until their gate is met, and sent once — published for the public notice,
//! through the mail channel (under its rules) for the rest. Also the contact log of steps
//! 12–13, each contact advancing the task the playbook tracks.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::comms::lint::{self, LintPolicy};
use cordon_core::comms::{self, ApprovalRefusal, Audience, DraftStatus, Party, SendRefusal, prefill};
use cordon_core::incident::Incident;
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_mail::{MailError, Message, Recipient};
use cordon_store::comms::{ApprovalRow, CommunicationRow, ContactRow, TemplateRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::incidents::new_id;
use crate::tasks::Gates;
use crate::{Cordon, Result, ServiceError};

/// The deployment's communication settings.
#[derive(Debug, Clone, Default)]
pub struct CommsSettings {
    pub policy: LintPolicy,
}

const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 100_000;
const MAX_RECIPIENTS: usize = 100;

/// The templates shipped with the binary, one per audience: the first line is the title.
fn default_template(a: Audience) -> &'static str {
    match a {
        Audience::Internal => include_str!("../../../templates/comms/internal.md.j2"),
        Audience::External => include_str!("../../../templates/comms/external.md.j2"),
        Audience::CustomerSecurity => include_str!("../../../templates/comms/customer_security.md.j2"),
        Audience::LawEnforcement => include_str!("../../../templates/comms/law_enforcement.md.j2"),
        Audience::Regulator => include_str!("../../../templates/comms/regulator.md.j2"),
        Audience::Insurer => include_str!("../../../templates/comms/insurer.md.j2"),
        Audience::Vendor => include_str!("../../../templates/comms/vendor.md.j2"),
    }
}

fn default_row(a: Audience) -> TemplateRow {
    let text = default_template(a);
    let (title, body) = text.split_once('\n').unwrap_or((text, ""));
    TemplateRow {
        name: a.as_str().to_owned(),
        audience: a,
        title: title.trim().to_owned(),
        body: body.to_owned(),
        updated_by: "cordon".into(),
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

/// One lint finding as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    pub rule: String,
    pub severity: String,
    pub message: String,
}

impl FindingView {
    /// An error finding holds the message back unless the incident commander overrides it.
    pub fn is_error(&self) -> bool {
        self.severity == lint::Severity::Error.as_str()
    }
}

/// The incident commander's override of a message's error findings: who, when, why, and the
/// findings it covers (an error finding that appears later is not covered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintOverride {
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
    /// `approve` or `send`: where the commander gave it.
    pub during: String,
    pub findings: Vec<FindingView>,
}

impl LintOverride {
    fn covers(&self, f: &FindingView) -> bool {
        self.findings.iter().any(|o| o.rule == f.rule && o.message == f.message)
    }
}

/// The error findings no override covers: what holds a message back.
pub fn blocking_findings(findings: &[FindingView], lint_override: Option<&LintOverride>) -> Vec<FindingView> {
    findings
        .iter()
        .filter(|f| f.is_error() && !lint_override.is_some_and(|o| o.covers(f)))
        .cloned()
        .collect()
}

/// A communication as its viewers see it.
#[derive(Debug, Clone)]
pub struct CommunicationView {
    pub row: CommunicationRow,
    pub recipients: Vec<String>,
    pub findings: Vec<FindingView>,
    /// Roles whose approval is still missing.
    pub missing_approvals: Vec<Role>,
    /// Unmet gates of the audience's playbook step.
    pub blocked_by: Vec<crate::UnmetGate>,
    /// The commander's override of error findings, if any.
    pub lint_override: Option<LintOverride>,
    /// The error findings that hold the message back (none once sent).
    pub blocking: Vec<FindingView>,
}

/// A new draft. Without `title`/`body`, a template fills them (`template` names one; the
/// audience's own by default).
#[derive(Debug, Clone)]
pub struct NewCommunication {
    pub audience: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub template: Option<String>,
    pub recipients: Vec<String>,
    pub third_parties_public: bool,
}

/// An edit of a draft.
#[derive(Debug, Clone, Default)]
pub struct CommunicationPatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub third_parties_public: Option<bool>,
}

/// A contact with an outside party to record.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub party: String,
    pub name: String,
    pub at: Timestamp,
    pub reference: Option<String>,
    pub outcome: Option<String>,
}

/// A single-line field (a title, a name): bounded, no control or bidirectional formatting
/// character (`cordon_core::text`).
fn check_len(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("longer than {max} characters")));
    }
    Ok(cordon_core::text::check_line(field, value)?)
}

/// A multi-line field (a body, an outcome): bounded; line ends and tabs kept, other controls
/// and bidirectional formatting characters refused.
fn check_text_len(field: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("longer than {max} characters")));
    }
    Ok(cordon_core::text::check_multiline(field, value)?)
}

fn clean_recipients(list: Vec<String>) -> Result<Vec<String>> {
    let list: Vec<String> = list
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if list.len() > MAX_RECIPIENTS {
        return Err(ServiceError::invalid(
            "recipients",
            format!("more than {MAX_RECIPIENTS}"),
        ));
    }
    Ok(list)
}

/// Who asks to approve or send, and whether with an override reason.
struct OverrideAsk<'a> {
    by: &'a str,
    /// The caller holds the incident commander role in the incident.
    commander: bool,
    reason: Option<String>,
    /// `approve` or `send`.
    during: &'static str,
}

/// The most characters of an override reason (as for a gate override).
const MAX_REASON: usize = 2000;

/// An override reason as given: trimmed, blank is none, bounded, no control characters.
fn clean_reason(reason: Option<String>) -> Result<Option<String>> {
    let Some(r) = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    check_text_len("override_reason", &r, MAX_REASON)?;
    Ok(Some(r))
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

impl Cordon {
    /// Sets the communication rules of this deployment.
    pub fn with_comms(mut self, settings: CommsSettings) -> Self {
        self.comms = std::sync::Arc::new(settings);
        self
    }

    const NOT_A_WORKER: &str = "only the response team may work on communications";

    /// Lints a draft with what the incident knows: exposures, contacted operators, discovery.
    async fn lint_draft(
        &self,
        incident: &Incident,
        audience: Audience,
        title: &str,
        body: &str,
        public: bool,
        now: Timestamp,
    ) -> Result<Vec<FindingView>> {
        let exposures: Vec<String> = self
            .store
            .exposures(incident.id)
            .await?
            .into_iter()
            .map(|e| e.data)
            .collect();
        let operators: Vec<String> = self
            .store
            .contact_log(incident.id)
            .await?
            .into_iter()
            .filter(|c| c.party == Party::Operator)
            .map(|c| c.name)
            .collect();
        let d = lint::Draft {
            audience,
            title,
            body,
            third_parties_public: public,
            exposures: &exposures,
            third_parties: &operators,
            discovered_at: incident.created_at,
            now,
        };
        Ok(lint::lint(&d, &self.comms.policy)
            .into_iter()
            .map(|f| FindingView {
                rule: f.rule.to_owned(),
                severity: f.severity.as_str().to_owned(),
                message: f.message,
            })
            .collect())
    }

    async fn comm_view(&self, incident: &Incident, row: CommunicationRow) -> Result<CommunicationView> {
        Ok(Self::comm_view_with(&self.gates_of(incident).await?, row))
    }

    fn comm_view_with(gates: &Gates<'_>, row: CommunicationRow) -> CommunicationView {
        let recipients: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
        let findings: Vec<FindingView> = serde_json::from_str(&row.findings).unwrap_or_default();
        let approved: Vec<Role> = row.approvals.iter().map(|a| a.role).collect();
        let missing_approvals = if row.status == DraftStatus::Sent {
            Vec::new()
        } else {
            comms::missing_approvals(row.audience, &approved)
        };
        let blocked_by = match row.audience.gate_step() {
            Some(step) if row.status != DraftStatus::Sent => gates.unmet(step),
            _ => Vec::new(),
        };
        let lint_override: Option<LintOverride> =
            row.lint_override.as_deref().and_then(|o| serde_json::from_str(o).ok());
        let blocking = if row.status == DraftStatus::Sent {
            Vec::new()
        } else {
            blocking_findings(&findings, lint_override.as_ref())
        };
        CommunicationView {
            row,
            recipients,
            findings,
            missing_approvals,
            blocked_by,
            lint_override,
            blocking,
        }
    }

    // ---------- templates ----------

    /// The template `name`: the stored one, else the audience's default.
    async fn template_named(&self, name: &str) -> Result<TemplateRow> {
        if let Some(t) = self.store.template(name).await? {
            return Ok(t);
        }
        name.parse::<Audience>()
            .map(default_row)
            .map_err(|_| ServiceError::NotFound("template"))
    }

    /// Every template: the stored ones and the defaults not overridden. Read, like written,
    /// by admins and the security team only: a template carries the deployment's wording for
    /// regulators and customers before any incident needs it. Responders draft from a template
    /// by name and see the draft rendered for their own incident. A refusal is audited.
    pub async fn templates(&self, p: &Principal) -> Result<Vec<TemplateRow>> {
        if !p.sees_all_incidents() {
            let e = ServiceError::Forbidden("only admins and the security team may read templates".into());
            return Err(self.refuse(p, "template.list", "templates".into(), e).await);
        }
        let mut stored = self.store.templates().await?;
        for a in Audience::ALL {
            if !stored.iter().any(|t| t.name == a.as_str()) {
                stored.push(default_row(a));
            }
        }
        stored.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(stored)
    }

    /// Creates or replaces a template (admins and the security team). Syntax errors are
    /// refused with the template engine's message.
    pub async fn put_template(
        &self,
        p: &Principal,
        name: &str,
        audience: &str,
        title: &str,
        body: &str,
    ) -> Result<TemplateRow> {
        let subject = format!("template:{name}");
        if !p.sees_all_incidents() {
            let e = ServiceError::Forbidden("only admins and the security team may change templates".into());
            return Err(self.refuse(p, "template.put", subject, e).await);
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
            return Err(ServiceError::invalid("name", "1–64 letters, digits, `-` or `_`"));
        }
        let audience: Audience = audience.parse()?;
        check_len("title", title, MAX_TITLE)?;
        check_text_len("body", body, MAX_BODY)?;
        let env = template_env();
        for (field, src) in [("title", title), ("body", body)] {
            if let Err(e) = env.template_from_str(src) {
                let e = ServiceError::Template(format!("{field}: {e}"));
                return Err(self.refuse(p, "template.put", subject, e).await);
            }
        }
        let now = self.clock.now();
        let row = TemplateRow {
            name: name.to_owned(),
            audience,
            title: title.to_owned(),
            body: body.to_owned(),
            updated_by: p.name.clone(),
            updated_at: now,
        };
        let audit = draft(
            now,
            &p.name,
            "template.put",
            subject,
            json!({ "audience": audience.as_str() }),
        );
        self.store.put_template(&row, audit).await?;
        Ok(row)
    }

    // ---------- drafts ----------

    /// Drafts a message. Findings come back with it; they never block saving.
    pub async fn create_communication(
        &self,
        p: &Principal,
        raw_ref: &str,
        new: NewCommunication,
    ) -> Result<CommunicationView> {
        let access = self
            .gate_work(p, raw_ref, "communication.create", Self::NOT_A_WORKER)
            .await?;
        let incident = access.incident();
        let subject = access.subject();
        let audience: Audience = new.audience.parse()?;
        let recipients = clean_recipients(new.recipients)?;
        let now = self.clock.now();
        let (title, body) = match (new.title, new.body, new.template) {
            (Some(t), Some(b), None) => (t, b),
            (title, body, template) => {
                let tpl = self
                    .template_named(template.as_deref().unwrap_or(audience.as_str()))
                    .await?;
                let ctx = self.draft_context(incident, audience, now).await?;
                let rendered = render(&tpl, &ctx).await;
                let (rt, rb) = match rendered {
                    Ok(r) => r,
                    Err(e) => return Err(self.refuse(p, "communication.create", subject, e).await),
                };
                (title.unwrap_or(rt), body.unwrap_or(rb))
            }
        };
        let title = title.trim().to_owned();
        if title.is_empty() {
            return Err(ServiceError::invalid("title", "must not be empty"));
        }
        check_len("title", &title, MAX_TITLE)?;
        check_text_len("body", &body, MAX_BODY)?;
        let findings = self
            .lint_draft(incident, audience, &title, &body, new.third_parties_public, now)
            .await?;
        let row = CommunicationRow {
            id: new_id(now),
            incident_id: incident.id,
            audience,
            title,
            body,
            recipients: serde_json::to_string(&recipients).expect("strings serialize"),
            third_parties_public: new.third_parties_public,
            status: DraftStatus::Draft,
            findings: serde_json::to_string(&findings).expect("findings serialize"),
            channel: None,
            sent_at: None,
            sent_by: None,
            created_by: p.user_id,
            created_at: now,
            updated_at: now,
            lint_override: None,
            approvals: Vec::new(),
        };
        let audit = draft(
            now,
            &p.name,
            "communication.create",
            format!("communication:{}", row.id),
            json!({ "incident": incident.id, "audience": audience.as_str(), "findings": findings.len() }),
        );
        self.store.create_communication(&row, audit).await?;
        self.comm_view(incident, row).await
    }

    /// One communication of the incident by its handle: its id, a unique id prefix or its
    /// title (see [`crate::handles`]).
    async fn comm_row(&self, incident: &Incident, handle: &str) -> Result<CommunicationRow> {
        let id = match Uuid::parse_str(handle.trim()) {
            Ok(id) => id,
            Err(_) => {
                let rows = self.store.communications(incident.id).await?;
                crate::handles::resolve("communication", "id", handle, &rows, |c| crate::handles::Named {
                    id: c.id,
                    names: vec![c.title.clone()],
                })?
                .id
            }
        };
        self.store
            .communication(incident.id, id)
            .await?
            .ok_or(ServiceError::NotFound("communication"))
    }

    /// The incident's communications, oldest first.
    pub async fn communications(&self, p: &Principal, raw_ref: &str) -> Result<Vec<CommunicationView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let gates = self.gates_of(incident).await?;
        let rows = self.store.communications(incident.id).await?;
        Ok(rows.into_iter().map(|row| Self::comm_view_with(&gates, row)).collect())
    }

    pub async fn communication(&self, p: &Principal, raw_ref: &str, id: &str) -> Result<CommunicationView> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let row = self.comm_row(incident, id).await?;
        self.comm_view(incident, row).await
    }

    /// Edits a draft: re-linted, and any approval is dropped (the new text needs approving).
    pub async fn update_communication(
        &self,
        p: &Principal,
        raw_ref: &str,
        id: &str,
        patch: CommunicationPatch,
    ) -> Result<CommunicationView> {
        let access = self.gate(p, raw_ref).await?;
        let mut row = self.comm_row(access.incident(), id).await?;
        let subject = format!("communication:{}", row.id);
        if !access.may_work() {
            let e = ServiceError::Forbidden(Self::NOT_A_WORKER.into());
            return Err(self.refuse(p, "communication.update", subject, e).await);
        }
        let access = self.work(access, "communication.update", Self::NOT_A_WORKER).await?;
        let incident = access.incident();
        if row.status == DraftStatus::Sent {
            let e = ServiceError::Conflict("the message was sent; draft a new one".into());
            return Err(self.refuse(p, "communication.update", subject, e).await);
        }
        if let Some(t) = patch.title {
            let t = t.trim().to_owned();
            if t.is_empty() {
                return Err(ServiceError::invalid("title", "must not be empty"));
            }
            check_len("title", &t, MAX_TITLE)?;
            row.title = t;
        }
        if let Some(b) = patch.body {
            check_text_len("body", &b, MAX_BODY)?;
            row.body = b;
        }
        if let Some(r) = patch.recipients {
            row.recipients = serde_json::to_string(&clean_recipients(r)?).expect("strings serialize");
        }
        if let Some(public) = patch.third_parties_public {
            row.third_parties_public = public;
        }
        let now = self.clock.now();
        let findings = self
            .lint_draft(
                incident,
                row.audience,
                &row.title,
                &row.body,
                row.third_parties_public,
                now,
            )
            .await?;
        row.findings = serde_json::to_string(&findings).expect("findings serialize");
        let had_approvals = !row.approvals.is_empty();
        let had_override = row.lint_override.take().is_some();
        row.status = DraftStatus::Draft;
        row.approvals.clear();
        row.updated_at = now;
        let audit = draft(
            now,
            &p.name,
            "communication.update",
            subject,
            json!({ "findings": findings.len(), "approvals_cleared": had_approvals, "override_cleared": had_override }),
        );
        self.store.update_communication(&row, true, audit).await?;
        self.comm_view(incident, row).await
    }

    /// Re-lints a message before it is approved or sent (the registers, or the text, may have
    /// changed since it was written) and settles its error findings: none left that no
    /// override covers; or an override reason from the incident commander, which comes back as
    /// the override to record. Refusals are the caller's to audit.
    async fn settle_findings(
        &self,
        incident: &Incident,
        row: &mut CommunicationRow,
        ask: OverrideAsk<'_>,
        now: Timestamp,
    ) -> Result<Option<LintOverride>> {
        let findings = self
            .lint_draft(
                incident,
                row.audience,
                &row.title,
                &row.body,
                row.third_parties_public,
                now,
            )
            .await?;
        row.findings = serde_json::to_string(&findings).expect("findings serialize");
        let recorded: Option<LintOverride> = row.lint_override.as_deref().and_then(|o| serde_json::from_str(o).ok());
        let blocking = blocking_findings(&findings, recorded.as_ref());
        let OverrideAsk {
            by,
            commander,
            reason,
            during,
        } = ask;
        match reason {
            None if blocking.is_empty() => Ok(None),
            None => Err(ServiceError::LintErrors { findings: blocking }),
            Some(_) if blocking.is_empty() => Err(ServiceError::invalid(
                "override_reason",
                "the message has no error finding to override; leave the reason out",
            )),
            Some(_) if !commander => Err(ServiceError::ForbiddenRole(
                "only the incident commander may override error findings".into(),
            )),
            Some(reason) => Ok(Some(LintOverride {
                reason,
                by: by.to_owned(),
                at: now,
                during: during.to_owned(),
                findings: findings.into_iter().filter(FindingView::is_error).collect(),
            })),
        }
    }

    /// Records an override [`Self::settle_findings`] accepted, on the version of the message
    /// read (a concurrent edit or approval makes it a conflict), audited with its reason.
    async fn record_override(
        &self,
        p: &Principal,
        row: &mut CommunicationRow,
        o: &LintOverride,
        now: Timestamp,
    ) -> Result<()> {
        let json = serde_json::to_string(o).expect("override serializes");
        let rules: Vec<&str> = o.findings.iter().map(|f| f.rule.as_str()).collect();
        let audit = draft(
            now,
            &p.name,
            "communication.lint_override",
            format!("communication:{}", row.id),
            json!({ "reason": o.reason, "during": o.during, "rules": rules, "findings": o.findings }),
        );
        self.store
            .override_findings(row.id, &json, &row.findings, row.updated_at, now, audit)
            .await?;
        row.lint_override = Some(json);
        row.updated_at = now;
        Ok(())
    }

    /// Approves a draft in every required role the caller holds. A member holding none of
    /// them is refused with [`ServiceError::ForbiddenRole`]. The draft is linted again first:
    /// error findings refuse the approval ([`ServiceError::LintErrors`]) unless an override
    /// covers them, or the incident commander gives `override_reason` (recorded and audited).
    pub async fn approve_communication(
        &self,
        p: &Principal,
        raw_ref: &str,
        id: &str,
        override_reason: Option<String>,
    ) -> Result<CommunicationView> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let mut row = self.comm_row(incident, id).await?;
        let subject = format!("communication:{}", row.id);
        let reason = clean_reason(override_reason)?;
        let approved: Vec<Role> = row.approvals.iter().map(|a| a.role).collect();
        let outcome = match comms::approve(row.audience, row.status, &approved, &access.standing().active_roles) {
            Ok(o) => o,
            Err(ApprovalRefusal::AlreadySent) => {
                let e = ServiceError::Conflict("the message was sent already".into());
                return Err(self.refuse(p, "communication.approve", subject, e).await);
            }
            Err(ApprovalRefusal::LacksRole { needed }) => {
                let names = role_names(&needed);
                let e = ServiceError::ForbiddenRole(format!(
                    "approving a {} message needs the role {}",
                    row.audience,
                    names.join(" and ")
                ));
                return Err(self.refuse(p, "communication.approve", subject, e).await);
            }
        };
        let now = self.clock.now();
        let commander = access.holds(Role::IncidentCommander);
        let settled = self
            .settle_findings(
                incident,
                &mut row,
                OverrideAsk {
                    by: &p.name,
                    commander,
                    reason,
                    during: "approve",
                },
                now,
            )
            .await;
        match settled {
            Err(e) => return Err(self.refuse(p, "communication.approve", subject, e).await),
            Ok(Some(o)) => self.record_override(p, &mut row, &o, now).await?,
            Ok(None) => {}
        }
        for (i, role) in outcome.roles.iter().enumerate() {
            let last = i + 1 == outcome.roles.len();
            let status = if last { outcome.status } else { row.status };
            let a = ApprovalRow {
                role: *role,
                user_name: p.name.clone(),
                at: now,
            };
            let audit = draft(
                now,
                &p.name,
                "communication.approve",
                subject.clone(),
                json!({ "role": role.as_str(), "status": status.as_str() }),
            );
            self.store
                .add_approval(row.id, &a, status, row.updated_at, audit)
                .await?;
            row.approvals.push(a);
            row.status = status;
            row.updated_at = now;
        }
        self.comm_view(incident, row).await
    }

    /// Sends an approved message whose gate is met, once: the public notice is recorded as
    /// published; a message with recipients goes through the mail channel (label subject, PGP
    /// when any recipient is outside the company, refused without a key — never SMS); one
    /// without recipients is recorded as sent by other means. The message is linted again
    /// first, as for an approval: error findings no override covers hold it back unless the
    /// incident commander gives `override_reason`.
    pub async fn send_communication(
        &self,
        p: &Principal,
        raw_ref: &str,
        id: &str,
        override_reason: Option<String>,
    ) -> Result<CommunicationView> {
        let access = self.gate(p, raw_ref).await?;
        let mut row = self.comm_row(access.incident(), id).await?;
        let subject = format!("communication:{}", row.id);
        if !access.may_work() {
            let e = ServiceError::Forbidden(Self::NOT_A_WORKER.into());
            return Err(self.refuse(p, "communication.send", subject, e).await);
        }
        let access = self.work(access, "communication.send", Self::NOT_A_WORKER).await?;
        let incident = access.incident();
        let reason = clean_reason(override_reason)?;
        let approved: Vec<Role> = row.approvals.iter().map(|a| a.role).collect();
        match comms::check_send(row.audience, row.status, &approved) {
            Ok(()) => {}
            Err(SendRefusal::AlreadySent) => {
                let e = ServiceError::Conflict("the message was sent already".into());
                return Err(self.refuse(p, "communication.send", subject, e).await);
            }
            Err(SendRefusal::NotApproved { missing }) => {
                let e = ServiceError::NotApproved {
                    missing: role_names(&missing),
                };
                return Err(self.refuse(p, "communication.send", subject, e).await);
            }
        }
        let now = self.clock.now();
        let commander = access.holds(Role::IncidentCommander);
        let lint_override = match self
            .settle_findings(
                incident,
                &mut row,
                OverrideAsk {
                    by: &p.name,
                    commander,
                    reason,
                    during: "send",
                },
                now,
            )
            .await
        {
            Ok(o) => o,
            Err(e) => return Err(self.refuse(p, "communication.send", subject, e).await),
        };
        if let Some(step) = row.audience.gate_step() {
            let gates = self.unmet_gates_of(incident, step).await?;
            if !gates.is_empty() {
                let e = ServiceError::GateUnmet { gates };
                return Err(self.refuse(p, "communication.send", subject, e).await);
            }
        }
        if let Some(o) = &lint_override {
            self.record_override(p, &mut row, o, now).await?;
        }
        let recipients: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
        let channel = if row.audience.is_published() {
            "published"
        } else if recipients.is_empty() {
            "recorded"
        } else {
            "mail"
        };
        let audit = draft(
            now,
            &p.name,
            "communication.send",
            subject.clone(),
            json!({ "channel": channel, "recipients": recipients, "audience": row.audience.as_str() }),
        );
        // Claim the message first, so two sends at once (or a retry) can never mail it twice;
        // a delivery that then fails hands it back, audited.
        if !self.store.mark_sent(row.id, channel, now, &p.name, audit).await? {
            let e = ServiceError::Conflict("the message was sent already".into());
            return Err(self.refuse(p, "communication.send", subject, e).await);
        }
        if channel == "mail"
            && let Err(e) = self.mail_communication(&row, &recipients, now).await
        {
            if let ServiceError::PartlySent(detail) = &e {
                // Some recipients have it: it stays sent (sending again would repeat it to them).
                let partly = draft(
                    now,
                    &p.name,
                    "communication.partly_sent",
                    subject.clone(),
                    json!({ "channel": channel, "reason": detail }),
                );
                self.store.append_audit(partly).await?;
                return Err(e);
            }
            let undo = draft(
                now,
                &p.name,
                "communication.unsend",
                subject.clone(),
                json!({ "channel": channel, "reason": e.to_string() }),
            );
            self.store.unmark_sent(row.id, channel, undo).await?;
            return Err(self.refuse(p, "communication.send", subject, e).await);
        }
        row.status = DraftStatus::Sent;
        row.channel = Some(channel.to_owned());
        row.sent_at = Some(now);
        row.sent_by = Some(p.name.clone());
        self.comm_view(incident, row).await
    }

    async fn mail_communication(&self, row: &CommunicationRow, recipients: &[String], now: Timestamp) -> Result<()> {
        let Some(mailer) = &self.paging.mailer else {
            return Err(ServiceError::invalid(
                "recipients",
                "the mail channel is off (CORDON_SMTP_URL); send it another way and remove the recipients",
            ));
        };
        let users = self.store.list_users().await?;
        let mut list = Vec::with_capacity(recipients.len());
        for r in recipients {
            let user = users.iter().find(|u| u.name == *r || u.email.eq_ignore_ascii_case(r));
            let (address, key) = match user {
                Some(u) => (u.email.as_str(), u.pgp_key.as_deref()),
                None => (r.as_str(), None),
            };
            let recipient =
                Recipient::parse(address, key).map_err(|e| ServiceError::invalid("recipients", e.to_string()))?;
            list.push(recipient);
        }
        let text = format!("{}\n\n{}", row.title, row.body);
        match mailer.send_message(&Message::new(list, text), now).await {
            Ok(_) => Ok(()),
            Err(e @ MailError::Refused { .. }) => Err(ServiceError::MailRefused(e.to_string())),
            Err(e @ MailError::PartlySent { .. }) => Err(ServiceError::PartlySent(format!(
                "{e}; the message counts as sent: write the others a new one"
            ))),
            Err(e) => Err(ServiceError::MailRefused(format!("the mail was not sent: {e}"))),
        }
    }

    // ---------- the contact log ----------

    /// Records a contact with an outside party; the step tracking it (12, or 13 for
    /// operators of systems used in the attack) moves to in progress when still to do.
    pub async fn log_contact(&self, p: &Principal, raw_ref: &str, c: NewContact) -> Result<ContactRow> {
        let access = self.gate_work(p, raw_ref, "contact.add", Self::NOT_A_WORKER).await?;
        let incident = access.incident();
        let party: Party = c.party.parse()?;
        let name = c.name.trim().to_owned();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "must not be empty"));
        }
        check_len("name", &name, 300)?;
        for (f, v) in [("reference", &c.reference), ("outcome", &c.outcome)] {
            if let Some(v) = v {
                check_text_len(f, v, 4000)?;
            }
        }
        let now = self.clock.now();
        if c.at > now {
            return Err(ServiceError::invalid("at", "a contact cannot be in the future"));
        }
        let mut task = self
            .store
            .tasks(incident.id)
            .await?
            .into_iter()
            .find(|t| t.step == party.step());
        let task_id = task.as_ref().map(|t| t.id);
        let moved = match task.as_mut() {
            Some(t) if t.status == TaskStatus::Todo => {
                t.status = TaskStatus::InProgress;
                t.updated_at = now;
                true
            }
            _ => false,
        };
        let row = ContactRow {
            id: new_id(now),
            incident_id: incident.id,
            party,
            name,
            at: c.at,
            reference: c.reference.filter(|s| !s.trim().is_empty()),
            outcome: c.outcome.filter(|s| !s.trim().is_empty()),
            task_id,
            created_by: p.user_id,
            created_at: now,
        };
        let audit = draft(
            now,
            &p.name,
            "contact.add",
            format!("contact:{}", row.id),
            json!({ "incident": incident.id, "party": party.as_str(), "name": row.name, "step": party.step(), "task_started": moved }),
        );
        self.store
            .add_contact_log(&row, task.as_ref().filter(|_| moved), audit)
            .await?;
        Ok(row)
    }

    /// The contact log of an incident.
    pub async fn contact_log(&self, p: &Principal, raw_ref: &str) -> Result<Vec<ContactRow>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        Ok(self.store.contact_log(incident.id).await?)
    }
}

/// Instructions one render may execute (minijinja's fuel). The default templates take a few
/// thousand; a loop of a million iterations does not fit.
const TEMPLATE_FUEL: u64 = 500_000;
/// Bytes one rendered title or body may have: anything longer is refused afterwards anyway.
const TEMPLATE_MAX_OUTPUT: usize = MAX_BODY * 4;
/// How deep includes, macros and nested blocks may go.
const TEMPLATE_RECURSION: usize = 32;

/// The template environment: undefined values are errors, so a typo shows at once; every
/// render is bounded in work (fuel), nesting and output.
fn template_env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(TEMPLATE_RECURSION);
    env
}

/// A sink that refuses to grow past [`TEMPLATE_MAX_OUTPUT`] bytes.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > TEMPLATE_MAX_OUTPUT {
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_one(
    env: &minijinja::Environment<'_>,
    name: &str,
    part: &str,
    src: &str,
    ctx: &serde_json::Value,
) -> Result<String> {
    let tpl = env
        .template_from_str(src)
        .map_err(|e| ServiceError::Template(format!("template `{name}`, {part}: {e}")))?;
    let mut out = Bounded(Vec::new());
    match tpl.render_captured_to(ctx, &mut out) {
        Ok(_) => String::from_utf8(out.0)
            .map_err(|_| ServiceError::Template(format!("template `{name}`, {part}: not UTF-8"))),
        Err(e) => {
            let costly = match e.kind() {
                minijinja::ErrorKind::OutOfFuel => Some(format!("needs more than {TEMPLATE_FUEL} steps")),
                minijinja::ErrorKind::WriteFailure => Some(format!("renders more than {TEMPLATE_MAX_OUTPUT} bytes")),
                _ if e.to_string().contains("recursion limit") => {
                    Some(format!("nests deeper than {TEMPLATE_RECURSION} levels"))
                }
                _ => None,
            };
            Err(match costly {
                Some(why) => ServiceError::LimitExceeded {
                    limit: crate::Limit::TemplateCost,
                    message: format!("template `{name}`, {part}: too costly to render: it {why}"),
                },
                None => ServiceError::Template(format!("template `{name}`, {part}: {e}")),
            })
        }
    }
}

/// Renders a template's title and body on a blocking thread (a render is CPU work, bounded by
/// [`template_env`]'s limits, so it never holds up the async workers or a shutdown).
async fn render(t: &TemplateRow, ctx: &serde_json::Value) -> Result<(String, String)> {
    let name = t.name.clone();
    let (t, ctx) = (t.clone(), ctx.clone());
    tokio::task::spawn_blocking(move || {
        let env = template_env();
        let title = render_one(&env, &t.name, "title", &t.title, &ctx)?;
        let body = render_one(&env, &t.name, "body", &t.body, &ctx)?;
        Ok((title, body.trim().to_owned()))
    })
    .await
    .map_err(|e| ServiceError::Template(format!("template `{name}`: the render failed: {e}")))?
}

fn minute(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn lines_json(lines: &[prefill::Line]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| json!({ "at": minute(l.at), "what": l.what }))
        .collect()
}

/// Whether the audience's prefill lists the indicators themselves: the team, and the outside
/// parties who act on them (customers' security teams, law enforcement, the operator whose
/// system was used).
fn shares_indicators(a: Audience) -> bool {
    matches!(
        a,
        Audience::Internal | Audience::CustomerSecurity | Audience::LawEnforcement | Audience::Vendor
    )
}

impl Cordon {
    /// What the registers record, as [`prefill::Facts`].
    async fn register_facts(&self, incident: &Incident) -> Result<prefill::Facts> {
        let id = incident.id;
        let moves = self.store.asset_moves(id).await?;
        let assets = self
            .store
            .assets(id)
            .await?
            .into_iter()
            .map(|a| {
                let mut history: Vec<_> = moves.iter().filter(|m| m.asset_id == a.id).collect();
                history.sort_by_key(|m| m.at);
                prefill::AssetFacts {
                    moves: history.into_iter().map(|m| (m.to, m.at)).collect(),
                    name: a.name,
                }
            })
            .collect();
        let credentials = self
            .store
            .credentials(id)
            .await?
            .into_iter()
            .map(|c| prefill::CredentialFacts {
                name: c.name,
                state: c.state,
                since: c.updated_at,
            })
            .collect();
        let indicators = self
            .store
            .indicators(id)
            .await?
            .into_iter()
            .map(|i| prefill::IndicatorFacts {
                first_seen: i.first_seen,
                last_seen: i.last_seen,
            })
            .collect();
        let exposures = self
            .store
            .exposures(id)
            .await?
            .into_iter()
            .map(|e| prefill::ExposureFacts {
                data: e.data,
                recorded_at: e.created_at,
            })
            .collect();
        Ok(prefill::Facts {
            assets,
            credentials,
            indicators,
            exposures,
        })
    }

    /// What a template sees when it prefills a draft for `audience` (documented in
    /// `docs/communications-rules.md`). Every audience: `today`, `incident` (codename,
    /// severity, status, declaration), `compromised` (whether the registers record a
    /// compromise), `timeline`, `exposures`, `mitigations` and `actions` (the same, as
    /// `title`s), phrased for the audience from the registers ([`prefill`]). The team alone
    /// (`internal`) also gets the title, the decisions, the contact log, the team and the
    /// finished checklist steps; outside audiences never do, so no template can leak them.
    async fn draft_context(
        &self,
        incident: &Incident,
        audience: Audience,
        now: Timestamp,
    ) -> Result<serde_json::Value> {
        let facts = self.register_facts(incident).await?;
        let outside = audience.is_outside();
        let mut timeline = prefill::timeline(audience, &facts);
        timeline.push(prefill::Line {
            at: incident.created_at,
            what: match prefill::Voice::of(audience) {
                prefill::Voice::Inside => format!("Incident declared ({})", incident.severity),
                prefill::Voice::Public => "We discovered the incident and started our response.".into(),
                prefill::Voice::Formal => "Incident discovered; response started.".into(),
            },
        });
        if !outside {
            // The team's own records: decisions, finished steps, contacts, messages sent.
            for e in self.incident_timeline(incident).await? {
                if !e.what.starts_with("Incident declared") {
                    timeline.push(prefill::Line { at: e.at, what: e.what });
                }
            }
        }
        timeline.sort_by_key(|l| l.at);
        let mitigations = prefill::mitigations(audience, &facts);
        let exposures: Vec<serde_json::Value> = self
            .store
            .exposures(incident.id)
            .await?
            .into_iter()
            .map(|e| {
                let mut x =
                    json!({ "data": e.data, "classification": e.classification.as_str(), "records": e.records });
                if !outside {
                    x["customers"] = json!(e.customers);
                }
                x
            })
            .collect();
        let mut ctx = json!({
            "today": now.strftime("%Y-%m-%d").to_string(),
            "audience": audience.as_str(),
            "incident": {
                "codename": incident.codename.to_string(),
                "severity": incident.severity.to_string(),
                "status": incident.status.as_str(),
                "declared_at": minute(incident.created_at),
                "declared_date": incident.created_at.strftime("%Y-%m-%d").to_string(),
            },
            "compromised": facts.compromise_recorded(),
            "timeline": lines_json(&timeline),
            "exposures": exposures,
            "mitigations": lines_json(&mitigations),
            "actions": mitigations.iter().map(|m| json!({ "title": m.what, "at": minute(m.at) })).collect::<Vec<_>>(),
        });
        if shares_indicators(audience) {
            let indicators: Vec<_> = self
                .store
                .indicators(incident.id)
                .await?
                .into_iter()
                .map(|i| json!({ "kind": i.kind, "value": i.value }))
                .collect();
            ctx["indicators"] = json!(indicators);
        }
        if !outside {
            ctx["incident"]["title"] = json!(incident.title);
            ctx["decisions"] = self
                .store
                .decisions(incident.id)
                .await?
                .into_iter()
                .map(|d| json!({ "name": d.name, "value": d.value, "by": d.decided_by_name, "at": minute(d.decided_at) }))
                .collect();
            ctx["contacts"] = self
                .store
                .contact_log(incident.id)
                .await?
                .into_iter()
                .map(|c| json!({ "party": c.party.as_str(), "name": c.name, "at": minute(c.at) }))
                .collect();
            ctx["team"] = self
                .store
                .memberships(incident.id)
                .await?
                .into_iter()
                .filter(|m| m.ended_at.is_none())
                .map(|m| json!({ "user": m.user_name, "role": m.role.as_str() }))
                .collect();
            ctx["steps_done"] = self
                .store
                .tasks(incident.id)
                .await?
                .into_iter()
                .filter(|t| t.status == TaskStatus::Done)
                .map(|t| json!({ "step": t.step, "title": t.title, "at": minute(t.updated_at) }))
                .collect();
        }
        Ok(ctx)
    }
}
