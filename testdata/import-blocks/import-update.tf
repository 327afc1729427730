# The control plane adopted by ID with a description that differs from
# the remote one: imported, then updated in place.
variable "cp_id" {
  type = string
}

import {
  to = konnect_mesh_control_plane.cp
  id = var.cp_id
}

resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "imported-cp"
  description = "managed here now"
  labels = {
    "team" = "mesh"
  }
}
