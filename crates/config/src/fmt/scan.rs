//! The token stream of HCL native syntax as HCL's own scanner cuts it
//! (types and byte boundaries), which the formatter's rules are written
//! against. Whitespace is not a token: each token records how many bytes of
//! spaces and tabs came before it.

use hcl_primitives::ident::{is_id_continue, is_id_start};

/// The kinds of token the formatting rules tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    /// `<<EOT` or `<<-EOT` with its newline.
    OHeredoc,
    /// The closing marker line of a heredoc, without its newline.
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing a template sequence.
    TemplateSeqEnd,
    /// Literal text of a quoted string (escapes as written).
    QuotedLit,
    /// Literal text of a heredoc.
    StringLit,
    NumberLit,
    Ident,
    /// `#`/`//` comments with their newline, or `/* */`.
    Comment,
    Newline,
    /// Any other character (not valid in a file that parses).
    Other,
    Eof,
}

/// One token: its kind, its text, and the spaces before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub text: String,
    pub spaces_before: usize,
}

impl Token {
    pub fn new(kind: Kind, text: impl Into<String>) -> Token {
        Token {
            kind,
            text: text.into(),
            spaces_before: 0,
        }
    }
}

enum Mode {
    Main,
    Quoted,
    Heredoc { marker: String, start_of_line: bool },
}

struct Scanner<'s> {
    src: &'s str,
    pos: usize,
    /// End of the previous token, to count the spaces before the next.
    last_end: usize,
    tokens: Vec<Token>,
    modes: Vec<Mode>,
    braces: i32,
    /// The brace depths at which a `}` closes a template sequence.
    return_braces: Vec<i32>,
}

/// Splits `src` (without a byte-order mark) into tokens, ending with `Eof`.
pub(crate) fn scan(src: &str) -> Vec<Token> {
    let mut s = Scanner {
        src,
        pos: 0,
        last_end: 0,
        tokens: Vec::new(),
        modes: vec![Mode::Main],
        braces: 0,
        return_braces: Vec::new(),
    };
    while s.pos < src.len() {
        match s.modes.last() {
            Some(Mode::Quoted) => s.quoted(),
            Some(Mode::Heredoc { .. }) => s.heredoc(),
            _ => s.main(),
        }
    }
    s.emit(Kind::Eof, src.len());
    s.tokens
}

