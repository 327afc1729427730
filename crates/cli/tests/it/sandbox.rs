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
        reset.starts_with("Sandbox reset: removed 4 objects."),
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
