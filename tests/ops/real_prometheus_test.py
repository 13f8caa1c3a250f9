#!/usr/bin/env python3
"""ops_real_prometheus_test: Debian's Prometheus scrapes a running
`inbeeld run` with the config from deploy/prometheus/local-config.sh
(scrape interval lowered to 1s); through the HTTP API:
  - up == 1 for the jobs ingest, signaling, routing and delivery;
  - inbeeld_ingest_events_accepted_total, inbeeld_signaling_signals_total and
    inbeeld_routing_signals_routed_total exist;
  - after more events are sent to ingest (gRPC, plaintext), the scraped
    signal and accepted counters grow.
`promtool check config` must accept the generated config (incl. alerts.yml).
Exit 77 (skip) when prometheus/promtool are not installed."""
import json
import os
import shutil
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_run  # noqa: E402

JOBS = ["ingest", "signaling", "routing", "delivery"]


def which(name):
    return shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, text = ops_run.http_get(url)
    body = json.loads(text)
    if status != 200 or body.get("status") != "success":
        raise AssertionError(f"query {expr!r} failed: {text[:300]}")
    return body["data"]["result"]


def scalar_sum(base, expr):
    result = query(base, f"sum({expr})")
    return float(result[0]["value"][1]) if result else None


def body(args, procs, workdir):
    prometheus, promtool = which("prometheus"), which("promtool")
    if prometheus is None or promtool is None:
        ops_run.log("SKIP: prometheus/promtool not installed (Debian package prometheus)")
        return ops_run.SKIP
    fields = ops_run.start_inbeeld_run(procs, args, workdir, demo=True)
    ops_run.wait_for_signals(fields)

    # The deploy helper's generator, with a 1 s scrape interval for the test.
    local_config = os.path.join(args.source_dir, "deploy", "prometheus", "local-config.sh")
    generated = subprocess.run(["bash", local_config, os.path.join(workdir, "inbeeld.ready")],
                               capture_output=True, check=True).stdout.decode()
    config = generated.replace("scrape_interval: 5s", "scrape_interval: 1s") \
                      .replace("evaluation_interval: 5s", "evaluation_interval: 1s")
    if "scrape_interval: 1s" not in config:
        raise AssertionError("local-config.sh output has no 'scrape_interval: 5s' to lower:\n" + generated)
    for job in JOBS:
        if f"job_name: {job}" not in config:
            raise AssertionError(f"generated config has no job {job}:\n{config}")
    config_path = os.path.join(workdir, "prometheus.yml")
    with open(config_path, "w") as f:
        f.write(config)
    check = subprocess.run([promtool, "check", "config", config_path], capture_output=True)
    ops_run.log("promtool check config:", (check.stdout + check.stderr).decode().strip())
    if check.returncode != 0:
        raise AssertionError(f"promtool check config failed (exit {check.returncode})")

    port = ops_run.free_port()
    base = f"http://127.0.0.1:{port}"
    procs.start("prometheus", [prometheus, f"--config.file={config_path}",
                               f"--storage.tsdb.path={os.path.join(workdir, 'tsdb')}",
                               f"--web.listen-address=127.0.0.1:{port}"], workdir)
    ops_run.wait_until("prometheus /-/ready", lambda: ops_run.http_get(f"{base}/-/ready")[0] == 200, bound_s=60)

    def all_up():
        ups = {r["metric"].get("job"): r["value"][1] for r in query(base, "up")}
        return all(ups.get(j) == "1" for j in JOBS) and ups

    ups = ops_run.wait_until("up == 1 for " + ", ".join(JOBS), all_up, bound_s=60)
    ops_run.log("up:", ups)
    for series in ["inbeeld_ingest_events_accepted_total", "inbeeld_signaling_signals_total",
                   "inbeeld_routing_signals_routed_total"]:
        ops_run.wait_until(f"series {series}", lambda s=series: query(base, s), bound_s=60)
        ops_run.log("present:", series)

    signals_before = scalar_sum(base, "inbeeld_signaling_signals_total")
    accepted_before = scalar_sum(base, "inbeeld_ingest_events_accepted_total")
    ops_run.log(f"before: signals={signals_before} accepted={accepted_before}")

    count = 10
    send = subprocess.run([os.path.join(args.tests_dir, "ops-send-events"), f"--address={fields['ingest_grpc']}",
                           f"--count={count}", "--first=50000", "--prefix=ops-prometheus"], capture_output=True)
    ops_run.log("ops-send-events:", (send.stdout + send.stderr).decode().strip())
    if send.returncode != 0:
        raise AssertionError("ingest did not accept every event")

    # Each new verzuimmelding is a new jongere: one VERZUIMMELDING signal each.
    ops_run.wait_until("inbeeld_signaling_signals_total to grow by the new events",
                       lambda: scalar_sum(base, "inbeeld_signaling_signals_total") >= signals_before + count,
                       bound_s=90)
    ops_run.wait_until("inbeeld_ingest_events_accepted_total to grow by the new events",
                       lambda: scalar_sum(base, "inbeeld_ingest_events_accepted_total") >= accepted_before + count,
                       bound_s=60)
    ops_run.log(f"after: signals={scalar_sum(base, 'inbeeld_signaling_signals_total')} "
                f"accepted={scalar_sum(base, 'inbeeld_ingest_events_accepted_total')}")
    return 0


if __name__ == "__main__":
    ops_run.main_wrapper(body)
