"""A concurrent history: the operations branches made, each with when it was invoked, when
its answer came back and what it was.

Times are numbers on one clock (seconds, or an event counter): only their order matters to
the checker, and a spec may compare them to due times on the same clock. An operation whose
answer was lost (a timeout, a reset connection) has ``complete`` None: it is *indeterminate*,
it may or may not have taken effect, and if it did, at any time after it was invoked.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["Operation", "Request", "precedes"]


@dataclass(frozen=True, slots=True)
class Request:
    """What an operation asked for: an op name and its arguments (hashable values, e.g. a
    tuple of ``(name, value)`` pairs or a frozen dataclass)."""

    name: str
    args: Hashable = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a history, made by branch (process) ``process``."""

    process: Hashable
    invoke: float
    complete: float | None
    request: Any
    answer: Any = None

    @property
    def indeterminate(self) -> bool:
        """True when the answer was lost: the operation may or may not have taken effect."""
        return self.complete is None

    @property
    def returned(self) -> float:
        """When the answer came back; +inf for an indeterminate operation (it may take
        effect at any time after it was invoked)."""
        return math.inf if self.complete is None else self.complete

    def __str__(self) -> str:
        end = "?" if self.complete is None else f"{self.complete:g}"
        answer = "lost" if self.complete is None else str(self.answer)
        return f"[{self.process}] {self.invoke:g}..{end} {self.request} -> {answer}"


def precedes(first: Operation, second: Operation) -> bool:
    """Real-time precedence: ``first`` was answered before ``second`` was invoked, so every
    linearization puts ``first`` before ``second``. Operations that overlap (or touch at
    one instant) may be ordered either way."""
    return first.returned < second.invoke
