"""A hostile target, faked at the HTTP-client level: everything is answered by the
reference server (so the fixture endpoints answer as Close does), except that
``/activity/sms/`` misbehaves in one chosen way.

Every request the suite makes goes through one respx router, so a test can look at every
request afterwards (its host, its Authorization header). The schema phase talks through
``requests`` (schemathesis), not httpx; :func:`hostile_target` bridges ``requests`` into the
same router, so those requests are seen, and judged, like the others.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import requests
import respx
import urllib3

from conformance.refserver import ReferenceServer
from conformance.refserver.server import IN_PROCESS_BASE_URL
from conformance.transport import SyncASGITransport

HOST = "hostile.test"
BASE_URL = f"https://{HOST}/api/v1"
EVIL_LOCATION = "https://evil.test/api/v1/activity/sms/"
SECRET = "hostile-secret-api-key-9f3c1e"
BASIC = httpx.BasicAuth(SECRET, "")._auth_header  # "Basic <base64 of 'SECRET:'>"
SECRET_FORMS = (SECRET, BASIC, BASIC.split()[1])

Answer = Callable[[httpx.Request], httpx.Response]
# A misbehaviour answers an SMS request; it may ask the reference server what the right
# answer would have been (``reference(request)``) and spoil it.
Misbehaviour = Callable[[httpx.Request, Answer], httpx.Response]


class HostileApi:
    """The fake's request handler. Behind it stands the reference server (in-process, on
    the real clock): every request is answered correctly, except those to
    ``/activity/sms/``, which go to the misbehaviour. The secret is swapped for the
    reference server's own key on the way in, so only the fake ever sees it."""

    def __init__(self, sms: Misbehaviour) -> None:
        self.sms = sms
        self.sms_requests = 0
        self.server = ReferenceServer()
        self._transport = SyncASGITransport(self.server.app)
        self._lock = threading.Lock()
        self._key = httpx.BasicAuth(self.server.orgs[0].api_key, "")._auth_header

    def reference(self, request: httpx.Request) -> httpx.Response:
        """The reference server's answer to ``request``."""
        headers = {k: v for k, v in request.headers.items() if k != "host"}
        if headers.get("authorization") == BASIC:
            headers["authorization"] = self._key
        path = request.url.raw_path.decode().removeprefix("/api/v1")
        forwarded = httpx.Request(
            request.method,
            IN_PROCESS_BASE_URL + path,
            headers=headers,
            content=request.read(),
        )
        with self._lock:
            answer = self._transport.handle_request(forwarded)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v1/activity/sms/"):
            self.sms_requests += 1
            return self.sms(request, self.reference)
        return self.reference(request)

    def close(self) -> None:
        self._transport.close()


@dataclass
class Hostile:
    """What a test gets: the handler and every request the fake saw (respx forgets its
    calls when its context ends; this list stays)."""

    api: HostileApi
    requests: list[httpx.Request] = field(default_factory=list)  # every one, in order
    requests_verify: list[object] = field(default_factory=list)  # `verify` of each requests call

    def record(self, answer: Misbehaviour) -> Misbehaviour:
        def answer_and_record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return answer(request)

        return answer_and_record

    def hosts(self) -> set[str]:
        return {request.url.host for request in self.requests}

    def assert_only_the_target_was_asked(self) -> None:
        """Every request went to the target's host; none carried a key anywhere else."""
        assert self.requests, "the fake saw no request at all"
        assert self.hosts() == {HOST}
        for request in self.requests:
            if request.url.host != HOST:
                assert "authorization" not in request.headers


class _Chunks(io.RawIOBase):
    """A file over an iterator of byte chunks, read lazily (so what is never read is never
    produced)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def _requests_through_httpx(client: httpx.Client, hostile: Hostile):
    """A replacement for ``requests.adapters.HTTPAdapter.send`` that sends the prepared
    request through httpx (hence through respx) and streams the answer back as a
    ``requests`` response; httpx errors become the ``requests`` errors they stand for."""

    def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        hostile.requests_verify.append(verify)
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        outgoing = client.build_request(
            request.method, request.url, headers=dict(request.headers), content=body or b""
        )
        try:
            answer = client.send(outgoing, stream=True)
        except httpx.ConnectTimeout as error:
            raise requests.exceptions.ConnectTimeout(str(error), request=request) from error
        except httpx.ReadTimeout as error:
            raise requests.exceptions.ReadTimeout(str(error), request=request) from error
        except httpx.TransportError as error:
            raise requests.exceptions.ConnectionError(str(error), request=request) from error
        headers = urllib3.HTTPHeaderDict()
        for name, value in answer.headers.multi_items():
            headers.add(name, value)
        raw = urllib3.HTTPResponse(
            body=io.BufferedReader(_Chunks(answer.iter_raw())),
            headers=headers,
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
            decode_content=False,
        )
        return adapter.build_response(request, raw)

    return send


@contextmanager
def hostile_target(
    sms: Misbehaviour,
    monkeypatch: pytest.MonkeyPatch,
    *,
    fast_clock: bool = True,
    key_as_test_data: bool = False,
) -> Iterator[Hostile]:
    """Fake ``https://hostile.test/api/v1`` for httpx (respx) and requests (bridged).

    ``fast_clock``: ``SystemClock.sleep`` becomes a no-op, so the client's GET backoff
    (0.5 + 1 + 2 s per request) and rate-limit waits cost nothing in the tests. The
    behaviour judged (retry counts, verdicts) is the same; only the waiting is skipped.

    ``key_as_test_data=False`` switches off a known leak, so that each fault case judges
    its own fault: schemathesis seeds the Basic-auth username (Close's API key) into its
    pool of ids, and the schema phase then sends the key in URLs and bodies (shown, and
    marked xfail, by ``test_the_schema_phase_never_sends_the_key_as_data``).
    """
    if not key_as_test_data:
        monkeypatch.setattr(
            "schemathesis.specs.openapi.analysis.seed_pool_from_basic_auth",
            lambda *args, **kwargs: None,
        )
    hostile = Hostile(HostileApi(sms))
    if fast_clock:
        monkeypatch.setattr("conformance.clock.SystemClock.sleep", lambda self, seconds: None)
    with respx.mock(assert_all_called=False) as router:
        # Routes on any host: a request to evil.test would be answered (and recorded), not
        # refused by respx, so the assertions on hosts are what catch it.
        router.route(host=HOST).mock(side_effect=hostile.record(hostile.api))
        router.route().mock(side_effect=hostile.record(lambda _: httpx.Response(200, json={})))
        with httpx.Client() as bridge:
            monkeypatch.setattr(
                requests.adapters.HTTPAdapter, "send", _requests_through_httpx(bridge, hostile)
            )
            try:
                yield hostile
            finally:
                hostile.api.close()


def requests_carrying_the_key(requests_seen: list[httpx.Request]) -> list[str]:
    """The requests whose URL or body holds the key (the header is where it belongs)."""
    return [
        f"{request.method} {request.url} {request.content[:200]!r}"
        for request in requests_seen
        if any(form in str(request.url) or form in request.content.decode(errors="replace")
               for form in SECRET_FORMS)
    ]  # fmt: skip


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        for form in SECRET_FORMS:
            assert form not in text


def report_texts(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in directory.iterdir() if path.is_file()}


def log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{record.name} {record.getMessage()} {record.args!r}" for record in records)
