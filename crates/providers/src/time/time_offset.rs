//! `time_offset`: a timestamp kept in state, offset from a base time that
//! is taken once, at creation (or from `base_rfc3339`).

use super::calendar::{add_date, add_units, format_rfc3339, parse_rfc3339, Timestamp};
use super::{now, triggers_replace, Clock, MaybeKnown, TimeError, TimeValues, Triggers};

/// The `offset_*` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offsets {
    pub years: MaybeKnown<i64>,
    pub months: MaybeKnown<i64>,
    pub days: MaybeKnown<i64>,
    pub hours: MaybeKnown<i64>,
    pub minutes: MaybeKnown<i64>,
    pub seconds: MaybeKnown<i64>,
}

impl Offsets {
    fn all(&self) -> [&MaybeKnown<i64>; 6] {
        [
            &self.years,
            &self.months,
            &self.days,
            &self.hours,
            &self.minutes,
            &self.seconds,
        ]
    }

    fn any_unknown(&self) -> bool {
        self.all().iter().any(|o| o.is_unknown())
    }
}

/// The configuration of a `time_offset`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OffsetConfig {
    pub base_rfc3339: MaybeKnown<String>,
    pub offsets: Offsets,
    pub triggers: Triggers,
}

/// A `time_offset` in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetState {
    pub base_rfc3339: String,
    /// Same as `base_rfc3339`.
    pub id: String,
    /// The offset timestamp (`rfc3339`) and its calendar fields.
    pub result: TimeValues,
    pub offsets: Offsets,
    pub triggers: Triggers,
}

/// A planned `time_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetPlanned {
    pub base_rfc3339: MaybeKnown<String>,
    pub id: MaybeKnown<String>,
    pub result: MaybeKnown<TimeValues>,
    pub offsets: Offsets,
    pub triggers: Triggers,
}

/// The planned state and the attributes that force replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetPlan {
    pub planned: OffsetPlanned,
    pub requires_replace: Vec<&'static str>,
}

const OFFSET_ATTRIBUTES: [&str; 6] = [
    "offset_seconds",
    "offset_minutes",
    "offset_hours",
    "offset_days",
    "offset_months",
    "offset_years",
];

impl OffsetState {
    pub fn to_planned(&self) -> OffsetPlanned {
        OffsetPlanned {
            base_rfc3339: MaybeKnown::Known(self.base_rfc3339.clone()),
            id: MaybeKnown::Known(self.id.clone()),
            result: MaybeKnown::Known(self.result.clone()),
            offsets: self.offsets.clone(),
            triggers: self.triggers.clone(),
        }
    }
}

/// Checks a configuration: at least one offset, and a valid base.
pub fn validate(config: &OffsetConfig) -> Vec<TimeError> {
    let mut errors = Vec::new();
    if config.offsets.all().iter().all(|o| o.is_null()) {
        errors.push(TimeError::MissingOneOf {
            attributes: OFFSET_ATTRIBUTES.to_vec(),
        });
    }
    if let MaybeKnown::Known(base) = &config.base_rfc3339 {
        if let Err(e) = parse_rfc3339("base_rfc3339", base) {
            errors.push(e);
        }
    }
    errors
}

/// The offset timestamp: the provider applies days, hours, minutes,
/// months, seconds and years in that order, each to the previous result.
pub fn offset_timestamp(base: &Timestamp, offsets: &Offsets) -> Result<Timestamp, TimeError> {
    let value = |o: &MaybeKnown<i64>| o.known().copied().unwrap_or(0);
    let mut t = *base;
    t = add_date(&t, 0, 0, value(&offsets.days))?;
    t = add_units(&t, value(&offsets.hours), 3600)?;
    t = add_units(&t, value(&offsets.minutes), 60)?;
    t = add_date(&t, 0, value(&offsets.months), 0)?;
    t = add_units(&t, value(&offsets.seconds), 1)?;
    add_date(&t, value(&offsets.years), 0, 0)
}

