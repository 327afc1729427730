//! hashicorp/helm 2.17.0: `helm_release` without the helm binary. Charts
//! are fetched ([`chart_source`], with repository mirrors), values merged
//! and templates rendered by `meshform_helm`; objects are installed into
//! the cluster in Helm's order with Helm's release records
//! ([`cluster`]), so the real `helm` sees the release. Planning follows the
//! SDKv2 provider: defaults, `status` always `deployed`, `metadata`
//! unknown whenever a new revision will be made; only `name` and
//! `namespace` force replacement.

pub mod chart_source;
pub(crate) mod cluster;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use meshform_helm::release::{self, Release, Status};
use meshform_helm::values::{apply_set, apply_set_list, merge_values, parse_values};
use meshform_helm::{
    render_release, Capabilities, ChartRef, Hook, HookEvent, ReleaseContext, RenderOptions,
    SetKind, Values,
};
use meshform_lang::schema::{ProviderSchema, Schema};
use meshform_lang::{Clock, Diagnostic, Diagnostics, Type, Value};
use serde_json::{json, Value as Json};

pub use chart_source::{ChartFetchError, ChartFetcher, Mirrors, MIRROR_ENV};
pub use schema::helm_schema;

use crate::kubernetes::connection::{resolve, ConnectionSettings};
use crate::kubernetes::values::{boolean, sdk_plan, string};
use crate::kubernetes::Cluster;
use crate::planning::ResourcePlan;
use crate::provider::*;
use cluster::ReleaseCluster;

/// Source address of the helm provider.
pub const SOURCE: &str = "hashicorp/helm";
/// The provider version whose behaviour this implements.
pub const VERSION: &str = "2.17.0";

/// The helm provider's factory.
#[derive(Debug, Clone)]
pub struct HelmFactory {
    schema: Arc<ProviderSchema>,
}

impl Default for HelmFactory {
    fn default() -> Self {
        HelmFactory::new()
    }
}

impl HelmFactory {
    pub fn new() -> HelmFactory {
        HelmFactory {
            schema: Arc::new(helm_schema()),
        }
    }
}

impl ProviderFactory for HelmFactory {
    fn source(&self) -> &str {
        SOURCE
    }

    fn version(&self) -> &str {
        VERSION
    }

    fn schema(&self) -> Arc<ProviderSchema> {
        self.schema.clone()
    }

    fn configure(&self, req: ConfigureRequest) -> Result<Arc<dyn Provider>, Diagnostics> {
        let config = req.config.clone().unmark_deep();
        let kubernetes = config
            .get_attr("kubernetes")
            .and_then(Value::as_elements)
            .and_then(|items| items.first())
            .map(ConnectionSettings::from_value)
            .unwrap_or_default();
        let mirrors = Mirrors::parse(req.env.get(MIRROR_ENV).map(String::as_str)).map_err(
            |e| -> Diagnostics {
                Diagnostic::error(
                    "Invalid chart repository mirror",
                    format!("{}.", crate::kubernetes::capitalise(&e.to_string())),
                )
                .into()
            },
        )?;
        let cache =
            chart_source::cache_dir(string(&config, "repository_cache").as_deref(), &req.env);
        Ok(Arc::new(HelmProvider {
            schema: self.schema.clone(),
            cluster: Cluster::new(resolve(&kubernetes, &req.env)),
            offline: req.offline,
            clock: req.clock,
            mirrors,
            cache,
        }))
    }
}

/// The configured helm provider.
pub struct HelmProvider {
    schema: Arc<ProviderSchema>,
    cluster: Cluster,
    offline: bool,
    clock: Arc<dyn Clock>,
    mirrors: Mirrors,
    cache: std::path::PathBuf,
}

/// What a `helm_release` asks for, read from a planned or prior value.
/// (No `Debug`: it holds `set_sensitive` values.)
#[derive(Clone)]
struct ReleaseSettings {
    name: String,
    namespace: String,
    chart: String,
    repository: Option<String>,
    version: Option<String>,
    values: Vec<String>,
    set: Vec<(String, String, Option<String>)>,
    set_list: Vec<(String, Vec<String>)>,
    set_sensitive: Vec<(String, String, Option<String>)>,
    create_namespace: bool,
    upgrade_install: bool,
    wait: bool,
    wait_for_jobs: bool,
    timeout: Duration,
    atomic: bool,
    cleanup_on_fail: bool,
    max_history: usize,
    description: Option<String>,
    skip_crds: bool,
    render_subchart_notes: bool,
    devel: bool,
    dependency_update: bool,
    disable_hooks: bool,
    force_update: bool,
    replace: bool,
    reuse_values: bool,
    reset_values: bool,
    verify: bool,
    postrender: bool,
}

fn elements(v: &Value, name: &str) -> Vec<Value> {
    v.get_attr(name)
        .and_then(Value::as_elements)
        .map(<[Value]>::to_vec)
        .unwrap_or_default()
}

