//! The implementation of [`SeenStore`]. Cleaning up expired keys is its own statement, so a
//! slow delete never holds a key's row lock; the primary key decides which caller (on any node)
//! takes a key first: a concurrent insert of the same key waits for the first to commit, then
//! finds it live and changes nothing.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::clock::to_micros;

use super::SqlStore;
use crate::Result;
use crate::dialect::{Backend, sql};
use crate::seen::{EXPIRED_PER_CALL, FORGET_EXPIRED_SQL, SEE_ONCE_SQL, SeenStore};

#[async_trait]
impl<B: Backend> SeenStore for SqlStore<B> {
    async fn see_once(&self, scope: &str, key: &str, expires_at: Timestamp, now: Timestamp) -> Result<bool> {
        let mut conn = self.writer.acquire().await?;
        sql(FORGET_EXPIRED_SQL)
            .bind(to_micros(now))
            .bind(EXPIRED_PER_CALL)
            .execute(&mut *conn)
            .await?;
        let taken = sql(SEE_ONCE_SQL)
            .bind(scope)
            .bind(key)
            .bind(to_micros(expires_at))
            .bind(to_micros(now))
            .execute(&mut *conn)
            .await?
            == 1;
        Ok(taken)
    }
}
