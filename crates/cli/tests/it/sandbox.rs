//! `meshform sandbox serve|status|reset` as a user runs them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A fresh working directory under the system temp dir.
fn workdir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("meshform-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn meshform(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_meshform"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("meshform runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

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
    let dir = workdir("sandbox-serve");
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_meshform"))
            .args(["sandbox", "serve"])
            .current_dir(&dir)
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

    let (ok, status) = meshform(&dir, &["sandbox", "status"]);
    assert!(ok);
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

    let (_, status) = meshform(&dir, &["sandbox", "status"]);
    assert!(status.contains("Sandbox: not running"), "{status}");
    let (ok, reset) = meshform(&dir, &["sandbox", "reset"]);
    assert!(ok);
    assert!(
        reset.starts_with("Sandbox reset: removed 4 objects."),
        "{reset}"
    );
    let (_, status) = meshform(&dir, &["sandbox", "status", "-json"]);
    let json: serde_json::Value = serde_json::from_str(&status).expect("status -json is JSON");
    assert_eq!(json["running"], false);
    assert_eq!(json["status"]["kubernetes"], serde_json::json!({}));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_rejects_a_rate_outside_zero_to_one() {
    let dir = workdir("sandbox-rate");
    let output = Command::new(env!("CARGO_BIN_EXE_meshform"))
        .args(["sandbox", "serve", "-error-rate=2"])
        .current_dir(&dir)
        .output()
        .expect("meshform runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--error-rate must be between 0 and 1"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
