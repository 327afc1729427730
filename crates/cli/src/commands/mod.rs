//! One module per command (or command group): an `Args` struct parsed by
//! clap, and a `run` function that does the work through the library crates.

pub mod apply;
pub mod console;
pub mod fmt;
pub mod graph;
pub mod helm;
pub mod import;
pub mod init;
pub mod plan;
pub mod sandbox;
pub mod show;
pub mod state;
pub mod validate;
