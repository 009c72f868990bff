//! What the storage stories share: instants and ids, audit drafts, the users, incidents, tasks,
//! pages and notifications they are built from, the audit-chain check, and the runners that
//! give a story a fresh SQLite database and a fresh PostgreSQL database (two pools of one where
//! nodes race). Each test file includes it with `mod common;` and keeps only its story.
//!
//! A PostgreSQL runner skips its test only when `CORDON_TEST_POSTGRES=skip` (see
//! `cordon_store::testing`); an unreachable server fails it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cordon_core::Timestamp;
use cordon_core::audit::ChainVerifier;
use cordon_core::codename::Codename;
use cordon_core::incident::{Incident, IncidentKind, Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_core::user::User;
use cordon_store::paging::{NotificationRow, PageRow};
use cordon_store::testing::TestDatabase;
use cordon_store::{AuditDraft, AuditEntry, NewIncident, PostgresStore, SqliteStore, Store};
use uuid::Uuid;

// ---- instants and ids

/// An instant written as RFC 3339 (`2026-11-27T10:00:00Z`).
pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// When the stories' users exist from.
const USERS_FROM: &str = "2026-11-27T09:00:00Z";
/// When the stories' incidents are declared, and their changes audited unless they say otherwise.
const DECLARED: &str = "2026-11-27T10:00:00Z";

/// Distinct ids without randomness, increasing within a test binary.
pub fn next_id() -> Uuid {
    static N: AtomicU64 = AtomicU64::new(1);
    Uuid::from_u128(u128::from(N.fetch_add(1, Ordering::Relaxed)))
}

// ---- audit drafts and the chain

/// The audit entry a change is written with: `tester` did `action` at 10:00, about `x`.
pub fn audit(action: &str) -> AuditDraft {
    AuditDraft {
        at: t(DECLARED),
        actor: "tester".into(),
        action: action.into(),
        subject: "x".into(),
        payload: "{}".into(),
    }
}

/// [`audit`] about `subject` (`incident:<id>`, `task:<id>`, …).
pub fn audit_on(action: &str, subject: impl Into<String>) -> AuditDraft {
    AuditDraft {
        subject: subject.into(),
        ..audit(action)
    }
}

/// [`audit`] at `at`.
pub fn audit_at(action: &str, at: Timestamp) -> AuditDraft {
    AuditDraft { at, ..audit(action) }
}

/// The whole audit log, oldest first.
pub async fn audit_log(store: &dyn Store) -> Vec<AuditEntry> {
    store.audit_page(0, 100_000).await.unwrap()
}

/// The action of every audit entry, oldest first.
pub async fn audit_actions(store: &dyn Store) -> Vec<String> {
    audit_log(store).await.into_iter().map(|e| e.record.action).collect()
}

/// Walks the whole audit chain, asserting that every entry fits it; the number of entries.
pub async fn chain_ok(store: &dyn Store) -> u64 {
    let mut v = ChainVerifier::default();
    for e in audit_log(store).await {
        v.push(&e.record, &e.prev_hash, &e.hash);
    }
    let out = v.finish();
    assert_eq!(out.first_bad_entry, None, "the audit chain holds (one chain, no fork)");
    out.entries
}

// ---- users, incidents, tasks

/// A user since 09:00, in no group, neither admin nor disabled.
pub fn user(id: Uuid, name: &str) -> User {
    user_in(id, name, &[])
}

/// [`user`] in `groups`.
pub fn user_in(id: Uuid, name: &str, groups: &[&str]) -> User {
    User {
        id,
        name: name.into(),
        email: format!("{name}@example.com"),
        pgp_key: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        is_admin: false,
        created_at: t(USERS_FROM),
        disabled_at: None,
    }
}

/// Creates `user(next_id(), name)`, audited about `user:<name>`.
pub async fn create_user(store: &dyn Store, name: &str) -> User {
    let u = user(next_id(), name);
    store
        .create_user(&u, audit_on("user.create", format!("user:{name}")))
        .await
        .unwrap();
    u
}

/// A sealed security incident, SEV-2 in triage, declared by `by` at 10:00: titled after its
/// codename `key`, in no room, with no checklist and no team.
pub fn incident(id: Uuid, key: &str, by: Uuid) -> NewIncident {
    let at = t(DECLARED);
    NewIncident {
        incident: Incident {
            id,
            codename: Codename::from_key(key).unwrap(),
            kind: IncidentKind::Security,
            severity: Severity::new(2).unwrap(),
            status: Status::Triage,
            sealed: true,
            title: format!("title of {key}"),
            description: String::new(),
            room: None,
            playbook: "security".into(),
            created_by: by,
            created_at: at,
            updated_at: at,
        },
        tasks: Vec::new(),
        members: Vec::new(),
    }
}

/// [`incident`] numbered `n`, with one checklist task numbered `n + 0x100`.
pub fn incident_with_task(n: u128, key: &str, by: Uuid) -> NewIncident {
    let id = Uuid::from_u128(n);
    NewIncident {
        tasks: vec![task(Uuid::from_u128(n + 0x100), id, 1, "stop_attack")],
        ..incident(id, key, by)
    }
}

/// Declares `incident(next_id(), key, by)`, audited about `incident:<id>`; its id.
pub async fn declare(store: &dyn Store, key: &str, by: Uuid) -> Uuid {
    let new = incident(next_id(), key, by);
    let id = new.incident.id;
    store
        .create_incident(&new, audit_on("incident.declare", format!("incident:{id}")))
        .await
        .unwrap();
    id
}

/// Step `step` (`key`) of `incident`'s checklist: to do, the incident commander's, unassigned.
pub fn task(id: Uuid, incident: Uuid, step: u32, key: &str) -> Task {
    Task {
        id,
        incident_id: incident,
        step,
        key: key.into(),
        title: format!("Step {step}"),
        status: TaskStatus::Todo,
        owner_role: Role::IncidentCommander,
        assignee: None,
        check_items: Vec::new(),
        override_reason: None,
        updated_at: t(DECLARED),
    }
}

// ---- pages and notifications

/// A triggered page with an empty engine state, of no incident and no role, triggered by `by`
/// (the engine when `None`) at `at`.
pub fn page(id: Uuid, by: Option<Uuid>, at: Timestamp) -> PageRow {
    PageRow {
        id,
        incident_id: None,
        status: "triggered".into(),
        state: "{}".into(),
        created_by: by,
        role: None,
        created_at: at,
        updated_at: at,
    }
}

/// A pending notification of `page`'s escalation step `step` (level `step + 1`) by mail to
/// `user`, due at `at`.
pub fn notification(id: Uuid, page: Uuid, step: i64, user: &str, at: Timestamp) -> NotificationRow {
    NotificationRow {
        id,
        page_id: page,
        step,
        level: step + 1,
        user_name: user.into(),
        channel: "email".into(),
        address: format!("{user}@example.com"),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: Some(at),
        error: None,
        created_at: at,
        updated_at: at,
    }
}

// ---- the two databases

/// A fresh SQLite database file in a temporary directory, removed with this value.
pub struct TempSqlite {
    dir: tempfile::TempDir,
}

impl TempSqlite {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The database file (not there until something opens it).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("cordon.db")
    }

    /// Opens a store on the file (creating and migrating it on first open).
    pub async fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.path()).await.unwrap()
    }

    /// A pool on the file that goes around the store, for what only raw SQL can check.
    pub async fn raw_pool(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&format!("sqlite://{}", self.path().display()))
            .await
            .unwrap()
    }
}

