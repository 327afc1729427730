//! Integration tests of the sandbox servers, one module per API.

mod clients;
mod common;
mod contract;
mod konnect;
mod kube;
mod kube_fidelity;
mod kubectl;
mod zone;
mod zone_kuma;
