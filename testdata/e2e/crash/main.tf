# A control plane, a mesh and many policies: a long apply to interrupt.
# Appended to testdata/e2e/guide/providers.tf by the test.
variable "policy_count" {
  type = number
}

resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "crash-cp"
  description = "Interrupted applies"
}

resource "konnect_mesh" "mesh" {
  provider                       = konnect-beta
  type                           = "Mesh"
  cp_id                          = konnect_mesh_control_plane.cp.id
  name                           = "crash-mesh"
  skip_creating_initial_policies = ["*"]
}

resource "konnect_mesh_traffic_permission" "p" {
  count    = var.policy_count
  provider = konnect-beta
  cp_id    = konnect_mesh_control_plane.cp.id
  mesh     = konnect_mesh.mesh.name
  labels = {
    "kuma.io/mesh" = konnect_mesh.mesh.name
    "index"        = tostring(count.index)
  }
  type = "MeshTrafficPermission"
  name = "permission-${count.index}"
  spec = {
    from = [
      {
        target_ref = {
          kind = "Mesh"
        }
        default = {
          action = count.index % 2 == 0 ? "Allow" : "Deny"
        }
      }
    ]
  }
}
