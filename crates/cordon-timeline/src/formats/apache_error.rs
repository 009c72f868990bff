//! Apache httpd error log, both forms:
//!
//! - 2.0/2.2: `[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message`
//! - 2.4: `[Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456] [client
//!   1.2.3.4:5678] AH00126: message, referer: http://…`
//!
//! The time has no zone: the zone hint applies. The client address (and port, in 2.4) is the
//! event's source address, so `ip=` and indicator searches find it; a proxied request's
//! `[remote …]` peer is kept as an attribute. The level is kept as logged (`level`, with the
//! module in `module`) and mapped to the syslog severity names (`severity`: `emergency`,
//! `alert`, `critical`, `error`, `warning`, `notice`, `info`, `debug`). mod_auth's failures
//! (`user bob: authentication failure for "/x": Password Mismatch`, `user bob not found: /x`)
//! are authentication events of that account.

use super::{Cx, Line, LineFormat};
use crate::diag::DiagnosticCode;
use crate::event::{EventKind, Outcome};
use crate::format::Format;
use crate::scan::{find, parse_ip, parse_u16, parse_u32};
use crate::time;

/// Apache error-log parser (stateless).
pub(crate) struct ApacheErrorParser;

/// The syslog severity name of an Apache log level, `None` for a word that is not one.
fn severity(level: &str) -> Option<&'static str> {
    Some(match level.to_ascii_lowercase().as_str() {
        "emerg" => "emergency",
        "alert" => "alert",
        "crit" => "critical",
        "error" => "error",
        "warn" => "warning",
        "notice" => "notice",
        "info" => "info",
        "debug" | "trace1" | "trace2" | "trace3" | "trace4" | "trace5" | "trace6" | "trace7" | "trace8" => "debug",
        _ => return None,
    })
}

/// The leading `[time]` of an error-log line: the civil time, its text and the rest after `]`.
pub(crate) fn leading_stamp(text: &str) -> Option<(time::Civil, &str, &str)> {
    let inner = text.strip_prefix('[')?;
    let (civil, used) = time::ctime(inner.as_bytes())?;
    let rest = inner[used..].strip_prefix(']')?;
    Some((civil, &inner[..used], rest))
}

