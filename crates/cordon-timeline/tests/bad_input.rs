//! Bad input never fails a parse wholesale and never panics: binary garbage, truncated lines,
//! unknown formats, impossible dates, invalid UTF-8, huge lines and corrupt gzip each become
//! diagnostics with line numbers while the rest of the input is kept. Ends with a seeded
//! random-input loop (random bytes and mutated real log lines, in random chunks, for every
//! format) that asserts no panic and the provenance and counting invariants.

use std::io::Write;

use cordon_timeline::{DiagnosticCode, Event, Format, ParseOptions, ParseOutput, Parser, parse_all};

fn opts() -> ParseOptions {
    ParseOptions::new("t").year(2024)
}

fn codes(out: &ParseOutput) -> Vec<DiagnosticCode> {
    out.diagnostics.iter().map(|d| d.code).collect()
}

const AUTH: &str = "Mar  1 10:00:00 web1 sshd[7]: Failed password for root from 203.0.113.9 port 42 ssh2\n";

#[test]
fn binary_garbage_between_lines_is_skipped() {
    let mut input = AUTH.as_bytes().to_vec();
    input.extend_from_slice(b"\x00\x01\x02\xff\xfe garbage \x00\n");
    input.extend_from_slice(&[0x89, 0x50, 0x4e, 0x47, 0xde, 0xad, 0xbe, 0xef, 0xff, 0xfe, b'\n']);
    input.extend_from_slice(AUTH.as_bytes());
    let out = parse_all(&input, &opts());
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.skipped, 2);
    assert_eq!(
        codes(&out),
        vec![DiagnosticCode::BinaryData, DiagnosticCode::BinaryData]
    );
    assert_eq!((out.diagnostics[0].line, out.diagnostics[1].line), (2, 3));
    assert_eq!(out.events[1].provenance.line, 4);
}

#[test]
fn invalid_utf8_is_replaced_and_kept() {
    let input = b"Mar  1 10:00:00 web1 app[1]: caf\xe9 ol\xe9\n";
    let out = parse_all(input, &opts());
    assert_eq!((out.events.len(), out.skipped), (1, 0));
    assert_eq!(codes(&out), vec![DiagnosticCode::InvalidUtf8]);
    assert_eq!(out.events[0].message, "caf\u{fffd} ol\u{fffd}");
}

#[test]
fn impossible_dates_are_diagnostics() {
    let input = "Feb 30 10:00:00 h app: x\n\
                 2024-02-30T10:00:00Z h app: y\n\
                 1.2.3.4 - - [31/Apr/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
    let out = parse_all(input.as_bytes(), &opts().format(Format::Syslog));
    assert_eq!(out.events.len(), 0);
    assert_eq!(
        &codes(&out)[..2],
        &[DiagnosticCode::InvalidTimestamp, DiagnosticCode::InvalidTimestamp]
    );
    let out = parse_all(input.as_bytes(), &opts().format(Format::AccessLog));
    assert_eq!(out.diagnostics.last().unwrap().code, DiagnosticCode::InvalidTimestamp);
    assert_eq!(out.diagnostics.last().unwrap().line, 3);
}

#[test]
fn huge_lines_are_cut_and_memory_stays_bounded() {
    let mut input = AUTH.as_bytes().to_vec();
    input.extend_from_slice(b"Mar  1 10:00:01 web1 app[1]: ");
    input.extend(std::iter::repeat_n(b'A', 3 << 20));
    input.push(b'\n');
    input.extend_from_slice(AUTH.as_bytes());
    let mut p = Parser::new(opts());
    let mut out = Vec::new();
    for c in input.chunks(64 * 1024) {
        p.feed(c, &mut out);
    }
    let s = p.finish(&mut out);
    assert_eq!((out.len(), s.skipped), (3, 0));
    assert!(
        s.diagnostics
            .iter()
            .any(|d| d.code == DiagnosticCode::LineTooLong && d.line == 2)
    );
    assert!(out[1].message.len() < 1 << 20);
    assert_eq!(out[1].provenance.byte_len, 29 + (3 << 20));
    assert_eq!(out[2].provenance.line, 3);
    // A huge line without any newline at all.
    let out = parse_all(&vec![b'x'; 5 << 20], &opts());
    assert_eq!(out.events.len(), 0);
    assert!(codes(&out).contains(&DiagnosticCode::LineTooLong));
}

