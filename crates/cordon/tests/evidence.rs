//! The evidence locker, black-box over HTTP and through the real binary: streamed uploads with
//! both digests, write-once storage (one blob for the same bytes, no change or delete), chain
//! of custody in the audit log, interrupted and rejected uploads that keep nothing, range
//! downloads, verification that catches a flipped byte, need-to-know, custody reports and
//! the `cordon evidence` commands.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{ADMIN_TOKEN, TestApp, spawn_app};
use reqwest::header::{ALLOW, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, RANGE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------- helpers ----------

/// Deterministic, incompressible test bytes.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn evidence_path(r: &str) -> String {
    format!("/api/v1/incidents/{r}/evidence")
}

/// Uploads `data` as a stream of uneven chunks with its `Content-Length`.
async fn upload(app: &TestApp, token: &str, r: &str, query: &str, data: Vec<u8>) -> (StatusCode, Value) {
    let len = data.len();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = data.chunks(300_007).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .http
        .post(format!("{}{}?{query}", app.base, evidence_path(r)))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Uploads and expects 201.
async fn add(app: &TestApp, r: &str, name: &str, data: Vec<u8>) -> Value {
    let (st, v) = upload(app, ADMIN_TOKEN, r, &format!("name={name}"), data).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn blobs(app: &TestApp) -> Vec<PathBuf> {
    files_under(&app.data_dir.join("evidence/objects"))
}

fn incoming(app: &TestApp) -> Vec<PathBuf> {
    files_under(&app.data_dir.join("evidence/incoming"))
}

fn blob_path(app: &TestApp, sha256: &str) -> PathBuf {
    app.data_dir.join("evidence/objects").join(&sha256[..2]).join(sha256)
}

/// Flips one bit of one stored byte, as an attacker with disk access would.
fn flip_stored_byte(app: &TestApp, sha256: &str, at: usize) {
    let path = blob_path(app, sha256);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut data = std::fs::read(&path).unwrap();
    data[at] ^= 0x01;
    std::fs::write(&path, data).unwrap();
}

async fn audit(app: &TestApp) -> Vec<Value> {
    let (st, v) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

fn kinds(item: &Value) -> Vec<String> {
    item["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn security_incident(app: &TestApp) -> String {
    app.declare(ADMIN_TOKEN, "Root disk of web1 exfiltrated", "security")
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ---------- tests ----------

#[tokio::test]
async fn a_64_mib_upload_has_both_digests_custody_in_the_audit_log_and_verifies() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let data = bytes(64 << 20, 1);
    let sha256 = sha256_hex(&data);
    let blake3 = blake3::hash(&data).to_hex().to_string();

    let (st, item) = upload(
        &app,
        ADMIN_TOKEN,
        &r,
        "name=web1-root.img&description=root%20volume&acquired_by=alice&tool=dd%209.1&source_asset=web1&md5=true",
        data,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{item}");
    assert_eq!(item["name"], "web1-root.img");
    assert_eq!(item["size"], 64 << 20);
    assert_eq!(item["sha256"], sha256.as_str());
    assert_eq!(item["blake3"], blake3.as_str());
    assert_eq!(item["md5"].as_str().map(str::len), Some(32));
    assert_eq!(
        (&item["acquired_by"], &item["tool"], &item["source_asset"]),
        (&json!("alice"), &json!("dd 9.1"), &json!("web1"))
    );
    assert_eq!(kinds(&item), ["acquisition", "receipt"]);
    assert_eq!(item["custody"][1]["details"]["stored"], "new");
    let id = item["id"].as_str().unwrap();

    // Custody is in the audit chain: same sequence numbers and hashes.
    let log = audit(&app).await;
    for event in item["custody"].as_array().unwrap() {
        let entry = log
            .iter()
            .find(|e| e["seq"] == event["audit_seq"])
            .unwrap_or_else(|| panic!("custody event {event} is not in the audit log"));
        assert_eq!(entry["action"], format!("evidence.{}", event["kind"].as_str().unwrap()));
        assert_eq!(entry["hash"], event["audit_hash"]);
        assert_eq!(entry["subject"], format!("evidence:{id}"));
    }
    assert_eq!(app.audit_verify().await["ok"], true);

    // Stored once, read-only, nothing left in incoming.
    let stored = blobs(&app);
    assert_eq!(stored, [blob_path(&app, &sha256)]);
    assert_eq!(
        std::fs::metadata(&stored[0]).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(incoming(&app).is_empty());

    // Listed and shown with digests and custody.
    let (st, list) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["sha256"], sha256.as_str());
    assert_eq!(kinds(&list[0]), ["acquisition", "receipt"]);
    let (st, one) = app.get(&format!("{}/{id}", evidence_path(&r)), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["blake3"], blake3.as_str());

    // Verify re-reads the bytes.
    let (st, v) = app
        .get(&format!("{}/{id}/verify", evidence_path(&r)), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["ok"], &v["sha256"], &v["blake3"]),
        (&json!(true), &json!(sha256), &json!(blake3))
    );
    let (_, one) = app.get(&format!("{}/{id}", evidence_path(&r)), ADMIN_TOKEN).await;
    assert_eq!(kinds(&one), ["acquisition", "receipt", "verification"]);
}

#[tokio::test]
async fn stored_evidence_cannot_be_changed_or_deleted() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let item = add(&app, &r, "auth.log", bytes(4096, 2)).await;
    let id = item["id"].as_str().unwrap();
    let path = format!("{}/{id}", evidence_path(&r));
    for (method, target, action) in [
        (Method::PUT, path.clone(), "evidence.update.refused"),
        (Method::PATCH, path.clone(), "evidence.update.refused"),
        (Method::DELETE, path.clone(), "evidence.delete.refused"),
        (Method::PUT, format!("{path}/content"), "evidence.update.refused"),
        (Method::DELETE, format!("{path}/content"), "evidence.delete.refused"),
    ] {
        let before = app.audit_actions().await.iter().filter(|a| *a == action).count();
        let res = app
            .http
            .request(method.clone(), format!("{}{target}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "name": "tampered" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {target}");
        assert_eq!(res.headers()[ALLOW], "GET");
        assert_eq!(res.headers()[CONTENT_TYPE], "application/problem+json");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["code"], "method_not_allowed", "{p}");
        let after = app.audit_actions().await.iter().filter(|a| *a == action).count();
        assert_eq!(after, before + 1, "{method} {target} is audited as {action}");
    }
    let (_, again) = app.get(&path, ADMIN_TOKEN).await;
    assert_eq!(again["name"], "auth.log");
    assert_eq!(blobs(&app).len(), 1);
}

#[tokio::test]
async fn an_upload_killed_half_way_leaves_no_record_and_no_file() {
    let mut app = spawn_app().await;
    let r = security_incident(&app).await;
    add(&app, &r, "before.log", bytes(1000, 3)).await;
    let (_, before) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;

    // Announce 8 MiB, send 3 MiB, then drop the connection.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {}?name=half.img HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        evidence_path(&r),
        8 << 20
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&bytes(3 << 20, 4)).await.unwrap();
    conn.flush().await.unwrap();
    drop(conn);

    let (_, after) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;
    assert_eq!(after, before, "the evidence list is unchanged");
    // A graceful stop waits for every request in flight: the upload has been discarded.
    app.stop().await;
    assert!(incoming(&app).is_empty(), "stray upload files: {:?}", incoming(&app));
    assert_eq!(blobs(&app).len(), 1);
    app.restart().await;
    let (_, after) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_wrong_digest_or_length_is_422_and_keeps_nothing() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let data = bytes(1 << 20, 5);

    // expected_sha256 of other bytes.
    let wrong = sha256_hex(b"other bytes");
    let (st, p) = upload(
        &app,
        ADMIN_TOKEN,
        &r,
        &format!("name=x.img&expected_sha256={wrong}"),
        data.clone(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        (&p["code"], &p["field"]),
        (&json!("invalid_field"), &json!("expected_sha256"))
    );

    // A body shorter than its Content-Length (the client half-closes after 50 of 100 bytes).
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {}?name=short.img HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Length: 100\r\nConnection: close\r\n\r\n",
        evidence_path(&r)
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&[7u8; 50]).await.unwrap();
    conn.shutdown().await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(answer.contains("invalid_field"), "{answer}");

    // Nothing kept: no record, no blob, no temporary file; the rejections are audited.
    let (_, list) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;
    assert_eq!(list, json!([]));
    assert!(blobs(&app).is_empty());
    assert!(incoming(&app).is_empty());
    let rejected = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "evidence.add.rejected")
        .count();
    assert_eq!(rejected, 2);

    // The right digest is accepted.
    let right = sha256_hex(&data);
    let (st, v) = upload(
        &app,
        ADMIN_TOKEN,
        &r,
        &format!("name=x.img&expected_sha256={right}"),
        data,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["custody"][1]["details"]["expected_sha256"], right.as_str());
    assert_eq!(v["custody"][1]["details"]["declared_length"], 1 << 20);
}

#[tokio::test]
async fn the_same_bytes_twice_are_two_records_and_one_stored_blob() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let data = bytes(1 << 20, 6);
    let first = add(&app, &r, "copy-a.img", data.clone()).await;
    let second = add(&app, &r, "copy-b.img", data).await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(first["custody"][1]["details"]["stored"], "new");
    assert_eq!(second["custody"][1]["details"]["stored"], "deduplicated");
    let (_, list) = app.get(&evidence_path(&r), ADMIN_TOKEN).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(blobs(&app).len(), 1);

    // Two uploads of the same new bytes at once: both recorded, stored once.
    let data = bytes(2 << 20, 16);
    let (a, b) = tokio::join!(
        upload(&app, ADMIN_TOKEN, &r, "name=race-a.img", data.clone()),
        upload(&app, ADMIN_TOKEN, &r, "name=race-b.img", data),
    );
    assert_eq!(
        (a.0, b.0),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{} {}",
        a.1,
        b.1
    );
    assert_eq!(a.1["sha256"], b.1["sha256"]);
    let mut stored = [&a.1, &b.1].map(|v| v["custody"][1]["details"]["stored"].as_str().unwrap().to_owned());
    stored.sort();
    assert_eq!(stored, ["deduplicated", "new"]);
    assert_eq!(blobs(&app).len(), 2);
    assert!(incoming(&app).is_empty());
}

