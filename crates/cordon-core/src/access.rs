//! Need-to-know: who may see and act on an incident.
//!
//! A sealed incident is visible to its active members, the security group and admins. To
//! everyone else it does not exist: callers answer "not found", never "forbidden".

use uuid::Uuid;

use crate::incident::Incident;
use crate::role::Role;
use crate::user::{SECURITY_GROUP, User};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub name: String,
    pub is_admin: bool,
    pub groups: Vec<String>,
}

impl Principal {
    pub fn from_user(u: &User) -> Self {
        Self {
            user_id: u.id,
            name: u.name.clone(),
            is_admin: u.is_admin,
            groups: u.groups.clone(),
        }
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Admins and the security team see every incident, sealed or not.
    pub fn sees_all_incidents(&self) -> bool {
        self.is_admin || self.in_group(SECURITY_GROUP)
    }
}

/// What the caller is to one incident: the roles they hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub active_roles: Vec<Role>,
}

impl Standing {
    pub fn is_member(&self) -> bool {
        !self.active_roles.is_empty()
    }

    pub fn holds(&self, role: Role) -> bool {
        self.active_roles.contains(&role)
    }
}

/// May this caller know the incident exists?
pub fn can_view(p: &Principal, incident: &Incident, standing: &Standing) -> bool {
    !incident.sealed || p.sees_all_incidents() || standing.is_member()
}

/// May this caller change the incident's checklist and records? Members, security and admins.
/// A viewer of an unsealed incident who is not on its team may look but not act.
pub fn can_work(p: &Principal, standing: &Standing) -> bool {
    p.sees_all_incidents() || standing.is_member()
}

/// May this caller change who is on the team or the incident's status? The incident
/// commander, the deputy, the security lead, the security group and admins.
pub fn can_command(p: &Principal, standing: &Standing) -> bool {
    p.sees_all_incidents()
        || standing.holds(Role::IncidentCommander)
        || standing.holds(Role::Deputy)
        || standing.holds(Role::SecurityLead)
}

/// The role an acknowledged page grants its recipient: the role the page was for when it is
/// free (or may be held by several), otherwise a responder's seat on the team. `None` when the
/// recipient holds the role already.
pub fn granted_role(page_role: Role, held_by_recipient: &[Role], holder_exists: bool) -> Option<Role> {
    let role = if page_role.single_holder() && holder_exists {
        Role::SubjectMatterExpert
    } else {
        page_role
    };
    (!held_by_recipient.contains(&role) && !held_by_recipient.contains(&page_role)).then_some(role)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::codename::Codename;
    use crate::incident::{IncidentKind, Severity, Status};

    fn incident(sealed: bool) -> Incident {
        Incident {
            id: Uuid::nil(),
            codename: Codename::from_key("amber-falcon").unwrap(),
            kind: if sealed {
                IncidentKind::Security
            } else {
                IncidentKind::Operational
            },
            severity: Severity::new(1).unwrap(),
            status: Status::Triage,
            sealed,
            title: "t".into(),
            description: String::new(),
            room: None,
            playbook: "security".into(),
            created_by: Uuid::nil(),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn who(admin: bool, groups: &[&str]) -> Principal {
        Principal {
            user_id: Uuid::max(),
            name: "x".into(),
            is_admin: admin,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn sealed_incidents_are_need_to_know() {
        let sealed = incident(true);
        let none = Standing::default();
        let member = Standing {
            active_roles: vec![Role::Scribe],
        };
        assert!(!can_view(&who(false, &[]), &sealed, &none));
        assert!(!can_view(&who(false, &["engineering"]), &sealed, &none));
        assert!(can_view(&who(false, &[]), &sealed, &member));
        assert!(can_view(&who(false, &["security"]), &sealed, &none));
        assert!(can_view(&who(true, &[]), &sealed, &none));
        assert!(can_view(&who(false, &[]), &incident(false), &none));
    }

    #[test]
    fn command_needs_a_command_role() {
        let p = who(false, &[]);
        assert!(!can_command(
            &p,
            &Standing {
                active_roles: vec![Role::Scribe]
            }
        ));
        assert!(can_command(
            &p,
            &Standing {
                active_roles: vec![Role::IncidentCommander]
            }
        ));
        assert!(can_work(
            &p,
            &Standing {
                active_roles: vec![Role::Scribe]
            }
        ));
        assert!(!can_work(&p, &Standing::default()));
    }

    #[test]
    fn an_acknowledged_page_grants_its_role_or_a_responder_seat() {
        use Role::*;
        assert_eq!(granted_role(IncidentCommander, &[], false), Some(IncidentCommander));
        assert_eq!(granted_role(IncidentCommander, &[], true), Some(SubjectMatterExpert));
        assert_eq!(granted_role(IncidentCommander, &[IncidentCommander], true), None);
        assert_eq!(granted_role(SubjectMatterExpert, &[], true), Some(SubjectMatterExpert));
        assert_eq!(granted_role(Legal, &[SubjectMatterExpert], false), Some(Legal));
        assert_eq!(granted_role(IncidentCommander, &[SubjectMatterExpert], true), None);
    }
}
