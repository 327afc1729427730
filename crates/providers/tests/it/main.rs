//! Integration tests of meshform-providers, one module per feature.

mod konnect_tables;
mod schema_json;
