"""``requests`` answers read only up to a bound, for the schema phase.

schemathesis sends its requests with ``requests`` and reads every answer whole
(``response.content``), so a target answering 5 GB would be read into memory. The state
machine's client stops at ``max_body_bytes``; :func:`bounded_sessions` makes the schema phase
do the same: every session schemathesis makes gets a :class:`BoundedAdapter`, whose answers
yield at most ``max_bytes`` of body and then hang up. A cut JSON body no longer parses, so
the response-schema check judges it as the machine does (``sms/object/schema``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import requests
from requests.adapters import HTTPAdapter

__all__ = ["BoundedAdapter", "bounded_sessions"]

# Where schemathesis 4.x builds the session of each operation (and of its probes).
_SESSION_FACTORY = "schemathesis.engine.context.make_session"


class _BoundedBody:
    """A urllib3 response that yields at most ``max_bytes`` of its (decoded) body."""

    def __init__(self, raw: Any, max_bytes: int) -> None:
        self._raw = raw
        self._left = max_bytes

    def stream(
        self, amt: int | None = 2**16, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            if len(chunk) >= self._left:
                tail, self._left = chunk[: self._left], 0
                if tail:
                    yield tail
                self._raw.close()  # hang up: the rest is never read
                return
            self._left -= len(chunk)
            yield chunk

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return b"".join(self.stream(amt or 2**16, decode_content=decode_content))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class BoundedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose responses give at most ``max_bytes`` of body."""

    def __init__(self, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    def build_response(self, req: Any, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.raw = _BoundedBody(response.raw, self.max_bytes)
        return response


@contextmanager
def bounded_sessions(max_bytes: int) -> Iterator[None]:
    """Within the block, every session schemathesis makes reads answers up to ``max_bytes``."""
    import schemathesis.engine.context as context

    make_session: Callable[..., requests.Session] = context.make_session

    def make_bounded_session(*args: Any, **kwargs: Any) -> requests.Session:
        session = make_session(*args, **kwargs)
        for prefix in ("http://", "https://"):
            session.mount(prefix, BoundedAdapter(max_bytes))
        return session

    with mock.patch(_SESSION_FACTORY, make_bounded_session):
        yield
