//! Integration tests of the `meshform` binary: one module per command group.

mod state;
mod config;
mod helm;
mod apply;
mod sandbox;
mod guide;
