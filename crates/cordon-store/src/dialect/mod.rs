//! What differs between SQLite and PostgreSQL, in one place, so that every query and
//! transaction of the store is written once (`crate::sql`).
//!
//! - **Binding** a value: a query collects its parameters as [`Arg`]s, which say what kind of
//!   value each is (an id, a flag, a list); each backend binds a kind its own way (an id is a
//!   `UUID` in PostgreSQL and its text in SQLite, a list `jsonb` or JSON text).
//! - **Reading** a column: [`Cols`] (in `rows.rs`), likewise per kind.
//! - **Running** a query on a connection: [`Conn`], implemented for each driver's connection.
//! - **The few words of SQL that differ**: [`Backend`]'s fragments (aggregating rows into a
//!   JSON array, matching a list parameter, row locks) and its hook around the audit chain
//!   (PostgreSQL takes an advisory lock; SQLite's one writer needs none).
//!
//! Both databases accept the rest alike: `$N` placeholders, `ON CONFLICT`, `RETURNING`, partial
//! indexes, `CAST(x AS TEXT)`, and `COLLATE "C"` (byte order; SQLite registers a collation of
//! that name that compares bytes, as its own `BINARY` does).

use std::borrow::Cow;
use std::future::Future;

use serde::Serialize;
use uuid::Uuid;

pub use crate::rows::{Cols, Plain};
use crate::{Result, StoreError};

pub(crate) mod postgres;
pub(crate) mod sqlite;

/// One query parameter, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Id(Option<Uuid>),
    Text(Option<Cow<'a, str>>),
    Int(Option<i64>),
    Flag(Option<bool>),
    Bytes(Option<Cow<'a, [u8]>>),
    /// A JSON document stored as such (a list of names, a checklist): `jsonb` or JSON text.
    Json(serde_json::Value),
}

impl From<Uuid> for Arg<'_> {
    fn from(v: Uuid) -> Self {
        Arg::Id(Some(v))
    }
}

impl From<Option<Uuid>> for Arg<'_> {
    fn from(v: Option<Uuid>) -> Self {
        Arg::Id(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref().map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(Some(i64::from(v)))
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Flag(Some(v))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v)))
    }
}

impl From<Vec<u8>> for Arg<'_> {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a [u8]>> for Arg<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        Arg::Bytes(v.map(Cow::Borrowed))
    }
}

/// A query's text: a literal, or one assembled from literals and a backend's fragments (never
/// from data, which is always bound).
#[derive(Debug, Clone)]
pub enum SqlText {
    Static(&'static str),
    Built(String),
}

/// A query and its parameters, run on any backend's connection.
#[derive(Debug)]
#[must_use = "a query does nothing until it is run"]
pub struct Sql<'a> {
    pub text: SqlText,
    pub args: Vec<Arg<'a>>,
}

/// A query from literal text.
pub(crate) fn sql<'a>(text: &'static str) -> Sql<'a> {
    Sql {
        text: SqlText::Static(text),
        args: Vec::new(),
    }
}

/// A query whose text was assembled from literals and a backend's fragments.
pub(crate) fn sql_built<'a>(text: String) -> Sql<'a> {
    Sql {
        text: SqlText::Built(text),
        args: Vec::new(),
    }
}

impl<'a> Sql<'a> {
    pub(crate) fn bind(mut self, v: impl Into<Arg<'a>>) -> Self {
        self.args.push(v.into());
        self
    }

