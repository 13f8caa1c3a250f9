#!/usr/bin/python3
"""No empty panel: every PromQL query of the Grafana dashboards
(deploy/grafana/dashboards/*.json) returns at least one series from a real
Prometheus (Debian's) scraping the fixture pipeline after its demo scenario.

As in the README's demo, an organisation (rmc-21) follows its stream with
`inbeeld subscribe` while the panels are read, so delivery's per-organisation
panels have a subscriber to show.
The Prometheus config is deploy/prometheus/local-config.sh's (with alerts.yml),
scrape interval lowered to 1 s. Grafana's variables are substituted the way
Grafana would: $__rate_interval / $__interval / $__range by durations that fit
the 1 s scrape; a dashboard variable by its current value, or, for an "All"
variable, its allValue or the alternation of the values its
label_values(...) query finds in this Prometheus.

A panel may take a few scrapes to fill (rate() needs two samples, a signal
needs seconds to travel), so the queries are retried within a bound; the
failure names each empty panel, its dashboard and its query.
Exit 0 pass, 1 fail, 77 skip (prometheus not installed, outside CI).

Usage: dashboard_test.py --source-dir=DIR --bin-dir=DIR --ready-file=PATH --work-dir=DIR
"""
import argparse
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import subscriber  # noqa: E402

SKIP = 77
JOBS = ["ingest", "signaling", "routing", "delivery"]
FILL_BOUND_S = 90  # how long a panel may take to fill after Prometheus is up
# Grafana's built-in interval variables, for a 1 s scrape interval.
BUILTINS = {"__rate_interval": "1m", "__interval": "5s", "__range": "5m", "__range_s": "300",
            "__range_ms": "300000", "__interval_ms": "5000"}


