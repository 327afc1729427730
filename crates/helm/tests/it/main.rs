//! Integration tests of meshform-helm, one module per feature.

mod fetch;
mod golden;
mod release;
mod testdata;
