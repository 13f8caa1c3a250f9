#!/usr/bin/python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from tests/scenarios and
deploy/config (run from anywhere; needs protoc and python3-protobuf, both from
scripts/setup). The output is checked in; rerun after a contract change."""
import hashlib
import importlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
TOPICS = ["verzuimmelding", "inschrijvingsmutatie", "adresmutatie", "vrijstelling"]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def protos():
    out = tempfile.mkdtemp()
    files = [str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto/inbeeld/v1").glob("*.proto")]
    files = [f for f in files if "service" not in f]
    subprocess.run(["protoc", "-I", str(ROOT / "proto"), "--python_out", out] + files, check=True)
    sys.path.insert(0, out)
    from google.protobuf import json_format
    return json_format, importlib.import_module("inbeeld.v1.events_pb2"), importlib.import_module("inbeeld.v1.signaal_pb2")


def main():
    json_format, events_pb2, signaal_pb2 = protos()
    for f in sorted((ROOT / "tests/scenarios").glob("*.events.jsonl")):
        lines = [l for l in f.read_text().splitlines() if l.strip()]
        # replay: the scenario as a file (the first lines, to stay small).
        text = ""
        for l in lines:
            if len(text) + len(l) > 3000:
                break
            text += l + "\n"
        write("replay_fuzz", text)
        for l in lines:
            event = json_format.Parse(l, events_pb2.Event())
            write("validation_fuzz", event.SerializeToString())
            kind = event.WhichOneof("event")
            inner = getattr(event, kind).SerializeToString()
            write("event_decode_fuzz", bytes([TOPICS.index(kind)]) + inner)
    for f in sorted((ROOT / "tests/scenarios").glob("*.expected.jsonl")):
        for l in f.read_text().splitlines():
            if l.strip():
                write("signaal_decode_fuzz", json_format.Parse(l, signaal_pb2.Signaal()).SerializeToString())
    org = (ROOT / "deploy/config/organisaties.csv").read_text().splitlines()
    her = (ROOT / "deploy/config/herindelingen.csv").read_text().splitlines()
    write("organisatie_tabel_fuzz", "\n".join(org[:25]) + "\n\f" + "\n".join(her[:25]) + "\n")
    # The herindelingen that chain and split, with the gemeenten they name.
    split = [h for h in her[1:] if h.split(",")[1] in ("0501", "1924", "0614", "0585", "0588")]
    codes = {h.split(",")[1] for h in split} | {h.split(",")[3] for h in split}
    rows = [org[0]] + [r for r in org[1:] if r.split(",")[0] in codes]
    write("organisatie_tabel_fuzz", "\n".join(rows) + "\n\f" + her[0] + "\n" + "\n".join(split) + "\n")
    write("organisatie_tabel_fuzz", org[0] + '\r\n0363,ams,"Amsterdam, ""Leerplicht""",,2020-01-01,2030-12-31,rmc-21\r\n\f' + her[0] + "\r\n")
    for c in ["", "0:15", "0:15,1:3", "3:0,0:9223372036854775806"]:
        write("cursor_fuzz", c)
    for argv in [
        ["--kafka=127.0.0.1:9092", "--kafka-config=security.protocol=SASL_SSL,sasl.mechanism=PLAIN",
         "--batch-size=500", "--reload-interval=5s", "--plaintext"],
        ["events.jsonl", "--until=2024-08-01", "--log-level=debug", "--partitions=4", "--demo=false"],
        ["--reload-interval=1h30m", "--batch-size=-1", "--"],
        ["--ready-file", "/tmp/r.json", "--partitions", "70", "--demo", "false", "-h"],
        ["--pseudonym-secret=", "--grpc-listen", "127.0.0.1:0", "--tls-cert", "a.pem", "stray", "--no-such"],
    ]:
        write("config_fuzz", "\0".join(argv))


if __name__ == "__main__":
    main()
