# The guide's provider setup, pointed at a local Konnect server: the test
# sets TF_VAR_konnect_server_url to the sandbox and
# TF_VAR_konnect_personal_access_token to a token the sandbox accepts.
terraform {
  required_providers {
    konnect = {
      source  = "kong/konnect"
      version = "2.4.1"
    }
    konnect-beta = {
      source  = "kong/konnect-beta"
      version = "0.1.0"
    }
  }
}

variable "konnect_personal_access_token" {
  type = string
}

variable "konnect_server_url" {
  type = string
}

provider "konnect" {
  personal_access_token = var.konnect_personal_access_token
  server_url            = var.konnect_server_url
}

provider "konnect-beta" {
  personal_access_token = var.konnect_personal_access_token
  server_url            = var.konnect_server_url
}
