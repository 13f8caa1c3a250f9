#!/usr/bin/env bash
# Scale-out of signaling on the 3-broker cluster (issue #10 4b). Two instances (a, b) in one group; while a school
# year of events streams in, c joins, a leaves with SIGTERM, b is killed with SIGKILL and restarted once c has taken
# every partition. Partitions move at each step; an instance that gets one restores it from the compacted changelog
# (from the beginning, or from its checkpoint when it owned the partition before). Then the date moves past every
# event and the distinct signaal_ids on inbeeld.signalen.v1 must equal `inbeeld replay` on the same events.
#
# The date stays before every event while the group changes (nothing is judged yet, only facts are stored and
# VERZUIMMELDING signals emitted), so that live equals replay: a day judged before all of its events arrived is a
# different (documented) outcome, not a scale-out effect. Lost or stale state after a move shows as a difference.
source "$(dirname "$0")/lib.sh"
TESTS_BIN="$3"
fail() { fail_with_logs "$@"; }  # the services' last log lines help here
DRIVER="$TESTS_BIN/kafka-scaleout-driver"
GROUP="scaleout-$$-$RANDOM"
FIRST=$((3000000 + ($$ % 1000) * 2000))   # SyntheticBsn seeds of this run only
JONGEREN="${SCALEOUT_JONGEREN:-1000}"
SECONDS_OF_EVENTS="${SCALEOUT_SECONDS:-30}"
TODAY=2025-06-01 UNTIL=2025-05-31          # after the last event of the school year (and its timers)

P="$(partitions inbeeld.signalen.v1)"
if ! [[ "$P" =~ ^[1-9][0-9]*$ ]]; then  # run alone: the kafka_create_topics test did not make them
  BOOTSTRAP="$BOOTSTRAP" REPLICATION_FACTOR=3 PARTITIONS=6 KAFKA_TOPICS="$CLUSTER/bin/kafka-topics.sh" \
    sh "$ROOT/deploy/kafka/create-topics.sh" >"$WORK/create.log" 2>&1 || { cat "$WORK/create.log"; fail "topics"; }
  P=6
fi
echo "2023-07-01" >"$WORK/today"

declare -A PID
start() {  # start NAME: one signaling instance; client.id orders the range assignment (a < b < c)
  "$BIN/inbeeld-signaling" --kafka="$BOOTSTRAP" --kafka-config="client.id=scaleout-$1" --group="$GROUP" \
    --plaintext --state-dir="$WORK/store-$1" --date-file="$WORK/today" --tick=1s \
    --grpc-listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 --log-level=info >>"$WORK/$1.log" 2>&1 &
  PID[$1]=$!
  PIDS+=("$!")
}
assigned() {  # assigned NAME: the partitions of NAME's latest assignment
  grep -a '"partitions assigned"' "$WORK/$1.log" | tail -1 | sed -n 's/.*"partitions":"\([0-9,]*\)".*/\1/p'
}
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@"; do
    [ $SECONDS -lt $limit ] || fail "timed out waiting for: $what"
    sleep 0.3
  done
}
produced_pct() { awk '/^produced/ {p = int(100 * $2 / $4)} END {print p + 0}' "$WORK/produce.out"; }
at_least() { [ "$(produced_pct)" -ge "$1" ]; }
all_six_to() { [ "$(assigned "$1" | tr ',' '\n' | grep -c .)" = "$P" ]; }

say() { echo "[${SECONDS}s] $*"; }
start a
start b
wait_for 60 "a and b assigned" bash -c "grep -q 'partitions assigned' '$WORK/a.log' && grep -q 'partitions assigned' '$WORK/b.log'"
say "a: $(assigned a)  b: $(assigned b)"

"$DRIVER" produce --kafka="$BOOTSTRAP" --first="$FIRST" --jongeren="$JONGEREN" --seconds="$SECONDS_OF_EVENTS" \
  --events-out="$WORK/events.jsonl" >"$WORK/produce.out" 2>"$WORK/produce.err" &
PRODUCER=$!
PIDS+=("$PRODUCER")

