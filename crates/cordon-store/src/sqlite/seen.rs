//! SQLite implementation of [`SeenStore`].

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;

use super::SqliteStore;
use crate::Result;
use crate::seen::{EXPIRED_PER_CALL, FORGET_EXPIRED_SQL, SEE_ONCE_SQL, SeenStore};

#[async_trait]
impl SeenStore for SqliteStore {
    async fn see_once(&self, scope: &str, key: &str, expires_at: Timestamp, now: Timestamp) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(FORGET_EXPIRED_SQL)
            .bind(to_micros(now))
            .bind(EXPIRED_PER_CALL)
            .execute(&mut *tx)
            .await?;
        let taken = sqlx::query(SEE_ONCE_SQL)
            .bind(scope)
            .bind(key)
            .bind(to_micros(expires_at))
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(taken)
    }
}
