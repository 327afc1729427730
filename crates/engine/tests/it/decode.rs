//! Decoding the resources of every conformance scenario step against the
//! scenario's provider schemas, checked against what real Terraform
//! planned (`stepN.plan.json`) wherever the value follows from the
//! configuration alone.
//!
//! The scenarios also feed the `objchange` tests: [`Step`] loads one step
//! (configuration, schemas, plan JSON, prior state) and [`instances`]
//! decodes each resource instance with a chosen evaluation context.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshform_config::{Module, Resource};
use meshform_engine::decode::{decode_content, value_type};
use meshform_lang::addr::ResourceMode;
use meshform_lang::hcl_edit::expr::Expression;
use meshform_lang::schema::{Block, Nesting, Schema, Schemas};
use meshform_lang::{
    eval, implied_type, Data, Diagnostics, EvalContext, MemoryFiles, Phase, Type, Value,
};
use serde_json::Value as J;

/// One step of a conformance scenario, ready to decode.
pub struct Step {
    /// `plans/create_basic step1`, for messages.
    pub name: String,
    pub module: Module,
    pub schemas: Schemas,
    pub plan: J,
    /// The state after the step's apply (`None`: the step only planned).
    pub applied_state: Option<J>,
    pub files: MemoryFiles,
    /// Keeps the loaded directory alive while `module` points into it.
    _dir: tempfile::TempDir,
}

/// One decoded resource instance.
pub struct Instance {
    /// Terraform's address: `module.child.fake_thing.x[0]`.
    pub address: String,
    pub provider: String,
    pub schema: Schema,
    pub config: Value,
    pub diags: Diagnostics,
    /// Attribute names under `lifecycle { ignore_changes }` (`None`: all).
    pub ignored: Option<Vec<String>>,
}

/// Every step with a plan in every scenario of `plans/` and
/// `guide-plans/`; `None` (skipped) without the shared data.
pub fn all_steps() -> Option<Vec<Step>> {
    let plans = meshform_testkit::shared_path("conformance/plans")?;
    let guide = meshform_testkit::shared_path("conformance/guide-plans")?;
    Some(steps_of(&[(plans, "schema.json"), (guide, "schema.json")]))
}

/// The guide's steps with the Konnect providers' real protocol-6 schema
/// (nested attribute types instead of object types).
pub fn guide_steps_with_nested_attributes() -> Option<Vec<Step>> {
    let guide = meshform_testkit::shared_path("conformance/guide-plans")?;
    Some(steps_of(&[(guide, "schema.nested-attributes.json")]))
}

fn steps_of(roots: &[(PathBuf, &str)]) -> Vec<Step> {
    let mut out = Vec::new();
    for (root, schema_file) in roots {
        let schemas = read_schemas(&root.join(schema_file));
        let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root)
            .expect("scenario directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && p.join("steps.json").is_file())
            .collect();
        scenarios.sort();
        for dir in scenarios {
            out.extend(scenario_steps(&dir, &schemas));
        }
    }
    out
}

fn read_schemas(path: &Path) -> Schemas {
    let text = std::fs::read_to_string(path).expect("schema.json");
    Schemas::from_json(&text).expect("valid schema.json")
}

fn scenario_steps(dir: &Path, schemas: &Schemas) -> Vec<Step> {
    let scenario = format!(
        "{}/{}",
        dir.parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    // Steps share one working directory: files stay until replaced.
    let mut files_dir = Some(dir.join("start.files")).filter(|d| d.is_dir());
    let mut out = Vec::new();
    for n in 1.. {
        let main = dir.join(format!("step{n}.main.tf"));
        if !main.is_file() {
            break;
        }
        let plan = read_json(&dir.join(format!("step{n}.plan.json")));
        let step_files = dir.join(format!("step{n}.files"));
        if step_files.is_dir() {
            files_dir = Some(step_files);
        }
        if let Some(plan) = plan {
            let tmp = tempfile::tempdir().expect("temp dir");
            std::fs::copy(&main, tmp.path().join("main.tf")).expect("copy main.tf");
            let mut files = MemoryFiles::new();
            if let Some(extra) = &files_dir {
                copy_tree(extra, tmp.path(), "", &mut files);
            }
            let (module, diags) = meshform_config::load_module(tmp.path());
            assert!(
                !diags.has_errors(),
                "{scenario} step{n} does not load: {diags:?}"
            );
            out.push(Step {
                name: format!("{scenario} step{n}"),
                module,
                schemas: schemas.clone(),
                plan,
                applied_state: read_json(&dir.join(format!("step{n}.tfstate.json"))),
                files,
                _dir: tmp,
            });
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path, rel: &str, files: &mut MemoryFiles) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .expect("files directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let rel_name = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).expect("mkdir");
            copy_tree(&path, &to.join(&name), &rel_name, files);
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            std::fs::write(to.join(&name), &bytes).expect("write file");
            files.insert(&rel_name, bytes);
        }
    }
}

fn read_json(path: &Path) -> Option<J> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("valid JSON"))
}

