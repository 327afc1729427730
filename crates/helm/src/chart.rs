//! Charts in memory: loading a chart from a directory or a `.tgz` archive,
//! its metadata, templates, files, values and subcharts, and choosing which
//! subcharts are enabled (conditions, tags, aliases).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::HelmError;
use crate::values::Values;

/// `Chart.yaml`, with the field order and omissions of Helm's JSON encoding.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    #[serde(
        default,
        rename = "apiVersion",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(
        default,
        rename = "appVersion",
        skip_serializing_if = "String::is_empty"
    )]
    pub app_version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(
        default,
        rename = "kubeVersion",
        skip_serializing_if = "String::is_empty"
    )]
    pub kube_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
}

/// A maintainer entry of `Chart.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Maintainer {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// A dependency entry of `Chart.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Dependency {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enabled: bool,
    #[serde(
        default,
        rename = "import-values",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
}

/// One file of a chart: its path relative to the chart root and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// `Chart.lock`, when present (kept as data for the release record).
    pub lock: Option<Value>,
    /// Files under `templates/`, in path order.
    pub templates: Vec<ChartFile>,
    /// `values.yaml`, parsed.
    pub values: Values,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Every other file (README, `crds/`, files read through `.Files`).
    pub files: Vec<ChartFile>,
    /// Subcharts (after [`Chart::resolve_dependencies`], only the enabled ones).
    pub dependencies: Vec<Chart>,
}

impl Chart {
    /// The chart's name (an alias once dependencies are resolved).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Loads a chart from a directory or a `.tgz` file.
    pub fn load_path(path: &Path) -> Result<Chart, HelmError> {
        if path.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, path, &mut files)?;
            let ignore = files
                .iter()
                .find(|f| f.name == ".helmignore")
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
                .unwrap_or_default();
            let rules = IgnoreRules::parse(&ignore);
            files.retain(|f| !rules.ignored(&f.name));
            Chart::from_files(files, &path.display().to_string())
        } else {
            let bytes = std::fs::read(path).map_err(|source| HelmError::Io {
                path: path.display().to_string(),
                source,
            })?;
            Chart::load_archive(&bytes, &path.display().to_string())
        }
    }

    /// Loads a chart from the bytes of a `.tgz` archive.
    pub fn load_archive(bytes: &[u8], origin: &str) -> Result<Chart, HelmError> {
        let files = untar(bytes, origin)?;
        Chart::from_files(files, origin)
    }

    /// Builds a chart from its files (paths relative to the chart root).
    pub fn from_files(files: Vec<ChartFile>, origin: &str) -> Result<Chart, HelmError> {
        let bad = |message: String| HelmError::Chart {
            origin: origin.to_string(),
            message,
        };
        let mut chart = Chart::default();
        let mut sub_files: BTreeMap<String, Vec<ChartFile>> = BTreeMap::new();
        let mut sub_archives: Vec<ChartFile> = Vec::new();
        let mut have_chart_yaml = false;
        for f in files {
            let name = f.name.clone();
            if name == "Chart.yaml" {
                let text = String::from_utf8_lossy(&f.data);
                let v = crate::yaml::parse(&text).map_err(|e| bad(format!("Chart.yaml: {e}")))?;
                chart.metadata =
                    serde_json::from_value(v).map_err(|e| bad(format!("Chart.yaml: {e}")))?;
                have_chart_yaml = true;
            } else if name == "Chart.lock" {
                let text = String::from_utf8_lossy(&f.data);
                chart.lock = crate::yaml::parse(&text).ok();
            } else if name == "values.yaml" {
                let text = String::from_utf8_lossy(&f.data);
                chart.values =
                    crate::values::parse_values(&text, &format!("{origin}/values.yaml"))?;
            } else if name == "values.schema.json" {
                chart.schema = Some(f.data);
            } else if let Some(rest) = name.strip_prefix("charts/") {
                match rest.split_once('/') {
                    Some((sub, inner)) => {
                        sub_files
                            .entry(sub.to_string())
                            .or_default()
                            .push(ChartFile {
                                name: inner.to_string(),
                                data: f.data,
                            })
                    }
                    None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                        sub_archives.push(f)
                    }
                    None => chart.files.push(f),
                }
            } else if name.starts_with("templates/") {
                chart.templates.push(f);
            } else {
                chart.files.push(f);
            }
        }
        if !have_chart_yaml {
            return Err(bad("Chart.yaml file is missing".into()));
        }
        if chart.metadata.name.is_empty() {
            return Err(bad("Chart.yaml has no name".into()));
        }
        for (sub, files) in sub_files {
            chart
                .dependencies
                .push(Chart::from_files(files, &format!("{origin}/charts/{sub}"))?);
        }
        for archive in sub_archives {
            chart.dependencies.push(Chart::load_archive(
                &archive.data,
                &format!("{origin}/{}", archive.name),
            )?);
        }
        chart.templates.sort_by(|a, b| a.name.cmp(&b.name));
        chart.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(chart)
    }

    /// `crds/` files of this chart (not of subcharts), in path order.
    pub fn crd_files(&self) -> Vec<&ChartFile> {
        self.files
            .iter()
            .filter(|f| {
                f.name.starts_with("crds/")
                    && (f.name.ends_with(".yaml")
                        || f.name.ends_with(".yml")
                        || f.name.ends_with(".json"))
            })
            .collect()
    }

    /// Applies Chart.yaml's dependency list to the loaded subcharts: aliases
    /// rename copies, conditions and tags (evaluated on `values`, the
    /// coalesced values) drop disabled subcharts. Recurses into subcharts.
    pub fn resolve_dependencies(&mut self, values: &Values) -> Result<(), HelmError> {
        self.resolve_at(values, "")
    }

    fn resolve_at(&mut self, top: &Values, path: &str) -> Result<(), HelmError> {
        let loaded = std::mem::take(&mut self.dependencies);
        let mut by_name: BTreeMap<String, Chart> = BTreeMap::new();
        for c in loaded {
            by_name.insert(c.metadata.name.clone(), c);
        }
        let mut out = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        for dep in self.metadata.dependencies.iter_mut() {
            let Some(sub) = by_name.get(&dep.name) else {
                return Err(HelmError::MissingDependency {
                    chart: self.metadata.name.clone(),
                    dependency: dep.name.clone(),
                });
            };
            used.insert(dep.name.clone());
            let enabled = dependency_enabled(dep, top, path);
            dep.enabled = enabled;
            if !enabled {
                continue;
            }
            let mut sub = sub.clone();
            if !dep.alias.is_empty() {
                sub.metadata.name = dep.alias.clone();
            }
            out.push(sub);
        }
        for (name, c) in by_name {
            if !used.contains(&name) {
                out.push(c);
            }
        }
        for sub in &mut out {
            let sub_path = format!("{path}{}.", sub.metadata.name);
            sub.resolve_at(top, &sub_path)?;
        }
        self.dependencies = out;
        // Helm drops disabled dependencies from the metadata too.
        self.metadata.dependencies.retain(|d| d.enabled);
        Ok(())
    }
}

