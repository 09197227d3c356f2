"""The embedded server over real TCP (``over_http=True``): same server, same virtual clock."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from conformance.clock import VirtualClock
from conformance.engine import run_target
from conformance.loopback import PACE_HEADER, Loopback
from conformance.profiles import PROFILES
from conformance.refserver import ReferenceServer
from conformance.replay import embedded_replay_target
from conformance.target import embedded_target


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port``: it can be bound again (connections of the run's that
    wait out TIME_WAIT there do not count, as for any server restarted on its port)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def loopback_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("loopback-")]


def test_a_loopback_server_answers_over_tcp_and_is_gone_with_its_port_after_close():
    server = ReferenceServer(clock=VirtualClock())
    loopback = Loopback(server.app)
    try:
        assert loopback.running and not port_is_free(loopback.port)
        answer = httpx.get(
            loopback.base_url + "/api/v1/me/", auth=(server.orgs[0].api_key, ""), timeout=10
        )
        assert answer.status_code == 200
        assert answer.json()["organizations"][0]["id"] == server.orgs[0].organization_id
    finally:
        loopback.close()
        server.close()
    assert not loopback.running
    assert port_is_free(loopback.port)
    loopback.close()  # a second close is harmless


def test_only_requests_carrying_the_pace_mark_go_through_the_paced_app():
    server = ReferenceServer(clock=VirtualClock())
    seen: list[str] = []

    async def paced(scope, receive, send):
        seen.append(scope["path"])
        await server.app(scope, receive, send)

    auth = (server.orgs[0].api_key, "")
    with Loopback(server.app) as loopback, httpx.Client(base_url=loopback.base_url) as http:
        loopback.paced = paced
        assert http.get("/api/v1/me/", auth=auth).status_code == 200
        assert http.get("/api/v1/phone_number/", auth=auth, headers={PACE_HEADER: "1"}).is_success
        loopback.paced = None
        assert http.get("/api/v1/lead/", auth=auth, headers={PACE_HEADER: "1"}).is_success
    server.close()
    assert seen == ["/api/v1/phone_number/"]


def test_an_embedded_target_over_http_sends_through_a_socket_and_close_stops_its_server():
    target = embedded_target(over_http=True)
    loopback = target.loopback
    assert loopback is not None and loopback.running
    assert str(target.api.http.base_url) == f"{loopback.base_url}/api/v1/"
    assert target.clock_can_jump and target.data_is_private and target.sends_nowhere
    assert "over loopback HTTP" in target.name
    fixtures = target.discover()
    assert fixtures.leads and target.created  # the fixtures were made over HTTP
    target.close()
    assert not loopback.running and port_is_free(loopback.port)
    assert target.leftovers == []


def test_an_embedded_target_in_process_has_no_loopback_server():
    target = embedded_target()
    assert target.loopback is None
    assert "loopback" not in target.name
    target.close()


def test_the_replay_target_over_http_sends_through_a_socket_and_stops_its_server_on_exit():
    with embedded_replay_target(over_http=True) as target:
        port = target.http.base_url.port
        assert target.http.base_url.host == "127.0.0.1" and port is not None
        assert not port_is_free(port)
        assert target.http.get("me/", auth=(target.credentials["basic"] or "", "")).is_success
        assert "over loopback HTTP" in target.name
    assert port_is_free(port)
    assert not loopback_threads()


@pytest.mark.slow
def test_the_clean_server_over_loopback_http_passes_and_leaves_no_thread_or_port_behind():
    before = {thread.ident for thread in loopback_threads()}
    target = embedded_target(over_http=True)
    assert target.loopback is not None
    port = target.loopback.port
    report = run_target(target, profile=PROFILES["quick"], seed_value=1, strict=True)
    assert report.verdict == "pass", [failure.rule for failure in report.failures]
    assert target.api.requests > 0
    assert {thread.ident for thread in loopback_threads()} == before
    assert port_is_free(port)


@pytest.mark.slow
def test_a_timing_variant_over_loopback_http_is_caught_as_quickly_as_on_the_virtual_clock():
    # cancelled-still-sent: cancel before send_in, the SMS is sent all the same. On real
    # time (serve) the run would have to wait the send_in out; the virtual clock jumps.
    target = embedded_target(faults=["cancelled-still-sent"], over_http=True)
    start, began = target.clock.now(), time.monotonic()
    report = run_target(target, profile=PROFILES["quick"], seed_value=1, strict=True)
    assert report.verdict == "fail"
    assert "sms/send/cancelled-never-sent" in {failure.rule for failure in report.failures}
    # More time passed on the server's clock than on the wall: the waits were jumps.
    assert (target.clock.now() - start).total_seconds() > time.monotonic() - began
    assert target.loopback is not None and not target.loopback.running


def test_the_schema_phase_over_loopback_http_is_paced_on_the_virtual_clock_then_unpaced(
    monkeypatch,
):
    from conformance import loopback as module
    from conformance.schema_phase import run_schema_phase
    from conformance.target import EMBEDDED_RATE_LIMIT

    answered: list[tuple[bool, int]] = []  # (carried the pace mark, status), as sent back
    switch = module._Switch.__call__

    async def watched(self, scope, receive, send):
        marked = any(name == PACE_HEADER.encode() for name, _ in scope.get("headers", ()))

        async def note(message):
            if message["type"] == "http.response.start":
                answered.append((marked, message["status"]))
            await send(message)

        await switch(self, scope, receive, note)

    monkeypatch.setattr(module._Switch, "__call__", watched)
    target = embedded_target(over_http=True)
    loopback = target.loopback
    assert loopback is not None
    try:
        target.discover()
        start = target.clock.now()
        result = run_schema_phase(target, seed=1, max_examples=5, phases=("examples", "coverage"))
        assert loopback.paced is None  # the engine's own requests meet the limit as ever
    finally:
        target.close()
    paced = [status for marked, status in answered if marked]
    # More requests than the limit allows in a virtual second went over TCP, none answered
    # 429: the server waited them out on its clock, which moved.
    assert len(paced) > EMBEDDED_RATE_LIMIT and result.requests > EMBEDDED_RATE_LIMIT
    assert 429 not in paced
    assert target.clock.now() > start
    assert all(finding.ok for finding in result.findings)
