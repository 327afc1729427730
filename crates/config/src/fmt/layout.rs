//! The whitespace rules of HCL's canonical style, applied to a token stream
//! line by line: indentation by bracket nesting, one space or none between
//! tokens, and the `=` of consecutive attributes and trailing comments of
//! consecutive lines aligned. Only `spaces_before` changes.

use unicode_segmentation::UnicodeSegmentation;

use super::scan::{Kind, Token};

/// One line split into cells: `lead` (everything up to the others),
/// `assign` (from an attribute's `=` on) and `comment` (a trailing comment),
/// as index ranges into the token list.
#[derive(Debug, Clone, Default)]
struct Line {
    lead: std::ops::Range<usize>,
    assign: Option<std::ops::Range<usize>>,
    comment: Option<std::ops::Range<usize>>,
}

/// Sets the spaces before every token of `tokens` (which ends with `Eof`).
pub(crate) fn format(tokens: &mut [Token]) {
    let lines = lines(tokens);
    indent(tokens, &lines);
    spaces(tokens, &lines);
    align(tokens, &lines);
}

/// Single-line comments end with their newline, so they end a line too.
fn ends_line(t: &Token) -> bool {
    t.kind == Kind::Newline || (t.kind == Kind::Comment && t.text.ends_with('\n'))
}

fn bracket_change(t: &Token) -> i32 {
    match t.kind {
        Kind::OBrace
        | Kind::OBrack
        | Kind::OParen
        | Kind::TemplateControl
        | Kind::TemplateInterp => 1,
        Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
        _ => 0,
    }
}

fn lines(tokens: &[Token]) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.kind == Kind::Eof {
            // The end of input belongs to no line.
            out.push(Line {
                lead: start..i,
                ..Line::default()
            });
            start = tokens.len();
            break;
        }
        if ends_line(t) {
            out.push(Line {
                lead: start..i + 1,
                ..Line::default()
            });
            start = i + 1;
        }
    }
    if start < tokens.len() {
        out.push(Line {
            lead: start..tokens.len(),
            ..Line::default()
        });
    }
    for line in &mut out {
        let lead = line.lead.clone();
        if lead.is_empty() {
            continue;
        }
        if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
            line.comment = Some(lead.end - 1..lead.end);
            line.lead = lead.start..lead.end - 1;
        }
        let lead = line.lead.clone();
        if let Some(eq) = (lead.start + 1..lead.end).find(|&i| tokens[i].kind == Kind::Equal) {
            // Only a whole expression on this line counts as an assignment
            // to align; one that opens brackets continues below.
            let net: i32 = tokens[eq..lead.end].iter().map(bracket_change).sum();
            if net == 0 {
                line.assign = Some(eq..lead.end);
                line.lead = lead.start..eq;
            }
        }
    }
    out
}

fn indent(tokens: &mut [Token], lines: &[Line]) {
    // How many brackets each open indentation level opened.
    let mut levels: Vec<i32> = Vec::new();
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        let first = line.lead.start;
        if tokens[first].kind == Kind::Newline {
            tokens[first].spaces_before = 0;
            continue;
        }
        let mut net = 0;
        for t in &tokens[line.lead.clone()] {
            net += bracket_change(t);
            if t.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(assign) = &line.assign {
            net += tokens[assign.clone()]
                .iter()
                .map(bracket_change)
                .sum::<i32>();
        }
        if net > 0 {
            tokens[first].spaces_before = 2 * levels.len();
            levels.push(net);
            continue;
        }
        let mut closed = -net;
        while closed > 0 {
            let Some(top) = levels.last_mut() else {
                break;
            };
            if closed >= *top {
                closed -= *top;
                levels.pop();
            } else {
                *top -= closed;
                closed = 0;
            }
        }
        tokens[first].spaces_before = 2 * levels.len();
    }
}

fn spaces(tokens: &mut [Token], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead.clone(), false);
        if let Some(assign) = &line.assign {
            space_cell(tokens, assign.clone(), true);
        }
    }
}

