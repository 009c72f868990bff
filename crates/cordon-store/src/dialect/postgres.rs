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

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres};

use super::{Arg, Backend, Conn, Sql, SqlText};
use crate::sql::SqlStore;
use crate::{Result, StoreError};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The advisory lock key that serializes audit appends across every node on the database
/// (`"cordon"` followed by `1`, as bytes).
pub const AUDIT_CHAIN_LOCK: i64 = 0x636f_7264_6f6e_0001;

/// Connections per node; each request holds one only for its statements.
const POOL_SIZE: u32 = 16;

fn query(q: Sql<'_>) -> Query<'static, Postgres, PgArguments> {
    let mut query = match q.text {
        SqlText::Static(s) => sqlx::query(s),
        SqlText::Built(s) => sqlx::query(AssertSqlSafe(s)),
    };
    for arg in q.args {
        query = match arg {
            Arg::Id(v) => query.bind(v),
            Arg::Text(v) => query.bind(v.map(|s| s.into_owned())),
            Arg::Int(v) => query.bind(v),
            Arg::Flag(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v.map(|b| b.into_owned())),
            Arg::Json(v) => query.bind(Json(v)),
        };
    }
    query
}

impl Conn for PgConnection {
    type Row = PgRow;

    async fn execute(&mut self, q: Sql<'_>) -> Result<u64> {
        Ok(query(q).execute(self).await?.rows_affected())
    }

    async fn fetch_all(&mut self, q: Sql<'_>) -> Result<Vec<PgRow>> {
        Ok(query(q).fetch_all(self).await?)
    }

    async fn fetch_optional(&mut self, q: Sql<'_>) -> Result<Option<PgRow>> {
        Ok(query(q).fetch_optional(self).await?)
    }

    async fn lock_audit_chain(&mut self) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_CHAIN_LOCK)
            .execute(self)
            .await?;
        Ok(())
    }
}

impl Backend for Postgres {
    const LABEL: &'static str = "postgres";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const FOR_SHARE: &'static str = " FOR SHARE";

    fn json_agg(expr: &str, order: &str) -> String {
        if order.is_empty() {
            format!("COALESCE(json_agg({expr}), '[]'::json)")
        } else {
            format!("COALESCE(json_agg({expr} ORDER BY {order}), '[]'::json)")
        }
    }

    fn json_tuple(exprs: &str) -> String {
        format!("json_build_array({exprs})")
    }

    fn in_list(column: &str, param: &str) -> String {
        format!("{column} IN (SELECT jsonb_array_elements_text({param}))")
    }
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
        refuse_newer_schema(&pool).await?;
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

async fn refuse_newer_schema(pool: &PgPool) -> Result<()> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Ok(());
    }
    let database: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?;
    let binary = PostgresStore::binary_schema_version();
    match database {
        Some(database) if database > binary => Err(StoreError::SchemaTooNew { database, binary }),
        _ => Ok(()),
    }
}
