"""Protocol readings: the reference server serves each documented-compatible reading of the
open points on error bodies, list limits and the sending number, and only where each lives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer

from .conftest import LOCAL, REMOTE

UNKNOWN_ID = "acti_0000000000000000000000"


@pytest.fixture
def serving() -> Iterator:
    """``serving(point, alternative)`` gives a client of a fresh server taking that reading."""
    servers: list[ReferenceServer] = []

    def make(point: str, alternative: str) -> httpx.Client:
        server = ReferenceServer(clock=VirtualClock(), readings={point: alternative})
        servers.append(server)
        return server.client()

    yield make
    for server in servers:
        server.close()


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


# -- not-found-body ---------------------------------------------------------------------------


def test_not_found_json_error_answers_an_unknown_sms_with_a_json_error(serving):
    client = serving("not-found-body", "json-error")
    response = client.get(f"activity/sms/{UNKNOWN_ID}/")
    assert response.status_code == 404
    assert media_type(response) == "application/json"
    assert response.json() == {"error": "Not found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"activity/sms/{UNKNOWN_ID}/"),
        ("PUT", f"activity/sms/{UNKNOWN_ID}/"),
        ("DELETE", f"activity/sms/{UNKNOWN_ID}/"),
        ("GET", "no/such/path/"),
    ],
)
def test_not_found_html_answers_every_404_with_an_html_page(serving, method, path):
    client = serving("not-found-body", "html")
    response = client.request(method, path, json={"text": "x"} if method == "PUT" else None)
    assert response.status_code == 404
    assert media_type(response) == "text/html"
    assert "404" in response.text


def test_not_found_html_leaves_every_other_answer_json(serving):
    client = serving("not-found-body", "html")
    created = client.post(
        "activity/sms/", json={"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE}
    )
    refused = client.post("activity/sms/", json={"status": "nope", "local_phone": LOCAL})
    not_allowed = client.patch(f"activity/sms/{created.json()['id']}/", json={"text": "x"})
    assert (created.status_code, media_type(created)) == (200, "application/json")
    assert (refused.status_code, media_type(refused)) == (400, "application/json")
    assert (not_allowed.status_code, media_type(not_allowed)) == (405, "application/json")
