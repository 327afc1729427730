//! `helm template`: render a chart as Helm would, with no cluster.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meshform_helm::source::Sources;
use meshform_helm::{
    render_release, ChartRef, ChartSource, ReleaseContext, RenderOptions, SetKind, Values,
};

use crate::Globals;

#[derive(Debug, clap::Subcommand)]
pub enum HelmCommand {
    /// Render a chart's manifests locally, as `helm template` prints them.
    Template(TemplateArgs),
}

#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: chart name (with --repo), path, .tgz, URL or oci:// reference;
    /// with two arguments the first is the release name, as in `helm template`.
    #[arg(value_name = "CHART", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Values file (YAML); can be given several times, later files win.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value (`a.b=c`, `list={x,y}`); can be given several times.
    #[arg(long = "set", value_name = "K=V")]
    pub set: Vec<String>,
    /// Set a value, always as a string.
    #[arg(long = "set-string", value_name = "K=V")]
    pub set_string: Vec<String>,
    /// Release name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Release namespace.
    #[arg(short = 'n', long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// Chart version or constraint (newest stable when omitted).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Chart repository URL (HTTP(S) or oci://).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// Also print the CRDs of the chart and its subcharts.
    #[arg(long)]
    pub include_crds: bool,
    /// Kubernetes version reported to templates (`.Capabilities.KubeVersion`).
    #[arg(long, value_name = "V")]
    pub kube_version: Option<String>,
    /// Extra API versions reported to templates (`.Capabilities.APIVersions`).
    #[arg(short = 'a', long = "api-versions", value_name = "GROUP/VERSION")]
    pub api_versions: Vec<String>,
}

pub fn run(c: HelmCommand, _g: &Globals) -> anyhow::Result<ExitCode> {
    match c {
        HelmCommand::Template(a) => template(a),
    }
}

/// Where fetched charts are cached: `$HELM_CACHE_HOME`, else the user cache
/// directory's `meshform/helm`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HELM_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("meshform/helm");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache/meshform/helm"),
        None => std::env::temp_dir().join("meshform-helm-cache"),
    }
}

fn template(a: TemplateArgs) -> anyhow::Result<ExitCode> {
    let (name, chart) = match a.args.as_slice() {
        [chart] => (
            a.name.clone().unwrap_or_else(|| "release-name".into()),
            chart.clone(),
        ),
        [name, chart] => (name.clone(), chart.clone()),
        _ => anyhow::bail!("expected CHART or NAME CHART"),
    };
    let mut config = Values::new();
    for file in &a.values {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read values file {}", file.display()))?;
        let doc = meshform_helm::values::parse_values(&text, &file.display().to_string())?;
        meshform_helm::values::merge_values(&mut config, &doc);
    }
    for expr in &a.set {
        meshform_helm::values::apply_set(&mut config, expr, SetKind::Auto)?;
    }
    for expr in &a.set_string {
        meshform_helm::values::apply_set(&mut config, expr, SetKind::String)?;
    }
    let sources = Sources::new(cache_dir())?;
    let reference = ChartRef {
        chart: chart.clone(),
        repository: a.repo.clone(),
        version: a.version.clone(),
    };
    let loaded = sources.fetch(&reference).with_context(|| match &a.repo {
        Some(repo) => format!("cannot load chart {chart} from {repo}"),
        None => format!("cannot load chart {chart} (use --repo URL for a chart in a repository)"),
    })?;
    let mut options = RenderOptions {
        release: Some(ReleaseContext::install(&name, &a.namespace)),
        ..Default::default()
    };
    if let Some(v) = &a.kube_version {
        options.capabilities.kube_version = if v.starts_with('v') {
            v.clone()
        } else {
            format!("v{v}")
        };
    }
    options
        .capabilities
        .api_versions
        .extend(a.api_versions.iter().cloned());
    let rendered = render_release(loaded, &config, &options, false)?;
    let mut out = std::io::stdout().lock();
    match out.write_all(rendered.template_output(a.include_crds).as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(ExitCode::SUCCESS)
}
