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
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import covered_rules, fails_the_run
from conformance.client import BudgetExhausted, Interrupted, RunAborted, TimeBudgetExhausted
from conformance.compat import pinned_local_constants
from conformance.constant_pool import frozen_pool
from conformance.events import Event, EventKind
from conformance.explain import explain
from conformance.judging import declared
from conformance.ledger import TimingLedger
from conformance.machine import RuleViolation, build_machine
from conformance.probes import probe_default_limit
from conformance.profiles import Profile
from conformance.records import (
    Failure,
    OpenPointResult,
    RuleResult,
    RuleStatus,
    RunReport,
    RunStats,
    Verdict,
)
from conformance.redaction import Redactor
from conformance.rules.schema import SCHEMA_RULES
from conformance.run_state import RunState
from conformance.target import ConfigurationError, Target, TargetRejected

__all__ = ["Event", "EventKind", "run_target"]

_SHOWN_LEFTOVERS = 10  # leftovers named in the reason; the report lists them all
# Seconds a read that breaks a rule may be re-tried on a remote target: Close's lists were
# seen to lag 30-60 s behind a delete (close-sms-api.md, section 7).
REMOTE_SETTLE = 60.0

SENDING_RULES = frozenset(rule.id for rule in CATALOGUE.values() if "send" in rule.needs)


@dataclass
class _Ending:
    """How the run ended, when it ended early: ``reason`` for an abort or a crash,
    ``interrupted`` for Ctrl-C or SIGTERM, ``cleanup`` when clean-up itself broke."""

    reason: str | None = None
    interrupted: bool = False
    cleanup: str | None = None
    spent: bool = False  # a budget (--max-requests, the time bound) ran out


def _not_reached(state: RunState) -> str:
    """Where a run whose budget ran out stopped, and the phases it never got to."""
    phases = ["the state machine", "the schema phase", "the default-limit probe"]
    if not state.profile.schema_examples:
        phases.remove("the schema phase")
    if state.phase in ("setting up the fixtures", "opening the timing ledger"):
        return f" while {state.phase}; not reached: " + ", ".join(phases)
    if state.phase not in phases:  # judging the ledger, after a phase this cannot name
        return f" while {state.phase}"
    rest = phases[phases.index(state.phase) + 1 :]
    return f" during {state.phase}; not reached: " + (", ".join(rest) or "its end")


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
    )
    report = redactor.scrub_obj(report)
    emit(Event("finished", report.reason or verdict))
    return report


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
        finished = True
    finally:
        if ledger is not None:
            state.phase = "judging the timing ledger"
            ledger.close(wait=finished and not target.api.interrupted)
            failed = {failure.rule for failure in state.failures}
            state.failures.extend(f for f in ledger.failures if f.rule not in failed)


def _judge(
    state: RunState,
    rules: list[RuleResult],
    ending: _Ending,
    leftovers: list[str],
    command: str | None,
) -> tuple[Verdict, str]:
    """The verdict and its one-line reason. Rules found broken are real whatever stopped
    the run (``fail``, with why it stopped); else an early end is ``inconclusive``."""
    leftover_note = _leftover_note(leftovers, command)
    stopped = ending.reason
    if ending.interrupted:
        stopped = "interrupted; " + (leftover_note or "clean-up deleted everything the run created")
        leftover_note = None
    elif stopped is None and state.flaky and not state.failures:
        stopped = state.flaky
    broken = [f.rule for f in state.failures if fails_the_run(f.rule, strict=state.strict)]
    violated = [rule for rule in broken if rule not in state.known]
    known = [rule for rule in broken if rule in state.known]
    warned = [f.rule for f in state.failures if f.rule not in broken]
    verdict: Verdict
    if violated:
        verdict = "fail"
        reason = f"{len(violated)} rule(s) violated: " + ", ".join(violated)
        if stopped:
            reason = f"{reason}; stopped early: {stopped}"
    elif stopped:
        verdict, reason = "inconclusive", stopped
        if ending.spent:
            reason += f"; {sum(r.status == 'not-run' for r in rules)} rule(s) not run"
    else:
        verdict = "pass"
        reason = f"every checked rule held ({sum(r.status == 'pass' for r in rules)} passed)"
    if known:
        reason = (
            f"{reason}; {len(known)} known deviation(s) from the baseline still broken (they "
            "do not fail the run): " + ", ".join(known)
        )
    for note in state.notes:
        reason = f"{reason}; {note}"
    if warned:
        reason = (
            f"{reason}; {len(warned)} SHOULD rule(s) not followed (warnings, --strict fails "
            "them): " + ", ".join(warned)
        )
    for said in (ending.cleanup, leftover_note):
        if said:
            reason = f"{reason}; {said}"
    return verdict, reason


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


