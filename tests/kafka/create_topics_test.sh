#!/usr/bin/env bash
# deploy/kafka/create-topics.sh against the real cluster: every topic with its partition count, every DLQ with
# its source's; then `inbeeld run --kafka` with another partition count refuses and starts nothing.
source "$(dirname "$0")/lib.sh"

BOOTSTRAP="$BOOTSTRAP" REPLICATION_FACTOR=3 PARTITIONS=6 AFLEVERING_PARTITIONS=6 \
  KAFKA_TOPICS="$CLUSTER/bin/kafka-topics.sh" sh "$ROOT/deploy/kafka/create-topics.sh" >"$WORK/create.log" 2>&1 ||
  { cat "$WORK/create.log"; fail "create-topics.sh failed"; }

for t in verzuimmeldingen inschrijvingsmutaties adresmutaties vrijstellingen signalen signaling.changelog aflevering; do
  for topic in "inbeeld.$t.v1" "inbeeld.$t.v1.dlq"; do
    [ "$(partitions "$topic")" = 6 ] || fail "$topic has $(partitions "$topic") partitions, want 6"
  done
done
[ "$(partitions inbeeld.organisaties.v1)" = 1 ] || fail "inbeeld.organisaties.v1 should have 1 partition"
[ "$(partitions inbeeld.organisaties.v1.dlq)" = 1 ] || fail "inbeeld.organisaties.v1.dlq should have 1 partition"
"$KCAT" -b "$BOOTSTRAP" -L -t inbeeld.signalen.v1 | grep -q "replicas: [0-9]*,[0-9]*,[0-9]*," ||
  fail "inbeeld.signalen.v1 is not replicated 3 times"
echo "create-topics.sh: 16 topics, DLQs with their source's partition count"

# The Admin API path refuses other partition counts before it starts any service.
set +e
"$BIN/inbeeld" run --kafka="$BOOTSTRAP" --partitions=3 --demo=false --plaintext \
  --ready-file="$WORK/ready" >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$WORK/run.err"; fail "inbeeld run with 3 partitions exited $rc, want 1"; }
grep -q "exists with 6 partitions, InBeeld needs 3" "$WORK/run.err" || { cat "$WORK/run.err"; fail "no clear refusal"; }
[ ! -e "$WORK/ready" ] || fail "inbeeld run wrote a ready file although it refused"
echo "inbeeld run --kafka --partitions=3: $(cat "$WORK/run.err")"
echo "1 passed, 0 failed"
