# Attributes in a run align their equals signs; a blank line,
# a comment line or a nested block ends the run.
resource "konnect_mesh_control_plane" "cp" {
  name        = "mesh-cp"             # the control plane
  description = "Managed by meshform" # shown in Konnect
  labels = {
    env  = "dev"
    team = "platform"


    cost_center = "42"
  }
  # a comment line
  short            = 1
  much_longer_name = 2
  features = [
    { type = "MeshCreation", mesh_creation = { enabled = true } },
  ]
  x = 1
}

locals {
  a      = 1
  tabbed = "tab"
  multi = {
    one = 1
  }
  after = 2 // trailing slash comment
  z     = 3 /* block */
}
