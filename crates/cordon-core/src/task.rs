//! Checklist tasks: one per playbook step, all created at declaration, run in parallel.

use std::str::FromStr;

use jiff::Timestamp;
use uuid::Uuid;

use crate::error::DomainError;
use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
    Skipped,
}

impl TaskStatus {
    pub const ALL: [Self; 4] = [Self::Todo, Self::InProgress, Self::Done, Self::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Skipped => "skipped",
        }
    }

    /// Moving to this status passes the task's gates: starting, finishing or skipping work.
    pub fn passes_gates(self) -> bool {
        !matches!(self, Self::Todo)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Skipped)
    }
}

crate::named!(TaskStatus, "status");

impl FromStr for TaskStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

/// A checklist task as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub step: u32,
    pub key: String,
    pub title: String,
    pub status: TaskStatus,
    pub owner_role: Role,
    pub assignee: Option<Uuid>,
    pub check_items: Vec<String>,
    /// Set when the incident commander moved the task past an unmet gate.
    pub override_reason: Option<String>,
    pub updated_at: Timestamp,
}
