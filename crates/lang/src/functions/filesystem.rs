//! File functions. Every access goes through the context's injected
//! [`crate::FileLoader`]; paths are passed as written (relative to the
//! working directory, usually starting with `path.module`).

use std::collections::BTreeMap;

use base64::Engine;

use super::{p, Args, FnError, FnResult, Func, T};
use crate::eval::{normalize_path, render_template_text, FileError, TemplateError, TemplateFn};
use crate::types::Type;
use crate::value::{Data, Value};

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "abspath",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: abspath,
    },
    Func {
        name: "basename",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(basename(a.str(0)))),
    },
    Func {
        name: "dirname",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| Ok(Value::string(dirname(a.str(0)))),
    },
    Func {
        name: "pathexpand",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: pathexpand,
    },
    Func {
        name: "file",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: file,
    },
    Func {
        name: "filebase64",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::String,
        imp: |a| {
            Ok(Value::string(
                base64::engine::general_purpose::STANDARD.encode(read(a, 0)?),
            ))
        },
    },
    Func {
        name: "fileexists",
        params: &[p("path", T::String)],
        variadic: None,
        ret: T::Bool,
        imp: fileexists,
    },
    Func {
        name: "fileset",
        params: &[p("path", T::String), p("pattern", T::String)],
        variadic: None,
        ret: T::SetString,
        imp: fileset,
    },
    Func {
        name: "templatefile",
        params: &[p("path", T::String), p("vars", T::Any)],
        variadic: None,
        ret: T::Any,
        imp: templatefile,
    },
];

/// The bytes of the file named by argument `i`.
pub(crate) fn read(a: &Args<'_, '_>, i: usize) -> Result<Vec<u8>, FnError> {
    let path = a.str(i);
    a.ev.ctx.files().read(path).map_err(|e| file_error(i, e))
}

fn file_error(i: usize, e: FileError) -> FnError {
    match e {
        FileError::NotFound { path } => FnError::arg(
            i,
            format!("no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"),
        ),
        other => FnError::arg(i, other.to_string()),
    }
}

fn file(a: &Args<'_, '_>) -> FnResult {
    let bytes = read(a, 0)?;
    String::from_utf8(bytes).map(Value::string).map_err(|_| {
        FnError::arg(
            0,
            format!("contents of {} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead", a.str(0)),
        )
    })
}

fn fileexists(a: &Args<'_, '_>) -> FnResult {
    a.ev.ctx
        .files()
        .file_exists(a.str(0))
        .map(Value::bool)
        .map_err(|e| FnError::arg(0, e.to_string()))
}

fn fileset(a: &Args<'_, '_>) -> FnResult {
    let dir = a.str(0);
    let pattern = a.str(1);
    let globs = expand_braces(pattern)
        .iter()
        .map(|p| glob::Pattern::new(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FnError::arg(1, format!("failed to glob pattern ({pattern}): {e}")))?;
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let files =
        a.ev.ctx
            .files()
            .list_files(dir)
            .map_err(|e| FnError::arg(0, e.to_string()))?;
    let out = files
        .into_iter()
        .filter(|f| globs.iter().any(|g| g.matches_with(f, opts)))
        .map(Value::string)
        .collect();
    Ok(Value::set(Type::String, out))
}

/// Expands `{a,b}` alternatives (as the doublestar globs Terraform uses
/// accept) into plain glob patterns.
fn expand_braces(pattern: &str) -> Vec<String> {
    // Many groups would multiply into too many patterns: keep them literal.
    if pattern.matches('{').count() > 8 || pattern.matches(',').count() > 16 {
        return vec![pattern.to_owned()];
    }
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_owned()];
    };
    let mut depth = 0;
    let mut close = None;
    let mut splits = Vec::new();
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => splits.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_owned()];
    };
    let mut bounds = vec![open];
    bounds.extend(splits);
    bounds.push(close);
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &pattern[w[0] + 1..w[1]];
        out.extend(expand_braces(&format!("{head}{alt}{tail}")));
    }
    out
}

