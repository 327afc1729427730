//! Integration tests of the engine: one module per feature.
mod decode;
mod goldens;
mod graph;
mod import_blocks;
mod objchange;
mod render;
