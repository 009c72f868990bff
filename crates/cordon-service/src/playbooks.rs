//! The playbooks a deployment runs: the built-in security and operational checklists.

use cordon_core::incident::IncidentKind;
use cordon_core::playbook::Playbook;

use crate::{Result, ServiceError};

/// The checklists shipped in `playbooks/` at the repository root, compiled in.
pub const BUILTIN_SECURITY: &str = include_str!("../../../playbooks/security.toml");
pub const BUILTIN_OPERATIONAL: &str = include_str!("../../../playbooks/operational.toml");

/// One playbook per incident kind.
#[derive(Debug, Clone)]
pub struct Playbooks {
    pub security: Playbook,
    pub operational: Playbook,
}

impl Playbooks {
    /// The built-in playbooks. They are tested to parse, so this cannot fail at run time.
    pub fn builtin() -> Self {
        Self::from_sources(BUILTIN_SECURITY, BUILTIN_OPERATIONAL).expect("built-in playbooks are valid")
    }

    pub fn from_sources(security: &str, operational: &str) -> Result<Self> {
        let security = Playbook::parse(security).map_err(ServiceError::from)?;
        let operational = Playbook::parse(operational).map_err(ServiceError::from)?;
        Ok(Self { security, operational })
    }

    pub fn for_kind(&self, kind: IncidentKind) -> &Playbook {
        match kind {
            IncidentKind::Security => &self.security,
            IncidentKind::Operational => &self.operational,
        }
    }

    pub fn by_name(&self, name: &str) -> Option<&Playbook> {
        [&self.security, &self.operational].into_iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use cordon_core::playbook::Requirement;
    use cordon_core::role::Role;
    use cordon_core::task::TaskStatus;

    use super::*;

    #[test]
    fn the_security_playbook_is_the_fourteen_step_checklist_with_its_gates() {
        let p = Playbooks::builtin().security;
        assert_eq!(
            p.steps.iter().map(|s| s.step).collect::<Vec<_>>(),
            (1..=14).collect::<Vec<_>>()
        );
        assert!(
            p.steps.iter().all(|s| !s.check_items.is_empty()),
            "every step has check items"
        );
        assert_eq!(p.step(11).unwrap().owner_role, Role::VpEngineering);
        assert_eq!(p.step(12).unwrap().owner_role, Role::VpEngineering);
        assert_eq!(p.step(14).unwrap().owner_role, Role::Marketing);
        assert_eq!(p.always_involved, ["security"]);
        let gated: Vec<u32> = p.steps.iter().filter(|s| !s.gates.is_empty()).map(|s| s.step).collect();
        assert_eq!(gated, [10, 11, 14]);
        let req = |step: u32| {
            p.step(step)
                .unwrap()
                .gates
                .iter()
                .map(|g| g.requires.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            req(10),
            [Requirement::StepsDone(vec![1, 4]), Requirement::StepsDone(vec![9])]
        );
        assert_eq!(req(11), [Requirement::Decision("insider_threat_ruled_out".into())]);
        assert_eq!(req(14), [Requirement::StepsDone(vec![5, 6])]);

        let all_done: HashMap<u32, TaskStatus> = (1..=14).map(|s| (s, TaskStatus::Done)).collect();
        assert!(p.unmet_gates(10, &all_done, &BTreeSet::new()).is_empty());
        assert_eq!(p.unmet_gates(11, &all_done, &BTreeSet::new()).len(), 1);
    }

    #[test]
    fn the_operational_playbook_parses_and_has_dates() {
        let p = Playbooks::builtin();
        assert!(p.operational.last_reviewed.is_some() && p.operational.last_tested.is_some());
        assert!(p.by_name("operational").is_some() && p.by_name("nope").is_none());
    }
}
