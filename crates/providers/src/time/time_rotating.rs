//! `time_rotating`: a base timestamp and a rotation timestamp after it.
//! Once the clock passes the rotation timestamp, a refresh drops the
//! resource from state, so the next plan creates it again, and everything
//! derived from it changes with it.

use super::calendar::{add_date, add_units, format_rfc3339, parse_rfc3339, TimeParts, Timestamp};
use super::{now, triggers_replace, Clock, MaybeKnown, TimeError, TimeValues, Triggers};

/// The `rotation_*` count arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rotations {
    pub years: MaybeKnown<i64>,
    pub months: MaybeKnown<i64>,
    pub days: MaybeKnown<i64>,
    pub hours: MaybeKnown<i64>,
    pub minutes: MaybeKnown<i64>,
}

impl Rotations {
    fn named(&self) -> [(&'static str, &MaybeKnown<i64>); 5] {
        [
            ("rotation_minutes", &self.minutes),
            ("rotation_hours", &self.hours),
            ("rotation_days", &self.days),
            ("rotation_months", &self.months),
            ("rotation_years", &self.years),
        ]
    }
}

/// The configuration of a `time_rotating`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RotatingConfig {
    /// The base timestamp (defaults to the creation time).
    pub rfc3339: MaybeKnown<String>,
    pub rotation_rfc3339: MaybeKnown<String>,
    pub rotations: Rotations,
    pub triggers: Triggers,
}

/// A `time_rotating` in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatingState {
    /// The base timestamp; `id` is the same.
    pub rfc3339: String,
    pub id: String,
    /// The rotation timestamp (`rotation_rfc3339`) and its calendar fields
    /// (`year`, ..., `unix` describe the rotation time).
    pub rotation: TimeValues,
    pub rotations: Rotations,
    pub triggers: Triggers,
}

/// A planned `time_rotating`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatingPlanned {
    pub rfc3339: MaybeKnown<String>,
    pub id: MaybeKnown<String>,
    pub rotation_rfc3339: MaybeKnown<String>,
    pub parts: MaybeKnown<TimeParts>,
    pub rotations: Rotations,
    pub triggers: Triggers,
}

/// The planned state and the attributes that force replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatingPlan {
    pub planned: RotatingPlanned,
    pub requires_replace: Vec<&'static str>,
}

impl RotatingState {
    pub fn to_planned(&self) -> RotatingPlanned {
        RotatingPlanned {
            rfc3339: MaybeKnown::Known(self.rfc3339.clone()),
            id: MaybeKnown::Known(self.id.clone()),
            rotation_rfc3339: MaybeKnown::Known(self.rotation.rfc3339.clone()),
            parts: MaybeKnown::Known(self.rotation.parts),
            rotations: self.rotations.clone(),
            triggers: self.triggers.clone(),
        }
    }

    /// When the resource rotates.
    pub fn rotation_time(&self) -> Result<Timestamp, TimeError> {
        parse_rfc3339("rotation_rfc3339", &self.rotation.rfc3339)
    }
}

/// Checks a configuration: at least one `rotation_*` argument, counts of at
/// least 1, valid timestamps.
pub fn validate(config: &RotatingConfig) -> Vec<TimeError> {
    let mut errors = Vec::new();
    let named = config.rotations.named();
    if named.iter().all(|(_, v)| v.is_null()) && config.rotation_rfc3339.is_null() {
        let mut attributes: Vec<&'static str> = named.iter().map(|(n, _)| *n).collect();
        attributes.push("rotation_rfc3339");
        errors.push(TimeError::MissingOneOf { attributes });
    }
    for (attribute, value) in named {
        if let MaybeKnown::Known(n) = value {
            if *n < 1 {
                errors.push(TimeError::TooSmall {
                    attribute,
                    minimum: 1,
                    value: *n,
                });
            }
        }
    }
    for (attribute, value) in [
        ("rfc3339", &config.rfc3339),
        ("rotation_rfc3339", &config.rotation_rfc3339),
    ] {
        if let MaybeKnown::Known(text) = value {
            if let Err(e) = parse_rfc3339(attribute, text) {
                errors.push(e);
            }
        }
    }
    errors
}

