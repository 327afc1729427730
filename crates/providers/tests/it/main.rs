//! Integration tests of meshform-providers, one module per feature.

mod helm_release;
mod konnect_sandbox;
mod konnect_tables;
mod kubernetes;
mod kuma_policies;
mod planning;
mod schema_json;
mod time_provider;
