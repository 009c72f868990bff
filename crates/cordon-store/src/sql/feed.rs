//! The implementation of [`FeedStore`].

use async_trait::async_trait;
use uuid::Uuid;

use super::SqlStore;
use crate::Result;
use crate::dialect::{Backend, Cols, sql};
use crate::feed::{FeedStore, IncidentItem};

#[async_trait]
impl<B: Backend> FeedStore for SqlStore<B> {
    async fn audit_head(&self) -> Result<i64> {
        Ok(sql("SELECT MAX(seq) AS head FROM audit_log")
            .fetch_one(&mut *self.read().await?)
            .await?
            .opt_int("head")?
            .unwrap_or(0))
    }

    async fn incident_of_item(&self, item: IncidentItem, id: Uuid) -> Result<Option<Uuid>> {
        let row = sql(item.incident_query())
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        match row {
            Some(r) => r.opt_uuid("incident_id"),
            None => Ok(None),
        }
    }
}
