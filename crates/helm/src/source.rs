//! Where charts come from. [`ChartSource`] is the seam: the caller injects
//! one. [`Sources`] dispatches a [`ChartRef`] to a local directory or
//! archive, an HTTP(S) chart repository (`index.yaml`, version constraint,
//! sha256 digest check, archives cached like Helm's repository cache) or an
//! OCI registry (`oci://host/path/chart`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::Digest;

use crate::chart::Chart;
use crate::error::HelmError;
use crate::semver_util::{parse_version, Constraint};

/// What the user names: a chart (name, path, URL or `oci://` reference),
/// the repository it lives in, and a version constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartRef {
    pub chart: String,
    pub repository: Option<String>,
    /// A version or constraint (`2.9.3`, `^2.9`); `None` means the newest
    /// stable version.
    pub version: Option<String>,
}

/// Fetches and loads charts.
pub trait ChartSource {
    fn fetch(&self, reference: &ChartRef) -> Result<Chart, HelmError>;
}

/// Loads charts from local directories and `.tgz` files.
#[derive(Debug, Default, Clone)]
pub struct LocalSource;

impl ChartSource for LocalSource {
    fn fetch(&self, reference: &ChartRef) -> Result<Chart, HelmError> {
        let path = match &reference.repository {
            Some(repo) if !repo.contains("://") => Path::new(repo).join(&reference.chart),
            _ => PathBuf::from(&reference.chart),
        };
        Chart::load_path(&path)
    }
}

/// An entry of a repository's `index.yaml`.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexEntry {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct IndexFile {
    #[serde(default)]
    entries: std::collections::BTreeMap<String, Vec<IndexEntry>>,
}

/// Picks the newest entry of `chart` matching `constraint` (newest stable
/// when there is none).
pub fn select_version<'a>(
    entries: &'a [IndexEntry],
    constraint: Option<&str>,
    repository: &str,
    chart: &str,
) -> Result<&'a IndexEntry, HelmError> {
    let not_found = || HelmError::ChartNotFound {
        repository: repository.to_string(),
        chart: chart.to_string(),
        constraint: constraint.unwrap_or("").to_string(),
    };
    let constraint = match constraint.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(
            Constraint::parse(c).map_err(|message| HelmError::Constraint {
                constraint: c.to_string(),
                message,
            })?,
        ),
        None => None,
    };
    let mut best: Option<(semver::Version, &IndexEntry)> = None;
    for e in entries {
        let Ok(v) = parse_version(&e.version) else {
            continue;
        };
        let ok = match &constraint {
            Some(c) => c.matches(&v),
            None => v.pre.is_empty(),
        };
        if ok && best.as_ref().is_none_or(|(b, _)| v > *b) {
            best = Some((v, e));
        }
    }
    best.map(|(_, e)| e).ok_or_else(not_found)
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What an HTTP GET answered.
struct Answer {
    status: u16,
    www_authenticate: Option<String>,
    body: Vec<u8>,
}

/// One GET on a plain thread of its own, with a client made there: the
/// blocking client must not run (or be dropped) on an async runtime's
/// thread, and callers (a provider on tokio) may be on one.
fn http_get(url: &str, accept: Option<&str>, token: Option<&str>) -> Result<Answer, HelmError> {
    let http_err = |message: String| HelmError::Http {
        url: url.to_string(),
        message,
    };
    let work = || -> Result<Answer, HelmError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .user_agent("Helm/3.15.3")
            .build()
            .map_err(|e| http_err(e.to_string()))?;
        let mut req = client.get(url);
        if let Some(a) = accept {
            req = req.header(reqwest::header::ACCEPT, a);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().map_err(|e| http_err(e.to_string()))?;
        let status = resp.status().as_u16();
        let www_authenticate = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let body = resp.bytes().map_err(|e| http_err(e.to_string()))?.to_vec();
        Ok(Answer {
            status,
            www_authenticate,
            body,
        })
    };
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|_| Err(http_err("the HTTP worker thread stopped".into())))
    })
}

/// The body of a successful answer; any other status is an error.
fn ok_body(answer: Answer, url: &str) -> Result<Vec<u8>, HelmError> {
    if !(200..300).contains(&answer.status) {
        return Err(HelmError::HttpStatus {
            url: url.to_string(),
            status: answer.status,
        });
    }
    Ok(answer.body)
}

