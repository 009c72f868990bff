//! Communications policy: who a message is for, the draft → approved → sent state machine,
//! which playbook gate each audience waits for, who must approve it, and the guide's rules as
//! a linter ([`lint`]).
//!
//! After PagerDuty's security incident response guide: internal communication only once the
//! attack is known not to be internal (step 11); external communication only once the timeline
//! and the compromised data are established (step 14), with the date in the title, no "we take
//! security seriously", no naming and shaming, and customers' security teams told before the
//! public notice.

pub mod lint;
pub mod prefill;

use std::fmt;
use std::str::FromStr;

use crate::error::DomainError;
use crate::role::Role;

/// Whom a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    Internal,
    External,
    CustomerSecurity,
    LawEnforcement,
    Regulator,
    Insurer,
    Vendor,
}

impl Audience {
    pub const ALL: [Self; 7] = [
        Self::Internal,
        Self::External,
        Self::CustomerSecurity,
        Self::LawEnforcement,
        Self::Regulator,
        Self::Insurer,
        Self::Vendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
            Self::CustomerSecurity => "customer_security",
            Self::LawEnforcement => "law_enforcement",
            Self::Regulator => "regulator",
            Self::Insurer => "insurer",
            Self::Vendor => "vendor",
        }
    }

    /// The playbook step whose gates the audience waits for: internal messages wait for the
    /// insider threat to be ruled out (step 11); external ones, and notices to customers'
    /// security teams (which may go before the public notice), for the facts (step 14).
    pub fn gate_step(self) -> Option<u32> {
        match self {
            Self::Internal => Some(11),
            Self::External | Self::CustomerSecurity => Some(14),
            _ => None,
        }
    }

    /// The roles that must each approve before the message may go.
    pub fn required_approvals(self) -> &'static [Role] {
        match self {
            Self::External => &[Role::IncidentCommander, Role::Legal],
            _ => &[Role::IncidentCommander],
        }
    }

    /// Whether the audience is outside the response team: every audience but `internal`.
    /// Outside audiences never see internal-only records (decisions, contacts, role and user
    /// names, checklist titles) in a prefilled draft ([`prefill`]).
    pub fn is_outside(self) -> bool {
        self != Self::Internal
    }

    /// A public notice is published, not mailed.
    pub fn is_published(self) -> bool {
        self == Self::External
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::named!(Audience, "audience");

impl FromStr for Audience {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftStatus {
    Draft,
    Approved,
    Sent,
}

impl DraftStatus {
    pub const ALL: [Self; 3] = [Self::Draft, Self::Approved, Self::Sent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Sent => "sent",
        }
    }
}

impl fmt::Display for DraftStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::named!(DraftStatus, "status");

impl FromStr for DraftStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

/// Why an approval cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The approver holds none of the roles the audience needs (still missing ones listed).
    LacksRole { needed: Vec<Role> },
    /// The message went out already.
    AlreadySent,
}

/// The outcome of an approval: the roles newly approved, and the status after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub roles: Vec<Role>,
    pub status: DraftStatus,
}

/// Records `approver_roles` against an audience's required approvals, given the roles that
/// approved already. The draft is approved once every required role has approved.
pub fn approve(
    audience: Audience,
    status: DraftStatus,
    approved: &[Role],
    approver_roles: &[Role],
) -> Result<Approval, ApprovalRefusal> {
    if status == DraftStatus::Sent {
        return Err(ApprovalRefusal::AlreadySent);
    }
    let required = audience.required_approvals();
    let roles: Vec<Role> = required
        .iter()
        .copied()
        .filter(|r| approver_roles.contains(r) && !approved.contains(r))
        .collect();
    let held_any = required.iter().any(|r| approver_roles.contains(r));
    if !held_any {
        return Err(ApprovalRefusal::LacksRole {
            needed: missing_approvals(audience, approved),
        });
    }
    let mut all: Vec<Role> = approved.to_vec();
    all.extend(&roles);
    let status = if missing_approvals(audience, &all).is_empty() {
        DraftStatus::Approved
    } else {
        DraftStatus::Draft
    };
    Ok(Approval { roles, status })
}

/// The required roles that have not approved yet.
pub fn missing_approvals(audience: Audience, approved: &[Role]) -> Vec<Role> {
    audience
        .required_approvals()
        .iter()
        .copied()
        .filter(|r| !approved.contains(r))
        .collect()
}

