//! Test support shared by every meshform crate (a dev-dependency only):
//! finding the read-only reference data in `../shared`.
//!
//! Tests that need `../shared` call [`shared_dir`]; when the data is missing
//! they skip with a printed reason, unless `MESHFORM_REQUIRE_SHARED=1`, where
//! a missing fixture fails the test.

use std::path::{Path, PathBuf};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // Cargo sets CARGO_MANIFEST_DIR for the test being run (a crate two
    // levels below the root); fall back to where this crate was built.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    crate_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or(crate_dir)
}

fn required() -> bool {
    std::env::var("MESHFORM_REQUIRE_SHARED").is_ok_and(|v| v == "1")
}

/// The `shared` directory: `$MESHFORM_SHARED`, else `../shared` beside the
/// workspace. `None` (after printing why) when it is absent and not required.
pub fn shared_dir() -> Option<PathBuf> {
    let candidate = match std::env::var_os("MESHFORM_SHARED") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("../shared"),
    };
    if candidate.is_dir() {
        return Some(candidate);
    }
    let reason = format!(
        "shared reference data not found at {} (set MESHFORM_SHARED)",
        candidate.display()
    );
    if required() {
        panic!("{reason}; MESHFORM_REQUIRE_SHARED=1 makes this a failure");
    }
    eprintln!("skipped: {reason}");
    None
}

/// A file or directory inside `shared`, with the same skip/fail rule as
/// [`shared_dir`] when it is missing.
pub fn shared_path(relative: &str) -> Option<PathBuf> {
    let path = shared_dir()?.join(relative);
    if path.exists() {
        return Some(path);
    }
    let reason = format!("shared fixture {} is missing", path.display());
    if required() {
        panic!("{reason}; MESHFORM_REQUIRE_SHARED=1 makes this a failure");
    }
    eprintln!("skipped: {reason}");
    None
}

/// A directory under `testdata/` of the workspace.
pub fn testdata(relative: &str) -> PathBuf {
    workspace_root().join("testdata").join(relative)
}

/// The real `terraform` binary of the reference version (1.11.4): from
/// `$MESHFORM_TERRAFORM`, else `terraform` on `PATH`. `None` (after
/// printing why) when there is none, or another version, unless
/// `MESHFORM_REQUIRE_SHARED=1`, where that is a failure.
pub fn terraform() -> Option<PathBuf> {
    let program = std::env::var_os("MESHFORM_TERRAFORM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("terraform"));
    let version = std::process::Command::new(&program)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output();
    let reason = match version {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            if text.starts_with("Terraform v1.11.4") {
                return Some(program);
            }
            format!(
                "{} is not Terraform v1.11.4 (it says {:?})",
                program.display(),
                text.lines().next().unwrap_or_default()
            )
        }
        Err(e) => format!("no terraform binary ({}: {e})", program.display()),
    };
    if required() {
        panic!("{reason}; MESHFORM_REQUIRE_SHARED=1 makes this a failure (set MESHFORM_TERRAFORM)");
    }
    eprintln!("skipped: {reason}");
    None
}
