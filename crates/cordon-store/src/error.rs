//! The storage error type, and the mapping of database errors every backend shares.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; the payload names which (`codename`, `room`, `user`, …).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error(
        "the database schema (version {database}) is newer than this binary supports (version {binary}); upgrade cordon"
    )]
    SchemaTooNew { database: i64, binary: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `what`, on every
/// backend (SQLite's and PostgreSQL's drivers both classify the violation).
pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(what)
        } else {
            e
        }
    }
}

pub(crate) fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `duplicate`, and a
/// foreign-key violation (what it points at does not exist) to [`StoreError::NotFound`] naming
/// `missing`.
pub(crate) fn refusal(duplicate: &'static str, missing: &'static str) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match &e {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation() => StoreError::Conflict(duplicate),
        StoreError::Database(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => StoreError::NotFound(missing),
        _ => e,
    }
}