/// The rotation timestamp. As in the provider, the arguments do not add
/// up: each one set replaces the previous result, in the order days,
/// hours, minutes, months, `rotation_rfc3339`, years; with none set the
/// result is Go's zero time.
pub fn rotation_timestamp(
    base: &Timestamp,
    rotations: &Rotations,
    rotation_rfc3339: Option<&str>,
) -> Result<Timestamp, TimeError> {
    let value = |o: &MaybeKnown<i64>| o.known().copied().unwrap_or(0);
    let mut rotation = go_zero_time();
    if value(&rotations.days) != 0 {
        rotation = add_date(base, 0, 0, value(&rotations.days))?;
    }
    if value(&rotations.hours) != 0 {
        rotation = add_units(base, value(&rotations.hours), 3600)?;
    }
    if value(&rotations.minutes) != 0 {
        rotation = add_units(base, value(&rotations.minutes), 60)?;
    }
    if value(&rotations.months) != 0 {
        rotation = add_date(base, 0, value(&rotations.months), 0)?;
    }
    if let Some(text) = rotation_rfc3339.filter(|t| !t.is_empty()) {
        rotation = parse_rfc3339("rotation_rfc3339", text)?;
    }
    if value(&rotations.years) != 0 {
        rotation = add_date(base, value(&rotations.years), 0, 0)?;
    }
    Ok(rotation)
}

fn go_zero_time() -> Timestamp {
    use chrono::{NaiveDate, TimeZone, Utc};
    let naive = NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    Utc.from_utc_datetime(&naive).fixed_offset()
}

fn state_from(
    base: &Timestamp,
    rotations: &Rotations,
    rotation_rfc3339: Option<&str>,
    triggers: &Triggers,
) -> Result<RotatingState, TimeError> {
    let base_text = format_rfc3339(base);
    Ok(RotatingState {
        id: base_text.clone(),
        rfc3339: base_text,
        rotation: TimeValues::of(&rotation_timestamp(base, rotations, rotation_rfc3339)?),
        rotations: rotations.clone(),
        triggers: triggers.clone(),
    })
}

/// Refreshes a `time_rotating`: `None` once the clock has passed its
/// rotation timestamp (the resource is gone and will be planned again).
pub fn read(state: &RotatingState, clock: &dyn Clock) -> Result<Option<RotatingState>, TimeError> {
    if state.rotation.rfc3339.is_empty() {
        return Ok(Some(state.clone()));
    }
    if now(clock) > state.rotation_time()? {
        return Ok(None);
    }
    Ok(Some(state.clone()))
}

/// Plans a `time_rotating`.
pub fn plan(
    prior: Option<&RotatingState>,
    config: &RotatingConfig,
    clock: &dyn Clock,
) -> Result<RotatingPlan, TimeError> {
    let marked = |v: &MaybeKnown<String>| match v {
        MaybeKnown::Null => MaybeKnown::Unknown,
        other => other.clone(),
    };
    let marked_plan = RotatingPlanned {
        rfc3339: marked(&config.rfc3339),
        id: MaybeKnown::Unknown,
        rotation_rfc3339: marked(&config.rotation_rfc3339),
        parts: MaybeKnown::Unknown,
        rotations: config.rotations.clone(),
        triggers: config.triggers.clone(),
    };
    let Some(prior) = prior else {
        return Ok(RotatingPlan {
            planned: marked_plan,
            requires_replace: Vec::new(),
        });
    };
    let proposed = |v: &MaybeKnown<String>, prior: &str| match v {
        MaybeKnown::Null => MaybeKnown::Known(prior.to_owned()),
        other => other.clone(),
    };
    let proposed_base = proposed(&config.rfc3339, &prior.rfc3339);
    let proposed_rotation = proposed(&config.rotation_rfc3339, &prior.rotation.rfc3339);
    if same_time(&proposed_base, &prior.rfc3339)
        && same_time(&proposed_rotation, &prior.rotation.rfc3339)
        && config.rotations == prior.rotations
        && config.triggers == prior.triggers
    {
        return Ok(RotatingPlan {
            planned: prior.to_planned(),
            requires_replace: Vec::new(),
        });
    }

    // The resource's plan modification: unless nothing that decides the
    // rotation changed, recompute it from the base in configuration or
    // state, so the plan shows the new rotation time.
    let rotation_inputs_unchanged = config.rotations == prior.rotations
        && same_time(&config.rotation_rfc3339, &prior.rotation.rfc3339);
    let mut planned = marked_plan;
    let rotations_known = config
        .rotations
        .named()
        .iter()
        .all(|(_, v)| !v.is_unknown())
        && !config.rotation_rfc3339.is_unknown();
    if !rotation_inputs_unchanged {
        let base_text = match &config.rfc3339 {
            MaybeKnown::Known(b) => Some(b.as_str()),
            MaybeKnown::Null => Some(prior.rfc3339.as_str()),
            MaybeKnown::Unknown => None,
        };
        if let Some(base_text) = base_text {
            let base = parse_rfc3339("rfc3339", base_text)?;
            if rotations_known {
                let computed = state_from(
                    &base,
                    &config.rotations,
                    config.rotation_rfc3339.known().map(String::as_str),
                    &config.triggers,
                )?;
                planned = computed.to_planned();
            } else {
                // The base is known; the rotation waits for its inputs.
                planned.rfc3339 = MaybeKnown::Known(format_rfc3339(&base));
                planned.id = planned.rfc3339.clone();
            }
        }
    }

    let mut requires_replace = Vec::new();
    if !same_time(&planned.rfc3339, &prior.rfc3339) {
        requires_replace.push("rfc3339");
    }
    // Replace-if-outdated: a changing rotation time whose old value has
    // already passed replaces the resource instead of moving it.
    let rotation_changes = !same_time(&planned.rotation_rfc3339, &prior.rotation.rfc3339);
    let modifier_sees_change =
        !same_time(&marked(&config.rotation_rfc3339), &prior.rotation.rfc3339);
    if rotation_changes && modifier_sees_change && now(clock) > prior.rotation_time()? {
        requires_replace.push("rotation_rfc3339");
    }
    if triggers_replace(&prior.triggers, &config.triggers) {
        requires_replace.push("triggers");
    }
    Ok(RotatingPlan {
        planned,
        requires_replace,
    })
}

