"""requests answers read within bounds (the schema phase's transport).

The ``canary`` tests pin down what :mod:`conformance.bounded_requests` assumes about the
insides of ``requests`` and schemathesis; when one fails, an upgrade changed something the
bounds rely on, and the schema phase may be reading answers unbounded again.
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import io
import pkgutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter

from conformance.bounded_requests import BoundedAdapter, Bounds, bounded_sessions

MB = 1 << 20
BOMB = gzip.compress(gzip.compress(bytes(MB)) * 1024)  # 1 GB of zeros in a few KB


def answer(adapter: HTTPAdapter, body: bytes, **headers: str) -> requests.Response:
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(body),
        headers={k.replace("_", "-"): v for k, v in headers.items()},
        status=200,
        preload_content=False,
        decode_content=False,
    )
    request = requests.Request("GET", "http://example.test/").prepare()
    return adapter.build_response(request, raw)


# -- the body bound --------------------------------------------------------------------------


def test_an_answer_longer_than_the_bound_is_cut_at_the_bound():
    response = answer(BoundedAdapter(max_bytes=10), b"x" * 1000)
    assert response.content == b"x" * 10


def test_an_answer_within_the_bound_is_read_whole():
    response = answer(BoundedAdapter(max_bytes=10), b'{"a": 1}')
    assert response.content == b'{"a": 1}'
    assert response.json() == {"a": 1}


def test_an_answer_exactly_at_the_bound_is_read_whole():
    response = answer(BoundedAdapter(max_bytes=4), b"abcd")
    assert response.content == b"abcd"


def test_a_gzipped_answer_is_decoded_by_the_bound_not_by_urllib3():
    response = answer(
        BoundedAdapter(max_bytes=100), gzip.compress(b'{"a": 1}'), content_encoding="gzip"
    )
    assert response.json() == {"a": 1}


def test_a_stacked_gzip_bomb_is_decoded_no_further_than_the_bound():
    response = answer(BoundedAdapter(max_bytes=MB), BOMB, content_encoding="gzip, gzip")
    assert response.content == bytes(MB)


def test_an_answer_in_a_coding_the_suite_did_not_ask_for_is_a_decoding_error_not_a_crash():
    response = answer(BoundedAdapter(max_bytes=MB), b"\x1b\x00brotli", content_encoding="br")
    with pytest.raises(requests.exceptions.ContentDecodingError, match="not decoded by the suite"):
        response.content  # noqa: B018


def test_a_body_is_read_in_pieces_as_urllib3_callers_read_it():
    response = answer(BoundedAdapter(max_bytes=10), b"0123456789abcdef")
    assert response.raw.read(4) == b"0123"
    assert response.raw.read1(3) == b"456"
    assert response.raw.read() == b"789"


# -- every session, over a real socket -------------------------------------------------------


@contextmanager
def loopback(head: str, body: Iterator[bytes], *, every: float = 0.0) -> Iterator[str]:
    """A loopback HTTP server answering every request with ``head`` (status line and headers)
    and then ``body``, one chunk every ``every`` seconds; yields its URL."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()
    chunks = list(body)

    def answer_one(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(head.encode() + b"\r\n\r\n")
                for chunk in chunks:
                    if stop.is_set():
                        return
                    conn.sendall(chunk)
                    time.sleep(every)
            except OSError:
                pass  # the client hung up

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/api/v1/activity/sms/"
    finally:
        stop.set()
        thread.join(2)
        server.close()


def schemathesis_session() -> requests.Session:
    import schemathesis
    from schemathesis.engine.context import make_session

    return make_session(schemathesis.Config().projects.override)


def probe_session() -> requests.Session:
    from schemathesis.transport.requests import SameHostRedirectsSession

    return SameHostRedirectsSession()  # what the unauthenticated probes use


SESSIONS = [
    pytest.param(schemathesis_session, id="make_session"),
    pytest.param(probe_session, id="probe-session"),
    pytest.param(requests.Session, id="plain-requests"),
]


@pytest.mark.parametrize("make", SESSIONS)
def test_every_session_in_the_block_reads_a_stacked_bomb_only_up_to_the_bound(make):
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {len(BOMB)}"
    with loopback(head, iter([BOMB])) as url, bounded_sessions(1000) as bounds:
        response = make().get(url + "?lead_id=lead_1", timeout=5)
    assert response.content == bytes(1000)  # handed on cut ...
    assert bounds.hits == [  # ... and noted, for the caller to end the run inconclusive
        "GET /api/v1/activity/sms/: answered more than 1,000 bytes (decoded); the bound was hit"
    ]


def test_answers_within_the_bound_are_no_hits():
    head = "HTTP/1.1 200 OK\r\nContent-Length: 2"
    with loopback(head, iter([b"{}"])) as url, bounded_sessions(2) as bounds:
        assert requests.get(url, timeout=5).json() == {}
    assert isinstance(bounds, Bounds)
    assert bounds.hits == []


def test_hits_are_noted_from_every_thread_reading_answers():
    def send(adapter, request, **kwargs):
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(b"y" * 50), status=200, preload_content=False, decode_content=False
        )
        return adapter.build_response(request, raw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTTPAdapter, "send", send)
        with bounded_sessions(10, deadline=None) as bounds:
            threads = [
                threading.Thread(target=requests.post, args=(f"http://x.test/{n}/",))
                for n in range(20)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(5)
    assert sorted(bounds.hits) == sorted(
        f"POST /{n}/: answered more than 10 bytes (decoded); the bound was hit" for n in range(20)
    )


def test_a_bounded_adapter_of_ones_own_notes_its_hits_too():
    adapter = BoundedAdapter(max_bytes=10)
    assert answer(adapter, b"x" * 1000).content == b"x" * 10
    assert adapter.bounds.hits == [
        "GET /: answered more than 10 bytes (decoded); the bound was hit"
    ]


@pytest.mark.parametrize("make", SESSIONS)
def test_every_session_in_the_block_gives_up_on_a_drip_fed_body_at_the_deadline(make):
    head = "HTTP/1.1 200 OK\r\nContent-Length: 100"
    with loopback(head, iter([b"x"] * 100), every=0.1) as url, bounded_sessions(MB, deadline=0.5):
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout, match=r"deadline of 0\.5 s passed"):
            make().get(url, timeout=5)
    assert time.monotonic() - started < 1.5


