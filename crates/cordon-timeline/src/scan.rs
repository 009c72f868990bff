//! Byte-level scanning helpers shared by the format parsers: fixed-width digits, integer
//! parsing, token splitting, `key=value` lookup and IP parsing, all without allocation.

use std::net::IpAddr;

/// Two ASCII digits at `i`, as a number.
#[inline]
pub(crate) fn num2(s: &[u8], i: usize) -> Option<u32> {
    let a = s.get(i)?.wrapping_sub(b'0');
    let b = s.get(i + 1)?.wrapping_sub(b'0');
    (a < 10 && b < 10).then_some(u32::from(a) * 10 + u32::from(b))
}

/// Four ASCII digits at `i`, as a number.
#[inline]
pub(crate) fn num4(s: &[u8], i: usize) -> Option<u32> {
    Some(num2(s, i)? * 100 + num2(s, i + 2)?)
}

/// The leading ASCII digits of `s`: their value and how many there were (at most 19).
#[inline]
pub(crate) fn leading_u64(s: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut n = 0;
    while n < s.len() && n < 19 {
        let d = s[n].wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        v = v * 10 + u64::from(d);
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// The whole of `s` as an unsigned decimal number.
#[inline]
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let (v, n) = leading_u64(s.as_bytes())?;
    (n == s.len()).then_some(v)
}

/// The whole of `s` as a `u32`.
#[inline]
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// The whole of `s` as a `u16`.
#[inline]
pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|v| u16::try_from(v).ok())
}

/// A decimal number with an optional fraction (`15.000223`) as nanoseconds times `unit_ns`.
pub(crate) fn parse_decimal_ns(s: &str, unit_ns: u64) -> Option<u64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let int = if int.is_empty() { 0 } else { parse_u64(int)? };
    let mut total = int.checked_mul(unit_ns)?;
    let mut scale = unit_ns;
    for b in frac.bytes() {
        let d = b.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        scale /= 10;
        total = total.checked_add(u64::from(d) * scale)?;
    }
    Some(total)
}

/// Parses an IP address, accepting IPv6 in brackets and IPv4-mapped forms.
#[inline]
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(s);
    let b = s.as_bytes();
    if b.len() < 2 || b.len() > 45 {
        return None;
    }
    // Cheap rejection before the std parser: an IP starts with a hex digit or ':'.
    if !(b[0].is_ascii_hexdigit() || b[0] == b':') {
        return None;
    }
    s.parse().ok()
}

/// Parses `ip`, `ip:port`, `[v6]:port` or `v6.port` forms into an address and optional port.
pub(crate) fn parse_ip_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Some(ip) = parse_ip(s) {
        return Some((ip, None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        return Some((ip.parse().ok()?, parse_u16(port)));
    }
    let (ip, port) = s.rsplit_once(':')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    Some((IpAddr::V4(ip), Some(parse_u16(port)?)))
}

/// Splits at the first space: the token and the rest after any following spaces.
#[inline]
pub(crate) fn token(s: &str) -> (&str, &str) {
    match memchr::memchr(b' ', s.as_bytes()) {
        Some(i) => (&s[..i], s[i + 1..].trim_start_matches(' ')),
        None => (s, ""),
    }
}

/// Where an event's text fields start in its message, each field looked up once: at ingest
/// the same fields are checked against the message for the `ip` scan, the full-text index and
/// the stored record. Fields are told apart by address, so only pass pieces of one event.
pub(crate) struct InMessage<'a, 'm> {
    msg: &'a str,
    seen: &'m mut Vec<(usize, usize, Option<usize>)>,
}

impl<'a, 'm> InMessage<'a, 'm> {
    /// `memo` is scratch space, cleared here (a caller reuses it across events).
    pub(crate) fn new(msg: &'a str, memo: &'m mut Vec<(usize, usize, Option<usize>)>) -> Self {
        memo.clear();
        InMessage { msg, seen: memo }
    }

    /// Where `t` starts in the message ([`find`]).
    pub(crate) fn find(&mut self, t: &str) -> Option<usize> {
        let key = (t.as_ptr() as usize, t.len());
        if let Some(&(_, _, at)) = self.seen.iter().find(|(p, l, _)| (*p, *l) == key) {
            return at;
        }
        let at = find(self.msg, t);
        self.seen.push((key.0, key.1, at));
        at
    }

    /// Whether `t` is long enough to matter (four bytes) and part of the message.
    pub(crate) fn contains(&mut self, t: &str) -> bool {
        t.len() >= 4 && self.find(t).is_some()
    }
}

/// False starts of [`find_bytes`]' first-byte search before it switches to a linear one.
const NAIVE_TRIES: usize = 32;

/// Byte position of `needle` in `hay`.
#[inline]
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    find_bytes(hay.as_bytes(), needle.as_bytes(), 0)
}

