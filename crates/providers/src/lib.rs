//! The provider interface and meshform's native backends: Konnect,
//! Kubernetes, Helm and time.
//!
//! Every call takes a request struct and returns a response struct with
//! diagnostics inside, so adding a field never touches every backend.
