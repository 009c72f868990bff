//! A body reads back into what was written, field for field: what lets a client print an
//! answer re-encoded and print what the server sent. The cases are the ones where that could
//! slip — fields left out when empty, fields a log may or may not have, `null` against absent.

use cordon_api::evidence::EvidenceOut;
use cordon_api::incidents::{AuditVerifyOut, PatchIncident, PatchTask, TaskKind, TaskOut};
use cordon_api::paging::ContactOut;
use cordon_api::timeline::TimelinePageOut;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Reads `answer` as `T` and writes it back: the same JSON.
fn reads_back<T: Serialize + DeserializeOwned>(answer: Value) -> T {
    let typed: T = serde_json::from_value(answer.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), answer);
    typed
}

#[test]
fn timeline_events_keep_the_fields_their_log_had() {
    let event = |more: Value| {
        let mut e = json!({
            "source_id": "01900000-0000-7000-8000-000000000001",
            "ts": "2026-03-01T09:00:00.123456789Z", "time_original": "Mar  1 09:00:00",
            "kind": "ssh", "format": "syslog", "source": "secure", "host": null,
            "message": "Failed password", "src_ip": "203.0.113.9", "user": "root",
            "outcome": "failure", "users": ["root"], "ips": ["203.0.113.9"],
            "provenance": {"line": 1, "byte_offset": 0, "byte_len": 15},
        });
        e.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
        e
    };
    let page: TimelinePageOut = reads_back(json!({
        "events": [
            event(json!({"source_sha256": "ab", "src_port": 52144, "process": "sshd", "pid": 811,
                         "http": {"method": "GET", "status": null, "forwarded_for": []},
                         "attributes": {"a": "1"}})),
            // Served as stored when the source's record is gone: no digest.
            event(json!({})),
        ],
        "next_cursor": null,
    }));
    assert_eq!(page.events[0].more["pid"], 811);
    assert_eq!(page.events[1].source_sha256, None);
}

#[test]
fn fields_left_out_stay_left_out() {
    let item: EvidenceOut = reads_back(json!({
        "id": "01900000-0000-7000-8000-000000000002", "handle": "0190", "incident_id": "01900000-0000-7000-8000-000000000003",
        "name": "disk.img", "description": "", "size": 3, "sha256": "aa", "blake3": "bb",
        "acquired_by": "alice", "tool": null, "source_asset": null, "created_by": "alice",
        "created_at": "2026-03-01T09:00:00Z",
        "custody": [{"id": "01900000-0000-7000-8000-000000000004", "kind": "receipt", "actor": "alice",
                     "at": "2026-03-01T09:00:00.5Z", "details": {"seconds": 0.27, "stored": "new"},
                     "audit_seq": 7, "audit_hash": "cc"}],
    }));
    assert_eq!(item.md5, None);
    reads_back::<ContactOut>(json!({"kind": "email", "address": "a@example.com"}));
    reads_back::<AuditVerifyOut>(json!({"ok": true, "entries": 12}));
    let task: TaskOut = reads_back(json!({
        "id": "01900000-0000-7000-8000-000000000005", "handle": "9.1", "step": 9, "kind": "follow_up",
        "key": "rotate", "title": "Rotate deploy-key", "description": "", "status": "todo",
        "owner_role": null, "assignee": "olga", "blocked_by": [], "unmet_gates": [], "check_items": [],
        "override_reason": null, "activity": [], "follow_ups": [], "updated_at": "2026-03-01T09:00:00Z",
    }));
    assert_eq!(task.kind, TaskKind::FollowUp);
}

#[test]
fn a_patch_tells_a_field_left_out_from_a_null_and_names_values_canonically() {
    let keep = PatchTask {
        status: Some("IN-PROGRESS".parse().unwrap()),
        assignee: None,
        override_reason: None,
    };
    assert_eq!(
        serde_json::to_value(&keep).unwrap(),
        json!({"status": "in_progress", "override_reason": null})
    );
    let clear = PatchTask {
        status: None,
        assignee: Some(None),
        override_reason: None,
    };
    let written = serde_json::to_value(&clear).unwrap();
    assert_eq!(
        written,
        json!({"status": null, "assignee": null, "override_reason": null})
    );
    let read: PatchTask = serde_json::from_value(written).unwrap();
    assert_eq!(read.assignee, Some(None));
    let read: PatchTask = serde_json::from_value(json!({})).unwrap();
    assert_eq!(read.assignee, None);

    let patch: PatchIncident = serde_json::from_value(json!({"severity": "sev 1"})).unwrap();
    assert_eq!(serde_json::to_value(&patch).unwrap()["severity"], "SEV-1");
    let refused = serde_json::from_value::<PatchIncident>(json!({"status": "done"})).unwrap_err();
    assert!(refused.to_string().contains("is not one of triage"), "{refused}");
}
