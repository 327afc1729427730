//! `import` blocks (Terraform 1.5) planned and applied with the `time`
//! provider, whose `time_static` imports an RFC 3339 timestamp as its ID.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use meshform_engine::plan::{Action, Plan, PlanMode};
use meshform_engine::planner::{apply, plan, ApplyTarget, PlanOptions};
use meshform_engine::prior::{PriorObject, PriorState};
use meshform_engine::render::{render_plan, Footer, Product, RenderOptions};
use meshform_engine::sink::{ApplyEvent, StateObject, StateSink};
use meshform_lang::addr::ResourceInstance;
use meshform_lang::schema::Schemas;
use meshform_lang::{Diagnostics, FixedClock, NoFiles, Value};
use meshform_providers::time::provider::TimeFactory;
use meshform_providers::ProviderRegistry;

const ID: &str = "2024-01-02T03:04:05Z";

fn registry() -> (ProviderRegistry, Schemas) {
    let mut registry = ProviderRegistry::new();
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

fn options(dir: &Path, offline: bool) -> PlanOptions {
    PlanOptions {
        mode: PlanMode::Normal,
        refresh: true,
        offline,
        targets: Vec::new(),
        replace: Vec::new(),
        variables: BTreeMap::from([("stamp".to_owned(), Value::string(ID))]),
        clock: Arc::new(FixedClock(
            chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        )),
        files: Arc::new(NoFiles),
        root_dir: dir.to_path_buf(),
        workspace: "default".into(),
        env: BTreeMap::new(),
        provider_overrides: BTreeMap::new(),
        parallelism: 1,
    }
}

fn load(main_tf: &str) -> (tempfile::TempDir, meshform_config::Module) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), main_tf).unwrap();
    let (module, diags) = meshform_config::load_module(dir.path());
    assert!(!diags.has_errors(), "{:#?}", diags.0);
    (dir, module)
}

fn plan_of(main_tf: &str, prior: &PriorState, offline: bool) -> (Plan, Diagnostics) {
    let (dir, module) = load(main_tf);
    let (registry, _) = registry();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(plan(
        &module,
        prior,
        &registry,
        &options(dir.path(), offline),
    ))
}

fn rendered(p: &Plan) -> String {
    let (_, schemas) = registry();
    render_plan(
        p,
        &schemas,
        &RenderOptions {
            color: false,
            columns: 78,
            product: Product::meshform(),
            footer: Footer::None,
        },
    )
}