def test_an_event_stream_read_by_its_caller_is_checked_against_the_deadline_between_chunks():
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100"
    with loopback(head, iter([b"x"] * 100), every=0.1) as url, bounded_sessions(MB, deadline=0.5):
        started = time.monotonic()
        response = probe_session().get(url, timeout=5, stream=True)
        with pytest.raises(requests.exceptions.ReadTimeout, match="deadline"):
            for _ in response.iter_content(1):
                pass
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("asked", ["gzip, br, zstd", b"gzip, br, zstd"], ids=["text", "bytes"])
def test_requests_in_the_block_ask_only_for_codings_the_bound_decodes(asked):
    seen = []

    def send(adapter, request, **kwargs):
        seen.append(request.headers.get("Accept-Encoding"))
        raw = urllib3.HTTPResponse(body=io.BytesIO(b"{}"), status=200, preload_content=False)
        return adapter.build_response(request, raw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTTPAdapter, "send", send)
        with bounded_sessions(100):
            requests.get("http://x.test/", headers={"Accept-Encoding": asked})
    assert seen == ["gzip, deflate"]


def test_a_bounded_adapter_takes_the_arguments_of_adapter_send_by_position_too():
    seen = []

    def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        seen.append((stream, timeout, verify, cert, proxies))
        raw = urllib3.HTTPResponse(body=io.BytesIO(b"{}"), status=200, preload_content=False)
        return adapter.build_response(request, raw)

    request = requests.Request("GET", "http://x.test/").prepare()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTTPAdapter, "send", send)
        response = BoundedAdapter(100).send(request, True, 3.0, False, None, {})
    assert response.json() == {}
    assert seen == [(True, 3.0, False, None, {})]


