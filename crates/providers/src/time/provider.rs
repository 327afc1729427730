//! hashicorp/time 0.13.0 as a [`Provider`]: the schema, and the conversion
//! between Terraform values and the typed resource logic of this module.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use meshform_lang::schema::{Attribute, Block, ProviderSchema, Schema};
use meshform_lang::{Clock, Diagnostic, Diagnostics, Number, PathStep, Type, Value};

use super::calendar::TimeParts;
use super::{
    time_offset, time_rotating, time_sleep, time_static, MaybeKnown, TimeError, TimeValues,
    Triggers,
};
use crate::provider::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, AttrPath, ConfigureRequest,
    ImportResourceStateRequest, ImportResourceStateResponse, ImportedResource,
    PlanResourceChangeRequest, PlanResourceChangeResponse, Provider, ProviderFactory,
    ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest, ReadResourceResponse,
};

/// Source address of the time provider.
pub const SOURCE: &str = "hashicorp/time";
/// The provider version whose behaviour this implements.
pub const VERSION: &str = "0.13.0";

/// The time provider's factory.
#[derive(Debug, Clone)]
pub struct TimeFactory {
    schema: Arc<ProviderSchema>,
}

impl Default for TimeFactory {
    fn default() -> Self {
        TimeFactory::new()
    }
}

impl TimeFactory {
    pub fn new() -> TimeFactory {
        TimeFactory {
            schema: Arc::new(time_schema()),
        }
    }
}

impl ProviderFactory for TimeFactory {
    fn source(&self) -> &str {
        SOURCE
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let errors = match type_name {
            "time_offset" => time_offset::validate(&offset_config(config)),
            "time_rotating" => time_rotating::validate(&rotating_config(config)),
            "time_static" => time_static::validate(&static_config(config)),
            "time_sleep" => time_sleep::validate(&sleep_config(config)),
            other => return unsupported(other),
        };
        Diagnostics(errors.iter().map(invalid_value).collect())
    }

    fn configure(&self, req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics> {
        Ok(Arc::new(TimeProvider { clock: req.clock }))
    }
}

/// The configured time provider: it only needs the run's clock.
pub struct TimeProvider {
    clock: Arc<dyn Clock>,
}

impl TimeProvider {
    pub fn new(clock: Arc<dyn Clock>) -> TimeProvider {
        TimeProvider { clock }
    }
}

fn unsupported(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid resource type",
        format!("The provider hashicorp/time does not support resource type {type_name:?}."),
    )
    .into()
}

