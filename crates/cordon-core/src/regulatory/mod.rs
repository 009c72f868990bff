//! Regulatory clocks: which deadlines a notification regime sets, counted from the event its
//! law names (awareness, classification, materiality determination, discovery, knowledge).
//!
//! Pure: the start and `now` are parameters. Business days come from [`Jurisdiction`]
//! calendars. The figures follow `notes/pagerduty-paging-regulation.md` §3; counsel decides
//! which regimes apply — Cordon only counts.

pub mod calendar;

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

pub use calendar::Jurisdiction;

use crate::error::DomainError;

/// A notification regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Regime {
    /// GDPR Art. 33: the supervisory authority within 72 hours of becoming aware.
    Gdpr,
    /// NIS2 Art. 23: early warning 24 h, notification 72 h, final report one month later.
    Nis2,
    /// DORA (RTS 2025/301): initial 4 h from classification, intermediate 72 h after the
    /// initial notification, final one month after the intermediate report.
    Dora,
    /// SEC Form 8-K Item 1.05: four business days after the materiality determination.
    Sec8k,
    /// HIPAA 45 CFR 164.404: individuals (and HHS for 500 or more) within 60 days of discovery.
    Hipaa,
    /// Japan APPI Art. 26: preliminary report promptly (3–5 days), final within 30 days
    /// (60 for the unlawful-purpose category).
    Appi,
}

impl Regime {
    pub const ALL: [Self; 6] = [Self::Gdpr, Self::Nis2, Self::Dora, Self::Sec8k, Self::Hipaa, Self::Appi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gdpr => "gdpr",
            Self::Nis2 => "nis2",
            Self::Dora => "dora",
            Self::Sec8k => "sec-8k",
            Self::Hipaa => "hipaa",
            Self::Appi => "appi",
        }
    }

    /// The event the clock starts from, as the law names it.
    pub fn anchor(self) -> &'static str {
        match self {
            Self::Gdpr | Self::Nis2 => "awareness of the incident",
            Self::Dora => "classification as a major ICT-related incident",
            Self::Sec8k => "determination that the incident is material",
            Self::Hipaa => "discovery of the breach",
            Self::Appi => "knowledge of the leak (認識)",
        }
    }

    /// Whether the law counts business days, so its deadlines are local days of the
    /// jurisdiction (and are best shown in its zone).
    pub fn counts_business_days(self) -> bool {
        matches!(self, Self::Sec8k)
    }

    /// The calendar used when the caller names none.
    pub fn default_jurisdiction(self) -> Jurisdiction {
        match self {
            Self::Gdpr | Self::Nis2 | Self::Dora => Jurisdiction::Eu,
            Self::Sec8k | Self::Hipaa => Jurisdiction::Us,
            Self::Appi => Jurisdiction::Jp,
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::names::Named for Regime {
    const FIELD: &'static str = "regime";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn alias(key: &str) -> Option<Self> {
        matches!(key, "sec" | "8_k" | "sec8k" | "sec_8_k").then_some(Self::Sec8k)
    }
}

impl FromStr for Regime {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

/// A clock's parameters as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSpec {
    pub regime: Regime,
    pub started_at: Timestamp,
    pub jurisdiction: Jurisdiction,
    /// APPI: the leak was caused by an act with an unlawful purpose (final report in 60 days).
    pub unlawful_purpose: bool,
}

impl ClockSpec {
    /// Checks the start against `now`: a clock cannot start in the future.
    pub fn new(
        regime: Regime,
        started_at: Timestamp,
        jurisdiction: Option<Jurisdiction>,
        unlawful_purpose: bool,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        if started_at > now {
            return Err(DomainError::invalid(
                "started_at",
                format!("{started_at} is in the future; record the event once it has happened"),
            ));
        }
        if unlawful_purpose && regime != Regime::Appi {
            return Err(DomainError::invalid(
                "unlawful_purpose",
                "only the APPI regime has an unlawful-purpose category",
            ));
        }
        Ok(Self {
            regime,
            started_at,
            jurisdiction: jurisdiction.unwrap_or(regime.default_jurisdiction()),
            unlawful_purpose,
        })
    }
}

/// One deadline of a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    /// Stable name, e.g. `supervisory_authority`, `early_warning`, `form_8k`.
    pub name: &'static str,
    pub description: &'static str,
    pub due: Timestamp,
}

/// Where a milestone stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneStatus {
    Pending,
    Met,
    Missed,
}

impl MilestoneStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Met => "met",
            Self::Missed => "missed",
        }
    }

    /// Met when done by the deadline; missed once the deadline passed (or it was done late).
    pub fn of(due: Timestamp, met_at: Option<Timestamp>, now: Timestamp) -> Self {
        match met_at {
            Some(at) if at <= due => Self::Met,
            Some(_) => Self::Missed,
            None if now > due => Self::Missed,
            None => Self::Pending,
        }
    }
}

fn hours(start: Timestamp, h: i64) -> Timestamp {
    start
        .saturating_add(SignedDuration::from_hours(h))
        .expect("adding hours to a timestamp")
}

