//! Plans of Terraform's own conformance scenarios (`conformance/plans`,
//! made by Terraform 1.0.3 with a fake provider known here only by its
//! schema): meshform must print the same plan, byte for byte, from the
//! first line after the refresh progress up to the closing rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshform_config::variables::collect_values;
use meshform_engine::plan::PlanMode;
use meshform_engine::planner::{plan, PlanOptions};
use meshform_engine::prior::{from_snapshot, PriorState};
use meshform_engine::render::{render_plan, Footer, Product, RenderOptions};
use meshform_lang::schema::{RequiresReplace, Schemas};
use meshform_lang::Value;
use meshform_lang::{FixedClock, MemoryFiles};
use meshform_providers::provider::*;
use meshform_providers::schema_only::SchemaOnlyFactory;
use meshform_providers::ProviderRegistry;

/// The fake provider's behaviour that its schema JSON cannot say, from
/// the conformance README: `zone` forces replacement, `id` is kept.
fn fake_schemas(dir: &Path) -> Schemas {
    let text = std::fs::read_to_string(dir.join("schema.json")).unwrap();
    let mut schemas = Schemas::from_json(&text).unwrap();
    for p in schemas.providers.values_mut() {
        if let Some(thing) = p.resources.get_mut("fake_thing") {
            if let Some(zone) = thing.block.attributes.get_mut("zone") {
                zone.plan.requires_replace = Some(RequiresReplace::Always);
            }
            if let Some(id) = thing.block.attributes.get_mut("id") {
                id.plan.use_state_for_unknown = true;
            }
        }
    }
    schemas
}

/// The part of a plan the comparison covers.
fn compared(text: &str) -> Option<String> {
    let starts = [
        "Terraform used the selected providers",
        "No changes.",
        "Changes to Outputs:",
        "Note: Objects have changed outside of Terraform",
    ];
    let start = text
        .lines()
        .position(|l| starts.iter().any(|s| l.contains(s)))?;
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .rposition(|l| l.starts_with('─'))
        .unwrap_or(lines.len() - 1);
    Some(lines[start..=end].join("\n"))
}

fn step_files(scenario: &Path, n: usize, work: &Path) {
    std::fs::copy(
        scenario.join(format!("step{n}.main.tf")),
        work.join("main.tf"),
    )
    .unwrap();
    // Steps run in one directory: earlier steps' files stay.
    for k in 1..=n {
        let files = scenario.join(format!("step{k}.files"));
        if files.is_dir() {
            copy_dir(&files, work);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Loads every file below `dir` into memory, for `file()`/`templatefile()`.
fn files_of(dir: &Path) -> MemoryFiles {
    let mut files = MemoryFiles::new();
    fn walk(base: &Path, dir: &Path, files: &mut MemoryFiles) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, files);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                files.insert(&rel, std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut files);
    files
}

/// The state a step plans against: the newest state written before it.
fn prior_state_file(scenario: &Path, n: usize) -> Option<PathBuf> {
    (1..n)
        .rev()
        .map(|k| scenario.join(format!("step{k}.tfstate.json")))
        .find(|p| p.is_file())
        .or_else(|| Some(scenario.join("start.tfstate.json")).filter(|p| p.is_file()))
}

/// The fake provider of the conformance scenarios: planning from its
/// schema, plus its one data source `fake_echo` (`result = upper(input)`).
struct FakeFactory(SchemaOnlyFactory);

struct FakeProvider(Arc<dyn Provider>);

impl ProviderFactory for FakeFactory {
    fn source(&self) -> &str {
        self.0.source()
    }
    fn version(&self) -> &str {
        self.0.version()
    }
    fn schema(&self) -> Arc<meshform_lang::schema::ProviderSchema> {
        self.0.schema()
    }
    fn can_apply(&self) -> bool {
        false
    }
    fn configure(
        &self,
        req: ConfigureRequest,
    ) -> Result<Arc<dyn Provider>, meshform_lang::Diagnostics> {
        Ok(Arc::new(FakeProvider(self.0.configure(req)?)))
    }
}

#[async_trait::async_trait]
impl Provider for FakeProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        self.0.plan_resource_change(req).await
    }
    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        self.0.apply_resource_change(req).await
    }
    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        self.0.read_resource(req).await
    }
    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        self.0.import_resource_state(req).await
    }
    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        if req.type_name != "fake_echo" {
            return self.0.read_data_source(req).await;
        }
        let input = req
            .config
            .get_attr("input")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_uppercase();
        let mut attrs = req.config.as_entries().cloned().unwrap_or_default();
        if let meshform_lang::Data::Object(m) = req.config.data() {
            attrs = m.clone();
        }
        attrs.insert("result".into(), Value::string(input));
        ReadDataSourceResponse {
            state: Some(Value::object(attrs)),
            diagnostics: Default::default(),
        }
    }
}

