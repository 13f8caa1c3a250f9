#!/usr/bin/env bash
# ctest fixture of the `kafka` tests: one 3-node Apache Kafka cluster for all of them.
#   cluster_fixture.sh start DIR [--tls] | stop DIR
# --tls: a development CA in DIR/certs (scripts/gen-certs) and a cluster with mutual TLS (kafka-cluster --tls).
# Without Java or the Kafka jars it skips (exit 0, no DIR/bootstrap: every kafka test then skips), except in CI
# (CI=true), where a broker that cannot start is a failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cmd="$1" dir="$2" tls="${3:-}"
case "$cmd" in
  start)
    "$ROOT/scripts/kafka-cluster" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
    extra=()
    if [ "$tls" = "--tls" ]; then
      mkdir -p "$dir/certs"
      "$ROOT/scripts/gen-certs" "$dir/certs" inbeeld-kafka:00000009999999990099 >/dev/null
      extra=(--tls="$dir/certs")
    fi
    if ! out="$("$ROOT/scripts/kafka-cluster" start "$dir" --brokers=3 "${extra[@]}" 2>&1)"; then
      echo "$out"
      if [ "${CI:-}" = "true" ] || ! echo "$out" | grep -q "run scripts/setup"; then
        echo "kafka fixture: the Apache Kafka cluster did not start" >&2
        exit 1
      fi
      rm -rf "$dir"
      echo "kafka fixture: SKIPPED, no Java or Kafka jars; run scripts/setup to enable the kafka tests"
      exit 0
    fi
    echo "$out"
    ;;
  stop)
    # The data is thrown away: no need to wait long for controlled shutdowns.
    KAFKA_STOP_GRACE=5 "$ROOT/scripts/kafka-cluster" stop "$dir" || true
    rm -rf "$dir"
    ;;
  *) echo "usage: cluster_fixture.sh start|stop DIR" >&2; exit 2 ;;
esac
