//! The guide end to end on the embedded sandbox: every section of Kong's
//! guide, in order, with the chart served from the fixture repository.

use std::path::Path;
use std::process::Command;

use crate::support::{command_in, run, tempdir, Run};

const T: &str = "2026-11-26T10:15:00Z";

/// A background `sandbox serve`, stopped on drop.
struct Serve {
    child: std::process::Child,
    /// Kept so the server never writes to a closed pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    /// What it printed up to "Press Ctrl-C".
    banner: String,
}

impl Serve {
    /// The address it printed after `label: `.
    fn printed(&self, label: &str) -> &str {
        self.banner
            .lines()
            .find_map(|l| l.strip_prefix(label)?.strip_prefix(": "))
            .unwrap_or_else(|| panic!("serve printed no {label}:\n{}", self.banner))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn at(seconds: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(T).unwrap() + chrono::Duration::seconds(seconds);
    format!(
        "-at={}",
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

struct Guide {
    dir: tempfile::TempDir,
    mirror: String,
    log: Option<&'static str>,
    transcript: std::cell::RefCell<String>,
}

impl Guide {
    fn new(mirror_repo: &Path) -> Guide {
        let dir = tempdir();
        for f in ["main.tf", "values.tftpl"] {
            let src = meshform_testkit::workspace_root()
                .join("examples/guide")
                .join(f);
            std::fs::copy(src, dir.path().join(f)).unwrap();
        }
        Guide {
            dir,
            mirror: format!(
                "https://kong.github.io/kong-mesh-charts={}",
                mirror_repo.display()
            ),
            log: None,
            transcript: Default::default(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = command_in(self.dir.path());
        cmd.args(args)
            .env("MESHFORM_HELM_MIRROR", &self.mirror)
            .env(
                "TF_VAR_konnect_personal_access_token",
                "kpat_anyvalueworksinthesandbox",
            );
        if let Some(level) = self.log {
            cmd.env("MESHFORM_LOG", level);
        }
        let r = run(&mut cmd);
        let mut t = self.transcript.borrow_mut();
        t.push_str(&r.stdout);
        t.push_str(&r.stderr);
        r
    }

    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "meshform {args:?}:\n{}", r.text());
        r
    }

    /// `meshform sandbox serve` in the background, until the guard drops,
    /// so kubectl can look at the sandbox cluster between commands.
    fn serve(&self, args: &[&str]) -> Serve {
        use std::io::BufRead;
        let mut child = command_in(self.dir.path())
            .args(["sandbox", "serve"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sandbox serve starts");
        let stdout = child.stdout.take().unwrap();
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        let mut banner = String::new();
        // Read to the last line it prints, keeping the pipe open after.
        while !line.starts_with("Press Ctrl-C") {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("sandbox serve ended before it printed its addresses");
            }
            banner.push_str(&line);
        }
        Serve {
            child,
            _stdout: reader,
            banner,
        }
    }

    fn kubectl(&self, args: &[&str]) -> Option<String> {
        let kubeconfig = self.dir.path().join(".meshform/sandbox/kubeconfig");
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn edit(&self, from: &str, to: &str) {
        let p = self.dir.path().join("main.tf");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{from:?} is in main.tf");
        std::fs::write(p, text.replace(from, to)).unwrap();
    }
}

fn walk(guide: &Guide) {
    let r = guide.ok(&["init"]);
    assert!(r
        .stdout
        .contains("meshform has been successfully initialized!"));

    // Control plane, mesh with mTLS, traffic permission and the zone at once.
    let r = guide.ok(&["apply", "-sandbox", "-auto-approve", &at(0)]);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 10 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("helm_release.kong_mesh: Creation complete after"));

    // Applying again right after changes nothing.
    let r = guide.run(&["plan", "-sandbox", "-detailed-exitcode", &at(30)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r
        .stdout
        .contains("No changes. Your infrastructure matches the configuration."));

    // The zone's namespace and token secret are in the cluster.
    let serve = guide.serve(&[&at(30)]);
    if let Some(ns) = guide.kubectl(&["get", "ns"]) {
        assert!(ns.contains("kong-mesh-system"), "{ns}");
        let secret = guide
            .kubectl(&[
                "get",
                "secret",
                "cp-token",
                "-n",
                "kong-mesh-system",
                "-o",
                "json",
            ])
            .unwrap();
        assert!(secret.contains("\"token\""), "{secret}");
        // The zone is online: the policy is synced into the cluster, as the
        // guide shows with `kubectl get meshtrafficpermissions.kuma.io -A`.
        let mut synced = String::new();
        for _ in 0..50 {
            synced = guide
                .kubectl(&["get", "meshtrafficpermissions.kuma.io", "-A"])
                .unwrap();
            if synced.contains("allow-all-") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(synced.contains("kong-mesh-system"), "{synced}");
        assert!(synced.contains("allow-all-"), "{synced}");
    }
    drop(serve);

    // A minute later the token rotates: the rotation is gone, the token is
    // replaced and the secret updated in place, as the guide shows.
    let r = guide.ok(&["plan", "-sandbox", &at(61)]);
    assert!(
        r.stdout.contains("# time_rotating.rotate has been deleted"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "# konnect_system_account_access_token.zone_system_account_token must be replaced"
    ));
    assert!(r
        .stdout
        .contains("# kubernetes_secret.mesh_cp_token will be updated in-place"));
    let r = guide.ok(&["plan", "-sandbox", "-out=rotation.tfplan", &at(61)]);
    assert!(r.stdout.contains("Saved the plan to: rotation.tfplan"));
    guide.ok(&["show", "rotation.tfplan"]);
    guide.ok(&["show", "-json", "rotation.tfplan"]);
    let r = guide.ok(&["apply", "-sandbox", "rotation.tfplan"]);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 2 added, 1 changed, 1 destroyed."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "kubectl rollout restart -n kong-mesh-system deployment kong-mesh-control-plane"
        ),
        "the apply points out the restart the guide warns about: {}",
        r.stdout
    );

    // Renaming the mesh replaces the mesh and the policy that names it.
    guide.edit("name     = \"my-mesh\"", "name     = \"another-name\"");
    let r = guide.ok(&["plan", "-sandbox", &at(70)]);
    assert!(
        r.stdout.contains("# konnect_mesh.mesh1 must be replaced"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("# konnect_mesh_traffic_permission.allow_all must be replaced"));
    assert!(r.stdout.contains("forces replacement"));
    let r = guide.ok(&["apply", "-sandbox", "-auto-approve", &at(70)]);
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 2 destroyed."),
        "{}",
        r.stdout
    );
    // As Terraform orders it: the policy goes before the mesh it names.
    let policy_gone = r
        .stdout
        .find("konnect_mesh_traffic_permission.allow_all: Destruction complete")
        .expect("policy destroyed");
    let mesh_gone = r
        .stdout
        .find("konnect_mesh.mesh1: Destruction complete")
        .expect("mesh destroyed");
    assert!(policy_gone < mesh_gone, "{}", r.stdout);
    let r = guide.run(&["plan", "-sandbox", "-detailed-exitcode", &at(75)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Cleaning up leaves an empty state and an empty cluster namespace list.
    let r = guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(80)]);
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 10 destroyed."),
        "{}",
        r.stdout
    );
    let r = guide.ok(&["state", "list", "-state=.meshform/sandbox-state.db"]);
    assert_eq!(r.stdout.trim(), "");
    let r = guide.ok(&["show", "-sandbox"]);
    assert_eq!(r.stdout.trim(), "No state.");
    let status = guide.ok(&["sandbox", "status", "-json"]).stdout;
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    let konnect_objects: u64 = status["konnect"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum());
    assert_eq!(
        konnect_objects, 0,
        "the sandbox's Konnect is empty again: {status}"
    );
    let _serve = guide.serve(&[&at(200)]);
    if let Some(ns) = guide.kubectl(&["get", "ns"]) {
        assert!(!ns.contains("kong-mesh-system"), "{ns}");
    }
}

#[test]
fn the_guide_runs_end_to_end_on_the_sandbox() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    walk(&Guide::new(&repo));
}

#[test]
fn the_zone_token_never_appears_in_output_logs_or_plan_files() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    for level in ["error", "warn", "info", "debug", "trace"] {
        let mut guide = Guide::new(&repo);
        guide.log = Some(level);
        guide.ok(&["apply", "-sandbox", "-auto-approve", &at(0)]);
        guide.ok(&["plan", "-sandbox", "-out=saved.tfplan", &at(61)]);
        guide.ok(&["show", "saved.tfplan"]);
        guide.ok(&["show", "-json", "saved.tfplan"]);
        guide.ok(&["output", "-sandbox"]);
        guide.ok(&["show", "-sandbox"]);
        // The token is only shown where the user asks for raw state.
        let pulled = guide
            .ok(&["state", "pull", "-state=.meshform/sandbox-state.db"])
            .stdout;
        let state: serde_json::Value = serde_json::from_str(&pulled).unwrap();
        let token = state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "konnect_system_account_access_token")
            .map(|r| {
                r["instances"][0]["attributes"]["token"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .expect("the token is in the state");
        assert!(token.starts_with("spat_"), "{token}");
        let mut transcript = guide.transcript.borrow().clone();
        transcript = transcript.replace(&pulled, "");
        assert!(
            !transcript.contains(&token),
            "level {level}: the token leaked into output"
        );
        let plan_file = std::fs::read_to_string(guide.dir.path().join("saved.tfplan")).unwrap();
        assert!(
            !plan_file.contains(&token),
            "the token is in the saved plan"
        );
        guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(90)]);
    }
}

#[test]
fn plans_say_when_the_zone_token_rotates() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let guide = Guide::new(&repo);
    guide.ok(&["apply", "-sandbox", "-auto-approve", &at(1)]);
    let r = guide.ok(&["plan", "-sandbox", &at(1)]);
    assert!(
        r.stdout
            .contains("time_rotating.rotate rotates at 2026-11-26T10:16:01Z (in 1m)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(
        "konnect_system_account_access_token.zone_system_account_token expires at 2026-11-26T10:31:01Z (in 16m)"
    ));
    guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(2)]);
}