/// RFC 3339 values compare as instants (the provider's timestamp type has
/// semantic equality); an unknown value never equals a known one.
fn same_time(planned: &MaybeKnown<String>, prior: &str) -> bool {
    match planned {
        MaybeKnown::Known(text) => {
            text == prior
                || matches!(
                    (parse_rfc3339("", text), parse_rfc3339("", prior)),
                    (Ok(a), Ok(b)) if a == b
                )
        }
        MaybeKnown::Null => prior.is_empty(),
        MaybeKnown::Unknown => false,
    }
}

/// Creates a `time_rotating`: the base is `rfc3339` or now.
pub fn create(config: &RotatingConfig, clock: &dyn Clock) -> Result<RotatingState, TimeError> {
    let base = match &config.rfc3339 {
        MaybeKnown::Known(b) if !b.is_empty() => parse_rfc3339("rfc3339", b)?,
        _ => now(clock),
    };
    state_from(
        &base,
        &config.rotations,
        config.rotation_rfc3339.known().map(String::as_str),
        &config.triggers,
    )
}

/// Updates a `time_rotating` in place: the rotation is recomputed from the
/// base in state when the rotation arguments changed.
pub fn update(prior: &RotatingState, config: &RotatingConfig) -> Result<RotatingState, TimeError> {
    let base = parse_rfc3339("rfc3339", &prior.id)?;
    let mut state = state_from(
        &base,
        &config.rotations,
        config.rotation_rfc3339.known().map(String::as_str),
        &config.triggers,
    )?;
    if config.rotations == prior.rotations
        && same_time(&config.rotation_rfc3339, &prior.rotation.rfc3339)
    {
        state.rotation = prior.rotation.clone();
    }
    Ok(state)
}

