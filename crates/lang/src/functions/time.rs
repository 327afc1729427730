//! Time functions: `timestamp` (from the injected clock; unknown during
//! plan), `plantimestamp` (the clock, known during plan), `timeadd` with Go
//! durations, `timecmp`, and `formatdate` with Terraform's format verbs.

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
        name: "plantimestamp",
        params: &[],
        variadic: None,
        ret: T::String,
        imp: plantimestamp,
    },
    Func {
        name: "timeadd",
        params: &[p("timestamp", T::String), p("duration", T::String)],
        variadic: None,
        ret: T::String,
        imp: timeadd,
    },
    Func {
        name: "timecmp",
        params: &[p("timestamp_a", T::String), p("timestamp_b", T::String)],
        variadic: None,
        ret: T::Number,
        imp: timecmp,
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

/// The run's clock, known during plan too (Terraform 1.5's
/// `plantimestamp`): with `-at`, the moment the run behaves as.
fn plantimestamp(a: &Args<'_, '_>) -> FnResult {
    Ok(Value::string(
        a.ev.ctx
            .clock()
            .now()
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    ))
}

/// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, ...)`
/// does, keeping its offset. Errors name the part that failed in
/// Terraform's words (`cannot use "bad" as year`, `end of string before
/// UTC offset`, `day out of range`).
fn parse_rfc3339(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let fail = |why: String| format!("not a valid RFC3339 timestamp: {why}");
    let mut rest = s;
    let field = |rest: &mut &str, what: &str, max: u32| -> Result<u32, String> {
        let n = if what == "year" { 4 } else { 2 };
        let ok = rest.len() >= n && rest.as_bytes()[..n].iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(fail(if rest.is_empty() {
                format!("end of string before {what}")
            } else {
                format!("cannot use {} as {what}", super::go_quote(rest))
            }));
        }
        let v: u32 = rest[..n].parse().unwrap_or(u32::MAX);
        if v > max {
            return Err(fail(format!(
                "cannot use {} as {what}",
                super::go_quote(rest)
            )));
        }
        *rest = &rest[n..];
        Ok(v)
    };
    let literal = |rest: &mut &str, sep: &str| -> Result<(), String> {
        match rest.strip_prefix(sep) {
            Some(r) => {
                *rest = r;
                Ok(())
            }
            None if sep == "T" => Err(fail("missing required time introducer 'T'".to_owned())),
            None if rest.is_empty() => {
                Err(fail(format!("end of string where {sep:?} is expected")))
            }
            None => Err(fail(format!(
                "found {} where {sep:?} is expected",
                super::go_quote(rest)
            ))),
        }
    };
    let year = field(&mut rest, "year", 9999)?;
    literal(&mut rest, "-")?;
    let month = field(&mut rest, "month", 12)?;
    literal(&mut rest, "-")?;
    let day = field(&mut rest, "day of month", 31)?;
    literal(&mut rest, "T")?;
    let hour = field(&mut rest, "hour", 23)?;
    literal(&mut rest, ":")?;
    let minute = field(&mut rest, "minute", 59)?;
    literal(&mut rest, ":")?;
    let second = field(&mut rest, "second", 59)?;
    // Go accepts a fraction after the seconds even when the layout has none.
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(['.', ',']) {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len > 0 {
            let digits = &frac[..len.min(9)];
            nanos = format!("{digits:0<9}").parse().unwrap_or(0);
            rest = &frac[len..];
        }
    }
    let offset_secs = if let Some(r) = rest.strip_prefix('Z') {
        rest = r;
        0
    } else {
        let b = rest.as_bytes();
        let well_formed = b.len() >= 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[3] == b':'
            && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit());
        if !well_formed {
            return Err(fail(if rest.is_empty() {
                "end of string before UTC offset".to_owned()
            } else {
                format!("cannot use {} as UTC offset", super::go_quote(rest))
            }));
        }
        let hh: i32 = rest[1..3].parse().unwrap_or(0);
        let mm: i32 = rest[4..6].parse().unwrap_or(0);
        let sign = if b[0] == b'-' { -1 } else { 1 };
        rest = &rest[6..];
        sign * (hh * 3600 + mm * 60)
    };
    if !rest.is_empty() {
        return Err(fail(format!("extra text: {}", super::go_quote(rest))));
    }
    let date = chrono::NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| fail("day out of range".to_owned()))?;
    let time = chrono::NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| fail("second out of range".to_owned()))?;
    let offset = FixedOffset::east_opt(offset_secs)
        .ok_or_else(|| fail(format!("cannot use {} as UTC offset", super::go_quote(s))))?;
    date.and_time(time)
        .and_local_timezone(offset)
        .single()
        .ok_or_else(|| fail("time is out of range".to_owned()))
}