fn state_from(
    base: &Timestamp,
    offsets: &Offsets,
    triggers: &Triggers,
) -> Result<OffsetState, TimeError> {
    let base_text = format_rfc3339(base);
    Ok(OffsetState {
        id: base_text.clone(),
        base_rfc3339: base_text,
        result: TimeValues::of(&offset_timestamp(base, offsets)?),
        offsets: offsets.clone(),
        triggers: triggers.clone(),
    })
}

/// Plans a `time_offset`. With no prior state everything computed is
/// known only after apply; an offset change recomputes the result from
/// the kept base at plan time; a `triggers` change forces replacement.
pub fn plan(prior: Option<&OffsetState>, config: &OffsetConfig) -> Result<OffsetPlan, TimeError> {
    let marked_base = match &config.base_rfc3339 {
        MaybeKnown::Null => MaybeKnown::Unknown,
        other => other.clone(),
    };
    let Some(prior) = prior else {
        return Ok(OffsetPlan {
            planned: OffsetPlanned {
                base_rfc3339: marked_base,
                id: MaybeKnown::Unknown,
                result: MaybeKnown::Unknown,
                offsets: config.offsets.clone(),
                triggers: config.triggers.clone(),
            },
            requires_replace: Vec::new(),
        });
    };
    let proposed_base = match &config.base_rfc3339 {
        MaybeKnown::Null => MaybeKnown::Known(prior.base_rfc3339.clone()),
        other => other.clone(),
    };
    if proposed_base == MaybeKnown::Known(prior.base_rfc3339.clone())
        && config.offsets == prior.offsets
        && config.triggers == prior.triggers
    {
        return Ok(OffsetPlan {
            planned: prior.to_planned(),
            requires_replace: Vec::new(),
        });
    }
    let mut requires_replace = Vec::new();
    if triggers_replace(&prior.triggers, &config.triggers) {
        requires_replace.push("triggers");
    }
    let mut planned = OffsetPlanned {
        base_rfc3339: marked_base,
        id: MaybeKnown::Unknown,
        result: MaybeKnown::Unknown,
        offsets: config.offsets.clone(),
        triggers: config.triggers.clone(),
    };
    // The resource's plan modification: new offsets are applied to the
    // configured base, or the one in state, right away.
    if config.offsets != prior.offsets && !config.offsets.any_unknown() {
        let base_text = match &config.base_rfc3339 {
            MaybeKnown::Known(b) => Some(b.as_str()),
            MaybeKnown::Null => Some(prior.base_rfc3339.as_str()),
            MaybeKnown::Unknown => None,
        };
        if let Some(base_text) = base_text {
            let base = parse_rfc3339("base_rfc3339", base_text)?;
            planned = state_from(&base, &config.offsets, &config.triggers)?.to_planned();
        }
    }
    Ok(OffsetPlan {
        planned,
        requires_replace,
    })
}

/// Creates a `time_offset`: the base is `base_rfc3339` or now.
pub fn create(config: &OffsetConfig, clock: &dyn Clock) -> Result<OffsetState, TimeError> {
    let base = match &config.base_rfc3339 {
        MaybeKnown::Known(b) if !b.is_empty() => parse_rfc3339("base_rfc3339", b)?,
        _ => now(clock),
    };
    state_from(&base, &config.offsets, &config.triggers)
}

/// Updates a `time_offset` in place: the result is recomputed from the
/// configured base, or the one in state.
pub fn update(prior: &OffsetState, config: &OffsetConfig) -> Result<OffsetState, TimeError> {
    let base_text = config.base_rfc3339.known().unwrap_or(&prior.base_rfc3339);
    let base = parse_rfc3339("base_rfc3339", base_text)?;
    state_from(&base, &config.offsets, &config.triggers)
}