/// Whether `line` looks like an Apache error-log line (for detection).
pub(crate) fn looks_like(line: &str) -> bool {
    leading_stamp(line).is_some_and(|(_, _, rest)| {
        rest.strip_prefix(" [")
            .and_then(|r| r.split_once(']'))
            .is_some_and(|(level, _)| severity(level.rsplit(':').next().unwrap_or(level)).is_some())
    })
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1:5678` (2.4 writes IPv6 without brackets) or `[::1]:5678`.
fn address(raw: &str, with_port: bool) -> Option<(std::net::IpAddr, Option<u16>)> {
    let raw = raw.trim();
    if with_port
        && let Some((ip, port)) = raw.rsplit_once(':')
        && let Some(port) = parse_u16(port)
        && let Some(ip) = parse_ip(ip.trim_start_matches('[').trim_end_matches(']'))
    {
        return Some((ip, Some(port)));
    }
    parse_ip(raw.trim_start_matches('[').trim_end_matches(']')).map(|ip| (ip, None))
}

impl LineFormat for ApacheErrorParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let text = line.text;
        let Some((civil, time_text, rest)) = leading_stamp(text) else {
            return cx.skip(line, DiagnosticCode::UnparsedLine, || {
                "not an Apache error-log line (no [Www Mmm dd hh:mm:ss yyyy] time)".into()
            });
        };
        let Some((level_field, mut rest)) = rest.strip_prefix(" [").and_then(|r| r.split_once(']')) else {
            return cx.skip(line, DiagnosticCode::UnparsedLine, || {
                "no [level] after the time".into()
            });
        };
        let (module, level) = match level_field.split_once(':') {
            Some((m, l)) => (Some(m), l),
            None => (None, level_field),
        };
        // 2.4 writes `[module:level]` and the client's port; 2.2 only `[level]`.
        let v24 = module.is_some();
        let ts = match cx.local_time(civil) {
            Ok(ts) => ts,
            Err(_) => return cx.bad_time(line, time_text),
        };
        let mut ev = cx.event(ts, time_text, EventKind::Other, Format::ApacheError, line.provenance());
        ev.process = Some(cx.program("httpd"));
        ev.push_attribute("level", level);
        if let Some(sev) = severity(level) {
            ev.push_attribute("severity", sev);
        }
        if let Some(m) = module {
            ev.push_attribute("module", m);
        }
        while let Some(r) = rest.strip_prefix(" [") {
            let Some((field, after)) = r.split_once(']') else {
                break;
            };
            if let Some(p) = field.strip_prefix("pid ") {
                let (pid, tid) = match p.split_once(":tid ") {
                    Some((pid, tid)) => (pid, Some(tid)),
                    None => (p, None),
                };
                ev.pid = parse_u32(pid);
                if let Some(tid) = tid {
                    ev.push_attribute("thread_id", tid);
                }
            } else if let Some(c) = field.strip_prefix("client ") {
                if let Some((ip, port)) = address(c, v24) {
                    ev.src_ip = Some(ip);
                    ev.src_port = port;
                    ev.kind = EventKind::Http;
                }
            } else if let Some(r) = field.strip_prefix("remote ") {
                ev.push_attribute("remote", r.trim());
            } else {
                break;
            }
            rest = after;
        }
        let mut msg = rest.trim_start();
        // `AH00126: …`, the 2.4 message number.
        if let Some((code, after)) = msg.split_once(": ")
            && code.len() == 7
            && code.starts_with("AH")
            && code[2..].bytes().all(|b| b.is_ascii_digit())
        {
            ev.push_attribute("error_code", code);
            msg = after;
        }
        if let Some(p) = msg.rfind(", referer: ") {
            ev.http_mut().referrer = Some(msg[p + 11..].to_string());
        }
        if let Some(r) = msg.strip_prefix("user ") {
            let (user, after) = r.split_once([':', ' ']).unwrap_or((r, ""));
            let failed = find(after, "authentication failure").is_some()
                || after.starts_with("not found")
                || find(after, "Password Mismatch").is_some();
            if !user.is_empty() && failed {
                ev.user = Some(user.to_string());
                ev.kind = EventKind::Authentication;
                ev.outcome = Outcome::Failure;
                ev.action = Some("login".into());
            }
        }
        ev.message = msg.to_string();
        cx.emit(ev);
    }

    fn finish(&mut self, _cx: &mut Cx) {}
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, Outcome, ParseOptions, parse_all};

    #[test]
    fn apache_2_2_line_with_a_client() {
        let line = "[Sun Dec 04 05:15:09 2005] [error] [client 222.166.160.184] Directory index forbidden by rule: /var/www/html/\n";
        let out = parse_all(line.as_bytes(), &ParseOptions::new("error_log"));
        assert_eq!(out.format, Some(Format::ApacheError));
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_string(), "2005-12-04T05:15:09Z");
        assert_eq!(e.src_ip.unwrap().to_string(), "222.166.160.184");
        assert_eq!(e.src_port, None);
        assert_eq!(e.kind, EventKind::Http);
        assert_eq!(e.attribute("level"), Some("error"));
        assert_eq!(e.attribute("severity"), Some("error"));
        assert_eq!(e.message, "Directory index forbidden by rule: /var/www/html/");
    }

    #[test]
    fn apache_2_4_line_with_module_pid_client_and_code() {
        let text = "[Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456] [client 1.2.3.4:5678] AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1, referer: http://evil.example/\n\
                    [Wed Oct 11 14:32:52.000001 2000] [authz_core:warn] [pid 9] [client 2001:db8::7:443] AH01630: client denied by server configuration: /srv/www\n\
                    [Wed Oct 11 14:32:53 2000] [auth_basic:error] [pid 9] [client 10.0.0.9:5000] AH01617: user mallory: authentication failure for \"/admin\": Password Mismatch\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("error.log"));
        assert_eq!(out.format, Some(Format::ApacheError));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events[0];
        assert_eq!(e.timestamp.to_string(), "2005-12-04T04:47:44.123456Z");
        assert_eq!(e.pid, Some(123));
        assert_eq!(e.attribute("thread_id"), Some("456"));
        assert_eq!(e.attribute("module"), Some("core"));
        assert_eq!(e.attribute("error_code"), Some("AH00126"));
        assert_eq!(e.src_ip.unwrap().to_string(), "1.2.3.4");
        assert_eq!(e.src_port, Some(5678));
        assert_eq!(
            e.http.as_ref().unwrap().referrer.as_deref(),
            Some("http://evil.example/")
        );
        assert!(e.message.starts_with("Invalid URI in request"));
        let v6 = &out.events[1];
        assert_eq!(v6.src_ip.unwrap().to_string(), "2001:db8::7");
        assert_eq!(v6.src_port, Some(443));
        assert_eq!(v6.attribute("severity"), Some("warning"));
        let auth = &out.events[2];
        assert_eq!(auth.user.as_deref(), Some("mallory"));
        assert_eq!(auth.kind, EventKind::Authentication);
        assert_eq!(auth.outcome, Outcome::Failure);
    }

    #[test]
    fn a_line_of_another_shape_is_a_diagnostic() {
        let text = "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\nnot a line\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("e").format(Format::ApacheError));
        assert_eq!((out.events.len(), out.skipped), (1, 1));
        assert_eq!(out.diagnostics[0].line, 2);
    }
}
