# A hundred policies in one mesh, applied while the sandbox fails requests.
resource "konnect_mesh_control_plane" "cp" {
  provider = konnect-beta
  name     = "faults-cp"
}

resource "konnect_mesh" "mesh" {
  provider                       = konnect-beta
  type                           = "Mesh"
  cp_id                          = konnect_mesh_control_plane.cp.id
  name                           = "faults"
  skip_creating_initial_policies = ["*"]
}

resource "konnect_mesh_traffic_permission" "p" {
  count    = 100
  provider = konnect-beta
  cp_id    = konnect_mesh_control_plane.cp.id
  mesh     = konnect_mesh.mesh.name
  labels = {
    "kuma.io/mesh" = konnect_mesh.mesh.name
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
          action = "Allow"
        }
      }
    ]
  }
}
