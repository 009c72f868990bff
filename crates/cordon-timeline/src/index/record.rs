//! The stored form of an event: a compact binary record, turned into the API's JSON
//! ([`super::json`]) only when the event is read.
//!
//! Writing the JSON of every event at ingest cost more than parsing the line (keys, escaping,
//! address and time formatting) and made the body files four to five times the size of the
//! log, so the page cache copy of those bytes was the largest single cost of an ingest. A
//! record holds each field once; a text field that is a piece of the message (an access
//! log's URL, user agent and time, a statement quoted in full) is stored as a reference into
//! it; what can be derived cheaply (the accounts, the addresses already in the structured
//! fields, the source id) is not stored at all.
//!
//! Layout (integers are LEB128 varints unless said otherwise):
//!
//! ```text
//! record   = seconds (zig-zag) nanos kind:u8 format:u8 outcome:u8 present message
//!            [time_original] [source] [host] [src_ip] [src_port] [dst_ip] [dst_port]
//!            [user] [target_user] [process] [pid] [command_line] [action] [http] [query]
//!            [database] [duration_ns] [attributes] [text_ips] line byte_offset byte_len
//! present  = bit set of the optional fields that follow (the `P_` constants)
//! message  = length bytes
//! text     = (length << 1) bytes            a literal
//!          | (length << 1 | 1) offset       that many bytes of the message from offset
//! ip       = 4 bytes | 6 16 bytes           (a first byte of 4 or 6)
//! http     = present method url version status bytes referrer user_agent count ip*
//! attributes = count (text text)*          in logged order, repeated names kept
//! text_ips = count ip*                      addresses found in the text only
//! ```
//!
//! The source name is stored once per file (see [`super::bodies`]); an event from another
//! source name, which the parsers never produce, carries its own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use jiff::Timestamp;

use crate::event::{Event, EventKind, Outcome, Provenance, accounts};
use crate::format::Format;
use crate::indicators::distinct_ips;

const P_TIME_ORIGINAL: u32 = 1 << 0;
const P_SOURCE: u32 = 1 << 1;
const P_HOST: u32 = 1 << 2;
const P_SRC_IP: u32 = 1 << 3;
const P_SRC_PORT: u32 = 1 << 4;
const P_DST_IP: u32 = 1 << 5;
const P_DST_PORT: u32 = 1 << 6;
const P_USER: u32 = 1 << 7;
const P_TARGET_USER: u32 = 1 << 8;
const P_PROCESS: u32 = 1 << 9;
const P_PID: u32 = 1 << 10;
const P_COMMAND_LINE: u32 = 1 << 11;
const P_ACTION: u32 = 1 << 12;
const P_HTTP: u32 = 1 << 13;
const P_QUERY: u32 = 1 << 14;
const P_DATABASE: u32 = 1 << 15;
const P_DURATION: u32 = 1 << 16;
const P_ATTRIBUTES: u32 = 1 << 17;
const P_TEXT_IPS: u32 = 1 << 18;

const H_METHOD: u32 = 1 << 0;
const H_URL: u32 = 1 << 1;
const H_VERSION: u32 = 1 << 2;
const H_STATUS: u32 = 1 << 3;
const H_BYTES: u32 = 1 << 4;
const H_REFERRER: u32 = 1 << 5;
const H_USER_AGENT: u32 = 1 << 6;
const H_FORWARDED: u32 = 1 << 7;

/// Text shorter than this is stored as is even when the message contains it.
const MIN_REFERENCE: usize = 4;

/// A record that does not decode (a damaged body file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

