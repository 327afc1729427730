//! Time functions: `timestamp` (from the injected clock; unknown during
//! plan), `timeadd` with Go durations and `formatdate` with Terraform's
//! format verbs.

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike, Utc};

use super::{p, Args, FnError, FnResult, Func, T};
use crate::eval::Phase;
use crate::types::Type;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "timestamp",
        params: &[],
        variadic: None,
        ret: T::String,
        imp: timestamp,
    },
    Func {
        name: "timeadd",
        params: &[p("timestamp", T::String), p("duration", T::String)],
        variadic: None,
        ret: T::String,
        imp: timeadd,
    },
    Func {
        name: "formatdate",
        params: &[p("format", T::String), p("time", T::String)],
        variadic: None,
        ret: T::String,
        imp: formatdate,
    },
];

fn timestamp(a: &Args<'_, '_>) -> FnResult {
    if a.ev.ctx.phase() == Phase::Plan {
        return Ok(Value::unknown(Type::String));
    }
    Ok(Value::string(
        a.ev.ctx
            .clock()
            .now()
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    ))
}

/// Parses an RFC 3339 timestamp, keeping its offset.
fn parse_rfc3339(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|_| {
        if s.len() <= 10 && s.contains('-') {
            format!("not a valid RFC3339 timestamp: missing required time introducer 'T' in {s:?}")
        } else {
            format!("not a valid RFC3339 timestamp: cannot use {s:?} as year")
        }
    })
}

/// Formats as Go's `time.RFC3339` does: seconds, and `Z` for offset zero.
pub(crate) fn format_rfc3339(t: &DateTime<FixedOffset>) -> String {
    if t.offset().local_minus_utc() == 0 {
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

/// Parses a Go duration (`1h30m`, `-10s`, `1.5h`, `300ms`) into
/// nanoseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    let mut total_int: i128 = 0;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(invalid());
        }
        let num = &rest[..num_end];
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration {s:?}")),
            other => return Err(format!("time: unknown unit {other:?} in duration {s:?}")),
        };
        if num.contains('.') {
            let f: f64 = num.parse().map_err(|_| invalid())?;
            total += f * scale as f64;
        } else {
            let n: i128 = num.parse().map_err(|_| invalid())?;
            total_int += n * scale;
        }
    }
    let ns = total_int + total as i128;
    Ok(if neg { -ns } else { ns })
}

fn timeadd(a: &Args<'_, '_>) -> FnResult {
    let t = parse_rfc3339(a.str(0)).map_err(FnError::call)?;
    let ns = parse_duration(a.str(1)).map_err(FnError::call)?;
    let d = chrono::Duration::nanoseconds(
        i64::try_from(ns).map_err(|_| FnError::call("duration out of range"))?,
    );
    let out = t
        .checked_add_signed(d)
        .ok_or_else(|| FnError::call("resulting time is out of range"))?;
    Ok(Value::string(format_rfc3339(&out)))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn offset_text(t: &DateTime<FixedOffset>, colon: bool, z: bool) -> String {
    let secs = t.offset().local_minus_utc();
    if z && secs == 0 {
        return "Z".to_owned();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.abs() / 60;
    if colon {
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    } else {
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }
}

fn formatdate(a: &Args<'_, '_>) -> FnResult {
    let spec = a.str(0);
    let t = parse_rfc3339(a.str(1)).map_err(FnError::call)?;
    let is_utc = a.str(1).ends_with(['Z', 'z']);
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            if j >= chars.len() {
                return Err(FnError::arg(0, "unterminated literal '"));
            }
            if j == start {
                out.push('\'');
            } else {
                out.extend(&chars[start..j]);
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let verb: String = chars[i..j].iter().collect();
        i = j;
        let bad = |why: &str| FnError::arg(0, format!("invalid date format verb {verb:?}: {why}"));
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let s = match verb.as_str() {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year().rem_euclid(100)),
            "MMMM" => MONTHS[t.month0() as usize].to_owned(),
            "MMM" => MONTHS[t.month0() as usize][..3].to_owned(),
            "MM" => format!("{:02}", t.month()),
            "M" => t.month().to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "EEEE" => DAYS[t.weekday().num_days_from_monday() as usize].to_owned(),
            "EEE" => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_owned(),
            "hh" => format!("{:02}", t.hour()),
            "h" => t.hour().to_string(),
            "HH" => format!("{h12:02}"),
            "H" => h12.to_string(),
            "AA" => if t.hour() < 12 { "AM" } else { "PM" }.to_owned(),
            "aa" => if t.hour() < 12 { "am" } else { "pm" }.to_owned(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "ZZZZZ" => offset_text(&t, true, false),
            "ZZZZ" => offset_text(&t, false, false),
            "ZZZ" => {
                if is_utc {
                    "UTC".to_owned()
                } else {
                    offset_text(&t, false, false)
                }
            }
            "Z" => offset_text(&t, true, true),
            _ => {
                return Err(match c {
                    'Y' => bad("year must either be \"YY\" or \"YYYY\""),
                    'M' => bad("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""),
                    'D' => bad("day of month must either be \"D\" or \"DD\""),
                    'E' => bad("day of week must either be \"EEE\" or \"EEEE\""),
                    'h' => bad("24-hour must either be \"h\" or \"hh\""),
                    'H' => bad("12-hour must either be \"H\" or \"HH\""),
                    'A' | 'a' => bad("must be \"AA\" or \"aa\""),
                    'm' => bad("minute must either be \"m\" or \"mm\""),
                    's' => bad("second must either be \"s\" or \"ss\""),
                    'Z' => bad("timezone must be Z, ZZZZ, or ZZZZZ"),
                    _ => FnError::arg(
                        0,
                        format!("invalid date format verb {verb:?}: unrecognized format verb"),
                    ),
                })
            }
        };
        out.push_str(&s);
    }
    Ok(Value::string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_duration("10m").unwrap(), 600_000_000_000);
        assert_eq!(parse_duration("-1h30m").unwrap(), -5_400_000_000_000);
        assert_eq!(parse_duration("1.5h").unwrap(), 5_400_000_000_000);
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("h").is_err());
    }
}
