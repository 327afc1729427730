locals {
  arith    = 1 + 2 * 3 - (4 / 5) % 6
  neg      = -1
  negexpr  = 2 * -var.x
  minus    = var.a-1
  cmp      = var.a >= 1 && var.b != 2 || !var.c
  cond     = var.a ? "a" : "b"
  call     = max(1, 2, 3)
  ns       = provider::kong::helper("x")
  core     = core::upper("a")
  expand   = concat(var.lists...)
  index    = var.list[0]["k"]
  splat    = var.list[*].id
  legacy   = var.list.*.id
  forlist  = [for x in var.list : upper(x) if x != ""]
  formap   = { for k, v in var.map : k => v... }
  fortup   = [for x in [1, 2] : x]
  empty    = {}
  emptyl   = []
  obj      = { a = 1, "b" = 2, (var.k) = 3 }
  tpl      = "a ${var.x} b %{if var.y}y%{else}n%{endif} ${~var.z~} c"
  esc      = "$${not} %%{not} \"q\" \\ \n"
  strip    = "%{for v in var.l~}${v},%{endfor~}"
  num      = 1.5e3
  nested   = [[1, 2], [3, [4, 5]]]
  heredoc  = <<EOT
  Line ${var.one}
    %{if var.two}two%{endif}
EOT
  indented = <<-EOT
      keep
        this ${var.x}
      EOT
  after    = "after heredocs"
}

output "o" {
  value     = { for i, s in var.l : s => i if i > 0 }
  sensitive = true
}