/// An event decoded from its record, borrowing its text from the record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventView<'a> {
    pub timestamp: Timestamp,
    pub time_original: &'a str,
    pub kind: EventKind,
    pub format: Format,
    pub source: &'a str,
    pub host: Option<&'a str>,
    pub message: &'a str,
    pub src_ip: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub user: Option<&'a str>,
    pub target_user: Option<&'a str>,
    pub process: Option<&'a str>,
    pub pid: Option<u32>,
    pub command_line: Option<&'a str>,
    pub outcome: Outcome,
    pub action: Option<&'a str>,
    pub http: Option<HttpView<'a>>,
    pub query: Option<&'a str>,
    pub database: Option<&'a str>,
    pub duration_ns: Option<u64>,
    pub attributes: Vec<(&'a str, &'a str)>,
    /// Addresses found only in the text fields (see [`EventView::ips`]).
    pub text_ips: Vec<IpAddr>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HttpView<'a> {
    pub method: Option<&'a str>,
    pub url: Option<&'a str>,
    pub version: Option<&'a str>,
    pub status: Option<u16>,
    pub bytes: Option<u64>,
    pub referrer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub forwarded_for: Vec<IpAddr>,
}

impl EventView<'_> {
    /// The same accounts as [`Event::users`].
    pub fn users(&self) -> Vec<&str> {
        let named = self.user.into_iter().chain(self.target_user);
        accounts(named, self.attributes.iter().copied())
    }

    /// The same addresses as [`Event::ips`]: the structured ones, then the text's.
    pub fn ips(&self) -> Vec<IpAddr> {
        let forwarded = self.http.iter().flat_map(|h| h.forwarded_for.iter().copied());
        let mut out = distinct_ips(self.src_ip.into_iter().chain(self.dst_ip).chain(forwarded));
        out.extend_from_slice(&self.text_ips);
        out
    }
}

/// Appends the record of `e` to `out`. `file_source` is the source name its file holds;
/// `ips` is [`Event::ips`] of `e`.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    e: &Event,
    file_source: &str,
    ips: &[IpAddr],
    in_msg: &mut crate::scan::InMessage<'_, '_>,
) {
    let msg = e.message.as_str();
    let structured = structured_count(e);
    let text_ips = ips.get(structured..).unwrap_or_default();
    let mut present = 0;
    let mut flag = |on: bool, bit: u32| {
        if on {
            present |= bit;
        }
    };
    flag(!e.time_original.is_empty(), P_TIME_ORIGINAL);
    flag(*e.source != *file_source, P_SOURCE);
    flag(e.host.is_some(), P_HOST);
    flag(e.src_ip.is_some(), P_SRC_IP);
    flag(e.src_port.is_some(), P_SRC_PORT);
    flag(e.dst_ip.is_some(), P_DST_IP);
    flag(e.dst_port.is_some(), P_DST_PORT);
    flag(e.user.is_some(), P_USER);
    flag(e.target_user.is_some(), P_TARGET_USER);
    flag(e.process.is_some(), P_PROCESS);
    flag(e.pid.is_some(), P_PID);
    flag(e.command_line.is_some(), P_COMMAND_LINE);
    flag(e.action.is_some(), P_ACTION);
    flag(e.http.is_some(), P_HTTP);
    flag(e.query.is_some(), P_QUERY);
    flag(e.database.is_some(), P_DATABASE);
    flag(e.duration_ns.is_some(), P_DURATION);
    flag(!e.attributes.is_empty(), P_ATTRIBUTES);
    flag(!text_ips.is_empty(), P_TEXT_IPS);

    let mut w = Enc { out, in_msg };
    let (secs, nanos) = (e.timestamp.as_second(), e.timestamp.subsec_nanosecond());
    w.uint(((secs << 1) ^ (secs >> 63)) as u64);
    w.uint(nanos as u64);
    w.out.push(kind_code(e.kind));
    w.out.push(format_code(e.format));
    w.out.push(outcome_code(e.outcome));
    w.uint(u64::from(present));
    w.uint(msg.len() as u64);
    w.out.extend_from_slice(msg.as_bytes());
    if present & P_TIME_ORIGINAL != 0 {
        w.text(&e.time_original);
    }
    if present & P_SOURCE != 0 {
        w.text(&e.source);
    }
    w.opt_text(e.host.as_deref());
    w.opt_ip(e.src_ip);
    w.opt_uint(e.src_port.map(u64::from));
    w.opt_ip(e.dst_ip);
    w.opt_uint(e.dst_port.map(u64::from));
    w.opt_text(e.user.as_deref());
    w.opt_text(e.target_user.as_deref());
    w.opt_text(e.process.as_deref());
    w.opt_uint(e.pid.map(u64::from));
    w.opt_text(e.command_line.as_deref());
    w.opt_text(e.action.as_deref());
    if let Some(h) = e.http.as_deref() {
        let mut hp = 0;
        let mut hflag = |on: bool, bit: u32| {
            if on {
                hp |= bit;
            }
        };
        hflag(h.method.is_some(), H_METHOD);
        hflag(h.url.is_some(), H_URL);
        hflag(h.version.is_some(), H_VERSION);
        hflag(h.status.is_some(), H_STATUS);
        hflag(h.bytes.is_some(), H_BYTES);
        hflag(h.referrer.is_some(), H_REFERRER);
        hflag(h.user_agent.is_some(), H_USER_AGENT);
        hflag(!h.forwarded_for.is_empty(), H_FORWARDED);
        w.uint(u64::from(hp));
        w.opt_text(h.method.as_deref());
        w.opt_text(h.url.as_deref());
        w.opt_text(h.version.as_deref());
        w.opt_uint(h.status.map(u64::from));
        w.opt_uint(h.bytes);
        w.opt_text(h.referrer.as_deref());
        w.opt_text(h.user_agent.as_deref());
        if !h.forwarded_for.is_empty() {
            w.ips(&h.forwarded_for);
        }
    }
    w.opt_text(e.query.as_deref());
    w.opt_text(e.database.as_deref());
    w.opt_uint(e.duration_ns);
    if !e.attributes.is_empty() {
        w.uint(e.attributes.len() as u64);
        for (k, v) in &e.attributes {
            w.text(k);
            w.text(v);
        }
    }
    if !text_ips.is_empty() {
        w.ips(text_ips);
    }
    let p = &e.provenance;
    w.uint(p.line);
    w.uint(p.byte_offset);
    w.uint(p.byte_len);
}

