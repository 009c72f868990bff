//! Time handling for the parsers: civil date-time parts to `jiff::Timestamp` without
//! allocation, the common textual forms (ISO 8601 / RFC 3339, BSD syslog, Apache `[dd/Mon/yyyy…]`),
//! zone abbreviations, the zone hint for times logged without an offset, and the year
//! inference for year-less syslog (year hint, rollover Dec → Jan).
//!
//! Impossible dates (Feb 30, hour 25) are rejected here, never wrapped around.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::scan::{num2, num4};

/// A broken-down civil time as read from a log line, before any zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
}

/// Why a civil time could not become an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeError {
    /// A field out of range, e.g. February 30 or minute 61.
    Impossible,
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("impossible date or time")
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    /// Checks every field's range; a leap second (60) is accepted and read as 59.
    pub(crate) fn validate(&mut self) -> Result<(), TimeError> {
        if !(1..=9999).contains(&self.year)
            || !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.nanos > 999_999_999
        {
            return Err(TimeError::Impossible);
        }
        if self.second == 60 {
            self.second = 59;
        }
        Ok(())
    }

    /// Seconds since the epoch if this civil time were UTC.
    fn local_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The instant of this civil time at a fixed UTC offset (seconds east of UTC).
    pub(crate) fn at_offset(mut self, offset: i32) -> Result<Timestamp, TimeError> {
        self.validate()?;
        let secs = self.local_seconds() - i64::from(offset);
        Timestamp::new(secs, self.nanos as i32).map_err(|_| TimeError::Impossible)
    }
}

/// The zone applied to times logged without an offset.
#[derive(Clone, Debug)]
pub(crate) enum Zone {
    Fixed(i32),
    Named(Box<NamedZone>),
}

/// A named zone with a one-hour cache of its offset (zones change offset at most once an hour
/// in practice; the cache is only used when the offset is constant across the whole hour).
#[derive(Clone, Debug)]
pub(crate) struct NamedZone {
    tz: TimeZone,
    cached_hour: i64,
    cached_offset: i32,
}

impl Zone {
    pub(crate) fn from_tz(tz: TimeZone) -> Zone {
        match tz.to_fixed_offset() {
            Ok(off) => Zone::Fixed(off.seconds()),
            Err(_) => Zone::Named(Box::new(NamedZone {
                tz,
                cached_hour: i64::MIN,
                cached_offset: 0,
            })),
        }
    }

    /// The instant of a civil time read in this zone (the earlier one in a DST fold).
    pub(crate) fn resolve(&mut self, mut c: Civil) -> Result<Timestamp, TimeError> {
        match self {
            Zone::Fixed(off) => c.at_offset(*off),
            Zone::Named(z) => {
                c.validate()?;
                let local = c.local_seconds();
                let hour = local.div_euclid(3600);
                if hour != z.cached_hour {
                    let start = z.offset_at(Civil {
                        minute: 0,
                        second: 0,
                        nanos: 0,
                        ..c
                    })?;
                    let end = z.offset_at(Civil {
                        minute: 59,
                        second: 59,
                        nanos: 0,
                        ..c
                    })?;
                    if start != end {
                        let off = z.offset_at(c)?;
                        return c.at_offset(off);
                    }
                    z.cached_hour = hour;
                    z.cached_offset = start;
                }
                c.at_offset(z.cached_offset)
            }
        }
    }
}

impl NamedZone {
    fn offset_at(&self, c: Civil) -> Result<i32, TimeError> {
        let dt = jiff::civil::DateTime::new(
            c.year as i16,
            c.month as i8,
            c.day as i8,
            c.hour as i8,
            c.minute as i8,
            c.second as i8,
            0,
        )
        .map_err(|_| TimeError::Impossible)?;
        let ts = self
            .tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|_| TimeError::Impossible)?;
        Ok((c.local_seconds() - ts.as_second()) as i32)
    }
}

/// The year to give a year-less (RFC 3164) timestamp, as syslog readers do (rsyslog,
/// journald): from the year hint when there is one, rolling over when the month jumps back
/// (Dec → Jan); else from the reference instant (the ingest time), and then never later than
/// it — a month and day more than a day after the reference instant belong to the year
/// before.
#[derive(Clone, Debug)]
pub(crate) struct YearGuess {
    /// The year of the last answer (the rollover base).
    year: Option<i32>,
    /// Whether `year` started from a hint (then it is never pulled back).
    hinted: bool,
    /// The latest date a year-less time may fall on: the reference instant plus a day (UTC),
    /// so that a log written in a zone ahead of UTC is not pulled back.
    latest: Option<(i32, u8, u8)>,
    last_month: u8,
}

