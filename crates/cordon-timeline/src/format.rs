//! The formats the crate reads, their stable names (for the explicit `format=` override) and
//! automatic detection from the first lines of a file.

use serde::{Deserialize, Serialize};

use crate::time;

/// A log format. Several on-disk variants share one parser (see each variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// Syslog in any of its header forms: RFC 3164 (`Feb  9 21:19:40 host prog[pid]: msg`, no
    /// year), RFC 5424 (`<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] msg`) and
    /// RFC 3339-timestamped rsyslog (Debian's default). Auth semantics (sshd, sudo, su,
    /// useradd, PAM) are extracted from the messages.
    #[serde(rename = "syslog")]
    Syslog,
    /// Linux audit log (`type=… msg=audit(ts:id): …`), records merged by event id.
    #[serde(rename = "auditd")]
    Auditd,
    /// nginx/Apache access logs: combined, common, with `X-Forwarded-For` client lists, and
    /// mod_ssl's request log.
    #[serde(rename = "access")]
    AccessLog,
    /// nginx error log.
    #[serde(rename = "nginx-error")]
    NginxError,
    /// Apache httpd error log, 2.0/2.2 (`[ctime] [level] [client ip] …`) and 2.4
    /// (`[ctime.µs] [module:level] [pid n:tid m] [client ip:port] AHnnnnn: …`).
    #[serde(rename = "apache-error")]
    ApacheError,
    /// PostgreSQL stderr log with the common `log_line_prefix` forms.
    #[serde(rename = "postgresql")]
    Postgres,
    /// MySQL/MariaDB general query log.
    #[serde(rename = "mysql-general")]
    MysqlGeneral,
    /// MySQL/MariaDB/Percona slow query log.
    #[serde(rename = "mysql-slow")]
    MysqlSlow,
    /// `journalctl -o json` export (one JSON object per line).
    #[serde(rename = "journald")]
    Journald,
    /// AWS CloudTrail: a `{"Records":[…]}` file or one record per line.
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    /// Generic JSON: one object per line, concatenated objects or an array of objects.
    #[serde(rename = "jsonl")]
    JsonLines,
    /// Timesketch-style CSV with `message`, `datetime` and `timestamp_desc` columns.
    #[serde(rename = "timesketch-csv")]
    TimesketchCsv,
    /// Fallback for unknown formats: lines that start with a recognisable timestamp.
    #[serde(rename = "text")]
    Text,
}

impl Format {
    /// Every format. The position is the format's code in stored event records
    /// (`index/record.rs`): a new format goes at the end.
    pub const ALL: [Format; 13] = [
        Format::Syslog,
        Format::Auditd,
        Format::AccessLog,
        Format::NginxError,
        Format::Postgres,
        Format::MysqlGeneral,
        Format::MysqlSlow,
        Format::Journald,
        Format::CloudTrail,
        Format::JsonLines,
        Format::TimesketchCsv,
        Format::Text,
        Format::ApacheError,
    ];

    /// The stable name, as accepted by [`Format::from_name`].
    pub fn name(self) -> &'static str {
        match self {
            Format::Syslog => "syslog",
            Format::Auditd => "auditd",
            Format::AccessLog => "access",
            Format::NginxError => "nginx-error",
            Format::ApacheError => "apache-error",
            Format::Postgres => "postgresql",
            Format::MysqlGeneral => "mysql-general",
            Format::MysqlSlow => "mysql-slow",
            Format::Journald => "journald",
            Format::CloudTrail => "cloudtrail",
            Format::JsonLines => "jsonl",
            Format::TimesketchCsv => "timesketch-csv",
            Format::Text => "text",
        }
    }

    /// The format with this name or alias (case-insensitive). Aliases: `rfc3164`, `rfc5424`,
    /// `rsyslog`, `auth` → syslog; `audit` → auditd; `nginx`, `apache`, `combined`, `common`,
    /// `nginx-access`, `apache-access` → access; `httpd-error`, `apache-error-log`,
    /// `error_log` → apache-error; `postgres`, `pg` → postgresql;
    /// `mysql`, `mysql-query` → mysql-general; `mysql-slowlog` → mysql-slow; `journalctl` →
    /// journald; `json`, `ndjson` → jsonl; `csv`, `timesketch` → timesketch-csv.
    pub fn from_name(name: &str) -> Option<Format> {
        // `_` reads as `-` (`nginx_error`), as everywhere in Cordon (`cordon_core::names`).
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        if let Some(f) = Format::ALL.into_iter().find(|f| f.name() == n) {
            return Some(f);
        }
        Some(match n.as_str() {
            "rfc3164" | "rfc5424" | "rsyslog" | "auth" | "authlog" | "auth.log" | "secure" => Format::Syslog,
            "audit" | "audit.log" => Format::Auditd,
            "nginx" | "apache" | "combined" | "common" | "nginx-access" | "apache-access" | "httpd" => {
                Format::AccessLog
            }
            "httpd-error" | "apache-error-log" | "apache_error" | "error_log" => Format::ApacheError,
            "postgres" | "pg" | "postgresql-log" => Format::Postgres,
            "mysql" | "mysql-query" | "mysql-general-log" => Format::MysqlGeneral,
            "mysql-slowlog" | "mysql-slow-log" | "slowlog" => Format::MysqlSlow,
            "journalctl" | "journal" => Format::Journald,
            "aws-cloudtrail" => Format::CloudTrail,
            "json" | "ndjson" | "json-lines" => Format::JsonLines,
            "csv" | "timesketch" => Format::TimesketchCsv,
            "plain" | "generic" => Format::Text,
            _ => return None,
        })
    }

    /// Whether the format is JSON (parsed as a stream of JSON objects, not as lines).
    pub fn is_json(self) -> bool {
        matches!(self, Format::Journald | Format::CloudTrail | Format::JsonLines)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Format, crate::Error> {
        Format::from_name(s).ok_or_else(|| crate::Error::UnknownFormat(s.to_string()))
    }
}

