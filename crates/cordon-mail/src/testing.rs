//! Test helpers for this and other crates (feature `testing`): a real SMTP sink (aiosmtpd on
//! 127.0.0.1, a free port, every message saved as an `.eml`), a minimal reader for what it
//! received, and a throw-away GnuPG home to make keys and decrypt PGP/MIME mail.
//!
//! The sink runs `$CORDON_IT_VENV/bin/python` (default `/var/tmp/cordon-it/venv`), which
//! `scripts/test-env.sh` prepares. Nothing here reads the clock or sleeps a thread: waiting
//! uses `tokio::time`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin};

/// The sink's server script, written into each sink's temp dir.
const SINK_PY: &str = include_str!("testing/sink.py");

/// Where `scripts/test-env.sh` puts the Python venv unless `CORDON_IT_VENV` says otherwise.
pub const DEFAULT_VENV: &str = "/var/tmp/cordon-it/venv";

/// The Python interpreter that has aiosmtpd, or a panic that says how to get one.
pub fn python_with_aiosmtpd() -> PathBuf {
    let venv = std::env::var_os("CORDON_IT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VENV));
    let python = venv.join("bin/python");
    let ok = python.is_file()
        && Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "no Python with aiosmtpd at {} — run `scripts/test-env.sh` at the repository root \
         (and export the CORDON_IT_VENV it prints if you changed it)",
        python.display()
    );
    python
}

/// How the sink secures connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SinkTls {
    /// Plain SMTP, no STARTTLS offered.
    #[default]
    None,
    /// STARTTLS offered with a fresh self-signed certificate for 127.0.0.1.
    StartTls,
    /// STARTTLS offered and required before MAIL FROM.
    StartTlsRequired,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Options for [`SmtpSink::start_with`].
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    pub tls: SinkTls,
    /// Require AUTH PLAIN/LOGIN with this user and password.
    pub auth: Option<(String, String)>,
}