fn error_summaries(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

/// A state kept in memory: what the apply walk wrote.
#[derive(Default)]
struct MemorySink {
    objects: BTreeMap<ResourceInstance, (Value, String)>,
}

impl StateSink for MemorySink {
    fn put(&mut self, obj: &StateObject) -> Result<(), String> {
        self.objects
            .insert(obj.addr.clone(), (obj.value.clone(), obj.provider.clone()));
        Ok(())
    }
    fn delete(&mut self, addr: &ResourceInstance, _deposed: Option<&str>) -> Result<(), String> {
        self.objects.remove(addr);
        Ok(())
    }
    fn depose(&mut self, _addr: &ResourceInstance, _key: &str) -> Result<(), String> {
        Ok(())
    }
    fn move_object(
        &mut self,
        _from: &ResourceInstance,
        _to: &ResourceInstance,
    ) -> Result<(), String> {
        Ok(())
    }
    fn set_output(&mut self, _name: &str, _value: Option<(&Value, bool)>) -> Result<(), String> {
        Ok(())
    }
}

impl MemorySink {
    fn prior(&self) -> PriorState {
        PriorState {
            objects: self
                .objects
                .iter()
                .map(|(addr, (value, provider))| {
                    (
                        addr.clone(),
                        PriorObject {
                            value: value.clone(),
                            provider: provider.clone(),
                            private: None,
                            dependencies: Vec::new(),
                            create_before_destroy: false,
                            tainted: false,
                            schema_version: 0,
                        },
                    )
                })
                .collect(),
            ..PriorState::default()
        }
    }
}

fn apply_of(main_tf: &str, prior: &PriorState) -> (Plan, Diagnostics, MemorySink, Vec<ApplyEvent>) {
    let (dir, module) = load(main_tf);
    let (registry, _) = registry();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut sink = MemorySink::default();
    let events = Mutex::new(Vec::new());
    let record = |e: ApplyEvent| events.lock().unwrap().push(e);
    let (p, d) = rt.block_on(apply(
        &module,
        prior,
        &registry,
        &options(dir.path(), false),
        ApplyTarget {
            sink: &mut sink,
            events: &record,
            interrupted: None,
            destroy_first: Vec::new(),
        },
    ));
    let events = events.into_inner().unwrap();
    (p, d, sink, events)
}

const IMPORT_BY_VARIABLE: &str = r#"
variable "stamp" {
  type = string
}

locals {
  stamp = var.stamp
}

# The time provider imports `triggers` as an empty map.
resource "time_static" "t" {
  triggers = {}
}

import {
  to = time_static.t
  id = local.stamp
}
"#;

#[test]
fn a_noop_import_shows_the_whole_object_and_counts_as_a_change() {
    let (p, d) = plan_of(IMPORT_BY_VARIABLE, &PriorState::default(), false);
    assert!(error_summaries(&d).is_empty(), "{:#?}", d.0);
    assert_eq!(p.changes.len(), 1);
    let c = &p.changes[0];
    assert_eq!(c.action, Action::NoOp);
    assert_eq!(c.importing.as_deref(), Some(ID));
    assert!(p.can_apply() && p.has_changes());
    let text = rendered(&p);
    assert!(
        text.contains("  # time_static.t will be imported\n    resource \"time_static\" \"t\" {\n"),
        "{text}"
    );
    // Every attribute, unchanged ones included, at Terraform's indent.
    assert!(text.contains("        day      = 2\n"), "{text}");
    assert!(
        text.contains(&format!("        rfc3339  = \"{ID}\"\n")),
        "{text}"
    );
    assert!(!text.contains("unchanged"), "{text}");
    assert!(
        text.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.\n"),
        "{text}"
    );
    // No legend: nothing is created, updated or destroyed.
    assert!(!text.contains("symbols"), "{text}");
}

#[test]
fn plan_json_records_the_import_id_and_a_saved_plan_keeps_it() {
    let (p, _) = plan_of(IMPORT_BY_VARIABLE, &PriorState::default(), false);
    let (_, schemas) = registry();
    let doc = meshform_engine::plan_json::plan_to_json(&p, &schemas, "1.5.7");
    assert_eq!(
        doc["resource_changes"][0]["change"]["importing"],
        serde_json::json!({ "id": ID })
    );
    let back = meshform_engine::plan_json::plan_from_json_value(&doc, &schemas).unwrap();
    assert_eq!(back.changes[0].importing.as_deref(), Some(ID));
    let saved = meshform_engine::plan_json::plan_to_saved_json(&p);
    let back = meshform_engine::plan_json::plan_from_saved_json(&saved).unwrap();
    assert_eq!(back.changes, p.changes);
}

#[test]
fn apply_commits_the_imported_object_and_the_next_plan_is_empty() {
    let (p, d, sink, events) = apply_of(IMPORT_BY_VARIABLE, &PriorState::default());
    assert!(error_summaries(&d).is_empty(), "{:#?}", d.0);
    assert_eq!(p.changes[0].importing.as_deref(), Some(ID));
    assert_eq!(
        events,
        vec![
            ApplyEvent::Importing {
                addr: "time_static.t".into(),
                id: ID.into()
            },
            ApplyEvent::Imported {
                addr: "time_static.t".into(),
                id: ID.into()
            },
        ]
    );
    let addr = ResourceInstance::parse("time_static.t").unwrap();
    let (value, _) = &sink.objects[&addr];
    assert_eq!(value.get_attr("rfc3339").and_then(|v| v.as_str()), Some(ID));
    // Already managed: the import block does nothing more.
    let (again, d) = plan_of(IMPORT_BY_VARIABLE, &sink.prior(), false);
    assert!(error_summaries(&d).is_empty(), "{:#?}", d.0);
    assert!(!again.can_apply(), "{:#?}", again.changes);
    assert!(again.changes.iter().all(|c| c.importing.is_none()));
    assert!(rendered(&again).contains("No changes."));
}

#[test]
fn an_import_whose_configuration_differs_is_replaced_with_a_warning() {
    let main_tf = format!(
        r#"
resource "time_static" "t" {{
  triggers = {{ a = "b" }}
}}

import {{
  to = time_static.t
  id = "{ID}"
}}
"#
    );
    let (p, d) = plan_of(&main_tf, &PriorState::default(), false);
    assert!(error_summaries(&d).is_empty(), "{:#?}", d.0);
    let c = &p.changes[0];
    assert!(c.action.is_replace(), "{:?}", c.action);
    let text = rendered(&p);
    assert!(
        text.contains(&format!(
            "  # time_static.t must be replaced\n  # (imported from \"{ID}\")\n  # Warning: this will destroy the imported resource\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("Plan: 1 to import, 1 to add, 0 to change, 1 to destroy.\n"),
        "{text}"
    );
}

#[test]
fn an_import_target_missing_from_the_configuration_is_an_error_at_to() {
    let main_tf = r#"
resource "time_static" "t" {}

import {
  to = time_static.other
  id = "2024-01-02T03:04:05Z"
}
"#;
    let (_, module) = load(main_tf);
    let d = meshform_engine::validate::validate(&module, None);
    let errors = error_summaries(&d);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("Configuration for import target does not exist"));
    let subject = d.0[0].subject.clone().unwrap();
    assert_eq!((subject.start.line, subject.start.column), (5, 8));
    let (_, d) = plan_of(main_tf, &PriorState::default(), false);
    assert!(error_summaries(&d)[0].starts_with("Configuration for import target does not exist"));
}

#[test]
fn data_sources_and_duplicate_targets_are_rejected() {
    let main_tf = r#"
resource "time_static" "t" {}

import {
  to = time_static.t
  id = "2024-01-02T03:04:05Z"
}

import {
  to = time_static.t
  id = "2025-01-02T03:04:05Z"
}

import {
  to = data.time_static.t
  id = "x"
}
"#;
    let (_, module) = load(main_tf);
    let errors = error_summaries(&meshform_engine::validate::validate(&module, None));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors
        .iter()
        .any(|e| e.starts_with("Duplicate import configuration for \"time_static.t\"")));
    assert!(errors
        .iter()
        .any(|e| e.starts_with("Invalid import address")));
}

#[test]
fn an_id_not_known_until_apply_is_an_error() {
    let main_tf = r#"
resource "time_static" "source" {}

resource "time_static" "t" {}

import {
  to = time_static.t
  id = time_static.source.rfc3339
}
"#;
    let (_, d) = plan_of(main_tf, &PriorState::default(), false);
    let errors = error_summaries(&d);
    assert_eq!(
        errors,
        vec!["Invalid import id argument: The import block \"id\" argument depends on values that cannot be determined until apply."]
    );
}

#[test]
fn offline_plans_refuse_to_import() {
    let (_, d) = plan_of(IMPORT_BY_VARIABLE, &PriorState::default(), true);
    let errors = error_summaries(&d);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("Import needs the remote API"));
    assert!(errors[0].contains("without -offline"));
}

