//! Helm without the helm binary: loading charts (directories, `.tgz`,
//! HTTP repositories, OCI registries) through [`ChartSource`], merging and
//! coalescing values, rendering templates with Helm's engine semantics and
//! Sprig's functions ([`engine`]), splitting and ordering the result the way
//! Helm installs it ([`manifest`]), Helm 3's release records and install
//! order ([`release`]), and per-object manifest diffs ([`diff`]).
//!
//! Key types: [`Chart`], [`Values`], [`Rendered`], [`release::Release`].
//! The template engine (`gotmpl`) is used only inside `engine::adapter`.
//! This crate knows nothing of Terraform and talks to no cluster: a
//! Kubernetes client is the caller's business ([`engine::Lookup`] is the
//! only door for `lookup`).

pub mod chart;
pub mod diff;
pub mod engine;
mod error;
pub mod manifest;
pub mod release;
pub mod semver_util;
pub mod source;
pub mod values;
pub mod yaml;

pub use chart::{Chart, ChartFile, Metadata};
pub use engine::{Capabilities, Lookup, LookupRequest, ReleaseContext, RenderOptions};
pub use error::{HelmError, TemplateLocation};
pub use manifest::{Hook, HookEvent, Manifest};
pub use source::{ChartRef, ChartSource};
pub use values::{SetKind, Values};

/// A chart rendered for a release: what `helm template` prints and what an
/// install applies.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The chart with disabled subcharts removed.
    pub chart: Chart,
    /// The user-supplied values (Helm's release `config`).
    pub config: Values,
    /// The coalesced values templates saw.
    pub values: Values,
    /// Objects, sorted in install order.
    pub manifests: Vec<Manifest>,
    /// Hooks, sorted by kind.
    pub hooks: Vec<Hook>,
    /// The rendered `NOTES.txt` of the top chart (and of subcharts when asked).
    pub notes: String,
    /// CRD files of the chart and its subcharts: (path, content), parent first.
    pub crds: Vec<(String, String)>,
}

impl Rendered {
    /// The release manifest: every non-hook object, in install order.
    pub fn manifest(&self) -> String {
        manifest::manifest_text(&self.manifests)
    }

    /// `helm template` output: CRDs (when asked), manifest, then hooks.
    pub fn template_output(&self, include_crds: bool) -> String {
        let mut out = String::new();
        if include_crds {
            for (path, content) in &self.crds {
                out.push_str(&format!("---\n# Source: {path}\n{content}\n"));
            }
        }
        out.push_str(&self.manifest());
        out.push_str(&manifest::hooks_text(&self.hooks));
        out
    }
}

/// Renders `chart` for a release with the user's values, as `helm install`
/// / `helm template` do: dependencies resolved, values coalesced, templates
/// executed, documents split and sorted.
pub fn render_release(
    mut chart: Chart,
    config: &Values,
    options: &RenderOptions,
    subchart_notes: bool,
) -> Result<Rendered, HelmError> {
    check_kube_version(&chart, &options.capabilities.kube_version)?;
    let first = values::coalesce(&chart, config);
    chart.resolve_dependencies(&first)?;
    values::apply_import_values(&mut chart);
    let coalesced = values::coalesce(&chart, config);
    let mut rendered = engine::render(&chart, &coalesced, options)?;
    let top_notes = format!("{}/templates/NOTES.txt", chart.name());
    let mut notes = String::new();
    let note_keys: Vec<String> = rendered
        .keys()
        .filter(|k| k.ends_with("/templates/NOTES.txt"))
        .cloned()
        .collect();
    for key in note_keys {
        if let Some(text) = rendered.remove(&key) {
            if key == top_notes || subchart_notes {
                if !notes.is_empty() && !text.is_empty() {
                    notes.push('\n');
                }
                notes.push_str(&text);
            }
        }
    }
    let (hooks, manifests) = manifest::sort_manifests(&rendered)?;
    let mut crds = Vec::new();
    collect_crds(&chart, chart.name(), &mut crds);
    Ok(Rendered {
        chart,
        config: config.clone(),
        values: coalesced,
        manifests,
        hooks,
        notes,
        crds,
    })
}

/// Refuses a chart whose `kubeVersion` constraint the cluster does not meet.
fn check_kube_version(chart: &Chart, kube_version: &str) -> Result<(), HelmError> {
    let constraint = chart.metadata.kube_version.trim();
    if constraint.is_empty() {
        return Ok(());
    }
    let c =
        semver_util::Constraint::parse(constraint).map_err(|message| HelmError::Constraint {
            constraint: constraint.to_string(),
            message,
        })?;
    let ok = semver_util::parse_version(kube_version).is_ok_and(|v| c.matches(&v));
    if ok {
        Ok(())
    } else {
        Err(HelmError::KubeVersion {
            chart: chart.metadata.name.clone(),
            constraint: constraint.to_string(),
            actual: kube_version.to_string(),
        })
    }
}

fn collect_crds(chart: &Chart, path: &str, out: &mut Vec<(String, String)>) {
    for f in chart.crd_files() {
        out.push((
            format!("{path}/{}", f.name),
            String::from_utf8_lossy(&f.data).into_owned(),
        ));
    }
    for sub in &chart.dependencies {
        collect_crds(sub, &format!("{path}/charts/{}", sub.name()), out);
    }
}
