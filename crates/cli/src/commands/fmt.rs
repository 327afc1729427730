//! `fmt`: rewrites configuration files in the canonical style, as
//! `terraform fmt` does (same files, same output, same exit codes: 2 on an
//! error, 3 when `-check` finds a file to format). The formatting itself is
//! `meshform_config::fmt`; this walks the targets and writes the results.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use meshform_config::fmt::{format_file, is_formattable, is_ignored};
use meshform_lang::{Diagnostic, Diagnostics, SourceFile};

use crate::output::print_diagnostics;
use crate::Globals;

// Each flag is a boolean as Terraform's are: `-check`, `-check=true`,
// `-list=false`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List files whose formatting differs (always off for standard input).
    #[arg(long, default_value = "true", default_missing_value = "true", num_args = 0..=1, require_equals = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub list: bool,
    /// Write the result to the source files (always off for standard
    /// input and with -check).
    #[arg(long, default_value = "true", default_missing_value = "true", num_args = 0..=1, require_equals = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub write: bool,
    /// Display diffs of formatting changes.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1, require_equals = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub diff: bool,
    /// Check whether the input is formatted: exit status 0 if all of it
    /// is, 3 otherwise.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1, require_equals = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub check: bool,
    /// Also process files in subdirectories.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1, require_equals = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub recursive: bool,
    /// Files or directories to format (default: the current directory);
    /// `-` reads standard input.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
}

/// What one run does with each file, after Terraform's flag rules.
struct Run {
    list: bool,
    write: bool,
    diff: bool,
    recursive: bool,
    /// Everything printed for the files, in order.
    out: Vec<u8>,
    diags: Diagnostics,
    sources: Vec<Arc<SourceFile>>,
}

pub fn run(a: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let stdin = a.targets.first().is_some_and(|t| t == Path::new("-"));
    let (mut list, mut write) = (a.list, a.write);
    if stdin {
        list = false;
        write = false;
    }
    let show_list = list;
    if a.check {
        // -check lists the files to learn whether any needs formatting.
        list = true;
        write = false;
    }
    let mut r = Run {
        list,
        write,
        diff: a.diff,
        recursive: a.recursive,
        out: Vec::new(),
        diags: Diagnostics::default(),
        sources: Vec::new(),
    };
    if stdin {
        let mut text = String::new();
        match std::io::stdin().read_to_string(&mut text) {
            Ok(_) => r.file("<stdin>", text, None),
            Err(_) => r.error("Failed to read <stdin>"),
        }
    } else {
        let targets = if a.targets.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            a.targets.clone()
        };
        r.targets(&targets);
    }
    if !a.check {
        print_output(&r.out);
    }
    print_diagnostics(&r.diags, &r.sources, g);
    if r.diags.has_errors() {
        return Ok(ExitCode::from(2));
    }
    if a.check {
        if show_list {
            print_output(&r.out);
        }
        return Ok(if r.out.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints as Terraform's UI does: one final newline, added if missing.
fn print_output(out: &[u8]) {
    if out.is_empty() {
        return;
    }
    let body = out.strip_suffix(b"\n").unwrap_or(out);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(body);
    let _ = stdout.write_all(b"\n");
}

impl Run {
    fn error(&mut self, summary: impl Into<String>) {
        self.diags.push(Diagnostic::error(summary, ""));
    }

    fn targets(&mut self, targets: &[PathBuf]) {
        for target in targets {
            let path = normalize(target);
            let Ok(meta) = std::fs::metadata(&path) else {
                self.error(format!("No file or directory at {}", path.display()));
                return;
            };
            if meta.is_dir() {
                self.dir(&path);
            } else if is_formattable(&path.to_string_lossy()) {
                self.read_file(&path);
            } else {
                self.error(
                    "Only .tf, .tfvars, and .tftest.hcl files can be processed with terraform fmt",
                );
            }
        }
    }

    fn dir(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return self.error(format!(
                    "There is no configuration directory at {}",
                    dir.display()
                ))
            }
            Err(_) => return self.error(format!("Cannot read directory {}", dir.display())),
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_ignored(&name) {
                continue;
            }
            let path = normalize(&dir.join(&name));
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                // Like plan, one module at a time unless asked otherwise.
                if self.recursive {
                    self.dir(&path);
                }
                continue;
            }
            if is_formattable(&name) {
                self.read_file(&path);
            }
        }
    }

    fn read_file(&mut self, path: &Path) {
        match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(text)) => self.file(&path.to_string_lossy(), text, Some(path)),
            _ => self.error(format!("Failed to read file {}", path.display())),
        }
    }

    /// Formats one file's text; writes it back to `path` when asked.
    fn file(&mut self, name: &str, text: String, path: Option<&Path>) {
        let formatted = match format_file(name, &text) {
            Ok(f) => f,
            Err(d) => {
                self.sources.push(Arc::new(SourceFile::new(name, text)));
                self.diags.extend(d);
                return;
            }
        };
        if formatted != text {
            if self.list {
                self.out.extend_from_slice(name.as_bytes());
                self.out.push(b'\n');
            }
            if let (true, Some(path)) = (self.write, path) {
                if std::fs::write(path, &formatted).is_err() {
                    return self.error(format!("Failed to write {name}"));
                }
            }
            if self.diff {
                match unified_diff(&text, &formatted, name) {
                    Ok(d) => self.out.extend_from_slice(&d),
                    Err(e) => {
                        return self.error(format!("Failed to generate diff for {name}: {e}"))
                    }
                }
            }
        }
        if !self.list && !self.write && !self.diff {
            self.out.extend_from_slice(formatted.as_bytes());
        }
    }
}

