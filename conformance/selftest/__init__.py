"""The self-test: proof that the suite catches bugs and does not cry wolf.

Runs the suite against the clean reference server on several seeds (every run must pass)
and against every faulty variant (every run must fail), both in strict mode: the reference
server follows every SHOULD rule, and a variant filed under one is caught by it. The kill
matrix records, for each variant, whether it was caught, which rule caught it, how long the
shrunk counterexample is next to the known minimal one, and how many seconds it took; and,
when the profile has a schema phase, which rules that phase alone (schemathesis with the
suite's OpenAPI document, on a fresh server) finds broken, so the matrix shows what it adds
on its own.

The package, by concern: this module runs the self-test; :mod:`.report` holds the kill
matrix and its summary; :mod:`.readings` picks the readings each run serves.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import replace
from multiprocessing import get_context

from conformance.engine import REMOTE_SETTLE, run_target
from conformance.profiles import Profile
from conformance.selftest.readings import fault_readings, specificity_readings
from conformance.selftest.report import CleanRun, Kill, SelfTestReport
from conformance.target import embedded_target

__all__ = [
    "CleanRun",
    "Kill",
    "SelfTestReport",
    "fault_readings",
    "run_self_test",
    "specificity_readings",
]


def _one_failure_profile(profile: Profile) -> Profile:
    # A variant is caught by its first violation; looking for more would only cost time.
    return replace(profile, max_failures=1)


def _clean_run(
    profile: Profile, seed: int, readings: tuple[str, ...] = (), over_http: bool = False
) -> CleanRun:
    """The clean server on ``seed``; under ``readings`` (``POINT=ALT``) with the settle
    window a remote run has (a reading may lag reads behind writes)."""
    began = time.monotonic()
    chosen = dict(reading.split("=", 1) for reading in readings)
    result = run_target(
        embedded_target(readings=chosen, over_http=over_http),
        profile=profile,
        seed_value=seed,
        strict=True,
        settle=REMOTE_SETTLE if readings else None,
    )
    return CleanRun(
        seed,
        result.verdict,
        tuple(f.rule for f in result.failures),
        round(time.monotonic() - began, 2),
        readings,
    )


def _kill_run(
    profile: Profile,
    seed: int,
    name: str,
    readings: tuple[str, ...] = (),
    replays: bool = False,
    schema_alone: bool = True,
    over_http: bool = False,
) -> Kill:
    from conformance.refserver import FAULTS

    fault = FAULTS[name]
    began = time.monotonic()
    chosen = dict(reading.split("=", 1) for reading in readings)
    # Strict: a variant filed under a SHOULD rule is caught by that rule's warning too.
    result = run_target(
        embedded_target(faults=[name], readings=chosen, over_http=over_http),
        profile=profile,
        seed_value=seed,
        strict=True,
        settle=REMOTE_SETTLE if readings else None,
    )
    first = result.failures[0] if result.failures else None
    replay = None
    if replays and first is not None:
        from conformance.replay import replay_on_embedded

        variant, clean = (
            replay_on_embedded(
                first, faults=chosen_faults, readings=readings, retries=0, over_http=over_http
            ).verdict
            for chosen_faults in ([name], [])
        )
        replay = (variant, clean)
    return Kill(
        fault=name,
        expected_rule=fault.rule,
        caught=result.verdict == "fail",
        rule=first.rule if first else None,
        steps=first.length if first else None,
        minimal_steps=getattr(fault, "minimal_steps", None),
        seconds=round(time.monotonic() - began, 2),
        # Under other readings only the run is repeated; what the schema phase alone finds
        # is the default run's column.
        schema_rules=_schema_phase_alone(profile, seed, name, over_http)
        if schema_alone and not readings
        else None,
        readings=readings,
        replay=replay,
        seed=seed,
    )


def _schema_phase_alone(
    profile: Profile, seed: int, name: str, over_http: bool = False
) -> tuple[str, ...] | None:
    """The rules the schema phase alone finds broken on the variant ``name`` (None when the
    profile has no schema phase; empty when it finds nothing or cannot run)."""
    if not profile.schema_examples:
        return None
    from conformance.client import RunAborted
    from conformance.schema_phase import run_schema_phase
    from conformance.target import TargetRejected

    target = embedded_target(faults=[name], over_http=over_http)
    try:
        target.discover()
        result = run_schema_phase(
            target, seed=seed, max_examples=profile.schema_examples, phases=profile.schema_phases
        )
    except (RunAborted, TargetRejected):
        return ()
    finally:
        with contextlib.suppress(RunAborted):
            target.close()
    return tuple(sorted({failure.rule for failure in result.failures}))


def run_self_test(
    *,
    profile: Profile,
    seeds: Iterable[int],
    faults: Iterable[str] | None = None,
    jobs: int = 1,
    readings: Iterable[tuple[str, ...]] = (),
    faults_under_readings: bool = False,
    replays: bool = False,
    kill_seeds: Iterable[int] | None = None,
    on_clean: Callable[[CleanRun], None] = lambda run: None,
    on_kill: Callable[[Kill], None] = lambda kill: None,
    over_http: bool = False,
    races: bool = False,
    real_time: bool = False,
) -> SelfTestReport:
    """Run the clean server on each seed and every fault (or those named) on the first seed,
    ``jobs`` runs at a time (each in its own process, with its own server). Each reading set
    of ``readings`` (see :func:`specificity_readings`) runs the clean server again: a single
    reading on every seed, a combination on one seed (in turn). With
    ``faults_under_readings`` every fault runs a second time, under a random combination of
    non-default readings (:func:`fault_readings`): detection must not rest on the defaults.
    With ``kill_seeds`` every fault runs on each of those seeds (default: the first of
    ``seeds``); the runs under other readings and the replays use the first. With
    ``replays`` each fault's first failure is replayed (as ``sms-conformance replay``
    does) against its variant and against the clean server. With ``over_http`` every run
    and replay reaches the embedded server over real TCP (uvicorn on a loopback port, the
    server's virtual clock kept; see :mod:`conformance.loopback`), and the report says so
    (``transport``). With ``races`` the races' self-test runs too
    (:func:`conformance.races.run.race_self_test` on the first kill seed: the clean server's
    histories and every race variant's), its rows in ``report.races``. With ``real_time``
    the timing variants among the faults run on real time too, with the timing ledger alone
    (:mod:`conformance.selftest.realtime`), and the clean server on real time under each
    single reading of ``readings``, its rows in ``report.real_time``."""
    from conformance.refserver import FAULTS

    seeds, readings = tuple(seeds), list(readings)
    if not seeds:
        raise ValueError("the self-test needs at least one seed")
    names = list(FAULTS) if faults is None else list(faults)
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {unknown}; known: {', '.join(sorted(FAULTS))}")
    kill_seeds = tuple(kill_seeds) if kill_seeds else seeds[:1]
    report = SelfTestReport(
        seeds=seeds,
        profile=profile.name,
        kill_seeds=kill_seeds,
        transport="loopback-http" if over_http else "in-process",
    )
    first = kill_seeds[0]
    kill_runs = [(name, seed) for name in names for seed in kill_seeds]
    started = time.monotonic()
    quick = _one_failure_profile(profile)
    runs: list[tuple[int, tuple[str, ...]]] = [(seed, ()) for seed in seeds]
    for index, chosen in enumerate(readings):
        on = seeds if len(chosen) == 1 else (seeds[index % len(seeds)],)
        runs += [(seed, chosen) for seed in on]
    if jobs <= 1:
        for seed, chosen in runs:
            report.clean.append(_clean_run(profile, seed, chosen, over_http))
            on_clean(report.clean[-1])
        for name, seed in kill_runs:
            on_first = seed == first
            report.kills.append(
                _kill_run(quick, seed, name, (), replays and on_first, on_first, over_http)
            )
            on_kill(report.kills[-1])
        for name in names if faults_under_readings else ():
            report.kills_under_readings.append(
                _kill_run(quick, first, name, fault_readings(name), over_http=over_http)
            )
            on_kill(report.kills_under_readings[-1])
    else:
        # Spawned, not forked: a forked worker inherits the parent's module state without its
        # threads (schemathesis keeps one global event-loop thread for its ASGI client, and a
        # forked copy waits on it forever).
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            cleans = [
                pool.submit(_clean_run, profile, seed, chosen, over_http) for seed, chosen in runs
            ]
            kills = [
                pool.submit(
                    _kill_run,
                    quick,
                    seed,
                    name,
                    (),
                    replays and seed == first,
                    seed == first,
                    over_http,
                )
                for name, seed in kill_runs
            ]
            under = [
                pool.submit(
                    _kill_run, quick, first, name, fault_readings(name), over_http=over_http
                )
                for name in (names if faults_under_readings else ())
            ]
            futures: list[Future[CleanRun] | Future[Kill]] = [*cleans, *kills, *under]
            for future in as_completed(futures):
                outcome = future.result()
                if isinstance(outcome, CleanRun):
                    on_clean(outcome)
                elif isinstance(outcome, Kill):
                    on_kill(outcome)
            report.clean = [future.result() for future in cleans]
            report.kills = [future.result() for future in kills]
            report.kills_under_readings = [future.result() for future in under]
    if races:
        from conformance.races.run import race_self_test

        report.races = race_self_test(seed=first, over_http=over_http)
    if real_time:
        from conformance.selftest.realtime import real_time_self_test, timing_faults

        singles: list[tuple[str, ...]] = [chosen for chosen in readings if len(chosen) == 1]
        report.real_time = real_time_self_test(timing_faults(names), singles, seed=first)
    report.seconds = time.monotonic() - started
    return report
