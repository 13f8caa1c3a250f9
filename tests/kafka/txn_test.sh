#!/usr/bin/env bash
# --exactly-once=transactions on the 3-broker cluster (issue #10 item 5). Signaling writes each batch (signals and
# changelog) in one Kafka transaction. While a school year of events streams in, the instance is killed with
# SIGKILL until a kill lands inside a transaction (the test keeps each one open 300 ms before its commit,
# INBEELD_TEST_HOLD_TRANSACTION; without it a transaction lasts milliseconds): then, with the instance dead, a
# read_uncommitted reader sees changelog records (and signals, if the batch had any) that a read_committed reader
# does not (the open transaction's records). The restart (same
# transactional.id) fences the dead producer and aborts them, and replays the batch. In the end:
#   - read_committed (what routing and the changelog restore read): every signaal_id of `inbeeld replay` once,
#     no repeats at all;
#   - read_uncommitted: the aborted batches' records too, i.e. repeats.
# Without transactions both readers see the same records (the test fails: no difference after a kill), and a kill
# between the outputs' acknowledgement and the store commit shows as repeats to read_committed readers as well.
# For bench/kafka/exactly_once.sh (figures, no assertions beyond "equals the replay"): TXN_MODE=idempotent runs the
# same scenario without transactions; TXN_KILL_ALL=1 goes on killing up to TXN_MAX_KILLS; TXN_ROUTING=1 runs
# inbeeld-routing too (same mode) and TXN_KILL=routing kills it instead of signaling (repeats then counted on
# inbeeld.aflevering.v1); TXN_BACKLOG=1 produces every event before the services start and reports how long they
# take to consume them (no kills).
source "$(dirname "$0")/lib.sh"
TESTS_BIN="$3"
MODE="${TXN_MODE:-transactions}"
fail() { fail_with_logs "$@"; }  # the services' last log lines help here
DRIVER="$TESTS_BIN/kafka-scaleout-driver"
GROUP="txn-$$-$RANDOM"
FIRST=$((5000000 + ($$ % 1000) * 2000))   # SyntheticBsn seeds of this run only
JONGEREN="${TXN_JONGEREN:-600}"
SECONDS_OF_EVENTS="${TXN_SECONDS:-20}"
MAX_KILLS="${TXN_MAX_KILLS:-8}"
ROUTING="${TXN_ROUTING:-}"
KILL="${TXN_KILL:-signaling}"
[ "$KILL" = signaling ] || ROUTING=1
BACKLOG="${TXN_BACKLOG:-}"
[ -z "$BACKLOG" ] || { MAX_KILLS=0; SECONDS_OF_EVENTS=0; }
TODAY=2025-06-01 UNTIL=2025-05-31

P="$(partitions inbeeld.signalen.v1)"
if ! [[ "$P" =~ ^[1-9][0-9]*$ ]]; then  # run alone: the kafka_create_topics test did not make them
  BOOTSTRAP="$BOOTSTRAP" REPLICATION_FACTOR=3 PARTITIONS=6 KAFKA_TOPICS="$CLUSTER/bin/kafka-topics.sh" \
    sh "$ROOT/deploy/kafka/create-topics.sh" >"$WORK/create.log" 2>&1 || { cat "$WORK/create.log"; fail "topics"; }
  P=6
fi
echo "2023-07-01" >"$WORK/today"
say() { echo "[${SECONDS}s] $*"; }

SIG="" ROUT=""
start_routing() {  # static member too; reads inbeeld.signalen.v1 read_committed
  "$BIN/inbeeld-routing" --kafka="$BOOTSTRAP" --kafka-config="group.instance.id=txn-routing-$$" \
    --exactly-once="$MODE" --instance-id="txn-test-$$" --plaintext --state-dir="$WORK/routing-store" \
    --metrics-listen=127.0.0.1:0 --log-level=info >>"$WORK/routing.log" 2>&1 &
  ROUT=$!
  PIDS+=("$ROUT")
}
HOLD=""  # the ctest scenario; the bench's figures (TXN_KILL_ALL, TXN_BACKLOG) are of transactions as they are
[ "$MODE" != transactions ] || [ -n "${TXN_KILL_ALL:-}" ] || [ -n "$BACKLOG" ] || HOLD="${TXN_HOLD:-300ms}"
start() {  # the same instance each time: same state dir, same --instance-id (transactional.id); a static group
  # member (group.instance.id), so that the restart gets its partitions back without waiting for a rebalance
  INBEELD_TEST_HOLD_TRANSACTION="$HOLD" "$BIN/inbeeld-signaling" --kafka="$BOOTSTRAP" --kafka-config="group.instance.id=txn-test-$$" --group="$GROUP" --exactly-once="$MODE" --instance-id="txn-test-$$" \
    --plaintext --state-dir="$WORK/store" --date-file="$WORK/today" --tick=1s \
    --grpc-listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 --log-level=info >>"$WORK/signaling.log" 2>&1 &
  SIG=$!
  PIDS+=("$SIG")
}
collect() {  # collect ISOLATION OUT [TOPIC]: prints "records R distinct D repeated X"
  "$DRIVER" collect --kafka="$BOOTSTRAP" --first="$FIRST" --jongeren="$JONGEREN" --partitions="$P" \
    --isolation="$1" --out="$2" --topic="${3:-signalen}" || fail "collect ($1) failed"
}
VICTIM_TOPIC=signalen
[ "$KILL" = signaling ] || VICTIM_TOPIC=aflevering
records() { sed -n 's/^records \([0-9]*\) .*/\1/p'; }
repeated() { sed -n 's/.* repeated \([0-9]*\)$/\1/p'; }

