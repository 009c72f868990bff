//! Storage of evidence records and their chain of custody (issue 5).

use async_trait::async_trait;

/// Evidence records and custody events. Part of [`crate::Store`].
#[async_trait]
pub trait EvidenceStore: Send + Sync {}
