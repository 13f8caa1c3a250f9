#!/usr/bin/env bash
# Broker failover under load: while meldingen stream into ingest (acks=all, min.insync.replicas=2), the leader of
# partition 0 of inbeeld.verzuimmeldingen.v1 is killed with SIGKILL and later restarted. Every melding that ingest
# acknowledged becomes a routed signal; no service restarts (inbeeld run stops when one dies).
source "$(dirname "$0")/lib.sh"
TESTS_BIN="$3"
TOPIC=inbeeld.verzuimmeldingen.v1

"$BIN/inbeeld" run --kafka="$BOOTSTRAP" --demo=false --plaintext --ready-file="$WORK/ready" \
  --state-dir="$WORK/state" --service-log-level=warn >"$WORK/run.out" 2>"$WORK/run.err" &
RUN_PID=$!
PIDS+=("$RUN_PID")
for _ in $(seq 1 240); do [ -s "$WORK/ready" ] && break; kill -0 "$RUN_PID" || break; sleep 0.5; done
[ -s "$WORK/ready" ] || { cat "$WORK/run.err"; fail "inbeeld run --kafka not ready"; }
INGEST="$(jq -r .ingest_grpc "$WORK/ready")"

run_id="fo$$x$RANDOM"
ROUNDS=8 PER_ROUND=50
(
  for r in $(seq 0 $((ROUNDS - 1))); do
    "$TESTS_BIN/ops-send-events" --address="$INGEST" --count=$PER_ROUND --first=$((5000 + r * PER_ROUND)) \
      --prefix="$run_id" || true
  done
) >"$WORK/send.out" 2>"$WORK/send.err" &
SENDER=$!
PIDS+=("$SENDER")

# Kill the leader once the stream is flowing.
while [ "$(grep -c '^accepted' "$WORK/send.out" 2>/dev/null || true)" -lt 2 ]; do
  kill -0 "$SENDER" || break
  sleep 0.2
done
leader="$("$ROOT/scripts/kafka-cluster" leader "$CLUSTER" "$TOPIC" 0)"
echo "killing node $leader, leader of $TOPIC/0, under load"
"$ROOT/scripts/kafka-cluster" kill-broker "$CLUSTER" "$leader"
sleep 8
"$ROOT/scripts/kafka-cluster" start-broker "$CLUSTER" "$leader"
wait "$SENDER" || true

accepted="$(awk '/^accepted/ {s += $2} END {print s + 0}' "$WORK/send.out")"
echo "ingest acknowledged $accepted of $((ROUNDS * PER_ROUND)) meldingen; refusals: $(sort "$WORK/send.err" | uniq -c | head -5)"
[ "$accepted" -gt 0 ] || fail "ingest acknowledged nothing"
if grep -v "ops-send-events: 14 " "$WORK/send.err" | grep -q .; then
  fail "a refusal other than UNAVAILABLE (14): $(head -3 "$WORK/send.err")"
fi

# Every acknowledged melding is signalled and routed: count distinct melding ids of this run in aflevering.
delivered() {
  "$KCAT" -C -b "$BOOTSTRAP" -t inbeeld.aflevering.v1 -o beginning -e -q -f '%s\n' 2>/dev/null |
    grep -a -o "$run_id-[0-9]*" | sort -u | wc -l
}
deadline=$((SECONDS + 120))
while [ "$(delivered)" -lt "$accepted" ]; do
  [ $SECONDS -lt $deadline ] || { tail -20 "$WORK/run.err"; fail "only $(delivered) of $accepted acknowledged meldingen routed"; }
  kill -0 "$RUN_PID" || { tail -20 "$WORK/run.err"; fail "a service died after the broker failure"; }
  sleep 1
done
kill -0 "$RUN_PID" || fail "inbeeld run stopped"
echo "all $accepted acknowledged meldingen were routed as signals ($(delivered) distinct); no service restarted"
echo "1 passed, 0 failed"
