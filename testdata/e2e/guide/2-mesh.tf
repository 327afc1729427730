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
  name                           = "my-mesh"
  depends_on                     = [konnect_mesh_control_plane.my_meshcontrolplane]
  skip_creating_initial_policies = ["*"]
}
