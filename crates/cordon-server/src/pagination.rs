//! Cursor pagination, the same for every list: `?limit=` (1–1000, default 100) and
//! `?cursor=` (opaque, taken from the previous page). The answer is the JSON array of one page
//! and, when more follow, a `Link: <…>; rel="next"` header (RFC 8288) whose target is the same
//! request with the next cursor — so no list ever stops silently, and a client that ignores
//! the header still gets a well-formed first page.
//!
//! Two kinds of cursor: keyset positions the store seeks to (incidents, newest first), and
//! offsets into a list the service returns whole in a stable order (the per-incident
//! registers, which only grow).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::IntoParams;

use crate::problem::Problem;

/// The page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page.
pub const MAX_LIMIT: u32 = 1000;

/// The query of a paged list, as documented (the extractor is [`Paging`]).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Where the page starts: the cursor in the previous page's `Link: <…>; rel="next"`.
    #[param(pattern = "^[0-9a-f]{1,200}$")]
    cursor: Option<String>,
}

/// A list request's paging: its limit and cursor, and how to ask for the next page.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: u32,
    cursor: Option<String>,
    path: String,
    /// The request's other query parameters, kept in the next page's link.
    rest: Vec<(String, String)>,
}

fn invalid_cursor() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
        "the cursor is not one this list handed out; start again without it",
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
        let mut limit = None;
        let mut cursor = None;
        let mut rest = Vec::new();
        for (k, v) in pairs {
            match k.as_str() {
                "limit" => {
                    let n = v.parse::<u32>().ok().filter(|n| (1..=MAX_LIMIT).contains(n));
                    limit = Some(n.ok_or_else(|| {
                        Problem::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid_field",
                            format!("limit must be between 1 and {MAX_LIMIT}"),
                        )
                        .with("field", "limit".into())
                    })?);
                }
                "cursor" if v.is_empty() => {}
                "cursor" => cursor = Some(v),
                _ => rest.push((k, v)),
            }
        }
        Ok(Self {
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            cursor,
            path: parts.uri.path().to_owned(),
            rest,
        })
    }
}

/// One page of a list: serialized as a JSON array, with the next page's link.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    next: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let mut res = axum::Json(self.items).into_response();
        if let Some(next) = self.next
            && let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\""))
        {
            res.headers_mut().insert(header::LINK, v);
        }
        res
    }
}

fn encode(raw: &str) -> String {
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(cursor: &str) -> Option<String> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 200 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

impl Paging {
    /// The link to the page that starts at `cursor` (raw, encoded here).
    fn link(&self, cursor: &str) -> String {
        let mut pairs = self.rest.clone();
        pairs.push(("limit".into(), self.limit.to_string()));
        pairs.push(("cursor".into(), encode(cursor)));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}?{query}", self.path)
    }

    /// One page of `all`, a list in a stable order that only grows: the cursor is an offset.
    pub fn offset<T>(&self, all: Vec<T>) -> Result<Page<T>, Problem> {
        let start = match &self.cursor {
            None => 0,
            Some(c) => decode(c)
                .and_then(|s| s.strip_prefix("o.").and_then(|n| n.parse::<usize>().ok()))
                .ok_or_else(invalid_cursor)?,
        };
        let limit = self.limit as usize;
        let end = start.saturating_add(limit).min(all.len());
        let next = (end < all.len()).then(|| self.link(&format!("o.{end}")));
        let items = all.into_iter().skip(start).take(limit).collect();
        Ok(Page { items, next })
    }

    /// The keyset position the cursor names (`k.{position}`), for lists the store seeks in.
    pub fn position(&self) -> Result<Option<String>, Problem> {
        match &self.cursor {
            None => Ok(None),
            Some(c) => decode(c)
                .and_then(|s| s.strip_prefix("k.").map(str::to_owned))
                .map(Some)
                .ok_or_else(invalid_cursor),
        }
    }

    /// A page the store returned: `items` asked with `limit + 1`, so a surplus item means more
    /// follow; `position` names where the next page starts (the last item kept).
    pub fn keyset<T>(&self, mut items: Vec<T>, position: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > self.limit as usize;
        items.truncate(self.limit as usize);
        let next = match items.last() {
            Some(last) if more => Some(self.link(&format!("k.{}", position(last)))),
            _ => None,
        };
        Page { items, next }
    }

    /// A bad keyset position, as the same problem as any other bad cursor.
    pub fn invalid(&self) -> Problem {
        invalid_cursor()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(limit: u32, cursor: Option<&str>) -> Paging {
        Paging {
            limit,
            cursor: cursor.map(str::to_owned),
            path: "/api/v1/x".into(),
            rest: vec![("state".into(), "a b".into())],
        }
    }

    #[test]
    fn offsets_walk_the_whole_list_once() {
        let all: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = paging(3, cursor.as_deref()).offset(all.clone()).unwrap();
            seen.extend(page.items);
            match page.next {
                None => break,
                Some(link) => {
                    assert!(link.starts_with("/api/v1/x?state=a+b&limit=3&cursor="), "{link}");
                    cursor = Some(link.rsplit("cursor=").next().unwrap().to_owned());
                }
            }
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in ["zz", "0", &encode("k.1"), &encode("o.x"), &"00".repeat(101)] {
            assert!(paging(3, Some(bad)).offset(vec![1, 2, 3]).is_err(), "{bad}");
        }
        assert!(paging(3, Some(&encode("o.1"))).position().is_err());
    }

    #[test]
    fn keyset_pages_say_where_the_next_starts() {
        let p = paging(2, None);
        let page = p.keyset(vec![10, 9, 8], |n| n.to_string());
        assert_eq!(page.items, [10, 9]);
        let next = page.next.unwrap();
        let cursor = next.rsplit("cursor=").next().unwrap();
        assert_eq!(paging(2, Some(cursor)).position().unwrap().as_deref(), Some("9"));
        assert!(p.keyset(vec![1, 2], |n| n.to_string()).next.is_none());
    }
}
