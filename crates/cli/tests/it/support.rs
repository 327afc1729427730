//! What every module runs the binary with: one way to build a `meshform`
//! command (colour off, nothing from the caller's environment that would
//! point it at other schemas, credentials, state or clusters), one `Run`
//! to hold what it printed, and temporary working directories.

use std::path::Path;
use std::process::{Command, Output};

/// Variables a developer's shell may hold that would change what the
/// binary does; no test inherits them (a test sets what it needs).
const INHERITED_VARIABLES_REMOVED: &[&str] = &[
    "MESHFORM_PROVIDER_SCHEMAS",
    "MESHFORM_WORKSPACE",
    "MESHFORM_STATE_KEY",
    "MESHFORM_LOG",
    "MESHFORM_HELM_MIRROR",
    "MESHFORM_KONNECT_IDENTITY_URL",
    "TF_VAR_konnect_personal_access_token",
    "TF_VAR_konnect_server_url",
    "KONNECT_TOKEN",
    "KONNECT_SPAT",
    "KONNECT_SERVER_URL",
    "KUBECONFIG",
];

/// What one run of the binary printed, and how it ended.
pub struct Run {
    /// The exit code, -1 when a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams and the exit code, for an assertion's message.
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `meshform` with colour off and a clean environment.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshform"));
    cmd.env("NO_COLOR", "1");
    for name in INHERITED_VARIABLES_REMOVED {
        cmd.env_remove(name);
    }
    cmd
}

/// `meshform -chdir=dir`, as [`command`].
pub fn command_in(dir: &Path) -> Command {
    let mut cmd = command();
    cmd.arg(chdir(dir));
    cmd
}

/// The `-chdir` flag for `dir`.
pub fn chdir(dir: &Path) -> String {
    format!("-chdir={}", dir.display())
}

/// Runs a command to its end.
pub fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("the binary runs").into()
}

/// `meshform -chdir=dir args...` run to its end.
pub fn meshform(dir: &Path, args: &[&str]) -> Run {
    run(command_in(dir).args(args))
}

/// An empty temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A temporary working directory holding `main.tf`.
pub fn workdir_with_main(main_tf: &str) -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(dir.path().join("main.tf"), main_tf).expect("main.tf written");
    dir
}

/// A temporary copy of the files (not subdirectories) of `src`.
pub fn copy_of_files(src: &Path) -> tempfile::TempDir {
    let dir = tempdir();
    let entries =
        std::fs::read_dir(src).unwrap_or_else(|e| panic!("{} cannot be read: {e}", src.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("a file copied");
        }
    }
    dir
}
