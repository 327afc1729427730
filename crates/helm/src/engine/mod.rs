//! Helm's rendering engine: one template set for a chart and all its
//! subcharts (parsed deepest first, so a parent's `define` wins), the
//! built-in objects (`.Values`, `.Release`, `.Chart`, `.Capabilities`,
//! `.Files`, `.Template`), and `<no value>` removal.

mod adapter;
mod convert;
mod crypto;
mod funcs;
mod objects;
mod time;

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::chart::Chart;
use crate::error::HelmError;
use crate::values::Values;

pub use convert::{go_json, go_quote};
pub use time::go_layout_to_chrono;

/// The release a chart is rendered for (`.Release`).
#[derive(Debug, Clone)]
pub struct ReleaseContext {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
}

impl ReleaseContext {
    /// A first install (revision 1).
    pub fn install(name: &str, namespace: &str) -> Self {
        ReleaseContext {
            name: name.to_string(),
            namespace: namespace.to_string(),
            revision: 1,
            is_upgrade: false,
        }
    }
}

/// What the cluster offers (`.Capabilities`).
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// e.g. `v1.20.0`.
    pub kube_version: String,
    /// `group/version` and `group/version/Kind` entries.
    pub api_versions: Vec<String>,
}

impl Default for Capabilities {
    /// Helm's client-only defaults (`helm template` without a cluster):
    /// Kubernetes v1.20.0 and every group/version of client-go's scheme.
    fn default() -> Self {
        const VERSIONS: &[&str] = &[
            "v1",
            "admissionregistration.k8s.io/v1",
            "admissionregistration.k8s.io/v1alpha1",
            "admissionregistration.k8s.io/v1beta1",
            "apps/v1",
            "apps/v1beta1",
            "apps/v1beta2",
            "authentication.k8s.io/v1",
            "authentication.k8s.io/v1alpha1",
            "authentication.k8s.io/v1beta1",
            "authorization.k8s.io/v1",
            "authorization.k8s.io/v1beta1",
            "autoscaling/v1",
            "autoscaling/v2",
            "autoscaling/v2beta1",
            "autoscaling/v2beta2",
            "batch/v1",
            "batch/v1beta1",
            "certificates.k8s.io/v1",
            "certificates.k8s.io/v1alpha1",
            "certificates.k8s.io/v1beta1",
            "coordination.k8s.io/v1",
            "coordination.k8s.io/v1beta1",
            "discovery.k8s.io/v1",
            "discovery.k8s.io/v1beta1",
            "events.k8s.io/v1",
            "events.k8s.io/v1beta1",
            "extensions/v1beta1",
            "flowcontrol.apiserver.k8s.io/v1",
            "flowcontrol.apiserver.k8s.io/v1beta1",
            "flowcontrol.apiserver.k8s.io/v1beta2",
            "flowcontrol.apiserver.k8s.io/v1beta3",
            "internal.apiserver.k8s.io/v1alpha1",
            "networking.k8s.io/v1",
            "networking.k8s.io/v1alpha1",
            "networking.k8s.io/v1beta1",
            "node.k8s.io/v1",
            "node.k8s.io/v1alpha1",
            "node.k8s.io/v1beta1",
            "policy/v1",
            "policy/v1beta1",
            "rbac.authorization.k8s.io/v1",
            "rbac.authorization.k8s.io/v1alpha1",
            "rbac.authorization.k8s.io/v1beta1",
            "resource.k8s.io/v1alpha2",
            "scheduling.k8s.io/v1",
            "scheduling.k8s.io/v1alpha1",
            "scheduling.k8s.io/v1beta1",
            "storage.k8s.io/v1",
            "storage.k8s.io/v1alpha1",
            "storage.k8s.io/v1beta1",
            "storagemigration.k8s.io/v1alpha1",
            "apiextensions.k8s.io/v1",
            "apiextensions.k8s.io/v1beta1",
        ];
        Capabilities {
            kube_version: "v1.20.0".into(),
            api_versions: VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// A `lookup` call: which object is wanted. An empty name lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Answers `lookup` from a cluster. Without one (`helm template`), every
/// lookup is an empty map.
pub trait Lookup: Send + Sync {
    /// The object (or, for an empty name, a `List`), `None` when absent.
    fn lookup(&self, request: &LookupRequest) -> Result<Option<serde_json::Value>, String>;
}

/// Everything rendering needs besides the chart and its values.
#[derive(Clone, Default)]
pub struct RenderOptions {
    pub release: Option<ReleaseContext>,
    pub capabilities: Capabilities,
    pub lookup: Option<Arc<dyn Lookup>>,
}

struct Renderable {
    path: String,
    source: String,
    data: Value,
}

/// Renders every template of `chart` (subcharts included) with `values`
/// (already coalesced) and returns the output by template path
/// (`<chart>/templates/x.yaml`, `<chart>/charts/<sub>/templates/y.yaml`).
/// Partials (`_*.tpl`) are not in the result; `NOTES.txt` files are.
pub fn render(
    chart: &Chart,
    values: &Values,
    options: &RenderOptions,
) -> Result<BTreeMap<String, String>, HelmError> {
    let release = options
        .release
        .clone()
        .unwrap_or_else(|| ReleaseContext::install("release-name", "default"));
    let release_value = release_value(&release);
    let caps = capabilities_value(&options.capabilities);
    let mut renderables = Vec::new();
    collect(
        chart,
        chart.name(),
        &Value::Map(Arc::new(to_map(values))),
        &release_value,
        &caps,
        &mut renderables,
    );
    // Deepest paths first, then reverse lexical: parents parse last and
    // their `define`s win, as in Helm's sortTemplates.
    renderables.sort_by(|a, b| {
        let (ca, cb) = (a.path.matches('/').count(), b.path.matches('/').count());
        cb.cmp(&ca).then_with(|| b.path.cmp(&a.path))
    });
    let files: Vec<(String, String)> = renderables
        .iter()
        .map(|r| (r.path.clone(), r.source.clone()))
        .collect();
    let set = adapter::TemplateSet::build(&files, funcs::chart_funcs(options.lookup.clone()))?;
    let mut out = BTreeMap::new();
    for r in &renderables {
        let base = r.path.rsplit('/').next().unwrap_or(&r.path);
        if base.starts_with('_') || !set.has(&r.path) {
            continue;
        }
        let text = set.execute(&r.path, &r.data)?;
        out.insert(r.path.clone(), text.replace("<no value>", ""));
    }
    Ok(out)
}

fn to_map(values: &Values) -> BTreeMap<Arc<str>, Value> {
    values
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), convert::to_template(v)))
        .collect()
}

