//! The implementation of [`HandleStore`].

use async_trait::async_trait;

use super::SqlStore;
use crate::Result;
use crate::dialect::{Backend, sql};
use crate::handles::{HandleStore, like_pattern};
use crate::paging::PageRow;
use crate::rows;

#[async_trait]
impl<B: Backend> HandleStore for SqlStore<B> {
    async fn pages_with_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<PageRow>> {
        let Some(pattern) = like_pattern(prefix) else {
            return Ok(Vec::new());
        };
        sql(
            "SELECT id, incident_id, status, state, created_by, role, created_at, updated_at FROM pages
             WHERE CAST(id AS TEXT) LIKE $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(pattern)
        .bind(limit)
        .map_all(&mut *self.read().await?, rows::page)
        .await
    }
}