probe_topic="$VICTIM_TOPIC"  # where an open transaction shows: signaling writes its changelog in every one
[ "$KILL" != signaling ] || probe_topic=changelog
# Records seen by read_uncommitted only: aborted transactions' (they stay in the log; earlier runs' too), then an
# open one. A kill inside a transaction shows as a larger gap than before it.
gap=$(($(collect read_uncommitted "$WORK/u" "$probe_topic" | records) - $(collect read_committed "$WORK/c" "$probe_topic" | records)))
gap0="$gap"
if [ -n "$BACKLOG" ]; then
  "$DRIVER" produce --kafka="$BOOTSTRAP" --first="$FIRST" --jongeren="$JONGEREN" --seconds=0 \
    --events-out="$WORK/events.jsonl" >"$WORK/produce.out" 2>"$WORK/produce.err" || fail "producing the events"
  EVENTS="$(sed -n 's/^events \([0-9]*\) acknowledged/\1/p' "$WORK/produce.out")"
  T0="$(date +%s.%N)"
fi
start
[ -z "$ROUTING" ] || start_routing
if [ -z "$BACKLOG" ]; then
  "$DRIVER" produce --kafka="$BOOTSTRAP" --first="$FIRST" --jongeren="$JONGEREN" --seconds="$SECONDS_OF_EVENTS" \
    --events-out="$WORK/events.jsonl" >"$WORK/produce.out" 2>"$WORK/produce.err" &
else
  true &  # already produced
fi
PRODUCER=$!
PIDS+=("$PRODUCER")

kills=0 caught=0
while [ "$kills" -lt "$MAX_KILLS" ] && kill -0 "$PRODUCER" 2>/dev/null; do
  # Only once the instance processes (after its restore): a kill during init_transactions proves nothing.
  if [ "$KILL" = signaling ]; then
    grep -aq '"partitions assigned"' "$WORK/signaling.log" 2>/dev/null || { sleep 0.2; continue; }
  else
    grep -aq '"routing ready"' "$WORK/routing.log" 2>/dev/null || { sleep 0.2; continue; }
  fi
  sleep "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.5 + (r % 150) / 100}')"
  victim="$SIG"
  [ "$KILL" = signaling ] || victim="$ROUT"
  kill -KILL "$victim"
  wait "$victim" 2>/dev/null || true
  kills=$((kills + 1))
  # The instance is dead: nothing writes. Records only a read_uncommitted reader sees are its open transaction's.
  u="$(collect read_uncommitted "$WORK/u" "$probe_topic" | records)"
  c="$(collect read_committed "$WORK/c" "$probe_topic" | records)"
  say "kill -9 $KILL #$kills: $probe_topic read_uncommitted $u records, read_committed $c"
  mv "$WORK/$KILL.log" "$WORK/$KILL.$kills.log"
  if [ "$KILL" = signaling ]; then start; else start_routing; fi
  if [ $((u - c)) -gt "$gap" ]; then
    gap=$((u - c))
    caught=$((caught + 1))
    [ "$MODE" = transactions ] && [ -z "${TXN_KILL_ALL:-}" ] && break   # the test needs one
  fi
done
wait "$PRODUCER" || { cat "$WORK/produce.err"; fail "producing the events failed"; }
tail -1 "$WORK/produce.out"
"$DRIVER" wait-consumed --kafka="$BOOTSTRAP" --group="$GROUP" --timeout=300s || fail "events not consumed"
if [ -n "$BACKLOG" ]; then
  T1="$(date +%s.%N)"
  say "throughput ($MODE): signaling consumed $EVENTS events in $(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f s = %.0f events/s", b - a, '"$EVENTS"' / (b - a)}')"
