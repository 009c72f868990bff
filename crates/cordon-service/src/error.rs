//! The service error type: what went wrong, in terms a caller can act on, with stable codes.

use cordon_core::DomainError;
use cordon_store::StoreError;
use thiserror::Error;

/// One unmet gate, as reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmetGate {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("a valid API token is required")]
    Unauthenticated,
    /// A sign-in was refused. The reason is audited; the person signing in learns only
    /// whether to wait ([`crate::SignInRefusal::RateLimited`]) or that what they gave was wrong.
    #[error("{}", signin_message(*.0))]
    SignInRefused(crate::SignInRefusal),
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{}", gate_message(.gates))]
    GateUnmet { gates: Vec<UnmetGate> },
    #[error("{0}")]
    Conflict(String),
    /// The incident's status machine refuses `from → to`; `allowed` are the moves from `from`.
    #[error(
        "the incident cannot move from {from} to {to}; {}",
        cordon_core::error::moves_from(from, allowed)
    )]
    IllegalTransition {
        from: &'static str,
        to: &'static str,
        allowed: Vec<&'static str>,
    },
    /// A register record (asset, credential) cannot make this move.
    #[error(
        "the {what} cannot move from {from} to {to}; {}",
        cordon_core::error::moves_from(from, allowed)
    )]
    IllegalMove {
        what: &'static str,
        from: &'static str,
        to: &'static str,
        allowed: Vec<&'static str>,
    },
    #[error("internal error")]
    Internal(#[source] StoreError),
    /// The operation is never allowed on this resource (stored evidence is write-once).
    #[error("{0}")]
    NotAllowed(String),
    /// The requested byte range lies outside the content, which has `size` bytes.
    #[error("the requested range is outside the content ({size} bytes)")]
    RangeNotSatisfiable { size: u64 },
    /// The evidence locker has no space left for the upload; nothing was kept.
    #[error("the evidence store is full; nothing was kept")]
    StorageFull,
    /// The evidence locker's storage failed.
    #[error("internal error")]
    Evidence(#[source] cordon_evidence::EvidenceError),
    /// The caller is on the team but holds none of the roles the action needs.
    #[error("{0}")]
    ForbiddenRole(String),
    /// A message still lacks approvals (the roles named).
    #[error("the message is not approved; missing approval by: {}", .missing.join(", "))]
    NotApproved { missing: Vec<String> },
    /// A message has error findings of the linter that no override covers (issue 13).
    #[error("{}", lint_message(.findings))]
    LintErrors { findings: Vec<crate::comms::FindingView> },
    /// A template does not parse or render.
    #[error("template error: {0}")]
    Template(String),
    /// The mail channel's rules refused the message (e.g. an outside recipient without a key).
    #[error("{0}")]
    MailRefused(String),
    /// Mail went to some recipients and not to others: sent (it cannot be unsent), and the
    /// message names who did not get it.
    #[error("{0}")]
    PartlySent(String),
    /// A report could not be rendered.
    #[error("internal error")]
    Report(String),
    /// A handle (a name or an id prefix) names more than one item; `candidates` are those
    /// items as `name (short handle)`, for the caller to pick from.
    #[error("`{handle}` matches more than one {what}: {}; give more of the id", .candidates.join(", "))]
    Ambiguous {
        what: &'static str,
        handle: String,
        candidates: Vec<String>,
    },
    /// A resource limit refused the request (issue 12); nothing was kept.
    #[error("{message}")]
    LimitExceeded { limit: Limit, message: String },
    /// An upload's bytes are exactly those of a source the incident already has; nothing was
    /// kept (ingest again with `again` to keep a second copy).
    #[error(
        "these exact bytes were already ingested into this incident as `{name}` (source {source_id}, {ingested_at}); nothing was kept. To ingest them a second time anyway, pass --again (API: again=true)"
    )]
    DuplicateSource {
        source_id: uuid::Uuid,
        name: String,
        ingested_at: cordon_core::Timestamp,
    },
}

/// The resource limit a [`ServiceError::LimitExceeded`] names, with its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A gzip upload inflates more than `max` times its compressed size (`ratio` so far).
    GzipRatio { ratio: u64, max: u64 },
    /// The incident's timeline would hold more than `quota` bytes on disk (`used` before).
    TimelineQuota { quota: u64, used: u64 },
    /// A template needs more work, output or nesting than a render may take.
    TemplateCost,
    /// `at_once` ingests were running and none finished within the wait; try again later.
    IngestBusy { at_once: u64 },
}

fn lint_message(findings: &[crate::comms::FindingView]) -> String {
    let mut rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    rules.dedup();
    format!(
        "the message has {} error finding{} ({}): fix the text, or the incident commander may override with a reason",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        rules.join(", ")
    )
}

fn signin_message(r: crate::SignInRefusal) -> &'static str {
    match r {
        crate::SignInRefusal::RateLimited => "too many failed sign-ins; try again later",
        _ => "the user name, password or code is wrong",
    }
}

fn gate_message(gates: &[UnmetGate]) -> String {
    let names: Vec<_> = gates.iter().map(|g| g.name.as_str()).collect();
    format!("unmet gate: {}", names.join(", "))
}

impl ServiceError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The stable machine code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::SignInRefused(crate::SignInRefusal::RateLimited) => "signin_rate_limited",
            Self::SignInRefused(_) => "signin_refused",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::Invalid { .. } => "invalid_field",
            Self::GateUnmet { .. } => "gate_unmet",
            Self::Conflict(_) => "conflict",
            Self::IllegalTransition { .. } | Self::IllegalMove { .. } => "illegal_transition",
            Self::Internal(_) => "internal",
            Self::NotAllowed(_) => "method_not_allowed",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::StorageFull => "storage_full",
            Self::Evidence(_) => "internal",
            Self::ForbiddenRole(_) => "forbidden_role",
            Self::NotApproved { .. } => "not_approved",
            Self::LintErrors { .. } => "lint_errors",
            Self::Template(_) => "template_error",
            Self::MailRefused(_) => "mail_refused",
            Self::PartlySent(_) => "partly_sent",
            Self::Report(_) => "internal",
            Self::DuplicateSource { .. } => "duplicate_source",
            Self::Ambiguous { .. } => "ambiguous",
            Self::LimitExceeded { limit, .. } => match limit {
                Limit::GzipRatio { .. } => "gzip_ratio_exceeded",
                Limit::TimelineQuota { .. } => "timeline_quota_exceeded",
                Limit::TemplateCost => "template_too_costly",
                Limit::IngestBusy { .. } => "ingest_busy",
            },
        }
    }
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => Self::Invalid { field, message },
            DomainError::IllegalTransition { from, to, allowed } => Self::IllegalTransition { from, to, allowed },
            DomainError::IllegalMove {
                what,
                from,
                to,
                allowed,
            } => Self::IllegalMove {
                what,
                from,
                to,
                allowed,
            },
            DomainError::Playbook(m) => Self::invalid("playbook", m),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            other => Self::Internal(other),
        }
    }
}