#[test]
fn an_id_the_provider_cannot_read_fails_the_plan() {
    let main_tf = r#"
resource "time_static" "t" {}

import {
  to = time_static.t
  id = "soon"
}
"#;
    let (p, d) = plan_of(main_tf, &PriorState::default(), false);
    assert!(d.has_errors());
    assert!(p.changes.iter().all(|c| c.action != Action::Create));
}

#[test]
fn an_import_provider_other_than_the_resources_is_rejected() {
    let main_tf = r#"
provider "time" {
  alias = "other"
}

resource "time_static" "t" {}

import {
  to       = time_static.t
  id       = "2024-01-02T03:04:05Z"
  provider = time.other
}
"#;
    let (_, module) = load(main_tf);
    let errors = error_summaries(&meshform_engine::validate::validate(&module, None));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("Invalid import provider argument"),
        "{errors:#?}"
    );
}

#[test]
fn import_blocks_in_child_modules_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("child")).unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "module \"child\" {\n  source = \"./child\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("child/main.tf"),
        "resource \"time_static\" \"t\" {}\n\nimport {\n  to = time_static.t\n  id = \"2024-01-02T03:04:05Z\"\n}\n",
    )
    .unwrap();
    let (module, diags) = meshform_config::load_module(dir.path());
    assert!(!diags.has_errors(), "{:#?}", diags.0);
    let errors = error_summaries(&meshform_engine::validate::validate(&module, None));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("Import blocks are only allowed in the root module."),
        "{errors:#?}"
    );
}

