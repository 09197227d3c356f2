"""The state machine, round after round: each round runs until a documented rule is
broken; the violation is recorded and its rule muted, and the next round looks for others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from conformance.catalogue import CATALOGUE
from conformance.compat import pinned_local_constants
from conformance.constant_pool import frozen_pool
from conformance.events import Event
from conformance.explain import explain
from conformance.machine import RuleViolation, build_machine
from conformance.records import (
    Failure,
)
from conformance.run_state import RunState


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
