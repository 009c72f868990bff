//! Restrictions: the windows of local time in which a layer is on duty, e.g. 09:00–17:00
//! Monday to Friday, or Friday 18:00 to Monday 08:00.
//!
//! Every restriction becomes one or more weekly windows (start second of the week counted from
//! Monday 00:00 local, length). A layer's windows are merged into a canonical, disjoint,
//! sorted set, so touching windows (Monday 00:00–24:00 and Tuesday 00:00–24:00) are one
//! stretch of duty and a set covering the whole week means "no restriction". Window edges are
//! wall-clock times mapped to instants with the same monotonic rule as shift boundaries, so a
//! 09:00 window start stays 09:00 across DST changes.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::rotation::local_to_instant_saturating;
use crate::error::NotifyError;
use crate::parse;

pub(crate) const DAY_SECS: u32 = 86_400;
pub(crate) const WEEK_SECS: u32 = 7 * DAY_SECS;

/// A window of local time in which a layer is on duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    /// On each of `days`, from `start` to `end` (seconds since local midnight). When `end` is
    /// not after `start` the window runs past midnight into the next day; `end` = 86 400 is
    /// the end of the day (written `24:00`).
    Daily { days: Vec<Weekday>, start: u32, end: u32 },
    /// From `start` on `start_day` to `end` on `end_day` (seconds since local midnight),
    /// wrapping around the end of the week when needed.
    Weekly {
        start_day: Weekday,
        start: u32,
        end_day: Weekday,
        end: u32,
    },
}

/// The unvalidated form of a [`Restriction`], as it arrives from a caller or is stored.
///
/// ```json
/// {"type": "daily", "start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
/// {"type": "weekly", "start_day": "fri", "start": "18:00", "end_day": "mon", "end": "08:00"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RestrictionSpec {
    /// `days` empty means every day.
    Daily {
        start: String,
        end: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        days: Vec<String>,
    },
    Weekly {
        start_day: String,
        start: String,
        end_day: String,
        end: String,
    },
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

impl Restriction {
    /// Validates `spec`; `field` is the path used in errors.
    pub fn parse(field: &str, spec: &RestrictionSpec) -> Result<Self, NotifyError> {
        match spec {
            RestrictionSpec::Daily { start, end, days } => {
                let start_secs = parse::time_of_day(&format!("{field}.start"), start)?;
                let end_secs = parse::time_of_day(&format!("{field}.end"), end)?;
                if start_secs == DAY_SECS {
                    return Err(NotifyError::invalid(
                        format!("{field}.start"),
                        "24:00 is only allowed as an end",
                    ));
                }
                if start_secs == end_secs {
                    return Err(NotifyError::invalid(
                        field,
                        "start and end are equal; for all-day duty use 00:00–24:00",
                    ));
                }
                let mut parsed = Vec::new();
                for (i, day) in days.iter().enumerate() {
                    parsed.push(parse::weekday(&format!("{field}.days[{i}]"), day)?);
                }
                if parsed.is_empty() {
                    parsed = ALL_DAYS.to_vec();
                }
                parsed.sort_by_key(|d| d.to_monday_zero_offset());
                parsed.dedup();
                Ok(Self::Daily {
                    days: parsed,
                    start: start_secs,
                    end: end_secs,
                })
            }
            RestrictionSpec::Weekly {
                start_day,
                start,
                end_day,
                end,
            } => {
                let parsed = Self::Weekly {
                    start_day: parse::weekday(&format!("{field}.start_day"), start_day)?,
                    start: parse::time_of_day(&format!("{field}.start"), start)?,
                    end_day: parse::weekday(&format!("{field}.end_day"), end_day)?,
                    end: parse::time_of_day(&format!("{field}.end"), end)?,
                };
                if parsed.windows()[0].1 == 0 {
                    return Err(NotifyError::invalid(
                        field,
                        "start and end are the same moment of the week",
                    ));
                }
                Ok(parsed)
            }
        }
    }

