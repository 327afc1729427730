//! `import` blocks (Terraform 1.5) against the sandbox Konnect server: a
//! control plane made in one working directory is adopted by an import
//! block in another, as is, or with an in-place update; bad targets,
//! IDs not known until apply and `-offline` are errors.

use std::path::Path;

use crate::konnect::{self, state_list, Konnect};
use crate::support::{self, Run};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(meshform_testkit::testdata(&format!("import-blocks/{name}")))
        .expect("import-blocks fixture")
}

/// A working directory holding `main.tf` = the guide's provider setup +
/// the fixture `name`.
fn workdir(name: &str) -> tempfile::TempDir {
    konnect::workdir(&fixture(name))
}

/// `meshform -chdir=dir ARGS` against the sandbox, with `TF_VAR_cp_id`
/// set when given.
fn meshform(konnect: &Konnect, dir: &Path, cp_id: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = konnect.command(dir, args);
    if let Some(id) = cp_id {
        cmd.env("TF_VAR_cp_id", id);
    }
    support::run(&mut cmd)
}

/// `meshform ARGS` in `dir` with `TF_VAR_cp_id` set.
fn with_cp_id(konnect: &Konnect, dir: &Path, cp_id: &str, args: &[&str]) -> Run {
    meshform(konnect, dir, Some(cp_id), args)
}

/// The names of every control plane the sandbox holds, sorted.
fn control_plane_names(konnect: &Konnect) -> Vec<String> {
    Konnect::names(&konnect.control_planes())
}

/// A control plane made by another working directory; its ID.
fn control_plane_made_elsewhere(konnect: &Konnect) -> (tempfile::TempDir, String) {
    let maker = workdir("control-plane.tf");
    let r = meshform(
        konnect,
        maker.path(),
        None,
        &["apply", "-auto-approve", "-input=false"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let r = meshform(konnect, maker.path(), None, &["output", "-raw", "cp_id"]);
    assert_eq!(r.code, 0, "{}", r.text());
    (maker, r.stdout.trim().to_owned())
}

#[test]
fn an_import_block_adopts_a_control_plane_made_elsewhere() {
    let konnect = Konnect::start();
    let (_maker, cp_id) = control_plane_made_elsewhere(&konnect);
    let dir = workdir("import.tf");
    let d = dir.path();

    let r = with_cp_id(
        &konnect,
        d,
        &cp_id,
        &["plan", "-detailed-exitcode", "-input=false"],
    );
    assert_eq!(r.code, 2, "an import is a change:\n{}", r.text());
    assert!(
        r.stdout.contains(
            "  # konnect_mesh_control_plane.cp will be imported\n    resource \"konnect_mesh_control_plane\" \"cp\" {\n"
        ),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains(&format!("        id          = \"{cp_id}\"\n")),
        "every attribute shows:\n{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.\n"),
        "{}",
        r.text()
    );
    assert!(!r.stdout.contains("No changes."), "{}", r.text());

    let r = with_cp_id(
        &konnect,
        d,
        &cp_id,
        &["apply", "-auto-approve", "-input=false"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&format!(
            "konnect_mesh_control_plane.cp: Importing... [id={cp_id}]\nkonnect_mesh_control_plane.cp: Import complete [id={cp_id}]\n"
        )),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    assert_eq!(
        state_list(&konnect, d),
        vec!["konnect_mesh_control_plane.cp"]
    );
    // Adopted, not created: still the one control plane.
    assert_eq!(control_plane_names(&konnect), vec!["imported-cp"]);

    // Managed now: the import block does nothing more.
    let r = with_cp_id(
        &konnect,
        d,
        &cp_id,
        &["plan", "-detailed-exitcode", "-input=false"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("No changes. Your infrastructure matches the configuration."),
        "{}",
        r.text()
    );
}

#[test]
fn an_imported_control_plane_that_differs_is_updated_in_place() {
    let konnect = Konnect::start();
    let (_maker, cp_id) = control_plane_made_elsewhere(&konnect);
    let dir = workdir("import-update.tf");
    let d = dir.path();

    let r = with_cp_id(&konnect, d, &cp_id, &["plan", "-input=false"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&format!(
            "  # konnect_mesh_control_plane.cp will be updated in-place\n  # (imported from \"{cp_id}\")\n  ~ resource \"konnect_mesh_control_plane\" \"cp\" {{\n"
        )),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("~ description = \"made elsewhere\" -> \"managed here now\""),
        "{}",
        r.text()
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy.\n"),
        "{}",
        r.text()
    );

    let r = with_cp_id(
        &konnect,
        d,
        &cp_id,
        &["apply", "-auto-approve", "-input=false"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let importing = r
        .stdout
        .find("konnect_mesh_control_plane.cp: Import complete")
        .expect("the import is reported");
    let modifying = r
        .stdout
        .find("konnect_mesh_control_plane.cp: Modifying...")
        .expect("the update is reported");
    assert!(importing < modifying, "imported first:\n{}", r.text());
    assert!(
        r.stdout
            .contains("Apply complete! Resources: 1 imported, 0 added, 1 changed, 0 destroyed."),
        "{}",
        r.text()
    );
    let (status, cp) = konnect.get(&format!("/v1/mesh/control-planes/{cp_id}"));
    assert_eq!(status, 200, "{cp}");
    assert_eq!(cp["description"], "managed here now");
    assert_eq!(control_plane_names(&konnect), vec!["imported-cp"]);

    let r = with_cp_id(
        &konnect,
        d,
        &cp_id,
        &["plan", "-detailed-exitcode", "-input=false"],
    );
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn an_import_target_the_configuration_lacks_is_an_error_at_to() {
    let konnect = Konnect::start();
    let dir = workdir("missing-target.tf");
    let d = dir.path();
    for args in [vec!["validate"], vec!["plan", "-input=false"]] {
        let r = meshform(&konnect, d, None, &args);
        assert_eq!(r.code, 1, "{args:?}:\n{}", r.text());
        assert!(
            r.stderr
                .contains("Configuration for import target does not exist"),
            "{args:?}:\n{}",
            r.text()
        );
        assert!(
            r.stderr.contains("konnect_mesh_control_plane.other"),
            "{args:?}:\n{}",
            r.text()
        );
    }
    assert!(control_plane_names(&konnect).is_empty());
}

#[test]
fn an_import_id_not_known_until_apply_is_an_error() {
    let konnect = Konnect::start();
    let dir = workdir("unknown-id.tf");
    let r = meshform(&konnect, dir.path(), None, &["plan", "-input=false"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("Error: Invalid import id argument")
            && r.stderr
                .contains("depends on values that cannot be determined"),
        "{}",
        r.text()
    );
}

#[test]
fn an_offline_plan_refuses_to_import_and_says_why() {
    let konnect = Konnect::start();
    let (_maker, cp_id) = control_plane_made_elsewhere(&konnect);
    let dir = workdir("import.tf");
    let r = with_cp_id(
        &konnect,
        dir.path(),
        &cp_id,
        &["plan", "-offline", "-input=false"],
    );
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("Import needs the remote API"),
        "{}",
        r.text()
    );
    assert!(r.stderr.contains("without -offline"), "{}", r.text());
    assert!(
        state_list(&konnect, dir.path()).is_empty(),
        "nothing is saved"
    );
}
