"""The model is the oracle: these pin down what it says the docs allow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from conformance.fixtures import Fixtures, Foreign
from conformance.model import (
    ListExpectation,
    Model,
    SmsRecord,
    TimeWindow,
    Timing,
    parse_filter_datetime,
)

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


@pytest.mark.parametrize(
    ("fields", "rule", "field"),
    [
        ({"lead_id": "lead_b"}, "isolation/foreign-reference", "lead_id"),
        ({"contact_id": "cont_b"}, "isolation/foreign-reference", "contact_id"),
        ({"template_id": "smstmpl_b"}, "sms/create/template-unknown-rejected", "template_id"),
        (
            {"status": "outbox", "local_phone": "+16505550999"},
            "sms/create/local-phone-internal",
            "local_phone",
        ),
    ],
)
def test_a_create_naming_another_organisations_object_must_be_refused(fields, rule, field):
    foreign = Foreign(("+16505550999",), "smstmpl_b", ("lead_b", "cont_b"))
    theirs = Model(replace(FIXTURES, foreign=foreign))
    expectation = theirs.expect_create({**body("draft", text="hi"), **fields}, WINDOW)
    assert (expectation.accept, expectation.rule, expectation.field) == (False, rule, field)


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
        (True, "sms/create/loose-type", None),
        (-1, "sms/create/send-in-negative", None),
    ],
)
def test_send_in_is_judged_at_and_around_sixty(send_in, rule, accept):
    expectation = model().expect_create(body("outbox", send_in=send_in, text="hi"), WINDOW)
    assert (expectation.rule, expectation.accept) == (rule, accept)


@pytest.mark.parametrize("status", ["outbox", "scheduled"])
@pytest.mark.parametrize("text", [None, ""])
def test_sending_an_sms_with_nothing_in_it_is_an_open_point_either_answer_allowed(status, text):
    fields = {"date_scheduled": "2027-01-01T00:00:00+00:00"} if status == "scheduled" else {}
    expectation = model().expect_create(body(status, text=text, **fields), WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/empty-send", None)
    assert expectation.readings == (None, "empty-send=reject")  # a send shows accept
    assert expectation.record is not None  # accepted, it is followed like any other


def test_a_refused_empty_send_without_local_phone_does_not_tell_how_the_target_reads_it():
    fields = {"status": "outbox", "remote_phone": "+15555550100", "text": ""}
    expectation = model().expect_create(fields, WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/empty-send", None)
    assert expectation.readings == (None, None)  # refused: maybe for the number


def test_a_draft_with_nothing_in_it_is_still_a_draft_that_must_be_accepted():
    expectation = model().expect_create(body("draft", text=""), WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/status-draft", True)


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
    """Audit O7: with both (not documented), the text that results is not judged at all."""
    expectation = model().expect_create(body("draft", template_id="smstmpl_1", text="t"), WINDOW)
    assert expectation.accept is None
    assert "text" not in expectation.record.written
    assert expectation.record.text_choices is None


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


# -- open points: what a list must, may and must not show ---------------------------------


def dated(moment: datetime, sms_id: str = "acti_1", **fields) -> Model:
    m = model()
    fields.setdefault("activity_at", moment)
    m.apply(SmsRecord(sms_id, "inbox", {"lead_id": "lead_1"}, date_created=moment, **fields))
    return m


def verdict(m: Model, params: dict, tz_offset: str | None = None, window=None) -> str:
    """'must', 'may' or 'never': what the model says of acti_1 for a list with params."""
    expected = m.expect_list(params, tz_offset, window)
    assert not expected.ids & expected.maybe
    return "must" if "acti_1" in expected.ids else "may" if "acti_1" in expected.maybe else "never"


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_a_list_expectation_with_open_sms_ranges_page_size_and_has_more():
    expected = ListExpectation(frozenset({"a", "b"}), skip=0, limit=3, maybe=frozenset({"c", "d"}))
    assert expected.page_sizes == range(2, 4)
    assert expected.has_more_allowed(2) == {False}  # a short page is the last one
    assert expected.has_more_allowed(3) == {False, True}  # d may or may not follow
    exact = ListExpectation(frozenset({"a", "b"}), skip=1, limit=1)
    assert (exact.page_sizes, exact.has_more_allowed(1)) == (range(1, 2), {False})


# -- bare-date-filter: local midnight, or the whole day for __gt and __lte -------------------


@pytest.mark.parametrize(
    ("op", "midnight_then"),
    [("gt", "may"), ("lte", "may"), ("gte", "must"), ("lt", "never")],
)
def test_a_bare_date_leaves_gt_and_lte_open_within_the_day_and_gte_and_lt_exact(op, midnight_then):
    # NOW is noon UTC on 1 March, 08:00 local at -4: inside the local day 2026-03-01.
    m = dated(NOW)
    assert verdict(m, {f"activity_at__{op}": "2026-03-01"}, "-4") == midnight_then


@pytest.mark.parametrize(("op", "then"), [("gt", "never"), ("lte", "must")])
def test_an_sms_exactly_at_local_midnight_is_decided_under_either_bare_date_reading(op, then):
    midnight = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 00:00 local at -4
    assert verdict(dated(midnight), {f"date_created__{op}": "2026-03-01"}, "-4") == then


def test_a_bare_date_read_as_utc_midnight_still_contradicts_the_model():
    # 23:30 UTC on 28 February is 1 March local at +5.5: __gte=2026-03-01 must list it.
    late = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert verdict(dated(late), {"date_created__gte": "2026-03-01"}, "5.5") == "must"
    assert verdict(dated(late), {"date_created__lt": "2026-03-01"}, "5.5") == "never"


# -- time-precision: microseconds, or milliseconds -------------------------------------------

US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("op", "then"), [("gt", "never"), ("gte", "must"), ("lt", "never"), ("lte", "must")]
)
def test_a_bound_equal_to_the_date_shown_decides_at_any_precision(op, then):
    m = dated(NOW + timedelta(microseconds=123456))
    bound = iso(NOW + timedelta(microseconds=123456))
    assert verdict(m, {f"date_created__{op}": bound}) == then


@pytest.mark.parametrize(
    ("op", "then"),
    [
        ("gt", "never"),  # .123000 > .123500 neither to the microsecond nor at .123
        ("gte", "may"),  # false to the microsecond, true once the bound is truncated to .123
        ("lt", "may"),
        ("lte", "must"),
    ],
)
def test_a_bound_within_the_millisecond_of_the_date_shown_is_open_only_where_truncation_tells(
    op, then
):
    m = dated(NOW + timedelta(milliseconds=123))
    bound = iso(NOW + timedelta(milliseconds=123, microseconds=500))
    assert verdict(m, {f"activity_at__{op}": bound}) == then


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
def test_a_bound_a_microsecond_before_the_date_in_the_millisecond_before_stays_exact(op):
    m = dated(NOW)
    assert verdict(m, {f"date_created__{op}": iso(NOW - US)}) == (
        "must" if op.startswith("g") else "never"
    )


def test_an_edited_activity_at_shown_truncated_to_the_millisecond_is_adopted_no_further():
    written = NOW + timedelta(microseconds=777777)
    record = SmsRecord("acti_1", "draft", {}, activity_at=written)
    shown = {"activity_at": iso(NOW + timedelta(microseconds=777000))}
    truncated = record.observe(shown, WINDOW, Timing())
    assert truncated.activity_at == NOW + timedelta(microseconds=777000)
    elsewhere = record.observe({"activity_at": iso(NOW + timedelta(seconds=1))}, WINDOW, Timing())
    assert elsewhere.activity_at == written


def test_a_due_time_in_microseconds_may_be_met_a_millisecond_early():
    record = SmsRecord("acti_1", "scheduled", {}, due=NOW + timedelta(microseconds=900))
    assert record.allowed_statuses(TimeWindow(NOW, NOW), Timing()) == {"scheduled", "sent", "error"}
    assert record.allowed_statuses(at(-0.001), Timing()) == {"scheduled"}


# -- activity-at-on-send: kept, or the send time ---------------------------------------------


def sending(due_in: float) -> Model:
    m = model()
    m.apply(
        SmsRecord(
            "acti_1",
            "outbox",
            {"lead_id": "lead_1"},
            due=NOW + timedelta(seconds=due_in),
            date_created=NOW,
            activity_at=NOW,
        )
    )
    return m


def test_activity_at_of_an_sms_surely_not_sent_yet_is_the_one_kept():
    m = sending(30)
    assert verdict(m, {"activity_at__gt": iso(NOW)}, window=at(10)) == "never"
    assert verdict(m, {"activity_at__lte": iso(NOW)}, window=at(10)) == "must"


def test_activity_at_of_an_sms_that_may_have_been_sent_may_be_its_send_time():
    m = sending(30)
    assert verdict(m, {"activity_at__gt": iso(NOW)}, window=at(40)) == "may"
    assert verdict(m, {"activity_at__lte": iso(NOW)}, window=at(40)) == "may"
    # Before the kept value and before any send time: decided either way.
    assert verdict(m, {"activity_at__gt": iso(NOW - timedelta(hours=1))}, window=at(40)) == "must"
    # After the latest time it could have been sent by: decided too.
    assert verdict(m, {"activity_at__gt": iso(NOW + timedelta(hours=1))}, window=at(40)) == (
        "never"
    )
    # date_created is never moved by sending.
    assert verdict(m, {"date_created__gt": iso(NOW)}, window=at(40)) == "never"


def test_a_sent_sms_whose_activity_at_was_shown_is_exact_again():
    m = sending(30)
    sent_at = iso(NOW + timedelta(seconds=30))
    shown = m.records["acti_1"].observe(
        {"id": "acti_1", "status": "sent", "activity_at": sent_at}, at(40), m.timing
    )
    assert shown.activity_at == NOW + timedelta(seconds=30) and shown.sent_after is None
    m.apply(shown)
    assert verdict(m, {"activity_at__gte": sent_at}, window=at(50)) == "must"
    assert verdict(m, {"activity_at__lt": sent_at}, window=at(50)) == "never"


def test_a_sent_sms_showing_the_kept_activity_at_is_exact_again():
    m = sending(30)
    record = m.records["acti_1"].observe(
        {"id": "acti_1", "status": "sent", "activity_at": iso(NOW)}, at(40), m.timing
    )
    assert (record.activity_at, record.sent_after) == (NOW, None)


def test_an_activity_at_before_the_sms_could_be_sent_is_not_adopted():
    m = sending(30)
    record = m.records["acti_1"].observe(
        {"id": "acti_1", "status": "sent", "activity_at": iso(NOW + timedelta(seconds=5))},
        at(40),
        m.timing,
    )
    assert record.status == "sent" and record.activity_at == NOW
    assert record.sent_after == NOW + timedelta(seconds=30)  # still open for the filters


CONTRADICTING = [("inbox", "outbound", "inbound"), ("sent", "inbound", "outbound")]


@pytest.mark.parametrize(("status", "given", "implied"), CONTRADICTING)
def test_a_direction_contradicting_the_status_may_read_back_as_given_or_as_the_status_implies(
    status, given, implied
):
    record = model().expect_create(body(status, text="hi", direction=given), WINDOW).record
    assert record.written["direction"] == given
    assert record.may_read_back("direction", implied)


@pytest.mark.parametrize(
    ("status", "given"), [("inbox", "inbound"), ("sent", "outbound"), ("draft", "outbound")]
)
def test_a_direction_agreeing_with_the_status_must_read_back_as_given(status, given):
    record = model().expect_create(body(status, text="hi", direction=given), WINDOW).record
    assert record.written["direction"] == given
    assert not record.may_read_back("direction", "inbound" if given == "outbound" else "outbound")


def test_the_first_answer_settles_an_open_direction_for_every_later_read():
    m = model()
    expected = m.expect_create(body("sent", text="hi", direction="inbound"), WINDOW).record
    answer = {"id": "acti_1", "direction": "outbound", "date_created": NOW.isoformat()}
    record = m.add(expected, answer, WINDOW)
    assert record.written["direction"] == "outbound"
    assert not record.may_read_back("direction", "inbound")


def test_an_answer_that_shows_the_field_otherwise_leaves_it_open():
    expected = model().expect_create(body("sent", text="hi", direction="inbound"), WINDOW).record
    assert expected.settled({"text": "hi"}).may_read_back("direction", "outbound")
    assert expected.settled({"direction": "sideways"}).may_read_back("direction", "outbound")


def test_a_text_may_read_back_as_written_or_in_its_nfc_form_only():
    record = model().expect_create(body("draft", text="Cafe\u0301 \uff0c"), WINDOW).record
    assert record.written["text"] == "Cafe\u0301 \uff0c"
    assert record.may_read_back("text", "Caf\u00e9 \uff0c")
    assert not record.may_read_back("text", "Caf\u00e9 ,")  # NFKC folds more than NFC


def test_a_text_already_in_nfc_has_no_other_form():
    record = model().expect_create(body("draft", text="Caf\u00e9 \U0001f600"), WINDOW).record
    assert "text" not in record.alternatives


def test_an_edited_text_may_read_back_in_its_nfc_form_and_the_answer_settles_it():
    m = model()
    m.apply(SmsRecord("acti_1", "draft", {"status": "draft", "text": "a"}))
    record = m.expect_update("acti_1", {"text": "a\u0308"}, WINDOW).record
    assert record.may_read_back("text", "\u00e4")
    settled = record.settled({"text": "\u00e4"})
    assert settled.written["text"] == "\u00e4" and not settled.may_read_back("text", "a\u0308")


def test_a_template_id_may_read_back_as_given_or_cleared_once_rendered():
    """Audit C18: template_id is only in the schema; a server may clear it after rendering."""
    record = model().expect_create(body("draft", template_id="smstmpl_1"), WINDOW).record
    assert record.written["template_id"] == "smstmpl_1"
    assert record.may_read_back("template_id", None)
    assert not record.may_read_back("template_id", "smstmpl_2")


def test_a_negative_send_in_leaves_the_send_time_open_from_the_create_on():
    expectation = model().expect_create(body("outbox", text="hi", send_in=-30), WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/send-in-negative", None)
    record = expectation.record
    assert record.timing_open == "sms/create/send-in-negative"
    for seconds in (0, 1, 86400):
        assert record.allowed_statuses(at(seconds), Timing()) == {"outbox", "sent", "error"}


def test_a_send_in_of_zero_is_not_open_it_must_be_sent():
    record = model().expect_create(body("outbox", text="hi", send_in=0), WINDOW).record
    assert record.timing_open is None
    assert record.allowed_statuses(at(1), Timing()) == {"sent", "error"}


def test_an_open_send_time_closes_once_the_sms_is_seen_sent_or_cancelled():
    m = model()
    expected = m.expect_create(body("outbox", text="hi", send_in=-1), WINDOW).record
    record = m.add(expected, {"id": "acti_1", "date_created": NOW.isoformat()}, WINDOW)
    assert record.observe_status("sent").allowed_statuses(at(5), Timing()) == {"sent"}
    cancel = m.expect_update("acti_1", {"status": "draft"}, at(5))
    assert (cancel.rule, cancel.accept) == ("sms/update/cancel-outbox", None)
    assert cancel.record.timing_open is None
    m.apply(cancel.record)
    resend = m.expect_update("acti_1", {"status": "outbox"}, at(6))
    assert resend.record.allowed_statuses(at(7), Timing()) == {"sent", "error"}


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


# -- creates that got no real answer ---------------------------------------------------------


def lost_create(m: Model, **fields):
    sent = body("draft", lead_id="lead_1", **fields)
    return m.lose_create(sent, m.expect_create(sent, WINDOW), WINDOW)


def listed(sms_id: str, **fields) -> dict:
    return {
        "id": sms_id,
        "lead_id": "lead_1",
        "date_created": NOW.isoformat(),
        "local_phone": "+16505550001",
        "remote_phone": "+15555550100",
        **fields,
    }


def test_a_lost_create_with_a_template_and_a_text_may_have_made_an_sms_showing_the_template():
    m = model()
    lost = lost_create(m, text="explicit text", template_id="smstmpl_1")
    assert lost.may_have_made(listed("acti_x", text="Hi Ada"))  # the template won
    assert lost.may_have_made(listed("acti_x", text="explicit text"))  # the text won
    # What text results from both is left open (audit O7), so no text rules it out.
    assert lost.may_have_made(listed("acti_x", text="someone else's words"))


def test_a_lost_create_may_have_made_an_sms_showing_its_text_nfc_normalised():
    lost = lost_create(model(), text="Cafe\u0301")
    assert lost.may_have_made(listed("acti_x", text="Caf\u00e9"))
    assert not lost.may_have_made(listed("acti_x", text="someone else's words"))


def test_a_lost_create_never_made_an_sms_on_another_lead_or_from_before_it_was_sent():
    lost = lost_create(model(), text="hi")
    assert not lost.may_have_made(listed("acti_x", text="hi", lead_id="lead_2"))
    earlier = (NOW - timedelta(minutes=1)).isoformat()
    assert not lost.may_have_made(listed("acti_x", text="hi", date_created=earlier))


def test_a_list_answer_takes_one_unknown_sms_per_lost_create_and_no_more():
    m = model()
    lost_create(m, text="hi")
    adopted = m.adopt([listed("acti_a", text="hi"), listed("acti_b", text="hi")])
    assert adopted == ["acti_a"]
    assert m.uncertain == {"acti_a"} and not m.lost
    # the second is no lost create's: a list showing it is judged
    assert "acti_b" not in m.expect_list({"lead_id": "lead_1"}, window=WINDOW).allowed


def test_an_sms_the_model_knows_is_never_taken_for_a_lost_creates():
    m = model()
    created = m.expect_create(body("draft", lead_id="lead_1", text="hi"), WINDOW).record
    m.add(created, {"id": "acti_known", "date_created": NOW.isoformat()}, WINDOW)
    m.forget("acti_known")
    lost_create(m, text="hi")
    assert m.adopt([listed("acti_known", text="hi")]) == []
    assert m.lost


def test_a_lost_create_naming_none_of_the_runs_leads_is_not_looked_for():
    m = model()
    sent = body("draft", text="hi")
    assert m.lose_create(sent, m.expect_create(sent, WINDOW), WINDOW) is None
    assert not m.lost


@pytest.mark.parametrize("status", ["sent", "error", "inbox", "delivered"])
def test_setting_a_sent_error_or_received_sms_back_to_draft_must_be_refused(status):
    """Audit U6, backed: "Only drafts can be modified" (1.3 rule 2); only a scheduled SMS or
    an outbox SMS not yet sent may be cancelled (rule 3). A failed send is no draft either."""
    m = model()
    m.apply(SmsRecord("acti_1", status, {"status": status}))
    expectation = m.expect_update("acti_1", {"status": "draft"}, WINDOW)
    assert (expectation.accept, expectation.rule) == (False, "sms/update/cancel-refused-after-send")


@pytest.mark.parametrize(
    "sending",
    [{"status": "outbox"}, {"status": "scheduled", "date_scheduled": "2026-03-02T12:00:00+00:00"}],
)
@pytest.mark.parametrize("local_phone", [None, "+14155550002", "+16505559999"])
def test_sending_a_draft_without_an_internal_local_phone_may_be_refused(sending, local_phone):
    """Audit U2: sending needs an internal local_phone (1.3 rule 4), so a draft that holds
    none, an external one or an unknown one may be refused; never must it be accepted."""
    m = model()
    written = {"status": "draft", "text": "hi", "remote_phone": "+15555550100"}
    if local_phone is not None:
        written["local_phone"] = local_phone
    m.apply(SmsRecord("acti_1", "draft", written))
    expectation = m.expect_update("acti_1", sending, WINDOW)
    assert expectation.accept is None
    assert expectation.field == "local_phone"


def test_sending_a_draft_from_an_internal_number_must_be_accepted():
    m = model()
    m.apply(
        SmsRecord(
            "acti_1", "draft", {"status": "draft", "text": "hi", "local_phone": "+16505550001"}
        )
    )
    expectation = m.expect_update("acti_1", {"status": "outbox"}, WINDOW)
    assert (expectation.accept, expectation.rule) == (True, "sms/update/draft-to-outbox")


FILE = {"filename": "a.pdf", "content_type": "application/pdf"}


def test_an_attachment_url_outside_the_files_api_may_be_taken_or_refused():
    """Audit C20: the Files-API rule for attachment urls is stated for notes, e-mail and
    WhatsApp, not for SMS (1.7)."""
    foreign = body("draft", text="x", attachments=[{**FILE, "url": "https://example.com/a.pdf"}])
    expectation = model().expect_create(foreign, WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/create/attachment-foreign-url")
    assert expectation.record is not None  # still read back when taken
    files = body(
        "draft", text="x", attachments=[{**FILE, "url": "https://app.close.com/go/file/f1/"}]
    )
    assert model().expect_create(files, WINDOW).accept is True


def test_a_draft_edit_with_a_foreign_attachment_url_may_be_taken_or_refused():
    m = model()
    m.apply(SmsRecord("acti_1", "draft", {"status": "draft", "text": "hi"}))
    edit = {"attachments": [{**FILE, "url": "https://example.com/a.pdf"}]}
    expectation = m.expect_update("acti_1", edit, WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/update/attachment-foreign-url")


@pytest.mark.parametrize("phone", ["", "+1650555abcd", "+1-800-FLOWERS", "1-800-CALL-NOW"])
def test_an_empty_or_vanity_phone_may_be_taken_or_refused(phone):
    """Audit C5: "" may be read as null, a vanity number's letters as keypad digits."""
    expectation = model().expect_create(body("draft", text="x", remote_phone=phone), WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/create/loose-type")


@pytest.mark.parametrize("phone", ["abc", "12ab", "phone", "call me", "+", " "])
def test_a_value_no_server_reads_as_a_phone_must_be_refused(phone):
    expectation = model().expect_create(body("draft", text="x", remote_phone=phone), WINDOW)
    assert (expectation.accept, expectation.rule) == (False, "sms/create/phone-malformed")


@pytest.mark.parametrize(("status", "direction"), [("inbox", "outbound"), ("sent", "inbound")])
def test_a_direction_that_contradicts_the_status_may_be_refused_showing_the_reject_reading(
    status, direction
):
    expectation = model().expect_create(body(status, text="x", direction=direction), WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/create/direction-explicit")
    assert expectation.readings == (None, "direction-override=reject")
    assert expectation.record is not None


def test_a_create_with_status_error_is_open_and_not_followed_after():
    """Audit C3: the docs describe no create with status error, so neither the answer nor what
    the server stores (an error SMS, a draft) is judged afterwards."""
    expectation = model().expect_create(body("error", text="x"), WINDOW)
    assert (expectation.accept, expectation.record) == (None, None)


def test_send_in_on_another_status_than_outbox_is_open_and_not_followed_after():
    expectation = model().expect_create(body("draft", text="x", send_in=5), WINDOW)
    assert (expectation.rule, expectation.accept, expectation.record) == (
        "sms/create/send-in-other-status",
        None,
        None,
    )


def test_a_logged_sms_with_a_local_phone_that_is_not_internal_may_keep_or_drop_it():
    expectation = model().expect_create(body("inbox", text="x", local_phone="+14155550002"), WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/local-phone-logging", None)
    assert "local_phone" not in expectation.record.written


@pytest.mark.parametrize("send_in", [True, False, "", "5", "12.5"])
def test_a_send_in_a_server_may_read_as_seconds_may_be_taken_or_refused(send_in):
    """Audit C11: a bool is an int to Python, "" may be read as absent, "5" as a number."""
    expectation = model().expect_create(body("outbox", text="x", send_in=send_in), WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/create/loose-type")


@pytest.mark.parametrize("send_in", ["60", "75", "75.0", "1e3"])
def test_a_send_in_that_spells_60_or_more_seconds_must_be_refused(send_in):
    """Read as seconds it is 60 or more; read as no number it is refused all the same."""
    expectation = model().expect_create(body("outbox", text="x", send_in=send_in), WINDOW)
    assert (expectation.accept, expectation.rule) == (False, "sms/create/send-in-below-60")
    assert expectation.field == "send_in"


@pytest.mark.parametrize("send_in", ["ten", [5], {"seconds": 5}, "nan"])
def test_a_send_in_that_is_no_number_of_seconds_must_be_refused(send_in):
    expectation = model().expect_create(body("outbox", text="x", send_in=send_in), WINDOW)
    assert (expectation.accept, expectation.rule) == (False, "sms/create/send-in-invalid-type")


def test_a_create_open_on_several_counts_names_no_single_field_a_refusal_must_name():
    """A refusal of a send with a foreign attachment url and a negative send_in may name
    either field (seen on ci seed 1: the server named send_in, the oracle wanted
    attachments)."""
    attachment = {**FILE, "url": "https://example.com/a.pdf"}
    send = body("outbox", text="", attachments=[attachment], send_in=-1)
    expectation = model().expect_create(send, WINDOW)
    assert (expectation.accept, expectation.field) == (None, None)
    assert expectation.readings[1] is None


@pytest.mark.parametrize("ahead", [-60, 0, 1.5])
def test_a_date_scheduled_past_or_within_the_clock_skew_may_be_taken_or_refused(ahead):
    """Audit C14: on a remote target (early = 2 s of clock skew) a date 1.5 s ahead may be
    past on the server's clock; whether a past date is taken is not documented."""
    m = Model(FIXTURES, Timing(early=2.0))
    when = (NOW + timedelta(seconds=ahead)).isoformat()
    expectation = m.expect_create(body("scheduled", text="x", date_scheduled=when), WINDOW)
    assert (expectation.accept, expectation.rule) == (None, "sms/create/status-scheduled")
    m.apply(
        SmsRecord(
            "acti_1", "draft", {"status": "draft", "text": "x", "local_phone": "+16505550001"}
        )
    )
    update = m.expect_update("acti_1", {"status": "scheduled", "date_scheduled": when}, WINDOW)
    assert (update.accept, update.rule) == (None, "sms/update/draft-to-scheduled")


def test_a_date_scheduled_beyond_the_clock_skew_must_be_taken():
    m = Model(FIXTURES, Timing(early=2.0))
    when = (NOW + timedelta(seconds=3)).isoformat()
    expectation = m.expect_create(body("scheduled", text="x", date_scheduled=when), WINDOW)
    assert (expectation.accept, expectation.rule) == (True, "sms/create/status-scheduled")


def test_a_template_id_that_names_no_template_must_be_refused():
    """Audit C7, backed: "`template_id` of an SMS Template may be sent instead of `text`; the
    template is rendered and the result used as `text`" (1.3 rule 5): an id that names no
    template gives nothing to render."""
    expectation = model().expect_create(body("draft", template_id="smstmpl_nope"), WINDOW)
    assert (expectation.accept, expectation.rule) == (
        False,
        "sms/create/template-unknown-rejected",
    )


def test_a_logged_sms_with_a_foreign_attachment_and_an_external_number_names_no_field():
    """Seen on ci seed 1: the server refused the external local_phone of an inbox SMS (open:
    local-phone-logging), the oracle wanted the attachment named."""
    attachment = {**FILE, "url": "https://example.com/a.pdf"}
    logged = body("inbox", text="", attachments=[attachment], local_phone="+14155550002")
    expectation = model().expect_create(logged, WINDOW)
    assert (expectation.accept, expectation.field) == (None, None)


def draft_model() -> Model:
    m = model()
    m.apply(SmsRecord("acti_1", "draft", {"status": "draft", "text": "hi"}))
    return m


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"text": ["x"]}, "text"),
        ({"activity_at": "tomorrow"}, "activity_at"),
        ({"remote_phone": "abc"}, "remote_phone"),
        ({"attachments": [{"url": "https://x.test/a"}]}, "attachments"),
    ],
)
def test_a_draft_edit_with_a_value_the_update_schema_refuses_must_be_refused(edit, field):
    expectation = draft_model().expect_update("acti_1", edit, WINDOW)
    assert (expectation.accept, expectation.rule, expectation.field) == (
        False,
        "protocol/invalid-input-rejected",
        field,
    )


