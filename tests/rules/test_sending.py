"""The sending check judges when an SMS leaves outbox, except where the docs leave it open."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import is_violation
from conformance.model import SmsRecord
from conformance.rules.sending import status_is_one_the_clock_allows
from tests.rules.helpers import NOON, read, settled

OUTBOX = {"status": "outbox", "local_phone": "+16505550001", "text": "hi"}


def created(send_in: float) -> SmsRecord:
    return settled({**OUTBOX, "send_in": send_in}, {"date_created": NOON.isoformat()})


def seen(record: SmsRecord, status: str, after: float) -> list[tuple[str, bool]]:
    """(rule, violation) of each finding on a GET ``after`` seconds past noon showing
    ``status``."""
    step = read(record, {"status": status}, at=NOON + timedelta(seconds=after))
    return [(f.rule, is_violation(f)) for f in status_is_one_the_clock_allows(step)]


def test_a_negative_send_in_sms_still_in_outbox_a_day_later_is_only_observed():
    assert seen(created(-5), "outbox", 86400) == [("sms/create/send-in-negative", False)]
    assert CATALOGUE["sms/create/send-in-negative"].level is Level.UNSPECIFIED


def test_a_negative_send_in_sms_sent_at_once_is_only_observed():
    assert seen(created(-5), "sent", 0) == [("sms/create/send-in-negative", False)]


def test_a_negative_send_in_sms_read_back_as_a_draft_is_still_a_violation():
    assert seen(created(-5), "draft", 1) == [("sms/get/returns-object", True)]


def test_an_sms_with_send_in_zero_still_in_outbox_breaks_outbox_sent():
    assert seen(created(0), "outbox", 1) == [("sms/send/outbox-sent", True)]


def test_an_sms_with_send_in_thirty_sent_at_once_breaks_send_in_delays():
    assert seen(created(30), "sent", 1) == [("sms/send/send-in-delays", True)]


# -- activity-at-on-send: the first answer showing an SMS sent tells the reading ---------------


def first_seen_sent(activity_at: datetime, after: float) -> set[str | None]:
    """The readings a GET ``after`` seconds past noon shows of an outbox SMS created at noon
    with send_in 30 (due 12:00:30), answered sent with ``activity_at``."""
    from conformance.rules.sending import a_sent_sms_shows_whether_its_activity_at_moved

    record = replace(created(30), activity_at=NOON)
    body = {"status": "sent", "activity_at": activity_at.isoformat()}
    step = read(record, body, at=NOON + timedelta(seconds=after))
    return {f.reading for f in a_sent_sms_shows_whether_its_activity_at_moved(step)}


def test_a_sent_sms_whose_activity_at_is_the_one_known_shows_it_kept():
    assert first_seen_sent(NOON, after=60) == {"activity-at-on-send=kept"}


def test_a_sent_sms_whose_activity_at_is_its_send_time_shows_it_moved():
    sent = NOON + timedelta(seconds=31)
    assert first_seen_sent(sent, after=60) == {"activity-at-on-send=send-time"}


def test_an_activity_at_neither_known_nor_a_possible_send_time_shows_no_reading():
    assert first_seen_sent(NOON + timedelta(seconds=5), after=60) == set()


def test_a_sent_sms_shows_sent_or_error_and_nothing_else():
    """1.3 status enum `inbox`, `draft`, `scheduled`, `outbox`, `sent`, `error`; section 7
    "The SMS status enum includes `error` (failed sends ...)" (audit S2)."""
    record = created(0)
    assert not any(violation for _, violation in seen(record, "sent", after=60))
    assert not any(violation for _, violation in seen(record, "error", after=60))
    assert any(violation for _, violation in seen(record, "inbox", after=60))
    assert any(violation for _, violation in seen(record, "draft", after=60))


# -- the boundary a read reached (rule coverage) -----------------------------------------------


def boundaries_seen(record: SmsRecord, status: str, after: float) -> dict[str, str | None]:
    step = read(record, {"status": status}, at=NOON + timedelta(seconds=after))
    return {f.rule: f.boundary for f in status_is_one_the_clock_allows(step)}


def test_a_read_in_the_last_second_before_the_send_is_due_reaches_that_boundary():
    assert boundaries_seen(created(30), "outbox", 29.5) == {
        "sms/send/send-in-delays": "read in the last second before due"
    }


def test_a_send_in_the_last_second_before_due_is_blamed_at_that_boundary():
    assert boundaries_seen(created(30), "sent", 29.5) == {
        "sms/send/send-in-delays": "read in the last second before due"
    }


def test_a_read_earlier_than_the_last_second_reaches_no_boundary():
    assert boundaries_seen(created(30), "outbox", 28.5) == {"sms/send/send-in-delays": None}
