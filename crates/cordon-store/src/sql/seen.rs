//! PostgreSQL implementation of [`SeenStore`]: the primary key decides which node takes a key
//! first (a concurrent insert of the same key waits for the first to commit, then finds it
//! live and changes nothing).

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;

use super::PostgresStore;
use crate::Result;
use crate::seen::{EXPIRED_PER_CALL, FORGET_EXPIRED_SQL, SEE_ONCE_SQL, SeenStore};

#[async_trait]
impl SeenStore for PostgresStore {
    async fn see_once(&self, scope: &str, key: &str, expires_at: Timestamp, now: Timestamp) -> Result<bool> {
        // Cleaning up is its own statement: a slow delete never holds the key's row lock.
        sqlx::query(FORGET_EXPIRED_SQL)
            .bind(to_micros(now))
            .bind(EXPIRED_PER_CALL)
            .execute(&self.pool)
            .await?;
        let taken = sqlx::query(SEE_ONCE_SQL)
            .bind(scope)
            .bind(key)
            .bind(to_micros(expires_at))
            .bind(to_micros(now))
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1;
        Ok(taken)
    }
}
