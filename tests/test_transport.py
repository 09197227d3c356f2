"""The in-process transport: httpx.ASGITransport's answers, in the calling thread."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from conformance.refserver import ReferenceServer
from conformance.transport import SyncASGITransport


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"x-a", b"1")]})
    await send({"type": "http.response.body", "body": body})


class Echo:
    """Answers the method, path, query and body it was sent, and notes each request's
    thread and running event loop."""

    def __init__(self, *, sleep: float | None = None) -> None:
        self.sleep = sleep
        self.seen: list[tuple[int, asyncio.AbstractEventLoop]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.seen.append((threading.get_ident(), asyncio.get_running_loop()))
        message = await receive()
        if self.sleep is not None:
            await asyncio.sleep(self.sleep)
        text = f"{scope['method']} {scope['path']} {scope['query_string'].decode()} "
        await _answer(send, 200, text.encode() + message["body"])


def client(app: Any, **options: Any) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app, **options), base_url="http://ref/api/v1/")


def test_an_app_that_never_waits_answers_the_request_it_was_sent():
    http = client(Echo())
    response = http.post("activity/sms/", params={"a": "1"}, content=b'{"x": 1}')
    assert response.status_code == 200
    assert response.headers["x-a"] == "1"
    assert response.text == 'POST /api/v1/activity/sms/ a=1 {"x": 1}'


def test_an_app_that_waits_is_finished_on_the_event_loop():
    app = Echo(sleep=0.01)
    http = client(app)
    assert [http.get(f"n/{i}").text for i in range(3)] == [f"GET /api/v1/n/{i}  " for i in range(3)]
    assert len({loop for _, loop in app.seen}) == 1  # one loop for the thread, kept


def test_an_app_without_eager_stepping_runs_in_a_task():
    tasks = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        tasks.append(asyncio.current_task())
        await _answer(send, 204, b"")

    assert client(app, eager=False).get("x").status_code == 204
    assert tasks[0] is not None


def test_an_error_in_the_app_is_a_500_unless_app_errors_are_raised():
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise ValueError("bug")

    assert client(broken).get("x").status_code == 500
    with pytest.raises(ValueError, match="bug"):
        client(broken, raise_app_exceptions=True).get("x")


def test_a_head_answer_has_no_body():
    assert client(Echo()).head("x").content == b""


def test_the_client_disconnects_only_once_the_response_is_complete():
    messages = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        messages.append(await receive())

        async def listen() -> None:
            messages.append(await receive())

        listening = asyncio.ensure_future(listen())
        await asyncio.sleep(0)
        assert not listening.done()  # the response is not complete yet
        await _answer(send, 200, b"done")
        await listening

    assert client(app).get("x").text == "done"
    assert [message["type"] for message in messages] == ["http.request", "http.disconnect"]


def test_one_transport_serves_several_threads_and_leaves_no_loop_open():
    app = Echo(sleep=0.001)
    transport = SyncASGITransport(app)
    http = httpx.Client(transport=transport, base_url="http://ref/api/v1/")
    answers: dict[int, list[str]] = {}
    start = threading.Barrier(4)

    def work(n: int) -> None:
        start.wait()
        answers[n] = [http.get(f"t/{n}/{i}").text for i in range(20)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: [f"GET /api/v1/t/{n}/{i}  " for i in range(20)] for n in range(4)}
    loops = {loop for _, loop in app.seen}
    # The transport's own loop, and the loops of requests that found it busy: closed at once.
    assert [loop for loop in loops if not loop.is_closed()] == [transport._loop]
    http.close()
    assert all(loop.is_closed() for loop in loops)
    with pytest.raises(RuntimeError, match="closed"):
        http.get("after")


def test_a_thread_per_request_leaks_no_file_descriptor():
    """A deadline may send each request from a thread of its own: the transport must not keep
    an event loop (an epoll and a self-pipe) per thread it met."""
    import os

    transport = SyncASGITransport(Echo(sleep=0.001))
    http = httpx.Client(transport=transport, base_url="http://ref/api/v1/")
    http.get("warm")
    before = len(os.listdir("/proc/self/fd"))
    for i in range(50):
        thread = threading.Thread(target=http.get, args=(f"t/{i}",))
        thread.start()
        thread.join()
    assert len(os.listdir("/proc/self/fd")) <= before
    http.close()


def test_the_reference_server_answers_without_an_event_loop_run(monkeypatch):
    server = ReferenceServer()
    org = server.orgs[0]
    transport = SyncASGITransport(server.app)
    runs = []
    loop = transport._loop
    monkeypatch.setattr(loop, "run_until_complete", lambda *a: runs.append(a))
    http = httpx.Client(transport=transport, base_url=server.base_url + "/", auth=(org.api_key, ""))
    response = http.get("activity/sms/")
    assert response.status_code == 200 and "data" in response.json()
    assert runs == []
