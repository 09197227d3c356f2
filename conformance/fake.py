"""The reference server as a fake of the Close SMS API, for testing your own code offline.

:class:`CloseSmsFake` is a thin shell over :class:`~conformance.refserver.ReferenceServer`
(in-process, on a virtual clock): while it is active, every ``httpx`` request (sync or
async) to ``https://api.close.com/api/v1/`` (or the base URLs you name) is answered by it
through a respx router, and every ``requests`` request to those URLs (the official
``closeio`` client uses requests) through a requests transport adapter
(:mod:`conformance.fake_requests`). No socket is opened. The fake is stateful: an SMS
POSTed is there on the next GET, a scheduled one is sent when its time comes on the fake's
clock, a cancelled one never is.

    with CloseSmsFake() as fake:
        lead = fake.add_lead("Acme", contacts=[{"name": "Jane Doe",
                                                "phones": [{"phone": "+15555550123"}]}])
        my_code_that_schedules_an_sms(api_key=fake.api_key, lead_id=lead["id"])
        fake.clock.advance(3600)          # the SMS falls due and is sent
        assert [sms["lead_id"] for sms in fake.sent()] == [lead["id"]]

Knobs for your error handling: ``readings`` (how the server reads an open point of the
docs), ``faults`` (a faulty variant), ``rate_limit`` (requests per second per API key on the
fake's clock: 429 with ``RateLimit`` and ``Retry-After``), ``transient_share`` (a share of
SMS requests answered 503 before being handled or 504 after) and ``latency`` (real seconds
added to every request). An unknown reading or fault is a ``ValueError`` naming the known
ones.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import respx

from conformance.clock import VirtualClock
from conformance.fake_requests import intercept_requests
from conformance.refserver.errors import ApiError
from conformance.refserver.noise import Noise
from conformance.refserver.seed import OrgCredentials
from conformance.refserver.server import IN_PROCESS_BASE_URL, ReferenceServer
from conformance.transport import SyncASGITransport

__all__ = ["DEFAULT_BASE_URL", "CloseSmsFake", "FakeClock", "PerThreadTransport"]

DEFAULT_BASE_URL = "https://api.close.com/api/v1/"


class FakeClock(VirtualClock):
    """The fake's virtual clock: it moves only when told to (``advance(seconds)``, or
    ``sleep(seconds)``, which advances it at once), and every move sends the SMS that fell
    due, at their due time."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        self.on_advance: Callable[[], object] | None = None

    def advance(self, seconds: float) -> datetime:
        now = super().advance(seconds)
        if self.on_advance is not None:
            self.on_advance()
        return now