#[test]
fn import_adopts_an_existing_object() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let guide = Guide::new(&repo);
    guide.ok(&["apply", "-sandbox", "-auto-approve", &at(0)]);
    let state = "-state=.meshform/sandbox-state.db";
    let shown = guide
        .ok(&[
            "state",
            "show",
            state,
            "konnect_mesh_control_plane.my_meshcontrolplane",
        ])
        .stdout;
    let id = shown
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("id").map(|r| {
                r.trim()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
        })
        .expect("the control plane has an id");
    guide.ok(&[
        "state",
        "rm",
        state,
        "konnect_mesh_control_plane.my_meshcontrolplane",
    ]);
    let r = guide.ok(&[
        "import",
        "-sandbox",
        "konnect_mesh_control_plane.my_meshcontrolplane",
        &id,
    ]);
    assert!(r.stdout.contains("Import successful!"), "{}", r.stdout);
    let r = guide.run(&["plan", "-sandbox", "-detailed-exitcode", &at(10)]);
    assert_eq!(
        r.code, 0,
        "after import nothing changes: {}{}",
        r.stdout, r.stderr
    );
    let r = guide.run(&[
        "import",
        "-sandbox",
        "konnect_mesh_control_plane.my_meshcontrolplane",
        &id,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already managed"), "{}", r.stderr);
    guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(20)]);
}

