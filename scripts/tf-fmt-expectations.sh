#!/usr/bin/env bash
# Regenerates the committed `terraform fmt` expectations under testdata/fmt/
# with the real terraform binary (v1.11.4), offline:
#
#   scripts/tf-fmt-expectations.sh [TERRAFORM]
#
# For each testdata/fmt/CASE/input.tf, CASE/expected.tf is what
# `terraform fmt` writes for it; check-diff.stdout is the standard output of
# `terraform fmt -check -diff -recursive -no-color .` run in a copy of
# testdata/fmt holding only the inputs (exit status 3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TF=${1:-terraform}
export CHECKPOINT_DISABLE=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
touch "$WORK/terraformrc"
export TF_CLI_CONFIG_FILE="$WORK/terraformrc"
"$TF" version | head -n1 | grep -q '^Terraform v1.11.4$' || {
  echo "need terraform v1.11.4, got: $("$TF" version | head -n1)" >&2
  exit 1
}

mkdir -p "$WORK/inputs"
for input in "$ROOT"/testdata/fmt/*/input.tf; do
  case_dir=$(dirname "$input")
  name=$(basename "$case_dir")
  mkdir -p "$WORK/one/$name" "$WORK/inputs/$name"
  cp "$input" "$WORK/one/$name/main.tf"
  (cd "$WORK/one/$name" && "$TF" fmt -no-color main.tf >/dev/null)
  cp "$WORK/one/$name/main.tf" "$case_dir/expected.tf"
  cp "$input" "$WORK/inputs/$name/input.tf"
done

status=0
(cd "$WORK/inputs" && "$TF" fmt -check -diff -recursive -no-color .) \
  >"$ROOT/testdata/fmt/check-diff.stdout" || status=$?
if [ "$status" -ne 3 ]; then
  echo "expected exit status 3 from -check, got $status" >&2
  exit 1
fi
echo "regenerated testdata/fmt with $("$TF" version | head -n1)"