fn fetch_ok(url: &str, accept: Option<&str>, token: Option<&str>) -> Result<Vec<u8>, HelmError> {
    ok_body(http_get(url, accept, token)?, url)
}

/// An HTTP(S) chart repository client with an on-disk cache: the last index
/// of each repository and every verified archive, named like Helm's
/// (`repository/<chart>-<version>.tgz`).
#[derive(Debug, Clone)]
pub struct HttpRepository {
    cache_dir: PathBuf,
}

impl HttpRepository {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Result<Self, HelmError> {
        Ok(HttpRepository {
            cache_dir: cache_dir.into(),
        })
    }

    fn cache_path(&self, file: &str) -> PathBuf {
        self.cache_dir.join("repository").join(file)
    }

    fn write_cache(&self, file: &str, data: &[u8]) {
        let path = self.cache_path(file);
        if let Some(parent) = path.parent() {
            if std::fs::create_dir_all(parent).is_err() {
                return;
            }
        }
        if let Err(e) = std::fs::write(&path, data) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the chart cache");
        }
    }

    /// Downloads and parses `index.yaml`; falls back to the cached copy when
    /// the repository cannot be reached.
    pub fn index(
        &self,
        repository: &str,
    ) -> Result<std::collections::BTreeMap<String, Vec<IndexEntry>>, HelmError> {
        let url = format!("{}/index.yaml", repository.trim_end_matches('/'));
        let cache_name = format!("{}-index.yaml", cache_key(repository));
        let text = match fetch_ok(&url, None, None) {
            Ok(bytes) => {
                self.write_cache(&cache_name, &bytes);
                bytes
            }
            Err(e @ HelmError::Http { .. }) => match std::fs::read(self.cache_path(&cache_name)) {
                Ok(cached) => cached,
                Err(_) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let parsed = crate::yaml::parse(&String::from_utf8_lossy(&text)).map_err(|message| {
            HelmError::Index {
                url: url.clone(),
                message,
            }
        })?;
        let index: IndexFile = serde_json::from_value(parsed).map_err(|e| HelmError::Index {
            url: url.clone(),
            message: e.to_string(),
        })?;
        Ok(index.entries)
    }

    /// Fetches the archive bytes of `chart` from `repository`, verified
    /// against the index digest; served from the cache when it holds an
    /// archive with that digest.
    pub fn fetch_archive(
        &self,
        repository: &str,
        chart: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>, HelmError> {
        let index = self.index(repository)?;
        let entries = index.get(chart).map(Vec::as_slice).unwrap_or(&[]);
        let entry = select_version(entries, version, repository, chart)?;
        let cache_name = format!("{}-{}.tgz", entry.name, entry.version);
        if let Ok(cached) = std::fs::read(self.cache_path(&cache_name)) {
            if !entry.digest.is_empty() && sha256_hex(&cached) == entry.digest {
                tracing::debug!(chart = %cache_name, "chart served from the cache");
                return Ok(cached);
            }
        }
        let Some(first) = entry.urls.first() else {
            return Err(HelmError::Index {
                url: repository.to_string(),
                message: format!("entry {} {} has no urls", entry.name, entry.version),
            });
        };
        let url = if first.contains("://") {
            first.clone()
        } else {
            format!(
                "{}/{}",
                repository.trim_end_matches('/'),
                first.trim_start_matches('/')
            )
        };
        let bytes = fetch_ok(&url, None, None)?;
        if !entry.digest.is_empty() {
            let actual = sha256_hex(&bytes);
            if actual != entry.digest {
                return Err(HelmError::DigestMismatch {
                    url,
                    expected: entry.digest.clone(),
                    actual,
                });
            }
        }
        self.write_cache(&cache_name, &bytes);
        Ok(bytes)
    }
}

/// A file-name-safe key for a repository URL.
fn cache_key(repository: &str) -> String {
    let digest = sha256_hex(repository.as_bytes());
    format!("repo-{}", &digest[..16])
}

impl ChartSource for HttpRepository {
    fn fetch(&self, reference: &ChartRef) -> Result<Chart, HelmError> {
        let repo = reference.repository.as_deref().unwrap_or_default();
        let bytes = self.fetch_archive(repo, &reference.chart, reference.version.as_deref())?;
        Chart::load_archive(&bytes, &format!("{repo}/{}", reference.chart))
    }
}

/// An OCI registry client (Helm's `oci://` charts), with anonymous bearer
/// tokens and digest-verified blobs. Loopback registries are spoken to over
/// plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct OciRegistry {}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const HELM_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

impl OciRegistry {
    pub fn new() -> Result<Self, HelmError> {
        Ok(OciRegistry {})
    }

    /// Splits `oci://host/path/chart[:tag]` into base URL, repository path and tag.
    pub fn parse_reference(reference: &str) -> Result<(String, String, Option<String>), HelmError> {
        let bad = |message: &str| HelmError::OciReference {
            reference: reference.to_string(),
            message: message.to_string(),
        };
        let rest = reference
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it does not start with oci://"))?;
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("it names no repository"))?;
        if host.is_empty() || path.is_empty() {
            return Err(bad("host or repository is empty"));
        }
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p.to_string(), Some(t.to_string())),
            _ => (path.to_string(), None),
        };
        let local = host.starts_with("127.0.0.1")
            || host.starts_with("localhost")
            || host.starts_with("[::1]");
        let scheme = if local { "http" } else { "https" };
        Ok((format!("{scheme}://{host}"), path, tag))
    }

    fn get_authed(
        &self,
        url: &str,
        accept: Option<&str>,
        repo: &str,
    ) -> Result<Vec<u8>, HelmError> {
        let answer = http_get(url, accept, None)?;
        if answer.status != 401 {
            return ok_body(answer, url);
        }
        let challenge = answer.www_authenticate.unwrap_or_default();
        let token = self.token(&challenge, repo)?;
        fetch_ok(url, accept, Some(&token))
    }

    fn token(&self, challenge: &str, repo: &str) -> Result<String, HelmError> {
        let params: std::collections::BTreeMap<String, String> = challenge
            .trim_start_matches("Bearer ")
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
            .collect();
        let realm = params.get("realm").cloned().unwrap_or_default();
        let service = params.get("service").cloned().unwrap_or_default();
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{repo}:pull"));
        let url = format!("{realm}?service={service}&scope={scope}");
        let bytes = fetch_ok(&url, None, None)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| HelmError::Http {
            url: url.clone(),
            message: e.to_string(),
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or(HelmError::Http {
                url,
                message: "the token answer has no token".into(),
            })
    }

    /// Fetches the chart archive of `reference` (`oci://host/repo/chart`) at
    /// `version` (a tag or constraint; the reference's own tag wins).
    pub fn fetch_archive(
        &self,
        reference: &str,
        version: Option<&str>,
    ) -> Result<Vec<u8>, HelmError> {
        let (base, repo, tag) = Self::parse_reference(reference)?;
        let tag = match tag {
            Some(t) => t,
            None => self.resolve_tag(&base, &repo, version, reference)?,
        };
        let manifest_url = format!("{base}/v2/{repo}/manifests/{}", tag.replace('+', "_"));
        let manifest = self.get_authed(&manifest_url, Some(OCI_MANIFEST), &repo)?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest).map_err(|e| HelmError::Http {
                url: manifest_url.clone(),
                message: e.to_string(),
            })?;
        let layer = manifest
            .get("layers")
            .and_then(|l| l.as_array())
            .and_then(|l| {
                l.iter()
                    .find(|x| x.get("mediaType").and_then(|m| m.as_str()) == Some(HELM_LAYER))
            })
            .ok_or_else(|| HelmError::OciReference {
                reference: reference.to_string(),
                message: "the manifest has no Helm chart layer".into(),
            })?;
        let digest = layer
            .get("digest")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .to_string();
        let blob_url = format!("{base}/v2/{repo}/blobs/{digest}");
        let bytes = self.get_authed(&blob_url, None, &repo)?;
        let expected = digest
            .strip_prefix("sha256:")
            .unwrap_or(&digest)
            .to_string();
        let actual = sha256_hex(&bytes);
        if actual != expected {
            return Err(HelmError::DigestMismatch {
                url: blob_url,
                expected,
                actual,
            });
        }
        Ok(bytes)
    }

    fn resolve_tag(
        &self,
        base: &str,
        repo: &str,
        version: Option<&str>,
        reference: &str,
    ) -> Result<String, HelmError> {
        if let Some(v) = version {
            if parse_version(v).is_ok() && !v.contains(['^', '~', '*', '>', '<', ' ', ',']) {
                return Ok(v.to_string());
            }
        }
        let url = format!("{base}/v2/{repo}/tags/list");
        let bytes = self.get_authed(&url, None, repo)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| HelmError::Http {
            url: url.clone(),
            message: e.to_string(),
        })?;
        let entries: Vec<IndexEntry> = v
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str())
                    .map(|t| IndexEntry {
                        name: repo.to_string(),
                        version: t.replace('_', "+"),
                        digest: String::new(),
                        urls: Vec::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(select_version(&entries, version, reference, repo)?
            .version
            .clone())
    }
}

