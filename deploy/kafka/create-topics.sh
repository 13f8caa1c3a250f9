#!/bin/sh
# Creates InBeeld's Kafka topics (idempotent: --if-not-exists). Run once per
# cluster: by the kafka-init service in deploy/docker-compose.yml, or by hand:
#   BOOTSTRAP=broker:9092 REPLICATION_FACTOR=3 deploy/kafka/create-topics.sh
# POSIX sh on purpose: the apache/kafka image is minimal.
#
# Partition counts are fixed at creation: signaling keys its state by
# pseudonym per partition, so the four event topics, inbeeld.signalen.v1 and
# the changelog MUST keep the same count (topics.h). Raising it later means a
# re-partitioning migration, not a config change.
# Every DLQ gets its source topic's partition count: signaling writes a poison
# record to the same partition number of <topic>.dlq, so a smaller DLQ would
# make that write fail and stop the partition for good.
# A topic that already exists with another partition count is an error (exit 1).
set -eu

BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
PARTITIONS="${PARTITIONS:-6}"
AFLEVERING_PARTITIONS="${AFLEVERING_PARTITIONS:-6}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
KAFKA_TOPICS="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"
WAIT_SECONDS="${WAIT_SECONDS:-60}"
# Retention of the event topics: unset = broker default. Events carry personal
# data: set it from the retention policy (AVG), not from convenience.
EVENT_RETENTION_MS="${EVENT_RETENTION_MS:-}"
# DLQ records wait for a human: keep them 30 days by default.
DLQ_RETENTION_MS="${DLQ_RETENTION_MS:-2592000000}"

EVENT_TOPICS="inbeeld.verzuimmeldingen.v1 inbeeld.inschrijvingsmutaties.v1 inbeeld.adresmutaties.v1 inbeeld.vrijstellingen.v1"

log() { echo "create-topics: $*" >&2; }

# The broker may still be starting (compose starts us once it is healthy, but
# a cluster may still elect a controller): retry the cheapest admin call.
waited=0
until "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    log "broker $BOOTSTRAP not reachable after ${WAIT_SECONDS}s"
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done

# create TOPIC PARTITIONS [--config k=v ...]
create() {
  topic="$1"
  partitions="$2"
  shift 2
  log "$topic (partitions=$partitions rf=$REPLICATION_FACTOR $*)"
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" \
    --replication-factor "$REPLICATION_FACTOR" "$@"
}

# "topic partitions" lines, for the DLQs and the final check.
EXPECTED=""
for t in $EVENT_TOPICS; do
  if [ -n "$EVENT_RETENTION_MS" ]; then
    create "$t" "$PARTITIONS" --config "retention.ms=$EVENT_RETENTION_MS"
  else
    create "$t" "$PARTITIONS"
  fi
  EXPECTED="$EXPECTED $t:$PARTITIONS"
done

create inbeeld.signalen.v1 "$PARTITIONS"
# Compacted: the latest JongereState per pseudonym is all a restore needs.
create inbeeld.signaling.changelog.v1 "$PARTITIONS" --config cleanup.policy=compact
create inbeeld.aflevering.v1 "$AFLEVERING_PARTITIONS"
# Compacted: the organisation table, one record per gemeente; one partition
# keeps the table in order.
create inbeeld.organisaties.v1 1 --config cleanup.policy=compact
EXPECTED="$EXPECTED inbeeld.signalen.v1:$PARTITIONS inbeeld.signaling.changelog.v1:$PARTITIONS"
EXPECTED="$EXPECTED inbeeld.aflevering.v1:$AFLEVERING_PARTITIONS inbeeld.organisaties.v1:1"

for tp in $EXPECTED; do
  create "${tp%%:*}.dlq" "${tp##*:}" --config "retention.ms=$DLQ_RETENTION_MS"
  EXPECTED="$EXPECTED ${tp%%:*}.dlq:${tp##*:}"
done

# --if-not-exists keeps an existing topic as it is: refuse one whose partition
# count differs from what InBeeld needs (as `inbeeld run --kafka` does).
described="$("$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --describe)"
status=0
for tp in $EXPECTED; do
  have="$(printf '%s\n' "$described" |
    sed -n "s/^Topic: ${tp%%:*}[[:space:]].*PartitionCount: \([0-9]*\).*/\1/p")"
  if [ "$have" != "${tp##*:}" ]; then
    log "topic ${tp%%:*} has ${have:-no} partitions, InBeeld needs ${tp##*:}"
    status=1
  fi
done
[ "$status" -eq 0 ] || exit 1
log "done"
