//! Rotation arithmetic: where shift `k` of a layer starts, and which shift holds an instant.
//!
//! Shifts are laid out in wall-clock time in the schedule's zone: shift `k` starts at
//! `handoff_local + k × shift`, computed with calendar arithmetic on civil date-times, then
//! mapped to an instant. So a `P1D` rotation handing off at 09:00 hands off at 09:00 local on
//! every day of the year, and a `PT12H` rotation at 08:00/20:00 keeps those hours; the shift
//! that spans a DST change is an hour shorter or longer. `k × shift` is a multiplication, not
//! `k` repeated additions, so a `P1M` rotation from the 31st hands off on the last day of short
//! months and on the 31st again after them.
//!
//! Mapping wall-clock times to instants ([`local_to_instant`]) is monotonic, so shifts never
//! overlap: a boundary in a DST gap (a local time that does not exist) moves to the end of the
//! gap, and one in a repeated hour takes its first occurrence. A shift squeezed to nothing by a
//! gap is skipped. Finding the shift of an instant ([`Rotation::index_at`]) estimates the index
//! arithmetically and corrects it by a bounded galloping and binary search, so it costs the
//! same for a handoff last week as for one ten thousand years away.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, SpanFieldwise, Timestamp};

/// Maps a wall-clock time in `tz` to an instant. Monotonic: a time inside a DST gap maps to
/// the instant of the transition (the end of the gap); a time inside a repeated hour maps to
/// its first occurrence. `None` only at the edges of representable time.
pub(crate) fn local_to_instant(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok(),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok(),
        AmbiguousOffset::Gap { before, after } => {
            // Read with the later offset the time lies just before the transition; the
            // transition that follows is the end of the gap.
            let just_before = after.to_timestamp(local).ok()?;
            match tz.following(just_before).next() {
                Some(transition) => Some(transition.timestamp()),
                None => before.to_timestamp(local).ok(),
            }
        }
    }
}

/// Like [`local_to_instant`] but saturating at the edges of representable time, which keeps
/// the mapping total and monotonic.
pub(crate) fn local_to_instant_saturating(tz: &TimeZone, local: DateTime) -> Timestamp {
    local_to_instant(tz, local).unwrap_or(if local.year() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The arithmetic of one layer's rotation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rotation {
    tz: TimeZone,
    /// The handoff instant as wall-clock time in the schedule's zone: the start of shift 0.
    anchor: DateTime,
    /// Compared field by field: `P1D` and `PT24H` are different rotations.
    shift: SpanFieldwise,
    /// The shift length in seconds with average months and years; only used to estimate.
    approx_secs: f64,
}

impl Rotation {
    pub(crate) fn new(tz: TimeZone, handoff: Timestamp, shift: Span) -> Self {
        let anchor = tz.to_datetime(handoff);
        Self {
            tz,
            anchor,
            shift: shift.fieldwise(),
            approx_secs: approx_seconds(shift),
        }
    }

    pub(crate) fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The start of shift `k`, saturated at `Timestamp::MIN`/`MAX` outside representable time.
    /// Non-decreasing in `k`.
    pub(crate) fn boundary(&self, k: i64) -> Timestamp {
        let saturated = if k < 0 { Timestamp::MIN } else { Timestamp::MAX };
        let Ok(offset) = self.shift.0.checked_mul(k) else {
            return saturated;
        };
        let Ok(local) = self.anchor.checked_add(offset) else {
            return saturated;
        };
        local_to_instant_saturating(&self.tz, local)
    }

    /// The index of the shift holding `t`: the largest `k` with `boundary(k) <= t`. `None`
    /// only when no such index exists within `i64` (at the very edges of representable time).
    pub(crate) fn index_at(&self, t: Timestamp) -> Option<i64> {
        let local = self.tz.to_datetime(t);
        let elapsed = local.duration_since(self.anchor).as_secs_f64();
        let estimate = (elapsed / self.approx_secs).floor();
        // Civil time spans about 20 000 years, so any real index is far inside this clamp.
        let guess = if estimate.is_finite() {
            estimate.clamp(-1.0e12, 1.0e12) as i64
        } else {
            0
        };
        // Gallop from the estimate until the answer is bracketed: boundary(lo) <= t < boundary(hi).
        let (mut lo, mut hi);
        let mut step: i64 = 1;
        if self.boundary(guess) <= t {
            lo = guess;
            loop {
                let probe = lo.checked_add(step)?;
                if self.boundary(probe) > t {
                    hi = probe;
                    break;
                }
                lo = probe;
                step = step.checked_mul(2)?;
            }
        } else {
            hi = guess;
            loop {
                let probe = hi.checked_sub(step)?;
                if self.boundary(probe) <= t {
                    lo = probe;
                    break;
                }
                hi = probe;
                step = step.checked_mul(2)?;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.boundary(mid) <= t {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(lo)
    }
}

/// A span's length in seconds, counting a day as 24 h, a month as 1/12 of an average
/// Gregorian year and a year as 365.2425 days.
pub(crate) fn approx_seconds(span: Span) -> f64 {
    f64::from(span.get_years()) * 31_556_952.0
        + f64::from(span.get_months()) * 2_629_746.0
        + f64::from(span.get_weeks()) * 604_800.0
        + f64::from(span.get_days()) * 86_400.0
        + f64::from(span.get_hours()) * 3_600.0
        + span.get_minutes() as f64 * 60.0
        + span.get_seconds() as f64
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan;
    use jiff::civil::date;

    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    #[test]
    fn gap_times_map_to_the_end_of_the_gap_and_folds_to_the_first_occurrence() {
        let tz = berlin();
        // 2025-03-30 02:00–03:00 does not exist in Berlin; the clocks jump at 01:00Z.
        let jump: Timestamp = "2025-03-30T01:00:00Z".parse().unwrap();
        for minute in [0, 1, 30, 59] {
            let local = date(2025, 3, 30).at(2, minute, 0, 0);
            assert_eq!(local_to_instant(&tz, local), Some(jump), "02:{minute}");
        }
        // 2025-10-26 02:00–03:00 happens twice; the first time is in CEST (+02:00).
        let local = date(2025, 10, 26).at(2, 30, 0, 0);
        assert_eq!(
            local_to_instant(&tz, local),
            Some("2025-10-26T00:30:00Z".parse().unwrap())
        );
    }

    #[test]
    fn index_at_agrees_with_boundaries() {
        let tz = berlin();
        let handoff: Timestamp = "2025-01-06T09:00:00+01:00".parse().unwrap();
        for shift in [1.day(), 1.week(), 12.hours(), 1.month(), 1.year(), 5.hours()] {
            let rotation = Rotation::new(tz.clone(), handoff, shift);
            for probe in [
                "1990-02-03T04:05:06Z",
                "2025-01-06T08:00:00Z",
                "2025-03-30T01:30:00Z",
                "2025-10-26T00:59:59Z",
                "2400-12-31T23:59:59Z",
            ] {
                let t: Timestamp = probe.parse().unwrap();
                let k = rotation.index_at(t).unwrap();
                assert!(rotation.boundary(k) <= t, "{shift} {probe}");
                assert!(rotation.boundary(k + 1) > t, "{shift} {probe}");
            }
        }
    }

    #[test]
    fn edges_of_time_do_not_hang() {
        let rotation = Rotation::new(berlin(), Timestamp::UNIX_EPOCH, 1.hour());
        assert!(rotation.index_at(Timestamp::MAX).is_none());
        assert!(rotation.index_at(Timestamp::MIN).is_some());
    }
}
