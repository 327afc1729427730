//! `time_static`: a timestamp taken once, at creation (or given as
//! `rfc3339`), and kept until `triggers` or `rfc3339` change.

use super::calendar::{format_rfc3339, parse_rfc3339, TimeParts};
use super::{now, triggers_replace, Clock, MaybeKnown, TimeError, Triggers};

/// The configuration of a `time_static`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticConfig {
    pub rfc3339: MaybeKnown<String>,
    pub triggers: Triggers,
}

/// A `time_static` in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticState {
    pub rfc3339: String,
    pub id: String,
    pub parts: TimeParts,
    pub triggers: Triggers,
}

/// A planned `time_static`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticPlanned {
    pub rfc3339: MaybeKnown<String>,
    pub id: MaybeKnown<String>,
    pub parts: MaybeKnown<TimeParts>,
    pub triggers: Triggers,
}

/// The planned state and the attributes that force replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticPlan {
    pub planned: StaticPlanned,
    pub requires_replace: Vec<&'static str>,
}

impl StaticState {
    pub fn to_planned(&self) -> StaticPlanned {
        StaticPlanned {
            rfc3339: MaybeKnown::Known(self.rfc3339.clone()),
            id: MaybeKnown::Known(self.id.clone()),
            parts: MaybeKnown::Known(self.parts),
            triggers: self.triggers.clone(),
        }
    }
}