fn collect(
    chart: &Chart,
    path: &str,
    values: &Value,
    release: &Value,
    caps: &Value,
    out: &mut Vec<Renderable>,
) {
    let chart_value = chart_value(chart);
    let files_map: BTreeMap<String, Vec<u8>> = chart
        .files
        .iter()
        .map(|f| (f.name.clone(), f.data.clone()))
        .collect();
    let files = objects::files(&files_map);
    let base_path = format!("{path}/templates");
    for t in &chart.templates {
        let name = format!("{path}/{}", t.name);
        let mut template = BTreeMap::new();
        template.insert(Arc::from("Name"), Value::String(Arc::from(name.as_str())));
        template.insert(
            Arc::from("BasePath"),
            Value::String(Arc::from(base_path.as_str())),
        );
        let mut data = BTreeMap::new();
        data.insert(Arc::from("Values"), values.clone());
        data.insert(Arc::from("Release"), release.clone());
        data.insert(Arc::from("Chart"), chart_value.clone());
        data.insert(Arc::from("Capabilities"), caps.clone());
        data.insert(Arc::from("Files"), files.clone());
        data.insert(Arc::from("Template"), Value::Map(Arc::new(template)));
        data.insert(
            Arc::from("Subcharts"),
            Value::Map(Arc::new(BTreeMap::new())),
        );
        out.push(Renderable {
            path: name,
            source: String::from_utf8_lossy(&t.data).into_owned(),
            data: Value::Map(Arc::new(data)),
        });
    }
    for sub in &chart.dependencies {
        let sub_values = match values.field(sub.name()) {
            Some(v @ Value::Map(_)) => v.clone(),
            _ => Value::Map(Arc::new(BTreeMap::new())),
        };
        collect(
            sub,
            &format!("{path}/charts/{}", sub.name()),
            &sub_values,
            release,
            caps,
            out,
        );
    }
}

fn string(v: &str) -> Value {
    Value::String(Arc::from(v))
}