class PerThreadTransport(httpx.BaseTransport):
    """A :class:`SyncASGITransport` over ``app`` for each thread that sends: one event loop
    cannot serve two threads at once, and users' code may send from a pool of workers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._local = threading.local()
        self._all: list[SyncASGITransport] = []
        self._lock = threading.Lock()
        self._for_this_thread()  # the creating thread's event loop, made up front

    def _for_this_thread(self) -> SyncASGITransport:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = SyncASGITransport(self.app)
            with self._lock:
                self._all.append(transport)
        return transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for_this_thread().handle_request(request)

    def close(self) -> None:
        with self._lock:
            transports, self._all = self._all, []
        for transport in transports:
            transport.close()


def _normalised_base_url(base_url: str) -> str:
    """``base_url`` as httpx spells it, ending in ``/api/v1/``; a ``ValueError`` otherwise."""
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"a base URL needs http:// or https:// and a host, got {base_url!r}")
    text = str(url.copy_with(query=None, fragment=None)).rstrip("/") + "/"
    if not text.endswith("/api/v1/"):
        raise ValueError(f"a base URL must end in /api/v1/, got {base_url!r}")
    return text


class ServedByApp:
    """Answers an httpx request to a URL under ``base_url`` from the ASGI ``app``, as if
    the app were served there: synchronously for ``httpx.Client``, as a coroutine inside a
    running event loop (``httpx.AsyncClient``). A respx side effect."""

    def __init__(self, app: Any, base_url: str, sync_transport: httpx.BaseTransport) -> None:
        self.app = app
        self.base_url = base_url
        self._sync = sync_transport
        self._async = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def _inner(self, request: httpx.Request) -> httpx.Request:
        rest = str(request.url)[len(self.base_url) :]
        return httpx.Request(
            request.method,
            f"{IN_PROCESS_BASE_URL}/{rest}",
            headers=request.headers,
            content=request.content,
        )

    def __call__(self, request: httpx.Request) -> Any:
        inner = self._inner(request)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._sync.handle_request(inner)
        return self._answer_async(inner)

    async def _answer_async(self, inner: httpx.Request) -> httpx.Response:
        response = await self._async.handle_async_request(inner)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class CloseSmsFake:
    """A stateful fake of the Close SMS API for your tests: use it as a context manager
    (or call :meth:`start` and :meth:`stop`).

    ``base_urls``: where the API is served (default ``https://api.close.com/api/v1/``).
    ``readings``: open point -> alternative (``sms-conformance serve --list-readings``).
    ``faults``: names of faulty variants to switch on. ``rate_limit``: requests per second
    per API key, on the fake's clock. ``transient_share`` and ``latency``: noise, seeded by
    ``noise_seed``. ``start``: the clock's start time (aware). ``id_seed``: seeded ids.

    The seeded organisation's credentials are :attr:`api_key` (HTTP Basic username, empty
    password) and :attr:`oauth_token` (``Authorization: Bearer ...``); its SMS-capable
    numbers are :attr:`internal_numbers`. A second organisation's key,
    :attr:`other_api_key`, sees none of the first one's data.
    """

    def __init__(
        self,
        *,
        base_urls: Iterable[str] = (DEFAULT_BASE_URL,),
        readings: Mapping[str, str] | None = None,
        faults: Iterable[str] = (),
        rate_limit: int | None = None,
        transient_share: float = 0.0,
        latency: float = 0.0,
        noise_seed: int = 0,
        start: datetime | None = None,
        id_seed: int | None = None,
    ) -> None:
        if isinstance(base_urls, str):
            base_urls = (base_urls,)
        self.base_urls = tuple(dict.fromkeys(_normalised_base_url(u) for u in base_urls))
        if not self.base_urls:
            raise ValueError("a fake needs at least one base URL")
        self.clock = FakeClock(start)
        self.server = ReferenceServer(
            clock=self.clock,
            faults=tuple(faults),
            readings=readings,
            rate_limit=rate_limit,
            id_seed=id_seed,
        )
        self.clock.on_advance = self.server.run_sender
        app: Any = self.server.app
        if transient_share or latency:
            app = Noise(app, transient_share=transient_share, latency=latency, seed=noise_seed)
        self.app = app
        self._transport = PerThreadTransport(app)
        self.routes = {url: ServedByApp(app, url, self._transport) for url in self.base_urls}
        # Any other httpx request in the block fails ("not mocked"): nothing reaches the
        # network by accident. Add routes to ``fake.router`` for other hosts.
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        for url, served in self.routes.items():
            self.router.route(url__startswith=url).mock(side_effect=served)
        self._stop_requests: Callable[[], None] | None = None

    # -- the seeded organisation -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The first base URL (``https://api.close.com/api/v1/`` by default)."""
        return self.base_urls[0]

    @property
    def org(self) -> OrgCredentials:
        return self.server.orgs[0]

    @property
    def api_key(self) -> str:
        return self.org.api_key

    @property
    def oauth_token(self) -> str:
        return self.org.oauth_token

    @property
    def other_api_key(self) -> str:
        """The API key of a second organisation, isolated from the first."""
        return self.server.orgs[1].api_key

    @property
    def organization_id(self) -> str:
        return self.org.organization_id

    @property
    def user_id(self) -> str:
        return self.org.user_id

    @property
    def internal_numbers(self) -> tuple[str, ...]:
        """The organisation's numbers that can send SMS (``local_phone``)."""
        return self.org.internal_numbers

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> CloseSmsFake:
        """Route the base URLs to the fake (httpx and requests) until :meth:`stop`."""
        self.router.start()
        self._stop_requests = intercept_requests(self.base_urls, self._transport)
        return self

    def stop(self) -> None:
        """Stop routing and close the server (its data is gone)."""
        if self._stop_requests is not None:
            self._stop_requests()
            self._stop_requests = None
        self.router.stop()
        self.clock.on_advance = None
        self.server.close()
        self._transport.close()

    def __enter__(self) -> CloseSmsFake:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- seeding -----------------------------------------------------------------------------

    def _as_org(self, action: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        services = self.server.services
        with services.lock:
            ctx = services.context(self.org, self.clock.now(), UTC)
            try:
                return action(ctx)
            except ApiError as error:
                raise ValueError(f"the fake refused it: {error.body}") from None

    def add_lead(self, name: str = "", *, contacts: Sequence[Mapping[str, Any]] = ()) -> dict:
        """Create a lead with ``contacts`` (as ``POST /lead/`` takes them: ``{"name": ...,
        "phones": [{"phone": "+1..."}]}``); return it with its contacts (and their ids)."""
        body = {"name": name, "contacts": list(contacts)}
        return self._as_org(lambda ctx: self.server.crm.create_lead(ctx, body))

    def add_template(self, name: str, text: str, *, is_shared: bool = False) -> dict:
        """Create an SMS template (``{{ contact.first_name }}`` and friends are filled in
        when an SMS uses it); return it."""
        body = {"name": name, "text": text, "is_shared": is_shared}
        return self._as_org(lambda ctx: self.server.crm.create_template(ctx, body))

    # -- inspecting --------------------------------------------------------------------------

    def sms(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """The organisation's SMS as the API would show them, oldest first (after sending
        whatever is due on the fake's clock); only those in ``status`` if given."""
        self.server.run_sender()
        stored = self.server.storage.select("sms", self.organization_id, oldest_first=True)
        return [doc for doc in stored if status is None or doc.get("status") == status]

    def sent(self) -> list[dict[str, Any]]:
        """The SMS that went out, in the order they did; ``date_sent`` says when."""
        return sorted(self.sms(status="sent"), key=lambda doc: (doc["date_sent"], doc["id"]))
