"""The client builds each request as httpx.Client.build_request would, with one URL parse."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.client.building import build_request

PATH_CHARACTERS = st.sampled_from("abcXYZ019_-~/.?#%:; éø\\+&=@")
PATHS = st.one_of(
    st.sampled_from(
        [
            "/activity/sms/",
            "activity/sms/acti_1a2B/",
            "/me/",
            "lead/lead_x/",
            "activity/../me/",
            "..",
            "./a/./b",
        ]
    ),
    st.text(PATH_CHARACTERS, max_size=20),
)
PARAMS = st.dictionaries(
    st.sampled_from(["_limit", "date_created__gt", "id__in", "_fields", "q r", "ü"]),
    st.text(st.sampled_from("az09:+-.,T é&=?#/"), max_size=12),
    max_size=3,
)
HEADERS = st.dictionaries(
    st.sampled_from(["authorization", "accept-encoding", "content-type", "x-tz-offset"]),
    st.text(st.sampled_from("abc 0+-./=:"), min_size=1, max_size=10),
    max_size=3,
)


# Built once: a client makes an SSL context, far slower than the requests compared.
HTTP = httpx.Client(base_url="https://api.example.com/api/v1/", timeout=12.5)


def outcome(build: Callable[[], httpx.Request]) -> tuple:
    try:
        request = build()
    except httpx.InvalidURL as error:
        return ("refused", str(error))
    return (
        request.method,
        str(request.url),
        request.headers.raw,
        request.read(),
        request.extensions,
    )


@settings(deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=PATHS,
    params=PARAMS,
    headers=HEADERS,
    content=st.none() | st.binary(max_size=20),
)
def test_a_request_is_built_exactly_as_httpx_builds_it(method, path, params, headers, content):
    query = httpx.QueryParams(params)
    ours = outcome(
        lambda: build_request(HTTP, method, path, content=content, query=query, headers=headers)
    )
    theirs = outcome(
        lambda: HTTP.build_request(
            method, path.lstrip("/"), content=content, params=query, headers=headers
        )
    )
    assert ours == theirs  # the same request, or the same error (a path httpx refuses)


def test_a_client_holding_cookies_sends_them_back_as_httpx_does():
    http = httpx.Client(base_url="https://api.example.com/api/v1/", cookies={"lb": "node-2"})
    request = build_request(
        http, "GET", "/activity/sms/", content=None, query=httpx.QueryParams(), headers={}
    )
    assert request.headers["cookie"] == "lb=node-2"
