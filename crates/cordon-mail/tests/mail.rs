//! End-to-end tests of the mail channel against a real SMTP server (aiosmtpd, started per test
//! by `cordon_mail::testing::SmtpSink`) and real GnuPG: what arrives, what is encrypted, what
//! is refused. Run `scripts/test-env.sh` once first.

use std::time::Duration;

use cordon_mail::testing::{Gpg, SinkOptions, SinkTls, SmtpSink};
use cordon_mail::{
    Address, BodyKind, Codename, CompanyDomains, Link, MailError, MailPolicy, Mailer, MailerConfig, Message, Notice,
    Protection, Recipient, Severity, SubjectLabel, parse_public_key,
};
use jiff::Timestamp;

const TITLE: &str = "Customer database exfiltrated via stolen VPN credentials";

/// Tests never read the clock: every send gets this instant.
fn now() -> Timestamp {
    "2026-03-02T09:30:00Z".parse().unwrap()
}

fn policy() -> MailPolicy {
    MailPolicy::new(CompanyDomains::parse("corp.example").unwrap())
}

fn mailer(sink: &SmtpSink, policy: MailPolicy) -> Mailer {
    let mut config = MailerConfig::new(&sink.url(), "Cordon <cordon@corp.example>", policy).unwrap();
    if let Some(pem) = sink.certificate_pem() {
        config = config.with_root_certificate_pem(pem);
    }
    Mailer::new(config).unwrap()
}

fn full_body() -> String {
    format!("{TITLE}\n\nThe attacker used vpn-gw-2 from 203.0.113.7.\n")
}

fn notice() -> Notice {
    Notice::new(
        Codename::from_key("sapphire-unicorn").unwrap(),
        "SEV-1".parse::<Severity>().unwrap(),
        Link::parse("https://cordon.corp.example/incidents/sapphire-unicorn").unwrap(),
    )
}

fn recipient(address: &str, key: Option<&str>) -> Recipient {
    Recipient::parse(address, key).unwrap()
}

