#!/usr/bin/python3
"""Every alerting and recording rule in deploy/prometheus/ parses and selects
only metric series that exist.

  - `promtool check rules` accepts every rule file (a file with `groups:`);
  - each metric name an expression selects (tests/deploy/check_metric_names.py's
    lexer) is one of: a sample name in the /metrics of the fixture pipeline's
    four services after the demo, with rmc-21 subscribed (the normal state) (names as exposed, so a histogram is
    NAME_bucket / NAME_sum / NAME_count and a counter NAME_total), a series
    Prometheus makes itself (up, scrape_*, ALERTS, ALERTS_FOR_STATE), a
    `record:` of the rule files, or a name in failure_only_series.txt (series
    that appear only when something goes wrong, each with its reason).
A name that is none of these is a typo or a metric that no service exports:
the rule could never fire. The failure names the rule and its expression.
Exit 0 pass, 1 fail, 77 skip (promtool not installed, outside CI).

Usage: alert_rules_test.py --source-dir=DIR --bin-dir=DIR --ready-file=PATH
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
JOBS = ["ingest", "signaling", "routing", "delivery"]
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                  "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}
SCRAPE_BOUND_S = 60  # series that follow the demo's signals may take a few seconds


class Failure(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def load_lexer(source_dir):
    sys.path.insert(0, os.path.join(source_dir, "tests", "deploy"))
    import check_metric_names  # noqa: E402  the deploy checks' PromQL name lexer
    return check_metric_names


def rule_files(source_dir):
    files = []
    for path in sorted(glob.glob(os.path.join(source_dir, "deploy", "prometheus", "*.y*ml"))):
        with open(path, encoding="utf-8") as f:
            if re.search(r"^groups:", f.read(), re.M):
                files.append(path)
    return files


def failure_only_names(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                names.add(words[0])
    return names


def scraped_names(ready):
    names = set()
    for job in JOBS:
        address = ready.get(f"{job}_metrics")
        if not address:
            raise Failure(f"the ready file has no {job}_metrics")
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as r:
            text = r.read().decode("utf-8")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                names.add(re.split(r"[{\s]", line, 1)[0])
    return names


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source-dir", required=True)
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--ready-file", required=True)
    args = p.parse_args()
    started = time.monotonic()
    sys.path.insert(0, HERE)
    import subscriber
    work = tempfile.mkdtemp(prefix="inbeeld-alert-rules-")
    follower = None
    try:
        promtool = shutil.which("promtool")
        if not promtool:
            message = "promtool not installed (Debian package prometheus, scripts/setup)"
            if os.environ.get("CI") == "true":
                raise Failure(message)
            log("SKIP:", message)
            return SKIP
        files = rule_files(args.source_dir)
        if not files:
            raise Failure("no rule files (with groups:) in deploy/prometheus")
        check = subprocess.run([promtool, "check", "rules"] + files, capture_output=True)
        log("promtool check rules:", (check.stdout + check.stderr).decode().strip())
        if check.returncode != 0:
            raise Failure(f"promtool check rules failed (exit {check.returncode})")

        lexer = load_lexer(args.source_dir)
        rules = [(os.path.basename(f), name, expr) for f in files for name, expr in lexer.rule_exprs(f)]
        if not rules:
            raise Failure("no rule expressions found: is the input right?")
        recorded = set()
        for f in files:
            with open(f, encoding="utf-8") as fh:
                recorded |= set(re.findall(r"^\s*-?\s*record:\s*['\"]?([\w:]+)", fh.read(), re.M))
        failure_only = failure_only_names(os.path.join(HERE, "failure_only_series.txt"))
        with open(args.ready_file) as f:
            ready = json.load(f)
        follower = subscriber.start(args.bin_dir, args.ready_file, os.path.join(work, "subscribe.out"),
                                    args.source_dir)

        def unknown_names(scraped):
            known = scraped | PROMETHEUS_OWN | recorded | failure_only
            return [(f, rule, expr, name) for f, rule, expr in rules for name in lexer.metric_names(expr)
                    if name not in known]

        give_up = time.monotonic() + SCRAPE_BOUND_S
        while True:
            scraped = scraped_names(ready)
            problems = unknown_names(scraped)
            if not problems or time.monotonic() > give_up:
                break
            time.sleep(1)
        log(f"{len(scraped)} sample names scraped from {', '.join(JOBS)}; {len(rules)} rules; "
            f"{len(recorded)} recorded; {len(failure_only)} failure-only names allowed")
        stale = sorted(failure_only & scraped)
        if stale:
            log("note: failure_only_series.txt names now seen in the scrape:", stale)
        if problems:
            raise Failure(f"{len(problems)} metric name(s) in rule expressions exist in no scrape:\n  " + "\n  ".join(
                f"{f} rule {rule}: '{name}' is not exported (nor recorded, nor in failure_only_series.txt) in: "
                f"{' '.join(expr.split())}" for f, rule, expr, name in problems))
        log(f"PASS: {len(rules)} rules parse and select existing series ({time.monotonic() - started:.1f} s)")
        return 0
    except Failure as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        subscriber.stop(follower)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
