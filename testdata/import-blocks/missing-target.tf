# The import block names a resource the configuration does not declare.
resource "konnect_mesh_control_plane" "cp" {
  provider = konnect-beta
  name     = "imported-cp"
}

import {
  to = konnect_mesh_control_plane.other
  id = "00000000-0000-0000-0000-000000000000"
}
