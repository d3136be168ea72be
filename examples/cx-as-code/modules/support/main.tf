variable "module_name" {
  type = string
}
variable "queue_name" {
  type = string
}

data "genesyscloud_auth_division" "home" {
  name = "Home"
}

resource "genesyscloud_flow" "routing" {
  filepath = "${path.module}/flows/routing-module.yaml"
  substitutions = {
    flow_name     = var.module_name
    queue         = var.queue_name
    in_queue_flow = "Support Waiting"
  }
  depends_on = [genesyscloud_flow.waiting]
}

resource "genesyscloud_flow" "waiting" {
  filepath = "${path.module}/flows/waiting.yaml"
  substitutions = {
    flow_name = "Support Waiting"
  }
}

resource "genesyscloud_flow" "inbound" {
  filepath = "${path.module}/flows/inbound.yaml"
  substitutions = {
    flow_name   = "Support Line"
    module_name = var.module_name
  }
  depends_on = [genesyscloud_flow.routing]
}
