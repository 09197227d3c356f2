"""The fake for code that uses ``requests`` (the official ``closeio`` client does): a
requests transport adapter that answers from the fake's in-process app, no socket.

:func:`intercept_requests` makes every ``requests.Session`` pick that adapter for URLs
under the fake's base URLs (by wrapping the public ``Session.get_adapter``), so code that
builds its own session, such as ``closeio_api.Client``, runs unchanged. Requests to other
URLs are left alone.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from conformance.refserver.server import IN_PROCESS_BASE_URL

__all__ = ["FakeRequestsAdapter", "intercept_requests"]


class FakeRequestsAdapter(BaseAdapter):
    """A requests adapter answering URLs under ``base_urls`` from an httpx transport over
    the fake's app (``transport.handle_request``), as the app would answer them there."""

    def __init__(self, base_urls: Sequence[str], transport: httpx.BaseTransport) -> None:
        super().__init__()
        self.base_urls = tuple(base_urls)
        self.transport = transport

    def serves(self, url: str) -> bool:
        return any(url.startswith(base) for base in self.base_urls)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = request.url or ""
        base = next(base for base in self.base_urls if url.startswith(base))
        body = _body_bytes(request.body)
        inner = httpx.Request(
            request.method or "GET",
            f"{IN_PROCESS_BASE_URL}/{url[len(base) :]}",
            headers=[
                (k, v if isinstance(v, str) else v.decode()) for k, v in request.headers.items()
            ],
            content=body,
        )
        answer = self.transport.handle_request(inner)
        content = answer.read()
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = io.BytesIO(content)
        response.reason = answer.reason_phrase
        response.url = url
        response.request = request
        response.connection = self  # type: ignore[assignment]  # requests types it HTTPAdapter
        return response

    def close(self) -> None:
        pass  # the fake closes its transport


def _body_bytes(body: Any) -> bytes | None:
    """A prepared request's body (bytes, text, a file or an iterable of chunks) as bytes."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return _body_bytes(body.read())
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def intercept_requests(
    base_urls: Sequence[str], transport: httpx.BaseTransport
) -> Callable[[], None]:
    """Until the returned function is called, every ``requests.Session`` sends requests to
    URLs under ``base_urls`` through a :class:`FakeRequestsAdapter` over ``transport``.
    Nested interceptions stack (the latest is asked first); stop them in reverse order."""
    adapter = FakeRequestsAdapter(base_urls, transport)
    original = requests.Session.get_adapter

    def get_adapter(session: requests.Session, url: str) -> BaseAdapter:
        if adapter.serves(url):
            return adapter
        return original(session, url)

    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign, assignment]

    def stop() -> None:
        requests.Session.get_adapter = original  # type: ignore[method-assign]

    return stop