def _scrubbed(on_event: Callable[[Event], None], redactor: Redactor) -> Callable[[Event], None]:
    """``on_event`` fed scrubbed events; its errors are swallowed (an interrupt is not)."""

    def emit(event: Event) -> None:
        with contextlib.suppress(Exception):
            on_event(redactor.scrub_obj(event))

    return emit


def _last_request(api: Any) -> str | None:
    """The last request the client sent (``GET lead/x/``), if any."""
    request = getattr(api, "last_request", None)
    return None if request is None else f"{request.method} {request.path}"


def _crash_reason(error: BaseException, phase: str, last_request: str | None) -> str:
    """Why the run stopped on an exception nothing expected: what, where, after what."""
    what = _one_line(str(error)) or "(no message)"
    if isinstance(error, RecursionError):
        what = f"{what} (an answer nested too deeply?)"
    after = f"last request: {last_request}" if last_request else "before any request"
    return (
        f"the run could not handle an answer: {type(error).__name__}: {what} "
        f"(during {phase}; {after})"
    )


def _close(target: Target, ending: _Ending) -> None:
    """Clean up, whatever happens: a failing or interrupted clean-up is noted, not raised."""
    try:
        target.close()
    except (KeyboardInterrupt, Interrupted):
        ending.interrupted = True
        ending.cleanup = "clean-up was interrupted"
    except (Exception, RunAborted) as error:  # noqa: BLE001 - the report must still be made
        ending.cleanup = f"clean-up stopped: {type(error).__name__}: {_one_line(str(error))}"


def _leftovers(target: Target, ending: _Ending) -> list[str]:
    """The paths clean-up could not delete (``target.leftovers``); when clean-up itself
    broke, also whatever it had not got to (``target.created``)."""
    leftovers = [str(path) for path in getattr(target, "leftovers", None) or ()]
    if ending.cleanup:
        leftovers += [str(p) for p in getattr(target, "created", ()) if str(p) not in leftovers]
    return leftovers


def _leftover_note(leftovers: list[str], command: str | None) -> str | None:
    if not leftovers:
        return None
    shown = ", ".join(leftovers[:_SHOWN_LEFTOVERS])
    if len(leftovers) > _SHOWN_LEFTOVERS:
        shown += f" and {len(leftovers) - _SHOWN_LEFTOVERS} more"
    note = f"clean-up left {len(leftovers)} item(s) behind: {shown}"
    return f"{note}; remove them with: {command}" if command else note


def _cleanup_command(target: Target, leftovers: list[str]) -> str | None:
    """The command that removes a remote run's leftovers; None when nothing is left (or the
    target is the embedded server, gone with the process)."""
    if not leftovers or target.embedded:
        return None
    return (
        f"sms-conformance cleanup --base-url {shlex.quote(_public_url(target))} "
        f"--run-id {shlex.quote(_run_id(target))}"
    )


def _run_id(target: Target) -> str:
    return str(getattr(target, "run_id", "") or "")


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _public_url(target: Target) -> str:
    """The target's base URL, without userinfo (which never belongs in a report)."""
    url = httpx.URL(str(target.api.http.base_url))
    if url.userinfo:
        url = url.copy_with(userinfo=b"")
    return str(url).rstrip("/")


@contextlib.contextmanager
def _one_run_per_seed() -> Iterator[None]:
    """Hypothesis mixes literals found in every *local* module imported so far into what it
    generates: which modules happen to be loaded (a test suite, a plugin) and how the suite
    is installed (editable or not) would change the run a seed gives. Within the block that
    pool is always the same (:func:`conformance.compat.pinned_local_constants`): the literals
    of the suite's own source, frozen (:mod:`conformance.constant_pool`), so that edits
    elsewhere in the package do not change the run a seed gives."""
    with pinned_local_constants(frozen_pool()):
        yield


def _rounds(state: RunState) -> None:
    with _one_run_per_seed():
        _rounds_of(state)


NOISE_RESTARTS = 3  # rounds started afresh after noise cut one short


