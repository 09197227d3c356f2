"""A failure told by what differs: the field that matters is never past a cut."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.explain import explain, render_value
from conformance.records import Failure
from conformance.rules._util import MAX_SHOWN, shown

from .explained import CREATE_SENT, EDIT_SENT, SMS_ID, drafts_only_failure, exchange, sms


def test_the_field_that_matters_is_past_the_cut_of_the_checks_rendering():
    """The premise of every test here: the check's own actual hides the status."""
    failure = drafts_only_failure()
    assert len(json.dumps(EDIT_SENT.response.body, sort_keys=True)) > MAX_SHOWN  # type: ignore[union-attr]
    assert '"status": "sent"' not in failure.actual


def test_a_refused_edit_that_was_accepted_shows_the_status_before_and_the_field_it_changed():
    told = explain(drafts_only_failure())

    assert told.actual == 'HTTP 200, status "sent"'
    assert told.before == (("status", '"sent"'), ("text", '""'))
    assert told.before_step == 1
    fields = {d.field: (d.expected, d.actual) for d in told.differences}
    assert fields == {"HTTP status": ("4xx", "200"), "text": ('""', '"0"')}  # not date_updated
    line = told.line()
    assert 'status "sent"' in line and 'text expected "", got "0"' in line
    assert f'PUT activity/sms/{SMS_ID}/ {{"text": "0"}}' in line
    assert "…" not in line


def test_a_create_that_reads_back_otherwise_shows_what_was_asked_against_what_was_stored():
    create = exchange(
        "POST",
        "activity/sms/",
        {"status": "scheduled", "text": "hi", "date_scheduled": "2028-06-20T13:00:00+00:00"},
        200,
        sms(status="draft", text="hi", date_scheduled="2028-06-20T13:00:00+00:00"),
        "2028-06-20T12:00:00+00:00",
    )
    failure = Failure(
        "sms/create/status-scheduled", "", "status in ['scheduled']", "status 'draft'", (create,)
    )
    told = explain(failure)

    assert [(d.field, d.expected, d.actual) for d in told.differences] == [
        ("status", '"scheduled"', '"draft"')
    ]
    assert told.actual == "status 'draft'"  # no body in it: kept as the check said it
    assert told.before == ()


def test_an_error_body_is_shown_whole_however_long_it_is():
    errors = {"errors": ["x" * 170], "field-errors": {"date_scheduled": "required"}}
    answer = exchange("POST", "activity/sms/", {"status": "scheduled"}, 400, errors, "t")
    failure = Failure("protocol/field-error-names-field", "", "naming", shown(errors), (answer,))
    told = explain(failure)

    assert shown(errors).endswith("…") and "required" not in shown(errors)
    assert told.actual == json.dumps(errors)


def test_a_page_is_told_by_its_size_and_other_keys():
    page = {"data": [sms()] * 3, "has_more": "yes"}
    answer = exchange("GET", "activity/sms/?limit=3", None, 200, page, "t")
    failure = Failure("sms/list/shape", "", "has_more true|false", shown(page), (answer,))

    assert explain(failure).actual == 'a page of 3 item(s) with {"has_more": "yes"}'


def test_a_long_text_value_is_shortened_with_its_length_never_hiding_the_next_field():
    assert render_value("a" * 500) == '"' + "a" * 120 + '…" (500 chars)'
    told = explain(
        Failure(
            "sms/update/drafts-only",
            "",
            "a 4xx rejection",
            "HTTP 200 " + shown(sms(text="a" * 500)),
            (
                CREATE_SENT,
                exchange(
                    "PUT",
                    f"activity/sms/{SMS_ID}/",
                    {"text": "a" * 500, "direction": "inbound"},
                    200,
                    sms(text="a" * 500, direction="inbound"),
                    "t",
                ),
            ),
        )
    )
    assert [d.field for d in told.differences] == ["HTTP status", "direction", "text"]


