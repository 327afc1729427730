//! Helm 3 release records (placeholder until written).