#[test]
fn an_instance_of_a_counted_resource_is_imported_by_its_key() {
    let main_tf = format!(
        r#"
resource "time_static" "t" {{
  count    = 2
  triggers = {{}}
}}

import {{
  to = time_static.t[1]
  id = "{ID}"
}}
"#
    );
    let (p, d) = plan_of(&main_tf, &PriorState::default(), false);
    assert!(error_summaries(&d).is_empty(), "{:#?}", d.0);
    let actions: Vec<(String, Action, Option<String>)> = p
        .changes
        .iter()
        .map(|c| (c.addr.to_string(), c.action, c.importing.clone()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("time_static.t[0]".to_owned(), Action::Create, None),
            (
                "time_static.t[1]".to_owned(),
                Action::NoOp,
                Some(ID.to_owned())
            ),
        ]
    );
    assert!(rendered(&p).contains("Plan: 1 to import, 1 to add, 0 to change, 0 to destroy.\n"));

    let whole = main_tf.replace("time_static.t[1]", "time_static.t");
    let (_, module) = load(&whole);
    let errors = error_summaries(&meshform_engine::validate::validate(&module, None));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("Invalid import address"),
        "{errors:#?}"
    );
}

/// `time_static.t` as imported, with `triggers` set to `triggers`.
fn with_triggers(imported: &Value, triggers: &[(&str, &str)]) -> Value {
    let mut attrs = imported.as_entries().expect("an object").clone();
    attrs.insert(
        "triggers".into(),
        Value::map(
            meshform_lang::Type::String,
            triggers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::string(*v)))
                .collect(),
        ),
    );
    Value::object(attrs)
}

#[test]
fn an_update_of_an_import_shows_unchanged_attributes_and_elements_too() {
    let (p, _) = plan_of(IMPORT_BY_VARIABLE, &PriorState::default(), false);
    let imported = p.changes[0].before.clone();
    let mut update = p.clone();
    let c = &mut update.changes[0];
    c.action = Action::Update;
    c.before = with_triggers(&imported, &[("a", "1"), ("b", "2")]);
    c.after = with_triggers(&imported, &[("a", "1"), ("b", "3")]);
    let text = rendered(&update);
    assert!(
        text.contains(&format!(
            "  # time_static.t will be updated in-place\n  # (imported from \"{ID}\")\n  ~ resource \"time_static\" \"t\" {{\n"
        )),
        "{text}"
    );
    assert!(text.contains("        day      = 2\n"), "{text}");
    assert!(text.contains("            \"a\" = \"1\"\n"), "{text}");
    assert!(
        text.contains("          ~ \"b\" = \"2\" -> \"3\"\n"),
        "{text}"
    );
    assert!(!text.contains("unchanged"), "{text}");
    assert!(
        text.contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.\n"),
        "{text}"
    );
    // Without the import, unchanged parts stay hidden as before.
    update.changes[0].importing = None;
    let text = rendered(&update);
    assert!(text.contains("unchanged attributes hidden"), "{text}");
    assert!(text.contains("unchanged element hidden"), "{text}");
}

