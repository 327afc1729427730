//! `meshform fmt` against `terraform fmt`: the committed transcript
//! Terraform 1.11.4 printed for our fixtures (`testdata/fmt`), the flags
//! and exit codes, and, with the real binary at hand, the same commands on
//! every `.tf` file of the conformance data and of this repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{meshform, run, tempdir, Run};

/// Copies the `.tf` files under `from` (at any depth) to `to`.
fn copy_tf_tree(from: &Path, to: &Path) -> usize {
    let mut copied = 0;
    let Ok(entries) = std::fs::read_dir(from) else {
        return 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copied += copy_tf_tree(&path, &to.join(&name));
        } else if name.to_string_lossy().ends_with(".tf") {
            std::fs::create_dir_all(to).expect("temp dir is writable");
            std::fs::copy(&path, to.join(&name)).expect("copy");
            copied += 1;
        }
    }
    copied
}

/// A temporary copy of `testdata/fmt` holding only the fixtures' inputs.
fn fixture_inputs() -> tempfile::TempDir {
    let dir = tempdir();
    let root = meshform_testkit::testdata("fmt");
    for entry in std::fs::read_dir(&root).expect("testdata/fmt").flatten() {
        let input = entry.path().join("input.tf");
        if input.is_file() {
            let case = dir.path().join(entry.file_name());
            std::fs::create_dir_all(&case).expect("mkdir");
            std::fs::copy(&input, case.join("input.tf")).expect("copy");
        }
    }
    dir
}

#[test]
fn check_diff_prints_what_terraform_printed_for_the_fixtures() {
    let dir = fixture_inputs();
    let r = meshform(dir.path(), &["fmt", "-check", "-diff", "-recursive"]);
    let want = std::fs::read_to_string(meshform_testkit::testdata("fmt/check-diff.stdout"))
        .expect("the committed transcript");
    assert_eq!(r.code, 3, "{}", r.text());
    assert!(r.stdout == want, "want:\n{want}\n{}", r.text());
    // -check writes nothing.
    let again = meshform(dir.path(), &["fmt", "-check", "-recursive"]);
    assert_eq!(again.code, 3, "{}", again.text());
}

#[test]
fn fmt_writes_lists_and_then_finds_nothing_to_do() {
    let dir = fixture_inputs();
    let r = meshform(dir.path(), &["fmt", "-recursive"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let listed: Vec<&str> = r.stdout.lines().collect();
    assert!(listed.contains(&"alignment/input.tf"), "{}", r.text());
    for case in ["alignment", "expressions", "nesting", "rewrites"] {
        let got = std::fs::read_to_string(dir.path().join(case).join("input.tf")).expect("read");
        let want = std::fs::read_to_string(meshform_testkit::testdata(&format!(
            "fmt/{case}/expected.tf"
        )))
        .expect("read");
        assert_eq!(got, want, "{case}");
    }
    let r = meshform(dir.path(), &["fmt", "-check", "-recursive"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.text());
}

#[test]
fn flags_and_errors_follow_terraform() {
    let dir = fixture_inputs();
    // Without -recursive only the directory itself: no files there.
    let r = meshform(dir.path(), &["fmt", "-check"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.text());
    // -write=false -list=false prints the formatted text instead.
    let r = meshform(
        dir.path(),
        &["fmt", "-write=false", "-list=false", "nesting/input.tf"],
    );
    let want = std::fs::read_to_string(meshform_testkit::testdata("fmt/nesting/expected.tf"))
        .expect("read");
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(r.stdout, want);
    let r = meshform(
        dir.path(),
        &["fmt", "-list=false", "-check", "nesting/input.tf"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (3, ""), "{}", r.text());
    let r = meshform(dir.path(), &["fmt", "missing.tf"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stderr.contains("No file or directory at missing.tf"),
        "{}",
        r.text()
    );
    std::fs::write(dir.path().join("bad.tf"), "resource \"a\" \"b\" {\n").expect("write");
    let r = meshform(dir.path(), &["fmt", "bad.tf"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stderr.contains("Error:"), "{}", r.text());
    // Standard input: the formatted text, with a final newline.
    let mut cmd = crate::support::command();
    cmd.current_dir(dir.path()).args(["fmt", "-"]);
    let r = run_with_stdin(cmd, "a=1");
    assert_eq!((r.code, r.stdout.as_str()), (0, "a = 1\n"), "{}", r.text());
}

fn run_with_stdin(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the binary ends").into()
}

/// The same command run by terraform in one copy of the tree and by
/// meshform in another; the outputs, exit codes and files left behind must
/// be the same.
fn both(terraform: &Path, trees: &[(PathBuf, PathBuf)], args: &[&str]) {
    let (tf_dir, mf_dir) = (tempdir(), tempdir());
    let mut copied = 0;
    for (from, name) in trees {
        copied += copy_tf_tree(from, &tf_dir.path().join(name));
        copy_tf_tree(from, &mf_dir.path().join(name));
    }
    assert!(copied >= 150, "only {copied} files to compare");
    let rc = tf_dir.path().join(".terraformrc");
    std::fs::write(&rc, "").expect("write");
    let theirs: Run = run(Command::new(terraform)
        .args(["fmt"])
        .args(args)
        .current_dir(tf_dir.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", &rc));
    let mut all = vec!["fmt"];
    all.extend_from_slice(args);
    let ours = meshform(mf_dir.path(), &all);
    assert_eq!(
        ours.code,
        theirs.code,
        "{args:?}\nterraform: {}\nmeshform: {}",
        theirs.text(),
        ours.text()
    );
    assert!(
        ours.stdout == theirs.stdout,
        "{args:?}: stdout differs\nterraform:\n{}\nmeshform:\n{}",
        theirs.stdout,
        ours.stdout
    );
    for (_, name) in trees {
        assert_same_files(&tf_dir.path().join(name), &mf_dir.path().join(name));
    }
}

/// Every `.tf` file under `theirs` has the same bytes under `ours`.
fn assert_same_files(theirs: &Path, ours: &Path) {
    for entry in std::fs::read_dir(theirs).expect("a copied tree").flatten() {
        let (t, o) = (entry.path(), ours.join(entry.file_name()));
        if t.is_dir() {
            assert_same_files(&t, &o);
        } else {
            let same = std::fs::read(&t).ok() == std::fs::read(&o).ok();
            assert!(same, "{} differs from what terraform left", o.display());
        }
    }
}

#[test]
fn fmt_agrees_with_terraform_on_every_tf_file() {
    let Some(shared) = meshform_testkit::shared_path("conformance") else {
        return;
    };
    let Some(terraform) = meshform_testkit::terraform() else {
        return;
    };
    let repo = meshform_testkit::workspace_root();
    let trees = vec![
        (shared, PathBuf::from("conformance")),
        (repo.join("testdata"), PathBuf::from("testdata")),
        (repo.join("examples"), PathBuf::from("examples")),
    ];
    both(&terraform, &trees, &["-check", "-recursive", "-no-color"]);
    both(
        &terraform,
        &trees,
        &["-check", "-diff", "-recursive", "-no-color"],
    );
    both(&terraform, &trees, &["-recursive", "-no-color"]);
    both(
        &terraform,
        &trees,
        &[
            "-write=false",
            "-list=false",
            "-recursive",
            "-no-color",
            "testdata",
        ],
    );
}