/// Runs `test` on a store on a fresh SQLite database.
pub async fn on_sqlite(test: impl AsyncFnOnce(&dyn Store)) {
    on_sqlite_store(async move |store| test(store).await).await;
}

/// [`on_sqlite`], handing `test` the store itself (to share it with racing tasks).
async fn on_sqlite_store(test: impl AsyncFnOnce(&SqliteStore)) {
    let db = TempSqlite::new();
    let store = db.open().await;
    test(&store).await;
    store.close().await;
}

/// Runs `test` on a fresh PostgreSQL database.
pub async fn on_postgres_db(test: impl AsyncFnOnce(&TestDatabase)) {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    test(&db).await;
}

/// Runs `test` on a store on a fresh PostgreSQL database.
pub async fn on_postgres(test: impl AsyncFnOnce(&dyn Store)) {
    on_postgres_db(async move |db| {
        let store = db.open().await.unwrap();
        test(&store).await;
        store.close().await;
    })
    .await;
}

/// Runs `test` on two stores, each with its own pool, on one fresh PostgreSQL database: what
/// two nodes (two processes) look like to the server.
pub async fn on_two_pools(test: impl AsyncFnOnce(&PostgresStore, &PostgresStore)) {
    on_postgres_db(async move |db| {
        let a = db.open().await.unwrap();
        let b = db.open().await.unwrap();
        test(&a, &b).await;
        a.close().await;
        b.close().await;
    })
    .await;
}

/// Runs `story` on a store on a fresh SQLite database, then `race` with that store as the one
/// node.
pub async fn story_and_race_on_sqlite(
    story: impl AsyncFnOnce(&dyn Store),
    race: impl AsyncFnOnce(Vec<Arc<dyn Store>>),
) {
    on_sqlite_store(async move |store| {
        story(store).await;
        race(vec![Arc::new(store.clone())]).await;
    })
    .await;
}

/// Runs `story` on one pool of a fresh PostgreSQL database, then `race` on two pools of it
/// (two nodes).
pub async fn story_and_race_on_two_pools(
    story: impl AsyncFnOnce(&dyn Store),
    race: impl AsyncFnOnce(Vec<Arc<dyn Store>>),
) {
    on_two_pools(async move |a, b| {
        story(a).await;
        race(vec![Arc::new(a.clone()), Arc::new(b.clone())]).await;
    })
    .await;
}

// ---- nodes racing

/// Makes `callers` calls at once, each a task of its own, spread round robin over `nodes`
/// (call `i` on node `i % nodes.len()`); their results, in call order.
pub async fn at_once<N, T, F>(nodes: &[N], callers: usize, call: impl Fn(usize, N) -> F) -> Vec<T>
where
    N: Clone,
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let calls = (0..callers).map(|i| tokio::spawn(call(i, nodes[i % nodes.len()].clone())));
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

/// [`at_once`] for calls that say whether they won: how many did.
pub async fn winners<N, F>(nodes: &[N], callers: usize, call: impl Fn(usize, N) -> F) -> usize
where
    N: Clone,
    F: Future<Output = bool> + Send + 'static,
{
    at_once(nodes, callers, call)
        .await
        .into_iter()
        .filter(|&won| won)
        .count()
}

// ---- what only raw SQL can check

/// Runs each of `statements` on `pool`, around the store: each must fail on a write-once guard
/// of the schema (a trigger).
pub async fn refused_as_write_once<DB>(pool: &sqlx::Pool<DB>, statements: &[&'static str])
where
    DB: sqlx::Database,
    DB::QueryResult: std::fmt::Debug,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    for &sql in statements {
        let err = sqlx::query::<DB>(sql).execute(pool).await.unwrap_err();
        assert!(err.to_string().contains("write-once"), "{sql}: {err}");
    }
}