fn release_value(r: &ReleaseContext) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Name"), string(&r.name));
    m.insert(Arc::from("Namespace"), string(&r.namespace));
    m.insert(Arc::from("Revision"), Value::Int(r.revision));
    m.insert(Arc::from("IsUpgrade"), Value::Bool(r.is_upgrade));
    m.insert(Arc::from("IsInstall"), Value::Bool(!r.is_upgrade));
    m.insert(Arc::from("Service"), string("Helm"));
    Value::Map(Arc::new(m))
}

fn capabilities_value(c: &Capabilities) -> Value {
    let v = c.kube_version.trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts.next().unwrap_or("0").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    let mut kube = BTreeMap::new();
    kube.insert(Arc::from("Version"), string(&c.kube_version));
    kube.insert(Arc::from("GitVersion"), string(&c.kube_version));
    kube.insert(Arc::from("Major"), string(&major));
    kube.insert(Arc::from("Minor"), string(&minor));
    let mut helm = BTreeMap::new();
    helm.insert(Arc::from("Version"), string("v3.15.3"));
    helm.insert(Arc::from("GitCommit"), string(""));
    helm.insert(Arc::from("GitTreeState"), string(""));
    helm.insert(Arc::from("GoVersion"), string(""));
    let mut m = BTreeMap::new();
    m.insert(Arc::from("KubeVersion"), Value::Map(Arc::new(kube)));
    m.insert(
        Arc::from("APIVersions"),
        objects::api_versions(&c.api_versions),
    );
    m.insert(Arc::from("HelmVersion"), Value::Map(Arc::new(helm)));
    Value::Map(Arc::new(m))
}

