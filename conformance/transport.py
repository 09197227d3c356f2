"""A synchronous httpx transport over an ASGI app, built on ``httpx.ASGITransport``.

httpx ships an ASGI transport for ``AsyncClient`` only. The engine and Hypothesis's state
machine are synchronous, so this transport drives ``httpx.ASGITransport`` on a private
event loop: same request/response handling as httpx, no network, no threads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

__all__ = ["SyncASGITransport"]


class SyncASGITransport(httpx.BaseTransport):
    """Serve ``httpx.Client`` requests from an ASGI app in-process.

    >>> client = httpx.Client(transport=SyncASGITransport(app), base_url="http://ref/api/v1")
    """

    def __init__(self, app: Any, *, raise_app_exceptions: bool = False) -> None:
        # raise_app_exceptions=False: an unhandled error in the app becomes a 500 response,
        # which is what a real server would send and what the suite must observe.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._loop.run_until_complete(self._handle(request))

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=body,
            request=request,
        )

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()
