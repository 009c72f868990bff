//! Business days over per-jurisdiction holiday calendars, computed by rule (no tables to go
//! stale): US federal holidays with their observed dates and Juneteenth, Japanese national
//! holidays with substitute and citizens' holidays and the equinoxes, the euro area's TARGET
//! closing days, and the bank holidays of England and Wales.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};

use crate::error::DomainError;

/// A holiday calendar: which days are not business days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jurisdiction {
    /// United States federal holidays (5 U.S.C. 6103), observed on the nearest weekday.
    Us,
    /// Japanese national holidays (国民の祝日に関する法律), with 振替休日 and 国民の休日,
    /// and the bank closing days of 31 December to 3 January.
    Jp,
    /// The euro area's TARGET closing days (EU regulators and financial entities).
    Eu,
    /// Bank holidays of England and Wales.
    Uk,
}

impl Jurisdiction {
    pub const ALL: [Self; 4] = [Self::Us, Self::Jp, Self::Eu, Self::Uk];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Jp => "jp",
            Self::Eu => "eu",
            Self::Uk => "uk",
        }
    }

    /// The IANA zone in which the jurisdiction's days begin and end.
    pub fn time_zone(self) -> &'static str {
        match self {
            Self::Us => "America/New_York",
            Self::Jp => "Asia/Tokyo",
            Self::Eu => "Europe/Brussels",
            Self::Uk => "Europe/London",
        }
    }

    /// `t` as a wall-clock time of the jurisdiction's zone.
    pub fn local(self, t: jiff::Timestamp) -> jiff::ZonedDateTime {
        t.to_zoned_datetime(jiff::tz::TimeZone::get(self.time_zone()).unwrap_or(jiff::tz::TimeZone::UTC))
    }

    /// Is `d` a holiday here (weekends aside)?
    pub fn is_holiday(self, d: Date) -> bool {
        match self {
            Self::Us => us_holiday(d),
            Self::Jp => jp_holiday(d) || jp_bank_closed(d),
            Self::Eu => eu_holiday(d),
            Self::Uk => uk_holiday(d),
        }
    }

    /// Is `d` a business day here: a weekday that is not a holiday?
    pub fn is_business_day(self, d: Date) -> bool {
        !is_weekend(d) && !self.is_holiday(d)
    }

    /// The `n`th business day after `start` (`start` itself never counts).
    pub fn add_business_days(self, start: Date, n: u32) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.tomorrow().expect("dates stay within jiff's range");
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::names::Named for Jurisdiction {
    const FIELD: &'static str = "jurisdiction";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn alias(key: &str) -> Option<Self> {
        match key {
            "usa" | "united_states" => Some(Self::Us),
            "japan" | "ja" => Some(Self::Jp),
            "gb" | "england" => Some(Self::Uk),
            "eea" | "target" => Some(Self::Eu),
            _ => None,
        }
    }
}

