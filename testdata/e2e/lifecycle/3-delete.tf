# The policy and the access token removed from the configuration.
resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "lifecycle-cp"
  description = "second"
  labels = {
    "team" = "mesh"
  }
}

resource "konnect_mesh" "mesh" {
  provider                       = konnect-beta
  type                           = "Mesh"
  cp_id                          = konnect_mesh_control_plane.cp.id
  name                           = "lifecycle"
  skip_creating_initial_policies = ["*"]
}

resource "konnect_system_account" "account" {
  name            = "lifecycle-account"
  description     = "Changed"
  konnect_managed = false
}
