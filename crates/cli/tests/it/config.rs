//! `init` and `validate` on the guide's configuration and on broken ones.

use crate::support::{chdir, command, copy_of_files, run, workdir_with_main, Run};

/// `meshform args...` in the test's own directory (each test passes
/// `-chdir`).
fn meshform(args: &[&str]) -> Run {
    run(command().args(args))
}

/// A copy of a testdata directory, so that init's `.meshform/` stays out
/// of the repository.
fn copy_of(name: &str) -> tempfile::TempDir {
    copy_of_files(&meshform_testkit::testdata(name))
}

#[test]
fn init_accepts_the_guide_and_creates_its_directory() {
    let dir = copy_of("guide");
    let r = meshform(&[&chdir(dir.path()), "init"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("meshform has been successfully initialized!"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("kong/konnect-beta v0.1.0"));
    assert!(dir.path().join(".meshform").is_dir());
    // -upgrade, as the guide runs it, is accepted.
    let r = meshform(&[&chdir(dir.path()), "init", "-upgrade"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn validate_accepts_the_guide() {
    let dir = copy_of("guide");
    let r = meshform(&[&chdir(dir.path()), "validate"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Success! The configuration is valid."));
}

#[test]
fn validate_reports_the_broken_guide_reference_with_its_line() {
    let dir = copy_of("guide-broken");
    let r = meshform(&[&chdir(dir.path()), "validate"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let expected = "\nError: Reference to undeclared resource\n\n  on main.tf line 124, in resource \"konnect_system_account_access_token\" \"zone_system_account_token\":\n 124:   depends_on = [konnect_system_account.zone_system_account, time_rotating.rotate, time_offset.one_year_from_now]\n\nA managed resource \"time_rotating\" \"rotate\" has not been declared in the root\nmodule.\n";
    assert_eq!(r.stderr, expected);
}

#[test]
fn broken_guide_matches_terraforms_error() {
    // Terraform's own output for the same configuration.
    let Some(golden) = meshform_testkit::shared_path(
        "conformance/guide-plans/07b-zone-guide-depends-on-error/step1.plan.stderr.txt",
    ) else {
        return;
    };
    let golden = std::fs::read_to_string(golden).unwrap();
    let dir = copy_of("guide-broken");
    let r = meshform(&[&chdir(dir.path()), "validate"]);
    // The guide golden was made on step 7's file, where the mesh is renamed;
    // summary, location and detail are the same.
    assert_eq!(r.stderr, golden);
}

#[test]
fn init_rejects_unsupported_providers_and_versions() {
    let dir = workdir_with_main("terraform {\n  required_providers {\n    aws = {\n      source = \"hashicorp/aws\"\n    }\n    konnect = {\n      source  = \"kong/konnect\"\n      version = \">= 3.0\"\n    }\n  }\n}\n");
    let r = meshform(&[&chdir(dir.path()), "init"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Error: Unsupported provider"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("kong/konnect-beta 0.1.0"),
        "lists what is supported: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Error: Unsupported provider version"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("on main.tf line 6:"), "{}", r.stderr);
}

#[test]
fn flags_take_one_or_two_dashes_and_colour_can_be_turned_off() {
    let dir = copy_of("guide");
    let one = meshform(&[&chdir(dir.path()), "validate", "-no-color"]);
    let two = meshform(&[&format!("-{}", chdir(dir.path())), "validate", "--no-color"]);
    assert_eq!(one.stdout, two.stdout);
    assert!(!one.stdout.contains('\x1b'));
    let help = meshform(&["-help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("validate"));
    let v = meshform(&["version"]);
    assert!(v.stdout.starts_with("meshform v"));
}

#[test]
fn syntax_errors_are_positioned_and_quote_the_line() {
    let dir = workdir_with_main("variable \"x\" {\n  default = \"abc\n}\n");
    let r = meshform(&[&chdir(dir.path()), "validate"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Error: Invalid multi-line string"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("on main.tf line 2:"), "{}", r.stderr);
    assert!(r.stderr.contains("   2:   default = \"abc"), "{}", r.stderr);
}

fn validate_config(main_tf: &str) -> Run {
    let dir = workdir_with_main(main_tf);
    meshform(&[&chdir(dir.path()), "validate"])
}

const POLICY: &str = r#"
resource "konnect_mesh_traffic_permission" "allow_all" {
  provider = konnect-beta
  cp_id    = "cp"
  mesh     = "default"
  type     = "MeshTrafficPermission"
  name     = "allow-all"
  spec = {
    from = [
      {
        target_ref = {
          kind = "KIND"
        }
        default = {
          action = "ACTION"
        }
      }
    ]
  }
}
terraform {
  required_providers {
    konnect-beta = {
      source = "kong/konnect-beta"
    }
  }
}
"#;

#[test]
fn validate_checks_policy_actions_offline() {
    let r = validate_config(&POLICY.replace("KIND", "Mesh").replace("ACTION", "Alow"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("on main.tf line 15"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Allow"),
        "lists the allowed values: {}",
        r.stderr
    );
    assert!(r.stderr.contains("Deny"), "{}", r.stderr);
}

#[test]
fn validate_checks_target_ref_kinds_offline() {
    let r = validate_config(&POLICY.replace("KIND", "Meshh").replace("ACTION", "Allow"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("on main.tf line 12"), "{}", r.stderr);
    assert!(
        r.stderr.contains("MeshService"),
        "lists the allowed kinds: {}",
        r.stderr
    );
}

#[test]
fn validate_checks_arguments_against_the_schema() {
    let r = validate_config("resource \"time_offset\" \"x\" {\n  offset_dayz = 1\n}\n");
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Error: Unsupported argument"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\"offset_days\"?"), "{}", r.stderr);
    let r = validate_config("resource \"time_offset\" \"x\" {\n  offset_days = \"many\"\n}\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("on main.tf line 2"), "{}", r.stderr);
    let r = validate_config("resource \"time_offsett\" \"x\" {}\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("\"time_offset\"?"), "{}", r.stderr);
}