/// How [`YearGuess::year_for`] came by its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum YearSource {
    /// From the year hint (and the rollovers after it).
    Hint,
    /// Guessed from the reference instant.
    Guessed,
    /// Guessed, and put a year earlier because it would otherwise lie in the future.
    PulledBack,
    /// No year hint and no reference instant: 1970 was assumed.
    Assumed,
}

impl YearGuess {
    pub(crate) fn new(year: Option<i32>, now: Option<Timestamp>) -> YearGuess {
        let latest = now
            .and_then(|ts| ts.checked_add(jiff::SignedDuration::from_hours(24)).ok())
            .map(|ts| {
                let dt = TimeZone::UTC.to_datetime(ts);
                (i32::from(dt.year()), dt.month() as u8, dt.day() as u8)
            });
        YearGuess {
            year,
            hinted: year.is_some(),
            latest,
            last_month: 0,
        }
    }

    /// The year for a year-less time on `month`/`day`, and how it was found.
    pub(crate) fn year_for(&mut self, month: u8, day: u8) -> (i32, YearSource) {
        let mut source = if self.hinted {
            YearSource::Hint
        } else {
            YearSource::Guessed
        };
        let mut year = match (self.year, self.latest) {
            (Some(y), _) => {
                let mut y = y;
                if self.last_month != 0 {
                    if month + 6 < self.last_month {
                        y += 1;
                    } else if month > self.last_month + 6 {
                        y -= 1;
                    }
                }
                y
            }
            (None, Some((ly, _, _))) => ly,
            (None, None) => {
                source = YearSource::Assumed;
                1970
            }
        };
        if !self.hinted
            && let Some((ly, lm, ld)) = self.latest
            && (year, month, day) > (ly, lm, ld)
        {
            let first = self.year.is_none();
            year = if (month, day) > (lm, ld) { ly - 1 } else { ly };
            // The first line taking the previous year is the ordinary guess, not a surprise.
            if !first {
                source = YearSource::PulledBack;
            }
        }
        self.year = Some(year);
        self.last_month = month;
        (year, source)
    }

    /// The reference date year-less times may not pass, when there is one.
    pub(crate) fn latest(&self) -> Option<(i32, u8, u8)> {
        self.latest
    }
}

