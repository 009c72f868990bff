//! SQLite: how it binds each kind of value, runs a query, and opens (WAL, foreign keys, one
//! writer connection and a reader pool).
//!
//! Writes go through a single connection so transactions never contend for SQLite's write lock
//! (which is also why the audit chain needs no lock of its own); reads run concurrently on the
//! reader pool (WAL lets them see the last committed state).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};

use super::{Arg, Backend, Conn, Sql, SqlText, driver_conn, refuse_newer_schema};
use crate::Result;
use crate::sql::SqlStore;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Connections in the reader pool.
const READERS: u32 = 8;

// One writer connection: a write transaction already excludes every other, so the audit chain
// needs no lock of its own.
driver_conn!(
    SqliteConnection,
    SqliteRow,
    id: |id: uuid::Uuid| id.to_string(),
    json: |v: serde_json::Value| v.to_string(),
    lock: None
);

impl Backend for Sqlite {
    const LABEL: &'static str = "sqlite";
    const SKIP_LOCKED: &'static str = "";
    const FOR_SHARE: &'static str = "";
    const INSERTION_ORDER: &'static str = "rowid";
    const JSON_AGG: (&'static str, &'static str) = ("json_group_array(", ")");
    const JSON_ARRAY: &'static str = "json_array";
    const LIST_ELEMENTS: (&'static str, &'static str) = ("SELECT value FROM json_each(", ")");
    const MIGRATIONS_TABLE: &'static str =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
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
        refuse_newer_schema(&writer, Self::binary_schema_version()).await?;
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
