"""The state of one run, in one object: what the engine, the state machine, the schema
phase, the timing ledger and the probes share while a run goes.

The engine makes it (:func:`conformance.engine.run_target`) and owns its policy: which
rules are muted (found broken, or excluded), the failures found, the phase the run is in.
Every example of the state machine reads it (the target, the schedule, the settle window)
and leaves behind what the next one must know (the SMS it deleted or could not confirm
deleted, creates whose SMS no answer showed); every judged step is counted in its
:class:`~conformance.judging.Tally`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.events import Event
from conformance.judging import Tally
from conformance.model import LostCreate
from conformance.profiles import PROFILES, Profile
from conformance.records import Failure
from conformance.target import Target

if TYPE_CHECKING:
    from conformance.machine.base import RuleViolation

__all__ = ["RunState"]


def _ignore(event: Event) -> None:
    """The default ``on_event``: nobody listens."""


@dataclass
class RunState:
    """One run's state. Only ``target`` is needed to drive the state machine by hand (as
    the tests do); the engine sets the rest."""

    target: Target
    profile: Profile = field(default_factory=lambda: PROFILES["quick"])
    seed: int = 0
    on_event: Callable[[Event], None] = _ignore
    strict: bool = False  # a broken SHOULD rule fails the run (--strict)
    excluded: frozenset[str] = frozenset()  # --exclude-rule: never judged
    known: frozenset[str] = frozenset()  # --baseline: broken before, do not fail the run
    # -- what the run found, and where it is -----------------------------------------------
    phase: str = "setting up the fixtures"  # what the run was doing, for a crash's reason
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said in the reason, verdict unchanged
    flaky: str | None = None
    first_violation: RuleViolation | None = None  # of the round, kept in case replays differ
    # -- judging ---------------------------------------------------------------------------
    muted: set[str] = field(default_factory=set)  # found broken or excluded: not judged again
    tally: Tally = field(default_factory=Tally)
    settle: float = 0.0  # seconds a read that breaks a rule may be re-tried (--settle)
    schema_requests: int = 0  # requests the schema phase sent (through its own transport)
    # --races: the race histories' limits (conformance.races.live.RaceLimits); None: none
    races: Any = None
    # A coverage top-up round's aims (conformance.machine.steering.Aim): what the state
    # machine's aim_in_turn sends, all of them at each turn; None: every aim, one a turn.
    aims: tuple[Any, ...] | None = None
    # -- what the state machine's examples pass on -----------------------------------------
    schedule_seconds: tuple[int, int] = (300, 30 * 86400)  # how far ahead dates are drawn
    gone: set[str] = field(default_factory=set)  # every SMS the run deleted
    uncertain: set[str] = field(default_factory=set)  # SMS whose deletion was not confirmed
    lost: list[LostCreate] = field(default_factory=list)  # creates whose SMS no answer showed
    # On leads the user named (--lead-id): the latest date_created of the SMS that were
    # there before the run; lists are bounded after it, so they never count. "" = none.
    given_leads_bound: str | None = None
