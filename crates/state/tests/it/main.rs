//! Integration tests of the state store: one module per feature.

mod common;
mod conformance;
mod contract;
mod crash;
mod encryption;
mod locking;
