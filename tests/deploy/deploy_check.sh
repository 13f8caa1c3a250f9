#!/usr/bin/env bash
# Checks of the operations artefacts in deploy/, one per ctest test
# (tests/deploy/CMakeLists.txt). Usage, from the repository root:
#   tests/deploy/deploy_check.sh CHECK [BIN_DIR]
# Exit 0 = pass, 77 = skipped (a tool is missing; ctest SKIP_RETURN_CODE),
# anything else = fail.
set -euo pipefail

CHECK="${1:?usage: deploy_check.sh CHECK [BIN_DIR]}"
BIN_DIR="${2:-}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="tests/deploy"
SKIP=77

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "SKIP: $1 not installed"
    exit "$SKIP"
  fi
}
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$CHECK" in
  promtool_check_config)
    need promtool
    promtool check config deploy/prometheus/prometheus.yml
    ;;

  promtool_check_rules)
    need promtool
    promtool check rules deploy/prometheus/alerts.yml
    ;;

  promtool_test_rules)
    need promtool
    promtool test rules deploy/prometheus/alerts_test.yml
    ;;

  alert_test_coverage)
    python3 "$HERE/check_alert_coverage.py" deploy/prometheus/alerts.yml deploy/prometheus/alerts_test.yml
    ;;

  grafana_json)
    mapfile -t files < <(find deploy/grafana -name '*.json' | sort)
    [ "${#files[@]}" -gt 0 ] || fail "no JSON under deploy/grafana"
    for f in "${files[@]}"; do
      python3 -m json.tool "$f" >/dev/null || fail "$f is not valid JSON"
      echo "valid JSON: $f"
    done
    # Every panel/target datasource must be the provisioned one (uid), or
    # Grafana shows "datasource not found" on a fresh install.
    uid="$(sed -n 's/^[[:space:]]*uid:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
             deploy/grafana/provisioning/datasources/prometheus.yml | head -n1)"
    [ -n "$uid" ] || fail "no uid in deploy/grafana/provisioning/datasources/prometheus.yml"
    for f in "${files[@]}"; do
      bad="$(python3 - "$f" "$uid" <<'PY'
import json, sys
uid = sys.argv[2]
bad = set()
def walk(n):
    if isinstance(n, dict):
        ds = n.get("datasource")
        if isinstance(ds, dict) and ds.get("uid") not in (uid, "-- Grafana --", None):
            bad.add(ds.get("uid"))
        for v in n.values():
            walk(v)
    elif isinstance(n, list):
        for v in n:
            walk(v)
