"""Run the reference server over real HTTP with uvicorn (``sms-conformance serve``)."""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import uvicorn

from conformance.clock import SystemClock
from conformance.refserver.noise import Noise
from conformance.refserver.server import ReferenceServer

__all__ = ["SENDER_INTERVAL", "ServeError", "serve"]

SENDER_INTERVAL = 0.2  # seconds between background sender runs, so real time works alone


class ServeError(ValueError):
    """The server cannot start: the address cannot be listened on, the database not opened.
    The message is one line, for the user."""


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening; :class:`ServeError` when it cannot be."""
    if not 0 <= port <= 65535:
        raise ServeError(f"--port must be 0 to 65535 (0 picks a free one), got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, uvicorn's separate writes of
        # headers and body meet delayed ACKs and every keep-alive response takes ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except socket.gaierror as error:
        sock.close()
        raise ServeError(
            f"cannot listen on {host}:{port}: unknown host ({error.strerror})"
        ) from None
    except (OSError, OverflowError) as error:
        sock.close()
        why = getattr(error, "strerror", None) or str(error)
        raise ServeError(f"cannot listen on {host}:{port}: {why}") from None
    return sock


def _sender_loop(server: ReferenceServer, stop: threading.Event) -> None:
    while not stop.wait(SENDER_INTERVAL):
        try:
            server.run_sender()
        except Exception:  # a closed database at shutdown; never kill the loop otherwise
            if stop.is_set():
                return
            raise


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: str = ":memory:",
    faults: Iterable[str] = (),
    readings: Mapping[str, str] | None = None,
    settle_lag: float | None = None,
    rate_limit: int | None = None,
    transient_share: float = 0.0,
    latency: float = 0.0,
    out: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    """Serve the reference API at ``http://host:port/api/v1`` until interrupted.

    Prints (via ``out``) the base URL, with the real port when ``port=0``, and each
    organisation's test credentials. Returns after SIGINT/SIGTERM (when run on the main
    thread) or once ``stop`` is set. Raises ``ValueError`` for an unknown fault, and
    :class:`ServeError` (one line) when the address cannot be listened on or the database
    cannot be opened.
    """
    try:
        server = ReferenceServer(
            clock=SystemClock(),
            db_path=db_path,
            faults=faults,
            rate_limit=rate_limit,
            readings=readings,
            settle_lag=settle_lag,
        )
    except sqlite3.Error as error:
        raise ServeError(f"cannot open the database --db {db_path}: {error}") from None
    try:
        sock = _listening_socket(host, port)
    except ServeError:
        server.close()
        raise
    finished = threading.Event()
    try:
        real_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if sock.family == socket.AF_INET6 else host
        out(f"Reference server: http://{shown_host}:{real_port}/api/v1")
        if server.faults:
            out(f"Faults: {', '.join(sorted(server.faults))}")
        if server.readings.chosen:
            chosen = sorted(server.readings.chosen.items())
            out("Readings: " + ", ".join(f"{point}={name}" for point, name in chosen))
        if server.settle is not None:
            out(f"Settle lag: {server.settle.lag.total_seconds():g} s")
        for org in server.orgs:
            out(
                f"  {org.organization_name} ({org.organization_id}): api key {org.api_key}"
                f"  oauth token {org.oauth_token}"
                f"  internal numbers {', '.join(org.internal_numbers)}"
            )
        app: Any = server.app
        if transient_share or latency:
            app = Noise(app, transient_share=transient_share, latency=latency)
            out(
                f"Noise: {transient_share:.0%} transient 503/504 on SMS endpoints, "
                f"{latency * 1000:.0f} ms latency"
            )
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        http_server = uvicorn.Server(config)
        sender = threading.Thread(
            target=_sender_loop, args=(server, finished), name="refserver-sender", daemon=True
        )
        sender.start()
        if stop is not None:

            def watch() -> None:
                while not finished.is_set():
                    if stop.wait(0.05):
                        http_server.should_exit = True
                        return

            threading.Thread(target=watch, name="refserver-stop", daemon=True).start()
        http_server.run(sockets=[sock])
    finally:
        finished.set()
        sock.close()
        server.close()
