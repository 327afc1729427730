//! `terraform fmt`'s canonical style for native-syntax files (`.tf`,
//! `.tfvars`, `.tftest.hcl`, `.tfmock.hcl`), byte for byte.
//!
//! A file that parses is cut into tokens as HCL's scanner cuts them
//! ([`scan`]); Terraform's rewrites are applied to the attributes and blocks
//! found in them (an interpolation-only string `"${x}"` becomes `x`, a
//! `variable` block's legacy type `"string"` or bare `list` gets its
//! modern spelling, block labels are written quoted); then HCL's
//! whitespace rules set the spaces before every token ([`layout`]). Only
//! whitespace and those rewrites change, so comments and the text of
//! strings and heredocs stay as written.
//!
//! hcl-edit (our parser) checks the syntax but has no formatter, and its
//! tree keeps whitespace in a shape unlike HCL's token stream that these
//! rules are defined on; the scanner and rules are written here after the
//! behaviour of hclwrite as Terraform 1.11 uses it.

mod layout;
mod scan;

use std::sync::Arc;

use meshform_lang::{Diagnostics, SourceFile};
use unicode_normalization::UnicodeNormalization;

use scan::{Kind, Token};

/// The file name endings `terraform fmt` formats.
pub const EXTENSIONS: [&str; 4] = [".tf", ".tfvars", ".tftest.hcl", ".tfmock.hcl"];

/// Whether `fmt` formats a file of this name (`.tf.json` files are left
/// alone, as is anything else).
pub fn is_formattable(name: &str) -> bool {
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Whether a directory walk skips this entry: hidden files, editor backups
/// (`x~`) and Emacs lock files (`#x#`), as Terraform does.
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// Formats the text of a native-syntax file named `name`: the canonical
/// text, or the syntax errors that stop formatting (a file must parse, or
/// the result could be far from what was meant).
pub fn format_file(name: &str, text: &str) -> Result<String, Diagnostics> {
    let mut diags = Diagnostics::default();
    let file = Arc::new(SourceFile::new(name, text.to_owned()));
    if crate::syntax::parse_file(file, &mut diags).is_none() {
        return Err(diags);
    }
    Ok(format_source(text))
}

/// Formats text that parses (unchecked: see [`format_file`]).
pub fn format_source(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut tokens = scan::scan(text);
    let mut edits = Vec::new();
    let mut walker = Walker {
        tokens: &tokens,
        edits: &mut edits,
    };
    walker.body(0, &mut Vec::new());
    // Later edits first, so earlier ranges stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    for edit in edits {
        tokens.splice(edit.range, edit.tokens);
    }
    layout::format(&mut tokens);
    let mut out = String::with_capacity(text.len());
    for t in &tokens {
        out.extend(std::iter::repeat_n(' ', t.spaces_before));
        out.push_str(&t.text);
    }
    out
}

/// Tokens that replace a range of the token list.
struct Edit {
    range: std::ops::Range<usize>,
    tokens: Vec<Token>,
}

/// Finds the attributes and blocks of each body in the token list and
/// records Terraform's rewrites of them.
struct Walker<'t> {
    tokens: &'t [Token],
    edits: &'t mut Vec<Edit>,
}