fn invalid_value(e: &TimeError) -> Diagnostic {
    let summary = match e {
        TimeError::MissingOneOf { .. } => "Missing Attribute Configuration",
        TimeError::ImportId { .. } => "Unexpected Format of ID",
        _ => "Invalid Attribute Value",
    };
    Diagnostic::error(summary, format!("{}.", capitalise(&e.to_string())))
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn errors(e: TimeError) -> Diagnostics {
    invalid_value(&e).into()
}

#[async_trait]
impl Provider for TimeProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        if req.proposed_new_state.is_null() {
            return PlanResourceChangeResponse {
                planned_state: Some(req.proposed_new_state),
                planned_private: req.prior_private,
                ..Default::default()
            };
        }
        let result = plan(
            &req.type_name,
            &req.prior_state,
            &req.config,
            self.clock.as_ref(),
        );
        match result {
            Ok((planned, replace)) => PlanResourceChangeResponse {
                planned_state: Some(planned),
                requires_replace: replace.iter().map(|a| attr_path(a)).collect(),
                planned_private: req.prior_private,
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => PlanResourceChangeResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        match apply(&req, self.clock.as_ref()).await {
            Ok(new_state) => ApplyResourceChangeResponse {
                new_state: Some(new_state),
                private: req.planned_private,
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => ApplyResourceChangeResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        if req.type_name != "time_rotating" || req.current_state.is_null() {
            return ReadResourceResponse {
                new_state: Some(req.current_state),
                private: req.private,
                diagnostics: Diagnostics::default(),
            };
        }
        let state = rotating_state(&req.current_state);
        match time_rotating::read(&state, self.clock.as_ref()) {
            Ok(Some(_)) => ReadResourceResponse {
                new_state: Some(req.current_state),
                private: req.private,
                diagnostics: Diagnostics::default(),
            },
            Ok(None) => ReadResourceResponse {
                new_state: None,
                private: Vec::new(),
                diagnostics: Diagnostics::default(),
            },
            Err(e) => ReadResourceResponse {
                diagnostics: errors(e),
                ..Default::default()
            },
        }
    }

    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let state = match req.type_name.as_str() {
            "time_offset" => time_offset::import(&req.id).map(|s| offset_value(&s.to_planned())),
            "time_rotating" => {
                time_rotating::import(&req.id).map(|s| rotating_value(&s.to_planned()))
            }
            "time_static" => time_static::import(&req.id).map(|s| static_value(&s.to_planned())),
            "time_sleep" => time_sleep::import(&req.id, self.clock.as_ref())
                .map(|s| sleep_value(&sleep_planned(&s))),
            other => {
                return ImportResourceStateResponse {
                    diagnostics: unsupported(other),
                    ..Default::default()
                }
            }
        };
        match state {
            Ok(state) => ImportResourceStateResponse {
                imported: vec![ImportedResource {
                    type_name: req.type_name,
                    state,
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::default(),
            },
            Err(e) => ImportResourceStateResponse {
                diagnostics: errors(e),
                ..Default::default()
            },
        }
    }

    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        ReadDataSourceResponse {
            diagnostics: Diagnostic::error(
                "Invalid data source type",
                format!(
                    "The provider hashicorp/time has no data source type {:?}.",
                    req.type_name
                ),
            )
            .into(),
            ..Default::default()
        }
    }
}

fn attr_path(name: &str) -> AttrPath {
    vec![PathStep::Attr(name.to_owned())]
}

/// Plans one resource; returns the planned object and the attributes that
/// force replacement (already filtered as Terraform core does).
fn plan(
    type_name: &str,
    prior: &Value,
    config: &Value,
    clock: &dyn Clock,
) -> Result<(Value, Vec<&'static str>), Diagnostics> {
    let exists = !prior.is_null();
    match type_name {
        "time_offset" => {
            let prior = exists.then(|| offset_state(prior)).transpose()?;
            let p = time_offset::plan(prior.as_ref(), &offset_config(config)).map_err(errors)?;
            Ok((offset_value(&p.planned), p.requires_replace))
        }
        "time_rotating" => {
            let prior = exists.then(|| rotating_state_checked(prior)).transpose()?;
            let p = time_rotating::plan(prior.as_ref(), &rotating_config(config), clock)
                .map_err(errors)?;
            Ok((rotating_value(&p.planned), p.requires_replace))
        }
        "time_static" => {
            let prior = exists.then(|| static_state(prior)).transpose()?;
            let p = time_static::plan(prior.as_ref(), &static_config(config)).map_err(errors)?;
            Ok((static_value(&p.planned), p.requires_replace))
        }
        "time_sleep" => {
            let prior = exists.then(|| sleep_state(prior)).transpose()?;
            let p = time_sleep::plan(prior.as_ref(), &sleep_config(config));
            Ok((sleep_value(&p.planned), p.requires_replace))
        }
        other => Err(unsupported(other)),
    }
}

async fn apply(req: &ApplyResourceChangeRequest, clock: &dyn Clock) -> Result<Value, Diagnostics> {
    let creating = req.prior_state.is_null();
    if req.planned_state.is_null() {
        if req.type_name == "time_sleep" {
            let state = sleep_state(&req.prior_state)?;
            let wait = time_sleep::destroy_wait(&state).map_err(errors)?;
            tokio::time::sleep(wait).await;
        }
        return Ok(req.planned_state.clone());
    }
    let config = &req.config;
    match req.type_name.as_str() {
        "time_offset" => {
            let config = offset_config(config);
            let state = if creating {
                time_offset::create(&config, clock)
            } else {
                time_offset::update(&offset_state(&req.prior_state)?, &config)
            };
            Ok(offset_value(&state.map_err(errors)?.to_planned()))
        }
        "time_rotating" => {
            let config = rotating_config(config);
            let state = if creating {
                time_rotating::create(&config, clock)
            } else {
                time_rotating::update(&rotating_state_checked(&req.prior_state)?, &config)
            };
            Ok(rotating_value(&state.map_err(errors)?.to_planned()))
        }
        "time_static" => {
            let config = static_config(config);
            if creating {
                let state = time_static::create(&config, clock).map_err(errors)?;
                Ok(static_value(&state.to_planned()))
            } else {
                // Nothing but `triggers` can change in place: the plan is
                // the new state.
                Ok(req.planned_state.clone())
            }
        }
        "time_sleep" => {
            let config = sleep_config(config);
            if creating {
                let wait = time_sleep::create_wait(&config).map_err(errors)?;
                tokio::time::sleep(wait).await;
                Ok(sleep_value(&sleep_planned(&time_sleep::created(
                    &config, clock,
                ))))
            } else {
                let prior = sleep_state(&req.prior_state)?;
                Ok(sleep_value(&sleep_planned(&time_sleep::update(
                    &prior, &config,
                ))))
            }
        }
        other => Err(unsupported(other)),
    }
}

// ---- the schema -------------------------------------------------------

fn attr(ty: Type, flags: &str, description: &str) -> Attribute {
    let mut a = Attribute::new(ty);
    a.required = flags.contains('R');
    a.optional = flags.contains('O');
    a.computed = flags.contains('C');
    a.description = Some(description.to_owned());
    a
}

fn block(attrs: Vec<(&str, Attribute)>, description: &str) -> Schema {
    Schema {
        version: 0,
        block: Block {
            attributes: attrs
                .into_iter()
                .map(|(name, a)| (name.to_owned(), a))
                .collect(),
            description: Some(description.to_owned()),
            ..Block::default()
        },
    }
}

fn time_parts_attrs(of: &str) -> Vec<(&'static str, Attribute)> {
    vec![
        (
            "year",
            attr(Type::Number, "C", &format!("Number year of {of}.")),
        ),
        (
            "month",
            attr(Type::Number, "C", &format!("Number month of {of}.")),
        ),
        (
            "day",
            attr(Type::Number, "C", &format!("Number day of {of}.")),
        ),
        (
            "hour",
            attr(Type::Number, "C", &format!("Number hour of {of}.")),
        ),
        (
            "minute",
            attr(Type::Number, "C", &format!("Number minute of {of}.")),
        ),
        (
            "second",
            attr(Type::Number, "C", &format!("Number second of {of}.")),
        ),
        (
            "unix",
            attr(Type::Number, "C", "Number of seconds since epoch time."),
        ),
    ]
}

fn triggers_attr() -> Attribute {
    attr(
        Type::map(Type::String),
        "O",
        "Arbitrary map of values that, when changed, will trigger recreation of the resource.",
    )
}

/// The schema of hashicorp/time 0.13.0's resources.
pub fn time_schema() -> ProviderSchema {
    let mut offset = time_parts_attrs("the offset timestamp");
    offset.extend([
        (
            "base_rfc3339",
            attr(
                Type::String,
                "OC",
                "Base timestamp in RFC3339 format; defaults to the current time.",
            ),
        ),
        (
            "id",
            attr(Type::String, "C", "RFC3339 format of the base timestamp."),
        ),
        (
            "rfc3339",
            attr(Type::String, "C", "RFC3339 format of the offset timestamp."),
        ),
        ("triggers", triggers_attr()),
    ]);
    for unit in ["years", "months", "days", "hours", "minutes", "seconds"] {
        let name: &'static str = match unit {
            "years" => "offset_years",
            "months" => "offset_months",
            "days" => "offset_days",
            "hours" => "offset_hours",
            "minutes" => "offset_minutes",
            _ => "offset_seconds",
        };
        offset.push((
            name,
            attr(
                Type::Number,
                "O",
                &format!("Number of {unit} to offset the base timestamp."),
            ),
        ));
    }
    let mut rotating = time_parts_attrs("the rotation timestamp");
    rotating.extend([
        (
            "id",
            attr(Type::String, "C", "RFC3339 format of the base timestamp."),
        ),
        (
            "rfc3339",
            attr(
                Type::String,
                "OC",
                "Base timestamp in RFC3339 format; defaults to the current time.",
            ),
        ),
        (
            "rotation_rfc3339",
            attr(
                Type::String,
                "OC",
                "The rotation timestamp in RFC3339 format.",
            ),
        ),
        ("triggers", triggers_attr()),
    ]);
    for (name, unit) in [
        ("rotation_years", "years"),
        ("rotation_months", "months"),
        ("rotation_days", "days"),
        ("rotation_hours", "hours"),
        ("rotation_minutes", "minutes"),
    ] {
        rotating.push((name, attr(Type::Number, "O", &format!("Number of {unit} to add to the base timestamp to configure the rotation timestamp."))));
    }
    let mut static_attrs = time_parts_attrs("the timestamp");
    static_attrs.extend([
        (
            "id",
            attr(Type::String, "C", "RFC3339 format of the timestamp."),
        ),
        (
            "rfc3339",
            attr(
                Type::String,
                "OC",
                "Timestamp in RFC3339 format; defaults to the current time.",
            ),
        ),
        ("triggers", triggers_attr()),
    ]);
    let sleep = vec![
        (
            "create_duration",
            attr(
                Type::String,
                "O",
                "Time duration to delay resource creation, e.g. 30s.",
            ),
        ),
        (
            "destroy_duration",
            attr(
                Type::String,
                "O",
                "Time duration to delay resource destroy, e.g. 30s.",
            ),
        ),
        (
            "id",
            attr(Type::String, "C", "RFC3339 timestamp of the creation."),
        ),
        ("triggers", triggers_attr()),
    ];
    ProviderSchema {
        provider: Schema::default(),
        resources: BTreeMap::from([
            (
                "time_offset".to_owned(),
                block(offset, "An offset timestamp kept in state."),
            ),
            (
                "time_rotating".to_owned(),
                block(rotating, "A rotating timestamp kept in state."),
            ),
            (
                "time_static".to_owned(),
                block(static_attrs, "A static timestamp kept in state."),
            ),
            (
                "time_sleep".to_owned(),
                block(sleep, "Waits on creation and/or destruction."),
            ),
        ]),
        data_sources: BTreeMap::new(),
    }
}

// ---- values to typed logic and back -----------------------------------

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get_attr(name)
}

fn text(v: &Value, name: &str) -> MaybeKnown<String> {
    match field(v, name) {
        None => MaybeKnown::Null,
        Some(x) if x.is_null() => MaybeKnown::Null,
        Some(x) if !x.is_known() => MaybeKnown::Unknown,
        Some(x) => x
            .as_str()
            .map(|s| MaybeKnown::Known(s.to_owned()))
            .unwrap_or(MaybeKnown::Null),
    }
}

fn int(v: &Value, name: &str) -> MaybeKnown<i64> {
    match field(v, name) {
        None => MaybeKnown::Null,
        Some(x) if x.is_null() => MaybeKnown::Null,
        Some(x) if !x.is_known() => MaybeKnown::Unknown,
        Some(x) => x
            .as_number()
            .and_then(Number::to_i64)
            .map_or(MaybeKnown::Null, MaybeKnown::Known),
    }
}

fn triggers(v: &Value) -> Triggers {
    match field(v, "triggers") {
        None => MaybeKnown::Null,
        Some(x) if x.is_null() => MaybeKnown::Null,
        Some(x) if !x.is_wholly_known() => MaybeKnown::Unknown,
        Some(x) => MaybeKnown::Known(
            x.as_entries()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

fn required_text(v: &Value, name: &str) -> Result<String, Diagnostics> {
    text(v, name).known().cloned().ok_or_else(|| {
        Diagnostic::error(
            "Invalid prior state",
            format!("The stored object has no value for {name}."),
        )
        .into()
    })
}

fn parts(v: &Value) -> TimeParts {
    let n = |name: &str| int(v, name).known().copied().unwrap_or(0);
    TimeParts {
        year: n("year"),
        month: n("month"),
        day: n("day"),
        hour: n("hour"),
        minute: n("minute"),
        second: n("second"),
        unix: n("unix"),
    }
}

fn offsets(v: &Value) -> time_offset::Offsets {
    time_offset::Offsets {
        years: int(v, "offset_years"),
        months: int(v, "offset_months"),
        days: int(v, "offset_days"),
        hours: int(v, "offset_hours"),
        minutes: int(v, "offset_minutes"),
        seconds: int(v, "offset_seconds"),
    }
}

fn rotations(v: &Value) -> time_rotating::Rotations {
    time_rotating::Rotations {
        years: int(v, "rotation_years"),
        months: int(v, "rotation_months"),
        days: int(v, "rotation_days"),
        hours: int(v, "rotation_hours"),
        minutes: int(v, "rotation_minutes"),
    }
}

fn offset_config(v: &Value) -> time_offset::OffsetConfig {
    time_offset::OffsetConfig {
        base_rfc3339: text(v, "base_rfc3339"),
        offsets: offsets(v),
        triggers: triggers(v),
    }
}

fn offset_state(v: &Value) -> Result<time_offset::OffsetState, Diagnostics> {
    Ok(time_offset::OffsetState {
        base_rfc3339: required_text(v, "base_rfc3339")?,
        id: required_text(v, "id")?,
        result: TimeValues {
            rfc3339: required_text(v, "rfc3339")?,
            parts: parts(v),
        },
        offsets: offsets(v),
        triggers: triggers(v),
    })
}

fn rotating_config(v: &Value) -> time_rotating::RotatingConfig {
    time_rotating::RotatingConfig {
        rfc3339: text(v, "rfc3339"),
        rotation_rfc3339: text(v, "rotation_rfc3339"),
        rotations: rotations(v),
        triggers: triggers(v),
    }
}

fn rotating_state_checked(v: &Value) -> Result<time_rotating::RotatingState, Diagnostics> {
    Ok(time_rotating::RotatingState {
        rfc3339: required_text(v, "rfc3339")?,
        id: required_text(v, "id")?,
        rotation: TimeValues {
            rfc3339: text(v, "rotation_rfc3339")
                .known()
                .cloned()
                .unwrap_or_default(),
            parts: parts(v),
        },
        rotations: rotations(v),
        triggers: triggers(v),
    })
}

fn rotating_state(v: &Value) -> time_rotating::RotatingState {
    time_rotating::RotatingState {
        rfc3339: text(v, "rfc3339").known().cloned().unwrap_or_default(),
        id: text(v, "id").known().cloned().unwrap_or_default(),
        rotation: TimeValues {
            rfc3339: text(v, "rotation_rfc3339")
                .known()
                .cloned()
                .unwrap_or_default(),
            parts: parts(v),
        },
        rotations: rotations(v),
        triggers: triggers(v),
    }
}

fn static_config(v: &Value) -> time_static::StaticConfig {
    time_static::StaticConfig {
        rfc3339: text(v, "rfc3339"),
        triggers: triggers(v),
    }
}

fn static_state(v: &Value) -> Result<time_static::StaticState, Diagnostics> {
    Ok(time_static::StaticState {
        rfc3339: required_text(v, "rfc3339")?,
        id: required_text(v, "id")?,
        parts: parts(v),
        triggers: triggers(v),
    })
}

fn sleep_config(v: &Value) -> time_sleep::SleepConfig {
    time_sleep::SleepConfig {
        create_duration: text(v, "create_duration"),
        destroy_duration: text(v, "destroy_duration"),
        triggers: triggers(v),
    }
}

fn sleep_state(v: &Value) -> Result<time_sleep::SleepState, Diagnostics> {
    Ok(time_sleep::SleepState {
        create_duration: text(v, "create_duration"),
        destroy_duration: text(v, "destroy_duration"),
        id: required_text(v, "id")?,
        triggers: triggers(v),
    })
}

fn sleep_planned(s: &time_sleep::SleepState) -> time_sleep::SleepPlanned {
    time_sleep::SleepPlanned {
        create_duration: s.create_duration.clone(),
        destroy_duration: s.destroy_duration.clone(),
        id: MaybeKnown::Known(s.id.clone()),
        triggers: s.triggers.clone(),
    }
}

fn string_value(v: &MaybeKnown<String>) -> Value {
    match v {
        MaybeKnown::Null => Value::null(Type::String),
        MaybeKnown::Unknown => Value::unknown(Type::String),
        MaybeKnown::Known(s) => Value::string(s.clone()),
    }
}

fn int_value(v: &MaybeKnown<i64>) -> Value {
    match v {
        MaybeKnown::Null => Value::null(Type::Number),
        MaybeKnown::Unknown => Value::unknown(Type::Number),
        MaybeKnown::Known(n) => Value::int(*n),
    }
}

fn triggers_value(t: &Triggers) -> Value {
    let ty = Type::String;
    match t {
        MaybeKnown::Null => Value::null(Type::map(ty)),
        MaybeKnown::Unknown => Value::unknown(Type::map(ty)),
        MaybeKnown::Known(m) => Value::map(
            ty,
            m.iter()
                .map(|(k, v)| (k.clone(), Value::string(v.clone())))
                .collect(),
        ),
    }
}

fn parts_values(p: &MaybeKnown<TimeParts>, out: &mut BTreeMap<String, Value>) {
    let names = ["year", "month", "day", "hour", "minute", "second", "unix"];
    for (i, name) in names.into_iter().enumerate() {
        let v = match p {
            MaybeKnown::Known(t) => {
                let all = [t.year, t.month, t.day, t.hour, t.minute, t.second, t.unix];
                MaybeKnown::Known(all[i])
            }
            MaybeKnown::Unknown => MaybeKnown::Unknown,
            MaybeKnown::Null => MaybeKnown::Null,
        };
        out.insert(name.to_owned(), int_value(&v));
    }
}

fn object(attrs: BTreeMap<String, Value>) -> Value {
    Value::object(attrs)
}

fn offset_value(p: &time_offset::OffsetPlanned) -> Value {
    let mut out = BTreeMap::new();
    let result_parts = match &p.result {
        MaybeKnown::Known(r) => MaybeKnown::Known(r.parts),
        MaybeKnown::Unknown => MaybeKnown::Unknown,
        MaybeKnown::Null => MaybeKnown::Null,
    };
    let rfc3339 = match &p.result {
        MaybeKnown::Known(r) => MaybeKnown::Known(r.rfc3339.clone()),
        MaybeKnown::Unknown => MaybeKnown::Unknown,
        MaybeKnown::Null => MaybeKnown::Null,
    };
    parts_values(&result_parts, &mut out);
    out.insert("base_rfc3339".into(), string_value(&p.base_rfc3339));
    out.insert("id".into(), string_value(&p.id));
    out.insert("rfc3339".into(), string_value(&rfc3339));
    out.insert("triggers".into(), triggers_value(&p.triggers));
    for (name, v) in [
        ("offset_years", &p.offsets.years),
        ("offset_months", &p.offsets.months),
        ("offset_days", &p.offsets.days),
        ("offset_hours", &p.offsets.hours),
        ("offset_minutes", &p.offsets.minutes),
        ("offset_seconds", &p.offsets.seconds),
    ] {
        out.insert(name.into(), int_value(v));
    }
    object(out)
}

fn rotating_value(p: &time_rotating::RotatingPlanned) -> Value {
    let mut out = BTreeMap::new();
    parts_values(&p.parts, &mut out);
    out.insert("id".into(), string_value(&p.id));
    out.insert("rfc3339".into(), string_value(&p.rfc3339));
    out.insert("rotation_rfc3339".into(), string_value(&p.rotation_rfc3339));
    out.insert("triggers".into(), triggers_value(&p.triggers));
    for (name, v) in [
        ("rotation_years", &p.rotations.years),
        ("rotation_months", &p.rotations.months),
        ("rotation_days", &p.rotations.days),
        ("rotation_hours", &p.rotations.hours),
        ("rotation_minutes", &p.rotations.minutes),
    ] {
        out.insert(name.into(), int_value(v));
    }
    object(out)
}

fn static_value(p: &time_static::StaticPlanned) -> Value {
    let mut out = BTreeMap::new();
    parts_values(&p.parts, &mut out);
    out.insert("id".into(), string_value(&p.id));
    out.insert("rfc3339".into(), string_value(&p.rfc3339));
    out.insert("triggers".into(), triggers_value(&p.triggers));
    object(out)
}

fn sleep_value(p: &time_sleep::SleepPlanned) -> Value {
    let mut out = BTreeMap::new();
    out.insert("create_duration".into(), string_value(&p.create_duration));
    out.insert("destroy_duration".into(), string_value(&p.destroy_duration));
    out.insert("id".into(), string_value(&p.id));
    out.insert("triggers".into(), triggers_value(&p.triggers));
    object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshform_lang::FixedClock;

    fn clock(s: &str) -> Arc<dyn Clock> {
        Arc::new(FixedClock(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc),
        ))
    }

    #[test]
    fn schema_matches_the_guide_schema_shape() {
        let schema = time_schema();
        let offset = &schema.resources["time_offset"].block;
        assert_eq!(offset.attributes.len(), 17);
        let rotating = &schema.resources["time_rotating"].block;
        assert_eq!(rotating.attributes.len(), 16);
        assert!(rotating.attributes["rotation_rfc3339"].optional);
        assert!(rotating.attributes["rotation_rfc3339"].computed);
        let typed = offset_value(
            &time_offset::create(
                &time_offset::OffsetConfig {
                    offsets: time_offset::Offsets {
                        years: MaybeKnown::Known(1),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                clock("2025-03-13T11:49:41Z").as_ref(),
            )
            .unwrap()
            .to_planned(),
        );
        assert!(matches!(typed.data(), meshform_lang::Data::Object(_)));
        assert_eq!(typed.ty(), offset.implied_type());
    }
}
