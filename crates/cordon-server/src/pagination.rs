//! Cursor pagination, the same for every list: `?limit=` (1–1000, default 100) and
//! `?cursor=` (opaque, taken from the previous page). The answer is the JSON array of one page
//! and, when more follow, a `Link: <…>; rel="next"` header (RFC 8288) whose target is the same
//! request with the next cursor — so no list ever stops silently, and a client that ignores
//! the header still gets a well-formed first page.
//!
//! Two kinds of cursor: keyset positions the store seeks to (incidents, newest first:
//! `{created_at µs}-{id}`), and offsets into a list the service returns whole in a stable order
//! (the per-incident registers, which only grow). Clients treat both as opaque; the server
//! accepts any cursor of the documented form (a position past the end is an empty page).

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

/// The query of a list paged by offsets, as documented (the extractor is [`Paging`]).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Where the page starts: take it from the previous page's `Link: <…>; rel="next"`.
    #[param(pattern = "^[0-9]{0,10}$")]
    cursor: Option<String>,
}

/// The query of the incident list, paged by keyset (the extractor is [`Paging`]).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct KeysetParams {
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Where the page starts: take it from the previous page's `Link: <…>; rel="next"`.
    #[param(pattern = "^$|^[0-9]{1,18}-[0-9a-f]{32}$")]
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

impl Paging {
    /// The link to the page that starts at `cursor`.
    fn link(&self, cursor: &str) -> String {
        let mut pairs = self.rest.clone();
        pairs.push(("limit".into(), self.limit.to_string()));
        pairs.push(("cursor".into(), cursor.to_owned()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}?{query}", self.path)
    }

    /// One page of `all`, a list in a stable order that only grows: the cursor is an offset.
    pub fn offset<T>(&self, all: Vec<T>) -> Result<Page<T>, Problem> {
        let (start, limit) = self.window()?;
        let total = all.len();
        let items = all.into_iter().skip(start).take(limit).collect();
        Ok(self.windowed(items, start, total))
    }

    /// Where an offset page starts and how many items it may hold, for a list whose service
    /// does the work of one page only (the indicator search searches the page's indicators).
    pub fn window(&self) -> Result<(usize, usize), Problem> {
        let start = match &self.cursor {
            None => 0,
            Some(c) if c.len() <= 10 && c.bytes().all(|b| b.is_ascii_digit()) => {
                c.parse::<usize>().map_err(|_| invalid_cursor())?
            }
            Some(_) => return Err(invalid_cursor()),
        };
        Ok((start, self.limit as usize))
    }

    /// The page of `items` taken at `start` of a list of `total` items, linking to the next.
    pub fn windowed<T>(&self, items: Vec<T>, start: usize, total: usize) -> Page<T> {
        let end = start.saturating_add(self.limit as usize).min(total);
        let next = (end < total).then(|| self.link(&end.to_string()));
        Page { items, next }
    }

    /// The keyset position the cursor names, for lists the store seeks in.
    pub fn position(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// A page the store returned: `items` asked with `limit + 1`, so a surplus item means more
    /// follow; `position` names where the next page starts (the last item kept).
    pub fn keyset<T>(&self, mut items: Vec<T>, position: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > self.limit as usize;
        items.truncate(self.limit as usize);
        let next = match items.last() {
            Some(last) if more => Some(self.link(&position(last))),
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
    fn malformed_cursors_are_refused_and_far_ones_are_empty() {
        for bad in ["zz", "-1", "1.5", "12345678901"] {
            assert!(paging(3, Some(bad)).offset(vec![1, 2, 3]).is_err(), "{bad}");
        }
        let far = paging(3, Some("9999999999")).offset(vec![1, 2, 3]).unwrap();
        assert!(far.items.is_empty() && far.next.is_none());
    }

    #[test]
    fn keyset_pages_say_where_the_next_starts() {
        let p = paging(2, None);
        let page = p.keyset(vec![10, 9, 8], |n| n.to_string());
        assert_eq!(page.items, [10, 9]);
        let next = page.next.unwrap();
        let cursor = next.rsplit("cursor=").next().unwrap();
        assert_eq!(paging(2, Some(cursor)).position(), Some("9"));
        assert!(p.keyset(vec![1, 2], |n| n.to_string()).next.is_none());
    }
}