fn chart_value(chart: &Chart) -> Value {
    let md = &chart.metadata;
    let strings =
        |l: &[String]| Value::List(l.iter().map(|s| string(s)).collect::<Vec<_>>().into());
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Name"), string(&md.name));
    m.insert(Arc::from("Home"), string(&md.home));
    m.insert(Arc::from("Sources"), strings(&md.sources));
    m.insert(Arc::from("Version"), string(&md.version));
    m.insert(Arc::from("Description"), string(&md.description));
    m.insert(Arc::from("Keywords"), strings(&md.keywords));
    let maintainers: Vec<Value> = md
        .maintainers
        .iter()
        .map(|mt| {
            let mut x = BTreeMap::new();
            x.insert(Arc::from("Name"), string(&mt.name));
            x.insert(Arc::from("Email"), string(&mt.email));
            x.insert(Arc::from("URL"), string(&mt.url));
            Value::Map(Arc::new(x))
        })
        .collect();
    m.insert(Arc::from("Maintainers"), Value::List(maintainers.into()));
    m.insert(Arc::from("Icon"), string(&md.icon));
    m.insert(Arc::from("APIVersion"), string(&md.api_version));
    m.insert(Arc::from("Condition"), string(&md.condition));
    m.insert(Arc::from("Tags"), string(&md.tags));
    m.insert(Arc::from("AppVersion"), string(&md.app_version));
    m.insert(Arc::from("Deprecated"), Value::Bool(md.deprecated));
    m.insert(
        Arc::from("Annotations"),
        Value::Map(Arc::new(
            md.annotations
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), string(v)))
                .collect(),
        )),
    );
    m.insert(Arc::from("KubeVersion"), string(&md.kube_version));
    m.insert(Arc::from("Type"), string(&md.chart_type));
    let deps: Vec<Value> = md
        .dependencies
        .iter()
        .map(|d| {
            let mut x = BTreeMap::new();
            x.insert(Arc::from("Name"), string(&d.name));
            x.insert(Arc::from("Version"), string(&d.version));
            x.insert(Arc::from("Repository"), string(&d.repository));
            x.insert(Arc::from("Condition"), string(&d.condition));
            x.insert(Arc::from("Alias"), string(&d.alias));
            x.insert(Arc::from("Enabled"), Value::Bool(d.enabled));
            Value::Map(Arc::new(x))
        })
        .collect();
    m.insert(Arc::from("Dependencies"), Value::List(deps.into()));
    Value::Map(Arc::new(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartFile;

    fn chart(templates: &[(&str, &str)]) -> Chart {
        let mut files = vec![ChartFile {
            name: "Chart.yaml".into(),
            data: b"apiVersion: v2\nname: t\nversion: 1.0.0\n".to_vec(),
        }];
        for (n, s) in templates {
            files.push(ChartFile {
                name: n.to_string(),
                data: s.as_bytes().to_vec(),
            });
        }
        Chart::from_files(files, "test").unwrap()
    }

    fn render_one(src: &str, values: &str) -> Result<String, HelmError> {
        let c = chart(&[("templates/x.yaml", src)]);
        let v = crate::values::parse_values(values, "test").unwrap();
        let out = render(
            &c,
            &crate::values::coalesce(&c, &v),
            &RenderOptions::default(),
        )?;
        Ok(out["t/templates/x.yaml"].clone())
    }

    fn check(src: &str, values: &str, expected: &str) {
        assert_eq!(
            render_one(src, values).unwrap(),
            expected,
            "template: {src}"
        );
    }

    #[test]
    fn missing_values_print_nothing() {
        check("a={{ .Values.missing }}", "", "a=");
    }

    #[test]
    fn set_writes_back_to_the_variable() {
        check(
            "{{- $d := dict }}{{- range $k := list \"a\" \"b\" }}{{- $d := set $d $k 1 }}{{- end }}{{ keys $d | sortAlpha | join \",\" }}",
            "",
            "a,b",
        );
    }

    #[test]
    fn capabilities_has_is_a_method_call() {
        check(
            "{{ .Capabilities.APIVersions.Has \"policy/v1\" }} {{ $.Capabilities.APIVersions.Has \"x/v9\" }}",
            "",
            "true false",
        );
    }

    #[test]
    fn failures_name_template_line_and_column() {
        let err = render_one("a\nb {{ fail \"boom\" }}", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template t/templates/x.yaml:2:6 failed: boom"
        );
        let err = render_one("{{ required \"need x\" .Values.x }}", "").unwrap_err();
        assert!(err.to_string().contains("need x"), "{err}");
    }

    #[test]
    fn failures_inside_included_templates_name_the_defining_file() {
        let c = chart(&[
            (
                "templates/_helpers.tpl",
                "{{- define \"h\" -}}\n\n{{ required \"x is needed\" .x }}\n{{- end }}",
            ),
            ("templates/a.yaml", "a: {{ include \"h\" (dict) }}"),
        ]);
        let err = render(&c, &Values::new(), &RenderOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template t/templates/_helpers.tpl:3:4 failed: x is needed"
        );
    }

    #[test]
    fn syntax_errors_name_template_and_line() {
        let err = render_one("ok\n{{ if }}", "").unwrap_err();
        assert!(
            matches!(&err, HelmError::Parse { location, .. } if location.template == "t/templates/x.yaml" && location.line == 2),
            "{err}"
        );
        let err = render_one("{{ include \"nope\" . }}", "").unwrap_err();
        assert!(err.to_string().contains("x.yaml:1:4"), "{err}");
    }

    #[test]
    fn unknown_functions_are_refused_when_parsing() {
        let err = render_one("\n\n  {{ nosuchfunc 1 }}", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template t/templates/x.yaml:3:6 calls function \"nosuchfunc\", which is not defined"
        );
    }

    #[test]
    fn include_and_tpl_reach_the_set() {
        check(
            "{{- define \"n\" }}N={{ .x }}{{ end }}{{ include \"n\" (dict \"x\" 1) }} {{ tpl \"{{ .Values.a }}\" $ }}",
            "a: hi",
            "N=1 hi",
        );
    }

    #[test]
    fn charts_declare_the_kubernetes_versions_they_support() {
        let mut c = chart(&[("templates/x.yaml", "a: 1")]);
        c.metadata.kube_version = ">=1.25.0-0".into();
        let err =
            crate::render_release(c.clone(), &Values::new(), &RenderOptions::default(), false)
                .unwrap_err();
        assert!(matches!(err, HelmError::KubeVersion { .. }), "{err}");
        let mut options = RenderOptions::default();
        options.capabilities.kube_version = "v1.31.0".into();
        assert!(crate::render_release(c, &Values::new(), &options, false).is_ok());
    }

    #[test]
    fn comparisons_of_values_and_literals() {
        check(
            "{{ eq .Values.num 3.0 }} {{ eq (int .Values.num) 3 }} {{ gt .Values.num 2.5 }}",
            "num: 3",
            "true true true",
        );
    }

    #[test]
    fn numbers_from_values_are_floats() {
        check(
            "{{ .Values.num }} {{ typeOf .Values.num }} {{ .Values.big }} {{ .Values.false }} {{ .Values.mode }}",
            "num: 3\nbig: 1000000\nn: 4\nmode: 0755",
            "3 float64 1e+06 4 493",
        );
    }
}
