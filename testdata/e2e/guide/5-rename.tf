resource "konnect_mesh_control_plane" "my_meshcontrolplane" {
  provider    = konnect-beta
  name        = "tf-cp"
  description = "A control plane created using terraform"
  labels = {
    "terraform" = "true"
  }
}

resource "konnect_mesh" "mesh1" {
  provider                       = konnect-beta
  type                           = "Mesh"
  cp_id                          = konnect_mesh_control_plane.my_meshcontrolplane.id
  name                           = "another-name"
  depends_on                     = [konnect_mesh_control_plane.my_meshcontrolplane]
  skip_creating_initial_policies = ["*"]

  mtls = {
    "backends" = [
      {
        "name" = "ca-1"
        "type" = "builtin"
      }
    ]
    "mode"           = "permissive"
    "enabledBackend" = "ca-1"
  }
}

resource "konnect_mesh_traffic_permission" "allow_all" {
  provider   = konnect-beta
  cp_id      = konnect_mesh_control_plane.my_meshcontrolplane.id
  mesh       = konnect_mesh.mesh1.name
  depends_on = [konnect_mesh.mesh1]
  labels = {
    "kuma.io/mesh" = konnect_mesh.mesh1.name
  }
  type = "MeshTrafficPermission"
  name = "allow-all"
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
