#!/usr/bin/python3
"""Runs the README's client examples (section "Clients") against the fixture
pipeline, so the README cannot drift from what works.

Every example in the README is a fenced code block preceded by a marker
`<!-- clients-test: NAME -->`. This script runs one example (--example NAME)
exactly as written, except for two substitutions: the ready-file path
/tmp/inbeeld.ready becomes the fixture's, and the code generation directory
/tmp/inbeeld-py a private one. Shell examples run after the `shell-setup`
block in one bash; Python examples run after `python-prelude` in
/usr/bin/python3 (Debian's python3-grpcio), after `python-codegen`.

--list-check only checks that the README has exactly the expected markers.

Exit 0 pass, 1 fail, 77 skip (grpcurl not installed, outside CI).

Usage: readme_examples.py --readme=README.md --source-dir=DIR --ready-file=PATH
                          (--example=NAME | --list-check)
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
README_READY = "/tmp/inbeeld.ready"
README_CODEGEN = "/tmp/inbeeld-py"
PYTHON = "/usr/bin/python3"  # Debian's python3-grpcio lives here
RUN_BOUND_S = 120
# grpcurl exits with 64 + the gRPC status code of an error answer.
GRPCURL_DEADLINE_EXCEEDED = 64 + 4
GRPCURL_PERMISSION_DENIED = 64 + 7

SETUP_BLOCKS = {"shell-setup", "python-codegen", "python-prelude"}
EXAMPLES = {
    "grpcurl-health", "grpcurl-reflection", "grpcurl-meldverzuim", "grpcurl-subscribe",
    "python-health", "python-reflection", "python-meldverzuim", "python-subscribe",
}


class Failure(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def check(condition, what, output=None):
    if not condition:
        raise Failure(what + (f"\n--- output ---\n{output}" if output is not None else ""))
    log("  ok:", what)


def readme_blocks(path):
    """{marker name: code} for every `<!-- clients-test: NAME -->` + fenced block."""
    text = open(path, encoding="utf-8").read()
    blocks = {}
    pattern = re.compile(r"<!--\s*clients-test:\s*([\w-]+)\s*-->\s*\n```[\w-]*\n(.*?)\n```", re.S)
    for m in pattern.finditer(text):
        if m.group(1) in blocks:
            raise Failure(f"README marker clients-test: {m.group(1)} appears twice")
        blocks[m.group(1)] = m.group(2) + "\n"
    markers = re.findall(r"<!--\s*clients-test:\s*([\w-]+)\s*-->", text)
    unmatched = set(markers) - set(blocks)
    if unmatched:
        raise Failure(f"README markers without a fenced code block right after them: {sorted(unmatched)}")
    return blocks


def json_values(text):
    """The JSON documents grpcurl prints one after another."""
    decoder, i, values = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] not in "{[":
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


class Runner:
    def __init__(self, args, blocks, work):
        self.args, self.blocks, self.work = args, blocks, work
        self.codegen_dir = os.path.join(work, "inbeeld-py")
        self.codegen_done = False

    def substitute(self, code):
        return code.replace(README_READY, self.args.ready_file).replace(README_CODEGEN, self.codegen_dir)

    def run(self, argv, name, stdin_code):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(stdin_code)
        log(f"$ {' '.join(argv)} {name}")
        try:
            r = subprocess.run(argv + [path], cwd=self.args.source_dir, capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=RUN_BOUND_S)
        except subprocess.TimeoutExpired:
            raise Failure(f"{name} did not finish within {RUN_BOUND_S} s")
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        log(f"  exit {r.returncode}; stdout:\n{out.rstrip()}\n  stderr:\n{err.rstrip()}")
        return r.returncode, out, err

    def shell(self, name, code=None):
        script = "set -u\n" + self.substitute(self.blocks["shell-setup"]) + \
            self.substitute(code if code is not None else self.blocks[name])
        return self.run(["bash"], name + ".sh", script)

    def python(self, name, code=None):
        if not self.codegen_done:
            rc, out, err = self.run(["bash"], "python-codegen.sh",
                                    "set -eu\n" + self.substitute(self.blocks["python-codegen"]))
            check(rc == 0, "python-codegen: protoc generates the Python code", out + err)
            self.codegen_done = True
        script = self.substitute(self.blocks["python-prelude"]) + "\n" + \
            self.substitute(code if code is not None else self.blocks[name])
        return self.run([PYTHON], name + ".py", script)


def need_grpcurl(source_dir):
    local = os.path.join(source_dir, ".cache", "bin", "grpcurl")
    if os.access(local, os.X_OK) or shutil.which("grpcurl"):
        return None
    message = ("grpcurl is not installed: scripts/setup installs it into .cache/bin when Go is present "
               "(install Go, then rerun scripts/setup)")
    if os.environ.get("CI") == "true":
        raise Failure(message + "; CI must run the grpcurl examples")
    return message


def need_python_grpc():
    r = subprocess.run([PYTHON, "-c", "import grpc, google.protobuf"], capture_output=True)
    if r.returncode == 0:
        return None
    message = f"{PYTHON} lacks grpc/protobuf (Debian packages python3-grpcio python3-protobuf, scripts/setup)"
    if os.environ.get("CI") == "true":
        raise Failure(message)
    return message


# --- the examples' checks ---------------------------------------------------

def grpcurl_health(r):
    rc, out, err = r.shell("grpcurl-health")
    check(rc == 0, "grpcurl health check exits 0", out + err)
    answers = json_values(out)
    check(answers == [{"status": "SERVING"}], f"grpc.health.v1.Health/Check answers SERVING ({answers})", out)


def grpcurl_reflection(r):
    rc, out, err = r.shell("grpcurl-reflection")
    check(rc == 0, "grpcurl list / describe exit 0", out + err)
    lines = [line.strip() for line in out.splitlines()]
    for service in ("inbeeld.v1.MeldingService", "grpc.health.v1.Health"):
        check(service in lines, f"list shows {service}", out)
    check(any(line.startswith("grpc.reflection.") for line in lines), "list shows the reflection service", out)
    for rpc in ("rpc MeldVerzuim ( .inbeeld.v1.VerzuimMelding ) returns ( .inbeeld.v1.MeldAntwoord );",
                "rpc MeldBatch ( stream .inbeeld.v1.Event ) returns ( .inbeeld.v1.BatchAntwoord );",
                "rpc MeldBundles ( stream .inbeeld.v1.EventBundle ) returns ( .inbeeld.v1.BatchAntwoord );"):
        check(rpc in lines, f"describe inbeeld.v1.MeldingService shows '{rpc}'", out)
    for field in ("string melding_id = 1;", ".inbeeld.v1.Leerling leerling = 3;",
                  ".inbeeld.v1.VerzuimSoort soort = 8;"):
        check(field in lines, f"describe inbeeld.v1.VerzuimMelding shows '{field}'", out)


def grpcurl_meld_twice(r):
    """The README's MeldVerzuim twice: accepted, then the same event_id as a duplicate."""
    answers = []
    for attempt in (1, 2):
        rc, out, err = r.shell("grpcurl-meldverzuim")
        check(rc == 0, f"MeldVerzuim call {attempt} exits 0", out + err)
        values = json_values(out)
        check(len(values) == 1 and re.fullmatch(r"[0-9a-f]{32}", values[0].get("event_id", "")),
              f"MeldVerzuim call {attempt} answers an event_id of 32 hex ({values})", out)
        answers.append(values[0])
    check(answers[0]["event_id"] == answers[1]["event_id"], "the repeat gets the same event_id")
    check(answers[1].get("duplicate") is True, "the repeat is duplicate: true")