/// How many leading addresses of [`Event::ips`] come from the structured fields.
fn structured_count(e: &Event) -> usize {
    distinct_ips(e.structured_ips()).len()
}

struct Enc<'a, 'b, 'm> {
    out: &'a mut Vec<u8>,
    in_msg: &'a mut crate::scan::InMessage<'b, 'm>,
}

impl Enc<'_, '_, '_> {
    fn uint(&mut self, n: u64) {
        put_uint(self.out, n);
    }

    fn opt_uint(&mut self, n: Option<u64>) {
        if let Some(n) = n {
            self.uint(n);
        }
    }

    fn text(&mut self, s: &str) {
        if s.len() >= MIN_REFERENCE
            && let Some(at) = self.in_msg.find(s)
        {
            self.uint((s.len() as u64) << 1 | 1);
            self.uint(at as u64);
        } else {
            self.uint((s.len() as u64) << 1);
            self.out.extend_from_slice(s.as_bytes());
        }
    }

    fn opt_text(&mut self, s: Option<&str>) {
        if let Some(s) = s {
            self.text(s);
        }
    }

    fn ip(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => {
                self.out.push(4);
                self.out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                self.out.push(6);
                self.out.extend_from_slice(&v6.octets());
            }
        }
    }

    fn opt_ip(&mut self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.ip(ip);
        }
    }

    fn ips(&mut self, ips: &[IpAddr]) {
        self.uint(ips.len() as u64);
        for ip in ips {
            self.ip(*ip);
        }
    }
}

