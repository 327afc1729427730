//! The provider interface and meshform's native backends: Konnect,
//! Kubernetes, Helm and time.
//!
//! Every call takes a request struct and returns a response struct with
//! diagnostics inside, so adding a field never touches every backend.
//! Key pieces: the Konnect resource tables ([`konnect::KonnectTables`]),
//! the Kuma policy validator ([`kuma`]) and the time resources ([`time`]),
//! all driven by injected inputs (clock, HTTP base URLs), never globals.
//!
//! This crate must not know configuration syntax, the engine's graph, the
//! state store or the command line.

pub mod helm_release;
pub mod konnect;
pub mod kubernetes;
pub mod kuma;
pub mod planning;
pub mod provider;
pub mod schema_only;
pub mod time;

pub use provider::{AttrPath, ConfigureRequest, Provider, ProviderFactory, ProviderRegistry};
