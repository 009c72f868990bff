//! Parse-speed benchmark program (not a test): generates ~1 M mixed log lines — sshd/sudo/cron
//! auth log, nginx combined access log, PostgreSQL `%m [%p] %q%u@%d ` log — and prints lines/s
//! per format on one core, next to the newline-counting speed of the same bytes (a `wc -l`
//! floor) and the 250 k events/s end-to-end target. Input is fed in 64 KiB chunks, as an HTTP
//! body arrives. Also times `Event::ips()` + `Event::indicators()`, which indexing will call.
//!
//! Times are this thread's CPU time (Linux `/proc/thread-self/schedstat`) so that other
//! processes on a busy machine do not distort them; wall-clock time elsewhere.
//!
//! Run: `cargo run --release -p cordon-timeline --example parse_speed [lines]`

/// A stopwatch on this thread's CPU time, falling back to wall-clock time.
struct Instant(Option<u64>, std::time::Instant);

impl Instant {
    fn cpu_ns() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        s.split_whitespace().next()?.parse().ok()
    }
    fn now() -> Instant {
        Instant(Self::cpu_ns(), std::time::Instant::now())
    }
    fn elapsed(&self) -> std::time::Duration {
        match (self.0, Self::cpu_ns()) {
            (Some(a), Some(b)) => std::time::Duration::from_nanos(b - a),
            _ => self.1.elapsed(),
        }
    }
}

use cordon_timeline::{Event, ParseOptions, Parser};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ip(&mut self) -> String {
        let v = self.next();
        format!(
            "{}.{}.{}.{}",
            1 + v % 223,
            (v >> 8) % 256,
            (v >> 16) % 256,
            1 + (v >> 24) % 254
        )
    }
}

