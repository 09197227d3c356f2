"""The services record: every part of the server the app's handlers may use, as one value.

:class:`~conformance.refserver.server.ReferenceServer` builds it and hands it to
:func:`~conformance.refserver.app.build_app`, so the app depends on this record, not on the
server (no import cycle), and this class is the whole contract between them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from conformance.clock import Clock
from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.dates import at_precision
from conformance.refserver.faults import Faults
from conformance.refserver.race_faults import race_window
from conformance.refserver.ratelimit import RateLimiter
from conformance.refserver.readings import Readings
from conformance.refserver.seed import OrgCredentials
from conformance.refserver.sender import send_due
from conformance.refserver.settle import Settle
from conformance.refserver.sms import SmsService
from conformance.refserver.storage import Storage


@dataclass(frozen=True, slots=True)
class Services:
    """The organisations and their credentials (``orgs``), the ``faults`` switched on, how
    the server reads the docs' open points (``readings``, with ``settle`` the
    ``visibility=eventual`` reading's lag), the ``clock``, the rate ``limiter``, the
    ``lock`` every request and sender run holds, the ``storage`` with the ``crm`` and
    ``sms`` services over it, and how ids are made (``new_id("acti")``)."""

    orgs: tuple[OrgCredentials, ...]
    faults: Faults
    readings: Readings
    settle: Settle | None
    clock: Clock
    limiter: RateLimiter
    lock: threading.RLock
    storage: Storage
    crm: Crm
    sms: SmsService
    new_id: Callable[[str], str]

    def run_sender(self, now: datetime | None = None) -> int:
        """Send every SMS due at ``now`` (default: the clock's now); return how many."""
        with self.lock:
            return send_due(
                self.storage,
                self.clock.now() if now is None else now,
                self.faults,
                self.readings,
                pause=lambda: race_window(self.lock),
            )

    def context(self, org: OrgCredentials, now: datetime, tz: tzinfo) -> RequestContext:
        """The context of a request by ``org`` at ``now`` in ``x-tz-offset`` ``tz``; its
        writes are stamped with ``now`` at the precision the server keeps times (the
        ``time-precision`` reading)."""
        return RequestContext(
            org=org,
            now=at_precision(now, self.readings["time-precision"]),
            tz=tz,
            faults=self.faults,
            new_id=self.new_id,
            readings=self.readings,
            settle=self.settle,
            lock=self.lock,
        )
