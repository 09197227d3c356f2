"""requests answers read only up to a bound (the schema phase's transport)."""

from __future__ import annotations

import io

import requests
import urllib3

from conformance.bounded_requests import BoundedAdapter, bounded_sessions


def answer(adapter: BoundedAdapter, body: bytes) -> requests.Response:
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(body), status=200, preload_content=False, decode_content=False
    )
    request = requests.Request("GET", "http://example.test/").prepare()
    return adapter.build_response(request, raw)


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


def test_sessions_made_by_schemathesis_inside_the_block_are_bounded():
    import schemathesis
    from schemathesis.engine import context

    config = schemathesis.Config().projects.override
    with bounded_sessions(123):
        session = context.make_session(config)
    assert isinstance(session.get_adapter("https://x.test/"), BoundedAdapter)
    assert session.get_adapter("http://x.test/").max_bytes == 123
    outside = context.make_session(config)
    assert not isinstance(outside.get_adapter("https://x.test/"), BoundedAdapter)
