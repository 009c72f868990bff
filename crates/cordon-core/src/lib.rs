//! The Cordon domain: incidents, codenames, roles, the gated playbook, need-to-know rules and
//! the hash-chained audit log.
//!
//! Invariants of this crate: no IO, no clock reads (every function that needs the time takes
//! `now`), no wire types. Untrusted text is parsed into these types once, at the edge.

pub mod access;
pub mod audit;
pub mod clock;
pub mod codename;
pub mod comms;
pub mod error;
pub mod identity;
pub mod incident;
pub mod names;
pub mod playbook;
pub mod register;
pub mod regulatory;
pub mod role;
pub mod task;
pub mod text;
pub mod user;

pub use error::DomainError;
pub use jiff::Timestamp;
pub use uuid::Uuid;