#[test]
fn unknown_format_keeps_timestamped_lines() {
    let input =
        "[2024-03-01 10:00:00] worker started\n  detail line\nno time here\n2024-03-01 10:00:05+01:00 job done\n";
    let out = parse_all(input.as_bytes(), &opts());
    assert_eq!(out.format, Some(Format::Text));
    assert_eq!(codes(&out), vec![DiagnosticCode::UnknownFormat]);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.events[0].message, "worker started\n  detail line\nno time here");
    assert_eq!(out.events[1].timestamp.to_string(), "2024-03-01T09:00:05Z");
    let out = parse_all(b"hello\nworld\n", &opts());
    assert_eq!((out.events.len(), out.skipped), (0, 2));
}

#[test]
fn truncated_last_line_and_corrupt_gzip() {
    let out = parse_all(&AUTH.as_bytes()[..AUTH.len() - 1], &opts());
    assert_eq!(out.events.len(), 1);
    let out = parse_all(&AUTH.as_bytes()[..10], &opts());
    assert_eq!((out.events.len(), out.skipped), (0, 1));

    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(AUTH.repeat(100).as_bytes()).unwrap();
    let mut gz = enc.finish().unwrap();
    let mid = gz.len() / 2;
    gz[mid] ^= 0xff;
    gz[mid + 1] ^= 0x55;
    let out = parse_all(&gz, &opts());
    assert!(
        codes(&out).contains(&DiagnosticCode::CorruptGzip),
        "{:?}",
        out.diagnostics
    );
}

#[test]
fn oversized_json_records_and_bounded_diagnostics() {
    let mut input = format!(
        "{{\"time\":\"2024-03-01T10:00:00Z\",\"message\":\"{}\"}}\n",
        "x".repeat(2 << 20)
    );
    input.push_str("{\"time\":\"2024-03-01T10:00:01Z\",\"message\":\"ok\"}\n");
    let out = parse_all(input.as_bytes(), &opts());
    assert_eq!(out.events.len(), 1);
    assert_eq!(codes(&out), vec![DiagnosticCode::RecordTooLarge]);

    let garbage = "garbage line\n".repeat(50_000);
    let out = parse_all(garbage.as_bytes(), &opts().format(Format::Syslog));
    assert_eq!(out.skipped, 50_000);
    assert_eq!(out.diagnostics.len(), cordon_timeline::DEFAULT_MAX_DIAGNOSTICS);
    assert_eq!(out.diagnostics_total, 50_000);
}

#[test]
fn multi_line_events_are_bounded() {
    let mut input = String::from("2024-03-01 10:00:00.000 UTC [1] LOG:  statement: SELECT 1\n");
    for _ in 0..40_000 {
        input.push_str("\tUNION SELECT 1 -- padding padding padding\n");
    }
    let out = parse_all(input.as_bytes(), &opts());
    assert_eq!(out.events.len(), 1);
    assert!(out.events[0].query.as_ref().unwrap().len() <= 1 << 20);
    assert!(codes(&out).contains(&DiagnosticCode::EventTooLarge));
    assert_eq!(out.events[0].provenance.byte_len as usize, input.len() - 1);
}

