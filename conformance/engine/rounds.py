"""The state machine, round after round: each round runs until a documented rule is
broken; the violation is recorded and its rule muted, and the next round looks for others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from conformance.catalogue import CATALOGUE
from conformance.compat import forget_machine_class, pinned_local_constants
from conformance.constant_pool import frozen_pool
from conformance.events import Event
from conformance.explain import explain
from conformance.judging import Tally
from conformance.machine import RuleViolation, build_machine
from conformance.records import (
    Failure,
)
from conformance.run_state import RunState
from conformance.target import Target


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
TOP_UP_SEED = 104729  # a top-up round's seed: the run's plus this times its number


def top_up(state: RunState) -> None:
    """Coverage top-up: after the rounds, while a documented rule is judged fewer than
    :data:`~conformance.records.ENOUGH_JUDGINGS` times or a listed boundary is not reached,
    and a steering aim reaches it, up to ``profile.top_up_rounds`` more rounds of
    ``profile.top_up_examples`` examples, on seeds of their own (:func:`top_up_seed`),
    whose ``aim_in_turn`` sends every such aim at each turn. The aims are fixed for a round
    (never the tally while it runs: an example replayed takes the same path), so the run
    stays one per seed; a run knows it is done when the coverage goal is met or the top-up
    rounds are spent. With ``--workers`` the same rounds run on every state machine at once,
    aimed by their tallies added up (:func:`conformance.engine.workers.top_up_in_workers`).
    """
    profile = state.profile
    for number in range(1, profile.top_up_rounds + 1):
        if len(state.failures) >= profile.max_failures or state.flaky:
            return
        aims = top_up_aims(state.tally, state.muted, state.target)
        if not aims:
            return
        state.on_event(aiming_at(number, aims))
        with aiming(state, aims), _one_run_per_seed():
            _rounds_of(
                state, base_seed=top_up_seed(state.seed, number), examples=profile.top_up_examples
            )


def top_up_seed(seed: int, number: int) -> int:
    """The seed of top-up round ``number`` of a run on ``seed``."""
    return seed + TOP_UP_SEED * number


def top_up_aims(tally: Tally, muted: Collection[str], target: Target) -> tuple[Any, ...]:
    """The steering aims (:class:`~conformance.machine.steering.Aim`) that reach what
    ``tally`` is short of (:func:`short_of`) and ``target`` allows, once each (a weight is
    for turns in turn); none when the coverage goal is met or no aim reaches what is
    missing."""
    from conformance.machine.steering import aims_for, usable

    thin, unreached = short_of(tally, muted)
    aims = usable(aims_for(thin, unreached), target.allow_send, target.has_second_org)
    return tuple(dict.fromkeys(aims))


def aiming_at(number: int, aims: tuple[Any, ...]) -> Event:
    """The ``round`` event that opens top-up round ``number``: the rules it aims at."""
    wanted = sorted({aim.rule for aim in aims})
    return Event("round", f"coverage top-up {number}: aiming at {', '.join(wanted)}")


@contextlib.contextmanager
def aiming(state: RunState, aims: tuple[Any, ...]) -> Iterator[None]:
    """``state``'s state machine sends ``aims`` at each turn while the block runs."""
    state.aims = aims
    try:
        yield
    finally:
        state.aims = None


def short_of(tally: Tally, muted: Collection[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """The documented rules ``tally`` judged fewer than ``ENOUGH_JUDGINGS`` times, and the
    listed boundaries it reached on none, leaving out the rules ``muted`` (found broken,
    excluded)."""
    from conformance.catalogue import Level
    from conformance.records import ENOUGH_JUDGINGS

    rules = [rule for rule in CATALOGUE.rules() if rule.id not in muted]
    thin = {
        rule.id
        for rule in rules
        if rule.level in (Level.MUST, Level.SHOULD) and tally.checked(rule.id) < ENOUGH_JUDGINGS
    }
    unreached = {
        (rule.id, name)
        for rule in rules
        for name, count in tally.reached(rule.id).items()
        if not count
    }
    return thin, unreached


def _rounds_of(state: RunState, *, base_seed: int | None = None, examples: int = 0) -> None:
    """Rounds until one finds no new rule broken (or the profile's failures are found):
    on ``base_seed`` (default: the run's) with ``examples`` per round (default: the
    profile's)."""
    profile = state.profile
    base_seed = state.seed if base_seed is None else base_seed
    round_number = restarts = 0
    while round_number < profile.max_failures:
        round_number += 1
        state.first_violation = None
        # A round cut short by noise starts again on another seed (same seed, same noise
        # in-process: the run stays reproducible).
        machine = seed(base_seed + 7919 * restarts)(build_machine(state))
        state.on_event(Event("round", f"state machine, round {round_number}"))
        try:
            run_state_machine_as_test(
                machine,
                settings=settings(
                    max_examples=examples or profile.max_examples,
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
            if api.transient or api.rate_limited or not state.target.clock_can_jump:
                # Noise (429s, 502-504s, lost answers), or a real clock (an SMS sent between
                # an example and its replay, at another moment under another load), changed
                # what the model knows between an example and its replay. Every answer
                # judged so far held; neither is a violation, nor a reason to call the run
                # inconclusive.
                restarts += 1
                cause = "noise" if api.transient or api.rate_limited else "the real clock"
                note = (
                    f"{cause} made an example's replay take another path {restarts} time(s); "
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
        finally:
            forget_machine_class(machine)  # else Hypothesis keeps the class, and the run


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
