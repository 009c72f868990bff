//! Queries over one incident's index: the filter, pages in time order with an opaque cursor,
//! the histogram, the facets and the windows an export walks through. All of them read from
//! one [`Snapshot`], so a multi-step read (an export) sees one consistent state.

use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;
use std::sync::Arc;

use jiff::Timestamp;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnValues, StrColumn};
use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Index, Score, Searcher, SegmentOrdinal, SegmentReader, Term};
use uuid::Uuid;

use super::bodies::Bodies;
use super::ingest::{ip_key, kind_code, ts_key};
use super::{Fields, IncidentIndex, IndexError};
use crate::event::EventKind;

/// The most events one page may hold.
pub const MAX_PAGE: usize = 10_000;
/// The most buckets a histogram may have.
pub const MAX_HISTOGRAM_BUCKETS: usize = 10_000;

/// Which events a query is about. Every set criterion must hold; `from`/`to` are inclusive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Any IP of the event ([`crate::Event::ips`]).
    pub ip: Option<IpAddr>,
    /// Any account of the event ([`crate::Event::users`]), exactly.
    pub user: Option<String>,
    /// The host, case-insensitively.
    pub host: Option<String>,
    pub kind: Option<EventKind>,
    /// Full text over the event's text fields: words (all must occur), `"phrases"`, `OR`,
    /// `-word`.
    pub q: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Only the events of this source (a source id given to [`IncidentIndex::begin`]).
    pub source: Option<Uuid>,
}

impl Filter {
    /// Builds a filter from raw query parameters; a bad value is [`IndexError::Invalid`]
    /// naming its parameter.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        ip: Option<&str>,
        user: Option<&str>,
        host: Option<&str>,
        kind: Option<&str>,
        q: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Filter, IndexError> {
        fn some(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let ip = some(ip)
            .map(|v| {
                v.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .map_err(|_| IndexError::invalid("ip", format!("`{v}` is not an IP address")))
            })
            .transpose()?;
        let kind = some(kind)
            .map(|v| {
                EventKind::from_name(&v.to_ascii_lowercase()).ok_or_else(|| {
                    let names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                    IndexError::invalid("kind", format!("`{v}` is not one of {}", names.join(", ")))
                })
            })
            .transpose()?;
        let time = |field: &'static str, v: Option<&str>| {
            some(v)
                .map(|v| {
                    v.parse::<Timestamp>()
                        .map_err(|e| IndexError::invalid(field, format!("`{v}` is not an RFC 3339 instant: {e}")))
                })
                .transpose()
        };
        let f = Filter {
            ip,
            user: some(user).map(str::to_owned),
            host: some(host).map(str::to_owned),
            kind,
            q: some(q).map(str::to_owned),
            from: time("from", from)?,
            to: time("to", to)?,
            source: None,
        };
        if let (Some(a), Some(b)) = (f.from, f.to)
            && a > b
        {
            return Err(IndexError::invalid("to", "`to` is before `from`"));
        }
        Ok(f)
    }

    /// The same filter restricted to one source; `source` must be a source id (a UUID).
    pub fn with_source(mut self, source: Option<&str>) -> Result<Filter, IndexError> {
        if let Some(v) = source.map(str::trim).filter(|v| !v.is_empty()) {
            let id = Uuid::parse_str(v)
                .map_err(|_| IndexError::invalid("source", format!("`{v}` is not a timeline source id")))?;
            self.source = Some(id);
        }
        Ok(self)
    }

    fn range(&self) -> (i64, i64) {
        (self.from.map_or(i64::MIN, ts_key), self.to.map_or(i64::MAX, ts_key))
    }
}

/// A position in the time order: the last event of a page. Opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    ts: i64,
    seq: u64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c1{:016x}{:016x}", (self.ts as u64) ^ (1 << 63), self.seq)
    }
}

impl std::str::FromStr for Cursor {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Cursor, IndexError> {
        let bad = || IndexError::invalid("cursor", "not a cursor this server handed out");
        let hex = s.strip_prefix("c1").ok_or_else(bad)?;
        if hex.len() != 32 || !hex.is_ascii() {
            return Err(bad());
        }
        let ts = u64::from_str_radix(&hex[..16], 16).map_err(|_| bad())?;
        let seq = u64::from_str_radix(&hex[16..], 16).map_err(|_| bad())?;
        Ok(Cursor {
            ts: (ts ^ (1 << 63)) as i64,
            seq,
        })
    }
}