fn days(start: Timestamp, d: i64) -> Timestamp {
    hours(start, d * 24)
}

/// Calendar months later, in UTC (the same day of the month, clamped at month end).
fn months(start: Timestamp, m: i64) -> Timestamp {
    let z = start.to_zoned_datetime(TimeZone::UTC);
    z.checked_add(m.months())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

/// The end of the `n`th business day after the start's day, in the jurisdiction's zone.
fn business_days_end(start: Timestamp, n: u32, j: Jurisdiction) -> Timestamp {
    let tz = TimeZone::get(j.time_zone()).unwrap_or(TimeZone::UTC);
    let local = start.to_zoned_datetime(tz.clone()).date();
    let due = j.add_business_days(local, n);
    due.at(23, 59, 59, 0)
        .to_zoned_datetime(tz)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

/// The deadlines of a clock, in order.
pub fn milestones(spec: &ClockSpec) -> Vec<Milestone> {
    let s = spec.started_at;
    match spec.regime {
        Regime::Gdpr => vec![Milestone {
            name: "supervisory_authority",
            description: "Notify the supervisory authority (Art. 33), where feasible",
            due: hours(s, 72),
        }],
        Regime::Nis2 => {
            let notification = hours(s, 72);
            vec![
                Milestone {
                    name: "early_warning",
                    description: "Early warning to the CSIRT or competent authority (Art. 23(4)(a))",
                    due: hours(s, 24),
                },
                Milestone {
                    name: "incident_notification",
                    description: "Incident notification with an initial assessment (Art. 23(4)(b))",
                    due: notification,
                },
                Milestone {
                    name: "final_report",
                    description: "Final report, one month after the incident notification (Art. 23(4)(d))",
                    due: months(notification, 1),
                },
            ]
        }
        Regime::Dora => {
            let initial = hours(s, 4);
            let intermediate = hours(initial, 72);
            vec![
                Milestone {
                    name: "initial_notification",
                    description: "Initial notification, 4 hours from classification (and within 24 hours of awareness)",
                    due: initial,
                },
                Milestone {
                    name: "intermediate_report",
                    description: "Intermediate report, 72 hours after the initial notification",
                    due: intermediate,
                },
                Milestone {
                    name: "final_report",
                    description: "Final report, one month after the intermediate report",
                    due: months(intermediate, 1),
                },
            ]
        }
        Regime::Sec8k => vec![Milestone {
            name: "form_8k",
            description: "File Form 8-K Item 1.05, four business days after the materiality determination",
            due: business_days_end(s, 4, spec.jurisdiction),
        }],
        Regime::Hipaa => vec![
            Milestone {
                name: "individual_notice",
                description: "Notify affected individuals without unreasonable delay, at the latest 60 days after discovery",
                due: days(s, 60),
            },
            Milestone {
                name: "hhs_notice",
                description: "Notify HHS (and the media) when 500 or more individuals are affected",
                due: days(s, 60),
            },
        ],
        Regime::Appi => vec![
            Milestone {
                name: "preliminary_report",
                description: "速報: preliminary report to the PPC promptly (guideline: 3–5 days)",
                due: days(s, 5),
            },
            Milestone {
                name: "final_report",
                description: if spec.unlawful_purpose {
                    "確報: final report within 60 days (unlawful-purpose category)"
                } else {
                    "確報: final report within 30 days"
                },
                due: days(s, if spec.unlawful_purpose { 60 } else { 30 }),
            },
        ],
    }
}

/// When to remind the incident commander before a deadline.
pub const REMINDER_LEADS: [SignedDuration; 2] = [SignedDuration::from_hours(24), SignedDuration::from_hours(1)];

/// The reminder instants for a deadline that are still ahead of `now`. A clock started so
/// late that every lead has passed but the deadline has not gets one reminder at once.
pub fn reminders(due: Timestamp, now: Timestamp) -> Vec<Timestamp> {
    let ahead: Vec<Timestamp> = REMINDER_LEADS
        .iter()
        .filter_map(|lead| due.checked_sub(*lead).ok())
        .filter(|at| *at > now)
        .collect();
    if ahead.is_empty() && due > now {
        vec![now]
    } else {
        ahead
    }
}

/// When the postmortem meeting is due after an incident resolved at `resolved`: within 3
/// calendar days for SEV-1, within 5 business days (the end of the fifth) otherwise.
pub fn postmortem_meeting_due(severity_level: u8, resolved: Timestamp, calendar: Jurisdiction) -> Timestamp {
    if severity_level <= 1 {
        days(resolved, 3)
    } else {
        business_days_end(resolved, 5, calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn spec(regime: Regime, start: &str) -> ClockSpec {
        ClockSpec::new(regime, t(start), None, false, t("2030-01-01T00:00:00Z")).unwrap()
    }

    fn due(ms: &[Milestone], name: &str) -> String {
        ms.iter().find(|m| m.name == name).unwrap().due.to_string()
    }

    #[test]
    fn gdpr_is_72_hours_from_awareness() {
        let ms = milestones(&spec(Regime::Gdpr, "2026-11-27T09:30:00Z"));
        assert_eq!(due(&ms, "supervisory_authority"), "2026-11-30T09:30:00Z");
    }

    #[test]
    fn nis2_has_three_stages() {
        let ms = milestones(&spec(Regime::Nis2, "2026-01-30T10:00:00Z"));
        assert_eq!(due(&ms, "early_warning"), "2026-01-31T10:00:00Z");
        assert_eq!(due(&ms, "incident_notification"), "2026-02-02T10:00:00Z");
        assert_eq!(due(&ms, "final_report"), "2026-03-02T10:00:00Z");
    }

    #[test]
    fn dora_counts_from_classification() {
        let ms = milestones(&spec(Regime::Dora, "2026-05-29T20:00:00Z"));
        assert_eq!(due(&ms, "initial_notification"), "2026-05-30T00:00:00Z");
        assert_eq!(due(&ms, "intermediate_report"), "2026-06-02T00:00:00Z");
        assert_eq!(due(&ms, "final_report"), "2026-07-02T00:00:00Z");
    }

    #[test]
    fn sec_8k_skips_thanksgiving_and_the_weekend() {
        // Determined on Wednesday 2026-11-25 at 15:00 in New York.
        let ms = milestones(&spec(Regime::Sec8k, "2026-11-25T20:00:00Z"));
        // End of Wednesday 2 December, New York time (EST, UTC-5).
        assert_eq!(due(&ms, "form_8k"), "2026-12-03T04:59:59Z");
        // A determination late on Wednesday evening in New York is still Wednesday there.
        let ms = milestones(&spec(Regime::Sec8k, "2026-11-26T03:00:00Z"));
        assert_eq!(due(&ms, "form_8k"), "2026-12-03T04:59:59Z");
    }

    #[test]
    fn hipaa_is_60_calendar_days() {
        let ms = milestones(&spec(Regime::Hipaa, "2026-11-27T12:00:00Z"));
        assert_eq!(due(&ms, "individual_notice"), "2027-01-26T12:00:00Z");
    }

    #[test]
    fn appi_final_report_depends_on_the_category() {
        let ms = milestones(&spec(Regime::Appi, "2026-04-28T03:00:00Z"));
        assert_eq!(due(&ms, "preliminary_report"), "2026-05-03T03:00:00Z");
        assert_eq!(due(&ms, "final_report"), "2026-05-28T03:00:00Z");
        let s = ClockSpec::new(
            Regime::Appi,
            t("2026-04-28T03:00:00Z"),
            None,
            true,
            t("2027-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(due(&milestones(&s), "final_report"), "2026-06-27T03:00:00Z");
        assert_eq!(s.jurisdiction, Jurisdiction::Jp);
    }

    #[test]
    fn postmortem_meeting_dates() {
        let resolved = t("2026-11-25T15:00:00Z");
        assert_eq!(
            postmortem_meeting_due(1, resolved, Jurisdiction::Us).to_string(),
            "2026-11-28T15:00:00Z"
        );
        // SEV-2: five business days, Thanksgiving skipped: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3.
        assert_eq!(
            postmortem_meeting_due(2, resolved, Jurisdiction::Us).to_string(),
            "2026-12-04T04:59:59Z"
        );
    }

    #[test]
    fn bad_clocks_are_refused() {
        let now = t("2026-11-27T12:00:00Z");
        assert!(ClockSpec::new(Regime::Gdpr, t("2026-11-28T00:00:00Z"), None, false, now).is_err());
        assert!(ClockSpec::new(Regime::Gdpr, now, None, true, now).is_err());
        assert!("ccpa".parse::<Regime>().is_err());
        assert_eq!("SEC-8K".parse::<Regime>().unwrap(), Regime::Sec8k);
    }

    #[test]
    fn status_and_reminders() {
        let due = t("2026-11-30T09:30:00Z");
        assert_eq!(
            MilestoneStatus::of(due, None, t("2026-11-29T00:00:00Z")),
            MilestoneStatus::Pending
        );
        assert_eq!(
            MilestoneStatus::of(due, None, t("2026-12-01T00:00:00Z")),
            MilestoneStatus::Missed
        );
        assert_eq!(
            MilestoneStatus::of(due, Some(t("2026-11-30T09:00:00Z")), t("2026-12-09T00:00:00Z")),
            MilestoneStatus::Met
        );
        assert_eq!(
            MilestoneStatus::of(due, Some(t("2026-11-30T10:00:00Z")), t("2026-12-09T00:00:00Z")),
            MilestoneStatus::Missed
        );
        assert_eq!(
            reminders(due, t("2026-11-27T09:30:00Z")),
            [t("2026-11-29T09:30:00Z"), t("2026-11-30T08:30:00Z")]
        );
        assert_eq!(reminders(due, t("2026-11-30T00:00:00Z")), [t("2026-11-30T08:30:00Z")]);
        // started half an hour before the deadline: one reminder now, none once it has passed
        assert_eq!(reminders(due, t("2026-11-30T09:00:00Z")), [t("2026-11-30T09:00:00Z")]);
        assert!(reminders(due, t("2026-11-30T09:30:00Z")).is_empty());
    }
}
