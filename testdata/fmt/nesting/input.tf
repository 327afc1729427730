terraform {
required_providers {
konnect = {
source  = "kong/konnect"
version = "~> 2.4"
}
}
}

resource "kubernetes_namespace" "ns" {
  metadata { name = "kong" }
  lifecycle { ignore_changes = [metadata[0].labels] }
}

resource "helm_release" "dp" {
  name = "dp"
  dynamic "set" {
    for_each = var.values
    content {
        name = set.key
          value = set.value
    }
  }
  values = [yamlencode({
    image = {
      repository = "kong/kong-gateway"
    }
  }), file("values.yaml")]
  depends_on = [
    kubernetes_namespace.ns,
  ]
}

resource "x" "y" {}
resource "x" "z" { }
