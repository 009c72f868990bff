//! nginx/Apache access logs: combined and common formats, client lists with
//! `X-Forwarded-For` addresses (`10.0.0.2, 10.0.0.1, 85.181.35.98 - - [...]`, also quoted),
//! extra trailing quoted fields, and mod_ssl's request log (`[time] ip proto cipher "req" bytes`).
//!
//! The client address is the first public address of the client list, else its first address
//! (Filebeat's rule); every address of a multi-address list is kept in `http.forwarded_for`.

use std::net::IpAddr;

use super::{Cx, Line, LineFormat};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind, HttpFields, Outcome};
use crate::format::Format;
use crate::scan::{parse_ip, parse_u16, parse_u64, token};
use crate::time;

/// Whether `line` has an access-log time in brackets (used by detection).
pub(crate) fn looks_like(line: &str) -> bool {
    let b = line.as_bytes();
    let Some(p) = memchr::memchr(b'[', b) else {
        return false;
    };
    if p > 0 && b[p - 1] != b' ' {
        return false;
    }
    matches!(time::clf_time(&b[p + 1..]), Some((_, _, n)) if b.get(p + 1 + n) == Some(&b']'))
}

/// Access-log line parser (stateless).
pub(crate) struct AccessParser;

impl LineFormat for AccessParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        match parse(line, cx) {
            Ok(ev) => cx.emit(ev),
            Err(Error::Shape(why)) => cx.skip(line, DiagnosticCode::UnparsedLine, || {
                format!("not an access-log line: {why}")
            }),
            Err(Error::Time(t)) => cx.bad_time(line, t),
        }
    }

    fn finish(&mut self, _cx: &mut Cx) {}
}

enum Error<'a> {
    Shape(&'static str),
    Time(&'a str),
}

fn parse<'a>(line: &Line<'a>, cx: &mut Cx) -> Result<Event, Error<'a>> {
    let text = line.text;
    let b = text.as_bytes();
    let p = memchr::memchr(b'[', b).ok_or(Error::Shape("no [time]"))?;
    if p > 0 && b[p - 1] != b' ' {
        return Err(Error::Shape("no [time]"));
    }
    let (civil, offset, n) = time::clf_time(&b[p + 1..]).ok_or(Error::Shape("no [time]"))?;
    if b.get(p + 1 + n) != Some(&b']') {
        return Err(Error::Shape("no [time]"));
    }
    let time_text = &text[p + 1..p + 1 + n];
    let ts = match offset {
        Some(off) => civil.at_offset(off),
        None => cx.local_time(civil),
    }
    .map_err(|_| Error::Time(time_text))?;
    let mut ev = cx.event(ts, time_text, EventKind::Http, Format::AccessLog, line.provenance());
    let mut http = HttpFields::default();
    let rest = text[p + 2 + n..].trim_start_matches(' ');

    let rest = if p == 0 {
        // mod_ssl request log: [time] ip protocol cipher "request" bytes
        let (ip, rest) = token(rest);
        client(&mut ev, &mut http, ip);
        let (proto, rest) = token(rest);
        let (cipher, rest) = token(rest);
        ev.push_attribute("tls_protocol", proto);
        ev.push_attribute("tls_cipher", cipher);
        let (req, rest) = quoted(rest).ok_or(Error::Shape("no \"request\""))?;
        request(&mut ev, &mut http, req);
        let (bytes, rest) = token(rest);
        http.bytes = parse_u64(bytes);
        rest
    } else {
        let prefix = text[..p].trim_end();
        let (head, user) = prefix
            .rsplit_once(' ')
            .ok_or(Error::Shape("no client, ident and user before [time]"))?;
        let (addrs, ident) = head.trim_end().rsplit_once(' ').unwrap_or(("", head));
        let addrs = if addrs.is_empty() { ident } else { addrs };
        if user != "-" && !user.is_empty() {
            ev.user = Some(user.to_string());
        }
        if ident != "-" && addrs != ident {
            ev.push_attribute("ident", ident);
        }
        client(&mut ev, &mut http, addrs);
        let (req, rest) = quoted(rest).ok_or(Error::Shape("no \"request\""))?;
        request(&mut ev, &mut http, req);
        let (status, rest) = token(rest);
        if status != "-" {
            http.status = Some(parse_u16(status).ok_or(Error::Shape("bad status"))?);
        }
        let (bytes, rest) = token(rest);
        http.bytes = parse_u64(bytes);
        rest
    };

    // Optional "referrer" "user agent" and further quoted or bare fields.
    let mut rest = rest;
    let mut n_quoted = 0;
    while !rest.is_empty() {
        if let Some((v, r)) = quoted(rest) {
            match n_quoted {
                0 => http.referrer = (v != "-").then(|| v.to_string()),
                1 => http.user_agent = (v != "-").then(|| v.to_string()),
                _ => {
                    let before = http.forwarded_for.len();
                    for ip in v.split([',', ' ']).filter_map(parse_ip) {
                        if !http.forwarded_for.contains(&ip) {
                            http.forwarded_for.push(ip);
                        }
                    }
                    if http.forwarded_for.len() == before && v != "-" {
                        ev.push_attribute("extra", v);
                    }
                }
            }
            n_quoted += 1;
            rest = r;
        } else {
            let (t, r) = token(rest);
            ev.push_attribute("extra", t);
            rest = r;
        }
    }

    ev.outcome = match http.status {
        Some(s) if s >= 400 => Outcome::Failure,
        Some(_) => Outcome::Success,
        None => Outcome::Unknown,
    };
    ev.message = text.to_string();
    ev.http = Some(Box::new(http));
    Ok(ev)
}

