//! One small intrusion told across formats, checked the way the timeline will be queried:
//! `ip=` must find every event naming the attacker's address (and no other), `user=` every
//! sudo command and database query of the compromised account, and the attacker's statement
//! must be in a searchable text field. Formats are auto-detected.

use std::net::IpAddr;

use cordon_timeline::{Event, EventKind, Format, Outcome, ParseOptions, parse_all};

const ATTACKER: &str = "203.0.113.66";

fn parse(name: &str, text: &str) -> Vec<Event> {
    let now: jiff::Timestamp = "2024-06-30T00:00:00Z".parse().unwrap();
    let out = parse_all(
        text.as_bytes(),
        &ParseOptions::new(name).host("db1").year(2024).now(now),
    );
    assert_eq!(out.skipped, 0, "{name}: {:?}", out.diagnostics);
    assert!(out.diagnostics.is_empty(), "{name}: {:?}", out.diagnostics);
    out.events
}

fn by_ip<'a>(events: &'a [Event], ip: &str) -> Vec<&'a Event> {
    let ip: IpAddr = ip.parse().unwrap();
    events.iter().filter(|e| e.ips().contains(&ip)).collect()
}

fn by_user<'a>(events: &'a [Event], user: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.users().contains(&user)).collect()
}

#[test]
fn attacker_and_account_are_found_in_every_format() {
    let auth = parse(
        "auth.log",
        "Jun 12 03:14:01 web1 sshd[901]: Failed password for invalid user admin from 203.0.113.66 port 40022 ssh2\n\
         Jun 12 03:14:05 web1 sshd[901]: Failed password for deploy from 203.0.113.66 port 40022 ssh2\n\
         Jun 12 03:14:09 web1 sshd[905]: Accepted password for deploy from 203.0.113.66 port 40030 ssh2\n\
         Jun 12 03:14:09 web1 sshd[905]: pam_unix(sshd:session): session opened for user deploy by (uid=0)\n\
         Jun 12 03:15:00 web1 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/pg_dump shop\n\
         Jun 12 03:16:00 web1 sshd[907]: Accepted publickey for alice from 198.51.100.7 port 50000 ssh2\n",
    );
    let access = parse(
        "access.log",
        "198.51.100.7 - - [12/Jun/2024:03:10:00 +0000] \"GET / HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n\
         203.0.113.66 - - [12/Jun/2024:03:12:00 +0000] \"GET /admin/../../etc/passwd HTTP/1.1\" 404 0 \"-\" \"sqlmap/1.7\"\n",
    );
    let pg = parse(
        "postgresql.log",
        "2024-06-12 03:17:00.000 UTC [4242] LOG:  connection received: host=203.0.113.66 port=51515\n\
         2024-06-12 03:17:00.010 UTC [4242] LOG:  connection authorized: user=deploy database=shop\n\
         2024-06-12 03:17:05.000 UTC [4242] LOG:  statement: COPY customers TO '/tmp/c.csv'\n\
         2024-06-12 03:17:06.000 UTC [4300] LOG:  statement: SELECT 1\n",
    );
    let mysql = parse(
        "mysql.log",
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n\
         Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n\
         Time                 Id Command    Argument\n\
         2024-06-12T03:18:00.000000Z\t   31 Connect\tdeploy@203.0.113.66 on shop using TCP/IP\n\
         2024-06-12T03:18:01.000000Z\t   31 Query\tSELECT card_number FROM payments\n\
         2024-06-12T03:18:02.000000Z\t   31 Quit\t\n",
    );
    for (name, events, format) in [
        ("auth", &auth, Format::Syslog),
        ("access", &access, Format::AccessLog),
        ("pg", &pg, Format::Postgres),
        ("mysql", &mysql, Format::MysqlGeneral),
    ] {
        assert!(events.iter().all(|e| e.format == format), "{name}");
    }

    // ip=: exactly the lines that name the attacker.
    assert_eq!(by_ip(&auth, ATTACKER).len(), 3);
    assert_eq!(by_ip(&access, ATTACKER).len(), 1);
    assert_eq!(by_ip(&pg, ATTACKER).len(), 1);
    assert_eq!(by_ip(&mysql, ATTACKER).len(), 1);

    // user=: the compromised account's logons, sudo commands and queries.
    let sudo: Vec<_> = by_user(&auth, "deploy")
        .into_iter()
        .filter(|e| e.action.as_deref() == Some("sudo"))
        .collect();
    assert_eq!(sudo.len(), 1);
    assert_eq!((sudo[0].kind, sudo[0].outcome), (EventKind::Process, Outcome::Success));
    assert_eq!(sudo[0].command_line.as_deref(), Some("/usr/bin/pg_dump shop"));
    assert_eq!(by_user(&auth, "deploy").len(), 4);
    let pg_queries: Vec<_> = by_user(&pg, "deploy")
        .into_iter()
        .filter(|e| e.query.is_some())
        .collect();
    assert_eq!(pg_queries.len(), 1);
    assert_eq!(pg_queries[0].query.as_deref(), Some("COPY customers TO '/tmp/c.csv'"));
    assert_eq!(pg_queries[0].host.as_deref(), Some("db1"));
    let my_queries: Vec<_> = by_user(&mysql, "deploy")
        .into_iter()
        .filter(|e| e.query.is_some())
        .collect();
    assert_eq!(my_queries.len(), 1);

    // q=: the statement is in a text field.
    assert!(pg.iter().any(|e| e.text_fields().any(|t| t.contains("COPY customers"))));

    // Year-less syslog took its year from `now`.
    assert_eq!(auth[0].timestamp.to_string(), "2024-06-12T03:14:01Z");
    assert_eq!(auth[0].time_original, "Jun 12 03:14:01");
}
