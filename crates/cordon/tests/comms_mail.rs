//! Black-box test of sending a communication through the mail channel (issue 7): the mail
//! rules hold — the subject is the label and nothing else, PGP/MIME to every recipient's key,
//! and a recipient without a key means nothing is sent (refused, audited, still unsent).
//! Needs the aiosmtpd sink and GnuPG: `eval "$(scripts/test-env.sh)"`.

mod common;

use std::time::Duration;

use common::{ADMIN_TOKEN, spawn_app_with};
use cordon_mail::testing::{Gpg, SmtpSink};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn mail_sends_obey_the_communication_rules() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
    })
    .await;
    let olga = Gpg::new();
    olga.generate_key("Olga <olga@partner.example>", "future-default", "default", "never", &[]);
    let olga_key = olga.export_public("olga@partner.example");
    for (name, email, key) in [
        ("olga", "olga@partner.example", Some(olga_key.as_str())),
        ("nick", "nick@other.example", None),
    ] {
        let (st, v) = app
            .post(
                "/api/v1/users",
                ADMIN_TOKEN,
                json!({ "name": name, "email": email, "pgp_key": key }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let alice = app.user("alice", &[]).await;
    let inc = app.declare(&alice, "Order database read", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    app.add_member(ADMIN_TOKEN, &r, "alice", "incident_commander").await;

    let body = "On 2026-11-24 at 22:10 UTC an attacker read our order database. Claim reference follows.";
    let draft = |to: &'static [&'static str]| {
        let app = &app;
        let alice = alice.clone();
        let r = r.clone();
        async move {
            let (st, v) = app
                .post(
                    &format!("/api/v1/incidents/{r}/communications"),
                    &alice,
                    json!({ "audience": "insurer", "title": "2026-11-27: Notice of a cyber incident", "body": body, "recipients": to }),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            let path = format!("/api/v1/incidents/{r}/communications/{}", v["id"].as_str().unwrap());
            let (st, v) = app.post(&format!("{path}/approve"), &alice, json!({})).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            path
        }
    };

    // An outside recipient without a key: nothing is sent.
    let path = draft(&["nick"]).await;
    let (st, v) = app.post(&format!("{path}/send"), &alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "mail_refused");
    assert!(v["detail"].as_str().unwrap().contains("nick@other.example"), "{v}");
    let (_, v) = app.get(&path, &alice).await;
    assert_eq!(v["status"], "approved", "still unsent");
    assert!(
        app.audit_actions()
            .await
            .contains(&"communication.send.refused".to_string())
    );

    // With a key: PGP/MIME, and the subject is the label alone.
    let path = draft(&["olga"]).await;
    let (st, v) = app.post(&format!("{path}/send"), &alice, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["channel"], "mail");
    let mails = sink.wait_for_messages(1, Duration::from_secs(20)).await;
    assert_eq!(mails.len(), 1, "exactly one mail: the refused one never left");
    assert_eq!(mails[0].header("Subject"), Some("Attorney Work Project"));
    let armored = mails[0].pgp_mime_payload().expect("PGP/MIME");
    let plain = olga.decrypt(&armored).expect("olga decrypts");
    assert!(plain.contains("attacker read our order database"), "{plain}");
    assert!(!mails[0].body().contains("order database"), "no plain text on the wire");

    // The mail server takes it for one recipient and refuses the other: it went out, so it is
    // sent (sending again would repeat it to the first), and the answer and the audit log say
    // who did not get it.
    let keys = Gpg::new();
    for (name, email) in [("rej", "reject-me@corp.example"), ("ops", "ops@corp.example")] {
        keys.generate_key(&format!("{name} <{email}>"), "future-default", "default", "never", &[]);
        let key = keys.export_public(email);
        let (st, v) = app
            .post(
                "/api/v1/users",
                ADMIN_TOKEN,
                json!({ "name": name, "email": email, "pgp_key": key }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let path = draft(&["rej", "ops"]).await;
    let (st, v) = app.post(&format!("{path}/send"), &alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "partly_sent", "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.contains("not to reject-me@corp.example"), "{detail}");
    let (_, v) = app.get(&path, &alice).await;
    assert_eq!(v["status"], "sent");
    let (st, _) = app.post(&format!("{path}/send"), &alice, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "never twice");
    assert!(
        app.audit_actions()
            .await
            .contains(&"communication.partly_sent".to_string())
    );
    let mails = sink.wait_for_messages(2, Duration::from_secs(20)).await;
    assert!(mails.iter().any(|m| m.rcpt_tos == ["ops@corp.example"]));
}