/// The time provider, except that every object is gone by the time it is
/// read: an import finds an ID the remote API no longer has.
struct GoneAfterImport(TimeFactory);

struct GoneProvider(Arc<dyn meshform_providers::provider::Provider>);

impl meshform_providers::provider::ProviderFactory for GoneAfterImport {
    fn source(&self) -> &str {
        self.0.source()
    }
    fn version(&self) -> &str {
        self.0.version()
    }
    fn schema(&self) -> Arc<meshform_lang::schema::ProviderSchema> {
        self.0.schema()
    }
    fn configure(
        &self,
        req: meshform_providers::provider::ConfigureRequest,
    ) -> Result<Arc<dyn meshform_providers::provider::Provider>, Diagnostics> {
        Ok(Arc::new(GoneProvider(self.0.configure(req)?)))
    }
}

#[async_trait::async_trait]
impl meshform_providers::provider::Provider for GoneProvider {
    async fn plan_resource_change(
        &self,
        req: meshform_providers::provider::PlanResourceChangeRequest,
    ) -> meshform_providers::provider::PlanResourceChangeResponse {
        self.0.plan_resource_change(req).await
    }
    async fn apply_resource_change(
        &self,
        req: meshform_providers::provider::ApplyResourceChangeRequest,
    ) -> meshform_providers::provider::ApplyResourceChangeResponse {
        self.0.apply_resource_change(req).await
    }
    async fn read_resource(
        &self,
        _req: meshform_providers::provider::ReadResourceRequest,
    ) -> meshform_providers::provider::ReadResourceResponse {
        meshform_providers::provider::ReadResourceResponse::default()
    }
    async fn import_resource_state(
        &self,
        req: meshform_providers::provider::ImportResourceStateRequest,
    ) -> meshform_providers::provider::ImportResourceStateResponse {
        self.0.import_resource_state(req).await
    }
    async fn read_data_source(
        &self,
        req: meshform_providers::provider::ReadDataSourceRequest,
    ) -> meshform_providers::provider::ReadDataSourceResponse {
        self.0.read_data_source(req).await
    }
}

#[test]
fn an_object_the_provider_cannot_read_after_import_is_an_error_at_to() {
    let (dir, module) = load(IMPORT_BY_VARIABLE);
    let mut registry = ProviderRegistry::new();
    registry.register(Arc::new(GoneAfterImport(TimeFactory::new())));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (p, d) = rt.block_on(plan(
        &module,
        &PriorState::default(),
        &registry,
        &options(dir.path(), false),
    ));
    let errors: Vec<&meshform_lang::Diagnostic> = d.0.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].summary,
        "Cannot import non-existent remote object"
    );
    assert!(
        errors[0].detail.contains("\"time_static.t\""),
        "{errors:#?}"
    );
    let subject = errors[0].subject.clone().expect("points at the block");
    assert_eq!(subject.start.line, 16, "{subject:?}");
    assert!(p.changes.is_empty(), "{:#?}", p.changes);
}

#[test]
fn an_id_converts_to_a_string_as_in_terraform_and_null_or_objects_are_errors() {
    let with_id = |id: &str| {
        format!("resource \"time_static\" \"t\" {{}}\n\nimport {{\n  to = time_static.t\n  id = {id}\n}}\n")
    };
    // A number is converted: the provider gets "12" and says it is no
    // RFC 3339 time, rather than the block being refused.
    let (_, d) = plan_of(&with_id("12"), &PriorState::default(), false);
    let errors = error_summaries(&d);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        !errors[0].starts_with("Invalid import id argument"),
        "{errors:#?}"
    );
    let (_, d) = plan_of(&with_id("null"), &PriorState::default(), false);
    assert_eq!(
        error_summaries(&d),
        vec!["Invalid import id argument: The import ID cannot be null."]
    );
    let (_, d) = plan_of(&with_id("{ a = 1 }"), &PriorState::default(), false);
    assert_eq!(
        error_summaries(&d),
        vec!["Invalid import id argument: The import block \"id\" argument must be a string."]
    );
}