/// Imports `BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES,SECONDS` (empty
/// offsets are unset; at least one must be set).
pub fn import(id: &str) -> Result<OffsetState, TimeError> {
    let expected = "BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES,SECONDS with at least one offset";
    let bad = || TimeError::ImportId {
        id: id.to_owned(),
        expected,
    };
    let parts: Vec<&str> = id.split(',').collect();
    if parts.len() != 7 || parts[0].is_empty() || parts[1..].iter().all(|p| p.is_empty()) {
        return Err(bad());
    }
    let number = |s: &str| -> Result<MaybeKnown<i64>, TimeError> {
        if s.is_empty() {
            Ok(MaybeKnown::Null)
        } else {
            s.parse().map(MaybeKnown::Known).map_err(|_| bad())
        }
    };
    let offsets = Offsets {
        years: number(parts[1])?,
        months: number(parts[2])?,
        days: number(parts[3])?,
        hours: number(parts[4])?,
        minutes: number(parts[5])?,
        seconds: number(parts[6])?,
    };
    let base = parse_rfc3339("base_rfc3339", parts[0])?;
    state_from(&base, &offsets, &MaybeKnown::Known(Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::FixedClock;
    use chrono::Utc;
    use std::collections::BTreeMap;

    fn clock(s: &str) -> FixedClock {
        FixedClock(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    fn config(build: impl FnOnce(&mut OffsetConfig)) -> OffsetConfig {
        let mut c = OffsetConfig::default();
        build(&mut c);
        c
    }

    fn k(n: i64) -> MaybeKnown<i64> {
        MaybeKnown::Known(n)
    }

    fn check_create(base: &str, build: impl FnOnce(&mut Offsets), rfc3339: &str) {
        let mut offsets = Offsets::default();
        build(&mut offsets);
        let c = OffsetConfig {
            offsets,
            ..OffsetConfig::default()
        };
        let state = create(&c, &clock(base)).unwrap();
        assert_eq!(state.result.rfc3339, rfc3339);
        assert_eq!(state.base_rfc3339, base);
        assert_eq!(state.id, base);
    }

    #[test]
    fn every_offset_attribute() {
        let base = "2020-02-12T06:36:13Z";
        check_create(base, |o| o.seconds = k(30), "2020-02-12T06:36:43Z");
        check_create(base, |o| o.minutes = k(90), "2020-02-12T08:06:13Z");
        check_create(base, |o| o.hours = k(-7), "2020-02-11T23:36:13Z");
        check_create(base, |o| o.days = k(7), "2020-02-19T06:36:13Z");
        check_create(base, |o| o.months = k(1), "2020-03-12T06:36:13Z");
        check_create(base, |o| o.years = k(1), "2021-02-12T06:36:13Z");
        // The documented "one year and a month from now".
        check_create(
            base,
            |o| {
                o.years = k(1);
                o.months = k(1)
            },
            "2021-03-12T06:36:13Z",
        );
    }

    #[test]
    fn month_ends_and_leap_years() {
        check_create(
            "2021-01-31T00:00:00Z",
            |o| o.months = k(1),
            "2021-03-03T00:00:00Z",
        );
        check_create(
            "2020-01-31T00:00:00Z",
            |o| o.months = k(1),
            "2020-03-02T00:00:00Z",
        );
        check_create(
            "2020-02-29T00:00:00Z",
            |o| o.years = k(1),
            "2021-03-01T00:00:00Z",
        );
        // Days are added before months: Jan 30 + 1 day = Jan 31, + 1 month
        // = "Feb 31" = Mar 3 (2021).
        check_create(
            "2021-01-30T00:00:00Z",
            |o| {
                o.days = k(1);
                o.months = k(1)
            },
            "2021-03-03T00:00:00Z",
        );
        // Months are added before years: Feb 29 2020 + 12 months = Mar 1
        // 2021 (via "Feb 29 2021"), then + 3 years.
        check_create(
            "2020-02-29T00:00:00Z",
            |o| {
                o.months = k(12);
                o.years = k(3)
            },
            "2024-03-01T00:00:00Z",
        );
    }

    #[test]
    fn computed_fields() {
        let c = config(|c| c.offsets.years = k(1));
        let state = create(&c, &clock("2025-03-13T11:49:41Z")).unwrap();
        let p = state.result.parts;
        assert_eq!(
            (p.year, p.month, p.day, p.hour, p.minute, p.second, p.unix),
            (2026, 3, 13, 11, 49, 41, 1_773_402_581)
        );
        assert_eq!(state.result.rfc3339, "2026-03-13T11:49:41Z");
    }

    #[test]
    fn base_rfc3339_is_used_and_keeps_its_zone() {
        let c = config(|c| {
            c.base_rfc3339 = MaybeKnown::Known("2020-02-12T06:36:13+01:00".into());
            c.offsets.hours = k(1);
        });
        let state = create(&c, &clock("2030-01-01T00:00:00Z")).unwrap();
        assert_eq!(state.base_rfc3339, "2020-02-12T06:36:13+01:00");
        assert_eq!(state.result.rfc3339, "2020-02-12T07:36:13+01:00");
        assert_eq!(state.result.parts.hour, 7);
    }

    #[test]
    fn validation() {
        let errors = validate(&OffsetConfig::default());
        assert!(matches!(errors[..], [TimeError::MissingOneOf { .. }]));
        let errors = validate(&config(|c| {
            c.offsets.days = MaybeKnown::Unknown;
            c.base_rfc3339 = MaybeKnown::Known("yesterday".into());
        }));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].attribute(), Some("base_rfc3339"));
    }

    #[test]
    fn create_plans_everything_after_apply() {
        let c = config(|c| c.offsets.years = k(1));
        let p = plan(None, &c).unwrap();
        assert_eq!(p.planned.base_rfc3339, MaybeKnown::Unknown);
        assert_eq!(p.planned.result, MaybeKnown::Unknown);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn unchanged_config_plans_no_change() {
        let c = config(|c| c.offsets.years = k(1));
        let state = create(&c, &clock("2025-03-13T11:49:41Z")).unwrap();
        let p = plan(Some(&state), &c).unwrap();
        assert_eq!(p.planned, state.to_planned());
    }

    #[test]
    fn offset_change_is_computed_at_plan_time() {
        let c = config(|c| c.offsets.days = k(7));
        let state = create(&c, &clock("2020-02-12T06:36:13Z")).unwrap();
        let c2 = config(|c| c.offsets.days = k(8));
        let p = plan(Some(&state), &c2).unwrap();
        assert!(p.requires_replace.is_empty());
        assert_eq!(
            p.planned.result.known().unwrap().rfc3339,
            "2020-02-20T06:36:13Z"
        );
        assert_eq!(
            p.planned.base_rfc3339,
            MaybeKnown::Known("2020-02-12T06:36:13Z".into())
        );
        let updated = update(&state, &c2).unwrap();
        assert_eq!(updated.to_planned(), p.planned);
    }

    #[test]
    fn triggers_force_replacement() {
        let with = |v: &str| {
            config(|c| {
                c.offsets.days = k(1);
                c.triggers = MaybeKnown::Known(BTreeMap::from([("ami".into(), v.into())]));
            })
        };
        let state = create(&with("a"), &clock("2020-02-12T06:36:13Z")).unwrap();
        assert!(plan(Some(&state), &with("a"))
            .unwrap()
            .requires_replace
            .is_empty());
        assert_eq!(
            plan(Some(&state), &with("b")).unwrap().requires_replace,
            ["triggers"]
        );
        let mut unknown = with("a");
        unknown.triggers = MaybeKnown::Unknown;
        assert_eq!(
            plan(Some(&state), &unknown).unwrap().requires_replace,
            ["triggers"]
        );
    }

    #[test]
    fn import_formats() {
        let state = import("2020-02-12T06:36:13Z,1,,,,,").unwrap();
        assert_eq!(state.result.rfc3339, "2021-02-12T06:36:13Z");
        assert_eq!(state.offsets.years, k(1));
        assert_eq!(state.offsets.days, MaybeKnown::Null);
        assert_eq!(state.triggers, MaybeKnown::Known(BTreeMap::new()));
        for bad in [
            "2020-02-12T06:36:13Z",
            "2020-02-12T06:36:13Z,,,,,,",
            ",1,,,,,",
            "x,1,,,,,",
            "2020-02-12T06:36:13Z,a,,,,,",
        ] {
            assert!(import(bad).is_err(), "{bad}");
        }
    }
}
