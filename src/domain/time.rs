//! The instants the gateway handles: 1970-01-01T00:00:00Z up to 9999-12-31T23:59:59Z.
//!
//! Call logs fall well inside this range, RFC 3339 and the providers' formats have
//! four-digit years, and every window the gateway computes (look-backs, a minute either
//! side of a record, millisecond and second rounding) stays inside chrono's range when its
//! inputs are inside this one. Client dates outside it are `BAD_USER_INPUT`, upstream
//! dates outside it make a bad record, and arithmetic near its ends saturates instead of
//! panicking.

use chrono::{DateTime, TimeDelta, Utc};

/// The earliest instant the gateway accepts (the Unix epoch).
pub fn earliest() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// The latest instant the gateway accepts (the end of year 9999).
pub fn latest() -> DateTime<Utc> {
    // 9999-12-31T23:59:59Z
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether `t` is inside the documented range.
pub fn in_range(t: DateTime<Utc>) -> bool {
    (earliest()..=latest()).contains(&t)
}

/// `t + delta`, clamped to the documented range (never panics).
pub fn shift(t: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    match t.checked_add_signed(delta) {
        Some(moved) => moved.clamp(earliest(), latest()),
        None if delta < TimeDelta::zero() => earliest(),
        None => latest(),
    }
}

/// The instant `seconds` after `t`, if it exists and is inside the range.
pub fn after_seconds(t: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
    t.checked_add_signed(TimeDelta::try_seconds(seconds)?)
        .filter(|x| in_range(*x))
}

/// A Unix timestamp in seconds as an instant inside the range.
pub fn from_unix(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0).filter(|t| in_range(*t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_at_the_ends_saturates() {
        assert_eq!(shift(latest(), TimeDelta::minutes(1)), latest());
        assert_eq!(shift(earliest(), -TimeDelta::minutes(1)), earliest());
        assert_eq!(shift(DateTime::<Utc>::MAX_UTC, TimeDelta::MAX), latest());
        assert_eq!(shift(DateTime::<Utc>::MIN_UTC, TimeDelta::MIN), earliest());
        assert_eq!(after_seconds(earliest(), i64::MAX), None);
        assert_eq!(after_seconds(earliest(), 60), Some(earliest() + TimeDelta::minutes(1)));
        assert_eq!(from_unix(8_210_266_876_799), None);
        assert!(in_range(latest()) && !in_range(latest() + TimeDelta::seconds(1)));
    }
}
