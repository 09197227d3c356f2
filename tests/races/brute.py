"""Linearizability by enumeration, for small histories: what the checker must agree with."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from conformance.races.history import Operation, precedes


def brute_force(spec: Any, history: Sequence[Operation]) -> bool:
    """Linearizable by enumeration: some order of the answered operations and a subset of
    the indeterminate ones, keeping real-time precedence, that the spec explains."""
    answered = [op for op in history if not op.indeterminate]
    lost = [op for op in history if op.indeterminate]
    for size in range(len(lost) + 1):
        for taken in itertools.combinations(lost, size):
            for order in itertools.permutations([*answered, *taken]):
                if any(precedes(b, a) for a, b in itertools.combinations(order, 2)):
                    continue
                states = {spec.initial()}
                for op in order:
                    answer = None if op.indeterminate else op.answer
                    states = {new for state in states for new in spec.step(state, op, answer)}
                if states:
                    return True
    return False


def is_witness(order: Sequence[Operation], history: Sequence[Operation]) -> bool:
    """True when ``order`` holds every answered operation of ``history`` (and lost ones at
    most once) and keeps real-time precedence."""
    if any(op not in order for op in history if not op.indeterminate) or len(
        set(map(id, order))
    ) != len(order):
        return False
    return not any(precedes(b, a) for a, b in itertools.combinations(order, 2))
