//! `plan`, `apply`, `show` and `destroy` end to end on the time provider,
//! which needs no network: saved plans, stale plans, exit codes.

use std::process::Command;

use crate::support::{command_in, meshform, run, tempdir, workdir_with_main};

const CONFIG: &str = r#"
resource "time_offset" "a" {
  offset_days = 1
}
output "tomorrow" {
  value = time_offset.a.rfc3339
}
"#;

fn workdir() -> tempfile::TempDir {
    workdir_with_main(CONFIG)
}

#[test]
fn apply_then_plan_shows_no_changes_and_destroy_empties_the_state() {
    let dir = workdir();
    let d = dir.path();
    let r = meshform(d, &["apply", "-auto-approve", "-at=2024-02-28T12:00:00Z"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("time_offset.a: Creation complete after 0s [id=2024-02-28T12:00:00Z]"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."));
    // Leap year: one day after 28 February 2024 is the 29th.
    assert!(
        r.stdout.contains("tomorrow = \"2024-02-29T12:00:00Z\""),
        "{}",
        r.stdout
    );
    let r = meshform(
        d,
        &["plan", "-detailed-exitcode", "-at=2024-02-28T12:01:00Z"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r
        .stdout
        .contains("No changes. Your infrastructure matches the configuration."));
    let r = meshform(d, &["state", "list"]);
    assert_eq!(r.stdout.trim(), "time_offset.a");
    let r = meshform(d, &["destroy", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r
        .stdout
        .contains("Destroy complete! Resources: 1 destroyed."));
    let r = meshform(d, &["state", "list"]);
    assert_eq!(r.stdout.trim(), "");
}

#[test]
fn detailed_exitcode_is_two_when_there_are_changes() {
    let dir = workdir();
    let r = meshform(dir.path(), &["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r
        .stdout
        .contains("Plan: 1 to add, 0 to change, 0 to destroy."));
}

#[test]
fn saved_plans_apply_once_and_then_are_stale() {
    let dir = workdir();
    let d = dir.path();
    let r = meshform(d, &["plan", "-out=tfplan", "-at=2025-01-01T00:00:00Z"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("Saved the plan to: tfplan"),
        "{}",
        r.stdout
    );
    let shown = meshform(d, &["show", "tfplan"]);
    assert!(
        shown.stdout.contains("# time_offset.a will be created"),
        "{}",
        shown.stdout
    );
    let json = meshform(d, &["show", "-json", "tfplan"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    assert_eq!(doc["resource_changes"][0]["change"]["actions"][0], "create");
    let r = meshform(d, &["apply", "tfplan"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("id=2025-01-01T00:00:00Z"),
        "applied with the plan's clock: {}",
        r.stdout
    );
    let r = meshform(d, &["apply", "tfplan"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Saved plan is stale"), "{}", r.stderr);
}

#[test]
fn apply_without_approval_on_no_terminal_refuses() {
    let dir = workdir();
    let r = meshform(dir.path(), &["apply"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("-auto-approve"), "{}", r.stderr);
    let r = meshform(dir.path(), &["state", "list"]);
    assert_eq!(r.stdout.trim(), "", "nothing was applied");
}

#[test]
fn offline_plan_of_the_guide_needs_no_credentials() {
    let Some(schema) =
        meshform_testkit::shared_path("conformance/guide-plans/schema.nested-attributes.json")
    else {
        return;
    };
    let dir = tempdir();
    for f in ["main.tf", "values.tftpl"] {
        std::fs::copy(
            meshform_testkit::testdata("guide").join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    let r = run(command_in(dir.path())
        .args(["plan", "-offline", "-input=false"])
        .env("MESHFORM_PROVIDER_SCHEMAS", schema));
    assert_eq!(r.code, 0, "{}", r.text());
    let stdout = &r.stdout;
    assert!(
        stdout.contains("# konnect_mesh.mesh1 will be created"),
        "{stdout}"
    );
    assert!(stdout.contains("# helm_release.kong_mesh will be created"));
    assert!(
        stdout.contains("Plan: 11 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
}

#[test]
fn graph_of_the_guide_renders_with_graphviz() {
    let guide = meshform_testkit::testdata("guide");
    let r = meshform(&guide, &["graph"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("digraph {"));
    assert!(r.stdout.contains(
        "\"[root] konnect_mesh.mesh1\" -> \"[root] konnect_mesh_control_plane.my_meshcontrolplane\""
    ));
    let destroy = meshform(&guide, &["graph", "-type=destroy"]);
    assert!(destroy.stdout.contains(
        "\"[root] konnect_mesh_control_plane.my_meshcontrolplane\" -> \"[root] konnect_mesh.mesh1\""
    ));
    let dot_available = Command::new("dot").arg("-V").output().is_ok();
    if !dot_available {
        if std::env::var("MESHFORM_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
            panic!("Graphviz `dot` is required in CI (.ci/run installs it)");
        }
        eprintln!("skipped: Graphviz dot is not installed");
        return;
    }
    use std::io::Write;
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(r.stdout.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot rejected the graph");
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

#[test]
fn a_failing_object_stops_only_its_dependents() {
    // `fake_thing` is known only by its schema, so applying it fails;
    // the independent time_static is still created and saved.
    let Some(schema) = meshform_testkit::shared_path("conformance/plans/schema.json") else {
        return;
    };
    let dir = workdir_with_main("resource \"fake_thing\" \"a\" {\n  name = \"x\"\n}\nresource \"time_offset\" \"after_a\" {\n  offset_days = 1\n  depends_on = [fake_thing.a]\n}\nresource \"time_static\" \"independent\" {}\n");
    let r = run(command_in(dir.path())
        .args(["apply", "-auto-approve"])
        .env("MESHFORM_PROVIDER_SCHEMAS", &schema));
    let stderr = &r.stderr;
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(stderr.contains("cannot apply"), "{stderr}");
    let r = meshform(dir.path(), &["state", "list"]);
    assert_eq!(r.stdout.trim(), "time_static.independent");
}

#[test]
fn plans_with_the_same_clock_are_byte_identical() {
    let dir = workdir();
    let a = meshform(dir.path(), &["plan", "-at=2026-11-26T10:15:01Z"]);
    let b = meshform(dir.path(), &["plan", "-at=2026-11-26T10:15:01Z"]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn target_plans_only_the_target_and_its_dependencies() {
    let dir = workdir_with_main("resource \"time_static\" \"base\" {}\nresource \"time_offset\" \"t\" {\n  offset_days = 1\n  triggers = { base = time_static.base.id }\n}\nresource \"time_static\" \"other\" {}\n");
    let r = meshform(dir.path(), &["plan", "-target=time_offset.t"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("# time_offset.t will be created"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("# time_static.base will be created"));
    assert!(!r.stdout.contains("time_static.other"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 2 to add"));
    assert!(
        r.stdout.contains("Resource targeting is in effect"),
        "{}",
        r.stdout
    );
}

#[test]
fn moved_blocks_rename_objects_instead_of_replacing_them() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("main.tf"), "resource \"time_static\" \"old\" {}\n").unwrap();
    let r = meshform(d, &["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(
        d.join("main.tf"),
        "resource \"time_static\" \"new\" {}\nmoved {\n  from = time_static.old\n  to   = time_static.new\n}\n",
    )
    .unwrap();
    let r = meshform(d, &["plan"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("# time_static.old has moved to time_static.new"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("will be created"), "{}", r.stdout);
    let r = meshform(d, &["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = meshform(d, &["state", "list"]);
    assert_eq!(r.stdout.trim(), "time_static.new");
}

#[test]
fn console_evaluates_against_configuration_and_state() {
    use std::io::Write;
    let dir = workdir_with_main("variable \"region\" {\n  default = \"us\"\n}\nlocals {\n  url = \"https://${var.region}.api.konghq.com\"\n}\nresource \"time_static\" \"s\" {}\n");
    meshform(
        dir.path(),
        &["apply", "-auto-approve", "-at=2026-01-02T03:04:05Z"],
    );
    let console = |args: &[&str], input: &str| {
        let mut child = command_in(dir.path())
            .arg("console")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = console(
        &[],
        "local.url\nupper(var.region)\ntime_static.s.year\n[1, 2]\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "\"https://us.api.konghq.com\"\n\"US\"\n2026\n[\n  1,\n  2,\n]\n"
    );
    let (_, out, _) = console(&["-json"], "{a = 1}\n");
    assert_eq!(out.trim(), "{\"a\":1}");
    let (code, _, err) = console(&[], "1 +\n");
    assert_eq!(code, Some(1));
    assert!(err.contains("Error: "), "{err}");
}

#[test]
fn ctrl_c_finishes_the_operation_in_flight_saves_it_and_stops() {
    use std::io::{BufRead, Read};
    let dir = workdir_with_main("resource \"time_sleep\" \"wait\" {\n  create_duration = \"3s\"\n}\nresource \"time_static\" \"after\" {\n  depends_on = [time_sleep.wait]\n}\n");
    let mut child = command_in(dir.path())
        .args(["apply", "-auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the sleep is in flight, as a user watching would.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("time_sleep.wait: Creating...") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("apply ended before it started the sleep:\n{seen}");
        }
        seen.push_str(&line);
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    stdout.read_to_string(&mut seen).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = seen;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("time_sleep.wait: Creation complete"),
        "{stdout}"
    );
    assert!(stderr.contains("Execution halted"), "{stderr}");
    let r = meshform(dir.path(), &["state", "list"]);
    assert_eq!(
        r.stdout.trim(),
        "time_sleep.wait",
        "the finished object is saved, nothing new started"
    );
}

#[test]
fn independent_objects_apply_together_and_dependents_see_their_values() {
    let dir = tempdir();
    let mut tf = String::new();
    for i in 0..6 {
        tf.push_str(&format!("resource \"time_static\" \"s{i}\" {{}}\n"));
    }
    tf.push_str("resource \"time_offset\" \"after\" {\n  offset_days = 1\n  base_rfc3339 = time_static.s5.rfc3339\n}\noutput \"after\" {\n  value = time_offset.after.rfc3339\n}\n");
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let r = meshform(
        dir.path(),
        &[
            "apply",
            "-auto-approve",
            "-parallelism=3",
            "-at=2026-03-01T00:00:00Z",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 7 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("after = \"2026-03-02T00:00:00Z\""),
        "{}",
        r.stdout
    );
    let r = meshform(dir.path(), &["state", "list"]);
    assert_eq!(r.stdout.lines().count(), 7, "{}", r.stdout);
    let r = meshform(
        dir.path(),
        &["plan", "-detailed-exitcode", "-at=2026-03-01T00:00:10Z"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn plantimestamp_is_the_runs_clock() {
    use std::io::Write;
    let dir = workdir();
    let mut child = command_in(dir.path())
        .args(["console", "-at=2030-05-06T07:08:09Z"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"plantimestamp()\ntimestamp()\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\"2030-05-06T07:08:09Z\"\n(known after apply)\n"
    );
}

#[test]
fn replace_plans_a_replacement_and_create_before_destroy_creates_first() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("main.tf"),
        "resource \"time_static\" \"a\" {\n  lifecycle {\n    create_before_destroy = true\n  }\n}\n",
    )
    .unwrap();
    meshform(d, &["apply", "-auto-approve", "-at=2026-01-01T00:00:00Z"]);
    let r = meshform(
        d,
        &["plan", "-replace=time_static.a", "-at=2026-01-01T00:01:00Z"],
    );
    assert!(
        r.stdout
            .contains("# time_static.a will be replaced, as requested"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("+/- resource \"time_static\" \"a\""),
        "{}",
        r.stdout
    );
    let r = meshform(
        d,
        &[
            "apply",
            "-auto-approve",
            "-replace=time_static.a",
            "-at=2026-01-01T00:01:00Z",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let created = r
        .stdout
        .find("time_static.a: Creation complete")
        .expect("created");
    let destroyed = r.stdout.find("Destroying...").expect("destroyed");
    assert!(created < destroyed, "create before destroy:\n{}", r.stdout);
    assert!(r.stdout.contains("(deposed object"), "{}", r.stdout);
    let r = meshform(d, &["state", "list"]);
    assert_eq!(r.stdout.trim(), "time_static.a");
    let r = meshform(d, &["state", "show", "time_static.a"]);
    assert!(
        r.stdout.contains("2026-01-01T00:01:00Z"),
        "the new object replaced the old: {}",
        r.stdout
    );
}

#[test]
fn state_names_the_provider_configuration_each_object_used() {
    // One module inherits the root's time provider, one declares its own;
    // state records which configuration each object belongs to, as
    // Terraform does.
    let dir = workdir_with_main(
        "provider \"time\" {}\nmodule \"inherits\" {\n  source = \"./inherits\"\n}\nmodule \"own\" {\n  source = \"./own\"\n}\n",
    );
    let d = dir.path();
    for (name, body) in [
        ("inherits", "resource \"time_static\" \"t\" {}\n"),
        (
            "own",
            "provider \"time\" {}\nresource \"time_static\" \"t\" {}\n",
        ),
    ] {
        std::fs::create_dir(d.join(name)).unwrap();
        std::fs::write(d.join(name).join("main.tf"), body).unwrap();
    }
    let r = meshform(d, &["apply", "-auto-approve", "-at=2026-01-01T00:00:00Z"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let r = meshform(d, &["state", "pull"]);
    let state: serde_json::Value = serde_json::from_str(&r.stdout).expect("state JSON");
    let provider_of = |module: &str| {
        state["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["module"] == module)
            .map(|r| r["provider"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(
        provider_of("module.inherits").as_deref(),
        Some("provider[\"registry.terraform.io/hashicorp/time\"]")
    );
    assert_eq!(
        provider_of("module.own").as_deref(),
        Some("module.own.provider[\"registry.terraform.io/hashicorp/time\"]")
    );
    let r = meshform(
        d,
        &["plan", "-detailed-exitcode", "-at=2026-01-01T00:00:10Z"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
}