/// One page of events in time order.
#[derive(Debug, Default)]
pub struct Page {
    /// Each event's stored JSON (see [`super::splice_source_digest`]).
    pub events: Vec<Vec<u8>>,
    /// Where the next page starts; `None` when this page is the last.
    pub next_cursor: Option<Cursor>,
}

/// Counts per time bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub interval_seconds: i64,
    pub total: u64,
    /// Every bucket from the first event's to the last event's, empty ones included.
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
}

/// One value and how many matching events have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub value: String,
    pub count: u64,
}

/// The most frequent values among the matching events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub total: u64,
    pub ips: Vec<Facet>,
    pub users: Vec<Facet>,
    pub hosts: Vec<Facet>,
    pub kinds: Vec<Facet>,
}

/// An inclusive time range (sort keys) an export reads in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    from: i64,
    to: i64,
    /// Events of the window when it was planned.
    pub events: u64,
}

/// A consistent view of an incident's index.
#[derive(Clone)]
pub struct Snapshot {
    searcher: Searcher,
    bodies: Arc<BTreeMap<u64, Bodies>>,
    index: Index,
    fields: Fields,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("events", &self.searcher.num_docs())
            .finish_non_exhaustive()
    }
}

impl IncidentIndex {
    /// The committed state as of the last refresh.
    pub fn snapshot(&self) -> Snapshot {
        let view = self.view();
        Snapshot {
            searcher: view.searcher,
            bodies: view.bodies,
            index: self.index.clone(),
            fields: self.fields,
        }
    }
}

impl Snapshot {
    /// How many events the snapshot holds.
    pub fn num_events(&self) -> u64 {
        self.searcher.num_docs()
    }

