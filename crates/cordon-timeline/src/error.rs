//! The crate's error enum. Only option building can fail; parsing itself never fails
//! wholesale — problems in the input become [`crate::Diagnostic`]s.

/// An invalid parse option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unknown log format {0:?}")]
    UnknownFormat(String),
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("year {0} is out of range 1..=9999")]
    YearOutOfRange(i32),
}

impl Error {
    /// A stable machine code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownFormat(_) => "unknown_format",
            Error::UnknownTimeZone(_) => "unknown_time_zone",
            Error::YearOutOfRange(_) => "year_out_of_range",
        }
    }
}
