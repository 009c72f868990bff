//! The event JSON the API returns, written once per event at ingest and stored as is, and
//! the splice that adds the source's SHA-256 (known only once the whole source was read) when
//! the stored JSON is served.

use std::net::IpAddr;

use super::record::{EventView, HttpView};

/// Every stored event JSON starts with this, followed by the 36-character source id.
pub const EVENT_JSON_PREFIX: &[u8] = br#"{"source_id":""#;
const SOURCE_ID_LEN: usize = 36;

/// Appends the event's JSON to `out`: an object with the fields in the order below (the
/// source id first, which [`splice_source_digest`] relies on), optional fields left out when
/// empty except the ones the API always shows (`host`, `src_ip`, `user`: `null`).
///
/// Written by hand rather than through serde: this runs once per ingested event, and most
/// strings need no escaping, so they are checked eight bytes at a time and copied whole.
/// `tests::same_as_serde` holds it to the serde rendering of the same fields.
pub(crate) fn write_event(out: &mut Vec<u8>, source_id: &str, e: &EventView<'_>) {
    debug_assert_eq!(source_id.len(), SOURCE_ID_LEN);
    let (users, ips) = (e.users(), e.ips());
    let mut w = Writer(out);
    w.raw(EVENT_JSON_PREFIX);
    w.raw(source_id.as_bytes());
    w.raw(b"\",\"ts\":\"");
    w.display(&e.timestamp);
    w.raw(b"\",\"time_original\":");
    w.str(e.time_original);
    w.raw(b",\"kind\":");
    w.str(e.kind.as_str());
    w.raw(b",\"format\":");
    w.str(e.format.name());
    w.raw(b",\"source\":");
    w.str(e.source);
    w.raw(b",\"host\":");
    w.opt_str(e.host);
    w.raw(b",\"message\":");
    w.str(e.message);
    w.raw(b",\"src_ip\":");
    w.opt_ip(e.src_ip);
    if let Some(p) = e.src_port {
        w.raw(b",\"src_port\":");
        w.num(p);
    }
    if let Some(ip) = e.dst_ip {
        w.raw(b",\"dst_ip\":");
        w.ip(ip);
    }
    if let Some(p) = e.dst_port {
        w.raw(b",\"dst_port\":");
        w.num(p);
    }
    w.raw(b",\"user\":");
    w.opt_str(e.user);
    w.field_str("target_user", e.target_user);
    w.field_str("process", e.process);
    if let Some(pid) = e.pid {
        w.raw(b",\"pid\":");
        w.num(pid);
    }
    w.field_str("command_line", e.command_line);
    w.raw(b",\"outcome\":");
    w.str(e.outcome.as_str());
    w.field_str("action", e.action);
    if let Some(h) = &e.http {
        w.raw(b",\"http\":");
        w.http(h);
    }
    w.field_str("query", e.query);
    w.field_str("database", e.database);
    if let Some(d) = e.duration_ns {
        w.raw(b",\"duration_ns\":");
        w.num(d);
    }
    if !e.attributes.is_empty() {
        // A repeated name keeps its first value.
        w.raw(b",\"attributes\":{");
        let mut first = true;
        for (i, (k, v)) in e.attributes.iter().enumerate() {
            if e.attributes[..i].iter().any(|(k2, _)| k2 == k) {
                continue;
            }
            if !first {
                w.raw(b",");
            }
            first = false;
            w.str(k);
            w.raw(b":");
            w.str(v);
        }
        w.raw(b"}");
    }
    w.raw(b",\"users\":");
    w.list(&users, |w, u| w.str(u));
    w.raw(b",\"ips\":");
    w.list(&ips, |w, ip| w.ip(*ip));
    let p = &e.provenance;
    w.raw(b",\"provenance\":{\"line\":");
    w.num(p.line);
    w.raw(b",\"byte_offset\":");
    w.num(p.byte_offset);
    w.raw(b",\"byte_len\":");
    w.num(p.byte_len);
    w.raw(b"}}");
}

