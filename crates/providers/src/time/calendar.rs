//! Calendar arithmetic with Go's `time` semantics, which hashicorp/time
//! inherits: `AddDate` normalises an out-of-range day into the next month
//! (Jan 31 + 1 month = Mar 2 or 3), timestamps print as RFC 3339 without
//! fractional seconds, and offsets keep the zone they were written in.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, SecondsFormat, TimeZone};

use super::TimeError;

/// A moment with the UTC offset it was written with.
pub type Timestamp = DateTime<FixedOffset>;

/// Parses an RFC 3339 timestamp (`2020-02-12T06:36:13Z`, offsets and
/// fractional seconds allowed).
pub fn parse_rfc3339(attribute: &str, text: &str) -> Result<Timestamp, TimeError> {
    DateTime::parse_from_rfc3339(text).map_err(|e| TimeError::InvalidTimestamp {
        attribute: attribute.to_owned(),
        value: text.to_owned(),
        reason: e.to_string(),
    })
}

/// Formats as Go's `time.RFC3339`: whole seconds, `Z` for UTC.
pub fn format_rfc3339(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Go's `Time.AddDate(years, months, days)`: adds to the calendar fields,
/// then normalises (month 13 is January of the next year, February 30 is
/// March 1 or 2), keeping the time of day and the zone.
pub fn add_date(t: &Timestamp, years: i64, months: i64, days: i64) -> Result<Timestamp, TimeError> {
    let out_of_range = || TimeError::OutOfRange;
    let local = t.naive_local();
    let total_months = i64::from(local.year())
        .checked_mul(12)
        .and_then(|m| m.checked_add(i64::from(local.month0())))
        .and_then(|m| m.checked_add(years.checked_mul(12)?))
        .and_then(|m| m.checked_add(months))
        .ok_or_else(out_of_range)?;
    let year = i32::try_from(total_months.div_euclid(12)).map_err(|_| out_of_range())?;
    let month0 = u32::try_from(total_months.rem_euclid(12)).map_err(|_| out_of_range())?;
    let first = NaiveDate::from_ymd_opt(year, month0 + 1, 1).ok_or_else(out_of_range)?;
    let day_offset = i64::from(local.day0())
        .checked_add(days)
        .ok_or_else(out_of_range)?;
    let date = first
        .checked_add_signed(Duration::try_days(day_offset).ok_or_else(out_of_range)?)
        .ok_or_else(out_of_range)?;
    t.offset()
        .from_local_datetime(&date.and_time(local.time()))
        .single()
        .ok_or_else(out_of_range)
}

/// Adds a whole number of `unit_seconds`-long units (hours, minutes,
/// seconds) as Go's `Time.Add` does.
pub fn add_units(t: &Timestamp, count: i64, unit_seconds: i64) -> Result<Timestamp, TimeError> {
    let seconds = count
        .checked_mul(unit_seconds)
        .ok_or(TimeError::OutOfRange)?;
    let delta = Duration::try_seconds(seconds).ok_or(TimeError::OutOfRange)?;
    t.checked_add_signed(delta).ok_or(TimeError::OutOfRange)
}

/// The calendar fields every time resource exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeParts {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// Seconds since the Unix epoch.
    pub unix: i64,
}

impl TimeParts {
    pub fn of(t: &Timestamp) -> TimeParts {
        use chrono::Timelike;
        TimeParts {
            year: i64::from(t.year()),
            month: i64::from(t.month()),
            day: i64::from(t.day()),
            hour: i64::from(t.hour()),
            minute: i64::from(t.minute()),
            second: i64::from(t.second()),
            unix: t.timestamp(),
        }
    }
}

