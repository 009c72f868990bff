//! A real OIDC provider for tests — PyPI's `oidc-provider-mock`, installed by
//! `scripts/test-env.sh oidc_provider` — started per test on a free loopback port, and a
//! browser: a cookie-holding HTTP client that follows redirects like one, and submits the
//! provider's authorize form.
//!
//! The provider is `$CORDON_OIDC_PROVIDER_BIN`, else the test env's
//! (`/var/tmp/cordon-it/oidc-venv/bin/oidc-provider-mock`); missing, the test fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::Value;

/// Where `scripts/test-env.sh` installs the provider.
pub const VENV_PROVIDER: &str = "/var/tmp/cordon-it/oidc-venv/bin/oidc-provider-mock";

/// A running provider; stopped on drop.
pub struct OidcProvider {
    child: Child,
    log: tempfile::NamedTempFile,
    /// `http://127.0.0.1:<port>`: the issuer, and where it listens.
    pub issuer: String,
}

impl OidcProvider {
    /// Starts a provider that requires a nonce and knows `users` (claims with a `sub`).
    pub async fn start(users: &[Value]) -> Self {
        let bin = std::env::var_os("CORDON_OIDC_PROVIDER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(VENV_PROVIDER));
        assert!(
            bin.is_file(),
            "the OIDC provider {} is missing: run scripts/test-env.sh (oidc_provider)",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string(), "-n", "true"]);
        for u in users {
            cmd.args(["--user-claims", &u.to_string()]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().expect("the log file")))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let provider = Self {
            child,
            log,
            issuer: format!("http://127.0.0.1:{port}"),
        };
        provider.wait_ready().await;
        provider
    }

    async fn wait_ready(&self) {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the OIDC provider did not answer on {} within 30 s; its log:\n{}",
                self.issuer,
                std::fs::read_to_string(self.log.path()).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets the claims of subject `sub` (the next sign-in carries them).
    pub async fn set_user(&self, sub: &str, claims: &Value) {
        let r = reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.issuer))
            .json(claims)
            .send()
            .await
            .expect("setting a user's claims");
        assert!(r.status().is_success(), "PUT /users/{sub}: {}", r.status());
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser: one cookie jar, a client that follows redirects and one that does not.
pub struct Browser {
    pub jar: Arc<reqwest::cookie::Jar>,
    pub follow: reqwest::Client,
    pub manual: reqwest::Client,
}

/// What a page load ended with.
pub struct Loaded {
    pub status: StatusCode,
    pub url: Url,
    pub body: String,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let follow = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .unwrap();
        let manual = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { jar, follow, manual }
    }

    /// Loads `url`, following redirects.
    pub async fn open(&self, url: &str) -> Loaded {
        let r = self.follow.get(url).send().await.expect("a page load");
        Loaded {
            status: r.status(),
            url: r.url().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// Opens Cordon's `/auth/oidc/start` (with `next`): the provider's authorize page's URL.
    pub async fn start(&self, base: &str, next: &str) -> Url {
        let page = self
            .open(&format!("{base}/auth/oidc/start?next={}", urlencode(next)))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.url.path().ends_with("/oauth2/authorize"),
            "at the provider's authorize page: {}",
            page.url
        );
        assert!(page.body.contains("name=\"sub\""), "the authorize form");
        page.url
    }

    /// Submits the authorize form at `authorize` as subject `sub`: where the provider sends the
    /// browser back to (Cordon's callback with `code` and `state`).
    pub async fn authorize(&self, authorize: &Url, sub: &str) -> Url {
        self.answer(authorize, &[("sub", sub)]).await
    }

    /// Presses "Deny" on the authorize form at `authorize`: where the provider sends the
    /// browser back to (Cordon's callback with the provider's `error`).
    pub async fn deny(&self, authorize: &Url) -> Url {
        self.answer(authorize, &[("action", "deny")]).await
    }

    /// Submits the authorize form with `fields`; where the provider redirects back to.
    async fn answer(&self, authorize: &Url, fields: &[(&str, &str)]) -> Url {
        let r = self
            .manual
            .post(authorize.clone())
            .form(fields)
            .send()
            .await
            .expect("the authorize form");
        assert!(
            r.status().is_redirection(),
            "the provider redirects back: {}",
            r.status()
        );
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        authorize.join(&location).unwrap()
    }

    /// The whole sign-in as `sub`, starting at `next`: what the browser ends on.
    pub async fn sign_in(&self, base: &str, sub: &str, next: &str) -> Loaded {
        let authorize = self.start(base, next).await;
        let callback = self.authorize(&authorize, sub).await;
        self.open(callback.as_str()).await
    }
}

/// `s` percent-encoded for a query.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Claims for alice (subject `alice-sub`) in `groups`, as the tests' provider knows her.
pub fn alice_claims(groups: &[&str]) -> Value {
    serde_json::json!({
        "sub": "alice-sub",
        "preferred_username": "alice",
        "email": "alice@example.com",
        "groups": groups,
    })
}

/// The provider signs ID tokens with the wall clock: the server's manual clock is set to it, so
/// a token's expiry is checked at the time it was issued.
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Cordon configured for the provider at `issuer` (client `cordon`), then `configure`d, its
/// clock at the wall clock.
pub async fn app_for(issuer: &str, configure: impl FnOnce(&mut cordon::config::Config)) -> super::TestApp {
    let issuer = issuer.to_owned();
    let app = super::spawn_app_with(move |c| {
        c.oidc_issuer = Some(issuer);
        c.oidc_client_id = Some("cordon".into());
        c.oidc_client_secret = Some("cordon-client-secret".into());
        configure(c);
    })
    .await;
    app.clock.set(wall_clock());
    app
}

/// `url` with the query parameter `name` set to `value` (the others kept, in order): a
/// tampered state, a swapped nonce, a forged error.
pub fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name { value.to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}
