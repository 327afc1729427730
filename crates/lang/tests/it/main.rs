//! Integration tests of the expression language.

mod conformance;
