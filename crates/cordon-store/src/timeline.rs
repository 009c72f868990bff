//! Storage of timeline sources (one per ingested log) (issue 4).

use async_trait::async_trait;

/// Timeline sources. Part of [`crate::Store`].
#[async_trait]
pub trait TimelineStore: Send + Sync {}