    fn query(&self, f: &Filter) -> Result<Box<dyn Query>, IndexError> {
        let fl = self.fields;
        let term = |field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        if let Some(ip) = f.ip {
            must.push(Box::new(TermQuery::new(
                Term::from_field_ip_addr(fl.ip, ip_key(ip)),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(u) = &f.user {
            must.push(term(fl.user, u));
        }
        if let Some(h) = &f.host {
            must.push(term(fl.host, &h.to_lowercase()));
        }
        if let Some(k) = f.kind {
            must.push(Box::new(TermQuery::new(
                Term::from_field_u64(fl.kind, kind_code(k)),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(q) = &f.q {
            let mut parser = QueryParser::for_index(&self.index, vec![fl.text]);
            parser.set_conjunction_by_default();
            must.push(
                parser
                    .parse_query(q)
                    .map_err(|e| IndexError::invalid("q", e.to_string()))?,
            );
        }
        if let Some(id) = f.source {
            // A source's events are numbered `source number << 32 | n` in `seq`.
            let Some(no) = self.bodies.iter().find(|(_, b)| b.source() == id).map(|(no, _)| *no) else {
                return Ok(Box::new(EmptyQuery));
            };
            must.push(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_u64(fl.seq, no << 32)),
                Bound::Included(Term::from_field_u64(fl.seq, no << 32 | u64::from(u32::MAX))),
            )));
        }
        if f.from.is_some() || f.to.is_some() {
            let (a, b) = f.range();
            must.push(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(fl.ts, a)),
                Bound::Included(Term::from_field_i64(fl.ts, b)),
            )));
        }
        Ok(match must.len() {
            0 => Box::new(AllQuery),
            1 => must.pop().expect("one query"),
            _ => Box::new(BooleanQuery::intersection(must)),
        })
    }

    /// Up to `limit` events matching `f` after `after`, in time order.
    pub fn page(&self, f: &Filter, after: Option<Cursor>, limit: usize) -> Result<Page, IndexError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let hits = self.top(f, after, limit + 1)?;
        let more = hits.len() > limit;
        let hits = &hits[..hits.len().min(limit)];
        let next_cursor = if more { hits.last().map(|h| h.0) } else { None };
        Ok(Page {
            events: self.fetch(hits)?,
            next_cursor,
        })
    }

    /// Every event of one export window, in time order.
    pub fn window(&self, f: &Filter, w: &TimeWindow) -> Result<Vec<Vec<u8>>, IndexError> {
        let mut wf = f.clone();
        let (a, b) = f.range();
        wf.from = Some(from_key(a.max(w.from)));
        wf.to = Some(from_key(b.min(w.to)));
        let mut hits = self.top(&wf, None, usize::MAX)?;
        // `from_key` rounds to whole nanoseconds already; keep only the window's keys.
        hits.retain(|h| h.0.ts >= w.from && h.0.ts <= w.to);
        self.fetch(&hits)
    }

    fn top(&self, f: &Filter, after: Option<Cursor>, limit: usize) -> Result<Vec<(Cursor, u64)>, IndexError> {
        let q = self.query(f)?;
        Ok(self.searcher.search(&q, &TopByTime { after, limit })?)
    }

    /// The JSON of each hit, in the hits' order.
    fn fetch(&self, hits: &[(Cursor, u64)]) -> Result<Vec<Vec<u8>>, IndexError> {
        hits.iter()
            .map(|(key, pos)| {
                let mut json = Vec::with_capacity(768);
                self.bodies
                    .get(&(key.seq >> 32))
                    .is_some_and(|b| b.render(*pos, &mut json))
                    .then_some(json)
                    .ok_or_else(|| {
                        IndexError::Io(std::io::Error::other(format!(
                            "the stored record of event {:x} is missing or damaged",
                            key.seq
                        )))
                    })
            })
            .collect()
    }

    /// Counts of matching events per time bucket of `interval_seconds` (chosen so there are
    /// at most `target_buckets` when not given). Buckets are aligned to multiples of the
    /// interval since the Unix epoch.
    pub fn histogram(
        &self,
        f: &Filter,
        interval_seconds: Option<i64>,
        target_buckets: usize,
    ) -> Result<Histogram, IndexError> {
        let q = self.query(f)?;
        let Some((min, max, total)) = self.searcher.search(&q, &MinMax)? else {
            return Ok(Histogram {
                interval_seconds: interval_seconds.unwrap_or(60),
                total: 0,
                buckets: Vec::new(),
            });
        };
        let span = i128::from(max) - i128::from(min);
        let target = target_buckets.clamp(1, MAX_HISTOGRAM_BUCKETS) as i128;
        let interval = match interval_seconds {
            Some(s) if s <= 0 => {
                return Err(IndexError::invalid("interval", "must be a positive duration"));
            }
            Some(s) => s,
            None => NICE_INTERVALS
                .iter()
                .copied()
                .find(|s| span / (i128::from(*s) * NANOS) < target)
                .unwrap_or_else(|| {
                    let s = (span / (target * NANOS) + 1) as i64;
                    (s + 86_399) / 86_400 * 86_400
                }),
        };
        let step = i128::from(interval) * NANOS;
        let origin = i128::from(min).div_euclid(step) * step;
        let n = ((i128::from(max) - origin) / step + 1) as usize;
        if n > MAX_HISTOGRAM_BUCKETS {
            return Err(IndexError::invalid(
                "interval",
                format!("{interval} s makes {n} buckets over this span; at most {MAX_HISTOGRAM_BUCKETS}"),
            ));
        }
        let counts = self.searcher.search(&q, &BucketCounts { origin, step, n })?;
        let buckets = counts
            .into_iter()
            .enumerate()
            .map(|(i, count)| Bucket {
                start: from_key_i128(origin + step * i as i128),
                count,
            })
            .collect();
        Ok(Histogram {
            interval_seconds: interval,
            total,
            buckets,
        })
    }

    /// The `top` most frequent IPs, users, hosts and kinds among the matching events.
    pub fn facets(&self, f: &Filter, top: usize) -> Result<Facets, IndexError> {
        let q = self.query(f)?;
        let (total, merged) = self.searcher.search(&q, &FacetCounts)?;
        let top = top.clamp(1, 1000);
        let pick = |m: HashMap<String, u64>| {
            let mut v: Vec<Facet> = m.into_iter().map(|(value, count)| Facet { value, count }).collect();
            v.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            v.truncate(top);
            v
        };
        let [ips, users, hosts, kinds] = merged;
        Ok(Facets {
            total,
            ips: pick(ips),
            users: pick(users),
            hosts: pick(hosts),
            kinds: pick(kinds),
        })
    }

    /// Splits the matching events into consecutive time windows of about `per_window`
    /// events each, for an export that reads one window at a time with bounded memory.
    pub fn export_windows(&self, f: &Filter, per_window: u64) -> Result<Vec<TimeWindow>, IndexError> {
        let q = self.query(f)?;
        let Some((min, max, _)) = self.searcher.search(&q, &MinMax)? else {
            return Ok(Vec::new());
        };
        let n = 4096usize;
        let span = i128::from(max) - i128::from(min) + 1;
        let step = (span / n as i128 + 1).max(1);
        let origin = i128::from(min);
        let counts = self.searcher.search(&q, &BucketCounts { origin, step, n })?;
        let mut out = Vec::new();
        let mut start: Option<i128> = None;
        let mut acc = 0u64;
        for (i, c) in counts.iter().enumerate() {
            let b_from = origin + step * i as i128;
            if *c == 0 && start.is_none() {
                continue;
            }
            let s = *start.get_or_insert(b_from);
            acc += c;
            if acc >= per_window.max(1) || i + 1 == counts.len() {
                let end = (b_from + step - 1).min(i128::from(max));
                out.push(TimeWindow {
                    from: s as i64,
                    to: end as i64,
                    events: acc,
                });
                start = None;
                acc = 0;
            }
        }
        Ok(out)
    }
}

const NANOS: i128 = 1_000_000_000;
const NICE_INTERVALS: [i64; 20] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000,
];