def grpcurl_meldverzuim(r):
    grpcurl_meld_twice(r)


def find_signal(values, melding_id):
    for v in values:
        s = v.get("signaal", {})
        if s.get("melding", {}).get("melding_id") == melding_id:
            return v
    return None


def grpcurl_subscribe(r):
    grpcurl_meld_twice(r)  # the melding whose signal the subscriber must see
    found = None
    for attempt in range(1, 4):  # the signal may take longer than -max-time on a loaded machine
        rc, out, err = r.shell("grpcurl-subscribe")
        check(rc in (0, GRPCURL_DEADLINE_EXCEEDED),
              f"Subscribe ends by -max-time (exit {GRPCURL_DEADLINE_EXCEEDED}, got {rc})", out + err)
        values = json_values(out)
        found = find_signal(values, "readme-grpcurl-1")
        if found:
            break
        log(f"  attempt {attempt}: {len(values)} signal(s), not yet the melding's")
    check(found is not None, "the stream has the signal of melding readme-grpcurl-1", out)
    s = found["signaal"]
    check(s.get("soort") == "SIGNAAL_SOORT_VERZUIMMELDING", f"soort VERZUIMMELDING ({s.get('soort')})")
    check(s.get("organisatie") == "rmc-21", f"for organisatie rmc-21 ({s.get('organisatie')})")
    check(s.get("woongemeente") == "0363", f"woongemeente 0363 ({s.get('woongemeente')})")
    check(s.get("peildatum") == "2026-11-16", f"peildatum = meldingsdatum ({s.get('peildatum')})")
    check(s.get("jongere", {}).get("bsn") == "111222333", "the organisation receives the identity")
    check(bool(found.get("cursor")), "with a cursor to resume after")
    check(all(v.get("signaal", {}).get("organisatie") == "rmc-21" for v in values),
          "every signal in rmc-21's stream is rmc-21's")
    # The README's claim: another organisation's stream with this certificate is refused.
    other = r.blocks["grpcurl-subscribe"].replace('{"organisatie": "rmc-21"}', '{"organisatie": "rmc-29"}')
    check(other != r.blocks["grpcurl-subscribe"], "the subscribe example names rmc-21 as written")
    rc, out, err = r.shell("grpcurl-subscribe-other", other)
    check(rc == GRPCURL_PERMISSION_DENIED and "PermissionDenied" in out + err,
          f"rmc-21's certificate asking for rmc-29 is PermissionDenied (exit {rc})", out + err)


