//! A long apply against the sandbox, killed with SIGKILL at several points:
//! every object finished before the kill is in the state, so a kill loses
//! only the requests in flight.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use meshform_sandbox::FaultConfig;

use crate::konnect::{state_list, Konnect};
use crate::support::tempdir;

const POLICIES: usize = 60;
/// Most operations one apply runs at once.
const IN_FLIGHT: u64 = 10;

/// The number of policies the sandbox holds, read in-process so that the
/// injected latency does not slow the polling down.
fn policies_in_sandbox(konnect: &Konnect) -> u64 {
    konnect
        .sandbox
        .status()
        .expect("sandbox status")
        .konnect
        .get("meshtrafficpermissions")
        .copied()
        .unwrap_or(0)
}

fn spawn_apply(konnect: &Konnect, dir: &Path, run: usize) -> Child {
    let log = |name: &str| {
        std::fs::File::create(dir.join(format!("apply-{run}.{name}"))).expect("log file")
    };
    konnect
        .command(dir, &["apply", "-auto-approve", "-input=false"])
        .env("TF_VAR_policy_count", POLICIES.to_string())
        .stdin(Stdio::null())
        .stdout(log("stdout"))
        .stderr(log("stderr"))
        .spawn()
        .expect("apply starts")
}

fn logs(dir: &Path, run: usize) -> String {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(format!("apply-{run}.{name}"))).unwrap_or_default()
    };
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        read("stdout"),
        read("stderr")
    )
}

/// Runs an apply and SIGKILLs it once the sandbox holds at least `at`
/// policies. Returns how many the sandbox held right after the kill.
fn apply_killed_at(konnect: &Konnect, dir: &Path, run: usize, at: u64) -> u64 {
    let mut child = spawn_apply(konnect, dir, run);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if policies_in_sandbox(konnect) >= at {
            break;
        }
        if let Some(status) = child.try_wait().expect("child status") {
            panic!(
                "apply {run} ended ({status}) before {at} policies existed:\n{}",
                logs(dir, run)
            );
        }
        assert!(
            Instant::now() < deadline,
            "apply {run} made no progress:\n{}",
            logs(dir, run)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // `Child::kill` sends SIGKILL on Unix: no cleanup runs in the child.
    child.kill().expect("SIGKILL sent");
    let status = child.wait().expect("the killed apply is reaped");
    assert!(
        !status.success(),
        "apply {run} was killed, not finished: {status}"
    );
    policies_in_sandbox(konnect)
}

/// The policies `state list` holds, by index.
fn policies_in_state(konnect: &Konnect, dir: &Path) -> Vec<String> {
    state_list(konnect, dir)
        .into_iter()
        .filter_map(|a| {
            a.strip_prefix("konnect_mesh_traffic_permission.p[")
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn an_apply_killed_midway_has_saved_every_object_it_finished() {
    for at in [5, 25, 45] {
        let konnect = Konnect::start();
        let dir = tempdir();
        let d = dir.path();
        let body = std::fs::read_to_string(meshform_testkit::testdata("e2e/crash/main.tf"))
            .expect("crash fixture");
        crate::konnect::write_config(d, &body);
        // Every request waits, so that the apply is long enough to interrupt.
        konnect.sandbox.set_faults(FaultConfig {
            latency_ms: 15,
            ..FaultConfig::default()
        });
        let existing = apply_killed_at(&konnect, d, 0, at);
        assert!(
            existing >= at && existing < POLICIES as u64,
            "killed midway: {existing} policies"
        );
        konnect.sandbox.set_faults(FaultConfig::default());

        // The control plane and the mesh were finished before any policy
        // started, so they are saved; and they exist once.
        let listed = state_list(&konnect, d);
        assert!(
            listed.contains(&"konnect_mesh_control_plane.cp".to_owned())
                && listed.contains(&"konnect_mesh.mesh".to_owned()),
            "{listed:?}"
        );
        let cps = konnect.control_planes();
        assert_eq!(cps.len(), 1, "{cps:?}");
        let cp_id = cps[0]["id"].as_str().expect("cp id");
        assert_eq!(
            crate::konnect::state_attributes(&konnect, d, "konnect_mesh_control_plane", "cp")["id"],
            cp_id
        );

        // Committed per object: only what was in flight is missing from
        // the state, and nothing is in the state that the sandbox lacks.
        let saved = policies_in_state(&konnect, d);
        let held =
            Konnect::names(&konnect.kuma_list(cp_id, "meshes/crash-mesh/meshtrafficpermissions"));
        // Requests in flight at the kill may still land on the server.
        let held_count = held.len() as u64;
        assert!(
            held_count >= existing && held_count <= existing + IN_FLIGHT,
            "{held_count} policies held, {existing} right after the kill"
        );
        assert!(
            existing - (saved.len() as u64).min(existing) <= IN_FLIGHT,
            "killed at {at}: {existing} policies in the sandbox, {} in the state:\n{}",
            saved.len(),
            logs(d, 0)
        );
        for index in &saved {
            assert!(
                held.contains(&format!("permission-{index}")),
                "p[{index}] is in the state but not in the sandbox"
            );
        }
    }
}

#[test]
fn applies_killed_midway_are_finished_by_the_next_apply() {
    let konnect = Konnect::start();
    let dir = tempdir();
    let d = dir.path();
    let body = std::fs::read_to_string(meshform_testkit::testdata("e2e/crash/main.tf"))
        .expect("crash fixture");
    crate::konnect::write_config(d, &body);
    konnect.sandbox.set_faults(FaultConfig {
        latency_ms: 15,
        ..FaultConfig::default()
    });
    // Killed three times, each run resuming from what the last one saved.
    let mut run = 0;
    for at in [12, 30, 45] {
        apply_killed_at(&konnect, d, run, at);
        run += 1;
    }
    konnect.sandbox.set_faults(FaultConfig::default());
    let mut child = spawn_apply(&konnect, d, run);
    let status = child.wait().expect("the last apply finishes");
    assert!(
        status.success(),
        "the resuming apply failed:\n{}",
        logs(d, run)
    );

    // Exactly the configured objects, each once, in the sandbox and in the state.
    let cps = konnect.control_planes();
    assert_eq!(cps.len(), 1, "{cps:?}");
    let cp_id = cps[0]["id"].as_str().expect("cp id");
    let mut held =
        Konnect::names(&konnect.kuma_list(cp_id, "meshes/crash-mesh/meshtrafficpermissions"));
    held.sort();
    let mut expected: Vec<String> = (0..POLICIES).map(|i| format!("permission-{i}")).collect();
    expected.sort();
    assert_eq!(held, expected, "no duplicate, no orphan, nothing missing");
    let mut saved = policies_in_state(&konnect, d);
    saved.sort_by_key(|i| i.parse::<usize>().unwrap_or(usize::MAX));
    let indexes: Vec<String> = (0..POLICIES).map(|i| i.to_string()).collect();
    assert_eq!(saved, indexes);
    let plan = konnect
        .command(d, &["plan", "-detailed-exitcode", "-input=false"])
        .env("TF_VAR_policy_count", POLICIES.to_string())
        .output()
        .expect("plan runs");
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}