    /// Back to the unvalidated form (round-trips through [`Restriction::parse`]).
    pub fn to_spec(&self) -> RestrictionSpec {
        match self {
            Self::Daily { days, start, end } => RestrictionSpec::Daily {
                start: parse::format_time_of_day(*start),
                end: parse::format_time_of_day(*end),
                days: days.iter().map(|d| parse::weekday_abbrev(*d).to_owned()).collect(),
            },
            Self::Weekly {
                start_day,
                start,
                end_day,
                end,
            } => RestrictionSpec::Weekly {
                start_day: parse::weekday_abbrev(*start_day).to_owned(),
                start: parse::format_time_of_day(*start),
                end_day: parse::weekday_abbrev(*end_day).to_owned(),
                end: parse::format_time_of_day(*end),
            },
        }
    }

    /// The weekly windows `(start second of the week, length in seconds)` of this restriction.
    fn windows(&self) -> Vec<(u32, u32)> {
        match self {
            Self::Daily { days, start, end } => {
                let len = if end > start {
                    end - start
                } else {
                    end + DAY_SECS - start
                };
                days.iter().map(|d| (week_second(*d, *start), len)).collect()
            }
            Self::Weekly {
                start_day,
                start,
                end_day,
                end,
            } => {
                let from = week_second(*start_day, *start);
                let to = week_second(*end_day, *end);
                let len = (to + WEEK_SECS - from) % WEEK_SECS;
                vec![(from % WEEK_SECS, len)]
            }
        }
    }
}

fn week_second(day: Weekday, secs_of_day: u32) -> u32 {
    let day = u32::try_from(day.to_monday_zero_offset()).unwrap_or(0);
    day * DAY_SECS + secs_of_day
}

/// The merged windows of a set of restrictions. `None` means "on duty all the time" (no
/// restriction, or restrictions covering the whole week).
pub(crate) fn canonical_windows(restrictions: &[Restriction]) -> Option<Vec<(u32, u32)>> {
    if restrictions.is_empty() {
        return None;
    }
    // Unwrap every window onto [0, WEEK) as half-open intervals, then merge.
    let mut intervals: Vec<(u32, u32)> = Vec::new();
    for (start, len) in restrictions.iter().flat_map(Restriction::windows) {
        let start = start % WEEK_SECS;
        let end = start + len;
        if end <= WEEK_SECS {
            intervals.push((start, end));
        } else {
            intervals.push((start, WEEK_SECS));
            intervals.push((0, end - WEEK_SECS));
        }
    }
    intervals.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    if merged == [(0, WEEK_SECS)] {
        return None;
    }
    // A stretch running through Sunday midnight is one window, not two.
    if merged.len() > 1 && merged[0].0 == 0 && merged[merged.len() - 1].1 == WEEK_SECS {
        let first = merged.remove(0);
        if let Some(last) = merged.last_mut() {
            last.1 = WEEK_SECS + first.1;
        }
    }
    Some(merged.into_iter().map(|(s, e)| (s, e - s)).collect())
}

/// Upper bound on the weeks [`window_instances`] walks; callers ask for far less (a listing
/// window or one shift, each about a year at most). Only absurd inputs at the edges of
/// representable time reach it.
const MAX_WEEKS: usize = 120;

