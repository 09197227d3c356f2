"""The reference server: storage, clock, faults and the ASGI app, put together.

The server builds its parts into one :class:`~conformance.refserver.services.Services`
record and the app over it; its attributes are that record's, read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import httpx
from starlette.applications import Starlette

from conformance.clock import Clock, SystemClock
from conformance.refserver.app import build_app
from conformance.refserver.crm import Crm
from conformance.refserver.faults import Faults, check_faults
from conformance.refserver.ids import IdMaker
from conformance.refserver.race_faults import IndexLag
from conformance.refserver.ratelimit import RateLimiter
from conformance.refserver.readings import Readings, check_readings
from conformance.refserver.seed import ORGS, OrgCredentials
from conformance.refserver.services import Services
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
        # In this order: the arguments are checked before the database is opened.
        chosen_faults = check_faults(faults)
        if settle_lag is not None:
            readings = {**dict(check_readings(readings).chosen), "visibility": "eventual"}
        chosen = check_readings(readings)
        settle = Settle(settle_lag or DEFAULT_LAG) if chosen["visibility"] == "eventual" else None
        if settle is None and "race-create-unlisted" in chosen_faults:
            settle = IndexLag()  # lists lag behind creates, in real time
        new_id = IdMaker(id_seed)
        limiter = RateLimiter(rate_limit)
        storage = Storage(db_path)
        crm = Crm(storage)
        self.services = Services(
            orgs=ORGS,
            faults=chosen_faults,
            readings=chosen,
            settle=settle,
            clock=clock if clock is not None else SystemClock(),
            limiter=limiter,
            lock=threading.RLock(),
            storage=storage,
            crm=crm,
            sms=SmsService(storage, crm),
            new_id=new_id,
        )
        self.base_url = IN_PROCESS_BASE_URL
        self._clients: list[httpx.Client] = []
        self.app: Starlette = build_app(self.services)

    # The services' parts, by their old names (read-only: replacing one here would not
    # reach the app, which holds the record).
    @property
    def faults(self) -> Faults:
        return self.services.faults

    @property
    def readings(self) -> Readings:
        return self.services.readings

    @property
    def settle(self) -> Settle | None:
        return self.services.settle

    @property
    def new_id(self) -> Callable[[str], str]:
        return self.services.new_id

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def orgs(self) -> tuple[OrgCredentials, ...]:
        return self.services.orgs

    @property
    def limiter(self) -> RateLimiter:
        return self.services.limiter

    @property
    def lock(self) -> threading.RLock:
        return self.services.lock

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def crm(self) -> Crm:
        return self.services.crm

    @property
    def sms(self) -> SmsService:
        return self.services.sms

    def run_sender(self, now: datetime | None = None) -> int:
        """Send every SMS due at ``now`` (default: the clock's now); return how many."""
        return self.services.run_sender(now)

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
