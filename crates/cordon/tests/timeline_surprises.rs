//! No silent surprises (issue 13, findings 5 and 6), black-box over HTTP and through the real
//! binary: an indicator search reads every matching event (2,323 of them, not 1,000) and is
//! paged by indicators with `Link: rel=next`, which the CLI follows; the same bytes ingested
//! twice are refused unless asked; a guessed syslog year is said and never lands after the
//! ingest time; an Apache httpd error log is read and its client addresses found; sources are
//! named by their handles. The indicator search runs on SQLite and on PostgreSQL.

mod common;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app, spawn_app_with};
use cordon_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ATTACKER: &str = "203.0.113.66";
const ATTACKS: usize = 2323;

async fn ingest(app: &TestApp, token: &str, r: &str, params: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}/api/v1/incidents/{r}/timeline/sources?{params}", app.base))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn ingest_ok(app: &TestApp, r: &str, params: &str, body: Vec<u8>) -> Value {
    let (st, v) = ingest(app, ADMIN_TOKEN, r, params, body).await;
    assert_eq!(st, StatusCode::CREATED, "{params}: {v}");
    v
}

/// An auth.log of 2026-12-01 with `ATTACKS` failed logins from the attacker, one a second
/// from 10:00:00, between lines of other clients.
fn brute_force_log() -> String {
    let mut log = String::new();
    for i in 0..ATTACKS {
        let (h, m, s) = (10 + i / 3600, (i / 60) % 60, i % 60);
        log.push_str(&format!(
            "Dec  1 {h:02}:{m:02}:{s:02} web1 sshd[{}]: Failed password for root from {ATTACKER} port {} ssh2\n",
            1000 + i,
            40000 + i % 20000
        ));
        if i % 100 == 0 {
            log.push_str(&format!(
                "Dec  1 {h:02}:{m:02}:{s:02} web1 sshd[77]: Accepted publickey for alice from 198.51.100.7 port 50000 ssh2\n"
            ));
        }
    }
    log
}

fn link_next(res: &reqwest::Response) -> Option<String> {
    let h = res.headers().get(reqwest::header::LINK)?.to_str().ok()?;
    let target = h
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    Some(target.to_owned())
}

async fn post_raw(app: &TestApp, path: &str) -> (StatusCode, Option<String>, Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let next = link_next(&res);
    (status, next, res.json().await.unwrap_or(Value::Null))
}