fn dependency_enabled(dep: &Dependency, top: &Values, path: &str) -> bool {
    // Conditions win over tags: the first condition path holding a bool decides.
    for cond in dep
        .condition
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if let Some(Value::Bool(b)) = lookup_path(top, &format!("{path}{cond}")) {
            return *b;
        }
    }
    if dep.tags.is_empty() {
        return true;
    }
    let tags = match top.get("tags") {
        Some(Value::Object(m)) => m,
        _ => return true,
    };
    let mut any_true = false;
    let mut any_false = false;
    for t in &dep.tags {
        match tags.get(t) {
            Some(Value::Bool(true)) => any_true = true,
            Some(Value::Bool(false)) => any_false = true,
            _ => {}
        }
    }
    any_true || !any_false
}

fn lookup_path<'a>(values: &'a Values, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur = values.get(first)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

fn collect_dir(root: &Path, dir: &Path, out: &mut Vec<ChartFile>) -> Result<(), HelmError> {
    let io = |source| HelmError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect_dir(root, &p, out)?;
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let data = std::fs::read(&p).map_err(|source| HelmError::Io {
                path: p.display().to_string(),
                source,
            })?;
            out.push(ChartFile { name: rel, data });
        }
    }
    Ok(())
}

/// Unpacks a gzipped tar of a chart, dropping the top directory.
fn untar(bytes: &[u8], origin: &str) -> Result<Vec<ChartFile>, HelmError> {
    let bad = |message: String| HelmError::Chart {
        origin: origin.to_string(),
        message,
    };
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut archive = tar::Archive::new(gz);
    let mut out = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a chart archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("not a chart archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| bad(format!("bad path in archive: {e}")))?
            .to_string_lossy()
            .replace('\\', "/");
        if path.split('/').any(|p| p == "..") {
            return Err(bad(format!("archive entry {path:?} leaves the chart")));
        }
        let Some((_, rest)) = path.split_once('/') else {
            continue;
        };
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
        out.push(ChartFile {
            name: rest.to_string(),
            data,
        });
    }
    if out.is_empty() {
        return Err(bad("the archive holds no chart files".into()));
    }
    Ok(out)
}

