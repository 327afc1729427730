//! Integration tests of the expression language.

mod conformance;
mod functions;
mod no_panic;
mod properties;
mod sensitive;
mod support;
mod unknown;
