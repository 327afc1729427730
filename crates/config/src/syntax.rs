//! Finding and parsing configuration files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshform_lang::hcl_edit::parser::parse_body;
use meshform_lang::hcl_edit::structure::Body;
use meshform_lang::{Diagnostic, Diagnostics, Pos, SourceFile, SourceRange};

/// The configuration files of a directory in Terraform's order: primary
/// files by name, then override files by name. Editor droppings (`.#x`,
/// `#x#`, `x~`) are ignored as Terraform does.
pub fn module_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut primary = Vec::new();
    let mut overrides = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('#') || name.ends_with('~') {
            continue;
        }
        if !(name.ends_with(".tf") || name.ends_with(".tf.json")) {
            continue;
        }
        let path = dir.join(&name);
        if is_override_file(&path) {
            overrides.push(path);
        } else {
            primary.push(path);
        }
    }
    primary.sort();
    overrides.sort();
    primary.extend(overrides);
    Ok(primary)
}

/// `override.tf`, `x_override.tf` and their `.tf.json` forms.
pub fn is_override_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"))
        .unwrap_or(name);
    stem == "override" || stem.ends_with("_override")
}

/// Parses one file into an HCL body: native syntax directly, JSON syntax
/// through its translation. `None` after a diagnostic when it does not parse.
///
/// The returned file is the one the body's spans refer to: for JSON, a file
/// of the same name holding the translated text.
pub fn parse_file(
    file: Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<(Arc<SourceFile>, Body)> {
    if file.name.ends_with(".json") {
        return crate::json::parse_json_file(&file, diags);
    }
    match parse_body(&file.text) {
        Ok(body) => Some((file, body)),
        Err(e) => {
            diags.push(parse_error_diagnostic(&file, &e));
            None
        }
    }
}

/// Turns hcl-edit's parse error into a positioned diagnostic with
/// Terraform's summaries where they can be told apart.
fn parse_error_diagnostic(
    file: &SourceFile,
    e: &meshform_lang::hcl_edit::parser::Error,
) -> Diagnostic {
    let loc = e.location();
    let start = Pos {
        line: loc.line(),
        column: loc.column(),
        byte: loc.offset(),
    };
    let end_byte = file.text[start.byte.min(file.text.len())..]
        .chars()
        .next()
        .map_or(start.byte, |c| start.byte + c.len_utf8());
    let range = SourceRange {
        file: file.name.clone(),
        start,
        end: Pos {
            column: start.column + 1,
            byte: end_byte,
            ..start
        },
    };
    let message = e.message();
    let (summary, detail) = describe_parse_error(file, start.byte, message);
    Diagnostic::error(summary, detail).with_subject(range)
}

fn describe_parse_error(file: &SourceFile, byte: usize, message: &str) -> (String, String) {
    let text = &file.text;
    let opens = text.matches('{').count();
    let closes = text.matches('}').count();
    let at_end = text[byte.min(text.len())..].trim().is_empty();
    if at_end && opens > closes {
        return (
            "Unclosed configuration block".into(),
            "There is no closing brace for this block before the end of the file. This may be \
             caused by incorrect brace nesting elsewhere in this file."
                .into(),
        );
    }
    let quotes_on_line = text[..byte.min(text.len())]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .matches('"')
        .count();
    if quotes_on_line % 2 == 1 {
        return (
            "Invalid multi-line string".into(),
            format!(
                "Quoted strings may not be split over multiple lines. To produce a multi-line \
                 string, either use the \\n escape to represent a newline character or use the \
                 \"heredoc\" multi-line template syntax. ({message})"
            ),
        );
    }
    (
        "Invalid configuration syntax".into(),
        format!("The configuration could not be parsed: {message}."),
    )
}
