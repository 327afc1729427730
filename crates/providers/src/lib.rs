//! The provider interface and meshform's native backends: Konnect,
//! Kubernetes, Helm and time.
//!
//! Key types: [`ProviderFactory`] (a provider's source, version, schema,
//! offline validation; it configures a [`Provider`] per `provider` block),
//! [`Provider`] (plan, apply, read, import, with request/response structs
//! that carry their diagnostics), [`ProviderRegistry`] (factories by source
//! address, a value the binary builds). [`planning`] plans any resource from
//! its schema and plan behaviour (Terraform's proposed new state, framework
//! and SDK rules); [`schema_only`] previews providers meshform only knows by
//! their schema. Backends: [`konnect`] (generated tables, one retrying HTTP
//! client), [`kuma`] (offline policy validation), [`time`] (pure logic over
//! the run's clock), [`kubernetes`], [`helm_release`].
//!
//! Everything the world offers is injected: clock, environment, HTTP base
//! URLs. This crate must not know configuration syntax, the engine's graph,
//! the state store or the command line.

pub mod helm_release;
pub mod konnect;
pub mod kubernetes;
pub mod kuma;
pub mod planning;
pub mod provider;
pub mod schema_only;
pub mod time;

pub use provider::{AttrPath, ConfigureRequest, Provider, ProviderFactory, ProviderRegistry};
