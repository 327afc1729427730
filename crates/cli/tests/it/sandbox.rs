//! `meshform sandbox serve|status|reset` as a user runs them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{command_in, meshform, tempdir};

/// Kills the server if the test fails before stopping it.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_both_apis_writes_a_kubeconfig_and_stops_on_sigterm() {
    let dir = tempdir();
    let dir = dir.path();
    let mut server = Server(
        command_in(dir)
            .args(["sandbox", "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let stdout = server.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let konnect = lines.next().and_then(Result::ok).unwrap_or_default();
    let kubernetes = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        konnect.starts_with("Konnect API: http://127.0.0.1:"),
        "{konnect}"
    );
    assert!(
        kubernetes.starts_with("Kubernetes API: http://127.0.0.1:"),
        "{kubernetes}"
    );
    let kubeconfig =
        std::fs::read_to_string(dir.join(".meshform/sandbox/kubeconfig")).expect("kubeconfig");
    let kube_url = kubernetes.trim_start_matches("Kubernetes API: ");
    assert!(
        kubeconfig.contains(&format!("server: {kube_url}")),
        "{kubeconfig}"
    );

    let r = meshform(dir, &["sandbox", "status"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let status = r.stdout;
    assert!(status.contains("Sandbox: running"), "{status}");
    assert!(status.contains(&konnect), "{status}");
    assert!(status.contains("namespaces"), "{status}");

    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let exit = server.0.wait().expect("serve exits");
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "Sandbox stopped."), "{rest:?}");

    let status = meshform(dir, &["sandbox", "status"]).stdout;
    assert!(status.contains("Sandbox: not running"), "{status}");
    let r = meshform(dir, &["sandbox", "reset"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let reset = r.stdout;
    assert!(
        reset.starts_with("Sandbox reset: removed 10 objects."),
        "{reset}"
    );
    let status = meshform(dir, &["sandbox", "status", "-json"]).stdout;
    let json: serde_json::Value = serde_json::from_str(&status).expect("status -json is JSON");
    assert_eq!(json["running"], false);
    assert_eq!(json["status"]["kubernetes"], serde_json::json!({}));
}

#[test]
fn serve_rejects_a_rate_outside_zero_to_one() {
    let dir = tempdir();
    let r = meshform(dir.path(), &["sandbox", "serve", "-error-rate=2"]);
    assert_ne!(r.code, 0, "{}", r.text());
    let stderr = &r.stderr;
    assert!(
        stderr.contains("--error-rate must be between 0 and 1"),
        "{stderr}"
    );
}

/// A `sandbox serve` in the background, killed on drop.
fn serve_in(dir: &std::path::Path, args: &[&str]) -> (Server, String) {
    let mut server = Server(
        command_in(dir)
            .args(["sandbox", "serve"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    );
    let stdout = server.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let _konnect = lines.next();
    let kubernetes = lines.next().and_then(Result::ok).unwrap_or_default();
    // Keep reading in the background so the server never writes to a
    // closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let url = kubernetes
        .trim_start_matches("Kubernetes API: ")
        .to_string();
    (server, url)
}

const NAMESPACE_CONFIG: &str = r#"
terraform {
  required_providers {
    kubernetes = { source = "hashicorp/kubernetes", version = "2.35.1" }
  }
}
resource "kubernetes_namespace" "team" {
  metadata { name = "team-a" }
}
"#;

/// issue 23: `apply -sandbox` while `sandbox serve` runs leaves the served
/// kubeconfig pointing at the served cluster, which sees the applied objects.
#[test]
fn issue_23_apply_sandbox_keeps_the_served_kubeconfig_valid() {
    for at in [None, Some("-at=2030-01-31T12:00:00Z")] {
        let dir = tempdir();
        let dir = dir.path();
        std::fs::write(dir.join("main.tf"), NAMESPACE_CONFIG).unwrap();
        let (_server, url) = serve_in(dir, &[]);
        let kubeconfig_path = dir.join(".meshform/sandbox/kubeconfig");
        let before = std::fs::read_to_string(&kubeconfig_path).expect("kubeconfig");
        assert!(before.contains(&format!("server: {url}")), "{before}");
        let mut args = vec!["apply", "-sandbox", "-auto-approve"];
        args.extend(at);
        let r = meshform(dir, &args);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(r.stdout.contains("1 added"), "{}", r.stdout);
        let after = std::fs::read_to_string(&kubeconfig_path).expect("kubeconfig");
        assert_eq!(before, after, "the served kubeconfig is unchanged ({at:?})");
        let ns = reqwest::blocking::get(format!("{url}/api/v1/namespaces/team-a"))
            .expect("the served cluster answers");
        assert_eq!(ns.status().as_u16(), 200, "{at:?}");
        let runs = dir.join(".meshform/sandbox/runs");
        let left: Vec<_> = std::fs::read_dir(&runs)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "run kubeconfigs are removed: {left:?}");
    }
}
