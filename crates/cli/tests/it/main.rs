//! Integration tests of the `meshform` binary: one module per command group.

mod apply;
mod config;
mod crash;
mod guide;
mod helm;
mod konnect;
mod sandbox;
mod state;
