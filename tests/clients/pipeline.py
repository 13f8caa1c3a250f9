#!/usr/bin/python3
"""The one pipeline every client test talks to (a ctest fixture).

  pipeline.py start --bin-dir=DIR --source-dir=DIR --work-dir=DIR --certs-dir=DIR
      Development certificates into --certs-dir (scripts/gen-certs; kept
      between runs), then `inbeeld run --tls-dir=CERTS --ready-file=WORK/inbeeld.ready`
      (mutual TLS, the demo scenario plays) in its own process group, bounded
      by `timeout` so it cannot outlive a ctest run that never cleans up.
      Returns once the ready file exists and the demo has been played.
  pipeline.py stop --work-dir=DIR
      SIGTERM to the process group, SIGKILL after a bound, then removes the
      work directory.
Exit 0 on success, 1 on failure (with the pipeline's output)."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

READY_BOUND_S = 120  # start-up of five processes on a loaded 2-core machine
DEMO_BOUND_S = 120
LIFETIME_S = 3600    # a bound, should ctest die before the cleanup test: a full suite run is far shorter
DEMO_DONE = "Ctrl-C stopt alles."  # printed by `inbeeld run` after the demo


def log(*parts):
    print(*parts, flush=True)


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def dump(work):
    for name in ("run.out", "run.err"):
        log(f"--- {name} (tail) ---\n{tail(os.path.join(work, name))}")


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_group(pgid, bound_s=30):
    if not group_alive(pgid):
        return
    os.killpg(pgid, signal.SIGTERM)
    give_up = time.monotonic() + bound_s
    while group_alive(pgid) and time.monotonic() < give_up:
        time.sleep(0.1)
    if group_alive(pgid):
        log(f"pipeline: process group {pgid} still alive after SIGTERM, SIGKILL")
        os.killpg(pgid, signal.SIGKILL)


def start(args):
    work = os.path.abspath(args.work_dir)
    pid_file = os.path.join(work, "pipeline.pid")
    if os.path.exists(pid_file):  # a previous run that was never cleaned up
        with open(pid_file) as f:
            stop_group(int(f.read().strip()))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    gen = subprocess.run([os.path.join(args.source_dir, "scripts", "gen-certs"), args.certs_dir],
                         capture_output=True)
    if gen.returncode != 0:
        log("pipeline: scripts/gen-certs failed:", (gen.stdout + gen.stderr).decode(errors="replace"))
        return 1
    ready = os.path.join(work, "inbeeld.ready")
    argv = ["timeout", "-k", "20", str(LIFETIME_S), os.path.join(args.bin_dir, "inbeeld"), "run",
            f"--tls-dir={args.certs_dir}", f"--ready-file={ready}", f"--state-dir={os.path.join(work, 'state')}",
            f"--config-dir={os.path.join(args.source_dir, 'deploy', 'config')}"]
    with open(os.path.join(work, "run.out"), "wb") as out, open(os.path.join(work, "run.err"), "wb") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                cwd=args.source_dir, start_new_session=True)
    with open(pid_file, "w") as f:
        f.write(str(proc.pid))
    started = time.monotonic()

    def wait_for(what, done, bound_s):
        give_up = time.monotonic() + bound_s
        while not done():
            if proc.poll() is not None:
                raise RuntimeError(f"inbeeld run exited with {proc.returncode} while waiting for {what}")
            if time.monotonic() > give_up:
                raise RuntimeError(f"no {what} within {bound_s} s")
            time.sleep(0.1)

    try:
        wait_for("ready file", lambda: os.path.exists(ready), READY_BOUND_S)
        wait_for("end of the demo", lambda: DEMO_DONE in tail(os.path.join(work, "run.out"), 1000),
                 DEMO_BOUND_S)
    except RuntimeError as e:
        log("FAIL: pipeline:", e)
        dump(work)
        stop_group(proc.pid)
        return 1
    with open(ready) as f:
        fields = json.load(f)
    log(f"pipeline ready after {time.monotonic() - started:.1f} s (pgid {proc.pid}):",
        json.dumps(fields, sort_keys=True))
    return 0


def stop(args):
    work = os.path.abspath(args.work_dir)
    pid_file = os.path.join(work, "pipeline.pid")
    if not os.path.exists(pid_file):
        log("pipeline: nothing to stop")
        return 0
    with open(pid_file) as f:
        pgid = int(f.read().strip())
    stop_group(pgid)
    alive = group_alive(pgid)
    shutil.rmtree(work, ignore_errors=True)
    log("pipeline stopped" if not alive else f"FAIL: process group {pgid} survived SIGKILL")
    return 1 if alive else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["start", "stop"])
    p.add_argument("--bin-dir")
    p.add_argument("--source-dir")
    p.add_argument("--work-dir", required=True)
    p.add_argument("--certs-dir")
    args = p.parse_args()
    if args.command == "start":
        if not (args.bin_dir and args.source_dir and args.certs_dir):
            p.error("start needs --bin-dir, --source-dir and --certs-dir")
        return start(args)
    return stop(args)


if __name__ == "__main__":
    sys.exit(main())