impl Scanner<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    /// Emits the token from `pos` to `end`.
    fn emit(&mut self, kind: Kind, end: usize) {
        self.tokens.push(Token {
            kind,
            text: self.src[self.pos..end].to_owned(),
            spaces_before: self.pos - self.last_end,
        });
        self.pos = end;
        self.last_end = end;
    }

    fn emit_len(&mut self, kind: Kind, len: usize) {
        self.emit(kind, self.pos + len);
    }

    fn main(&mut self) {
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return;
        };
        if c == ' ' || c == '\t' {
            self.pos += 1;
            return;
        }
        if c.is_ascii_digit() {
            let len = number_len(rest);
            self.emit_len(Kind::NumberLit, len);
            return;
        }
        if is_id_start(c) {
            let len = ident_len(rest);
            self.emit_len(Kind::Ident, len);
            return;
        }
        if rest.starts_with('#') || rest.starts_with("//") {
            let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
            self.emit_len(Kind::Comment, len);
            return;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let len = body.find("*/").map_or(rest.len(), |i| i + 4);
            self.emit_len(Kind::Comment, len);
            return;
        }
        if rest.starts_with('\n') {
            self.emit_len(Kind::Newline, 1);
            return;
        }
        if rest.starts_with("\r\n") {
            self.emit_len(Kind::Newline, 2);
            return;
        }
        if rest.starts_with('"') {
            self.emit_len(Kind::OQuote, 1);
            self.modes.push(Mode::Quoted);
            return;
        }
        if let Some((len, marker)) = heredoc_intro(rest) {
            self.emit_len(Kind::OHeredoc, len);
            self.modes.push(Mode::Heredoc {
                marker,
                start_of_line: true,
            });
            return;
        }
        if rest.starts_with('{') {
            self.emit_len(Kind::OBrace, 1);
            self.braces += 1;
            return;
        }
        let close = if rest.starts_with("~}") {
            Some(2)
        } else if rest.starts_with('}') {
            Some(1)
        } else {
            None
        };
        if let Some(len) = close {
            let ends_sequence = self.return_braces.last() == Some(&self.braces);
            // A `~}` always ends a sequence as far as the token goes.
            let kind = if ends_sequence || len == 2 {
                Kind::TemplateSeqEnd
            } else {
                Kind::CBrace
            };
            self.emit_len(kind, len);
            self.braces -= 1;
            if ends_sequence {
                self.return_braces.pop();
                self.modes.pop();
            }
            return;
        }
        const PAIRS: [(&str, Kind); 9] = [
            ("...", Kind::Ellipsis),
            ("==", Kind::EqualOp),
            ("!=", Kind::NotEqual),
            (">=", Kind::GreaterThanEq),
            ("<=", Kind::LessThanEq),
            ("&&", Kind::And),
            ("||", Kind::Or),
            ("::", Kind::DoubleColon),
            ("=>", Kind::FatArrow),
        ];
        for (text, kind) in PAIRS {
            if rest.starts_with(text) {
                self.emit_len(kind, text.len());
                return;
            }
        }
        let kind = match c {
            '[' => Kind::OBrack,
            ']' => Kind::CBrack,
            '(' => Kind::OParen,
            ')' => Kind::CParen,
            '.' => Kind::Dot,
            ',' => Kind::Comma,
            '*' => Kind::Star,
            '/' => Kind::Slash,
            '%' => Kind::Percent,
            '+' => Kind::Plus,
            '-' => Kind::Minus,
            '=' => Kind::Equal,
            '<' => Kind::LessThan,
            '>' => Kind::GreaterThan,
            '!' => Kind::Bang,
            '?' => Kind::Question,
            ':' => Kind::Colon,
            _ => Kind::Other,
        };
        self.emit_len(kind, c.len_utf8());
    }

    /// Opens `${`/`%{` (with an optional `~`) if one starts here.
    fn template_sequence(&mut self) -> bool {
        let rest = self.rest();
        let kind = if rest.starts_with("${") {
            Kind::TemplateInterp
        } else if rest.starts_with("%{") {
            Kind::TemplateControl
        } else {
            return false;
        };
        let len = if rest[2..].starts_with('~') { 3 } else { 2 };
        self.emit_len(kind, len);
        self.braces += 1;
        self.return_braces.push(self.braces);
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = false;
        }
        self.modes.push(Mode::Main);
        true
    }

    fn quoted(&mut self) {
        if self.template_sequence() {
            return;
        }
        let rest = self.rest();
        if rest.starts_with('"') {
            self.emit_len(Kind::CQuote, 1);
            self.modes.pop();
            return;
        }
        if let Some(len) = escaped_marker_len(rest) {
            self.emit_len(Kind::QuotedLit, len);
            return;
        }
        if rest.starts_with(['\r', '\n']) {
            let len = rest.len() - rest.trim_start_matches(['\r', '\n']).len();
            // A line break in a quoted string: the file does not parse.
            self.emit_len(Kind::Other, len);
            return;
        }
        let mut len = 0;
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((j, n)) if n != '\r' && n != '\n' => len = j + n.len_utf8(),
                    _ => {
                        len = i + 1;
                        break;
                    }
                },
                '$' | '%' | '"' | '\r' | '\n' => break,
                _ => len = i + c.len_utf8(),
            }
        }
        self.emit_len(Kind::QuotedLit, len.max(1));
    }

    fn heredoc(&mut self) {
        if self.template_sequence() {
            return;
        }
        let rest = self.rest();
        if let Some(len) = escaped_marker_len(rest) {
            self.set_start_of_line(false);
            self.emit_len(Kind::StringLit, len);
            return;
        }
        let text_len = rest.find(['$', '%', '\r', '\n']).unwrap_or(rest.len());
        let eol = if rest[text_len..].starts_with('\n') {
            1
        } else if rest[text_len..].starts_with("\r\n") {
            2
        } else {
            0
        };
        if eol == 0 {
            self.set_start_of_line(false);
            self.emit_len(Kind::StringLit, text_len.max(1));
            return;
        }
        let line = &rest[..text_len + eol];
        if let Some(Mode::Heredoc {
            marker,
            start_of_line: true,
        }) = self.modes.last()
        {
            if line.trim() == marker {
                self.emit_len(Kind::CHeredoc, text_len);
                self.emit_len(Kind::Newline, eol);
                self.modes.pop();
                return;
            }
        }
        self.set_start_of_line(true);
        self.emit_len(Kind::StringLit, text_len + eol);
    }

    fn set_start_of_line(&mut self, value: bool) {
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = value;
        }
    }
}

