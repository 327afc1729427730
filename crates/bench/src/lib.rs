//! Benchmarks of meshform at scale: the workload generators, and in-process
//! runners for offline plans, applies against the sandbox Konnect server,
//! and state commits, shared by the criterion benches in `benches/` and by
//! the `meshform-bench` binary that `scripts/bench.sh` drives.
//!
//! Key items: [`generate`] writes the workload configurations (as Terraform
//! source, so Terraform can plan the provider-free ones too), [`Workspace`]
//! is one configuration directory with its state database, and
//! [`commit_objects`] measures the cost of committing one object at a time.
//!
//! It measures; it asserts nothing about time, and no test of the workspace
//! depends on it. It builds the same provider registry as the `meshform`
//! binary but knows nothing of the binary's flags or output.

pub mod generate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use meshform_config::{load_module, Module};
use meshform_engine::plan::{Action, Plan, PlanMode};
use meshform_engine::planner::{self, ApplyTarget, PlanOptions};
use meshform_engine::prior::{from_snapshot, PriorState};
use meshform_lang::schema::Schemas;
use meshform_lang::{FixedClock, NoFiles};
use meshform_providers::konnect::provider::KonnectFactory;
use meshform_providers::konnect::tables::KonnectTables;
use meshform_providers::kuma::PolicyTables;
use meshform_providers::provider::normalize_source;
use meshform_providers::time::provider::TimeFactory;
use meshform_providers::ProviderRegistry;
use meshform_sandbox::{FaultConfig, Sandbox, SandboxConfig};
use meshform_state::{
    Change, ExactJson, InstanceAddr, Mode, OpenOptions, ResourceInstance, StateStore,
};

/// The workload sizes a criterion bench runs: `all`, without those above
/// `MESHFORM_BENCH_MAX_N` when it is set (a quick pass on a slow machine).
pub fn sizes(all: &[usize]) -> Vec<usize> {
    let max = std::env::var("MESHFORM_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    all.iter().copied().filter(|&n| n <= max).collect()
}

/// The providers the `meshform` binary registers natively.
pub fn registry() -> anyhow::Result<ProviderRegistry> {
    let mut registry = ProviderRegistry::new();
    let tables = Arc::new(KonnectTables::load().context("loading the Konnect tables")?);
    let policies = Arc::new(PolicyTables::load().context("loading the Kuma policy tables")?);
    registry.register(Arc::new(KonnectFactory::beta(
        tables.clone(),
        policies.clone(),
    )));
    registry.register(Arc::new(KonnectFactory::ga(tables, policies)));
    registry.register(Arc::new(TimeFactory::new()));
    Ok(registry)
}

/// Every registered provider's schema, keyed as plan rendering and the
/// prior state expect.
fn schemas(registry: &ProviderRegistry) -> Schemas {
    let mut s = Schemas {
        format_version: "1.0".into(),
        providers: BTreeMap::new(),
    };
    for (source, f) in registry.iter() {
        s.providers.insert(
            format!("registry.terraform.io/{}", normalize_source(source)),
            (*f.schema()).clone(),
        );
    }
    s
}

/// How a run reaches providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `plan -offline`: no network, no refresh.
    Offline,
    /// Talk to the configured servers, refreshing first.
    Online,
}

/// Counts of planned actions, to check that a run did what was meant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub no_op: usize,
    pub other: usize,
}

impl ActionCounts {
    pub fn of(plan: &Plan) -> ActionCounts {
        let mut c = ActionCounts::default();
        for change in &plan.changes {
            match change.action {
                Action::Create => c.create += 1,
                Action::Update => c.update += 1,
                Action::Delete => c.delete += 1,
                Action::NoOp => c.no_op += 1,
                _ => c.other += 1,
            }
        }
        c
    }
}

/// One configuration directory and the state database beside it.
pub struct Workspace {
    pub dir: PathBuf,
    pub state_path: PathBuf,
    registry: ProviderRegistry,
    schemas: Schemas,
    runtime: tokio::runtime::Runtime,
}