@pytest.mark.parametrize("edit", [{"text": 12345}, {"remote_phone": ""}, {"date_scheduled": "x"}])
def test_a_draft_edit_with_a_value_a_server_may_read_is_open_and_not_followed(edit):
    expectation = draft_model().expect_update("acti_1", edit, WINDOW)
    assert (expectation.accept, expectation.rule, expectation.record) == (
        None,
        "sms/update/loose-type",
        None,
    )


def test_a_draft_edit_of_fields_outside_the_update_schema_is_not_judged_by_type():
    expectation = draft_model().expect_update("acti_1", {"direction": 5}, WINDOW)
    assert (expectation.accept, expectation.rule) == (True, "sms/update/draft-edit")
    assert "direction" not in expectation.record.written  # not in the update schema (1.5)


# -- open points served as readings: the model allows every reading and names it ----------


def test_a_date_scheduled_surely_past_may_be_taken_or_refused_and_either_names_its_reading():
    """past-date-scheduled: taken (and sent at once) or refused; beyond the clock skew the
    answer shows which, on create and on the PUT that schedules a draft."""
    m = Model(FIXTURES, Timing(early=2.0))
    when = (NOW - timedelta(seconds=60)).isoformat()
    create = m.expect_create(body("scheduled", text="x", date_scheduled=when), WINDOW)
    readings = ("past-date-scheduled=accept", "past-date-scheduled=reject")
    assert (create.accept, create.field, create.readings) == (None, "date_scheduled", readings)
    assert create.record is not None  # taken, it is followed: due at once
    m.apply(
        SmsRecord(
            "acti_1", "draft", {"status": "draft", "text": "x", "local_phone": "+16505550001"}
        )
    )
    update = m.expect_update("acti_1", {"status": "scheduled", "date_scheduled": when}, WINDOW)
    assert (update.accept, update.field, update.readings) == (None, "date_scheduled", readings)


