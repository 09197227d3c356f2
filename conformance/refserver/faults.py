"""Faults: realistic bugs the reference server can be started with, one per name.

The suite proves it catches a bug by running against a server with that bug switched on.
Code checks a fault at the exact place the bug would live, e.g.
``if "send-in-60-accepted" in faults:``. Adding a fault is one :class:`Fault` line here
plus that check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FAULTS", "Fault", "check_faults"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One bug: its ``name``, the catalogue ``rule`` id it breaks and what it does."""

    name: str
    rule: str
    description: str


_ALL = (
    Fault("edit-sent-accepted", "sms/update/drafts-only",
          "a PUT editing the text of a sent SMS is accepted and stored"),
    Fault("send-in-60-accepted", "sms/create/send-in-below-60",
          "send_in = 60 is accepted on create"),
    Fault("cancel-refused", "sms/update/cancel-outbox",
          "setting an unsent outbox SMS back to draft answers 400"),
    Fault("skip-off-by-one", "sms/list/pagination",
          "_skip=n skips n+1 items when n > 0"),
    Fault("cancelled-still-sent", "sms/send/cancelled-never-sent",
          "a cancel answers 200 and shows draft, but the SMS is still sent at its due time"),
)  # fmt: skip

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _ALL}


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Return ``names`` as a frozenset; raises ``ValueError`` naming the known faults when
    one is unknown (a plain string is rejected, it is almost always a missing tuple)."""
    if isinstance(names, str):
        raise ValueError(f"faults must be an iterable of names, not the string {names!r}")
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(
            f"unknown fault(s) {', '.join(map(repr, unknown))}; "
            f"known faults: {', '.join(sorted(FAULTS))}"
        )
    return chosen
