//! Rendering for the terminal: errors and diagnostics in Terraform's shape.

use crate::Globals;

/// Prints an error that is not a configuration diagnostic.
pub fn print_error(e: &anyhow::Error, g: &Globals) {
    let _ = g;
    let mut msg = format!("{e}");
    for cause in e.chain().skip(1) {
        msg.push_str(&format!(": {cause}"));
    }
    eprintln!("\nError: {msg}\n");
}