def test_a_date_scheduled_within_the_clock_skew_names_no_reading_of_past_dates():
    m = Model(FIXTURES, Timing(early=2.0))
    when = (NOW - timedelta(seconds=1)).isoformat()
    expectation = m.expect_create(body("scheduled", text="x", date_scheduled=when), WINDOW)
    assert (expectation.accept, expectation.readings) == (None, (None, None))


@pytest.mark.parametrize("send_in", [0.5, 5.5, 59.5])
def test_a_send_in_with_a_fraction_may_be_kept_cut_or_refused_and_its_send_time_is_open(send_in):
    """send-in-fraction: refused (naming send_in), or taken with the delay as given or cut
    to whole seconds; when it is sent is observed, never judged."""
    expectation = model().expect_create(body("outbox", text="x", send_in=send_in), WINDOW)
    assert (expectation.rule, expectation.accept, expectation.field) == (
        "sms/create/send-in-fraction",
        None,
        "send_in",
    )
    assert expectation.readings == (None, "send-in-fraction=reject")
    record = expectation.record
    assert record.timing_open == "sms/create/send-in-fraction"
    for seconds in (0, int(send_in), send_in, 3600):
        assert record.allowed_statuses(at(seconds), Timing()) == {"outbox", "sent", "error"}


def test_a_send_in_of_whole_seconds_written_as_a_float_must_be_taken():
    expectation = model().expect_create(body("outbox", text="x", send_in=5.0), WINDOW)
    assert (expectation.rule, expectation.accept) == ("sms/create/send-in-accepted", True)


