#!/usr/bin/python3
"""Starts every service the way the image does (issue #15), without Docker.

The image layout comes from deploy/Dockerfile itself (image_layout.py: the
runtime stage's COPY lines, ENV, WORKDIR, ENTRYPOINT, CMD), the command lines
and environment from deploy/docker-compose.yml. Under a temp root R:
  - exactly the files the Dockerfile ships, at R/<destination>; R/<WORKDIR>,
    R/tmp; nothing else of the repository;
  - /run/inbeeld-secrets as compose fills it: scripts/gen-certs output and a
    pseudonym_secret file (read through the image's entrypoint);
  - every absolute path in the image's ENV and in the compose command and
    environment moved under R; listeners on 127.0.0.1:0; --kafka at the
    embedded cluster (inbeeld-test-kafka);
  - a clean environment (PATH with the built binaries; no INBEELD_* of the
    caller) and an empty working directory of its own.
Each service must become ready (ready file; /metrics answers; gRPC health
SERVING over mutual TLS for the gRPC services), exit 0 on SIGTERM, log no
error and no path of the source or build tree, and write nothing into its
working directory nor anywhere under R except R/tmp and (signaling, routing)
R/<INBEELD_DATA_DIR>/<service>. Every file a service requires is shown to be
read from R: with it removed from R the service must exit 2 instead.
The image's CMD (`inbeeld --help`) must exit 0 from an empty directory.

Usage: image_start_test.py --source-dir=DIR --bin-dir=DIR --tests-dir=DIR
Exit 0 pass, 1 fail.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import image_layout  # noqa: E402

READY_BOUND_S = 60   # a loaded 2-core machine; the services are ready in about a second
EXIT_BOUND_S = 15    # the process contract's 10 s, with margin
STATEFUL = ("signaling", "routing")
GRPC = ("ingest", "signaling", "delivery")
CLIENT = "rmc-21"


class Failure(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def under(root, path):
    return os.path.join(root, path.lstrip("/"))


def snapshot(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def stop_group(proc, bound_s=EXIT_BOUND_S):
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(timeout=bound_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


class Image:
    """The temp root in the image's layout."""

    def __init__(self, source_dir, bin_dir, root):
        self.source_dir, self.bin_dir, self.root = source_dir, bin_dir, root
        self.layout = image_layout.parse_dockerfile(os.path.join(source_dir, "deploy", "Dockerfile"))
        if not self.layout.config_dir() or not self.layout.data_dir():
            raise Failure("deploy/Dockerfile sets no INBEELD_CONFIG_DIR / INBEELD_DATA_DIR")
        for src, dest in self.layout.files:
            target = under(root, dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(source_dir, src), target)
        os.makedirs(under(root, self.layout.workdir), exist_ok=True)
        os.makedirs(under(root, "/tmp"), exist_ok=True)
        with open(os.path.join(source_dir, "deploy", "docker-compose.yml")) as f:
            self.compose = yaml.safe_load(f)["services"]
        secrets = under(root, "/run/inbeeld-secrets")
        gen = subprocess.run([os.path.join(source_dir, "scripts", "gen-certs"), secrets], capture_output=True)
        if gen.returncode != 0:
            raise Failure("scripts/gen-certs failed: " + (gen.stdout + gen.stderr).decode(errors="replace"))
        with open(os.path.join(secrets, "pseudonym_secret"), "w") as f:
            f.write(os.urandom(32).hex())  # what compose's secrets-init writes
        self.secrets = secrets

    def rebase(self, value, kafka):
        """A compose/ENV value as the test runs it."""
        if value.startswith("--kafka="):
            return "--kafka=" + kafka
        flag, eq, v = value.partition("=")
        if flag.startswith("--") and flag.endswith("-listen") and eq:
            return f"{flag}=127.0.0.1:0"
        if eq and v.startswith("/"):
            return f"{flag}={under(self.root, v)}"
        if value.startswith("/"):
            return under(self.root, value)
        return value

    def service_argv_env(self, service, kafka):
        svc = self.compose.get(service)
        if not svc or not svc.get("command") or svc["command"][0] != f"inbeeld-{service}":
            raise Failure(f"docker-compose.yml has no service {service} running inbeeld-{service}")
        argv = [self.rebase(a, kafka) for a in svc["command"]]
        env = {"PATH": f"{self.bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8"}
        for k, v in list(self.layout.env.items()) + list((svc.get("environment") or {}).items()):
            env[k] = self.rebase(str(v), kafka)
        return argv, env

    def entrypoint(self):
        return [under(self.root, p) if p.startswith("/") else p for p in self.layout.entrypoint]


