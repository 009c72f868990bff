//! Apache httpd error logs, real and both forms: a Loghub excerpt of a 2.0 error log
//! (`tests/data/loghub-apache-error.log`, see `tests/data/README.md`) is detected, every line
//! becomes an event with Loghub's time, level and content, and the client address is the
//! event's source address; the 2.4 form (module, pid and tid, client with port, `AH` code)
//! is read alike.

use cordon_timeline::{EventKind, Format, ParseOptions, parse_all};

#[test]
fn a_real_apache_2_0_error_log_is_detected_and_read_whole() {
    let bytes = include_bytes!("data/loghub-apache-error.log");
    let out = parse_all(bytes, &ParseOptions::new("error_log"));
    assert_eq!(out.format, Some(Format::ApacheError));
    assert_eq!(
        (out.lines, out.events.len() as u64, out.skipped),
        (24, 24, 0),
        "{:?}",
        out.diagnostics
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);

    // Loghub's structured answer for the first two lines: time, level, content.
    let first = &out.events[0];
    assert_eq!(first.timestamp.to_string(), "2005-12-04T04:47:44Z");
    assert_eq!(first.attribute("level"), Some("notice"));
    assert_eq!(first.message, "workerEnv.init() ok /etc/httpd/conf/workers2.properties");
    let second = &out.events[1];
    assert_eq!(second.attribute("level"), Some("error"));
    assert_eq!(second.attribute("severity"), Some("error"));
    assert_eq!(second.message, "mod_jk child workerEnv in error state 6");
    assert_eq!(second.kind, EventKind::Other);

    let levels = |l: &str| out.events.iter().filter(|e| e.attribute("level") == Some(l)).count();
    assert_eq!((levels("notice"), levels("error")), (17, 7));

    // The one line with a client: its address is the event's source, so ip= finds it.
    let with_client: Vec<_> = out.events.iter().filter(|e| e.src_ip.is_some()).collect();
    assert_eq!(with_client.len(), 1);
    let c = with_client[0];
    assert_eq!(c.src_ip.unwrap().to_string(), "222.166.160.184");
    assert_eq!(c.kind, EventKind::Http);
    assert_eq!(c.timestamp.to_string(), "2005-12-04T05:15:09Z");
    assert_eq!(c.message, "Directory index forbidden by rule: /var/www/html/");
    assert_eq!(c.provenance.line, 22);
}

#[test]
fn the_2_4_form_is_detected_among_its_variants() {
    let log = "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:50322] AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1\n\
               [Wed Oct 11 14:32:53.000100 2000] [mpm_event:notice] [pid 1:tid 140] AH00489: Apache/2.4.57 (Unix) configured -- resuming normal operations\n\
               [Wed Oct 11 14:32:54.5 2000] [proxy:error] [pid 7] [client 10.1.2.3:4000] [remote 192.0.2.10:8080] AH00957: connect to backend failed, referer: https://shop.example/cart\n";
    let out = parse_all(
        log.as_bytes(),
        &ParseOptions::new("error.log").tz_name("+02:00").unwrap(),
    );
    assert_eq!(out.format, Some(Format::ApacheError));
    assert_eq!(out.events.len(), 3, "{:?}", out.diagnostics);
    let e = &out.events[0];
    assert_eq!(
        e.timestamp.to_string(),
        "2000-10-11T12:32:52.123456Z",
        "the zone hint applies"
    );
    assert_eq!((e.pid, e.src_port), (Some(35708), Some(50322)));
    assert_eq!(e.attribute("error_code"), Some("AH00126"));
    assert_eq!(out.events[1].src_ip, None);
    assert_eq!(out.events[1].attribute("module"), Some("mpm_event"));
    let proxied = &out.events[2];
    assert_eq!(proxied.src_ip.unwrap().to_string(), "10.1.2.3");
    assert_eq!(proxied.attribute("remote"), Some("192.0.2.10:8080"));
    assert_eq!(
        proxied.message,
        "connect to backend failed, referer: https://shop.example/cart"
    );
}