/// JSON output into a byte buffer, escaping strings exactly as `serde_json` does.
struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn num(&mut self, n: impl itoa::Integer) {
        self.raw(itoa::Buffer::new().format(n).as_bytes());
    }

    fn display(&mut self, v: &impl std::fmt::Display) {
        use std::io::Write as _;
        // Writing into a Vec cannot fail.
        let _ = write!(self.0, "{v}");
    }

    fn ip(&mut self, ip: IpAddr) {
        self.raw(b"\"");
        self.display(&ip);
        self.raw(b"\"");
    }

    fn opt_ip(&mut self, ip: Option<IpAddr>) {
        match ip {
            Some(ip) => self.ip(ip),
            None => self.raw(b"null"),
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.raw(b"null"),
        }
    }

    /// `,"name":"value"` when there is a value, nothing otherwise.
    fn field_str(&mut self, name: &str, s: Option<&str>) {
        if let Some(s) = s {
            self.raw(b",\"");
            self.raw(name.as_bytes());
            self.raw(b"\":");
            self.str(s);
        }
    }

    fn opt_num(&mut self, n: Option<impl itoa::Integer>) {
        match n {
            Some(n) => self.num(n),
            None => self.raw(b"null"),
        }
    }

    fn http(&mut self, h: &HttpView<'_>) {
        self.raw(b"{\"method\":");
        self.opt_str(h.method);
        self.raw(b",\"url\":");
        self.opt_str(h.url);
        self.raw(b",\"version\":");
        self.opt_str(h.version);
        self.raw(b",\"status\":");
        self.opt_num(h.status);
        self.raw(b",\"bytes\":");
        self.opt_num(h.bytes);
        self.raw(b",\"referrer\":");
        self.opt_str(h.referrer);
        self.raw(b",\"user_agent\":");
        self.opt_str(h.user_agent);
        self.raw(b",\"forwarded_for\":");
        self.list(&h.forwarded_for, |w, ip| w.ip(*ip));
        self.raw(b"}");
    }

    /// A JSON array of `items`, each written by `each`.
    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.raw(b"[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            each(self, item);
        }
        self.raw(b"]");
    }

    /// A JSON string. Text without quotes, backslashes or control characters (nearly all log
    /// text) is found by checking eight bytes at a time and copied in one piece.
    fn str(&mut self, s: &str) {
        let b = s.as_bytes();
        self.0.reserve(b.len() + 2);
        self.0.push(b'"');
        if needs_escape(b) {
            self.escaped(b);
        } else {
            self.0.extend_from_slice(b);
        }
        self.0.push(b'"');
    }

    fn escaped(&mut self, b: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut run = 0;
        for (i, &c) in b.iter().enumerate() {
            let esc: &[u8] = match c {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..0x20 => &[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]],
                _ => continue,
            };
            self.0.extend_from_slice(&b[run..i]);
            self.0.extend_from_slice(esc);
            run = i + 1;
        }
        self.0.extend_from_slice(&b[run..]);
    }
}

/// Whether `b` has a byte JSON must escape: `"`, `\` or one below 0x20.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, the high bit of `(x - n) & !x & HIGH` is set for some byte iff a byte of x
    // is below n (n <= 0x80); a byte equal to c is a zero byte of x ^ c.
    fn word(x: u64) -> bool {
        let below = x.wrapping_sub(ONES * 0x20);
        let q = x ^ (ONES * u64::from(b'"'));
        let bs = x ^ (ONES * u64::from(b'\\'));
        ((below & !x) | (q.wrapping_sub(ONES) & !q) | (bs.wrapping_sub(ONES) & !bs)) & HIGH != 0
    }
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        if word(u64::from_le_bytes(c.try_into().expect("8 bytes"))) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

/// The source id of a stored event JSON.
pub(crate) fn source_id_of(stored: &[u8]) -> Option<&str> {
    let rest = stored.strip_prefix(EVENT_JSON_PREFIX)?;
    std::str::from_utf8(rest.get(..SOURCE_ID_LEN)?).ok()
}