fn from_key(k: i64) -> Timestamp {
    from_key_i128(i128::from(k))
}

fn from_key_i128(k: i128) -> Timestamp {
    Timestamp::from_nanosecond(k).unwrap_or(if k < 0 { Timestamp::MIN } else { Timestamp::MAX })
}

/// The sort-key columns of a segment: `ts` and `seq`.
type KeyColumns = (Arc<dyn ColumnValues<i64>>, Arc<dyn ColumnValues<u64>>);

fn key_columns(seg: &SegmentReader) -> tantivy::Result<KeyColumns> {
    let ff = seg.fast_fields();
    Ok((
        ff.i64("ts")?.first_or_default_col(0),
        ff.u64("seq")?.first_or_default_col(0),
    ))
}

/// Keeps the `limit` smallest (ts, seq) keys above `after`.
struct TopByTime {
    after: Option<Cursor>,
    limit: usize,
}

struct TopByTimeSegment {
    ts: Arc<dyn ColumnValues<i64>>,
    seq: Arc<dyn ColumnValues<u64>>,
    pos: Arc<dyn ColumnValues<u64>>,
    after: Option<Cursor>,
    limit: usize,
    heap: BinaryHeap<(Cursor, DocId)>,
}

impl Collector for TopByTime {
    type Fruit = Vec<(Cursor, u64)>;
    type Child = TopByTimeSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<Self::Child> {
        let (ts, seq) = key_columns(seg)?;
        Ok(TopByTimeSegment {
            ts,
            seq,
            pos: seg.fast_fields().u64("pos")?.first_or_default_col(0),
            after: self.after,
            limit: self.limit,
            heap: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<(Cursor, u64)> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by_key(|h| h.0);
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for TopByTimeSegment {
    type Fruit = Vec<(Cursor, u64)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let key = Cursor {
            ts: self.ts.get_val(doc),
            seq: self.seq.get_val(doc),
        };
        if self.after.is_some_and(|a| key <= a) {
            return;
        }
        if self.heap.len() < self.limit {
            self.heap.push((key, doc));
        } else if self.heap.peek().is_some_and(|top| key < top.0) {
            self.heap.pop();
            self.heap.push((key, doc));
        }
    }

    fn harvest(self) -> Self::Fruit {
        let pos = self.pos;
        self.heap.into_iter().map(|(k, d)| (k, pos.get_val(d))).collect()
    }
}

/// The smallest and largest instant among the matching events, and their count.
struct MinMax;

struct MinMaxSegment {
    ts: Arc<dyn ColumnValues<i64>>,
    acc: Option<(i64, i64, u64)>,
}

impl Collector for MinMax {
    type Fruit = Option<(i64, i64, u64)>;
    type Child = MinMaxSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<Self::Child> {
        Ok(MinMaxSegment {
            ts: key_columns(seg)?.0,
            acc: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits
            .into_iter()
            .flatten()
            .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1), a.2 + b.2)))
    }
}

impl SegmentCollector for MinMaxSegment {
    type Fruit = Option<(i64, i64, u64)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let t = self.ts.get_val(doc);
        self.acc = Some(match self.acc {
            None => (t, t, 1),
            Some((a, b, n)) => (a.min(t), b.max(t), n + 1),
        });
    }

