"""What the engine tells its shells while a run goes: typed events, never printed here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Event", "EventKind"]

EventKind = Literal["started", "round", "violation", "flaky", "progress", "finished"]


@dataclass(frozen=True, slots=True)
class Event:
    """Something the engine did: ``kind`` says what (:data:`EventKind`), ``detail`` is a
    one-line description, credentials scrubbed; ``rule`` names a violated rule."""

    kind: EventKind
    detail: str
    rule: str | None = None
