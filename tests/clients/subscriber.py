"""An organisation following its signal stream during a check, as the README's
demo suggests: `inbeeld subscribe` for rmc-21 over mutual TLS, in its own
process group, stopped (SIGTERM, then SIGKILL) by stop()."""
import json
import os
import signal
import subprocess

ORGANISATIE = "rmc-21"


def start(bin_dir, ready_file, out_path, cwd):
    with open(ready_file) as f:
        ready = json.load(f)
    certs = ready["tls_dir"]
    argv = [os.path.join(bin_dir, "inbeeld"), "subscribe", f"--address={ready['delivery_grpc']}",
            f"--organisatie={ORGANISATIE}", f"--tls-ca={certs}/ca.crt",
            f"--tls-cert={certs}/clients/{ORGANISATIE}.crt", f"--tls-key={certs}/clients/{ORGANISATIE}.key"]
    with open(out_path, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
