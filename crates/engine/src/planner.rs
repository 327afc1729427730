//! The plan walk: visits the dependency graph in order, evaluates each
//! object in its module's scope, asks providers to plan every resource
//! instance, and collects the changes into a [`Plan`].
//!
//! Evaluation follows Terraform's scopes: each expression sees only the
//! objects it references (`var`, `local`, resources, `data`, `module`,
//! `count`, `each`, `path`, `terraform`), built into a small context per
//! expression so that cost grows with what is referenced, not with the size
//! of the configuration.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use meshform_config::{Expr, Module, ModuleCall};
use meshform_lang::addr::{
    InstanceKey, ModuleInstance, ModuleStep, Resource, ResourceInstance, ResourceMode,
};
use meshform_lang::schema::{Block, ProviderSchema};
use meshform_lang::{
    convert, references, Clock, Data, Diagnostic, Diagnostics, EvalContext, FileLoader, Phase,
    Type, Value,
};
use meshform_providers::provider::{
    ConfigureRequest, ImportResourceStateRequest, PlanResourceChangeRequest, Provider,
    ProviderFactory, ReadDataSourceRequest, ReadResourceRequest, ReadResourceResponse,
};
use meshform_providers::ProviderRegistry;

use crate::decode::decode_content;
use crate::graph::{self, Node, NodeKind};
use crate::objchange::proposed_new;
use crate::plan::{Action, ActionReason, OutputChange, Plan, PlanMode, ResourceInstanceChange};
use crate::prior::PriorState;

/// What a plan run is asked to do.
#[derive(Clone)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// Ask providers for the current state of each object first.
    pub refresh: bool,
    /// No network: providers answer from configuration and state only.
    pub offline: bool,
    /// `-target`: plan only these resources (and what they depend on).
    pub targets: Vec<ResourceInstance>,
    /// `-replace`: plan these instances for replacement.
    pub replace: Vec<ResourceInstance>,
    /// Root variable values, already converted to their declared types.
    pub variables: BTreeMap<String, Value>,
    pub clock: Arc<dyn Clock>,
    /// File access for `file()`/`templatefile()`, rooted at the root module.
    pub files: Arc<dyn FileLoader>,
    /// The root module directory as `path.root`/`path.cwd` print it.
    pub root_dir: PathBuf,
    pub workspace: String,
    /// Environment variables providers may fall back to.
    pub env: BTreeMap<String, String>,
    /// Provider arguments set by the run rather than the configuration,
    /// by provider source (`kong/konnect` → `server_url`): how `-sandbox`
    /// points providers at the local servers without editing any file.
    pub provider_overrides: BTreeMap<String, BTreeMap<String, Value>>,
    /// How many provider operations may run at once (`-parallelism`):
    /// refresh reads while planning, creates and updates while applying.
    pub parallelism: usize,
}

/// Values known so far in one module.
#[derive(Default)]
struct ModuleScope {
    vars: BTreeMap<String, Value>,
    locals: BTreeMap<String, Value>,
    /// Whole resources: an object for a single instance, a tuple for
    /// `count`, an object keyed by `for_each` key.
    resources: BTreeMap<Resource, Value>,
    outputs: BTreeMap<String, Value>,
}

/// Applies the root module's `moved` blocks to the prior state: objects at
/// a `from` address that has no object at its `to` address are renamed.
/// Returns the moved state and new address → previous address.
fn apply_moved_blocks(
    root: &Module,
    prior: &PriorState,
) -> (
    PriorState,
    BTreeMap<ResourceInstance, ResourceInstance>,
    Diagnostics,
) {
    let mut diags = Diagnostics::default();
    let mut out = prior.clone();
    let mut moves = BTreeMap::new();
    for m in &root.moved {
        let text = |e: &Expr| {
            let r = e.range();
            e.file.text[r.start.byte..r.end.byte].trim().to_owned()
        };
        let (from, to) = match (
            ResourceInstance::parse(&text(&m.from)),
            ResourceInstance::parse(&text(&m.to)),
        ) {
            (Ok(f), Ok(t)) => (f, t),
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Unsupported moved block",
                        "meshform moves resources and resource instances; module moves are not supported yet.",
                    )
                    .with_subject(m.decl_range.clone()),
                );
                continue;
            }
        };
        if from.resource.ty != to.resource.ty {
            diags.push(
                Diagnostic::error(
                    "Resource type mismatch",
                    format!(
                        "This statement declares a move from {from} to {to}, which is a resource of a different type."
                    ),
                )
                .with_subject(m.decl_range.clone()),
            );
            continue;
        }
        let whole_resource = from.key == InstanceKey::None && to.key == InstanceKey::None;
        let matching: Vec<ResourceInstance> = out
            .objects
            .keys()
            .filter(|a| {
                a.abs_resource() == from.abs_resource() && (whole_resource || a.key == from.key)
            })
            .cloned()
            .collect();
        for old in matching {
            let new = ResourceInstance {
                key: if whole_resource {
                    old.key.clone()
                } else {
                    to.key.clone()
                },
                ..to.clone()
            };
            if out.objects.contains_key(&new) {
                continue;
            }
            if let Some(obj) = out.objects.remove(&old) {
                out.objects.insert(new.clone(), obj);
                moves.insert(new, old);
            }
        }
    }
    (out, moves, diags)
}

/// A decoded provider configuration with the run's overrides for its
/// source laid over the arguments it has (`-sandbox`'s server URL).
pub fn with_provider_overrides(config: Value, opts: &PlanOptions, source: &str) -> Value {
    let overrides = opts
        .provider_overrides
        .get(&meshform_providers::provider::normalize_source(source));
    let (Some(overrides), Data::Object(attrs)) = (overrides, config.data()) else {
        return config;
    };
    let mut attrs = attrs.clone();
    for (k, v) in overrides {
        if attrs.contains_key(k) {
            attrs.insert(k.clone(), v.clone());
        }
    }
    Value::object(attrs)
}

/// With `-target`: the targeted resources and everything they depend on;
/// `None` when nothing is targeted.
fn targeted_nodes(
    graph: &graph::Graph,
    targets: &[ResourceInstance],
) -> Option<BTreeSet<petgraph::graph::NodeIndex>> {
    if targets.is_empty() {
        return None;
    }
    let mut stack: Vec<_> = graph
        .graph
        .node_indices()
        .filter(|i| {
            let n = &graph.graph[*i];
            let NodeKind::Resource(r) = &n.kind else {
                return false;
            };
            targets
                .iter()
                .any(|t| &t.resource == r && module_instance(&n.module) == t.module)
        })
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(graph.dependencies(i));
        }
    }
    Some(seen)
}

/// Where an apply walk writes and reports.
pub struct ApplyTarget<'a> {
    pub sink: &'a mut dyn crate::sink::StateSink,
    pub events: &'a (dyn Fn(crate::sink::ApplyEvent) + Sync),
    /// Set (by Ctrl-C) to stop after the operation in progress: nothing
    /// new starts, and everything finished is already in the state.
    pub interrupted: Option<&'a std::sync::atomic::AtomicBool>,
    /// Objects the plan replaces destroy-first. When one of them is
    /// replaced, those among them that depend on it are destroyed before
    /// it (dependents first), and created again when the walk reaches
    /// them, as Terraform orders a replacement.
    pub destroy_first: Vec<ResourceInstance>,
}

/// Runs the plan walk.
pub async fn plan(
    root: &Module,
    prior: &PriorState,
    registry: &ProviderRegistry,
    opts: &PlanOptions,
) -> (Plan, Diagnostics) {
    let (p, d, _) = walk(root, prior, registry, opts, None, false).await;
    (p, d)
}

/// The root module's names after a plan walk — `var`, `local`,
/// `module`, `data`, every resource type, `path` and `terraform` — as
/// `meshform console` evaluates against them. Values not known until
/// apply are unknown.
pub async fn console_names(
    root: &Module,
    prior: &PriorState,
    registry: &ProviderRegistry,
    opts: &PlanOptions,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let (_, d, names) = walk(root, prior, registry, opts, None, true).await;
    (names, d)
}

/// Plans and applies in one walk: each object is planned with the values
/// of what it depends on already applied, then applied, then committed to
/// the state before the next one starts. An object whose dependency failed
/// is skipped; independent ones go on.
pub async fn apply(
    root: &Module,
    prior: &PriorState,
    registry: &ProviderRegistry,
    opts: &PlanOptions,
    target: ApplyTarget<'_>,
) -> (Plan, Diagnostics) {
    let (p, d, _) = walk(root, prior, registry, opts, Some(target), false).await;
    (p, d)
}

async fn walk(
    root: &Module,
    prior: &PriorState,
    registry: &ProviderRegistry,
    opts: &PlanOptions,
    applying: Option<ApplyTarget<'_>>,
    want_names: bool,
) -> (Plan, Diagnostics, BTreeMap<String, Value>) {
    let (graph, diags) = graph::build(root);
    let (moved_prior, moves, move_diags) = apply_moved_blocks(root, prior);
    let (imports, import_diags) = crate::imports::import_targets(root);
    let prior = &moved_prior;
    let mut w = Walker {
        root,
        prior,
        registry,
        opts,
        scopes: HashMap::new(),
        providers: BTreeMap::new(),
        changes: Vec::new(),
        drift: Vec::new(),
        diags: Diagnostics::default(),
        planned_instances: BTreeSet::new(),
        pending: BTreeSet::new(),
        missing_providers: BTreeSet::new(),
        applying,
        failed: BTreeSet::new(),
        graph: &graph,
        moves,
        deferred: Vec::new(),
        dirty: BTreeSet::new(),
        destroyed_first: BTreeSet::new(),
        read_ahead: HashMap::new(),
        read_started: BTreeSet::new(),
        imports,
    };
    w.diags.extend(diags);
    w.diags.extend(import_diags);
    w.diags.extend(move_diags);
    w.commit_moves();
    if w.diags.has_errors() {
        return (w.finish(BTreeMap::new()), w.diags, BTreeMap::new());
    }
    let mut order = match graph.order() {
        Ok(o) => o,
        Err(d) => {
            w.diags.extend(d);
            return (w.finish(BTreeMap::new()), w.diags, BTreeMap::new());
        }
    };
    if opts.mode == PlanMode::Destroy && w.applying.is_some() {
        // Destroy dependents before what they depend on. Everything else
        // (variables, locals, providers) keeps its forward order and comes
        // first, so providers are configured from evaluated variables.
        let (mut objects, values): (Vec<_>, Vec<_>) = order.into_iter().partition(|i| {
            matches!(
                graph.graph[*i].kind,
                NodeKind::Resource(..) | NodeKind::Output(..)
            )
        });
        objects.reverse();
        order = values;
        order.extend(objects);
    }
    let targeted = targeted_nodes(&graph, &opts.targets);
    if targeted.is_some() {
        w.diags.push(Diagnostic::warning(
            "Resource targeting is in effect",
            "You are creating a plan with the -target option, which means that the result of this plan may not represent all of the changes requested by the current configuration. The -target option is not for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when the provider suggests using it as part of an error message.",
        ));
    }
    for idx in order {
        if graph.dependencies(idx).any(|d| w.dirty.contains(&d)) {
            w.flush().await;
        }
        let stop = w
            .applying
            .as_ref()
            .and_then(|t| t.interrupted)
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst));
        if stop {
            w.diags.push(Diagnostic::error(
                "Execution halted",
                "The apply was interrupted: meshform let the operation in progress finish and started nothing new. Every finished object is saved in the state; run apply again to finish the rest.",
            ));
            break;
        }
        if let Some(allowed) = &targeted {
            if matches!(
                graph.graph[idx].kind,
                NodeKind::Resource(_) | NodeKind::Output(_)
            ) && !allowed.contains(&idx)
            {
                continue;
            }
        }
        if w.dependency_failed(idx) {
            w.failed.insert(idx);
            continue;
        }
        let node = graph.graph[idx].clone();
        let before = w.diags.0.iter().filter(|d| d.is_error()).count();
        let deferred_before = w.deferred.len();
        w.visit(&node).await;
        if w.diags.0.iter().filter(|d| d.is_error()).count() > before {
            w.failed.insert(idx);
        }
        for job in &mut w.deferred[deferred_before..] {
            job.node = Some(idx);
        }
        if w.deferred.len() > deferred_before {
            w.dirty.insert(idx);
        }
    }
    w.flush().await;
    if targeted.is_none() {
        w.orphans().await;
    }
    let outputs = w.output_changes();
    w.commit_outputs(&outputs);
    // Only `console` evaluates against the names; building them copies
    // every value in the root module.
    let names = if want_names {
        w.root_names()
    } else {
        BTreeMap::new()
    };
    (w.finish(outputs), w.diags, names)
}

