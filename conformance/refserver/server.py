"""The reference server: storage, clock, faults and the ASGI app, put together."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime

import httpx
from starlette.applications import Starlette

from conformance.clock import Clock, SystemClock
from conformance.refserver.app import build_app
from conformance.refserver.crm import Crm
from conformance.refserver.faults import check_faults
from conformance.refserver.ids import IdMaker
from conformance.refserver.ratelimit import RateLimiter
from conformance.refserver.readings import Readings, check_readings
from conformance.refserver.seed import ORGS, OrgCredentials
from conformance.refserver.sender import send_due
from conformance.refserver.settle import DEFAULT_LAG, Settle
from conformance.refserver.sms import SmsService
from conformance.refserver.storage import Storage
from conformance.transport import SyncASGITransport

__all__ = ["ReferenceServer", "create_app"]

IN_PROCESS_BASE_URL = "http://reference.invalid/api/v1"
_AUTH_MODES = ("basic", "bearer", "none")


class ReferenceServer:
    """A working implementation of the Close SMS activity API, for in-process tests and
    for ``sms-conformance serve``.

    ``clock`` drives the sender (default :class:`SystemClock`); ``db_path`` is a SQLite
    file that persists across instances, or ``":memory:"``; ``faults`` switches on bugs
    from :data:`FAULTS` by name (an unknown name is a ``ValueError`` listing the known
    ones); ``readings`` picks, per open point of the docs, the documented-compatible reading
    the server takes (point -> alternative; the catalogue's default for the rest);
    ``settle_lag`` (seconds) is the ``visibility=eventual`` reading with that lag;
    ``rate_limit`` is requests per second per API key (``None``: unlimited).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        db_path: str = ":memory:",
        faults: Iterable[str] = (),
        rate_limit: int | None = None,
        id_seed: int | None = None,
        readings: Mapping[str, str] | Readings | None = None,
        settle_lag: float | None = None,
    ) -> None:
        self.faults = check_faults(faults)
        if settle_lag is not None:
            readings = {**dict(check_readings(readings).chosen), "visibility": "eventual"}
        self.readings = check_readings(readings)
        self.settle = (
            Settle(settle_lag or DEFAULT_LAG) if self.readings["visibility"] == "eventual" else None
        )
        self.new_id = IdMaker(id_seed)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.orgs: tuple[OrgCredentials, ...] = ORGS
        self.base_url = IN_PROCESS_BASE_URL
        self.limiter = RateLimiter(rate_limit)
        self.lock = threading.RLock()
        self.storage = Storage(db_path)
        self.crm = Crm(self.storage)
        self.sms = SmsService(self.storage, self.crm)
        self._clients: list[httpx.Client] = []
        self.app: Starlette = build_app(self)

    def run_sender(self, now: datetime | None = None) -> int:
        """Send every SMS due at ``now`` (default: the clock's now); return how many."""
        with self.lock:
            return send_due(
                self.storage,
                self.clock.now() if now is None else now,
                self.faults,
                self.readings,
            )

    def client(self, org: int = 0, *, auth: str = "basic") -> httpx.Client:
        """Return an in-process client for organisation ``org`` (index into :attr:`orgs`).

        ``auth`` is ``"basic"`` (API key as username, empty password), ``"bearer"`` (the
        OAuth token) or ``"none"``; anything else is a ``ValueError``.
        """
        if auth not in _AUTH_MODES:
            raise ValueError(f"auth must be one of {', '.join(_AUTH_MODES)}, got {auth!r}")
        credentials = self.orgs[org]
        headers = {}
        if auth == "bearer":
            headers["Authorization"] = f"Bearer {credentials.oauth_token}"
        client = httpx.Client(
            transport=SyncASGITransport(self.app),
            base_url=self.base_url,
            auth=(credentials.api_key, "") if auth == "basic" else None,
            headers=headers,
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close the clients handed out and the database."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        self.storage.close()

    def __enter__(self) -> ReferenceServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def create_app(
    *,
    clock: Clock | None = None,
    db_path: str = ":memory:",
    faults: Iterable[str] = (),
    rate_limit: int | None = None,
    readings: Mapping[str, str] | None = None,
) -> Starlette:
    """Return the ASGI app of a new :class:`ReferenceServer` (e.g. for
    ``uvicorn --factory conformance.refserver:create_app``)."""
    return ReferenceServer(
        clock=clock, db_path=db_path, faults=faults, rate_limit=rate_limit, readings=readings
    ).app
