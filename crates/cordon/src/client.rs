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

    /// GETs `path`. A list answered in pages (`Link: <…>; rel="next"`) is followed to its
    /// end and returned whole.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.all(Method::GET, path, None).await
    }

    /// POSTs `body` to `path` and follows the answer's `next` links (each POSTed the same
    /// body: a paged action, such as the indicator search, does the work of each page in
    /// turn), returning the pages joined into one list.
    pub async fn post_all(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.all(Method::POST, path, Some(body)).await
    }

    /// `method` on `path`, following the answer's `next` links to the end, the pages joined.
    async fn all(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let (mut value, mut next) = self.page(method.clone(), path, body).await?;
        let mut pages = 1;
        while let Some(path) = next {
            anyhow::ensure!(
                pages < MAX_PAGES,
                "the list has more than {MAX_PAGES} pages; narrow it down"
            );
            let (more, after) = self.page(method.clone(), &path, body).await?;
            match (value.as_array_mut(), more) {
                (Some(items), Value::Array(more)) => items.extend(more),
                _ => anyhow::bail!("the server paged an answer that is not a list"),
            }
            next = after;
            pages += 1;
        }
        Ok(value)
    }

    /// One GET: the JSON answer and the path of the next page, if any.
    pub async fn get_page(&self, path: &str) -> anyhow::Result<(Value, Option<String>)> {
        self.page(Method::GET, path, None).await
    }

    /// One request of a paged list: the JSON answer and the path of the next page, if any.
    async fn page(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<(Value, Option<String>)> {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = self.send(req).await?;
        let next = res
            .headers()
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link);
        let bytes = res.bytes().await.context("reading the answer")?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).context("the server answered with a non-JSON body")?
        };
        Ok((value, next))
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

/// The most pages [`Client::get`] follows (at 1,000 items a page).
const MAX_PAGES: usize = 1000;

/// The target of a `rel="next"` link in a `Link` header value, as a path on the server.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim().split_once('='), Some(("rel", v)) if v.trim_matches('"').split_whitespace().any(|r| r == "next")));
        (is_next && target.starts_with('/')).then(|| target.to_owned())
    })
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

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn next_links_are_read_from_link_headers() {
        assert_eq!(
            next_link(r#"</api/v1/incidents?limit=100&cursor=abc>; rel="next""#).as_deref(),
            Some("/api/v1/incidents?limit=100&cursor=abc")
        );
        assert_eq!(
            next_link(r#"</a?cursor=1>; rel="prev", </a?cursor=2>; rel="next""#).as_deref(),
            Some("/a?cursor=2")
        );
        assert_eq!(next_link(r#"<https://elsewhere.example/a>; rel="next""#), None);
        assert_eq!(next_link(r#"</a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }
}