def python_health(r):
    rc, out, err = r.python("python-health")
    check(rc == 0, "python health example exits 0", out + err)
    check(out.split() == ["SERVING"], "prints SERVING", out)


def python_reflection(r):
    rc, out, err = r.python("python-reflection")
    check(rc == 0, "python reflection example exits 0", out + err)
    lines = out.splitlines()
    for service in ("inbeeld.v1.MeldingService", "grpc.health.v1.Health"):
        check(service in lines, f"lists {service}", out)
    rpc = "rpc MeldVerzuim(inbeeld.v1.VerzuimMelding) returns (inbeeld.v1.MeldAntwoord)"
    check(rpc in lines, f"describes '{rpc}'", out)


def python_meld_twice(r):
    answers = []
    for attempt in (1, 2):
        rc, out, err = r.python("python-meldverzuim")
        check(rc == 0, f"python MeldVerzuim call {attempt} exits 0", out + err)
        m = re.fullmatch(r"event_id ([0-9a-f]{32}) duplicate (True|False)\n", out)
        check(m is not None, f"call {attempt} prints an event_id of 32 hex and duplicate", out)
        answers.append(m.groups())
    check(answers[0][0] == answers[1][0], "the repeat gets the same event_id")
    check(answers[1][1] == "True", "the repeat is duplicate True")


def python_meldverzuim(r):
    python_meld_twice(r)


def python_subscribe(r):
    python_meld_twice(r)
    rc, out, err = r.python("python-subscribe")
    check(rc == 0, "python subscribe example exits 0 (it found the melding's signal before its timeout)", out + err)
    last = out.splitlines()[-1].split() if out.strip() else []
    check(last[:5] == ["SIGNAAL_SOORT_VERZUIMMELDING", "rmc-21", "0363", "2026-11-16", "readme-python-1"],
          f"the last signal is the melding's VERZUIMMELDING for rmc-21 ({last})", out)
    check(len(last) == 7 and last[5] == "cursor" and last[6], "with a cursor", out)


CHECKS = {
    "grpcurl-health": grpcurl_health, "grpcurl-reflection": grpcurl_reflection,
    "grpcurl-meldverzuim": grpcurl_meldverzuim, "grpcurl-subscribe": grpcurl_subscribe,
    "python-health": python_health, "python-reflection": python_reflection,
    "python-meldverzuim": python_meldverzuim, "python-subscribe": python_subscribe,
}
assert set(CHECKS) == EXAMPLES


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--readme", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--ready-file")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--example", choices=sorted(EXAMPLES))
    g.add_argument("--list-check", action="store_true")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="inbeeld-clients-")
    started = time.monotonic()
    try:
        blocks = readme_blocks(args.readme)
        expected = EXAMPLES | SETUP_BLOCKS
        check(set(blocks) == expected,
              f"the README has exactly the example markers the test knows (missing: {sorted(expected - set(blocks))}, "
              f"unknown: {sorted(set(blocks) - expected)})")
        if args.list_check:
            log("PASS: README client example markers")
            return 0
        if not args.ready_file or not os.path.exists(args.ready_file):
            raise Failure(f"no ready file {args.ready_file}: is the clients_pipeline fixture running?")
        skip = need_grpcurl(args.source_dir) if args.example.startswith("grpcurl") else need_python_grpc()
        if skip:
            log("SKIP:", skip)
            return SKIP
        CHECKS[args.example](Runner(args, blocks, work))
        log(f"PASS: README example {args.example} ({time.monotonic() - started:.1f} s)")
        return 0
    except Failure as e:
        log(f"FAIL: README example {args.example or 'markers'}: {e}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
