"""Where a race history runs: the :class:`RaceTarget` protocol, and the reference server
in-process or over loopback HTTP (:class:`EmbeddedRaceTarget`), a fresh one per history.
:mod:`conformance.races.live` adapts a run's own target to the protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx

__all__ = ["BRANCH_TIMEOUT", "RECIPIENT", "EmbeddedRaceTarget", "RaceTarget", "embedded_races"]

RECIPIENT = "+12015550123"  # fictional (NANP 555-01xx), as conformance.target's
BRANCH_TIMEOUT = 30.0  # real seconds a branch may take before the history gives up on it


class RaceTarget(Protocol):
    """Where a history runs: ``send`` is called from several threads at once.

    Optional attributes (read with defaults, so a bare target needs none): ``recipient``
    (the ``remote_phone`` creates use; default :data:`RECIPIENT`), ``lead_id`` (creates
    name it and lists filter by it; default none), ``real_time`` (the target's clock runs
    by itself, see :meth:`_Runner.when`; default False) and ``made_up(ref)`` (an id no SMS
    has, for a reference whose create failed; default ``acti_never_made_<ref>``)."""

    local_phone: str

    def now(self) -> datetime:
        """The target's clock."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the target's clock (a live target: wait)."""
        ...

    def send(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None
    ) -> tuple[int, Any] | None:
        """Send one request; its status code and decoded JSON body, or None when no answer
        came (a transport error, a timeout)."""
        ...

    def close(self) -> None: ...


class EmbeddedRaceTarget:
    """The reference server in-process, for one history (``faults`` may name race
    variants: :data:`~conformance.refserver.race_faults.RACE_FAULTS`), optionally behind
    :class:`~conformance.refserver.noise.Noise`: ``transient_share`` of the SMS requests
    answered 503 before being handled or 504 after (lost answers), ``latency`` real seconds
    added to each request (so the branches overlap more). ``over_http``: the server is
    served by uvicorn on a loopback port (:class:`~conformance.loopback.Loopback`) and the
    branches' requests go over real TCP; its clock stays the virtual one, in this process."""

    def __init__(
        self,
        faults: Iterable[str] = (),
        readings: Mapping[str, str] | None = None,
        *,
        transient_share: float = 0.0,
        latency: float = 0.0,
        noise_seed: int = 0,
        over_http: bool = False,
    ) -> None:
        from conformance.clock import VirtualClock
        from conformance.fake import PerThreadTransport
        from conformance.refserver import ReferenceServer

        self.clock = VirtualClock()
        self.server = ReferenceServer(
            clock=self.clock, faults=tuple(faults), readings=readings, id_seed=0
        )
        org = self.server.orgs[0]
        self.local_phone = org.internal_numbers[0]
        app: Any = self.server.app
        if transient_share or latency:
            from conformance.refserver.noise import Noise

            app = Noise(app, transient_share=transient_share, latency=latency, seed=noise_seed)
        self.loopback = None
        self._transport: Any = None
        if over_http:
            from conformance.loopback import Loopback

            self.loopback = Loopback(app)
            self._http = httpx.Client(
                base_url=self.loopback.base_url + "/api/v1/",
                auth=(org.api_key, ""),
                timeout=BRANCH_TIMEOUT,
                limits=httpx.Limits(max_connections=8),
            )
        else:
            self._transport = PerThreadTransport(app)
            self._http = httpx.Client(
                transport=self._transport,
                base_url=self.server.base_url + "/",
                auth=(org.api_key, ""),
            )

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def send(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None
    ) -> tuple[int, Any] | None:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError:
            return None
        try:
            decoded = response.json() if response.content else None
        except ValueError:
            decoded = response.text
        return response.status_code, decoded

    def close(self) -> None:
        self._http.close()
        if self._transport is not None:
            self._transport.close()
        if self.loopback is not None:
            self.loopback.close()
        self.server.close()


def embedded_races(
    faults: Iterable[str] = (), readings: Mapping[str, str] | None = None, **noise: Any
) -> EmbeddedRaceTarget:
    """A target factory's product: a fresh embedded server (what ``run_races`` calls);
    ``noise``: :class:`EmbeddedRaceTarget`'s keyword arguments."""
    return EmbeddedRaceTarget(faults, readings, **noise)
