#!/usr/bin/python3
"""docs/OPERATIONS.md's metric tables are true: every family a table names is
exported by every service it names, and every inbeeld_* family a service
exports is named for that service.

Which service exports a family, per table under "## Metrics": the column
"exported by" (comma-separated service names) where the table has one, else the
service the section ("### ingest", ...) is named after. Exported: the family
has a `# TYPE` line or a sample in the service's /metrics, scraped from the
fixture pipeline (`inbeeld run`, after the demo) in its normal state: rmc-21
subscribed to delivery and one gRPC call (grpc.health.v1 Check) answered by each
gRPC service, as any client makes. Families that follow librdkafka statistics
appear within seconds: the scrape is repeated for up to SCRAPE_BOUND_S.
A failure names the family and the service. Exit 0 pass, 1 fail.

Usage: metric_families_test.py --source-dir=DIR --bin-dir=DIR --ready-file=PATH
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = ("ingest", "signaling", "routing", "delivery")
GRPC_SERVICES = ("ingest", "signaling", "delivery")
SCRAPE_BOUND_S = 60
CLIENT = "rmc-21"  # any client certificate of the development CA


class Failure(Exception):
    pass


def log(*parts):
    print(*parts, flush=True)


def split_row(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def documented_families(path):
    """{family: set of services} from the tables under '## Metrics'."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    families, section, header, in_metrics = {}, None, None, False
    for number, line in enumerate(lines, 1):
        if line.startswith("## "):
            in_metrics = line.strip() == "## Metrics"
            section, header = None, None
            continue
        if not in_metrics:
            continue
        if line.startswith("### "):
            section, header = line[4:].strip(), None
            continue
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = split_row(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if "metric" not in header:
            raise Failure(f"OPERATIONS.md:{number}: a table under '## Metrics' without a 'metric' column")
        m = re.fullmatch(r"`(inbeeld_[a-z0-9_]+)`", cells[header.index("metric")])
        if not m:
            raise Failure(f"OPERATIONS.md:{number}: metric cell {cells[header.index('metric')]!r} is not `inbeeld_…`")
        if "exported by" in header:
            services = {s.strip() for s in cells[header.index("exported by")].split(",")}
        elif section in SERVICES:
            services = {section}
        else:
            raise Failure(f"OPERATIONS.md:{number}: section '{section}' is not a service and its table has no "
                          "'exported by' column")
        unknown = services - set(SERVICES)
        if unknown:
            raise Failure(f"OPERATIONS.md:{number}: {m.group(1)} names unknown service(s) {sorted(unknown)}")
        if m.group(1) in families:
            raise Failure(f"OPERATIONS.md:{number}: {m.group(1)} is listed twice")
        families[m.group(1)] = services
    return families


def exported_families(address):
    """Family names at http://address/metrics: each `# TYPE` line, and any
    sample without one (a histogram's NAME_bucket/_sum/_count belong to the
    family NAME of their TYPE line)."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as r:
        text = r.read().decode("utf-8")
    typed, samples = set(), set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            samples.add(re.split(r"[{\s]", line, 1)[0])
    untyped = {n for n in samples
               if n not in typed and not any(n == t + sfx for t in typed for sfx in ("_bucket", "_sum", "_count"))}
    return {n for n in typed | untyped if n.startswith("inbeeld_")}


def health_checks(ready):
    """One grpc.health.v1 Check per gRPC service (mutual TLS): the gRPC
    families appear with a service's first call."""
    import grpc
    certs = ready["tls_dir"]

    def read(name):
        with open(os.path.join(certs, name), "rb") as f:
            return f.read()
    for svc in GRPC_SERVICES:
        creds = grpc.ssl_channel_credentials(read("ca.crt"), read(f"clients/{CLIENT}.key"),
                                             read(f"clients/{CLIENT}.crt"))
        with grpc.secure_channel(ready[f"{svc}_grpc"], creds) as channel:
            answer = channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=10)
        if answer != b"\x08\x01":  # HealthCheckResponse{status: SERVING}
            raise Failure(f"{svc}: health Check answered {answer!r}, not SERVING")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source-dir", required=True)
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--ready-file", required=True)
    args = p.parse_args()
    sys.path.insert(0, HERE)
    import subscriber
    work = tempfile.mkdtemp(prefix="inbeeld-metric-families-")
    follower = None
    try:
        doc = documented_families(os.path.join(args.source_dir, "docs", "OPERATIONS.md"))
        if len(doc) < 20 or {s for ss in doc.values() for s in ss} != set(SERVICES):
            raise Failure(f"read only {len(doc)} families for {sorted({s for ss in doc.values() for s in ss})} "
                          "from OPERATIONS.md: is the table format right?")
        with open(args.ready_file) as f:
            ready = json.load(f)
        follower = subscriber.start(args.bin_dir, args.ready_file, os.path.join(work, "subscribe.out"),
                                    args.source_dir)
        health_checks(ready)

        def problems_now():
            exported = {svc: exported_families(ready[f"{svc}_metrics"]) for svc in SERVICES}
            missing = [(fam, svc) for fam, svcs in sorted(doc.items()) for svc in sorted(svcs)
                       if fam not in exported[svc]]
            undocumented = [(fam, svc) for svc in SERVICES for fam in sorted(exported[svc])
                            if svc not in doc.get(fam, ())]
            return exported, missing, undocumented

        give_up = time.monotonic() + SCRAPE_BOUND_S
        while True:
            exported, missing, undocumented = problems_now()
            if not (missing or undocumented) or time.monotonic() > give_up:
                break
            time.sleep(1)
        log("documented:", ", ".join(f"{svc} {sum(svc in s for s in doc.values())}" for svc in SERVICES),
            "| exported:", ", ".join(f"{svc} {len(exported[svc])}" for svc in SERVICES))
        lines = [f"{fam}: OPERATIONS.md says {svc} exports it; {svc}'s /metrics has no such family"
                 for fam, svc in missing]
        lines += [f"{fam}: {svc} exports it; OPERATIONS.md does not list it for {svc}" for fam, svc in undocumented]
        if lines:
            raise Failure(f"{len(lines)} metric table entr(y/ies) untrue:\n  " + "\n  ".join(lines))
        log(f"PASS: {len(doc)} families, each exported by exactly the services OPERATIONS.md names")
        return 0
    except Failure as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        subscriber.stop(follower)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
