//! A small HTTP client for the CLI's client subcommands: bearer auth, typed JSON in and out
//! (the bodies of `cordon_api`, the same types the server's routes use), lists followed page by
//! page, and problem+json errors turned into readable messages.

use anyhow::{Context, anyhow};
use cordon_api::Problem;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

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

impl ApiError {
    /// The error a failed answer's body describes: its problem document, or, when the body is
    /// not one, the status alone.
    fn from_body(status: StatusCode, body: &[u8]) -> Self {
        let (code, detail) = match serde_json::from_slice::<Problem>(body) {
            Ok(p) => (p.code, p.detail),
            Err(_) => ("unknown".to_owned(), "no detail".to_owned()),
        };
        Self { status, code, detail }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.detail, self.code, self.status.as_u16())
    }
}

impl std::error::Error for ApiError {}

/// An answer's body read as `T` (an empty body as JSON `null`).
fn decode<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(if body.is_empty() { b"null" } else { body })
}

/// Whether a decoding error says the body is not JSON at all (rather than JSON of another shape).
fn not_json(e: &serde_json::Error) -> bool {
    e.is_syntax() || e.is_eof()
}

/// The error of a JSON answer that is not the body this client reads there: the server and
/// this binary disagree about the wire.
fn unexpected(e: serde_json::Error) -> anyhow::Error {
    anyhow!("the server's answer is not what this cordon reads: {e}")
}

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

    /// GETs one answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        Ok(self.page::<(), T>(Method::GET, path, None).await?.0)
    }

    /// GETs a list answered in pages (`Link: <…>; rel="next"`), followed to its end and
    /// returned whole.
    pub async fn list<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Vec<T>> {
        self.all::<(), T>(Method::GET, path, None).await
    }

    /// GETs one page of a list: its items and the path of the next page, if any.
    pub async fn list_page<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<(Vec<T>, Option<String>)> {
        self.page::<(), Vec<T>>(Method::GET, path, None).await
    }

    /// POSTs to `path` (an action without a body) and follows the answer's `next` links, each
    /// POSTed in turn (a paged action, such as the indicator search, does the work of each
    /// page), returning the pages joined into one list.
    pub async fn post_list<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Vec<T>> {
        self.all::<(), T>(Method::POST, path, None).await
    }

    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<T> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// POSTs an action that takes no body.
    pub async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.call::<(), T>(Method::POST, path, None).await
    }

    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<T> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<T> {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.call::<(), T>(Method::DELETE, path, None).await
    }

    /// Sends one request and reads its answer as `T`, or the server's problem as an error.
    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> anyhow::Result<T> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.with_context(|| format!("cannot reach {url}"))?;
        let status = res.status();
        let bytes = res.bytes().await.context("reading the answer")?;
        // Whatever the status, a body that is not JSON at all says so first.
        if decode::<serde::de::IgnoredAny>(&bytes).is_err() {
            anyhow::bail!("the server answered HTTP {status} with a non-JSON body");
        }
        if !status.is_success() {
            return Err(ApiError::from_body(status, &bytes).into());
        }
        decode(&bytes).map_err(unexpected)
    }

    /// `method` on `path`, following the answer's `next` links to the end, the pages joined.
    async fn all<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> anyhow::Result<Vec<T>> {
        let (mut items, mut next) = self.page::<B, Vec<T>>(method.clone(), path, body).await?;
        let mut pages = 1;
        while let Some(path) = next {
            anyhow::ensure!(
                pages < MAX_PAGES,
                "the list has more than {MAX_PAGES} pages; narrow it down"
            );
            let (more, after) = self.page::<B, Vec<T>>(method.clone(), &path, body).await?;
            items.extend(more);
            next = after;
            pages += 1;
        }
        Ok(items)
    }

    /// One request of a paged list: the answer and the path of the next page, if any.
    async fn page<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> anyhow::Result<(T, Option<String>)> {
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
        let value = decode(&bytes).map_err(|e| {
            if not_json(&e) {
                anyhow::Error::new(e).context("the server answered with a non-JSON body")
            } else {
                unexpected(e)
            }
        })?;
        Ok((value, next))
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
        let body = res.bytes().await.unwrap_or_default();
        Err(ApiError::from_body(status, &body).into())
    }
}

/// The most pages [`Client::list`] follows (at 1,000 items a page).
const MAX_PAGES: usize = 1000;

/// `path?query`, the query's parameters form-encoded (absent ones left out); `path` alone when
/// there are none.
pub fn with_query<Q: Serialize + ?Sized>(path: &str, query: &Q) -> anyhow::Result<String> {
    let query = serde_urlencoded::to_string(query).context("writing the query")?;
    Ok(if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    })
}

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
