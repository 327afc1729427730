//! hashicorp/helm 2.17.0: `helm_release`.
