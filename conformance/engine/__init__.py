"""The engine: run the state machine against a target and turn what it saw into a report.

:func:`run` goes in rounds. Each round runs the state machine until a documented rule is
broken; Hypothesis shrinks the example, the engine records the failure, mutes that rule
and starts the next round to look for others. A coverage top-up follows: more rounds aimed
at the documented rules judged too rarely and the listed boundaries not reached. The engine
emits events to ``on_event`` and never prints; the CLI and the self-test decide what to
show.

Whatever the target answers, :func:`run_target` returns a report: an abort, a bound hit, an
exception nothing expected (naming the phase and the last request) or an interrupt ends the
run as ``inconclusive`` with the reason (``fail`` when rules were already found broken);
clean-up always runs, and what it could not delete is in the report with the command that
removes it. The report and every event are scrubbed of the target's credentials by value.

The package, by concern: this module runs the phases; :mod:`.rounds` runs the state
machine round after round; :mod:`.verdict` turns what the run saw into rule results, a
behaviour profile and a verdict; :mod:`.endings` handles a run that ends early and its
clean-up; :mod:`.workers` runs several state machines at once (``--workers``);
:mod:`.progress` tells what the run does while it goes; :mod:`.races_phase` runs the races
after the other phases (``--races``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from typing import Any

from conformance.catalogue import CATALOGUE
from conformance.client import BudgetExhausted, Interrupted, RunAborted, TimeBudgetExhausted
from conformance.compat import serialised_ast_parse
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
from conformance.engine.progress import PROGRESS_EVERY as PROGRESS_EVERY
from conformance.engine.progress import _progress, _scrubbed, _serialised
from conformance.engine.races_phase import _races
from conformance.engine.rounds import NOISE_RESTARTS as NOISE_RESTARTS
from conformance.engine.rounds import _one_run_per_seed as _one_run_per_seed
from conformance.engine.rounds import _rounds, _rounds_of, top_up
from conformance.engine.verdict import SENDING_RULES as SENDING_RULES
from conformance.engine.verdict import _behaviour_profile, _judge, _rule_results
from conformance.engine.workers import (
    Worker,
    add_tally,
    merge,
    run_workers,
    spawn_workers,
    told,
    top_up_in_workers,
)
from conformance.events import Event, EventKind
from conformance.explain import explain
from conformance.judging import Tally, declared
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


def default_settle(target: Target) -> float:
    """How long a read that breaks a rule is re-tried by default: not at all on the embedded
    server, unless it reads the visibility open point as eventual (then, as on a remote
    target, :data:`REMOTE_SETTLE` seconds, which its virtual clock passes at once)."""
    readings = getattr(target.server, "readings", None)
    lags = readings is not None and readings["visibility"] == "eventual"
    return 0.0 if target.embedded and not lags else REMOTE_SETTLE


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
    workers: int = 1,
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

    ``workers`` (``--workers``) runs that many state machines in parallel, each on a target
    and leads of its own, sharing one rate-limit budget (:mod:`.workers`), and then each
    round of the coverage top-up on all of them at once; the schema phase and the probes
    run once (beside the state machines, on a target of their own, unless the leads are
    named: then after them). With 1 the run is the same as ever, request for request.

    While the run goes, ``progress`` events (at most every PROGRESS_EVERY s) name the phase, the
    requests sent, the rules found broken and the time budget left."""
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers}")
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
        settle=settle if settle is not None else default_settle(target),
        races=races,
    )
    if not target.clock_can_jump:
        state.schedule_seconds = (2, 20)
    target.api.on_request = _progress(state, started)
    ending = _Ending()
    crew: list[Worker] = []
    try:
        what = f"{target.name}, profile {profile.name}, seed {seed_value}"
        if workers > 1:
            what += f", {workers} workers"
        emit(Event("started", f"{what}, run id {_run_id(target)}"))
        if workers > 1:
            emit = _serialised(emit)
            state.on_event = emit
            crew = spawn_workers(state, workers, emit)
            for worker in crew[1:]:
                worker.state.target.api.on_request = target.api.on_request
        target.discover()
        _phases(state, crew)
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
        for worker in crew[1:]:
            _close(worker.state.target, ending)
        _close(target, ending)
    target.api.on_request = None
    apis = [target.api] + [worker.state.target.api for worker in crew[1:]]
    if getattr(target.api, "interrupted", False):
        ending.interrupted = True  # whatever the interrupt surfaced as on its way up
    state.failures[:] = [f for f in state.failures if f.rule not in state.excluded]
    stats = RunStats(
        requests=sum(api.requests for api in apis) + state.schema_requests,
        duration=round(time.monotonic() - started, 3),
        steps=state.tally.steps,
        examples=state.tally.examples,
        rate_limited=sum(api.rate_limited for api in apis),
        transient_errors=sum(api.transient for api in apis),
    )
    state.profile = profile  # a worker's share of it was worker 0's
    rules = _rule_results(state)
    leftovers = _leftovers(target, ending)
    for worker in crew[1:]:
        leftovers += [p for p in _leftovers(worker.state.target, ending) if p not in leftovers]
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