impl Walker<'_> {
    fn kind(&self, i: usize) -> Kind {
        self.tokens.get(i).map_or(Kind::Eof, |t| t.kind)
    }

    /// Walks a body from token `i`; returns the index of the `}` (or the
    /// end of input) that ends it.
    fn body(&mut self, mut i: usize, blocks: &mut Vec<String>) -> usize {
        loop {
            while matches!(self.kind(i), Kind::Newline | Kind::Comment) {
                i += 1;
            }
            match self.kind(i) {
                Kind::Eof | Kind::CBrace => return i,
                Kind::Ident => {}
                // Not a body item: the file does not parse; leave the rest.
                _ => return self.tokens.len() - 1,
            }
            let name = self.tokens[i].text.clone();
            if self.kind(i + 1) == Kind::Equal {
                i = self.attribute(&name, i + 2, blocks);
            } else {
                i = self.block(name, i + 1, blocks);
            }
        }
    }

    /// The attribute `name` whose expression starts at token `i`; returns
    /// where its line ends.
    fn attribute(&mut self, name: &str, start: usize, blocks: &[String]) -> usize {
        let mut depth = 0;
        let mut end = start;
        loop {
            let t = &self.tokens[end];
            let line_end = t.kind == Kind::Newline
                || t.kind == Kind::Eof
                || (t.kind == Kind::Comment && t.text.ends_with('\n'));
            if depth == 0 && (line_end || t.kind == Kind::CBrace) {
                break;
            }
            depth += match t.kind {
                Kind::OBrace
                | Kind::OBrack
                | Kind::OParen
                | Kind::TemplateInterp
                | Kind::TemplateControl => 1,
                Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
                _ => 0,
            };
            end += 1;
        }
        // Comments around the expression are not part of it.
        let mut s = start;
        let mut e = end;
        while s < e && self.tokens[s].kind == Kind::Comment {
            s += 1;
        }
        while e > s && self.tokens[e - 1].kind == Kind::Comment {
            e -= 1;
        }
        let expr = &self.tokens[s..e];
        let replacement = if blocks.len() == 1 && blocks[0] == "variable" && name == "type" {
            type_expression(expr)
        } else {
            unwrap_interpolation(expr)
        };
        if let Some(tokens) = replacement {
            self.edits.push(Edit {
                range: s..e,
                tokens,
            });
        }
        end
    }

    /// The block of type `ty` whose labels start at token `i`; returns the
    /// index after its closing brace.
    fn block(&mut self, ty: String, mut i: usize, blocks: &mut Vec<String>) -> usize {
        let mut labels = Vec::new();
        let mut labels_range: Option<std::ops::Range<usize>> = None;
        loop {
            match self.kind(i) {
                Kind::OBrace | Kind::Eof => break,
                Kind::Ident => {
                    labels.push(Some(self.tokens[i].text.clone()));
                    extend(&mut labels_range, i..i + 1);
                    i += 1;
                }
                Kind::OQuote => {
                    let close = (i + 1..self.tokens.len())
                        .find(|&j| matches!(self.kind(j), Kind::CQuote | Kind::Eof))
                        .unwrap_or(i + 1);
                    labels.push(label_value(&self.tokens[i..=close]));
                    extend(&mut labels_range, i..close + 1);
                    i = close + 1;
                }
                _ => i += 1,
            }
        }
        if let Some(range) = labels_range {
            let mut tokens = Vec::new();
            for label in labels.into_iter().flatten() {
                // A label is written back from its string value, which is
                // in Unicode normal form C as every cty string is.
                let label: String = label.nfc().collect();
                tokens.extend(quoted_string(&label));
            }
            self.edits.push(Edit { range, tokens });
        }
        if self.kind(i) != Kind::OBrace {
            return i;
        }
        blocks.push(ty);
        let close = self.body(i + 1, blocks);
        blocks.pop();
        close + 1
    }
}

fn extend(range: &mut Option<std::ops::Range<usize>>, more: std::ops::Range<usize>) {
    *range = Some(match range.take() {
        Some(r) => r.start..more.end,
        None => more,
    });
}

/// A quoted label's value, when it is one literal; hclwrite forgets any
/// other label (one with `$` or `%` in it, for instance), and so does
/// `terraform fmt`.
fn label_value(tokens: &[Token]) -> Option<String> {
    match tokens {
        [o, c] if o.kind == Kind::OQuote && c.kind == Kind::CQuote => Some(String::new()),
        [o, lit, c]
            if o.kind == Kind::OQuote && lit.kind == Kind::QuotedLit && c.kind == Kind::CQuote =>
        {
            unescape(&lit.text)
        }
        _ => None,
    }
}