fn plan_step(scenario: &Path, n: usize, schemas: &Schemas) -> String {
    let work = tempfile::tempdir().unwrap();
    step_files(scenario, n, work.path());
    let (module, diags) = meshform_config::load_module(work.path());
    assert!(
        !diags.has_errors(),
        "{}: {:#?}",
        scenario.display(),
        diags.0
    );
    let mut registry = ProviderRegistry::new();
    for (source, p) in &schemas.providers {
        registry.register(Arc::new(FakeFactory(SchemaOnlyFactory::new(
            source,
            p.clone(),
        ))));
    }
    let prior = match prior_state_file(scenario, n) {
        Some(f) => {
            let snapshot =
                meshform_state::tfstate::parse_tfstate(&std::fs::read_to_string(f).unwrap())
                    .unwrap();
            let (prior, d) = from_snapshot(&snapshot, &|provider, ty, mode| {
                let p = schemas.provider(&meshform_providers::provider::normalize_source(
                    provider
                        .trim_start_matches("provider[\"")
                        .trim_end_matches("\"]"),
                ))?;
                let s = match mode {
                    meshform_lang::addr::ResourceMode::Managed => p.resources.get(ty),
                    meshform_lang::addr::ResourceMode::Data => p.data_sources.get(ty),
                }?;
                Some(s.block.clone())
            });
            assert!(!d.has_errors(), "{:#?}", d.0);
            prior
        }
        None => PriorState::default(),
    };
    let env: Vec<(String, String)> = Vec::new();
    let (raw, d) = collect_values(&module, &env, &[]);
    assert!(!d.has_errors(), "{:#?}", d.0);
    let (variables, d) = meshform_engine::variables::resolve(&module, &raw, true);
    assert!(!d.has_errors(), "{:#?}", d.0);
    let opts = PlanOptions {
        mode: PlanMode::Normal,
        refresh: true,
        offline: true,
        targets: Vec::new(),
        replace: Vec::new(),
        variables,
        clock: Arc::new(FixedClock(chrono::Utc::now())),
        files: Arc::new(files_of(work.path())),
        root_dir: work.path().to_path_buf(),
        workspace: "default".into(),
        env: BTreeMap::new(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (p, diags) = rt.block_on(plan(&module, &prior, &registry, &opts));
    assert!(
        !diags.has_errors(),
        "{} step {n}: {:#?}",
        scenario.display(),
        diags.0
    );
    let ro = RenderOptions {
        color: false,
        columns: 78,
        product: Product::terraform(),
        footer: Footer::SavedTo("tfplan".into()),
    };
    render_plan(&p, schemas, &ro)
}

#[test]
fn conformance_plans_render_as_terraform_does() {
    let Some(root) = meshform_testkit::shared_path("conformance/plans") else {
        return;
    };
    let schemas = fake_schemas(&root);
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    let mut failures = Vec::new();
    let mut passed = 0;
    for scenario in &scenarios {
        for n in 1.. {
            let golden = scenario.join(format!("step{n}.plan.txt"));
            if !golden.is_file() {
                break;
            }
            let expected = std::fs::read_to_string(&golden).unwrap();
            let name = format!(
                "{}/step{n}",
                scenario.file_name().unwrap().to_string_lossy()
            );
            let got = std::panic::catch_unwind(|| plan_step(scenario, n, &schemas));
            match got {
                Ok(got) if compared(&got) == compared(&expected) => passed += 1,
                Ok(got) => failures.push(format!(
                    "=== {name}: expected\n{}\n--- got\n{}\n",
                    compared(&expected).unwrap_or_default(),
                    compared(&got).unwrap_or(got)
                )),
                Err(e) => failures.push(format!(
                    "=== {name}: failed: {}",
                    e.downcast_ref::<String>().cloned().unwrap_or_default()
                )),
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "{passed} steps match; {} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
