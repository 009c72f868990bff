//! What the browser benchmarks share: JSON API calls as a user, a break-glass sign-in that
//! gives a session cookie as a browser holds it, and percentiles.

use anyhow::Context;
use serde_json::{Value, json};

/// The password the benchmarks give their break-glass accounts (letters and spaces only: in a
/// form body `+` is a space).
pub const PASSWORD: &str = "bench horse battery staple";

/// The `p` quantile of sorted figures.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// A client of one server's JSON API (redirects not followed: a sign-in's 303 is read, not
/// followed).
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: base.to_owned(),
        })
    }

    /// `method path` with `body` as JSON and `token` as bearer; the answer's JSON (or null), an
    /// error unless it succeeded.
    pub async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates `name` (in `groups`) and an API token for them.
    pub async fn user(&self, admin: &str, name: &str, groups: &[&str]) -> anyhow::Result<String> {
        self.call(
            reqwest::Method::POST,
            "/api/v1/users",
            admin,
            json!({ "name": name, "email": format!("{name}@corp.example"), "groups": groups }),
        )
        .await?;
        let t = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/users/{name}/tokens"),
                admin,
                json!({}),
            )
            .await?;
        Ok(t["token"].as_str().context("token")?.to_owned())
    }

    /// Gives `name` a break-glass password and TOTP secret, then signs in at `/login` as a
    /// browser does: the `cordon_session=…` cookie pair it is given.
    pub async fn browser_session(&self, admin: &str, name: &str) -> anyhow::Result<String> {
        self.call(
            reqwest::Method::PUT,
            &format!("/api/v1/users/{name}/password"),
            admin,
            json!({ "password": PASSWORD }),
        )
        .await?;
        let totp = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/users/{name}/totp"),
                admin,
                json!({}),
            )
            .await?;
        let secret = base32_decode(totp["secret"].as_str().context("secret")?);
        // The authenticator app's side of TOTP reads the wall clock, as the server does.
        #[allow(clippy::disallowed_methods)]
        let now = jiff::Timestamp::now().as_second();
        let code = cordon_service::totp::code(&secret, cordon_service::totp::step_at(now));
        let res = self
            .http
            .post(format!("{}/login", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "username={name}&password={}&totp={code}&next=%2F",
                PASSWORD.replace(' ', "+")
            ))
            .send()
            .await?;
        res.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("cordon_session="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
            .with_context(|| format!("sign-in gave {name} no session ({})", res.status()))
    }

    /// `GET path` as a browser page with the session `cookie`: status and body.
    pub async fn page(&self, cookie: &str, path: &str) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .header("accept", "text/html")
            .send()
            .await?;
        let status = r.status();
        Ok((status, r.bytes().await?.to_vec()))
    }
}

/// RFC 4648 base32 without padding, as TOTP secrets are written.
fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => continue,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}