/// Checks a configuration: `rfc3339`, when known, must parse.
pub fn validate(config: &StaticConfig) -> Vec<TimeError> {
    match &config.rfc3339 {
        MaybeKnown::Known(text) => parse_rfc3339("rfc3339", text).err().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Plans a `time_static`. A configured `rfc3339` makes the whole plan
/// known on create; any change replaces the resource.
pub fn plan(prior: Option<&StaticState>, config: &StaticConfig) -> Result<StaticPlan, TimeError> {
    let Some(prior) = prior else {
        let planned = match &config.rfc3339 {
            MaybeKnown::Known(text) => {
                let t = parse_rfc3339("rfc3339", text)?;
                StaticPlanned {
                    rfc3339: MaybeKnown::Known(text.clone()),
                    id: MaybeKnown::Known(text.clone()),
                    parts: MaybeKnown::Known(TimeParts::of(&t)),
                    triggers: config.triggers.clone(),
                }
            }
            _ => StaticPlanned {
                rfc3339: MaybeKnown::Unknown,
                id: MaybeKnown::Unknown,
                parts: MaybeKnown::Unknown,
                triggers: config.triggers.clone(),
            },
        };
        return Ok(StaticPlan {
            planned,
            requires_replace: Vec::new(),
        });
    };
    let rfc3339_changed = match &config.rfc3339 {
        MaybeKnown::Null => false,
        MaybeKnown::Unknown => true,
        MaybeKnown::Known(text) => {
            text != &prior.rfc3339
                && parse_rfc3339("rfc3339", text)? != parse_rfc3339("rfc3339", &prior.rfc3339)?
        }
    };
    let triggers_changed = config.triggers != prior.triggers;
    if !rfc3339_changed && !triggers_changed {
        return Ok(StaticPlan {
            planned: prior.to_planned(),
            requires_replace: Vec::new(),
        });
    }
    let mut requires_replace = Vec::new();
    if rfc3339_changed {
        requires_replace.push("rfc3339");
    }
    if triggers_replace(&prior.triggers, &config.triggers) {
        requires_replace.push("triggers");
    }
    Ok(StaticPlan {
        planned: StaticPlanned {
            rfc3339: match &config.rfc3339 {
                MaybeKnown::Null => MaybeKnown::Unknown,
                other => other.clone(),
            },
            // `id` keeps its prior value (use-state-for-unknown).
            id: MaybeKnown::Known(prior.id.clone()),
            parts: MaybeKnown::Unknown,
            triggers: config.triggers.clone(),
        },
        requires_replace,
    })
}

/// Creates a `time_static`: `rfc3339` or now.
pub fn create(config: &StaticConfig, clock: &dyn Clock) -> Result<StaticState, TimeError> {
    let t = match &config.rfc3339 {
        MaybeKnown::Known(text) => parse_rfc3339("rfc3339", text)?,
        _ => now(clock),
    };
    let text = format_rfc3339(&t);
    Ok(StaticState {
        id: text.clone(),
        rfc3339: text,
        parts: TimeParts::of(&t),
        triggers: config.triggers.clone(),
    })
}

/// Imports an RFC 3339 timestamp.
pub fn import(id: &str) -> Result<StaticState, TimeError> {
    let t = parse_rfc3339("id", id)?;
    let text = format_rfc3339(&t);
    Ok(StaticState {
        id: text.clone(),
        rfc3339: text,
        parts: TimeParts::of(&t),
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

    #[test]
    fn create_takes_now_or_rfc3339() {
        let state = create(&StaticConfig::default(), &clock("2020-02-12T06:36:13.5Z")).unwrap();
        assert_eq!(state.rfc3339, "2020-02-12T06:36:13Z");
        assert_eq!(state.id, state.rfc3339);
        let p = state.parts;
        assert_eq!(
            (p.year, p.month, p.day, p.hour, p.minute, p.second, p.unix),
            (2020, 2, 12, 6, 36, 13, 1_581_489_373)
        );
        let c = StaticConfig {
            rfc3339: MaybeKnown::Known("2021-05-06T07:08:09Z".into()),
            ..StaticConfig::default()
        };
        assert_eq!(
            create(&c, &clock("2030-01-01T00:00:00Z")).unwrap().rfc3339,
            "2021-05-06T07:08:09Z"
        );
    }

    #[test]
    fn configured_rfc3339_is_known_at_plan() {
        let c = StaticConfig {
            rfc3339: MaybeKnown::Known("2021-05-06T07:08:09Z".into()),
            ..StaticConfig::default()
        };
        let p = plan(None, &c).unwrap();
        assert_eq!(
            p.planned.id,
            MaybeKnown::Known("2021-05-06T07:08:09Z".into())
        );
        assert_eq!(p.planned.parts.known().unwrap().year, 2021);
        let p = plan(None, &StaticConfig::default()).unwrap();
        assert_eq!(p.planned.rfc3339, MaybeKnown::Unknown);
    }

    #[test]
    fn changes_replace() {
        let state = create(&StaticConfig::default(), &clock("2020-02-12T06:36:13Z")).unwrap();
        assert_eq!(
            plan(Some(&state), &StaticConfig::default())
                .unwrap()
                .planned,
            state.to_planned()
        );
        let c = StaticConfig {
            triggers: MaybeKnown::Known(BTreeMap::from([("a".into(), "b".into())])),
            ..StaticConfig::default()
        };
        assert_eq!(
            plan(Some(&state), &c).unwrap().requires_replace,
            ["triggers"]
        );
        let c = StaticConfig {
            rfc3339: MaybeKnown::Known("2020-02-12T07:36:13+01:00".into()),
            ..StaticConfig::default()
        };
        assert!(plan(Some(&state), &c).unwrap().requires_replace.is_empty());
        let c = StaticConfig {
            rfc3339: MaybeKnown::Known("2020-02-13T06:36:13Z".into()),
            ..StaticConfig::default()
        };
        assert_eq!(
            plan(Some(&state), &c).unwrap().requires_replace,
            ["rfc3339"]
        );
    }

    #[test]
    fn import_and_validate() {
        let state = import("2020-02-12T06:36:13Z").unwrap();
        assert_eq!(state.parts.unix, 1_581_489_373);
        assert_eq!(state.triggers, MaybeKnown::Known(BTreeMap::new()));
        assert!(import("soon").is_err());
        let c = StaticConfig {
            rfc3339: MaybeKnown::Known("soon".into()),
            ..StaticConfig::default()
        };
        assert_eq!(validate(&c)[0].attribute(), Some("rfc3339"));
    }
}