def test_a_timing_failure_says_when_the_sms_was_due_when_it_was_cancelled_and_when_seen():
    create = exchange(
        "POST",
        "activity/sms/",
        {"status": "outbox", "send_in": 10, "text": "x"},
        200,
        sms(status="outbox", text="x"),
        "2028-06-20T12:00:00+00:00",
    )
    cancel = exchange(
        "PUT",
        f"activity/sms/{SMS_ID}/",
        {"status": "draft"},
        200,
        sms(status="draft", text="x"),
        "2028-06-20T12:00:00.200000+00:00",
    )
    read = exchange(
        "GET", f"activity/sms/{SMS_ID}/", None, 200, sms(text="x"), "2028-06-20T12:00:15+00:00"
    )
    failure = Failure(
        "sms/send/cancelled-never-sent",
        "",
        "status in ['draft']",
        "status 'sent'",
        (create, cancel, read),
    )
    timing = dict(explain(failure).timing)

    assert timing["due"].startswith("2028-06-20T12:00:10+00:00 (send_in 10 s after")
    assert timing["cancelled"] == "2028-06-20T12:00:00.200000+00:00"
    assert timing["seen"] == "2028-06-20T12:00:15+00:00"
    assert "due 2028-06-20T12:00:10+00:00" in explain(failure).line()


def test_a_send_in_too_large_for_a_date_is_told_as_it_was_sent():
    create = exchange(
        "POST",
        "activity/sms/",
        {"status": "outbox", "send_in": 10**30},
        200,
        sms(status="outbox"),
        "2028-06-20T12:00:00+00:00",
    )
    read = exchange("GET", f"activity/sms/{SMS_ID}/", None, 200, sms(), "t")
    failure = Failure("sms/send/send-in-delays", "", "status in ['outbox']", "status 'sent'")
    timing = dict(explain(replace(failure, steps=(create, read))).timing)
    assert timing["due"] == f"send_in {10**30} s after step 1"


def test_a_failure_without_steps_is_told_as_the_check_said_it():
    told = explain(Failure("protocol/no-5xx", "", "a 2xx or 4xx status", "HTTP 500"))
    assert told.line() == "expected a 2xx or 4xx status; got HTTP 500"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
BODIES = JSON | st.fixed_dictionaries(
    {"id": st.sampled_from([SMS_ID, "x"]) | JSON, "status": JSON},
    optional={"send_in": JSON, "date_scheduled": JSON, "data": JSON, "text": JSON},
)


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["POST", "PUT", "GET"]),
            st.sampled_from(["activity/sms/", f"activity/sms/{SMS_ID}/", "/activity/sms/x/?a=1"]),
            BODIES,
            st.integers(100, 599),
            BODIES,
            st.sampled_from([None, "2028-06-20T12:00:00+00:00", "garbage"]),
        ),
        min_size=1,
        max_size=4,
    ),
    rule=st.sampled_from(["sms/send/outbox-sent", "sms/update/drafts-only"]),
    expected=st.sampled_from(["a 4xx rejection", "HTTP 200", "status in ['sent']", ""]),
)
@settings(max_examples=200, deadline=None)
def test_any_recorded_steps_are_told_without_an_error(steps, rule, expected):
    exchanges = tuple(exchange(*step) for step in steps)
    body = exchanges[-1].response.body  # type: ignore[union-attr]
    told = explain(Failure(rule, "", expected, f"HTTP 200 {shown(body)}", exchanges))
    assert told.line().find(f"expected {expected}; got ") >= 0
    assert told.lines()[0] == f"expected: {expected}"


def test_a_number_in_the_expected_that_is_no_http_status_makes_no_status_row():
    page = {"data": [sms()], "has_more": False}
    answer = exchange("GET", "activity/sms/?_limit=250", None, 200, page, "t")
    failure = Failure("sms/list/limit", "", "at most 250 items", "251 items", (answer,))
    assert explain(failure).differences == ()


def test_a_status_named_after_http_is_compared_with_the_answer():
    answer = exchange("GET", f"activity/sms/{SMS_ID}/", None, 200, sms(), "t")
    failure = Failure("isolation/get", "", "HTTP 403 or 404", "HTTP 200 " + shown(sms()), (answer,))
    told = explain(failure)
    assert [(d.field, d.expected, d.actual) for d in told.differences] == [
        ("HTTP status", "403 or 404", "200")
    ]
    assert told.actual == 'HTTP 200, status "sent"'


def test_a_steps_time_is_readable_at_any_size_never_a_row_of_zeros():
    from conformance.explain import format_elapsed

    assert format_elapsed(0.00042) == "0.42 ms"  # an in-process step
    assert format_elapsed(0.0123) == "12.3 ms"
    assert format_elapsed(1.25) == "1.250 s"
