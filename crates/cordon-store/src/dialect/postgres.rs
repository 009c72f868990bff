//! PostgreSQL, for several Cordon nodes sharing one database: how it binds each kind of value,
//! runs a query, locks the audit chain, and opens.
//!
//! What makes the store's semantics hold across processes:
//! - the audit chain stays one chain: every append takes a transaction-scoped advisory lock
//!   ([`AUDIT_CHAIN_LOCK`]) before it reads the chain head, so concurrent writers on any node
//!   append one after the other; the lock is released when the change it belongs to commits;
//! - what must happen once (an escalation, an asset move, a sent communication, a met
//!   milestone, a claimed reminder) is a conditional UPDATE whose rows affected decide: a
//!   second node's UPDATE waits for the first to commit, re-checks, and changes nothing;
//! - a notification is claimed with `FOR UPDATE SKIP LOCKED` ([`Backend::SKIP_LOCKED`]), and a
//!   credential's assets are share-locked while it is recorded ([`Backend::FOR_SHARE`]);
//! - migrations take sqlx's advisory lock, so nodes starting together migrate once;
//! - instants are BIGINT Unix microseconds, exactly what the audit chain hashes; text sorts
//!   with `COLLATE "C"` (byte order, as SQLite sorts), whatever the database's collation.

use std::str::FromStr;

use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::types::Json;

use super::{Arg, Backend, Conn, Sql, SqlText, driver_conn, refuse_newer_schema, sql};
use crate::Result;
use crate::sql::SqlStore;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The advisory lock key that serializes audit appends across every node on the database
/// (`"cordon"` followed by `1`, as bytes).
pub const AUDIT_CHAIN_LOCK: i64 = 0x636f_7264_6f6e_0001;

/// Connections per node; each request holds one only for its statements.
const POOL_SIZE: u32 = 16;

driver_conn!(
    PgConnection,
    PgRow,
    id: |id: uuid::Uuid| id,
    json: Json,
    lock: Some(sql("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_CHAIN_LOCK))
);

impl Backend for Postgres {
    const LABEL: &'static str = "postgres";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const FOR_SHARE: &'static str = " FOR SHARE";
    const INSERTION_ORDER: &'static str = "seq";
    const JSON_AGG: (&'static str, &'static str) = ("COALESCE(json_agg(", "), '[]'::json)");
    const JSON_ARRAY: &'static str = "json_build_array";
    const LIST_ELEMENTS: (&'static str, &'static str) = ("SELECT jsonb_array_elements_text(", ")");
    const MIGRATIONS_TABLE: &'static str = "SELECT 1 AS one WHERE to_regclass('_sqlx_migrations') IS NOT NULL";
}

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<Postgres>;

impl SqlStore<Postgres> {
    /// Connects to a `postgres://…` URL and brings the schema up to date.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with the given options and brings the schema up to date.
    pub async fn open_with(opts: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect_with(opts)
            .await?;
        refuse_newer_schema(&pool, Self::binary_schema_version()).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
        })
    }

    /// The newest schema version this binary knows.
    pub fn binary_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}