#[test]
fn plan_json_carries_the_rotation_report() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let guide = Guide::new(&repo);
    guide.ok(&["apply", "-sandbox", "-auto-approve", &at(1)]);
    let r = guide.ok(&["plan", "-sandbox", "-json", &at(1)]);
    let doc: serde_json::Value =
        serde_json::from_str(r.stdout.lines().last().unwrap()).expect("plan JSON");
    let rotations = doc["meshform_rotations"].as_array().expect("rotations");
    let rotate = rotations
        .iter()
        .find(|e| e["address"] == "time_rotating.rotate")
        .expect("the rotation");
    assert_eq!(rotate["kind"], "rotates");
    assert_eq!(rotate["at"], "2026-11-26T10:16:01Z");
    assert_eq!(rotate["in_seconds"], 60);
    guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(2)]);
}

#[test]
fn helm_diff_shows_the_objects_a_values_change_touches() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let guide = Guide::new(&repo);
    guide.ok(&["apply", "-sandbox", "-auto-approve", &at(1)]);
    std::fs::write(
        guide.dir.path().join("values.tftpl"),
        std::fs::read_to_string(guide.dir.path().join("values.tftpl"))
            .unwrap()
            .replace(
                "  egress:\n    enabled: true",
                "  egress:\n    enabled: false",
            ),
    )
    .unwrap();
    let r = guide.ok(&["plan", "-sandbox", "-helm-diff", &at(2)]);
    assert!(
        r.stdout
            .contains("# helm_release.kong_mesh will be updated in-place"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Helm release changes:"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("  - apps/v1 Deployment kong-mesh-system/kong-mesh-egress"),
        "{}",
        r.stdout
    );
    guide.ok(&["destroy", "-sandbox", "-auto-approve", &at(3)]);
}

