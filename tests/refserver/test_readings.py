"""Readings: the reference server serves every documented-compatible reading of every open
point the catalogue lists, picked by name, at random, or left at the default."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE
from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer
from conformance.refserver.readings import (
    SERVED,
    Readings,
    check_readings,
    parse_readings,
    random_readings,
)

from .conftest import LOCAL, REMOTE


def test_every_open_point_has_every_alternative_served_and_nothing_else():
    listed = {p.id: frozenset(p.alternatives) for p in CATALOGUE.open_points.values()}
    assert listed == SERVED


def test_a_point_not_chosen_reads_as_the_catalogue_default():
    readings = Readings({})
    for point in CATALOGUE.open_points.values():
        assert readings[point.id] == point.default
    assert readings.chosen == {}


def test_readings_are_parsed_from_point_equals_alternative():
    readings = parse_readings(["empty-send=reject"])
    assert readings["empty-send"] == "reject"
    assert readings.chosen == {"empty-send": "reject"}


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["no-such-point=x"], "unknown open point 'no-such-point'"),
        (["empty-send=maybe"], "has no reading 'maybe'; its readings: accept"),
        (["empty-send"], "POINT=ALTERNATIVE"),
        (["random:abc"], "integer seed"),
    ],
)
def test_a_bad_reading_is_refused_naming_the_fix(options, says):
    with pytest.raises(ValueError, match=says):
        parse_readings(options)


def test_random_readings_are_reproducible_and_named_ones_win():
    assert dict(random_readings(7)) == dict(random_readings(7))
    readings = parse_readings(["random:7", "empty-send=accept"])
    assert readings["empty-send"] == "accept"
    for point in CATALOGUE.open_points:
        assert readings[point] in CATALOGUE.open_points[point].alternatives


def test_random_readings_reach_every_alternative_over_seeds():
    seen = {(point, random_readings(seed)[point]) for seed in range(40) for point in SERVED}
    assert seen == {(point, alt) for point, alts in SERVED.items() for alt in alts}


def test_the_server_refuses_an_unknown_reading():
    with pytest.raises(ValueError, match="unknown open point"):
        ReferenceServer(readings={"nope": "x"})
    assert check_readings(None) == Readings()


# -- empty-send ---------------------------------------------------------------------------


def _server(reading: str) -> tuple[ReferenceServer, VirtualClock]:
    clock = VirtualClock()
    return ReferenceServer(clock=clock, readings={"empty-send": reading}), clock


EMPTY = {"local_phone": LOCAL, "remote_phone": REMOTE, "text": ""}


@pytest.mark.parametrize("status", ["outbox", "scheduled"])
def test_empty_send_reject_refuses_a_send_with_nothing_in_it_naming_text(status):
    server, _ = _server("reject")
    with server:
        client = server.client()
        body = {**EMPTY, "status": status, "date_scheduled": "2026-01-02T00:00:00Z"}
        response = client.post("activity/sms/", json=body)
        assert response.status_code == 400
        assert "text" in response.json()["field-errors"]
        draft = client.post("activity/sms/", json={**EMPTY, "status": "draft"})
        assert draft.status_code == 200  # a draft may be empty: only sending it is refused
        put = client.put(f"activity/sms/{draft.json()['id']}/", json={"status": "outbox"})
        assert put.status_code == 400 and "text" in put.json()["field-errors"]
        filled = client.put(
            f"activity/sms/{draft.json()['id']}/", json={"status": "outbox", "text": "hi"}
        )
        assert filled.status_code == 200


def test_empty_send_accept_then_error_accepts_and_fails_at_send_time():
    server, clock = _server("accept-then-error")
    with server:
        client = server.client()
        created = client.post("activity/sms/", json={**EMPTY, "status": "outbox", "send_in": 5})
        assert created.status_code == 200 and created.json()["status"] == "outbox"
        clock.advance(5)
        sms = client.get(f"activity/sms/{created.json()['id']}/").json()
        assert sms["status"] == "error" and sms["error_message"]
        assert sms["date_sent"] is None and sms["cost"] is None
        full = client.post("activity/sms/", json={**EMPTY, "status": "outbox", "text": "hi"})
        assert client.get(f"activity/sms/{full.json()['id']}/").json()["status"] == "sent"


def test_empty_send_accept_sends_it_like_any_other():
    server, _ = _server("accept")
    with server:
        client = server.client()
        created = client.post("activity/sms/", json={**EMPTY, "status": "outbox"})
        assert client.get(f"activity/sms/{created.json()['id']}/").json()["status"] == "sent"


# -- visibility ---------------------------------------------------------------------------


def test_visibility_eventual_keeps_a_deleted_sms_readable_and_a_new_one_unlisted_for_the_lag():
    clock = VirtualClock()
    with ReferenceServer(clock=clock, settle_lag=30) as server:
        assert server.readings["visibility"] == "eventual"
        client = server.client()
        body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
        sms_id = client.post("activity/sms/", json=body).json()["id"]

        def listed() -> bool:
            ids = {item["id"] for item in client.get("activity/sms/").json()["data"]}
            return sms_id in ids

        assert not listed()  # the index has not caught up with the create
        clock.advance(30)
        assert listed()
        assert client.delete(f"activity/sms/{sms_id}/").status_code == 200
        assert client.get(f"activity/sms/{sms_id}/").status_code == 200
        assert listed()
        assert client.delete(f"activity/sms/{sms_id}/").status_code == 404  # gone for writes
        clock.advance(30)
        assert client.get(f"activity/sms/{sms_id}/").status_code == 404
        assert not listed()


def test_visibility_immediate_is_the_default():
    with ReferenceServer(clock=VirtualClock()) as server:
        assert server.readings["visibility"] == "immediate" and server.settle is None
