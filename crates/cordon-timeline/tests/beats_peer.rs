//! Peer test suite: Elastic Filebeat's own module test logs, parsed by us and compared field
//! by field with the documents Filebeat's ingest pipelines produced for them
//! (`shared/data/logs/beats/<module>/<fileset>/*.log` and `*-expected.json`).
//!
//! Documents are paired with events by `log.offset` = [`Provenance::byte_offset`]. For each
//! fileset only the fields we claim are compared; a field counts where the expected document
//! has it. A field we fill where Filebeat has nothing is counted as "extra" (not an error).
//! The test prints a table per fileset and field and fails below 99 % agreement.
//!
//! Documented normalisations of Filebeat's output: `-` (nginx/Apache user and referrer) and
//! PostgreSQL's `[unknown]` placeholder (which Filebeat turns into `unknown`) mean "no value";
//! auditd's raw `res=1`/`0` outcome means success/failure; `@timestamp` is compared at
//! Filebeat's millisecond precision; durations within 1 µs (Filebeat rounds through floats).
//! auditd records that we merge into the event of their first record (same serial) have no
//! event of their own; they are counted as "merged" and not compared.
//!
//! Known deviations, where we hold Filebeat's value to be wrong, are checked exactly and
//! listed in their own column (not counted as agreement or disagreement):
//! - PostgreSQL `EST` in July: Filebeat (Joda) reads `EST` as America/New_York and applies
//!   summer time (UTC−4); PostgreSQL writes `EST` only for a fixed UTC−5 zone (New York in
//!   summer is written `EDT`), so we read UTC−5. Checked: ours is exactly one hour later.
//! - A MySQL server banner written after a slow-log statement is part of Filebeat's query;
//!   it is not part of the statement. Checked: Filebeat's query is ours plus banner lines.
//!
//! The data directory is `$CORDON_SHARED_DIR`, else `../../../shared` from this crate (CI
//! clones the repository beside a copy of `shared/`). Missing data fails the test.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use cordon_timeline::{Event, Format, Outcome, ParseOptions, parse_all};
use serde_json::Value;

