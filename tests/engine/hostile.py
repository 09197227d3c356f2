"""A hostile target, faked at the HTTP-client level: the fixture endpoints answer as Close
does, ``/activity/sms/`` misbehaves in one chosen way.

Every request the suite makes goes through one respx router, so a test can look at every
request afterwards (its host, its Authorization header). The schema phase talks through
``requests`` (schemathesis), not httpx; :func:`hostile_target` bridges ``requests`` into the
same router, so those requests are seen, and judged, like the others.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import requests
import respx
import urllib3

HOST = "hostile.test"
BASE_URL = f"https://{HOST}/api/v1"
EVIL_LOCATION = "https://evil.test/api/v1/activity/sms/"
SECRET = "hostile-secret-api-key-9f3c1e"
BASIC = httpx.BasicAuth(SECRET, "")._auth_header  # "Basic <base64 of 'SECRET:'>"
SECRET_FORMS = (SECRET, BASIC, BASIC.split()[1])

Misbehaviour = Callable[[httpx.Request], httpx.Response]

PHONE_NUMBERS = [
    {"id": "phon_1", "number": "+15555550001", "type": "internal"},
    {"id": "phon_2", "number": "+15555550002", "type": "internal"},
    {"id": "phon_3", "number": "+15555550003", "type": "external"},
]


@dataclass
class HostileApi:
    """The fake's request handler: well-behaved fixtures, a misbehaving SMS API."""

    sms: Misbehaviour
    sms_requests: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1/")
        method = request.method
        if request.headers.get("authorization") != BASIC:
            return httpx.Response(401, json={"error": "The API key is missing or wrong."})
        if path.startswith("activity/sms/"):
            self.sms_requests += 1
            return self.sms(request)
        if method == "DELETE":
            return httpx.Response(200, json={})
        if (method, path) == ("GET", "me/"):
            return httpx.Response(200, json={"id": "user_1", "organizations": [{"id": "orga_1"}]})
        if (method, path) == ("GET", "phone_number/"):
            return httpx.Response(200, json={"data": PHONE_NUMBERS, "has_more": False})
        if (method, path) == ("POST", "lead/"):
            n = next(self._ids)
            return httpx.Response(200, json={"id": f"lead_{n}", "contacts": [{"id": f"cont_{n}"}]})
        if (method, path) == ("POST", "sms_template/"):
            return httpx.Response(200, json={"id": f"smstmpl_{next(self._ids)}"})
        return httpx.Response(404, json={"error": f"no such endpoint: {method} {path}"})


def sms_object(request: httpx.Request) -> dict:
    """A plausible SMS, enough for a wrong-content-type answer to carry valid JSON."""
    return {
        "id": "acti_1",
        "_type": "SMS",
        "status": "draft",
        "direction": "outbound",
        "text": "hello",
        "local_phone": PHONE_NUMBERS[0]["number"],
        "remote_phone": "+15555550100",
        "lead_id": "lead_1",
        "contact_id": "cont_1",
        "organization_id": "orga_1",
        "user_id": "user_1",
        "date_created": "2026-01-01T12:00:00+00:00",
        "date_updated": "2026-01-01T12:00:00+00:00",
        "activity_at": "2026-01-01T12:00:00+00:00",
    }


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
    sms: Misbehaviour, monkeypatch: pytest.MonkeyPatch, *, fast_clock: bool = True
) -> Iterator[Hostile]:
    """Fake ``https://hostile.test/api/v1`` for httpx (respx) and requests (bridged).

    ``fast_clock``: ``SystemClock.sleep`` becomes a no-op, so the client's GET backoff
    (0.5 + 1 + 2 s per request) and rate-limit waits cost nothing in the tests. The
    behaviour judged (retry counts, verdicts) is the same; only the waiting is skipped.
    """
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
            yield hostile


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        for form in SECRET_FORMS:
            assert form not in text


def report_texts(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in directory.iterdir() if path.is_file()}


def log_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{record.name} {record.getMessage()} {record.args!r}" for record in records)