def _phases(state: RunState, crew: list[Worker] = ()) -> None:  # type: ignore[assignment]
    """The state machine and its coverage top-up (in each worker of ``crew``, when there
    are workers), the schema phase and the probes, with the timing ledger around them when
    the run may send; ``state.phase`` says which is running."""
    target, profile = state.target, state.profile
    ledger = None
    if not target.clock_can_jump and target.allow_send:
        state.phase = "opening the timing ledger"
        ledger = TimingLedger(target, state.tally, settle=state.settle)
        ledger.open()
    finished = False
    try:
        state.phase = "the state machine"
        if crew:
            _rounds_in_workers(state, crew)
        else:
            _rounds(state)
            state.phase = "the coverage top-up"
            top_up(state)
        # Looking further only pays while the profile still wants more failures.
        if any(worker.schema for worker in crew):
            pass  # the schema worker ran the schema phase and the probe alongside
        elif len(crew) > 1 and len(state.failures) < profile.max_failures:
            # With workers, the probe runs on worker 1's target while the schema phase runs
            # on worker 0's: each on a target (a server, on the embedded one) of its own.
            state.phase = "the schema phase"
            with _probe_alongside(state, crew[1].state):
                _schema_phase(state, workers=len(crew))
        elif len(state.failures) < profile.max_failures:
            state.phase = "the schema phase"
            _schema_phase(state)
        if not crew and len(state.failures) < profile.max_failures:
            _default_limit_probe(state)
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


def _default_limit_probe(state: RunState) -> None:
    state.phase = "the default-limit probe"
    failed = {failure.rule for failure in state.failures}
    state.failures.extend(
        f
        for f in probe_default_limit(state.target, state.tally, state.settle)
        if f.rule not in failed
    )


def _rounds_in_workers(state: RunState, crew: list[Worker]) -> None:
    """The state machine in every worker at once (the schema phase and the default-limit
    probe in the schema worker, if any), then the coverage top-up, each of its rounds on
    every state machine at once (:func:`.workers.top_up_in_workers`); their findings merged
    into ``state``, whatever stopped them."""
    schema_states = [worker.state for worker in crew if worker.schema]
    machines = [worker for worker in crew if not worker.schema]

    def work(worker_state: RunState) -> None:
        if worker_state is not state:
            worker_state.target.discover()  # its own leads (worker 0's are found already)
            worker_state.phase = "the state machine"
        if any(worker_state is schema for schema in schema_states):
            worker_state.phase = "the schema phase"
            # One operation at a time: operations tested at once against one server see
            # each other's SMS, and a seed would no longer give one run. Beside the state
            # machines the schema phase has their whole run's time.
            _schema_phase(worker_state)
            _default_limit_probe(worker_state)
            return
        _rounds_of(worker_state)

    plain = state.on_event
    state.on_event = told(plain, 0)
    try:
        # Pinned around every thread: each pins the same pool in turn, and one that ends
        # first must not unpin it for the others.
        with _one_run_per_seed(), serialised_ast_parse():
            run_workers(crew, work)
            top_up_in_workers(state, machines, plain)
    finally:
        state.on_event = plain
        merge(state, crew, len(machines))


@contextlib.contextmanager
def _probe_alongside(state: RunState, other: RunState) -> Iterator[None]:
    """The default-limit probe on ``other``'s target, on a thread of its own, while the
    block runs; its findings folded into ``state`` after (what stopped it is raised)."""
    found: list[Failure] = []
    stopped: list[BaseException] = []
    tally = Tally()

    def probe() -> None:
        try:
            found.extend(probe_default_limit(other.target, tally, other.settle))
        except BaseException as error:  # noqa: BLE001 - re-raised on the main thread
            stopped.append(error)

    thread = threading.Thread(target=probe, name="sms-conformance-probe")
    thread.start()
    try:
        yield
    finally:
        while thread.is_alive():
            thread.join(0.1)
            if state.target.api.interrupted:
                other.target.api.interrupt()
        add_tally(state.tally, tally)
    if stopped:
        raise stopped[0]
    failed = {failure.rule for failure in state.failures}
    state.failures.extend(f for f in found if f.rule not in failed)


def _schema_phase(state: RunState, workers: int = 1) -> None:
    """Run schemathesis with the project's OpenAPI document (``workers`` operations at
    once); fold its verdicts in."""
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
        workers=workers,
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