fn shared_dir() -> PathBuf {
    match std::env::var_os("CORDON_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

fn logs_dir() -> PathBuf {
    let d = shared_dir().join("data/logs");
    assert!(
        d.join("beats").is_dir(),
        "peer test data missing: {} (set CORDON_SHARED_DIR to the shared/ directory)",
        d.display()
    );
    d
}

struct Fileset {
    path: &'static str,
    format: Format,
    fields: &'static [&'static str],
}

const HTTP_FIELDS: &[&str] = &[
    "@timestamp",
    "source.ip",
    "user.name",
    "http.request.method",
    "url.original",
    "http.response.status_code",
    "http.response.body.bytes",
    "http.request.referrer",
];

const FILESETS: &[Fileset] = &[
    Fileset {
        path: "system/auth",
        format: Format::Syslog,
        fields: &[
            "@timestamp",
            "host.hostname",
            "process.name",
            "process.pid",
            "message",
            "user.name",
            "source.ip",
            "source.port",
            "event.outcome",
            "event.action",
            "system.auth.sudo.command",
            "system.auth.sudo.user",
            "system.auth.sudo.pwd",
            "system.auth.sudo.tty",
        ],
    },
    Fileset {
        path: "system/syslog",
        format: Format::Syslog,
        fields: &["@timestamp", "host.hostname", "process.name", "process.pid", "message"],
    },
    Fileset {
        path: "nginx/access",
        format: Format::AccessLog,
        fields: HTTP_FIELDS,
    },
    Fileset {
        path: "nginx/error",
        format: Format::NginxError,
        fields: &["@timestamp", "process.pid", "log.level", "message"],
    },
    Fileset {
        path: "apache/access",
        format: Format::AccessLog,
        fields: HTTP_FIELDS,
    },
    Fileset {
        path: "postgresql/log",
        format: Format::Postgres,
        fields: &[
            "@timestamp",
            "process.pid",
            "log.level",
            "user.name",
            "postgresql.log.database",
            "postgresql.log.query",
            "event.duration",
            "message",
        ],
    },
    Fileset {
        path: "auditd/log",
        format: Format::Auditd,
        fields: &[
            "@timestamp",
            "event.action",
            "event.outcome",
            "process.pid",
            "process.name",
            "process.executable",
            "user.name",
            "user.id",
            "source.ip",
        ],
    },
    Fileset {
        path: "mysql/slowlog",
        format: Format::MysqlSlow,
        fields: &[
            "@timestamp",
            "user.name",
            "source.ip",
            "mysql.slowlog.query",
            "mysql.slowlog.schema",
            "mysql.thread_id",
            "event.duration",
        ],
    },
];

/// A comparable value.
#[derive(Debug, PartialEq)]
enum V {
    Text(String),
    Num(i128),
    Ip(IpAddr),
}

fn ms(ts: jiff::Timestamp) -> i128 {
    ts.as_millisecond().into()
}

/// Our value for a field.
fn ours(ev: &Event, field: &str) -> Option<V> {
    let text = |s: Option<&str>| s.map(|s| V::Text(s.to_string()));
    let http = ev.http.as_deref();
    match field {
        "@timestamp" => Some(V::Num(ms(ev.timestamp))),
        "source.ip" => ev.src_ip.map(V::Ip),
        "source.port" => ev.src_port.map(|p| V::Num(p.into())),
        "user.name" => text(ev.user.as_deref()),
        "host.hostname" => text(ev.host.as_deref()),
        "process.name" => text(ev.process.as_deref()),
        "process.pid" => ev.pid.map(|p| V::Num(p.into())),
        "process.executable" => text(ev.attribute("exe")),
        "user.id" => text(ev.attribute("uid")),
        "message" => Some(V::Text(ev.message.clone())),
        "event.outcome" => match ev.outcome {
            Outcome::Unknown => None,
            o => text(Some(o.as_str())),
        },
        "event.action" => text(ev.action.as_deref()),
        "event.duration" => ev.duration_ns.map(|d| V::Num(d.into())),
        "system.auth.sudo.command" => text(ev.command_line.as_deref()),
        "system.auth.sudo.user" => text(ev.target_user.as_deref()),
        "system.auth.sudo.pwd" => text(ev.attribute("pwd")),
        "system.auth.sudo.tty" => text(ev.attribute("tty")),
        "http.request.method" => text(http.and_then(|h| h.method.as_deref())),
        "url.original" => text(http.and_then(|h| h.url.as_deref())),
        "http.response.status_code" => http.and_then(|h| h.status).map(|s| V::Num(s.into())),
        "http.response.body.bytes" => http.and_then(|h| h.bytes).map(|b| V::Num(b.into())),
        "http.request.referrer" => text(http.and_then(|h| h.referrer.as_deref())),
        "log.level" => text(ev.attribute("level")),
        "postgresql.log.database" | "mysql.slowlog.schema" => text(ev.database.as_deref()),
        "postgresql.log.query" | "mysql.slowlog.query" => text(ev.query.as_deref()),
        "mysql.thread_id" => text(ev.attribute("thread_id")),
        other => panic!("no extractor for {other}"),
    }
}

/// Filebeat's value for a field, normalised (see the module docs).
fn expected(doc: &Value, field: &str, fileset: &str) -> Option<V> {
    let v = doc.get(field)?;
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(match field {
        "@timestamp" => V::Num(ms(s.parse::<jiff::Timestamp>().expect("expected @timestamp parses"))),
        "source.ip" => V::Ip(s.parse().expect("expected source.ip parses")),
        "user.name" | "http.request.referrer" if s == "-" => return None,
        "user.name" | "postgresql.log.database" if fileset == "postgresql/log" && s == "unknown" => {
            return None;
        }
        "event.outcome" if s == "1" => V::Text("success".into()),
        "event.outcome" if s == "0" => V::Text("failure".into()),
        "source.port" | "process.pid" | "http.response.status_code" | "http.response.body.bytes" | "event.duration" => {
            V::Num(s.parse().expect("numeric field"))
        }
        // Multi-line and duration documents keep the raw event text as their message.
        "message"
            if fileset == "postgresql/log"
                && (doc.get("log.flags").is_some() || doc.get("event.duration").is_some()) =>
        {
            return None;
        }
        _ => V::Text(s),
    })
}

fn agrees(field: &str, want: &V, got: &V) -> bool {
    match (field, want, got) {
        // Filebeat converts seconds to nanoseconds through floats: allow 1 µs or 1e-7.
        ("event.duration", V::Num(x), V::Num(y)) => (x - y).abs() <= 1000.max(*x / 10_000_000),
        _ => want == got,
    }
}

/// A documented case where Filebeat's value is wrong (see the module docs), checked exactly.
fn known_deviation(fileset: &str, field: &str, doc: &Value, want: &V, got: Option<&V>) -> Option<&'static str> {
    match (fileset, field, want, got) {
        ("postgresql/log", "@timestamp", V::Num(w), Some(V::Num(g)))
            if doc["event.timezone"] == "EST" && *g - *w == 3_600_000 =>
        {
            Some("EST read as New York summer time by Filebeat")
        }
        ("mysql/slowlog", "mysql.slowlog.query", V::Text(w), Some(V::Text(g)))
            if w.strip_prefix(g.as_str())
                .is_some_and(|rest| rest.contains("started with:")) =>
        {
            Some("server banner appended to the query by Filebeat")
        }
        _ => None,
    }
}