walk(json.load(open(sys.argv[1])))
print(" ".join(sorted(map(str, bad))))
PY
)"
      [ -z "$bad" ] || fail "$f uses datasource uid(s) '$bad', provisioned is '$uid'"
    done
    ;;

  metric_names)
    mapfile -t files < <(find deploy/grafana -name '*.json' | sort)
    python3 "$HERE/check_metric_names.py" "$HERE/metric_names.txt" \
      "${files[@]}" deploy/prometheus/alerts.yml
    ;;

  compose_config)
    need docker-compose
    # Validation only: no Docker engine needed.
    out="$(docker-compose -f deploy/docker-compose.yml config)"
    docker-compose -f deploy/docker-compose.yml config -q
    # `config` does not check bind-mount sources: every file/dir we ship must
    # exist (certs/dev and secrets are generated at run time).
    missing=0
    while read -r src; do
      case "$src" in
        "$ROOT"/deploy/certs/*|"$ROOT"/deploy/secrets*) continue ;;
      esac
      if [ ! -e "$src" ]; then
        echo "bind mount source missing: $src" >&2
        missing=1
      fi
    done < <(printf '%s\n' "$out" | sed -n "s#^[[:space:]]*- \($ROOT/[^:]*\):.*#\1#p")
    [ "$missing" -eq 0 ] || fail "docker-compose.yml mounts files that do not exist"
    for svc in kafka kafka-init ingest signaling routing delivery prometheus grafana; do
      printf '%s\n' "$out" | grep -q "^  $svc:$" || fail "service $svc missing"
    done
    echo "compose file valid"
    ;;

  kustomize)
    need kubectl
    out="$(kubectl kustomize deploy/k8s)"
    count() { printf '%s\n' "$out" | grep -c "^kind: $1\$" || true; }
    [ "$(count PodDisruptionBudget)" -eq 4 ] || fail "expected 4 PodDisruptionBudgets"
    [ "$(count StatefulSet)" -ge 1 ] || fail "signaling must be a StatefulSet"
    [ "$(count Service)" -eq 4 ] || fail "expected 4 Services"
    [ "$(printf '%s\n' "$out" | grep -c '^ *grpc:$')" -eq 2 ] || fail "expected gRPC probes for ingest and delivery"
    for f in bronnen.csv organisaties.csv herindelingen.csv; do
      printf '%s\n' "$out" | grep -q "^  $f: |" || fail "ConfigMap inbeeld-config-files has no $f"
    done
    echo "kustomize build ok: $(printf '%s\n' "$out" | grep -c '^kind:') objects"
    ;;

  local_config)
    # deploy/prometheus/local-config.sh turns `inbeeld run --ready-file` output
    # into a valid Prometheus config with one job per running service.
    need promtool
    need jq
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    printf '%s' '{"kafka":"127.0.0.1:9","ingest_grpc":"127.0.0.1:1","ingest_metrics":"127.0.0.1:2",
      "signaling_metrics":"127.0.0.1:3","routing_metrics":"127.0.0.1:4","delivery_metrics":"127.0.0.1:5"}' >"$tmp/ready"
    deploy/prometheus/local-config.sh "$tmp/ready" >"$tmp/prometheus.yml"
    promtool check config "$tmp/prometheus.yml"
    for job in ingest:2 signaling:3 routing:4 delivery:5; do
      grep -A2 "job_name: ${job%%:*}\$" "$tmp/prometheus.yml" | grep -q "127.0.0.1:${job##*:}" \
        || fail "job ${job%%:*} does not scrape 127.0.0.1:${job##*:}"
    done
    ;;

  k8s_config_in_sync)
    deploy/k8s/sync-config.sh --check
    echo "deploy/k8s/config matches deploy/config"
    ;;

  image_files|compose_files|k8s_files|config_files_self_test)
    # Every file a service reads is where it looks for it: in the image
    # (deploy/Dockerfile's COPY/ENV), in compose, in the kustomize base.
    need_yaml() { python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml not installed"; exit "$SKIP"; }; }
    need_yaml
    case "$CHECK" in
      image_files) what=dockerfile ;;
      compose_files) what=compose ;;
      k8s_files) what=k8s ;;
      *) what=self-test ;;
    esac
    python3 "$HERE/check_config_files.py" "$what"
    ;;

  shell_syntax)
    for f in deploy/kafka/create-topics.sh deploy/docker-entrypoint.sh deploy/k8s/sync-config.sh deploy/prometheus/local-config.sh; do
      sh -n "$f" || fail "$f: syntax error"
      [ -x "$f" ] || fail "$f is not executable"
    done
    bash -n "$HERE/deploy_check.sh"
    echo "shell syntax ok"
    ;;

  create_topics)
    # Runs the real script against a fake kafka-topics.sh that records its
    # arguments, then checks names, partition counts and configs.
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # The fake answers --describe from the topics it was asked to create, as
    # Kafka's tool prints them (the script checks every partition count).
    cat >"$tmp/kafka-topics.sh" <<'FAKE'
#!/bin/sh
case "$*" in
  *--describe*)
    grep -- "--create" "$FAKE_LOG" | sed -n 's/.*--topic \([^ ]*\) --partitions \([0-9]*\).*/Topic: \1\tTopicId: x\tPartitionCount: \2\tReplicationFactor: 1/p'
    ;;
  *) echo "$*" >>"$FAKE_LOG" ;;