/// Appends the stored event JSON to `out`, with `"source_sha256"` added after the source id
/// when `digest` gives one for it.
pub fn splice_source_digest(out: &mut Vec<u8>, stored: &[u8], digest: impl Fn(&str) -> Option<String>) {
    let head = EVENT_JSON_PREFIX.len() + SOURCE_ID_LEN + 1; // through the closing quote
    match source_id_of(stored).and_then(digest) {
        Some(d) if stored.len() > head => {
            out.extend_from_slice(&stored[..head]);
            out.extend_from_slice(br#","source_sha256":""#);
            out.extend_from_slice(d.as_bytes());
            out.push(b'"');
            out.extend_from_slice(&stored[head..]);
        }
        _ => out.extend_from_slice(stored),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::net::IpAddr;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use jiff::Timestamp;
    use serde::Serialize;
    use serde::ser::SerializeMap;

    use super::*;
    use crate::event::{Event, HttpFields, Provenance};
    use crate::index::record;
    use crate::{EventKind, Format, Outcome, ParseOptions, Parser};

    /// The serde rendering the hand-written one must equal byte for byte.
    #[derive(Serialize)]
    struct EventJson<'a> {
        source_id: &'a str,
        ts: Timestamp,
        time_original: &'a str,
        kind: &'static str,
        format: &'static str,
        source: &'a str,
        host: Option<&'a str>,
        message: &'a str,
        src_ip: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        src_port: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dst_ip: Option<IpAddr>,
        #[serde(skip_serializing_if = "Option::is_none")]
        dst_port: Option<u16>,
        user: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        target_user: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        process: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        command_line: Option<&'a str>,
        outcome: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        action: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        http: Option<&'a HttpFields>,
        #[serde(skip_serializing_if = "Option::is_none")]
        query: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        database: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_ns: Option<u64>,
        #[serde(skip_serializing_if = "Attributes::is_empty")]
        attributes: Attributes<'a>,
        users: &'a [&'a str],
        ips: &'a [IpAddr],
        provenance: &'a Provenance,
    }

    struct Attributes<'a>(&'a [(Cow<'static, str>, String)]);

    impl Attributes<'_> {
        fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    impl Serialize for Attributes<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(None)?;
            for (i, (k, v)) in self.0.iter().enumerate() {
                if self.0[..i].iter().any(|(k2, _)| k2 == k) {
                    continue;
                }
                m.serialize_entry(k.as_ref(), v)?;
            }
            m.end()
        }
    }

    const SOURCE_ID: &str = "0b6b7f3e-5b8a-4c1e-9a57-2f1d1c0e9a11";

    fn by_serde(e: &Event, users: &[&str], ips: &[IpAddr]) -> String {
        serde_json::to_string(&EventJson {
            source_id: SOURCE_ID,
            ts: e.timestamp,
            time_original: &e.time_original,
            kind: e.kind.as_str(),
            format: e.format.name(),
            source: &e.source,
            host: e.host.as_deref(),
            message: &e.message,
            src_ip: e.src_ip,
            src_port: e.src_port,
            dst_ip: e.dst_ip,
            dst_port: e.dst_port,
            user: e.user.as_deref(),
            target_user: e.target_user.as_deref(),
            process: e.process.as_deref(),
            pid: e.pid,
            command_line: e.command_line.as_deref(),
            outcome: e.outcome.as_str(),
            action: e.action.as_deref(),
            http: e.http.as_deref(),
            query: e.query.as_deref(),
            database: e.database.as_deref(),
            duration_ns: e.duration_ns,
            attributes: Attributes(&e.attributes),
            users,
            ips,
            provenance: &e.provenance,
        })
        .expect("serializes")
    }

    /// Through the stored record, as a read renders it. The file's source name is the
    /// event's own, or another one (an event then carries its own name).
    fn by_hand(e: &Event, file_source: &str) -> String {
        let mut rec = Vec::new();
        let mut memo = Vec::new();
        let mut m = crate::scan::InMessage::new(&e.message, &mut memo);
        record::encode(&mut rec, e, file_source, &e.ips(), &mut m);
        let view = record::decode(&rec, file_source).expect("decodes");
        assert_eq!(&record::to_event(&view), e, "the record keeps every field");
        let mut out = Vec::new();
        write_event(&mut out, SOURCE_ID, &view);
        String::from_utf8(out).expect("UTF-8")
    }

    fn assert_same(e: &Event) {
        let (users, ips) = (e.users(), e.ips());
        let want = by_serde(e, &users, &ips);
        assert_eq!(by_hand(e, &e.source), want, "event {e:?}");
        assert_eq!(by_hand(e, "another name"), want, "event {e:?}");
    }

    fn logs_dir() -> PathBuf {
        match std::env::var_os("CORDON_SHARED_DIR") {
            Some(d) => PathBuf::from(d),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        }
        .join("data/logs")
    }

    fn log_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("shared logs are present") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                log_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "log" || x == "gz") {
                out.push(path);
            }
        }
    }

    #[test]
    fn same_as_serde_for_every_shared_log_event() {
        let mut files = Vec::new();
        log_files(&logs_dir(), &mut files);
        let mut events = Vec::new();
        for f in &files {
            let bytes = std::fs::read(f).expect("readable log");
            let mut parser = Parser::new(ParseOptions::new(f.display().to_string()).year(2024));
            parser.feed(&bytes, &mut events);
            parser.finish(&mut events);
        }
        assert!(events.len() > 1000, "only {} events", events.len());
        assert!(events.iter().any(|e| e.http.is_some()) && events.iter().any(|e| !e.attributes.is_empty()));
        for e in &events {
            assert_same(e);
        }
    }

    #[test]
    fn same_as_serde_for_awkward_text() {
        let mut e = Event::new(
            "2024-03-01T10:00:00.123456789Z".parse().expect("instant"),
            "Mar  1 10:00:00".into(),
            EventKind::Http,
            Format::AccessLog,
            Arc::from("we\"ird\\name.log"),
            Provenance {
                line: 7,
                byte_offset: u64::MAX,
                byte_len: 0,
            },
        );
        e.host = Some(Arc::from("h\u{7f}ost\u{e9}"));
        e.message = "tab\there \"quoted\" back\\slash nl\n cr\r bell\u{7} \u{1f} ünïcödé 日本 \u{2028} end".into();
        e.src_ip = Some("2001:db8::1".parse().expect("ip"));
        e.src_port = Some(0);
        e.dst_ip = Some("::ffff:192.0.2.1".parse().expect("ip"));
        e.dst_port = Some(u16::MAX);
        e.user = Some(String::new());
        e.target_user = Some("\u{8}\u{c}".into());
        e.process = Some(Arc::from("sshd"));
        e.pid = Some(u32::MAX);
        e.command_line = Some("/bin/sh -c \"echo 1234567\\\"\"".into());
        e.outcome = Outcome::Failure;
        e.action = Some(Cow::Borrowed("ssh_login"));
        e.http = Some(Box::new(HttpFields {
            method: Some("GET".into()),
            url: Some("/a?b=\"c\"".into()),
            version: None,
            status: Some(404),
            bytes: None,
            referrer: Some("-".into()),
            user_agent: None,
            forwarded_for: vec!["10.0.0.1".parse().expect("ip"), "fe80::1".parse().expect("ip")],
        }));
        e.query = Some("SELECT '\u{0}'".into());
        e.database = Some("db".into());
        e.duration_ns = Some(0);
        e.attributes = vec![
            (Cow::Borrowed("acct"), "root".into()),
            (Cow::Owned("k\"ey".into()), "v\u{1}".into()),
            (Cow::Borrowed("acct"), "second".into()),
        ];
        assert_same(&e);
        // Every byte length around the eight-byte steps, with the escaped byte at each place.
        for len in 0..20 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                    let mut s: Vec<char> = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                    s[at] = c;
                    e.message = s.into_iter().collect();
                    assert_same(&e);
                }
            }
            e.message = "x".repeat(len);
            assert_same(&e);
        }
        let bare = Event::new(
            Timestamp::UNIX_EPOCH,
            String::new(),
            EventKind::Other,
            Format::JsonLines,
            Arc::from(""),
            Provenance::default(),
        );
        assert_same(&bare);
    }
}