/// Guesses the line format of `lines` (the first non-empty lines of a file): each format's
/// probe is run on each line and the format matching most lines wins. `None` when no line
/// matches any format. JSON input is recognised earlier, from its first byte.
pub fn detect_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Format> {
    // Order = priority on ties.
    const CANDIDATES: [Format; 9] = [
        Format::Auditd,
        Format::AccessLog,
        Format::NginxError,
        Format::ApacheError,
        Format::Postgres,
        Format::MysqlSlow,
        Format::MysqlGeneral,
        Format::TimesketchCsv,
        Format::Syslog,
    ];
    let mut scores = [0usize; CANDIDATES.len()];
    for (n, line) in lines.into_iter().enumerate() {
        for (i, f) in CANDIDATES.iter().enumerate() {
            if probe(*f, line, n == 0) {
                scores[i] += 1;
            }
        }
    }
    let (best, score) = scores.iter().enumerate().max_by_key(|(i, s)| (**s, usize::MAX - *i))?;
    (*score > 0).then_some(CANDIDATES[best])
}

/// Whether `line` looks like a line of `format`. `first` marks the first line of the file.
fn probe(format: Format, line: &str, first: bool) -> bool {
    let b = line.as_bytes();
    match format {
        Format::Auditd => {
            (line.starts_with("type=") || line.starts_with("node=")) && crate::scan::find(line, "msg=audit(").is_some()
        }
        Format::AccessLog => crate::formats::access::looks_like(line),
        Format::NginxError => {
            b.len() > 21
                && b[4] == b'/'
                && b[7] == b'/'
                && b[10] == b' '
                && time::hms(b, 11).is_some()
                && b[19] == b' '
                && b[20] == b'['
        }
        Format::ApacheError => crate::formats::apache_error::looks_like(line),
        Format::Postgres => crate::formats::postgres::looks_like(line),
        Format::MysqlSlow => {
            line.starts_with("# Time: ") || line.starts_with("# User@Host: ") || line.starts_with("# Query_time: ")
        }
        Format::MysqlGeneral => crate::formats::mysql_general::looks_like(line),
        Format::TimesketchCsv => first && crate::formats::csv::looks_like_header(line),
        Format::Syslog => crate::formats::syslog::looks_like(line),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!(Format::from_name("Apache"), Some(Format::AccessLog));
        assert!(Format::from_name("evtx").is_none());
    }

    #[test]
    fn detects_each_line_format() {
        let cases: &[(&str, Format)] = &[
            (
                "Feb  9 21:19:40 precise32 sshd[8317]: subsystem request for sftp by user vagrant",
                Format::Syslog,
            ),
            (
                "2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: Stopped target Paths.",
                Format::Syslog,
            ),
            (
                "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - 'su root' failed",
                Format::Syslog,
            ),
            (
                "type=USER_END msg=audit(1489519230.178:19600327): user pid=4121 uid=0",
                Format::Auditd,
            ),
            (
                r#"::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209"#,
                Format::AccessLog,
            ),
            (
                "2016/10/25 14:49:34 [error] 54053#0: *1 open() failed",
                Format::NginxError,
            ),
            (
                "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties",
                Format::ApacheError,
            ),
            (
                "[Sun Dec 04 04:47:44.123456 2005] [core:error] [pid 123:tid 456] [client 1.2.3.4:5678] AH00126: Invalid URI",
                Format::ApacheError,
            ),
            (
                "2019-07-23 12:06:24.406 UTC [25] LOG:  00000: database system was interrupted",
                Format::Postgres,
            ),
            (
                "2017-07-31 13:36:43 EST [835-1] LOG:  autovacuum launcher started",
                Format::Postgres,
            ),
            ("# User@Host: root[root] @ localhost []", Format::MysqlSlow),
            (
                "2019-03-24T16:22:43.836524Z\t    8 Query\tSELECT 1",
                Format::MysqlGeneral,
            ),
            ("message,datetime,timestamp_desc", Format::TimesketchCsv),
        ];
        for (line, want) in cases {
            assert_eq!(detect_lines([*line]), Some(*want), "{line}");
        }
        assert_eq!(detect_lines(["hello world"]), None);
    }
}
