//! The browser harness proven on what Cordon serves today, in real Chromium: the page mail's
//! acknowledgement landing opened by two people at once, each in a browser context of their
//! own, acknowledged with its button, with no serious or critical accessibility violation;
//! and axe-core shown to find violations where there are some.

use std::time::Duration;

use crate::common::browser::{self, ACTION_TIMEOUT};
use crate::common::{ADMIN_TOKEN, TestApp, spawn_app_with};
use cordon_mail::testing::SmtpSink;
use reqwest::StatusCode;
use serde_json::json;

const TITLE: &str = "Payroll export copied to an unknown host";
const PUBLIC: &str = "https://cordon.corp.example";

#[tokio::test]
async fn axe_reports_serious_and_critical_violations_and_nothing_on_a_clean_page() {
    let Some(browser) = browser::shared() else { return };
    let page = browser.page().await;

    // No language, no title, a button without a name: html-has-lang (serious), button-name
    // (critical) and document-title (serious).
    assert_eq!(page.goto("data:text/html,<button></button>").await, None);
    let mut found: Vec<String> = page.axe().await.into_iter().map(|v| v.id).collect();
    found.sort();
    assert_eq!(found, ["button-name", "document-title", "html-has-lang"]);

    // The same page made right passes, and the helpers find its parts by label and name.
    let clean = "data:text/html;charset=utf-8,<!doctype html><html lang=en><title>Clean</title>\
                 <main><h1>Clean</h1><label for=u>User name</label><input id=u name=username>\
                 <button>Sign in</button></main></html>";
    page.goto(clean).await;
    page.assert_accessible().await;
    page.fill_label("User name", "alice").await;
    assert_eq!(
        page.attribute("[name=username]", "value").await,
        None,
        "fill sets the property"
    );
    page.fill_name("username", "bob").await;
    page.click_button("Sign in").await;
    assert_eq!(page.text("h1").await, "Clean");
    assert_eq!(page.title().await, "Clean");
    assert!(page.console_errors().await.is_empty());

    // A screenshot is a PNG file.
    let shot = browser::artifacts_dir().join("smoke-screenshot.png");
    page.screenshot(&shot).await;
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"));
}

struct World {
    app: TestApp,
    sink: SmtpSink,
}

/// A deployment that mails pages with links to its public address.
async fn world() -> World {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
        c.public_url = Some(PUBLIC.into());
    })
    .await;
    for name in ["rita", "carol", "dave"] {
        let (st, v) = app
            .post(
                "/api/v1/users",
                ADMIN_TOKEN,
                json!({ "name": name, "email": format!("{name}@corp.example") }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    World { app, sink }
}

#[tokio::test]
async fn two_people_acknowledge_their_pages_from_the_mail_link_in_two_browsers_at_once() {
    let Some(browser) = browser::shared() else { return };
    let w = world().await;
    let app = &w.app;
    let incident = app.declare(ADMIN_TOKEN, TITLE, "security").await;
    let id = incident["id"].as_str().unwrap();
    let codename = incident["codename"].as_str().unwrap();
    let mut page_ids = Vec::new();
    for user in ["carol", "dave"] {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{id}/pages"),
                ADMIN_TOKEN,
                json!({ "user": user }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        page_ids.push(v["id"].as_str().unwrap().to_owned());
    }
    {
        use cordon_core::clock::Clock;
        app.cordon().run_engine(app.clock.now()).await.unwrap();
    }
    let mails = w.sink.wait_for_messages(2, Duration::from_secs(20)).await;

    let acknowledge = |who: &'static str| {
        let path = crate::common::ack_link_in(&mails, &format!("{who}@corp.example"), PUBLIC);
        let url = format!("{}{path}", app.base);
        let button = format!("Acknowledge the page for {codename}");
        let done = format!("Acknowledged {codename}.");
        async move {
            let page = browser.page().await;
            assert_eq!(page.goto(&url).await, Some(200));
            // The tab names no incident, the page names it by codename only.
            assert_eq!(page.title().await, "Acknowledge a page · Cordon");
            assert!(!page.html().await.contains(TITLE));
            page.assert_accessible().await;
            page.click_button(&button).await;
            page.wait_for_text("body", &done, ACTION_TIMEOUT).await;
            let errors = page.console_errors().await;
            assert!(errors.is_empty(), "{errors:?}");
            // Nothing was stored in this browser.
            assert!(page.cookies().await.is_empty());
            page.close().await;
        }
    };
    tokio::join!(acknowledge("carol"), acknowledge("dave"));

    for page_id in &page_ids {
        let (_, v) = app.get(&format!("/api/v1/pages/{page_id}"), ADMIN_TOKEN).await;
        assert_eq!(v["status"], "acknowledged", "{v}");
    }

    // A link that names nothing is not found, in the browser too.
    let page = browser.page().await;
    let made_up = format!("{}/ack/{}", app.base, "a".repeat(64));
    assert_eq!(page.goto(&made_up).await, Some(404));
}
