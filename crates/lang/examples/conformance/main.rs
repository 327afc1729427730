//! `cargo run --release -p meshform-lang --example conformance -- FILE`:
//! evaluates each conformance vector of FILE and lists the failures, ending
//! with `conformance: N passed, M failed` (exit status 1 when M > 0).

mod runner;

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: conformance FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("conformance: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let outcomes = runner::run_all(&text);
    let mut failed = 0;
    for o in &outcomes {
        if !o.passed {
            failed += 1;
            println!("FAIL {}: {}", o.id, o.expr);
            println!("  expected: {}", o.expected);
            println!("  got:      {}", o.got);
        }
    }
    println!(
        "conformance: {} passed, {} failed",
        outcomes.len() - failed,
        failed
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
