//! Templates: `${}` interpolations, `%{if}`/`%{for}` directives and `~`
//! strip markers, for quoted strings, heredocs and `templatefile`.

use std::collections::BTreeMap;
use std::ops::Range;

use hcl_edit::expr::Expression;
use hcl_edit::template::{Directive, Element, Strip, Template};
use hcl_edit::Span;

use super::{iteration_pairs, EvalError, EvalResult, Evaluator, SourceFile, TemplateFn};
use crate::convert::convert;
use crate::types::Type;
use crate::value::Value;

/// A template flattened into tokens, so that strip markers can trim the
/// literal next to them whatever the nesting.
enum Tok<'t> {
    Lit(String),
    Interp(&'t Expression),
    If(&'t Expression),
    Else,
    Endif,
    For {
        key: Option<&'t str>,
        value: &'t str,
        coll: &'t Expression,
    },
    Endfor,
}

/// The template as a tree again, after stripping.
enum Node<'t> {
    Lit(String),
    Interp(&'t Expression),
    If {
        cond: &'t Expression,
        then: Vec<Node<'t>>,
        otherwise: Vec<Node<'t>>,
    },
    For {
        key: Option<&'t str>,
        value: &'t str,
        coll: &'t Expression,
        body: Vec<Node<'t>>,
    },
}

/// How a template's text was written, which decides how literals split
/// into tokens and whether `<<-` indentation is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A quoted string: each literal is one token.
    Quoted,
    /// A heredoc or template file: literals split after each newline, as
    /// HCL's scanner emits one token per line.
    Lines,
    /// A `<<-` heredoc: as `Lines`, then the common indentation of the
    /// line-leading literals is removed.
    Flush,
}

fn flatten<'t>(t: &'t Template, mode: Mode, nested: bool, out: &mut Vec<(Tok<'t>, Strip)>) {
    for el in t.iter() {
        match el {
            Element::Literal(s) if mode != Mode::Quoted => {
                for piece in s.value().split_inclusive('\n') {
                    out.push((Tok::Lit(piece.to_owned()), Strip::None));
                }
            }
            // hcl-edit reads the body of a directive in a quoted string as
            // template text, leaving its escapes (`\n`) as written.
            Element::Literal(s) if nested => {
                out.push((Tok::Lit(unescape_quoted(s.value())), Strip::None))
            }
            Element::Literal(s) => out.push((Tok::Lit(s.value().clone()), Strip::None)),
            Element::Interpolation(i) => out.push((Tok::Interp(&i.expr), i.strip)),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    out.push((Tok::If(&d.if_expr.cond_expr), d.if_expr.strip));
                    flatten(&d.if_expr.template, mode, true, out);
                    if let Some(e) = &d.else_expr {
                        out.push((Tok::Else, e.strip));
                        flatten(&e.template, mode, true, out);
                    }
                    out.push((Tok::Endif, d.endif_expr.strip));
                }
                Directive::For(d) => {
                    out.push((
                        Tok::For {
                            key: d.for_expr.key_var.as_ref().map(|k| k.as_str()),
                            value: d.for_expr.value_var.as_str(),
                            coll: &d.for_expr.collection_expr,
                        },
                        d.for_expr.strip,
                    ));
                    flatten(&d.for_expr.template, mode, true, out);
                    out.push((Tok::Endfor, d.endfor_expr.strip));
                }
            },
        }
    }
}

/// Resolves the escapes of a quoted string (`\n`, `\r`, `\t`, `\"`,
/// `\\`, `\uXXXX`, `\UXXXXXXXX`); anything else stays as written.
fn unescape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let simple = match chars.peek().map(|&(_, c)| c) {
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            _ => None,
        };
        if let Some(ch) = simple {
            chars.next();
            out.push(ch);
            continue;
        }
        let width = match chars.peek().map(|&(_, c)| c) {
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        let hex = s.get(i + 2..i + 2 + width).filter(|h| h.len() == width);
        match hex
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            Some(ch) if width > 0 => {
                for _ in 0..=width {
                    chars.next();
                }
                out.push(ch);
            }
            _ => out.push(c),
        }
    }
    out
}

