#!/bin/sh
# Copies the files the services read (deploy/config) into the kustomize base
# (deploy/k8s/config; kustomize cannot load files outside deploy/k8s).
# --check: only compare.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
status=0
for f in bronnen.csv organisaties.csv herindelingen.csv; do
  src="$here/../config/$f"
  dst="$here/config/$f"
  if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "deploy/k8s/config/$f differs from deploy/config/$f: run deploy/k8s/sync-config.sh" >&2
      status=1
    fi
  else
    cp "$src" "$dst"
  fi
done
exit $status