    /// Binds a value stored as a JSON document.
    pub(crate) fn bind_json(mut self, v: &impl Serialize) -> Self {
        self.args
            .push(Arg::Json(serde_json::to_value(v).expect("stored documents serialize")));
        self
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute<C: Conn>(self, conn: &mut C) -> Result<u64> {
        conn.execute(self).await
    }

    pub(crate) async fn fetch_all<C: Conn>(self, conn: &mut C) -> Result<Vec<C::Row>> {
        conn.fetch_all(self).await
    }

    pub(crate) async fn fetch_optional<C: Conn>(self, conn: &mut C) -> Result<Option<C::Row>> {
        conn.fetch_optional(self).await
    }

    pub(crate) async fn fetch_one<C: Conn>(self, conn: &mut C) -> Result<C::Row> {
        conn.fetch_optional(self)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// Runs a query and reads each row with `read`.
    pub(crate) async fn map_all<C: Conn, T>(self, conn: &mut C, read: impl Fn(&C::Row) -> Result<T>) -> Result<Vec<T>> {
        conn.fetch_all(self).await?.iter().map(read).collect()
    }

    /// Runs a query and reads its row, if any, with `read`.
    pub(crate) async fn map_optional<C: Conn, T>(
        self,
        conn: &mut C,
        read: impl FnOnce(&C::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        conn.fetch_optional(self).await?.as_ref().map(read).transpose()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::Sqlite {}
    impl Sealed for sqlx::Postgres {}
    impl Sealed for sqlx::SqliteConnection {}
    impl Sealed for sqlx::PgConnection {}
}

/// A driver's connection, able to run a [`Sql`].
pub trait Conn: sealed::Sealed + Send {
    type Row: Cols + Send + Sync;

    fn execute(&mut self, q: Sql<'_>) -> impl Future<Output = Result<u64>> + Send;
    fn fetch_all(&mut self, q: Sql<'_>) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;
    fn fetch_optional(&mut self, q: Sql<'_>) -> impl Future<Output = Result<Option<Self::Row>>> + Send;
    /// Called inside a transaction before it reads the audit chain's head: afterwards no other
    /// writer, on any node, may append until this transaction ends.
    fn lock_audit_chain(&mut self) -> impl Future<Output = Result<()>> + Send;
}

/// Implements [`Conn`] for a driver's connection. Text, integers, flags and bytes bind alike;
/// `$id` and `$json` turn an id and a JSON document into what the driver binds for them, and
/// `$lock` is the statement that locks the audit chain (if any).
macro_rules! driver_conn {
    ($conn:ty, $row:ty, id: $id:expr, json: $json:expr, lock: $lock:expr) => {
        fn query(
            q: Sql<'_>,
        ) -> sqlx::query::Query<
            'static,
            <$conn as sqlx::Connection>::Database,
            <<$conn as sqlx::Connection>::Database as sqlx::Database>::Arguments,
        > {
            let query = match q.text {
                SqlText::Static(s) => sqlx::query(s),
                SqlText::Built(s) => sqlx::query(sqlx::AssertSqlSafe(s)),
            };
            q.args.into_iter().fold(query, |query, arg| match arg {
                Arg::Id(v) => query.bind(v.map($id)),
                Arg::Text(v) => query.bind(v.map(|s| s.into_owned())),
                Arg::Int(v) => query.bind(v),
                Arg::Flag(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v.map(|b| b.into_owned())),
                Arg::Json(v) => query.bind($json(v)),
            })
        }

        impl Conn for $conn {
            type Row = $row;

            async fn execute(&mut self, q: Sql<'_>) -> Result<u64> {
                Ok(query(q).execute(self).await?.rows_affected())
            }

            async fn fetch_all(&mut self, q: Sql<'_>) -> Result<Vec<$row>> {
                Ok(query(q).fetch_all(self).await?)
            }

            async fn fetch_optional(&mut self, q: Sql<'_>) -> Result<Option<$row>> {
                Ok(query(q).fetch_optional(self).await?)
            }

            async fn lock_audit_chain(&mut self) -> Result<()> {
                let lock: Option<Sql<'static>> = $lock;
                if let Some(lock) = lock {
                    query(lock).execute(self).await?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use driver_conn;

/// A database Cordon stores in: the driver, and the words of SQL in which it differs.
pub trait Backend: sqlx::Database<Connection: Conn> + sealed::Sealed {
    /// A short name, for logs (`sqlite`, `postgres`).
    const LABEL: &'static str;
    /// Appended to a `SELECT` that claims rows other nodes may be claiming at once: they are
    /// skipped, not waited for (empty where there is one writer).
    const SKIP_LOCKED: &'static str;
    /// Appended to a `SELECT` whose rows must not change until the transaction ends.
    const FOR_SHARE: &'static str;
    /// The column of the append-only tables (`asset_moves`, `exposures`) that orders rows
    /// recorded in the same instant: SQLite's `rowid`, PostgreSQL's identity `seq` (taken under
    /// the audit lock, so in commit order).
    const INSERTION_ORDER: &'static str;
    /// What goes around an expression (and its `ORDER BY`) to aggregate it over the rows of a
    /// sub-select into a JSON array that is `[]` when there are none.
    const JSON_AGG: (&'static str, &'static str);
    /// The function that makes a JSON array of its arguments.
    const JSON_ARRAY: &'static str;
    /// What goes around a JSON list to make it a one-column sub-select of its strings.
    const LIST_ELEMENTS: (&'static str, &'static str);
    /// A query answering one row when sqlx's migrations table exists, none when it does not.
    const MIGRATIONS_TABLE: &'static str;

    /// An expression that aggregates `expr` over the rows of its sub-select into a JSON array
    /// (`[]` when there are none); `order` orders the elements (may be empty).
    fn json_agg(expr: &str, order: &str) -> String {
        let (open, close) = Self::JSON_AGG;
        if order.is_empty() {
            format!("{open}{expr}{close}")
        } else {
            format!("{open}{expr} ORDER BY {order}{close}")
        }
    }

    /// A JSON array of the comma-separated expressions `exprs`.
    fn json_tuple(exprs: &str) -> String {
        format!("{}({exprs})", Self::JSON_ARRAY)
    }

    /// A condition that `column` is one of the strings of the JSON list `list` (a parameter or
    /// a column).
    fn in_list(column: &str, list: &str) -> String {
        let (open, close) = Self::LIST_ELEMENTS;
        format!("{column} IN ({open}{list}{close})")
    }
}

/// Refuses a database whose schema is newer than this binary's migrations (`binary`).
pub(crate) async fn refuse_newer_schema<B: Backend>(pool: &sqlx::Pool<B>, binary: i64) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if sql(B::MIGRATIONS_TABLE).fetch_optional(&mut *conn).await?.is_none() {
        return Ok(());
    }
    let database = sql("SELECT MAX(version) AS v FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await?
        .opt_int("v")?;
    match database {
        Some(database) if database > binary => Err(StoreError::SchemaTooNew { database, binary }),
        _ => Ok(()),
    }
}