/// Position of `needle` in `hay` at or after `from`. One-shot searches in short log lines:
/// `memchr` for the first byte, then a compare — no searcher set-up per call, which would
/// cost more than the search itself. After [`NAIVE_TRIES`] false starts (a long repetitive
/// line) it hands over to `memchr::memmem`, which is linear.
#[inline]
pub(crate) fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let Some(&first) = needle.first() else {
        return Some(from.min(hay.len()));
    };
    let mut i = from;
    let mut tries = 0;
    while i < hay.len() {
        tries += 1;
        if tries > NAIVE_TRIES {
            return memchr::memmem::find(&hay[i..], needle).map(|at| i + at);
        }
        let at = i + memchr::memchr(first, &hay[i..])?;
        if hay.len() - at < needle.len() {
            return None;
        }
        if &hay[at..at + needle.len()] == needle {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// The value of `key=` in a space-separated `k=v` list, up to the next space; a value in
/// double or single quotes is returned without them. Only matches at a token boundary.
pub(crate) fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(at) = find_bytes(bytes, key.as_bytes(), from) {
        let end = at + key.len();
        let boundary = at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b',' | b';' | b'\'' | b'(');
        if boundary && bytes.get(end) == Some(&b'=') {
            let v = &s[end + 1..];
            return Some(take_value(v));
        }
        from = at + 1;
    }
    None
}

/// A value at the start of `v`: quoted (without quotes) or up to whitespace, `,` or `;`.
pub(crate) fn take_value(v: &str) -> &str {
    let b = v.as_bytes();
    match b.first() {
        Some(&q @ (b'"' | b'\'')) => match memchr::memchr(q, &b[1..]) {
            Some(e) => &v[1..1 + e],
            None => &v[1..],
        },
        _ => {
            let end = b
                .iter()
                .position(|&c| matches!(c, b' ' | b'\t' | b',' | b';' | b'\''))
                .unwrap_or(b.len());
            &v[..end]
        }
    }
}

/// Decodes an upper- or lower-case hex string into text (auditd encodes fields this way).
pub(crate) fn decode_hex(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) || !b.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub(crate) fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(num2(b"07", 0), Some(7));
        assert_eq!(num4(b"x2019", 1), Some(2019));
        assert_eq!(num2(b"7a", 0), None);
        assert_eq!(parse_u64("123"), Some(123));
        assert_eq!(parse_u64("12a"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u16("70000"), None);
        assert_eq!(parse_decimal_ns("15.000223", 1_000_000_000), Some(15_000_223_000));
        assert_eq!(parse_decimal_ns("0.524", 1_000_000), Some(524_000));
        assert_eq!(parse_decimal_ns("x", 1), None);
    }

    #[test]
    fn ips() {
        assert!(parse_ip("10.0.0.1").is_some());
        assert!(parse_ip("::1").is_some());
        assert!(parse_ip("[2001:db8::1]").is_some());
        assert!(parse_ip("localhost").is_none());
        assert!(parse_ip("999.1.1.1").is_none());
        assert_eq!(parse_ip_port("1.2.3.4:80").unwrap().1, Some(80));
        assert_eq!(parse_ip_port("[::1]:22").unwrap().1, Some(22));
    }

    #[test]
    fn key_values() {
        let s = "pid=1 uid=0 auid=700 msg='op=PAM:x acct=\"root\" exe=\"/bin/su\" res=success'";
        assert_eq!(kv(s, "uid"), Some("0"));
        assert_eq!(kv(s, "acct"), Some("root"));
        assert_eq!(kv(s, "res"), Some("success"));
        assert_eq!(kv(s, "id"), None);
        assert_eq!(decode_hex("2F62696E").as_deref(), Some("/bin"));
        assert_eq!(decode_hex("2F6"), None);
        assert_eq!(truncate_str("héllo", 2), "h");
        assert_eq!(find("abcabd", "abd"), Some(3));
        assert_eq!(find("ab", "abc"), None);
        assert_eq!(find_bytes(b"a:  b:  c", b":  ", 2), Some(5));
    }

    #[test]
    fn in_message_looks_each_field_up_once_and_agrees_with_find() {
        let msg = "GET /index.php HTTP/1.1 curl/8.0";
        let fields = ["/index.php", "curl/8.0", "absent!", "GET"].map(String::from);
        let mut memo = Vec::new();
        let mut m = InMessage::new(msg, &mut memo);
        for _ in 0..2 {
            for f in &fields {
                assert_eq!(m.find(f), find(msg, f), "{f}");
            }
        }
        assert!(m.contains(&fields[0]) && m.contains(&fields[1]));
        assert!(!m.contains(&fields[2]), "not in the message");
        assert!(!m.contains(&fields[3]), "in it, but shorter than four bytes");
        assert_eq!(memo.len(), 4, "one lookup per field");
    }

    #[test]
    fn find_agrees_with_memmem_past_the_naive_tries() {
        // A repetitive line makes every position a false start.
        let hay = "a".repeat(5000) + "ab" + &"a".repeat(100);
        for needle in ["aab", "ab", "ba", "aaaaaaaaaaaaaaaaaaab", "b", "aaaaac", "a"] {
            for from in [0, 10, 4999, 5001, 5102, 6000] {
                let want = memchr::memmem::find(hay.as_bytes().get(from..).unwrap_or_default(), needle.as_bytes())
                    .map(|i| i + from);
                assert_eq!(
                    find_bytes(hay.as_bytes(), needle.as_bytes(), from),
                    want,
                    "{needle} from {from}"
                );
            }
        }
    }
}