def test_a_template_and_a_text_may_be_taken_either_way_or_refused_and_the_text_is_not_judged():
    """template-and-text: the template rendered over the text, the text kept, or refused;
    a refusal names its reading, the text an acceptance shows is not judged."""
    send = body("draft", template_id="smstmpl_1", text="given")
    expectation = model().expect_create(send, WINDOW)
    assert (expectation.rule, expectation.accept, expectation.field) == (
        "sms/create/template-and-text",
        None,
        None,
    )
    assert expectation.readings == (None, "template-and-text=reject")
    assert "text" not in expectation.record.written


@pytest.mark.parametrize("status", ["scheduled", "outbox"])
def test_a_cancel_with_an_edit_of_a_pending_sms_may_do_both_the_cancel_only_or_be_refused(status):
    """cancel-and-edit: what is done is open; a refusal of an SMS surely unsent names its
    reading, and the SMS is not followed after an acceptance (the check reads which)."""
    m = model()
    due = NOW + timedelta(seconds=600)
    m.apply(SmsRecord("acti_1", status, {"status": status, "text": "before"}, due=due))
    update = m.expect_update("acti_1", {"status": "draft", "text": "after"}, WINDOW)
    assert (update.rule, update.accept, update.record) == (
        "sms/update/cancel-with-edits",
        None,
        None,
    )
    assert update.readings == (None, "cancel-and-edit=reject")


def test_a_cancel_with_an_edit_of_an_sms_that_may_be_sent_names_no_reading_when_refused():
    m = model()
    m.apply(SmsRecord("acti_1", "outbox", {"status": "outbox", "text": "before"}, due=NOW))
    update = m.expect_update("acti_1", {"status": "draft", "text": "after"}, at(1))
    assert (update.rule, update.accept, update.readings) == (
        "sms/update/cancel-with-edits",
        None,
        (None, None),
    )


@pytest.mark.parametrize(
    ("value", "tz_offset", "between"),
    [
        ("2026-03-02", "13", True),  # 11:00 UTC on the 1st <= noon < midnight UTC on the 2nd
        ("2026-03-01", "-11.5", False),  # 11:30 UTC on the 1st: both before noon
        ("2026-03-01", "-12.5", True),  # 12:30 UTC on the 1st: after noon, UTC before it
        ("2026-03-02", "0", False),
        ("2026-03-02T00:00:00", "13", False),  # not a bare date
    ],
)
def test_a_bare_date_falls_either_side_of_a_moment_when_its_midnights_do(value, tz_offset, between):
    from conformance.model import between_midnights

    noon = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert between_midnights(value, tz_offset, noon) is between