struct Walker<'a, 'b> {
    root: &'a Module,
    prior: &'a PriorState,
    registry: &'a ProviderRegistry,
    opts: &'a PlanOptions,
    scopes: HashMap<Vec<String>, ModuleScope>,
    /// Configured providers by (module path, local name, alias).
    providers: BTreeMap<(Vec<String>, String, Option<String>), ConfiguredProvider>,
    changes: Vec<ResourceInstanceChange>,
    drift: Vec<ResourceInstanceChange>,
    diags: Diagnostics,
    /// Instances the configuration declares (the rest of the state is orphaned).
    planned_instances: BTreeSet<ResourceInstance>,
    /// Resources with planned changes, for data sources that depend on them.
    pending: BTreeSet<(Vec<String>, Resource)>,
    /// Provider sources already reported as missing.
    missing_providers: BTreeSet<String>,
    /// Set when applying.
    applying: Option<ApplyTarget<'b>>,
    /// Nodes that failed (or were skipped because a dependency failed).
    failed: BTreeSet<petgraph::graph::NodeIndex>,
    graph: &'a graph::Graph,
    /// Objects `moved` blocks renamed: new address → previous one.
    moves: BTreeMap<ResourceInstance, ResourceInstance>,
    /// Creates and updates waiting to run together (when applying with
    /// parallelism above one), and the nodes whose values wait on them.
    deferred: Vec<ApplyJob>,
    dirty: BTreeSet<petgraph::graph::NodeIndex>,
    /// Replaced objects already destroyed before what they depend on: the
    /// walk creates them anew.
    destroyed_first: BTreeSet<ResourceInstance>,
    /// Refresh reads started ahead of their turn, running as tasks.
    read_ahead: HashMap<ResourceInstance, tokio::task::JoinHandle<ReadResourceResponse>>,
    /// Objects whose refresh read has run (or is waiting in `read_ahead`).
    read_started: BTreeSet<ResourceInstance>,
    /// The root module's `import` blocks by target instance.
    imports: BTreeMap<ResourceInstance, crate::imports::ImportTarget>,
}

/// A remote object an `import` block adopted, read back by its provider.
struct ImportedObject {
    id: String,
    value: Value,
    private: Vec<u8>,
}

#[derive(Clone)]
struct ConfiguredProvider {
    source: String,
    /// How state names this configuration:
    /// `module.a.provider["registry.terraform.io/kong/konnect-beta"].eu`.
    address: String,
    factory: Arc<dyn ProviderFactory>,
    schema: Arc<ProviderSchema>,
    provider: Arc<dyn Provider>,
}

/// The error of a provider task that ended without an answer (it panicked).
fn provider_stopped(
    doing: &str,
    addr: &ResourceInstance,
    e: &tokio::task::JoinError,
) -> Diagnostic {
    Diagnostic::error(
        "Provider failed",
        format!("The provider stopped while {doing} {addr}: {e}. This is a bug in the provider."),
    )
}

/// The provider's full source address, as plan JSON names it
/// (`registry.terraform.io/kong/konnect`).
pub fn provider_source_address(source: &str) -> String {
    if source.matches('/').count() >= 2 {
        source.to_owned()
    } else {
        format!("registry.terraform.io/{source}")
    }
}

/// The source address inside a state provider reference
/// (`provider["registry.terraform.io/kong/konnect"].alias`).
pub fn source_of_provider_reference(reference: &str) -> String {
    // `module.a.provider["…"]` for a configuration declared in a module.
    let unmoduled = reference
        .find("provider[\"")
        .map_or(reference, |i| &reference[i..]);
    let inner = unmoduled
        .strip_prefix("provider[\"")
        .and_then(|r| r.split_once("\"]"))
        .map_or(unmoduled, |(s, _)| s);
    provider_source_address(inner)
}

/// The provider configuration reference stored in state.
pub fn provider_address(source: &str, alias: Option<&str>) -> String {
    let full = if source.matches('/').count() >= 2 {
        source.to_owned()
    } else {
        format!("registry.terraform.io/{source}")
    };
    match alias {
        Some(a) => format!("provider[\"{full}\"].{a}"),
        None => format!("provider[\"{full}\"]"),
    }
}

fn module_instance(path: &[String]) -> ModuleInstance {
    ModuleInstance(
        path.iter()
            .map(|n| ModuleStep {
                name: n.clone(),
                key: InstanceKey::None,
            })
            .collect(),
    )
}

/// Per-instance names: `count.index`, `each.key`/`each.value`.
#[derive(Clone, Default)]
struct InstanceNames {
    count: Option<Value>,
    each: Option<Value>,
}

impl Walker<'_, '_> {
    /// Whether anything `idx` depends on failed: then it is skipped
    /// without an error of its own, as Terraform does.
    fn dependency_failed(&self, idx: petgraph::graph::NodeIndex) -> bool {
        self.graph
            .dependencies(idx)
            .any(|d| self.failed.contains(&d))
    }

    /// The resources a resource depends on, through locals, variables and
    /// outputs, as state records them (`konnect_mesh.mesh1`).
    fn resource_dependencies(&self, path: &[String], res: &Resource) -> Vec<String> {
        let Some(start) = self.graph.node(&Node {
            module: path.to_vec(),
            kind: NodeKind::Resource(res.clone()),
        }) else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut out = BTreeSet::new();
        let mut stack: Vec<_> = self.graph.dependencies(start).collect();
        while let Some(i) = stack.pop() {
            if !seen.insert(i) {
                continue;
            }
            let n = &self.graph.graph[i];
            match &n.kind {
                NodeKind::Resource(r) => {
                    let prefix: String = n.module.iter().map(|m| format!("module.{m}.")).collect();
                    out.insert(format!("{prefix}{r}"));
                }
                NodeKind::Provider(..) => {}
                _ => stack.extend(self.graph.dependencies(i)),
            }
        }
        out.into_iter().collect()
    }

    fn emit(&self, e: crate::sink::ApplyEvent) {
        if let Some(t) = &self.applying {
            (t.events)(e);
        }
    }

    /// `path.module` (relative to the root module), `path.root` and
    /// `path.cwd`.
    fn path_value(&self, module: Option<&Module>) -> Value {
        let module_path = module
            .map(|m| {
                m.dir
                    .strip_prefix(&self.root.dir)
                    .unwrap_or(&m.dir)
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ".".to_owned());
        let cwd = std::env::current_dir()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| ".".to_owned());
        Value::object(BTreeMap::from([
            ("module".to_owned(), Value::string(module_path)),
            ("root".to_owned(), Value::string(".")),
            ("cwd".to_owned(), Value::string(cwd)),
        ]))
    }

    /// Every root-module name with its current value.
    fn root_names(&self) -> BTreeMap<String, Value> {
        let empty = ModuleScope::default();
        let scope = self.scopes.get(&Vec::new()).unwrap_or(&empty);
        let mut names = BTreeMap::new();
        names.insert("var".to_owned(), Value::object(scope.vars.clone()));
        names.insert("local".to_owned(), Value::object(scope.locals.clone()));
        let mut modules = BTreeMap::new();
        for name in self.root.module_calls.keys() {
            let outs = self
                .scopes
                .get(&vec![name.clone()])
                .map(|s| s.outputs.clone())
                .unwrap_or_default();
            modules.insert(name.clone(), Value::object(outs));
        }
        names.insert("module".to_owned(), Value::object(modules));
        let mut data: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut managed: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for (r, v) in &scope.resources {
            let by_type = match r.mode {
                ResourceMode::Data => data.entry(r.ty.clone()).or_default(),
                ResourceMode::Managed => managed.entry(r.ty.clone()).or_default(),
            };
            by_type.insert(r.name.clone(), v.clone());
        }
        names.insert(
            "data".to_owned(),
            Value::object(
                data.into_iter()
                    .map(|(k, v)| (k, Value::object(v)))
                    .collect(),
            ),
        );
        for (ty, by_name) in managed {
            names.insert(ty, Value::object(by_name));
        }
        names.insert("path".to_owned(), self.path_value(Some(self.root)));
        names.insert(
            "terraform".to_owned(),
            Value::object(BTreeMap::from([(
                "workspace".to_owned(),
                Value::string(self.opts.workspace.clone()),
            )])),
        );
        names
    }

