# A representative set of resource types of both Konnect providers.
variable "timeout" {
  type    = string
  default = "10s"
}

variable "cp_description" {
  type    = string
  default = "first"
}

variable "account_description" {
  type    = string
  default = "Used by the lifecycle test"
}

resource "konnect_mesh_control_plane" "cp" {
  provider    = konnect-beta
  name        = "lifecycle-cp"
  description = var.cp_description
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

resource "konnect_mesh_timeout" "timeout" {
  provider = konnect-beta
  cp_id    = konnect_mesh_control_plane.cp.id
  mesh     = konnect_mesh.mesh.name
  type     = "MeshTimeout"
  name     = "timeouts"
  labels = {
    "kuma.io/mesh" = konnect_mesh.mesh.name
  }
  spec = {
    target_ref = {
      kind = "Mesh"
    }
    to = [
      {
        target_ref = {
          kind = "Mesh"
        }
        default = {
          idle_timeout       = var.timeout
          connection_timeout = "2s"
        }
      }
    ]
  }
}

resource "konnect_system_account" "account" {
  name            = "lifecycle-account"
  description     = var.account_description
  konnect_managed = false
}

resource "konnect_system_account_access_token" "token" {
  account_id = konnect_system_account.account.id
  name       = "lifecycle-token"
  expires_at = "2099-01-01T00:00:00Z"
}
