//! Indicator extraction: IPv4/IPv6 addresses, domains, URLs, e-mail addresses and
//! MD5/SHA-1/SHA-256 hashes found in an event's text fields, plus [`Event::ips`] and
//! [`Event::indicators`], which an `ip=` filter and the indicator index use.
//!
//! One pass over the bytes; no regular expressions. Domains are only reported when their
//! last label is a known top-level domain, so file names such as `xlog.c` or `index.php` are
//! not mistaken for domains.

use std::net::{IpAddr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::event::Event;

/// One indicator of compromise found in text. Text values are lower-cased except URLs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Indicator {
    Ip(IpAddr),
    Domain(String),
    Url(String),
    Email(String),
    Md5(String),
    Sha1(String),
    Sha256(String),
}

impl Indicator {
    /// The stable type name: `ip`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`.
    pub fn kind(&self) -> &'static str {
        match self {
            Indicator::Ip(_) => "ip",
            Indicator::Domain(_) => "domain",
            Indicator::Url(_) => "url",
            Indicator::Email(_) => "email",
            Indicator::Md5(_) => "md5",
            Indicator::Sha1(_) => "sha1",
            Indicator::Sha256(_) => "sha256",
        }
    }

    /// The value as text.
    pub fn value(&self) -> String {
        match self {
            Indicator::Ip(ip) => ip.to_string(),
            Indicator::Domain(s)
            | Indicator::Url(s)
            | Indicator::Email(s)
            | Indicator::Md5(s)
            | Indicator::Sha1(s)
            | Indicator::Sha256(s) => s.clone(),
        }
    }
}

/// Every indicator in `text`, without duplicates, in order of first appearance.
pub fn extract_indicators(text: &str) -> Vec<Indicator> {
    let mut out = Vec::new();
    extract_indicators_into(text, &mut out);
    out
}

/// Appends the indicators of `text` to `out`, skipping ones already in `out`.
pub fn extract_indicators_into(text: &str, out: &mut Vec<Indicator>) {
    scan(text, false, &mut |i| push_unique(out, i));
}

/// `ips` in order, without repeats.
pub(crate) fn distinct_ips(ips: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::with_capacity(2);
    for ip in ips {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

fn push_unique(out: &mut Vec<Indicator>, i: Indicator) {
    if !out.contains(&i) {
        out.push(i);
    }
}

impl Event {
    /// Every indicator in the event: its addresses (source, destination, forwarded-for) and
    /// whatever the text fields (message, URL, referrer, query, command line, attributes)
    /// contain, without duplicates.
    pub fn indicators(&self) -> Vec<Indicator> {
        let mut out = Vec::new();
        for ip in self.structured_ips() {
            push_unique(&mut out, Indicator::Ip(ip));
        }
        self.for_each_text(|t| extract_indicators_into(t, &mut out));
        out
    }

    /// Every IP address in the event: source, destination, forwarded-for list, and any
    /// address written in its text fields, without duplicates. An `ip=` filter matches these.
    pub fn ips(&self) -> Vec<IpAddr> {
        let mut memo = Vec::new();
        self.ips_in(&mut crate::scan::InMessage::new(&self.message, &mut memo))
    }

    /// [`Event::ips`], with the text fields' places in the message looked up through `m`.
    pub(crate) fn ips_in(&self, m: &mut crate::scan::InMessage<'_, '_>) -> Vec<IpAddr> {
        let mut out = distinct_ips(self.structured_ips());
        let mut add = |ip: IpAddr| {
            if !out.contains(&ip) {
                out.push(ip);
            }
        };
        self.for_each_text_in(m, |t| {
            scan(t, true, &mut |i| {
                if let Indicator::Ip(ip) = i {
                    add(ip);
                }
            })
        });
        out
    }

    pub(crate) fn structured_ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.src_ip
            .into_iter()
            .chain(self.dst_ip)
            .chain(self.http.iter().flat_map(|h| h.forwarded_for.iter().copied()))
    }

    /// Calls `f` on each text field, skipping fields the message already contains (an
    /// access-log message is the whole line, URL and user agent included).
    fn for_each_text(&self, f: impl FnMut(&str)) {
        let mut memo = Vec::new();
        self.for_each_text_in(&mut crate::scan::InMessage::new(&self.message, &mut memo), f);
    }

    fn for_each_text_in(&self, m: &mut crate::scan::InMessage<'_, '_>, mut f: impl FnMut(&str)) {
        f(&self.message);
        for t in self.text_fields().skip(1) {
            if !m.contains(t) {
                f(t);
            }
        }
    }

    /// The event's free-text fields, for a full-text index and indicator extraction:
    /// message, URL, referrer, user agent, query, command line and attribute values.
    pub fn text_fields(&self) -> impl Iterator<Item = &str> + '_ {
        let http = self
            .http
            .iter()
            .flat_map(|h| [&h.url, &h.referrer, &h.user_agent])
            .flatten();
        std::iter::once(self.message.as_str())
            .chain(http.map(String::as_str))
            .chain(
                [&self.query, &self.command_line]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            )
            .chain(self.attributes.iter().map(|(_, v)| v.as_str()))
    }
}

