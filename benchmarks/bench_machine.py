"""How much the engine costs on top of the requests it makes.

Runs the ``ci`` profile against the embedded reference server, recording every request, then
replays exactly those requests (ids of created SMS rebound) with a bare ``httpx.Client`` against
a fresh embedded server. Prints state-machine steps per second, requests per second for both,
their ratio, and the wall time of the ``ci`` profile.

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


def record(file: str, sent: list[tuple[str, str, object, dict, dict]], report: dict) -> None:
    """Write what must not move between two builds at one seed: every request, masked."""
    masks: dict[str, str] = {}

    def mask(text: str) -> str:
        text = text.replace(report["run_id"], "RUN")  # random per run (names of its leads)
        return ID.sub(lambda match: masks.setdefault(match.group(0), f"ID{len(masks)}"), text)

    sequence = [
        [method, mask(path), mask(json.dumps(params, sort_keys=True)), mask(json.dumps(body))]
        for method, path, body, params, _ in sent
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
    started = time.perf_counter()
    report = run_target(target, profile=PROFILES[args.profile], seed_value=args.seed)
    engine_seconds = time.perf_counter() - started

    if args.record:
        record(args.record, sent, to_json_dict(report))

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

    started = time.perf_counter()
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
    print(f"wall time of the {args.profile} profile: {engine_seconds:.2f}s")


if __name__ == "__main__":
    main()
