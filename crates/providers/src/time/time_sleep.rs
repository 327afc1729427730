//! `time_sleep`: waits after creation and/or before destruction. The
//! waiting itself is the caller's (it owns the runtime); this module says
//! how long, and what the state is.

use std::time::Duration;

use super::calendar::{format_rfc3339, parse_sleep_duration};
use super::{now, triggers_replace, Clock, MaybeKnown, TimeError, Triggers};

/// The configuration of a `time_sleep`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SleepConfig {
    pub create_duration: MaybeKnown<String>,
    pub destroy_duration: MaybeKnown<String>,
    pub triggers: Triggers,
}

/// A `time_sleep` in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepState {
    pub create_duration: MaybeKnown<String>,
    pub destroy_duration: MaybeKnown<String>,
    /// When the creation finished (RFC 3339).
    pub id: String,
    pub triggers: Triggers,
}

/// A planned `time_sleep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepPlanned {
    pub create_duration: MaybeKnown<String>,
    pub destroy_duration: MaybeKnown<String>,
    pub id: MaybeKnown<String>,
    pub triggers: Triggers,
}

/// The planned state and the attributes that force replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepPlan {
    pub planned: SleepPlanned,
    pub requires_replace: Vec<&'static str>,
}

/// Checks a configuration: one duration at least, each well formed.
pub fn validate(config: &SleepConfig) -> Vec<TimeError> {
    let mut errors = Vec::new();
    if config.create_duration.is_null() && config.destroy_duration.is_null() {
        errors.push(TimeError::MissingOneOf {
            attributes: vec!["create_duration", "destroy_duration"],
        });
    }
    for (attribute, value) in [
        ("create_duration", &config.create_duration),
        ("destroy_duration", &config.destroy_duration),
    ] {
        if let MaybeKnown::Known(text) = value {
            if let Err(e) = parse_sleep_duration(attribute, text) {
                errors.push(e);
            }
        }
    }
    errors
}

/// Plans a `time_sleep`: duration changes update in place, `triggers`
/// changes replace (and so sleep again), `id` keeps its prior value.
pub fn plan(prior: Option<&SleepState>, config: &SleepConfig) -> SleepPlan {
    let mut planned = SleepPlanned {
        create_duration: config.create_duration.clone(),
        destroy_duration: config.destroy_duration.clone(),
        id: MaybeKnown::Unknown,
        triggers: config.triggers.clone(),
    };
    let Some(prior) = prior else {
        return SleepPlan {
            planned,
            requires_replace: Vec::new(),
        };
    };
    planned.id = MaybeKnown::Known(prior.id.clone());
    let unchanged = config.create_duration == prior.create_duration
        && config.destroy_duration == prior.destroy_duration
        && config.triggers == prior.triggers;
    let requires_replace = if !unchanged && triggers_replace(&prior.triggers, &config.triggers) {
        vec!["triggers"]
    } else {
        Vec::new()
    };
    SleepPlan {
        planned,
        requires_replace,
    }
}

/// How long to wait before the creation completes.
pub fn create_wait(config: &SleepConfig) -> Result<Duration, TimeError> {
    match &config.create_duration {
        MaybeKnown::Known(text) if !text.is_empty() => {
            parse_sleep_duration("create_duration", text)
        }
        _ => Ok(Duration::ZERO),
    }
}

/// The state once the creation wait is over (`clock` read after waiting).
pub fn created(config: &SleepConfig, clock: &dyn Clock) -> SleepState {
    SleepState {
        create_duration: config.create_duration.clone(),
        destroy_duration: config.destroy_duration.clone(),
        id: format_rfc3339(&now(clock)),
        triggers: config.triggers.clone(),
    }
}

/// How long to wait before the destruction completes.
pub fn destroy_wait(state: &SleepState) -> Result<Duration, TimeError> {
    match &state.destroy_duration {
        MaybeKnown::Known(text) if !text.is_empty() => {
            parse_sleep_duration("destroy_duration", text)
        }
        _ => Ok(Duration::ZERO),
    }
}