#[tokio::test]
async fn the_openapi_description_lists_the_evidence_endpoints() {
    let app = spawn_app().await;
    let spec: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &spec["paths"];
    let base = "/api/v1/incidents/{ref}/evidence";
    assert!(paths[base]["post"].is_object() && paths[base]["get"].is_object());
    for (path, methods) in [
        ("/{id}", &["get", "put", "patch", "delete"][..]),
        ("/{id}/content", &["get", "put", "delete"]),
        ("/{id}/verify", &["get"]),
        ("/verify", &["post"]),
        ("/{id}/transfer", &["post"]),
        ("/{id}/custody", &["get"]),
    ] {
        for m in methods {
            assert!(paths[format!("{base}{path}")][m].is_object(), "{m} {base}{path}");
        }
    }
}

#[tokio::test]
async fn a_flipped_stored_byte_fails_verification_and_is_recorded() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let good = add(&app, &r, "good.img", bytes(100_000, 7)).await;
    let bad = add(&app, &r, "bad.img", bytes(100_000, 8)).await;
    let bad_id = bad["id"].as_str().unwrap();
    flip_stored_byte(&app, bad["sha256"].as_str().unwrap(), 12_345);

    let (st, v) = app
        .get(&format!("{}/{bad_id}/verify", evidence_path(&r)), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["ok"], false);
    assert_ne!(v["sha256"], bad["sha256"]);
    let mismatches: Vec<&str> = v["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        mismatches.contains(&"sha256_vs_key") && mismatches.contains(&"blake3_vs_expected"),
        "{mismatches:?}"
    );
    // Recorded: a failed verification in the custody chain, audited as a mismatch.
    let seq = &v["custody"]["audit_seq"];
    let log = audit(&app).await;
    let entry = log.iter().find(|e| &e["seq"] == seq).unwrap();
    assert_eq!(entry["action"], "evidence.mismatch");
    assert_eq!(entry["payload"]["details"]["ok"], false);
    let (_, item) = app.get(&format!("{}/{bad_id}", evidence_path(&r)), ADMIN_TOKEN).await;
    assert_eq!(kinds(&item).last().unwrap(), "verification");
    assert_eq!(item["custody"][2]["details"]["ok"], false);

    // Verifying the whole incident: one good, one bad.
    let (st, all) = app
        .post(&format!("{}/verify", evidence_path(&r)), ADMIN_TOKEN, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{all}");
    assert_eq!(all["ok"], false);
    let oks: Vec<(&Value, &Value)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (&i["id"], &i["ok"]))
        .collect();
    assert_eq!(oks, [(&good["id"], &json!(true)), (&bad["id"], &json!(false))]);
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn range_downloads_return_the_right_bytes_and_are_custody_events() {
    let app = spawn_app().await;
    let r = security_incident(&app).await;
    let data = bytes(1_000_000, 9);
    let item = add(&app, &r, "memory.raw", data.clone()).await;
    let id = item["id"].as_str().unwrap();
    let url = format!("{}{}/{id}/content", app.base, evidence_path(&r));
    let get = |range: Option<&'static str>| {
        let mut req = app.http.get(&url).bearer_auth(ADMIN_TOKEN);
        if let Some(range) = range {
            req = req.header(RANGE, range);
        }
        req.send()
    };

    let res = get(Some("bytes=1000-1999")).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[CONTENT_RANGE], "bytes 1000-1999/1000000");
    assert_eq!(res.bytes().await.unwrap(), &data[1000..2000]);

    let res = get(Some("bytes=-10")).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[CONTENT_RANGE], "bytes 999990-999999/1000000");
    assert_eq!(res.bytes().await.unwrap(), &data[999_990..]);

    let res = get(Some("bytes=999000-")).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap(), &data[999_000..]);

    let res = get(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[ETAG],
        format!("\"{}\"", item["sha256"].as_str().unwrap()).as_str()
    );
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.bytes().await.unwrap(), &data[..]);

    let res = get(Some("bytes=1000000-")).await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(res.headers()[CONTENT_RANGE], "bytes */1000000");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["code"], "range_not_satisfiable");

    // An export names who receives the bytes.
    let res = app
        .http
        .get(format!(
            "{url}?export_to=Acme%20Forensics%20LLP&reason=imaging%20review"
        ))
        .bearer_auth(ADMIN_TOKEN)
        .header(RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);

    let (_, item) = app.get(&format!("{}/{id}", evidence_path(&r)), ADMIN_TOKEN).await;
    assert_eq!(
        kinds(&item),
        [
            "acquisition",
            "receipt",
            "download",
            "download",
            "download",
            "download",
            "export"
        ],
        "every read is in the custody chain (the unsatisfiable one read nothing)"
    );
    let custody = item["custody"].as_array().unwrap();
    assert_eq!(custody[2]["details"]["range"], "bytes 1000-1999/1000000");
    assert_eq!(custody[2]["details"]["bytes"], 1000);
    assert_eq!(custody[5]["details"]["bytes"], 1_000_000);
    assert_eq!(custody[6]["details"]["to"], "Acme Forensics LLP");
    let actions = app.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "evidence.download").count(), 4);
    assert_eq!(actions.iter().filter(|a| *a == "evidence.export").count(), 1);
}

