"""No input reaches a 5xx: arbitrary JSON and mixes of valid and invalid field values at
create, update (drafts and non-drafts) and list query strings."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer

FUZZ = settings(
    max_examples=int(os.environ.get("REFSERVER_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

DATES = st.sampled_from(
    ["2026-01-02T10:00:00Z", "2026-01-02", "2026-01-02T10:00", "9999-12-31T23:59:59-01:00",
     "0001-01-01T00:00:00+01:00", "2026-02-30T00:00:00Z", "", "now"]
)  # fmt: skip
ATTACHMENT = st.fixed_dictionaries(
    {"url": st.text(max_size=10), "filename": st.text(max_size=5)},
    optional={"content_type": st.sampled_from(["image/png", "image/webp", ""]) | json_values},
)
FIELDS = {
    "status": st.sampled_from(["inbox", "draft", "scheduled", "outbox", "sent", "error", "x"]),
    "local_phone": st.sampled_from(["+16503335550", "+16503336660", "+14151231230", "+1", ""]),
    "remote_phone": st.sampled_from(["+16505550100", "+999999999999999", "12"]),
    "text": st.text(max_size=30),
    "template_id": st.sampled_from(["smstmpl_x", ""]),
    "direction": st.sampled_from(["inbound", "outbound", "up"]),
    "source": st.sampled_from(["Close.io", "External", "X"]),
    "send_in": st.sampled_from([0, 59, 59.999, 60, -1, 1e308, True]) | st.floats(),
    "date_scheduled": DATES,
    "activity_at": DATES,
    "date_created": DATES,
    "lead_id": st.sampled_from(["lead_x", ""]),
    "contact_id": st.sampled_from(["cont_x", ""]),
    "user_id": st.sampled_from(["user_reference_a", "user_reference_b"]),
    "organization_id": st.sampled_from(["orga_reference_a", "orga_reference_b"]),
    "attachments": st.lists(ATTACHMENT | json_values, max_size=3),
    "created_by_id": st.sampled_from(["user_reference_a", "x"]),
}
mixed_bodies = st.fixed_dictionaries(
    {}, optional={name: valid | json_values for name, valid in FIELDS.items()}
)
QUERY_NAMES = [
    "_skip", "_limit", "_fields", "lead_id", "contact_id", "user_id", "id__in",
    "date_created__gt", "date_created__gte", "date_created__lt", "date_created__lte",
    "activity_at__gt", "activity_at__gte", "activity_at__lt", "activity_at__lte", "zzz",
]  # fmt: skip
query_values = st.sampled_from(["0", "5", "100", "101", "-1", "2026-01-01", "a,b", ""]) | st.text(
    max_size=25
)


@pytest.fixture(scope="module")
def fuzz_server():
    server = ReferenceServer(clock=VirtualClock())
    yield server
    server.close()


@pytest.fixture(scope="module")
def fuzz_client(fuzz_server):
    return fuzz_server.client()


def send(client, method, path, value):
    raw = json.dumps(value)  # NaN/Infinity included on purpose: the server must 400 them
    return client.request(method, path, content=raw, headers={"content-type": "application/json"})


@FUZZ
@given(value=json_values)
def test_arbitrary_json_at_create_is_never_a_5xx(fuzz_client, value):
    assert send(fuzz_client, "POST", "activity/sms/", value).status_code < 500


@FUZZ
@given(body=mixed_bodies)
def test_mixed_create_bodies_are_never_a_5xx(fuzz_client, body):
    client = fuzz_client
    response = send(client, "POST", "activity/sms/", body)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        sms = response.json()
        assert client.get(f"activity/sms/{sms['id']}/").json() == sms


@FUZZ
@given(
    status=st.sampled_from(["draft", "scheduled", "outbox", "inbox", "sent"]),
    body=mixed_bodies | json_values,
)
def test_mixed_update_bodies_are_never_a_5xx(fuzz_client, status, body):
    client = fuzz_client
    create = {"status": status, "local_phone": "+16503335550", "send_in": 30,
              "date_scheduled": "2030-01-01T00:00:00Z"}  # fmt: skip
    sms = client.post("activity/sms/", json=create).json()
    response = send(client, "PUT", f"activity/sms/{sms['id']}/", body)
    assert response.status_code in (200, 400), response.text


@FUZZ
@given(
    params=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), query_values), max_size=5),
    tz=st.none() | st.sampled_from(["-4", "5.5", "-0.0", "99", "x"]) | st.text(max_size=6),
)
def test_list_query_strings_are_never_a_5xx(fuzz_client, params, tz):
    headers = {} if tz is None else {"x-tz-offset": tz}
    try:
        response = fuzz_client.get("activity/sms/", params=params, headers=headers)
    except (UnicodeEncodeError, ValueError):  # httpx refuses some header values itself
        return
    assert response.status_code in (200, 400), response.text
