"""Race variants: registered apart from FAULTS, accepted by the server like faults, and
each opening a window in which another thread's request runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from conformance.catalogue import load_catalogue
from conformance.clock import VirtualClock
from conformance.refserver import FAULTS, ReferenceServer
from conformance.refserver.faults import Faults, check_faults
from conformance.refserver.race_faults import RACE_FAULTS, race_window


def test_race_variants_are_kept_out_of_the_sequential_fault_list():
    assert RACE_FAULTS and not RACE_FAULTS.keys() & FAULTS.keys()


def test_every_race_variant_names_a_catalogue_rule_and_says_what_it_does():
    catalogue = load_catalogue()
    for name, fault in RACE_FAULTS.items():
        assert fault.name == name and name.startswith("race-") and fault.description
        assert fault.rule in catalogue


@pytest.mark.parametrize("name", sorted(RACE_FAULTS))
def test_a_server_takes_a_race_variant_by_name(name):
    with ReferenceServer(clock=VirtualClock(), faults=[name]) as server:
        assert name in server.faults and list(server.faults) == [name]
    assert name in check_faults([name]) and name not in Faults()


def test_an_unknown_name_is_still_refused_and_the_message_names_the_race_variants():
    with pytest.raises(ValueError, match="race-lost-update"):
        check_faults(["race-no-such-thing"])
    with pytest.raises(ValueError):
        "race-no-such-thing" in Faults()  # noqa: B015


def test_the_race_window_lets_another_thread_take_the_lock_held_twice():
    lock = threading.RLock()
    took = []

    def other() -> None:
        with lock:
            took.append(time.monotonic())

    with lock, lock:  # the request's hold and the sender run's
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.01)
        assert not took  # the lock is held
        race_window(lock, 0.05)
        assert took  # the other thread ran inside the window
        assert lock._is_owned()  # type: ignore[attr-defined]  # taken back
    thread.join()


def test_the_create_unlisted_variant_lags_lists_in_real_time_and_steps_aside_for_eventual():
    from conformance.refserver.race_faults import IndexLag
    from conformance.refserver.settle import Settle

    with ReferenceServer(clock=VirtualClock(), faults=["race-create-unlisted"]) as server:
        assert isinstance(server.settle, IndexLag)
        lag = server.settle
        now = server.clock.now()
        lag.created("acti_1", now)
        assert lag.unlisted("acti_1", now) and not lag.unlisted("acti_2", now)
        time.sleep(lag.seconds)
        assert not lag.unlisted("acti_1", now)
        lag.deleted("acti_1", now)
        assert lag.was_deleted("acti_1") and not lag.lingering("acti_1", now)
    eventual = {"visibility": "eventual"}
    with ReferenceServer(
        clock=VirtualClock(), faults=["race-create-unlisted"], readings=eventual
    ) as server:
        assert type(server.settle) is Settle


# -- each variant's window, met on purpose: a long window, the second request well inside it


@pytest.fixture
def wide_window(monkeypatch):
    monkeypatch.setattr("conformance.refserver.race_faults.RACE_WINDOW", 0.4)


def _server(*faults: str) -> ReferenceServer:
    return ReferenceServer(clock=VirtualClock(), faults=faults)


def _create(server: ReferenceServer, **fields) -> dict:
    body = {"local_phone": server.orgs[0].internal_numbers[0], "text": "first", **fields}
    response = server.client().post("/activity/sms/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _meanwhile(request, then):
    """Run ``request()`` in a thread; 0.1 s later (inside its window) run ``then()``; return
    both answers."""
    answers = {}
    thread = threading.Thread(target=lambda: answers.setdefault("first", request()))
    thread.start()
    time.sleep(0.1)
    answers["second"] = then()
    thread.join()
    return answers["first"], answers["second"]


@pytest.mark.parametrize("fault", [None, "race-lost-update"])
def test_lost_update_drops_the_edit_a_concurrent_send_overwrote(wide_window, fault):
    with _server(*[f for f in [fault] if f]) as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        edit, send = _meanwhile(
            lambda: server.client().put(path, json={"text": "second"}),
            lambda: server.client().put(path, json={"status": "scheduled",
                                                    "date_scheduled": "2100-01-01T00:00:00Z"}),
        )  # fmt: skip
        after = server.client().get(path).json()
    assert edit.status_code == 200
    if fault is None:  # the edit came first, and the schedule kept it
        assert send.status_code == 200 and after["text"] == "second"
    else:  # both were answered 200 from the same stale copy; the later write won
        assert send.status_code == 200 and after["status"] == "scheduled"
        assert after["text"] == "first" and edit.json()["text"] == "second"


@pytest.mark.parametrize("fault", [None, "race-cancel-sent-anyway"])
def test_cancel_sent_anyway_sends_an_sms_whose_cancel_answered_draft(wide_window, fault):
    with _server(*[f for f in [fault] if f]) as server:
        sms = _create(server, status="outbox", send_in=10)
        server.clock.advance(20)  # due: the next request's sender run sends it
        path = f"/activity/sms/{sms['id']}/"
        _, cancel = _meanwhile(
            lambda: server.client().get(path),
            lambda: server.client().put(path, json={"status": "draft"}),
        )
        after = server.client().get(path).json()
    assert after["status"] == "sent"
    if fault is None:  # the sender ran first, under the lock: the cancel came too late
        assert cancel.status_code == 400
    else:
        assert cancel.status_code == 200 and cancel.json()["status"] == "draft"


@pytest.mark.parametrize("fault", ["race-lost-update", "race-delete-resurrected"])
def test_delete_resurrected_brings_back_an_sms_deleted_under_an_update(wide_window, fault):
    with _server(fault) as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        edit, delete = _meanwhile(
            lambda: server.client().put(path, json={"text": "second"}),
            lambda: server.client().delete(path),
        )
        after = server.client().get(path)
    assert edit.status_code == 200 and delete.status_code == 200
    if fault == "race-lost-update":  # the stale write finds nothing to update
        assert after.status_code == 404
    else:
        assert after.status_code == 200 and after.json()["text"] == "second"


def test_create_unlisted_leaves_a_created_sms_out_of_lists_for_a_moment(wide_window):
    with _server("race-create-unlisted") as server:
        sms = _create(server, status="draft")
        listed_at_once = server.client().get("/activity/sms/").json()["data"]
        time.sleep(0.45)
        listed_later = server.client().get("/activity/sms/").json()["data"]
        assert server.client().get(f"/activity/sms/{sms['id']}/").status_code == 200
    assert [d["id"] for d in listed_at_once] == [] and [d["id"] for d in listed_later] == [
        sms["id"]
    ]


def test_delete_resurrected_alone_loses_no_update(wide_window):
    with _server("race-delete-resurrected") as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        edit, send = _meanwhile(
            lambda: server.client().put(path, json={"text": "second"}),
            lambda: server.client().put(path, json={"status": "scheduled",
                                                    "date_scheduled": "2100-01-01T00:00:00Z"}),
        )  # fmt: skip
        after = server.client().get(path).json()
    # It read again after its window: the schedule that came meanwhile is kept.
    assert edit.status_code == 200 and send.status_code == 200
    assert after["status"] == "scheduled"


@pytest.mark.parametrize("fault", ["race-cancel-sent-anyway", "race-delete-resurrected",
                                   "race-lost-update"])  # fmt: skip
def test_over_loopback_http_a_race_window_does_not_block_the_server(wide_window, fault):
    # uvicorn serves every request on one event loop: a window spent on it would hold the
    # second request until the first is done, and no race could ever show.
    import httpx

    from conformance.loopback import Loopback

    with _server(fault) as server, Loopback(server.app) as loopback:
        org = server.orgs[0]
        client = httpx.Client(base_url=loopback.base_url + "/api/v1/", auth=(org.api_key, ""))
        with client:
            sending = fault == "race-cancel-sent-anyway"  # its window is the sender's
            body = {"status": "outbox", "send_in": 10} if sending else {"status": "draft"}
            created = client.post(
                "activity/sms/",
                json={**body, "text": "first", "local_phone": org.internal_numbers[0]},
            ).json()
            path = f"activity/sms/{created['id']}/"
            server.clock.advance(20)  # due: the next request's sender run opens the window
            started = time.monotonic()
            _, get = _meanwhile(
                lambda: client.get(path) if sending else client.put(path, json={"text": "2"}),
                lambda: (client.get(path), time.monotonic())[1],
            )
    # The get, sent 0.1 s into the first request's 0.4 s window, is answered inside it.
    assert get - started < 0.35


@pytest.mark.parametrize("fault", [None, "race-double-send"])
def test_double_send_logs_a_second_sent_sms_when_a_concurrent_send_came_first(wide_window, fault):
    with _server(*[f for f in [fault] if f]) as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        first, second = _meanwhile(
            lambda: server.client().put(path, json={"status": "outbox"}),
            lambda: server.client().put(path, json={"status": "outbox"}),
        )
        listed = server.client().get("/activity/sms/").json()["data"]
    # The first send took (the variant's second read it a draft inside the first's window,
    # and found it sent after its own); the second is refused either way.
    assert (first.status_code, second.status_code) == (200, 400)
    if fault is None:
        assert [row["id"] for row in listed] == [sms["id"]]
    else:  # its message went out as well, and is logged as an SMS nobody created
        (copy,) = [row for row in listed if row["id"] != sms["id"]]
        assert copy["status"] == "sent" and copy["text"] == "first"
        assert copy["date_created"] >= sms["date_created"]


def test_double_send_leaves_a_send_that_meets_no_other_alone(wide_window):
    with _server("race-double-send") as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        first, read = _meanwhile(
            lambda: server.client().put(path, json={"status": "outbox"}),
            lambda: server.client().get(path),
        )
        listed = server.client().get("/activity/sms/").json()["data"]
    assert first.status_code == 200 and read.status_code == 200
    assert [row["id"] for row in listed] == [sms["id"]]


def test_double_send_takes_a_schedule_whose_date_has_come_for_a_send(wide_window):
    with _server("race-double-send") as server:
        sms = _create(server, status="draft")
        path = f"/activity/sms/{sms['id']}/"
        past = (server.clock.now() - timedelta(minutes=1)).isoformat()
        first, second = _meanwhile(
            lambda: server.client().put(path, json={"status": "scheduled", "date_scheduled": past}),
            lambda: server.client().put(path, json={"status": "outbox"}),
        )
        listed = server.client().get("/activity/sms/").json()["data"]
    assert (first.status_code, second.status_code) == (200, 400)
    assert len(listed) == 2  # the schedule's message, and the send's copy
