"""Run races against a target: histories drawn, run, checked, and a failing one shrunk
(issue 14). This is what ``--races`` calls: :func:`run_races`.

Each history is a :class:`~conformance.races.plans.Plan` drawn from ``Random(seed)``, run
on a fresh target from ``target_factory`` (:func:`~conformance.races.record.record`) and
checked against :class:`~conformance.races.sms_spec.SmsSpec`. The first history that is
not linearizable is shrunk: a branch, then a branch operation, then an unnamed prefix SMS
is left out while the smaller plan still fails, each candidate re-run up to
``tries`` times (a race shows only when the threads meet it), within ``max_replays`` runs
in all. The report shows the shrunk history as a timeline and the checker's explanation.

**Determinism.** The plans (shapes, operations, texts, due times) are the same for a
seed; the interleaving of the branches is the threads' and the OS's, so whether a given
history meets a race, and so which history fails first and how far it shrinks, may vary
from run to run. A verdict of ``pass`` says no history failed, not that none could.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from conformance.races.checker import NOT_LINEARIZABLE, UNKNOWN, CheckResult, check
from conformance.races.history import Operation
from conformance.races.plans import Plan, draw_plan, shrink_candidates
from conformance.races.record import NEVER, RaceTarget, Recorded, embedded_races, record
from conformance.races.sms_spec import SmsSpec

__all__ = [
    "RaceFailure",
    "RaceReport",
    "SelfTestRow",
    "race_self_test",
    "embedded_run_races",
    "replay",
    "run_races",
    "spec_for",
    "timeline",
]

TargetFactory = Callable[[], RaceTarget]
Verdict = Literal["pass", "fail", "unknown"]


@dataclass(frozen=True)
class RaceFailure:
    """A history that is not linearizable: as first found, and as shrunk."""

    found: Recorded
    shrunk: Recorded
    result: CheckResult  # the checker's answer on the shrunk history
    replays: int  # runs spent shrinking

    def describe(self) -> str:
        plan = self.shrunk.plan
        return "\n".join(
            [
                f"a history of shape {plan.shape!r} is not linearizable "
                f"(shrunk from {self.found.plan.size} to {plan.size} operations, "
                f"{self.replays} re-runs)",
                str(plan),
                timeline(self.shrunk.operations),
                self.result.explain(),
                "replay: conformance.races.run.replay(target_factory, failure.shrunk.plan)",
            ]
        )


@dataclass(frozen=True)
class RaceReport:
    """What :func:`run_races` found: ``verdict`` (``fail``: a history is not linearizable;
    ``unknown``: none failed but the checker's budget ran out on some), ``histories`` run,
    how many were ``unknown``, and the ``failure``."""

    verdict: Verdict
    seed: int
    histories: int
    unknown: int = 0
    failure: RaceFailure | None = None
    shapes: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why fewer histories ran than asked (a budget spent)

    def describe(self) -> str:
        head = f"races: {self.verdict} ({self.histories} histories on seed {self.seed}"
        head += f", {self.unknown} unknown)" if self.unknown else ")"
        if self.stopped:
            head += f"; stopped early: {self.stopped}"
        return head if self.failure is None else head + "\n" + self.failure.describe()


def _run(factory: TargetFactory, plan: Plan) -> Recorded:
    target = factory()
    try:
        return record(target, plan)
    finally:
        target.close()


def _check(recorded: Recorded, spec: SmsSpec) -> CheckResult:
    return check(spec, recorded.operations)


def run_races(
    target_factory: TargetFactory,
    seed: int,
    histories: int = 30,
    branches: int = 3,
    *,
    spec: SmsSpec | None = None,
    tries: int = 3,
    max_replays: int = 60,
    prepare: Callable[[Plan], Plan] | None = None,
    stop: Callable[[Plan], str | None] | None = None,
) -> RaceReport:
    """Run ``histories`` histories of ``branches`` branches (2 or 3), each on a fresh
    target from ``target_factory``; stop at the first that is not linearizable, shrink it,
    and report (see the module's docstring). ``spec`` defaults to ``SmsSpec()`` (the
    ``visibility=immediate`` reading; give ``SmsSpec(settle_lag=...)`` for ``eventual``).

    ``prepare`` turns each drawn plan into the one run (a live target without
    ``--allow-send``: :func:`~conformance.races.plans.without_sends`); ``stop``, asked
    before every run (the shrinker's re-runs too), gives a reason to run no more (a
    budget spent): the report then says how many histories ran and why it stopped."""
    spec = spec or SmsSpec()
    rng = random.Random(seed)
    unknown = 0
    shapes: dict[str, int] = {}
    for n in range(histories):
        plan = draw_plan(rng, branches)
        if prepare is not None:
            plan = prepare(plan)
        reason = stop(plan) if stop is not None else None
        if reason is not None:
            verdict: Verdict = "unknown" if unknown else "pass"
            return RaceReport(verdict, seed, n, unknown, None, shapes, stopped=reason)
        shapes[plan.shape] = shapes.get(plan.shape, 0) + 1
        recorded = _run(target_factory, plan)
        result = _check(recorded, spec)
        if result.verdict == UNKNOWN:
            unknown += 1
        elif result.verdict == NOT_LINEARIZABLE:
            failure = _shrink(target_factory, recorded, result, spec, tries, max_replays, stop)
            return RaceReport("fail", seed, n + 1, unknown, failure, shapes)
    return RaceReport("unknown" if unknown else "pass", seed, histories, unknown, None, shapes)


def _shrink(
    factory: TargetFactory,
    found: Recorded,
    result: CheckResult,
    spec: SmsSpec,
    tries: int,
    max_replays: int,
    stop: Callable[[Plan], str | None] | None = None,
) -> RaceFailure:
    """Leave parts of the plan out while it still fails (greedy, bounded re-runs; none
    once ``stop`` gives a reason)."""
    best, best_result, replays = found, result, 0
    improved, spent = True, False
    while improved and not spent:
        improved = False
        for candidate in shrink_candidates(best.plan):
            for _ in range(tries):
                spent = replays >= max_replays or (stop is not None and stop(candidate) is not None)
                if spent:
                    break  # keep what is shrunk so far
                replays += 1
                recorded = _run(factory, candidate)
                checked = _check(recorded, spec)
                if checked.verdict == NOT_LINEARIZABLE:
                    best, best_result, improved = recorded, checked, True
                    break
            if improved or spent:
                break
    return RaceFailure(found, best, best_result, replays)


def spec_for(readings: Mapping[str, str] | None = None) -> SmsSpec:
    """The spec a target serving ``readings`` is held to: under ``visibility=eventual``
    reads may lag behind deletes and creates; on the embedded server's frozen clock a lag
    never ends within a history, so the spec lets it last the whole history."""
    if (readings or {}).get("visibility") == "eventual":
        return SmsSpec(settle_lag=NEVER)
    return SmsSpec()


def embedded_run_races(
    seed: int,
    histories: int = 30,
    branches: int = 3,
    *,
    faults: Iterable[str] = (),
    readings: Mapping[str, str] | None = None,
    over_http: bool = False,
) -> RaceReport:
    """The races against the embedded reference server (``sms-conformance races``): a
    fresh server per history with ``faults`` (race variants included) and ``readings``,
    held to :func:`spec_for` ``(readings)``; ``over_http``: each served on a loopback port."""
    chosen = tuple(faults)
    return run_races(
        lambda: embedded_races(chosen, readings, over_http=over_http),
        seed,
        histories,
        branches,
        spec=spec_for(readings),
    )


@dataclass(frozen=True)
class SelfTestRow:
    """One row of the races' self-test: a race variant (or ``None``, the clean server),
    whether the races caught it (for the clean server: flagged it), after how many
    histories, and the size of the shrunk failing plan (operations, prefix included)."""

    fault: str | None
    verdict: Verdict
    histories: int
    shrunk_size: int | None
    rule: str | None = None  # the documented rule the shrunk history breaks (None: none named)
    # Every rule the shrunk history may be read as breaking (rules.candidates), in the
    # fixed precedence ``rule`` is the first of; and the rules the variant is registered
    # as breaking (RaceFault.rules: its rule, then the ones other histories may name).
    candidates: tuple[str, ...] = ()
    expected_rules: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict == ("pass" if self.fault is None else "fail")

    @property
    def names_its_rule(self) -> bool | None:
        """Whether the rule named is one the variant is registered as breaking (None for
        the clean server, or a variant not caught)."""
        if self.fault is None or self.verdict != "fail":
            return None
        return self.rule in self.expected_rules


def race_self_test(
    seed: int = 1, histories: int = 30, branches: int = 3, *, over_http: bool = False
) -> list[SelfTestRow]:
    """The clean embedded server and every race variant
    (:data:`~conformance.refserver.race_faults.RACE_FAULTS`), each over up to
    ``histories`` histories: the rows a self-test prints (the clean one must pass, every
    variant must fail)."""
    from conformance.races.rules import candidates
    from conformance.refserver.race_faults import RACE_FAULTS

    rows = []
    for fault in [None, *sorted(RACE_FAULTS)]:
        report = embedded_run_races(
            seed, histories, branches, faults=[fault] if fault else [], over_http=over_http
        )
        size = report.failure.shrunk.plan.size if report.failure else None
        found: tuple = ()
        if report.failure is not None:
            failure = report.failure
            found = candidates(failure.result, spec_for(), failure.shrunk.operations)
        rules = tuple(at.rule for at in found)
        expected = RACE_FAULTS[fault].rules if fault else ()
        row = SelfTestRow(
            fault, report.verdict, report.histories, size, rules[0] if rules else None,
            rules, expected,
        )  # fmt: skip
        rows.append(row)
    return rows


def replay(
    target_factory: TargetFactory, plan: Plan, spec: SmsSpec | None = None
) -> tuple[Recorded, CheckResult]:
    """Run ``plan`` (a report's ``failure.shrunk.plan``) once more on a fresh target and
    check it. The plan is the same; the interleaving is the threads', so a race may need a
    few replays to show again."""
    recorded = _run(target_factory, plan)
    return recorded, _check(recorded, spec or SmsSpec())


def timeline(operations: Sequence[Operation], width: int = 44) -> str:
    """The history as a timeline: one line per operation in invoke order, its times in
    milliseconds, and its request and answer in its branch's column (the prefix and the
    read-back in the first)."""
    branches = sorted({op.process for op in operations if isinstance(op.process, int)})
    column: dict[object, int] = {process: n + 1 for n, process in enumerate(branches)}
    heads = ["prefix/after", *(f"branch {b}" for b in branches)]
    lines = [f"{'ms':>17}  " + "".join(f"{h:<{width}}" for h in heads)]
    for op in sorted(operations, key=lambda o: o.invoke):
        end = "lost" if op.complete is None else f"{op.complete * 1000:.1f}"
        cell = f"{op.request} -> {'lost' if op.indeterminate else op.answer}"
        indent = " " * (width * column.get(op.process, 0))
        lines.append(f"{op.invoke * 1000:7.1f}..{end:>8}  {indent}{cell}")
    return "\n".join(lines)
