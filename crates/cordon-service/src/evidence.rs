//! The evidence locker's use cases (issue 5): streaming uploads with digests, custody,
//! verification and downloads, under the incident's need-to-know.

use std::path::Path;

use crate::{Cordon, Result};

/// The evidence locker: where evidence bytes are stored.
#[derive(Debug)]
pub struct Locker {}

impl Locker {
    /// Opens (creating) the locker under `dir`.
    pub async fn open(_dir: &Path) -> Result<Self> {
        Ok(Self {})
    }
}

impl Cordon {
    /// Attaches the evidence locker.
    pub fn with_evidence(mut self, locker: Locker) -> Self {
        self.evidence = Some(std::sync::Arc::new(locker));
        self
    }
}
