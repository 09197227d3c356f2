"""``requests`` answers read within the run's bounds, for the schema phase.

schemathesis sends its requests with ``requests``, through sessions of its own making (one
per operation from ``schemathesis.engine.context.make_session``, and fresh
``SameHostRedirectsSession`` objects for its unauthenticated probes and for calls without a
session), and reads every answer whole (``response.content``). Left alone, a target answering
5 GB, or a few KB of ``Content-Encoding: gzip, gzip``, would be read into memory, and a body
dripped a byte at a time would hold the run forever.

Within :func:`bounded_sessions` every ``requests`` adapter is bounded, whichever session it
belongs to, by patching the two methods all of them share on
``requests.adapters.HTTPAdapter``:

- ``build_response`` wraps the urllib3 answer in a :class:`_BoundedBody`, which reads the
  body raw (``decode_content=False``) and decodes it with :mod:`conformance.decoding`: at
  most ``max_bytes`` of decoded body, then it hangs up;
- ``send`` asks only for codings the decoder knows (``Accept-Encoding``), and runs the
  request and the reading of its body on a daemon thread, waited for until the deadline
  (connect + headers + body); past it the answer is abandoned and ``requests`` sees a
  ``ReadTimeout`` "no answer (deadline of N s passed)". Event streams are read by their
  caller: their body is checked against the deadline between chunks instead.

Adapters that send by themselves (schemathesis's in-process ASGI adapter for the embedded
target) keep their own synchronous ``send``; their answers still go through the body bound.

An answer cut at the bound is handed on cut (a cut JSON body no longer parses), and noted in
the :class:`Bounds` that :func:`bounded_sessions` yields: ``bounds.hits`` names each such
answer (``"GET /api/v1/activity/sms/x/: answered more than 1,000,000 bytes (decoded); the
bound was hit"``), so that the caller can end the run inconclusive instead of judging what
was cut (:class:`~conformance.client.AnswerTooLarge`).

Everything here that leans on how ``requests`` and schemathesis work inside is in this
module, and each such assumption has a canary test in ``tests/test_bounded_requests.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from conformance.client import (
    DEFAULT_DEADLINE,
    Deadline,
    DeadlinePassed,
    OpenAnswers,
    run_before_deadline,
)
from conformance.decoding import (
    ACCEPT_ENCODING,
    CHUNK,
    BoundedDecoder,
    UndecodableBody,
    accepts_only_decodable,
)

__all__ = ["BoundedAdapter", "Bounds", "bounded_sessions"]

# The methods every ``requests`` adapter of schemathesis's sessions shares.
_ADAPTER_SEND = "requests.adapters.HTTPAdapter.send"
_ADAPTER_BUILD_RESPONSE = "requests.adapters.HTTPAdapter.build_response"


@dataclass(frozen=True, slots=True)
class Bounds:
    """At most ``max_bytes`` of decoded body per answer; ``deadline`` seconds per request
    (body included; None: none).

    ``hits`` names every answer cut at ``max_bytes`` so far, in order (``"METHOD
    URL-path: answered more than N bytes (decoded); the bound was hit"``); answers are read
    on many threads, so it is only added to through :meth:`hit`."""

    max_bytes: int
    deadline: float | None = DEFAULT_DEADLINE
    hits: list[str] = field(default_factory=list, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def hit(self, method: str, url: str) -> None:
        """Note that the answer to ``method url`` went on past ``max_bytes``."""
        path = urlsplit(url or "").path or "/"
        what = (
            f"{method} {path}: answered more than {self.max_bytes:,} bytes (decoded); "
            "the bound was hit"
        )
        with self._lock:
            self.hits.append(what)


class _BoundedBody:
    """A urllib3 response that yields at most ``max_bytes`` of its body, decoded here.

    The body is read raw and decoded by :class:`~conformance.decoding.BoundedDecoder`, whatever
    ``decode_content`` the caller asks for (``requests`` always asks for decoded content).
    ``deadline`` is checked between chunks; a body that does not decode raises urllib3's
    ``DecodeError`` (``requests`` turns it into ``ContentDecodingError``)."""

    def __init__(
        self, raw: Any, bounds: Bounds, request: requests.PreparedRequest | None = None
    ) -> None:
        self._raw = raw
        self.bounds = bounds
        self.max_bytes = bounds.max_bytes
        self._request = request
        self.deadline = Deadline(None)
        self._decoded: Iterator[bytes] | None = None
        self._left_over = b""

    def _chunks(self) -> Iterator[bytes]:
        if self._decoded is None:
            encoding = self._raw.headers.get("content-encoding")
            decoder = BoundedDecoder(
                self.deadline.watch(self._raw_chunks()), encoding, self.max_bytes
            )
            self._decoded = self._hanging_up_after(decoder)
        return self._decoded

    def _raw_chunks(self) -> Iterator[bytes]:
        """The body as received; ``read1`` returns what has arrived, so that a drip-fed body
        is checked against the deadline every time something comes."""
        read1 = getattr(self._raw, "read1", None)
        if read1 is None:
            yield from self._raw.stream(CHUNK, decode_content=False)
            return
        while chunk := read1(CHUNK, decode_content=False):
            yield chunk

    def _hanging_up_after(self, decoder: BoundedDecoder) -> Iterator[bytes]:
        try:
            yield from decoder
        except UndecodableBody as error:
            self._raw.close()
            raise urllib3.exceptions.DecodeError(str(error)) from None
        except DeadlinePassed as error:
            self._raw.close()
            raise requests.exceptions.ReadTimeout(str(error)) from None
        if decoder.cut:
            self._raw.close()  # hang up: the rest is never read
            request = self._request
            self.bounds.hit(
                getattr(request, "method", None) or "?", getattr(request, "url", None) or ""
            )

    def _next(self) -> bytes:
        if self._left_over:
            chunk, self._left_over = self._left_over, b""
            return chunk
        return next(self._chunks(), b"")

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        while chunk := self._next():
            yield chunk

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        chunk = self._next()
        if amt is not None and 0 <= amt < len(chunk):
            chunk, self._left_over = chunk[:amt], chunk[amt:]
        return chunk

    def read(self, amt: int | None = None, decode_content: bool | None = None, **_: Any) -> bytes:
        if amt is None or amt < 0:
            return b"".join(self.stream())
        parts, size = [], 0
        while size < amt and (chunk := self.read1(amt - size)):
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _bound_response(response: requests.Response, bounds: Bounds) -> requests.Response:
    if not isinstance(response.raw, _BoundedBody):
        response.raw = _BoundedBody(response.raw, bounds, response.request)
    return response


def _send_within(
    bounds: Bounds, send: Callable[..., requests.Response], adapter: HTTPAdapter,
    request: requests.PreparedRequest, **kwargs: Any,
) -> requests.Response:  # fmt: skip
    """``send(adapter, request, **kwargs)`` within ``bounds.deadline``, body included."""
    accept_encoding = request.headers.get("Accept-Encoding")
    if isinstance(accept_encoding, bytes):  # requests takes header values as bytes too
        accept_encoding = accept_encoding.decode("latin-1")
    if not accepts_only_decodable(accept_encoding):
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
    deadline = Deadline(bounds.deadline)
    held = OpenAnswers()

    def exchange() -> requests.Response:
        response = send(adapter, request, **kwargs)
        held.hold(response)
        if isinstance(response.raw, _BoundedBody):
            response.raw.deadline = deadline
        if not _is_event_stream(response):
            response.content  # noqa: B018 - read here, within the deadline
        return response

    if bounds.deadline is None:
        return exchange()
    try:
        return run_before_deadline(exchange, deadline, abandon=held.abandon)
    except DeadlinePassed as error:
        raise requests.exceptions.ReadTimeout(str(error), request=request) from None


def _is_event_stream(response: requests.Response) -> bool:
    content_type = response.headers.get("content-type") or ""
    return content_type.split(";")[0].strip().lower() == "text/event-stream"


class BoundedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` within :class:`Bounds`, for a session of one's own (inside
    :func:`bounded_sessions` every adapter is bounded already)."""

    def __init__(
        self, max_bytes: int, *, deadline: float | None = DEFAULT_DEADLINE, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.bounds = Bounds(max_bytes, deadline)

    @property
    def max_bytes(self) -> int:
        return self.bounds.max_bytes

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return _send_within(
            self.bounds,
            HTTPAdapter.send,
            self,
            request,
            stream=stream,
            timeout=timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def build_response(self, req: Any, resp: Any) -> requests.Response:
        return _bound_response(super().build_response(req, resp), self.bounds)


@contextmanager
def bounded_sessions(
    max_bytes: int, *, deadline: float | None = DEFAULT_DEADLINE
) -> Iterator[Bounds]:
    """Within the block, every ``requests`` session (schemathesis's, its probes', anyone's in
    this process) reads answers up to ``max_bytes`` of decoded body, each request done within
    ``deadline`` seconds (None: no deadline).

    Yields the :class:`Bounds` in force; its ``hits`` name the answers cut at the bound
    (they are handed on cut; a caller that judges them should end inconclusive instead)::

        with bounded_sessions(max_bytes) as bounds:
            ...
        if bounds.hits:
            raise AnswerTooLarge(bounds.hits[0])
    """
    bounds = Bounds(max_bytes, deadline)
    send: Callable[..., requests.Response] = HTTPAdapter.send  # perhaps a test's stand-in
    build_response: Callable[..., requests.Response] = HTTPAdapter.build_response

    def bounded_send(
        adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.update(zip(("stream", "timeout", "verify", "cert", "proxies"), args, strict=False))
        if isinstance(adapter, BoundedAdapter):
            return send(adapter, request, **kwargs)  # bounded by itself
        return _send_within(bounds, send, adapter, request, **kwargs)

    def bounded_build_response(adapter: HTTPAdapter, req: Any, resp: Any) -> requests.Response:
        response = build_response(adapter, req, resp)
        if isinstance(adapter, BoundedAdapter):
            return response  # bounded by itself
        return _bound_response(response, bounds)

    with (
        mock.patch(_ADAPTER_SEND, bounded_send),
        mock.patch(_ADAPTER_BUILD_RESPONSE, bounded_build_response),
    ):
        yield bounds
