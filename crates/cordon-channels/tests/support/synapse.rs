//! A real Matrix homeserver for tests: Synapse from the venv at `$CORDON_SYNAPSE_VENV`
//! (default `/var/tmp/cordon-it/synapse-venv`, installed by `scripts/test-env-synapse.sh`),
//! started on 127.0.0.1 with a free port in a temp dir, with SQLite, registration closed,
//! a shared registration secret, no federation and relaxed rate limits. Dropping the
//! [`Synapse`] kills the process and removes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Applies the test settings to the generated `hs.yaml` with the venv's own PyYAML.
const EDIT_CONFIG: &str = r#"
import sys, yaml
path, port, secret, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path) as f:
    c = yaml.safe_load(f)
c["listeners"] = [{
    "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
    "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}],
}]
c["enable_registration"] = False
c["registration_shared_secret"] = secret
c["database"] = {"name": "sqlite3", "args": {"database": data + "/homeserver.db"}}
c["trusted_key_servers"] = []
c["suppress_key_server_warning"] = True
c["report_stats"] = False
c["enable_metrics"] = False
c["presence"] = {"enabled": False}
c["federation_domain_whitelist"] = []
fast = {"per_second": 10000, "burst_count": 10000}
c["rc_message"] = fast
c["rc_login"] = {"address": fast, "account": fast, "failed_attempts": fast}
c["rc_joins"] = {"local": fast, "remote": fast}
c["rc_joins_per_room"] = fast
c["rc_invites"] = {"per_room": fast, "per_user": fast, "per_issuer": fast}
c["rc_registration"] = fast
c["rc_room_creation"] = fast
with open(path, "w") as f:
    yaml.safe_dump(c, f)
"#;

/// A running Synapse.
pub struct Synapse {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    venv: PathBuf,
    config: PathBuf,
    child: Child,
    dir: tempfile::TempDir,
}

impl Synapse {
    /// Starts Synapse and waits until `/_matrix/client/versions` answers. Panics with a
    /// pointer to the install script when the venv is missing.
    pub async fn start() -> Self {
        let venv = PathBuf::from(
            std::env::var("CORDON_SYNAPSE_VENV").unwrap_or_else(|_| "/var/tmp/cordon-it/synapse-venv".to_owned()),
        );
        let python = venv.join("bin/python");
        assert!(
            python.exists() && venv.join("bin/register_new_matrix_user").exists(),
            "Synapse is not installed at {} (CORDON_SYNAPSE_VENV). Run `scripts/test-env.sh` \
             (or `scripts/test-env-synapse.sh`) once, then re-run the tests.",
            venv.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("cordon-synapse-")
            .tempdir()
            .expect("temp dir");
        let config = dir.path().join("hs.yaml");
        let port = free_port();

        run(tokio::process::Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "--server-name", "localhost"])
            .arg("--config-path")
            .arg(&config)
            .arg("--data-directory")
            .arg(dir.path())
            .args(["--generate-config", "--report-stats=no"])
            .current_dir(dir.path()))
        .await;
        let secret = format!("test-{:032x}", rand::random::<u128>());
        run(tokio::process::Command::new(&python)
            .args(["-c", EDIT_CONFIG])
            .arg(&config)
            .arg(port.to_string())
            .arg(&secret)
            .arg(dir.path()))
        .await;

        let log = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
        let child = Command::new(&python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&config)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"))
            .spawn()
            .expect("start synapse");

        let mut synapse = Self {
            base_url: format!("http://127.0.0.1:{port}"),
            venv,
            config,
            child,
            dir,
        };
        synapse.wait_ready(Duration::from_secs(90)).await;
        synapse
    }

    async fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        let http = reqwest::Client::new();
        let url = format!("{}/_matrix/client/versions", self.base_url);
        loop {
            if let Ok(r) = http.get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Synapse exited with {status}:\n{}", self.log_tail());
            }
            assert!(
                started.elapsed() < limit,
                "Synapse did not answer within {limit:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Registers a non-admin user with `register_new_matrix_user`.
    pub async fn register(&self, user: &str, password: &str) {
        let out = tokio::process::Command::new(self.venv.join("bin/register_new_matrix_user"))
            .arg("-c")
            .arg(&self.config)
            .args(["-u", user, "-p", password, "--no-admin", &self.base_url])
            .stdin(Stdio::null())
            .output()
            .await
            .expect("run register_new_matrix_user");
        assert!(
            out.status.success(),
            "register_new_matrix_user {user} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The last lines of the server's logs, for failure messages.
    pub fn log_tail(&self) -> String {
        ["stderr.log", "homeserver.log"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                format!("--- {name}\n{tail}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[allow(dead_code)]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("Synapse logs:\n{}", self.log_tail());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn run(cmd: &mut tokio::process::Command) {
    let out = cmd.stdin(Stdio::null()).output().await.expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
