"""The list-order reading: the reference server lists newest first by default, oldest first
when told, and keeps one order across pages either way."""

from __future__ import annotations

import pytest

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer

from .conftest import LOCAL, REMOTE


def _listed(alternative: str | None, *, count: int = 5, limit: int = 2) -> tuple[list, list]:
    """Create ``count`` drafts a second apart; return their ids in creation order and the
    ids the list shows, page after page of ``limit``."""
    clock = VirtualClock()
    readings = {"list-order": alternative} if alternative else {}
    with ReferenceServer(clock=clock, readings=readings) as server:
        client = server.client()
        created = []
        for n in range(count):
            body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": f"{n}"}
            created.append(client.post("activity/sms/", json=body).json()["id"])
            clock.advance(1)
        listed, skip = [], 0
        while True:
            page = client.get("activity/sms/", params={"_skip": skip, "_limit": limit}).json()
            listed += [sms["id"] for sms in page["data"]]
            skip += limit
            if not page["has_more"]:
                return created, listed


def test_the_list_shows_the_newest_sms_first_by_default():
    created, listed = _listed(None)
    assert listed == created[::-1]


@pytest.mark.parametrize(("alternative", "order"), [("newest-first", -1), ("oldest-first", 1)])
def test_each_list_order_reading_keeps_its_order_across_pages(alternative, order):
    created, listed = _listed(alternative)
    assert listed == created[::order]
