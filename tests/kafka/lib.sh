# Sourced by the kafka tests: CLUSTER (fixture dir), BOOTSTRAP, BIN (build/bin), ROOT, WORK (removed on exit),
# and helpers. Skips (77) when the fixture skipped; in CI that is a failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="$1" BIN="$2"
if [ ! -f "$CLUSTER/bootstrap" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL: no Kafka cluster in $CLUSTER (fixture failed)" >&2; exit 1; fi
  echo "SKIPPED: no Apache Kafka cluster (no Java or jars): run scripts/setup to enable the kafka tests"
  exit 77
fi
BOOTSTRAP="$(cat "$CLUSTER/bootstrap")"
# `inbeeld run` and the services read the repository's tables (default /etc/inbeeld).
export INBEELD_CONFIG_DIR="${INBEELD_CONFIG_DIR:-$ROOT/deploy/config}"
KCAT="$(command -v kcat || command -v kafkacat)"
WORK="$(mktemp -d /tmp/inbeeld-kafka-test-XXXXXX)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# fail_with_logs MESSAGE: fail, after the last lines of every log in WORK (it is removed on exit).
fail_with_logs() {
  local f
  for f in "$WORK"/*.log "$WORK"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
  echo "FAIL: $*" >&2
  exit 1
}

# partitions TOPIC: the topic's partition count from the cluster's metadata.
partitions() { "$KCAT" -b "$BOOTSTRAP" -L -t "$1" -m 10 | sed -n 's/.* with \([0-9]*\) partitions:/\1/p'; }