    /// Before `addr` is destroyed for its replacement: destroys the other
    /// planned destroy-first replacements that depend on it, farthest
    /// dependents first, so nothing is deleted while something still
    /// refers to it.
    async fn destroy_replaced_dependents(&mut self, addr: &ResourceInstance) {
        let planned: BTreeSet<ResourceInstance> = match self.applying.as_ref() {
            Some(t) if !t.destroy_first.is_empty() => t.destroy_first.iter().cloned().collect(),
            _ => return,
        };
        let node_of = |a: &ResourceInstance| {
            self.graph.graph.node_indices().find(|i| {
                let n = &self.graph.graph[*i];
                matches!(&n.kind, NodeKind::Resource(r) if *r == a.resource)
                    && module_instance(&n.module) == a.module
            })
        };
        let Some(start) = node_of(addr) else { return };
        // Every node that depends on `start`, with its distance from it.
        let mut depth: BTreeMap<petgraph::graph::NodeIndex, usize> = BTreeMap::new();
        let mut stack = vec![(start, 0usize)];
        while let Some((n, d)) = stack.pop() {
            for next in self
                .graph
                .graph
                .neighbors_directed(n, petgraph::Direction::Outgoing)
            {
                if depth.get(&next).is_none_or(|&old| old < d + 1) {
                    depth.insert(next, d + 1);
                    stack.push((next, d + 1));
                }
            }
        }
        let mut victims: Vec<(usize, ResourceInstance)> = planned
            .into_iter()
            .filter(|a| a != addr && !self.destroyed_first.contains(a))
            .filter_map(|a| {
                node_of(&a)
                    .and_then(|n| depth.get(&n).copied())
                    .map(|d| (d, a))
            })
            .collect();
        victims.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, victim) in victims {
            let Some(obj) = self.prior.objects.get(&victim).cloned() else {
                continue;
            };
            let source = source_of_provider_reference(&obj.provider);
            let want = provider_source_address(&source);
            // Only through a provider the walk already configured.
            let Some(cp) = self
                .providers
                .values()
                .find(|cp| provider_source_address(&cp.source) == want)
                .cloned()
            else {
                continue;
            };
            if self.destroy_object(&cp, &victim, &obj, None).await {
                let ty = obj.value.ty();
                self.changes.push(change(
                    &victim,
                    &want,
                    Action::Delete,
                    obj.value.clone(),
                    Value::null(ty),
                ));
                self.destroyed_first.insert(victim);
            }
        }
    }

    /// Destroys one object the state holds, through `cp`, and removes it
    /// from the state; false when it could not be destroyed.
    async fn destroy_object(
        &mut self,
        cp: &ConfiguredProvider,
        addr: &ResourceInstance,
        obj: &crate::prior::PriorObject,
        deposed: Option<&str>,
    ) -> bool {
        let Some(schema) = cp.schema.resources.get(&addr.resource.ty).cloned() else {
            return false;
        };
        let private = obj
            .private
            .clone()
            .map(String::into_bytes)
            .unwrap_or_default();
        let null = Value::null(schema.block.implied_type());
        let step = ApplyStep {
            addr,
            cp,
            block: &schema.block,
            type_name: &addr.resource.ty,
            provider_ref: obj.provider.clone(),
            config: &null,
            private: &private,
            dependencies: Vec::new(),
            create_before_destroy: false,
        };
        self.destroy(&step, &obj.value, deposed).await.is_some()
    }

    /// Records `moved` renames in the state before anything is applied.
    fn commit_moves(&mut self) {
        let Some(t) = self.applying.as_mut() else {
            return;
        };
        for (new, old) in &self.moves {
            if let Err(e) = t.sink.move_object(old, new) {
                self.diags.push(Diagnostic::error(
                    "Failed to save state",
                    format!("Moving {old} to {new} in the state failed: {e}."),
                ));
            }
        }
    }

    /// Writes root outputs to the state after an apply.
    fn commit_outputs(&mut self, outputs: &BTreeMap<String, OutputChange>) {
        let Some(t) = self.applying.as_mut() else {
            return;
        };
        for (name, c) in outputs {
            let r = if c.action == Action::Delete {
                t.sink.set_output(name, None)
            } else {
                t.sink.set_output(name, Some((&c.after, c.sensitive)))
            };
            if let Err(e) = r {
                self.diags.push(Diagnostic::error(
                    "Failed to save state",
                    format!("Output {name:?} could not be written to the state: {e}."),
                ));
            }
        }
    }

    fn finish(&mut self, output_changes: BTreeMap<String, OutputChange>) -> Plan {
        let mut changes = std::mem::take(&mut self.changes);
        changes.sort_by(crate::plan::compare_changes);
        let mut drift = std::mem::take(&mut self.drift);
        drift.sort_by(crate::plan::compare_changes);
        Plan {
            mode: self.opts.mode,
            changes,
            output_changes,
            drift,
            variables: self.opts.variables.clone(),
            errored: self.diags.has_errors(),
            timestamp: Some(
                self.opts
                    .clock
                    .now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        }
    }

    fn scope(&mut self, path: &[String]) -> &mut ModuleScope {
        self.scopes.entry(path.to_vec()).or_default()
    }

    /// A context holding exactly the names `exprs` reference.
    fn context(&self, path: &[String], exprs: &[&Expr], inst: &InstanceNames) -> EvalContext {
        let empty = ModuleScope::default();
        let scope = self.scopes.get(path).unwrap_or(&empty);
        let module = self.root.descendant(path);
        let mut vars = BTreeMap::new();
        let mut locals = BTreeMap::new();
        let mut resources: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut data: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        let mut modules = BTreeMap::new();
        let mut need_path = false;
        let mut need_terraform = false;
        for e in exprs {
            for r in references(&e.expr) {
                let first = r.first_attr().map(str::to_owned);
                match r.root.as_str() {
                    "var" => {
                        if let Some(n) = first {
                            vars.insert(n.clone(), known_or_unknown(&scope.vars, &n));
                        }
                    }
                    "local" => {
                        if let Some(n) = first {
                            locals.insert(n.clone(), known_or_unknown(&scope.locals, &n));
                        }
                    }
                    "module" => {
                        if let Some(n) = first {
                            let mut child = path.to_vec();
                            child.push(n.clone());
                            let outs = self
                                .scopes
                                .get(&child)
                                .map(|s| s.outputs.clone())
                                .unwrap_or_default();
                            let declared = module
                                .and_then(|m| m.module_calls.get(&n))
                                .and_then(|c| c.module.as_deref())
                                .map(|cm| cm.outputs.keys().cloned().collect::<Vec<_>>())
                                .unwrap_or_default();
                            let mut obj = BTreeMap::new();
                            for o in declared {
                                let v = outs
                                    .get(&o)
                                    .cloned()
                                    .unwrap_or_else(|| Value::unknown(Type::Dynamic));
                                obj.insert(o, v);
                            }
                            modules.insert(n, Value::object(obj));
                        }
                    }
                    "data" => {
                        if let (Some(ty), Some(name)) = (first, step_attr(&r, 1)) {
                            let res = Resource {
                                mode: ResourceMode::Data,
                                ty: ty.clone(),
                                name: name.clone(),
                            };
                            let v = scope
                                .resources
                                .get(&res)
                                .cloned()
                                .unwrap_or_else(|| Value::unknown(Type::Dynamic));
                            data.entry(ty).or_default().insert(name, v);
                        }
                    }
                    "path" => need_path = true,
                    "terraform" => need_terraform = true,
                    "count" | "each" | "self" => {}
                    ty => {
                        if let Some(name) = first {
                            let res = Resource {
                                mode: ResourceMode::Managed,
                                ty: ty.to_owned(),
                                name: name.clone(),
                            };
                            let v = scope
                                .resources
                                .get(&res)
                                .cloned()
                                .unwrap_or_else(|| Value::unknown(Type::Dynamic));
                            resources.entry(ty.to_owned()).or_default().insert(name, v);
                        }
                    }
                }
            }
        }
        let phase = Phase::Plan;
        let mut ctx = EvalContext::new()
            .with_files(self.opts.files.clone())
            .with_clock(self.opts.clock.clone())
            .with_phase(phase);
        if let Some(m) = module {
            let rel = m.dir.strip_prefix(&self.root.dir).unwrap_or(&m.dir);
            let rel = rel.to_string_lossy();
            let base = if rel.is_empty() {
                ".".to_owned()
            } else {
                rel.into_owned()
            };
            ctx = ctx.with_base_dir(base);
        }
        if !vars.is_empty() {
            ctx.set_name("var", Value::object(vars));
        }
        if !locals.is_empty() {
            ctx.set_name("local", Value::object(locals));
        }
        if !modules.is_empty() {
            ctx.set_name("module", Value::object(modules));
        }
        if !data.is_empty() {
            ctx.set_name(
                "data",
                Value::object(
                    data.into_iter()
                        .map(|(k, v)| (k, Value::object(v)))
                        .collect(),
                ),
            );
        }
        for (ty, by_name) in resources {
            ctx.set_name(ty, Value::object(by_name));
        }
        if need_path {
            ctx.set_name("path", self.path_value(module));
        }
        if need_terraform {
            ctx.set_name(
                "terraform",
                Value::object(BTreeMap::from([(
                    "workspace".to_owned(),
                    Value::string(self.opts.workspace.clone()),
                )])),
            );
        }
        if let Some(c) = &inst.count {
            ctx.set_name(
                "count",
                Value::object(BTreeMap::from([("index".to_owned(), c.clone())])),
            );
        }
        if let Some(e) = &inst.each {
            ctx.set_name("each", e.clone());
        }
        ctx
    }

    fn eval(&mut self, path: &[String], e: &Expr, inst: &InstanceNames) -> Value {
        let ctx = self
            .context(path, &[e], inst)
            .with_source((*e.file).clone());
        match meshform_lang::eval(&e.expr, &ctx) {
            Ok(v) => v,
            Err(d) => {
                self.diags.extend(d);
                Value::unknown(Type::Dynamic)
            }
        }
    }

    async fn visit(&mut self, node: &Node) {
        let path = node.module.clone();
        let Some(module) = self.root.descendant(&path) else {
            return;
        };
        match &node.kind {
            NodeKind::Variable(name) => {
                let v = if path.is_empty() {
                    self.opts
                        .variables
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| Value::unknown(Type::Dynamic))
                } else {
                    self.child_variable(&path, module, name)
                };
                self.scope(&path).vars.insert(name.clone(), v);
            }
            NodeKind::Local(name) => {
                let Some(l) = module.locals.get(name) else {
                    return;
                };
                let v = self.eval(&path, &l.expr, &InstanceNames::default());
                self.scope(&path).locals.insert(name.clone(), v);
            }
            NodeKind::Output(name) => {
                let Some(o) = module.outputs.get(name) else {
                    return;
                };
                let Some(e) = &o.value else { return };
                let v = self.eval(&path, e, &InstanceNames::default());
                self.scope(&path).outputs.insert(name.clone(), v);
            }
            NodeKind::Provider(name, alias) => {
                self.configure_provider(&path, module, name, alias.as_deref());
            }
            NodeKind::Resource(res) => {
                let addr = res.to_string();
                if let Some(r) = module.resources.get(&addr) {
                    self.plan_resource(&path, module, r).await;
                }
            }
            NodeKind::ModuleCall(name) => {
                if let Some(call) = module.module_calls.get(name) {
                    self.check_module_call(call);
                }
            }
        }
    }

    fn check_module_call(&mut self, call: &ModuleCall) {
        if call.count.is_some() || call.for_each.is_some() {
            self.diags.push(
                Diagnostic::error(
                    "Module repetition is not supported yet",
                    "meshform does not yet expand count or for_each on module calls; declare each instance as its own module block.",
                )
                .with_subject(call.decl_range.clone()),
            );
        }
    }

    fn child_variable(&mut self, path: &[String], module: &Module, name: &str) -> Value {
        let (parent_path, call_name) = path.split_at(path.len() - 1);
        let Some(parent) = self.root.descendant(parent_path) else {
            return Value::unknown(Type::Dynamic);
        };
        let Some(call) = parent.module_calls.get(&call_name[0]) else {
            return Value::unknown(Type::Dynamic);
        };
        let decl = module.variables.get(name);
        let raw = match call.config.attr(name) {
            Some(a) => self.eval(parent_path, &a.expr, &InstanceNames::default()),
            None => match decl.and_then(|d| d.default.clone()) {
                Some(d) => self.eval(path, &d, &InstanceNames::default()),
                None => Value::null(Type::Dynamic),
            },
        };
        let Some(decl) = decl else { return raw };
        let Some(te) = &decl.type_expr else {
            return raw;
        };
        match meshform_lang::parse_type_constraint(&te.expr, Some(&te.file)) {
            Ok(c) => match convert(&raw, &c.ty) {
                Ok(v) => v,
                Err(e) => {
                    self.diags.push(
                        Diagnostic::error(
                            "Invalid value for module argument",
                            format!("The given value is not suitable for child module variable {name:?}: {e}."),
                        )
                        .with_subject(call.config.attr(name).map_or(call.decl_range.clone(), |a| a.expr.range())),
                    );
                    Value::unknown(c.ty)
                }
            },
            Err(_) => raw,
        }
    }

    fn configure_provider(
        &mut self,
        path: &[String],
        module: &Module,
        name: &str,
        alias: Option<&str>,
    ) {
        let key = (path.to_vec(), name.to_owned(), alias.map(str::to_owned));
        if self.providers.contains_key(&key) {
            return;
        }
        let source = module.provider_source(name);
        let Some(factory) = self.registry.get(&source).cloned() else {
            if !self.missing_providers.insert(source.clone()) {
                return;
            }
            self.diags.push(Diagnostic::error(
                "Missing required provider",
                format!(
                    "This configuration requires provider {source}, which meshform does not implement and has no schema for. Run `meshform init` for the list of supported providers."
                ),
            ));
            return;
        };
        let schema = factory.schema();
        let block_cfg = module
            .providers
            .iter()
            .find(|p| p.name == name && p.alias.as_deref() == alias);
        let config = match block_cfg {
            Some(p) => {
                let exprs: Vec<&Expr> = collect_exprs(&p.config);
                let ctx = self.context(path, &exprs, &InstanceNames::default());
                let (v, d) = decode_content(&p.config, &schema.provider.block, &ctx);
                if !self.opts.offline {
                    self.diags.extend(d);
                }
                v
            }
            None => crate::decode::empty_value(&schema.provider.block),
        };
        let config = with_provider_overrides(config, self.opts, &source);
        if !self.opts.offline {
            self.diags.extend(factory.validate_provider_config(&config));
        }
        let req = ConfigureRequest {
            config,
            offline: self.opts.offline,
            clock: self.opts.clock.clone(),
            env: self.opts.env.clone(),
            parallelism: self.opts.parallelism,
        };
        match factory.configure(req) {
            Ok(provider) => {
                let module_prefix: String = path.iter().map(|m| format!("module.{m}.")).collect();
                self.providers.insert(
                    key,
                    ConfiguredProvider {
                        source: factory.source().to_owned(),
                        address: format!(
                            "{module_prefix}{}",
                            provider_address(factory.source(), alias)
                        ),
                        factory,
                        schema,
                        provider,
                    },
                );
            }
            Err(d) => self.diags.extend(d),
        }
    }

    fn provider_for(
        &mut self,
        path: &[String],
        module: &Module,
        r: &meshform_config::Resource,
    ) -> Option<ConfiguredProvider> {
        // The block that serves the reference: this module's, one the
        // module call passes, or one inherited from the parent.
        let Some(config) = crate::provider_configs::resolve(self.root, path, &r.provider_ref())
        else {
            // An alias neither declared nor passed: the graph reports it.
            return None;
        };
        let key = (
            config.module.clone(),
            config.name.clone(),
            config.alias.clone(),
        );
        if !self.providers.contains_key(&key) {
            // Also an implied default configuration (no provider block).
            let declaring = self.root.descendant(&config.module).unwrap_or(module);
            self.configure_provider(
                &config.module,
                declaring,
                &config.name,
                config.alias.as_deref(),
            );
        }
        self.providers.get(&key).cloned()
    }

    /// The instance keys of a resource: `None` for a single instance.
    fn expand(
        &mut self,
        path: &[String],
        r: &meshform_config::Resource,
    ) -> Option<Vec<(InstanceKey, InstanceNames)>> {
        if let Some(count) = &r.count {
            let v = self.eval(path, count, &InstanceNames::default());
            if !v.is_known() {
                self.diags.push(
                    Diagnostic::error(
                        "Invalid count argument",
                        "The \"count\" value depends on resource attributes that cannot be determined until apply, so meshform cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the count depends on.",
                    )
                    .with_subject(count.range()),
                );
                return None;
            }
            let n = match convert(&v, &Type::Number)
                .ok()
                .and_then(|n| n.as_number().and_then(|n| n.to_i64()))
            {
                Some(n) if n >= 0 => n,
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            "Invalid count argument",
                            "The given \"count\" argument value is unsuitable: must be a whole number, zero or greater.",
                        )
                        .with_subject(count.range()),
                    );
                    return None;
                }
            };
            return Some(
                (0..n)
                    .map(|i| {
                        (
                            InstanceKey::Int(i),
                            InstanceNames {
                                count: Some(Value::int(i)),
                                each: None,
                            },
                        )
                    })
                    .collect(),
            );
        }
        if let Some(fe) = &r.for_each {
            let v = self.eval(path, fe, &InstanceNames::default());
            if !v.is_wholly_known() {
                self.diags.push(
                    Diagnostic::error(
                        "Invalid for_each argument",
                        "The \"for_each\" value depends on resource attributes that cannot be determined until apply, so meshform cannot predict how many instances will be created. To work around this, use -target to first apply only the resources that the for_each depends on.",
                    )
                    .with_subject(fe.range()),
                );
                return None;
            }
            let mut out = Vec::new();
            let each = |k: &str, v: Value| InstanceNames {
                count: None,
                each: Some(Value::object(BTreeMap::from([
                    ("key".to_owned(), Value::string(k)),
                    ("value".to_owned(), v),
                ]))),
            };
            match v.data() {
                Data::Map(_, m) | Data::Object(m) => {
                    for (k, val) in m {
                        out.push((InstanceKey::Str(k.clone()), each(k, val.clone())));
                    }
                }
                Data::Set(_, items) => {
                    for item in items {
                        match item.as_str() {
                            Some(s) => {
                                out.push((InstanceKey::Str(s.to_owned()), each(s, item.clone())))
                            }
                            None => {
                                self.diags.push(
                                    Diagnostic::error(
                                        "Invalid for_each set argument",
                                        "The given \"for_each\" argument value is unsuitable: \"for_each\" supports sets of strings, but you have provided a set containing other values.",
                                    )
                                    .with_subject(fe.range()),
                                );
                                return None;
                            }
                        }
                    }
                }
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            "Invalid for_each argument",
                            "The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings.",
                        )
                        .with_subject(fe.range()),
                    );
                    return None;
                }
            }
            return Some(out);
        }
        Some(vec![(InstanceKey::None, InstanceNames::default())])
    }

    async fn plan_resource(
        &mut self,
        path: &[String],
        module: &Module,
        r: &meshform_config::Resource,
    ) {
        let res = Resource {
            mode: r.mode,
            ty: r.ty.clone(),
            name: r.name.clone(),
        };
        let Some(cp) = self.provider_for(path, module, r) else {
            self.scope(path)
                .resources
                .insert(res, Value::unknown(Type::Dynamic));
            return;
        };
        let schema = match r.mode {
            ResourceMode::Managed => cp.schema.resources.get(&r.ty),
            ResourceMode::Data => cp.schema.data_sources.get(&r.ty),
        };
        let Some(schema) = schema.cloned() else {
            let what = if r.mode == ResourceMode::Data {
                "data source"
            } else {
                "resource type"
            };
            self.diags.push(
                Diagnostic::error(
                    format!("Invalid {what}"),
                    format!(
                        "The provider {} does not support {what} {:?}.",
                        cp.source, r.ty
                    ),
                )
                .with_subject(r.type_range.clone())
                .with_context(r.block_label()),
            );
            self.scope(path)
                .resources
                .insert(res, Value::unknown(Type::Dynamic));
            return;
        };
        let Some(instances) = self.expand(path, r) else {
            self.scope(path)
                .resources
                .insert(res, Value::unknown(Type::Dynamic));
            return;
        };
        let repetition = if r.count.is_some() {
            Repetition::Count
        } else if r.for_each.is_some() {
            Repetition::ForEach
        } else {
            Repetition::Single
        };
        let mut values: Vec<(InstanceKey, Value)> = Vec::new();
        for (key, names) in instances {
            let addr = ResourceInstance {
                module: module_instance(path),
                resource: res.clone(),
                key: key.clone(),
            };
            self.planned_instances.insert(addr.clone());
            let v = match r.mode {
                ResourceMode::Managed => {
                    self.plan_managed(path, r, &cp, &schema.block, &addr, &names)
                        .await
                }
                ResourceMode::Data => {
                    self.plan_data(path, r, &cp, &schema.block, &addr, &names)
                        .await
                }
            };
            values.push((key, v));
        }
        let whole = match repetition {
            Repetition::Single => values
                .pop()
                .map(|(_, v)| v)
                .unwrap_or_else(|| Value::null(Type::Dynamic)),
            Repetition::Count => Value::tuple(values.into_iter().map(|(_, v)| v).collect()),
            Repetition::ForEach => Value::object(
                values
                    .into_iter()
                    .map(|(k, v)| match k {
                        InstanceKey::Str(s) => (s, v),
                        other => (other.to_string(), v),
                    })
                    .collect(),
            ),
        };
        self.scope(path).resources.insert(res, whole);
    }

    fn decode_config(
        &mut self,
        path: &[String],
        r: &meshform_config::Resource,
        block: &Block,
        names: &InstanceNames,
    ) -> Value {
        let exprs = collect_exprs(&r.config);
        let ctx = self.context(path, &exprs, names);
        let (v, d) = decode_content(&r.config, block, &ctx);
        self.diags.extend(d.into_iter().map(|mut d| {
            if d.context.is_none() {
                d.context = Some(r.block_label());
            }
            d
        }));
        v
    }

    async fn plan_managed(
        &mut self,
        path: &[String],
        r: &meshform_config::Resource,
        cp: &ConfiguredProvider,
        block: &Block,
        addr: &ResourceInstance,
        names: &InstanceNames,
    ) -> Value {
        let provider_addr = provider_source_address(&cp.source);
        let prior_obj = self
            .prior
            .objects
            .get(addr)
            .filter(|_| !self.destroyed_first.contains(addr));
        let mut prior = prior_obj
            .map(|o| o.value.clone())
            .unwrap_or_else(|| Value::null(block.implied_type()));
        let mut private = prior_obj
            .and_then(|o| o.private.clone())
            .map(String::into_bytes)
            .unwrap_or_default();
        // An `import` block adopts the remote object when the state has
        // none: it becomes the prior object, just read.
        let mut importing = None;
        if prior_obj.is_none() && self.opts.mode == PlanMode::Normal {
            match self.import_object(addr, cp, &r.ty).await {
                Some(Ok(imported)) => {
                    prior = imported.value;
                    private = imported.private;
                    importing = Some(imported.id);
                }
                Some(Err(())) => return Value::unknown(block.implied_type()),
                None => {}
            }
        }
        // Refresh: what the object looks like now.
        if !prior.is_null() && self.opts.refresh && importing.is_none() {
            let resp = self.read_current(addr, cp, &r.ty, &prior, &private).await;
            let located = self.at_resource(resp.diagnostics, addr);
            self.diags.extend(located);
            match resp.new_state {
                Some(v) if !v.is_null() => {
                    if !crate::objchange::values_equal_ignoring_marks(&v, &prior) {
                        self.drift.push(change(
                            addr,
                            &provider_addr,
                            Action::Update,
                            prior.clone(),
                            v.clone(),
                        ));
                    }
                    prior = v;
                }
                _ => {
                    self.drift.push(change(
                        addr,
                        &provider_addr,
                        Action::Delete,
                        prior.clone(),
                        Value::null(block.implied_type()),
                    ));
                    prior = Value::null(block.implied_type());
                }
            }
        }
        if self.opts.mode == PlanMode::Destroy {
            if prior.is_null() {
                // Already gone: the state must not keep it either.
                if prior_obj.is_some() {
                    if let Some(target) = self.applying.as_mut() {
                        if let Err(e) = target.sink.delete(addr, None) {
                            self.state_error(addr, &e);
                        }
                    }
                }
                return prior;
            }
            self.changes.push(change(
                addr,
                &provider_addr,
                Action::Delete,
                prior.clone(),
                Value::null(block.implied_type()),
            ));
            if self.applying.is_some() {
                // Deleted at the end of the walk, each after what depends
                // on it (`flush`).
                self.deferred.push(ApplyJob::deletion(
                    addr.clone(),
                    cp.clone(),
                    block.clone(),
                    cp.address.clone(),
                    private,
                    prior.clone(),
                    None,
                ));
            }
            return prior;
        }
        // Decoded only now: destroying needs nothing but the state.
        let config = self.decode_config(path, r, block, names);
        self.diags
            .extend(cp.factory.validate_resource_config(&r.ty, &config));
        let config = self.apply_ignore_changes(r, &prior, config);
        let proposed = proposed_new(block, &prior, &config);
        let resp = cp
            .provider
            .plan_resource_change(PlanResourceChangeRequest {
                type_name: r.ty.clone(),
                prior_state: prior.clone(),
                proposed_new_state: proposed.clone(),
                config: config.clone(),
                prior_private: private.clone(),
            })
            .await;
        let had_errors = resp.diagnostics.has_errors();
        self.diags.extend(resp.diagnostics);
        let Some(planned) = resp.planned_state else {
            return Value::unknown(block.implied_type());
        };
        if had_errors {
            return planned;
        }
        let tainted = prior_obj.is_some_and(|o| o.tainted);
        let replace_requested = self.opts.replace.contains(addr);
        let requires_replace: Vec<_> = resp
            .requires_replace
            .into_iter()
            .filter(|p| {
                let b = value_at(&prior, p);
                let a = value_at(&planned, p);
                match (b, a) {
                    (Some(b), Some(a)) => {
                        !a.is_known() || !crate::objchange::values_equal_ignoring_marks(b, a)
                    }
                    (None, None) => false,
                    _ => true,
                }
            })
            .collect();
        let cbd = self.create_before_destroy(path, r);
        let (action, reason, after, replace_paths) = if prior.is_null() {
            (
                Action::Create,
                ActionReason::None,
                planned.clone(),
                Vec::new(),
            )
        } else if tainted || replace_requested || !requires_replace.is_empty() {
            // Replacement: the new object is planned as a create.
            let fresh_proposed = proposed_new(block, &Value::null(block.implied_type()), &config);
            let resp = cp
                .provider
                .plan_resource_change(PlanResourceChangeRequest {
                    type_name: r.ty.clone(),
                    prior_state: Value::null(block.implied_type()),
                    proposed_new_state: fresh_proposed,
                    config: config.clone(),
                    prior_private: Vec::new(),
                })
                .await;
            self.diags.extend(resp.diagnostics);
            let after = resp
                .planned_state
                .unwrap_or_else(|| Value::unknown(block.implied_type()));
            let reason = if tainted {
                ActionReason::ReplaceBecauseTainted
            } else if replace_requested {
                ActionReason::ReplaceByRequest
            } else {
                ActionReason::ReplaceBecauseCannotUpdate
            };
            let action = if cbd {
                Action::CreateThenDelete
            } else {
                Action::DeleteThenCreate
            };
            let paths = if tainted || replace_requested {
                Vec::new()
            } else {
                requires_replace
            };
            (action, reason, after, paths)
        } else if crate::objchange::values_equal_ignoring_marks(&planned, &prior) {
            (
                Action::NoOp,
                ActionReason::None,
                planned.clone(),
                Vec::new(),
            )
        } else {
            (
                Action::Update,
                ActionReason::None,
                planned.clone(),
                Vec::new(),
            )
        };
        if matches!(action, Action::DeleteThenCreate | Action::CreateThenDelete)
            && self.prevent_destroy(path, r)
        {
            self.diags.push(
                Diagnostic::error(
                    "Instance cannot be destroyed",
                    format!(
                        "Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag."
                    ),
                )
                .with_subject(r.decl_range.clone()),
            );
        }
        if action != Action::NoOp {
            self.pending.insert((path.to_vec(), addr.resource.clone()));
        }
        let mut c = change(addr, &provider_addr, action, prior.clone(), after.clone());
        c.reason = reason;
        c.required_replace = replace_paths;
        c.prev_run_addr = self.moves.get(addr).cloned();
        c.importing = importing.clone();
        self.changes.push(c);
        if let (Some(id), true) = (&importing, self.applying.is_some()) {
            // The imported object is saved before its change runs, so an
            // update that fails still leaves it managed.
            let step = ApplyStep {
                addr,
                cp,
                block,
                type_name: &r.ty,
                provider_ref: cp.address.clone(),
                config: &config,
                private: &private,
                dependencies: self.resource_dependencies(path, &addr.resource),
                create_before_destroy: cbd,
            };
            self.emit(crate::sink::ApplyEvent::Importing {
                addr: addr.to_string(),
                id: id.clone(),
            });
            if self.put(&step, &prior, None).is_none() {
                return Value::unknown(block.implied_type());
            }
            self.emit(crate::sink::ApplyEvent::Imported {
                addr: addr.to_string(),
                id: id.clone(),
            });
        }
        if self.applying.is_none() || action == Action::NoOp {
            return after;
        }
        let deps = self.resource_dependencies(path, &addr.resource);
        let parallel = self.opts.parallelism > 1;
        if parallel && matches!(action, Action::Create | Action::Update) {
            self.deferred.push(ApplyJob {
                node: None,
                path: path.to_vec(),
                addr: addr.clone(),
                cp: cp.clone(),
                block: block.clone(),
                type_name: r.ty.clone(),
                provider_ref: cp.address.clone(),
                config: config.clone(),
                private: private.clone(),
                dependencies: deps,
                create_before_destroy: cbd,
                action,
                prior: prior.clone(),
                planned: after.clone(),
                deposed: None,
                waits: Vec::new(),
            });
            return after;
        }
        let target = ApplyStep {
            addr,
            cp,
            block,
            type_name: &r.ty,
            provider_ref: cp.address.clone(),
            config: &config,
            private: &private,
            dependencies: deps,
            create_before_destroy: cbd,
        };
        self.apply_change(&target, action, &prior, &after)
            .await
            .unwrap_or_else(|| Value::unknown(block.implied_type()))
    }

    /// The object an `import` block names for `addr`, imported and read
    /// by its provider: `None` without an import block, `Err` (with the
    /// diagnostics recorded) when it cannot be imported.
    async fn import_object(
        &mut self,
        addr: &ResourceInstance,
        cp: &ConfiguredProvider,
        type_name: &str,
    ) -> Option<Result<ImportedObject, ()>> {
        let target = self.imports.get(addr)?.clone();
        let id = self.eval(&[], &target.id, &InstanceNames::default());
        let id = match crate::imports::import_id(&id, &target.id_range) {
            Ok(id) => id,
            Err(d) => {
                self.diags.push(*d);
                return Some(Err(()));
            }
        };
        if self.opts.offline {
            self.diags.push(
                Diagnostic::error(
                    "Import needs the remote API",
                    format!(
                        "The import block for {addr} asks the provider to read the remote object with ID {id:?}, which -offline does not allow. Run the plan again without -offline to import it."
                    ),
                )
                .with_subject(target.to_range.clone()),
            );
            return Some(Err(()));
        }
        let located = |mut d: Diagnostic| {
            if d.subject.is_none() {
                d = d.with_subject(target.to_range.clone());
            }
            d
        };
        let resp = cp
            .provider
            .import_resource_state(ImportResourceStateRequest {
                type_name: type_name.to_owned(),
                id: id.clone(),
            })
            .await;
        let failed = resp.diagnostics.has_errors();
        self.diags.extend(resp.diagnostics.into_iter().map(located));
        if failed {
            return Some(Err(()));
        }
        let not_found = || {
            Diagnostic::error(
                "Cannot import non-existent remote object",
                format!(
                    "While attempting to import an existing object to \"{addr}\", the provider detected that no object exists with the given id. Only pre-existing objects can be imported; check that the id is correct and that it is associated with the provider's configured region or endpoint, or use \"meshform apply\" to create a new remote object for this resource."
                ),
            )
            .with_subject(target.to_range.clone())
        };
        let Some(object) = resp.imported.into_iter().find(|o| o.type_name == type_name) else {
            self.diags.push(not_found());
            return Some(Err(()));
        };
        let read = cp
            .provider
            .read_resource(ReadResourceRequest {
                type_name: type_name.to_owned(),
                current_state: object.state,
                private: object.private,
            })
            .await;
        let failed = read.diagnostics.has_errors();
        self.diags.extend(read.diagnostics.into_iter().map(located));
        if failed {
            return Some(Err(()));
        }
        match read.new_state {
            Some(value) if !value.is_null() => Some(Ok(ImportedObject {
                id,
                value,
                private: read.private,
            })),
            _ => {
                self.diags.push(not_found());
                Some(Err(()))
            }
        }
    }

    /// The refreshed object at `addr`. With parallelism above one, the
    /// first read that is not ready yet also reads every other prior object
    /// whose provider is configured by then, `parallelism` at once: reads
    /// depend on the state alone, so a refresh costs about objects /
    /// parallelism round trips instead of one per object.
    async fn read_current(
        &mut self,
        addr: &ResourceInstance,
        cp: &ConfiguredProvider,
        type_name: &str,
        prior: &Value,
        private: &[u8],
    ) -> ReadResourceResponse {
        if !self.read_started.contains(addr) && self.opts.parallelism > 1 && !self.opts.offline {
            self.read_ahead_batch();
        }
        if let Some(task) = self.read_ahead.remove(addr) {
            return task.await.unwrap_or_else(|e| {
                let mut resp = ReadResourceResponse::default();
                resp.diagnostics.push(provider_stopped("reading", addr, &e));
                resp
            });
        }
        self.read_started.insert(addr.clone());
        cp.provider
            .read_resource(ReadResourceRequest {
                type_name: type_name.to_owned(),
                current_state: prior.clone(),
                private: private.to_vec(),
            })
            .await
    }

    /// Reads, `parallelism` at once, the prior objects not read yet whose
    /// resource is configured with a provider already configured. Targeted
    /// runs read only what they plan, so they read in turn.
    fn read_ahead_batch(&mut self) {
        if !self.opts.targets.is_empty() {
            return;
        }
        let mut reads = Vec::new();
        for (addr, obj) in &self.prior.objects {
            if addr.resource.mode != ResourceMode::Managed
                || self.read_started.contains(addr)
                || self.destroyed_first.contains(addr)
                || obj.value.is_null()
            {
                continue;
            }
            let path = addr.module.call_names();
            let Some(r) = self
                .root
                .descendant(&path)
                .and_then(|m| m.resources.get(&addr.resource.to_string()))
            else {
                continue;
            };
            let Some(config) =
                crate::provider_configs::resolve(self.root, &path, &r.provider_ref())
            else {
                continue;
            };
            let Some(cp) = self
                .providers
                .get(&(config.module, config.name, config.alias))
            else {
                continue;
            };
            reads.push((
                addr.clone(),
                cp.provider.clone(),
                ReadResourceRequest {
                    type_name: r.ty.clone(),
                    current_state: obj.value.clone(),
                    private: obj
                        .private
                        .clone()
                        .map(String::into_bytes)
                        .unwrap_or_default(),
                },
            ));
        }
        // Tasks, so the walk plans what has been read while the rest is
        // still in flight; a semaphore keeps `parallelism` reads at once.
        let budget = Arc::new(tokio::sync::Semaphore::new(self.opts.parallelism.max(1)));
        for (addr, provider, req) in reads {
            let budget = budget.clone();
            let task = tokio::spawn(async move {
                let _permit = budget.acquire_owned().await;
                provider.read_resource(req).await
            });
            self.read_started.insert(addr.clone());
            self.read_ahead.insert(addr, task);
        }
    }

    /// Runs the deferred changes. In a destroy, an object waits for the
    /// deletion of everything that depends on it, however indirectly.
    async fn flush(&mut self) {
        self.dirty.clear();
        if self.deferred.is_empty() {
            return;
        }
        let mut jobs = std::mem::take(&mut self.deferred);
        if self.opts.mode == PlanMode::Destroy {
            self.wait_for_dependents(&mut jobs);
        }
        self.run_jobs(jobs).await;
    }

    /// Makes each deletion wait for the deletions of the objects that
    /// depend on it, following the graph through locals and outputs.
    fn wait_for_dependents(&self, jobs: &mut [ApplyJob]) {
        let mut by_node: HashMap<petgraph::graph::NodeIndex, Vec<usize>> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            if let Some(n) = job.node {
                by_node.entry(n).or_default().push(i);
            }
        }
        let mut dependents_of: HashMap<petgraph::graph::NodeIndex, Vec<usize>> = HashMap::new();
        for &start in by_node.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<_> = self.graph.dependents(start).collect();
            let mut waits = Vec::new();
            while let Some(n) = stack.pop() {
                if !seen.insert(n) {
                    continue;
                }
                if let Some(js) = by_node.get(&n) {
                    waits.extend(js.iter().copied());
                }
                stack.extend(self.graph.dependents(n));
            }
            dependents_of.insert(start, waits);
        }
        for job in jobs.iter_mut() {
            if let Some(waits) = job.node.and_then(|n| dependents_of.get(&n)) {
                job.waits.extend(waits.iter().copied());
            }
        }
    }

    /// Runs jobs at most `parallelism` at once, each once the jobs it waits
    /// on have succeeded, committing each to the state as soon as it
    /// finishes. A job whose prerequisite failed is skipped, and so is what
    /// waits on it. After Ctrl-C nothing new starts.
    async fn run_jobs(&mut self, jobs: Vec<ApplyJob>) {
        use crate::sink::ApplyEvent as E;
        use futures::stream::{FuturesUnordered, StreamExt};
        let Some(events) = self.applying.as_ref().map(|t| t.events) else {
            return;
        };
        let limit = self.opts.parallelism.max(1);
        let interrupted = self.applying.as_ref().and_then(|t| t.interrupted);
        let is_interrupted =
            || interrupted.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst));
        // Each operation runs as a task of its own, so that requests keep
        // going while this task commits what finished.
        let run = |i: usize, job: ApplyJob| {
            let id = |v: &Value| v.get_attr("id").and_then(|i| i.as_str()).map(str::to_owned);
            match job.action {
                Action::Create => events(E::Creating {
                    addr: job.display_name(),
                }),
                Action::Delete => events(E::Destroying {
                    addr: job.display_name(),
                    id: id(&job.prior),
                }),
                _ => events(E::Modifying {
                    addr: job.display_name(),
                    id: id(&job.prior),
                }),
            }
            let provider = job.cp.provider.clone();
            let req = meshform_providers::provider::ApplyResourceChangeRequest {
                type_name: job.type_name.clone(),
                prior_state: job.prior.clone(),
                planned_state: job.planned.clone(),
                config: job.config.clone(),
                planned_private: job.private.clone(),
            };
            let task = tokio::spawn(async move {
                let started = std::time::Instant::now();
                let resp = provider.apply_resource_change(req).await;
                (resp, started.elapsed())
            });
            async move {
                let (resp, elapsed) = task.await.unwrap_or_else(|e| {
                    let mut resp =
                        meshform_providers::provider::ApplyResourceChangeResponse::default();
                    resp.diagnostics
                        .push(provider_stopped("applying", &job.addr, &e));
                    (resp, std::time::Duration::ZERO)
                });
                (i, job, resp, elapsed)
            }
        };
        let mut waiting: Vec<usize> = jobs.iter().map(|j| j.waits.len()).collect();
        let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); jobs.len()];
        for (i, job) in jobs.iter().enumerate() {
            for &w in &job.waits {
                if let Some(u) = unblocks.get_mut(w) {
                    u.push(i);
                }
            }
        }
        let mut slots: Vec<Option<ApplyJob>> = jobs.into_iter().map(Some).collect();
        let mut ready: std::collections::VecDeque<usize> =
            (0..slots.len()).filter(|&i| waiting[i] == 0).collect();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < limit && !is_interrupted() {
                let Some(i) = ready.pop_front() else { break };
                if let Some(job) = slots[i].take() {
                    running.push(run(i, job));
                }
            }
            let Some(first) = running.next().await else {
                break;
            };
            // Whatever finished meanwhile is committed with it.
            let mut finished = vec![first];
            while let Some(Some(more)) = futures::FutureExt::now_or_never(running.next()) {
                finished.push(more);
            }
            for (i, ok) in self.finish_jobs(finished) {
                if ok {
                    for &d in &unblocks[i] {
                        waiting[d] = waiting[d].saturating_sub(1);
                        if waiting[d] == 0 && slots[d].is_some() {
                            ready.push_back(d);
                        }
                    }
                    continue;
                }
                // Skip everything that waits on the failed job.
                let mut stack = unblocks[i].clone();
                while let Some(d) = stack.pop() {
                    if let Some(job) = slots[d].take() {
                        if let Some(n) = job.node {
                            self.failed.insert(n);
                        }
                        stack.extend(unblocks[d].iter().copied());
                    }
                }
            }
        }
        if slots.iter().any(Option::is_some) {
            self.diags.push(Diagnostic::error(
                "Execution halted",
                "The apply was interrupted: meshform let the operations in progress finish and started nothing new. Every finished object is saved in the state; run apply again to finish the rest.",
            ));
        }
    }

    /// Records jobs that finished together: their diagnostics, their
    /// objects in the state (one commit for all of them) and their events.
    /// Returns each job's index and whether it succeeded.
    fn finish_jobs(
        &mut self,
        finished: Vec<(
            usize,
            ApplyJob,
            meshform_providers::provider::ApplyResourceChangeResponse,
            std::time::Duration,
        )>,
    ) -> Vec<(usize, bool)> {
        use crate::sink::{ApplyEvent as E, Write};
        let mut outcomes = Vec::new();
        // Jobs the provider carried out, with their new object (`None` for
        // a deletion).
        let mut done: Vec<(usize, ApplyJob, Option<Value>, std::time::Duration)> = Vec::new();
        for (i, job, resp, elapsed) in finished {
            let failed = resp.diagnostics.has_errors();
            let addr = job.addr.clone();
            let located = self.at_resource(resp.diagnostics, &addr);
            self.diags.extend(located);
            let new = match (job.action, resp.new_state) {
                (_, _) if failed => None,
                (Action::Delete, _) => Some(None),
                (_, Some(v)) if !v.is_null() => Some(Some(v)),
                _ => {
                    self.diags.push(Diagnostic::error(
                        "Provider produced no object",
                        format!("The provider returned no object after applying {addr}; this is a bug in the provider."),
                    ));
                    None
                }
            };
            match new {
                Some(new) => done.push((i, job, new, elapsed)),
                None => {
                    if let Some(n) = job.node {
                        self.failed.insert(n);
                    }
                    outcomes.push((i, false));
                }
            }
        }
        if done.is_empty() {
            return outcomes;
        }
        let written = match self.applying.as_mut() {
            None => Ok(()),
            Some(target) => {
                let writes: Vec<Write<'_>> = done
                    .iter()
                    .map(|(_, job, new, _)| match new {
                        None => Write::Delete {
                            addr: &job.addr,
                            deposed: job.deposed.as_deref(),
                        },
                        Some(value) => Write::Put(job.step().state_object(value, None)),
                    })
                    .collect();
                target.sink.write_all(&writes)
            }
        };
        if let Err(e) = written {
            for (i, job, _, _) in done {
                self.state_error(&job.addr, &e);
                if let Some(n) = job.node {
                    self.failed.insert(n);
                }
                outcomes.push((i, false));
            }
            return outcomes;
        }
        for (i, job, new, elapsed) in done {
            let addr = job.display_name();
            match new {
                None => self.emit(E::Destroyed { addr, elapsed }),
                Some(new) => {
                    let id = new
                        .get_attr("id")
                        .and_then(|i| i.as_str())
                        .map(str::to_owned);
                    if job.action == Action::Create {
                        self.emit(E::Created { addr, elapsed, id });
                    } else {
                        self.emit(E::Modified { addr, elapsed, id });
                    }
                    self.set_instance_value(&job.path, &job.addr, new);
                }
            }
            outcomes.push((i, true));
        }
        outcomes
    }

    /// Replaces one instance's value inside its resource's value in scope.
    fn set_instance_value(&mut self, path: &[String], addr: &ResourceInstance, v: Value) {
        let scope = self.scope(path);
        let Some(whole) = scope.resources.get(&addr.resource).cloned() else {
            return;
        };
        let updated = match (&addr.key, whole.data()) {
            (InstanceKey::None, _) => v,
            (InstanceKey::Int(i), Data::Tuple(items)) => {
                let mut items = items.clone();
                if let Some(slot) = items.get_mut(*i as usize) {
                    *slot = v;
                }
                Value::tuple(items)
            }
            (InstanceKey::Str(k), Data::Object(m)) => {
                let mut m = m.clone();
                m.insert(k.clone(), v);
                Value::object(m)
            }
            _ => return,
        };
        scope.resources.insert(addr.resource.clone(), updated);
    }

    /// Carries out one planned change and commits it to the state.
    /// `None` when it failed (the diagnostics say why).
    async fn apply_change(
        &mut self,
        t: &ApplyStep<'_>,
        action: Action,
        prior: &Value,
        planned: &Value,
    ) -> Option<Value> {
        use crate::sink::ApplyEvent as E;
        let name = t.addr.to_string();
        let id_of = |v: &Value| v.get_attr("id").and_then(|i| i.as_str()).map(str::to_owned);
        match action {
            Action::Create | Action::Update => {
                if action == Action::Create {
                    self.emit(E::Creating { addr: name.clone() });
                } else {
                    self.emit(E::Modifying {
                        addr: name.clone(),
                        id: id_of(prior),
                    });
                }
                let started = std::time::Instant::now();
                let new = self.apply_one(t, prior, planned).await?;
                self.put(t, &new, None)?;
                let elapsed = started.elapsed();
                if action == Action::Create {
                    self.emit(E::Created {
                        addr: name,
                        elapsed,
                        id: id_of(&new),
                    });
                } else {
                    self.emit(E::Modified {
                        addr: name,
                        elapsed,
                        id: id_of(&new),
                    });
                }
                Some(new)
            }
            Action::Delete => {
                self.destroy(t, prior, None).await?;
                Some(Value::null(t.block.implied_type()))
            }
            Action::DeleteThenCreate => {
                self.destroy_replaced_dependents(t.addr).await;
                self.destroy(t, prior, None).await?;
                self.emit(E::Creating { addr: name.clone() });
                let started = std::time::Instant::now();
                let new = self
                    .apply_one(t, &Value::null(t.block.implied_type()), planned)
                    .await?;
                self.put(t, &new, None)?;
                self.emit(E::Created {
                    addr: name,
                    elapsed: started.elapsed(),
                    id: id_of(&new),
                });
                Some(new)
            }
            Action::CreateThenDelete => {
                let key = meshform_state::new_deposed_key();
                if let Some(target) = self.applying.as_mut() {
                    if let Err(e) = target.sink.depose(t.addr, &key) {
                        self.state_error(t.addr, &e);
                        return None;
                    }
                }
                self.emit(E::Creating { addr: name.clone() });
                let started = std::time::Instant::now();
                let new = self
                    .apply_one(t, &Value::null(t.block.implied_type()), planned)
                    .await?;
                self.put(t, &new, None)?;
                self.emit(E::Created {
                    addr: name,
                    elapsed: started.elapsed(),
                    id: id_of(&new),
                });
                self.destroy(t, prior, Some(&key)).await?;
                Some(new)
            }
            Action::NoOp | Action::Read => Some(planned.clone()),
        }
    }

    async fn apply_one(
        &mut self,
        t: &ApplyStep<'_>,
        prior: &Value,
        planned: &Value,
    ) -> Option<Value> {
        let resp =
            t.cp.provider
                .apply_resource_change(meshform_providers::provider::ApplyResourceChangeRequest {
                    type_name: t.type_name.to_owned(),
                    prior_state: prior.clone(),
                    planned_state: planned.clone(),
                    config: t.config.clone(),
                    planned_private: t.private.to_vec(),
                })
                .await;
        let failed = resp.diagnostics.has_errors();
        let located = self.at_resource(resp.diagnostics, t.addr);
        self.diags.extend(located);
        if failed {
            return None;
        }
        match resp.new_state {
            Some(v) if !v.is_null() => Some(v),
            _ => {
                self.diags.push(Diagnostic::error(
                    "Provider produced no object",
                    format!("The provider returned no object after applying {}; this is a bug in the provider.", t.addr),
                ));
                None
            }
        }
    }

    async fn destroy(
        &mut self,
        t: &ApplyStep<'_>,
        prior: &Value,
        deposed: Option<&str>,
    ) -> Option<()> {
        use crate::sink::ApplyEvent as E;
        let name = match deposed {
            Some(k) => format!("{} (deposed object {k})", t.addr),
            None => t.addr.to_string(),
        };
        self.emit(E::Destroying {
            addr: name.clone(),
            id: prior
                .get_attr("id")
                .and_then(|i| i.as_str())
                .map(str::to_owned),
        });
        let started = std::time::Instant::now();
        let resp =
            t.cp.provider
                .apply_resource_change(meshform_providers::provider::ApplyResourceChangeRequest {
                    type_name: t.type_name.to_owned(),
                    prior_state: prior.clone(),
                    planned_state: Value::null(t.block.implied_type()),
                    config: Value::null(t.block.implied_type()),
                    planned_private: t.private.to_vec(),
                })
                .await;
        let failed = resp.diagnostics.has_errors();
        self.diags.extend(resp.diagnostics);
        if failed {
            return None;
        }
        if let Some(target) = self.applying.as_mut() {
            if let Err(e) = target.sink.delete(t.addr, deposed) {
                self.state_error(t.addr, &e);
                return None;
            }
        }
        self.emit(E::Destroyed {
            addr: name,
            elapsed: started.elapsed(),
        });
        Some(())
    }

    fn put(&mut self, t: &ApplyStep<'_>, value: &Value, deposed: Option<&str>) -> Option<()> {
        let Some(target) = self.applying.as_mut() else {
            return Some(());
        };
        if let Err(e) = target.sink.put(&t.state_object(value, deposed)) {
            self.state_error(t.addr, &e);
            return None;
        }
        Some(())
    }

    /// A provider's diagnostics about `addr`, placed as Terraform places
    /// them: those without a location point at the resource's block, and
    /// all name the instance (`with module.a.konnect_mesh.m,`).
    fn at_resource(&self, diags: Diagnostics, addr: &ResourceInstance) -> Vec<Diagnostic> {
        let path = addr.module.call_names();
        let config = self
            .root
            .descendant(&path)
            .and_then(|m| m.resources.get(&addr.resource.to_string()));
        diags
            .into_iter()
            .map(|mut d| {
                if d.subject.is_none() {
                    if let Some(r) = config {
                        d.subject = Some(r.decl_range.clone());
                        d.context = Some(r.block_label());
                    }
                }
                d.address.get_or_insert_with(|| addr.to_string());
                d
            })
            .collect()
    }

    fn state_error(&mut self, addr: &ResourceInstance, e: &str) {
        self.diags.push(Diagnostic::error(
            "Failed to save state",
            format!("The change to {addr} was made but could not be written to the state: {e}. Run `meshform state list` to check what the state holds."),
        ));
    }

    async fn plan_data(
        &mut self,
        path: &[String],
        r: &meshform_config::Resource,
        cp: &ConfiguredProvider,
        block: &Block,
        addr: &ResourceInstance,
        names: &InstanceNames,
    ) -> Value {
        let config = self.decode_config(path, r, block, names);
        let provider_addr = provider_source_address(&cp.source);
        let depends_pending = r.depends_on.iter().any(|d| {
            references(&d.expr).iter().any(|rf| {
                let res = Resource {
                    mode: ResourceMode::Managed,
                    ty: rf.root.clone(),
                    name: rf.first_attr().unwrap_or("").to_owned(),
                };
                self.pending.contains(&(path.to_vec(), res))
            })
        });
        if !config.is_wholly_known() || depends_pending {
            let planned = crate::objchange::planned_data_resource_object(block, &config);
            let mut c = change(
                addr,
                &provider_addr,
                Action::Read,
                Value::null(block.implied_type()),
                planned.clone(),
            );
            c.reason = if depends_pending {
                ActionReason::ReadBecauseDependencyPending
            } else {
                ActionReason::ReadBecauseConfigUnknown
            };
            self.changes.push(c);
            return planned;
        }
        let resp = cp
            .provider
            .read_data_source(ReadDataSourceRequest {
                type_name: r.ty.clone(),
                config: config.clone(),
            })
            .await;
        self.diags.extend(resp.diagnostics);
        resp.state
            .unwrap_or_else(|| Value::unknown(block.implied_type()))
    }

    fn create_before_destroy(&mut self, path: &[String], r: &meshform_config::Resource) -> bool {
        let Some(e) = &r.lifecycle.create_before_destroy else {
            return false;
        };
        let v = self.eval(path, e, &InstanceNames::default());
        v.as_bool().unwrap_or(false)
    }

    fn prevent_destroy(&mut self, path: &[String], r: &meshform_config::Resource) -> bool {
        let Some(e) = &r.lifecycle.prevent_destroy else {
            return false;
        };
        let v = self.eval(path, e, &InstanceNames::default());
        v.as_bool().unwrap_or(false)
    }

    /// `ignore_changes`: the listed attributes keep their prior values in
    /// the configuration the provider plans from (`all` ignores every one).
    fn apply_ignore_changes(
        &mut self,
        r: &meshform_config::Resource,
        prior: &Value,
        config: Value,
    ) -> Value {
        let Some(e) = &r.lifecycle.ignore_changes else {
            return config;
        };
        if prior.is_null() {
            return config;
        }
        let names: Vec<String> = match &e.expr {
            meshform_lang::hcl_edit::expr::Expression::Variable(v) if v.as_str() == "all" => {
                return prior.clone();
            }
            meshform_lang::hcl_edit::expr::Expression::Array(items) => items
                .iter()
                .filter_map(|i| {
                    references(i)
                        .first()
                        .map(|rf| rf.root.clone())
                        .or_else(|| match i {
                            meshform_lang::hcl_edit::expr::Expression::String(s) => {
                                Some(s.value().to_string())
                            }
                            _ => None,
                        })
                })
                .collect(),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        "Invalid ignore_changes",
                        "ignore_changes must be a list of attribute names, or the keyword all.",
                    )
                    .with_subject(e.range()),
                );
                return config;
            }
        };
        let (Some(cfg), Some(pr)) = (config.as_entries().cloned(), prior.as_entries()) else {
            return config;
        };
        let mut cfg = cfg;
        if let Data::Object(m) = config.data() {
            cfg = m.clone();
        }
        let prior_attrs = match prior.data() {
            Data::Object(m) => m,
            _ => pr,
        };
        for n in names {
            if let Some(pv) = prior_attrs.get(&n) {
                cfg.insert(n, pv.clone());
            }
        }
        Value::object(cfg)
    }

    /// State objects that the configuration no longer declares: planned
    /// for deletion, and deleted when applying (dependents first).
    async fn orphans(&mut self) {
        let mut orphans: Vec<(ResourceInstance, Option<String>, crate::prior::PriorObject)> = self
            .prior
            .objects
            .iter()
            .filter(|(a, _)| {
                !self.planned_instances.contains(*a) && a.resource.mode == ResourceMode::Managed
            })
            .map(|(a, o)| (a.clone(), None, o.clone()))
            .collect();
        orphans.extend(
            self.prior
                .deposed
                .iter()
                .map(|((a, k), o)| (a.clone(), Some(k.clone()), o.clone())),
        );
        let mut jobs = Vec::new();
        let mut job_dependencies = Vec::new();
        for (addr, deposed, obj) in orphans {
            let source = source_of_provider_reference(&obj.provider);
            let ty = obj.value.ty();
            let mut c = change(
                &addr,
                &source,
                Action::Delete,
                obj.value.clone(),
                Value::null(ty),
            );
            if deposed.is_none() {
                c.reason = ActionReason::DeleteBecauseNoResourceConfig;
            }
            c.deposed = deposed.clone();
            self.changes.push(c);
            if self.applying.is_none() {
                continue;
            }
            let Some(cp) = self.provider_by_source(&source) else {
                continue;
            };
            let Some(schema) = cp.schema.resources.get(&addr.resource.ty).cloned() else {
                continue;
            };
            job_dependencies.push(obj.dependencies.clone());
            jobs.push(ApplyJob::deletion(
                addr,
                cp,
                schema.block.clone(),
                obj.provider.clone(),
                obj.private.map(String::into_bytes).unwrap_or_default(),
                obj.value,
                deposed,
            ));
        }
        // Each orphan waits for the deletion of the orphans that depend on it.
        let mut by_resource: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            by_resource
                .entry(job.addr.abs_resource().to_string())
                .or_default()
                .push(i);
        }
        for (i, deps) in job_dependencies.iter().enumerate() {
            for d in deps {
                for &x in by_resource.get(d).into_iter().flatten() {
                    if x != i {
                        jobs[x].waits.push(i);
                    }
                }
            }
        }
        self.run_jobs(jobs).await;
    }

    /// A configured provider for a source address, configuring a default
    /// one when no resource in the configuration uses it any more.
    fn provider_by_source(&mut self, source: &str) -> Option<ConfiguredProvider> {
        let want = provider_source_address(source);
        if let Some(cp) = self
            .providers
            .values()
            .find(|cp| provider_source_address(&cp.source) == want)
        {
            return Some(cp.clone());
        }
        let factory = self.registry.get(&want)?.clone();
        let schema = factory.schema();
        let req = ConfigureRequest {
            config: crate::decode::empty_value(&schema.provider.block),
            offline: self.opts.offline,
            clock: self.opts.clock.clone(),
            env: self.opts.env.clone(),
            parallelism: self.opts.parallelism,
        };
        match factory.configure(req) {
            Ok(provider) => Some(ConfiguredProvider {
                source: factory.source().to_owned(),
                address: provider_address(factory.source(), None),
                factory,
                schema,
                provider,
            }),
            Err(d) => {
                self.diags.extend(d);
                None
            }
        }
    }

    fn output_changes(&mut self) -> BTreeMap<String, OutputChange> {
        let mut out = BTreeMap::new();
        let current = self
            .scopes
            .get(&Vec::new())
            .map(|s| s.outputs.clone())
            .unwrap_or_default();
        for (name, o) in &self.root.outputs {
            let after = current
                .get(name)
                .cloned()
                .unwrap_or_else(|| Value::unknown(Type::Dynamic));
            let before = self.prior.outputs.get(name).map(|(v, _)| v.clone());
            let destroy = self.opts.mode == PlanMode::Destroy;
            let (action, before, after) = match (before, destroy) {
                (Some(b), true) => (Action::Delete, b, Value::null(Type::Dynamic)),
                (None, true) => continue,
                // A null output is not stored, so a null one stays a no-op.
                (None, false) if after.is_null() => {
                    (Action::NoOp, Value::null(Type::Dynamic), after)
                }
                (None, false) => (Action::Create, Value::null(Type::Dynamic), after),
                (Some(b), false) if after.is_null() => (Action::Delete, b, after),
                (Some(b), false) => {
                    if after.is_wholly_known()
                        && crate::objchange::values_equal_ignoring_marks(&b, &after)
                    {
                        (Action::NoOp, b, after)
                    } else {
                        (Action::Update, b, after)
                    }
                }
            };
            out.insert(
                name.clone(),
                OutputChange {
                    name: name.clone(),
                    action,
                    before,
                    after,
                    sensitive: o.sensitive,
                },
            );
        }
        for (name, (before, sensitive)) in &self.prior.outputs {
            if !self.root.outputs.contains_key(name) {
                out.insert(
                    name.clone(),
                    OutputChange {
                        name: name.clone(),
                        action: Action::Delete,
                        before: before.clone(),
                        after: Value::null(Type::Dynamic),
                        sensitive: *sensitive,
                    },
                );
            }
        }
        out
    }
}

