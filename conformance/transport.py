"""A synchronous httpx transport over an ASGI app, with httpx's ``ASGITransport`` semantics.

httpx ships an ASGI transport for ``AsyncClient`` only. The engine and Hypothesis's state
machine are synchronous, so this transport calls the app itself, in the calling thread, with
what ``httpx.ASGITransport`` would send it (the same scope, the body, then
``http.disconnect`` once the response is complete) and answers what the app sends back (an
unhandled error in the app is a 500, as ``raise_app_exceptions=False`` does in httpx).

Speed matters: the engine sends thousands of requests a run. The app's coroutine is stepped
directly until it first waits for something not ready yet; an app that never waits (the
reference server) thus costs no event-loop run at all. While it is stepped, the transport's
event loop for this thread counts as the running one (``asyncio.get_running_loop()``, futures
and ``asyncio.Event`` bind to it); if the coroutine does wait (``asyncio.sleep`` in the
latency middleware), that loop finishes it. There is no current task in the stepped part:
an app that needs one (anyio task groups and thread pools: Starlette's sync endpoints and
streaming responses) must pass ``eager=False``, which runs every request on the loop.

One transport may serve several threads: a request borrows the transport's event loop, and
one that finds it busy (another thread is in a request) gets a loop of its own, closed when
the request ends. So a transport holds one loop, however many threads it meets (a thread per
request, as a deadline may start, leaks none); :meth:`SyncASGITransport.close` closes it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Generator
from typing import Any

import httpx

from conformance.compat.asyncio import running_loop

__all__ = ["SyncASGITransport"]

_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class SyncASGITransport(httpx.BaseTransport):
    """Serve ``httpx.Client`` requests from an ASGI app in-process.

    >>> client = httpx.Client(transport=SyncASGITransport(app), base_url="http://ref/api/v1")
    """

    def __init__(self, app: Any, *, raise_app_exceptions: bool = False, eager: bool = True) -> None:
        # raise_app_exceptions=False: an unhandled error in the app becomes a 500 response,
        # which is what a real server would send and what the suite must observe.
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.eager = eager
        self._loop = asyncio.new_event_loop()
        self._in_use = threading.Lock()  # held by the request that borrowed self._loop
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("this SyncASGITransport is closed")
        body = request.read()
        borrowed = self._in_use.acquire(blocking=False)
        loop = self._loop if borrowed else asyncio.new_event_loop()
        try:
            status, headers, content = self._run(loop, self._call_app(request, body))
        finally:
            if borrowed:
                self._in_use.release()
            else:
                loop.close()
        return httpx.Response(status, headers=headers, content=content, request=request)

    def _run(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _Answer]) -> _Answer:
        if not self.eager:
            return loop.run_until_complete(coro)
        try:
            with running_loop(loop):
                waiting_on = coro.send(None)
        except StopIteration as done:
            answer: _Answer = done.value
            return answer
        return loop.run_until_complete(_resume(coro, waiting_on))

    async def _call_app(self, request: httpx.Request, body: bytes) -> _Answer:
        # The scope httpx.ASGITransport builds (httpx 0.28-0.29), for the same requests.
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        body_sent = False
        status: int | None = None
        headers: list[tuple[bytes, bytes]] | None = None
        parts: list[bytes] = []
        complete = False
        completed: asyncio.Event | None = None  # made only if the app waits for it

        async def receive() -> dict[str, Any]:
            nonlocal body_sent, completed
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            if not complete:  # the client is there until the response is complete
                completed = completed or asyncio.Event()
                await completed.wait()
            return {"type": "http.disconnect"}

        def finish() -> None:
            nonlocal complete
            complete = True
            if completed is not None:
                completed.set()

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                assert status is None, "the app started its response twice"
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                assert not complete, "the app sent a body after its response was complete"
                chunk = message.get("body", b"")
                if chunk and request.method != "HEAD":
                    parts.append(chunk)
                if not message.get("more_body", False):
                    finish()

        try:
            await self.app(scope, receive, send)
        except Exception:
            if self.raise_app_exceptions:
                raise
            finish()
            if status is None:
                status = 500
            if headers is None:
                headers = []
        assert complete, "the app returned without completing its response"
        assert status is not None and headers is not None
        return status, headers, b"".join(parts)

    def close(self) -> None:
        self._closed = True
        with self._in_use:  # not under a request still running
            if not self._loop.is_closed():
                self._loop.close()


async def _resume(coro: Coroutine[Any, Any, _Answer], waiting_on: Any) -> _Answer:
    """Finish on the running loop a coroutine stepped outside it, now ``waiting_on``."""
    return await _Resumed(coro, waiting_on)


class _Resumed:
    """An awaitable that hands on what ``coro`` yields, starting from ``waiting_on`` (what it
    yielded when first stepped), and passes back what the task sends or throws in."""

    def __init__(self, coro: Coroutine[Any, Any, _Answer], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, _Answer]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:  # cancellation included: the app sees it
                try:
                    waiting_on = coro.throw(error)
                except StopIteration as done:
                    answer: _Answer = done.value
                    return answer
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration as done:
                    answer = done.value
                    return answer
