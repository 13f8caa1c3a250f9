#!/usr/bin/env bash
# `inbeeld run --kafka` against a bootstrap nobody listens on: a clear error within --kafka-timeout, exit 1,
# no service started; a malformed --kafka-config is a usage error. Needs no cluster (and no Java).
set -euo pipefail
BIN="$1"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
start=$SECONDS
set +e
timeout 60 "$BIN/inbeeld" run --kafka="127.0.0.1:$port" --kafka-timeout=3s --demo=false --plaintext \
  --config-dir="$(dirname "$0")/../../deploy/config" \
  --ready-file="$WORK/ready" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
took=$((SECONDS - start))
cat "$WORK/err"
[ "$rc" = 1 ] || { echo "FAIL: exit $rc, want 1"; exit 1; }
grep -q "kafka at 127.0.0.1:$port did not answer within 3s" "$WORK/err" || { echo "FAIL: unclear error"; exit 1; }
[ "$took" -le 20 ] || { echo "FAIL: took ${took}s with --kafka-timeout=3s"; exit 1; }
[ ! -e "$WORK/ready" ] || { echo "FAIL: ready file written"; exit 1; }

# A --kafka-config that is not K=V,... is a usage error (exit 2), before any connection.
set +e
timeout 60 "$BIN/inbeeld" run --kafka="127.0.0.1:$port" --kafka-config=security.protocol --demo=false --plaintext \
  --config-dir="$(dirname "$0")/../../deploy/config" --ready-file="$WORK/ready" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" = 2 ] || { cat "$WORK/err"; echo "FAIL: bad --kafka-config: exit $rc, want 2"; exit 1; }
grep -q "bad --kafka-config" "$WORK/err" || { cat "$WORK/err"; echo "FAIL: unclear --kafka-config error"; exit 1; }
echo "2 passed, 0 failed"