/// Parses the durations `time_sleep` accepts: a decimal number directly
/// followed by `ms`, `s`, `m` or `h` (`30s`, `1.5m`).
pub fn parse_sleep_duration(attribute: &str, text: &str) -> Result<std::time::Duration, TimeError> {
    let bad = || TimeError::InvalidDuration {
        attribute: attribute.to_owned(),
        value: text.to_owned(),
    };
    let (number, unit_nanos) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000_000u128)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000_000_000)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000_000_000)
    } else {
        return Err(bad());
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (number.contains('.') && !digits(fraction)) {
        return Err(bad());
    }
    let whole: u128 = whole.parse().map_err(|_| bad())?;
    let mut nanos = whole.checked_mul(unit_nanos).ok_or_else(bad)?;
    // Like Go, the fraction is scaled exactly and truncated to nanoseconds.
    let mut scale = unit_nanos;
    for d in fraction.bytes() {
        scale /= 10;
        nanos = nanos
            .checked_add(u128::from(d - b'0') * scale)
            .ok_or_else(bad)?;
    }
    let nanos = u64::try_from(nanos).map_err(|_| bad())?;
    Ok(std::time::Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        parse_rfc3339("t", s).unwrap()
    }

    fn check_add_date(start: &str, y: i64, m: i64, d: i64, expected: &str) {
        let got = add_date(&ts(start), y, m, d).unwrap();
        assert_eq!(format_rfc3339(&got), expected, "{start} + {y}y{m}m{d}d");
    }

    #[test]
    fn add_date_normalises_like_go() {
        // Month ends roll into the next month.
        check_add_date("2021-01-31T10:00:00Z", 0, 1, 0, "2021-03-03T10:00:00Z");
        check_add_date("2020-01-31T10:00:00Z", 0, 1, 0, "2020-03-02T10:00:00Z");
        check_add_date("2021-03-31T00:00:00Z", 0, 1, 0, "2021-05-01T00:00:00Z");
        check_add_date("2021-03-31T00:00:00Z", 0, -1, 0, "2021-03-03T00:00:00Z");
        // Leap days.
        check_add_date("2020-02-29T12:00:00Z", 1, 0, 0, "2021-03-01T12:00:00Z");
        check_add_date("2020-02-29T12:00:00Z", 4, 0, 0, "2024-02-29T12:00:00Z");
        check_add_date("2019-02-28T12:00:00Z", 0, 0, 1, "2019-03-01T12:00:00Z");
        check_add_date("2020-02-28T12:00:00Z", 0, 0, 1, "2020-02-29T12:00:00Z");
        // Years and months together, and across the year end.
        check_add_date("2025-03-13T11:49:41Z", 1, 0, 0, "2026-03-13T11:49:41Z");
        check_add_date("2025-11-30T00:00:00Z", 0, 3, 0, "2026-03-02T00:00:00Z");
        check_add_date("2025-01-15T00:00:00Z", 0, -13, 0, "2023-12-15T00:00:00Z");
        check_add_date("2025-12-31T23:59:59Z", 0, 0, 1, "2026-01-01T23:59:59Z");
        check_add_date("2025-03-01T00:00:00Z", 0, 0, -1, "2025-02-28T00:00:00Z");
        // The zone is kept.
        check_add_date(
            "2021-01-31T23:30:00+05:30",
            0,
            1,
            0,
            "2021-03-03T23:30:00+05:30",
        );
    }

    #[test]
    fn add_date_out_of_range_is_an_error() {
        let t = ts("2025-01-01T00:00:00Z");
        assert_eq!(add_date(&t, i64::MAX, 0, 0), Err(TimeError::OutOfRange));
        assert_eq!(add_date(&t, 0, 0, i64::MAX), Err(TimeError::OutOfRange));
        assert_eq!(add_units(&t, i64::MAX, 3600), Err(TimeError::OutOfRange));
    }

    #[test]
    fn formatting_drops_fractions() {
        assert_eq!(
            format_rfc3339(&ts("2020-02-12T06:36:13.987Z")),
            "2020-02-12T06:36:13Z"
        );
        assert_eq!(
            format_rfc3339(&ts("2020-02-12T06:36:13+00:00")),
            "2020-02-12T06:36:13Z"
        );
        let parts = TimeParts::of(&ts("2020-02-12T06:36:13Z"));
        assert_eq!(
            parts,
            TimeParts {
                year: 2020,
                month: 2,
                day: 12,
                hour: 6,
                minute: 36,
                second: 13,
                unix: 1_581_489_373
            }
        );
    }

    #[test]
    fn sleep_durations() {
        let d = |s: &str| parse_sleep_duration("create_duration", s);
        assert_eq!(d("30s").unwrap(), std::time::Duration::from_secs(30));
        assert_eq!(d("1.5m").unwrap(), std::time::Duration::from_secs(90));
        assert_eq!(d("250ms").unwrap(), std::time::Duration::from_millis(250));
        assert_eq!(d("2h").unwrap(), std::time::Duration::from_secs(7200));
        for bad in ["", "30", "s", "1.s", ".5s", "-1s", "1d", "1 s", "1.5.5s"] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }
}
