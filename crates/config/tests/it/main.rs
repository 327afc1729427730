//! Integration tests of configuration loading: one module per feature.

mod blocks;
mod fmt;
mod malformed;
mod support;
mod variables;