/// Bytes that can be part of an address, domain, e-mail or hash token.
const fn token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'@' | b'-' | b'_' | b'%' | b'+');
        c += 1;
    }
    t
}
static TOKEN: [bool; 256] = token_table();

fn scan(text: &str, ips_only: bool, emit: &mut dyn FnMut(Indicator)) {
    let b = text.as_bytes();
    if !ips_only {
        scan_urls(text, emit);
    }
    let mut i = 0;
    while i < b.len() {
        if !TOKEN[b[i] as usize] {
            i += 1;
            continue;
        }
        let start = i;
        let mut marks = false;
        while i < b.len() && TOKEN[b[i] as usize] {
            marks |= matches!(b[i], b'.' | b':' | b'@');
            i += 1;
        }
        // Only dotted, coloned or @ tokens, or hash-sized ones, can be indicators.
        if marks || (!ips_only && matches!(i - start, 32 | 40 | 64)) {
            classify(&text[start..i], ips_only, emit);
        }
    }
}

fn scan_urls(text: &str, emit: &mut dyn FnMut(Indicator)) {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = crate::scan::find_bytes(b, b"://", from) {
        from = pos + 3;
        let mut s = pos;
        while s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'.' | b'-')) {
            s -= 1;
        }
        let scheme = &text[s..pos];
        if ![
            "http", "https", "ftp", "ftps", "sftp", "ws", "wss", "smb", "ldap", "ldaps",
        ]
        .iter()
        .any(|k| scheme.eq_ignore_ascii_case(k))
        {
            continue;
        }
        let mut e = pos + 3;
        while e < b.len()
            && !b[e].is_ascii_whitespace()
            && !b[e].is_ascii_control()
            && !matches!(
                b[e],
                b'"' | b'\'' | b'<' | b'>' | b'`' | b'|' | b'{' | b'}' | b'\\' | b'^'
            )
        {
            e += 1;
        }
        while e > pos + 3 && matches!(b[e - 1], b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']') {
            e -= 1;
        }
        if e <= pos + 3 {
            continue;
        }
        emit(Indicator::Url(text[s..e].to_string()));
    }
}

fn classify(tok: &str, ips_only: bool, emit: &mut dyn FnMut(Indicator)) {
    let tok = tok.trim_matches(|c| matches!(c, '.' | '-' | '@' | '_' | '%' | '+'));
    let tb = tok.as_bytes();
    if tb.len() < 2 {
        return;
    }
    let mut dots = 0;
    let mut colons = 0;
    let mut at = None;
    let mut all_hex = true;
    let mut digits_dots = true;
    for (i, &c) in tb.iter().enumerate() {
        match c {
            b'.' => dots += 1,
            b':' => colons += 1,
            b'@' => at = Some(i),
            _ => {}
        }
        all_hex &= c.is_ascii_hexdigit();
        digits_dots &= c.is_ascii_digit() || c == b'.';
    }
    if colons >= 2 && !tb.contains(&b'@') {
        let v6 = tok.trim_matches(|c| c == '[' || c == ']');
        let v6 = v6.split_once('%').map_or(v6, |(a, _)| a);
        if let Ok(ip) = v6.parse::<Ipv6Addr>() {
            if !ip.is_unspecified() {
                emit(Indicator::Ip(IpAddr::V6(ip)));
            }
            return;
        }
    }
    if dots == 3 {
        let v4 = if colons == 1 {
            tok.split_once(':').map_or(tok, |(a, _)| a)
        } else {
            tok
        };
        if let Ok(ip) = v4.parse::<std::net::Ipv4Addr>() {
            emit(Indicator::Ip(IpAddr::V4(ip)));
            return;
        }
    }
    if ips_only {
        return;
    }
    if all_hex && matches!(tb.len(), 32 | 40 | 64) {
        let has_alpha = tb.iter().any(u8::is_ascii_alphabetic);
        let has_digit = tb.iter().any(u8::is_ascii_digit);
        if has_alpha && has_digit {
            let v = tok.to_ascii_lowercase();
            emit(match tb.len() {
                32 => Indicator::Md5(v),
                40 => Indicator::Sha1(v),
                _ => Indicator::Sha256(v),
            });
        }
        return;
    }
    if digits_dots || dots == 0 {
        return;
    }
    if let Some(a) = at {
        let (local, domain) = (&tok[..a], &tok[a + 1..]);
        if !local.is_empty()
            && local
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-'))
            && is_domain(domain)
        {
            emit(Indicator::Email(tok.to_ascii_lowercase()));
        }
        return;
    }
    if colons == 0 && is_domain(tok) {
        emit(Indicator::Domain(tok.to_ascii_lowercase()));
    }
}

