"""The engine: run the state machine against a target and turn what it saw into a report.

:func:`run` goes in rounds. Each round runs the state machine until a documented rule is
broken; Hypothesis shrinks the example, the engine records the failure, mutes that rule
and starts the next round to look for others. The engine emits events to ``on_event``
and never prints; the CLI and the self-test decide what to show.

Whatever the target answers, :func:`run_target` returns a report: an abort, a bound hit, an
exception nothing expected (naming the phase and the last request) or an interrupt ends the
run as ``inconclusive`` with the reason (``fail`` when rules were already found broken);
clean-up always runs, and what it could not delete is in the report with the command that
removes it. The report and every event are scrubbed of the target's credentials by value.

The package, by concern: this module runs the phases; :mod:`.rounds` runs the state
machine round after round; :mod:`.verdict` turns what the run saw into rule results, a
behaviour profile and a verdict; :mod:`.endings` handles a run that ends early and its
clean-up.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from conformance.catalogue import CATALOGUE
from conformance.client import BudgetExhausted, Interrupted, RunAborted, TimeBudgetExhausted
from conformance.engine.endings import (
    _cleanup_command,
    _close,
    _crash_reason,
    _Ending,
    _last_request,
    _leftovers,
    _not_reached,
    _one_line,
    _public_url,
    _run_id,
)
from conformance.engine.rounds import NOISE_RESTARTS as NOISE_RESTARTS
from conformance.engine.rounds import _one_run_per_seed as _one_run_per_seed
from conformance.engine.rounds import _rounds
from conformance.engine.verdict import SENDING_RULES as SENDING_RULES
from conformance.engine.verdict import _behaviour_profile, _judge, _rule_results
from conformance.events import Event, EventKind
from conformance.explain import explain
from conformance.judging import declared
from conformance.ledger import TimingLedger
from conformance.probes import probe_default_limit
from conformance.profiles import Profile
from conformance.records import (
    Failure,
    RunReport,
    RunStats,
)
from conformance.redaction import Redactor
from conformance.rules.schema import SCHEMA_RULES
from conformance.run_state import RunState
from conformance.target import ConfigurationError, Target, TargetRejected

__all__ = ["Event", "EventKind", "run_target"]

# Seconds a read that breaks a rule may be re-tried on a remote target: Close's lists were
# seen to lag 30-60 s behind a delete (close-sms-api.md, section 7).
REMOTE_SETTLE = 60.0


def run_target(
    target: Target,
    *,
    profile: Profile,
    seed_value: int,
    on_event: Callable[[Event], None] = lambda event: None,
    strict: bool = False,
    settle: float | None = None,
    exclude: Collection[str] = (),
    baseline: Collection[str] = (),
    races: Any = None,
) -> RunReport:
    """Run the suite against ``target`` and return the report; never raises for what the
    target does. An unreachable or refusing target, a bound hit (``--max-requests``, the
    client's time and rate-limit bounds), an answer the run cannot handle (any exception,
    ``RecursionError`` included) or an interrupt gives an ``inconclusive`` report saying
    why, unless rules were already found broken (then ``fail``, with the note).

    Every string of the report and of every event is scrubbed of the target's credentials
    in every form (:class:`~conformance.redaction.Redactor`); ``on_event`` errors are
    ignored (a progress display must not end a run). Only a :class:`ConfigurationError`
    (the target lacks what the suite needs) is raised, after clean-up.

    A broken SHOULD rule is a ``warning`` (reported with its replay, verdict unchanged)
    unless ``strict``; a broken MUST rule always fails the run. ``settle`` is how many
    seconds a read that breaks a rule may be re-tried before it fails (a target whose reads
    lag behind its writes); by default 0 on the embedded server and
    :data:`REMOTE_SETTLE` on a remote one.

    Rules in ``exclude`` (``--exclude-rule``) are never judged: reported ``not-run``,
    saying so. Rules in ``baseline`` (``--baseline``: the deviations a previous report
    knew) are judged and reported as ever, but only a violation of another rule fails the
    run. An id the catalogue lacks raises ``ValueError``.

    ``races`` (a :class:`~conformance.races.live.RaceLimits`, ``--races``) runs that many
    concurrent histories on the same target after the other phases, checked for
    linearizability (:func:`conformance.races.live.races_on_target`): a history no order
    explains fails the documented rule its answers contradict; what ran is said in the
    reason.

    While the run goes, ``progress`` events (at most every PROGRESS_EVERY s) name the phase, the
    requests sent, the rules found broken and the time budget left."""
    unknown = sorted(set(exclude) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"no rule {', '.join(unknown)} in the catalogue (--exclude-rule)")
    redactor = Redactor.from_credentials(target.api.credentials)
    emit = _scrubbed(on_event, redactor)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat()
    state = RunState(
        target,
        profile,
        seed_value,
        emit,
        strict,
        excluded=frozenset(exclude),
        known=frozenset(baseline) & set(CATALOGUE),
        muted=set(exclude),
        settle=settle if settle is not None else (0.0 if target.embedded else REMOTE_SETTLE),
        races=races,
    )
    if not target.clock_can_jump:
        state.schedule_seconds = (2, 20)
    target.api.on_request = _progress(state, started)
    ending = _Ending()
    try:
        what = f"{target.name}, profile {profile.name}, seed {seed_value}"
        emit(Event("started", f"{what}, run id {_run_id(target)}"))
        target.discover()
        _phases(state)
    except ConfigurationError:
        raise
    except (KeyboardInterrupt, Interrupted):
        ending.interrupted = True
    except (RunAborted, TargetRejected) as error:
        ending.reason = _one_line(str(error))
        if isinstance(error, (BudgetExhausted, TimeBudgetExhausted)):
            ending.reason += _not_reached(state)
            ending.spent = True
    except Exception as error:  # noqa: BLE001 - any answer must end in a report
        ending.reason = _crash_reason(error, state.phase, _last_request(target.api))
    finally:
        _close(target, ending)
    target.api.on_request = None
    if getattr(target.api, "interrupted", False):
        ending.interrupted = True  # whatever the interrupt surfaced as on its way up
    state.failures[:] = [f for f in state.failures if f.rule not in state.excluded]
    stats = RunStats(
        requests=target.api.requests + state.schema_requests,
        duration=round(time.monotonic() - started, 3),
        steps=state.tally.steps,
        examples=state.tally.examples,
        rate_limited=target.api.rate_limited,
        transient_errors=target.api.transient,
    )
    rules = _rule_results(state)
    leftovers = _leftovers(target, ending)
    command = _cleanup_command(target, leftovers)
    verdict, reason = _judge(state, rules, ending, leftovers, command)
    report = RunReport(
        verdict=verdict,
        seed=seed_value,
        target=_public_url(target),
        profile=profile.name,
        rules=rules,
        failures=state.failures,
        stats=stats,
        reason=reason,
        started_at=started_at,
        run_id=_run_id(target),
        leftovers=leftovers,
        cleanup_command=command,
        strict=strict,
        open_points=_behaviour_profile(state),
        numbers=_numbers(target),
    )
    report = redactor.scrub_obj(report)
    emit(Event("finished", report.reason or verdict))
    return report


def _numbers(target: Target) -> dict[str, list[str]]:
    """The target's sending numbers by kind, as its fixtures listed them (none: unknown)."""
    fixtures = target.fixtures
    if fixtures is None:
        return {}
    return {"internal": list(fixtures.internal_phones), "external": list(fixtures.external_phones)}


