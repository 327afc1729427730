# The same control plane, adopted by ID. The ID comes from a variable
# (TF_VAR_cp_id) through a local, as Terraform 1.5 allows.
variable "cp_id" {
  type = string
}

locals {
  cp_id = var.cp_id
}

import {
  to = konnect_mesh_control_plane.cp
  id = local.cp_id
}

resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "imported-cp"
  description = "made elsewhere"
  labels = {
    "team" = "mesh"
  }
}
