#!/bin/sh
# Copies the routing tables from deploy/config into the kustomize base
# (kustomize cannot load files outside deploy/k8s). --check: only compare.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
status=0
for f in organisaties.csv herindelingen.csv; do
  src="$here/../config/$f"
  dst="$here/routing-tabel/$f"
  if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "deploy/k8s/routing-tabel/$f differs from deploy/config/$f: run deploy/k8s/sync-routing-tabel.sh" >&2
      status=1
    fi
  else
    cp "$src" "$dst"
  fi
done
exit $status
