//! The engine: dependency graph, plan, plan rendering and the apply walk.
//!
//! It takes a loaded configuration, prior state and a provider registry (a
//! value, chosen by the binary) and produces a plan, then applies it. It never
//! prints and never opens network connections or files on its own.

pub mod decode;
pub mod graph;
pub mod imports;
pub mod objchange;
mod parallel;
pub mod plan;
pub mod plan_json;
pub mod planner;
pub mod prior;
pub mod provider_configs;
pub mod render;
pub mod sink;
pub mod validate;
pub mod variables;
