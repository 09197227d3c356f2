"""How long a run takes against a distant server, and how much parallel workers buy.

The reference server, served over loopback HTTP (uvicorn) with every answer delayed by
``--latency`` seconds (as ``sms-conformance serve --latency``; here the embedded server with
``run --over-http --latency``, so each worker gets a server of its own on a virtual clock and
the time rules stay instant: what is measured is the network's cost). Measures:

1. the wall time of the ``ci`` profile with 1, 4 and 8 workers (requests, requests per
   second, verdict, and when the schema phase began), and
2. with ``--fault-workers`` workers, the time to catch each of a fixed sample of 10 faulty
   variants: ``seen_at``, from the run's start to the first request that broke the
   variant's rule, and ``caught_at``, to its violation event (after Hypothesis shrank the
   example, which at this latency is most of the time); the run is then interrupted, which
   is why its verdict is ``fail`` without waiting for the rest.

The issue's goal (issue 13): ``ci`` at 50 ms in at most 90 s, every sampled variant caught.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_latency.py [--latency 0.05]
        [--workers 1 --workers 4 --workers 8] [--single-cap SECONDS] [--seed 1]

``--single-cap`` stops the 1-worker run after that many seconds (its full run takes about
requests x latency) and reports the rate measured and the extrapolated wall time instead.
A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import conformance.machine.base
from conformance.engine import run_target
from conformance.events import Event
from conformance.profiles import PROFILES
from conformance.refserver.faults import FAULTS
from conformance.target import embedded_target

# A fixed sample across the areas of the docs: lifecycle, send_in, cancel, lists, filters,
# sending on time, deletion, templates, attachments.
SAMPLE = (
    "edit-sent-accepted",
    "send-in-60-accepted",
    "cancel-refused",
    "skip-off-by-one",
    "cancelled-still-sent",
    "date-created-gt-inclusive",
    "attachment-type-unchecked",
    "lead-filter-ignored",
    "deleted-still-listed",
    "template-unrendered",
)

_ORIGINAL_VIOLATION = conformance.machine.base.RuleViolation
FULL_CI_REQUESTS = 10_894  # `run --profile ci --seed 1` on the embedded server, one worker


def one_run(
    *,
    latency: float,
    workers: int,
    seed: int,
    fault: str | None = None,
    cap: float | None = None,
    profile: str = "ci",
) -> dict:
    """One ``ci`` run over loopback with ``latency``; its figures."""
    target = embedded_target(
        faults=[fault] if fault else [], over_http=True, latency=latency, max_seconds=cap
    )
    started = time.monotonic()
    marks: dict[str, float] = {}
    rule = FAULTS[fault].rule if fault else None
    lock = threading.Lock()
    if rule is not None:
        _watch_for(rule, started, marks)

    def on_event(event: Event) -> None:
        with lock:
            now = round(time.monotonic() - started, 1)
            if event.kind == "round" and "schema phase" in event.detail:
                marks.setdefault("schema_phase_at", now)
            if event.kind == "violation" and event.rule == rule and "caught_at" not in marks:
                marks["caught_at"] = now
                target.api.interrupt()  # caught: the rest of the run is not measured

    report = run_target(
        target, profile=PROFILES[profile], seed_value=seed, on_event=on_event, workers=workers
    )
    wall = time.monotonic() - started
    figures = {
        "profile": profile,
        "workers": workers,
        "latency": latency,
        "fault": fault,
        "verdict": report.verdict,
        "wall_s": round(wall, 1),
        "requests": report.stats.requests,
        "requests_per_s": round(report.stats.requests / wall, 1),
        **marks,
    }
    if cap is not None and report.verdict == "inconclusive":
        figures["capped_at_s"] = cap
        figures["extrapolated_full_s"] = round(FULL_CI_REQUESTS / (report.stats.requests / wall))
    if fault:
        figures["caught"] = "caught_at" in marks
    return figures


def served_run(
    *, latency: float, workers: int, seed: int, fault: str | None = None, profile: str = "ci"
) -> dict:
    """One run as a user makes it against a distant server: ``sms-conformance serve
    --latency`` in a process of its own (real time, its own CPU), and ``sms-conformance run
    --base-url ... --allow-send --workers N`` in another; with ``fault``, the run is stopped
    (Ctrl-C) once it reports the variant's rule broken."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import tempfile

    cli = [sys.executable, "-m", "conformance.cli"]
    serve = [*cli, "serve", "--port", "0", "--latency", str(latency)]
    server = subprocess.Popen(
        [*serve, *(["--fault", fault] if fault else [])], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = re.search(r"http://\S+/api/v1", server.stdout.readline()).group(0)  # type: ignore[union-attr]
        rule = FAULTS[fault].rule if fault else None
        with tempfile.TemporaryDirectory() as reports:
            started = time.monotonic()
            run = subprocess.Popen(
                [*cli, "run", "--base-url", url, "--api-key", "ref-key-org-a",
                 "--second-api-key", "ref-key-org-b", "--oauth-token", "ref-oauth-org-a",
                 "--allow-send", "--profile", profile, "--seed", str(seed),
                 "--workers", str(workers), "--report-dir", reports],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "CLOSE_API_URL": ""},
            )  # fmt: skip
            marks: dict[str, float] = {}
            assert run.stdout is not None
            for line in run.stdout:
                now = round(time.monotonic() - started, 1)
                if "schema phase" in line:
                    marks.setdefault("schema_phase_at", now)
                if rule and line.startswith("[violated]") and f" {rule}:" in line:
                    marks.setdefault("caught_at", now)
                    run.send_signal(signal.SIGINT)  # caught: the rest is not measured
            run.wait()
            wall = time.monotonic() - started
            with open(os.path.join(reports, "report.json")) as written:
                report = json.load(written)
    finally:
        server.terminate()
        server.wait()
    figures = {
        "mode": "served",
        "profile": profile,
        "workers": workers,
        "latency": latency,
        "fault": fault,
        "verdict": report["verdict"],
        "wall_s": round(wall, 1),
        "requests": report["stats"]["requests"],
        "requests_per_s": round(report["stats"]["requests"] / wall, 1),
        **marks,
    }
    if fault:
        figures["caught"] = "caught_at" in marks
    return figures


