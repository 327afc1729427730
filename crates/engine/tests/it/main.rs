//! Integration tests of the engine: one module per feature.
mod graph;
mod render;
mod decode;
mod objchange;
mod goldens;
