//! Integration tests of the sandbox servers, one module per API.

mod common;
mod contract;
mod konnect;
mod kube;
mod kubectl;
mod zone;
