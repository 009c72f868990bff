//! SQLite implementation of [`TimelineStore`].

use crate::timeline::TimelineStore;

use super::SqliteStore;

impl TimelineStore for SqliteStore {}
