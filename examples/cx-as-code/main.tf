# A CX-as-Code configuration as teams write them: a root module calling a module of flows.
variable "TF_ENV" {
  type = string
}

module "support" {
  source      = "./modules/support"
  module_name = "Support Routing ${var.TF_ENV}"
  queue_name  = "General Support"
}
