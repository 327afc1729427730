//! The prior state as the planner reads it: each object's attributes as a
//! typed `Value` (decoded through its resource schema), with sensitive marks
//! put back on the paths the state records.

use std::collections::{BTreeMap, HashMap};

use meshform_lang::addr::{
    InstanceKey, ModuleInstance, ModuleStep, Resource, ResourceInstance, ResourceMode,
};
use meshform_lang::schema::Schemas;
use meshform_lang::{implied_type, Diagnostic, Diagnostics, PathStep, Type, Value};
use meshform_state::{IndexKey, Mode, Snapshot};

/// One object from the state.
#[derive(Debug, Clone)]
pub struct PriorObject {
    pub value: Value,
    pub provider: String,
    pub private: Option<String>,
    pub dependencies: Vec<String>,
    pub create_before_destroy: bool,
    pub tainted: bool,
    pub schema_version: u64,
}

/// The prior state of a run.
#[derive(Debug, Clone, Default)]
pub struct PriorState {
    pub lineage: String,
    pub serial: u64,
    /// Current objects by instance address.
    pub objects: BTreeMap<ResourceInstance, PriorObject>,
    /// Deposed objects: (instance, deposed key).
    pub deposed: BTreeMap<(ResourceInstance, String), PriorObject>,
    /// Root module outputs.
    pub outputs: BTreeMap<String, (Value, bool)>,
}

/// Converts a state address into the shared address type.
pub fn instance_of(addr: &meshform_state::InstanceAddr) -> ResourceInstance {
    let key = |k: &Option<IndexKey>| match k {
        None => InstanceKey::None,
        Some(IndexKey::Int(i)) => InstanceKey::Int(*i),
        Some(IndexKey::Str(s)) => InstanceKey::Str(s.clone()),
    };
    ResourceInstance {
        module: ModuleInstance(
            addr.module
                .iter()
                .map(|s| ModuleStep {
                    name: s.name.clone(),
                    key: key(&s.key),
                })
                .collect(),
        ),
        resource: Resource {
            mode: match addr.mode {
                Mode::Managed => ResourceMode::Managed,
                Mode::Data => ResourceMode::Data,
            },
            ty: addr.type_name.clone(),
            name: addr.name.clone(),
        },
        key: key(&addr.key),
    }
}

/// Reads a snapshot, decoding each object with the schema of its provider
/// and type in `schemas` (objects whose schema is unknown keep the type
/// their JSON implies).
pub fn from_snapshot(snapshot: &Snapshot, schemas: &Schemas) -> (PriorState, Diagnostics) {
    // One implied type per resource type, not one per object.
    let mut types: HashMap<(String, String, ResourceMode), Option<Type>> = HashMap::new();
    let mut schema_type = |provider: &str, ty: &str, mode: ResourceMode| -> Option<Type> {
        types
            .entry((provider.to_owned(), ty.to_owned(), mode))
            .or_insert_with(|| {
                let source = crate::planner::source_of_provider_reference(provider);
                let p = schemas.provider(&source)?;
                let s = match mode {
                    ResourceMode::Managed => p.resources.get(ty),
                    ResourceMode::Data => p.data_sources.get(ty),
                }?;
                Some(s.block.implied_type())
            })
            .clone()
    };
    let mut diags = Diagnostics::default();
    let mut prior = PriorState {
        lineage: snapshot.lineage.clone(),
        serial: snapshot.serial,
        ..PriorState::default()
    };
    for inst in &snapshot.instances {
        let addr = instance_of(&inst.addr);
        let json = inst.attributes.to_value();
        let ty = schema_type(&inst.provider, &addr.resource.ty, addr.resource.mode)
            .unwrap_or_else(|| implied_type(&json));
        let mut value = match Value::from_json(&json, &ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Invalid resource state",
                    format!("The state of {addr} does not match its schema: {e}. Was it written by another provider version?"),
                ));
                continue;
            }
        };
        for path in inst
            .sensitive_paths
            .iter()
            .chain(&inst.schema_sensitive_paths)
        {
            let steps: Vec<PathStep> = path
                .0
                .iter()
                .filter_map(|s| match s {
                    meshform_state::PathStep::GetAttr(a) => Some(PathStep::Attr(a.clone())),
                    meshform_state::PathStep::Index(i) => match &i.value {
                        serde_json::Value::String(k) => Some(PathStep::Key(k.clone())),
                        serde_json::Value::Number(n) => {
                            n.as_u64().map(|n| PathStep::Index(n as usize))
                        }
                        _ => None,
                    },
                })
                .collect();
            value = mark_at(value, &steps);
        }
        let obj = PriorObject {
            value,
            provider: inst.provider.clone(),
            private: inst.private.clone(),
            dependencies: inst.dependencies.clone(),
            create_before_destroy: inst.create_before_destroy,
            tainted: inst.status == meshform_state::InstanceStatus::Tainted,
            schema_version: inst.schema_version,
        };
        match &inst.deposed {
            Some(k) => {
                prior.deposed.insert((addr, k.clone()), obj);
            }
            None => {
                prior.objects.insert(addr, obj);
            }
        }
    }
    for (name, out) in &snapshot.outputs {
        let json = out.value.to_value();
        let ty = meshform_lang::Type::from_cty_json(&out.type_json)
            .unwrap_or_else(|_| implied_type(&json));
        if let Ok(v) = Value::from_json(&json, &ty) {
            prior.outputs.insert(name.clone(), (v, out.sensitive));
        }
    }
    (prior, diags)
}

/// Marks the value at `path` inside `v` as sensitive.
pub fn mark_at(v: Value, path: &[PathStep]) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return v.mark_sensitive();
    };
    let sensitive = v.is_sensitive();
    let rebuilt = match (v.clone().into_data(), first) {
        (meshform_lang::Data::Object(mut m), PathStep::Attr(a)) => {
            if let Some(inner) = m.remove(a) {
                m.insert(a.clone(), mark_at(inner, rest));
            }
            Value::object(m)
        }
        (meshform_lang::Data::Map(t, mut m), PathStep::Key(k)) => {
            if let Some(inner) = m.remove(k) {
                m.insert(k.clone(), mark_at(inner, rest));
            }
            Value::map(t, m)
        }
        (meshform_lang::Data::List(t, mut items), PathStep::Index(i)) if *i < items.len() => {
            let inner = items[*i].clone();
            items[*i] = mark_at(inner, rest);
            Value::list(t, items)
        }
        (meshform_lang::Data::Tuple(mut items), PathStep::Index(i)) if *i < items.len() => {
            let inner = items[*i].clone();
            items[*i] = mark_at(inner, rest);
            Value::tuple(items)
        }
        _ => return v,
    };
    rebuilt.mark_sensitive_if(sensitive)
}