fn space_cell(tokens: &mut [Token], cell: std::ops::Range<usize>, is_assign: bool) {
    let nil = Token::new(Kind::Other, "");
    for i in cell.clone() {
        if is_assign && i == cell.start {
            // One space between the name and its `=`, before alignment.
            tokens[i].spaces_before = 1;
        }
        if i + 1 >= cell.end {
            continue;
        }
        let before = if i > cell.start { &tokens[i - 1] } else { &nil };
        let before_kind = if i > cell.start {
            Some(before.kind)
        } else {
            None
        };
        let space = space_after(&tokens[i], before_kind, &tokens[i + 1]);
        tokens[i + 1].spaces_before = usize::from(space);
    }
}

/// Whether `subject` (after `before`, `None` at the start of a cell) is
/// followed by a space before `after`.
fn space_after(subject: &Token, before: Option<Kind>, after: &Token) -> bool {
    use Kind::*;
    let (s, a) = (subject.kind, after.kind);
    if a == Newline || a == Eof {
        return false;
    }
    if s == Ident && a == OParen {
        return false;
    }
    if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) {
        return false;
    }
    if s == Dot || a == Dot {
        return false;
    }
    if a == Comma || a == Ellipsis {
        return false;
    }
    if s == Comma {
        return true;
    }
    if matches!(s, QuotedLit | StringLit | OQuote | OHeredoc)
        || matches!(a, QuotedLit | StringLit | CQuote | CHeredoc)
    {
        return false;
    }
    if s == Ident && subject.text == "in" && before == Some(Ident) {
        // `for x in [a]`: `in` is a keyword here, not a name being indexed.
        return true;
    }
    if a == OBrack && (s == Ident || s == NumberLit || bracket_change(subject) < 0) {
        return false;
    }
    if s == Bang {
        return false;
    }
    if s == Minus {
        // A minus after something that cannot end an operand is a negation.
        return !matches!(
            before,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | GreaterThan
                    | GreaterThanEq
                    | LessThan
                    | LessThanEq
                    | And
                    | Or
                    | Bang
            )
        );
    }
    if s == OBrace || a == CBrace {
        // Braces have spaces inside (`{ a = 1 }`), except `{}`.
        return !(s == OBrace && a == CBrace);
    }
    if matches!(s, TemplateInterp | TemplateControl) && a == OBrace {
        return true;
    }
    if s == CBrace && a == TemplateSeqEnd {
        return true;
    }
    if s == TemplateSeqEnd && matches!(a, TemplateInterp | TemplateControl) {
        return false;
    }
    if bracket_change(subject) > 0 || bracket_change(after) < 0 {
        return false;
    }
    true
}

/// The width of tokens in columns: spaces plus grapheme clusters.
fn columns(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .map(|t| t.spaces_before + t.text.graphemes(true).count())
        .sum()
}

fn align(tokens: &mut [Token], lines: &[Line]) {
    // Runs of consecutive lines with an assignment align their `=`.
    let mut run: Vec<&Line> = Vec::new();
    let flush_assign = |run: &mut Vec<&Line>, tokens: &mut [Token]| {
        let widest = run.iter().map(|l| columns(&tokens[l.lead.clone()])).max();
        for l in run.drain(..) {
            let width = columns(&tokens[l.lead.clone()]);
            if let (Some(widest), Some(assign)) = (widest, &l.assign) {
                tokens[assign.start].spaces_before = widest - width + 1;
            }
        }
    };
    for line in lines {
        if line.assign.is_some() {
            run.push(line);
        } else {
            flush_assign(&mut run, tokens);
        }
    }
    flush_assign(&mut run, tokens);

    // Then runs of consecutive lines with a trailing comment align it.
    let width_before_comment = |l: &Line, tokens: &[Token]| {
        columns(&tokens[l.lead.clone()]) + l.assign.clone().map_or(0, |a| columns(&tokens[a]))
    };
    let flush_comment = |run: &mut Vec<&Line>, tokens: &mut [Token]| {
        let widest = run.iter().map(|l| width_before_comment(l, tokens)).max();
        for l in run.drain(..) {
            let width = width_before_comment(l, tokens);
            if let (Some(widest), Some(comment)) = (widest, &l.comment) {
                tokens[comment.start].spaces_before = widest - width + 1;
            }
        }
    };
    for line in lines {
        if line.comment.is_some() {
            run.push(line);
        } else {
            flush_comment(&mut run, tokens);
        }
    }
    flush_comment(&mut run, tokens);
}
