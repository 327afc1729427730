//! Where `helm_release` charts come from: meshform_helm's [`Sources`]
//! (local paths, HTTP(S) repositories with a cache, `oci://` registries),
//! behind repository mirrors from `MESHFORM_HELM_MIRROR`
//! (`URL=TARGET,URL=TARGET`, each target a local directory or another
//! repository URL) so that a release whose repository cannot be reached
//! can be installed from a copy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meshform_helm::source::{select_version, IndexEntry, Sources};
use meshform_helm::{Chart, ChartRef, ChartSource, HelmError};

/// The environment variable holding repository mirrors.
pub const MIRROR_ENV: &str = "MESHFORM_HELM_MIRROR";

/// A problem finding or loading a chart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartFetchError {
    #[error("{MIRROR_ENV} entry {entry:?} is not of the form URL=TARGET")]
    BadMirror { entry: String },
    #[error(
        "chart repository {repository} cannot be reached ({source}); no {MIRROR_ENV} entry maps it, \
         set {MIRROR_ENV}={repository}=<local directory or URL> to install from a copy"
    )]
    Unreachable {
        repository: String,
        #[source]
        source: Box<HelmError>,
    },
    #[error("chart {chart} could not be loaded from mirror {target} of {repository}: {source}")]
    Mirror {
        repository: String,
        target: String,
        chart: String,
        #[source]
        source: Box<HelmError>,
    },
    #[error("the mirror directory {dir} has no chart {chart} matching version {version:?}")]
    NotInMirror {
        dir: PathBuf,
        chart: String,
        version: String,
    },
    #[error(transparent)]
    Helm(Box<HelmError>),
}

impl From<HelmError> for ChartFetchError {
    fn from(e: HelmError) -> Self {
        ChartFetchError::Helm(Box::new(e))
    }
}

/// Repository mirrors by normalised repository URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirrors(BTreeMap<String, String>);

fn normalise(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

impl Mirrors {
    /// Parses `URL=TARGET,URL=TARGET` (empty or unset: no mirrors).
    pub fn parse(text: Option<&str>) -> Result<Mirrors, ChartFetchError> {
        let mut out = BTreeMap::new();
        for entry in text
            .unwrap_or("")
            .split(',')
            .filter(|e| !e.trim().is_empty())
        {
            match entry.split_once('=') {
                Some((url, target)) if !url.trim().is_empty() && !target.trim().is_empty() => {
                    out.insert(normalise(url), target.trim().to_string());
                }
                _ => {
                    return Err(ChartFetchError::BadMirror {
                        entry: entry.to_string(),
                    })
                }
            }
        }
        Ok(Mirrors(out))
    }

    pub fn target(&self, repository: &str) -> Option<&str> {
        self.0.get(&normalise(repository)).map(String::as_str)
    }
}

/// Fetches charts, honouring mirrors.
pub struct ChartFetcher {
    pub sources: Sources,
    pub mirrors: Mirrors,
}

impl ChartFetcher {
    pub fn fetch(&self, reference: &ChartRef) -> Result<Chart, ChartFetchError> {
        let repository = reference.repository.clone().unwrap_or_default();
        if let Some(target) = self.mirrors.target(&repository) {
            let mirror_error = |source| ChartFetchError::Mirror {
                repository: repository.clone(),
                target: target.to_string(),
                chart: reference.chart.clone(),
                source: Box::new(source),
            };
            if target.contains("://") {
                let mirrored = ChartRef {
                    repository: Some(target.to_string()),
                    ..reference.clone()
                };
                return self.sources.fetch(&mirrored).map_err(mirror_error);
            }
            return from_directory(Path::new(target), reference);
        }
        match self.sources.fetch(reference) {
            Ok(chart) => Ok(chart),
            Err(e @ (HelmError::Http { .. } | HelmError::HttpStatus { .. }))
                if !repository.is_empty() =>
            {
                Err(ChartFetchError::Unreachable {
                    repository,
                    source: Box::new(e),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Loads a chart from a local copy of a repository: through its
/// `index.yaml` when there is one, else `<chart>-<version>.tgz` or a
/// `<chart>` directory.
fn from_directory(dir: &Path, reference: &ChartRef) -> Result<Chart, ChartFetchError> {
    let version = reference.version.clone().unwrap_or_default();
    let index_path = dir.join("index.yaml");
    if index_path.is_file() {
        let text = std::fs::read_to_string(&index_path).map_err(|e| HelmError::Io {
            path: index_path.display().to_string(),
            source: e,
        })?;
        let entries = parse_index(&text, &index_path)?;
        let list = entries
            .get(&reference.chart)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let entry = select_version(
            list,
            reference.version.as_deref(),
            &dir.display().to_string(),
            &reference.chart,
        )?;
        if let Some(url) = entry.urls.first().filter(|u| !u.contains("://")) {
            return Ok(Chart::load_path(&dir.join(url))?);
        }
        let by_name = dir.join(format!("{}-{}.tgz", entry.name, entry.version));
        return Ok(Chart::load_path(&by_name)?);
    }
    for candidate in [
        dir.join(format!("{}-{version}.tgz", reference.chart)),
        dir.join(&reference.chart),
    ] {
        if candidate.exists() {
            return Ok(Chart::load_path(&candidate)?);
        }
    }
    Err(ChartFetchError::NotInMirror {
        dir: dir.to_path_buf(),
        chart: reference.chart.clone(),
        version,
    })
}

fn parse_index(text: &str, path: &Path) -> Result<BTreeMap<String, Vec<IndexEntry>>, HelmError> {
    let invalid = |message: String| HelmError::Index {
        url: path.display().to_string(),
        message,
    };
    let doc = meshform_helm::yaml::parse(text).map_err(invalid)?;
    let entries = doc
        .get("entries")
        .cloned()
        .unwrap_or(serde_json::Value::Object(Default::default()));
    serde_json::from_value(entries).map_err(|e| invalid(e.to_string()))
}

/// Helm's repository cache directory: `repository_cache`, then
/// `HELM_REPOSITORY_CACHE`, `HELM_CACHE_HOME`, `XDG_CACHE_HOME/helm`,
/// `~/.cache/helm`, else a directory under the system temp dir.
pub fn cache_dir(configured: Option<&str>, env: &BTreeMap<String, String>) -> PathBuf {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty());
    if let Some(c) = configured.filter(|c| !c.is_empty()) {
        return PathBuf::from(c);
    }
    if let Some(c) = get("HELM_REPOSITORY_CACHE") {
        return PathBuf::from(c);
    }
    if let Some(c) = get("HELM_CACHE_HOME") {
        return PathBuf::from(c);
    }
    if let Some(c) = get("XDG_CACHE_HOME") {
        return Path::new(c).join("helm");
    }
    if let Some(h) = get("HOME") {
        return Path::new(h).join(".cache").join("helm");
    }
    std::env::temp_dir().join("meshform-helm-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_parse_and_match_without_trailing_slashes() {
        let m = Mirrors::parse(Some(
            "https://a.example/charts/=/srv/a, https://b.example=http://127.0.0.1:1",
        ))
        .unwrap();
        assert_eq!(m.target("https://a.example/charts"), Some("/srv/a"));
        assert_eq!(m.target("https://b.example/"), Some("http://127.0.0.1:1"));
        assert_eq!(m.target("https://c.example"), None);
        assert!(matches!(
            Mirrors::parse(Some("no-target")),
            Err(ChartFetchError::BadMirror { .. })
        ));
        assert_eq!(Mirrors::parse(None).unwrap(), Mirrors::default());
    }
}