/// xorshift64*: a small seeded generator so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SAMPLES: &[&str] = &[
    AUTH,
    "Feb  9 21:19:40 precise32 sudo:  vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls\n",
    "<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 [a b=\"]\"] 'su root' failed\n",
    "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=59 success=yes pid=3538 comm=\"wget\" exe=2F62696E\ntype=EOE msg=audit(1364481363.243:24287): \n",
    "\"10.0.0.2, 8.8.8.8\" 1.2.3.4 - bob [25/Oct/2016:14:49:34 +0200] \"GET /x?\\\"y HTTP/1.1\" 404 571 \"-\" \"UA\" \"1.1.1.1\"\n",
    "2016/10/25 14:49:34 [error] 54053#0: *1 open() failed, client: 127.0.0.1, request: \"GET / HTTP/1.1\"\n",
    "2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 37.118 ms  statement: SELECT 1,\n\t2;\n",
    "# Time: 190117 16:04:18\n# User@Host: root[root] @  [192.168.0.10]\n# Query_time: 1.5  Lock_time: 0\nSET timestamp=1547741058;\ncall x();\n",
    "2019-03-24T16:22:43.836524Z\t    8 Connect\tapp@1.2.3.4 on shop using TCP/IP\n\t\t    8 Query\tSELECT 1\n",
    "{\"__REALTIME_TIMESTAMP\":\"1709287200123456\",\"MESSAGE\":\"hi\",\"SYSLOG_IDENTIFIER\":\"sshd\"}\n",
    "{\"Records\":[{\"eventTime\":\"2024-03-01T10:00:00Z\",\"eventName\":\"X\",\"eventSource\":\"s\"}]}",
    "message,datetime,timestamp_desc\n\"a\"\"b\",2024-03-01T10:00:00Z,x\n",
];

fn check(input: &[u8], decoded_len: Option<usize>, out: &[Event], lines: u64, skipped: u64) {
    assert!(skipped <= lines, "skipped {skipped} > lines {lines}");
    if let Some(len) = decoded_len {
        for e in out {
            let p = e.provenance;
            assert!(
                p.byte_offset + p.byte_len <= len as u64,
                "provenance {p:?} beyond input of {len}"
            );
            assert!(p.line >= 1);
        }
    }
    // The derived views never panic either.
    for e in out {
        let _ = (e.ips(), e.users(), e.indicators());
    }
    let _ = input;
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut formats: Vec<Option<Format>> = vec![None];
    formats.extend(Format::ALL.iter().copied().map(Some));
    for round in 0..3000 {
        let mut input: Vec<u8> = Vec::new();
        match round % 3 {
            0 => {
                let n = rng.below(600);
                input.extend((0..n).map(|_| rng.next() as u8));
            }
            _ => {
                for _ in 0..1 + rng.below(6) {
                    input.extend_from_slice(SAMPLES[rng.below(SAMPLES.len())].as_bytes());
                }
                for _ in 0..rng.below(8) {
                    if input.is_empty() {
                        break;
                    }
                    let at = rng.below(input.len());
                    match rng.below(5) {
                        0 => input[at] = rng.next() as u8,
                        1 => input.truncate(at),
                        2 => input.insert(at, b'\n'),
                        3 => input.insert(at, [b'"', b'{', b'}', b'[', b']', b'\\', b':'][rng.below(7)]),
                        _ => {
                            input.remove(at);
                        }
                    }
                }
            }
        }
        let format = formats[rng.below(formats.len())];
        let mut o = opts();
        o.format = format;
        o.max_line_bytes = 64 + rng.below(4096);
        let mut p = Parser::new(o);
        let mut out = Vec::new();
        let mut rest = &input[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(97));
            p.feed(&rest[..n], &mut out);
            rest = &rest[n..];
        }
        let s = p.finish(&mut out);
        check(&input, Some(input.len()), &out, s.lines, s.skipped);
        assert_eq!(s.events as usize, out.len());
    }
}

#[test]
fn random_gzip_inputs_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..300 {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for _ in 0..1 + rng.below(20) {
            enc.write_all(SAMPLES[rng.below(SAMPLES.len())].as_bytes()).unwrap();
        }
        let mut gz = enc.finish().unwrap();
        for _ in 0..rng.below(4) {
            let at = rng.below(gz.len());
            gz[at] = rng.next() as u8;
        }
        if rng.below(3) == 0 {
            let cut = rng.below(gz.len());
            gz.truncate(cut);
        }
        let out = parse_all(&gz, &opts());
        check(&gz, None, &out.events, out.lines, out.skipped);
    }
}
