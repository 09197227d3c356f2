"""A hostile target, faked at the HTTP-client level: everything is answered by the
reference server (so the fixture endpoints answer as Close does), except that
``/activity/sms/`` misbehaves in one chosen way.

Every request the suite makes goes through one respx router, so a test can look at every
request afterwards (its host, its Authorization header). The schema phase talks through
``requests`` (schemathesis), not httpx; :func:`hostile_target` bridges ``requests`` into the
same router, so those requests are seen, and judged, like the others.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import requests
import respx
import urllib3

from conformance.compat import SEED_POOL_FROM_BASIC_AUTH, basic_authorization
from conformance.refserver import ReferenceServer
from conformance.refserver.server import IN_PROCESS_BASE_URL
from conformance.transport import SyncASGITransport

HOST = "hostile.test"
BASE_URL = f"https://{HOST}/api/v1"
EVIL_LOCATION = "https://evil.test/api/v1/activity/sms/"
SECRET = "hostile-secret-api-key-9f3c1e"
BASIC = basic_authorization(SECRET)  # "Basic <base64 of 'SECRET:'>"


def secret_forms(secret: str) -> tuple[str, ...]:
    """Every spelling of ``secret`` a server, a library or a report might produce: plain, the
    Basic header and its base64 (padded or not, standard or URL-safe, of ``key:`` or of the
    key alone), and URL-encoded (``quote`` and ``quote_plus``; compare case-insensitively
    to catch lower-case percent escapes)."""
    basic = basic_authorization(secret)
    forms = {secret, basic, basic.split()[1], quote(secret, safe=""), quote_plus(secret),
             quote(secret)}  # fmt: skip
    for raw in (f"{secret}:", secret):
        encoded = base64.b64encode(raw.encode()).decode()
        forms |= {encoded, encoded.rstrip("="), base64.urlsafe_b64encode(raw.encode()).decode()}
    return tuple(sorted(form for form in forms if len(form) >= 8))


SECRET_FORMS = secret_forms(SECRET)  # (SECRET, BASIC, BASIC's base64, ...)

Answer = Callable[[httpx.Request], httpx.Response]
# A misbehaviour answers an SMS request; it may ask the reference server what the right
# answer would have been (``reference(request)``) and spoil it.
Misbehaviour = Callable[[httpx.Request, Answer], httpx.Response]


class HostileApi:
    """The fake's request handler. Behind it stands the reference server (in-process, on
    the real clock): every request is answered correctly, except those to
    ``/activity/sms/``, which go to the misbehaviour. The secret is swapped for the
    reference server's own key on the way in, so only the fake ever sees it."""

    def __init__(
        self,
        sms: Misbehaviour,
        *,
        everywhere: bool = False,
        keys: dict[str, str] | None = None,
    ) -> None:
        """``everywhere``: the misbehaviour answers every request, not only the SMS ones.
        ``keys`` maps an Authorization header the suite sends to the one the reference
        server knows (default: ``SECRET`` to organisation A's key)."""
        self.sms = sms
        self.everywhere = everywhere
        self.sms_requests = 0
        self.server = ReferenceServer()
        self._transport = SyncASGITransport(self.server.app)
        self._lock = threading.Lock()
        self._key = basic_authorization(self.server.orgs[0].api_key)
        self.keys = keys if keys is not None else {BASIC: self._key}
        # Every document the server stored, in order: (operation, kind, document, by_fake);
        # by_fake marks what the fake itself stored (the customer's data), not the suite.
        self.stored: list[tuple[str, str, dict[str, Any], bool]] = []
        self.by_fake = False
        self._audit_storage()

    def _audit_storage(self) -> None:
        storage = self.server.storage
        insert, update = storage.insert, storage.update

        def audited_insert(kind: str, doc: Any, **kwargs: Any) -> None:
            insert(kind, doc, **kwargs)
            self.stored.append(("insert", kind, json.loads(json.dumps(doc)), self.by_fake))

        def audited_update(kind: str, doc: Any, **kwargs: Any) -> None:
            update(kind, doc, **kwargs)
            self.stored.append(("update", kind, json.loads(json.dumps(doc)), self.by_fake))

        storage.insert = audited_insert  # type: ignore[method-assign]
        storage.update = audited_update  # type: ignore[method-assign]

    def as_customer(
        self, method: str, path: str, body: object = None, *, org: int = 0
    ) -> httpx.Response:
        """A request made by the account's owner (not the suite), straight to the reference
        server: what it stores is marked as the customer's."""
        key = basic_authorization(self.server.orgs[org].api_key)
        request = httpx.Request(
            method,
            IN_PROCESS_BASE_URL + "/" + path.lstrip("/"),
            headers={"authorization": key, "content-type": "application/json"},
            content=b"" if body is None else json.dumps(body).encode(),
        )
        with self._lock:
            self.by_fake = True
            try:
                answer = self._transport.handle_request(request)
                answer.read()
            finally:
                self.by_fake = False
        return answer

    def rows(self) -> dict[str, tuple[Any, ...]]:
        """Every stored row, by id, exactly as SQLite holds it (body text included)."""
        storage = self.server.storage
        with storage._lock:
            found = storage._connection.execute(
                "SELECT id, kind, org, lead_id, contact_id, user_id, date_created, activity_at,"
                " status, due_at, body FROM documents"
            ).fetchall()
        return {row[0]: tuple(row) for row in found}

    def status_history(self) -> list[tuple[str, str, str]]:
        storage = self.server.storage
        with storage._lock:
            return [tuple(row) for row in storage._connection.execute(
                "SELECT doc_id, kind, status FROM status_history ORDER BY rowid")]  # fmt: skip

    def reference(self, request: httpx.Request) -> httpx.Response:
        """The reference server's answer to ``request``."""
        headers = {k: v for k, v in request.headers.items() if k != "host"}
        if headers.get("authorization") in self.keys:
            headers["authorization"] = self.keys[headers["authorization"]]
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
        if self.everywhere:
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
    slept: list[float] = field(default_factory=list)  # every SystemClock.sleep asked (fast clock)

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


