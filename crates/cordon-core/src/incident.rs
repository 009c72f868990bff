//! Incidents: kind, severity, the status machine, and how an incident is addressed.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use uuid::Uuid;

use crate::codename::{Codename, codename_key};
use crate::error::DomainError;
use crate::names::Named;

/// What kind of incident this is. Security incidents are sealed from creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentKind {
    Security,
    Operational,
}

impl IncidentKind {
    pub const ALL: [Self; 2] = [Self::Security, Self::Operational];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Operational => "operational",
        }
    }

    /// Security incidents are sealed to their team from the moment they exist.
    pub fn sealed_from_creation(self) -> bool {
        matches!(self, Self::Security)
    }
}

crate::named!(IncidentKind, "kind");

impl FromStr for IncidentKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_name(s)
    }
}

/// SEV-1 (worst) to SEV-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Severity(u8);

impl Severity {
    pub fn new(level: u8) -> Result<Self, DomainError> {
        if (1..=5).contains(&level) {
            Ok(Self(level))
        } else {
            Err(DomainError::invalid(
                "severity",
                format!("SEV-{level} is out of range SEV-1…SEV-5"),
            ))
        }
    }

    pub fn level(self) -> u8 {
        self.0
    }

    pub const ALL: [Self; 5] = [Self(1), Self(2), Self(3), Self(4), Self(5)];

    pub fn as_str(self) -> &'static str {
        ["SEV-1", "SEV-2", "SEV-3", "SEV-4", "SEV-5"][usize::from(self.0 - 1)]
    }
}

impl Named for Severity {
    const FIELD: &'static str = "severity";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    /// `sev2` and a bare `2` as well as `SEV-2`.
    fn alias(key: &str) -> Option<Self> {
        let digits = key.strip_prefix("sev").unwrap_or(key);
        Self::new(digits.parse().ok()?).ok()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV-{}", self.0)
    }
}

impl FromStr for Severity {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_name(s)
    }
}

/// The incident's life: triage → active → contained → resolved → closed, or `not_an_incident`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Triage,
    Active,
    Contained,
    Resolved,
    Closed,
    NotAnIncident,
}

impl Status {
    pub const ALL: [Self; 6] = [
        Self::Triage,
        Self::Active,
        Self::Contained,
        Self::Resolved,
        Self::Closed,
        Self::NotAnIncident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triage => "triage",
            Self::Active => "active",
            Self::Contained => "contained",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::NotAnIncident => "not_an_incident",
        }
    }

    /// Open incidents hold their codename; closed ones release it.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Closed | Self::NotAnIncident)
    }

    /// Whether the status machine allows `self → to`. Re-attacks may reopen a contained or
    /// resolved incident; closed and not-an-incident are final.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Triage, Active)
                | (Triage, NotAnIncident)
                | (Active, Contained)
                | (Active, NotAnIncident)
                | (Contained, Active)
                | (Contained, Resolved)
                | (Resolved, Active)
                | (Resolved, Closed)
        )
    }

    /// The statuses an incident may move to from this one, in lifecycle order.
    pub fn next(self) -> Vec<Status> {
        Self::ALL.into_iter().filter(|to| self.can_move_to(*to)).collect()
    }

    /// Checks a transition, naming both ends and the moves allowed when it is refused.
    pub fn transition(self, to: Status) -> Result<Status, DomainError> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(DomainError::IllegalTransition {
                from: self.as_str(),
                to: to.as_str(),
                allowed: self.next().into_iter().map(Status::as_str).collect(),
            })
        }
    }
}

crate::named!(Status, "status");

impl FromStr for Status {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_name(s)
    }
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: Uuid,
    pub codename: Codename,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub status: Status,
    pub sealed: bool,
    pub title: String,
    pub description: String,
    pub room: Option<String>,
    pub playbook: String,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// How a caller names an incident: its id, or its codename in any case with spaces or hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentRef {
    Id(Uuid),
    Codename(String),
}

impl IncidentRef {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if let Ok(id) = Uuid::parse_str(raw.trim()) {
            return Ok(Self::Id(id));
        }
        let key = codename_key(raw);
        if key.is_empty() {
            return Err(DomainError::invalid(
                "ref",
                "an incident reference is an id or a codename",
            ));
        }
        Ok(Self::Codename(key))
    }
}

/// Title and description limits: generous, but bounded.
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;

/// Validates a human-written title.
pub fn validate_title(title: &str) -> Result<String, DomainError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(DomainError::invalid("title", "must not be empty"));
    }
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(DomainError::invalid(
            "title",
            format!("longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    crate::text::check_line("title", t)?;
    Ok(t.to_owned())
}

/// Validates a free-text description.
pub fn validate_description(d: &str) -> Result<String, DomainError> {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::invalid(
            "description",
            format!("longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    crate::text::check_multiline("description", d)?;
    Ok(d.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_round_trips_and_rejects_out_of_range() {
        for l in 1..=5 {
            let s: Severity = format!("SEV-{l}").parse().unwrap();
            assert_eq!(s.to_string(), format!("SEV-{l}"));
        }
        assert!("SEV-0".parse::<Severity>().is_err());
        assert!("SEV-6".parse::<Severity>().is_err());
        assert!("SEV-".parse::<Severity>().is_err());
        assert!("high".parse::<Severity>().is_err());
        assert_eq!("sev-1".parse::<Severity>().unwrap().level(), 1);
    }

    #[test]
    fn status_machine_allows_the_lifecycle_and_false_alarms_only() {
        use Status::*;
        let path = [Triage, Active, Contained, Resolved, Closed];
        for w in path.windows(2) {
            assert!(w[0].can_move_to(w[1]), "{:?} → {:?}", w[0], w[1]);
        }
        assert!(Triage.can_move_to(NotAnIncident));
        assert!(Active.can_move_to(NotAnIncident));
        assert!(!Contained.can_move_to(NotAnIncident));
        assert!(Contained.can_move_to(Active), "re-attack reopens");
        for to in Status::ALL {
            assert!(!Closed.can_move_to(to));
            assert!(!NotAnIncident.can_move_to(to));
            assert!(!to.can_move_to(to), "no self loops");
        }
        assert!(!Triage.can_move_to(Closed));
        assert!(Closed.transition(Active).is_err());
        assert_eq!(Triage.next(), [Active, NotAnIncident]);
        assert!(Closed.next().is_empty());
        let e = Triage.transition(Resolved).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the incident cannot move from triage to resolved; from triage it can move to active or not_an_incident"
        );
    }

    #[test]
    fn refs_accept_ids_and_codenames_in_any_spelling() {
        let id = Uuid::nil();
        assert_eq!(IncidentRef::parse(&id.to_string()).unwrap(), IncidentRef::Id(id));
        for raw in [
            "Sapphire Unicorn",
            "sapphire-unicorn",
            "SAPPHIRE_UNICORN",
            "  sapphire   unicorn ",
        ] {
            assert_eq!(
                IncidentRef::parse(raw).unwrap(),
                IncidentRef::Codename("sapphire-unicorn".into())
            );
        }
        assert!(IncidentRef::parse(" - ").is_err());
    }
}

/// A responder's term in a role on one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub user_id: Uuid,
    pub user_name: String,
    pub role: crate::role::Role,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// A recorded decision, e.g. `insider_threat_ruled_out = true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub name: String,
    pub value: bool,
    pub note: String,
    pub decided_by: Uuid,
    pub decided_by_name: String,
    pub decided_at: Timestamp,
}