/// The schema of a resource type and the provider that declares it.
pub fn resource_schema(
    schemas: &Schemas,
    mode: ResourceMode,
    ty: &str,
) -> Option<(String, Schema)> {
    schemas.providers.iter().find_map(|(addr, p)| {
        let table = match mode {
            ResourceMode::Managed => &p.resources,
            ResourceMode::Data => &p.data_sources,
        };
        table.get(ty).map(|s| (addr.clone(), s.clone()))
    })
}

/// Providers built on terraform-plugin-sdk/v2, whose schema defaults
/// (`Default:` in Go, absent from the schema JSON) fill attributes the
/// configuration leaves null.
fn has_sdk_defaults(provider: &str) -> bool {
    provider.ends_with("hashicorp/kubernetes") || provider.ends_with("hashicorp/helm")
}

/// How references to resources evaluate.
pub trait ResourceValues {
    /// The value of root name `ty` (managed) or of `data.ty` in the module
    /// at `module_path` (`""` for the root, `module.child.` otherwise).
    fn resources_of(&self, step: &Step, module: &Module, module_path: &str)
        -> Vec<(String, Value)>;
}

/// Every resource is an unknown value of its type.
pub struct UnknownResources;

impl ResourceValues for UnknownResources {
    fn resources_of(
        &self,
        step: &Step,
        module: &Module,
        _module_path: &str,
    ) -> Vec<(String, Value)> {
        let mut managed: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut data: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for r in module.resources.values() {
            let ty = resource_schema(&step.schemas, r.mode, &r.ty)
                .map(|(_, s)| value_type(&s.block.implied_type()))
                .unwrap_or(Type::Dynamic);
            let ty = if r.count.is_some() || r.for_each.is_some() {
                Type::Dynamic
            } else {
                ty
            };
            let table = match r.mode {
                ResourceMode::Managed => &mut managed,
                ResourceMode::Data => &mut data,
            };
            table
                .entry(r.ty.clone())
                .or_default()
                .insert(r.name.clone(), Value::unknown(ty));
        }
        let mut out: Vec<(String, Value)> = managed
            .into_iter()
            .map(|(k, v)| (k, Value::object(v)))
            .collect();
        let data = data
            .into_iter()
            .map(|(k, v)| (k, Value::object(v)))
            .collect();
        out.push(("data".to_owned(), Value::object(data)));
        out
    }
}

