use meshform_lang::*;
use std::sync::Arc;
fn main() {
    let mut files = MemoryFiles::new();
    files.insert("a.txt", "A");
    files.insert("sub/b.txt", "B");
    files.insert("sub/deep/c.txt", "C");
    files.insert("sub/d.md", "D");
    let ctx = EvalContext::new().with_files(Arc::new(files));
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        let src = format!("x = {line}\n");
        let body = hcl_edit::parser::parse_body(&src);
        match body {
            Err(e) => println!("{line} => PARSE {e}"),
            Ok(b) => {
                let e = b.get_attribute("x").unwrap().value.clone();
                let c = ctx.clone().with_source(SourceFile::new("t", src.clone()));
                match eval(&e, &c) {
                    Ok(v) => println!("{line} => {} : {}", format_for_console(&v), v.ty()),
                    Err(d) => println!(
                        "{line} => ERR {}",
                        d.iter()
                            .map(|d| format!("{}: {}", d.summary, d.detail))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                }
            }
        }
    }
}
