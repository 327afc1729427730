//! Sprig's date functions. A time value is carried as text in Go's
//! `time.Time.String()` layout, so printing `{{ now }}` looks as in Go and
//! every date function can read it back.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use gotmpl::{FuncMap, Value};

use super::adapter::fail;
use super::convert::go_string;
use super::funcs::to_i64;

const GO_STRING_LAYOUT: &str = "%Y-%m-%d %H:%M:%S%.f %z";

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

fn time_value(t: DateTime<FixedOffset>) -> Value {
    let mut text = t.format("%Y-%m-%d %H:%M:%S%.f %z").to_string();
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_string()
    } else {
        t.format("%z").to_string()
    };
    text.push(' ');
    text.push_str(&zone);
    s(&text)
}

/// Reads a time: our time text, RFC 3339, or a Unix timestamp number.
fn read_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    match v {
        Value::Int(_) | Value::Uint(_) | Value::Float(_) => Utc
            .timestamp_opt(to_i64(v), 0)
            .single()
            .map(|t| t.fixed_offset()),
        Value::String(x) => {
            let text = x.as_ref();
            let trimmed = text.rsplit_once(' ').map_or(text, |(a, _)| a);
            DateTime::parse_from_str(trimmed, GO_STRING_LAYOUT)
                .ok()
                .or_else(|| DateTime::parse_from_rfc3339(text).ok())
        }
        _ => None,
    }
}

fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