/// The length of a literal `$` or `%` here: `$${`/`%%{` (an escaped
/// sequence opener, with an optional `~`), or the lone sign; `None`
/// elsewhere.
fn escaped_marker_len(rest: &str) -> Option<usize> {
    let sign = rest.chars().next().filter(|c| *c == '$' || *c == '%')?;
    let doubled = format!("{sign}{sign}{{");
    if rest.starts_with(&doubled) {
        Some(if rest[3..].starts_with('~') { 4 } else { 3 })
    } else {
        Some(1)
    }
}

/// A number: digits, dots and exponents, never ending in a dot.
fn number_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut i = 1;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() || *c == b'.' => i += 1,
            Some(b'e' | b'E') => {
                let mut j = i + 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    i = j + 1;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    while i > 1 && b[i - 1] == b'.' {
        i -= 1;
    }
    i
}

fn ident_len(rest: &str) -> usize {
    rest.char_indices()
        .find(|&(i, c)| i > 0 && !is_id_continue(c))
        .map_or(rest.len(), |(i, _)| i)
}

/// `<<EOT` or `<<-EOT` followed by a newline: its length (newline
/// included) and the marker.
fn heredoc_intro(rest: &str) -> Option<(usize, String)> {
    let after = rest.strip_prefix("<<")?;
    let dash = usize::from(after.starts_with('-'));
    let name_start = &after[dash..];
    if !name_start.chars().next().is_some_and(is_id_start) {
        return None;
    }
    let name_len = ident_len(name_start);
    let tail = &name_start[name_len..];
    let nl = if tail.starts_with('\n') {
        1
    } else if tail.starts_with("\r\n") {
        2
    } else {
        return None;
    };
    Some((2 + dash + name_len + nl, name_start[..name_len].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        scan(src).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn templates_and_heredocs_are_cut_as_hcl_cuts_them() {
        use Kind::*;
        let got = kinds("a = \"x${ b }$${c}\"\n");
        let want = [
            (Ident, "a"),
            (Equal, "="),
            (OQuote, "\""),
            (QuotedLit, "x"),
            (TemplateInterp, "${"),
            (Ident, "b"),
            (TemplateSeqEnd, "}"),
            (QuotedLit, "$${"),
            (QuotedLit, "c}"),
            (CQuote, "\""),
            (Newline, "\n"),
            (Eof, ""),
        ];
        assert_eq!(got, want.map(|(k, t)| (k, t.to_owned())));
        let got = kinds("x = <<-EOT\n  a ${y}\n  EOT\n");
        let want = [
            (Ident, "x"),
            (Equal, "="),
            (OHeredoc, "<<-EOT\n"),
            (StringLit, "  a "),
            (TemplateInterp, "${"),
            (Ident, "y"),
            (TemplateSeqEnd, "}"),
            (StringLit, "\n"),
            (CHeredoc, "  EOT"),
            (Newline, "\n"),
            (Eof, ""),
        ];
        assert_eq!(got, want.map(|(k, t)| (k, t.to_owned())));
    }

    #[test]
    fn numbers_comments_and_spaces() {
        let toks = scan("x  = 1.5e3 # c\n");
        assert_eq!(toks[2].text, "1.5e3");
        assert_eq!(toks[1].spaces_before, 2);
        assert_eq!(toks[3].kind, Kind::Comment);
        assert_eq!(toks[3].text, "# c\n");
        assert_eq!(number_len("1."), 1);
        assert_eq!(number_len("1.x"), 1);
    }
}