/// Whether the function `name` reads the file system (and so may not be
/// called from a `templatestring` template).
pub(crate) fn reads_files(name: &str) -> bool {
    matches!(
        name,
        "file"
            | "fileexists"
            | "fileset"
            | "filebase64"
            | "filebase64sha256"
            | "filebase64sha512"
            | "filemd5"
            | "filesha1"
            | "filesha256"
            | "filesha512"
            | "templatefile"
    )
}

fn templatefile(a: &Args<'_, '_>) -> FnResult {
    let bytes = read(a, 0)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| FnError::arg(0, format!("contents of {} are not valid UTF-8", a.str(0))))?;
    let vars_v = a.get(1);
    let vars: BTreeMap<String, Value> = match vars_v.data() {
        Data::Map(_, items) | Data::Object(items) => items.clone(),
        Data::Null(_) => BTreeMap::new(),
        _ => return Err(FnError::arg(1, "invalid vars value: must be a map")),
    };
    check_template_vars(&vars)?;
    render_template_text(a.ev, &text, vars, TemplateFn::File).map_err(|e| match e {
        TemplateError::Parse(msg) => FnError::call(format!("Invalid template: {msg}")),
        TemplateError::MissingVar(name) => FnError::arg(
            1,
            format!(
                "vars map does not contain key {name:?}, referenced in {}",
                a.str(0)
            ),
        ),
        TemplateError::Render(msg) => FnError::call(msg),
    })
}

/// Template variables must be identifiers, or no template could use them.
pub(crate) fn check_template_vars(vars: &BTreeMap<String, Value>) -> Result<(), FnError> {
    match vars.keys().find(|name| !is_identifier(name)) {
        Some(name) => Err(FnError::arg(1, format!("invalid template variable name {name:?}: must start with a letter, followed by zero or more letters, digits, and underscores"))),
        None => Ok(()),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn basename(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir`: everything but the last element, cleaned.
fn dirname(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    clean(dir)
}

/// Go's `filepath.Clean`.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let cleaned = normalize_path(path);
    let cleaned = if rooted {
        let c = cleaned.trim_start_matches("../").trim_start_matches("..");
        format!("/{c}")
    } else {
        cleaned
    };
    if cleaned.is_empty() {
        ".".to_owned()
    } else {
        cleaned
    }
}

fn abspath(a: &Args<'_, '_>) -> FnResult {
    let path = a.str(0);
    if path.starts_with('/') {
        return Ok(Value::string(clean(path)));
    }
    let cwd =
        a.ev.ctx
            .name("path")
            .and_then(|p| p.get_attr("cwd"))
            .and_then(Value::as_str)
            .ok_or_else(|| FnError::call("the working directory is not known in this context"))?;
    Ok(Value::string(clean(&format!("{cwd}/{path}"))))
}

fn pathexpand(a: &Args<'_, '_>) -> FnResult {
    let path = a.str(0);
    if !path.starts_with('~') {
        return Ok(Value::string(path));
    }
    if path.len() > 1 && !path.starts_with("~/") {
        return Err(FnError::call("cannot expand user-specific home dir"));
    }
    let home =
        a.ev.ctx
            .home_dir()
            .ok_or_else(|| FnError::call("the home directory is not known in this context"))?;
    Ok(Value::string(format!("{home}{}", &path[1..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_go() {
        assert_eq!(basename("a/b/c.txt"), "c.txt");
        assert_eq!(basename("a/b/"), "b");
        assert_eq!(dirname("a/b/c.txt"), "a/b");
        assert_eq!(dirname("c.txt"), ".");
        assert_eq!(dirname("/c.txt"), "/");
        assert_eq!(clean("/a/../b/./c"), "/b/c");
    }

    #[test]
    fn braces_expand_to_alternatives() {
        assert_eq!(expand_braces("*.{txt,md}"), ["*.txt", "*.md"]);
        assert_eq!(expand_braces("{a,b}/{c,d}"), ["a/c", "a/d", "b/c", "b/d"]);
        assert_eq!(expand_braces("no{brace"), ["no{brace"]);
    }
}
