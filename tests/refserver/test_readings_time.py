"""Readings of time: the reference server serves each documented-compatible reading of the
precision it keeps times at (``time-precision``), of what sending does to ``activity_at``
(``activity-at-on-send``) and of the instant a bare date names in a filter
(``bare-date-filter``)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from .conftest import LOCAL, REMOTE

# A clock that reads a time with microseconds: 12:00:00.123456 UTC.
START = datetime(2026, 12, 2, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def serve(serve):
    """The conftest's ``serve``, on a clock that reads microseconds."""
    return lambda point, reading: serve(point, reading, start=START)


def create(client: httpx.Client, **fields) -> dict:
    body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
    response = client.post("activity/sms/", json={**body, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def listed(client: httpx.Client, headers: dict | None = None, **params: str) -> list[str]:
    response = client.get("activity/sms/", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


# -- time-precision -----------------------------------------------------------------------

TIMES = ("date_created", "date_updated", "activity_at", "date_scheduled", "date_sent")


def test_microseconds_keeps_every_time_to_the_microsecond(serve):
    client, _ = serve("time-precision", "microseconds")
    sms = create(
        client,
        status="scheduled",
        date_scheduled="2026-12-03T08:00:00.654321+00:00",
        activity_at="2026-12-01T10:00:00.000999+00:00",
    )
    assert sms["date_created"] == "2026-12-02T12:00:00.123456+00:00"
    assert sms["date_updated"] == "2026-12-02T12:00:00.123456+00:00"
    assert sms["activity_at"] == "2026-12-01T10:00:00.000999+00:00"
    assert sms["date_scheduled"] == "2026-12-03T08:00:00.654321+00:00"


def test_milliseconds_stores_and_answers_every_time_truncated_to_the_millisecond(serve):
    client, clock = serve("time-precision", "milliseconds")
    sms = create(
        client,
        status="scheduled",
        date_scheduled="2026-12-03T08:00:00.654321+00:00",
        activity_at="2026-12-01T10:00:00.000999+00:00",
    )
    assert sms["date_created"] == "2026-12-02T12:00:00.123000+00:00"
    assert sms["date_updated"] == "2026-12-02T12:00:00.123000+00:00"
    assert sms["activity_at"] == "2026-12-01T10:00:00.000000+00:00"
    assert sms["date_scheduled"] == "2026-12-03T08:00:00.654000+00:00"
    clock.advance(86400)
    sent = client.get(f"activity/sms/{sms['id']}/").json()
    assert sent["status"] == "sent"
    assert sent["date_sent"] == "2026-12-03T08:00:00.654000+00:00"
    for name in TIMES:
        assert sent[name].endswith("000+00:00"), name


def test_milliseconds_truncates_an_edited_activity_at_and_an_outbox_due_time(serve):
    client, clock = serve("time-precision", "milliseconds")
    draft = create(client)
    edited = client.put(
        f"activity/sms/{draft['id']}/", json={"activity_at": "2026-12-01T10:00:00.777777Z"}
    ).json()
    assert edited["activity_at"] == "2026-12-01T10:00:00.777000+00:00"
    outbox = create(client, status="outbox", send_in=1)
    clock.advance(1)
    sent = client.get(f"activity/sms/{outbox['id']}/").json()
    assert sent["date_sent"] == "2026-12-02T12:00:01.123000+00:00"


@pytest.mark.parametrize(
    ("reading", "op", "listed_then"),
    [
        ("microseconds", "lt", True),  # .123000 < .123500
        ("milliseconds", "lt", False),  # the bound is read as .123: .123 < .123 is false
        ("microseconds", "gte", False),
        ("milliseconds", "gte", True),
    ],
)
def test_a_filter_bound_inside_an_sms_millisecond_is_compared_at_the_kept_precision(
    serve, reading, op, listed_then
):
    client, _ = serve("time-precision", reading)
    sms = create(client, activity_at="2026-12-01T10:00:00.123000Z")
    bound = "2026-12-01T10:00:00.123500+00:00"
    assert (sms["id"] in listed(client, **{f"activity_at__{op}": bound})) is listed_then


@pytest.mark.parametrize("reading", ["microseconds", "milliseconds"])
def test_a_bound_equal_to_the_shown_date_is_read_the_same_at_either_precision(serve, reading):
    client, _ = serve("time-precision", reading)
    sms = create(client)
    shown = sms["date_created"]
    assert sms["id"] in listed(client, date_created__gte=shown)
    assert sms["id"] in listed(client, date_created__lte=shown)
    assert sms["id"] not in listed(client, date_created__gt=shown)
    assert sms["id"] not in listed(client, date_created__lt=shown)


# -- activity-at-on-send ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["outbox", "scheduled"])
def test_kept_leaves_activity_at_alone_when_the_sms_is_sent(serve, status):
    client, clock = serve("activity-at-on-send", "kept")
    sms = create(client, status=status, send_in=30, date_scheduled="2026-12-02T13:00:00Z")
    clock.advance(7200)
    sent = client.get(f"activity/sms/{sms['id']}/").json()
    assert sent["status"] == "sent"
    assert sent["activity_at"] == sms["activity_at"] != sent["date_sent"]


@pytest.mark.parametrize(
    ("status", "sent_at"),
    [
        ("outbox", "2026-12-02T12:00:30.123456+00:00"),
        ("scheduled", "2026-12-02T13:00:00.000000+00:00"),
    ],
)
def test_send_time_moves_activity_at_to_the_send_time(serve, status, sent_at):
    client, clock = serve("activity-at-on-send", "send-time")
    body = {"send_in": 30} if status == "outbox" else {"date_scheduled": "2026-12-02T13:00:00Z"}
    sms = create(client, status=status, **body)
    assert sms["activity_at"] == sms["date_created"]  # not yet sent
    clock.advance(7200)
    sent = client.get(f"activity/sms/{sms['id']}/").json()
    assert sent["status"] == "sent"
    assert sent["activity_at"] == sent["date_sent"] == sent_at
    assert sms["id"] in listed(client, activity_at__gte=sent_at)
    assert sms["id"] not in listed(client, activity_at__lt=sent_at)


@pytest.mark.parametrize("status", ["inbox", "sent", "draft"])
def test_send_time_leaves_an_sms_the_sender_never_sends_alone(serve, status):
    client, clock = serve("activity-at-on-send", "send-time")
    sms = create(client, status=status, activity_at="2026-11-30T09:00:00Z")
    clock.advance(7200)
    assert client.get(f"activity/sms/{sms['id']}/").json()["activity_at"] == (
        "2026-11-30T09:00:00.000000+00:00"
    )


def test_send_time_leaves_a_cancelled_sms_at_its_activity_at(serve):
    client, clock = serve("activity-at-on-send", "send-time")
    sms = create(client, status="outbox", send_in=30)
    client.put(f"activity/sms/{sms['id']}/", json={"status": "draft"})
    clock.advance(7200)
    after = client.get(f"activity/sms/{sms['id']}/").json()
    assert (after["status"], after["activity_at"]) == ("draft", sms["activity_at"])


# -- bare-date-filter ---------------------------------------------------------------------

# The SMS sits at noon UTC on 2 December; at x-tz-offset -4 that is 08:00 local, 2 December.
NOON_ON_THE_2ND = "2026-12-02T12:00:00Z"


@pytest.mark.parametrize(
    ("reading", "op", "listed_then"),
    [
        ("midnight", "gt", True),  # after 2 Dec 00:00 local
        ("whole-day", "gt", False),  # after the whole of 2 Dec: from 3 Dec 00:00 local
        ("midnight", "lte", False),  # up to 2 Dec 00:00 local
        ("whole-day", "lte", True),  # up to the end of 2 Dec local
        ("midnight", "gte", True),
        ("whole-day", "gte", True),  # __gte stays at the start of the day
        ("midnight", "lt", False),
        ("whole-day", "lt", False),  # __lt stays at the start of the day
    ],
)
def test_a_bare_date_names_midnight_or_the_whole_day_by_reading(serve, reading, op, listed_then):
    client, _ = serve("bare-date-filter", reading)
    sms = create(client, activity_at=NOON_ON_THE_2ND)
    ids = listed(client, {"x-tz-offset": "-4"}, **{f"activity_at__{op}": "2026-12-02"})
    assert (sms["id"] in ids) is listed_then


@pytest.mark.parametrize("reading", ["midnight", "whole-day"])
def test_either_reading_takes_the_bare_date_at_x_tz_offset_not_utc(serve, reading):
    client, _ = serve("bare-date-filter", reading)
    # 23:30 UTC on 1 December is 2 December local at +5.5: on or after 2 Dec, local.
    sms = create(client, activity_at="2026-12-01T23:30:00Z")
    ids = listed(client, {"x-tz-offset": "5.5"}, activity_at__gte="2026-12-02")
    assert sms["id"] in ids
    assert sms["id"] not in listed(client, {"x-tz-offset": "5.5"}, activity_at__lt="2026-12-02")


@pytest.mark.parametrize("op", ["gt", "lte"])
def test_whole_day_reads_a_date_time_bound_as_the_instant_it_names(serve, op):
    client, _ = serve("bare-date-filter", "whole-day")
    sms = create(client, activity_at=NOON_ON_THE_2ND)
    ids = listed(client, **{f"activity_at__{op}": "2026-12-02T00:00:00Z"})
    assert (sms["id"] in ids) is (op == "gt")
