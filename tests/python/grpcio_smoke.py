#!/usr/bin/python3
"""Smoke test of the public gRPC contract from another language: Python grpcio.

Starts `inbeeld run --demo=false --plaintext` itself, then, with message classes
built at run time from a protoc descriptor set (no generated Python code):
  - a valid InschrijvingsMutatie      -> OK, event_id of 32 hex characters
  - an invalid BSN                    -> INVALID_ARGUMENT naming leerling.bsn,
                                         google.rpc.BadRequest in the details
  - the same event again              -> OK, duplicate = true, same event_id
  - grpc.health.v1.Health/Check       -> SERVING
Exit 0 on success, 1 on any failure, 77 (skip) when this Python lacks grpc.

Usage: grpcio_smoke.py --bin-dir=DIR --descriptor-set=FILE
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
READY_TIMEOUT_S = 120  # child start-up on a loaded 2-core machine
RPC_TIMEOUT_S = 30
INVALID_BSN = "123456789"  # fails the eleven-test
# A valid synthetic BSN (eleven-test: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3 = 69,
# 69 mod 11 = 3 = last digit).
VALID_BSN = "111222333"


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    print(f"  ok: {what}")


def eleven_test(bsn):
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1)))
    return (total - int(bsn[8])) % 11 == 0


def message_class(pool, full_name):
    from google.protobuf import message_factory
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def add_health_descriptor(pool):
    """grpc.health.v1's two messages, handcrafted (grpcio ships no grpc_health)."""
    from google.protobuf import descriptor_pb2
    fd = descriptor_pb2.FileDescriptorProto(
        name="inbeeld_test/grpc_health_v1.proto", package="grpc.health.v1", syntax="proto3")
    req = fd.message_type.add(name="HealthCheckRequest")
    req.field.add(name="service", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                  label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    resp = fd.message_type.add(name="HealthCheckResponse")
    status = resp.enum_type.add(name="ServingStatus")
    for number, name in enumerate(["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"]):
        status.value.add(name=name, number=number)
    resp.field.add(name="status", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_ENUM,
                   label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                   type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus")
    pool.Add(fd)


def load_pool(descriptor_set_path):
    from google.protobuf import descriptor_pb2, descriptor_pool
    with open(descriptor_set_path, "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:  # --include_imports lists dependencies first
        pool.Add(fd)
    add_health_descriptor(pool)
    return pool


def start_run(bin_dir, work):
    ready = os.path.join(work, "run.ready")
    out = open(os.path.join(work, "run.out"), "wb")
    err = open(os.path.join(work, "run.err"), "wb")
    proc = subprocess.Popen(
        [os.path.join(bin_dir, "inbeeld"), "run", "--demo=false", "--plaintext", "--ready-file=" + ready,
         "--state-dir=" + os.path.join(work, "state"),
         # The repository's tables (WORKING_DIRECTORY is the source tree).
         "--config-dir=" + os.path.abspath(os.path.join("deploy", "config"))],
        stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    err.close()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not os.path.exists(ready):
        if proc.poll() is not None:
            raise Failure(f"inbeeld run exited during start-up with {proc.returncode}")
        if time.monotonic() > deadline:
            raise Failure("inbeeld run wrote no ready file in time")
        time.sleep(0.05)
    with open(ready) as f:
        return proc, json.load(f)


def stop_run(proc):
    """SIGTERM to the process group (inbeeld run and its services), then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group
        except ProcessLookupError:
            pass


def unary(channel, method, request_class, response_class):
    return channel.unary_unary(method, request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)


def run_checks(grpc, pool, address):
    Inschrijving = message_class(pool, "inbeeld.v1.InschrijvingsMutatie")
    Antwoord = message_class(pool, "inbeeld.v1.MeldAntwoord")
    RpcStatus = message_class(pool, "google.rpc.Status")
    BadRequest = message_class(pool, "google.rpc.BadRequest")
    HealthRequest = message_class(pool, "grpc.health.v1.HealthCheckRequest")
    HealthResponse = message_class(pool, "grpc.health.v1.HealthCheckResponse")
    enums = pool.FindFileContainingSymbol("inbeeld.v1.InschrijvingsMutatie")

    def enum_value(enum_name, value_name):
        return enums.enum_types_by_name[enum_name].values_by_name[value_name].number

    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT_S)
    meld = unary(channel, "/inbeeld.v1.MeldingService/MeldInschrijving", Inschrijving, Antwoord)

    event = Inschrijving(
        mutatie_id="py-smoke-1", bron="05KO", geboortedatum="2012-03-04", brin="05KO", vestiging="00",
        woongemeente="0363", soort=enum_value("MutatieSoort", "MUTATIE_SOORT_INSCHRIJVING"),
        ingangsdatum="2024-08-19", onderwijssoort=enum_value("Onderwijssoort", "ONDERWIJSSOORT_VO"))
    event.leerling.bsn = VALID_BSN

    print("valid event:")
    first = meld(event, timeout=RPC_TIMEOUT_S)
    check(re.fullmatch(r"[0-9a-f]{32}", first.event_id) is not None,
          f"OK with event_id of 32 hex ({first.event_id})")
    check(not first.duplicate, "first delivery is not a duplicate")

    print("invalid BSN:")
    bad = Inschrijving()
    bad.CopyFrom(event)
    bad.mutatie_id = "py-smoke-bad"
    bad.leerling.bsn = INVALID_BSN
    try:
        meld(bad, timeout=RPC_TIMEOUT_S)
        raise Failure("an invalid BSN was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"INVALID_ARGUMENT (got {e.code()})")
        check("leerling.bsn" in (e.details() or ""), f"message names leerling.bsn: {e.details()!r}")
        check(INVALID_BSN not in (e.details() or ""), "message does not echo the BSN")
        details = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
        check(details is not None, "grpc-status-details-bin present")
        status = RpcStatus.FromString(details)
        check(status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0], "google.rpc.Status code 3")
        violations = [BadRequest.FromString(any_.value).field_violations for any_ in status.details
                      if any_.type_url.endswith("/google.rpc.BadRequest")]
        fields = [v.field for vs in violations for v in vs]
        check(any("leerling.bsn" in f for f in fields), f"BadRequest field violation on leerling.bsn {fields}")

    print("duplicate:")
    again = meld(event, timeout=RPC_TIMEOUT_S)
    check(again.duplicate, "the same (bron, id) again is duplicate = true")
    check(again.event_id == first.event_id, "with the same event_id")

    print("health:")
    health = unary(channel, "/grpc.health.v1.Health/Check", HealthRequest, HealthResponse)
    answer = health(HealthRequest(), timeout=RPC_TIMEOUT_S)
    serving = HealthResponse.DESCRIPTOR.enum_types_by_name["ServingStatus"].values_by_name["SERVING"].number
    check(answer.status == serving, f"grpc.health.v1 Check is SERVING (got {answer.status})")
    channel.close()


TELLING_KOLOMMEN_EERSTE = ["av_nieuw", "av_open_31_juli", "av_opgelost"]


def telling_checks(grpc, pool, address):
    """TellingService over plaintext (the organisation then comes from the request)."""
    Req = message_class(pool, "inbeeld.v1.TellingRequest")
    Resp = message_class(pool, "inbeeld.v1.TellingResponse")
    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    grpc.channel_ready_future(channel).result(timeout=RPC_TIMEOUT_S)
    telling = unary(channel, "/inbeeld.v1.TellingService/Telling", Req, Resp)
    print("telling:")
    r = telling(Req(schooljaar="2023-2024", organisatie="rmc-21"), timeout=RPC_TIMEOUT_S)
    check(r.schooljaar == "2023-2024" and r.tot_en_met == "2024-07-31", f"schooljaar and tot_en_met ({r.tot_en_met})")
    gemeenten = {row.gemeentecode for row in r.gemeenten}
    check("0363" in gemeenten and "0599" not in gemeenten, "rmc-21's gemeenten only")
    check(all(k in r.gemeenten[0].cijfers for k in TELLING_KOLOMMEN_EERSTE + ["vrijstelling_loopt_af"]),
          "every row carries the columns of docs/TELLING.md")
    for request, code in [(Req(schooljaar="2023-2025", organisatie="rmc-21"), grpc.StatusCode.INVALID_ARGUMENT),
                          (Req(schooljaar="2023-2024", organisatie="rmc-21", gemeenten=["0599"]),
                           grpc.StatusCode.PERMISSION_DENIED)]:
        try:
            telling(request, timeout=RPC_TIMEOUT_S)
            raise Failure(f"{request} was answered")
        except grpc.RpcError as e:
            check(e.code() == code, f"{code} (got {e.code()}: {e.details()})")
    channel.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--descriptor-set", required=True)
    args = parser.parse_args()
    try:
        import grpc
        import google.protobuf  # noqa: F401
    except ImportError as e:
        print(f"SKIP: {sys.executable} has no grpc / protobuf ({e}); install python3-grpcio python3-protobuf")
        return SKIP
    assert eleven_test(VALID_BSN) and not eleven_test(INVALID_BSN)
    print(f"python {sys.version.split()[0]}, grpcio {grpc.__version__}, "
          f"protobuf {__import__('google.protobuf').protobuf.__version__}")
    work = tempfile.mkdtemp(prefix="inbeeld-pysmoke-")
    proc = None
    ok = False
    try:
        pool = load_pool(args.descriptor_set)
        proc, ready = start_run(args.bin_dir, work)
        check("ingest_grpc" in ready, f"inbeeld run is ready, ingest at {ready.get('ingest_grpc')}")
        run_checks(grpc, pool, ready["ingest_grpc"])
        telling_checks(grpc, pool, ready["signaling_grpc"])
        code = stop_run(proc)
        check(code == 0, f"inbeeld run stops with exit code 0 on SIGTERM (got {code})")
        with open(os.path.join(work, "run.out"), "rb") as f1, open(os.path.join(work, "run.err"), "rb") as f2:
            logs = f1.read() + f2.read()
        check(VALID_BSN.encode() not in logs and INVALID_BSN.encode() not in logs, "no BSN in the logs")
        ok = True
    except Failure as e:
        print(f"FAIL: {e}")
    except Exception:  # any surprise is a failure with a trace, never a pass
        traceback.print_exc()
    finally:
        stop_run(proc)
        if not ok:
            for name in ("run.out", "run.err"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print(f"--- {name} (last 40 lines) ---")
                        print("".join(f.readlines()[-40:]))
        shutil.rmtree(work, ignore_errors=True)
    print("PASS: python grpcio smoke test" if ok else "FAIL: python grpcio smoke test")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
