//! Helm without the helm binary: chart sources, values merging, Go-template
//! rendering with Helm's and Sprig's functions, and release records.
//!
//! It knows nothing of Terraform.
