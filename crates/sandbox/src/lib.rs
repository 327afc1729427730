//! Local stand-ins for the Konnect API and a Kubernetes API server, served on
//! loopback for tests, previews and `meshform sandbox`.
//!
//! It implements the published contracts and depends on no other meshform
//! crate.
