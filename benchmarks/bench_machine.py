"""How much the engine costs on top of the requests it makes.

Runs the ``ci`` profile against the embedded reference server, recording every request, then
replays exactly those requests (ids of created SMS rebound) with a bare ``httpx.Client`` against
a fresh embedded server. Prints state-machine steps per second, requests per second for both,
their ratio, how the engine's time splits between the transport (ASGI and the server) and
the engine itself, and the wall time of the ``ci`` profile. ``--record FILE`` also writes the
run's requests (ids masked) and counts, to check that a change moved no draw: two builds at
one seed must write identical files.

    .venv/bin/python benchmarks/bench_machine.py [--seed N] [--profile ci]
"""

from __future__ import annotations

import argparse
import json
import re
import time

import httpx

from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.refserver import ReferenceServer
from conformance.reporting.json_report import to_json_dict
from conformance.target import embedded_target
from conformance.transport import SyncASGITransport

ID = re.compile(r"acti_[A-Za-z0-9]+")


def record(
    file: str,
    sent: list[tuple[str, str, object, dict, dict]],
    wire: list[tuple[str, str, bytes]],
    report: dict,
) -> None:
    """Write what must not move between two builds at one seed, ids masked: every request the
    state machine sent (method, path, params, body), every request that reached the server
    (schema phase and fixtures included: method, URL, raw body), and the report's counts."""
    masks: dict[str, str] = {}

    def mask(text: str) -> str:
        text = text.replace(report["run_id"], "RUN")  # random per run (names of its leads)
        return ID.sub(lambda match: masks.setdefault(match.group(0), f"ID{len(masks)}"), text)

    sequence = [
        [method, mask(path), mask(json.dumps(params, sort_keys=True)), mask(json.dumps(body))]
        for method, path, body, params, _ in sent
    ]
    on_the_wire = [
        [method, mask(url), mask(body.decode("utf-8", "replace"))] for method, url, body in wire
    ]
    checked = {rule["id"]: rule["checked"] for rule in report["rules"]}
    with open(file, "w") as out:
        json.dump(
            {
                "verdict": report["verdict"],
                "requests": report["stats"]["requests"],
                "steps": report["stats"]["steps"],
                "examples": report["stats"]["examples"],
                "checked": checked,
                "sequence": sequence,
                "wire": on_the_wire,
            },
            out,
            indent=0,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="ci", choices=sorted(PROFILES))
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="write the engine's request sequence (ids masked by first appearance), the run's "
        "request count and every rule's checked count to FILE as JSON, to diff two builds",
    )
    args = parser.parse_args()

    target = embedded_target()
    sent: list[tuple[str, str, object, dict, dict]] = []
    original = target.api.send

    def recording_send(method, path, **kwargs):
        exchange, window = original(method, path, **kwargs)
        sent.append(
            (
                method,
                path,
                kwargs.get("json_body"),
                dict(kwargs.get("params") or {}),
                exchange.response.body if exchange.response else None,
            )
        )
        return exchange, window

    target.api.send = recording_send
    wire: list[tuple[str, str, bytes]] = []
    served = [0.0]  # seconds inside the transport: ASGI and the server
    transport = target.api.http._transport
    handle = transport.handle_request

    def timed_handle(request: httpx.Request) -> httpx.Response:
        if args.record:
            wire.append((request.method, str(request.url), request.read()))
        started = time.perf_counter()
        try:
            return handle(request)
        finally:
            served[0] += time.perf_counter() - started

    transport.handle_request = timed_handle  # type: ignore[method-assign]
    started, cpu_started = time.perf_counter(), time.process_time()
    report = run_target(target, profile=PROFILES[args.profile], seed_value=args.seed)
    engine_seconds = time.perf_counter() - started
    engine_cpu = time.process_time() - cpu_started

    if args.record:
        record(args.record, sent, wire, to_json_dict(report))

    server = ReferenceServer()
    org = server.orgs[0]
    bare = httpx.Client(
        transport=SyncASGITransport(server.app),
        base_url=server.base_url + "/",
        auth=(org.api_key, ""),
    )
    rebound: dict[str, str] = {}

    def rebind(text: str) -> str:
        return ID.sub(lambda match: rebound.get(match.group(0), match.group(0)), text)

    started, cpu_started = time.perf_counter(), time.process_time()
    for method, path, body, params, old_response in sent:
        content = rebind(json.dumps(body)).encode() if body is not None else None
        response = bare.request(
            method,
            rebind(path),
            params={k: rebind(str(v)) for k, v in params.items()},
            content=content,
            headers={"content-type": "application/json"} if content else {},
        )
        if method == "POST" and isinstance(old_response, dict) and "id" in old_response:
            new = (
                response.json()
                if response.headers.get("content-type") == "application/json"
                else {}
            )
            if isinstance(new, dict) and "id" in new:
                rebound[old_response["id"]] = new["id"]
    bare_seconds = time.perf_counter() - started
    bare_cpu = time.process_time() - cpu_started

    steps, requests = report.stats.steps, len(sent)
    print(f"profile {args.profile}, seed {args.seed}: verdict {report.verdict}")
    print(
        f"engine : {steps} steps, {requests} requests in {engine_seconds:.2f}s "
        f"= {steps / engine_seconds:.0f} steps/s, {requests / engine_seconds:.0f} requests/s"
    )
    print(
        f"bare   : {requests} requests in {bare_seconds:.2f}s = {requests / bare_seconds:.0f} "
        "requests/s (same requests, plain httpx, fresh server)"
    )
    print(
        f"ratio  : the engine runs at {bare_seconds / engine_seconds:.2f} of the bare request "
        f"rate ({engine_seconds / bare_seconds:.2f}x the bare wall time)"
    )
    print(
        f"split  : of the engine's {engine_seconds:.2f}s, {served[0]:.2f}s inside the transport "
        f"(ASGI and the server), {engine_seconds - served[0]:.2f}s in the engine itself "
        "(Hypothesis, strategies, client, model, judging)"
    )
    print(
        f"cpu    : the engine used {engine_cpu:.2f}s of CPU, the bare loop {bare_cpu:.2f}s: a "
        f"ratio of {bare_cpu / engine_cpu:.2f} (CPU time: steadier than wall time on a busy "
        "machine; the engine's includes the schema phase's threads)"
    )
    print(f"wall time of the {args.profile} profile: {engine_seconds:.2f}s")


if __name__ == "__main__":
    main()
