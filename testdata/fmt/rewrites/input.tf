variable "old_string" {
  type = "string"
}

variable "old_list" {
  type    = "list"
  default = []
}

variable "old_map" {
  type = "map"
}

variable "bare" {
  type = set
}

variable "modern" {
  type = list(object({ name = string, port = optional(number, 80) }))
}

resource aws_thing unquoted {
  name = "${var.old_string}"
  ref  = "${var.old_list[0]}"
  call = "${join(",", var.old_list)}"
  both = "${var.a}${var.b}"
  text = "prefix-${var.a}"
  nested = "${format("%s", "${var.a}")}"
  multi = "${
    var.a ?
    "yes" : "no"
  }"
  paren = "${
    (var.a)
  }"

  inner {
    type = "string"
    name = "${var.a}"
  }
}

data "d" "e" /* kept */ {
  x = "${local.x}"
}

module "m" {
  source = "./m"
  list = ["${var.a}"]
  obj  = { v = "${var.a}" }
}
