//! Integration tests of the engine: one module per feature.
mod decode;
mod goldens;
mod graph;
mod objchange;
mod render;
