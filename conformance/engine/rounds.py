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
from conformance.compat import forget_machine_class, pinned_local_constants
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
TOP_UP_SEED = 104729  # a top-up round's seed: the run's plus this times its number


def top_up(state: RunState) -> None:
    """Coverage top-up: after the rounds, while a documented rule is judged fewer than
    :data:`~conformance.records.ENOUGH_JUDGINGS` times or a listed boundary is not reached,
    and a steering aim reaches it, up to ``profile.top_up_rounds`` more rounds of
    ``profile.top_up_examples`` examples, on seeds of their own, whose ``aim_in_turn``
    sends every such aim at each turn. The aims are fixed for a round (never the tally
    while it runs: an example replayed takes the same path), so the run stays one per seed;
    a run knows it is done when the coverage goal is met or the top-up rounds are spent."""
    from conformance.machine.steering import aims_for, usable

    profile, target = state.profile, state.target
    for number in range(1, profile.top_up_rounds + 1):
        if len(state.failures) >= profile.max_failures or state.flaky:
            return
        thin, unreached = short_of(state)
        aims = usable(aims_for(thin, unreached), target.allow_send, target.has_second_org)
        if not aims:
            return
        state.aims = tuple(dict.fromkeys(aims))  # once each: a weight is for turns in turn
        wanted = sorted({aim.rule for aim in state.aims})
        state.on_event(Event("round", f"coverage top-up {number}: aiming at {', '.join(wanted)}"))
        try:
            with _one_run_per_seed():
                _rounds_of(
                    state,
                    base_seed=state.seed + TOP_UP_SEED * number,
                    examples=profile.top_up_examples,
                )
        finally:
            state.aims = None


def short_of(state: RunState) -> tuple[set[str], set[tuple[str, str]]]:
    """The documented rules the run judged fewer than ``ENOUGH_JUDGINGS`` times, and the
    listed boundaries it reached on none, leaving out the rules it mutes (found broken,
    excluded)."""
    from conformance.catalogue import Level
    from conformance.records import ENOUGH_JUDGINGS

    tally, muted = state.tally, state.muted
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