fi
if [ -n "$ROUTING" ]; then
  slack=0
  [ "$MODE" = idempotent ] || slack=1  # the last offset of a transactional partition is a commit marker
  "$DRIVER" wait-consumed --kafka="$BOOTSTRAP" --group=inbeeld-routing --topic=inbeeld.signalen.v1 --slack="$slack" \
    --timeout=300s >/dev/null || fail "signals not routed"
  [ -z "$BACKLOG" ] || say "throughput ($MODE): signaling and routing done in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f s", b - a}')"
fi
echo "$TODAY" >"$WORK/today"
T_MOVE="$(date +%s.%N)"
say "every event consumed; date moved to $TODAY"
"$BIN/inbeeld" replay "$WORK/events.jsonl" --until="$UNTIL" >"$WORK/replay.jsonl" || fail "replay failed"
jq -r .signaalId "$WORK/replay.jsonl" | sort -u >"$WORK/want"
want="$(wc -l <"$WORK/want")"
[ "$want" -gt 0 ] || fail "replay produced no signals"
limit=$((SECONDS + 90))
until committed="$(collect read_committed "$WORK/got")" && cmp -s "$WORK/want" "$WORK/got"; do
  [ $SECONDS -lt $limit ] || break
  kill -0 "$SIG" || fail "signaling died"
  sleep 0.5
done
if [ -n "$BACKLOG" ]; then  # the timers of every jongere at once: signaling's ticks (then routing) under load
  say "throughput ($MODE): timer signals judged, all = replay, $(awk -v a="$T_MOVE" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f s", b - a}') after the date moved"
fi
uncommitted="$(collect read_uncommitted "$WORK/got-u")"
missing="$(comm -23 "$WORK/want" "$WORK/got" | wc -l)"
extra="$(comm -13 "$WORK/want" "$WORK/got" | wc -l)"
say "mode $MODE, $kills kill(s) -9, $caught inside a batch; replay: $want distinct signaal_ids"
say "read_committed:   $committed; missing $missing, extra $extra"
say "read_uncommitted: $uncommitted"
if [ -n "$ROUTING" ]; then
  "$DRIVER" wait-consumed --kafka="$BOOTSTRAP" --group=inbeeld-routing --topic=inbeeld.signalen.v1 --slack="$slack" \
    --timeout=120s >/dev/null || fail "signals not routed"
  [ -z "$BACKLOG" ] || say "throughput ($MODE): every signal routed $(awk -v a="$T_MOVE" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f s", b - a}') after the date moved"
  a_committed="$(collect read_committed "$WORK/a" aflevering)"
  a_uncommitted="$(collect read_uncommitted "$WORK/a-u" aflevering)"
  say "aflevering read_committed:   $a_committed"
  say "aflevering read_uncommitted: $a_uncommitted"
  [ "$KILL" = signaling ] || { committed="$a_committed"; uncommitted="$a_uncommitted"; }
fi
[ -z "${TXN_KEEP_LOGS:-}" ] || cp "$WORK"/*.log "$TXN_KEEP_LOGS"/
[ "$missing" = 0 ] || fail "$missing signals of the replay never appeared on inbeeld.signalen.v1"
[ "$extra" = 0 ] || fail "$extra signals on inbeeld.signalen.v1 that the replay does not have"
[ "$MODE" = transactions ] && [ -z "$BACKLOG" ] && [ -z "${TXN_KILL_ALL:-}" ] || { echo "figures only"; exit 0; }
[ "$caught" -gt 0 ] || fail "no kill -9 landed inside a transaction in $kills kills (read_uncommitted = read_committed each time)"
[ "$(echo "$committed" | repeated)" = 0 ] || fail "read_committed readers saw repeats with transactions: $committed"
# The aborted transaction's records stay in the log, seen by read_uncommitted readers only (signaling: its
# changelog records, and its signals if the batch had any; routing: repeats of outputs committed later).
if [ "$probe_topic" = changelog ]; then
  kill -TERM "$SIG"; wait "$SIG" 2>/dev/null || true  # nothing in flight while the two readers count
  cu="$(collect read_uncommitted "$WORK/cu" changelog | records)"
  cc="$(collect read_committed "$WORK/cc" changelog | records)"
  say "changelog records: read_uncommitted $cu, read_committed $cc"
  [ $((cu - cc)) -gt "$gap0" ] || fail "the aborted transaction's changelog records are not in the log ($cu - $cc = $gap0 before)"
else
  [ "$(echo "$uncommitted" | repeated)" -gt 0 ] || fail "the aborted batch's records are not in the log: $uncommitted"
fi
grep -aq '"transactional_id":"inbeeld-signaling-txn-test-' "$WORK/signaling.log" || fail "no transactional.id logged"
errors="$(grep -ahi '"level":"error"' "$WORK"/signaling*.log "$WORK"/routing*.log 2>/dev/null || true)"
[ -z "$errors" ] || fail "signaling logged an error: $(echo "$errors" | head -3)"
echo "1 passed, 0 failed"