/// A dotted host name whose last label is a known top-level domain.
pub(crate) fn is_domain(s: &str) -> bool {
    if s.len() > 253 || !s.contains('.') {
        return false;
    }
    let mut labels = 0;
    for label in s.split('.') {
        let l = label.as_bytes();
        if l.is_empty()
            || l.len() > 63
            || l[0] == b'-'
            || l[l.len() - 1] == b'-'
            || !l.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            return false;
        }
        labels += 1;
    }
    let tld = s.rsplit('.').next().unwrap_or_default();
    labels >= 2 && is_tld(tld)
}

fn is_tld(t: &str) -> bool {
    if t.len() == 2 {
        return t.bytes().all(|c| c.is_ascii_alphabetic()) && !NOT_CC_TLDS.iter().any(|x| x.eq_ignore_ascii_case(t));
    }
    GENERIC_TLDS.iter().any(|x| x.eq_ignore_ascii_case(t))
}

/// Two-letter endings that are far more often file extensions than country domains in logs.
const NOT_CC_TLDS: &[&str] = &[
    "sh", "py", "js", "so", "md", "gz", "pl", "rb", "ts", "cs", "db", "ps", "hs", "bz", "xz", "cc", "mk", "am", "ko",
    "rs", "jl", "ml", "lo", "la", "hh", "pm", "gs",
];

const GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "name",
    "pro",
    "app",
    "dev",
    "cloud",
    "online",
    "site",
    "xyz",
    "top",
    "club",
    "shop",
    "store",
    "tech",
    "live",
    "news",
    "blog",
    "onion",
    "local",
    "internal",
    "lan",
    "corp",
    "home",
    "arpa",
    "mobi",
    "asia",
    "tel",
    "travel",
    "aero",
    "coop",
    "museum",
    "jobs",
    "cat",
    "website",
    "space",
    "icu",
    "vip",
    "work",
    "link",
    "click",
    "download",
    "stream",
    "host",
    "fun",
    "buzz",
    "rest",
    "bar",
    "monster",
    "cyou",
    "today",
    "world",
    "email",
    "zip",
    "mov",
    "localdomain",
    "test",
    "example",
    "invalid",
    "amazonaws",
    "io",
    "ai",
    "co",
    "me",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind() {
        let t = "Failed password for root from 202.109.143.106 port 1786; see https://evil.example.com/x.sh?a=1. \
                 mail bob@corp.example.org, hash d41d8cd98f00b204e9800998ecf8427e and \
                 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 via 2a03:0:10ff::8000 \
                 host tools.google.com file xlog.c:6388 time 12:06:24.406 mac 39:33:99:e9:a0:dc";
        let got = extract_indicators(t);
        let kinds: Vec<String> = got.iter().map(|i| format!("{}={}", i.kind(), i.value())).collect();
        assert!(kinds.contains(&"ip=202.109.143.106".to_string()), "{kinds:?}");
        assert!(
            kinds.contains(&"url=https://evil.example.com/x.sh?a=1".to_string()),
            "{kinds:?}"
        );
        assert!(kinds.contains(&"domain=evil.example.com".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"email=bob@corp.example.org".to_string()), "{kinds:?}");
        assert!(
            kinds.contains(&"md5=d41d8cd98f00b204e9800998ecf8427e".to_string()),
            "{kinds:?}"
        );
        assert!(kinds.iter().any(|k| k.starts_with("sha256=")), "{kinds:?}");
        assert!(kinds.contains(&"ip=2a03:0:10ff::8000".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"domain=tools.google.com".to_string()), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.contains("xlog")), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.contains("12:06")), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.contains("39:33")), "{kinds:?}");
    }

    #[test]
    fn no_false_positives_in_sql_and_versions() {
        let t = "SELECT d.datname FROM pg_catalog.pg_database d; Version: 5.5.53-0ubuntu0.12.04.1 \
                 root@localhost on employees.emp_no com.google.Keystone 1.2.3 Chrome/54.0.2840.59";
        assert_eq!(extract_indicators(t), vec![]);
    }

    #[test]
    fn ip_with_port_and_brackets() {
        let got = extract_indicators("client [218.76.8.37] and 10.0.0.5:8080 and [::1]");
        assert_eq!(got.len(), 3, "{got:?}");
    }
}