/// Imports `BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES` or
/// `BASETIMESTAMP,ROTATIONTIMESTAMP`.
pub fn import(id: &str) -> Result<RotatingState, TimeError> {
    let expected =
        "BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES or BASETIMESTAMP,ROTATIONTIMESTAMP";
    let bad = || TimeError::ImportId {
        id: id.to_owned(),
        expected,
    };
    let parts: Vec<&str> = id.split(',').collect();
    let empty_triggers = MaybeKnown::Known(Default::default());
    match parts.len() {
        2 => {
            if parts.iter().any(|p| p.is_empty()) {
                return Err(bad());
            }
            let base = parse_rfc3339("rfc3339", parts[0])?;
            parse_rfc3339("rotation_rfc3339", parts[1])?;
            state_from(
                &base,
                &Rotations::default(),
                Some(parts[1]),
                &empty_triggers,
            )
        }
        6 => {
            if parts[0].is_empty() || parts[1..].iter().all(|p| p.is_empty()) {
                return Err(bad());
            }
            let number = |s: &str| -> Result<MaybeKnown<i64>, TimeError> {
                if s.is_empty() {
                    Ok(MaybeKnown::Null)
                } else {
                    s.parse().map(MaybeKnown::Known).map_err(|_| bad())
                }
            };
            let rotations = Rotations {
                years: number(parts[1])?,
                months: number(parts[2])?,
                days: number(parts[3])?,
                hours: number(parts[4])?,
                minutes: number(parts[5])?,
            };
            // Import ignores non-positive counts when computing the rotation.
            let positive = |v: &MaybeKnown<i64>| match v {
                MaybeKnown::Known(n) if *n > 0 => MaybeKnown::Known(*n),
                _ => MaybeKnown::Null,
            };
            let effective = Rotations {
                years: positive(&rotations.years),
                months: positive(&rotations.months),
                days: positive(&rotations.days),
                hours: positive(&rotations.hours),
                minutes: positive(&rotations.minutes),
            };
            let base = parse_rfc3339("rfc3339", parts[0])?;
            let mut state = state_from(&base, &effective, None, &empty_triggers)?;
            state.rotations = rotations;
            Ok(state)
        }
        _ => Err(bad()),
    }
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

    fn k(n: i64) -> MaybeKnown<i64> {
        MaybeKnown::Known(n)
    }

    fn with_rotations(build: impl FnOnce(&mut Rotations)) -> RotatingConfig {
        let mut c = RotatingConfig::default();
        build(&mut c.rotations);
        c
    }

    const BASE: &str = "2020-02-12T06:36:13Z";

    fn check_rotation(build: impl FnOnce(&mut Rotations), rotation: &str) {
        let state = create(&with_rotations(build), &clock(BASE)).unwrap();
        assert_eq!(state.rfc3339, BASE);
        assert_eq!(state.id, BASE);
        assert_eq!(state.rotation.rfc3339, rotation);
    }

    #[test]
    fn every_rotation_attribute() {
        check_rotation(|r| r.minutes = k(1), "2020-02-12T06:37:13Z");
        check_rotation(|r| r.hours = k(2), "2020-02-12T08:36:13Z");
        check_rotation(|r| r.days = k(30), "2020-03-13T06:36:13Z");
        check_rotation(|r| r.months = k(3), "2020-05-12T06:36:13Z");
        check_rotation(|r| r.years = k(1), "2021-02-12T06:36:13Z");
        let c = RotatingConfig {
            rotation_rfc3339: MaybeKnown::Known("2020-02-13T06:36:13Z".into()),
            ..RotatingConfig::default()
        };
        let state = create(&c, &clock(BASE)).unwrap();
        assert_eq!(state.rotation.rfc3339, "2020-02-13T06:36:13Z");
        let p = state.rotation.parts;
        assert_eq!(
            (p.year, p.month, p.day, p.hour, p.minute, p.second),
            (2020, 2, 13, 6, 36, 13)
        );
        assert_eq!(p.unix, 1_581_575_773);
    }

    #[test]
    fn rotation_arguments_replace_rather_than_add() {
        // Days then hours: the hours win, as in the provider.
        check_rotation(
            |r| {
                r.days = k(1);
                r.hours = k(1)
            },
            "2020-02-12T07:36:13Z",
        );
        // Years are applied last.
        check_rotation(
            |r| {
                r.months = k(1);
                r.years = k(2)
            },
            "2022-02-12T06:36:13Z",
        );
    }

    #[test]
    fn rotation_months_across_month_ends() {
        let c = RotatingConfig {
            rfc3339: MaybeKnown::Known("2024-01-31T00:00:00Z".into()),
            rotations: Rotations {
                months: k(1),
                ..Rotations::default()
            },
            ..RotatingConfig::default()
        };
        let state = create(&c, &clock("2030-01-01T00:00:00Z")).unwrap();
        assert_eq!(state.rotation.rfc3339, "2024-03-02T00:00:00Z");
        let c = RotatingConfig {
            rfc3339: MaybeKnown::Known("2023-01-31T00:00:00Z".into()),
            ..c
        };
        let state = create(&c, &clock("2030-01-01T00:00:00Z")).unwrap();
        assert_eq!(state.rotation.rfc3339, "2023-03-03T00:00:00Z");
    }

    #[test]
    fn passed_rotation_is_gone_on_read() {
        let state = create(&with_rotations(|r| r.minutes = k(1)), &clock(BASE)).unwrap();
        assert!(read(&state, &clock("2020-02-12T06:36:43Z"))
            .unwrap()
            .is_some());
        // Exactly at the rotation time it is still there; a second later not.
        assert!(read(&state, &clock("2020-02-12T06:37:13Z"))
            .unwrap()
            .is_some());
        assert!(read(&state, &clock("2020-02-12T06:37:14Z"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn create_plan_is_known_after_apply() {
        let mut c = with_rotations(|r| r.days = k(7));
        let p = plan(None, &c, &clock(BASE)).unwrap();
        assert_eq!(p.planned.rfc3339, MaybeKnown::Unknown);
        assert_eq!(p.planned.rotation_rfc3339, MaybeKnown::Unknown);
        c.rfc3339 = MaybeKnown::Known(BASE.into());
        let p = plan(None, &c, &clock(BASE)).unwrap();
        assert_eq!(p.planned.rfc3339, MaybeKnown::Known(BASE.into()));
        assert_eq!(p.planned.parts, MaybeKnown::Unknown);
    }

    #[test]
    fn unchanged_plan_and_rotation_change_updates_in_place() {
        let c = with_rotations(|r| r.days = k(7));
        let state = create(&c, &clock(BASE)).unwrap();
        let p = plan(Some(&state), &c, &clock(BASE)).unwrap();
        assert_eq!(p.planned, state.to_planned());
        assert!(p.requires_replace.is_empty());
        // Days to months: an in-place update with the new rotation known.
        let c2 = with_rotations(|r| r.months = k(3));
        let p = plan(Some(&state), &c2, &clock(BASE)).unwrap();
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        assert_eq!(p.planned.rfc3339, MaybeKnown::Known(BASE.into()));
        assert_eq!(
            p.planned.rotation_rfc3339,
            MaybeKnown::Known("2020-05-12T06:36:13Z".into())
        );
        assert_eq!(update(&state, &c2).unwrap().to_planned(), p.planned);
    }

    #[test]
    fn outdated_rotation_change_replaces() {
        let c = with_rotations(|r| r.days = k(7));
        let state = create(&c, &clock(BASE)).unwrap();
        let c2 = with_rotations(|r| r.months = k(3));
        // Planned without a refresh, after the rotation time.
        let p = plan(Some(&state), &c2, &clock("2020-03-01T00:00:00Z")).unwrap();
        assert_eq!(p.requires_replace, ["rotation_rfc3339"]);
    }

    #[test]
    fn base_and_trigger_changes_replace() {
        let mut c = with_rotations(|r| r.days = k(7));
        c.triggers = MaybeKnown::Known(BTreeMap::from([("k".into(), "1".into())]));
        let state = create(&c, &clock(BASE)).unwrap();
        let mut c2 = c.clone();
        c2.triggers = MaybeKnown::Known(BTreeMap::from([("k".into(), "2".into())]));
        assert_eq!(
            plan(Some(&state), &c2, &clock(BASE))
                .unwrap()
                .requires_replace,
            ["triggers"]
        );
        let mut c3 = c.clone();
        c3.rfc3339 = MaybeKnown::Known("2021-01-01T00:00:00Z".into());
        let p = plan(Some(&state), &c3, &clock(BASE)).unwrap();
        assert!(p.requires_replace.contains(&"rfc3339"));
        // The same instant written differently is no change.
        let mut c4 = c.clone();
        c4.rfc3339 = MaybeKnown::Known("2020-02-12T07:36:13+01:00".into());
        assert_eq!(
            plan(Some(&state), &c4, &clock(BASE)).unwrap().planned,
            state.to_planned()
        );
    }

    #[test]
    fn unknown_rotation_keeps_the_base() {
        let c = with_rotations(|r| r.days = k(7));
        let state = create(&c, &clock(BASE)).unwrap();
        let c2 = with_rotations(|r| r.days = MaybeKnown::Unknown);
        let p = plan(Some(&state), &c2, &clock(BASE)).unwrap();
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned.rfc3339, MaybeKnown::Known(BASE.into()));
        assert_eq!(p.planned.rotation_rfc3339, MaybeKnown::Unknown);
    }

    #[test]
    fn validation() {
        assert!(matches!(
            validate(&RotatingConfig::default())[..],
            [TimeError::MissingOneOf { .. }]
        ));
        let errors = validate(&with_rotations(|r| r.minutes = k(0)));
        assert_eq!(errors[0].attribute(), Some("rotation_minutes"));
        assert!(validate(&with_rotations(|r| r.minutes = MaybeKnown::Unknown)).is_empty());
    }

    #[test]
    fn import_formats() {
        let state = import("2020-02-12T06:36:13Z,0,0,30,0,0").unwrap();
        assert_eq!(state.rotation.rfc3339, "2020-03-13T06:36:13Z");
        assert_eq!(state.rotations.days, k(30));
        assert_eq!(state.rotations.years, k(0));
        let state = import("2020-02-12T06:36:13Z,2020-02-13T06:36:13Z").unwrap();
        assert_eq!(state.rotation.rfc3339, "2020-02-13T06:36:13Z");
        assert_eq!(state.rotations, Rotations::default());
        for bad in [
            "2020-02-12T06:36:13Z",
            "2020-02-12T06:36:13Z,",
            "x,2020-02-13T06:36:13Z",
            "2020-02-12T06:36:13Z,,,,,",
        ] {
            assert!(import(bad).is_err(), "{bad}");
        }
    }
}
