//! SQLite implementation of [`EvidenceStore`].

use crate::evidence::EvidenceStore;

use super::SqliteStore;

impl EvidenceStore for SqliteStore {}
