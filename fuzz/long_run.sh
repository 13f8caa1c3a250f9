#!/usr/bin/env bash
# The documented long fuzzing run (docs/FUZZING.md): every target for a fixed
# number of executions, two at a time, at the lowest priority, on a working
# corpus seeded from fuzz/corpus (which it does not change). Prints one
# "target runs seconds result" line per target.
# Usage: fuzz/long_run.sh [BUILD_DIR=build-fuzz] [WORK_DIR=/tmp/inbeeld-fuzz] [SCALE=1]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-fuzz}"
WORK="${2:-/tmp/inbeeld-fuzz}"
SCALE="${3:-1}"
mkdir -p "$WORK/artifacts"

run() {  # target runs
  local t=$1 n=$(( $2 * SCALE ))
  mkdir -p "$WORK/$t"
  local start=$SECONDS
  if nice -n 19 "$BUILD/bin/$t" -runs="$n" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$WORK/artifacts/$t-" -print_final_stats=1 \
      "$WORK/$t" "fuzz/corpus/$t" >"$WORK/$t.log" 2>&1; then
    echo "$t $n $(( SECONDS - start )) ok"
  else
    echo "$t $n $(( SECONDS - start )) FAILED (see $WORK/$t.log)"
  fi
}

# The fast parsers first: most executions early; the slow ones (the whole
# signaling core, a table of 343 gemeenten) get fewer.
{
  run cursor_fuzz 3000000
  run config_fuzz 3000000
  run replay_fuzz 20000
} &
{
  run validation_fuzz 2000000
  run event_decode_fuzz 2000000
  run signaal_decode_fuzz 500000
  run organisatie_tabel_fuzz 100000
} &
wait