fn apply_strips(toks: &mut [(Tok<'_>, Strip)]) {
    for i in 0..toks.len() {
        let strip = toks[i].1;
        if strip.strip_start() && i > 0 {
            if let Tok::Lit(s) = &mut toks[i - 1].0 {
                let trimmed = s.trim_end().len();
                s.truncate(trimmed);
            }
        }
        if strip.strip_end() && i + 1 < toks.len() {
            if let Tok::Lit(s) = &mut toks[i + 1].0 {
                *s = s.trim_start().to_owned();
            }
        }
    }
}

/// HCL's `flushHeredocTemplateParts`: finds the smallest indentation of
/// the literals that start a line (a line starting with an interpolation or
/// directive counts as zero, a blank line not at all) and removes it from
/// each of them.
fn flush_indentation(toks: &mut [(Tok<'_>, Strip)]) {
    use unicode_segmentation::UnicodeSegmentation;
    let mut min = usize::MAX;
    let mut newline = true;
    let mut adjust = Vec::new();
    for (i, (tok, _)) in toks.iter().enumerate() {
        if newline {
            newline = false;
            let spaces = match tok {
                Tok::Lit(s) => {
                    let trimmed = s.trim_start();
                    if trimmed.is_empty() && s.ends_with('\n') {
                        usize::MAX
                    } else {
                        adjust.push(i);
                        s[..s.len() - trimmed.len()].graphemes(true).count()
                    }
                }
                _ => 0,
            };
            min = min.min(spaces);
        }
        if let Tok::Lit(s) = tok {
            if s.ends_with('\n') {
                newline = true;
            }
        }
    }
    if min == usize::MAX || min == 0 {
        return;
    }
    for i in adjust {
        if let Tok::Lit(s) = &mut toks[i].0 {
            let cut: usize = s.graphemes(true).take(min).map(str::len).sum();
            s.drain(..cut);
        }
    }
}

fn build<'t>(toks: &mut std::iter::Peekable<std::vec::IntoIter<Tok<'t>>>, out: &mut Vec<Node<'t>>) {
    while let Some(tok) = toks.peek() {
        if matches!(tok, Tok::Else | Tok::Endif | Tok::Endfor) {
            return;
        }
        let Some(tok) = toks.next() else { return };
        match tok {
            Tok::Lit(s) => out.push(Node::Lit(s)),
            Tok::Interp(e) => out.push(Node::Interp(e)),
            Tok::If(cond) => {
                let mut then = Vec::new();
                build(toks, &mut then);
                let mut otherwise = Vec::new();
                if matches!(toks.peek(), Some(Tok::Else)) {
                    toks.next();
                    build(toks, &mut otherwise);
                }
                if matches!(toks.peek(), Some(Tok::Endif)) {
                    toks.next();
                }
                out.push(Node::If {
                    cond,
                    then,
                    otherwise,
                });
            }
            Tok::For { key, value, coll } => {
                let mut body = Vec::new();
                build(toks, &mut body);
                if matches!(toks.peek(), Some(Tok::Endfor)) {
                    toks.next();
                }
                out.push(Node::For {
                    key,
                    value,
                    coll,
                    body,
                });
            }
            Tok::Else | Tok::Endif | Tok::Endfor => {}
        }
    }
}

/// Evaluates a template. A template that is a single interpolation and
/// nothing else gives the interpolated value itself (any type).
pub(super) fn eval_template(
    ev: &mut Evaluator<'_>,
    t: &Template,
    mode: Mode,
    span: Option<Range<usize>>,
) -> EvalResult {
    let mut toks = Vec::new();
    flatten(t, mode, false, &mut toks);
    if toks.len() == 1 {
        if let Tok::Interp(e) = toks[0].0 {
            return ev.eval(e);
        }
    }
    apply_strips(&mut toks);
    if mode == Mode::Flush {
        flush_indentation(&mut toks);
    }
    let mut nodes = Vec::new();
    let mut iter = toks
        .into_iter()
        .map(|(t, _)| t)
        .collect::<Vec<_>>()
        .into_iter()
        .peekable();
    build(&mut iter, &mut nodes);
    let mut out = Rendered::default();
    render(ev, &nodes, &mut out)?;
    let _ = span;
    let v = if out.unknown {
        Value::unknown(Type::String)
    } else {
        Value::string(out.text)
    };
    Ok(v.mark_sensitive_if(out.sensitive))
}

#[derive(Default)]
struct Rendered {
    text: String,
    unknown: bool,
    sensitive: bool,
}

fn render(ev: &mut Evaluator<'_>, nodes: &[Node<'_>], out: &mut Rendered) -> EvalResult<()> {
    for node in nodes {
        match node {
            Node::Lit(s) => out.text.push_str(s),
            Node::Interp(e) => {
                let v = ev.eval(e)?;
                out.sensitive |= v.contains_sensitive();
                if v.is_null() {
                    return Err(EvalError::new(
                        "Invalid template interpolation value",
                        "The expression result is null. Cannot include a null value in a string template.",
                        e.span(),
                    ));
                }
                if !v.is_known() {
                    out.unknown = true;
                    continue;
                }
                let s = convert(&v, &Type::String).map_err(|err| {
                    EvalError::new(
                        "Invalid template interpolation value",
                        format!("Cannot include the given value in a string template: {err}."),
                        e.span(),
                    )
                })?;
                match s.as_str() {
                    Some(s) => out.text.push_str(s),
                    None => out.unknown = true,
                }
            }
            Node::If {
                cond,
                then,
                otherwise,
            } => {
                let c = ev.eval(cond)?;
                out.sensitive |= c.is_sensitive();
                if c.is_null() {
                    return Err(EvalError::new(
                        "Invalid template if condition",
                        "The condition value is null. Conditions must either be true or false.",
                        cond.span(),
                    ));
                }
                let c = convert(&c, &Type::Bool).map_err(|err| {
                    EvalError::new(
                        "Invalid template if condition",
                        format!("The condition value is not valid: {err}."),
                        cond.span(),
                    )
                })?;
                match c.as_bool() {
                    None => out.unknown = true,
                    Some(true) => render(ev, then, out)?,
                    Some(false) => render(ev, otherwise, out)?,
                }
            }
            Node::For {
                key,
                value,
                coll,
                body,
            } => {
                let c = ev.eval(coll)?;
                if c.is_null() {
                    return Err(EvalError::new(
                        "Iteration over null value",
                        "A null value cannot be used as the collection in a 'for' directive.",
                        coll.span(),
                    ));
                }
                if !c.is_known() {
                    out.unknown = true;
                    continue;
                }
                out.sensitive |= c.is_sensitive();
                let pairs = iteration_pairs(&c).ok_or_else(|| {
                    EvalError::new(
                        "Iteration over non-iterable value",
                        format!(
                            "A value of type {} cannot be used as the collection in a 'for' directive.",
                            c.ty()
                        ),
                        coll.span(),
                    )
                })?;
                for (k, v) in pairs {
                    let mut scope = BTreeMap::new();
                    if let Some(kn) = key {
                        scope.insert((*kn).to_owned(), k);
                    }
                    scope.insert((*value).to_owned(), v);
                    ev.push_scope(scope);
                    let r = render(ev, body, out);
                    ev.pop_scope();
                    r?;
                }
            }
        }
    }
    Ok(())
}

/// Why a template given as text could not be rendered.
#[derive(Debug, Clone)]
pub(crate) enum TemplateError {
    /// The text is not a template: the parser's message.
    Parse(String),
    /// The template refers to this name, which the vars lack.
    MissingVar(String),
    /// Rendering failed: the failure's summary and detail in one line.
    Render(String),
}

/// Parses and renders a template's text with only `vars` in scope, for
/// `templatefile` or `templatestring` (`rendering`).
pub(crate) fn render_template_text(
    ev: &Evaluator<'_>,
    text: &str,
    vars: BTreeMap<String, Value>,
    rendering: TemplateFn,
) -> Result<Value, TemplateError> {
    let t = hcl_edit::parser::parse_template(text)
        .map_err(|e| TemplateError::Parse(e.message().to_string()))?;
    if let Some(r) = crate::refs::template_references(&t)
        .into_iter()
        .find(|r| !vars.contains_key(&r.root))
    {
        return Err(TemplateError::MissingVar(r.root));
    }
    let mut inner = Evaluator::isolated(ev.ctx, vars, SourceFile::new("template", text), rendering);
    // Spans inside the template do not point into the caller's source, so
    // the failure is reported at the call.
    eval_template(&mut inner, &t, Mode::Lines, None)
        .map_err(|e| TemplateError::Render(format!("{}: {}", e.summary, e.detail)))
}

#[cfg(test)]
mod tests {
    use super::unescape_quoted;

    fn check(raw: &str, want: &str) {
        assert_eq!(unescape_quoted(raw), want, "{raw:?}");
    }

    #[test]
    fn quoted_escapes_resolve_inside_directive_bodies() {
        check(r"a\nb", "a\nb");
        check(r#"\t\"x\"\r"#, "\t\"x\"\r");
        check(r"\\n", "\\n");
        check(r"\u00e9\U0001F600", "é😀");
        // Not an escape: kept as written.
        check(r"\q", r"\q");
        check(r"\u12", r"\u12");
    }
}
