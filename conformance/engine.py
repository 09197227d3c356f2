"""The engine: run the state machine against a target and turn what it saw into a report.

:func:`run` goes in rounds. Each round runs the state machine until a documented rule is
broken; Hypothesis shrinks the example, the engine records the failure, mutes that rule
and starts the next round to look for others. The engine emits events to ``on_event``
and never prints; the CLI and the self-test decide what to show.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import Step, checks_for, covered_rules
from conformance.client import BudgetExhausted, RunAborted
from conformance.ledger import TimingLedger
from conformance.machine import RuleViolation, Session, build_machine
from conformance.model import Model, TimeWindow
from conformance.probes import probe_default_limit
from conformance.profiles import Profile
from conformance.records import Failure, RuleResult, RuleStatus, RunReport, RunStats, Verdict
from conformance.target import ConfigurationError, Target, TargetRejected

__all__ = ["Event", "run_target"]

SENDING_RULES = frozenset(
    rule.id
    for rule in CATALOGUE.values()
    if rule.id.startswith("sms/send/")
    or rule.id
    in {
        "sms/create/status-scheduled",
        "sms/create/status-outbox",
        "sms/create/scheduled-requires-date-scheduled",
        "sms/create/send-in-below-60",
        "sms/create/send-in-accepted",
        "sms/create/send-in-invalid-type",
        "sms/create/send-in-negative",
        "sms/create/local-phone-required",
        "sms/create/local-phone-internal",
        "sms/update/draft-to-scheduled",
        "sms/update/draft-to-outbox",
        "sms/update/cancel-scheduled",
        "sms/update/cancel-outbox",
        "sms/update/scheduled-requires-date-scheduled",
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something the engine did: ``kind`` is one of ``started``, ``round``, ``violation``,
    ``finished``; ``detail`` a one-line description."""

    kind: str
    detail: str
    rule: str | None = None


@dataclass
class _Run:
    target: Target
    profile: Profile
    seed: int
    on_event: Callable[[Event], None]
    failures: list[Failure] = field(default_factory=list)
    flaky: str | None = None


def run_target(
    target: Target,
    *,
    profile: Profile,
    seed_value: int,
    on_event: Callable[[Event], None] = lambda event: None,
) -> RunReport:
    """Run the suite against ``target`` and return the report; never raises for what the
    target does (an unreachable or refusing target gives an ``inconclusive`` report)."""
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat()
    state = _Run(target, profile, seed_value, on_event)
    session = Session(target)
    if not target.embedded:
        session.schedule_seconds = (2, 20)
    reason = None
    inconclusive = False
    note = None  # why the run stopped early, when it did
    try:
        on_event(Event("started", f"{target.name}, profile {profile.name}, seed {seed_value}"))
        target.discover()
        ledger = None
        if not target.embedded and target.allow_send:
            ledger = TimingLedger(target, session.tally)
            ledger.open()
        try:
            _rounds(state, session)
            # Looking further only pays while the profile still wants more failures.
            if len(state.failures) < profile.max_failures:
                _schema_phase(state, session)
            if len(state.failures) < profile.max_failures:
                failed = {failure.rule for failure in state.failures}
                state.failures.extend(
                    f for f in probe_default_limit(target, session.tally) if f.rule not in failed
                )
        except BudgetExhausted as error:
            note = str(error)
        finally:
            if ledger is not None:
                ledger.close(
                    wait=note is None and sys.exc_info()[0] is None and not target.api.interrupted
                )
                failed = {failure.rule for failure in state.failures}
                state.failures.extend(f for f in ledger.failures if f.rule not in failed)
    except (RunAborted, TargetRejected) as error:
        inconclusive, reason = True, str(error)
    except KeyboardInterrupt:
        inconclusive, reason = True, "interrupted; what the run created was deleted"
    finally:
        with contextlib.suppress(RunAborted):
            target.close()
    stats = RunStats(
        requests=target.api.requests + session.schema_requests,
        duration=round(time.monotonic() - started, 3),
        steps=session.tally.steps,
        examples=session.tally.examples,
        rate_limited=target.api.rate_limited,
        transient_errors=target.api.transient,
    )
    rules = _rule_results(state, session)
    if not inconclusive and state.flaky and not state.failures:
        inconclusive, reason = True, state.flaky
    if inconclusive and state.failures:
        # What was found before the run had to stop is real; say both.
        inconclusive, note = False, reason
    verdict: Verdict
    if inconclusive:
        verdict = "inconclusive"
    elif state.failures:
        verdict = "fail"
        reason = f"{len(state.failures)} rule(s) violated: " + ", ".join(
            f.rule for f in state.failures
        )
    else:
        verdict = "pass"
        reason = f"every checked rule held ({sum(r.status == 'pass' for r in rules)} passed)"
    if note and not inconclusive:
        reason = f"{reason}; stopped early: {note}"
    on_event(Event("finished", reason or verdict))
    return RunReport(
        verdict=verdict,
        seed=seed_value,
        target=_public_url(target),
        profile=profile.name,
        rules=rules,
        failures=state.failures,
        stats=stats,
        reason=reason,
        started_at=started_at,
    )


def _public_url(target: Target) -> str:
    return str(target.api.http.base_url).rstrip("/")


@contextlib.contextmanager
def _one_run_per_seed() -> Iterator[None]:
    """Hypothesis mixes literals found in every *local* module imported so far into what it
    generates (``providers._get_local_constants``): which modules happen to be loaded (a
    test suite, a plugin) and how the suite is installed (editable or not) would change the
    run a seed gives. Within the block that pool is always the same: the literals of the
    suite's own source (status names, field names, phone numbers, boundaries), a dictionary
    worth keeping (without it, three of the self-test's variants go unseen)."""
    from hypothesis.internal.conjecture import providers

    pool = _suite_constants()
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        with mock.patch.object(providers, "_get_local_constants", lambda: pool):
            yield
    finally:
        providers.CONSTANTS_CACHE.cache.clear()