impl Workspace {
    /// A workspace over `dir` (its `main.tf` already written), with state in
    /// `dir/.meshform/state.db` as the binary keeps it.
    pub fn open(dir: &Path) -> anyhow::Result<Workspace> {
        let registry = registry()?;
        let schemas = schemas(&registry);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(Workspace {
            dir: dir.to_path_buf(),
            state_path: dir.join(meshform_state::DEFAULT_STATE_PATH),
            registry,
            schemas,
            runtime,
        })
    }

    /// Loads the configuration; errors in it fail the benchmark.
    pub fn load(&self) -> anyhow::Result<Module> {
        let (module, diags) = load_module(&self.dir);
        if diags.has_errors() {
            bail!(
                "the configuration in {} has errors: {:?}",
                self.dir.display(),
                diags
            );
        }
        Ok(module)
    }

    fn store(&self, command: &str) -> anyhow::Result<StateStore> {
        if let Some(parent) = self.state_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        StateStore::open(&self.state_path, OpenOptions::new(command))
            .with_context(|| format!("opening {}", self.state_path.display()))
    }

    /// The prior state, empty when no database exists yet.
    pub fn prior(&self) -> anyhow::Result<PriorState> {
        if !self.state_path.exists() {
            return Ok(PriorState::default());
        }
        let store = self.store("plan")?;
        let snapshot = store.snapshot().context("reading the state")?;
        let (prior, diags) = from_snapshot(&snapshot, &self.schemas);
        if diags.has_errors() {
            bail!("the state does not match the schemas: {diags:?}");
        }
        Ok(prior)
    }

    fn options(&self, reach: Reach, parallelism: usize) -> PlanOptions {
        PlanOptions {
            mode: PlanMode::Normal,
            refresh: reach == Reach::Online,
            offline: reach == Reach::Offline,
            targets: Vec::new(),
            replace: Vec::new(),
            variables: BTreeMap::new(),
            clock: Arc::new(FixedClock(chrono::Utc::now())),
            files: Arc::new(NoFiles),
            root_dir: self.dir.clone(),
            workspace: meshform_state::DEFAULT_WORKSPACE.to_owned(),
            env: BTreeMap::new(),
            provider_overrides: BTreeMap::new(),
            parallelism,
        }
    }

    /// Plans `module` against `prior`, as `meshform plan` does after loading.
    pub fn plan(
        &self,
        module: &Module,
        prior: &PriorState,
        reach: Reach,
    ) -> anyhow::Result<ActionCounts> {
        let opts = self.options(reach, 10);
        let (plan, diags) =
            self.runtime
                .block_on(planner::plan(module, prior, &self.registry, &opts));
        if diags.has_errors() {
            bail!("the plan failed: {diags:?}");
        }
        Ok(ActionCounts::of(&plan))
    }

    /// Loads, reads the state and plans: the whole of `meshform plan` but
    /// the rendering.
    pub fn load_and_plan(&self, reach: Reach) -> anyhow::Result<ActionCounts> {
        let module = self.load()?;
        let prior = self.prior()?;
        self.plan(&module, &prior, reach)
    }

    /// Applies the configuration against the servers it names, committing
    /// each object to the state database, as `meshform apply` does, with
    /// at most `parallelism` provider operations at once.
    pub fn apply(&self, parallelism: usize) -> anyhow::Result<ActionCounts> {
        let module = self.load()?;
        let prior = self.prior()?;
        let mut store = self.store("apply")?;
        let opts = self.options(Reach::Online, parallelism);
        let events = |_| {};
        let (plan, diags) = self.runtime.block_on(planner::apply(
            &module,
            &prior,
            &self.registry,
            &opts,
            ApplyTarget {
                sink: &mut store,
                events: &events,
                interrupted: None,
                destroy_first: Vec::new(),
            },
        ));
        if diags.has_errors() {
            bail!("the apply failed: {diags:?}");
        }
        Ok(ActionCounts::of(&plan))
    }
}

/// A sandbox Konnect server on loopback that answers every request after
/// `latency`, accepting the benchmark token.
pub fn start_sandbox(latency: Duration) -> anyhow::Result<Sandbox> {
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    Sandbox::start(SandboxConfig {
        accept_any_token: true,
        faults: FaultConfig {
            latency_ms,
            ..FaultConfig::default()
        },
        ..SandboxConfig::default()
    })
    .context("starting the sandbox")
}

