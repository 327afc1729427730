//! Chart sources (placeholder until written).
pub trait ChartSource {}
pub struct ChartRef;