#[derive(Default)]
struct Tally {
    compared: u64,
    agreed: u64,
    extra: u64,
    known: u64,
    examples: Vec<String>,
}

#[test]
fn beats_filesets_agree() {
    let beats = logs_dir().join("beats");
    let mut failures = Vec::new();
    let mut report = String::new();
    for fs in FILESETS {
        let dir = beats.join(fs.path);
        let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("peer test data missing: {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort();
        assert!(!logs.is_empty(), "no logs in {}", dir.display());
        let mut tallies: BTreeMap<&str, Tally> = fs.fields.iter().map(|f| (*f, Tally::default())).collect();
        let (mut docs_total, mut merged, mut unpaired) = (0, 0, 0);
        let mut known_reasons = std::collections::BTreeSet::new();
        for log in &logs {
            let name = log.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(log).unwrap();
            let expected_path = log.with_file_name(format!("{name}-expected.json"));
            let docs: Vec<Value> = serde_json::from_slice(&std::fs::read(&expected_path).unwrap()).unwrap();
            // Auto-detection, with a year for year-less syslog (Filebeat drops those timestamps).
            let out = parse_all(&bytes, &ParseOptions::new(name.clone()).year(2019));
            assert_eq!(out.format, Some(fs.format), "{}: detected format", log.display());
            let by_offset: BTreeMap<u64, &Event> = out.events.iter().map(|e| (e.provenance.byte_offset, e)).collect();
            for doc in &docs {
                docs_total += 1;
                let off = doc["log.offset"].as_u64().expect("log.offset");
                let ev = by_offset.get(&off).copied();
                if ev.is_none() {
                    let inside = out.events.iter().any(|e| {
                        e.provenance.byte_offset < off && off < e.provenance.byte_offset + e.provenance.byte_len
                    });
                    if inside && fs.format == Format::Auditd {
                        merged += 1;
                        continue;
                    }
                    unpaired += 1;
                }
                for field in fs.fields {
                    let want = expected(doc, field, fs.path);
                    let got = ev.and_then(|e| ours(e, field));
                    let t = tallies.get_mut(field).unwrap();
                    match (&want, &got) {
                        (None, Some(_)) => t.extra += 1,
                        (None, None) => {}
                        (Some(w), g) => {
                            if let Some(why) = known_deviation(fs.path, field, doc, w, g.as_ref()) {
                                t.known += 1;
                                known_reasons.insert(why);
                                continue;
                            }
                            t.compared += 1;
                            if g.as_ref().is_some_and(|g| agrees(field, w, g)) {
                                t.agreed += 1;
                            } else if t.examples.len() < 3 {
                                t.examples.push(format!("{name}@{off}: want {w:?}, got {g:?}"));
                            }
                        }
                    }
                }
            }
        }
        report.push_str(&format!(
            "\n{} ({} logs, {} documents, {} merged auditd records, {} without event)\n",
            fs.path,
            logs.len(),
            docs_total,
            merged,
            unpaired
        ));
        report.push_str(&format!(
            "  {:<28} {:>8} {:>8} {:>8} {:>7} {:>7}\n",
            "field", "compared", "agreed", "%", "extra", "known"
        ));
        for (field, t) in &tallies {
            let pct = if t.compared == 0 {
                100.0
            } else {
                100.0 * t.agreed as f64 / t.compared as f64
            };
            report.push_str(&format!(
                "  {:<28} {:>8} {:>8} {:>7.1}% {:>7} {:>7}\n",
                field, t.compared, t.agreed, pct, t.extra, t.known
            ));
            if pct < 99.0 {
                failures.push(format!("{} {field}: {pct:.1}% {:?}", fs.path, t.examples));
            }
        }
        for (field, t) in &tallies {
            for e in &t.examples {
                let e: String = e.chars().take(240).collect();
                report.push_str(&format!("  disagreement {field}: {e}\n"));
            }
        }
        for why in known_reasons {
            report.push_str(&format!("  known deviation: {why}\n"));
        }
    }
    println!("{report}");
    assert!(
        failures.is_empty(),
        "fields below 99 % agreement:\n{}",
        failures.join("\n")
    );
}

#[test]
fn elastic_examples_apache_access() {
    let path = logs_dir().join("elastic-examples/apache_access_3000.log");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("peer test data missing: {}: {e}", path.display()));
    let out = parse_all(&bytes, &ParseOptions::new("apache_access_3000.log"));
    assert_eq!(out.format, Some(Format::AccessLog));
    assert_eq!(
        (out.lines, out.events.len(), out.skipped),
        (3000, 3000, 0),
        "{:?}",
        out.diagnostics
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let first = &out.events[0];
    let last = &out.events[2999];
    assert_eq!(first.timestamp.to_string(), "2015-05-17T10:05:03Z");
    assert_eq!(first.src_ip.unwrap().to_string(), "83.149.9.216");
    assert_eq!(last.timestamp.to_string(), "2015-05-18T11:05:45Z");
    assert_eq!(last.provenance.line, 3000);
    let min = out.events.iter().map(|e| e.timestamp).min().unwrap();
    let max = out.events.iter().map(|e| e.timestamp).max().unwrap();
    assert_eq!(min.to_string(), "2015-05-17T10:05:00Z");
    assert!(max.to_string().starts_with("2015-05-18T11:05"), "{max}");
    // Provenance points at the exact bytes of each line.
    for e in out.events.iter().step_by(97) {
        let p = e.provenance;
        let raw = &bytes[p.byte_offset as usize..(p.byte_offset + p.byte_len) as usize];
        assert_eq!(std::str::from_utf8(raw).unwrap(), e.message);
    }
}

/// Feeding every peer log in small chunks gives exactly the events of one whole feed.
#[test]
fn chunked_feeding_matches_whole_input() {
    let beats = logs_dir().join("beats");
    for fs in FILESETS {
        let dir = beats.join(fs.path);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "log") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let opts = ParseOptions::new("x").year(2019);
            let whole = parse_all(&bytes, &opts);
            for chunk in [1, 7, 4096] {
                let mut p = cordon_timeline::Parser::new(opts.clone());
                let mut out = Vec::new();
                for c in bytes.chunks(chunk) {
                    p.feed(c, &mut out);
                }
                let s = p.finish(&mut out);
                assert_eq!(out, whole.events, "{} in chunks of {chunk}", path.display());
                assert_eq!((s.lines, s.skipped), (whole.lines, whole.skipped), "{}", path.display());
            }
        }
    }
}