/// Converts a Go reference layout (`2006-01-02T15:04:05Z07:00`) into a
/// chrono format string.
pub fn go_layout_to_chrono(layout: &str) -> String {
    const TOKENS: &[(&str, &str)] = &[
        ("January", "%B"),
        ("Monday", "%A"),
        ("Jan", "%b"),
        ("Mon", "%a"),
        ("MST", "%Z"),
        ("2006", "%Y"),
        ("Z07:00", "%:z"),
        ("Z0700", "%z"),
        ("-07:00", "%:z"),
        ("-0700", "%z"),
        ("-07", "%z"),
        (".000000000", "%.9f"),
        (".999999999", "%.f"),
        (".000000", "%.6f"),
        (".999999", "%.f"),
        (".000", "%.3f"),
        (".999", "%.f"),
        ("01", "%m"),
        ("02", "%d"),
        ("_2", "%e"),
        ("15", "%H"),
        ("03", "%I"),
        ("04", "%M"),
        ("05", "%S"),
        ("06", "%y"),
        ("PM", "%p"),
        ("pm", "%P"),
        ("1", "%-m"),
        ("2", "%-d"),
        ("3", "%-I"),
        ("4", "%-M"),
        ("5", "%-S"),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (go, ch) in TOKENS {
            if let Some(r) = rest.strip_prefix(go) {
                out.push_str(ch);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn format(t: &DateTime<FixedOffset>, layout: &str) -> String {
    let fmt = go_layout_to_chrono(layout);
    let text = t.format(&fmt).to_string();
    if t.offset().local_minus_utc() == 0 {
        text.replace("+00:00", "Z")
            .replace("+0000", "Z")
            .replace("+00:00", "Z")
    } else {
        text
    }
}

/// Parses Go duration text (`1h30m`, `-5s`, `1.5h`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let mult = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += num * mult;
    }
    let n = total as i64;
    Some(if neg { -n } else { n })
}

/// Go's `time.Duration.String()`.
pub fn go_duration_string(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let neg = nanos < 0;
    let mut n = nanos.unsigned_abs();
    let mut out = String::new();
    if n < 1_000_000_000 {
        let (unit, div) = if n < 1_000 {
            ("ns", 1)
        } else if n < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        let v = n as f64 / div as f64;
        out = format!("{}{unit}", trim_float(v));
    } else {
        let h = n / 3_600_000_000_000;
        n %= 3_600_000_000_000;
        let m = n / 60_000_000_000;
        n %= 60_000_000_000;
        let secs = n as f64 / 1e9;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&format!("{}s", trim_float(secs)));
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

fn trim_float(v: f64) -> String {
    let t = format!("{v:.9}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    t.to_string()
}

macro_rules! reg {
    ($m:expr, $name:expr, $f:expr) => {
        $m.insert($name.to_string(), Arc::new($f) as gotmpl::ValueFunc);
    };
}

pub(crate) fn register(m: &mut FuncMap) {
    reg!(m, "now", |_a: &[Value]| Ok(time_value(now())));
    reg!(m, "date", |a: &[Value]| {
        let layout = a.first().map(go_string).unwrap_or_default();
        let t = a.get(1).and_then(read_time).unwrap_or_else(now);
        Ok(s(&format(&t, &layout)))
    });
    reg!(m, "dateInZone", |a: &[Value]| {
        let layout = a.first().map(go_string).unwrap_or_default();
        let t = a.get(1).and_then(read_time).unwrap_or_else(now);
        let zone = a.get(2).map(go_string).unwrap_or_default();
        let t = if zone == "UTC" || zone.is_empty() {
            t.with_timezone(&Utc).fixed_offset()
        } else {
            t
        };
        Ok(s(&format(&t, &layout)))
    });
    reg!(m, "htmlDate", |a: &[Value]| {
        let t = a.first().and_then(read_time).unwrap_or_else(now);
        Ok(s(&t.format("%Y-%m-%d").to_string()))
    });
    reg!(m, "htmlDateInZone", |a: &[Value]| {
        let t = a.first().and_then(read_time).unwrap_or_else(now);
        Ok(s(&t.format("%Y-%m-%d").to_string()))
    });
    reg!(m, "unixEpoch", |a: &[Value]| {
        let t = a.first().and_then(read_time).unwrap_or_else(now);
        Ok(s(&t.timestamp().to_string()))
    });
    reg!(m, "dateModify", |a: &[Value]| {
        let d = parse_go_duration(&a.first().map(go_string).unwrap_or_default())
            .ok_or_else(|| fail("invalid duration"))?;
        let t = a.get(1).and_then(read_time).unwrap_or_else(now);
        Ok(time_value(t + Duration::nanoseconds(d)))
    });
    reg!(m, "toDate", |a: &[Value]| {
        let layout = a.first().map(go_string).unwrap_or_default();
        let raw = a.get(1).map(go_string).unwrap_or_default();
        // chrono's `%:z` does not read Go's `Z` for UTC.
        let text = match raw.strip_suffix('Z') {
            Some(t) if layout.contains("Z07") => format!("{t}+00:00"),
            _ => raw,
        };
        let fmt = go_layout_to_chrono(&layout);
        let t = DateTime::parse_from_str(&text, &fmt)
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(&text, &fmt)
                    .ok()
                    .map(|n| Utc.from_utc_datetime(&n).fixed_offset())
            })
            .or_else(|| {
                NaiveDate::parse_from_str(&text, &fmt)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|n| Utc.from_utc_datetime(&n).fixed_offset())
            });
        Ok(match t {
            Some(t) => time_value(t),
            None => time_value(
                Utc.timestamp_opt(0, 0)
                    .single()
                    .map(|t| t.fixed_offset())
                    .unwrap_or_else(now),
            ),
        })
    });
    reg!(m, "ago", |a: &[Value]| {
        let t = a.first().and_then(read_time).unwrap_or_else(now);
        let secs = (now() - t).num_seconds();
        Ok(s(&go_duration_string(secs * 1_000_000_000)))
    });
    reg!(m, "duration", |a: &[Value]| {
        // Sprig reads only a string or an int64; Go's template integers are
        // `int` and values are float64, so those give 0s, as in Helm.
        let secs = match a.first() {
            Some(Value::String(x)) => x.trim().parse::<i64>().unwrap_or(0),
            _ => 0,
        };
        Ok(s(&go_duration_string(secs.saturating_mul(1_000_000_000))))
    });
    reg!(m, "durationRound", |a: &[Value]| {
        let nanos = match a.first() {
            Some(Value::String(x)) => parse_go_duration(x).unwrap_or(0),
            Some(v) => to_i64(v).saturating_mul(1_000_000_000),
            None => 0,
        };
        let secs = (nanos / 1_000_000_000).unsigned_abs();
        let out = match secs {
            s if s >= 31_536_000 => format!("{}y", s / 31_536_000),
            s if s >= 2_592_000 => format!("{}mo", s / 2_592_000),
            s if s >= 86_400 => format!("{}d", s / 86_400),
            s if s >= 3_600 => format!("{}h", s / 3_600),
            s if s >= 60 => format!("{}m", s / 60),
            s => format!("{s}s"),
        };
        Ok(s(&out))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts_map_to_chrono() {
        let t = DateTime::parse_from_rfc3339("2024-03-05T07:08:09Z").unwrap();
        assert_eq!(format(&t, "2006-01-02"), "2024-03-05");
        assert_eq!(format(&t, "Jan 2, 2006 at 3:04pm"), "Mar 5, 2024 at 7:08am");
        assert_eq!(
            format(&t, "2006-01-02T15:04:05Z07:00"),
            "2024-03-05T07:08:09Z"
        );
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_duration_string(5_400_000_000_000), "1h30m0s");
        assert_eq!(go_duration_string(1_500_000_000), "1.5s");
    }

    #[test]
    fn time_values_round_trip() {
        let t = DateTime::parse_from_rfc3339("2024-03-05T07:08:09Z").unwrap();
        let v = time_value(t);
        assert_eq!(read_time(&v), Some(t));
    }
}
