//! `cargo run -p meshform-lang --example eval_lines < exprs.txt`: evaluates
//! one expression per input line (no variables, no files) and prints each
//! result as `terraform console` would, with its type, or the diagnostics.

use std::io::BufRead;

use meshform_lang::{eval, format_for_console, hcl_edit, EvalContext, SourceFile};

fn main() {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else {
            eprintln!("eval_lines: input is not UTF-8 text");
            return;
        };
        let src = format!("x = {line}\n");
        let expr = match hcl_edit::parser::parse_body(&src) {
            Ok(body) => body.get_attribute("x").map(|a| a.value.clone()),
            Err(e) => {
                println!("{line} => parse error: {e}");
                continue;
            }
        };
        let Some(expr) = expr else {
            println!("{line} => not an expression");
            continue;
        };
        let ctx = EvalContext::new().with_source(SourceFile::new("line", src.clone()));
        match eval(&expr, &ctx) {
            Ok(v) => println!("{line} => {} : {}", format_for_console(&v), v.ty()),
            Err(d) => {
                let msgs: Vec<String> = d
                    .iter()
                    .map(|d| format!("{}: {}", d.summary, d.detail))
                    .collect();
                println!("{line} => error: {}", msgs.join("; "));
            }
        }
    }
}
