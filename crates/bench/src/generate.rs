//! Workload configurations, written as Terraform source text so the same
//! files can be planned by meshform and by Terraform.

use std::fmt::Write as _;
use std::path::Path;

/// Resource type of the resource-scale workloads.
pub const POLICY_TYPE: &str = "konnect_mesh_traffic_permission";

/// Name prefix of the locals in [`chained_locals`].
const LOCAL_PREFIX: &str = "l";

/// `n` locals, each an object whose `name` interpolates a field of the
/// previous local, with a labels map and a `jsonencode` of a policy-like
/// object, followed by `outputs` outputs spread evenly along the chain.
///
/// The chain keeps every name the same length (it reads the previous
/// local's `labels.index`, not its growing name), so the work per local is
/// constant and the total grows linearly with `n`.
pub fn chained_locals(n: usize, outputs: usize) -> String {
    let n = n.max(1);
    let mut out = String::with_capacity(n * 420 + outputs * 80);
    for i in 0..n {
        let previous = if i == 0 {
            "\"root\"".to_owned()
        } else {
            format!("local.{LOCAL_PREFIX}{}.labels.index", i - 1)
        };
        let _ = write!(
            out,
            r#"locals {{
  {LOCAL_PREFIX}{i} = {{
    name = "svc-{i}-after-${{{previous}}}"
    labels = {{
      app   = "svc-{i}"
      tier  = "backend"
      index = "{i}"
    }}
    policy = jsonencode({{
      type = "MeshTrafficPermission"
      name = "allow-{i}"
      spec = {{
        targetRef = {{ kind = "MeshService", name = "svc-{i}" }}
        from      = [{{ targetRef = {{ kind = "Mesh" }}, default = {{ action = "Allow" }} }}]
      }}
    }})
  }}
}}

"#
        );
    }
    for k in 0..outputs {
        let i = ((k + 1) * n / outputs.max(1)).saturating_sub(1);
        let _ = write!(
            out,
            "output \"o{k}\" {{\n  value = {{ name = local.{LOCAL_PREFIX}{i}.name, policy = local.{LOCAL_PREFIX}{i}.policy }}\n}}\n\n"
        );
    }
    out
}

/// Personal access token the generated provider blocks carry; the
/// benchmark sandbox accepts any `kpat_` token.
pub const BENCH_TOKEN: &str = "kpat_benchmarkbenchmarkbenchmarkbenchmarkbenchmark00";

/// A mesh control plane, one mesh and `n` traffic permissions in it, with
/// the Konnect provider pointed at `server_url`.
pub fn traffic_permissions(n: usize, server_url: &str) -> String {
    let mut out = String::with_capacity(n * 520 + 1200);
    let _ = write!(
        out,
        r#"terraform {{
  required_providers {{
    konnect-beta = {{
      source  = "kong/konnect-beta"
      version = "0.1.0"
    }}
  }}
}}

provider "konnect-beta" {{
  personal_access_token = "{BENCH_TOKEN}"
  server_url            = "{server_url}"
}}

resource "konnect_mesh_control_plane" "bench" {{
  provider    = konnect-beta
  name        = "bench-cp"
  description = "Control plane of the meshform benchmarks"
  labels = {{
    "purpose" = "benchmark"
  }}
}}

resource "konnect_mesh" "bench" {{
  provider                       = konnect-beta
  type                           = "Mesh"
  cp_id                          = konnect_mesh_control_plane.bench.id
  name                           = "bench-mesh"
  skip_creating_initial_policies = ["*"]
}}

"#
    );
    for i in 0..n {
        let _ = write!(
            out,
            r#"resource "{POLICY_TYPE}" "tp_{i}" {{
  provider = konnect-beta
  cp_id    = konnect_mesh_control_plane.bench.id
  mesh     = konnect_mesh.bench.name
  type     = "MeshTrafficPermission"
  name     = "allow-{i}"
  labels = {{
    "kuma.io/mesh" = konnect_mesh.bench.name
    "bench/index"  = "{i}"
  }}
  spec = {{
    from = [
      {{
        target_ref = {{
          kind = "Mesh"
        }}
        default = {{
          action = "Allow"
        }}
      }}
    ]
  }}
}}

"#
        );
    }
    out
}

/// Writes `text` as `dir/main.tf`, creating `dir`.
pub fn write_main_tf(dir: &Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("main.tf"), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_blocks: &[(&str, usize)]) {
        for (needle, count) in expected_blocks {
            assert_eq!(text.matches(needle).count(), *count, "{needle}");
        }
    }

    #[test]
    fn locals_chain_to_their_predecessor_and_outputs_reach_the_end() {
        let text = chained_locals(10, 4);
        check(
            &text,
            &[
                ("locals {", 10),
                ("output \"", 4),
                ("local.l8.labels.index", 1),
                ("value = { name = local.l9.name", 1),
            ],
        );
    }

    #[test]
    fn policies_share_one_mesh() {
        let text = traffic_permissions(3, "http://127.0.0.1:1");
        check(
            &text,
            &[
                ("resource \"konnect_mesh_traffic_permission\"", 3),
                ("resource \"konnect_mesh\" \"bench\"", 1),
                ("server_url            = \"http://127.0.0.1:1\"", 1),
            ],
        );
    }
}