/// A create or update planned during the walk, run later together with
/// its independent siblings.
struct ApplyJob {
    node: Option<petgraph::graph::NodeIndex>,
    path: Vec<String>,
    addr: ResourceInstance,
    cp: ConfiguredProvider,
    block: Block,
    type_name: String,
    provider_ref: String,
    config: Value,
    private: Vec<u8>,
    dependencies: Vec<String>,
    create_before_destroy: bool,
    action: Action,
    prior: Value,
    planned: Value,
    /// The deposed object a deletion is for.
    deposed: Option<String>,
    /// Jobs of the same run (by index) that must succeed before this one.
    waits: Vec<usize>,
}

impl ApplyJob {
    fn step(&self) -> ApplyStep<'_> {
        ApplyStep {
            addr: &self.addr,
            cp: &self.cp,
            block: &self.block,
            type_name: &self.type_name,
            provider_ref: self.provider_ref.clone(),
            config: &self.config,
            private: &self.private,
            dependencies: self.dependencies.clone(),
            create_before_destroy: self.create_before_destroy,
        }
    }

    /// The deletion of `prior` (a deposed object when `deposed` is set).
    fn deletion(
        addr: ResourceInstance,
        cp: ConfiguredProvider,
        block: Block,
        provider_ref: String,
        private: Vec<u8>,
        prior: Value,
        deposed: Option<String>,
    ) -> ApplyJob {
        let null = Value::null(block.implied_type());
        ApplyJob {
            node: None,
            path: addr.module.call_names(),
            type_name: addr.resource.ty.clone(),
            addr,
            cp,
            block,
            provider_ref,
            config: null.clone(),
            private,
            dependencies: Vec::new(),
            create_before_destroy: false,
            action: Action::Delete,
            prior,
            planned: null,
            deposed,
            waits: Vec::new(),
        }
    }

    /// The address as progress lines print it.
    fn display_name(&self) -> String {
        match &self.deposed {
            Some(k) => format!("{} (deposed object {k})", self.addr),
            None => self.addr.to_string(),
        }
    }
}