def _phases(state: RunState) -> None:
    """The state machine, the schema phase and the probes, with the timing ledger around
    them when the run may send; ``state.phase`` says which is running."""
    target, profile = state.target, state.profile
    ledger = None
    if not target.clock_can_jump and target.allow_send:
        state.phase = "opening the timing ledger"
        ledger = TimingLedger(target, state.tally)
        ledger.open()
    finished = False
    try:
        state.phase = "the state machine"
        _rounds(state)
        # Looking further only pays while the profile still wants more failures.
        if len(state.failures) < profile.max_failures:
            state.phase = "the schema phase"
            _schema_phase(state)
        if len(state.failures) < profile.max_failures:
            state.phase = "the default-limit probe"
            failed = {failure.rule for failure in state.failures}
            state.failures.extend(
                f
                for f in probe_default_limit(target, state.tally, state.settle)
                if f.rule not in failed
            )
        if state.races is not None:
            state.phase = "the races"
            _races(state)
        finished = True
    finally:
        if ledger is not None:
            state.phase = "judging the timing ledger"
            ledger.close(wait=finished and not target.api.interrupted)
            failed = {failure.rule for failure in state.failures}
            state.failures.extend(f for f in ledger.failures if f.rule not in failed)


PROGRESS_EVERY = 1.0  # seconds between progress events, at least


def _progress(state: RunState, started: float) -> Callable[[], None]:
    """A hook for every request: at most every :data:`PROGRESS_EVERY` seconds, a
    ``progress`` event naming the phase, the requests sent, the rules found broken and the
    time budget left."""
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        api = state.target.api
        line = (
            f"{state.phase}: {api.requests + api.requests_elsewhere} requests, "
            f"{len(state.failures)} rule(s) found broken, {now - started:.0f} s"
        )
        left = api.budget_left()
        if left is not None:
            line += f", {left:.0f} s left of the time budget"
        state.on_event(Event("progress", line))

    return tick


def _races(state: RunState) -> None:
    """Concurrent histories on the run's target (``--races``), after the other phases;
    a failure is recorded under the documented rule it breaks, the summary in the reason."""
    from conformance.races.live import races_on_target

    state.on_event(Event("round", "races (concurrent histories)"))
    outcome = races_on_target(state.target, state.seed, state.races, settle=state.settle)
    state.notes.append(outcome.note())
    finding = outcome.finding()
    if finding is None or finding.rule in state.excluded:
        return
    state.tally.record(finding)
    failed = {failure.rule for failure in state.failures}
    if finding.rule in failed:
        return
    failure = outcome.report.failure
    assert failure is not None
    state.failures.append(
        Failure(
            rule=finding.rule,
            message=finding.message + "\n" + failure.describe(),
            expected=finding.expected,
            actual=finding.actual,
            length=failure.shrunk.plan.size,
        )
    )
    state.on_event(Event("violation", f"{finding.rule}: {finding.message}", rule=finding.rule))


def _scrubbed(on_event: Callable[[Event], None], redactor: Redactor) -> Callable[[Event], None]:
    """``on_event`` fed scrubbed events; its errors are swallowed (an interrupt is not)."""

    def emit(event: Event) -> None:
        with contextlib.suppress(Exception):
            on_event(redactor.scrub_obj(event))

    return emit


def _schema_phase(state: RunState) -> None:
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
        settle=state.settle,
    )
    state.schema_requests += result.requests
    state.tally.record_all(declared(result.findings, SCHEMA_RULES, "the schema phase"))
    failed = {failure.rule for failure in state.failures}
    for failure in result.failures:
        if failure.rule not in failed:
            failed.add(failure.rule)
            state.failures.append(failure)
            state.on_event(
                Event("violation", f"{failure.rule}: {explain(failure).line()}", rule=failure.rule)
            )