/// Why a message cannot be sent now (gates are checked by the caller against the playbook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    NotApproved { missing: Vec<Role> },
    AlreadySent,
}

/// May a draft in `status` with these approvals be sent?
pub fn check_send(audience: Audience, status: DraftStatus, approved: &[Role]) -> Result<(), SendRefusal> {
    match status {
        DraftStatus::Sent => Err(SendRefusal::AlreadySent),
        DraftStatus::Approved if missing_approvals(audience, approved).is_empty() => Ok(()),
        _ => Err(SendRefusal::NotApproved {
            missing: missing_approvals(audience, approved),
        }),
    }
}

/// A party contacted under steps 12–13.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    Legal,
    LawEnforcement,
    SecurityFirm,
    Insurer,
    Operator,
}

impl Party {
    pub const ALL: [Self; 5] = [
        Self::Legal,
        Self::LawEnforcement,
        Self::SecurityFirm,
        Self::Insurer,
        Self::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legal => "legal",
            Self::LawEnforcement => "law_enforcement",
            Self::SecurityFirm => "security_firm",
            Self::Insurer => "insurer",
            Self::Operator => "operator",
        }
    }

    /// The checklist step that tracks contacting this party: operators of systems used in the
    /// attack are step 13, everyone else step 12.
    pub fn step(self) -> u32 {
        match self {
            Self::Operator => 13,
            _ => 12,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::names::Named for Party {
    const FIELD: &'static str = "party";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn alias(key: &str) -> Option<Self> {
        match key {
            "police" | "fbi" => Some(Self::LawEnforcement),
            "cyber_insurer" | "insurance" => Some(Self::Insurer),
            "vendor" => Some(Self::Operator),
            _ => None,
        }
    }
}

impl FromStr for Party {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_needs_commander_and_legal() {
        let a = Audience::External;
        let first = approve(a, DraftStatus::Draft, &[], &[Role::IncidentCommander]).unwrap();
        assert_eq!(first.roles, [Role::IncidentCommander]);
        assert_eq!(first.status, DraftStatus::Draft);
        assert_eq!(
            check_send(a, first.status, &first.roles),
            Err(SendRefusal::NotApproved {
                missing: vec![Role::Legal]
            })
        );
        let second = approve(a, first.status, &first.roles, &[Role::Legal]).unwrap();
        assert_eq!(second.status, DraftStatus::Approved);
        assert!(check_send(a, second.status, &[Role::IncidentCommander, Role::Legal]).is_ok());
        assert_eq!(
            approve(a, DraftStatus::Draft, &[], &[Role::Marketing]),
            Err(ApprovalRefusal::LacksRole {
                needed: vec![Role::IncidentCommander, Role::Legal]
            })
        );
        assert_eq!(
            approve(a, DraftStatus::Sent, &[], &[Role::Legal]),
            Err(ApprovalRefusal::AlreadySent)
        );
    }

    #[test]
    fn others_need_the_commander_only_and_gates_follow_the_guide() {
        let one = approve(Audience::Regulator, DraftStatus::Draft, &[], &[Role::IncidentCommander]).unwrap();
        assert_eq!(one.status, DraftStatus::Approved);
        assert!(approve(Audience::Internal, DraftStatus::Draft, &[], &[Role::Legal]).is_err());
        assert_eq!(Audience::Internal.gate_step(), Some(11));
        assert_eq!(Audience::External.gate_step(), Some(14));
        assert_eq!(Audience::CustomerSecurity.gate_step(), Some(14));
        assert_eq!(Audience::Insurer.gate_step(), None);
        assert_eq!(
            check_send(Audience::Insurer, DraftStatus::Draft, &[]),
            Err(SendRefusal::NotApproved {
                missing: vec![Role::IncidentCommander]
            })
        );
        assert_eq!(
            check_send(Audience::Insurer, DraftStatus::Sent, &[Role::IncidentCommander]),
            Err(SendRefusal::AlreadySent)
        );
    }

    #[test]
    fn names_parse() {
        for a in Audience::ALL {
            assert_eq!(a.as_str().parse::<Audience>().unwrap(), a);
        }
        assert_eq!(
            "customer-security".parse::<Audience>().unwrap(),
            Audience::CustomerSecurity
        );
        assert!("press".parse::<Audience>().is_err());
        assert_eq!("operator".parse::<Party>().unwrap().step(), 13);
        assert_eq!("FBI".parse::<Party>().unwrap(), Party::LawEnforcement);
        assert_eq!(Party::Insurer.step(), 12);
    }
}
