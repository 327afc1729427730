//! Rotation and expiry awareness: when a `time_rotating` rotates, when a
//! token expires, said the way plan output says it
//! (`time_rotating.rotate rotates at 2026-11-26T10:16:00Z (in 59s)`), and
//! whether an expiry is close with nothing to rotate it.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use meshform_lang::Value;

use super::calendar::{format_rfc3339, parse_rfc3339};

/// How close an unrotated expiry must be to warn about it.
pub const EXPIRY_WARNING: Duration = Duration::days(7);

/// When a `time_rotating` object rotates (its `rotation_rfc3339`).
pub fn rotation_at(state: &Value) -> Option<DateTime<FixedOffset>> {
    let text = state.get_attr("rotation_rfc3339")?.as_str()?;
    parse_rfc3339("rotation_rfc3339", text).ok()
}

/// An RFC 3339 attribute of an object (`expires_at`), as a moment.
pub fn timestamp_attr(state: &Value, name: &str) -> Option<DateTime<FixedOffset>> {
    let text = state.get_attr(name)?.as_str()?;
    parse_rfc3339(name, text).ok()
}

/// A distance in time in the largest two units: `59s`, `14m30s`, `2h5m`,
/// `29d23h`.
pub fn format_distance(d: Duration) -> String {
    let total = d.num_seconds().unsigned_abs();
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    let mut out = format!("{}{}", parts[first].0, parts[first].1);
    if let Some((n, unit)) = parts.get(first + 1) {
        if *n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// `in 59s` for a future moment, `59s ago` for a past one, `now`.
pub fn relative(now: DateTime<Utc>, at: DateTime<FixedOffset>) -> String {
    let d = at.with_timezone(&Utc) - now;
    if d.num_seconds() == 0 {
        "now".to_owned()
    } else if d > Duration::zero() {
        format!("in {}", format_distance(d))
    } else {
        format!("{} ago", format_distance(d))
    }
}

/// `ADDRESS rotates at TIME (in 59s)` for a `time_rotating` object.
pub fn rotation_line(address: &str, state: &Value, now: DateTime<Utc>) -> Option<String> {
    let at = rotation_at(state)?;
    Some(format!(
        "{address} rotates at {} ({})",
        format_rfc3339(&at),
        relative(now, at)
    ))
}

/// `ADDRESS expires at TIME (in 14d)` for an object with `expires_at`.
pub fn expiry_line(address: &str, state: &Value, now: DateTime<Utc>) -> Option<String> {
    let at = timestamp_attr(state, "expires_at")?;
    Some(format!(
        "{address} expires at {} ({})",
        format_rfc3339(&at),
        relative(now, at)
    ))
}

/// Whether an expiry falls within [`EXPIRY_WARNING`] of `now` (or has
/// passed): worth a warning when nothing rotates it.
pub fn expires_soon(state: &Value, now: DateTime<Utc>) -> bool {
    timestamp_attr(state, "expires_at")
        .is_some_and(|at| at.with_timezone(&Utc) - now <= EXPIRY_WARNING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn now(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn state(name: &str, value: &str) -> Value {
        Value::object(BTreeMap::from([(name.to_owned(), Value::string(value))]))
    }

    #[test]
    fn distances() {
        assert_eq!(format_distance(Duration::seconds(59)), "59s");
        assert_eq!(format_distance(Duration::seconds(870)), "14m30s");
        assert_eq!(format_distance(Duration::seconds(7500)), "2h5m");
        assert_eq!(format_distance(Duration::seconds(7200)), "2h");
        assert_eq!(
            format_distance(Duration::days(29) + Duration::hours(23)),
            "29d23h"
        );
        assert_eq!(format_distance(Duration::zero()), "0s");
    }

    #[test]
    fn rotation_and_expiry_lines() {
        let rotating = state("rotation_rfc3339", "2026-11-26T10:16:00Z");
        assert_eq!(
            rotation_line(
                "time_rotating.rotate",
                &rotating,
                now("2026-11-26T10:15:01Z")
            )
            .unwrap(),
            "time_rotating.rotate rotates at 2026-11-26T10:16:00Z (in 59s)"
        );
        assert_eq!(
            rotation_line(
                "time_rotating.rotate",
                &rotating,
                now("2026-11-26T10:17:00Z")
            )
            .unwrap(),
            "time_rotating.rotate rotates at 2026-11-26T10:16:00Z (1m ago)"
        );
        let token = state("expires_at", "2026-12-01T00:00:00Z");
        assert_eq!(
            expiry_line(
                "konnect_system_account_access_token.t",
                &token,
                now("2026-11-26T00:00:00Z")
            )
            .unwrap(),
            "konnect_system_account_access_token.t expires at 2026-12-01T00:00:00Z (in 5d)"
        );
        assert!(expires_soon(&token, now("2026-11-26T00:00:00Z")));
        assert!(!expires_soon(&token, now("2026-11-01T00:00:00Z")));
        assert!(rotation_line(
            "x",
            &state("rotation_rfc3339", "soon"),
            now("2026-11-26T00:00:00Z")
        )
        .is_none());
    }
}
