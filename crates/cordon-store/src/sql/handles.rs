//! PostgreSQL implementation of [`HandleStore`].

use async_trait::async_trait;

use super::PostgresStore;
use crate::Result;
use crate::handles::{HandleStore, like_pattern};
use crate::paging::PageRow;
use crate::rows as from_row;

#[async_trait]
impl HandleStore for PostgresStore {
    async fn pages_with_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<PageRow>> {
        let Some(pattern) = like_pattern(prefix) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT id, incident_id, status, state, created_by, role, created_at, updated_at FROM pages
             WHERE id::text LIKE $1 ORDER BY created_at, id LIMIT $2",
        )
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row::page).collect()
    }
}