/// `timecmp`: -1, 0 or 1 as the first moment is before, the same as or
/// after the second, whatever their offsets.
fn timecmp(a: &Args<'_, '_>) -> FnResult {
    let t0 = parse_rfc3339(a.str(0)).map_err(|e| FnError::arg(0, e))?;
    let t1 = parse_rfc3339(a.str(1)).map_err(|e| FnError::arg(1, e))?;
    Ok(Value::int(match t0.cmp(&t1) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
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

/// Splits a `formatdate` spec as cty does: quoted literals (with `''` for
/// a quote), runs of one letter (verbs), and other literal text.
fn split_date_format(spec: &str) -> Vec<String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
            } else {
                i += 1;
                while i < chars.len() {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
        } else if c.is_ascii_alphabetic() {
            while i < chars.len() && chars[i] == c {
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != '\'' && !chars[i].is_ascii_alphabetic() {
                i += 1;
            }
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

fn formatdate(a: &Args<'_, '_>) -> FnResult {
    let t = parse_rfc3339(a.str(1)).map_err(|e| FnError::arg(1, e))?;
    let mut out = String::new();
    for tok in split_date_format(a.str(0)) {
        let first = tok.chars().next().unwrap_or(' ');
        let len = tok.chars().count();
        if first == '\'' {
            if !tok.ends_with('\'') || len == 1 {
                return Err(FnError::arg(0, "unterminated literal '"));
            }
            if len == 2 {
                out.push('\'');
            } else {
                out.push_str(&tok[1..tok.len() - 1].replace("''", "'"));
            }
            continue;
        }
        if !first.is_ascii_alphabetic() {
            out.push_str(&tok);
            continue;
        }
        let bad = |why: &str| FnError::arg(0, format!("invalid date format verb {tok:?}: {why}"));
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let text = match (first, len) {
            ('Y', 2) => format!("{:02}", t.year().rem_euclid(100)),
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', _) => return Err(bad("year must either be \"YY\" or \"YYYY\"")),
            ('M', 1) => t.month().to_string(),
            ('M', 2) => format!("{:02}", t.month()),
            ('M', 3) => MONTHS[t.month0() as usize][..3].to_owned(),
            ('M', 4) => MONTHS[t.month0() as usize].to_owned(),
            ('M', _) => return Err(bad("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"")),
            ('D', 1) => t.day().to_string(),
            ('D', 2) => format!("{:02}", t.day()),
            ('D', _) => return Err(bad("day of month must either be \"D\" or \"DD\"")),
            ('E', 3) => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_owned(),
            ('E', 4) => DAYS[t.weekday().num_days_from_monday() as usize].to_owned(),
            ('E', _) => return Err(bad("day of week must either be \"EEE\" or \"EEEE\"")),
            ('h', 1) => t.hour().to_string(),
            ('h', 2) => format!("{:02}", t.hour()),
            ('h', _) => return Err(bad("24-hour must either be \"h\" or \"hh\"")),
            ('H', 1) => h12.to_string(),
            ('H', 2) => format!("{h12:02}"),
            ('H', _) => return Err(bad("12-hour must either be \"H\" or \"HH\"")),
            ('A', 2) => if t.hour() < 12 { "AM" } else { "PM" }.to_owned(),
            ('a', 2) => if t.hour() < 12 { "am" } else { "pm" }.to_owned(),
            ('A' | 'a', _) => return Err(bad(&format!("must be \"{first}{first}\""))),
            ('m', 1) => t.minute().to_string(),
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', _) => return Err(bad("minute must either be \"m\" or \"mm\"")),
            ('s', 1) => t.second().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', _) => return Err(bad("second must either be \"s\" or \"ss\"")),
            ('Z', 1) => offset_text(&t, true, true),
            ('Z', 3) => {
                let o = offset_text(&t, false, false);
                if o == "+0000" {
                    "UTC".to_owned()
                } else {
                    o
                }
            }
            ('Z', 4) => offset_text(&t, false, false),
            ('Z', 5) => offset_text(&t, true, false),
            ('Z', _) => return Err(bad("timezone must be Z, ZZZZ, or ZZZZZ")),
            _ => return Err(FnError::arg(0, format!("invalid date format verb {tok:?}"))),
        };
        out.push_str(&text);
    }
    Ok(Value::string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats_split_like_cty() {
        assert_eq!(
            split_date_format("YYYY-MM-DD'T'hh 'it''s' ''"),
            ["YYYY", "-", "MM", "-", "DD", "'T'", "hh", " ", "'it''s'", " ", "''"]
        );
    }

    #[test]
    fn rfc3339_errors_name_the_part_that_failed() {
        let check = |s: &str, want: &str| {
            assert_eq!(
                parse_rfc3339(s).unwrap_err(),
                format!("not a valid RFC3339 timestamp: {want}"),
                "{s}"
            )
        };
        check("2017-11-22", "missing required time introducer 'T'");
        check("bad", "cannot use \"bad\" as year");
        check("2017-11-22T00:00:00", "end of string before UTC offset");
        check("2024-02-30T00:00:00Z", "day out of range");
        check("2017-11-22T00:00:00Zx", "extra text: \"x\"");
        check("2017-11-22T24:00:00Z", "cannot use \"24:00:00Z\" as hour");
        let t = parse_rfc3339("2017-11-22T01:00:00.5+01:00").unwrap();
        assert_eq!(t.timestamp(), 1511308800);
        assert_eq!(t.timestamp_subsec_millis(), 500);
    }

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
