# A control plane made by one working directory; another one adopts it
# with an import block.
resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "imported-cp"
  description = "made elsewhere"
  labels = {
    "team" = "mesh"
  }
}

output "cp_id" {
  value = konnect_mesh_control_plane.cp.id
}
