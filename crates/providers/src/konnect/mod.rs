//! Kong Konnect: the kong/konnect-beta 0.1.0 mesh resources and the
//! kong/konnect 2.4.1 system-account resources, described by generated
//! tables and served by one generic implementation.

pub mod client;
pub mod provider;
pub mod tables;
pub mod wire;

pub use provider::{KonnectFactory, KonnectProvider};
pub use tables::{KonnectTables, ResourceTable, KONNECT, KONNECT_BETA};
