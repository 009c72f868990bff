//! Requests seen recently: one-time keys with an expiry, so that a signed inbound request
//! (a Slack command, an Events API delivery) is acted on once however often it is replayed,
//! on one node or on several sharing a PostgreSQL database.

use async_trait::async_trait;
use cordon_core::Timestamp;

use crate::Result;

/// The most expired keys removed by one [`SeenStore::see_once`] (the rest go with later calls).
pub const EXPIRED_PER_CALL: i64 = 1000;

#[async_trait]
pub trait SeenStore: Send + Sync {
    /// Takes `key` in `scope` until `expires_at`: true the first time, false while an earlier
    /// taking lives (an expired one is taken anew). Removes some expired keys on the way.
    /// Not audited: the caller audits what it refuses.
    async fn see_once(&self, scope: &str, key: &str, expires_at: Timestamp, now: Timestamp) -> Result<bool>;
}

/// The statement both backends run: insert, or renew a key whose time is up.
pub(crate) const SEE_ONCE_SQL: &str = "INSERT INTO seen_requests (scope, key, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at
     WHERE seen_requests.expires_at <= $4";

/// Removes up to [`EXPIRED_PER_CALL`] expired keys.
pub(crate) const FORGET_EXPIRED_SQL: &str = "DELETE FROM seen_requests WHERE (scope, key) IN
     (SELECT scope, key FROM seen_requests WHERE expires_at <= $1 LIMIT $2)";