def _rounds_of(state: RunState) -> None:
    profile = state.profile
    round_number = restarts = 0
    while round_number < profile.max_failures:
        round_number += 1
        state.first_violation = None
        # A round cut short by noise starts again on another seed (same seed, same noise
        # in-process: the run stays reproducible).
        machine = seed(state.seed + 7919 * restarts)(build_machine(state))
        state.on_event(Event("round", f"state machine, round {round_number}"))
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
                    verbosity=Verbosity.quiet,  # the engine never prints
                    suppress_health_check=list(HealthCheck),
                ),
            )
            return
        except RuleViolation as violation:
            _record_violation(state, violation)
        except Flaky as error:
            # A violation happened, but replaying the same choices did not retrace it (the
            # target's answers depend on more than the requests: a race, or random ids that
            # order a page). Report it as seen, unshrunk, rather than not at all.
            seen = [e for e in getattr(error, "exceptions", ()) if isinstance(e, RuleViolation)]
            if not seen and state.first_violation is not None:
                seen = [state.first_violation]
            crashes = [e for e in getattr(error, "exceptions", ()) if not _is_a_finding(e)]
            if crashes and not seen:
                raise crashes[0] from error  # an answer the run could not handle, not a race
            if seen and seen[0].finding.rule not in state.muted:
                note = " (replaying it did not retrace it; the transcript is not shrunk)"
                _record_violation(state, seen[0], note=note)
                continue
            api = state.target.api
            if api.transient or api.rate_limited:
                # Noise (429s, 502-504s, lost answers) changed what the model knows between
                # an example and its replay. Every answer judged so far held; noise is
                # never a violation, nor a reason to call the run inconclusive.
                restarts += 1
                note = (
                    f"noise made an example's replay take another path {restarts} time(s); "
                    "the state machine started afresh"
                )
                state.notes[:] = [note]
                state.on_event(Event("flaky", note))
                if restarts <= NOISE_RESTARTS:
                    round_number -= 1  # no rule was found broken: the same round again
                    continue
                state.notes[:] = [f"{note}, then stopped"]
                return
            state.flaky = (
                "the target answered the same requests differently when they were replayed, "
                f"so no failure could be pinned down ({type(error).__name__})"
            )
            state.on_event(Event("flaky", state.flaky))
            return


def _is_a_finding(error: BaseException) -> bool:
    return isinstance(error, RuleViolation | Flaky)


def _record_violation(state: RunState, violation: RuleViolation, note: str = "") -> None:
    finding = violation.finding
    state.muted.add(finding.rule)
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
    told = explain(state.failures[-1]).line()
    state.on_event(Event("violation", f"{finding.rule}: {told}", rule=finding.rule))


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


def _rule_results(state: RunState) -> list[RuleResult]:
    failed = {failure.rule for failure in state.failures}
    covered = covered_rules()
    tally = state.tally
    results = []
    for rule in CATALOGUE.values():
        checked = tally.checked(rule.id)
        reason = None
        observations = list(tally.observations.get(rule.id, []))
        status: RuleStatus
        if rule.id in state.excluded:
            status, reason = "not-run", "excluded by --exclude-rule"
        elif rule.id in failed:
            status = "fail" if fails_the_run(rule.id, strict=state.strict) else "warning"
            if rule.id in state.known:
                reason = "a known deviation (--baseline): it does not fail the run"
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
                reason = (
                    getattr(state.target, "lacking", {}).get(
                        rule.id
                    )  # a fixture the target could not give
                    or _known_cause(rule.id, state.target.api)
                    or "the run never produced a request this rule judges"
                )
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
                boundaries=tally.reached(rule.id),
            )
        )
    return results


_JUDGE_A_429 = frozenset({"ratelimit/429-headers", "ratelimit/retry-after-matches-reset"})


def _known_cause(rule_id: str, api: Any) -> str | None:
    """Why a covered rule was not run, when the run knows: a credential not given, a target
    that never throttled it."""
    credentials = getattr(api, "credentials", None)
    needs = CATALOGUE[rule_id].needs
    if "second-api-key" in needs and not getattr(credentials, "second_api_key", None):
        return (
            "needs --second-api-key (CLOSE_SECOND_API_KEY), the API key of a second "
            "organisation: the isolation rules read one organisation's SMS with the other's key"
        )
    if "oauth-token" in needs and not getattr(credentials, "oauth_token", None):
        return "needs --oauth-token (CLOSE_OAUTH_TOKEN): no OAuth bearer token was given"
    if rule_id in _JUDGE_A_429 and not getattr(api, "rate_limited", 0):
        return "the target never throttled the run (no 429 answer), so there was no 429 to judge"
    return None


def _behaviour_profile(state: RunState) -> list[OpenPointResult]:
    """Per open point of the docs, the readings the target was seen to take."""
    results = []
    for point in CATALOGUE.open_points.values():
        seen = {
            name: state.tally.readings[f"{point.id}={name}"]
            for name in point.alternatives
            if state.tally.readings[f"{point.id}={name}"]
        }
        results.append(
            OpenPointResult(
                id=point.id,
                question=point.question,
                quote=point.quote,
                source=point.source.url,
                default=point.default,
                alternatives=dict(point.alternatives),
                readings=seen,
            )
        )
    return results