esac
FAKE
    chmod +x "$tmp/kafka-topics.sh"
    FAKE_LOG="$tmp/calls" KAFKA_TOPICS="$tmp/kafka-topics.sh" BOOTSTRAP=fake:9092 \
      WAIT_SECONDS=1 sh deploy/kafka/create-topics.sh 2>"$tmp/stderr" \
      || { cat "$tmp/stderr" >&2; fail "create-topics.sh failed"; }
    created() {  # created TOPIC -> the --create line for TOPIC
      grep -- "--create" "$tmp/calls" | grep -- "--topic $1 " || true
    }
    expect() {  # expect TOPIC PARTITIONS [CONFIG]
      line="$(created "$1")"
      [ -n "$line" ] || fail "topic $1 not created"
      [ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] || fail "topic $1 created twice"
      printf '%s\n' "$line" | grep -q -- "--if-not-exists" || fail "$1: not idempotent"
      printf '%s\n' "$line" | grep -q -- "--partitions $2 " || fail "$1: expected $2 partitions: $line"
      printf '%s\n' "$line" | grep -q -- "--bootstrap-server fake:9092" || fail "$1: wrong bootstrap"
      if [ -n "${3:-}" ]; then
        printf '%s\n' "$line" | grep -q -- "--config $3" || fail "$1: expected --config $3: $line"
      fi
      if [ "${3:-}" != "cleanup.policy=compact" ] && printf '%s\n' "$line" | grep -q compact; then
        fail "$1 must not be compacted"
      fi
    }
    main_topics=(inbeeld.verzuimmeldingen.v1 inbeeld.inschrijvingsmutaties.v1
                 inbeeld.adresmutaties.v1 inbeeld.vrijstellingen.v1 inbeeld.signalen.v1)
    for t in "${main_topics[@]}"; do expect "$t" 6; done
    expect inbeeld.signaling.changelog.v1 6 cleanup.policy=compact
    expect inbeeld.aflevering.v1 6
    expect inbeeld.organisaties.v1 1 cleanup.policy=compact
    # A DLQ has its source's partition count: signaling dead-letters to the
    # source's partition number.
    for t in "${main_topics[@]}" inbeeld.signaling.changelog.v1 inbeeld.aflevering.v1; do
      expect "$t.dlq" 6 retention.ms=
    done
    expect inbeeld.organisaties.v1.dlq 1 retention.ms=
    total="$(grep -c -- "--create" "$tmp/calls")"
    [ "$total" -eq 16 ] || fail "expected 16 topics, created $total"
    # The topic names must match the code's single source of truth.
    for t in $(sed -n 's/.*kTopic[A-Za-z]* = "\(inbeeld\.[a-z.]*v1\)";/\1/p' \
                 common/kafka/include/inbeeld/kafka/topics.h); do
      [ -n "$(created "$t")" ] || fail "topics.h names $t, create-topics.sh does not create it"
    done
    # Unreachable broker: must give up with an error, not hang or succeed.
    cat >"$tmp/down.sh" <<'FAKE'
#!/bin/sh
exit 1
FAKE
    chmod +x "$tmp/down.sh"
    if KAFKA_TOPICS="$tmp/down.sh" WAIT_SECONDS=1 sh deploy/kafka/create-topics.sh 2>/dev/null; then
      fail "create-topics.sh succeeded without a broker"
    fi
    echo "create-topics.sh: $total topics as expected"
    ;;

  dockerfile_runtime_packages)
    need apt-cache
    mapfile -t pkgs < <(awk '/^FROM .* AS runtime/{rt=1} rt && /apt-get install/{inst=1; next}
                              inst { for (i = 1; i <= NF; i++) if ($i ~ /^lib|^ca-/) print $i;
                                     if ($0 !~ /\\$/) inst = 0 }' deploy/Dockerfile)
    [ "${#pkgs[@]}" -ge 5 ] || fail "could not read the runtime package list from deploy/Dockerfile"
    for p in "${pkgs[@]}"; do
      apt-cache show "$p" >/dev/null 2>&1 || fail "Debian has no package '$p' (deploy/Dockerfile runtime stage)"
    done
    echo "runtime packages exist: ${pkgs[*]}"
    # With built binaries: every shared library they load must come from a
    # listed package (or from the base image: libc, libstdc++, zlib ...).
    shopt -s nullglob
    bins=()
    [ -n "$BIN_DIR" ] && bins=("$BIN_DIR"/inbeeld*)
    if [ "${#bins[@]}" -eq 0 ] || ! command -v dpkg >/dev/null; then
      echo "no binaries in '${BIN_DIR}': library closure not checked"
      exit 0
    fi
    # Everything apt installs for the listed packages (their dependency
    # closure), plus what debian:12-slim already has.
    closure=" $(apt-cache depends --recurse --important --no-recommends --no-suggests "${pkgs[@]}" \
                 | grep -v '^ ' | sort -u | tr '\n' ' ') "
    base=" libc6 libgcc-s1 libstdc++6 zlib1g libzstd1 liblz4-1 libsystemd0 libselinux1 "
    unresolved=0
    mapfile -t libs < <(ldd "${bins[@]}" 2>/dev/null | awk '/=> \//{print $3}' | sort -u)
    paths=()
    for lib in "${libs[@]}"; do paths+=("$lib" "$(readlink -f "$lib")"); done
    # One dpkg call for all paths ("pkg[:arch]: /path" per owned path).
    while read -r pkg lib; do
      pkg="${pkg%:}"; pkg="${pkg%%:*}"
      case "$closure$base" in
        *" $pkg "*) ;;
        *) echo "library $lib (package $pkg) is not provided by the runtime stage" >&2
           unresolved=1 ;;
      esac
    done < <(dpkg -S "${paths[@]}" 2>/dev/null | sed 's/, .*:/:/' | sort -u)
    [ "$unresolved" -eq 0 ] || fail "deploy/Dockerfile runtime stage misses packages"
    echo "library closure of ${#bins[@]} binaries covered"
    ;;

  *)
    fail "unknown check '$CHECK'"
    ;;
esac
