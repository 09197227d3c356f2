"""The model is the oracle: these pin down what it says the docs allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conformance.fixtures import Fixtures
from conformance.model import Model, SmsRecord, TimeWindow, Timing, parse_filter_datetime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(NOW, NOW)
FIXTURES = Fixtures(
    organization_id="orga_1",
    user_id="user_1",
    internal_phones=("+16505550001",),
    external_phones=("+14155550002",),
    leads=(("lead_1", "cont_1"),),
    contact_first_name="Ada",
    template_id="smstmpl_1",
    template_text="Hi {{ contact.first_name }}",
    rendered_template="Hi Ada",
)


def model() -> Model:
    return Model(FIXTURES)


def body(status: str, **fields) -> dict:
    return {
        "status": status,
        "local_phone": "+16505550001",
        "remote_phone": "+15555550100",
        **fields,
    }


@pytest.mark.parametrize("status", ["inbox", "draft", "sent", "outbox"])
def test_each_create_status_must_be_accepted(status):
    expectation = model().expect_create(body(status, text="hi"), WINDOW)
    assert (expectation.accept, expectation.rule) == (True, f"sms/create/status-{status}")


def test_scheduled_without_date_scheduled_must_be_rejected_naming_the_field():
    expectation = model().expect_create(body("scheduled", text="x"), WINDOW)
    assert expectation.accept is False
    assert expectation.rule == "sms/create/scheduled-requires-date-scheduled"
    assert expectation.field == "date_scheduled"


@pytest.mark.parametrize(
    ("send_in", "rule", "accept"),
    [
        (59, "sms/create/send-in-accepted", True),
        (60, "sms/create/send-in-below-60", False),
        ("ten", "sms/create/send-in-invalid-type", False),
        (True, "sms/create/send-in-invalid-type", False),
        (-1, "sms/create/send-in-negative", None),
    ],
)
def test_send_in_is_judged_at_and_around_sixty(send_in, rule, accept):
    expectation = model().expect_create(body("outbox", send_in=send_in, text="hi"), WINDOW)
    assert (expectation.rule, expectation.accept) == (rule, accept)


@pytest.mark.parametrize(
    "fields",
    [{"status": "outbox"}, {"status": "scheduled", "date_scheduled": "2026-03-02T12:00:00Z"}],
)
def test_a_send_naming_no_local_phone_may_be_refused_or_left_to_caller_id(fields):
    expectation = model().expect_create(
        {"remote_phone": "+15555550100", "text": "hi", **fields}, WINDOW
    )
    assert (expectation.rule, expectation.accept) == ("sms/create/local-phone-required", None)
    assert expectation.field == "local_phone"
    assert expectation.record is not None
    assert expectation.record.local_phone_choices == {"+16505550001"}
    assert "local_phone" not in expectation.record.written


def test_a_send_naming_no_local_phone_is_still_refused_for_what_else_is_wrong():
    bad = {"status": "outbox", "remote_phone": "+15555550100", "text": "hi", "send_in": 60}
    expectation = model().expect_create(bad, WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/send-in-below-60", False)


def test_a_number_named_after_caller_id_picked_one_reads_back_as_named():
    sms = SmsRecord("acti_1", "draft", {"status": "draft"}, local_phone_choices=frozenset({"+1"}))
    m = model()
    m.apply(sms)
    edited = m.expect_update("acti_1", {"local_phone": "+16505550001"}, WINDOW).record
    assert edited is not None and edited.local_phone_choices is None
    assert edited.written["local_phone"] == "+16505550001"
    kept = m.expect_update("acti_1", {"text": "x"}, WINDOW).record
    assert kept is not None and kept.local_phone_choices == {"+1"}


def test_an_external_local_phone_must_be_rejected_only_for_statuses_that_send():
    sending = model().expect_create(body("outbox", local_phone="+14155550002"), WINDOW)
    logging = model().expect_create(body("sent", local_phone="+14155550002"), WINDOW)
    assert (sending.accept, sending.rule) == (False, "sms/create/local-phone-internal")
    assert (logging.accept, logging.rule) == (None, "sms/create/local-phone-logging")


def test_a_reformattable_number_is_not_called_malformed():
    expectation = model().expect_create(body("draft", remote_phone="(650) 555-0100"), WINDOW)
    assert expectation.accept is not False


def test_template_without_text_must_render():
    expectation = model().expect_create(body("draft", template_id="smstmpl_1"), WINDOW)
    assert expectation.record.written["text"] == "Hi Ada"


def test_template_with_text_leaves_the_text_open():
    expectation = model().expect_create(body("draft", template_id="smstmpl_1", text="t"), WINDOW)
    assert expectation.accept is None
    assert set(expectation.record.text_choices) == {"Hi Ada", "t"}


@pytest.mark.parametrize(("status", "direction"), [("inbox", "inbound"), ("sent", "outbound")])
def test_direction_defaults_by_status(status, direction):
    assert model().expect_create(body(status), WINDOW).record.written["direction"] == direction


def outbox(due_in: float, timing: Timing | None = None) -> tuple[Model, SmsRecord]:
    m = Model(FIXTURES, timing or Timing())
    due = NOW + timedelta(seconds=due_in)
    record = SmsRecord("acti_1", "outbox", {"status": "outbox"}, due=due)
    m.apply(record)
    return m, record


def at(seconds: float) -> TimeWindow:
    return TimeWindow(NOW + timedelta(seconds=seconds), NOW + timedelta(seconds=seconds))


def test_a_pending_outbox_sms_must_still_be_cancellable():
    m, record = outbox(30)
    assert m.expect_update(record.id, {"status": "draft"}, at(29)).accept is True


def test_an_outbox_sms_past_its_grace_period_must_be_sent():
    m, record = outbox(30, Timing(grace=5))
    assert record.allowed_statuses(at(36), m.timing) == {"sent", "error"}
    assert m.expect_update(record.id, {"status": "draft"}, at(36)).accept is False


def test_within_the_grace_period_either_outcome_is_allowed():
    m, record = outbox(30, Timing(grace=5))
    assert record.allowed_statuses(at(32), m.timing) == {"outbox", "sent", "error"}
    assert m.expect_update(record.id, {"status": "draft"}, at(32)).accept is None


def test_a_scheduled_create_dated_in_the_past_falls_due_when_it_is_created():
    past = "2026-03-01T11:00:00+00:00"
    expectation = model().expect_create(body("scheduled", date_scheduled=past, text="hi"), WINDOW)
    record = expectation.record
    assert record is not None and expectation.accept is None
    assert record.written["date_scheduled"] == NOW - timedelta(hours=1)
    assert record.allowed_statuses(WINDOW, Timing()) == {"scheduled", "sent", "error"}
    assert record.allowed_statuses(at(1), Timing()) == {"sent", "error"}


def test_a_send_naming_neither_number_nor_content_blames_no_single_field():
    expectation = model().expect_create({"status": "outbox", "text": ""}, WINDOW)
    assert (expectation.rule, expectation.accept, expectation.field) == (
        "sms/create/empty-send",
        None,
        None,
    )


def test_only_drafts_can_be_edited():
    m, record = outbox(30)
    expectation = m.expect_update(record.id, {"text": "new"}, at(1))
    assert (expectation.accept, expectation.rule) == (False, "sms/update/drafts-only")


def test_a_partial_update_keeps_the_other_fields():
    m = model()
    m.apply(SmsRecord("acti_1", "draft", {"status": "draft", "text": "a", "lead_id": "lead_1"}))
    record = m.expect_update("acti_1", {"text": "b"}, WINDOW).record
    assert record.written == {"status": "draft", "text": "b", "lead_id": "lead_1"}
    assert record.updated == {"text"}


def test_list_expectation_applies_filters_skip_and_limit():
    m = model()
    for index in range(5):
        m.apply(
            SmsRecord(
                f"acti_{index}",
                "draft",
                {"lead_id": "lead_1"},
                date_created=NOW + timedelta(seconds=index),
            )
        )
    expected = m.expect_list(
        {
            "lead_id": "lead_1",
            "date_created__gte": "2026-03-01T12:00:02+00:00",
            "_skip": "1",
            "_limit": "5",
        }
    )
    assert expected.ids == {"acti_2", "acti_3", "acti_4"}
    assert (expected.page_size, expected.has_more) == (2, False)


def test_a_filter_date_without_offset_is_local_to_the_tz_offset_header():
    assert parse_filter_datetime("2026-03-01T08:00:00", "-4") == NOW
    assert parse_filter_datetime("2026-03-01", "5.5") == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