const USERS: &[&str] = &[
    "root", "admin", "alice", "bob", "deploy", "postgres", "www-data", "oracle",
];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn auth_corpus(n: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = String::with_capacity(n * 110);
    for i in 0..n {
        let secs = i as u64 * 3;
        let (day, h, m, s) = (
            1 + (secs / 86_400) % 28,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let month = MONTHS[(secs / (86_400 * 28)) as usize % 12];
        let user = USERS[rng.below(USERS.len() as u64) as usize];
        let pid = 1000 + rng.below(30_000);
        let head = format!("{month} {day:>2} {h:02}:{m:02}:{s:02} web{} ", rng.below(8));
        out.push_str(&head);
        match rng.below(6) {
            0 => out.push_str(&format!(
                "sshd[{pid}]: Failed password for invalid user {user} from {} port {} ssh2\n",
                rng.ip(),
                1024 + rng.below(60_000)
            )),
            1 => out.push_str(&format!(
                "sshd[{pid}]: Accepted publickey for {user} from {} port {} ssh2: RSA SHA256:abcdefghijklmnop\n",
                rng.ip(),
                1024 + rng.below(60_000)
            )),
            2 => out.push_str(&format!(
                "sudo:    {user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx\n",
                rng.below(9)
            )),
            3 => out.push_str(&format!(
                "sshd[{pid}]: pam_unix(sshd:session): session opened for user {user} by (uid=0)\n"
            )),
            4 => out.push_str(&format!("CRON[{pid}]: (root) CMD (/usr/lib/php/sessionclean)\n")),
            _ => out.push_str(&format!(
                "sshd[{pid}]: Connection closed by authenticating user {user} {} port {} [preauth]\n",
                rng.ip(),
                1024 + rng.below(60_000)
            )),
        }
    }
    out.into_bytes()
}

fn access_corpus(n: usize, rng: &mut Rng) -> Vec<u8> {
    let paths = [
        "/",
        "/index.php",
        "/wp-login.php",
        "/api/v1/orders?id=",
        "/static/app.js",
        "/admin/config",
    ];
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.31.0",
    ];
    let mut out = String::with_capacity(n * 200);
    for i in 0..n {
        let secs = i as u64;
        let (day, h, m, s) = (
            1 + (secs / 86_400) % 28,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let path = paths[rng.below(paths.len() as u64) as usize];
        out.push_str(&format!(
            "{} - - [{day:02}/Mar/2024:{h:02}:{m:02}:{s:02} +0000] \"{} {path}{} HTTP/1.1\" {} {} \"https://example.com/\" \"{}\"\n",
            rng.ip(),
            if rng.below(5) == 0 { "POST" } else { "GET" },
            rng.below(1000),
            [200, 200, 200, 301, 404, 500][rng.below(6) as usize],
            rng.below(50_000),
            agents[rng.below(agents.len() as u64) as usize],
        ));
    }
    out.into_bytes()
}

fn postgres_corpus(n: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = String::with_capacity(n * 120);
    for i in 0..n {
        let ms = i as u64 * 7;
        let secs = ms / 1000;
        let (day, h, m, s) = (
            1 + (secs / 86_400) % 28,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let pid = 2000 + rng.below(500);
        let user = USERS[rng.below(USERS.len() as u64) as usize];
        let head = format!(
            "2024-03-{day:02} {h:02}:{m:02}:{s:02}.{:03} UTC [{pid}] {user}@shop ",
            ms % 1000
        );
        out.push_str(&head);
        match rng.below(5) {
            0 => out.push_str(&format!(
                "LOG:  duration: {}.{:03} ms  statement: SELECT * FROM orders WHERE customer_id = {}\n",
                rng.below(100),
                rng.below(1000),
                rng.below(100_000)
            )),
            1 => out.push_str(&format!(
                "LOG:  statement: UPDATE customers SET last_seen = now() WHERE id = {}\n",
                rng.below(100_000)
            )),
            2 => out.push_str(&format!(
                "LOG:  connection authorized: user={user} database=shop application_name=psql\n"
            )),
            3 => out.push_str("ERROR:  relation \"customer\" does not exist at character 15\n"),
            _ => out.push_str(&format!(
                "LOG:  connection received: host={} port={}\n",
                rng.ip(),
                rng.below(65_000)
            )),
        }
    }
    out.into_bytes()
}

/// Parses `data` in 64 KiB chunks, draining events per chunk; returns (events, seconds).
fn parse(name: &str, data: &[u8], keep: bool) -> (Vec<Event>, u64, f64) {
    let start = Instant::now();
    let mut parser = Parser::new(ParseOptions::new(name).year(2024));
    let mut batch = Vec::new();
    let mut kept = Vec::new();
    let mut n = 0;
    for chunk in data.chunks(64 * 1024) {
        parser.feed(chunk, &mut batch);
        n += batch.len() as u64;
        if keep {
            kept.append(&mut batch);
        } else {
            batch.clear();
        }
    }
    let s = parser.finish(&mut batch);
    n += batch.len() as u64;
    kept.append(&mut batch);
    assert_eq!(s.skipped, 0, "{name}: {:?}", s.diagnostics);
    (kept, n, start.elapsed().as_secs_f64())
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> (T, f64)) -> (T, f64) {
    let mut best = f();
    for _ in 1..runs {
        let r = f();
        if r.1 < best.1 {
            best = r;
        }
    }
    best
}

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let per = total / 3;
    let mut rng = Rng(0x5EED);
    let corpora = [
        ("auth (syslog)", auth_corpus(per, &mut rng)),
        ("access (nginx combined)", access_corpus(per, &mut rng)),
        ("postgresql", postgres_corpus(per, &mut rng)),
    ];
    println!(
        "parse speed, one core, 64 KiB chunks, best of 5, CPU time; {} lines in all\n",
        per * 3
    );
    println!(
        "{:<26} {:>9} {:>8} {:>12} {:>9} {:>14}",
        "format", "lines", "MB", "lines/s", "MB/s", "wc -l lines/s"
    );
    let mut all_lines = 0u64;
    let mut all_secs = 0.0;
    let mut all_bytes = 0usize;
    for (name, data) in &corpora {
        let (n, secs) = best_of(5, || {
            let (_, n, secs) = parse(name, data, false);
            (n, secs)
        });
        let (_, wc_secs) = best_of(5, || {
            const REPS: usize = 200;
            let t = Instant::now();
            let c: usize = (0..REPS)
                .map(|_| memchr::memchr_iter(b'\n', std::hint::black_box(data)).count())
                .sum();
            (c, t.elapsed().as_secs_f64() / REPS as f64)
        });
        assert_eq!(n as usize, per, "{name}");
        all_lines += n;
        all_secs += secs;
        all_bytes += data.len();
        let mb = data.len() as f64 / 1e6;
        println!(
            "{:<26} {:>9} {:>8.1} {:>12.0} {:>9.0} {:>14.0}",
            name,
            n,
            mb,
            n as f64 / secs,
            mb / secs,
            per as f64 / wc_secs
        );
    }
    println!(
        "{:<26} {:>9} {:>8.1} {:>12.0} {:>9.0}",
        "mixed (sum)",
        all_lines,
        all_bytes as f64 / 1e6,
        all_lines as f64 / all_secs,
        all_bytes as f64 / 1e6 / all_secs
    );

    // What indexing adds per event: every IP, every account and every indicator.
    println!(
        "\n{:<26} {:>14} {:>14}",
        "derived views", "ips()+users()", "indicators()"
    );
    for (name, data) in &corpora {
        let (events, _, _) = parse(name, data, true);
        let rate = |f: &dyn Fn(&Event) -> usize| {
            let ((), secs) = best_of(5, || {
                let t = Instant::now();
                let n: usize = events.iter().map(f).sum();
                assert!(n > 0);
                ((), t.elapsed().as_secs_f64())
            });
            events.len() as f64 / secs
        };
        let ips = rate(&|e| e.ips().len() + e.users().len());
        let ind = rate(&|e| e.indicators().len());
        println!("{:<26} {:>12.0}/s {:>12.0}/s", name, ips, ind);
    }
    println!("reference: end-to-end target 250 000 events/s on 2 cores including indexing (issue 4)");
}
