//! `meshform helm template` prints what `helm template` prints.

use std::path::Path;

use crate::support::{command, run, tempdir, Run};

fn meshform(args: &[&str], cache: &Path) -> Run {
    run(command().args(args).env("HELM_CACHE_HOME", cache))
}

#[test]
fn helm_template_matches_helm_for_the_guide_values() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let chart = dir.join("repo/kong-mesh-2.9.3.tgz");
    let values = dir.join("kong-mesh-zone.values.yaml");
    let cache = tempdir();
    let out = meshform(
        &[
            "helm",
            "template",
            chart.to_str().unwrap(),
            "-f",
            values.to_str().unwrap(),
            "--name",
            "kong-mesh",
            "--namespace",
            "kong-mesh-system",
        ],
        cache.path(),
    );
    assert_eq!(out.code, 0, "{}", out.text());
    let actual = meshform_helm::manifest::mask_generated_secrets(&out.stdout);
    let expected = std::fs::read_to_string(dir.join("kong-mesh-zone.rendered.yaml")).unwrap();
    assert!(
        actual == expected,
        "output differs from {}",
        dir.join("kong-mesh-zone.rendered.yaml").display()
    );
}

#[test]
fn helm_template_with_set_and_crds() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let chart = dir.join("repo/kuma-2.9.3.tgz");
    let cache = tempdir();
    let out = meshform(
        &[
            "helm",
            "template",
            "kuma",
            chart.to_str().unwrap(),
            "--namespace",
            "kuma-system",
            "--set",
            "controlPlane.mode=zone,controlPlane.zone=z1",
            "--include-crds",
        ],
        cache.path(),
    );
    assert_eq!(out.code, 0, "{}", out.text());
    let text = out.stdout;
    assert!(
        text.starts_with("---\n# Source: kuma/crds/"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("- name: KUMA_MULTIZONE_ZONE_NAME\n              value: \"z1\""));
}

#[test]
fn helm_template_reports_a_failing_template_with_its_location() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let chart = dir.join("repo/kuma-2.9.3.tgz");
    let cache = tempdir();
    let out = meshform(
        &[
            "helm",
            "template",
            chart.to_str().unwrap(),
            "--set",
            "controlPlane.mode=global,controlPlane.zone=z1",
        ],
        cache.path(),
    );
    assert_ne!(out.code, 0, "{}", out.text());
    let stderr = &out.stderr;
    assert!(
        stderr.contains("kuma/templates/cp-deployment.yaml:")
            && stderr.contains("Can't specify a controlPlane.zone"),
        "{stderr}"
    );
}

#[test]
fn helm_template_without_a_chart_explains_repo() {
    let cache = tempdir();
    let out = meshform(&["helm", "template", "no-such-chart-dir"], cache.path());
    assert_ne!(out.code, 0, "{}", out.text());
    assert!(out.stderr.contains("--repo"), "{}", out.text());
}

/// Serves the files of `dir` on 127.0.0.1 until the test ends.
fn serve_dir(dir: std::path::PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
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
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            let body = if path.contains("..") {
                None
            } else {
                std::fs::read(dir.join(&path)).ok()
            };
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn helm_template_fetches_from_a_repository() {
    let Some(dir) = meshform_testkit::shared_path("fixtures/helm") else {
        return;
    };
    let url = serve_dir(dir.join("repo"));
    let values = dir.join("kong-mesh-zone.values.yaml");
    let cache = tempdir();
    let args = [
        "helm",
        "template",
        "kong-mesh",
        "kong-mesh",
        "--repo",
        &url,
        "--version",
        "2.9.3",
        "-f",
        values.to_str().unwrap(),
        "--namespace",
        "kong-mesh-system",
    ];
    let out = meshform(&args, cache.path());
    assert_eq!(out.code, 0, "{}", out.text());
    let actual = meshform_helm::manifest::mask_generated_secrets(&out.stdout);
    let expected = std::fs::read_to_string(dir.join("kong-mesh-zone.rendered.yaml")).unwrap();
    assert!(actual == expected, "output differs from the golden");
    assert!(cache
        .path()
        .join("repository/kong-mesh-2.9.3.tgz")
        .is_file());
}