/// `diff -u` between the two texts, labelled `old/NAME` and `new/NAME`:
/// the system's diff, as Terraform runs it, so the hunks are the same.
fn unified_diff(old: &str, new: &str, name: &str) -> std::io::Result<Vec<u8>> {
    let mut a = tempfile::NamedTempFile::new()?;
    a.write_all(old.as_bytes())?;
    let mut b = tempfile::NamedTempFile::new()?;
    b.write_all(new.as_bytes())?;
    let out = std::process::Command::new("diff")
        .arg(format!("--label=old/{name}"))
        .arg(format!("--label=new/{name}"))
        .arg("-u")
        .arg(a.path())
        .arg(b.path())
        .output()?;
    // diff exits 1 when the files differ; its output is what counts.
    if out.stdout.is_empty() && !out.status.success() {
        return Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    Ok(out.stdout)
}

/// A path as Terraform shows it: relative to the working directory when
/// possible, cleaned lexically (`./a//b/../c` is `a/c`).
fn normalize(path: &Path) -> PathBuf {
    if path.is_relative() {
        return clean(path);
    }
    match std::env::current_dir() {
        Ok(cwd) => relative(&clean(&cwd), &clean(path)),
        Err(_) => clean(path),
    }
}

/// Go's `filepath.Clean`: no `.`, no `x/..`, no doubled or trailing `/`.
fn clean(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir) => {}
                _ => parts.push(c),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

/// `target` relative to `base` (both absolute and clean), as Go's
/// `filepath.Rel`.
fn relative(base: &Path, target: &Path) -> PathBuf {
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned_and_made_relative_as_go_does() {
        assert_eq!(clean(Path::new("./a//b/../c/")), PathBuf::from("a/c"));
        assert_eq!(clean(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(clean(Path::new(".")), PathBuf::from("."));
        assert_eq!(
            relative(Path::new("/w/main"), Path::new("/w/main/m/a.tf")),
            PathBuf::from("m/a.tf")
        );
        assert_eq!(
            relative(Path::new("/w/main"), Path::new("/w/other/a.tf")),
            PathBuf::from("../other/a.tf")
        );
        assert_eq!(
            relative(Path::new("/w"), Path::new("/w")),
            PathBuf::from(".")
        );
    }
}