fn strings(v: &Value, name: &str) -> Vec<String> {
    elements(v, name)
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn number(v: &Value, name: &str) -> Option<i64> {
    v.get_attr(name)
        .and_then(Value::as_number)
        .and_then(|n| n.to_i64())
}

impl ReleaseSettings {
    fn from_value(v: &Value) -> ReleaseSettings {
        let v = v.clone().unmark_deep();
        let sets = |name: &str| -> Vec<(String, String, Option<String>)> {
            elements(&v, name)
                .iter()
                .filter_map(|s| Some((string(s, "name")?, string(s, "value")?, string(s, "type"))))
                .collect()
        };
        ReleaseSettings {
            name: string(&v, "name").unwrap_or_default(),
            namespace: string(&v, "namespace").unwrap_or_else(|| "default".into()),
            chart: string(&v, "chart").unwrap_or_default(),
            repository: string(&v, "repository").filter(|s| !s.is_empty()),
            version: string(&v, "version").filter(|s| !s.is_empty()),
            values: strings(&v, "values"),
            set: sets("set"),
            set_list: elements(&v, "set_list")
                .iter()
                .filter_map(|s| Some((string(s, "name")?, strings(s, "value"))))
                .collect(),
            set_sensitive: sets("set_sensitive"),
            create_namespace: boolean(&v, "create_namespace").unwrap_or(false),
            upgrade_install: boolean(&v, "upgrade_install").unwrap_or(false),
            wait: boolean(&v, "wait").unwrap_or(true),
            wait_for_jobs: boolean(&v, "wait_for_jobs").unwrap_or(false),
            timeout: Duration::from_secs(number(&v, "timeout").unwrap_or(300).max(1) as u64),
            atomic: boolean(&v, "atomic").unwrap_or(false),
            cleanup_on_fail: boolean(&v, "cleanup_on_fail").unwrap_or(false),
            max_history: number(&v, "max_history").unwrap_or(0).max(0) as usize,
            description: string(&v, "description").filter(|s| !s.is_empty()),
            skip_crds: boolean(&v, "skip_crds").unwrap_or(false),
            render_subchart_notes: boolean(&v, "render_subchart_notes").unwrap_or(true),
            devel: boolean(&v, "devel").unwrap_or(false),
            dependency_update: boolean(&v, "dependency_update").unwrap_or(false),
            disable_hooks: boolean(&v, "disable_webhooks").unwrap_or(false),
            force_update: boolean(&v, "force_update").unwrap_or(false),
            replace: boolean(&v, "replace").unwrap_or(false),
            reuse_values: boolean(&v, "reuse_values").unwrap_or(false),
            reset_values: boolean(&v, "reset_values").unwrap_or(false),
            verify: boolean(&v, "verify").unwrap_or(false),
            postrender: !elements(&v, "postrender").is_empty(),
        }
    }

    /// The chart to fetch; `devel` without a version admits pre-releases,
    /// as Helm's `--devel` does.
    fn chart_ref(&self) -> ChartRef {
        let version = match (&self.version, self.devel) {
            (None, true) => Some(">0.0.0-0".to_string()),
            (v, _) => v.clone(),
        };
        ChartRef {
            chart: self.chart.clone(),
            repository: self.repository.clone(),
            version,
        }
    }

    /// The values an upgrade uses, as Helm decides: `reset_values` takes
    /// only the new ones, `reuse_values` lays them over the previous
    /// release's, and with neither an upgrade without values keeps the
    /// previous ones.
    fn upgrade_config(
        &self,
        previous: Option<&Values>,
    ) -> Result<Values, meshform_helm::HelmError> {
        let new = self.config()?;
        let Some(previous) = previous.filter(|_| !self.reset_values) else {
            return Ok(new);
        };
        if self.reuse_values {
            let mut merged = previous.clone();
            merge_values(&mut merged, &new);
            return Ok(merged);
        }
        if new.is_empty() {
            return Ok(previous.clone());
        }
        Ok(new)
    }

    /// The user-supplied values: each `values` document in order, then
    /// `set`, `set_list` and `set_sensitive`.
    fn config(&self) -> Result<Values, meshform_helm::HelmError> {
        let mut values = Values::new();
        for (i, doc) in self.values.iter().enumerate() {
            merge_values(&mut values, &parse_values(doc, &format!("values[{i}]"))?);
        }
        let kind = |t: &Option<String>| match t.as_deref() {
            Some("string") => SetKind::String,
            _ => SetKind::Auto,
        };
        for (name, value, ty) in &self.set {
            apply_set(&mut values, &format!("{name}={value}"), kind(ty))?;
        }
        for (name, items) in &self.set_list {
            apply_set_list(&mut values, name, items)?;
        }
        for (name, value, ty) in &self.set_sensitive {
            // The error must not repeat the value.
            apply_set(&mut values, &format!("{name}={value}"), kind(ty)).map_err(|_| {
                meshform_helm::HelmError::Set {
                    expr: format!("{name}=(sensitive value)"),
                    message: "the name is not a valid value path".into(),
                }
            })?;
        }
        Ok(values)
    }
}

/// The values a release record holds as the provider shows them in
/// `metadata.values`: `set_sensitive` values hidden.
fn cloaked_values(
    config: &Values,
    settings: &ReleaseSettings,
) -> Result<Values, meshform_helm::HelmError> {
    let mut values = config.clone();
    for (name, _, _) in &settings.set_sensitive {
        apply_set(
            &mut values,
            &format!("{name}=(sensitive value)"),
            SetKind::String,
        )?;
    }
    Ok(values)
}

fn error(summary: &str, detail: impl std::fmt::Display) -> Diagnostics {
    Diagnostic::error(
        summary,
        format!("{}.", crate::kubernetes::capitalise(&detail.to_string())),
    )
    .into()
}

/// JSON as Go's `json.Marshal` writes it: keys sorted, `<`, `>` and `&`
/// escaped.
fn go_json(v: &Json) -> String {
    fn sorted(v: &Json) -> Json {
        match v {
            Json::Object(m) => {
                let s: BTreeMap<&String, Json> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
                let mut out = serde_json::Map::new();
                for (k, v) in s {
                    out.insert(k.clone(), v);
                }
                Json::Object(out)
            }
            Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Go's RFC 3339 with nanoseconds, trailing zeros dropped.
fn go_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let text = t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    match text.split_once('.') {
        Some((head, frac)) => {
            let digits = frac.trim_end_matches('Z').trim_end_matches('0');
            if digits.is_empty() {
                format!("{head}Z")
            } else {
                format!("{head}.{digits}Z")
            }
        }
        None => text,
    }
}

fn unix(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// The `metadata` attribute for a release record.
fn metadata_json(record: &Release, values: &str) -> Json {
    json!([{
        "app_version": record.chart.metadata.app_version,
        "chart": record.chart.metadata.name,
        "first_deployed": unix(&record.info.first_deployed),
        "last_deployed": unix(&record.info.last_deployed),
        "name": record.name,
        "namespace": record.namespace,
        "notes": record.info.notes,
        "revision": record.version,
        "values": values,
        "version": record.chart.metadata.version,
    }])
}

/// Plans `helm_release` as the SDKv2 provider's CustomizeDiff does.
pub fn plan_release(
    schema: &Schema,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> ResourcePlan {
    let mut plan = sdk_plan(&schema.block, prior, proposed, config);
    if proposed.is_null() {
        return plan;
    }
    let Some(entries) = plan.planned.as_entries() else {
        return plan;
    };
    let mut entries = entries.clone();
    entries.insert("status".into(), Value::string("deployed"));
    if let Some(v) = entries.get("version").and_then(Value::as_str) {
        if let Some(stripped) = v.strip_prefix('v') {
            entries.insert("version".into(), Value::string(stripped));
        }
    }
    if !prior.is_null() {
        let changed = [
            "chart",
            "repository",
            "values",
            "set",
            "set_sensitive",
            "set_list",
            "version",
        ]
        .iter()
        .any(|k| {
            let before = prior.get_attr(k).map(|v| v.clone().unmark_deep());
            let after = entries.get(*k).map(|v| v.clone().unmark_deep());
            before != after
        });
        if changed {
            let ty = schema
                .block
                .attributes
                .get("metadata")
                .map(|a| a.implied_type())
                .unwrap_or(Type::Dynamic);
            entries.insert("metadata".into(), Value::unknown(ty));
        }
    }
    plan.planned = Value::object(entries).with_marks_of([&plan.planned]);
    plan
}

impl HelmProvider {
    fn release_schema(&self, type_name: &str) -> Result<&Schema, Diagnostics> {
        match (type_name, self.schema.resources.get(type_name)) {
            ("helm_release", Some(s)) => Ok(s),
            _ => Err(error(
                "Invalid resource type",
                format!("the provider hashicorp/helm does not support resource type {type_name:?}"),
            )),
        }
    }

    async fn connect(&self) -> Result<Arc<ReleaseCluster>, Diagnostics> {
        Ok(Arc::new(ReleaseCluster::new(self.cluster.client().await?)))
    }

    /// Fetches and renders the chart for a revision (blocking work, off
    /// the async threads).
    async fn render(
        &self,
        settings: &ReleaseSettings,
        revision: i64,
        previous: Option<Values>,
        cluster: Arc<ReleaseCluster>,
    ) -> Result<meshform_helm::Rendered, Diagnostics> {
        let upgrade = previous.is_some();
        let kube_version = cluster.kube_version().await;
        let lookup: Arc<dyn meshform_helm::Lookup> = Arc::new(cluster::ClusterLookup {
            cluster,
            runtime: tokio::runtime::Handle::current(),
        });
        let settings = settings.clone();
        let mirrors = self.mirrors.clone();
        let cache = self.cache.clone();
        // The HTTP client of the chart sources is a blocking one with its
        // own runtime: it must be made and dropped off the async threads.
        let task = tokio::task::spawn_blocking(move || -> Result<_, Diagnostics> {
            let fetcher = ChartFetcher {
                sources: meshform_helm::source::Sources::new(&cache)
                    .map_err(|e| error("Chart source unavailable", e))?,
                mirrors,
            };
            let mut chart = fetcher
                .fetch(&settings.chart_ref())
                .map_err(|e| error("Chart could not be fetched", e))?;
            if settings.dependency_update {
                fetch_missing_dependencies(&fetcher, &mut chart, &settings.chart)
                    .map_err(|e| error("Chart dependencies could not be fetched", e))?;
            }
            let config = settings
                .upgrade_config(previous.as_ref())
                .map_err(|e| error("Invalid release values", e))?;
            let mut capabilities = Capabilities::default();
            if let Some(v) = kube_version {
                capabilities.kube_version = v;
            }
            let options = RenderOptions {
                release: Some(ReleaseContext {
                    name: settings.name.clone(),
                    namespace: settings.namespace.clone(),
                    revision,
                    is_upgrade: upgrade,
                }),
                capabilities,
                lookup: Some(lookup),
            };
            render_release(chart, &config, &options, settings.render_subchart_notes)
                .map_err(|e| error("Chart could not be rendered", e))
        });
        task.await
            .map_err(|e| error("Chart could not be rendered", e))?
    }

    /// Installs or upgrades the release described by `planned`; returns the
    /// new state.
    async fn install(
        &self,
        schema: &Schema,
        planned: &Value,
        updating: bool,
    ) -> Result<Value, Diagnostics> {
        let settings = ReleaseSettings::from_value(planned);
        let cluster = self.connect().await?;
        let records = cluster.records(&settings.name, &settings.namespace).await?;
        let deployed = records
            .iter()
            .rev()
            .find(|r| r.info.status == Status::Deployed)
            .cloned();
        let live = records
            .iter()
            .any(|r| r.info.status != Status::Uninstalled && r.info.status != Status::Superseded);
        if settings.verify || settings.postrender {
            return Err(error(
                "Unsupported release option",
                format!(
                    "release {:?} sets {}, which meshform cannot do (chart provenance verification and post-renderers need the helm binary)",
                    settings.name,
                    if settings.verify { "verify" } else { "postrender" }
                ),
            ));
        }
        let upgrade = deployed.is_some() && (updating || settings.upgrade_install);
        // `replace` may take over a name whose last release failed.
        let replaceable = settings.replace && deployed.is_none();
        if !upgrade && live && !replaceable {
            return Err(error(
                "Release already exists",
                format!(
                    "cannot re-use a name that is still in use: release {:?} exists in namespace {:?}",
                    settings.name, settings.namespace
                ),
            ));
        }
        let revision = records.last().map(|r| r.version + 1).unwrap_or(1);
        let rendered = self
            .render(
                &settings,
                revision,
                deployed
                    .as_ref()
                    .filter(|_| upgrade)
                    .map(|d| d.config.clone()),
                cluster.clone(),
            )
            .await?;
        if settings.create_namespace {
            cluster.ensure_namespace(&settings.namespace).await?;
        }
        let now = self.clock.now();
        let now_text = go_time(now);
        let description = settings.description.clone().unwrap_or_else(|| {
            if upgrade {
                "Upgrade complete"
            } else {
                "Install complete"
            }
            .to_string()
        });
        // Helm first records the revision as pending, updates it as hooks
        // run, and finally marks it deployed (or failed).
        let (pending, pending_text) = if upgrade {
            (Status::PendingUpgrade, "Preparing upgrade")
        } else {
            (Status::PendingInstall, "Initial install underway")
        };
        let mut record = match &deployed {
            Some(previous) if upgrade => {
                release::build_upgrade(previous, &rendered, pending, pending_text, &now_text)
            }
            _ => release::build_release(
                &settings.name,
                &settings.namespace,
                revision,
                &rendered,
                pending,
                pending_text,
                &now_text,
            ),
        };
        record.version = revision;
        cluster.write_record(&record, now.timestamp(), true).await?;
        let result = self
            .deploy(
                &cluster,
                &settings,
                &rendered,
                upgrade,
                deployed.as_ref(),
                &mut record,
            )
            .await;
        let unix_now = self.clock.now().timestamp();
        if let Err(mut diagnostics) = result {
            record.info.status = Status::Failed;
            record.info.description = if upgrade {
                format!("Upgrade {:?} failed", settings.name)
            } else {
                format!("Release {:?} failed", settings.name)
            };
            let recovery = match (&deployed, upgrade) {
                (Some(previous), true) => {
                    let written = cluster.write_record(&record, unix_now, false).await;
                    if written.is_err() {
                        written
                    } else if settings.atomic {
                        self.rollback(&cluster, &settings, previous, &record, &now_text, unix_now)
                            .await
                    } else if settings.cleanup_on_fail {
                        self.remove_new_objects(
                            &cluster,
                            &settings.namespace,
                            &record.manifest,
                            &previous.manifest,
                        )
                        .await
                    } else {
                        Ok(())
                    }
                }
                // An atomic install leaves nothing behind, record included.
                _ if settings.atomic => {
                    let removed = self
                        .remove_objects(&cluster, &settings.namespace, &record.manifest)
                        .await;
                    match removed {
                        Ok(()) => {
                            cluster
                                .delete_record(&settings.name, &settings.namespace, revision)
                                .await
                        }
                        Err(d) => Err(d),
                    }
                }
                _ => cluster.write_record(&record, unix_now, false).await,
            };
            if let Err(more) = recovery {
                diagnostics.0.extend(more.0);
            }
            return Err(diagnostics);
        }
        record.info.status = Status::Deployed;
        record.info.description = description;
        cluster.write_record(&record, unix_now, false).await?;
        if let Some(previous) = deployed.as_ref().filter(|_| upgrade) {
            cluster
                .write_record(&release::supersede(previous), unix_now, false)
                .await?;
        }
        let mut history: Vec<(i64, Status)> = records
            .iter()
            .map(|r| {
                let superseded =
                    upgrade && deployed.as_ref().is_some_and(|d| d.version == r.version);
                (
                    r.version,
                    if superseded {
                        Status::Superseded
                    } else {
                        r.info.status
                    },
                )
            })
            .collect();
        history.push((record.version, Status::Deployed));
        for old in release::prune_history(&history, settings.max_history) {
            cluster
                .delete_record(&settings.name, &settings.namespace, old)
                .await?;
        }
        self.state(schema, planned, &settings, &record)
    }

    /// Applies CRDs (those not yet in the cluster), hooks and objects in
    /// Helm's order; on upgrade removes objects the new manifest no longer
    /// has; waits when asked. Hook runs are written to `record` as they
    /// happen.
    async fn deploy(
        &self,
        cluster: &ReleaseCluster,
        settings: &ReleaseSettings,
        rendered: &meshform_helm::Rendered,
        upgrade: bool,
        previous: Option<&Release>,
        record: &mut Release,
    ) -> Result<(), Diagnostics> {
        let plan = release::install_plan(rendered, &settings.name, &settings.namespace, upgrade)
            .map_err(|e| error("Chart could not be installed", e))?;
        if !settings.skip_crds {
            for crd in &plan.crds {
                cluster
                    .create_if_absent(&crd.object, &settings.namespace)
                    .await?;
            }
        }
        self.run_hooks(cluster, &plan.pre_hooks, settings, Some(record))
            .await?;
        for object in &plan.objects {
            cluster
                .apply_or_recreate(&object.object, &settings.namespace, settings.force_update)
                .await?;
        }
        if let Some(previous) = previous.filter(|_| upgrade) {
            self.remove_new_objects(
                cluster,
                &settings.namespace,
                &previous.manifest,
                &rendered.manifest(),
            )
            .await?;
        }
        if settings.wait {
            for object in &plan.objects {
                cluster
                    .wait_for(
                        &object.object,
                        &settings.namespace,
                        settings.timeout,
                        settings.wait_for_jobs,
                    )
                    .await?;
            }
        }
        self.run_hooks(cluster, &plan.post_hooks, settings, Some(record))
            .await
    }

    /// Runs hooks in order as Helm does: an old copy is removed first
    /// (`before-hook-creation`), Jobs are waited for, each run is written
    /// to the release record, and once all succeeded the `hook-succeeded`
    /// ones are removed, last first (`hook-failed` ones when one fails).
    async fn run_hooks(
        &self,
        cluster: &ReleaseCluster,
        hooks: &[(Hook, Json)],
        settings: &ReleaseSettings,
        mut record: Option<&mut Release>,
    ) -> Result<(), Diagnostics> {
        // `disable_webhooks` is Helm's `--no-hooks`.
        if settings.disable_hooks {
            return Ok(());
        }
        let ns = &settings.namespace;
        let policy = |h: &Hook, p: &str| h.delete_policies.iter().any(|d| d == p);
        for (hook, object) in hooks {
            if object.is_null() {
                continue;
            }
            if policy(hook, "before-hook-creation") {
                cluster.delete(object, ns).await?;
            }
            let started = go_time(self.clock.now());
            let outcome = match cluster.apply(object, ns).await {
                Ok(_) if hook.kind == "Job" => {
                    cluster.wait_for(object, ns, settings.timeout, true).await
                }
                Ok(_) => Ok(()),
                Err(d) => Err(d),
            };
            if let Some(record) = record.as_deref_mut() {
                if let Some(stored) = record
                    .hooks
                    .iter_mut()
                    .find(|r| r.path == hook.path && r.name == hook.name && r.kind == hook.kind)
                {
                    stored.last_run = release::HookRun {
                        started_at: started,
                        completed_at: go_time(self.clock.now()),
                        phase: if outcome.is_ok() {
                            "Succeeded"
                        } else {
                            "Failed"
                        }
                        .into(),
                    };
                }
                cluster
                    .write_record(record, self.clock.now().timestamp(), false)
                    .await?;
            }
            if let Err(d) = outcome {
                if policy(hook, "hook-failed") {
                    cluster.delete(object, ns).await?;
                }
                return Err(d);
            }
        }
        for (hook, object) in hooks.iter().rev() {
            if !object.is_null() && policy(hook, "hook-succeeded") {
                cluster.delete(object, ns).await?;
            }
        }
        Ok(())
    }

    /// Puts the previous revision back after a failed upgrade, as Helm's
    /// atomic upgrade does: its objects re-applied, objects only the
    /// failed revision had removed, and a new revision recording the
    /// rollback.
    async fn rollback(
        &self,
        cluster: &ReleaseCluster,
        settings: &ReleaseSettings,
        previous: &Release,
        failed: &Release,
        now_text: &str,
        unix_now: i64,
    ) -> Result<(), Diagnostics> {
        for mut object in manifest_in_order(&previous.manifest)? {
            release::add_ownership(&mut object, &settings.name, &settings.namespace);
            cluster.apply(&object, &settings.namespace).await?;
        }
        self.remove_new_objects(
            cluster,
            &settings.namespace,
            &failed.manifest,
            &previous.manifest,
        )
        .await?;
        let mut restored = previous.clone();
        restored.version = failed.version + 1;
        restored.info.status = Status::Deployed;
        restored.info.description = format!("Rollback to {}", previous.version);
        restored.info.last_deployed = now_text.to_string();
        cluster.write_record(&restored, unix_now, true).await?;
        cluster
            .write_record(&release::supersede(previous), unix_now, false)
            .await
    }

    /// Deletes the objects of `manifest` that `kept` does not have.
    async fn remove_new_objects(
        &self,
        cluster: &ReleaseCluster,
        namespace: &str,
        manifest: &str,
        kept: &str,
    ) -> Result<(), Diagnostics> {
        let keep: Vec<_> = manifest_in_order(kept)?.iter().map(object_key).collect();
        let objects = release::uninstall_order(manifest)
            .map_err(|e| error("Release manifest is invalid", e))?;
        for o in objects {
            if !keep.contains(&object_key(&o.object)) {
                cluster.delete(&o.object, namespace).await?;
            }
        }
        Ok(())
    }

    async fn remove_objects(
        &self,
        cluster: &ReleaseCluster,
        namespace: &str,
        manifest: &str,
    ) -> Result<(), Diagnostics> {
        let objects = release::uninstall_order(manifest)
            .map_err(|e| error("Release manifest is invalid", e))?;
        for o in objects {
            cluster.delete(&o.object, namespace).await?;
        }
        Ok(())
    }

    /// Uninstalls the release: its objects in reverse kind order, then
    /// every record.
    async fn uninstall(&self, prior: &Value) -> Result<(), Diagnostics> {
        let settings = ReleaseSettings::from_value(prior);
        let cluster = self.connect().await?;
        let records = cluster.records(&settings.name, &settings.namespace).await?;
        if let Some(last) = records.last() {
            let hooks = |event| record_hooks(last, event);
            self.run_hooks(&cluster, &hooks(HookEvent::PreDelete)?, &settings, None)
                .await?;
            self.remove_objects(&cluster, &settings.namespace, &last.manifest)
                .await?;
            self.run_hooks(&cluster, &hooks(HookEvent::PostDelete)?, &settings, None)
                .await?;
        }
        for r in &records {
            cluster
                .delete_record(&settings.name, &settings.namespace, r.version)
                .await?;
        }
        Ok(())
    }

    /// The state after an install, upgrade or read: the planned (or prior)
    /// attributes with the computed ones taken from the release record.
    fn state(
        &self,
        schema: &Schema,
        base: &Value,
        settings: &ReleaseSettings,
        record: &Release,
    ) -> Result<Value, Diagnostics> {
        let values = cloaked_values(&record.config, settings)
            .map_err(|e| error("Invalid release values", e))?;
        let mut out = serde_json::Map::new();
        let base = base.clone().unmark_deep();
        for name in schema.block.attributes.keys() {
            let v = base
                .get_attr(name)
                .filter(|v| v.is_wholly_known())
                .and_then(|v| v.to_json().ok())
                .unwrap_or(Json::Null);
            out.insert(name.clone(), v);
        }
        for name in schema.block.block_types.keys() {
            let v = base
                .get_attr(name)
                .and_then(|v| v.to_json().ok())
                .unwrap_or(json!([]));
            out.insert(name.clone(), if v.is_null() { json!([]) } else { v });
        }
        out.insert("id".into(), json!(record.name));
        out.insert("manifest".into(), Json::Null);
        out.insert(
            "metadata".into(),
            metadata_json(record, &go_json(&Json::Object(values))),
        );
        out.insert("status".into(), json!(record.info.status.as_str()));
        out.insert("version".into(), json!(record.chart.metadata.version));
        Value::from_json(&Json::Object(out), &schema.block.implied_type())
            .map_err(|e| error("Invalid release state", e))
    }

    /// Reads the release from its records; `None` when it is gone.
    async fn read(&self, schema: &Schema, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let settings = ReleaseSettings::from_value(state);
        let cluster = self.connect().await?;
        let records = cluster.records(&settings.name, &settings.namespace).await?;
        let Some(last) = records.last() else {
            return Ok(None);
        };
        if last.info.status == Status::Uninstalled {
            return Ok(None);
        }
        let mut st = self.state(schema, state, &settings, last)?;
        // A read keeps the values text the state had (the cluster's copy
        // may show set values differently).
        if let (Some(entries), Some(prior_meta)) = (st.as_entries(), state.get_attr("metadata")) {
            if prior_meta.is_wholly_known()
                && !prior_meta.is_null()
                && last.version == metadata_revision(prior_meta)
            {
                let mut entries = entries.clone();
                entries.insert("metadata".into(), prior_meta.clone());
                st = Value::object(entries);
            }
        }
        Ok(Some(st))
    }
}

/// `dependency_update`: fetches the dependencies `Chart.yaml` lists that
/// the chart's `charts/` directory lacks (`file://` repositories relative
/// to a local chart's directory), as `helm dependency update` would.
fn fetch_missing_dependencies(
    fetcher: &ChartFetcher,
    chart: &mut meshform_helm::Chart,
    chart_location: &str,
) -> Result<(), ChartFetchError> {
    let missing: Vec<_> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.metadata.name == d.name))
        .cloned()
        .collect();
    for dep in missing {
        let reference = match dep.repository.strip_prefix("file://") {
            Some(relative) => ChartRef {
                chart: std::path::Path::new(chart_location)
                    .join(relative)
                    .display()
                    .to_string(),
                repository: None,
                version: None,
            },
            None => ChartRef {
                chart: dep.name.clone(),
                repository: Some(dep.repository.clone()).filter(|r| !r.is_empty()),
                version: Some(dep.version.clone()).filter(|v| !v.is_empty()),
            },
        };
        let sub = fetcher.fetch(&reference)?;
        chart.dependencies.push(sub);
    }
    Ok(())
}

/// What identifies an object across revisions.
type ObjectKey = (Option<Json>, Option<Json>, Option<Json>, Option<Json>);

fn object_key(o: &Json) -> ObjectKey {
    (
        o.get("apiVersion").cloned(),
        o.get("kind").cloned(),
        o.pointer("/metadata/namespace").cloned(),
        o.pointer("/metadata/name").cloned(),
    )
}

/// The objects of a release manifest in the order it lists them (install
/// order).
fn manifest_in_order(manifest: &str) -> Result<Vec<Json>, Diagnostics> {
    let mut out = Vec::new();
    for doc in meshform_helm::manifest::split_documents(manifest) {
        let object = meshform_helm::yaml::parse(&doc)
            .map_err(|e| error("Release manifest is invalid", e))?;
        if !object.is_null() {
            out.push(object);
        }
    }
    Ok(out)
}

/// The hooks of a stored release for one event, in execution order.
fn record_hooks(record: &Release, event: HookEvent) -> Result<Vec<(Hook, Json)>, Diagnostics> {
    let mut hooks: Vec<Hook> = record
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == event.as_str()))
        .map(|h| Hook {
            name: h.name.clone(),
            kind: h.kind.clone(),
            path: h.path.clone(),
            manifest: h.manifest.clone(),
            events: h
                .events
                .iter()
                .filter_map(|e| HookEvent::parse(e))
                .collect(),
            weight: h.weight,
            delete_policies: h.delete_policies.clone(),
        })
        .collect();
    hooks.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.name.cmp(&b.name)));
    hooks
        .into_iter()
        .map(|h| {
            let object = meshform_helm::yaml::parse(&h.manifest)
                .map_err(|e| error("Release hook is invalid", e))?;
            Ok((h, object))
        })
        .collect()
}

