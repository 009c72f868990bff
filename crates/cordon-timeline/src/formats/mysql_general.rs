//! MySQL / MariaDB general query log:
//! `2019-03-24T16:22:43.836524Z\t    8 Query\tSELECT …` (5.7+), `161209 14:37:59\t    2 Connect\t…`
//! and `\t\t    3 Query\t…` (5.5/5.6/MariaDB: the time is only written when it changes).
//! Lines that are not entries continue the previous statement. `Connect` entries tell which
//! account a thread id belongs to, so every later `Query` of that thread names its user.

use std::collections::HashMap;

use jiff::Timestamp;

use super::mysql_slow::{is_banner, yymmdd_time};
use super::{Cx, Line, LineFormat, append_bounded, extend_to};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind, Outcome};
use crate::format::Format;
use crate::scan::{find, leading_u64, parse_ip};
use crate::time;

const COMMANDS: &[&str] = &[
    "Query",
    "Connect",
    "Quit",
    "Init DB",
    "Execute",
    "Prepare",
    "Close stmt",
    "Reset stmt",
    "Field List",
    "Long Data",
    "Fetch",
    "Set option",
    "Change user",
    "Shutdown",
    "Statistics",
    "Processlist",
    "Kill",
    "Debug",
    "Ping",
    "Time",
    "Delayed insert",
    "Binlog Dump",
    "Binlog Dump GTID",
    "Table Dump",
    "Connect Out",
    "Register Slave",
    "Refresh",
    "Create DB",
    "Drop DB",
    "Sleep",
    "Daemon",
    "Error",
    "Reset Connection",
];

struct Entry<'a> {
    time: Option<(time::Civil, Option<i32>, &'a str)>,
    thread: u64,
    command: &'a str,
    argument: &'a str,
}

fn entry(line: &str) -> Option<Entry<'_>> {
    let b = line.as_bytes();
    let (time, rest) = if b.first() == Some(&b'\t') {
        (None, line.trim_start_matches('\t'))
    } else if let Some((c, off, n)) = time::iso8601(b) {
        if b[10] != b'T' || b.get(n) != Some(&b'\t') {
            return None;
        }
        (Some((c, off, &line[..n])), &line[n + 1..])
    } else if let Some((c, n)) = yymmdd_time(b) {
        if b.get(n) != Some(&b'\t') {
            return None;
        }
        (Some((c, None, &line[..n])), &line[n + 1..])
    } else {
        return None;
    };
    let rest = rest.trim_start_matches(' ');
    let (thread, n) = leading_u64(rest.as_bytes())?;
    let rest = rest[n..].strip_prefix(' ')?;
    let (command, argument) = rest.split_once('\t').unwrap_or((rest, ""));
    let command = command.trim_end();
    COMMANDS.contains(&command).then_some(Entry {
        time,
        thread,
        command,
        argument,
    })
}

/// Whether `line` is a general-log entry (used by detection).
pub(crate) fn looks_like(line: &str) -> bool {
    entry(line).is_some_and(|e| e.time.is_some())
}

#[derive(Default)]
struct ThreadInfo {
    user: Option<String>,
    database: Option<String>,
}

/// General-log parser: keeps the last time, the thread → account map and the open entry.
#[derive(Default)]
pub(crate) struct MysqlGeneralParser {
    last_time: Option<(Timestamp, String)>,
    threads: HashMap<u64, ThreadInfo>,
    pending: Option<Event>,
    pending_full: bool,
}

impl MysqlGeneralParser {
    const MAX_THREADS: usize = 65_536;

    fn flush(&mut self, cx: &mut Cx) {
        if let Some(ev) = self.pending.take() {
            cx.emit(ev);
        }
    }