/// The instances of `windows` in `tz` that intersect `[lo, hi)`, in time order, not clipped to
/// `[lo, hi)`. Instances squeezed to nothing by a DST gap are left out.
pub(crate) fn window_instances(
    tz: &TimeZone,
    windows: &[(u32, u32)],
    lo: Timestamp,
    hi: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    let first = tz.to_datetime(lo).date();
    let last = tz.to_datetime(hi).date();
    // Start a week early: a window that wraps past Sunday midnight started the week before.
    let back = i64::from(first.weekday().to_monday_zero_offset()) + 7;
    let mut monday = first.checked_sub(back.days()).unwrap_or(first);
    for _ in 0..MAX_WEEKS {
        if monday > last {
            break;
        }
        let midnight = monday.to_datetime(Time::midnight());
        for &(start, len) in windows {
            let Ok(local_start) = midnight.checked_add(SignedDuration::from_secs(i64::from(start))) else {
                continue;
            };
            let Ok(local_end) = local_start.checked_add(SignedDuration::from_secs(i64::from(len))) else {
                continue;
            };
            let s = local_to_instant_saturating(tz, local_start);
            let e = local_to_instant_saturating(tz, local_end);
            if s < e && e > lo && s < hi {
                out.push((s, e));
            }
        }
        match monday.checked_add(1.week()) {
            Ok(next) => monday = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daily(start: &str, end: &str, days: &[&str]) -> Restriction {
        let spec = RestrictionSpec::Daily {
            start: start.into(),
            end: end.into(),
            days: days.iter().map(|d| d.to_string()).collect(),
        };
        Restriction::parse("r", &spec).unwrap()
    }

    #[test]
    fn merging_windows() {
        const H: u32 = 3600;
        type Windows = Option<Vec<(u32, u32)>>;
        let cases: Vec<(Vec<Restriction>, Windows)> = vec![
            (vec![], None),
            (vec![daily("00:00", "24:00", &[])], None),
            (vec![daily("09:00", "17:00", &["mon"])], Some(vec![(9 * H, 8 * H)])),
            // Monday and Tuesday all day touch: one window.
            (vec![daily("00:00", "24:00", &["mon", "tue"])], Some(vec![(0, 48 * H)])),
            // Overnight Sunday into Monday wraps the week.
            (
                vec![daily("22:00", "06:00", &["sun"])],
                Some(vec![(6 * 24 * H + 22 * H, 8 * H)]),
            ),
            // Sunday evening and Monday morning join across the week's end.
            (
                vec![
                    daily("18:00", "24:00", &["sun"]),
                    daily("00:00", "08:00", &["mon"]),
                    daily("12:00", "13:00", &["wed"]),
                ],
                Some(vec![(2 * 24 * H + 12 * H, H), (6 * 24 * H + 18 * H, 14 * H)]),
            ),
            // Overlapping windows merge.
            (
                vec![daily("09:00", "12:00", &["mon"]), daily("11:00", "17:00", &["mon"])],
                Some(vec![(9 * H, 8 * H)]),
            ),
        ];
        for (restrictions, want) in cases {
            assert_eq!(canonical_windows(&restrictions), want, "{restrictions:?}");
        }
    }

    #[test]
    fn bad_restrictions_are_refused() {
        let bad = [
            RestrictionSpec::Daily {
                start: "09:00".into(),
                end: "09:00".into(),
                days: vec![],
            },
            RestrictionSpec::Daily {
                start: "24:00".into(),
                end: "09:00".into(),
                days: vec![],
            },
            RestrictionSpec::Daily {
                start: "09:00".into(),
                end: "17:00".into(),
                days: vec!["funday".into()],
            },
            RestrictionSpec::Weekly {
                start_day: "mon".into(),
                start: "09:00".into(),
                end_day: "mon".into(),
                end: "09:00".into(),
            },
            RestrictionSpec::Weekly {
                start_day: "sun".into(),
                start: "24:00".into(),
                end_day: "mon".into(),
                end: "00:00".into(),
            },
        ];
        for spec in bad {
            assert!(Restriction::parse("r", &spec).is_err(), "{spec:?}");
        }
    }

    #[test]
    fn round_trip() {
        let spec = RestrictionSpec::Weekly {
            start_day: "fri".into(),
            start: "18:00".into(),
            end_day: "mon".into(),
            end: "08:00".into(),
        };
        let parsed = Restriction::parse("r", &spec).unwrap();
        assert_eq!(parsed.to_spec(), spec);
        assert_eq!(Restriction::parse("r", &parsed.to_spec()).unwrap(), parsed);
    }

    #[test]
    fn instances_keep_local_hours_across_dst() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let windows = canonical_windows(&[daily("09:00", "17:00", &[])]).unwrap();
        let lo: Timestamp = "2025-03-29T00:00:00Z".parse().unwrap();
        let hi: Timestamp = "2025-04-01T00:00:00Z".parse().unwrap();
        let got: Vec<String> = window_instances(&tz, &windows, lo, hi)
            .into_iter()
            .map(|(s, e)| format!("{s}..{e}"))
            .collect();
        assert_eq!(
            got,
            [
                "2025-03-29T08:00:00Z..2025-03-29T16:00:00Z",
                "2025-03-30T07:00:00Z..2025-03-30T15:00:00Z",
                "2025-03-31T07:00:00Z..2025-03-31T15:00:00Z",
            ]
        );
    }
}