class RawBytes(httpx.SyncByteStream):
    """A body as sent over the wire, still encoded: ``httpx.Response(stream=RawBytes(...))``.

    ``httpx.Response(content=some_bytes)`` reads (so decodes, by its ``Content-Encoding``)
    the body as it is built, and respx pre-reads any ``httpx.ByteStream``: a gzip bomb built
    so explodes inside the fake, before the client sees a byte. Not being a ``ByteStream``,
    this is read by whoever reads the answer, raw, ``chunk`` bytes at a time."""

    def __init__(self, data: bytes, chunk: int = 64 * 1024) -> None:
        self._data = data
        self._chunk = chunk

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), self._chunk):
            yield self._data[start : start + self._chunk]


class _Chunks(io.RawIOBase):
    """A file over an iterator of byte chunks, read lazily (so what is never read is never
    produced)."""

    def __init__(self, chunks: Iterator[bytes], on_close: Callable[[], None] | None = None) -> None:
        self._chunks = chunks
        self._left = b""
        self._on_close = on_close

    def close(self) -> None:
        if self._on_close is not None and not self.closed:
            self._on_close()
        super().close()

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
            body=io.BufferedReader(_Chunks(answer.iter_raw(), on_close=answer.close)),
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
    api: HostileApi | None = None,
) -> Iterator[Hostile]:
    """Fake ``https://hostile.test/api/v1`` for httpx (respx) and requests (bridged).

    ``fast_clock``: ``SystemClock.sleep`` becomes a no-op, so the client's GET backoff
    (0.5 + 1 + 2 s per request) and rate-limit waits cost nothing in the tests. The
    behaviour judged (retry counts, verdicts) is the same; only the waiting is skipped.

    ``key_as_test_data=False`` switches off a known leak, so that each fault case judges
    its own fault: schemathesis seeds the Basic-auth username (Close's API key) into its
    pool of ids, and the schema phase then sends the key in URLs and bodies (shown, and
    marked xfail, by ``test_the_schema_phase_never_sends_the_key_as_data``).

    ``api``: a handler built (and seeded) beforehand; ``sms`` is then ignored. With the fast
    clock every sleep asked for is recorded in ``Hostile.slept``.
    """
    if not key_as_test_data:
        monkeypatch.setattr(SEED_POOL_FROM_BASIC_AUTH, lambda *args, **kwargs: None)
    hostile = Hostile(api if api is not None else HostileApi(sms))
    if fast_clock:
        monkeypatch.setattr(
            "conformance.clock.SystemClock.sleep",
            lambda self, seconds: hostile.slept.append(float(seconds)),
        )
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


# -- the customer: data on the account that no run created ------------------------------------

CUSTOMER_PHONE = "+18183334444"  # a real-looking number (the OpenAPI examples' remote_phone)
CUSTOMER_SMS = 50


