//! The clock is passed in, never read inside domain code.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Japan Standard Time has no daylight saving: a fixed +09:00 offset.
/// Evaluated at compile time, so an invalid offset could never reach run time.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("+09:00 is a valid offset"),
};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in Japan, which is what 年度, ages and 祝日 are about.
    fn today_jst(&self) -> NaiveDate {
        self.now().with_timezone(&JST).date_naive()
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place that reads the system clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock tests move by hand (idle expiry, lockout windows, break-glass deadlines).
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(start: DateTime<Utc>) -> Self {
        Self(std::sync::atomic::AtomicI64::new(start.timestamp_millis()))
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.0
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn today_is_the_japanese_date() {
        // 2026-03-31 15:00 UTC is already 2026-04-01 in Japan: a new 年度.
        let clock = FixedClock(Utc.with_ymd_and_hms(2026, 3, 31, 15, 0, 0).unwrap());
        assert_eq!(
            clock.today_jst(),
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
        );
    }
}
