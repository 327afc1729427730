//! `state …`, `output`, `taint`/`untaint`, `force-unlock` and `workspace …`
//! run as the built binary in a fresh directory.

use std::path::PathBuf;

use meshform_state::{LockRequest, OpenOptions, StateStore};
use tempfile::TempDir;

use crate::support::{command_in, run, tempdir, Run};

const FIXTURE: &str = "state/basic/terraform.tfstate";
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The state database of a working directory.
fn db(dir: &TempDir) -> PathBuf {
    dir.path().join(".meshform/state.db")
}

fn meshform_in(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command_in(dir.path());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn meshform(dir: &TempDir, args: &[&str]) -> Run {
    meshform_in(dir, args, &[])
}

fn ok(run: Run) -> String {
    assert_eq!(
        run.code, 0,
        "expected success\nstdout:\n```\n{}\n```\nstderr:\n```\n{}\n```",
        run.stdout, run.stderr
    );
    run.stdout
}

fn fails(run: Run) -> String {
    assert_eq!(run.code, 1, "expected failure, stdout:\n{}", run.stdout);
    run.stderr
}

fn fixture() -> PathBuf {
    meshform_testkit::testdata(FIXTURE)
}

fn imported() -> TempDir {
    let dir = tempdir();
    let fixture = fixture();
    let out = ok(meshform(
        &dir,
        &["state", "import-tfstate", fixture.to_str().unwrap()],
    ));
    assert!(
        out.contains("Imported 4 resource instance(s) and 3 output(s)"),
        "{out}"
    );
    dir
}

#[test]
fn import_list_show_and_pull() {
    let dir = imported();
    assert_eq!(
        ok(meshform(&dir, &["state", "list"])),
        "data.fake_echo.e\nfake_thing.t[0]\nfake_thing.t[1]\nmodule.child.fake_thing.c\n"
    );
    assert_eq!(
        ok(meshform(&dir, &["state", "list", "fake_thing.t"])),
        "fake_thing.t[0]\nfake_thing.t[1]\n"
    );
    assert_eq!(
        ok(meshform(&dir, &["state", "list", "-id=id-cccc2222"])),
        "module.child.fake_thing.c\n"
    );
    let show = ok(meshform(&dir, &["state", "show", "fake_thing.t[0]"]));
    assert_eq!(
        show,
        r#"# fake_thing.t[0]:
resource "fake_thing" "t" {
    id   = "id-aaaa0000"
    name = "first"
    size = 0.333333333333333333333333333333333333333333
    tags = {
        "plain" = "p"
        "token" = (sensitive value)
    }
}
"#
    );
    let err = fails(meshform(&dir, &["state", "show", "fake_thing.nope"]));
    assert!(
        err.contains("No instance found for the given address"),
        "{err}"
    );
    // Byte for byte what was imported.
    let pulled = ok(meshform(&dir, &["state", "pull"]));
    assert_eq!(pulled, std::fs::read_to_string(fixture()).unwrap());
    // Importing again over a non-empty state needs -force.
    let fixture = fixture();
    let err = fails(meshform(
        &dir,
        &["state", "import-tfstate", fixture.to_str().unwrap()],
    ));
    assert!(err.contains("already holds a state"), "{err}");
}

#[test]
fn output_human_json_and_raw() {
    let dir = imported();
    assert_eq!(
        ok(meshform(&dir, &["output"])),
        "cp_id = \"167ae5f9-ae35-4c3d-bfbb-e1eb188db8e1\"\nnames = tolist([\n  \"a\",\n  \"b\",\n])\ntoken = <sensitive>\n"
    );
    assert_eq!(
        ok(meshform(&dir, &["output", "-raw", "token"])),
        "kpat_secret_output_value"
    );
    assert_eq!(
        ok(meshform(&dir, &["output", "-json", "names"])),
        "[\"a\",\"b\"]\n"
    );
    let all: serde_json::Value =
        serde_json::from_str(&ok(meshform(&dir, &["output", "-json"]))).unwrap();
    assert_eq!(all["token"]["sensitive"], true);
    assert_eq!(all["names"]["type"], serde_json::json!(["list", "string"]));
    let err = fails(meshform(&dir, &["output", "-raw", "names"]));
    assert!(err.contains("Unsupported value for raw output"), "{err}");
    let err = fails(meshform(&dir, &["output", "missing"]));
    assert!(err.contains("Output \"missing\" not found"), "{err}");
}

#[test]
fn taint_untaint_mv_rm_and_history() {
    let dir = imported();
    assert_eq!(
        ok(meshform(&dir, &["taint", "fake_thing.t[1]"])),
        "Resource instance fake_thing.t[1] has been marked as tainted.\n"
    );
    assert!(ok(meshform(&dir, &["state", "show", "fake_thing.t[1]"]))
        .starts_with("# fake_thing.t[1]: (tainted)\n"));
    assert!(ok(meshform(&dir, &["state", "pull"])).contains("\"status\": \"tainted\""));
    ok(meshform(&dir, &["untaint", "fake_thing.t[1]"]));
    let err = fails(meshform(&dir, &["taint", "fake_thing.nope"]));
    assert!(err.contains("No such resource instance"), "{err}");
    ok(meshform(
        &dir,
        &["taint", "-allow-missing", "fake_thing.nope"],
    ));

    assert_eq!(
        ok(meshform(&dir, &["state", "mv", "fake_thing.t", "fake_thing.u"])),
        "Move \"fake_thing.t[0]\" to \"fake_thing.u[0]\"\nMove \"fake_thing.t[1]\" to \"fake_thing.u[1]\"\nSuccessfully moved 2 object(s).\n"
    );
    assert_eq!(
        ok(meshform(&dir, &["state", "rm", "-dry-run", "module.child"])),
        "Would remove module.child.fake_thing.c\n"
    );
    assert_eq!(
        ok(meshform(&dir, &["state", "rm", "module.child", "fake_thing.u[0]"])),
        "Removed module.child.fake_thing.c\nRemoved fake_thing.u[0]\nSuccessfully removed 2 resource instance(s).\n"
    );
    let err = fails(meshform(&dir, &["state", "rm", "fake_thing.gone"]));
    assert!(err.contains("No matching objects found"), "{err}");
    assert_eq!(
        ok(meshform(&dir, &["state", "list"])),
        "data.fake_echo.e\nfake_thing.u[1]\n"
    );

    // The import is serial 7 (from the file); each command after it adds one.
    let history = ok(meshform(&dir, &["state", "history", "fake_thing.u[1]"]));
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 1, "{history}");
    assert!(
        lines[0].contains("move") && lines[0].contains("(state mv)"),
        "{history}"
    );
    let t1 = ok(meshform(&dir, &["state", "history", "fake_thing.t[1]"]));
    let actions: Vec<&str> = t1
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(actions, vec!["import", "taint", "untaint"], "{t1}");
    let json = ok(meshform(&dir, &["state", "history", "-json"]));
    let last: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(last["serial"], 11);
    assert_eq!(last["command"], "state rm");
    let pulled: serde_json::Value =
        serde_json::from_str(&ok(meshform(&dir, &["state", "pull"]))).unwrap();
    assert_eq!(pulled["serial"], 11);
    assert_eq!(pulled["lineage"], "3c6f1a52-7c1e-4d1b-9a52-0d9e5e0c2f11");
}