/// An in-place update keeps the `id` and takes the new durations.
pub fn update(prior: &SleepState, config: &SleepConfig) -> SleepState {
    SleepState {
        create_duration: config.create_duration.clone(),
        destroy_duration: config.destroy_duration.clone(),
        id: prior.id.clone(),
        triggers: config.triggers.clone(),
    }
}

/// Imports `CREATEDURATION,DESTROYDURATION` (either may be empty, not both).
pub fn import(id: &str, clock: &dyn Clock) -> Result<SleepState, TimeError> {
    let parts: Vec<&str> = id.split(',').collect();
    if parts.len() != 2 || (parts[0].is_empty() && parts[1].is_empty()) {
        return Err(TimeError::ImportId {
            id: id.to_owned(),
            expected: "CREATEDURATION,DESTROYDURATION with at least one value",
        });
    }
    let duration = |attribute: &str, text: &str| -> Result<MaybeKnown<String>, TimeError> {
        if text.is_empty() {
            return Ok(MaybeKnown::Null);
        }
        parse_sleep_duration(attribute, text)?;
        Ok(MaybeKnown::Known(text.to_owned()))
    };
    Ok(SleepState {
        create_duration: duration("create_duration", parts[0])?,
        destroy_duration: duration("destroy_duration", parts[1])?,
        id: format_rfc3339(&now(clock)),
        triggers: MaybeKnown::Known(Default::default()),
    })
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

    fn config(create: Option<&str>, destroy: Option<&str>) -> SleepConfig {
        SleepConfig {
            create_duration: MaybeKnown::from_option(create.map(str::to_owned)),
            destroy_duration: MaybeKnown::from_option(destroy.map(str::to_owned)),
            triggers: MaybeKnown::Null,
        }
    }

    #[test]
    fn durations_and_state() {
        let c = config(Some("30s"), None);
        assert!(validate(&c).is_empty());
        assert_eq!(create_wait(&c).unwrap(), Duration::from_secs(30));
        let state = created(&c, &clock("2020-02-12T06:36:43Z"));
        assert_eq!(state.id, "2020-02-12T06:36:43Z");
        assert_eq!(destroy_wait(&state).unwrap(), Duration::ZERO);
        let d = config(None, Some("1.5m"));
        assert_eq!(
            destroy_wait(&created(&d, &clock("2020-02-12T06:36:43Z"))).unwrap(),
            Duration::from_secs(90)
        );
    }

    #[test]
    fn validation() {
        assert!(matches!(
            validate(&config(None, None))[..],
            [TimeError::MissingOneOf { .. }]
        ));
        let errors = validate(&config(Some("30"), Some("1d")));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1].attribute(), Some("destroy_duration"));
    }

    #[test]
    fn planning() {
        let c = config(Some("30s"), None);
        let state = created(&c, &clock("2020-02-12T06:36:43Z"));
        let p = plan(Some(&state), &config(Some("60s"), None));
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned.id, MaybeKnown::Known(state.id.clone()));
        let mut t = c.clone();
        t.triggers = MaybeKnown::Known(BTreeMap::from([("x".into(), "1".into())]));
        assert_eq!(plan(Some(&state), &t).requires_replace, ["triggers"]);
        assert_eq!(plan(None, &c).planned.id, MaybeKnown::Unknown);
        assert_eq!(update(&state, &config(Some("60s"), None)).id, state.id);
    }

    #[test]
    fn import_formats() {
        let state = import("30s,", &clock("2020-02-12T06:36:43Z")).unwrap();
        assert_eq!(state.create_duration, MaybeKnown::Known("30s".into()));
        assert_eq!(state.destroy_duration, MaybeKnown::Null);
        assert_eq!(state.id, "2020-02-12T06:36:43Z");
        for bad in [",", "30s", "x,", "30s,1d"] {
            assert!(
                import(bad, &clock("2020-02-12T06:36:43Z")).is_err(),
                "{bad}"
            );
        }
    }
}
