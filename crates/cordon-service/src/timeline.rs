//! The attack timeline's use cases (issue 4): ingesting logs into a per-incident index and
//! querying it, under the incident's need-to-know.

use std::path::Path;

use crate::{Cordon, Result};

/// The per-incident timeline indexes.
#[derive(Debug)]
pub struct Timelines {}

impl Timelines {
    /// Opens (creating) the timeline indexes under `dir`.
    pub async fn open(_dir: &Path) -> Result<Self> {
        Ok(Self {})
    }
}

impl Cordon {
    /// Attaches the timeline indexes.
    pub fn with_timeline(mut self, timelines: Timelines) -> Self {
        self.timeline = Some(std::sync::Arc::new(timelines));
        self
    }
}