def _watch_for(rule: str, started: float, marks: dict[str, float]) -> None:
    """Note in ``marks["seen_at"]`` when a step first breaks ``rule`` (before shrinking)."""
    import conformance.machine.base as base

    class Seen(_ORIGINAL_VIOLATION):  # type: ignore[misc, valid-type]
        def __init__(self, finding, transcript, steps) -> None:  # noqa: ANN001
            super().__init__(finding, transcript, steps)
            if finding.rule == rule and "seen_at" not in marks:
                marks["seen_at"] = round(time.monotonic() - started, 1)

    base.RuleViolation = Seen  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, action="append")
    parser.add_argument("--fault-workers", type=int, default=8)
    parser.add_argument("--single-cap", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="ci", choices=sorted(PROFILES))
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--only-faults", action="store_true")
    parser.add_argument(
        "--fault",
        action="append",
        choices=SAMPLE,
        help="time only this sampled variant (repeatable; default: the whole sample)",
    )
    parser.add_argument(
        "--served",
        action="store_true",
        help="serve the reference server in a process of its own (sms-conformance serve "
        "--latency) and run the CLI against it, as a user does",
    )
    args = parser.parse_args()
    results = []
    if not args.only_faults:
        for workers in args.workers or [1, 4, 8]:
            cap = args.single_cap if workers == 1 else None
            if args.served:
                figures = served_run(
                    latency=args.latency, workers=workers, seed=args.seed, profile=args.profile
                )
            else:
                figures = one_run(
                    latency=args.latency,
                    workers=workers,
                    seed=args.seed,
                    cap=cap,
                    profile=args.profile,
                )
            print(json.dumps(figures), flush=True)
            results.append(figures)
    if not args.no_faults:
        sample = args.fault or SAMPLE
        for fault in sample:
            figures = (served_run if args.served else one_run)(
                latency=args.latency,
                workers=args.fault_workers,
                seed=args.seed,
                fault=fault,
                profile=args.profile,
            )
            print(json.dumps(figures), flush=True)
            results.append(figures)
        caught = [r for r in results if r.get("fault") and r["caught"]]
        times = [r["caught_at"] for r in caught]
        seen = [r["seen_at"] for r in caught if "seen_at" in r]
        print(
            f"caught {len(caught)} of {len(sample)} sampled variants"
            + (f"; slowest reported {max(times)} s" if times else "")
            + (f", slowest first seen {max(seen)} s" if seen else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
