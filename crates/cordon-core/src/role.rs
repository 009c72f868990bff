//! Response roles, after PagerDuty's incident response roles and the security page's delegates.

use std::str::FromStr;

use crate::error::DomainError;

/// A role a responder holds in one incident, for a span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    IncidentCommander,
    Deputy,
    Scribe,
    SubjectMatterExpert,
    InternalLiaison,
    CustomerLiaison,
    SecurityLead,
    ServiceOwner,
    Executive,
    Legal,
    VpEngineering,
    Marketing,
    /// Whoever declared the incident; keeps them in the loop of what they reported.
    Reporter,
}

impl Role {
    pub const ALL: [Self; 13] = [
        Self::IncidentCommander,
        Self::Deputy,
        Self::Scribe,
        Self::SubjectMatterExpert,
        Self::InternalLiaison,
        Self::CustomerLiaison,
        Self::SecurityLead,
        Self::ServiceOwner,
        Self::Executive,
        Self::Legal,
        Self::VpEngineering,
        Self::Marketing,
        Self::Reporter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentCommander => "incident_commander",
            Self::Deputy => "deputy",
            Self::Scribe => "scribe",
            Self::SubjectMatterExpert => "subject_matter_expert",
            Self::InternalLiaison => "internal_liaison",
            Self::CustomerLiaison => "customer_liaison",
            Self::SecurityLead => "security_lead",
            Self::ServiceOwner => "service_owner",
            Self::Executive => "executive",
            Self::Legal => "legal",
            Self::VpEngineering => "vp_engineering",
            Self::Marketing => "marketing",
            Self::Reporter => "reporter",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::IncidentCommander => "Incident Commander",
            Self::Deputy => "Deputy",
            Self::Scribe => "Scribe",
            Self::SubjectMatterExpert => "Subject Matter Expert",
            Self::InternalLiaison => "Internal Liaison",
            Self::CustomerLiaison => "Customer Liaison",
            Self::SecurityLead => "Security Lead",
            Self::ServiceOwner => "Service Owner",
            Self::Executive => "Executive",
            Self::Legal => "Legal Counsel",
            Self::VpEngineering => "VP/Director of Engineering",
            Self::Marketing => "Marketing",
            Self::Reporter => "Reporter",
        }
    }

    /// Command roles have one holder at a time: a new holder ends the previous one's term.
    pub fn single_holder(self) -> bool {
        matches!(self, Self::IncidentCommander | Self::Deputy | Self::Scribe)
    }
}

impl crate::names::Named for Role {
    const FIELD: &'static str = "role";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn alias(key: &str) -> Option<Self> {
        match key {
            "ic" | "commander" => Some(Self::IncidentCommander),
            "sme" => Some(Self::SubjectMatterExpert),
            "vp" | "director_of_engineering" => Some(Self::VpEngineering),
            _ => None,
        }
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_and_aliases_resolve() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert_eq!("IC".parse::<Role>().unwrap(), Role::IncidentCommander);
        assert_eq!("Incident Commander".parse::<Role>().unwrap(), Role::IncidentCommander);
        assert!("janitor".parse::<Role>().is_err());
    }
}
