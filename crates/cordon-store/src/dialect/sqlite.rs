//! SQLite: how it binds each kind of value, runs a query, and opens (WAL, foreign keys, one
//! writer connection and a reader pool).
//!
//! Writes go through a single connection so transactions never contend for SQLite's write lock
//! (which is also why the audit chain needs no lock of its own); reads run concurrently on the
//! reader pool (WAL lets them see the last committed state).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Sqlite};

use super::{Arg, Backend, Conn, Sql, SqlText};
use crate::sql::SqlStore;
use crate::{Result, StoreError};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Connections in the reader pool.
const READERS: u32 = 8;

fn query(q: Sql<'_>) -> Query<'static, Sqlite, SqliteArguments> {
    let mut query = match q.text {
        SqlText::Static(s) => sqlx::query(s),
        SqlText::Built(s) => sqlx::query(AssertSqlSafe(s)),
    };
    for arg in q.args {
        query = match arg {
            Arg::Id(v) => query.bind(v.map(|id| id.to_string())),
            Arg::Text(v) => query.bind(v.map(|s| s.into_owned())),
            Arg::Int(v) => query.bind(v),
            Arg::Flag(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v.map(|b| b.into_owned())),
            Arg::Json(v) => query.bind(v.to_string()),
        };
    }
    query
}

impl Conn for SqliteConnection {
    type Row = SqliteRow;

    async fn execute(&mut self, q: Sql<'_>) -> Result<u64> {
        Ok(query(q).execute(self).await?.rows_affected())
    }

    async fn fetch_all(&mut self, q: Sql<'_>) -> Result<Vec<SqliteRow>> {
        Ok(query(q).fetch_all(self).await?)
    }

    async fn fetch_optional(&mut self, q: Sql<'_>) -> Result<Option<SqliteRow>> {
        Ok(query(q).fetch_optional(self).await?)
    }

    async fn lock_audit_chain(&mut self) -> Result<()> {
        // One writer connection: a write transaction already excludes every other.
        Ok(())
    }
}

impl Backend for Sqlite {
    const LABEL: &'static str = "sqlite";
    const SKIP_LOCKED: &'static str = "";
    const FOR_SHARE: &'static str = "";

    fn json_agg(expr: &str, order: &str) -> String {
        if order.is_empty() {
            format!("json_group_array({expr})")
        } else {
            format!("json_group_array({expr} ORDER BY {order})")
        }
    }

    fn json_tuple(exprs: &str) -> String {
        format!("json_array({exprs})")
    }

    fn in_list(column: &str, param: &str) -> String {
        format!("{column} IN (SELECT value FROM json_each({param}))")
    }
}

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqlStore<Sqlite> {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a `sqlite://…` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(SqliteConnectOptions::from_str(url)?).await
    }

    async fn open_with(opts: SqliteConnectOptions) -> Result<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // What PostgreSQL calls "C": byte order, which is SQLite's own BINARY.
            .collation("C", |a: &str, b: &str| a.as_bytes().cmp(b.as_bytes()));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        refuse_newer_schema(&writer).await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .min_connections(1)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// The newest schema version this binary knows.
    pub fn binary_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

async fn refuse_newer_schema(pool: &SqlitePool) -> Result<()> {
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(pool)
            .await?;
    if has_table.is_none() {
        return Ok(());
    }
    let database: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?;
    let binary = SqliteStore::binary_schema_version();
    match database {
        Some(database) if database > binary => Err(StoreError::SchemaTooNew { database, binary }),
        _ => Ok(()),
    }
}
