#!/usr/bin/env bash
# Exactly-once on Apache Kafka: --exactly-once=idempotent (default) against --exactly-once=transactions, same
# workload, same run, on a 3-broker cluster (issue #10 item 5; figures in docs/PERFORMANCE.md "On Apache Kafka").
#   bench/kafka/exactly_once.sh [CLUSTER_DIR]     (default: a cluster of its own, started and stopped here)
# Env: JONGEREN (throughput population, 5000), KILLS (kill -9 per repeats run, 6), KILL_JONGEREN (600),
#      KILL_SECONDS (events spread over, 20), BUILD (build).
# Per mode, each run on freshly recreated topics (so routing, which starts from offset 0, reads only this run):
#   throughput  every event produced first (JONGEREN school years), then signaling + routing start: the time until
#               signaling consumed them all (events/s) and until routing routed every signal;
#   repeats     signaling (then routing) killed with SIGKILL KILLS times while events stream in, restarted each
#               time: records, distinct signaal_ids and repeats seen by read_committed and read_uncommitted readers.
# Driver: tests/kafka/txn_test.sh (its TXN_* variables). Figures only: the runs' own assertions are not the point.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
JONGEREN="${JONGEREN:-5000}" KILLS="${KILLS:-6}" KILL_JONGEREN="${KILL_JONGEREN:-600}" KILL_SECONDS="${KILL_SECONDS:-20}"
CLUSTER="${1:-}"
OWN=""
if [ -z "$CLUSTER" ]; then
  CLUSTER="$(mktemp -d /tmp/inbeeld-eos-bench-XXXXXX)"
  OWN=1
  "$ROOT/scripts/kafka-cluster" start "$CLUSTER/c" >/dev/null || exit 1
  CLUSTER="$CLUSTER/c"
  trap '"$ROOT/scripts/kafka-cluster" stop "$CLUSTER" >/dev/null 2>&1; rm -rf "$(dirname "$CLUSTER")"' EXIT
fi
BOOTSTRAP="$(cat "$CLUSTER/bootstrap")"
reset_topics() {
  "$CLUSTER/bin/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --delete --topic 'inbeeld\..*' >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    "$CLUSTER/bin/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --list 2>/dev/null | grep -q '^inbeeld\.' || break
    sleep 1
  done
  BOOTSTRAP="$BOOTSTRAP" REPLICATION_FACTOR=3 PARTITIONS=6 KAFKA_TOPICS="$CLUSTER/bin/kafka-topics.sh" \
    sh "$ROOT/deploy/kafka/create-topics.sh" >/dev/null 2>&1 || { echo "create-topics failed" >&2; exit 1; }
}
run() {  # run LABEL ENV...: one txn_test.sh run on fresh topics, its figure lines
  local label="$1"
  shift
  reset_topics
  echo "== $label"
  env "$@" bash "$ROOT/tests/kafka/txn_test.sh" "$CLUSTER" "$BUILD/bin" "$BUILD/tests" 2>&1 |
    grep -a -E 'throughput|kill -9|read_committed|read_uncommitted|mode ' || true
}
echo "exactly-once bench: $(nproc) cores, Apache Kafka 3 brokers at $BOOTSTRAP; $(date -u +%FT%TZ)"
for mode in idempotent transactions; do
  run "throughput, $mode, $JONGEREN jongeren" TXN_MODE=$mode TXN_BACKLOG=1 TXN_ROUTING=1 TXN_JONGEREN="$JONGEREN"
done
for mode in idempotent transactions; do
  for victim in signaling routing; do
    run "repeats, $mode, kill -9 $victim x$KILLS" TXN_MODE=$mode TXN_KILL=$victim TXN_KILL_ALL=1 \
      TXN_MAX_KILLS="$KILLS" TXN_JONGEREN="$KILL_JONGEREN" TXN_SECONDS="$KILL_SECONDS"
  done
done