/// Writes the traffic-permission workload of `n` policies into `dir`,
/// applies it once against a fresh sandbox without latency and returns the
/// number of objects now in state. The state then matches the
/// configuration exactly, so an offline plan of it has no changes.
pub fn seed_matching_state(dir: &Path, n: usize) -> anyhow::Result<usize> {
    let sandbox = start_sandbox(Duration::ZERO)?;
    generate::write_main_tf(
        dir,
        &generate::traffic_permissions(n, sandbox.konnect_url()),
    )?;
    let ws = Workspace::open(dir)?;
    let counts = ws.apply(10)?;
    sandbox.shutdown();
    Ok(counts.create)
}

/// What [`commit_objects`] measured.
#[derive(Debug, Clone, Copy)]
pub struct CommitCost {
    pub commits: usize,
    pub total: Duration,
    /// The slowest single commit.
    pub worst: Duration,
}

impl CommitCost {
    pub fn per_object(&self) -> Duration {
        self.total / u32::try_from(self.commits.max(1)).unwrap_or(u32::MAX)
    }
}

/// The attributes of one traffic permission as the Konnect provider
/// stores them (the shape does not change the cost much; its size does).
pub fn policy_attributes(i: usize) -> ExactJson {
    ExactJson::from_value(&serde_json::json!({
        "cp_id": "7b7a0cc0-5b0a-4d29-a1b7-3b1b1b1b1b1b",
        "creation_time": "2026-11-26T06:00:00Z",
        "labels": {"bench/index": i.to_string(), "kuma.io/mesh": "bench-mesh"},
        "mesh": "bench-mesh",
        "modification_time": "2026-11-26T06:00:00Z",
        "name": format!("allow-{i}"),
        "spec": {
            "from": [{"default": {"action": "Allow"}, "target_ref": {"kind": "Mesh"}}],
            "rules": null,
            "target_ref": null
        },
        "type": "MeshTrafficPermission",
        "warnings": []
    }))
}

/// Commits `n` objects to the state database at `path`, one commit each,
/// as an apply does, and times them.
pub fn commit_objects(path: &Path, n: usize) -> anyhow::Result<CommitCost> {
    let mut store = StateStore::open(path, OpenOptions::new("apply"))
        .with_context(|| format!("opening {}", path.display()))?;
    let provider = "provider[\"registry.terraform.io/kong/konnect-beta\"]";
    let mut worst = Duration::ZERO;
    let start = Instant::now();
    for i in 0..n {
        let addr = InstanceAddr {
            module: Vec::new(),
            mode: Mode::Managed,
            type_name: generate::POLICY_TYPE.to_owned(),
            name: format!("tp_{i}"),
            key: None,
        };
        let object = ResourceInstance::new(addr, provider, policy_attributes(i));
        let one = Instant::now();
        store
            .commit(vec![Change::Put(object)])
            .context("committing an object")?;
        worst = worst.max(one.elapsed());
    }
    Ok(CommitCost {
        commits: n,
        total: start.elapsed(),
        worst,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_objects_are_all_in_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let cost = commit_objects(&path, 5).unwrap();
        assert_eq!(cost.commits, 5);
        let store = StateStore::open(&path, OpenOptions::new("test")).unwrap();
        assert_eq!(store.list_objects().unwrap().len(), 5);
    }

    #[test]
    fn chained_locals_plan_offline_without_changes_to_resources() {
        let dir = tempfile::tempdir().unwrap();
        generate::write_main_tf(dir.path(), &generate::chained_locals(20, 5)).unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let counts = ws.load_and_plan(Reach::Offline).unwrap();
        assert_eq!(counts, ActionCounts::default());
    }

    #[test]
    fn seeded_state_matches_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let created = seed_matching_state(dir.path(), 3).unwrap();
        assert_eq!(created, 5);
        let ws = Workspace::open(dir.path()).unwrap();
        let counts = ws.load_and_plan(Reach::Offline).unwrap();
        assert_eq!(
            counts,
            ActionCounts {
                no_op: 5,
                ..ActionCounts::default()
            }
        );
    }
}