#[tokio::test]
async fn outsiders_get_404_on_every_evidence_endpoint_of_a_sealed_incident() {
    let app = spawn_app().await;
    let outsider = app.user("olivia", &[]).await;
    let r = security_incident(&app).await;
    let item = add(&app, &r, "secret.img", bytes(10_000, 10)).await;
    let id = item["id"].as_str().unwrap();
    let base = evidence_path(&r);
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, base.clone(), None),
        (Method::GET, format!("{base}/{id}"), None),
        (Method::GET, format!("{base}/{id}/content"), None),
        (Method::GET, format!("{base}/{id}/verify"), None),
        (Method::POST, format!("{base}/verify"), Some(json!({}))),
        (
            Method::POST,
            format!("{base}/{id}/transfer"),
            Some(json!({ "to": "mallory" })),
        ),
        (Method::GET, format!("{base}/{id}/custody?format=md"), None),
        (Method::GET, format!("{base}/{id}/custody?format=pdf"), None),
        (Method::PUT, format!("{base}/{id}"), Some(json!({}))),
        (Method::PATCH, format!("{base}/{id}"), Some(json!({}))),
        (Method::DELETE, format!("{base}/{id}"), None),
        (Method::DELETE, format!("{base}/{id}/content"), None),
    ];
    for (method, path, body) in endpoints {
        let (st, p) = app.request(method.clone(), &path, Some(&outsider), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{method} {path}: {p}");
        assert_eq!(p["code"], "not_found");
    }
    let (st, p) = upload(&app, &outsider, &r, "name=planted.img", bytes(100, 11)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
    let (_, list) = app.get(&base, ADMIN_TOKEN).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, one) = app.get(&format!("{base}/{id}"), ADMIN_TOKEN).await;
    assert_eq!(
        kinds(&one),
        ["acquisition", "receipt"],
        "outsiders left no custody trace"
    );

    // On an unsealed incident an outsider may look, but not add or read the bytes.
    let open = app.declare(ADMIN_TOKEN, "Disk full on db-2", "operational").await;
    let open = open["id"].as_str().unwrap();
    let ops = add(&app, open, "df.txt", bytes(100, 12)).await;
    let (st, _) = app.get(&evidence_path(open), &outsider).await;
    assert_eq!(st, StatusCode::OK);
    let (st, p) = upload(&app, &outsider, open, "name=x", bytes(100, 13)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, _) = app
        .get(
            &format!("{}/{}/content", evidence_path(open), ops["id"].as_str().unwrap()),
            &outsider,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"evidence.add.refused".to_owned()), "{actions:?}");
    assert!(actions.contains(&"evidence.download.refused".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn custody_reports_in_markdown_and_pdf() {
    let app = spawn_app().await;
    let inc = app
        .declare(ADMIN_TOKEN, "Ransomware on the file server", "security")
        .await;
    let r = inc["id"].as_str().unwrap();
    let codename = inc["codename"].as_str().unwrap();
    let (st, item) = upload(
        &app,
        ADMIN_TOKEN,
        r,
        "name=fs1-root.img&acquired_by=alice&tool=ewfacquire&source_asset=fs1",
        bytes(50_000, 14),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{item}");
    let id = item["id"].as_str().unwrap();
    let (st, t) = app
        .post(
            &format!("{}/{id}/transfer", evidence_path(r)),
            ADMIN_TOKEN,
            json!({ "to": "Det. Jane Roe", "organisation": "Metro Police Cyber Unit", "reason": "criminal complaint" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["kind"], "transfer");

    let url = format!("{}{}/{id}/custody", app.base, evidence_path(r));
    let res = app
        .http
        .get(format!("{url}?format=md"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let md = res.text().await.unwrap();
    for needle in [
        codename,
        item["sha256"].as_str().unwrap(),
        item["blake3"].as_str().unwrap(),
        "ewfacquire",
        "acquisition",
        "receipt",
        "transfer",
        "Det. Jane Roe",
        "Metro Police Cyber Unit",
        t["audit_hash"].as_str().unwrap(),
    ] {
        assert!(md.contains(needle), "the report names {needle}:\n{md}");
    }
    assert!(
        !md.contains("Ransomware"),
        "a report never carries the incident's title:\n{md}"
    );

    let res = app
        .http
        .get(format!("{url}?format=pdf"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custody.pdf");
    std::fs::write(&file, &pdf).unwrap();
    match std::process::Command::new("pdffonts").arg(&file).output() {
        Ok(out) if out.status.success() => {
            // name type encoding emb sub uni object-ID: one TrueType font, embedded.
            let listing = String::from_utf8_lossy(&out.stdout);
            let fonts: Vec<&str> = listing.lines().skip(2).collect();
            assert_eq!(fonts.len(), 1, "{listing}");
            assert!(fonts[0].contains("TrueType"), "{listing}");
            let cols: Vec<&str> = fonts[0].split_whitespace().collect();
            assert_eq!(cols[cols.len() - 5], "yes", "the font is embedded: {listing}");
            if let Ok(text) = std::process::Command::new("pdftotext").arg(&file).arg("-").output() {
                let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
                assert!(text.contains(item["sha256"].as_str().unwrap()), "{text}");
                assert!(text.contains(&codename.replace(' ', "")), "{text}");
            }
        }
        _ => {
            let raw = String::from_utf8_lossy(&pdf);
            assert!(raw.contains("/FontFile2"), "the font program is embedded");
        }
    }
    let (st, events) = app
        .get(&format!("{}/{id}/custody?format=json", evidence_path(r)), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(events.as_array().unwrap().len(), 3);
    let reports = app
        .audit_actions()
        .await
        .iter()
        .filter(|a| *a == "evidence.custody_report")
        .count();
    assert_eq!(reports, 2);
}

type Out = common::CliOut;

async fn cordon(app: &TestApp, args: &[&str]) -> Out {
    common::run_cli(&app.base, ADMIN_TOKEN, args).await
}

#[tokio::test]
async fn the_cli_adds_lists_gets_verifies_and_reports() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Leaked deploy key", "security").await;
    let slug = inc["slug"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web1-root.img");
    let data = bytes(3 << 20, 15);
    std::fs::write(&file, &data).unwrap();

    let file_arg = file.to_str().unwrap();
    let out = cordon(
        &app,
        &[
            "evidence",
            "add",
            slug,
            file_arg,
            "--acquired-by",
            "alice",
            "--source-asset",
            "web1",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Not a terminal: plain progress lines, ending at 100 %.
    assert!(
        out.stderr.contains("uploading") && out.stderr.contains("100%"),
        "{}",
        out.stderr
    );
    let item: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(item["name"], "web1-root.img");
    assert_eq!(item["sha256"], sha256_hex(&data).as_str());
    let id = item["id"].as_str().unwrap();

    let out = cordon(&app, &["evidence", "list", slug]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("HANDLE"), "{}", out.stdout);
    assert!(
        out.stdout.contains("web1-root.img") && out.stdout.contains("3.0 MiB"),
        "{}",
        out.stdout
    );

    let copy = dir.path().join("copy.img");
    let out = cordon(&app, &["evidence", "get", slug, id, "-o", copy.to_str().unwrap()]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read(&copy).unwrap(), data);
    let out = cordon(&app, &["evidence", "get", slug, id, "--range", "10-19"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    let out = cordon(&app, &["evidence", "verify", slug]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 items verified"), "{}", out.stdout);

    let pdf = dir.path().join("custody.pdf");
    let out = cordon(
        &app,
        &[
            "evidence",
            "custody",
            slug,
            id,
            "--format",
            "pdf",
            "-o",
            pdf.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let out = cordon(&app, &["evidence", "custody", slug, id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("download") && out.stdout.contains("verification"),
        "{}",
        out.stdout
    );

    flip_stored_byte(&app, item["sha256"].as_str().unwrap(), 0);
    let out = cordon(&app, &["evidence", "verify", slug, id]).await;
    assert_eq!(out.code, 1, "a mismatch exits non-zero: {}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("MISMATCH"), "{}", out.stdout);

    // A wrong digest is refused with the server's reason.
    let out = cordon(
        &app,
        &["evidence", "add", slug, file_arg, "--expected-sha256", &"0".repeat(64)],
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("invalid_field") && out.stderr.contains("422"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_verification_interval_is_configurable() {
    let load = |env: &[(&str, &str)]| {
        cordon::config::load(
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            &cordon::config::FlagOverrides::default(),
        )
        .unwrap()
        .evidence_verify_interval
    };
    assert_eq!(load(&[]), jiff::SignedDuration::from_hours(24));
    assert_eq!(
        load(&[("CORDON_EVIDENCE_VERIFY_INTERVAL", "6h")]),
        jiff::SignedDuration::from_hours(6)
    );
    assert_eq!(
        load(&[("CORDON_EVIDENCE_VERIFY_INTERVAL", "PT30M")]),
        jiff::SignedDuration::from_mins(30)
    );
    assert!(load(&[("CORDON_EVIDENCE_VERIFY_INTERVAL", "0s")]).is_zero());
}

/// Logs are evidence: a timeline source's raw bytes land in the locker as an item with the
/// same SHA-256, so an event's provenance (source, byte offset) points at write-once bytes.
#[tokio::test]
async fn a_timeline_source_is_kept_as_evidence() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "logs as evidence", "security").await;
    let id = inc["id"].as_str().unwrap();
    let log = "Mar  1 10:00:00 web1 sshd[7]: Failed password for root from 203.0.113.9 port 42 ssh2\n\
               Mar  1 10:00:05 web1 sshd[7]: Accepted password for root from 203.0.113.9 port 42 ssh2\n";
    let res = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{id}/timeline/sources?name=auth.log&year=2026",
            app.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body(log)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let source: serde_json::Value = res.json().await.unwrap();
    let evidence_id = source["evidence_id"]
        .as_str()
        .expect("the source names its evidence item")
        .to_owned();
    let (st, item) = app
        .get(&format!("/api/v1/incidents/{id}/evidence/{evidence_id}"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, reqwest::StatusCode::OK, "{item}");
    assert_eq!(item["sha256"], source["sha256"]);
    assert_eq!(item["size"], log.len());
    let (_, events) = app
        .get(&format!("/api/v1/incidents/{id}/timeline?ip=203.0.113.9"), ADMIN_TOKEN)
        .await;
    let second = &events["events"][1];
    assert_eq!(second["source_id"], source["source_id"]);
    assert_eq!(second["source_sha256"], item["sha256"]);
    let offset = second["provenance"]["byte_offset"].as_u64().unwrap() as usize;
    let res = app
        .http
        .get(format!(
            "{}/api/v1/incidents/{id}/evidence/{evidence_id}/content",
            app.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .header("Range", format!("bytes={offset}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert!(
        res.text()
            .await
            .unwrap()
            .starts_with("Mar  1 10:00:05 web1 sshd[7]: Accepted")
    );
}