/// The client list before the ident: addresses separated by commas, spaces or quotes.
fn client(ev: &mut Event, http: &mut HttpFields, addrs: &str) {
    let mut first: Option<IpAddr> = None;
    let mut public: Option<IpAddr> = None;
    let mut count = 0;
    for tok in addrs.split([',', ' ', '"']).filter(|t| !t.is_empty()) {
        match parse_ip(tok) {
            Some(ip) => {
                count += 1;
                first.get_or_insert(ip);
                if public.is_none() && is_public(ip) {
                    public = Some(ip);
                }
                if !http.forwarded_for.contains(&ip) {
                    http.forwarded_for.push(ip);
                }
            }
            None => {
                if ev.attribute("client_host").is_none() {
                    ev.push_attribute("client_host", tok);
                }
            }
        }
    }
    ev.src_ip = public.or(first);
    if count < 2 {
        http.forwarded_for.clear();
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()),
        IpAddr::V6(v6) => {
            let seg0 = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || (seg0 & 0xfe00) == 0xfc00 || (seg0 & 0xffc0) == 0xfe80)
        }
    }
}

/// `"…"` at the start of `s` (backslash escapes honoured): its content and what follows.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    loop {
        let q = i + memchr::memchr2(b'"', b'\\', &b[i..])?;
        if b[q] == b'\\' {
            i = q + 2;
            if i > b.len() {
                return None;
            }
            continue;
        }
        // A quote ends the field only at the end or before a space.
        if q + 1 == b.len() || b[q + 1] == b' ' {
            return Some((&s[1..q], s[q + 1..].trim_start_matches(' ')));
        }
        i = q + 1;
    }
}

/// `METHOD target HTTP/x.y`; anything else is kept as the `request` attribute.
fn request(ev: &mut Event, http: &mut HttpFields, req: &str) {
    let (method, rest) = token(req);
    let is_method =
        !method.is_empty() && method.len() <= 24 && method.bytes().all(|c| c.is_ascii_uppercase() || c == b'_');
    if !is_method || rest.is_empty() {
        if !req.is_empty() && req != "-" {
            ev.push_attribute("request", req);
        }
        return;
    }
    http.method = Some(method.to_string());
    match rest.rsplit_once(" HTTP/") {
        Some((url, version)) => {
            http.url = Some(url.to_string());
            http.version = Some(version.to_string());
        }
        None => http.url = Some(rest.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    fn parse(text: &str) -> crate::ParseOutput {
        parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::AccessLog))
    }

    #[test]
    fn combined_line() {
        let out = parse(
            "77.179.66.156 - bob [25/Oct/2016:14:49:34 +0200] \"GET /favicon.ico?a=\\\"b\\\" HTTP/1.1\" 404 571 \"http://localhost:8080/\" \"Mozilla/5.0 (X)\"\n",
        );
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events[0];
        let h = e.http.as_ref().unwrap();
        assert_eq!(e.timestamp.to_string(), "2016-10-25T12:49:34Z");
        assert_eq!(e.user.as_deref(), Some("bob"));
        assert_eq!(h.method.as_deref(), Some("GET"));
        assert_eq!(h.url.as_deref(), Some("/favicon.ico?a=\\\"b\\\""));
        assert_eq!((h.status, h.bytes), (Some(404), Some(571)));
        assert_eq!(h.referrer.as_deref(), Some("http://localhost:8080/"));
        assert_eq!(h.user_agent.as_deref(), Some("Mozilla/5.0 (X)"));
        assert_eq!(e.outcome, crate::Outcome::Failure);
    }

    #[test]
    fn forwarded_lists() {
        let out = parse(
            "\"10.5.102.222, 199.96.1.1, 204.246.1.1\" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"CF\"\n\
             10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] \"GET /o HTTP/1.1\" 200 571 \"-\" \"M\"\n\
             unix: - - [26/Feb/2019:15:39:42 +0100] \"hello\" 400 173 \"-\" \"-\"\n\
             ::1 - - [26/Dec/2016:16:16:48 +0200] \"-\" 408 -\n",
        );
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e[0].src_ip.unwrap().to_string(), "199.96.1.1");
        assert_eq!(e[0].http.as_ref().unwrap().forwarded_for.len(), 4);
        assert_eq!(e[0].ips().len(), 4);
        assert_eq!(e[1].src_ip.unwrap().to_string(), "10.0.0.2");
        assert_eq!(e[2].src_ip, None);
        assert_eq!(e[2].attribute("request"), Some("hello"));
        assert_eq!(e[3].http.as_ref().unwrap().bytes, None);
    }

    #[test]
    fn ssl_request_log() {
        let out = parse(
            "[10/Aug/2018:09:45:56 +0200] 172.30.0.119 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 \"GET /x HTTP/1.1\" 1375\n",
        );
        let e = &out.events[0];
        assert_eq!(e.src_ip.unwrap().to_string(), "172.30.0.119");
        assert_eq!(e.http.as_ref().unwrap().bytes, Some(1375));
        assert_eq!(e.attribute("tls_protocol"), Some("TLSv1.2"));
    }
}