impl FromStr for Jurisdiction {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn date(y: i16, m: i8, d: i8) -> Option<Date> {
    Date::new(y, m, d).ok()
}

/// The `n`th (1-based) `wd` of a month.
fn nth_weekday(y: i16, m: i8, wd: Weekday, n: i8) -> Option<Date> {
    let first = date(y, m, 1)?;
    first.nth_weekday_of_month(n, wd).ok()
}

/// The last `wd` of a month.
fn last_weekday(y: i16, m: i8, wd: Weekday) -> Option<Date> {
    let first = date(y, m, 1)?;
    first.nth_weekday_of_month(-1, wd).ok()
}

/// A fixed US holiday moves to Friday when on Saturday, to Monday when on Sunday.
fn us_observed(d: Date) -> Date {
    match d.weekday() {
        Weekday::Saturday => d.yesterday().unwrap_or(d),
        Weekday::Sunday => d.tomorrow().unwrap_or(d),
        _ => d,
    }
}

fn us_holiday(d: Date) -> bool {
    let y = d.year();
    let mut fixed = vec![(1, 1), (7, 4), (11, 11), (12, 25)];
    if y >= 2021 {
        fixed.push((6, 19)); // Juneteenth National Independence Day, from 2021.
    }
    let fixed_hit = fixed.iter().any(|&(m, day)| {
        // This year's observance, and next New Year's Day observed on 31 December.
        date(y, m, day).map(us_observed) == Some(d)
    }) || date(y + 1, 1, 1).map(us_observed) == Some(d);
    let floating = [
        nth_weekday(y, 1, Weekday::Monday, 3),    // Birthday of Martin Luther King, Jr.
        nth_weekday(y, 2, Weekday::Monday, 3),    // Washington's Birthday
        last_weekday(y, 5, Weekday::Monday),      // Memorial Day
        nth_weekday(y, 9, Weekday::Monday, 1),    // Labor Day
        nth_weekday(y, 10, Weekday::Monday, 2),   // Columbus Day
        nth_weekday(y, 11, Weekday::Thursday, 4), // Thanksgiving Day
    ];
    fixed_hit || floating.contains(&Some(d))
}

/// Easter Sunday (Gregorian), by the anonymous algorithm.
pub fn easter(y: i16) -> Date {
    let y32 = i32::from(y);
    let a = y32 % 19;
    let b = y32 / 100;
    let c = y32 % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = ((h + l - 7 * m + 114) % 31) + 1;
    Date::new(y, month as i8, day as i8).expect("Easter is a valid date")
}

fn offset(d: Date, days: i64) -> Option<Date> {
    d.checked_add(jiff::Span::new().days(days)).ok()
}

fn eu_holiday(d: Date) -> bool {
    let y = d.year();
    let e = easter(y);
    [
        date(y, 1, 1),
        offset(e, -2),
        offset(e, 1),
        date(y, 5, 1),
        date(y, 12, 25),
        date(y, 12, 26),
    ]
    .contains(&Some(d))
}

fn uk_holiday(d: Date) -> bool {
    let y = d.year();
    let e = easter(y);
    // New Year's Day moves to Monday when on a weekend.
    let new_year = date(y, 1, 1).map(|n| match n.weekday() {
        Weekday::Saturday => offset(n, 2).unwrap_or(n),
        Weekday::Sunday => offset(n, 1).unwrap_or(n),
        _ => n,
    });
    // Christmas and Boxing Day: a weekend day moves to the next free weekday.
    let (christmas, boxing) = match date(y, 12, 25).map(|c| c.weekday()) {
        Some(Weekday::Friday) => (date(y, 12, 25), date(y, 12, 28)),
        Some(Weekday::Saturday) => (date(y, 12, 27), date(y, 12, 28)),
        Some(Weekday::Sunday) => (date(y, 12, 27), date(y, 12, 26)),
        _ => (date(y, 12, 25), date(y, 12, 26)),
    };
    [
        new_year,
        offset(e, -2),
        offset(e, 1),
        nth_weekday(y, 5, Weekday::Monday, 1),
        last_weekday(y, 5, Weekday::Monday),
        last_weekday(y, 8, Weekday::Monday),
        christmas,
        boxing,
    ]
    .contains(&Some(d))
}

/// The day of the vernal (`base` 20.8431) or autumnal (23.2488) equinox, valid 1980–2099.
fn equinox_day(y: i16, base: f64) -> i8 {
    let n = f64::from(y - 1980);
    (base + 0.242194 * n - (n / 4.0).floor()).floor() as i8
}

/// The national holidays proper, without substitutes.
fn jp_national(d: Date) -> bool {
    let y = d.year();
    let days = [
        date(y, 1, 1),                          // 元日
        nth_weekday(y, 1, Weekday::Monday, 2),  // 成人の日
        date(y, 2, 11),                         // 建国記念の日
        date(y, 2, 23),                         // 天皇誕生日
        date(y, 3, equinox_day(y, 20.8431)),    // 春分の日
        date(y, 4, 29),                         // 昭和の日
        date(y, 5, 3),                          // 憲法記念日
        date(y, 5, 4),                          // みどりの日
        date(y, 5, 5),                          // こどもの日
        nth_weekday(y, 7, Weekday::Monday, 3),  // 海の日
        date(y, 8, 11),                         // 山の日
        nth_weekday(y, 9, Weekday::Monday, 3),  // 敬老の日
        date(y, 9, equinox_day(y, 23.2488)),    // 秋分の日
        nth_weekday(y, 10, Weekday::Monday, 2), // スポーツの日
        date(y, 11, 3),                         // 文化の日
        date(y, 11, 23),                        // 勤労感謝の日
    ];
    days.contains(&Some(d))
}

fn jp_holiday(d: Date) -> bool {
    if jp_national(d) {
        return true;
    }
    // 振替休日: the first non-holiday after a run of holidays that includes a Sunday.
    let mut back = d.yesterday().ok();
    while let Some(p) = back {
        if !jp_national(p) {
            break;
        }
        if p.weekday() == Weekday::Sunday {
            return true;
        }
        back = p.yesterday().ok();
    }
    // 国民の休日: a day between two holidays.
    d.weekday() != Weekday::Sunday && d.yesterday().is_ok_and(jp_national) && d.tomorrow().is_ok_and(jp_national)
}

/// Banks and most offices close from 31 December to 3 January.
fn jp_bank_closed(d: Date) -> bool {
    (d.month() == 12 && d.day() == 31) || (d.month() == 1 && d.day() <= 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn us_federal_holidays_2026_with_observed_dates() {
        let expected = [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",
            "2026-09-07",
            "2026-10-12",
            "2026-11-11",
            "2026-11-26",
            "2026-12-25",
        ];
        let all: Vec<String> = (0..365)
            .map(|i| offset(d("2026-01-01"), i).unwrap())
            .filter(|x| Jurisdiction::Us.is_holiday(*x))
            .map(|x| x.to_string())
            .collect();
        assert_eq!(
            all, expected,
            "Independence Day on a Saturday is observed Friday 3 July"
        );
    }

    #[test]
    fn us_observed_rules_across_years() {
        // Juneteenth 2027 is a Saturday: observed Friday 18 June.
        assert!(Jurisdiction::Us.is_holiday(d("2027-06-18")));
        assert!(
            !Jurisdiction::Us.is_holiday(d("2020-06-19")),
            "Juneteenth starts in 2021"
        );
        // New Year's Day 2022 was a Saturday: observed Friday 31 December 2021.
        assert!(Jurisdiction::Us.is_holiday(d("2021-12-31")));
        // Christmas 2022 was a Sunday: observed Monday 26 December.
        assert!(Jurisdiction::Us.is_holiday(d("2022-12-26")));
        assert!(Jurisdiction::Us.is_holiday(d("2025-11-27")), "Thanksgiving 2025");
    }

    #[test]
    fn sec_business_days_skip_thanksgiving() {
        // Determination on Wednesday 2026-11-25: Thu 26 is Thanksgiving, the weekend follows.
        assert_eq!(Jurisdiction::Us.add_business_days(d("2026-11-25"), 4), d("2026-12-02"));
        assert_eq!(Jurisdiction::Us.add_business_days(d("2026-11-25"), 1), d("2026-11-27"));
        // Around Independence Day observed on Friday 2026-07-03.
        assert_eq!(Jurisdiction::Us.add_business_days(d("2026-07-01"), 4), d("2026-07-08"));
        assert_eq!(Jurisdiction::Us.add_business_days(d("2026-11-25"), 0), d("2026-11-25"));
    }

    #[test]
    fn japanese_holidays_with_substitutes_and_equinoxes() {
        let jp = Jurisdiction::Jp;
        assert!(jp.is_holiday(d("2026-03-20")), "春分の日 2026");
        assert!(jp.is_holiday(d("2026-09-23")), "秋分の日 2026");
        assert!(
            jp.is_holiday(d("2026-05-06")),
            "振替休日 for 憲法記念日 on Sunday 3 May 2026"
        );
        assert!(
            jp.is_holiday(d("2026-09-22")),
            "国民の休日 between 敬老の日 and 秋分の日"
        );
        assert!(jp.is_holiday(d("2025-03-20")), "春分の日 2025");
        assert!(jp.is_holiday(d("2025-02-24")), "振替休日 for 天皇誕生日 on Sunday");
        assert!(jp.is_holiday(d("2026-01-02")), "bank closing days");
        assert!(!jp.is_holiday(d("2026-05-07")));
        // Golden Week 2026: Wed 29 Apr holiday, then 3–6 May.
        assert_eq!(jp.add_business_days(d("2026-04-30"), 2), d("2026-05-07"));
    }

    #[test]
    fn eu_and_uk_calendars() {
        assert_eq!(easter(2026), d("2026-04-05"));
        assert_eq!(easter(2025), d("2025-04-20"));
        assert!(Jurisdiction::Eu.is_holiday(d("2026-04-03")), "Good Friday");
        assert!(Jurisdiction::Eu.is_holiday(d("2026-04-06")), "Easter Monday");
        assert!(Jurisdiction::Eu.is_holiday(d("2026-05-01")));
        assert_eq!(Jurisdiction::Eu.add_business_days(d("2026-04-02"), 1), d("2026-04-07"));
        assert!(Jurisdiction::Uk.is_holiday(d("2026-08-31")), "summer bank holiday");
        assert!(
            Jurisdiction::Uk.is_holiday(d("2026-12-28")),
            "Boxing Day on Saturday moves to Monday"
        );
        assert!(Jurisdiction::Uk.is_holiday(d("2027-01-01")));
        assert!("JP".parse::<Jurisdiction>().is_ok() && "mars".parse::<Jurisdiction>().is_err());
    }
}
