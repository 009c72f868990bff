//! Cordon's answers in the war room's conversation, in real Chromium (issue 15): a Japanese
//! browser typing `!ic status` and `!ic help` reads the answers in Japanese, without an English
//! sentence; an English browser in the same room typing `!ic status` reads its answer in
//! English; each answer is stored in the language it was given in, so both readers see the
//! same conversation. The same holds for a browser without script (the form post). axe-core
//! on the conversation with answers in it.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE};

use crate::common::browser::{self, LIVE, Page};
use crate::people::sign_in;

const TITLE: &str = "Payroll export copied to an unknown host";
/// Cordon's answers in the conversation (a reply has no author).
const ANSWERS: &str = "#part-conversation .from-cordon .body";

/// Runs of four or more ASCII letters in `text` once `names`, the command words and quoted
/// code (`` `incident-commander` ``) are taken out: English words (as `room_controls`'s scan of
/// the whole page counts them).
fn english_words(text: &str, names: &[&str]) -> Vec<String> {
    let mut text = text.to_owned();
    while let Some(start) = text.find('`') {
        let end = text[start + 1..].find('`').map_or(text.len(), |e| start + e + 2);
        text.replace_range(start..end, " ");
    }
    // Command words, longest first, and the names they take, stay as typed.
    let commands = [
        "!ic page responders",
        "!ic responders",
        "!ic status",
        "!ic page",
        "!ic who",
        "!ic link",
        "!ic help",
        "!ic",
        "!ack",
        "!status",
        "!help",
    ];
    for n in names.iter().chain(&commands) {
        text = text.replace(n, " ");
    }
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 4)
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Types `line` into the conversation of `page` (labelled `label`) and sends it (`send`).
async fn say(page: &Page, label: &str, send: &str, line: &str) {
    page.fill_label(label, line).await;
    page.click_button(send).await;
}

#[tokio::test]
async fn a_japanese_browser_reads_cordons_answers_in_japanese_and_an_english_one_in_english() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    // Neither has a language setting: each browser's language decides.
    let (alice, kenji) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &[], "ja"),
    );
    let incident = app.declare(&alice.token, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    let codename = incident["codename"].as_str().unwrap().to_owned();
    app.add_member(&alice.token, &key, "kenji", "scribe").await;
    let url = format!("{}/incidents/{key}", app.base);
    assert_eq!(alice.page.goto(&url).await, Some(200));
    assert_eq!(kenji.page.goto(&url).await, Some(200));
    let names = [codename.as_str(), "Cordon", "SEV"];

    // Kenji asks for the status and for help, in the page's form (the script posts to the
    // JSON API with his browser's language).
    let ja = (&kenji.page, "メッセージまたは !ic コマンド", "送信");
    say(ja.0, ja.1, ja.2, "!ic status").await;
    kenji
        .page
        .wait_for_text(ANSWERS, "未完了のタスクは 14 件中 14 件です。", LIVE)
        .await;
    say(ja.0, ja.1, ja.2, "!ic help").await;
    kenji.page.wait_for_text(ANSWERS, "コマンド一覧", LIVE).await;
    // What was sent left the box, though the conversation came back (live) before the post
    // answered.
    assert_eq!(kenji.page.value("#message-body").await, "");
    let answers = kenji.page.texts(ANSWERS).await;
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert!(
        answers[0].starts_with(&format!("{codename} — SEV-2・トリアージ中。")),
        "{answers:?}"
    );
    assert!(
        answers[0].contains("ゲート待ち：ステップ10（システムの安全確保"),
        "{answers:?}"
    );
    assert!(answers[1].contains("!ic page responders"), "{answers:?}");
    let english = english_words(&answers.join("\n"), &names);
    assert!(
        english.is_empty(),
        "English in Cordon's Japanese answers: {english:?}\n{answers:?}"
    );
    let (_, messages) = app
        .get(&format!("/api/v1/incidents/{key}/messages"), &alice.token)
        .await;
    assert_eq!(messages.as_array().unwrap().len(), 4, "{messages}");
    kenji.page.assert_accessible().await;

    // Alice, in English, asks the same in the same room: her answer is in English, right after
    // the line she typed, and Kenji's stay in Japanese on her page.
    say(&alice.page, "Message or !ic command", "Send", "!ic status").await;
    alice.page.wait_for_text(ANSWERS, "14 open tasks of 14.", LIVE).await;
    assert_eq!(alice.page.value("#message-body").await, "");
    let answers = alice.page.texts(ANSWERS).await;
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(
        answers[2].starts_with(&format!("{codename} — SEV-2 triage, 14 open tasks of 14.")),
        "{answers:?}"
    );
    // The scan sees English where there is some.
    assert!(english_words(&answers[2], &names).len() > 5, "{answers:?}");
    assert!(answers[0].contains("未完了のタスク") && answers[1].starts_with("コマンド一覧"));
    let lines = alice.page.texts("#part-conversation .message").await;
    let (typed, answer) = (&lines[lines.len() - 2], &lines[lines.len() - 1]);
    assert!(
        typed.starts_with("alice") && typed.trim_end().ends_with("!ic status"),
        "{lines:?}"
    );
    assert!(answer.contains("14 open tasks of 14."), "{lines:?}");
    // Every reader sees the conversation as it was answered: Kenji reads Alice's answer in
    // English, as it was given.
    kenji.page.wait_for_text(ANSWERS, "14 open tasks of 14.", LIVE).await;
    alice.page.assert_accessible().await;

    // Without script, the form post answers in the browser's language too (the page's own
    // language when no setting is made).
    let cookie = kenji.page.cookie("cordon_session").await.expect("a session cookie");
    let csrf = kenji
        .page
        .attribute("meta[name=csrf-token]", "content")
        .await
        .expect("the page's CSRF token");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/incidents/{key}/messages", app.base))
        .header(COOKIE, format!("cordon_session={}", cookie.value))
        .header(ACCEPT, "text/html")
        .header(ACCEPT_LANGUAGE, "ja")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("body", "!ic"), ("_csrf", csrf.as_str())]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    kenji
        .page
        .wait_for_text(ANSWERS, "にはまだインシデントコマンダーがいません。", LIVE)
        .await;
    let (_, messages) = app
        .get(&format!("/api/v1/incidents/{key}/messages"), &alice.token)
        .await;
    let newest = messages[0]["body"].as_str().unwrap();
    assert!(newest.contains("インシデントコマンダー"), "{messages}");
    assert!(english_words(newest, &names).is_empty(), "{newest}");

    for p in [&alice.page, &kenji.page] {
        let errors = p.console_errors().await;
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn a_sent_line_leaves_the_box_though_the_conversation_comes_back_before_the_answer() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let alice = sign_in(browser, &app, "alice", &["security"], "en").await;
    let key = app.declare(&alice.token, TITLE, "security").await["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        alice.page.goto(&format!("{}/incidents/{key}", app.base)).await,
        Some(200)
    );
    // The post's answer is slow: the change stream brings the message (and the conversation is
    // swapped in) first.
    alice.page.hold_answers("/messages").await;
    say(&alice.page, "Message or !ic command", "Send", "Contained web1").await;
    alice
        .page
        .wait_for_text("#part-conversation .message", "Contained web1", LIVE)
        .await;
    alice.page.release().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        alice.page.value("#message-body").await,
        "",
        "sent once, not left to send twice"
    );
    let (_, messages) = app
        .get(&format!("/api/v1/incidents/{key}/messages"), &alice.token)
        .await;
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
}
