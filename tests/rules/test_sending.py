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


# -- date_sent: when the server says it sent the SMS, on its own clock -------------------------


def date_sent_findings(record: SmsRecord, date_sent: str | None) -> list[tuple[str, bool]]:
    """(rule, violation) of the date_sent check on a GET, long after the due time, showing
    ``record`` sent at ``date_sent``."""
    from conformance.rules.sending import a_sent_sms_shows_it_was_not_sent_before_its_due_time

    body = {"status": "sent", "date_sent": date_sent}
    step = read(record, body, at=NOON + timedelta(hours=1))
    return [
        (f.rule, is_violation(f))
        for f in a_sent_sms_shows_it_was_not_sent_before_its_due_time(step)
    ]


def scheduled_at(seconds: float) -> SmsRecord:
    moment = (NOON + timedelta(seconds=seconds)).isoformat()
    body = {"status": "scheduled", "local_phone": "+16505550001", "text": "hi"}
    return settled({**body, "date_scheduled": moment}, {"date_created": NOON.isoformat()})


def at(seconds: float) -> str:
    return (NOON + timedelta(seconds=seconds)).isoformat()


def test_an_outbox_sms_whose_date_sent_is_two_seconds_before_its_due_time_breaks_send_in_delays():
    assert date_sent_findings(created(30), at(28)) == [("sms/send/send-in-delays", True)]


def test_send_in_counts_from_the_servers_own_date_created_not_the_runs_clock():
    record = settled({**OUTBOX, "send_in": 30}, {"date_created": at(5)})
    assert date_sent_findings(record, at(33)) == [("sms/send/send-in-delays", True)]
    assert date_sent_findings(record, at(35)) == [("sms/send/send-in-delays", False)]


def test_a_scheduled_sms_whose_date_sent_is_before_its_date_scheduled_breaks_scheduled_not_early():
    assert date_sent_findings(scheduled_at(60), at(58)) == [("sms/send/scheduled-not-early", True)]


def test_a_date_sent_within_a_second_of_the_due_time_is_on_time_as_times_to_the_second_show():
    assert date_sent_findings(scheduled_at(60), at(59.2)) == [
        ("sms/send/scheduled-not-early", False)
    ]
    assert date_sent_findings(created(30), at(29.5)) == [("sms/send/send-in-delays", False)]


def test_a_sent_sms_without_a_date_sent_is_not_judged_by_it():
    assert date_sent_findings(created(30), None) == []


def test_a_local_date_scheduled_is_not_judged_by_date_sent():
    """Open question 9: whether x-tz-offset moves a date_scheduled without an offset."""
    local = (NOON + timedelta(seconds=60)).replace(tzinfo=None).isoformat()
    body = {"status": "scheduled", "local_phone": "+16505550001", "text": "hi"}
    record = settled({**body, "date_scheduled": local}, {"date_created": NOON.isoformat()})
    assert date_sent_findings(record, at(0)) == []


def test_a_fractional_send_in_is_not_judged_by_date_sent():
    """Open point send-in-fraction: 5.5 may be taken as 5."""
    assert date_sent_findings(created(5.5), at(5)) == []


def test_a_draft_scheduled_by_put_is_judged_by_the_date_scheduled_the_put_gave():
    from tests.rules.helpers import WINDOW, model_of

    draft = settled(
        {"status": "draft", "local_phone": "+16505550001", "text": "hi"},
        {"date_created": NOON.isoformat()},
    )
    update = model_of(draft).expect_update(
        draft.id, {"status": "scheduled", "date_scheduled": at(60)}, WINDOW
    )
    assert update.record is not None
    assert date_sent_findings(update.record, at(57)) == [("sms/send/scheduled-not-early", True)]


def test_a_cancel_forgets_the_due_time_date_sent_is_judged_against():
    from tests.rules.helpers import WINDOW, model_of

    record = scheduled_at(60)
    cancel = model_of(record).expect_update(record.id, {"status": "draft"}, WINDOW)
    assert cancel.record is not None
    assert cancel.record.not_before is None
