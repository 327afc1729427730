//! Fetching from a chart repository served on 127.0.0.1: version
//! selection, the archive cache, and refusal of a wrong digest.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meshform_helm::source::HttpRepository;
use meshform_helm::{ChartRef, ChartSource, HelmError};

/// Serves files from memory; records every request path.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

/// An answer: status, extra headers, body.
type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// Serves answers computed from (base URL, path, Authorization header).
fn serve_with(handler: impl Fn(&str, &str, &str) -> Reply + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let base = url.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("authorization: ") {
                    auth = h[h.len() - v.len()..].trim().to_string();
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let (status, headers, body) = handler(&base, &path, &auth);
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    Server { url, requests }
}

fn serve(files: Vec<(String, Vec<u8>)>) -> Server {
    serve_with(
        move |_, path, _| match files.iter().find(|(p, _)| p == path) {
            Some((_, b)) => (200, Vec::new(), b.clone()),
            None => (404, Vec::new(), b"not found".to_vec()),
        },
    )
}

fn repo_files(dir: &std::path::Path, index: Option<String>) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in ["kong-mesh-2.9.3.tgz", "kuma-2.9.3.tgz"] {
        files.push((format!("/{name}"), std::fs::read(dir.join(name)).unwrap()));
    }
    let index = index.unwrap_or_else(|| std::fs::read_to_string(dir.join("index.yaml")).unwrap());
    files.push(("/index.yaml".into(), index.into_bytes()));
    files
}

fn reference(url: &str, chart: &str, version: Option<&str>) -> ChartRef {
    ChartRef {
        chart: chart.into(),
        repository: Some(url.into()),
        version: version.map(str::to_string),
    }
}

fn cache_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "meshform-helm-cache-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn fetches_and_caches_charts_from_a_repository() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let server = serve(repo_files(&dir, None));
    let cache = cache_dir();
    let repo = HttpRepository::new(&cache).unwrap();
    let chart = repo
        .fetch(&reference(&server.url, "kong-mesh", Some("2.9.3")))
        .unwrap();
    assert_eq!(chart.metadata.name, "kong-mesh");
    assert_eq!(chart.dependencies[0].metadata.name, "kuma");
    assert!(cache.join("repository/kong-mesh-2.9.3.tgz").is_file());
    let again = repo
        .fetch(&reference(&server.url, "kong-mesh", Some("^2.9")))
        .unwrap();
    assert_eq!(again.metadata.version, "2.9.3");
    let requests = server.requests.lock().unwrap().clone();
    let downloads = requests.iter().filter(|p| p.ends_with(".tgz")).count();
    assert_eq!(
        downloads, 1,
        "the second fetch must come from the cache: {requests:?}"
    );
    let missing = repo.fetch(&reference(&server.url, "kong-mesh", Some("3.x")));
    assert!(
        matches!(missing, Err(HelmError::ChartNotFound { .. })),
        "{missing:?}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn refuses_an_archive_with_the_wrong_digest() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let index = std::fs::read_to_string(dir.join("index.yaml"))
        .unwrap()
        .replace(
            "digest: 4520b0edcc7ef4b10544483bee680babdcbcda791ddb5a3d9fe879dd8c4d129c",
            "digest: \"0000000000000000000000000000000000000000000000000000000000000000\"",
        );
    let server = serve(repo_files(&dir, Some(index)));
    let cache = cache_dir();
    let repo = HttpRepository::new(&cache).unwrap();
    let err = repo
        .fetch(&reference(&server.url, "kuma", None))
        .unwrap_err();
    match err {
        HelmError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, "0".repeat(64));
            assert_eq!(
                actual,
                "4520b0edcc7ef4b10544483bee680babdcbcda791ddb5a3d9fe879dd8c4d129c"
            );
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    assert!(!cache.join("repository/kuma-2.9.3.tgz").exists());
    let _ = std::fs::remove_dir_all(&cache);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A registry that wants an anonymous bearer token, as public registries do.
fn oci_registry(archive: Vec<u8>, served_digest: String) -> Server {
    let layer_digest = format!("sha256:{}", sha256_hex(&archive));
    serve_with(move |base, path, auth| {
        if path.starts_with("/token") {
            return (200, Vec::new(), br#"{"token":"t0k"}"#.to_vec());
        }
        if auth != "Bearer t0k" {
            let challenge = format!("Bearer realm=\"{base}/token\",service=\"registry\",scope=\"repository:charts/kuma:pull\"");
            return (
                401,
                vec![("WWW-Authenticate".into(), challenge)],
                Vec::new(),
            );
        }
        match path {
            "/v2/charts/kuma/tags/list" => (
                200,
                Vec::new(),
                br#"{"name":"charts/kuma","tags":["2.9.2","2.9.3","3.0.0-rc.1"]}"#.to_vec(),
            ),
            "/v2/charts/kuma/manifests/2.9.3" => {
                let manifest = serde_json::json!({
                    "schemaVersion": 2,
                    "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": "sha256:00", "size": 2},
                    "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": served_digest, "size": archive.len()}],
                });
                (200, Vec::new(), manifest.to_string().into_bytes())
            }
            p if p == format!("/v2/charts/kuma/blobs/{layer_digest}")
                || p.starts_with("/v2/charts/kuma/blobs/") =>
            {
                (200, Vec::new(), archive.clone())
            }
            _ => (404, Vec::new(), Vec::new()),
        }
    })
}

#[test]
fn fetches_charts_from_an_oci_registry() {
    use meshform_helm::source::OciRegistry;
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let archive = std::fs::read(dir.join("kuma-2.9.3.tgz")).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&archive));
    let server = oci_registry(archive, digest);
    let host = server.url.trim_start_matches("http://").to_string();
    let registry = OciRegistry::new().unwrap();
    let by_constraint = ChartRef {
        chart: format!("oci://{host}/charts/kuma"),
        repository: None,
        version: Some("~2.9".into()),
    };
    let chart = registry.fetch(&by_constraint).unwrap();
    assert_eq!(
        (
            chart.metadata.name.as_str(),
            chart.metadata.version.as_str()
        ),
        ("kuma", "2.9.3")
    );
    let by_repository = ChartRef {
        chart: "kuma".into(),
        repository: Some(format!("oci://{host}/charts")),
        version: Some("2.9.3".into()),
    };
    assert_eq!(
        registry.fetch(&by_repository).unwrap().metadata.version,
        "2.9.3"
    );
    assert!(server
        .requests
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.starts_with("/token")));
}

#[test]
fn refuses_an_oci_blob_with_the_wrong_digest() {
    use meshform_helm::source::OciRegistry;
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let archive = std::fs::read(dir.join("kuma-2.9.3.tgz")).unwrap();
    let server = oci_registry(archive, format!("sha256:{}", "1".repeat(64)));
    let host = server.url.trim_start_matches("http://").to_string();
    let err = OciRegistry::new()
        .unwrap()
        .fetch_archive(&format!("oci://{host}/charts/kuma:2.9.3"), None)
        .unwrap_err();
    assert!(matches!(err, HelmError::DigestMismatch { .. }), "{err}");
}