def test_a_stand_in_for_adapter_send_that_builds_its_own_response_is_bounded_too():
    # As tests/engine/hostile.py bridges requests into respx: send() replaced, calling
    # adapter.build_response(request, raw) itself.
    def send(adapter, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(b"y" * 5000), status=200, preload_content=False, decode_content=False
        )
        return adapter.build_response(request, raw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTTPAdapter, "send", send)
        with bounded_sessions(10):
            assert probe_session().get("http://x.test/").content == b"y" * 10
        assert probe_session().get("http://x.test/").content == b"y" * 5000  # outside: as is
        assert HTTPAdapter.send is send


def test_outside_the_block_adapters_are_as_requests_made_them():
    send, build_response = HTTPAdapter.send, HTTPAdapter.build_response
    with bounded_sessions(10):
        assert HTTPAdapter.send is not send
    assert (HTTPAdapter.send, HTTPAdapter.build_response) == (send, build_response)


# -- canaries: what the bounds assume about requests and schemathesis -------------------------


def test_canary_requests_adapter_send_takes_the_arguments_the_patch_passes_on():
    parameters = list(inspect.signature(HTTPAdapter.send).parameters)
    assert parameters == ["self", "request", "stream", "timeout", "verify", "cert", "proxies"]
    assert list(inspect.signature(HTTPAdapter.build_response).parameters) == [
        "self",
        "req",
        "resp",
    ]


def test_canary_requests_reads_a_body_through_raw_stream():
    calls = []

    class Raw:
        def stream(self, amt, decode_content=None):
            calls.append(decode_content)
            yield b"body"

    response = requests.Response()
    response.raw = Raw()
    assert response.content == b"body"
    assert calls == [True]


def test_canary_schemathesis_sessions_share_the_adapter_methods_the_block_patches():
    from schemathesis.transport.requests import ManagedCookiesSession

    for session in (schemathesis_session(), probe_session(), ManagedCookiesSession()):
        for adapter in session.adapters.values():
            assert type(adapter) is HTTPAdapter, type(adapter)


def test_canary_schemathesis_makes_no_requests_session_or_adapter_the_bounds_do_not_know():
    # The packages that send (schemathesis.transport, .python) or run them (.engine).
    for package in ("schemathesis.transport", "schemathesis.python", "schemathesis.engine"):
        _import_all(package)

    def subclasses(cls: type) -> Iterator[type]:

        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def known(classes: Iterator[type]) -> set[str]:
        return {
            f"{cls.__module__}.{cls.__qualname__}"
            for cls in classes
            if cls.__module__.startswith("schemathesis")
        }

    assert known(subclasses(requests.Session)) == {
        "schemathesis.transport.requests.SameHostRedirectsSession",  # probes, no session given
        "schemathesis.transport.requests.ManagedCookiesSession",  # make_session
        "schemathesis.python.asgi.ASGIClient",  # in-process (the embedded target)
    }
    assert known(subclasses(requests.adapters.BaseAdapter)) == {
        "schemathesis.python.asgi._ASGIAdapter"
    }


def _import_all(package: str) -> None:
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
        try:
            importlib.import_module(module.name)
        except Exception:  # noqa: BLE001, S112 - optional extras; what loads is what counts
            continue


def test_canary_the_unauthenticated_probes_make_a_session_of_their_own():
    from schemathesis.engine.run import cache
    from schemathesis.transport.requests import RequestsTransport

    assert "SameHostRedirectsSession()" in inspect.getsource(cache._send_without_auth)
    assert "SameHostRedirectsSession()" in inspect.getsource(RequestsTransport.send)


def test_canary_the_in_process_adapter_sends_by_itself_and_builds_through_build_response():
    from schemathesis.python.asgi import _ASGIAdapter

    assert _ASGIAdapter.send is not HTTPAdapter.send  # so the embedded target stays unthreaded
    assert "self.build_response(" in inspect.getsource(_ASGIAdapter.send)
