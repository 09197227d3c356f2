"""Fixtures for the reference server tests: a server on a virtual clock and its clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer

LOCAL = "+16503335550"
LOCAL_2 = "+16503335551"
REMOTE = "+16505550100"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def server(clock: VirtualClock) -> Iterator[ReferenceServer]:
    server = ReferenceServer(clock=clock)
    yield server
    server.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[httpx.Client, VirtualClock]]]:
    """``serve(point, alternative, start=None)``: a client of a fresh server taking that
    reading of an open point, and the server's clock (starting at ``start`` if given)."""
    servers: list[ReferenceServer] = []

    def make(
        point: str, alternative: str, start: datetime | None = None
    ) -> tuple[httpx.Client, VirtualClock]:
        clock = VirtualClock(start)
        server = ReferenceServer(clock=clock, readings={point: alternative})
        servers.append(server)
        return server.client(), clock

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def client(server: ReferenceServer) -> httpx.Client:
    return server.client()


@pytest.fixture
def other_client(server: ReferenceServer) -> httpx.Client:
    return server.client(1)


@pytest.fixture
def make_sms(client: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Create an SMS (default: a draft from the first internal number) and return it."""

    def make(**fields: Any) -> dict[str, Any]:
        body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
        body.update(fields)
        response = client.post("activity/sms/", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    return make


@pytest.fixture
def make_lead(client: httpx.Client) -> Callable[..., dict[str, Any]]:
    """Create a lead with one contact per name and return it."""

    def make(name: str = "Acme", contacts: tuple[str, ...] = ("Ada Lovelace",)) -> dict[str, Any]:
        body = {
            "name": name,
            "contacts": [
                {"name": n, "phones": [{"type": "mobile", "phone": "+16505550101"}]}
                for n in contacts
            ],
        }
        response = client.post("lead/", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    return make


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert isinstance(body.get("errors"), list)
    assert response.headers["content-type"] == "application/json"
    return body["field-errors"]


@pytest.fixture
def field_errors() -> Callable[[httpx.Response], dict[str, str]]:
    """Return a function giving the ``field-errors`` of a 400 response (asserting it is one)."""
    return _field_errors
