terraform {
  required_providers {
    konnect = {
      source = "kong/konnect"
    }
    konnect-beta = {
      source  = "kong/konnect-beta"
      version = "0.1.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.13.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "2.35.1"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "2.17.0"
    }
  }
}

variable "konnect_personal_access_token" {
    type    = string
}

variable "region" {
    type    = string
    default = "us"
}

provider "konnect" {
    personal_access_token = var.konnect_personal_access_token
    server_url            = "https://${var.region}.api.konghq.com"
}

provider "konnect-beta" {
    personal_access_token = var.konnect_personal_access_token
    server_url            = "https://${var.region}.api.konghq.com"
}

resource "konnect_mesh_control_plane" "my_meshcontrolplane" {
  provider    = konnect-beta
  name        = "tf-cp"
  description = "A control plane created using terraform"
  labels = {
    "terraform" = "true"
  }
}

resource "konnect_mesh" "mesh1" {
  provider = konnect-beta
  type     = "Mesh"
  cp_id    = konnect_mesh_control_plane.my_meshcontrolplane.id
  name     = "my-mesh"
  depends_on = [konnect_mesh_control_plane.my_meshcontrolplane]
  skip_creating_initial_policies = [ "*" ]

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
    provider = konnect-beta
    cp_id    = konnect_mesh_control_plane.my_meshcontrolplane.id
    mesh     = konnect_mesh.mesh1.name
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

variable "k8s_cluster_config_path" {
  type        = string
  description = "The location where this cluster's kubeconfig will be saved to."
  default     = "~/.config/k3d/kubeconfig-tfmink.yaml"
}

resource "konnect_system_account" "zone_system_account" {
  depends_on = [konnect_mesh_control_plane.my_meshcontrolplane]
  name            = "mesh_${konnect_mesh_control_plane.my_meshcontrolplane.id}_${var.zone_name}"
  description     = "Terraform generated system account for authentication zone ${var.zone_name} in ${konnect_mesh_control_plane.my_meshcontrolplane.id} control plane."
  konnect_managed = false
}

resource "konnect_system_account_role" "zone_system_account_role" {
  depends_on = [konnect_system_account.zone_system_account]
  account_id       = konnect_system_account.zone_system_account.id
  entity_id        = konnect_mesh_control_plane.my_meshcontrolplane.id
  entity_region    = var.region
  entity_type_name = "Mesh Control Planes"
  role_name        = "Connector"
}

# Rotates the zone token every minute; the token expires 15 minutes after
# each rotation, so it is always replaced before it expires.
resource "time_rotating" "rotate" {
  rotation_minutes = 1
}

resource "konnect_system_account_access_token" "zone_system_account_token" {
  depends_on = [konnect_system_account.zone_system_account, time_rotating.rotate]
  account_id = konnect_system_account.zone_system_account.id
  expires_at = timeadd(time_rotating.rotate.rotation_rfc3339, "15m")
  name       = konnect_system_account.zone_system_account.name
}

resource "kubernetes_namespace" "kong_mesh_system" {
  metadata {
    name = "kong-mesh-system"
    labels = {
      "kuma.io/system-namespace" = "true"
    }
  }
}

resource "kubernetes_secret" "mesh_cp_token" {
  metadata {
    name = "cp-token"
    namespace = kubernetes_namespace.kong_mesh_system.metadata.0.name
  }

  data = {
    token = konnect_system_account_access_token.zone_system_account_token.token
  }

  type = "opaque"

  depends_on = [kubernetes_namespace.kong_mesh_system]
}

variable "zone_name" {
  type        = string
  description = "The name of the cluster."
  default     = "zone1"
}

resource "helm_release" "kong_mesh" {
  name       = "kong-mesh"
  repository = "https://kong.github.io/kong-mesh-charts"
  chart      = "kong-mesh"
  version    = "2.9.3"

  namespace = kubernetes_namespace.kong_mesh_system.metadata.0.name
  upgrade_install = true

  values = [templatefile("values.tftpl", {
    zone_name = var.zone_name,
    region    = var.region,
    cp_id     = konnect_mesh_control_plane.my_meshcontrolplane.id
  })]

  depends_on = [konnect_mesh_control_plane.my_meshcontrolplane, kubernetes_secret.mesh_cp_token]
}
