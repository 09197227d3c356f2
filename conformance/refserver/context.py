"""The per-request context handed from the app to the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from conformance.refserver.faults import Faults
from conformance.refserver.readings import Readings
from conformance.refserver.seed import OrgCredentials
from conformance.refserver.settle import Settle

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who calls (``org`` and its user), when (``now``), their ``x-tz-offset`` as ``tz``,
    the faults the server runs with, how it reads the docs' open points (``readings``), and
    how it makes ids (``new_id("acti")``)."""

    org: OrgCredentials
    now: datetime
    tz: tzinfo
    faults: Faults
    new_id: Callable[[str], str]
    readings: Readings = field(default_factory=Readings)
    settle: Settle | None = None  # the visibility=eventual reading's lag