class Failure(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Prometheus:
    def __init__(self, base):
        self.base = base

    def query(self, expr):
        """(series list, None) or (None, error text)."""
        status, text = http_get(f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        try:
            body = json.loads(text)
        except ValueError:
            return None, f"HTTP {status}: {text[:300]}"
        if status != 200 or body.get("status") != "success":
            return None, body.get("error", text[:300])
        data = body["data"]
        if data["resultType"] in ("scalar", "string"):
            return [data["result"]], None
        return data["result"], None

    def label_values(self, label, match=None):
        params = {"match[]": match} if match else {}
        status, text = http_get(f"{self.base}/api/v1/label/{urllib.parse.quote(label)}/values?"
                                + urllib.parse.urlencode(params))
        return json.loads(text).get("data", []) if status == 200 else []


def panels(node, dashboard):
    """(dashboard, panel title, expr) for every Prometheus query target."""
    for panel in node.get("panels", []):
        for target in panel.get("targets", []):
            if isinstance(target.get("expr"), str) and target["expr"].strip() and not target.get("hide"):
                yield dashboard, panel.get("title", f"panel {panel.get('id')}"), target["expr"]
        yield from panels(panel, dashboard)  # rows keep their panels inside


def variable_values(prom, dashboard):
    """{name: substitution} for the dashboard's templating variables."""
    values = {}
    for var in dashboard.get("templating", {}).get("list", []):
        name, kind = var.get("name"), var.get("type")
        if kind in ("datasource", "interval", "constant", "textbox", "custom", "query"):
            current = var.get("current", {}).get("value")
            if isinstance(current, list):
                current = current[0] if len(current) == 1 else None
            if current and current != "$__all" and kind != "query":
                values[name] = current
                continue
            found = []
            query = var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            m = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", query or "")
            if kind == "query" and m:
                found = sorted(prom.label_values(m.group(2), m.group(1)))
            elif kind == "custom":
                found = [o.get("value") for o in var.get("options", []) if o.get("value") != "$__all"]
            if var.get("includeAll") and var.get("allValue"):
                values[name] = var["allValue"]
            elif var.get("includeAll") or var.get("multi"):
                values[name] = "(" + "|".join(re.escape(v) for v in found) + ")" if found else ".*"
            elif found:
                values[name] = found[0]
            else:
                values[name] = current or ""
    return values


def substitute(expr, values):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        if name in BUILTINS:
            return BUILTINS[name]
        raise Failure(f"unknown Grafana variable ${name} in: {expr}")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def start_prometheus(args, ready_file):
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not prometheus or not promtool:
        return None
    generated = subprocess.run(["bash", os.path.join(args.source_dir, "deploy", "prometheus", "local-config.sh"),
                                ready_file], capture_output=True, check=True).stdout.decode()
    config = generated.replace("scrape_interval: 5s", "scrape_interval: 1s") \
                      .replace("evaluation_interval: 5s", "evaluation_interval: 1s")
    if "scrape_interval: 1s" not in config:
        raise Failure("local-config.sh output has no 'scrape_interval: 5s' to lower:\n" + generated)
    path = os.path.join(args.work_dir, "prometheus.yml")
    with open(path, "w") as f:
        f.write(config)
    check = subprocess.run([promtool, "check", "config", path], capture_output=True)
    if check.returncode != 0:
        raise Failure("promtool check config failed:\n" + (check.stdout + check.stderr).decode())
    port = free_port()
    with open(os.path.join(args.work_dir, "prometheus.log"), "wb") as logf:
        proc = subprocess.Popen([prometheus, f"--config.file={path}",
                                 f"--storage.tsdb.path={os.path.join(args.work_dir, 'tsdb')}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=logf, stderr=logf, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, Prometheus(f"http://127.0.0.1:{port}")


def wait_until(what, fn, bound_s):
    give_up = time.monotonic() + bound_s
    while time.monotonic() < give_up:
        try:
            value = fn()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.5)
    raise Failure(f"timed out after {bound_s} s waiting for {what}")


def check_dashboards(args, prom):
    files = sorted(glob.glob(os.path.join(args.source_dir, "deploy", "grafana", "dashboards", "*.json")))
    if not files:
        raise Failure("no dashboards in deploy/grafana/dashboards")
    queries = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
        values = variable_values(prom, dashboard)
        log(f"{os.path.basename(path)}: variables {values}")
        for name, title, expr in panels(dashboard, os.path.basename(path)):
            queries.append((name, title, expr, substitute(expr, values)))
    if not queries:
        raise Failure("the dashboards have no Prometheus queries: is the input right?")
    log(f"{len(queries)} panel queries in {len(files)} dashboard(s)")

    pending = list(queries)
    errors = {}
    give_up = time.monotonic() + FILL_BOUND_S
    while pending and time.monotonic() < give_up:
        still = []
        for q in pending:
            result, error = prom.query(q[3])
            if error:
                errors[q] = error
            if not result:
                still.append(q)
            else:
                log(f"  ok: {q[0]} panel '{q[1]}': {len(result)} series")
        pending = still
        if pending:
            time.sleep(1)
    if pending:
        lines = [f"{d} panel '{t}' is empty" + (f" (query error: {errors[(d, t, e, s)]})" if (d, t, e, s) in errors
                                                 else "") + f": {e}" + (f"  [as queried: {s}]" if s != e else "")
                 for d, t, e, s in pending]
        raise Failure(f"{len(pending)} of {len(queries)} panel queries returned no series after "
                      f"{FILL_BOUND_S} s:\n  " + "\n  ".join(lines))
    log(f"every one of the {len(queries)} panel queries returns at least one series")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source-dir", required=True)
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--work-dir", required=True)
    args = p.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    proc = follower = None
    started = time.monotonic()
    try:
        if not os.path.exists(args.ready_file):
            raise Failure(f"no ready file {args.ready_file}: is the clients_pipeline fixture running?")
        started_prom = start_prometheus(args, args.ready_file)
        if started_prom is None:
            message = "prometheus/promtool not installed (Debian package prometheus, scripts/setup)"
            if os.environ.get("CI") == "true":
                raise Failure(message)
            log("SKIP:", message)
            return SKIP
        proc, prom = started_prom
        wait_until("Prometheus /-/ready", lambda: http_get(f"{prom.base}/-/ready")[0] == 200, 60)

        def all_up():
            result, _ = prom.query("up")
            ups = {r["metric"].get("job"): r["value"][1] for r in result or []}
            return all(ups.get(j) == "1" for j in JOBS) and ups

        log("up:", wait_until("up == 1 for " + ", ".join(JOBS), all_up, 60))
        follower = subscriber.start(args.bin_dir, args.ready_file, os.path.join(args.work_dir, "subscribe.out"),
                                    args.source_dir)
        check_dashboards(args, prom)
        log(f"PASS: dashboards ({time.monotonic() - started:.1f} s)")
        return 0
    except Failure as e:
        log(f"FAIL: {e}")
        try:
            with open(os.path.join(args.work_dir, "prometheus.log"), errors="replace") as f:
                log("--- prometheus log (tail) ---\n" + "".join(f.readlines()[-15:]))
        except OSError:
            pass
        return 1
    finally:
        subscriber.stop(follower)
        subscriber.stop(proc)
        shutil.rmtree(args.work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
