//! Integration tests of the `meshform` binary: one module per command group.

mod apply;
mod config;
mod crash;
mod fmt;
mod guide;
mod helm;
mod import_blocks;
mod konnect;
mod sandbox;
mod state;
mod support;
