//! A small HTTP client for the CLI's client subcommands: bearer auth, JSON in and out, and
//! problem+json errors turned into readable messages.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Where the server is and who is calling.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// An error answer from the server.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.detail, self.code, self.status.as_u16())
    }
}

impl std::error::Error for ApiError {}

impl Client {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!token.is_empty(), "no API token: set CORDON_TOKEN or pass --token");
        let http = reqwest::Client::builder().build().context("building the HTTP client")?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// Sends a request and returns the JSON answer, or the server's problem as an error.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.with_context(|| format!("cannot reach {url}"))?;
        let status = res.status();
        let bytes = res.bytes().await.context("reading the answer")?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|_| anyhow!("the server answered HTTP {status} with a non-JSON body"))?
        };
        if status.is_success() {
            Ok(value)
        } else {
            Err(ApiError {
                status,
                code: value["code"].as_str().unwrap_or("unknown").to_owned(),
                detail: value["detail"].as_str().unwrap_or("no detail").to_owned(),
            }
            .into())
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// A request with the bearer token, for bodies or answers that are not JSON (streamed
    /// uploads, downloads); send it with [`Client::send`].
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
    }

    /// Sends a request built with [`Client::request`] and returns the successful response
    /// unread; an error answer becomes an [`ApiError`].
    pub async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let req = req.build().context("building the request")?;
        let url = req.url().clone();
        let res = self
            .http
            .execute(req)
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let value: Value = res.json().await.unwrap_or(Value::Null);
        Err(ApiError {
            status,
            code: value["code"].as_str().unwrap_or("unknown").to_owned(),
            detail: value["detail"].as_str().unwrap_or("no detail").to_owned(),
        }
        .into())
    }
}

/// Percent-encodes one path segment (codenames may contain spaces).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