async fn sightings_of(app: &TestApp, r: &str, value: &str) -> Value {
    let res = app
        .http
        .get(format!("{}/api/v1/incidents/{r}/iocs?limit=1000", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let list: Value = res.json().await.unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["value"] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no indicator {value}: {list}"))
}

/// The whole indicator story on one server: every event found, paged by indicators.
async fn every_sighting_is_recorded(app: &TestApp) {
    let inc = app.declare(ADMIN_TOKEN, "Brute force on web1", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let v = ingest_ok(app, &r, "name=auth.log&year=2026", brute_force_log().into_bytes()).await;
    assert_eq!(v["events"], ATTACKS + ATTACKS.div_ceil(100), "{v}");
    for (kind, value) in [("ip", ATTACKER), ("ip", "198.51.100.7"), ("account", "root")] {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{r}/iocs"),
                ADMIN_TOKEN,
                json!({ "kind": kind, "value": value }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }

    // One indicator a page: the first page searches its one indicator only.
    let (st, next, page) = post_raw(app, &format!("/api/v1/incidents/{r}/iocs/search?limit=1")).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let mut all = page.as_array().unwrap().clone();
    assert_eq!(all.len(), 1);
    let searched = all[0]["value"].as_str().unwrap().to_owned();
    for value in [ATTACKER, "198.51.100.7", "root"] {
        let i = sightings_of(app, &r, value).await;
        assert_eq!(
            i["sightings"].as_array().unwrap().is_empty(),
            value != searched,
            "only the page's indicator is searched: {i}"
        );
    }

    // Following the links searches the rest.
    let mut next = next.expect("a next link while indicators follow");
    loop {
        let (st, after, more) = post_raw(app, &next).await;
        assert_eq!(st, StatusCode::OK, "{more}");
        all.extend(more.as_array().unwrap().clone());
        match after {
            Some(n) => next = n,
            None => break,
        }
    }
    assert_eq!(all.len(), 3);
    let by_value = |v: &str| all.iter().find(|x| x["value"] == v).cloned().unwrap();
    let attacker = by_value(ATTACKER);
    assert_eq!(
        attacker["found"], ATTACKS,
        "every event, not the first 1,000: {attacker}"
    );
    assert_eq!(attacker["new"], ATTACKS);
    assert_eq!(attacker["sightings"], ATTACKS);
    assert_eq!(attacker["first_seen"], "2026-12-01T10:00:00Z");
    assert_eq!(
        attacker["last_seen"], "2026-12-01T10:38:42Z",
        "the last of 2,323, one a second"
    );
    assert_eq!(by_value("198.51.100.7")["found"], ATTACKS.div_ceil(100));
    assert_eq!(by_value("root")["found"], ATTACKS, "root's failed logins");
    let ip = sightings_of(app, &r, ATTACKER).await;
    assert_eq!(ip["sightings"].as_array().unwrap().len(), ATTACKS);
    assert_eq!(ip["last_seen"], "2026-12-01T10:38:42Z");

    // Again: the same events, nothing new.
    let (st, _, again) = post_raw(app, &format!("/api/v1/incidents/{r}/iocs/search")).await;
    assert_eq!(st, StatusCode::OK);
    let again = again.as_array().unwrap();
    assert!(again.iter().all(|x| x["new"] == 0), "{again:?}");
    let attacker = again.iter().find(|x| x["value"] == ATTACKER).unwrap();
    assert_eq!(
        (attacker["found"].as_u64(), attacker["sightings"].as_u64()),
        (Some(ATTACKS as u64), Some(ATTACKS as u64))
    );
}

#[tokio::test]
async fn an_indicator_search_records_every_sighting_with_a_cursor_on_sqlite() {
    let app = spawn_app().await;
    every_sighting_is_recorded(&app).await;
}

#[tokio::test]
async fn an_indicator_search_records_every_sighting_with_a_cursor_on_postgresql() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = db.url().to_owned();
    let app = spawn_app_with(move |c| c.database_url = Some(url)).await;
    every_sighting_is_recorded(&app).await;
}

#[tokio::test]
async fn the_cli_follows_the_search_to_its_last_indicator() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Many indicators", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    ingest_ok(
        &app,
        &r,
        "name=auth.log&year=2026",
        b"Dec  1 10:00:00 web1 sshd[1]: Failed password for root from 192.0.2.150 port 1 ssh2\n".to_vec(),
    )
    .await;
    // 101 indicators: more than the server's default page of 100.
    for n in 0..=100 {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{r}/iocs"),
                ADMIN_TOKEN,
                json!({ "kind": "ip", "value": format!("192.0.2.{}", 50 + n) }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let out = run_cli(&app.base, ADMIN_TOKEN, &["ioc", "search", &r, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let all = v.as_array().unwrap();
    assert_eq!(all.len(), 101, "both pages");
    let last = all.iter().find(|x| x["value"] == "192.0.2.150").unwrap();
    assert_eq!((last["found"].as_u64(), last["new"].as_u64()), (Some(1), Some(1)));
    let table = run_cli(&app.base, ADMIN_TOKEN, &["ioc", "search", &r]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("LAST SEEN") && table.stdout.contains("192.0.2.150"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn the_same_bytes_twice_are_refused_unless_again() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Twice", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let log = b"Dec  1 10:00:00 web1 sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\n\
                Dec  1 10:00:01 web1 sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\n"
        .to_vec();
    let first = ingest_ok(&app, &r, "name=auth.log&year=2026", log.clone()).await;
    let evidence_before = app.get(&format!("/api/v1/incidents/{r}/evidence"), ADMIN_TOKEN).await.1;

    let (st, p) = ingest(&app, ADMIN_TOKEN, &r, "name=auth-copy.log&year=2026", log.clone()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "duplicate_source");
    assert_eq!(p["source_id"], first["source_id"]);
    assert_eq!(p["source_name"], "auth.log");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("auth.log") && detail.contains("--again"), "{detail}");
    let (_, sources) = app
        .get(&format!("/api/v1/incidents/{r}/timeline/sources"), ADMIN_TOKEN)
        .await;
    assert_eq!(sources.as_array().unwrap().len(), 1, "nothing kept: {sources}");
    let (_, tl) = app.get(&format!("/api/v1/incidents/{r}/timeline"), ADMIN_TOKEN).await;
    assert_eq!(tl["events"].as_array().unwrap().len(), 2, "no doubled events");
    let evidence_after = app.get(&format!("/api/v1/incidents/{r}/evidence"), ADMIN_TOKEN).await.1;
    assert_eq!(evidence_before, evidence_after, "no evidence item for a refused copy");
    assert!(app.audit_actions().await.iter().any(|a| a == "timeline.ingest.refused"));

    // Asked for: kept, and said in the audit entry.
    let second = ingest_ok(&app, &r, "name=auth.log&year=2026&again=true", log.clone()).await;
    assert_ne!(second["source_id"], first["source_id"]);
    let (_, tl) = app.get(&format!("/api/v1/incidents/{r}/timeline"), ADMIN_TOKEN).await;
    assert_eq!(tl["events"].as_array().unwrap().len(), 4);

    // The CLI says so and how to insist.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.log");
    std::fs::write(&file, &log).unwrap();
    let path = file.to_str().unwrap();
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["timeline", "ingest", &r, path, "--year", "2026"],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("already ingested") && out.stderr.contains("--again"),
        "{}",
        out.stderr
    );
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["timeline", "ingest", &r, path, "--year", "2026", "--again"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[tokio::test]
async fn a_guessed_year_is_said_and_never_in_the_future() {
    let app = spawn_app().await;
    // Today is 5 December 2026; the log says "Dec 10" (a real OpenSSH log, Loghub's LabSZ).
    app.clock.set("2026-12-05T09:00:00Z".parse().unwrap());
    let inc = app.declare(ADMIN_TOKEN, "Old sshd log", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let log = "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!\n\
               Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2\n";
    let v = ingest_ok(&app, &r, "name=sshd.log", log.as_bytes().to_vec()).await;
    let diag = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "year_guessed")
        .unwrap_or_else(|| panic!("no year_guessed diagnostic: {v}"));
    let msg = diag["message"].as_str().unwrap();
    assert!(msg.contains("2025") && msg.contains("--year"), "{msg}");
    let (_, tl) = app.get(&format!("/api/v1/incidents/{r}/timeline"), ADMIN_TOKEN).await;
    let stamps: Vec<&str> = tl["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ts"].as_str().unwrap())
        .collect();
    assert_eq!(stamps, ["2025-12-10T06:55:46Z", "2025-12-10T06:55:48Z"]);

    // The CLI prints the diagnostic with its hint.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sshd-2.log");
    std::fs::write(&file, log.replace("24200", "24201")).unwrap();
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["timeline", "ingest", &r, file.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("year_guessed") && out.stdout.contains("--year"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn an_apache_error_log_is_read_and_its_clients_found() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Scans on www", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cordon-timeline/tests/data/loghub-apache-error.log"
    ))
    .unwrap();
    let v = ingest_ok(&app, &r, "name=error_log&host=www", real).await;
    assert_eq!(
        (v["format"].as_str(), v["events"].as_u64()),
        (Some("apache-error"), Some(24)),
        "{v}"
    );
    assert_eq!(v["skipped"], 0);
    let modern = "[Sat Nov 28 10:00:00.123456 2026] [core:error] [pid 3:tid 4] [client 198.51.100.23:51234] AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1\n";
    let v = ingest_ok(&app, &r, "name=error.log&host=www", modern.as_bytes().to_vec()).await;
    assert_eq!(v["format"], "apache-error", "{v}");

    for (ip, ts) in [
        ("222.166.160.184", "2005-12-04T05:15:09Z"),
        ("198.51.100.23", "2026-11-28T10:00:00.123456Z"),
    ] {
        let (st, tl) = app
            .get(&format!("/api/v1/incidents/{r}/timeline?ip={ip}"), ADMIN_TOKEN)
            .await;
        assert_eq!(st, StatusCode::OK, "{tl}");
        let evs = tl["events"].as_array().unwrap();
        assert_eq!(evs.len(), 1, "{tl}");
        assert_eq!((evs[0]["src_ip"].as_str(), evs[0]["ts"].as_str()), (Some(ip), Some(ts)));
    }
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/iocs"),
            ADMIN_TOKEN,
            json!({ "kind": "ip", "value": "198.51.100.23" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, _, found) = post_raw(&app, &format!("/api/v1/incidents/{r}/iocs/search")).await;
    assert_eq!(found[0]["found"], 1, "{found}");

    // The fallback reads bracketed and ISO-like stamps of a log it does not know.
    let unknown = "[10/Oct/2000:13:55:36 -0700] custom line one\n\
                   2024-03-01 12:00:00,123 custom line two\n";
    let v = ingest_ok(&app, &r, "name=app.log&format=text", unknown.as_bytes().to_vec()).await;
    assert_eq!(
        (v["format"].as_str(), v["events"].as_u64()),
        (Some("text"), Some(2)),
        "{v}"
    );
}

#[tokio::test]
async fn sources_are_named_by_their_handles() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Handles", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth.log");
    std::fs::write(
        &file,
        "Dec  1 10:00:00 web1 sshd[1]: Failed password for root from 192.0.2.9 port 1 ssh2\n",
    )
    .unwrap();
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["timeline", "ingest", &r, file.to_str().unwrap(), "--year", "2026"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("--source auth.log"), "{}", out.stdout);

    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["timeline", "query", &r, "--source", "auth.log"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("192.0.2.9"), "{}", out.stdout);
    let out = run_cli(&app.base, ADMIN_TOKEN, &["timeline", "sources", &r]).await;
    assert!(
        out.stdout.contains("HANDLE") && out.stdout.contains("auth.log"),
        "{}",
        out.stdout
    );

    // A second auth.log (another host's): the name is no longer unique.
    let v = ingest_ok(
        &app,
        &r,
        "name=auth.log&year=2026",
        b"Dec  1 11:00:00 web2 sshd[1]: Failed password for root from 192.0.2.10 port 1 ssh2\n".to_vec(),
    )
    .await;
    let second_id = v["source_id"].as_str().unwrap().to_owned();
    let handle = v["handle"].as_str().unwrap().to_owned();
    assert!(
        second_id.replace('-', "").starts_with(&handle) && handle.len() >= 8,
        "{v}"
    );
    let (st, p) = app
        .get(&format!("/api/v1/incidents/{r}/timeline?source=auth.log"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "source");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains(&second_id) && detail.contains("names 2 sources"),
        "{detail}"
    );
    // The handle, a unique prefix and the full id all name it.
    let simple = second_id.replace('-', "");
    for name in [handle.as_str(), &simple[..simple.len() - 1], second_id.as_str()] {
        let (st, tl) = app
            .get(&format!("/api/v1/incidents/{r}/timeline?source={name}"), ADMIN_TOKEN)
            .await;
        assert_eq!(st, StatusCode::OK, "{name}: {tl}");
        let evs = tl["events"].as_array().unwrap();
        assert_eq!(evs.len(), 1, "{name}: {tl}");
        assert_eq!(evs[0]["src_ip"], "192.0.2.10");
    }
    let (st, p) = app
        .get(
            &format!("/api/v1/incidents/{r}/timeline/facets?source=nginx.log"),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("nginx.log"), "{p}");
    let (_, list) = app
        .get(&format!("/api/v1/incidents/{r}/timeline/sources"), ADMIN_TOKEN)
        .await;
    let handles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["handle"].as_str().unwrap())
        .collect();
    assert!(handles.iter().all(|h| *h != "auth.log" && h.len() >= 8), "{list}");

    // Promotion takes a handle too; a sealed incident stays invisible to outsiders.
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/iocs/promote"),
            ADMIN_TOKEN,
            json!({ "source_id": handle, "line": 1, "value": "192.0.2.10" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let outsider = app.user("olivia", &[]).await;
    let (st, _) = app
        .get(&format!("/api/v1/incidents/{r}/timeline?source={handle}"), &outsider)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app
        .post(&format!("/api/v1/incidents/{r}/iocs/search"), &outsider, json!({}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
