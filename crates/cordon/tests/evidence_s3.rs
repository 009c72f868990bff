//! `cordon serve` with its evidence in an S3 bucket with Object Lock (SeaweedFS), configured
//! as an operator would: `CORDON_EVIDENCE_URL` and the usual `AWS_*` variables. Uploaded
//! evidence and the raw bytes of ingested logs land in the bucket under their SHA-256, verify
//! re-reads them from there, and a second node on the same database and bucket serves them.

use std::process::Stdio;

use cordon_evidence::testing::SeaweedS3;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TOKEN: &str = "cordon_s3_test_admin_token_0000000000000";

struct Node {
    url: String,
    _child: Child,
}

/// Starts `cordon serve` on a free port with `data_dir` and the bucket's settings.
async fn node(server: &SeaweedS3, bucket: &str, data_dir: &std::path::Path, database: &str) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("CORDON_DATABASE_URL", database)
        .env("CORDON_ADMIN_TOKEN", TOKEN)
        .env("CORDON_EVIDENCE_URL", format!("s3://{bucket}"))
        .env("AWS_ENDPOINT_URL", server.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "cordon-test")
        .env("AWS_SECRET_ACCESS_KEY", "cordon-test-secret")
        .env("CORDON_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting cordon serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = loop {
        let line = lines
            .next_line()
            .await
            .expect("reading stdout")
            .expect("cordon serve exited before listening");
        if let Some(u) = line.strip_prefix("listening on ") {
            break u.to_owned();
        }
    };
    Node { url, _child: child }
}

async fn call(method: reqwest::Method, url: String, body: Option<reqwest::Body>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.body(b);
    }
    send(req).await
}

async fn post_json(url: String, body: &Value) -> (u16, Value) {
    let req = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string());
    send(req).await
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn evidence_and_log_bytes_live_in_the_locked_bucket_for_every_node() {
    let Some(server) = SeaweedS3::start().await else { return };
    server.bucket("cordon-evidence", true).await;
    let Some(db) = cordon_store::testing::TestDatabase::create().await else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = node(&server, "cordon-evidence", dir_a.path(), db.url()).await;

    let (st, inc) = post_json(
        format!("{}/api/v1/incidents", a.url),
        &json!({"title": "Stolen disk image", "kind": "security", "severity": "SEV-2"}),
    )
    .await;
    assert_eq!(st, 201, "{inc}");
    let r = inc["id"].as_str().unwrap().to_owned();

    let image: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (st, item) = call(
        reqwest::Method::POST,
        format!("{}/api/v1/incidents/{r}/evidence?name=web1.img", a.url),
        Some(image.clone().into()),
    )
    .await;
    assert_eq!(st, 201, "{item}");
    let sha = item["sha256"].as_str().unwrap().to_owned();
    let stored = server
        .object("cordon-evidence", &format!("objects/{sha}"))
        .await
        .expect("the image is in the bucket");
    assert!(stored == image, "the bucket holds the uploaded bytes");
    assert!(
        std::fs::read_dir(dir_a.path().join("evidence-spool/incoming"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing stays in the spool"
    );

    // An ingested log is evidence too: its raw bytes go to the bucket.
    let log = "Mar  1 10:00:03 web1 sshd[7]: Failed password for root from 203.0.113.9 port 4242 ssh2\n";
    let (st, src) = call(
        reqwest::Method::POST,
        format!(
            "{}/api/v1/incidents/{r}/timeline/sources?name=auth.log&year=2024",
            a.url
        ),
        Some(log.into()),
    )
    .await;
    assert_eq!(st, 201, "{src}");
    let log_sha = src["sha256"].as_str().unwrap();
    assert_eq!(
        server
            .object("cordon-evidence", &format!("objects/{log_sha}"))
            .await
            .as_deref(),
        Some(log.as_bytes())
    );

    // A second node on the same database and bucket, with its own data dir, verifies and
    // serves the same evidence.
    let b = node(&server, "cordon-evidence", dir_b.path(), db.url()).await;
    let id = item["id"].as_str().unwrap();
    for n in [&a, &b] {
        let (st, v) = call(
            reqwest::Method::GET,
            format!("{}/api/v1/incidents/{r}/evidence/{id}/verify", n.url),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["sha256"], sha.as_str());
    }
}