/// What applying one instance needs to know.
struct ApplyStep<'a> {
    addr: &'a ResourceInstance,
    cp: &'a ConfiguredProvider,
    block: &'a Block,
    type_name: &'a str,
    provider_ref: String,
    config: &'a Value,
    private: &'a [u8],
    dependencies: Vec<String>,
    create_before_destroy: bool,
}

impl<'a> ApplyStep<'a> {
    /// The state record of `value` as this step's object (or of its
    /// deposed object `deposed`).
    fn state_object(
        &self,
        value: &'a Value,
        deposed: Option<&'a str>,
    ) -> crate::sink::StateObject<'a> {
        crate::sink::StateObject {
            addr: self.addr,
            deposed,
            provider: self.provider_ref.clone(),
            schema_version: 0,
            block: self.block,
            value,
            private: None,
            dependencies: self.dependencies.clone(),
            create_before_destroy: self.create_before_destroy,
        }
    }
}

#[derive(Clone, Copy)]
enum Repetition {
    Single,
    Count,
    ForEach,
}

fn step_attr(r: &meshform_lang::Reference, i: usize) -> Option<String> {
    match r.steps.get(i)? {
        meshform_lang::RefStep::Attr(a) | meshform_lang::RefStep::Key(a) => Some(a.clone()),
        meshform_lang::RefStep::Index(_) => None,
    }
}