/// The evaluation context of one module: variables, locals, resources,
/// module calls, `path` and `terraform`.
fn module_context(
    step: &Step,
    module: &Module,
    module_path: &str,
    vars: Value,
    resources: &dyn ResourceValues,
) -> EvalContext {
    let mut ctx = EvalContext::new()
        .with_phase(Phase::Plan)
        .with_files(Arc::new(step.files.clone()))
        .with_name("var", vars)
        .with_name(
            "path",
            object([("module", "."), ("root", "."), ("cwd", ".")]),
        )
        .with_name("terraform", object([("workspace", "default")]));
    for (name, value) in resources.resources_of(step, module, module_path) {
        ctx.set_name(name, value);
    }
    let calls: BTreeMap<String, Value> = module
        .module_calls
        .keys()
        .map(|k| (k.clone(), Value::unknown(Type::Dynamic)))
        .collect();
    ctx.set_name("module", Value::object(calls));
    // Locals in as many rounds as they need to see each other.
    let mut locals: BTreeMap<String, Value> = module
        .locals
        .keys()
        .map(|k| (k.clone(), Value::unknown(Type::Dynamic)))
        .collect();
    for _ in 0..=module.locals.len() {
        ctx.set_name("local", Value::object(locals.clone()));
        let mut changed = false;
        for (name, local) in &module.locals {
            let c = ctx.clone().with_source((*local.expr.file).clone());
            if let Ok(v) = eval(&local.expr.expr, &c) {
                if locals.get(name) != Some(&v) {
                    locals.insert(name.clone(), v);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    ctx.set_name("local", Value::object(locals));
    ctx
}

fn object<const N: usize>(pairs: [(&str, &str); N]) -> Value {
    Value::object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::string(v)))
            .collect(),
    )
}

/// The root module's variables, from the values the plan recorded.
fn root_variables(step: &Step) -> Value {
    let recorded = step.plan.get("variables").and_then(J::as_object);
    let vars = step
        .module
        .variables
        .keys()
        .map(|name| {
            let v = recorded
                .and_then(|r| r.get(name))
                .and_then(|v| v.get("value"))
                .and_then(|j| Value::from_json(j, &implied_type(j)).ok())
                .unwrap_or_else(|| Value::unknown(Type::Dynamic));
            (name.clone(), v)
        })
        .collect();
    Value::object(vars)
}

/// Decodes every resource instance of the step, in every module.
pub fn instances(step: &Step, resources: &dyn ResourceValues) -> Vec<Instance> {
    let mut out = Vec::new();
    module_instances(
        step,
        &step.module,
        "",
        root_variables(step),
        resources,
        &mut out,
    );
    out
}

fn module_instances(
    step: &Step,
    module: &Module,
    module_path: &str,
    vars: Value,
    resources: &dyn ResourceValues,
    out: &mut Vec<Instance>,
) {
    let ctx = module_context(step, module, module_path, vars, resources);
    for r in module.resources.values() {
        let Some((provider, schema)) = resource_schema(&step.schemas, r.mode, &r.ty) else {
            panic!("{}: no schema for {}", step.name, r.ty);
        };
        for (key, ictx) in expand(&ctx, r) {
            let (config, diags) = decode_content(&r.config, &schema.block, &ictx);
            let prefix = match r.mode {
                ResourceMode::Managed => String::new(),
                ResourceMode::Data => "data.".to_owned(),
            };
            out.push(Instance {
                address: format!("{module_path}{prefix}{}.{}{key}", r.ty, r.name),
                provider: provider.clone(),
                schema: schema.clone(),
                config,
                diags,
                ignored: ignored_attributes(r),
            });
        }
    }
    for (name, call) in &module.module_calls {
        let Some(child) = &call.module else { continue };
        let vars: BTreeMap<String, Value> = child
            .variables
            .iter()
            .map(|(vname, var)| {
                let v = match call.config.attrs.get(vname) {
                    Some(a) => {
                        let c = ctx.clone().with_source((*a.expr.file).clone());
                        eval(&a.expr.expr, &c).unwrap_or_else(|_| Value::unknown(Type::Dynamic))
                    }
                    None => match &var.default {
                        Some(d) => eval(&d.expr, &EvalContext::new())
                            .unwrap_or_else(|_| Value::unknown(Type::Dynamic)),
                        None => Value::unknown(Type::Dynamic),
                    },
                };
                (vname.clone(), v)
            })
            .collect();
        let path = format!("{module_path}module.{name}.");
        module_instances(step, child, &path, Value::object(vars), resources, out);
    }
}

/// The instances of a resource: (address suffix, context with `count` or
/// `each`).
fn expand(ctx: &EvalContext, r: &Resource) -> Vec<(String, EvalContext)> {
    let eval_meta = |e: &meshform_config::Expr| {
        let c = ctx.clone().with_source((*e.file).clone());
        eval(&e.expr, &c).expect("count/for_each evaluates")
    };
    if let Some(count) = &r.count {
        let n = eval_meta(count)
            .as_number()
            .and_then(|n| n.to_i64())
            .expect("a known count");
        return (0..n)
            .map(|i| {
                let c = ctx.clone().with_name(
                    "count",
                    Value::object(BTreeMap::from([("index".to_owned(), Value::int(i))])),
                );
                (format!("[{i}]"), c)
            })
            .collect();
    }
    if let Some(for_each) = &r.for_each {
        let v = eval_meta(for_each);
        let pairs: Vec<(String, Value)> = match v.data() {
            Data::Map(_, m) | Data::Object(m) => {
                m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            }
            Data::Set(_, xs) => xs
                .iter()
                .map(|x| (x.as_str().unwrap_or_default().to_owned(), x.clone()))
                .collect(),
            _ => panic!("unsupported for_each value {v:?}"),
        };
        return pairs
            .into_iter()
            .map(|(k, v)| {
                let each = Value::object(BTreeMap::from([
                    ("key".to_owned(), Value::string(k.clone())),
                    ("value".to_owned(), v),
                ]));
                (format!("[{k:?}]"), ctx.clone().with_name("each", each))
            })
            .collect();
    }
    vec![(String::new(), ctx.clone())]
}

fn ignored_attributes(r: &Resource) -> Option<Vec<String>> {
    let Some(e) = &r.lifecycle.ignore_changes else {
        return Some(Vec::new());
    };
    match &e.expr {
        Expression::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| match i {
                    Expression::Variable(v) => Some(v.as_str().to_owned()),
                    Expression::Traversal(t) => match &t.expr {
                        Expression::Variable(v) => Some(v.as_str().to_owned()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Every resource of the plan's `planned_values`, by address.
pub fn planned_values(plan: &J) -> BTreeMap<String, J> {
    let mut out = BTreeMap::new();
    if let Some(root) = plan.pointer("/planned_values/root_module") {
        collect_planned(root, &mut out);
    }
    out
}

fn collect_planned(module: &J, out: &mut BTreeMap<String, J>) {
    for r in module
        .get("resources")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(a), Some(v)) = (r.get("address").and_then(J::as_str), r.get("values")) {
            out.insert(a.to_owned(), v.clone());
        }
    }
    for m in module
        .get("child_modules")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        collect_planned(m, out);
    }
}

/// JSON of a value with set elements in one canonical order, so that two
/// sets compare equal whatever order they were written in.
pub fn canonical(v: &Value) -> J {
    match v.data() {
        Data::Set(_, xs) => {
            let mut items: Vec<J> = xs.iter().map(canonical).collect();
            items.sort_by_key(|j| j.to_string());
            J::Array(items)
        }
        Data::List(_, xs) | Data::Tuple(xs) => J::Array(xs.iter().map(canonical).collect()),
        Data::Map(_, xs) | Data::Object(xs) => {
            J::Object(xs.iter().map(|(k, x)| (k.clone(), canonical(x))).collect())
        }
        _ => v.to_json().unwrap_or(J::Null),
    }
}

/// Compares the parts of a decoded block that the configuration decides
/// with the planned JSON; returns the number of values compared and the
/// mismatches.
fn compare_block(
    block: &Block,
    decoded: &Value,
    planned: &J,
    sdk_defaults: bool,
    path: &str,
    out: &mut Vec<String>,
) -> usize {
    let mut compared = 0;
    for (name, attr) in &block.attributes {
        if attr.computed && !attr.optional {
            continue;
        }
        let Some(d) = decoded.get_attr(name) else {
            continue;
        };
        if !d.is_wholly_known() || (d.is_null() && (attr.computed || sdk_defaults)) {
            continue;
        }
        let p = planned.get(name).unwrap_or(&J::Null);
        let want = Value::from_json(p, &d.ty())
            .map(|v| canonical(&v))
            .unwrap_or_else(|e| J::String(format!("not a value of the type: {e}")));
        compared += 1;
        if canonical(d) != want {
            out.push(format!(
                "{path}.{name}: decoded {} but planned {}",
                canonical(d),
                want
            ));
        }
    }
    for (name, nb) in &block.block_types {
        let Some(d) = decoded.get_attr(name) else {
            continue;
        };
        if !d.is_known() {
            continue;
        }
        let p = planned.get(name).unwrap_or(&J::Null);
        let here = format!("{path}.{name}");
        match nb.nesting {
            Nesting::Single | Nesting::Group => {
                if d.is_null() {
                    compared += 1;
                    if !p.is_null() && nb.nesting == Nesting::Single {
                        out.push(format!("{here}: decoded null but planned {p}"));
                    }
                } else {
                    compared += compare_block(&nb.block, d, p, sdk_defaults, &here, out);
                }
            }
            Nesting::List => {
                let ds = d.as_elements().unwrap_or(&[]);
                let ps = p.as_array().map_or(&[][..], Vec::as_slice);
                compared += 1;
                if ds.len() != ps.len() {
                    out.push(format!(
                        "{here}: {} blocks decoded, {} planned",
                        ds.len(),
                        ps.len()
                    ));
                    continue;
                }
                for (i, (de, pe)) in ds.iter().zip(ps).enumerate() {
                    compared += compare_block(
                        &nb.block,
                        de,
                        pe,
                        sdk_defaults,
                        &format!("{here}[{i}]"),
                        out,
                    );
                }
            }
            Nesting::Set => {
                let ds = d.as_elements().unwrap_or(&[]);
                let ps = p.as_array().map_or(&[][..], Vec::as_slice);
                compared += 1;
                if ds.len() != ps.len() {
                    out.push(format!(
                        "{here}: {} blocks decoded, {} planned",
                        ds.len(),
                        ps.len()
                    ));
                    continue;
                }
                let has_computed = nb.block.attributes.values().any(|a| a.computed);
                if !has_computed && d.is_wholly_known() {
                    let want = Value::from_json(p, &d.ty()).map(|v| canonical(&v)).ok();
                    if Some(canonical(d)) != want {
                        out.push(format!("{here}: decoded {} but planned {p}", canonical(d)));
                    }
                }
            }
            Nesting::Map => {
                let ds = d.as_entries().cloned().unwrap_or_default();
                compared += 1;
                for (k, de) in ds {
                    let pe = p.get(&k).unwrap_or(&J::Null);
                    compared += compare_block(
                        &nb.block,
                        &de,
                        pe,
                        sdk_defaults,
                        &format!("{here}[{k:?}]"),
                        out,
                    );
                }
            }
        }
    }
    compared
}

#[test]
fn conformance_resources_decode_to_their_planned_configuration() {
    let Some(steps) = all_steps() else { return };
    let (decoded, compared) = check_decoding(&steps);
    assert!(decoded > 50, "only {decoded} resource instances decoded");
    assert!(compared > 200, "only {compared} values compared");
}

#[test]
fn guide_resources_decode_alike_with_real_nested_attribute_schemas() {
    let Some(steps) = guide_steps_with_nested_attributes() else {
        return;
    };
    let (decoded, compared) = check_decoding(&steps);
    assert!(decoded > 20, "only {decoded} resource instances decoded");
    assert!(compared > 100, "only {compared} values compared");
}

/// Decodes every instance of `steps` and compares it with the plan:
/// (instances decoded, values compared); panics listing every mismatch.
fn check_decoding(steps: &[Step]) -> (usize, usize) {
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut decoded = 0;
    for step in steps {
        let planned = planned_values(&step.plan);
        for inst in instances(step, &UnknownResources) {
            decoded += 1;
            if !inst.diags.is_empty() {
                failures.push(format!("{} {}: {:?}", step.name, inst.address, inst.diags));
                continue;
            }
            assert_eq!(
                inst.config.ty(),
                value_type(&inst.schema.block.implied_type()),
                "{} {}: the decoded value has the block's type",
                step.name,
                inst.address
            );
            let Some(p) = planned.get(&inst.address) else {
                continue;
            };
            let mut problems = Vec::new();
            let mut block = inst.schema.block.clone();
            match &inst.ignored {
                None => continue,
                Some(names) => {
                    for n in names {
                        block.attributes.remove(n);
                        block.block_types.remove(n);
                    }
                }
            }
            let sdk = has_sdk_defaults(&inst.provider);
            compared += compare_block(&block, &inst.config, p, sdk, "", &mut problems);
            for prob in problems {
                failures.push(format!("{} {}{prob}", step.name, inst.address));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (decoded, compared)
}
