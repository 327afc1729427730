#!/usr/bin/env python3
"""Evaluates expression cases with a real `terraform` binary and writes them
as conformance vectors (the format of shared/conformance/tf1.11/expressions.jsonl).

    scripts/tf-expression-vectors.py CASES.jsonl OUT.jsonl [--terraform PATH]

Each line of CASES holds `id`, `category`, `expr` and optionally `vars`,
`var_types`, `files`. Each case runs alone in a fresh directory, offline
(no providers), as the reference set was made:

    variable "NAME" { type = VAR_TYPE }   # one per var; `{}` without a type
    output "o1" { value = EXPR }          # `sensitive = true` added when
                                           # Terraform demands it

`terraform plan -json -out=plan` gives the diagnostics (an error vector
keeps the first error's summary and detail); `terraform show -json plan`
says whether the output is unknown during plan (`"unknown": true`); then
`terraform apply plan` and `terraform output -json` give the value, its
type and the sensitive mark. A null output is not stored, so its `type`
is null, as in the reference set.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run(tf, cwd, *args):
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    return subprocess.run(
        [tf, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def first_error(plan_stdout):
    """The first error diagnostic of `terraform plan -json` output."""
    for line in plan_stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        diag = msg.get("diagnostic")
        if msg.get("type") == "diagnostic" and diag and diag.get("severity") == "error":
            return diag
    return None


def write_module(d, case, sensitive):
    blocks = []
    for name in case.get("vars", {}):
        ty = case.get("var_types", {}).get(name)
        blocks.append(f'variable "{name}" {{\n  type = {ty}\n}}\n' if ty else f'variable "{name}" {{}}\n')
    sens = "  sensitive = true\n" if sensitive else ""
    blocks.append(f'output "o1" {{\n  value = {case["expr"]}\n{sens}}}\n')
    with open(os.path.join(d, "main.tf"), "w") as f:
        f.write("\n".join(blocks))
    if case.get("vars"):
        with open(os.path.join(d, "terraform.tfvars.json"), "w") as f:
            json.dump(case["vars"], f)
    for rel, content in case.get("files", {}).items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path) or d, exist_ok=True)
        with open(path, "w") as f:
            f.write(content)


def evaluate(tf, version, case):
    out = {k: case[k] for k in ("id", "category", "expr") if k in case}
    for k in ("vars", "var_types", "files"):
        if k in case:
            out[k] = case[k]
    for sensitive in (False, True):
        d = tempfile.mkdtemp(prefix="tf-vector-")
        try:
            write_module(d, case, sensitive)
            plan = run(tf, d, "plan", "-json", "-input=false", "-out=plan")
            diag = first_error(plan.stdout)
            if diag and diag["summary"] == "Output refers to sensitive values" and not sensitive:
                continue
            if diag or plan.returncode != 0:
                out["error"] = True
                out["error_summary"] = diag["summary"] if diag else "plan failed"
                out["error_detail"] = diag.get("detail", "") if diag else plan.stderr.strip()
                break
            shown = json.loads(run(tf, d, "show", "-json", "plan").stdout)
            change = shown.get("output_changes", {}).get("o1", {})
            unknown = change.get("after_unknown") is True
            applied = run(tf, d, "apply", "-input=false", "-no-color", "plan")
            if applied.returncode != 0:
                out["error"] = True
                out["error_summary"] = "apply failed"
                out["error_detail"] = applied.stderr.strip()
                break
            outputs = json.loads(run(tf, d, "output", "-json").stdout or "{}")
            o1 = outputs.get("o1")
            out["result"] = o1["value"] if o1 else None
            out["type"] = o1["type"] if o1 else None
            if sensitive:
                out["sensitive"] = True
            if unknown:
                out["unknown"] = True
            break
        finally:
            shutil.rmtree(d, ignore_errors=True)
    out["terraform"] = version
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases")
    ap.add_argument("out")
    ap.add_argument("--terraform", default=shutil.which("terraform") or "terraform")
    args = ap.parse_args()
    version = run(args.terraform, ".", "version").stdout.splitlines()[0].strip()
    with open(args.cases) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    with open(args.out, "w") as f:
        for i, case in enumerate(cases, 1):
            vector = evaluate(args.terraform, version, case)
            f.write(json.dumps(vector, ensure_ascii=False) + "\n")
            f.flush()
            print(f"[{i}/{len(cases)}] {case['id']}", file=sys.stderr)


if __name__ == "__main__":
    main()