fn change(
    addr: &ResourceInstance,
    provider: &str,
    action: Action,
    before: Value,
    after: Value,
) -> ResourceInstanceChange {
    ResourceInstanceChange {
        addr: addr.clone(),
        prev_run_addr: None,
        deposed: None,
        provider: provider.to_owned(),
        action,
        reason: ActionReason::None,
        before,
        after,
        required_replace: Vec::new(),
        importing: None,
    }
}

/// Every expression in a block body, nested blocks included.
fn collect_exprs(c: &meshform_config::Content) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = c.attrs.values().map(|a| &a.expr).collect();
    for b in &c.blocks {
        out.extend(collect_exprs(&b.body));
    }
    out
}

/// A name's value so far, or unknown when it has none yet (it failed, or
/// its module was skipped).
fn known_or_unknown<K: Ord + std::borrow::Borrow<str>>(
    values: &BTreeMap<K, Value>,
    name: &str,
) -> Value {
    values
        .get(name)
        .cloned()
        .unwrap_or_else(|| Value::unknown(Type::Dynamic))
}

/// The value at `path` inside `v`, if there is one.
fn value_at<'v>(v: &'v Value, path: &[meshform_lang::PathStep]) -> Option<&'v Value> {
    let mut cur = v;
    for step in path {
        cur = match (step, cur.data()) {
            (meshform_lang::PathStep::Attr(a), Data::Object(m)) => m.get(a)?,
            (meshform_lang::PathStep::Key(k), Data::Map(_, m)) => m.get(k)?,
            (meshform_lang::PathStep::Index(i), Data::List(_, items) | Data::Tuple(items)) => {
                items.get(*i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}
