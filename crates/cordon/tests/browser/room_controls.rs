//! The war room's controls in real Chromium (issue 15): the incident's status and severity
//! changed from the room and seen live on another open page, a refusal in the reader's own
//! words next to the form (closing as not an incident is the commander's alone); removing a
//! member, after which a sealed incident is the not-found page to them at every address; the
//! activity's "older entries" links reaching all of a long history, once each, in order; a
//! Japanese war room with running regulatory clocks that shows no English; and the same forms
//! posted without script (303 and the page) and by the page's script (204, or a problem whose
//! `detail` is the refusal in the reader's language). axe-core on every new page state.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::common::browser::{self, ACTION_TIMEOUT, LIVE, Page};
use crate::common::{TestApp, spawn_app};
use crate::people::{Person, sign_in};

const TITLE: &str = "Payroll export copied to an unknown host";

/// Console errors and script failures, less the browser's note of a request that answered a
/// refusal on purpose (the page shows it; the tests assert the words).
async fn unexpected_errors(page: &Page) -> Vec<String> {
    page.console_errors()
        .await
        .into_iter()
        .filter(|e| {
            !["403", "404", "409", "422"].iter().any(|s| {
                e.starts_with(&format!(
                    "Failed to load resource: the server responded with a status of {s}"
                ))
            })
        })
        .collect()
}

/// Declares a security incident (sealed) as `token`; its address key and codename.
async fn declare(app: &TestApp, token: &str) -> (String, String) {
    let incident = app.declare(token, TITLE, "security").await;
    (
        incident["slug"].as_str().unwrap().to_owned(),
        incident["codename"].as_str().unwrap().to_owned(),
    )
}

/// A plain HTTP client holding `person`'s browser session, speaking `lang`, with the page's
/// CSRF token: the requests a browser without script (or the page's script) makes.
struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
    lang: &'static str,
}

impl Session {
    async fn of(app: &TestApp, person: &Person, key: &str, lang: &'static str) -> Session {
        let cookie = person.page.cookie("cordon_session").await.expect("a session cookie");
        person.page.goto(&format!("{}/incidents/{key}", app.base)).await;
        let csrf = person
            .page
            .attribute("meta[name=csrf-token]", "content")
            .await
            .expect("the page's CSRF token");
        Session {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookie: format!("cordon_session={}", cookie.value),
            csrf,
            lang,
        }
    }

    /// A form post as a browser without script sends it (the token in `_csrf`).
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut pairs = fields.to_vec();
        pairs.push(("_csrf", &self.csrf));
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ACCEPT, "text/html")
            .header(ACCEPT_LANGUAGE, self.lang)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&pairs).unwrap())
            .send()
            .await
            .unwrap()
    }

    /// The same post as the page's script sends it (the token in the header, JSON wanted).
    async fn script(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ACCEPT, "application/json")
            .header(ACCEPT_LANGUAGE, self.lang)
            .header("X-CSRF-Token", &self.csrf)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> StatusCode {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
            .status()
    }
}