/// A real SMTP server on loopback that stores what it receives. Killed on drop.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    // Held open: the server exits when it closes, even if this process dies without dropping.
    _stdin: ChildStdin,
    port: u16,
    tls: SinkTls,
    certificate_pem: Option<Vec<u8>>,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// A plain sink. Panics with a how-to when aiosmtpd is not installed.
    pub async fn start() -> Self {
        Self::start_with(SinkOptions::default()).await
    }

    pub async fn start_with(options: SinkOptions) -> Self {
        let python = python_with_aiosmtpd();
        let dir = tempfile::Builder::new()
            .prefix("cordon-smtp-sink")
            .tempdir()
            .expect("temp dir for the SMTP sink");
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).expect("inbox dir");
        let script = dir.path().join("sink.py");
        std::fs::write(&script, SINK_PY).expect("write sink.py");

        let mut cmd = tokio::process::Command::new(&python);
        cmd.arg(&script).arg("--dir").arg(&inbox);
        let mut certificate_pem = None;
        if options.tls != SinkTls::None {
            let (cert, key) = self_signed_certificate(dir.path());
            certificate_pem = Some(std::fs::read(&cert).expect("read the sink certificate"));
            cmd.arg("--cert").arg(&cert).arg("--key").arg(&key);
            match options.tls {
                SinkTls::Implicit => {
                    cmd.arg("--implicit-tls");
                }
                SinkTls::StartTlsRequired => {
                    cmd.arg("--require-starttls");
                }
                SinkTls::StartTls | SinkTls::None => {}
            }
        }
        if let Some((user, password)) = &options.auth {
            cmd.args(["--user", user, "--password", password]);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("start the SMTP sink");
        let stdin = child.stdin.take().expect("sink stdin");
        let stdout = child.stdout.take().expect("sink stdout");

        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).read_line(&mut line)).await;
        let port = match (read, line.trim().strip_prefix("LISTENING ")) {
            (Ok(Ok(_)), Some(port)) => port.parse::<u16>().expect("port from the sink"),
            _ => {
                let _ = child.start_kill();
                let stderr = match child.stderr.take() {
                    Some(mut e) => {
                        let mut s = String::new();
                        let _ = tokio::time::timeout(
                            Duration::from_secs(2),
                            tokio::io::AsyncReadExt::read_to_string(&mut e, &mut s),
                        )
                        .await;
                        s
                    }
                    None => String::new(),
                };
                panic!("the SMTP sink did not start (said {line:?}); stderr:\n{stderr}");
            }
        };
        wait_for_port(port).await;
        Self {
            child,
            _stdin: stdin,
            port,
            tls: options.tls,
            certificate_pem,
            dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `CORDON_SMTP_URL` for this sink (`smtps://` for implicit TLS).
    pub fn url(&self) -> String {
        match self.tls {
            SinkTls::Implicit => format!("smtps://127.0.0.1:{}", self.port),
            SinkTls::StartTlsRequired => format!("smtp://127.0.0.1:{}?tls=required", self.port),
            SinkTls::None | SinkTls::StartTls => format!("smtp://127.0.0.1:{}", self.port),
        }
    }

    /// The sink's self-signed certificate (PEM) for clients to trust, when TLS is on.
    pub fn certificate_pem(&self) -> Option<&[u8]> {
        self.certificate_pem.as_deref()
    }

    /// Where the `.eml` and `.json` files land.
    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    /// Every complete message received so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.inbox())
            .expect("read the sink inbox")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| ReceivedMail::load(p)).collect()
    }

    /// Waits (polling every 20 ms) until at least `count` messages arrived; panics after
    /// `timeout`.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let poll = async {
            loop {
                let got = self.messages();
                if got.len() >= count {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(got) => got,
            Err(_) => panic!(
                "expected {count} message(s) at the SMTP sink within {timeout:?}, got {}",
                self.messages().len()
            ),
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn wait_for_port(port: u16) {
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the SMTP sink on port {port} does not accept connections");
}

/// A self-signed certificate for 127.0.0.1 / localhost, made with the `openssl` CLI.
fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=cordon-test-sink"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// One message as the sink received it: the envelope, the headers and the raw body.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Whether the session was TLS (implicit or after STARTTLS).
    pub tls: bool,
    /// The user that authenticated, if any.
    pub auth_user: Option<String>,
    /// The whole message as received (headers and body, CRLF line ends).
    pub raw: String,
    /// When the sink stored it (the message file's modification time): the moment the SMTP
    /// server accepted the message, give or take the file write.
    pub received: std::time::SystemTime,
    part: MimePart,
}

impl ReceivedMail {
    fn load(eml: &Path) -> Self {
        let raw = String::from_utf8_lossy(&std::fs::read(eml).expect("read .eml")).into_owned();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(eml.with_extension("json")).expect("read the envelope .json"))
                .expect("envelope json");
        Self {
            mail_from: meta["mail_from"].as_str().unwrap_or_default().to_owned(),
            rcpt_tos: meta["rcpt_tos"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            tls: meta["tls"].as_bool().unwrap_or(false),
            auth_user: meta["auth_user"].as_str().map(str::to_owned),
            part: MimePart::parse(&raw),
            raw,
            received: std::fs::metadata(eml.with_extension("json"))
                .and_then(|m| m.modified())
                .expect("message file time"),
        }
    }

    /// When the SMTP server accepted the message.
    pub fn received_at(&self) -> std::time::SystemTime {
        self.received
    }

    /// The first header with this name (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.part.header(name)
    }

    pub fn headers(&self) -> &[(String, String)] {
        &self.part.headers
    }

    /// The raw body: everything after the blank line that ends the headers.
    pub fn body(&self) -> &str {
        &self.part.body
    }

    /// The parts of a multipart body (empty for a single part).
    pub fn parts(&self) -> Vec<MimePart> {
        self.part.parts()
    }

    /// For an RFC 3156 PGP/MIME mail, the armored `-----BEGIN PGP MESSAGE-----` block from its
    /// `application/octet-stream` part; `None` for anything else.
    pub fn pgp_mime_payload(&self) -> Option<String> {
        let ct = self.header("Content-Type")?.to_ascii_lowercase();
        if !ct.starts_with("multipart/encrypted") || !ct.contains("protocol=\"application/pgp-encrypted\"") {
            return None;
        }
        let parts = self.parts();
        let [version, payload] = parts.as_slice() else {
            return None;
        };
        let is = |p: &MimePart, t: &str| {
            p.header("Content-Type")
                .is_some_and(|v| v.to_ascii_lowercase().starts_with(t))
        };
        if !is(version, "application/pgp-encrypted") || !version.body.contains("Version: 1") {
            return None;
        }
        if !is(payload, "application/octet-stream") {
            return None;
        }
        let body = payload.body.trim();
        body.starts_with("-----BEGIN PGP MESSAGE-----").then(|| body.to_owned())
    }
}