#[test]
fn push_checks_lineage_and_serial() {
    let dir = imported();
    let pulled = ok(meshform(&dir, &["state", "pull"]));
    let older = pulled.replace("\"serial\": 7", "\"serial\": 3");
    let foreign = pulled.replace("3c6f1a52-7c1e-4d1b-9a52-0d9e5e0c2f11", "other-lineage");
    std::fs::write(dir.path().join("older.tfstate"), &older).unwrap();
    std::fs::write(dir.path().join("foreign.tfstate"), &foreign).unwrap();
    let err = fails(meshform(&dir, &["state", "push", "older.tfstate"]));
    assert!(
        err.contains("older") || err.contains("newer serial"),
        "{err}"
    );
    let err = fails(meshform(&dir, &["state", "push", "foreign.tfstate"]));
    assert!(err.contains("lineage"), "{err}");
    ok(meshform(
        &dir,
        &["state", "push", "-force", "foreign.tfstate"],
    ));
    let now: serde_json::Value =
        serde_json::from_str(&ok(meshform(&dir, &["state", "pull"]))).unwrap();
    assert_eq!(now["lineage"], "other-lineage");
    assert_eq!(now["serial"], 8);
}

#[test]
fn a_held_lock_refuses_writers_until_force_unlock() {
    let dir = imported();
    let mut holder = StateStore::open(&db(&dir), OpenOptions::new("apply")).unwrap();
    let held = holder
        .lock(&LockRequest {
            operation: "apply".into(),
            who: "alice@elsewhere".into(),
            timeout: std::time::Duration::ZERO,
        })
        .unwrap();
    let err = fails(meshform(&dir, &["state", "rm", "fake_thing.t[0]"]));
    assert!(err.contains("Error acquiring the state lock"), "{err}");
    assert!(
        err.contains(&held.id) && err.contains("alice@elsewhere"),
        "{err}"
    );
    assert!(err.contains("Operation: apply"), "{err}");
    let err = fails(meshform(
        &dir,
        &["taint", "-lock-timeout=1s", "fake_thing.t[0]"],
    ));
    assert!(err.contains(&held.id), "{err}");
    // -lock=false does not let a write through while someone holds it.
    let err = fails(meshform(
        &dir,
        &["state", "rm", "-lock=false", "fake_thing.t[0]"],
    ));
    assert!(err.contains(&held.id), "{err}");
    // Reads need no lock.
    ok(meshform(&dir, &["state", "list"]));

    let err = fails(meshform(&dir, &["force-unlock", "-force", "wrong-id"]));
    assert!(err.contains("Failed to unlock state"), "{err}");
    let out = ok(meshform(&dir, &["force-unlock", "-force", &held.id]));
    assert!(out.contains("successfully unlocked"), "{out}");
    ok(meshform(&dir, &["state", "rm", "fake_thing.t[0]"]));
    assert!(holder.lock_holder().unwrap().is_none());
}