wait_for 120 "20% produced" at_least 20
start c
say "c joins at $(produced_pct)%"
wait_for 120 "40% produced" at_least 40
kill -TERM "${PID[a]}"
wait "${PID[a]}" || fail "a did not stop cleanly on SIGTERM (exit $?)"
say "a left (SIGTERM, exit 0) at $(produced_pct)%"
wait_for 120 "55% produced" at_least 55
kill -KILL "${PID[b]}"
wait "${PID[b]}" 2>/dev/null || true
say "b killed (SIGKILL) at $(produced_pct)%"
wait_for 60 "c takes every partition after b's death" all_six_to c
say "c: $(assigned c) at $(produced_pct)%"
sleep 1   # c processes b's former partitions for a while
start b
say "b restarted at $(produced_pct)%"
wait "$PRODUCER" || { cat "$WORK/produce.err"; fail "producing the events failed"; }
tail -1 "$WORK/produce.out"
"$DRIVER" wait-consumed --kafka="$BOOTSTRAP" --group="$GROUP" --timeout=120s || fail "events not consumed"
say "every event consumed"
say "b: $(assigned b)  c: $(assigned c)"

# Every fact is in; now the days are judged (each instance ticks its partitions every second).
echo "$TODAY" >"$WORK/today"
say "date moved to $TODAY"
"$BIN/inbeeld" replay "$WORK/events.jsonl" --until="$UNTIL" >"$WORK/replay.jsonl" || fail "replay failed"
jq -r .signaalId "$WORK/replay.jsonl" | sort -u >"$WORK/want"
want="$(wc -l <"$WORK/want")"
[ "$want" -gt 0 ] || fail "replay produced no signals"
collect() {
  "$DRIVER" collect --kafka="$BOOTSTRAP" --first="$FIRST" --jongeren="$JONGEREN" --partitions="$P" \
    --out="$WORK/got" >"$WORK/collect.out" || fail "collect failed"
  cmp -s "$WORK/want" "$WORK/got"
}
limit=$((SECONDS + 90))
until collect; do
  [ $SECONDS -lt $limit ] || break
  for n in b c; do kill -0 "${PID[$n]}" || { tail -5 "$WORK/$n.log"; fail "instance $n died"; }; done
  sleep 2
done
missing="$(comm -23 "$WORK/want" "$WORK/got" | wc -l)"
extra="$(comm -13 "$WORK/want" "$WORK/got" | wc -l)"
say "replay: $want distinct signaal_ids; live: $(cat "$WORK/collect.out"); missing $missing, extra $extra"
[ "$missing" = 0 ] || fail "$missing signals of the replay never appeared on inbeeld.signalen.v1"
[ "$extra" = 0 ] || fail "$extra signals on inbeeld.signalen.v1 that the replay does not have"

# Moved partitions were restored from the changelog: fresh ones from the beginning, and b's own ones, which c
# processed while b was dead, from b's checkpoint.
grep -ah '"partition restored from changelog"' "$WORK"/[abc].log | sed 's/.*"partition":/  partition:/' || true
# (grep -c, not -q, at the end of a pipe: -q exits early and pipefail turns the writer's SIGPIPE into a failure)
restores() { grep -ah '"partition restored from changelog"' "$@" || true; }
caught_up="$(restores "$WORK/b.log" | grep -a '"catch-up from checkpoint"' | grep -avc '"records":"0"' || true)"
[ "$caught_up" -gt 0 ] || fail "b did not catch up from its checkpoint on a partition c processed meanwhile"
from_start="$(restores "$WORK"/[abc].log | grep -ac '"from the beginning"' || true)"
[ "$from_start" -gt 0 ] || fail "no partition was restored from the changelog's beginning"
say "restores: $from_start from the beginning, $caught_up partitions of b caught up from its checkpoint"
errors="$(grep -ahi '"level":"error"' "$WORK"/[abc].log || true)"
[ -z "$errors" ] || fail "an instance logged an error: $(echo "$errors" | head -3)"
echo "1 passed, 0 failed"