@functools.cache
def _suite_constants() -> Any:
    """The literals of every module of ``conformance`` and ``strategies``, in sorted sets
    (a plain set of strings would iterate in a hash-seed order)."""
    import importlib
    import pkgutil

    from hypothesis.internal.conjecture.floats import float_to_int
    from hypothesis.internal.conjecture.providers import Constants
    from hypothesis.internal.constants_ast import constants_from_module
    from sortedcontainers import SortedSet

    import conformance
    import strategies

    pool = Constants(
        integers=SortedSet(),
        floats=SortedSet(key=float_to_int),
        bytes=SortedSet(),
        strings=SortedSet(),
    )
    for package in (conformance, strategies):
        names = [package.__name__] + [
            info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        ]
        for name in sorted(names):
            pool = pool | constants_from_module(importlib.import_module(name))
    return pool


def _rounds(state: _Run, session: Session) -> None:
    with _one_run_per_seed():
        _rounds_of(state, session)


def _rounds_of(state: _Run, session: Session) -> None:
    profile = state.profile
    for round_number in range(1, profile.max_failures + 1):
        session.first_violation = None
        machine = seed(state.seed)(build_machine(session))
        state.on_event(Event("round", f"round {round_number}"))
        try:
            run_state_machine_as_test(
                machine,
                settings=settings(
                    max_examples=profile.max_examples,
                    stateful_step_count=profile.steps,
                    deadline=None,
                    database=None,
                    derandomize=False,
                    report_multiple_bugs=False,
                    print_blob=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck),
                ),
            )
            return
        except RuleViolation as violation:
            _record_violation(state, session, violation)
        except Flaky as error:
            # A violation happened, but replaying the same choices did not retrace it (the
            # target's answers depend on more than the requests: a race, or random ids that
            # order a page). Report it as seen, unshrunk, rather than not at all.
            seen = [e for e in getattr(error, "exceptions", ()) if isinstance(e, RuleViolation)]
            if not seen and session.first_violation is not None:
                seen = [session.first_violation]
            if seen and seen[0].finding.rule not in session.muted:
                note = " (replaying it did not retrace it; the transcript is not shrunk)"
                _record_violation(state, session, seen[0], note=note)
                continue
            state.flaky = (
                "the target answered the same requests differently when they were replayed, "
                f"so no failure could be pinned down ({type(error).__name__})"
            )
            state.on_event(Event("flaky", state.flaky))
            return


def _record_violation(
    state: _Run, session: Session, violation: RuleViolation, note: str = ""
) -> None:
    finding = violation.finding
    session.muted.add(finding.rule)
    rule = CATALOGUE[finding.rule]
    state.failures.append(
        Failure(
            rule=finding.rule,
            message=f"{rule.statement} {finding.message}{note}".strip(),
            expected=finding.expected,
            actual=finding.actual,
            steps=violation.transcript,
            length=violation.steps,
        )
    )
    state.on_event(Event("violation", f"{finding.rule}: {finding.actual}", rule=finding.rule))


def _schema_phase(state: _Run, session: Session) -> None:
    """Run schemathesis with the project's OpenAPI document; fold its verdicts in."""
    profile = state.profile
    if not profile.schema_examples:
        return
    from conformance.schema_phase import run_schema_phase

    state.on_event(Event("round", "schema phase (schemathesis)"))
    result = run_schema_phase(
        state.target,
        seed=state.seed,
        max_examples=profile.schema_examples,
        phases=profile.schema_phases,
    )
    session.schema_requests += result.requests
    window = TimeWindow(state.target.clock.now(), state.target.clock.now())
    assert state.target.fixtures is not None  # discovered before any phase runs
    step = Step("schema", [], window, Model(state.target.fixtures), findings=result.findings)
    for registered in checks_for("schema"):
        for finding in registered.run(step):
            session.tally.record(finding)
    failed = {failure.rule for failure in state.failures}
    for failure in result.failures:
        if failure.rule not in failed:
            failed.add(failure.rule)
            state.failures.append(failure)
            state.on_event(
                Event("violation", f"{failure.rule}: {failure.actual}", rule=failure.rule)
            )


def _rule_results(state: _Run, session: Session) -> list[RuleResult]:
    failed = {failure.rule for failure in state.failures}
    covered = covered_rules()
    tally = session.tally
    results = []
    for rule in CATALOGUE.values():
        checked = tally.passed[rule.id] + tally.failed[rule.id]
        reason = None
        observations = list(tally.observations.get(rule.id, []))
        status: RuleStatus
        if rule.id in failed:
            status = "fail"
        elif rule.level is Level.UNSPECIFIED and observations:
            status = "informational"
        elif checked and rule.level is not Level.UNSPECIFIED:
            status = "pass"
        else:
            status = "not-run"
            if rule.untested:
                reason = f"untested: {rule.untested}"
            elif rule.id not in covered:
                reason = "no check judges this rule yet"
            elif rule.id in SENDING_RULES and not state.target.allow_send:
                reason = "needs --allow-send: it would put an SMS into a status that sends it"
            else:
                reason = "the run never produced a request this rule judges"
        results.append(
            RuleResult(
                id=rule.id,
                status=status,
                level=str(rule.level),
                statement=rule.statement,
                quote=rule.quote,
                source=rule.url,
                checked=checked,
                observations=observations,
                reason=reason,
            )
        )
    return results


def configuration_error(message: str) -> ConfigurationError:
    return ConfigurationError(message)
