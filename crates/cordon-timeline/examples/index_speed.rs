//! Index-speed program (not a test): parses a generated mixed log (auth, access, PostgreSQL)
//! into a fresh incident index in-process and prints events/s, then IP pivots (limit 10 000)
//! with p50/p99. The end-to-end figure through the server is `bench-timeline`'s.
//!
//! Run: `cargo run --release -p cordon-timeline --example index_speed [lines]`

use std::time::Instant;

use cordon_timeline::index::{Filter, IndexRoot};
use cordon_timeline::{ParseOptions, Parser};

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
    /// An address from a pool of `pool` addresses, the first ones much more frequent.
    fn ip(&mut self, pool: u64) -> String {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let i = ((pool as f64) * u * u * u) as u64;
        format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
    }
}

fn corpus(lines: usize, rng: &mut Rng) -> [(String, Vec<u8>); 3] {
    let pool = (lines as u64 / 100).max(100);
    let users = ["root", "admin", "alice", "bob", "deploy", "postgres", "www-data"];
    let (mut auth, mut access, mut pg) = (String::new(), String::new(), String::new());
    for i in 0..lines {
        let secs = i as u64 / 3;
        let (day, h, m, s) = (
            1 + (secs / 86_400) % 28,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let user = users[rng.below(users.len() as u64) as usize];
        match i % 3 {
            0 => auth.push_str(&match rng.below(3) {
                0 => format!(
                    "Mar {day:>2} {h:02}:{m:02}:{s:02} web1 sshd[{}]: Failed password for {user} from {} port {} ssh2\n",
                    rng.below(30_000),
                    rng.ip(pool),
                    rng.below(60_000)
                ),
                1 => format!(
                    "Mar {day:>2} {h:02}:{m:02}:{s:02} web1 sshd[{}]: Accepted publickey for {user} from {} port {} ssh2\n",
                    rng.below(30_000),
                    rng.ip(pool),
                    rng.below(60_000)
                ),
                _ => format!(
                    "Mar {day:>2} {h:02}:{m:02}:{s:02} web1 sudo:    {user} : TTY=pts/1 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx\n"
                ),
            }),
            1 => access.push_str(&format!(
                "{} - - [{day:02}/Mar/2024:{h:02}:{m:02}:{s:02} +0000] \"GET /api/v1/orders?id={} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
                rng.ip(pool),
                rng.below(100_000),
                rng.below(50_000)
            )),
            _ => pg.push_str(&format!(
                "2024-03-{day:02} {h:02}:{m:02}:{s:02}.{:03} UTC [{}] {user}@shop LOG:  statement: SELECT * FROM orders WHERE customer_id = {}\n",
                rng.below(1000),
                rng.below(30_000),
                rng.below(100_000)
            )),
        }
    }
    [
        ("auth.log".into(), auth.into_bytes()),
        ("access.log".into(), access.into_bytes()),
        ("postgresql.log".into(), pg.into_bytes()),
    ]
}

/// CPU seconds this process used so far (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let lines: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let files = corpus(lines, &mut rng);
    let dir = std::env::temp_dir().join(format!("cordon-index-speed-{}", std::process::id()));
    let root = IndexRoot::open(&dir).unwrap();
    let ix = root.incident(uuid::Uuid::nil()).unwrap();
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let mut total = 0;
    for (name, data) in &files {
        let mut w = ix.begin(uuid::Uuid::new_v4()).unwrap();
        let mut parser = Parser::new(ParseOptions::new(name.as_str()).year(2024));
        let mut batch = Vec::new();
        for chunk in data.chunks(64 * 1024) {
            parser.feed(chunk, &mut batch);
            for e in batch.drain(..) {
                w.add(&e).unwrap();
            }
        }
        parser.finish(&mut batch);
        for e in batch.drain(..) {
            w.add(&e).unwrap();
        }
        total += w.commit().unwrap().events;
    }
    ix.refresh().unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "ingest: {total} events in {secs:.2} s = {:.0} events/s; {cpu:.2} CPU s = {:.0} events per CPU second",
        total as f64 / secs,
        total as f64 / cpu
    );

    let (segments, index_bytes, body_bytes) = disk_use(&dir.join(uuid::Uuid::nil().to_string()));
    println!(
        "on disk: {segments} segments, index {:.0} MB, event bodies {:.0} MB",
        index_bytes as f64 / 1e6,
        body_bytes as f64 / 1e6
    );

    let snap = ix.snapshot();
    let mut lat = Vec::new();
    let mut hits = Vec::new();
    for i in 0..200u64 {
        let ip = format!("10.0.{}.{}", (i * 7 / 256) & 255, (i * 7) & 255);
        let f = Filter::parse(Some(&ip), None, None, None, None, None, None).unwrap();
        let t = Instant::now();
        let page = snap.page(&f, None, 10_000).unwrap();
        let bytes: usize = page.events.iter().map(Vec::len).sum();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        hits.push((page.events.len(), bytes));
    }
    lat.sort_by(f64::total_cmp);
    hits.sort();
    println!(
        "pivot by ip (limit 10000): p50 {:.2} ms, p99 {:.2} ms; hits min {} median {} max {}",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        hits[0].0,
        hits[hits.len() / 2].0,
        hits[hits.len() - 1].0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Segments, bytes of the tantivy files and bytes of the event body files of an index.
fn disk_use(dir: &std::path::Path) -> (usize, u64, u64) {
    let size = |d: &std::path::Path, ext: Option<&str>| -> (usize, u64) {
        let mut n = 0;
        let mut bytes = 0;
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            if e.path().is_file() {
                bytes += len;
                if ext.is_some_and(|x| e.path().extension().is_some_and(|y| y == x)) {
                    n += 1;
                }
            }
        }
        (n, bytes)
    };
    let (segments, index_bytes) = size(dir, Some("fast"));
    let (_, body_bytes) = size(&dir.join("events"), None);
    (segments, index_bytes, body_bytes)
}