/// The month number of a three-letter English month name (any case).
#[inline]
pub(crate) fn month_abbr(b: &[u8]) -> Option<u8> {
    if b.len() < 3 {
        return None;
    }
    let key = [b[0] | 0x20, b[1] | 0x20, b[2] | 0x20];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// Fractional seconds after a `.` or `,` at `i`: nanoseconds and bytes used (0 if none).
#[inline]
pub(crate) fn fraction(s: &[u8], i: usize) -> (u32, usize) {
    if !matches!(s.get(i), Some(b'.' | b',')) {
        return (0, 0);
    }
    let mut nanos: u32 = 0;
    let mut scale: u32 = 100_000_000;
    let mut j = i + 1;
    while let Some(&c) = s.get(j) {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        nanos += u32::from(d) * scale;
        scale /= 10;
        j += 1;
    }
    if j == i + 1 {
        return (0, 0);
    }
    (nanos, j - i)
}

/// A numeric UTC offset at `i`: `Z`, `±hh`, `±hhmm` or `±hh:mm`. Seconds and bytes used.
#[inline]
pub(crate) fn numeric_offset(s: &[u8], i: usize) -> Option<(i32, usize)> {
    match s.get(i)? {
        b'Z' | b'z' => Some((0, 1)),
        &sign @ (b'+' | b'-') => {
            let h = num2(s, i + 1)?;
            let (m, used) = if s.get(i + 3) == Some(&b':') {
                (num2(s, i + 4)?, 6)
            } else if let Some(m) = num2(s, i + 3) {
                (m, 5)
            } else {
                (0, 3)
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            Some((if sign == b'-' { -secs } else { secs }, used))
        }
        _ => None,
    }
}

/// An ISO 8601 / RFC 3339 date-time at the start of `s`: `YYYY-MM-DD[T ]HH:MM[:SS][.frac]`
/// followed by an optional offset. `/` is accepted as the date separator. Returns the parts,
/// the offset if one was written, and the bytes used.
pub(crate) fn iso8601(s: &[u8]) -> Option<(Civil, Option<i32>, usize)> {
    let year = num4(s, 0)?;
    let sep = *s.get(4)?;
    if !(sep == b'-' || sep == b'/') || s.get(7) != Some(&sep) {
        return None;
    }
    let month = num2(s, 5)?;
    let day = num2(s, 8)?;
    if !matches!(s.get(10), Some(b'T' | b' ')) {
        return None;
    }
    let hour = num2(s, 11)?;
    if s.get(13) != Some(&b':') {
        return None;
    }
    let minute = num2(s, 14)?;
    let mut i = 16;
    let mut second = 0;
    if s.get(16) == Some(&b':') {
        second = num2(s, 17)?;
        i = 19;
    }
    let (nanos, used) = fraction(s, i);
    i += used;
    let mut offset = None;
    if let Some((off, used)) = numeric_offset(s, i) {
        offset = Some(off);
        i += used;
    }
    Some((
        Civil {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            nanos,
        },
        offset,
        i,
    ))
}

/// `HH:MM:SS` at `i`.
#[inline]
pub(crate) fn hms(s: &[u8], i: usize) -> Option<(u8, u8, u8)> {
    if s.get(i + 2) != Some(&b':') || s.get(i + 5) != Some(&b':') {
        return None;
    }
    Some((num2(s, i)? as u8, num2(s, i + 3)? as u8, num2(s, i + 6)? as u8))
}

/// A BSD syslog time: month, day, (hour, minute, second), nanoseconds, bytes used.
pub(crate) type SyslogTime = (u8, u8, (u8, u8, u8), u32, usize);

/// A BSD syslog time `Mmm dd HH:MM:SS[.frac]` (day space-padded or one digit) at the start of
/// `s`. Returns month, day, time, nanos and the bytes used.
pub(crate) fn syslog_time(s: &[u8]) -> Option<SyslogTime> {
    let month = month_abbr(s.get(..3)?)?;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let d1 = s.get(i)?.wrapping_sub(b'0');
    if d1 >= 10 {
        return None;
    }
    let day = match s.get(i + 1) {
        Some(c) if c.is_ascii_digit() => {
            i += 2;
            d1 * 10 + (c - b'0')
        }
        _ => {
            i += 1;
            d1
        }
    };
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let t = hms(s, i + 1)?;
    i += 9;
    let (nanos, used) = fraction(s, i);
    Some((month, day, t, nanos, i + used))
}

/// The C library's `ctime` form that Apache httpd's error log writes:
/// `Www Mmm dd HH:MM:SS[.ffffff] yyyy` (2.4 adds the microseconds; the day may be
/// space-padded). Returns the parts (no offset is ever written) and the bytes used.
pub(crate) fn ctime(s: &[u8]) -> Option<(Civil, usize)> {
    let weekday = s.get(..3)?;
    if !weekday.iter().all(u8::is_ascii_alphabetic) || s.get(3) != Some(&b' ') {
        return None;
    }
    let (month, day, (hour, minute, second), nanos, used) = syslog_time(s.get(4..)?)?;
    let i = 4 + used;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let year = num4(s, i + 1)?;
    if s.get(i + 5).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((
        Civil {
            year: year as i32,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        },
        i + 5,
    ))
}

/// The Apache/nginx time `dd/Mon/yyyy:HH:MM:SS ±zzzz` at the start of `s`: the parts, the
/// offset if written, and the bytes used.
pub(crate) fn clf_time(s: &[u8]) -> Option<(Civil, Option<i32>, usize)> {
    let day = num2(s, 0)?;
    if s.get(2) != Some(&b'/') || s.get(6) != Some(&b'/') || s.get(11) != Some(&b':') {
        return None;
    }
    let month = month_abbr(s.get(3..6)?)?;
    let year = num4(s, 7)?;
    let (h, m, sec) = hms(s, 12)?;
    let mut i = 20;
    let (nanos, used) = fraction(s, i);
    i += used;
    let mut offset = None;
    if s.get(i) == Some(&b' ')
        && let Some((off, used)) = numeric_offset(s, i + 1)
    {
        offset = Some(off);
        i += 1 + used;
    }
    Some((
        Civil {
            year: year as i32,
            month,
            day: day as u8,
            hour: h,
            minute: m,
            second: sec,
            nanos,
        },
        offset,
        i,
    ))
}

/// UTC offset in seconds of a time-zone abbreviation as PostgreSQL and others log them.
pub(crate) fn zone_abbreviation(s: &str) -> Option<i32> {
    const H: i32 = 3600;
    Some(match s {
        "UTC" | "GMT" | "Z" | "UT" | "WET" | "Etc/UTC" => 0,
        "CET" | "BST" | "WEST" | "MET" | "IST1" => H,
        "CEST" | "EET" | "MEST" | "SAST" => 2 * H,
        "EEST" | "MSK" | "AST3" => 3 * H,
        "GST" => 4 * H,
        "IST" => 5 * H + 1800,
        "PKT" => 5 * H,
        "ICT" | "WIB" => 7 * H,
        "CST8" | "HKT" | "SGT" | "AWST" | "PHT" => 8 * H,
        "JST" | "KST" => 9 * H,
        "ACST" => 9 * H + 1800,
        "AEST" => 10 * H,
        "ACDT" => 10 * H + 1800,
        "AEDT" => 11 * H,
        "NZST" => 12 * H,
        "NZDT" => 13 * H,
        "ADT" => -3 * H,
        "AST" | "EDT" => -4 * H,
        "EST" | "CDT" => -5 * H,
        "CST" | "MDT" => -6 * H,
        "MST" | "PDT" => -7 * H,
        "PST" | "AKDT" => -8 * H,
        "AKST" => -9 * H,
        "HST" => -10 * H,
        _ => {
            let b = s.as_bytes();
            let (off, used) = numeric_offset(b, 0)?;
            if used != b.len() {
                return None;
            }
            off
        }
    })
}

/// Parses a zone hint: `UTC`, a numeric offset (`+02:00`, `-0500`) or an IANA name.
pub(crate) fn parse_zone_name(name: &str) -> Option<TimeZone> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Some(TimeZone::UTC);
    }
    if let Some((off, used)) = numeric_offset(name.as_bytes(), 0)
        && used == name.len()
    {
        return jiff::tz::Offset::from_seconds(off).ok().map(TimeZone::fixed);
    }
    TimeZone::get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn civil_conversion_matches_jiff() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2016, 12, 31), (1969, 7, 20)] {
            let c = Civil {
                year: y,
                month: m,
                day: d,
                hour: 13,
                minute: 5,
                second: 9,
                nanos: 1,
            };
            let got = c.at_offset(3600).unwrap();
            let want = jiff::civil::date(y as i16, m as i8, d as i8)
                .at(13, 5, 9, 1)
                .to_zoned_datetime(TimeZone::fixed(jiff::tz::offset(1)))
                .unwrap()
                .timestamp();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn impossible_dates_are_rejected() {
        let c = Civil {
            year: 2021,
            month: 2,
            day: 30,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
        };
        assert_eq!(c.at_offset(0), Err(TimeError::Impossible));
        let c = Civil { month: 13, day: 1, ..c };
        assert_eq!(c.at_offset(0), Err(TimeError::Impossible));
    }

    #[test]
    fn iso_forms() {
        let (c, off, n) = iso8601(b"2018-08-14T14:30:02.203151+02:00 x").unwrap();
        assert_eq!((c.nanos, off, n), (203_151_000, Some(7200), 32));
        let (_, off, n) = iso8601(b"1986-04-26T01:23:45.101+0400 rm").unwrap();
        assert_eq!((off, n), (Some(14400), 28));
        let (_, off, n) = iso8601(b"2019-07-23 12:06:24.406 UTC").unwrap();
        assert_eq!((off, n), (None, 23));
        let (_, off, _) = iso8601(b"2016-12-12T11:54:16.601172Z\t").unwrap();
        assert_eq!(off, Some(0));
        assert!(iso8601(b"2016-1-12").is_none());
    }

    #[test]
    fn syslog_and_clf() {
        let (m, d, t, _, n) = syslog_time(b"Feb  9 21:19:40 precise32").unwrap();
        assert_eq!((m, d, t, n), (2, 9, (21, 19, 40), 15));
        let (m, d, _, _, n) = syslog_time(b"Apr 4 03:39:57 ---").unwrap();
        assert_eq!((m, d, n), (4, 4, 14));
        let (c, off, n) = clf_time(b"25/Oct/2016:14:49:33 +0200]").unwrap();
        assert_eq!(c.at_offset(off.unwrap()).unwrap(), ts("2016-10-25T12:49:33Z"));
        assert_eq!(n, 26);
    }

    #[test]
    fn named_zone_and_dst() {
        let mut z = Zone::from_tz(TimeZone::get("Europe/Berlin").unwrap());
        let summer = Civil {
            year: 2017,
            month: 7,
            day: 31,
            hour: 13,
            minute: 36,
            second: 42,
            nanos: 0,
        };
        assert_eq!(z.resolve(summer).unwrap(), ts("2017-07-31T11:36:42Z"));
        let winter = Civil { month: 1, ..summer };
        assert_eq!(z.resolve(winter).unwrap(), ts("2017-01-31T12:36:42Z"));
        // Inside the spring-forward gap (02:30 does not exist): compatible → later offset.
        let gap = Civil {
            month: 3,
            day: 26,
            hour: 2,
            minute: 30,
            ..summer
        };
        assert!(z.resolve(gap).is_ok());
    }

    #[test]
    fn year_rollover() {
        let mut g = YearGuess::new(Some(2016), None);
        assert_eq!(g.year_for(12, 30), (2016, YearSource::Hint));
        assert_eq!(g.year_for(12, 31).0, 2016);
        assert_eq!(g.year_for(1, 1).0, 2017);
        assert_eq!(g.year_for(2, 1).0, 2017);
        let mut g = YearGuess::new(None, Some(ts("2024-03-01T00:00:00Z")));
        assert_eq!(g.year_for(11, 5), (2023, YearSource::Guessed));
        assert_eq!(g.year_for(1, 5), (2024, YearSource::Guessed));
        let mut g = YearGuess::new(None, None);
        assert_eq!(g.year_for(5, 1), (1970, YearSource::Assumed));
    }

    #[test]
    fn a_guessed_year_never_lands_in_the_future() {
        // A real OpenSSH log's "Dec 10", ingested on 5 December: last year's, not five days ahead.
        let now = ts("2026-12-05T09:00:00Z");
        let mut g = YearGuess::new(None, Some(now));
        assert_eq!(g.year_for(12, 10), (2025, YearSource::Guessed));
        // Today and tomorrow (a zone ahead of UTC) stay this year.
        let mut g = YearGuess::new(None, Some(now));
        assert_eq!(g.year_for(12, 5).0, 2026);
        assert_eq!(g.year_for(12, 6).0, 2026);
        // A log that runs past the ingest time: the later lines go a year back, and say so.
        assert_eq!(g.year_for(12, 20), (2025, YearSource::PulledBack));
        // A hint is the user's word: never pulled back.
        let mut g = YearGuess::new(Some(2026), Some(now));
        assert_eq!(g.year_for(12, 20), (2026, YearSource::Hint));
        // The turn of the year: December, then January, ingested on 3 January.
        let mut g = YearGuess::new(None, Some(ts("2027-01-03T00:00:00Z")));
        assert_eq!(g.year_for(12, 30).0, 2026);
        assert_eq!(g.year_for(1, 2).0, 2027);
        assert_eq!(g.year_for(1, 4).0, 2027);
        assert_eq!(g.year_for(1, 9), (2026, YearSource::PulledBack));
    }

    #[test]
    fn ctime_stamps_of_apache_error_logs() {
        let (c, n) = ctime(b"Sun Dec 04 04:47:44 2005] [error]").unwrap();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second, n),
            (2005, 12, 4, 4, 47, 44, 24)
        );
        let (c, n) = ctime(b"Wed Oct 11 14:32:52.123456 2000]").unwrap();
        assert_eq!((c.year, c.nanos, n), (2000, 123_456_000, 31));
        let (c, _) = ctime(b"Mon Jan  2 01:02:03 2017]").unwrap();
        assert_eq!((c.month, c.day), (1, 2));
        assert!(ctime(b"Sun Dec 04 04:47:44]").is_none());
        assert!(ctime(b"Dec 04 04:47:44 2005").is_none());
        assert!(ctime(b"Sun Dec 04 04:47:44 20051").is_none());
    }

    #[test]
    fn abbreviations_and_hints() {
        assert_eq!(zone_abbreviation("CEST"), Some(7200));
        assert_eq!(zone_abbreviation("-03"), Some(-10800));
        assert_eq!(zone_abbreviation("XYZ"), None);
        assert!(parse_zone_name("Europe/Paris").is_some());
        assert!(parse_zone_name("+05:30").is_some());
        assert!(parse_zone_name("Not/AZone").is_none());
    }
}