/// The subset of `.helmignore` syntax charts use: comments, `dir/`, globs
/// with `*` and `?` matched against the base name or the whole path, `!` negation.
struct IgnoreRules {
    rules: Vec<(bool, bool, String)>,
}

impl IgnoreRules {
    fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pat) = match line.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, line),
            };
            let (dir_only, pat) = match pat.strip_suffix('/') {
                Some(p) => (true, p),
                None => (false, pat),
            };
            rules.push((negate, dir_only, pat.trim_start_matches("./").to_string()));
        }
        IgnoreRules { rules }
    }

    fn ignored(&self, path: &str) -> bool {
        let mut ignored = false;
        let parts: Vec<&str> = path.split('/').collect();
        for (negate, dir_only, pat) in &self.rules {
            let hit = if *dir_only {
                parts[..parts.len().saturating_sub(1)]
                    .iter()
                    .any(|p| glob(pat, p))
            } else if pat.contains('/') {
                glob(pat, path)
            } else {
                parts.iter().any(|p| glob(pat, p))
            };
            if hit {
                ignored = !negate;
            }
        }
        ignored
    }
}

fn glob(pat: &str, s: &str) -> bool {
    fn rec(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| rec(&p[1..], &s[i..])),
            Some('?') => !s.is_empty() && rec(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && rec(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    rec(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // Written raw: the tar builder itself refuses `..`.
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, data.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn archives_nest_subchart_archives_and_refuse_escapes() {
        let sub = tgz(&[
            ("sub/Chart.yaml", "name: sub\nversion: 1.0.0\n"),
            ("sub/values.yaml", "a: 1\n"),
        ]);
        let files = vec![
            ChartFile {
                name: "Chart.yaml".into(),
                data: b"apiVersion: v2\nname: top\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  alias: renamed\n".to_vec(),
            },
            ChartFile {
                name: "charts/sub-1.0.0.tgz".into(),
                data: sub,
            },
        ];
        let mut chart = Chart::from_files(files, "mem").unwrap();
        assert_eq!(chart.dependencies[0].name(), "sub");
        chart.resolve_dependencies(&Values::new()).unwrap();
        assert_eq!(chart.dependencies[0].name(), "renamed");
        assert_eq!(chart.dependencies[0].values["a"], 1);
        let bad = tgz(&[("x/../../etc/passwd", "no")]);
        assert!(Chart::load_archive(&bad, "bad").is_err());
        assert!(Chart::load_archive(b"not gzip", "junk").is_err());
        let missing = ChartFile {
            name: "Chart.yaml".into(),
            data: b"name: top\nversion: 1.0.0\ndependencies:\n- name: gone\n".to_vec(),
        };
        let mut c = Chart::from_files(vec![missing], "mem").unwrap();
        assert!(matches!(
            c.resolve_dependencies(&Values::new()),
            Err(HelmError::MissingDependency { .. })
        ));
    }

    #[test]
    fn helmignore_globs() {
        let r = IgnoreRules::parse("# c\n*.swp\n.git/\nsecret.txt\n!keep.swp\n");
        assert!(r.ignored("a/b.swp"));
        assert!(!r.ignored("keep.swp"));
        assert!(r.ignored(".git/config"));
        assert!(r.ignored("secret.txt"));
        assert!(!r.ignored("templates/a.yaml"));
    }

    fn dep(condition: &str, tags: &[&str]) -> Dependency {
        Dependency {
            name: "d".into(),
            condition: condition.into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn conditions_and_tags() {
        let v: Values =
            serde_json::from_str(r#"{"d":{"enabled":false},"tags":{"x":true,"y":false}}"#).unwrap();
        assert!(!dependency_enabled(&dep("d.enabled", &[]), &v, ""));
        assert!(dependency_enabled(&dep("missing.path", &[]), &v, ""));
        assert!(dependency_enabled(&dep("", &["x", "y"]), &v, ""));
        assert!(!dependency_enabled(&dep("", &["y"]), &v, ""));
    }
}
