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

/// The prior state of step `n`, decoded with the schemas of the providers
/// its objects name (empty before the first step that saved a state).
fn prior_state(scenario: &Path, n: usize, schemas: &Schemas) -> PriorState {
    let Some(file) = prior_state_file(scenario, n) else {
        return PriorState::default();
    };
    let text = std::fs::read_to_string(&file).unwrap();
    let snapshot = meshform_state::tfstate::parse_tfstate(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let (prior, d) = from_snapshot(&snapshot, schemas);
    assert!(!d.has_errors(), "{}: {:#?}", file.display(), d.0);
    prior
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
    let prior = prior_state(scenario, n, schemas);
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
        provider_overrides: BTreeMap::new(),
        parallelism: 10,
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
    let json_problems = compare_json(scenario, n, &p, schemas);
    assert!(
        json_problems.is_empty(),
        "{} step {n}: show -json differs:\n{}",
        scenario.display(),
        json_problems.join("\n")
    );
    render_plan(&p, schemas, &ro)
}

/// `show -json` of our plan against Terraform's `stepN.plan.json`: the
/// resource changes (address, actions, before, after, after_unknown,
/// replace_paths) and output changes must be the same.
fn compare_json(
    scenario: &Path,
    n: usize,
    p: &meshform_engine::plan::Plan,
    schemas: &Schemas,
) -> Vec<String> {
    let golden_file = scenario.join(format!("step{n}.plan.json"));
    let Ok(text) = std::fs::read_to_string(&golden_file) else {
        return Vec::new();
    };
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ours = meshform_engine::plan_json::plan_to_json(p, schemas, "1.0.3");
    let mut problems = Vec::new();
    let by_addr = |doc: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        doc["resource_changes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|rc| (rc["address"].as_str().unwrap_or("").to_owned(), rc.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (g, o) = (by_addr(&golden), by_addr(&ours));
    if g.keys().collect::<Vec<_>>() != o.keys().collect::<Vec<_>>() {
        problems.push(format!(
            "addresses: golden {:?}, ours {:?}",
            g.keys().collect::<Vec<_>>(),
            o.keys().collect::<Vec<_>>()
        ));
        return problems;
    }
    for (addr, grc) in &g {
        let orc = &o[addr];
        for field in [
            "actions",
            "before",
            "after",
            "after_unknown",
            "replace_paths",
        ] {
            let (gv, ov) = (&grc["change"][field], &orc["change"][field]);
            let norm = |v: &serde_json::Value| {
                if v.is_null() {
                    serde_json::json!(null)
                } else {
                    v.clone()
                }
            };
            if !json_equal(&norm(gv), &norm(ov)) {
                problems.push(format!("{addr} {field}: golden {gv}, ours {ov}"));
            }
        }
    }
    let outs = |doc: &serde_json::Value| doc["output_changes"].clone();
    let (go, oo) = (outs(&golden), outs(&ours));
    if let (Some(gm), Some(om)) = (go.as_object(), oo.as_object()) {
        for (name, gc) in gm {
            let Some(oc) = om.get(name) else {
                problems.push(format!("output {name} missing"));
                continue;
            };
            for field in ["actions", "before", "after", "after_unknown"] {
                if !json_equal(&gc[field], &oc[field]) {
                    problems.push(format!(
                        "output {name} {field}: golden {}, ours {}",
                        gc[field], oc[field]
                    ));
                }
            }
        }
    }
    problems
}

/// JSON equality with numbers compared as numbers (Terraform prints
/// float64; we may print more digits) and `replace_paths` order ignored.
fn json_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x == y || ((x - y) / x.abs().max(1e-300)).abs() < 1e-12
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
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

/// The guide goldens' two sanctioned differences, applied to both sides:
/// nested attributes print no `= null` members (Terraform 1.3+), and the
/// access token is sensitive; then runs of spaces before ` = ` collapse.
fn normalize_guide(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let t = t
            .strip_prefix(['+', '~', '-'])
            .map(str::trim_start)
            .unwrap_or(t);
        if let Some((name, value)) = t.split_once(" = ") {
            let name = name.trim_end();
            if value.trim() == "null"
                && !name.contains(' ')
                && !name.is_empty()
                && !line.contains("->")
            {
                continue;
            }
        }
        let mut l = line.to_owned();
        if let Some(i) = l.find("\"spat_") {
            let end = l[i + 1..]
                .find('"')
                .map(|j| i + 1 + j + 1)
                .unwrap_or(l.len());
            // What followed the token is what a sensitive value prints
            // without: the arrow to its unknown or null successor.
            let rest = l[end..]
                .replacen(" -> (known after apply)", "", 1)
                .replacen(" -> null", "", 1);
            l = format!("{}(sensitive value){}", &l[..i], rest);
        }
        // The token is sensitive here, so an unknown one prints as
        // (sensitive value) too.
        if l.trim_start().starts_with("+ token ") && l.ends_with("= (known after apply)") {
            l = l.replace("(known after apply)", "(sensitive value)");
        }
        // Collapse the alignment padding before " = ".
        while l.contains("  = ") {
            l = l.replace("  = ", " = ");
        }
        out.push(l);
    }
    out.join("\n")
}

fn guide_registry(root: &Path) -> (ProviderRegistry, Schemas) {
    use meshform_providers::konnect::{KonnectFactory, KonnectTables};
    use meshform_providers::kuma::PolicyTables;
    use meshform_providers::time::provider::TimeFactory;
    let _ = root;
    let mut registry = ProviderRegistry::new();
    registry.register(Arc::new(
        meshform_providers::kubernetes::KubernetesFactory::new(),
    ));
    registry.register(Arc::new(
        meshform_providers::helm_release::HelmFactory::new(),
    ));
    let tables = Arc::new(KonnectTables::load().unwrap());
    let policies = Arc::new(PolicyTables::load().unwrap());
    registry.register(Arc::new(KonnectFactory::beta(
        tables.clone(),
        policies.clone(),
    )));
    registry.register(Arc::new(KonnectFactory::ga(tables, policies)));
    registry.register(Arc::new(TimeFactory::new()));
    let mut schemas = Schemas {
        format_version: "1.0".into(),
        providers: BTreeMap::new(),
    };
    for (source, f) in registry.iter() {
        schemas.providers.insert(
            format!(
                "registry.terraform.io/{}",
                meshform_providers::provider::normalize_source(source)
            ),
            (*f.schema()).clone(),
        );
    }
    (registry, schemas)
}

/// The `now` and destroy flag of step `n`'s plan command.
fn plan_command(scenario: &Path, n: usize) -> (chrono::DateTime<chrono::Utc>, bool) {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("steps.json")).unwrap())
            .unwrap();
    let step = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == n)
        .unwrap();
    let cmd = step["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["argv"].as_array().unwrap().iter().any(|a| a == "plan"))
        .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(cmd["now"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let destroy = cmd["argv"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "-destroy");
    (now, destroy)
}

fn guide_plan_step(root: &Path, scenario: &Path, n: usize) -> (String, meshform_lang::Diagnostics) {
    let work = tempfile::tempdir().unwrap();
    if scenario.join("start.files").is_dir() {
        copy_dir(&scenario.join("start.files"), work.path());
    }
    step_files(scenario, n, work.path());
    let (module, diags) = meshform_config::load_module(work.path());
    assert!(!diags.has_errors(), "{:#?}", diags.0);
    let (registry, schemas) = guide_registry(root);
    let prior = prior_state(scenario, n, &schemas);
    let (now, destroy) = plan_command(scenario, n);
    let env = vec![(
        "TF_VAR_konnect_personal_access_token".to_owned(),
        "kpat_FAKE".to_owned(),
    )];
    let (raw, _) = collect_values(&module, &env, &[]);
    let (variables, _) = meshform_engine::variables::resolve(&module, &raw, true);
    let opts = PlanOptions {
        mode: if destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        refresh: true,
        offline: true,
        targets: Vec::new(),
        replace: Vec::new(),
        variables,
        clock: Arc::new(FixedClock(now)),
        files: Arc::new(files_of(work.path())),
        root_dir: work.path().to_path_buf(),
        workspace: "default".into(),
        env: BTreeMap::new(),
        provider_overrides: BTreeMap::new(),
        parallelism: 10,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (p, diags) = rt.block_on(plan(&module, &prior, &registry, &opts));
    let ro = RenderOptions {
        color: false,
        columns: 78,
        product: Product::terraform(),
        footer: Footer::SavedTo("tfplan".into()),
    };
    let mut diags = diags;
    if !diags.has_errors() {
        for problem in compare_json(scenario, n, &p, &schemas) {
            diags.push(meshform_lang::Diagnostic::error(
                "show -json differs",
                problem,
            ));
        }
    }
    (render_plan(&p, &schemas, &ro), diags)
}

#[test]
fn guide_plans_render_as_terraform_does() {
    let Some(root) = meshform_testkit::shared_path("conformance/guide-plans") else {
        return;
    };
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.join("steps.json").is_file())
        .collect();
    scenarios.sort();
    let mut failures = Vec::new();
    let mut passed = 0;
    for scenario in &scenarios {
        for n in 1.. {
            let text = scenario.join(format!("step{n}.plan.txt"));
            let stderr = scenario.join(format!("step{n}.plan.stderr.txt"));
            if !text.is_file() && !stderr.is_file() {
                break;
            }
            let name = format!(
                "{}/step{n}",
                scenario.file_name().unwrap().to_string_lossy()
            );
            let got = std::panic::catch_unwind(|| guide_plan_step(&root, scenario, n));
            let (got, diags) = match got {
                Ok(x) => x,
                Err(e) => {
                    failures.push(format!(
                        "=== {name}: failed: {}",
                        e.downcast_ref::<String>().cloned().unwrap_or_default()
                    ));
                    continue;
                }
            };
            if stderr.is_file() {
                // Every error summary and location of the golden must appear.
                let golden = std::fs::read_to_string(&stderr).unwrap();
                let ok = golden
                    .lines()
                    .filter(|l| l.starts_with("Error: "))
                    .all(|l| diags.iter().any(|d| format!("Error: {}", d.summary) == l))
                    && golden
                        .lines()
                        .filter(|l| l.trim_start().starts_with("on "))
                        .all(|l| {
                            let line_no: String = l
                                .split(" line ")
                                .nth(1)
                                .unwrap_or("")
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect();
                            diags.iter().any(|d| {
                                d.subject
                                    .as_ref()
                                    .is_some_and(|s| s.start.line.to_string() == line_no)
                            })
                        });
                if ok {
                    passed += 1;
                } else {
                    failures.push(format!("=== {name}: errors differ: {:#?}", diags.0));
                }
                continue;
            }
            if diags.has_errors() {
                failures.push(format!("=== {name}: {:#?}", diags.0));
                continue;
            }
            let expected = std::fs::read_to_string(&text).unwrap();
            let (e, g) = (
                compared(&expected).map(|t| normalize_guide(&t)),
                compared(&got).map(|t| normalize_guide(&t)),
            );
            if e == g {
                passed += 1;
            } else {
                failures.push(format!(
                    "=== {name}: expected\n{}\n--- got\n{}\n",
                    e.unwrap_or_default(),
                    g.unwrap_or(got)
                ));
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "{passed} guide steps match; {} differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
