"""The self-test: proof that the suite catches bugs and does not cry wolf.

Runs the suite against the clean reference server on several seeds (every run must pass)
and against every faulty variant (every run must fail), both in strict mode: the reference
server follows every SHOULD rule, and a variant filed under one is caught by it. The kill
matrix records, for each variant, whether it was caught, which rule caught it, how long the
shrunk counterexample is next to the known minimal one, and how many seconds it took; and,
when the profile has a schema phase, which rules that phase alone (schemathesis with the
suite's OpenAPI document, on a fresh server) finds broken, so the matrix shows what it adds
on its own.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

from conformance.engine import REMOTE_SETTLE, run_target
from conformance.profiles import Profile
from conformance.target import embedded_target

__all__ = [
    "CleanRun",
    "Kill",
    "SelfTestReport",
    "fault_readings",
    "run_self_test",
    "specificity_readings",
]


@dataclass(frozen=True, slots=True)
class Kill:
    """One faulty variant's row of the kill matrix."""

    fault: str
    expected_rule: str
    caught: bool
    rule: str | None
    steps: int | None
    minimal_steps: int | None
    seconds: float
    schema_rules: tuple[str, ...] | None = None  # None: the profile has no schema phase
    readings: tuple[str, ...] = ()  # POINT=ALT: the run was under these non-default readings
    # Its first failure replayed (sms-conformance replay): the verdict on the variant, then
    # on the clean server ("reproduced", "fixed"); None when not replayed.
    replay: tuple[str, str] | None = None
    seed: int = 1  # the run's seed

    @property
    def replays_as_it_should(self) -> bool:
        """Reproduced on its variant and fixed on the clean server (a failure without a
        symptom to look for, "cannot-tell" on both, is not counted against it)."""
        return self.replay in (("reproduced", "fixed"), ("cannot-tell", "cannot-tell"))

    @property
    def caught_by_schema_phase(self) -> bool:
        return bool(self.schema_rules)

    @property
    def right_rule(self) -> bool:
        return self.rule == self.expected_rule

    @property
    def extra_steps(self) -> int | None:
        if self.steps is None or self.minimal_steps is None:
            return None
        return self.steps - self.minimal_steps


@dataclass(frozen=True, slots=True)
class CleanRun:
    """A run against the clean server: on the default readings, or (the specificity matrix)
    under ``readings``, non-default readings of the docs' open points (``POINT=ALT``)."""

    seed: int
    verdict: str
    failures: tuple[str, ...]
    seconds: float
    readings: tuple[str, ...] = ()


