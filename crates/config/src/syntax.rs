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
    let scan = scan_structure(&file.text);
    if let Some(open) = scan.unterminated_string {
        return Diagnostic::error(
            "Invalid multi-line string",
            "Quoted strings may not be split over multiple lines. To produce a multi-line string, \
             either use the \\n escape to represent a newline character or use the \"heredoc\" \
             multi-line template syntax.",
        )
        .with_subject(file.range(open..open + 1));
    }
    if let Some(open) = scan.unclosed_brace {
        return Diagnostic::error(
            "Unclosed configuration block",
            "There is no closing brace for this block before the end of the file. This may be \
             caused by incorrect brace nesting elsewhere in this file.",
        )
        .with_subject(file.range(open..open + 1));
    }
    let (summary, detail) = if message.contains("redefined attribute") {
        (
            "Attribute redefined",
            "This argument was already set earlier in the same block. Each argument may be set only once.".to_owned(),
        )
    } else {
        (
            "Invalid configuration syntax",
            format!("The configuration could not be parsed: {message}."),
        )
    };
    Diagnostic::error(summary, detail).with_subject(range)
}

/// What a light lexical scan finds wrong with the nesting of a file that
/// did not parse: the parser's own position is where it gave up, which for
/// these two mistakes is far from the cause.
#[derive(Debug, Default, PartialEq, Eq)]
struct StructureScan {
    /// Byte offset of the opening quote of a string that a line break ends.
    unterminated_string: Option<usize>,
    /// Byte offset of the outermost `{` never closed.
    unclosed_brace: Option<usize>,
}

fn scan_structure(text: &str) -> StructureScan {
    let bytes = text.as_bytes();
    let mut braces: Vec<usize> = Vec::new();
    // Braces opened by `${` or `%{` inside strings, which return to the string.
    let mut interp_depth: Vec<usize> = Vec::new();
    let mut i = 0;
    let mut in_string: Option<usize> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(start) = in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = None,
                b'\n' => {
                    return StructureScan {
                        unterminated_string: Some(start),
                        unclosed_brace: None,
                    }
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    in_string = None;
                    interp_depth.push(braces.len());
                    braces.push(i + 1);
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_string = Some(i),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                // A heredoc: skip to the line holding only its delimiter.
                let mut j = i + 2;
                if bytes.get(j) == Some(&b'-') {
                    j += 1;
                }
                let name_start = j;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                let name = &text[name_start..j];
                if !name.is_empty() {
                    let rest = &text[j..];
                    let end = rest
                        .split_inclusive('\n')
                        .scan(0usize, |off, line| {
                            let at = *off;
                            *off += line.len();
                            Some((at, line))
                        })
                        .skip(1)
                        .find(|(_, line)| line.trim() == name)
                        .map(|(at, line)| j + at + line.len());
                    i = end.unwrap_or(bytes.len());
                    continue;
                }
            }
            b'{' => braces.push(i),
            b'}' => {
                braces.pop();
                if interp_depth.last() == Some(&braces.len()) {
                    interp_depth.pop();
                    in_string = Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    StructureScan {
        unterminated_string: None,
        unclosed_brace: braces.first().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_unterminated_strings_and_unclosed_braces() {
        assert_eq!(
            scan_structure("a {\n  b = \"x\n}\n").unterminated_string,
            Some(10)
        );
        assert_eq!(scan_structure("a {\n  b {\n  }\n").unclosed_brace, Some(2));
        let ok = "a {\n  b = \"${x} }\" # }\n  c = <<EOT\n{\nEOT\n}\n";
        assert_eq!(scan_structure(ok), StructureScan::default());
    }
}