/// Decodes a record written by [`encode`] into a file holding `file_source`.
pub(crate) fn decode<'a>(rec: &'a [u8], file_source: &'a str) -> Result<EventView<'a>, Corrupt> {
    let mut d = Dec { rec, at: 0, msg: "" };
    let zz = d.uint()?;
    let secs = (zz >> 1) as i64 ^ -((zz & 1) as i64);
    let nanos = i32::try_from(d.uint()?).map_err(|_| Corrupt)?;
    let timestamp = Timestamp::new(secs, nanos).map_err(|_| Corrupt)?;
    let kind = *EventKind::ALL.get(usize::from(d.byte()?)).ok_or(Corrupt)?;
    let format = *Format::ALL.get(usize::from(d.byte()?)).ok_or(Corrupt)?;
    let outcome = *OUTCOMES.get(usize::from(d.byte()?)).ok_or(Corrupt)?;
    let present = u32::try_from(d.uint()?).map_err(|_| Corrupt)?;
    let n = d.len()?;
    d.msg = d.str(n)?;
    let has = |bit: u32| present & bit != 0;
    let time_original = if has(P_TIME_ORIGINAL) { d.text()? } else { "" };
    let source = if has(P_SOURCE) { d.text()? } else { file_source };
    let host = d.opt_text(has(P_HOST))?;
    let src_ip = d.opt_ip(has(P_SRC_IP))?;
    let src_port = d.opt_u16(has(P_SRC_PORT))?;
    let dst_ip = d.opt_ip(has(P_DST_IP))?;
    let dst_port = d.opt_u16(has(P_DST_PORT))?;
    let user = d.opt_text(has(P_USER))?;
    let target_user = d.opt_text(has(P_TARGET_USER))?;
    let process = d.opt_text(has(P_PROCESS))?;
    let pid = match has(P_PID) {
        true => Some(u32::try_from(d.uint()?).map_err(|_| Corrupt)?),
        false => None,
    };
    let command_line = d.opt_text(has(P_COMMAND_LINE))?;
    let action = d.opt_text(has(P_ACTION))?;
    let http = if has(P_HTTP) {
        let hp = u32::try_from(d.uint()?).map_err(|_| Corrupt)?;
        let hhas = |bit: u32| hp & bit != 0;
        Some(HttpView {
            method: d.opt_text(hhas(H_METHOD))?,
            url: d.opt_text(hhas(H_URL))?,
            version: d.opt_text(hhas(H_VERSION))?,
            status: d.opt_u16(hhas(H_STATUS))?,
            bytes: if hhas(H_BYTES) { Some(d.uint()?) } else { None },
            referrer: d.opt_text(hhas(H_REFERRER))?,
            user_agent: d.opt_text(hhas(H_USER_AGENT))?,
            forwarded_for: if hhas(H_FORWARDED) { d.ips()? } else { Vec::new() },
        })
    } else {
        None
    };
    let query = d.opt_text(has(P_QUERY))?;
    let database = d.opt_text(has(P_DATABASE))?;
    let duration_ns = if has(P_DURATION) { Some(d.uint()?) } else { None };
    let mut attributes = Vec::new();
    if has(P_ATTRIBUTES) {
        let n = d.len()?;
        attributes.reserve(n.min(64));
        for _ in 0..n {
            attributes.push((d.text()?, d.text()?));
        }
    }
    let text_ips = if has(P_TEXT_IPS) { d.ips()? } else { Vec::new() };
    let provenance = Provenance {
        line: d.uint()?,
        byte_offset: d.uint()?,
        byte_len: d.uint()?,
    };
    if d.at != rec.len() {
        return Err(Corrupt);
    }
    Ok(EventView {
        timestamp,
        time_original,
        kind,
        format,
        source,
        host,
        message: d.msg,
        src_ip,
        src_port,
        dst_ip,
        dst_port,
        user,
        target_user,
        process,
        pid,
        command_line,
        outcome,
        action,
        http,
        query,
        database,
        duration_ns,
        attributes,
        text_ips,
        provenance,
    })
}

struct Dec<'a> {
    rec: &'a [u8],
    at: usize,
    msg: &'a str,
}

impl<'a> Dec<'a> {
    fn byte(&mut self) -> Result<u8, Corrupt> {
        let b = *self.rec.get(self.at).ok_or(Corrupt)?;
        self.at += 1;
        Ok(b)
    }

    fn uint(&mut self) -> Result<u64, Corrupt> {
        get_uint(self.rec, &mut self.at).ok_or(Corrupt)
    }

    fn len(&mut self) -> Result<usize, Corrupt> {
        usize::try_from(self.uint()?).map_err(|_| Corrupt)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.at.checked_add(n).ok_or(Corrupt)?;
        let b = self.rec.get(self.at..end).ok_or(Corrupt)?;
        self.at = end;
        Ok(b)
    }

