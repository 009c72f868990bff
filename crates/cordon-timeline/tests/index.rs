//! The incident index on its own: sources become visible whole or not at all, every filter and
//! the time order hold, event JSON comes back from the body files, deletions and reopening
//! keep what a snapshot and the disk promise.

use cordon_timeline::index::{Filter, IncidentIndex, Snapshot};
use cordon_timeline::{ParseOptions, parse_all};
use serde_json::Value;
use uuid::Uuid;

const AUTH: &str = "\
Mar  1 10:00:03 web1 sshd[7]: Failed password for root from 203.0.113.9 port 4242 ssh2
Mar  1 10:00:01 web1 sshd[7]: Accepted publickey for alice from 198.51.100.7 port 2222 ssh2
Mar  1 10:00:05 web1 sudo:    alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/tar czf /tmp/x.tgz /srv
";

const PG: &str = "\
2024-03-01 10:00:02.000 UTC [900] alice@shop LOG:  statement: COPY customers TO '/tmp/c.csv'
2024-03-01 10:00:04.000 UTC [901] bob@shop LOG:  statement: SELECT customers FROM copy
";

fn dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cordon-index-test-{}", Uuid::new_v4()))
}

fn ingest(ix: &IncidentIndex, name: &str, text: &str) -> Uuid {
    let id = Uuid::new_v4();
    let out = parse_all(text.as_bytes(), &ParseOptions::new(name).year(2024));
    assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
    let mut w = ix.begin(id).unwrap();
    for e in &out.events {
        w.add(e).unwrap();
    }
    assert_eq!(w.commit().unwrap().events, out.events.len() as u64);
    ix.refresh().unwrap();
    id
}

fn filter(ip: Option<&str>, user: Option<&str>, q: Option<&str>) -> Filter {
    Filter::parse(ip, user, None, None, q, None, None).unwrap()
}

fn messages(snap: &Snapshot, f: &Filter) -> Vec<String> {
    snap.page(f, None, 100)
        .unwrap()
        .events
        .iter()
        .map(|b| {
            let v: Value = serde_json::from_slice(b).unwrap();
            v["message"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn filters_order_pages_and_phrases_over_two_sources() {
    let d = dir();
    let ix = IncidentIndex::open(&d).unwrap();
    let auth = ingest(&ix, "auth.log", AUTH);
    let pg = ingest(&ix, "postgresql.log", PG);
    let snap = ix.snapshot();
    assert_eq!(snap.num_events(), 5);

    let all = snap.page(&Filter::default(), None, 100).unwrap();
    let times: Vec<String> = all
        .events
        .iter()
        .map(|b| {
            serde_json::from_slice::<Value>(b).unwrap()["ts"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "time order");
    let first: Value = serde_json::from_slice(&all.events[0]).unwrap();
    assert_eq!(first["source_id"].as_str(), Some(auth.to_string().as_str()));
    assert_eq!(first["provenance"]["line"], 2);

    // Cursor pagination walks the same order, two at a time.
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let p = snap.page(&Filter::default(), after, 2).unwrap();
        walked.extend(p.events);
        match p.next_cursor {
            Some(c) => after = Some(c.to_string().parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(walked, all.events);

    assert_eq!(messages(&snap, &filter(Some("203.0.113.9"), None, None)).len(), 1, "ip");
    assert_eq!(messages(&snap, &filter(None, Some("alice"), None)).len(), 3, "user");
    let phrase = messages(&snap, &filter(None, None, Some("\"COPY customers\"")));
    assert_eq!(phrase.len(), 1, "a phrase matches words in order only: {phrase:?}");
    assert!(phrase[0].contains("COPY customers TO"));
    assert_eq!(
        messages(&snap, &filter(None, None, Some("copy customers"))).len(),
        2,
        "words"
    );
    let window = Filter::parse(
        None,
        None,
        None,
        None,
        None,
        Some("2024-03-01T10:00:02Z"),
        Some("2024-03-01T10:00:04Z"),
    )
    .unwrap();
    assert_eq!(messages(&snap, &window).len(), 3, "from/to inclusive");

    // One source's events only, combined with other filters; an unknown source has none.
    let of =
        |source: Uuid, user: Option<&str>| filter(None, user, None).with_source(Some(&source.to_string())).unwrap();
    assert_eq!(messages(&snap, &of(pg, None)).len(), 2, "source");
    assert_eq!(messages(&snap, &of(auth, None)).len(), 3, "source");
    assert_eq!(
        messages(&snap, &of(pg, Some("alice"))),
        ["statement: COPY customers TO '/tmp/c.csv'"]
    );
    assert_eq!(messages(&snap, &of(Uuid::new_v4(), None)).len(), 0, "unknown source");
    assert_eq!(snap.facets(&of(auth, None), 10).unwrap().total, 3);
    assert_eq!(snap.histogram(&of(pg, None), Some(1), 100).unwrap().total, 2);
    assert!(
        Filter::default().with_source(Some("auth.log")).is_err(),
        "not a source id"
    );
    assert_eq!(Filter::default().with_source(Some(" ")).unwrap(), Filter::default());
    let facets = snap.facets(&Filter::default(), 10).unwrap();
    assert_eq!(facets.total, 5);
    assert_eq!(snap.histogram(&Filter::default(), Some(1), 100).unwrap().total, 5);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_aborted_or_dropped_source_leaves_nothing_and_deletion_spares_open_snapshots() {
    let d = dir();
    let ix = IncidentIndex::open(&d).unwrap();
    let kept = ingest(&ix, "auth.log", AUTH);

    let events = parse_all(PG.as_bytes(), &ParseOptions::new("postgresql.log")).events;
    let mut w = ix.begin(Uuid::new_v4()).unwrap();
    w.add(&events[0]).unwrap();
    w.abort().unwrap();
    let mut w = ix.begin(Uuid::new_v4()).unwrap();
    w.add(&events[1]).unwrap();
    drop(w);
    ix.refresh().unwrap();
    assert_eq!(ix.num_events(), 3);
    let files = std::fs::read_dir(d.join("events")).unwrap().count();
    assert_eq!(files, 1, "only the committed source has a body file");

    let pg = ingest(&ix, "postgresql.log", PG);
    let before = ix.snapshot();
    ix.delete_sources(&[pg]).unwrap();
    assert_eq!(ix.snapshot().num_events(), 3);
    assert_eq!(
        messages(&before, &filter(None, Some("bob"), None)).len(),
        1,
        "a snapshot taken before the deletion still reads its events"
    );
    assert_eq!(ix.source_ids().unwrap(), vec![kept]);
    drop(ix);

    // Reopened from disk: the same events, their JSON from the body files.
    let ix = IncidentIndex::open(&d).unwrap();
    let snap = ix.snapshot();
    assert_eq!(messages(&snap, &filter(None, Some("alice"), None)).len(), 2);
    assert!(messages(&snap, &filter(None, Some("bob"), None)).is_empty());
    let _ = std::fs::remove_dir_all(&d);
}
