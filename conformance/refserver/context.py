"""The per-request context handed from the app to the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from conformance.refserver.faults import Faults
from conformance.refserver.readings import Readings
from conformance.refserver.seed import OrgCredentials
from conformance.refserver.settle import Settle

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who calls (``org`` and its user), when (``now``), their ``x-tz-offset`` as ``tz``,
    the faults the server runs with, how it reads the docs' open points (``readings``), and
    how it makes ids (``new_id("acti")``); ``lock`` is the server's lock the request holds
    (only race variants let go of it for a moment: :mod:`~conformance.refserver.race_faults`)."""

    org: OrgCredentials
    now: datetime
    tz: tzinfo
    faults: Faults
    new_id: Callable[[str], str]
    readings: Readings = field(default_factory=Readings)
    settle: Settle | None = None  # the visibility=eventual reading's lag
    lock: Any = None
