# The ID is an attribute of a control plane not created yet.
resource "konnect_mesh_control_plane" "first" {
  provider = konnect-beta
  name     = "first-cp"
}

resource "konnect_mesh_control_plane" "cp" {
  provider = konnect-beta
  name     = "imported-cp"
}

import {
  to = konnect_mesh_control_plane.cp
  id = konnect_mesh_control_plane.first.id
}
