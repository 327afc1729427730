//! Diagnostics: problems in user input, with the place that caused them.
//!
//! Every crate reports user-facing problems as [`Diagnostic`] values and
//! collects them instead of stopping at the first one. Only the binary
//! renders them (source line, range marker, suggestion).

use std::fmt;
use std::sync::Arc;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// A position in a source file: 1-based line and column (in characters),
/// plus the 0-based byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

/// A range of source text in one file. `end` is exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceRange {
    /// The file name as the user should read it (relative to the module
    /// directory, e.g. `main.tf`).
    pub file: Arc<str>,
    pub start: Pos,
    pub end: Pos,
}

impl SourceRange {
    /// Computes line/column positions for a byte range of `source`.
    pub fn from_bytes(file: Arc<str>, source: &str, range: std::ops::Range<usize>) -> Self {
        SourceRange {
            start: pos_at(source, range.start),
            end: pos_at(source, range.end),
            file,
        }
    }
}

/// The line/column position of byte offset `byte` in `source` (clamped to the
/// source length and to a character boundary).
pub fn pos_at(source: &str, byte: usize) -> Pos {
    let mut byte = byte.min(source.len());
    while !source.is_char_boundary(byte) {
        byte -= 1;
    }
    let before = &source[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..byte].chars().count() + 1;
    Pos { line, column, byte }
}

impl fmt::Display for SourceRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start.line, self.start.column)
    }
}

/// One source file: its name as the user reads it and its whole text, so
/// that byte spans from the parser become lines and columns, and the
/// renderer can quote the offending line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// Byte offset of the start of each line, computed once: positions are
    /// found by binary search, so turning many spans of a large file into
    /// positions stays linear in the file's size.
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts: Arc<[usize]> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The line/column position of a byte offset of this file.
    pub fn pos(&self, byte: usize) -> Pos {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= byte);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..byte].chars().count() + 1;
        Pos { line, column, byte }
    }

    /// The source range of a byte span of this file.
    pub fn range(&self, span: std::ops::Range<usize>) -> SourceRange {
        SourceRange {
            file: self.name.clone(),
            start: self.pos(span.start),
            end: self.pos(span.end),
        }
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text
            .split('\n')
            .nth(line.checked_sub(1)?)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// One problem found in user input (or while acting on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One short sentence, as Terraform's summaries (`Reference to undeclared resource`).
    pub summary: String,
    /// The explanation; may be empty.
    pub detail: String,
    /// Where the problem is, when it comes from source text.
    pub subject: Option<SourceRange>,
    /// The block that contains the subject, e.g. `resource "x" "y"`, which
    /// Terraform prints as `in resource "x" "y":`.
    pub context: Option<String>,
    /// The resource instance the problem is about, which Terraform prints
    /// as `with module.a.konnect_mesh.m,` above the location.
    pub address: Option<String>,
    /// A fix the user can apply, e.g. `Did you mean "konnect_mesh.mesh1"?`.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            subject: None,
            context: None,
            address: None,
            suggestion: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    pub fn with_subject(mut self, subject: SourceRange) -> Self {
        self.subject = Some(subject);
        self
    }

    pub fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }

    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(subject) = &self.subject {
            write!(f, "{subject}: ")?;
        }
        f.write_str(&self.summary)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// A collection of diagnostics, as returned next to a result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_positions_agree_with_pos_at() {
        let text = "a\nbé c\n\nlast line é\n";
        let f = SourceFile::new("t", text);
        for byte in 0..=text.len() + 2 {
            assert_eq!(f.pos(byte), pos_at(text, byte), "byte {byte}");
        }
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let src = "a\nbé c\n";
        assert_eq!(
            pos_at(src, 0),
            Pos {
                line: 1,
                column: 1,
                byte: 0
            }
        );
        assert_eq!(
            pos_at(src, 2),
            Pos {
                line: 2,
                column: 1,
                byte: 2
            }
        );
        // 'é' is two bytes: the space after it is the third character.
        assert_eq!(
            pos_at(src, 5),
            Pos {
                line: 2,
                column: 3,
                byte: 5
            }
        );
        // Inside a multi-byte character, fall back to its start.
        assert_eq!(pos_at(src, 4).column, 2);
        assert_eq!(pos_at(src, 999).line, 3);
    }
}