/// Issue 15: `-at` moves the sandbox's world with the run, so a rotation
/// years ahead is rehearsed as it will happen, whatever today's date is.
#[test]
fn issue_15_the_sandbox_lives_on_the_runs_clock() {
    let Some(repo) = meshform_testkit::shared_path("fixtures/helm/repo") else {
        return;
    };
    let guide = Guide::new(&repo);
    guide.ok(&["init"]);
    let r = guide.ok(&[
        "apply",
        "-sandbox",
        "-auto-approve",
        "-at=2030-01-31T12:00:00Z",
    ]);
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);

    // The token's expiry, read from the sandbox's own Konnect API: the
    // guide's rotation (60 s) plus 15 minutes, on the run's clock.
    let serve = guide.serve(&["-at=2030-01-31T12:00:30Z"]);
    assert!(
        serve
            .printed("Clock")
            .ends_with("(simulated: started with -at)"),
        "{}",
        serve.banner
    );
    let konnect = serve.printed("Konnect API").to_string();
    let client = reqwest::blocking::Client::new();
    let get = |path: &str| -> serde_json::Value {
        client
            .get(format!("{konnect}{path}"))
            .bearer_auth("kpat_anyvalueworksinthesandbox")
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.text())
            .map(|text| serde_json::from_str(&text).expect("a JSON body"))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    };
    let accounts = get("/v3/system-accounts");
    let account = accounts["data"][0]["id"].as_str().expect("an account");
    let tokens = get(&format!("/v3/system-accounts/{account}/access-tokens"));
    assert_eq!(
        tokens["data"][0]["expires_at"], "2030-01-31T12:16:00Z",
        "{tokens}"
    );
    let clock = get("/_sandbox/clock");
    assert_eq!(clock["simulated"], true, "{clock}");
    let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap_or_default())
        .expect("an RFC 3339 time");
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-31T12:00:30Z").unwrap();
    assert!(
        now >= start && now - start < chrono::Duration::minutes(5),
        "{clock}"
    );

    // `status` tells which clock the running server is on.
    let status = guide.ok(&["sandbox", "status"]).stdout;
    let line = status
        .lines()
        .find(|l| l.starts_with("Clock: "))
        .unwrap_or_else(|| panic!("no clock in status:\n{status}"));
    assert!(line.starts_with("Clock: 2030-01-31T12:0"), "{line}");
    assert!(line.ends_with("(simulated: started with -at)"), "{line}");
    drop(serve);

    let serve = guide.serve(&[]);
    assert!(
        serve.printed("Clock").ends_with("(wall clock)"),
        "{}",
        serve.banner
    );
}