/// The value of a quoted literal: `None` if an escape is invalid.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            u @ ('u' | 'U') => {
                let width = if u == 'u' { 4 } else { 8 };
                let hex: String = chars.by_ref().take(width).collect();
                if hex.len() != width {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A string value written as a quoted string, escaped as hclwrite does.
fn quoted_string(value: &str) -> Vec<Token> {
    let mut lit = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => lit.push_str("\\n"),
            '\r' => lit.push_str("\\r"),
            '\t' => lit.push_str("\\t"),
            '"' => lit.push_str("\\\""),
            '\\' => lit.push_str("\\\\"),
            '$' | '%' => {
                lit.push(c);
                if chars.peek() == Some(&'{') {
                    lit.push(c);
                }
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                let n = c as u32;
                if n < 0x10000 {
                    lit.push_str(&format!("\\u{n:04x}"));
                } else {
                    lit.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => lit.push(c),
        }
    }
    let mut out = vec![Token::new(Kind::OQuote, "\"")];
    if !lit.is_empty() {
        out.push(Token::new(Kind::QuotedLit, lit));
    }
    out.push(Token::new(Kind::CQuote, "\""));
    out
}

/// `"${x}"` → `x` (parenthesized when `x` spans lines), for a string that
/// is one interpolation and nothing else.
fn unwrap_interpolation(expr: &[Token]) -> Option<Vec<Token>> {
    if expr.len() < 5 {
        return None;
    }
    let n = expr.len();
    if expr[0].kind != Kind::OQuote
        || expr[1].kind != Kind::TemplateInterp
        || expr[n - 2].kind != Kind::TemplateSeqEnd
        || expr[n - 1].kind != Kind::CQuote
    {
        return None;
    }
    let inside = &expr[2..n - 2];
    let mut quotes = 0;
    for t in inside {
        match t.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            // Sequences inside nested strings belong to nested expressions.
            _ if quotes > 0 => {}
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => return None,
            _ => {}
        }
    }
    let first = inside.iter().position(|t| t.kind != Kind::Newline)?;
    let last = inside.iter().rposition(|t| t.kind != Kind::Newline)?;
    let trimmed = &inside[first..=last];
    let multi_line = trimmed.iter().any(|t| t.kind == Kind::Newline);
    let parenthesized = trimmed.first().is_some_and(|t| t.kind == Kind::OParen)
        && trimmed.len() > 1
        && trimmed.last().is_some_and(|t| t.kind == Kind::CParen);
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    if multi_line && !parenthesized {
        out.push(Token::new(Kind::OParen, "("));
        out.extend_from_slice(trimmed);
        out.push(Token::new(Kind::CParen, ")"));
    } else {
        out.extend_from_slice(trimmed);
    }
    Some(out)
}

/// A `variable` block's type: `list`/`map`/`set` alone mean their `(any)`
/// form; the quoted types of Terraform 0.11 (`"string"`, `"list"`, `"map"`)
/// become `string`, `list(string)` and `map(string)`.
fn type_expression(expr: &[Token]) -> Option<Vec<Token>> {
    let call = |name: &str, arg: &str| {
        vec![
            Token::new(Kind::Ident, name),
            Token::new(Kind::OParen, "("),
            Token::new(Kind::Ident, arg),
            Token::new(Kind::CParen, ")"),
        ]
    };
    match expr {
        [kw] if kw.kind == Kind::Ident && matches!(kw.text.as_str(), "list" | "map" | "set") => {
            Some(call(&kw.text, "any"))
        }
        [o, lit, c]
            if o.kind == Kind::OQuote && lit.kind == Kind::QuotedLit && c.kind == Kind::CQuote =>
        {
            match lit.text.as_str() {
                "string" => Some(vec![Token::new(Kind::Ident, "string")]),
                "list" | "map" => Some(call(&lit.text, "string")),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::format_source;

    fn check(input: &str, want: &str) {
        assert_eq!(format_source(input), want, "formatting {input:?}");
        // Formatting is idempotent.
        assert_eq!(format_source(want), want, "formatting {want:?} again");
    }

    #[test]
    fn attributes_align_and_comments_follow() {
        check(
            "locals {\n  a = 1 # one\n  bbb = 2     # two\n\n  c=3\n}\n",
            "locals {\n  a   = 1 # one\n  bbb = 2 # two\n\n  c = 3\n}\n",
        );
    }

    #[test]
    fn terraform_rewrites() {
        check(
            "resource a \"x$y\" {\n  b = \"${var.x}\"\n  c = \"a${ var.x }b\"\n}\n",
            "resource \"a\" {\n  b = var.x\n  c = \"a${var.x}b\"\n}\n",
        );
        check(
            "variable \"v\" {\n  type = \"list\"\n}\nvariable \"w\" {\n  type = map\n}\n",
            "variable \"v\" {\n  type = list(string)\n}\nvariable \"w\" {\n  type = map(any)\n}\n",
        );
        check("c = \"${\n  x ?\n  1 : 2\n}\"\n", "c = (x ?\n1 : 2)\n");
        check("b \"e\\u0301\" {}\n", "b \"\u{e9}\" {}\n");
    }

    #[test]
    fn nesting_indents_and_braces_get_spaces() {
        check(
            "x {\n\ty = [\n1,\n\t2]\n    z = {a=1, b={c=2}}\n}\n",
            "x {\n  y = [\n    1,\n  2]\n  z = { a = 1, b = { c = 2 } }\n}\n",
        );
    }

    #[test]
    fn heredocs_keep_their_text_and_the_end_keeps_its_spaces() {
        check(
            "e = <<EOT\n  keep   spaces ${ x }\n  EOT\n",
            "e = <<EOT\n  keep   spaces ${x}\n  EOT\n",
        );
        check("a = 1  ", "a = 1  ");
        check("\u{feff}a=1\r\nbb = 2\r\n", "a  = 1\r\nbb = 2\r\n");
    }
}
