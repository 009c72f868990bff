//! nginx error log: `2016/10/25 14:49:34 [error] 54053#0: *1 message, client: IP, server: …,
//! request: "GET / HTTP/1.1", host: "…"`. The time has no zone: the zone hint applies.

use super::{Cx, Line, LineFormat};
use crate::diag::DiagnosticCode;
use crate::event::EventKind;
use crate::format::Format;
use crate::scan::{find, parse_ip, parse_u32, token};
use crate::time;

/// nginx error-log parser (stateless).
pub(crate) struct NginxErrorParser;

impl LineFormat for NginxErrorParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let text = line.text;
        let b = text.as_bytes();
        let Some((civil, None, 19)) = time::iso8601(b) else {
            return cx.skip(line, DiagnosticCode::UnparsedLine, || {
                "not an nginx error-log line".into()
            });
        };
        let time_text = &text[..19];
        let Some(rest) = text[19..].strip_prefix(" [") else {
            return cx.skip(line, DiagnosticCode::UnparsedLine, || "no [level]".into());
        };
        let Some((level, rest)) = rest.split_once("] ") else {
            return cx.skip(line, DiagnosticCode::UnparsedLine, || "no [level]".into());
        };
        let ts = match cx.local_time(civil) {
            Ok(ts) => ts,
            Err(_) => return cx.bad_time(line, time_text),
        };
        let mut ev = cx.event(ts, time_text, EventKind::Other, Format::NginxError, line.provenance());
        ev.process = Some(cx.program("nginx"));
        ev.push_attribute("level", level);
        let mut msg = rest;
        if let Some((pid_tid, r)) = rest.split_once(": ")
            && let Some((pid, tid)) = pid_tid.split_once('#')
            && let (Some(pid), Some(_)) = (parse_u32(pid), parse_u32(tid))
        {
            ev.pid = Some(pid);
            ev.push_attribute("thread_id", tid);
            msg = r;
        }
        if let Some(r) = msg.strip_prefix('*') {
            let (cid, r) = token(r);
            if parse_u32(cid).is_some() {
                ev.push_attribute("connection_id", cid);
                msg = r;
            }
        }
        if let Some(p) = find(msg, ", client: ") {
            let ip = msg[p + 10..].split(',').next().unwrap_or("");
            ev.src_ip = parse_ip(ip);
            ev.kind = EventKind::Http;
        }
        if let Some(p) = find(msg, ", request: \"") {
            let req = msg[p + 12..].split('"').next().unwrap_or("");
            let (method, rest) = token(req);
            if !method.is_empty() && method.bytes().all(|c| c.is_ascii_uppercase()) {
                let http = ev.http_mut();
                http.method = Some(method.to_string());
                match rest.rsplit_once(" HTTP/") {
                    Some((url, v)) => {
                        http.url = Some(url.to_string());
                        http.version = Some(v.to_string());
                    }
                    None => http.url = Some(rest.to_string()),
                }
            }
        }
        if let Some(p) = find(msg, ", referrer: \"") {
            let r = msg[p + 13..].split('"').next().unwrap_or("");
            ev.http_mut().referrer = Some(r.to_string());
        }
        for key in ["server", "upstream", "host"] {
            let pat = format!(", {key}: ");
            if let Some(p) = find(msg, &pat) {
                let v = msg[p + pat.len()..].split(',').next().unwrap_or("").trim_matches('"');
                ev.push_attribute(key, v);
            }
        }
        ev.message = msg.to_string();
        cx.emit(ev);
    }

    fn finish(&mut self, _cx: &mut Cx) {}
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    #[test]
    fn error_line() {
        let line = "2016/10/25 14:49:34 [error] 54053#0: *1 open() \"/x/favicon.ico\" failed (2: No such file or directory), client: 127.0.0.1, server: localhost, request: \"GET /favicon.ico HTTP/1.1\", host: \"localhost:8080\", referrer: \"http://localhost:8080/\"\n";
        let out = parse_all(line.as_bytes(), &ParseOptions::new("t").format(Format::NginxError));
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_string(), "2016-10-25T14:49:34Z");
        assert_eq!(e.pid, Some(54053));
        assert_eq!(e.src_ip.unwrap().to_string(), "127.0.0.1");
        assert_eq!(e.http.as_ref().unwrap().url.as_deref(), Some("/favicon.ico"));
        assert!(e.message.starts_with("open() "));
        assert_eq!(e.attribute("level"), Some("error"));
    }
}
