"""The embedded reference server over real TCP: uvicorn on 127.0.0.1, in a thread.

The in-process target hands each request to the server's ASGI app in memory; a
:class:`Loopback` serves the very same app on a loopback port instead, so every request
goes through a real socket, HTTP parsing and uvicorn, as against a remote target. The
server's clock stays the run's :class:`~conformance.clock.VirtualClock` (it lives in this
process), so a wait is still instant and a timing variant is caught as quickly as
in-process, which a server on real time (``sms-conformance serve``) cannot offer.

The schema phase drives an in-process server through a pacing wrapper (a 429 moves the
virtual clock and the request is replayed, see ``schema_phase._PacedApp``). Over loopback
its requests carry :data:`PACE_HEADER`, and only those go through the wrapper set in
:attr:`Loopback.paced`; the engine's own requests meet the rate limit as ever.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from conformance.refserver.serve import _listening_socket

__all__ = ["HOST", "PACE_HEADER", "Loopback"]

HOST = "127.0.0.1"
PACE_HEADER = "x-sms-conformance-paced"  # the schema phase's requests, paced server-side
STARTUP_SECONDS = 10.0
SHUTDOWN_SECONDS = 10.0


class _Switch:
    """The served app: requests carrying :data:`PACE_HEADER` go to ``paced`` when set."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paced: Any | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        paced = self.paced
        if (
            paced is not None
            and scope["type"] == "http"
            and any(name == PACE_HEADER.encode() for name, _ in scope.get("headers", ()))
        ):
            await paced(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class Loopback:
    """Serve ``app`` (an ASGI app mounted at ``/api/v1``, as the reference server's) at
    ``http://127.0.0.1:<free port>`` on a daemon thread, until :meth:`close`.

    >>> with Loopback(server.app) as loopback:
    ...     httpx.get(loopback.base_url + "/api/v1/me/")

    Raises :class:`~conformance.refserver.serve.ServeError` when no port can be bound and
    ``RuntimeError`` when uvicorn does not start within ``STARTUP_SECONDS``."""

    def __init__(self, app: Any) -> None:
        self._switch = _Switch(app)
        self._socket = _listening_socket(HOST, 0)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(self._switch, log_level="error", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"loopback-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"uvicorn did not start on {HOST}:{self.port}")
            time.sleep(0.005)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; the API is at ``base_url + "/api/v1"``."""
        return f"http://{HOST}:{self.port}"

    @property
    def paced(self) -> Any | None:
        """The app that answers requests carrying :data:`PACE_HEADER` (None: the app)."""
        return self._switch.paced

    @paced.setter
    def paced(self, app: Any | None) -> None:
        self._switch.paced = app

    @property
    def running(self) -> bool:
        """The server thread is alive."""
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop uvicorn, wait for its thread and close the socket: no thread left running,
        no port left bound. Idempotent."""
        self._server.should_exit = True
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(SHUTDOWN_SECONDS)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError(f"the loopback server on port {self.port} did not stop")

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
