"""The stateful test: a Hypothesis state machine with one rule per documented behaviour.

Each rule draws a request, then sends it through the step pipeline of
:class:`~conformance.machine.base.MachineBase` (send, judge, count once). The rules are
grouped by area of the docs, one mixin each: :mod:`.lifecycle` (create, read, edit,
schedule, send, cancel, delete, time), :mod:`.validation` (bodies a create must refuse),
:mod:`.lists` (filters, pagination), :mod:`.protocol` (credentials, methods, formats,
unknown ids), :mod:`.isolation` (another organisation) and :mod:`.silent` (where the docs
are silent), and :mod:`.steering` (in turn, what reaches each rule or boundary that
would otherwise be judged too rarely). The operations they are made of are in
:mod:`.operations`.

Hypothesis collects the rules of the composed class by name (``inspect.getmembers``) and
orders them by arguments and name, so which module holds a rule does not change a draw.

Users never subclass this: :func:`build_machine` returns a machine class bound to one
run's :class:`~conformance.run_state.RunState`.
"""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from conformance.judging import Tally as Tally
from conformance.machine.base import STRATEGY_NOW as STRATEGY_NOW
from conformance.machine.base import RuleViolation
from conformance.machine.isolation import IsolationRules
from conformance.machine.lifecycle import LifecycleRules
from conformance.machine.lists import TZ_OFFSETS as TZ_OFFSETS
from conformance.machine.lists import ListRules
from conformance.machine.operations import given_leads_bound
from conformance.machine.protocol import ProtocolRules
from conformance.machine.protocol import unknown_id_like as unknown_id_like
from conformance.machine.silent import SilentRules
from conformance.machine.steering import SteeringRules
from conformance.machine.validation import ValidationRules
from conformance.run_state import RunState

# The run state's old name, from when the machine had a run-state object of its own.
Session = RunState

# The same names as when this was one module: every literal of the suite's source is in the
# pool of constants Hypothesis draws from (see ``engine._one_run_per_seed``), so a new name
# here would change the run every seed gives. The other names are re-exported by ``as``.
__all__ = ["RuleViolation", "Session", "build_machine", "given_leads_bound"]


class _SmsMachine(
    LifecycleRules,
    ValidationRules,
    ListRules,
    ProtocolRules,
    IsolationRules,
    SilentRules,
    SteeringRules,
):
    """Every rule group, over one step pipeline."""


def build_machine(state: RunState) -> type[RuleBasedStateMachine]:
    """Return a state machine class bound to the run's ``state``."""

    class SmsMachine(_SmsMachine):
        pass

    SmsMachine.state = state
    return SmsMachine
