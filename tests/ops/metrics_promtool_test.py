#!/usr/bin/env python3
"""ops_metrics_promtool_test: every service's /metrics, taken from a running
`inbeeld run --demo=true` after signals have flowed, passes
`promtool check metrics` without a single complaint (names, _total suffixes,
HELP/TYPE, units). Exit 77 (skip) when promtool is not installed."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_run  # noqa: E402

SERVICES = ["ingest", "signaling", "routing", "delivery"]


def body(args, procs, workdir):
    promtool = shutil.which("promtool") or ("/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None)
    if promtool is None:
        ops_run.log("SKIP: promtool not installed (Debian package prometheus)")
        return ops_run.SKIP
    # The check must be able to fail: a counter without HELP and _total.
    bad = subprocess.run([promtool, "check", "metrics"], input=b"# TYPE x_count counter\nx_count 1\n",
                         capture_output=True)
    if bad.returncode == 0:
        raise AssertionError("promtool check metrics accepted a known-bad exposition")
    fields = ops_run.start_inbeeld_run(procs, args, workdir, demo=True)
    ops_run.wait_for_signals(fields)
    # Routing's counters appear once a signal was routed.
    routing_url = f"http://{fields['routing_metrics']}/metrics"
    ops_run.wait_until("inbeeld_routing_signals_routed_total", lambda: ops_run.metric_value(
        ops_run.http_get(routing_url)[1], "inbeeld_routing_signals_routed_total"), bound_s=60)

    # A subscriber for rmc-21 (Amsterdam, the demo's jongeren 1 and 3), so that
    # delivery also exposes its per-organisation series and histograms.
    procs.start("inbeeld-subscribe", [os.path.join(args.bin_dir, "inbeeld"), "subscribe",
                                      f"--address={fields['delivery_grpc']}", "--organisatie=rmc-21",
                                      "--plaintext"], workdir, cwd=args.source_dir)
    delivery_url = f"http://{fields['delivery_metrics']}/metrics"
    ops_run.wait_until("inbeeld_delivery_signals_sent_total", lambda: ops_run.metric_value(
        ops_run.http_get(delivery_url)[1], "inbeeld_delivery_signals_sent_total"), bound_s=60)

    # The Kafka families come from librdkafka statistics (every 5 s).
    for svc in ["signaling", "routing"]:
        url = f"http://{fields[svc + '_metrics']}/metrics"
        ops_run.wait_until(f"{svc} inbeeld_kafka_consumer_lag_messages", lambda u=url: ops_run.metric_value(
            ops_run.http_get(u)[1], "inbeeld_kafka_consumer_lag_messages") is not None, bound_s=60)

    failures = []
    for svc in SERVICES:
        key = f"{svc}_metrics"
        if key not in fields:
            failures.append(f"{svc}: not in the ready file (binary missing?)")
            continue
        status, text = ops_run.http_get(f"http://{fields[key]}/metrics")
        if status != 200 or not text.strip():
            failures.append(f"{svc}: GET /metrics answered {status} with {len(text)} bytes")
            continue
        families = sorted({line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")})
        ops_run.log(f"{svc}: families: {' '.join(families)}")
        r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        complaints = (r.stdout + r.stderr).decode().strip()
        ops_run.log(f"{svc}: {len(text.splitlines())} lines, promtool exit {r.returncode}")
        if r.returncode != 0 or complaints:
            failures.append(f"{svc}: promtool check metrics (exit {r.returncode}):\n    " +
                            complaints.replace("\n", "\n    "))
    for f in failures:
        ops_run.log("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    ops_run.main_wrapper(body)