async fn incident_status(app: &TestApp, token: &str, key: &str) -> (String, String) {
    let (st, v) = app.get(&format!("/api/v1/incidents/{key}"), token).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (
        v["status"].as_str().unwrap().to_owned(),
        v["severity"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn status_and_severity_change_from_the_room_live_and_closing_as_a_false_alarm_is_the_commanders() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji, bob) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
        sign_in(browser, &app, "bob", &[], "en"),
    );
    let (key, _) = declare(&app, &alice.token).await;
    app.add_member(&alice.token, &key, "bob", "subject_matter_expert").await;
    let room = format!("/incidents/{key}");
    for p in [&alice.page, &kenji.page, &bob.page] {
        assert_eq!(p.goto(&format!("{}{room}", app.base)).await, Some(200));
    }

    // A team member who is not on the command staff sees no status form and no remove buttons.
    assert_eq!(bob.page.count("form.status-form").await, 0);
    assert_eq!(bob.page.count("form[action$='/members/remove']").await, 0);
    assert_eq!(alice.page.count("form.status-form").await, 1);
    alice.page.assert_accessible().await;

    // Alice (the security team: command staff) moves it to active at SEV-1; Kenji's page shows
    // it within a second, in Japanese; Alice's own page did not reload (no form navigation).
    alice.page.select_label("New status", "Active").await;
    alice.page.select_label("New severity", "SEV-1").await;
    alice.page.click_button("Update").await;
    let took = kenji.page.wait_for_text("#part-summary .status", "対応中", LIVE).await;
    eprintln!("a status change reached the other browser in {took:?}");
    kenji.page.wait_for_text("#part-summary .severity", "SEV-1", LIVE).await;
    kenji
        .page
        .wait_for_text(
            "#part-activity",
            "alice がステータスを「トリアージ中」から「対応中」に、重大度を SEV-1 に変更しました",
            LIVE,
        )
        .await;
    alice.page.wait_for_text("#part-summary .status", "Active", LIVE).await;
    assert_eq!(alice.page.path().await, room, "posted in the background");
    assert_eq!(
        incident_status(&app, &alice.token, &key).await,
        ("active".into(), "SEV-1".into())
    );
    // The form now offers the moves from active, the current status first.
    let options = alice.page.texts("#incident-status option").await;
    assert_eq!(options, ["Active", "Contained", "Not an incident"], "{options:?}");

    // Kenji is not the commander: closing as not an incident is refused, in his words, next
    // to the form, with the keyboard where it was; nothing changed.
    kenji
        .page
        .wait_for_text(
            "#incident-status-hint",
            "「インシデントではない」としてクローズできるのは指揮官のみです。",
            LIVE,
        )
        .await;
    kenji
        .page
        .select_label("変更後のステータス", "インシデントではない")
        .await;
    kenji.page.click_button("変更する").await;
    kenji
        .page
        .wait_for_text(
            "#part-summary form [role=alert]",
            "「インシデントではない」としてクローズできるのは、インシデントの指揮官のみです。",
            LIVE,
        )
        .await;
    assert_eq!(
        kenji.page.attribute(":focus", "id").await.as_deref(),
        Some("incident-save")
    );
    assert_eq!(kenji.page.path().await, room);
    kenji.page.assert_accessible().await;
    assert_eq!(incident_status(&app, &alice.token, &key).await.0, "active");

    // Alice takes command and closes it as not an incident; Kenji sees it live.
    app.add_member(&alice.token, &key, "alice", "incident_commander").await;
    alice
        .page
        .wait_for_text("#part-summary .commander", "alice", LIVE)
        .await;
    assert_eq!(
        alice.page.count("#incident-status-hint").await,
        0,
        "the commander needs no hint"
    );
    alice.page.select_label("New status", "Not an incident").await;
    alice.page.click_button("Update").await;
    kenji
        .page
        .wait_for_text("#part-summary .status", "インシデントではない", LIVE)
        .await;
    assert_eq!(incident_status(&app, &alice.token, &key).await.0, "not_an_incident");
    assert_eq!(
        alice.page.attribute(":focus", "id").await.as_deref(),
        Some("incident-save")
    );

    // By keyboard: a step's form sent with Enter on its button; the board refreshes in place
    // and the keyboard is still on that button.
    bob.page.select_label("Status (step 4)", "In progress").await;
    bob.page.click("label[for=s4-assignee]").await;
    bob.page.press("Tab").await;
    assert_eq!(bob.page.attribute(":focus", "id").await.as_deref(), Some("s4-save"));
    bob.page.press("Enter").await;
    kenji.page.wait_for_text("#step-4 .state", "対応中", LIVE).await;
    bob.page.wait_for_text("#step-4 .state", "In progress", LIVE).await;
    bob.page
        .wait_for_text("#part-activity", "bob moved step 4 (Isolate affected instances)", LIVE)
        .await;
    assert_eq!(bob.page.attribute(":focus", "id").await.as_deref(), Some("s4-save"));
    assert_eq!(bob.page.path().await, room);
    for p in [&alice.page, &kenji.page, &bob.page] {
        let errors = unexpected_errors(p).await;
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn forms_work_without_script_and_answer_the_pages_script_in_the_readers_words() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
    );
    app.user("carol", &[]).await;
    let (key, _) = declare(&app, &alice.token).await;
    let en = Session::of(&app, &alice, &key, "en").await;
    let ja = Session::of(&app, &kenji, &key, "ja").await;
    let status = format!("/incidents/{key}/status");

    // Without script: a 303 back to the room, the change made.
    let fields = [
        ("status", "active"),
        ("shown_status", "triage"),
        ("severity", "SEV-2"),
        ("shown_severity", "SEV-2"),
    ];
    let res = en.form(&status, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION].to_str().unwrap(),
        format!("/incidents/{key}#part-summary")
    );
    assert_eq!(incident_status(&app, &alice.token, &key).await.0, "active");
    // A stale form (it showed triage) sends only what its reader changed: the severity.
    let res = en
        .form(
            &status,
            &[
                ("status", "triage"),
                ("shown_status", "triage"),
                ("severity", "SEV-3"),
                ("shown_severity", "SEV-2"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        incident_status(&app, &alice.token, &key).await,
        ("active".into(), "SEV-3".into())
    );
    // A refusal without script: the room again, with the words, in the reader's language.
    let res = ja
        .form(&status, &[("status", "not_an_incident"), ("shown_status", "active")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("「インシデントではない」としてクローズできるのは、インシデントの指揮官のみです。"),
        "{html}"
    );
    // Without the CSRF token: refused, nothing changed.
    let res = en
        .http
        .post(format!("{}{status}", app.base))
        .header(COOKIE, &en.cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("status=contained&shown_status=active")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(incident_status(&app, &alice.token, &key).await.0, "active");

    // The page's script: 204, or a problem document whose detail is the reader's words.
    let (st, v) = en
        .script(&status, &[("status", "contained"), ("shown_status", "active")])
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(incident_status(&app, &alice.token, &key).await.0, "contained");
    let (st, v) = ja
        .script(&status, &[("status", "triage"), ("shown_status", "contained")])
        .await;
    // Contained never goes back to triage: the status machine's refusal, in words.
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["detail"],
        "ステータスを「封じ込め済み」から「トリアージ中」に変更することはできません。"
    );
    assert_eq!(v["code"], "illegal_transition", "{v}");
    let (st, v) = en
        .script(&format!("/incidents/{key}/tasks/10"), &[("status", "done")])
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("This step is locked: Systems secured"),
        "{v}"
    );
    let (st, v) = ja
        .script(
            &format!("/incidents/{key}/tasks/10"),
            &[("status", "done"), ("override", "1"), ("override_reason", " ")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["detail"], "ゲートを解除する理由を入力してください。");
    let (st, v) = en
        .script(
            &format!("/incidents/{key}/members"),
            &[("user", "nobody-here"), ("role", "scribe")],
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["detail"], "There is no such user (user).");

    // Members: added and removed without script, and by script; removing twice is refused
    // in words.
    let members = format!("/incidents/{key}/members");
    let remove = format!("/incidents/{key}/members/remove");
    let res = en.form(&members, &[("user", "carol"), ("role", "scribe")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = en.form(&remove, &[("user", "carol"), ("role", "scribe")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[LOCATION].to_str().unwrap(),
        format!("/incidents/{key}#team")
    );
    let (st, v) = ja.script(&remove, &[("user", "carol"), ("role", "scribe")]).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["detail"], "その人はすでにその役割でチームにいません。");
    let (st, _) = en.script(&members, &[("user", "carol"), ("role", "legal")]).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = en.script(&remove, &[("user", "carol"), ("role", "legal")]).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, detail) = app.get(&format!("/api/v1/incidents/{key}"), &alice.token).await;
    let carol_active = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["user"] == "carol" && m["active"] == true);
    assert!(!carol_active, "{detail}");

    // An address that is not an incident's: the not-found page, or a 404 problem to a script.
    assert_eq!(en.get("/incidents/never-was/activity").await, StatusCode::NOT_FOUND);
    let (st, v) = en.script("/incidents/never-was/status", &[("status", "active")]).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "not_found");
}

#[tokio::test]
async fn a_removed_member_meets_the_not_found_page_at_every_address_of_the_sealed_incident() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, bob) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "bob", &[], "en"),
    );
    let (key, _) = declare(&app, &alice.token).await;
    app.add_member(&alice.token, &key, "bob", "subject_matter_expert").await;
    let room = format!("{}/incidents/{key}", app.base);
    assert_eq!(bob.page.goto(&room).await, Some(200));
    let bob_http = Session::of(&app, &bob, &key, "en").await;
    assert_eq!(
        bob_http.get(&format!("/incidents/{key}/parts/team")).await,
        StatusCode::OK
    );
    assert_eq!(alice.page.goto(&room).await, Some(200));
    alice.page.assert_accessible().await;

    // Alice removes Bob with the button on his line (by its accessible name); the keyboard
    // stays in the team part when the line goes.
    alice
        .page
        .click_button("Remove bob (Subject matter expert) from the team")
        .await;
    alice
        .page
        .wait_for_text(
            "#part-activity",
            "alice removed bob (Subject matter expert) from the team",
            LIVE,
        )
        .await;
    // The team part comes back on its own fetch, beside the activity's.
    let gone = std::time::Instant::now() + LIVE;
    while alice
        .page
        .count("#part-team button[aria-label='Remove bob (Subject matter expert) from the team']")
        .await
        > 0
    {
        assert!(std::time::Instant::now() < gone, "bob's line is still in the team");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        alice.page.attribute(":focus", "id").await.as_deref(),
        Some("team-heading")
    );
    assert_eq!(alice.page.path().await, format!("/incidents/{key}"));
    alice.page.assert_accessible().await;

    // Bob's open page learns it may no longer see the incident and shows the not-found page
    // (his change stream ends; its reconnection is refused).
    bob.page
        .wait_for_text("h1", "Not found", std::time::Duration::from_secs(10))
        .await;
    let (title, main) = (bob.page.title().await, bob.page.text("main").await);
    assert!(!bob.page.html().await.contains(TITLE));
    // And every address of the incident is the same page as one that never existed.
    for path in [
        format!("/incidents/{key}"),
        format!("/incidents/{key}/parts/summary"),
        format!("/incidents/{key}/parts/activity"),
        format!("/incidents/{key}/activity"),
        "/incidents/never-was".to_owned(),
    ] {
        assert_eq!(bob.page.goto(&format!("{}{path}", app.base)).await, Some(404), "{path}");
        assert_eq!(
            (bob.page.title().await, bob.page.text("main").await),
            (title.clone(), main.clone())
        );
    }
    assert_eq!(
        bob.page
            .goto(&format!("{}/api/v1/incidents/{key}/events", app.base))
            .await,
        Some(404)
    );
    // The forms are closed to him too, with and without script.
    let res = bob_http
        .form(&format!("/incidents/{key}/tasks/4"), &[("status", "in_progress")])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (st, _) = bob_http
        .script(
            &format!("/incidents/{key}/members"),
            &[("user", "bob"), ("role", "scribe")],
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The sequence numbers of the activity lines in `html`, in page order.
fn seqs(html: &str) -> Vec<i64> {
    html.split("data-seq=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[tokio::test]
async fn older_entries_links_reach_the_whole_history_once_each_in_order() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
    );
    let (key, codename) = declare(&app, &alice.token).await;
    // 540 moves of the first nine steps (no gates), with a conversation message after every
    // third: the messages are in the audit log but not in the activity.
    const MOVES: usize = 540;
    let statuses = ["in_progress", "todo"];
    for i in 0..MOVES {
        let step = (i % 9 + 1) as u64;
        let (st, v) = app
            .set_task(&alice.token, &key, step, json!({ "status": statuses[(i / 9) % 2] }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if i % 3 == 2 {
            let (st, v) = app
                .post(
                    &format!("/api/v1/incidents/{key}/messages"),
                    &alice.token,
                    json!({ "body": format!("note {i}") }),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
    }
    let page = &alice.page;
    assert_eq!(page.goto(&format!("{}/incidents/{key}", app.base)).await, Some(200));
    let mut all = seqs(&page.html().await);
    assert_eq!(all.len(), 500, "the room shows the newest 500");
    let mut pages = 1;
    // "Older entries": plain links, each a page of its own (bookmarkable, no script).
    while page.count("a:text-is('Older entries')").await > 0 {
        page.click_link("Older entries").await;
        page.wait_for_text("h1", &format!("Activity of {codename}"), ACTION_TIMEOUT)
            .await;
        let path = page.path().await;
        assert!(
            path.starts_with(&format!("/incidents/{key}/activity?before=")),
            "{path}"
        );
        assert_eq!(page.title().await, format!("{codename} · Cordon"));
        page.assert_accessible().await;
        all.extend(seqs(&page.html().await));
        pages += 1;
        assert!(pages < 10, "the links end");
    }
    assert!(pages >= 2, "more than one page");
    assert_eq!(all.len(), MOVES + 1, "every move and the declaration");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first, none twice");
    page.wait_for_text("main", "alice declared the incident", LIVE).await;
    page.wait_for_text("main", "This is where the incident's history begins.", LIVE)
        .await;

    // The same history page in Japanese, from its address.
    let last = page.path().await;
    assert_eq!(kenji.page.goto(&format!("{}{last}", app.base)).await, Some(200));
    kenji
        .page
        .wait_for_text("h1", &format!("{codename} の対応履歴"), LIVE)
        .await;
    kenji
        .page
        .wait_for_text("main", "alice がインシデントを宣言しました", LIVE)
        .await;
    kenji.page.assert_accessible().await;
    kenji.page.click_link(&format!("{codename} のウォールームに戻る")).await;
    kenji
        .page
        .wait_for_text("#part-board h2", "対応チェックリスト", LIVE)
        .await;
}

/// Text of `html` a reader sees or hears (text nodes, and the labels and titles given in
/// attributes), without the parts that are people's own words (the conversation).
fn readable_text(html: &str) -> String {
    let body = &html[html.find("<body").unwrap_or(0)..];
    let mut out = String::new();
    // Attribute values that are read out.
    for attr in [
        "aria-label=\"",
        "title=\"",
        "placeholder=\"",
        "alt=\"",
        "data-left=\"",
        "data-over=\"",
    ] {
        for part in body.split(attr).skip(1) {
            // The countdown's sentence with its time left out (the script fills it in).
            out.push_str(&part[..part.find('"').unwrap_or(0)].replace("{time}", " "));
            out.push('\n');
        }
    }
    // The conversation's messages are what people wrote (and Cordon's chat replies).
    let mut rest = body.to_owned();
    while let Some(start) = rest.find("<div class=\"messages\"") {
        let end = rest[start..].find("</div>").map_or(rest.len(), |e| start + e + 6);
        rest.replace_range(start..end, " ");
    }
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
}

/// Runs of four or more ASCII letters in `text` once `names` are taken out: English words.
fn english_words(text: &str, names: &[&str]) -> Vec<String> {
    let mut text = text.to_owned();
    for n in names {
        text = text.replace(n, " ");
    }
    // Chat commands are written as typed.
    for cmd in ["!ic page", "!status", "!ic", "!ack"] {
        text = text.replace(cmd, " ");
    }
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_alphabetic() {
            word.push(c);
        } else {
            if word.len() >= 4 {
                words.push(word.clone());
            }
            word.clear();
        }
    }
    words.sort();
    words.dedup();
    words
}

#[tokio::test]
async fn a_japanese_war_room_with_running_clocks_shows_no_english() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
    );
    app.user("carol", &[]).await;
    let (key, codename) = declare(&app, &alice.token).await;
    // A room with something of everything the war room names: team and roles, a page, a
    // moved and an overridden step, a decision, a status and severity change, and running
    // clocks of two regimes.
    app.add_member(&alice.token, &key, "kenji", "incident_commander").await;
    app.add_member(&alice.token, &key, "alice", "security_lead").await;
    app.add_member(&alice.token, &key, "carol", "legal").await;
    let started = crate::common::start_time().to_string();
    for regime in ["appi", "gdpr", "hipaa", "dora"] {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{key}/clocks"),
                &alice.token,
                json!({ "regime": regime, "started_at": started }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{key}/pages"),
            &alice.token,
            json!({ "user": "carol", "reason": "法務の確認が必要" }),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (st, v) = app
        .set_task(
            &alice.token,
            &key,
            4,
            json!({ "status": "in_progress", "assignee": "kenji" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app
        .set_task(
            &kenji.token,
            &key,
            10,
            json!({ "status": "in_progress", "override_reason": "クラウド事業者が取得済み" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{key}/decisions"),
            &alice.token,
            json!({ "name": "insider_threat_ruled_out", "value": true }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            &alice.token,
            json!({ "status": "active", "severity": "SEV-1" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let page = &kenji.page;
    assert_eq!(page.goto(&format!("{}/incidents/{key}", app.base)).await, Some(200));
    page.wait_for_text(".clocks", "個人情報保護法：個人情報保護委員会への速報", LIVE)
        .await;
    page.wait_for_text(".clocks", "GDPR：監督機関への通知", LIVE).await;
    page.wait_for_text(".clocks", "HIPAA：影響を受けた個人への通知", LIVE)
        .await;
    page.wait_for_text(".clocks", "DORA：初回報告", LIVE).await;
    page.wait_for_text(
        "#part-activity",
        "alice が個人情報保護法の報告期限の計測を開始しました",
        LIVE,
    )
    .await;
    page.wait_for_text("#part-activity", "alice が carol を呼び出しました", LIVE)
        .await;
    page.wait_for_text(
        "#part-activity",
        "alice が判断「内部犯行の否定」を記録しました（はい）",
        LIVE,
    )
    .await;
    page.wait_for_text("#part-activity", "kenji がステップ10のゲートを解除しました", LIVE)
        .await;
    // The countdowns tick in Japanese.
    let countdown = page.text(".clocks .countdown").await;
    assert!(
        countdown.starts_with("残り ") || countdown.ends_with(" 超過"),
        "{countdown}"
    );
    // Kenji commands: the override forms (closed until opened) are on his page too.
    page.click("#step-10 details.override summary").await;
    page.assert_accessible().await;

    let names = [
        codename.as_str(),
        TITLE,
        "alice",
        "kenji",
        "carol",
        "Cordon",
        "English",
        "security",
        "GDPR",
        "HIPAA",
        "DORA",
        // Step 1's Japanese names the cloud console's own button, as the console labels it.
        "terminate",
    ];
    let words = english_words(&readable_text(&page.html().await), &names);
    assert!(words.is_empty(), "English on the Japanese war room: {words:?}");
    // The check sees English where there is some: the same room in English.
    assert_eq!(
        alice.page.goto(&format!("{}/incidents/{key}", app.base)).await,
        Some(200)
    );
    let english = english_words(&readable_text(&alice.page.html().await), &names);
    assert!(english.len() > 50, "{english:?}");
    let errors = unexpected_errors(page).await;
    assert!(errors.is_empty(), "{errors:?}");
}