impl ChartSource for OciRegistry {
    fn fetch(&self, reference: &ChartRef) -> Result<Chart, HelmError> {
        let full = match &reference.repository {
            Some(repo) if repo.starts_with("oci://") => {
                format!("{}/{}", repo.trim_end_matches('/'), reference.chart)
            }
            _ => reference.chart.clone(),
        };
        let bytes = self.fetch_archive(&full, reference.version.as_deref())?;
        Chart::load_archive(&bytes, &full)
    }
}

/// The usual dispatcher: `oci://` → registry, an HTTP(S) repository (or a
/// chart URL) → repository client, anything else → local path.
#[derive(Debug, Clone)]
pub struct Sources {
    pub http: HttpRepository,
    pub oci: OciRegistry,
    pub local: LocalSource,
}

impl Sources {
    /// Sources caching under `cache_dir` (Helm uses `~/.cache/helm`).
    pub fn new(cache_dir: impl Into<PathBuf>) -> Result<Self, HelmError> {
        Ok(Sources {
            http: HttpRepository::new(cache_dir)?,
            oci: OciRegistry::new()?,
            local: LocalSource,
        })
    }
}

impl ChartSource for Sources {
    fn fetch(&self, reference: &ChartRef) -> Result<Chart, HelmError> {
        let repo = reference.repository.as_deref().unwrap_or("");
        if reference.chart.starts_with("oci://") || repo.starts_with("oci://") {
            return self.oci.fetch(reference);
        }
        if repo.starts_with("http://") || repo.starts_with("https://") {
            return self.http.fetch(reference);
        }
        if reference.chart.starts_with("http://") || reference.chart.starts_with("https://") {
            let url = &reference.chart;
            let bytes = fetch_ok(url, None, None)?;
            return Chart::load_archive(&bytes, url);
        }
        self.local.fetch(reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str) -> IndexEntry {
        IndexEntry {
            name: "c".into(),
            version: v.into(),
            digest: String::new(),
            urls: vec![],
        }
    }

    #[test]
    fn versions_are_selected_like_helm() {
        let entries = vec![
            entry("1.0.0"),
            entry("1.2.0"),
            entry("2.0.0-rc.1"),
            entry("1.10.1"),
        ];
        assert_eq!(
            select_version(&entries, None, "r", "c").unwrap().version,
            "1.10.1"
        );
        assert_eq!(
            select_version(&entries, Some("~1.2"), "r", "c")
                .unwrap()
                .version,
            "1.2.0"
        );
        assert_eq!(
            select_version(&entries, Some(">=2.0.0-0"), "r", "c")
                .unwrap()
                .version,
            "2.0.0-rc.1"
        );
        assert!(matches!(
            select_version(&entries, Some("3.x"), "r", "c"),
            Err(HelmError::ChartNotFound { .. })
        ));
    }

    #[test]
    fn oci_references() {
        let (base, repo, tag) =
            OciRegistry::parse_reference("oci://127.0.0.1:5000/charts/kuma:2.9.3").unwrap();
        assert_eq!(
            (base.as_str(), repo.as_str(), tag.as_deref()),
            ("http://127.0.0.1:5000", "charts/kuma", Some("2.9.3"))
        );
        let (base, _, tag) =
            OciRegistry::parse_reference("oci://registry.example/charts/kuma").unwrap();
        assert_eq!((base.as_str(), tag), ("https://registry.example", None));
        assert!(OciRegistry::parse_reference("https://x/y").is_err());
    }
}