#[tokio::test]
async fn inside_mail_arrives_plain_with_the_label_as_the_whole_subject() {
    let sink = SmtpSink::start().await;
    let message = Message::new(
        vec![
            recipient("ic@corp.example", None),
            recipient("Deputy@EU.Corp.Example", None),
        ],
        full_body(),
    );
    let delivery = mailer(&sink, policy()).send_message(&message, now()).await.unwrap();
    assert_eq!(delivery.protection, Protection::Plain);
    assert_eq!(delivery.accepted().len(), 2);

    // One message each.
    let mails = sink.wait_for_messages(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    for (sent, to) in delivery
        .messages
        .iter()
        .zip(["ic@corp.example", "Deputy@EU.Corp.Example"])
    {
        assert!(sent.smtp_reply.starts_with("250"), "{}", sent.smtp_reply);
        let mail = mails
            .iter()
            .find(|m| m.header("Message-ID") == Some(sent.message_id.as_str()))
            .expect("the message arrived");
        assert_eq!(mail.header("Subject"), Some("Attorney Work Project"));
        assert_eq!(mail.header("Date"), Some("Mon, 02 Mar 2026 09:30:00 +0000"));
        assert_eq!(mail.mail_from, "cordon@corp.example");
        assert_eq!(mail.rcpt_tos, [to]);
        assert_eq!(mail.header("To"), Some(to));
        assert!(
            mail.header("Content-Type").unwrap().starts_with("text/plain"),
            "{:?}",
            mail.header("Content-Type")
        );
        assert!(mail.body().contains(TITLE), "{}", mail.raw);
        assert!(mail.pgp_mime_payload().is_none());
    }
}

#[tokio::test]
async fn the_label_is_configurable() {
    let sink = SmtpSink::start().await;
    let policy = policy().with_label(SubjectLabel::parse("Privileged & Confidential").unwrap());
    mailer(&sink, policy)
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap();
    let mail = &sink.messages()[0];
    assert_eq!(mail.header("Subject"), Some("Privileged & Confidential"));
}

#[tokio::test]
async fn an_outside_recipient_with_a_key_gets_pgp_mime_that_gnupg_decrypts() {
    let sink = SmtpSink::start().await;
    // The outside counsel has an Ed25519/Curve25519 key, the inside IC an RSA-3072 one.
    let counsel = Gpg::new();
    let counsel_key = counsel.generate_key(
        "Counsel <counsel@lawfirm.example>",
        "future-default",
        "default",
        "never",
        &[],
    );
    let ic = Gpg::new();
    let ic_key = ic.generate_key("IC <ic@corp.example>", "default", "default", "never", &[]);

    let message = Message::new(
        vec![
            recipient("ic@corp.example", Some(&ic_key)),
            recipient("counsel@lawfirm.example", Some(&counsel_key)),
        ],
        full_body(),
    );
    let delivery = mailer(&sink, policy()).send_message(&message, now()).await.unwrap();
    assert_eq!(delivery.protection, Protection::Encrypted);

    let mails = sink.wait_for_messages(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    let stranger = Gpg::new();
    stranger.generate_key("X <x@else.example>", "future-default", "default", "never", &[]);
    for (to, own, other) in [
        ("counsel@lawfirm.example", &counsel, &ic),
        ("ic@corp.example", &ic, &counsel),
    ] {
        let mail = mails.iter().find(|m| m.rcpt_tos == [to]).expect("a message of its own");
        assert_eq!(mail.header("Subject"), Some("Attorney Work Project"));
        let content_type = mail.header("Content-Type").unwrap();
        assert!(
            content_type.starts_with("multipart/encrypted")
                && content_type.contains("protocol=\"application/pgp-encrypted\""),
            "{content_type}"
        );
        // Nothing of the body is readable on the wire.
        assert!(!mail.raw.contains("exfiltrated"), "{}", mail.raw);
        assert!(!mail.raw.contains("203.0.113.7"));

        let armored = mail.pgp_mime_payload().expect("an RFC 3156 PGP/MIME body");
        let decrypted = own
            .decrypt(&armored)
            .unwrap_or_else(|e| panic!("{to} cannot decrypt: {e}"));
        // The plaintext is a MIME entity carrying the body.
        assert!(decrypted.starts_with("Content-Type: text/plain"), "{decrypted}");
        assert!(decrypted.contains(TITLE), "{to}: {decrypted}");
        assert!(decrypted.contains("203.0.113.7"));
        // Encrypted to its recipient alone: neither the other recipient nor a third party
        // can read it.
        assert!(other.decrypt(&armored).is_err(), "{to}'s copy opens for the other");
        assert!(stranger.decrypt(&armored).is_err());
    }
}

#[tokio::test]
async fn a_key_that_encrypts_with_its_primary_key_works_too() {
    let sink = SmtpSink::start().await;
    let gpg = Gpg::new();
    let key = gpg.generate_key("Vendor <sec@vendor.example>", "rsa2048", "cert,sign,encr", "never", &[]);
    mailer(&sink, policy())
        .send_notice(&[recipient("sec@vendor.example", Some(&key))], &notice(), now())
        .await
        .unwrap();
    let armored = sink.messages()[0].pgp_mime_payload().unwrap();
    assert!(gpg.decrypt(&armored).unwrap().contains("Sapphire Unicorn"));
}

#[tokio::test]
async fn an_outside_recipient_without_a_key_is_refused_and_nobody_gets_anything() {
    let sink = SmtpSink::start().await;
    let gpg = Gpg::new();
    let ic_key = gpg.generate_key("IC <ic@corp.example>", "future-default", "default", "never", &[]);
    let message = Message::new(
        vec![
            recipient("ic@corp.example", Some(&ic_key)),
            recipient("journalist@news.example", None),
        ],
        full_body(),
    );
    let mailer = mailer(&sink, policy());
    let err = mailer.send_message(&message, now()).await.unwrap_err();
    assert_eq!(err.code(), "refused_no_key");
    assert!(err.is_permanent());
    match &err {
        MailError::Refused { recipients_without_key } => assert_eq!(
            recipients_without_key,
            &[Address::parse("journalist@news.example").unwrap()]
        ),
        other => panic!("{other:?}"),
    }
    // The same holds for a notice.
    let err = mailer
        .send_notice(&message.recipients, &notice(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "refused_no_key");
    // The policy says so before anything is queued, too.
    assert_eq!(
        mailer
            .policy()
            .protection_for(&message.recipients, BodyKind::Full, now())
            .unwrap_err()
            .code(),
        "refused_no_key"
    );

    // Prove the sink works, then that the refused mails never reached it.
    mailer
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap();
    let mails = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos, ["ic@corp.example"]);
}

#[tokio::test]
async fn an_expired_key_counts_as_no_key() {
    let sink = SmtpSink::start().await;
    let gpg = Gpg::new();
    // Made on 2026-03-01 and valid for one day.
    let key = gpg.generate_key(
        "Counsel <counsel@lawfirm.example>",
        "future-default",
        "default",
        "1d",
        &["--faked-system-time", "20260301T000000!"],
    );
    let to = [recipient("counsel@lawfirm.example", Some(&key))];
    let mailer = mailer(&sink, policy());
    let err = mailer.send_notice(&to, &notice(), now()).await.unwrap_err();
    assert_eq!(err.code(), "refused_no_key");
    assert!(sink.messages().is_empty());

    let while_valid: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    mailer.send_notice(&to, &notice(), while_valid).await.unwrap();
    let armored = sink.messages()[0].pgp_mime_payload().unwrap();
    assert!(gpg.decrypt(&armored).is_ok());
}

#[tokio::test]
async fn malformed_or_unusable_keys_are_bad_keys() {
    let gpg = Gpg::new();
    let good = gpg.generate_key("A <a@partner.example>", "future-default", "default", "never", &[]);
    let parsed = parse_public_key(&good).unwrap();
    assert_eq!(parsed.fingerprint().len(), 40);
    assert_eq!(parsed.user_ids(), ["A <a@partner.example>"]);
    assert!(parsed.can_encrypt_at(now()));

    // Flip characters in the middle of the key material.
    let mut corrupted: Vec<char> = good.chars().collect();
    let middle = corrupted.len() / 2;
    for c in &mut corrupted[middle..middle + 8] {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    let corrupted: String = corrupted.into_iter().collect();
    // Cut in half.
    let truncated = format!("{}\n-----END PGP PUBLIC KEY BLOCK-----\n", &good[..good.len() / 2]);
    // A sign-only key cannot receive encrypted mail.
    let sign_only = gpg.generate_key("S <s@partner.example>", "ed25519", "sign", "never", &[]);

    for (what, input) in [
        ("garbage", "hello, this is my key"),
        ("corrupted", corrupted.as_str()),
        ("truncated", truncated.as_str()),
        ("sign-only", sign_only.as_str()),
    ] {
        let err = parse_public_key(input).expect_err(what);
        assert_eq!(err.code(), "bad_key", "{what}: {err}");
        assert!(err.is_permanent());
    }
    let err = parse_public_key(&sign_only).unwrap_err();
    assert!(err.to_string().contains("encryption-capable"), "{err}");
    // Recipients are parsed at the same boundary.
    let err = Recipient::parse("a@partner.example", Some("nope")).unwrap_err();
    assert_eq!(err.code(), "bad_key");
}

#[tokio::test]
async fn a_notice_carries_codename_severity_and_link_only() {
    let n = notice();
    // SMS / push.
    assert_eq!(
        n.render_short(),
        "Sapphire Unicorn SEV-1 · join the secure room: \
         https://cordon.corp.example/incidents/sapphire-unicorn"
    );
    // Webhook JSON: exactly these fields.
    let json = serde_json::to_value(&n).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["codename", "codename_key", "link", "severity"]);
    assert_eq!(json["codename"], "Sapphire Unicorn");
    assert_eq!(json["severity"], "SEV-1");

    // Mail: a page to the IC inside the company goes plain and says no more.
    let sink = SmtpSink::start().await;
    mailer(&sink, policy())
        .send_notice(&[recipient("ic@corp.example", None)], &n, now())
        .await
        .unwrap();
    let mail = &sink.messages()[0];
    assert_eq!(mail.header("Subject"), Some("Attorney Work Project"));
    assert_eq!(
        mail.body().trim_end(),
        "Incident Sapphire Unicorn (SEV-1).\r\n\r\nJoin the secure room: \
         https://cordon.corp.example/incidents/sapphire-unicorn"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_error() {
    // A port that was free a moment ago: connection refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = MailerConfig::new(&format!("smtp://127.0.0.1:{port}"), "cordon@localhost", policy())
        .unwrap()
        .with_timeout(Duration::from_secs(3));
    let err = Mailer::new(config)
        .unwrap()
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "smtp_unavailable", "{err}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn smtp_replies_are_classified_permanent_or_transient() {
    let sink = SmtpSink::start().await;
    let mailer = mailer(&sink, policy());
    let err = mailer
        .send_notice(&[recipient("reject-me@corp.example", None)], &notice(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::SmtpRejected { code: 550, .. }), "{err:?}");
    assert_eq!(err.code(), "smtp_rejected");
    assert!(err.is_permanent());

    let err = mailer
        .send_notice(&[recipient("defer-me@corp.example", None)], &notice(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::SmtpDeferred { code: 451, .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(sink.messages().is_empty());

    // The pooled connection is still good after the refusals.
    mailer
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap();
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn starttls_with_a_password_and_implicit_tls_both_deliver() {
    let sink = SmtpSink::start_with(SinkOptions {
        tls: SinkTls::StartTlsRequired,
        auth: Some(("cordon".into(), "s3cr3t p@ss".into())),
    })
    .await;
    let url = format!("smtp://cordon:s3cr3t%20p%40ss@127.0.0.1:{}?tls=required", sink.port());
    let config = MailerConfig::new(&url, "cordon@corp.example", policy())
        .unwrap()
        .with_root_certificate_pem(sink.certificate_pem().unwrap());
    Mailer::new(config)
        .unwrap()
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap();
    let mail = &sink.messages()[0];
    assert!(mail.tls);
    assert_eq!(mail.auth_user.as_deref(), Some("cordon"));

    let sink = SmtpSink::start_with(SinkOptions {
        tls: SinkTls::Implicit,
        auth: None,
    })
    .await;
    assert!(sink.url().starts_with("smtps://"));
    mailer(&sink, policy())
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap();
    assert!(sink.messages()[0].tls);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_permanent_tls_error() {
    let sink = SmtpSink::start_with(SinkOptions {
        tls: SinkTls::Implicit,
        auth: None,
    })
    .await;
    // Not trusting the sink's self-signed certificate.
    let config = MailerConfig::new(&sink.url(), "cordon@corp.example", policy()).unwrap();
    let err = Mailer::new(config)
        .unwrap()
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "smtp_tls", "{err:?}");
    assert!(err.is_permanent());
    assert!(sink.messages().is_empty());

    // The same under opportunistic STARTTLS, with a hint for the operator.
    let sink = SmtpSink::start_with(SinkOptions {
        tls: SinkTls::StartTls,
        auth: None,
    })
    .await;
    let config = MailerConfig::new(&sink.url(), "cordon@corp.example", policy()).unwrap();
    let err = Mailer::new(config)
        .unwrap()
        .send_notice(&[recipient("ic@corp.example", None)], &notice(), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "smtp_tls", "{err:?}");
    assert!(err.to_string().contains("?tls=none"), "{err}");
    assert!(sink.messages().is_empty());
}

/// Finding 11 of issue 12: a PGP/MIME mail to an outside and two inside recipients went as one
/// message whose clear `To:` listed all three. Each now gets a message of their own, whose
/// headers name only them, encrypted to their key only.
#[tokio::test]
async fn no_recipient_sees_another_recipients_address() {
    let sink = SmtpSink::start().await;
    let people = [
        ("counsel@lawfirm.example", Gpg::new()),
        ("ic@corp.example", Gpg::new()),
        ("legal@corp.example", Gpg::new()),
    ];
    let recipients: Vec<Recipient> = people
        .iter()
        .map(|(address, gpg)| {
            let key = gpg.generate_key(&format!("P <{address}>"), "future-default", "default", "never", &[]);
            recipient(address, Some(&key))
        })
        .collect();
    let delivery = mailer(&sink, policy())
        .send_message(&Message::new(recipients.clone(), full_body()), now())
        .await
        .unwrap();
    assert_eq!(delivery.protection, Protection::Encrypted);
    assert_eq!(delivery.messages.len(), 3);

    let mails = sink.wait_for_messages(3, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 3);
    let mut ids: Vec<&str> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each message is its own");
    for (address, gpg) in &people {
        let mail = mails
            .iter()
            .find(|m| m.rcpt_tos == [*address])
            .unwrap_or_else(|| panic!("no message of {address}'s own"));
        assert_eq!(mail.header("To"), Some(*address));
        for (name, _) in mail.headers() {
            assert!(
                !name.eq_ignore_ascii_case("cc") && !name.eq_ignore_ascii_case("bcc"),
                "{name}"
            );
        }
        // No other recipient's address anywhere in the raw message, headers or body.
        for (other, _) in people.iter().filter(|(o, _)| o != address) {
            assert!(
                !mail.raw.contains(other),
                "{address}'s copy names {other}:\n{}",
                mail.raw
            );
        }
        let armored = mail.pgp_mime_payload().unwrap();
        assert!(gpg.decrypt(&armored).unwrap().contains(TITLE));
        for (other, other_gpg) in people.iter().filter(|(o, _)| o != address) {
            assert!(other_gpg.decrypt(&armored).is_err(), "{other} reads {address}'s copy");
        }
    }

    // Plain mail inside the company: one message each as well.
    let sink = SmtpSink::start().await;
    let inside = [
        recipient("ic@corp.example", None),
        recipient("legal@corp.example", None),
    ];
    mailer(&sink, policy())
        .send_notice(&inside, &notice(), now())
        .await
        .unwrap();
    let mails = sink.wait_for_messages(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        assert_eq!(mail.rcpt_tos.len(), 1);
        let other = if mail.rcpt_tos[0] == "ic@corp.example" {
            "legal@corp.example"
        } else {
            "ic@corp.example"
        };
        assert_eq!(mail.header("To"), Some(mail.rcpt_tos[0].as_str()));
        assert!(!mail.raw.contains(other), "{}", mail.raw);
    }
}

#[tokio::test]
async fn a_recipient_the_server_refuses_does_not_stop_the_others() {
    let sink = SmtpSink::start().await;
    let err = mailer(&sink, policy())
        .send_notice(
            &[
                recipient("reject-me@corp.example", None),
                recipient("ic@corp.example", None),
            ],
            &notice(),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "partly_sent", "{err}");
    assert!(err.is_permanent(), "sending again would repeat it to ic");
    match &err {
        MailError::PartlySent {
            sent,
            unsent,
            first_error,
        } => {
            assert_eq!(sent, &[Address::parse("ic@corp.example").unwrap()]);
            assert_eq!(unsent, &[Address::parse("reject-me@corp.example").unwrap()]);
            assert_eq!(first_error.code(), "smtp_rejected");
        }
        other => panic!("{other:?}"),
    }
    let mails = sink.wait_for_messages(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos, ["ic@corp.example"]);
}
