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

fn serve(files: Vec<(String, Vec<u8>)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let found = files.iter().find(|(p, _)| *p == path);
            let (status, body): (&str, &[u8]) = match found {
                Some((_, b)) => ("200 OK", b),
                None => ("404 Not Found", b"not found"),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    Server { url, requests }
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