@dataclass
class Customer:
    """What the account's owner has on the target before (and while) the suite runs. Every
    row the fake stores for the customer is in ``rows`` as stored; a case's run must leave
    each one byte-for-byte as it is, and never send a PUT or DELETE naming one of them."""

    look_alike_leads: list[str]  # leads named "sms-conformance ..." by the customer
    sms_lead: str  # a lead with CUSTOMER_SMS SMS on it
    sms_contact: str
    other_leads: list[str]
    sms_ids: list[str]
    template_id: str
    other_org_sms: list[str]
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    history: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    def ids(self) -> set[str]:
        return set(self.rows)

    def note(self, api: HostileApi) -> None:
        """Take every row the fake stored so far as the customer's (call after adding some)."""
        rows = api.rows()
        for _, _, doc, by_fake in api.stored:
            if by_fake and doc["id"] in rows:
                self.rows.setdefault(doc["id"], rows[doc["id"]])
                # contacts come with their lead
        lead_ids = {row[0] for row in self.rows.values() if row[1] == "lead"}
        for row_id, row in rows.items():
            if row[1] == "contact" and row[3] in lead_ids:
                self.rows.setdefault(row_id, row)
        history = api.status_history()
        self.history = {
            doc_id: [entry for entry in history if entry[0] == doc_id] for doc_id in self.rows
        }

    def changes(self, api: HostileApi) -> list[str]:
        """What differs now from what the customer had: deleted, changed, or written again."""
        now = api.rows()
        history = api.status_history()
        problems = []
        for row_id, row in sorted(self.rows.items()):
            if row_id not in now:
                problems.append(f"customer {row[1]} {row_id} was deleted")
            elif now[row_id] != row:
                problems.append(f"customer {row[1]} {row_id} was changed: {now[row_id][10][:300]}")
            elif [entry for entry in history if entry[0] == row_id] != self.history[row_id]:
                problems.append(f"customer {row[1]} {row_id} was written to (status history)")
        return problems


def _created(answer: httpx.Response, what: str) -> dict[str, Any]:
    body = answer.json()
    assert answer.status_code < 300 and isinstance(body, dict) and "id" in body, (what, body)
    return body


def seed_customer(api: HostileApi) -> Customer:
    """Put a customer's data on the reference server: look-alike leads, an ordinary lead
    with CUSTOMER_SMS SMS (drafts, which a PUT could edit, inbox and sent), a template, and
    a lead with SMS in the second organisation."""
    local = api.server.orgs[0].internal_numbers[0]

    def lead(name: str, org: int = 0) -> dict[str, Any]:
        body = {
            "name": name,
            "contacts": [
                {"name": "Carla Customer", "phones": [{"type": "mobile", "phone": CUSTOMER_PHONE}]}
            ],
        }
        answer = api.as_customer("POST", "lead/", body, org=org)
        return _created(answer, f"lead {name}")

    look_alikes = [lead("sms-conformance customers list")["id"],
                   lead("sms-conformance 2024 leads")["id"],
                   lead("sms-conformance lead 0")["id"]]  # fmt: skip
    main = lead("Acme Corp (customer)")
    others = [lead("Globex (customer)")["id"]]
    sms_ids = []
    for index in range(CUSTOMER_SMS):
        status = ("draft", "inbox", "sent")[index % 3]
        body = {
            "status": status,
            "lead_id": main["id"],
            "contact_id": main["contacts"][0]["id"],
            "local_phone": local,
            "remote_phone": CUSTOMER_PHONE,
            "text": f"customer message {index}",
        }
        sms_ids.append(_created(api.as_customer("POST", "activity/sms/", body), "sms")["id"])
    template = _created(
        api.as_customer("POST", "sms_template/", {"name": "Customer welcome", "text": "Hello!"}),
        "template",
    )
    other = lead("Initech (customer of org B)", org=1)
    other_sms = []
    for index in range(3):
        body = {"status": "draft", "lead_id": other["id"],
                "contact_id": other["contacts"][0]["id"],
                "local_phone": api.server.orgs[1].internal_numbers[0],
                "remote_phone": CUSTOMER_PHONE, "text": f"org B message {index}"}  # fmt: skip
        other_sms.append(
            _created(api.as_customer("POST", "activity/sms/", body, org=1), "sms")["id"]
        )
    customer = Customer(
        look_alike_leads=look_alikes,
        sms_lead=main["id"],
        sms_contact=main["contacts"][0]["id"],
        other_leads=[*others, other["id"]],
        sms_ids=sms_ids,
        template_id=template["id"],
        other_org_sms=other_sms,
    )
    customer.note(api)
    return customer


def find_forms(text: str, forms: tuple[str, ...]) -> list[str]:
    """The credential forms in ``text`` (case-insensitively: percent escapes may be
    lower-case; base64 false positives this way are not a practical worry)."""
    lowered = text.lower()
    return [form for form in forms if form.lower() in lowered]
