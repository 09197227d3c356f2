"""Race variants: registered apart from FAULTS, accepted by the server like faults, and
each opening a window in which another thread's request runs."""

from __future__ import annotations

import threading
import time

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