fn metadata_revision(meta: &Value) -> i64 {
    meta.as_elements()
        .and_then(|m| m.first())
        .and_then(|m| number(m, "revision"))
        .unwrap_or(-1)
}

#[async_trait]
impl Provider for HelmProvider {
    async fn plan_resource_change(
        &self,
        req: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        let schema = match self.release_schema(&req.type_name) {
            Ok(s) => s,
            Err(diagnostics) => {
                return PlanResourceChangeResponse {
                    diagnostics,
                    ..Default::default()
                }
            }
        };
        let plan = plan_release(
            schema,
            &req.prior_state,
            &req.proposed_new_state,
            &req.config,
        );
        PlanResourceChangeResponse {
            planned_state: Some(plan.planned),
            requires_replace: plan.requires_replace,
            planned_private: req.prior_private,
            diagnostics: Diagnostics::default(),
        }
    }

    async fn apply_resource_change(
        &self,
        req: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        let fail = |diagnostics| ApplyResourceChangeResponse {
            diagnostics,
            ..Default::default()
        };
        let schema = match self.release_schema(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        if req.planned_state.is_null() {
            return match self.uninstall(&req.prior_state).await {
                Ok(()) => ApplyResourceChangeResponse {
                    new_state: Some(Value::null(schema.block.implied_type())),
                    ..Default::default()
                },
                Err(d) => fail(d),
            };
        }
        match self
            .install(schema, &req.planned_state, !req.prior_state.is_null())
            .await
        {
            Ok(state) => ApplyResourceChangeResponse {
                new_state: Some(state),
                private: br#"{"schema_version":"1"}"#.to_vec(),
                diagnostics: Diagnostics::default(),
            },
            Err(d) => fail(d),
        }
    }

    async fn read_resource(&self, req: ReadResourceRequest) -> ReadResourceResponse {
        if self.offline || req.current_state.is_null() {
            return ReadResourceResponse {
                new_state: Some(req.current_state),
                private: req.private,
                diagnostics: Diagnostics::default(),
            };
        }
        let result = match self.release_schema(&req.type_name) {
            Ok(schema) => self.read(schema, &req.current_state).await,
            Err(d) => Err(d),
        };
        match result {
            Ok(state) => ReadResourceResponse {
                new_state: state,
                private: req.private,
                diagnostics: Diagnostics::default(),
            },
            Err(diagnostics) => ReadResourceResponse {
                diagnostics,
                ..Default::default()
            },
        }
    }

    async fn import_resource_state(
        &self,
        req: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let fail = |diagnostics| ImportResourceStateResponse {
            diagnostics,
            ..Default::default()
        };
        let schema = match self.release_schema(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        let Some((namespace, name)) = req
            .id
            .split_once('/')
            .filter(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            return fail(error(
                "Unexpected format of ID",
                format!(
                    "the import ID {:?} must have the form namespace/name",
                    req.id
                ),
            ));
        };
        let cluster = match self.connect().await {
            Ok(c) => c,
            Err(d) => return fail(d),
        };
        let records = match cluster.records(name, namespace).await {
            Ok(r) => r,
            Err(d) => return fail(d),
        };
        let Some(last) = records
            .last()
            .filter(|r| r.info.status != Status::Uninstalled)
        else {
            return fail(error(
                "Cannot import non-existent remote object",
                format!("release {name:?} does not exist in namespace {namespace:?}"),
            ));
        };
        // Imported releases take their settings from the record: chart
        // name, user values as one document, and the provider's defaults.
        let values_doc = serde_yaml_ng::to_string(&last.config).unwrap_or_default();
        let mut seed = serde_json::Map::new();
        for (k, a) in &schema.block.attributes {
            if let Some(d) = &a.plan.default {
                seed.insert(k.clone(), d.clone());
            }
        }
        seed.insert("name".into(), json!(name));
        seed.insert("namespace".into(), json!(namespace));
        seed.insert("chart".into(), json!(last.chart.metadata.name));
        if !last.config.is_empty() {
            seed.insert("values".into(), json!([values_doc]));
        }
        let seed = match Value::from_json(&Json::Object(seed), &schema.block.implied_type()) {
            Ok(v) => v,
            Err(e) => return fail(error("Invalid release state", e)),
        };
        let settings = ReleaseSettings::from_value(&seed);
        match self.state(schema, &seed, &settings, last) {
            Ok(state) => ImportResourceStateResponse {
                imported: vec![ImportedResource {
                    type_name: req.type_name.clone(),
                    state,
                    private: br#"{"schema_version":"1"}"#.to_vec(),
                }],
                diagnostics: Diagnostics::default(),
            },
            Err(d) => fail(d),
        }
    }

    async fn read_data_source(&self, req: ReadDataSourceRequest) -> ReadDataSourceResponse {
        ReadDataSourceResponse {
            diagnostics: error(
                "Invalid data source",
                format!(
                    "the provider hashicorp/helm does not support data source {:?}",
                    req.type_name
                ),
            ),
            ..Default::default()
        }
    }
}

/// The manifest a `helm_release` object would install, rendered with no
/// cluster (lookups find nothing, Helm's default capabilities), as
/// `plan -helm-diff` compares it. Blocking: call it outside async code.
pub fn render_manifest(
    release: &Value,
    env: &BTreeMap<String, String>,
) -> Result<String, Diagnostics> {
    let settings = ReleaseSettings::from_value(release);
    let mirrors = Mirrors::parse(env.get(MIRROR_ENV).map(String::as_str))
        .map_err(|e| error("Invalid MESHFORM_HELM_MIRROR", e))?;
    let fetcher = ChartFetcher {
        sources: meshform_helm::source::Sources::new(chart_source::cache_dir(None, env))
            .map_err(|e| error("Chart source unavailable", e))?,
        mirrors,
    };
    let chart = fetcher
        .fetch(&settings.chart_ref())
        .map_err(|e| error("Chart could not be fetched", e))?;
    let config = settings
        .config()
        .map_err(|e| error("Invalid release values", e))?;
    let options = RenderOptions {
        release: Some(ReleaseContext {
            name: settings.name.clone(),
            namespace: settings.namespace.clone(),
            revision: 1,
            is_upgrade: false,
        }),
        capabilities: Capabilities::default(),
        lookup: None,
    };
    render_release(chart, &config, &options, settings.render_subchart_notes)
        .map(|r| r.manifest())
        .map_err(|e| error("Chart could not be rendered", e))
}
