"""The per-request context handed from the app to the domain modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from conformance.refserver.seed import OrgCredentials

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who calls (``org`` and its user), when (``now``), their ``x-tz-offset`` as ``tz``,
    and the faults the server runs with."""

    org: OrgCredentials
    now: datetime
    tz: tzinfo
    faults: frozenset[str]
