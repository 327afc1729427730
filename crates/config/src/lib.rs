//! Loading a Terraform configuration: `.tf`/`.tf.json` files into typed
//! blocks, variable values from every source, and diagnostics with source
//! positions.
//!
//! `config` models the source before evaluation. It knows nothing of
//! providers, state, the engine or the network.
