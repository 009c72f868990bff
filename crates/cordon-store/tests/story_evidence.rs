//! The evidence storage story every backend must pass: an item is recorded together with its
//! first custody events, every custody event is an audit entry of the same transaction (its
//! `audit_seq` names it), items are scoped to their incident, records are write-once, and
//! the verification schedule finds the items not verified recently. Run against SQLite
//! and PostgreSQL (a throw-away database each run, see `cordon_store::testing`).

mod common;

use common::{
    TempSqlite, audit_log, audit_on, chain_ok, create_user, declare, next_id, on_postgres_db, refused_as_write_once, t,
};
use cordon_core::Timestamp;
use cordon_store::evidence::{CustodyKind, EvidenceItem, NewCustody};
use cordon_store::{AuditDraft, Store, StoreError};
use uuid::Uuid;

fn item(incident: Uuid, by: Uuid, name: &str, hex: char, at: Timestamp) -> EvidenceItem {
    let sha256: String = std::iter::repeat_n(hex, 64).collect();
    EvidenceItem {
        id: next_id(),
        incident_id: incident,
        name: name.into(),
        description: "root disk image".into(),
        blob_key: sha256.clone(),
        size: 5 << 30,
        sha256,
        blake3: std::iter::repeat_n('b', 64).collect(),
        md5: Some(std::iter::repeat_n('c', 32).collect()),
        sha1: None,
        acquired_by: "alice".into(),
        tool: Some("dd 9.1".into()),
        source_asset: Some("web1".into()),
        created_by: by,
        created_by_name: String::new(),
        created_at: at,
    }
}

fn custody(item: Uuid, kind: CustodyKind, at: Timestamp, details: &str) -> NewCustody {
    NewCustody {
        id: next_id(),
        item_id: item,
        kind,
        actor: "alice".into(),
        at,
        details: details.into(),
        audit: AuditDraft {
            at,
            ..audit_on(&format!("evidence.{kind}"), format!("evidence:{item}"))
        },
    }
}