/// A MIME entity, parsed just enough for assertions.
#[derive(Debug, Clone, Default)]
pub struct MimePart {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl MimePart {
    /// Splits headers (unfolded) from the body.
    pub fn parse(raw: &str) -> Self {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .or_else(|| raw.split_once("\n\n"))
            .unwrap_or((raw, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        Self {
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The sub-parts, split on the `boundary` of a `multipart/*` Content-Type.
    pub fn parts(&self) -> Vec<MimePart> {
        let Some(boundary) = self.header("Content-Type").and_then(boundary_of) else {
            return Vec::new();
        };
        let delimiter = format!("--{boundary}");
        let mut out = Vec::new();
        for chunk in self.body.split(delimiter.as_str()).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk
                .strip_prefix("\r\n")
                .or_else(|| chunk.strip_prefix('\n'))
                .unwrap_or(chunk);
            out.push(MimePart::parse(chunk));
        }
        out
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// A throw-away GnuPG home (`GNUPGHOME` in a temp dir) for making keys and decrypting what
/// Cordon sent. Its agent is stopped on drop.
#[derive(Debug)]
pub struct Gpg {
    home: tempfile::TempDir,
}

impl Default for Gpg {
    fn default() -> Self {
        Self::new()
    }
}

impl Gpg {
    pub fn new() -> Self {
        // Short path: the agent's socket lives here and Unix socket paths are limited.
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .expect("temp GNUPGHOME");
        Self { home }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn gpg(&self) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home.path())
            .args(["--batch", "--quiet", "--no-tty", "--pinentry-mode", "loopback"])
            .args(["--passphrase", ""]);
        cmd
    }

    /// Makes a key without a passphrase and returns its armored public key.
    /// `algo` and `usage` are `gpg --quick-gen-key`'s: `future-default default` (Ed25519 +
    /// Curve25519), `default default` (RSA-3072 with an encryption subkey), or e.g.
    /// `rsa2048 cert,sign,encr` (one RSA key that encrypts itself). `extra` goes before the
    /// command (e.g. `--faked-system-time 20200101T000000!`).
    pub fn generate_key(&self, user_id: &str, algo: &str, usage: &str, expire: &str, extra: &[&str]) -> String {
        let out = self
            .gpg()
            .args(extra)
            .args(["--quick-gen-key", user_id, algo, usage, expire])
            .output()
            .expect("run gpg (apt-get install gnupg)");
        assert!(
            out.status.success(),
            "gpg --quick-gen-key failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.export_public(user_id)
    }

    /// The armored public key of `who` (a user id, address or fingerprint).
    pub fn export_public(&self, who: &str) -> String {
        let out = self
            .gpg()
            .args(["--armor", "--export", who])
            .output()
            .expect("run gpg --export");
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "gpg --export {who} failed"
        );
        String::from_utf8(out.stdout).expect("armored key is ASCII")
    }

    /// Decrypts an armored OpenPGP message; `Err(stderr)` when GnuPG cannot.
    pub fn decrypt(&self, armored: &str) -> Result<String, String> {
        let file = self.home.path().join("in.asc");
        std::fs::write(&file, armored).expect("write the message to decrypt");
        let out = self
            .gpg()
            .arg("--decrypt")
            .arg(&file)
            .output()
            .expect("run gpg --decrypt");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_parts_and_boundaries() {
        let raw = "Subject: Attorney Work Project\r\nContent-Type: multipart/encrypted;\r\n \
                   boundary=\"b1\"; protocol=\"application/pgp-encrypted\"\r\n\r\n\
                   --b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
                   --b1\r\nContent-Type: application/octet-stream\r\n\r\n\
                   -----BEGIN PGP MESSAGE-----\r\nx\r\n-----END PGP MESSAGE-----\r\n--b1--\r\n";
        let part = MimePart::parse(raw);
        assert_eq!(part.header("subject"), Some("Attorney Work Project"));
        assert_eq!(
            part.header("Content-Type"),
            Some("multipart/encrypted; boundary=\"b1\"; protocol=\"application/pgp-encrypted\"")
        );
        let parts = part.parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body, "Version: 1\r\n");
        assert!(parts[1].body.starts_with("-----BEGIN PGP MESSAGE-----"));
    }
}
