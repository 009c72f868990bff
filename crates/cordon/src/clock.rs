//! The system clock: the one place the wall clock is read.

use cordon_core::Timestamp;
use cordon_core::clock::Clock;

/// Reads the operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the edge: this is where time enters the program
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Today's date in the system's time zone (for review-date checks).
pub fn today() -> jiff::civil::Date {
    SystemClock.now().to_zoned_datetime(jiff::tz::TimeZone::system()).date()
}
