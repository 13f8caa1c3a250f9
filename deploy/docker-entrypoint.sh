#!/bin/sh
# Entrypoint of the InBeeld image: turns a secret FILE into the environment
# variable the services read (INBEELD_PSEUDONYM_SECRET), so the secret never
# appears in `docker inspect`, a compose file or a k8s manifest, then execs the
# command (PID 1 is the service itself and gets SIGTERM directly).
set -eu
if [ -n "${INBEELD_PSEUDONYM_SECRET_FILE:-}" ]; then
  if [ ! -r "$INBEELD_PSEUDONYM_SECRET_FILE" ]; then
    echo "entrypoint: cannot read INBEELD_PSEUDONYM_SECRET_FILE=$INBEELD_PSEUDONYM_SECRET_FILE" >&2
    exit 1
  fi
  INBEELD_PSEUDONYM_SECRET="$(cat "$INBEELD_PSEUDONYM_SECRET_FILE")"
  export INBEELD_PSEUDONYM_SECRET
  unset INBEELD_PSEUDONYM_SECRET_FILE
fi
exec "$@"