    fn harvest(self) -> Self::Fruit {
        self.acc
    }
}

/// Counts per bucket of `step` nanoseconds from `origin`.
struct BucketCounts {
    origin: i128,
    step: i128,
    n: usize,
}

struct BucketCountsSegment {
    ts: Arc<dyn ColumnValues<i64>>,
    origin: i128,
    step: i128,
    counts: Vec<u64>,
}

impl Collector for BucketCounts {
    type Fruit = Vec<u64>;
    type Child = BucketCountsSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<Self::Child> {
        Ok(BucketCountsSegment {
            ts: key_columns(seg)?.0,
            origin: self.origin,
            step: self.step,
            counts: vec![0; self.n],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut out = vec![0; self.n];
        for f in fruits {
            for (o, c) in out.iter_mut().zip(f) {
                *o += c;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for BucketCountsSegment {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let t = i128::from(self.ts.get_val(doc));
        let i = (t - self.origin).div_euclid(self.step);
        if let Some(c) = usize::try_from(i).ok().and_then(|i| self.counts.get_mut(i)) {
            *c += 1;
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.counts
    }
}

/// Per-value counts of the ip, user, host and kind columns.
struct FacetCounts;

type FacetFruit = (u64, [HashMap<String, u64>; 4]);

struct FacetCountsSegment {
    ip: Column<Ipv6Addr>,
    kind: Column<u64>,
    strs: [Option<StrColumn>; 2],
    ip_counts: HashMap<Ipv6Addr, u64>,
    kind_counts: [u64; EventKind::ALL.len()],
    str_counts: [Vec<u32>; 2],
    total: u64,
}

impl Collector for FacetCounts {
    type Fruit = FacetFruit;
    type Child = FacetCountsSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<Self::Child> {
        let ff = seg.fast_fields();
        let strs = [ff.str("user")?, ff.str("host")?];
        let str_counts = [
            vec![0u32; strs[0].as_ref().map_or(0, |c| c.num_terms())],
            vec![0u32; strs[1].as_ref().map_or(0, |c| c.num_terms())],
        ];
        Ok(FacetCountsSegment {
            ip: ff.ip_addr("ip")?,
            kind: ff.u64("kind")?,
            strs,
            ip_counts: HashMap::new(),
            kind_counts: [0; EventKind::ALL.len()],
            str_counts,
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut total = 0;
        let mut out: [HashMap<String, u64>; 4] = Default::default();
        for (t, maps) in fruits {
            total += t;
            for (o, m) in out.iter_mut().zip(maps) {
                for (k, v) in m {
                    *o.entry(k).or_default() += v;
                }
            }
        }
        Ok((total, out))
    }
}

impl SegmentCollector for FacetCountsSegment {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.total += 1;
        for ip in self.ip.values_for_doc(doc) {
            *self.ip_counts.entry(ip).or_default() += 1;
        }
        for k in self.kind.values_for_doc(doc) {
            if let Some(c) = self.kind_counts.get_mut(k as usize) {
                *c += 1;
            }
        }
        for (col, counts) in self.strs.iter().zip(&mut self.str_counts) {
            if let Some(col) = col {
                for ord in col.term_ords(doc) {
                    if let Some(c) = counts.get_mut(ord as usize) {
                        *c += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let mut ips = HashMap::new();
        for (ip, c) in self.ip_counts {
            let ip = match ip.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(ip),
            };
            ips.insert(ip.to_string(), c);
        }
        let mut kinds = HashMap::new();
        for (k, c) in EventKind::ALL.iter().zip(self.kind_counts) {
            if c > 0 {
                kinds.insert(k.as_str().to_owned(), c);
            }
        }
        let mut strs: [HashMap<String, u64>; 2] = Default::default();
        for ((col, counts), o) in self.strs.iter().zip(self.str_counts).zip(strs.iter_mut()) {
            let Some(col) = col else { continue };
            let mut s = String::new();
            for (ord, c) in counts.into_iter().enumerate() {
                if c == 0 {
                    continue;
                }
                s.clear();
                if col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                    *o.entry(s.clone()).or_default() += u64::from(c);
                }
            }
        }
        let [users, hosts] = strs;
        (self.total, [ips, users, hosts, kinds])
    }
}
