//! Saved plans (`plan -out=FILE`): the plan bound to the state's lineage
//! and serial and to the configuration, so `apply FILE` can refuse a stale
//! one. Sensitive values are not written: the file holds
//! `(sensitive value)` placeholders, and apply plans again from the state.

use std::path::Path;

use anyhow::{bail, Context};
use meshform_engine::plan::Plan;
use meshform_engine::plan_json::{plan_from_saved_json, plan_to_saved_json};
use meshform_lang::{Data, Value};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::commands::plan::PlannedRun;

const FORMAT: &str = "meshform-plan";

/// A digest of every configuration file, in a stable order.
pub fn config_digest(module: &meshform_config::Module) -> String {
    let mut files = module.all_sources();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    format!("{:x}", h.finalize())
}

/// A copy of `v` in which every sensitive value is replaced by an unknown
/// value of its type, still marked sensitive.
pub fn redact(v: &Value) -> Value {
    if v.is_sensitive() {
        return Value::unknown(v.ty()).mark_sensitive();
    }
    match v.data() {
        Data::List(t, items) => Value::list(t.clone(), items.iter().map(redact).collect()),
        Data::Set(t, items) => Value::set(t.clone(), items.iter().map(redact).collect()),
        Data::Tuple(items) => Value::tuple(items.iter().map(redact).collect()),
        Data::Map(t, m) => Value::map(
            t.clone(),
            m.iter().map(|(k, v)| (k.clone(), redact(v))).collect(),
        ),
        Data::Object(m) => Value::object(m.iter().map(|(k, v)| (k.clone(), redact(v))).collect()),
        _ => v.clone(),
    }
}

/// Replaces every attribute the schema declares sensitive, at any depth,
/// by an unknown sensitive value (providers return values without marks).
fn redact_schema_sensitive(block: &meshform_lang::schema::Block, v: &Value) -> Value {
    let Data::Object(attrs) = v.data() else {
        return v.clone();
    };
    let mut out = attrs.clone();
    for (name, attr) in &block.attributes {
        let Some(current) = out.get(name) else {
            continue;
        };
        let new = if attr.sensitive && !current.is_null() {
            Value::unknown(current.ty()).mark_sensitive()
        } else if let meshform_lang::schema::AttributeType::Nested(nt) = &attr.ty {
            let inner = meshform_lang::schema::Block {
                attributes: nt.attributes.clone(),
                ..Default::default()
            };
            each_object(current, &|el| redact_schema_sensitive(&inner, el))
        } else {
            continue;
        };
        out.insert(name.clone(), new);
    }
    for (name, nb) in &block.block_types {
        if let Some(current) = out.get(name) {
            let new = each_object(current, &|el| redact_schema_sensitive(&nb.block, el));
            out.insert(name.clone(), new);
        }
    }
    Value::object(out)
}

fn each_object(v: &Value, f: &dyn Fn(&Value) -> Value) -> Value {
    match v.data() {
        Data::Object(_) => f(v),
        Data::List(t, items) => Value::list(t.clone(), items.iter().map(f).collect()),
        Data::Set(t, items) => Value::set(t.clone(), items.iter().map(f).collect()),
        Data::Tuple(items) => Value::tuple(items.iter().map(f).collect()),
        Data::Map(t, m) => Value::map(
            t.clone(),
            m.iter().map(|(k, x)| (k.clone(), f(x))).collect(),
        ),
        _ => v.clone(),
    }
}

fn redacted_plan(p: &Plan, schemas: &meshform_lang::schema::Schemas) -> Plan {
    let mut p = p.clone();
    for c in p.changes.iter_mut().chain(p.drift.iter_mut()) {
        if let Some(block) = meshform_engine::render::lookup_schema(schemas, c).cloned() {
            c.before = redact_schema_sensitive(&block, &c.before);
            c.after = redact_schema_sensitive(&block, &c.after);
        }
        c.before = redact(&c.before);
        c.after = redact(&c.after);
    }
    for o in p.output_changes.values_mut() {
        if o.sensitive {
            o.before = redact(&o.before.clone().mark_sensitive());
            o.after = redact(&o.after.clone().mark_sensitive());
        } else {
            o.before = redact(&o.before);
            o.after = redact(&o.after);
        }
    }
    p.variables = p
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), redact(v)))
        .collect();
    p
}

pub fn save(path: &Path, run: &PlannedRun) -> anyhow::Result<()> {
    let doc = json!({
        "format": FORMAT,
        "format_version": 1,
        "lineage": run.lineage,
        "serial": run.serial,
        "config_digest": config_digest(&run.module),
        "now": run.now.to_rfc3339(),
        "plan": plan_to_saved_json(&redacted_plan(&run.plan, &run.schemas)),
    });
    let text = serde_json::to_string(&doc)?;
    std::fs::write(path, text).with_context(|| format!("writing the plan to {}", path.display()))
}

/// A plan read back from a file.
pub struct SavedPlan {
    pub lineage: String,
    pub serial: u64,
    pub config_digest: String,
    pub now: chrono::DateTime<chrono::Utc>,
    pub plan: Plan,
}

pub fn load(path: &Path) -> anyhow::Result<SavedPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the saved plan {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a saved plan", path.display()))?;
    if doc.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        bail!(
            "{} is not a meshform saved plan (made with `meshform plan -out=FILE`)",
            path.display()
        );
    }
    let plan = plan_from_saved_json(&doc["plan"])
        .map_err(|e| anyhow::anyhow!("the saved plan is damaged: {e}"))?;
    Ok(SavedPlan {
        lineage: doc["lineage"].as_str().unwrap_or_default().to_owned(),
        serial: doc["serial"].as_u64().unwrap_or_default(),
        config_digest: doc["config_digest"].as_str().unwrap_or_default().to_owned(),
        now: doc["now"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(chrono::Utc::now),
        plan,
    })
}