#[test]
fn workspaces_list_new_select_show_delete() {
    let dir = imported();
    assert_eq!(ok(meshform(&dir, &["workspace", "show"])), "default\n");
    let out = ok(meshform(&dir, &["workspace", "new", "staging"]));
    assert!(
        out.starts_with("Created and switched to workspace \"staging\"!"),
        "{out}"
    );
    assert_eq!(ok(meshform(&dir, &["workspace", "show"])), "staging\n");
    assert_eq!(
        ok(meshform(&dir, &["workspace", "list"])),
        "  default\n* staging\n\n"
    );
    // The new workspace is empty; default keeps its state.
    assert_eq!(ok(meshform(&dir, &["state", "list"])), "");
    assert_eq!(
        ok(meshform_in(
            &dir,
            &["state", "list", "module.child"],
            &[("MESHFORM_WORKSPACE", "default")]
        )),
        "module.child.fake_thing.c\n"
    );
    let err = fails(meshform(&dir, &["workspace", "delete", "staging"]));
    assert!(err.contains("your active workspace"), "{err}");
    let err = fails(meshform(&dir, &["workspace", "select", "nope"]));
    assert!(err.contains("doesn't exist"), "{err}");
    assert_eq!(
        ok(meshform(&dir, &["workspace", "select", "default"])),
        "Switched to workspace \"default\".\n"
    );
    let err = fails(meshform(&dir, &["workspace", "delete", "default"]));
    assert!(
        err.contains("cannot be deleted") || err.contains("active"),
        "{err}"
    );
    assert_eq!(
        ok(meshform(&dir, &["workspace", "delete", "staging"])),
        "Deleted workspace \"staging\"!\n"
    );
    assert_eq!(ok(meshform(&dir, &["workspace", "list"])), "* default\n\n");
}

#[test]
fn with_a_key_secrets_are_encrypted_and_the_key_is_required() {
    let dir = tempdir();
    let fixture = fixture();
    let key = [("MESHFORM_STATE_KEY", KEY)];
    ok(meshform_in(
        &dir,
        &["state", "import-tfstate", fixture.to_str().unwrap()],
        &key,
    ));
    let mut bytes = std::fs::read(db(&dir)).unwrap();
    bytes.extend(std::fs::read(dir.path().join(".meshform/state.db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("kpat_secret_tag_value"));
    assert!(!text.contains("kpat_secret_output_value"));
    assert!(text.contains("id-aaaa0000"));

    let pulled = ok(meshform_in(&dir, &["state", "pull"], &key));
    assert_eq!(pulled, std::fs::read_to_string(&fixture).unwrap());
    let err = fails(meshform(&dir, &["state", "pull"]));
    assert!(err.contains("MESHFORM_STATE_KEY"), "{err}");
    let wrong = [(
        "MESHFORM_STATE_KEY",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    )];
    let err = fails(meshform_in(&dir, &["output", "token"], &wrong));
    assert!(err.contains("does not match key version 1"), "{err}");
    let err = fails(meshform_in(
        &dir,
        &["state", "list"],
        &[("MESHFORM_STATE_KEY", "short")],
    ));
    assert!(err.contains("32 bytes"), "{err}");
}

#[test]
fn rekey_moves_the_state_to_a_new_key() {
    let dir = imported();
    let new_key = [("MESHFORM_STATE_NEW_KEY", KEY)];
    let out = ok(meshform_in(&dir, &["state", "rekey"], &new_key));
    assert!(out.contains("key version 1"), "{out}");
    let bytes = std::fs::read(db(&dir)).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("kpat_secret_tag_value"));
    let err = fails(meshform(&dir, &["output", "token"]));
    assert!(err.contains("MESHFORM_STATE_KEY"), "{err}");
    let key = [("MESHFORM_STATE_KEY", KEY)];
    assert_eq!(
        ok(meshform_in(&dir, &["output", "-raw", "token"], &key)),
        "kpat_secret_output_value"
    );
    let err = fails(meshform(&dir, &["state", "rekey"]));
    assert!(err.contains("MESHFORM_STATE_NEW_KEY is not set"), "{err}");
}