/// The story. Each new evidence store method gets a step here.
pub async fn story(store: &dyn Store) {
    let alice = create_user(store, "alice").await;
    let inc = declare(store, "amber-falcon", alice.id).await;
    let other = declare(store, "brave-otter", alice.id).await;
    let received = t("2026-11-27T11:00:00Z");

    // An item with its acquisition and receipt, each an audit entry of the same transaction.
    let disk = item(inc, alice.id, "web1-root.img", 'a', received);
    let entries_before = chain_ok(store).await;
    let events = store
        .create_evidence(
            &disk,
            &[
                custody(disk.id, CustodyKind::Acquisition, received, r#"{"tool":"dd 9.1"}"#),
                custody(disk.id, CustodyKind::Receipt, received, r#"{"stored":"new"}"#),
            ],
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(chain_ok(store).await, entries_before + 2);
    let audit = audit_log(store).await;
    for e in &events {
        let entry = audit
            .iter()
            .find(|a| a.record.seq == e.audit_seq)
            .expect("custody is in the audit chain");
        assert_eq!(entry.record.action, format!("evidence.{}", e.kind));
        assert_eq!(entry.hash, e.audit_hash);
    }
    assert!(events[0].audit_seq < events[1].audit_seq);

    // Read back: the uploader's name is filled, 64-bit sizes survive.
    let got = store.evidence_item(inc, disk.id).await.unwrap().unwrap();
    assert_eq!(
        got,
        EvidenceItem {
            created_by_name: "alice".into(),
            ..disk.clone()
        }
    );
    assert_eq!(got.size, 5 << 30);
    // Items are scoped to their incident.
    assert!(store.evidence_item(other, disk.id).await.unwrap().is_none());
    assert!(store.evidence_items(other).await.unwrap().is_empty());

    // The same bytes recorded twice: two items, one blob key.
    let again_at = t("2026-11-27T11:05:00Z");
    let again = item(inc, alice.id, "web1-root-copy.img", 'a', again_at);
    store
        .create_evidence(&again, &[custody(again.id, CustodyKind::Receipt, again_at, "{}")])
        .await
        .unwrap();
    let items = store.evidence_items(inc).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [disk.id, again.id],
        "oldest first"
    );
    assert_eq!(items[0].blob_key, items[1].blob_key);

    // A new item must be whole: a failing custody event leaves neither item nor audit entry.
    let broken = item(inc, alice.id, "broken.img", 'd', again_at);
    let entries = chain_ok(store).await;
    let mut dup = custody(broken.id, CustodyKind::Receipt, again_at, "{}");
    dup.id = events[0].id; // clashes with a stored custody event
    assert!(store.create_evidence(&broken, &[dup]).await.is_err());
    assert!(store.evidence_item(inc, broken.id).await.unwrap().is_none());
    assert_eq!(chain_ok(store).await, entries, "rolled back with the item");

    // Later custody: verification, download, transfer; an unknown item is not found.
    let later = t("2026-11-28T09:00:00Z");
    let v = store
        .append_custody(&custody(disk.id, CustodyKind::Verification, later, r#"{"ok":true}"#))
        .await
        .unwrap();
    let d = store
        .append_custody(&custody(
            disk.id,
            CustodyKind::Download,
            later,
            r#"{"range":"bytes 0-99/5368709120"}"#,
        ))
        .await
        .unwrap();
    store
        .append_custody(&custody(
            again.id,
            CustodyKind::Transfer,
            later,
            r#"{"to":"Acme Forensics"}"#,
        ))
        .await
        .unwrap();
    assert!(matches!(
        store
            .append_custody(&custody(next_id(), CustodyKind::Download, later, "{}"))
            .await,
        Err(StoreError::NotFound("evidence"))
    ));
    let chain = store.custody_events(disk.id).await.unwrap();
    let kinds: Vec<CustodyKind> = chain.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            CustodyKind::Acquisition,
            CustodyKind::Receipt,
            CustodyKind::Verification,
            CustodyKind::Download
        ]
    );
    assert_eq!(chain[2], v);
    assert_eq!(chain[3], d);
    assert_eq!(chain[3].details, r#"{"range":"bytes 0-99/5368709120"}"#);
    let all = store.incident_custody(inc).await.unwrap();
    assert_eq!(all.len(), 4 + 2);
    assert!(all.windows(2).all(|w| w[0].audit_seq < w[1].audit_seq));
    assert!(store.incident_custody(other).await.unwrap().is_empty());

    // The verification schedule: `disk` was verified at `later`, `again` never (received
    // at 11:05). Due before 12:00 on the 27th: only `again`.
    let due = store
        .evidence_due_for_verification(t("2026-11-27T12:00:00Z"), None, 100)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|i| i.id).collect::<Vec<_>>(), [again.id]);
    // Due before the 29th: both, by id, paged.
    let cutoff = t("2026-11-29T00:00:00Z");
    let page = store.evidence_due_for_verification(cutoff, None, 1).await.unwrap();
    assert_eq!(page.iter().map(|i| i.id).collect::<Vec<_>>(), [disk.id]);
    let page = store
        .evidence_due_for_verification(cutoff, Some(disk.id), 1)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|i| i.id).collect::<Vec<_>>(), [again.id]);
    assert!(
        store
            .evidence_due_for_verification(cutoff, Some(again.id), 1)
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing is due before the first receipt.
    assert!(
        store
            .evidence_due_for_verification(t("2026-11-27T10:59:59Z"), None, 100)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(chain_ok(store).await, entries + 3);
}

#[tokio::test]
async fn sqlite_passes_the_evidence_story() {
    let db = TempSqlite::new();
    let store = db.open().await;
    story(&store).await;

    // SQLite-specific guard: the records are write-once even for raw SQL.
    refused_as_write_once(
        &db.raw_pool().await,
        &[
            "UPDATE evidence_items SET sha256 = 'x'",
            "DELETE FROM evidence_items",
            "UPDATE custody_events SET actor = 'mallory'",
            "DELETE FROM custody_events",
        ],
    )
    .await;
}

#[tokio::test]
async fn postgres_passes_the_evidence_story() {
    on_postgres_db(async |db| {
        let store = db.open().await.unwrap();
        story(&store).await;

        // PostgreSQL-specific guard: the plpgsql triggers refuse changes even to raw SQL.
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        refused_as_write_once(
            &pool,
            &[
                "UPDATE evidence_items SET sha256 = 'x'",
                "DELETE FROM evidence_items",
                "TRUNCATE evidence_items CASCADE",
                "UPDATE custody_events SET actor = 'mallory'",
                "DELETE FROM custody_events",
                "TRUNCATE custody_events",
            ],
        )
        .await;
        assert_eq!(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM custody_events")
                .fetch_one(&pool)
                .await
                .unwrap(),
            6
        );
        pool.close().await;
        store.close().await;
    })
    .await;
}
