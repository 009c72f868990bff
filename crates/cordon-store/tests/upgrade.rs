//! Upgrading a database that holds data: the schema of an earlier release is built by running
//! the migrations up to it (`cordon_store::testing`), rows are written with that schema's SQL,
//! and opening the store applies the rest. Each backend keeps every row and reads it back.

mod common;

use common::{TempSqlite, on_postgres_db};
use cordon_store::Store;
use cordon_store::testing::sqlite_before;
use uuid::Uuid;

/// The first migration after the rows' schema: 0008, the gate.
const GATE: i64 = 8;

const USER: &str = "00000000-0000-0000-0000-000000000001";
const INCIDENT: &str = "00000000-0000-0000-0000-000000000002";
const PAGE: &str = "00000000-0000-0000-0000-000000000003";

/// Rows of the 0007 schema: a user, an incident bound to a room, a page with a deadline and a
/// notification that reference it.
const ROWS_0007: &[&str] = &[
    "INSERT INTO users (id, name, email, is_admin, created_at) VALUES ($U, 'alice', 'a@x', FALSE, 1)",
    "INSERT INTO incidents (id, codename_key, kind, severity, status, is_open, sealed, title, description, room,
                            playbook, created_by, created_at, updated_at)
     VALUES ($I, 'amber-falcon', 'security', 2, 'triage', TRUE, TRUE, 't', '', '#war', 'security', $U, 1, 1)",
    "INSERT INTO pages (id, incident_id, status, state, created_by, created_at, updated_at)
     VALUES ($P, $I, 'triggered', '{}', $U, 5, 5)",
    "INSERT INTO page_deadlines (page_id, step, due_at) VALUES ($P, 1, 10)",
    "INSERT INTO notifications (id, page_id, step, level, user_name, channel, address, status, created_at, updated_at)
     VALUES ('00000000-0000-0000-0000-000000000004', $P, 0, 1, 'alice', 'email', 'a@x', 'pending', 5, 5)",
];

fn sql(stmt: &str, uuid_cast: &str) -> String {
    stmt.replace("$U", &format!("'{USER}'{uuid_cast}"))
        .replace("$I", &format!("'{INCIDENT}'{uuid_cast}"))
        .replace("$P", &format!("'{PAGE}'{uuid_cast}"))
}

async fn check_upgraded(store: &dyn Store) {
    let page = store.page(Uuid::parse_str(PAGE).unwrap()).await.unwrap().unwrap();
    assert_eq!(page.created_by, Some(Uuid::parse_str(USER).unwrap()));
    assert_eq!(page.role, None);
    assert_eq!(page.status, "triggered");
    assert_eq!(store.notifications(page.id).await.unwrap().len(), 1);
    assert_eq!(
        store
            .due_deadlines(cordon_core::clock::from_micros(10), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let viewer = cordon_store::Viewer {
        user_id: Uuid::parse_str(USER).unwrap(),
        sees_all: true,
    };
    assert_eq!(
        store.room_incident("#war", viewer).await.unwrap(),
        Some(Uuid::parse_str(INCIDENT).unwrap())
    );
}

#[tokio::test]
async fn sqlite_keeps_pages_across_the_gate_migration() {
    let db = TempSqlite::new();
    let pool = sqlite_before(&db.path(), GATE).await.unwrap();
    for stmt in ROWS_0007 {
        sqlx::query(sqlx::AssertSqlSafe(sql(stmt, "")))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let store = db.open().await;
    check_upgraded(&store).await;
    // The rebuilt table keeps its foreign keys: a page of a missing incident is refused.
    let fk: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('pages')")
        .fetch_one(&db.raw_pool().await)
        .await
        .unwrap();
    assert_eq!(fk, 2, "pages references incidents and users");
}

#[tokio::test]
async fn postgres_keeps_pages_across_the_gate_migration() {
    on_postgres_db(async |db| {
        let pool = db.migrate_before(GATE).await.unwrap();
        for stmt in ROWS_0007 {
            sqlx::query(sqlx::AssertSqlSafe(sql(stmt, "::uuid")))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
        let store = db.open().await.unwrap();
        check_upgraded(&store).await;
        store.close().await;
    })
    .await;
}
