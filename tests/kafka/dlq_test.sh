#!/usr/bin/env bash
# #15: poison records written straight to every partition of every input topic of signaling (the four event
# topics) and routing (inbeeld.signalen.v1) reach <topic>.dlq with the error headers, and the pipeline goes on.
# Signaling writes a poison record to the same partition number of the DLQ; routing lets the partitioner
# choose by key (any partition): both need DLQs with the source's partition count (create-topics.sh, Admin API).
source "$(dirname "$0")/lib.sh"
TESTS_BIN="$3"

"$BIN/inbeeld" run --kafka="$BOOTSTRAP" --demo=false --plaintext --ready-file="$WORK/ready" \
  --state-dir="$WORK/state" --service-log-level=warn >"$WORK/run.out" 2>"$WORK/run.err" &
RUN_PID=$!
PIDS+=("$RUN_PID")
for _ in $(seq 1 240); do [ -s "$WORK/ready" ] && break; kill -0 "$RUN_PID" || break; sleep 0.5; done
[ -s "$WORK/ready" ] || { cat "$WORK/run.err"; fail "inbeeld run --kafka not ready"; }
INGEST="$(jq -r .ingest_grpc "$WORK/ready")"

SIGNALING_INPUTS="inbeeld.verzuimmeldingen.v1 inbeeld.inschrijvingsmutaties.v1 inbeeld.adresmutaties.v1 inbeeld.vrijstellingen.v1"
ROUTING_INPUTS="inbeeld.signalen.v1"
run_id="$$-$RANDOM"
expected=0
for topic in $SIGNALING_INPUTS $ROUTING_INPUTS; do
  n="$(partitions "$topic")"
  [ -n "$n" ] || fail "no topic $topic"
  for p in $(seq 0 $((n - 1))); do
    printf 'not a protobuf %s\n' "$p" | "$KCAT" -P -b "$BOOTSTRAP" -t "$topic" -p "$p" -k "poison-$run_id-$p" -X acks=all
    expected=$((expected + 1))
  done
done
echo "wrote $expected poison records"

# dlq_lines TOPIC: "partition|key|headers" of this run's poison records in TOPIC.dlq.
dlq_lines() {
  "$KCAT" -C -b "$BOOTSTRAP" -t "$1.dlq" -o beginning -e -q -f '%p|%k|%h\n' 2>/dev/null | grep "|poison-$run_id-" || true
}
deadline=$((SECONDS + 120))
for topic in $SIGNALING_INPUTS $ROUTING_INPUTS; do
  n="$(partitions "$topic")"
  while [ "$(dlq_lines "$topic" | wc -l)" -lt "$n" ]; do
    [ $SECONDS -lt $deadline ] || { cat "$WORK/run.err"; fail "$topic.dlq has $(dlq_lines "$topic" | wc -l) of $n"; }
    kill -0 "$RUN_PID" || { cat "$WORK/run.err"; fail "inbeeld run stopped (a service died)"; }
    sleep 1
  done
  lines="$(dlq_lines "$topic")"
  [ "$(echo "$lines" | wc -l)" = "$n" ] || fail "$topic.dlq: $(echo "$lines" | wc -l) records, want $n (once each)"
  for p in $(seq 0 $((n - 1))); do
    line="$(echo "$lines" | grep "|poison-$run_id-$p|")" || fail "$topic partition $p: poison not in DLQ"
    echo "$line" | grep -q "inbeeld_dlq_topic=$topic" || fail "$topic/$p: no inbeeld_dlq_topic header: $line"
    echo "$line" | grep -q "inbeeld_dlq_partition=$p\(,\|$\)" || fail "$topic/$p: no inbeeld_dlq_partition: $line"
    echo "$line" | grep -q "inbeeld_dlq_offset=[0-9]" || fail "$topic/$p: no inbeeld_dlq_offset header: $line"
    echo "$line" | grep -q "inbeeld_dlq_error=." || fail "$topic/$p: no inbeeld_dlq_error header: $line"
    if [[ " $SIGNALING_INPUTS " == *" $topic "* ]]; then
      [ "${line%%|*}" = "$p" ] || fail "$topic/$p: signaling wrote it to DLQ partition ${line%%|*}"
    fi
  done
  echo "$topic.dlq: $n poison records, one per source partition, with error headers"
done

# Processing goes on: new meldingen after the poison become routed signals, no service restarted.
"$TESTS_BIN/ops-send-events" --address="$INGEST" --count=12 --first=4200 --prefix="dlq-$run_id" >/dev/null ||
  fail "ingest did not accept the meldingen after the poison"
while [ "$("$KCAT" -C -b "$BOOTSTRAP" -t inbeeld.aflevering.v1 -o beginning -e -q -f '%s\n' 2>/dev/null |
          grep -a -c "dlq-$run_id-" || true)" -lt 12 ]; do
  [ $SECONDS -lt $((deadline + 60)) ] || { cat "$WORK/run.err"; fail "signals after the poison did not arrive"; }
  sleep 1
done
kill -0 "$RUN_PID" || fail "inbeeld run stopped"
echo "12 meldingen after the poison were signalled and routed; all services still run"
echo "1 passed, 0 failed"
