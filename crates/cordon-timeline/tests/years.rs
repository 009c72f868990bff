//! Year-less syslog times, as syslog readers date them: a guessed year is said (a
//! `year_guessed` diagnostic naming the year and how to give it) and never lands in the
//! future of the ingest time; a year hint is taken as given.

use cordon_timeline::{DiagnosticCode, ParseOptions, parse_all};

const SSHD: &str = "Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!\n\
                    Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2\n";

#[test]
fn a_december_log_ingested_early_in_december_is_last_years() {
    let now: jiff::Timestamp = "2026-12-05T09:00:00Z".parse().unwrap();
    let out = parse_all(SSHD.as_bytes(), &ParseOptions::new("auth.log").now(now));
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].timestamp.to_string(), "2025-12-10T06:55:46Z");
    assert!(out.events.iter().all(|e| e.timestamp <= now));
    let guessed: Vec<_> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::YearGuessed)
        .collect();
    assert_eq!(guessed.len(), 1, "said once: {:?}", out.diagnostics);
    assert_eq!(guessed[0].line, 1);
    assert!(
        guessed[0].message.contains("2025") && guessed[0].message.contains("--year"),
        "{}",
        guessed[0].message
    );
    assert_eq!(out.skipped, 0, "a note, not a skipped line");
}

#[test]
fn a_log_running_past_the_ingest_time_is_pulled_back_and_says_so() {
    let now: jiff::Timestamp = "2026-03-10T00:00:00Z".parse().unwrap();
    let log = "Mar  1 10:00:00 web1 sshd[1]: Accepted password for deploy from 198.51.100.4 port 1 ssh2\n\
               Mar 20 10:00:00 web1 sshd[1]: Accepted password for deploy from 198.51.100.4 port 1 ssh2\n";
    let out = parse_all(log.as_bytes(), &ParseOptions::new("auth.log").now(now));
    let stamps: Vec<String> = out.events.iter().map(|e| e.timestamp.to_string()).collect();
    assert_eq!(stamps, ["2026-03-01T10:00:00Z", "2025-03-20T10:00:00Z"]);
    let lines: Vec<u64> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::YearGuessed)
        .map(|d| d.line)
        .collect();
    assert_eq!(lines, [1, 2], "{:?}", out.diagnostics);
}

#[test]
fn a_year_hint_is_the_users_word() {
    let now: jiff::Timestamp = "2026-12-05T09:00:00Z".parse().unwrap();
    let out = parse_all(SSHD.as_bytes(), &ParseOptions::new("auth.log").year(2026).now(now));
    assert_eq!(out.events[0].timestamp.to_string(), "2026-12-10T06:55:46Z");
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}
