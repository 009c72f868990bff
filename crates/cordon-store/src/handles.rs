//! Finding records by a prefix of their id, where no incident narrows the search (pages are
//! addressed as `/pages/{id}`): the service keeps only the candidates the caller may see.

use async_trait::async_trait;

use crate::Result;
use crate::paging::PageRow;

#[async_trait]
pub trait HandleStore: Send + Sync {
    /// Pages whose id starts with `prefix` (lowercase hex digits, without hyphens), oldest
    /// first, at most `limit`.
    async fn pages_with_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<PageRow>>;
}

/// The `LIKE` pattern of an id prefix: the hex digits hyphenated as a UUID's text is, then
/// `%`. `None` when `prefix` holds anything but hex digits (nothing to match, and nothing
/// that `LIKE` could read as a wildcard).
pub(crate) fn like_pattern(prefix: &str) -> Option<String> {
    if prefix.len() > 32 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = String::with_capacity(prefix.len() + 5);
    for (i, c) in prefix.to_ascii_lowercase().chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        out.push(c);
    }
    out.push('%');
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_follow_the_hyphens_of_an_id() {
        use super::like_pattern;
        assert_eq!(like_pattern("0193b4e7").as_deref(), Some("0193b4e7%"));
        assert_eq!(like_pattern("0193B4E7c2a1").as_deref(), Some("0193b4e7-c2a1%"));
        assert_eq!(
            like_pattern("0193b4e7c2a17abc8000").as_deref(),
            Some("0193b4e7-c2a1-7abc-8000%")
        );
        assert_eq!(like_pattern("01%"), None);
        assert_eq!(like_pattern("01_3"), None);
    }
}
