#!/usr/bin/env bash
# Writes a Prometheus config for a local `inbeeld run` (scripts/run): the
# services listen on random 127.0.0.1 ports, which `inbeeld run --ready-file=F`
# writes to F as {"ingest_metrics":"127.0.0.1:40124", ...}.
#   build/bin/inbeeld run --ready-file=/tmp/inbeeld.ready &
#   deploy/prometheus/local-config.sh /tmp/inbeeld.ready > /tmp/prometheus-local.yml
#   prometheus --config.file=/tmp/prometheus-local.yml --storage.tsdb.path=/tmp/prom-data
# Job names and alert rules are the same as in the compose stack.
set -euo pipefail
ready="${1:?usage: local-config.sh READY_FILE}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cat <<YAML
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $here/alerts.yml
scrape_configs:
YAML
for svc in ingest signaling routing delivery; do
  addr="$(jq -r --arg k "${svc}_metrics" '.[$k] // empty' "$ready")"
  [ -n "$addr" ] || { echo "local-config: no ${svc}_metrics in $ready (service not running?)" >&2; continue; }
  printf '  - job_name: %s\n    static_configs:\n      - targets: ["%s"]\n' "$svc" "$addr"
done