    fn str(&mut self, n: usize) -> Result<&'a str, Corrupt> {
        std::str::from_utf8(self.bytes(n)?).map_err(|_| Corrupt)
    }

    fn text(&mut self) -> Result<&'a str, Corrupt> {
        let tag = self.uint()?;
        let n = usize::try_from(tag >> 1).map_err(|_| Corrupt)?;
        if tag & 1 == 0 {
            return self.str(n);
        }
        let at = self.len()?;
        self.msg.get(at..at.checked_add(n).ok_or(Corrupt)?).ok_or(Corrupt)
    }

    fn opt_text(&mut self, present: bool) -> Result<Option<&'a str>, Corrupt> {
        if present { self.text().map(Some) } else { Ok(None) }
    }

    fn opt_u16(&mut self, present: bool) -> Result<Option<u16>, Corrupt> {
        if !present {
            return Ok(None);
        }
        u16::try_from(self.uint()?).map(Some).map_err(|_| Corrupt)
    }

    fn ip(&mut self) -> Result<IpAddr, Corrupt> {
        match self.byte()? {
            4 => {
                let b: [u8; 4] = self.bytes(4)?.try_into().map_err(|_| Corrupt)?;
                Ok(IpAddr::V4(Ipv4Addr::from(b)))
            }
            6 => {
                let b: [u8; 16] = self.bytes(16)?.try_into().map_err(|_| Corrupt)?;
                Ok(IpAddr::V6(Ipv6Addr::from(b)))
            }
            _ => Err(Corrupt),
        }
    }

    fn opt_ip(&mut self, present: bool) -> Result<Option<IpAddr>, Corrupt> {
        if present { self.ip().map(Some) } else { Ok(None) }
    }

    fn ips(&mut self) -> Result<Vec<IpAddr>, Corrupt> {
        let n = self.len()?;
        // Each address takes at least five bytes: a damaged count cannot reserve much.
        let mut v = Vec::with_capacity(n.min((self.rec.len() - self.at) / 5));
        for _ in 0..n {
            v.push(self.ip()?);
        }
        Ok(v)
    }
}

/// Appends `n` as a LEB128 varint.
pub(crate) fn put_uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 varint at `*at` and moves past it.
pub(crate) fn get_uint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

const OUTCOMES: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Unknown];

fn outcome_code(o: Outcome) -> u8 {
    OUTCOMES.iter().position(|x| *x == o).unwrap_or(2) as u8
}

fn kind_code(k: EventKind) -> u8 {
    EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u8
}

fn format_code(f: Format) -> u8 {
    Format::ALL.iter().position(|x| *x == f).unwrap_or(0) as u8
}

/// An owned event from a view (tests compare round trips with it).
#[cfg(test)]
pub(crate) fn to_event(v: &EventView<'_>) -> Event {
    use std::sync::Arc;
    let own = |s: Option<&str>| s.map(str::to_owned);
    let mut e = Event::new(
        v.timestamp,
        v.time_original.to_owned(),
        v.kind,
        v.format,
        Arc::from(v.source),
        v.provenance,
    );
    e.host = v.host.map(Arc::from);
    e.message = v.message.to_owned();
    e.src_ip = v.src_ip;
    e.src_port = v.src_port;
    e.dst_ip = v.dst_ip;
    e.dst_port = v.dst_port;
    e.user = own(v.user);
    e.target_user = own(v.target_user);
    e.process = v.process.map(Arc::from);
    e.pid = v.pid;
    e.command_line = own(v.command_line);
    e.outcome = v.outcome;
    e.action = v.action.map(|a| std::borrow::Cow::Owned(a.to_owned()));
    e.http = v.http.as_ref().map(|h| {
        Box::new(crate::event::HttpFields {
            method: own(h.method),
            url: own(h.url),
            version: own(h.version),
            status: h.status,
            bytes: h.bytes,
            referrer: own(h.referrer),
            user_agent: own(h.user_agent),
            forwarded_for: h.forwarded_for.clone(),
        })
    });
    e.query = own(v.query);
    e.database = own(v.database);
    e.duration_ns = v.duration_ns;
    e.attributes = v
        .attributes
        .iter()
        .map(|(k, v)| (std::borrow::Cow::Owned((*k).to_owned()), (*v).to_owned()))
        .collect();
    e
}
