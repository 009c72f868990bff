//! Throw-away PostgreSQL databases for tests (the `testing` feature).
//!
//! Each [`TestDatabase`] is a fresh `cordon_t_<random>` database created on the server named by
//! `CORDON_TEST_POSTGRES_URL` (default [`DEFAULT_URL`]) and dropped when the value is dropped,
//! so tests run concurrently without seeing each other. An unreachable server fails the test
//! with a message saying so; only `CORDON_TEST_POSTGRES=skip` turns the PostgreSQL tests into
//! no-ops.
//!
//! [`sqlite_before`] and [`TestDatabase::migrate_before`] build a database whose schema stops
//! short of a migration, so a test can write rows as an older binary did and then watch a
//! store open (and migrate) it.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::{PostgresStore, Result};

/// Creates the SQLite database at `path` with every migration older than `version` applied,
/// and returns a pool on it for writing rows as an older binary would have.
pub async fn sqlite_before(path: &Path, version: i64) -> Result<SqlitePool> {
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true),
    )
    .await?;
    crate::dialect::sqlite::MIGRATOR.run_to(version - 1, &pool).await?;
    Ok(pool)
}

/// The server tests use when `CORDON_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh database, dropped (with any connections still open to it) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database, or `None` when `CORDON_TEST_POSTGRES=skip`.
    ///
    /// # Panics
    /// When the server cannot be reached or the database cannot be created: a PostgreSQL test
    /// that did not run must not pass.
    pub async fn create() -> Option<Self> {
        if std::env::var("CORDON_TEST_POSTGRES").is_ok_and(|v| v == "skip") {
            eprintln!("CORDON_TEST_POSTGRES=skip: skipping a PostgreSQL test");
            return None;
        }
        let server_url = std::env::var("CORDON_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let name = format!("cordon_t_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&server_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {server_url} ({e}). Start it, point CORDON_TEST_POSTGRES_URL at a \
                 server where this user may create databases, or set CORDON_TEST_POSTGRES=skip to skip the \
                 PostgreSQL tests."
            )
        });
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("creating the test database {name} on {server_url}: {e}"));
        conn.close().await.ok();
        let url = with_database(&server_url, &name);
        Some(Self { server_url, name, url })
    }

    /// The `postgres://…` URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (`cordon_t_…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a store on this database (migrating it on first open).
    pub async fn open(&self) -> Result<PostgresStore> {
        PostgresStore::open_url(&self.url).await
    }

    /// Applies every migration older than `version` and returns a pool on the database, for
    /// writing rows as an older binary would have.
    pub async fn migrate_before(&self, version: i64) -> Result<PgPool> {
        let pool = PgPool::connect(&self.url).await?;
        crate::dialect::postgres::MIGRATOR.run_to(version - 1, &pool).await?;
        Ok(pool)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside a runtime (the end of a `#[tokio::test]`), which cannot be
        // blocked on: the database is dropped from a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async move {
                let mut conn = PgConnection::connect(&server_url).await?;
                sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await?;
                conn.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}

/// `url` with its database (path) replaced by `name`; the query string is kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@db/test?sslmode=disable", "x"),
            "postgres://u:p@db/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://db", "x"), "postgres://db/x");
        assert_eq!(
            with_database("postgresql://db/?application_name=a", "x"),
            "postgresql://db/x?application_name=a"
        );
    }
}
