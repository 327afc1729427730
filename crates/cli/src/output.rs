//! Rendering for the terminal: errors and diagnostics in Terraform's shape.

use std::sync::Arc;

use meshform_lang::{Diagnostic, Diagnostics, Severity, SourceFile};

use crate::Globals;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const UNDERLINE: &str = "\x1b[4m";
const RESET: &str = "\x1b[0m";

/// The width prose wraps at: the terminal's (from `COLUMNS`) when colours
/// are on, else 78 as Terraform uses without a terminal.
fn width(color: bool) -> usize {
    if color {
        if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
            return w;
        }
    }
    78
}

/// Prints diagnostics: errors to stderr, warnings to stdout, as Terraform does.
pub fn print_diagnostics(diags: &Diagnostics, sources: &[Arc<SourceFile>], g: &Globals) {
    let color = g.color();
    for d in diags.iter() {
        let text = render_diagnostic(d, sources, color, width(color));
        match d.severity {
            Severity::Error => eprint!("{text}"),
            Severity::Warning => print!("{text}"),
        }
    }
}

/// One diagnostic as Terraform renders it: summary, `on FILE line N, in
/// BLOCK:`, the source line with the range marked, then the wrapped detail.
pub fn render_diagnostic(
    d: &Diagnostic,
    sources: &[Arc<SourceFile>],
    color: bool,
    width: usize,
) -> String {
    let mut lines: Vec<String> = Vec::new();
    let (label, tint) = match d.severity {
        Severity::Error => ("Error", RED),
        Severity::Warning => ("Warning", YELLOW),
    };
    if color {
        lines.push(format!(
            "{BOLD}{tint}{label}: {RESET}{RESET}{BOLD}{}{RESET}",
            d.summary
        ));
    } else {
        lines.push(format!("{label}: {}", d.summary));
    }
    lines.push(String::new());
    if let Some(subject) = &d.subject {
        if let Some(address) = &d.address {
            lines.push(format!("  with {address},"));
        }
        let context = d
            .context
            .as_deref()
            .map(|c| format!(", in {c}"))
            .unwrap_or_default();
        lines.push(format!(
            "  on {} line {}{context}:",
            subject.file, subject.start.line
        ));
        if let Some(file) = sources.iter().find(|f| f.name == subject.file) {
            let last = subject.end.line.max(subject.start.line);
            // Multi-line subjects show at most three lines, as Terraform trims them.
            for n in subject.start.line..=last.min(subject.start.line + 2) {
                let Some(text) = file.line(n) else { break };
                let shown = if color {
                    underline(text, n, subject)
                } else {
                    text.to_owned()
                };
                lines.push(format!("{n:>4}: {shown}"));
            }
        }
        lines.push(String::new());
    }
    let mut detail = d.detail.clone();
    if let Some(s) = &d.suggestion {
        if !detail.contains(s.as_str()) {
            if !detail.is_empty() {
                detail.push(' ');
            }
            detail.push_str(s);
        }
    }
    let prefix_width = if color { 2 } else { 0 };
    if !detail.is_empty() {
        for l in wrap(&detail, width.saturating_sub(1 + prefix_width)).lines() {
            lines.push(l.to_owned());
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    if color {
        let mut out = format!("{tint}╷{RESET}{RESET}\n");
        for l in lines {
            out.push_str(&format!("{tint}│{RESET} {RESET}{l}\n"));
        }
        out.push_str(&format!("{tint}╵{RESET}{RESET}\n"));
        out
    } else {
        let mut out = String::from("\n");
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }
}

/// Underlines the part of line `n` that the subject covers.
fn underline(text: &str, n: usize, subject: &meshform_lang::SourceRange) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = if n == subject.start.line {
        subject.start.column - 1
    } else {
        0
    };
    let end = if n == subject.end.line {
        subject.end.column - 1
    } else {
        chars.len()
    };
    let (start, end) = (start.min(chars.len()), end.min(chars.len()));
    if start >= end {
        return text.to_owned();
    }
    let before: String = chars[..start].iter().collect();
    let mid: String = chars[start..end].iter().collect();
    let after: String = chars[end..].iter().collect();
    format!("{before}{UNDERLINE}{mid}{RESET}{after}{RESET}")
}

/// Word-wraps prose at `limit` columns, keeping existing line breaks and
/// never splitting a word (Terraform's wrapping).
pub fn wrap(text: &str, limit: usize) -> String {
    let mut out = String::new();
    for (i, para) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut line_len = 0;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let wl = word.chars().count();
            if line_len > 0 && line_len + 1 + wl > limit {
                out.push('\n');
                line_len = 0;
            } else if line_len > 0 {
                out.push(' ');
                line_len += 1;
            }
            out.push_str(word);
            line_len += wl;
        }
    }
    out
}

/// Prints an error that is not a configuration diagnostic.
pub fn print_error(e: &anyhow::Error, g: &Globals) {
    let mut msg = format!("{e}");
    for cause in e.chain().skip(1) {
        msg.push_str(&format!(": {cause}"));
    }
    let d = Diagnostic::error(msg, "");
    print_diagnostics(&d.into(), &[], g);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_between_words_at_the_limit() {
        let detail = "A managed resource \"time_rotating\" \"rotate\" has not been declared in the root module.";
        assert_eq!(
            wrap(detail, 77),
            "A managed resource \"time_rotating\" \"rotate\" has not been declared in the root\nmodule."
        );
        assert_eq!(
            wrap(detail, 75),
            "A managed resource \"time_rotating\" \"rotate\" has not been declared in the\nroot module."
        );
    }

    #[test]
    fn plain_rendering_matches_terraform() {
        let file = Arc::new(SourceFile::new("main.tf", "a\n  depends_on = [x.y]\n"));
        let d = Diagnostic::error(
            "Reference to undeclared resource",
            "A managed resource \"x\" \"y\" has not been declared in the root module.",
        )
        .with_subject(file.range(17..20))
        .with_context("resource \"a\" \"b\"");
        let got = render_diagnostic(&d, &[file], false, 78);
        assert_eq!(
            got,
            "\nError: Reference to undeclared resource\n\n  on main.tf line 2, in resource \"a\" \"b\":\n   2:   depends_on = [x.y]\n\nA managed resource \"x\" \"y\" has not been declared in the root module.\n"
        );
    }
}
