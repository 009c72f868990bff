//! The time zone a report shows its times in: an IANA name (`Europe/Berlin`), UTC by default.
//! Parsed once at the boundary; an unknown name is refused naming the parameter.

use cordon_core::Timestamp;
use jiff::tz::TimeZone;

use crate::{Result, ServiceError};

/// The zone of a report's times, with the name the reader gave.
#[derive(Debug, Clone)]
pub struct ReportZone {
    name: String,
    tz: TimeZone,
}

impl Default for ReportZone {
    fn default() -> Self {
        Self {
            name: "UTC".into(),
            tz: TimeZone::UTC,
        }
    }
}

impl ReportZone {
    /// `None`: UTC. Otherwise an IANA time zone name; anything else (a blank one included) is
    /// refused as field `field` (the query parameter or flag that carried it).
    pub fn parse(field: &'static str, raw: Option<&str>) -> Result<Self> {
        let Some(name) = raw.map(str::trim) else {
            return Ok(Self::default());
        };
        let refuse = || {
            ServiceError::invalid(
                field,
                format!(
                    "`{}`: not an IANA time zone name; use one like UTC, Europe/Berlin or America/New_York",
                    name.chars().take(64).collect::<String>()
                ),
            )
        };
        // IANA names are short ASCII paths (`America/Argentina/Buenos_Aires`).
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        {
            return Err(refuse());
        }
        let tz = TimeZone::get(name).map_err(|_| refuse())?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    /// Every name [`ReportZone::parse`] accepts as written, sorted (for the API description).
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_owned())
            .filter(|n| Self::parse("tz", Some(n)).is_ok_and(|z| z.name == *n))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The IANA name, e.g. `Europe/Berlin`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `2026-11-27 13:00 CET`.
    pub fn minute(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// `2026-11-27 13:00:05 CET`.
    pub fn second(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    /// `27 November 2026 at 13:00 CET`, for sentences.
    pub fn spoken(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%-d %B %Y at %H:%M %Z")
            .to_string()
    }

    /// Whether this zone shows `t` as `other` would (same offset at that instant).
    pub fn same_as(&self, other: &TimeZone, t: Timestamp) -> bool {
        self.tz.to_offset(t) == other.to_offset(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_by_iana_name_and_refuse_the_rest() {
        let t: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        assert_eq!(ReportZone::parse("tz", None).unwrap().minute(t), "2026-11-27 12:00 UTC");
        let berlin = ReportZone::parse("tz", Some("Europe/Berlin")).unwrap();
        assert_eq!(berlin.name(), "Europe/Berlin");
        assert_eq!(berlin.minute(t), "2026-11-27 13:00 CET");
        assert_eq!(berlin.spoken(t), "27 November 2026 at 13:00 CET");
        let names = ReportZone::names();
        assert!(names.iter().any(|n| n == "Europe/Berlin") && names.iter().any(|n| n == "UTC"));
        for bad in [
            "",
            " ",
            "Mars/Olympus",
            "Europe/Berlin; DROP",
            "../../etc/passwd",
            &"A".repeat(80),
        ] {
            let e = ReportZone::parse("tz", Some(bad)).unwrap_err();
            assert!(e.to_string().starts_with("tz:"), "{e}");
        }
    }
}