def grpc_health(address, secrets):
    import grpc

    def read(name):
        with open(os.path.join(secrets, name), "rb") as f:
            return f.read()
    creds = grpc.ssl_channel_credentials(read("ca.crt"), read(f"clients/{CLIENT}.key"), read(f"clients/{CLIENT}.crt"))
    with grpc.secure_channel(address, creds) as channel:
        return channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10)


def forbidden_paths(text, paths):
    return [p for p in paths if p and p in text]


def start(image, service, kafka, work, tag):
    argv, env = image.service_argv_env(service, kafka)
    cwd = os.path.join(work, f"cwd-{service}-{tag}")
    os.makedirs(cwd)
    out, err = os.path.join(work, f"{service}-{tag}.out"), os.path.join(work, f"{service}-{tag}.err")
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(image.entrypoint() + argv, cwd=cwd, env=env, stdout=o, stderr=e,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, cwd, err, argv


def check_service(image, service, kafka, work):
    ready_file = under(image.root, "/tmp/inbeeld-ready.json")
    if os.path.exists(ready_file):
        os.remove(ready_file)
    before = snapshot(image.root)
    proc, cwd, err, argv = start(image, service, kafka, work, "image")
    try:
        give_up = time.monotonic() + READY_BOUND_S
        while not os.path.exists(ready_file):
            if proc.poll() is not None:
                raise Failure(f"{service} exited {proc.returncode} before it was ready:\n{tail(err)}")
            if time.monotonic() > give_up:
                raise Failure(f"{service}: no ready file within {READY_BOUND_S} s:\n{tail(err)}")
            time.sleep(0.1)
        with open(ready_file) as f:
            ready = json.load(f)
        with urllib.request.urlopen(f"http://{ready['metrics']}/metrics", timeout=10) as r:
            if r.status != 200 or b"inbeeld_" not in r.read():
                raise Failure(f"{service}: /metrics at {ready['metrics']} without inbeeld_ families")
        if service in GRPC:
            answer = grpc_health(ready["grpc"], image.secrets)
            if answer != b"\x08\x01":
                raise Failure(f"{service}: gRPC health over mutual TLS answered {answer!r}, not SERVING")
    finally:
        code = stop_group(proc)
    logs = tail(err, 10**6)
    if code != 0:
        raise Failure(f"{service}: exit {code} after SIGTERM (expected 0):\n{tail(err)}")
    errors = [line for line in logs.splitlines() if '"level":"error"' in line]
    if errors:
        raise Failure(f"{service} logged errors:\n" + "\n".join(errors))
    leaked = forbidden_paths(logs, [image.source_dir, os.path.dirname(image.bin_dir.rstrip("/"))])
    if leaked:
        raise Failure(f"{service}'s log names the source/build tree ({leaked}): it reads a file from there, "
                      f"not from the image layout:\n{tail(err)}")
    if os.listdir(cwd):
        raise Failure(f"{service} wrote into its working directory: {sorted(os.listdir(cwd))}")
    data = os.path.relpath(under(image.root, image.layout.data_dir()), image.root)
    allowed = ["tmp"] + ([os.path.join(data, service)] if service in STATEFUL else [])
    new = sorted(p for p in snapshot(image.root) - before
                 if not any(p == a or p.startswith(a + os.sep) for a in allowed))
    if new:
        raise Failure(f"{service} wrote outside {' and '.join('/' + a for a in allowed)}: {['/' + p for p in new]}")
    if service in STATEFUL and not os.listdir(under(image.root, os.path.join(image.layout.data_dir(), service))):
        raise Failure(f"{service}: no state in {os.path.join(image.layout.data_dir(), service)}")
    log(f"ok: {service} ready from the image layout ({' '.join(argv[:1])}, grpc={ready.get('grpc', '-')}, "
        f"metrics={ready['metrics']}), exit 0, working directory empty")


def check_reads_from_layout(image, service, kafka, work):
    """Without a file it requires, the service refuses to start (exit 2): so it
    reads that file from the image layout, not from a path compiled in."""
    for flag, name in image_layout.SERVICE_FILES[service].items():
        if (service, flag) in image_layout.OPTIONAL_FILES:
            continue
        path = under(image.root, os.path.join(image.layout.config_dir(), name))
        hidden = path + ".hidden"
        os.rename(path, hidden)
        try:
            ready_file = under(image.root, "/tmp/inbeeld-ready.json")
            if os.path.exists(ready_file):
                os.remove(ready_file)
            proc, _, err, _ = start(image, service, kafka, work, f"without-{flag}")
            give_up = time.monotonic() + READY_BOUND_S
            while proc.poll() is None and not os.path.exists(ready_file) and time.monotonic() < give_up:
                time.sleep(0.05)
            code = proc.poll()
            if code is None:
                stop_group(proc)
                raise Failure(f"{service} started without {os.path.join(image.layout.config_dir(), name)} "
                              f"(--{flag}): it reads the file from somewhere else:\n{tail(err)}")
            if code != 2:
                raise Failure(f"{service} without {name} (--{flag}): exit {code}, expected 2:\n{tail(err)}")
        finally:
            os.rename(hidden, path)
        log(f"ok: {service} without {os.path.join(image.layout.config_dir(), name)}: exit 2")


def check_default_cmd(image, work):
    cwd = os.path.join(work, "cwd-cmd")
    os.makedirs(cwd)
    env = {"PATH": f"{image.bin_dir}:/usr/bin:/bin"}
    env.update({k: image.rebase(v, "") for k, v in image.layout.env.items()})
    r = subprocess.run(image.entrypoint() + image.layout.cmd, cwd=cwd, env=env, capture_output=True, timeout=30)
    text = (r.stdout + r.stderr).decode(errors="replace")
    if r.returncode != 0 or "usage" not in text:
        raise Failure(f"the image's CMD {image.layout.cmd}: exit {r.returncode}, output:\n{text}")
    if os.listdir(cwd):
        raise Failure(f"{image.layout.cmd} wrote into its working directory: {os.listdir(cwd)}")
    log(f"ok: CMD {' '.join(image.layout.cmd)} exits 0 with its usage")


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source-dir", required=True)
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--tests-dir", required=True)
    args = p.parse_args()
    source_dir, bin_dir = os.path.abspath(args.source_dir), os.path.abspath(args.bin_dir)
    work = tempfile.mkdtemp(prefix="inbeeld-image-start-")
    kafka_proc = None
    started = time.monotonic()
    try:
        image = Image(source_dir, bin_dir, os.path.join(work, "root"))
        log("image layout:", ", ".join(f"{s} -> {d}" for s, d in image.layout.files),
            "| ENV", " ".join(f"{k}={v}" for k, v in image.layout.env.items()))
        kafka_ready = os.path.join(work, "kafka.ready")
        kafka_proc = subprocess.Popen([os.path.join(os.path.abspath(args.tests_dir), "inbeeld-test-kafka"),
                                       kafka_ready], stdin=subprocess.DEVNULL, start_new_session=True)
        give_up = time.monotonic() + READY_BOUND_S
        while not os.path.exists(kafka_ready):
            if kafka_proc.poll() is not None or time.monotonic() > give_up:
                raise Failure("the embedded Kafka cluster did not start")
            time.sleep(0.05)
        with open(kafka_ready) as f:
            kafka = f.read().strip()
        check_default_cmd(image, work)
        for service in os.environ.get("IMAGE_START_SERVICES", " ".join(image_layout.SERVICES)).split():
            check_service(image, service, kafka, work)
            check_reads_from_layout(image, service, kafka, work)
        log(f"PASS: {len(image_layout.SERVICES)} services and the image's CMD start from the image layout "
            f"({time.monotonic() - started:.1f} s)")
        return 0
    except (Failure, OSError, subprocess.SubprocessError, ValueError) as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        if kafka_proc is not None:
            stop_group(kafka_proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
