//! What an expression is evaluated against: root names, the source text for
//! diagnostics, and the injected world (files, clock, plan or apply).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::value::Value;

/// Source files are the shared diagnostic type: one definition for every crate.
pub use crate::diag::SourceFile;

/// A file the loader could not give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("no file exists at {path}")]
    NotFound { path: String },
    #[error("{path} is a directory, not a file")]
    IsDirectory { path: String },
    #[error("file access is not available in this context ({path})")]
    Unavailable { path: String },
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
}

/// Reads files for `file`, `fileexists`, `fileset`, `templatefile` and the
/// other file functions. Paths arrive as the configuration wrote them
/// (usually starting with `path.module`); the loader resolves them.
pub trait FileLoader: Send + Sync {
    /// The bytes of a regular file.
    fn read(&self, path: &str) -> Result<Vec<u8>, FileError>;
    /// Whether a regular file exists at `path`; `Err(IsDirectory)` for a
    /// directory, as Terraform's `fileexists` fails then.
    fn file_exists(&self, path: &str) -> Result<bool, FileError>;
    /// Every regular file below directory `dir`, as paths relative to it
    /// with `/` separators.
    fn list_files(&self, dir: &str) -> Result<Vec<String>, FileError>;
}

/// A loader that refuses every access (the default: evaluation does no
/// I/O unless a loader is injected).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileLoader for NoFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        Err(FileError::Unavailable {
            path: path.to_owned(),
        })
    }
    fn file_exists(&self, path: &str) -> Result<bool, FileError> {
        Err(FileError::Unavailable {
            path: path.to_owned(),
        })
    }
    fn list_files(&self, dir: &str) -> Result<Vec<String>, FileError> {
        Err(FileError::Unavailable {
            path: dir.to_owned(),
        })
    }
}

/// Files held in memory, keyed by path relative to the module directory
/// (`./a.txt`, `a.txt` and `sub/../a.txt` all name `a.txt`).
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryFiles {
    pub fn new() -> MemoryFiles {
        MemoryFiles::default()
    }

    /// Adds or replaces a file.
    pub fn insert(&mut self, path: &str, content: impl Into<Vec<u8>>) {
        self.files.insert(normalize_path(path), content.into());
    }
}

/// Cleans a relative path: drops `.` and empty segments, resolves `..`.
pub fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

impl FileLoader for MemoryFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, FileError> {
        let key = normalize_path(path);
        if let Some(content) = self.files.get(&key) {
            return Ok(content.clone());
        }
        let prefix = format!("{key}/");
        if key.is_empty() || self.files.keys().any(|k| k.starts_with(&prefix)) {
            return Err(FileError::IsDirectory {
                path: path.to_owned(),
            });
        }
        Err(FileError::NotFound {
            path: path.to_owned(),
        })
    }

    fn file_exists(&self, path: &str) -> Result<bool, FileError> {
        match self.read(path) {
            Ok(_) => Ok(true),
            Err(FileError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn list_files(&self, dir: &str) -> Result<Vec<String>, FileError> {
        let key = normalize_path(dir);
        let prefix = if key.is_empty() {
            String::new()
        } else {
            format!("{key}/")
        };
        Ok(self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect())
    }
}

/// The time source for `timestamp()` (and for resources of the `time`
/// provider elsewhere).
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant (for tests and reproducible runs).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Whether values are computed for a plan (or validation) or during apply.
/// During plan the impure functions `timestamp()`, `uuid()` and `bcrypt()`
/// give unknown values, as in Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    Plan,
    #[default]
    Apply,
}

/// Everything an expression can see.
///
/// Root names (`var`, `local`, `module`, `data`, resource type names,
/// `each`, `count`, `self`, `path`, `terraform`) are plain values: `var` is
/// an object of the variables, a resource type name an object of its
/// resources by name, and so on. The engine builds them; unknown parts are
/// unknown values.
#[derive(Clone)]
pub struct EvalContext {
    names: BTreeMap<String, Value>,
    source: Option<SourceFile>,
    files: Arc<dyn FileLoader>,
    clock: Arc<dyn Clock>,
    phase: Phase,
    base_dir: String,
    home_dir: Option<String>,
}

impl Default for EvalContext {
    fn default() -> Self {
        EvalContext::new()
    }
}

impl EvalContext {
    /// An empty context: no names, no file access, the system clock, apply
    /// phase.
    pub fn new() -> EvalContext {
        EvalContext {
            names: BTreeMap::new(),
            source: None,
            files: Arc::new(NoFiles),
            clock: Arc::new(SystemClock),
            phase: Phase::Apply,
            base_dir: ".".to_owned(),
            home_dir: None,
        }
    }

    /// Declares (or replaces) a root name.
    pub fn with_name(mut self, name: impl Into<String>, value: Value) -> EvalContext {
        self.names.insert(name.into(), value);
        self
    }

    /// Declares (or replaces) a root name in place.
    pub fn set_name(&mut self, name: impl Into<String>, value: Value) {
        self.names.insert(name.into(), value);
    }

    /// The value of a root name.
    pub fn name(&self, name: &str) -> Option<&Value> {
        self.names.get(name)
    }

    /// All root names.
    pub fn names(&self) -> &BTreeMap<String, Value> {
        &self.names
    }

    /// The source file the expressions come from (for diagnostics and for
    /// reading number literals exactly).
    pub fn with_source(mut self, source: SourceFile) -> EvalContext {
        self.source = Some(source);
        self
    }

    pub fn source(&self) -> Option<&SourceFile> {
        self.source.as_ref()
    }

    pub fn with_files(mut self, files: Arc<dyn FileLoader>) -> EvalContext {
        self.files = files;
        self
    }

    pub fn files(&self) -> &dyn FileLoader {
        self.files.as_ref()
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> EvalContext {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn with_phase(mut self, phase: Phase) -> EvalContext {
        self.phase = phase;
        self
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The module directory that relative paths in `fileset` are matched
    /// against when given as `path.module` (defaults to `.`).
    pub fn with_base_dir(mut self, dir: impl Into<String>) -> EvalContext {
        self.base_dir = dir.into();
        self
    }

    pub fn base_dir(&self) -> &str {
        &self.base_dir
    }

    /// The user's home directory, for `pathexpand` (unset: `pathexpand`
    /// of a `~` path fails).
    pub fn with_home_dir(mut self, dir: impl Into<String>) -> EvalContext {
        self.home_dir = Some(dir.into());
        self
    }

    pub fn home_dir(&self) -> Option<&str> {
        self.home_dir.as_deref()
    }
}
