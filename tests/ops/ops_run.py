"""Shared helpers for the scripted operations tests: start `inbeeld run` in its
own process group, read its ready file, fetch /metrics, poll with a bound, and
clean everything up (even when a check fails)."""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--tests-dir", required=True)
    p.add_argument("--source-dir", required=True)
    return p.parse_args()


def log(*parts):
    print(*parts, flush=True)


def free_port():
    """A port nobody listens on right now (bind 0, close, reuse the number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8")


def wait_until(what, fn, bound_s=90.0, every_s=0.5):
    """Calls fn until it returns a truthy value; fails after bound_s (a bound,
    not a performance assertion)."""
    give_up = time.monotonic() + bound_s
    last_error = None
    while time.monotonic() < give_up:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # connection refused while starting, ...
            last_error = e
        time.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


def metric_value(text, name):
    """Sum of every sample of `name` (any labels) in exposition text; None when absent."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        metric = line.split("{", 1)[0].split(" ", 1)[0]
        if metric == name:
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None


class Processes:
    """Every process started here runs in its own session; stop_all() signals
    the whole group (SIGTERM, then SIGKILL after a bound)."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, workdir, cwd=None, env=None):
        out = open(os.path.join(workdir, name + ".out"), "wb")
        err = open(os.path.join(workdir, name + ".err"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             cwd=cwd, env=env, start_new_session=True)
        self.procs.append((name, p, err.name))
        return p

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def dump_stderr(self):
        for name, _, path in self.procs:
            try:
                with open(path, "rb") as f:
                    tail = f.read()[-3000:].decode("utf-8", "replace")
                log(f"--- {name} stderr (tail) ---\n{tail}")
            except OSError:
                pass


def start_inbeeld_run(procs, args, workdir, demo=True):
    """Starts `inbeeld run --plaintext` and returns its ready-file dict."""
    ready = os.path.join(workdir, "inbeeld.ready")
    argv = [os.path.join(args.bin_dir, "inbeeld"), "run", f"--demo={'true' if demo else 'false'}",
            "--plaintext", f"--ready-file={ready}", f"--state-dir={os.path.join(workdir, 'state')}",
            f"--config-dir={os.path.join(args.source_dir, 'deploy', 'config')}"]
    run = procs.start("inbeeld-run", argv, workdir, cwd=args.source_dir)

    def read_ready():
        if run.poll() is not None:
            raise SystemExit(f"inbeeld run exited with {run.returncode} during start-up")
        if not os.path.exists(ready):
            return None
        with open(ready) as f:
            return json.load(f)

    fields = wait_until("the inbeeld run ready file", read_ready, bound_s=120)
    log("inbeeld run ready:", json.dumps(fields, sort_keys=True))
    return fields


def wait_for_signals(fields):
    """Polls signaling's /metrics until inbeeld_signaling_signals_total > 0."""
    url = f"http://{fields['signaling_metrics']}/metrics"
    return wait_until("inbeeld_signaling_signals_total > 0",
                      lambda: (metric_value(http_get(url)[1], "inbeeld_signaling_signals_total") or 0) > 0,
                      bound_s=120)


def main_wrapper(body):
    """Runs body(args, procs, workdir); always cleans up; exit 0/1/77."""
    args = parse_args()
    procs = Processes()
    workdir = tempfile.mkdtemp(prefix="inbeeld-ops-")
    code = 1
    try:
        code = body(args, procs, workdir)
    except AssertionError as e:
        log("FAIL:", e)
        procs.dump_stderr()
        code = 1
    finally:
        procs.stop_all()
        subprocess.run(["rm", "-rf", workdir], check=False)
    sys.exit(code)