    fn build(&mut self, e: Entry, line: &Line, cx: &mut Cx) -> Result<Event, &'static str> {
        if let Some((c, off, text)) = e.time {
            let ts = match off {
                Some(off) => c.at_offset(off),
                None => cx.local_time(c),
            }
            .map_err(|_| "impossible timestamp")?;
            self.last_time = Some((ts, text.to_string()));
        }
        let (ts, text) = self.last_time.as_ref().ok_or("entry before any time")?;
        let mut ev = cx.event(*ts, text, EventKind::Datastore, Format::MysqlGeneral, line.provenance());
        ev.process = Some(cx.program("mysqld"));
        ev.push_attribute("thread_id", e.thread.to_string());
        ev.action = Some(e.command.to_ascii_lowercase().replace(' ', "_").into());
        ev.message = format!("{}\t{}", e.command, e.argument);
        match e.command {
            "Connect" => self.connect(&mut ev, e.thread, e.argument),
            "Quit" => {
                if let Some(t) = self.threads.remove(&e.thread) {
                    ev.user = t.user;
                    ev.database = t.database;
                }
            }
            "Query" | "Execute" | "Prepare" => ev.query = Some(e.argument.to_string()),
            "Init DB" => {
                let db = e.argument.trim().to_string();
                if let Some(t) = self.threads.get_mut(&e.thread) {
                    t.database = Some(db.clone());
                }
                ev.database = Some(db);
            }
            _ => {}
        }
        if let Some(t) = self.threads.get(&e.thread) {
            if ev.user.is_none() {
                ev.user.clone_from(&t.user);
            }
            if ev.database.is_none() {
                ev.database.clone_from(&t.database);
            }
        }
        Ok(ev)
    }

    fn connect(&mut self, ev: &mut Event, thread: u64, arg: &str) {
        ev.kind = EventKind::Authentication;
        ev.action = Some("connect".into());
        if let Some(rest) = arg.strip_prefix("Access denied for user '") {
            // Access denied for user 'root'@'10.0.0.5' (using password: YES)
            ev.outcome = Outcome::Failure;
            let mut parts = rest.split('\'');
            ev.user = parts.next().map(str::to_string);
            if let Some(host) = parts.nth(1) {
                ev.src_ip = parse_ip(host);
            }
            return;
        }
        // root@localhost on employees using Socket
        let (who, rest) = arg.split_once(" on ").unwrap_or((arg, ""));
        let (user, host) = who.rsplit_once('@').unwrap_or((who, ""));
        ev.outcome = Outcome::Success;
        ev.user = Some(user.trim().to_string()).filter(|u| !u.is_empty());
        ev.src_ip = parse_ip(host.trim());
        if !host.is_empty() && ev.src_ip.is_none() {
            ev.push_attribute("client_host", host.trim());
        }
        let db = match find(rest, " using ") {
            Some(p) => &rest[..p],
            None => rest,
        }
        .trim();
        if !db.is_empty() {
            ev.database = Some(db.to_string());
        }
        if self.threads.len() >= Self::MAX_THREADS {
            self.threads.clear();
        }
        self.threads.insert(
            thread,
            ThreadInfo {
                user: ev.user.clone(),
                database: ev.database.clone(),
            },
        );
    }
}

impl LineFormat for MysqlGeneralParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let t = line.text;
        if is_banner(t) {
            self.flush(cx);
            return;
        }
        if t.trim().is_empty() && self.pending.is_none() {
            return;
        }
        match entry(t) {
            Some(e) => {
                self.flush(cx);
                match self.build(e, line, cx) {
                    Ok(ev) => {
                        self.pending = Some(ev);
                        self.pending_full = false;
                    }
                    Err("impossible timestamp") => cx.bad_time(line, t.split('\t').next().unwrap_or(t)),
                    Err(why) => cx.skip(line, DiagnosticCode::UnparsedLine, || why.to_string()),
                }
            }
            None => match &mut self.pending {
                Some(ev) => {
                    extend_to(ev, line);
                    let limit = cx.common.max_event_bytes;
                    let mut ok = append_bounded(&mut ev.message, t, limit);
                    if let Some(q) = &mut ev.query {
                        ok &= append_bounded(q, t, limit);
                    }
                    if !ok && !self.pending_full {
                        self.pending_full = true;
                        cx.note(line, DiagnosticCode::EventTooLarge, || {
                            "statement cut at the event size limit".into()
                        });
                    }
                }
                None => cx.skip(line, DiagnosticCode::UnparsedLine, || {
                    "not a MySQL general-log entry".into()
                }),
            },
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        self.flush(cx);
    }

    fn wants_blank_lines(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, ParseOptions, parse_all};

    #[test]
    fn entries_threads_and_continuations() {
        let text = "/usr/sbin/mysqld, Version: 8.0.15 (MySQL). started with:\n\
                    Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n\
                    Time                 Id Command    Argument\n\
                    2019-03-24T16:22:43.836524Z\t    8 Connect\tapp@203.0.113.7 on shop using TCP/IP\n\
                    2019-03-24T16:22:44.000000Z\t    8 Query\tSELECT *\n\
                    FROM customers\n\
                    161209  4:37:59\t    9 Connect\tAccess denied for user 'root'@'10.0.0.5' (using password: YES)\n\
                    \t\t    8 Query\tCOPY customers\n\
                    2019-03-24T16:22:45.000000Z\t    8 Quit\t\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::MysqlGeneral));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e.len(), 5);
        assert_eq!(e[0].kind, EventKind::Authentication);
        assert_eq!(e[0].src_ip.unwrap().to_string(), "203.0.113.7");
        assert_eq!(e[1].query.as_deref(), Some("SELECT *\nFROM customers"));
        assert_eq!(
            (e[1].user.as_deref(), e[1].database.as_deref()),
            (Some("app"), Some("shop"))
        );
        assert_eq!(e[2].outcome, crate::Outcome::Failure);
        assert_eq!(e[2].timestamp.to_string(), "2016-12-09T04:37:59Z");
        assert_eq!(e[3].user.as_deref(), Some("app"));
        assert_eq!(e[3].timestamp, e[2].timestamp);
        assert_eq!(e[4].user.as_deref(), Some("app"));
    }
}
