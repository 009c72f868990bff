//! Small parsers shared by schedules and policies: names, instants, ISO 8601 spans, times of
//! day and weekdays. Each takes the field path it reports in its error.

use jiff::civil::Weekday;
use jiff::{Span, Timestamp};

use crate::error::NotifyError;

/// Longest accepted name (user, schedule, policy), in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// A name: trimmed, non-empty, at most [`MAX_NAME_CHARS`], no control or bidirectional formatting characters.
pub(crate) fn name(field: &str, raw: &str) -> Result<String, NotifyError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(NotifyError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(NotifyError::invalid(
            field,
            format!("longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(why) = cordon_core::text::line_refusal(trimmed) {
        return Err(NotifyError::invalid(field, why));
    }
    Ok(trimmed.to_owned())
}

/// An RFC 3339 instant with an offset, e.g. `2025-03-03T09:00:00+01:00` or `…Z`.
pub(crate) fn instant(field: &str, raw: &str) -> Result<Timestamp, NotifyError> {
    raw.trim().parse::<Timestamp>().map_err(|e| {
        NotifyError::invalid(
            field,
            format!("expected an RFC 3339 instant with an offset such as 2025-03-03T09:00:00Z ({e})"),
        )
    })
}

/// A positive ISO 8601 duration such as `P7D`, `PT12H` or `PT5M` (jiff's friendly form, `7d`,
/// is accepted too). Sub-second units are refused: nothing here is that precise.
pub(crate) fn span(field: &str, raw: &str) -> Result<Span, NotifyError> {
    let span = raw.trim().parse::<Span>().map_err(|e| {
        NotifyError::invalid(
            field,
            format!("expected an ISO 8601 duration such as P7D, PT12H or PT5M ({e})"),
        )
    })?;
    if !span.is_positive() {
        return Err(NotifyError::invalid(field, "must be longer than zero"));
    }
    if span.get_milliseconds() != 0 || span.get_microseconds() != 0 || span.get_nanoseconds() != 0 {
        return Err(NotifyError::invalid(field, "must be a whole number of seconds"));
    }
    Ok(span)
}

/// A local time of day `HH:MM` or `HH:MM:SS`, as seconds since midnight. `24:00` is accepted
/// and means the end of the day (86 400).
pub(crate) fn time_of_day(field: &str, raw: &str) -> Result<u32, NotifyError> {
    let bad = || NotifyError::invalid(field, format!("expected HH:MM or HH:MM:SS, got {raw:?}"));
    let parts: Vec<&str> = raw.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut nums = [0u32; 3];
    for (slot, part) in nums.iter_mut().zip(&parts) {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    let [h, m, s] = nums;
    if h == 24 && m == 0 && s == 0 {
        return Ok(86_400);
    }
    if h > 23 || m > 59 || s > 59 {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60 + s)
}

/// Formats seconds since midnight as `HH:MM` (or `HH:MM:SS` when seconds are set).
pub(crate) fn format_time_of_day(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// A weekday by English name or three-letter abbreviation, any case.
pub(crate) fn weekday(field: &str, raw: &str) -> Result<Weekday, NotifyError> {
    let lower = raw.trim().to_ascii_lowercase();
    let day = match lower.as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => {
            return Err(NotifyError::invalid(
                field,
                format!("expected a weekday such as mon or monday, got {raw:?}"),
            ));
        }
    };
    Ok(day)
}

/// The three-letter lower-case abbreviation, as accepted by [`weekday`].
pub(crate) fn weekday_abbrev(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        for (raw, want) in [
            ("00:00", Some(0)),
            ("09:00", Some(32_400)),
            ("17:30:15", Some(63_015)),
            ("24:00", Some(86_400)),
            ("24:00:00", Some(86_400)),
            ("24:01", None),
            ("9:00", None),
            ("09:60", None),
            ("09", None),
            ("+9:00", None),
            ("", None),
        ] {
            assert_eq!(time_of_day("t", raw).ok(), want, "{raw}");
        }
        assert_eq!(format_time_of_day(32_400), "09:00");
        assert_eq!(format_time_of_day(63_015), "17:30:15");
    }

    #[test]
    fn spans() {
        assert!(span("s", "P7D").is_ok());
        assert!(span("s", "PT12H").is_ok());
        assert!(span("s", "PT0S").is_err());
        assert!(span("s", "-P1D").is_err());
        assert!(span("s", "PT0.5S").is_err());
        assert!(span("s", "weekly").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(name("n", "  alice ").unwrap(), "alice");
        assert!(name("n", "   ").is_err());
        assert!(name("n", "a\nb").is_err());
        assert!(name("n", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