@dataclass
class SelfTestReport:
    seeds: tuple[int, ...]
    profile: str
    clean: list[CleanRun] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    kills_under_readings: list[Kill] = field(default_factory=list)
    seconds: float = 0.0
    kill_seeds: tuple[int, ...] = ()  # the seeds every variant ran on (default: the first)
    # How the runs and replays reached the embedded server: its ASGI app in-process, or
    # the same server on its virtual clock served by uvicorn on a loopback port.
    transport: str = "in-process"

    @property
    def false_alarms(self) -> int:
        return sum(run.verdict != "pass" for run in self.clean)

    @property
    def specificity_runs(self) -> list[CleanRun]:
        return [run for run in self.clean if run.readings]

    @property
    def missed(self) -> list[str]:
        several = len(self.kill_seeds) > 1
        missed = [
            f"{kill.fault} (seed {kill.seed})" if several else kill.fault
            for kill in self.kills
            if not kill.caught
        ]
        return missed + [
            f"{kill.fault} (under {' '.join(kill.readings)})"
            for kill in self.kills_under_readings
            if not kill.caught
        ]

    @property
    def ok(self) -> bool:
        return not self.false_alarms and not self.missed

    def summary(self) -> dict[str, object]:
        caught = [kill for kill in self.kills if kill.caught]
        times = [kill.seconds for kill in caught]
        extra = [kill.extra_steps for kill in caught if kill.extra_steps is not None]
        return {
            "variants": len({kill.fault for kill in self.kills}),
            "kill_seeds": list(self.kill_seeds),
            "kill_runs": len(self.kills),
            "caught": len(caught),
            "kill_rate": round(len(caught) / len(self.kills), 4) if self.kills else None,
            "named_expected_rule": sum(kill.right_rule for kill in caught),
            "false_alarms": self.false_alarms,
            "clean_seeds": list(self.seeds),
            "caught_under_other_readings": (
                sum(kill.caught for kill in self.kills_under_readings)
                if self.kills_under_readings
                else None
            ),
            "runs_under_other_readings": len(self.specificity_runs),
            "false_alarms_under_other_readings": sum(
                run.verdict != "pass" for run in self.specificity_runs
            ),
            "median_seconds_to_catch": round(statistics.median(times), 2) if times else None,
            "worst_seconds_to_catch": round(max(times), 2) if times else None,
            "caught_by_schema_phase_alone": (
                sum(kill.caught_by_schema_phase for kill in self.kills)
                if any(kill.schema_rules is not None for kill in self.kills)
                else None
            ),
            "replayed": sum(kill.replay is not None for kill in caught),
            "replays_reproduced_and_fixed": sum(
                kill.replay == ("reproduced", "fixed") for kill in caught
            ),
            "replays_without_a_symptom": sum(
                kill.replay == ("cannot-tell", "cannot-tell") for kill in caught
            ),
            "median_extra_steps": statistics.median(extra) if extra else None,
            "worst_extra_steps": max(extra) if extra else None,
            "seconds": round(self.seconds, 1),
        }

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "transport": self.transport,
            "summary": self.summary(),
            "clean": [asdict(run) for run in self.clean],
            "kills": [
                {
                    **asdict(kill),
                    "right_rule": kill.right_rule,
                    "extra_steps": kill.extra_steps,
                    "caught_by_schema_phase": kill.caught_by_schema_phase,
                    "replays_as_it_should": kill.replays_as_it_should,
                }
                for kill in self.kills
            ],
            "kills_under_readings": [asdict(kill) for kill in self.kills_under_readings],
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return path


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


def specificity_readings(combinations: int) -> list[tuple[str, ...]]:
    """The reading sets of the specificity matrix: each non-default alternative of every
    open point alone, then ``combinations`` sets drawn at random (seeds 0, 1, ...) that
    differ from the defaults somewhere."""
    from conformance.catalogue import CATALOGUE
    from conformance.refserver.readings import random_readings

    sets: list[tuple[str, ...]] = [
        (f"{point.id}={name}",)
        for point in CATALOGUE.open_points.values()
        for name in point.alternatives
        if name != point.default
    ]
    draw, wanted = 0, len(sets) + combinations
    while len(sets) < wanted:
        chosen = random_readings(draw).chosen
        draw += 1
        if chosen:
            sets.append(tuple(f"{p}={a}" for p, a in sorted(chosen.items())))
    return sets


def fault_readings(name: str) -> tuple[str, ...]:
    """A random combination of non-default readings to run the faulty variant ``name``
    under: drawn from the variant's name (the same every time), with the open points the
    variant lists in ``masked_by`` (a reading in which its bug is conforming) left at
    their defaults, and at least one point off its default."""
    from conformance.refserver import FAULTS
    from conformance.refserver.readings import random_readings

    masked = set(FAULTS[name].masked_by)
    draw = zlib.crc32(name.encode())
    while True:
        chosen = {
            point: alternative
            for point, alternative in random_readings(draw).chosen.items()
            if point not in masked
        }
        if chosen:
            return tuple(f"{point}={alternative}" for point, alternative in sorted(chosen.items()))
        draw += 1


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
    (``transport``)."""
    from conformance.refserver import FAULTS

    seeds = tuple(seeds)
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
    report.seconds = time.monotonic() - started
    return report
