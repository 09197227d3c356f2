"""Create, update and invalid create bodies generate what they promise."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conformance.fixtures import Fixtures
from strategies import (
    ATTACHMENT_CONTENT_TYPES,
    CREATE_STATUSES,
    INVALID_CREATE_RULES,
    InvalidPayload,
    create_payloads,
    invalid_create_payloads,
    update_payloads,
)

FIXTURES = Fixtures(
    organization_id="orga_test",
    user_id="user_test",
    internal_phones=("+16505550001", "+16505550002"),
    external_phones=("+16505550900",),
    leads=(("lead_first", "cont_first"), ("lead_second", "cont_second")),
    contact_first_name="Ann",
    template_id="smstmpl_known",
    template_text="Hi {{ contact.first_name }}",
    rendered_template="Hi Ann",
)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DOCUMENTED_RULES = {
    "sms/create/scheduled-requires-date-scheduled",
    "sms/create/send-in-below-60",
    "sms/create/send-in-invalid-type",
    "sms/create/local-phone-required",
    "sms/create/local-phone-internal",
    "sms/create/phone-malformed",
    "sms/create/template-unknown-rejected",
    "sms/create/status-required",
    "sms/create/status-unknown-rejected",
    "sms/create/attachment-invalid",
    "protocol/no-5xx",
}
STATUS_ENUM = {"inbox", "draft", "scheduled", "outbox", "sent", "error"}
STRING_FIELDS = ("text", "lead_id", "contact_id", "user_id", "activity_at")


def _valid_attachment(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"url", "filename", "content_type"}
        and all(isinstance(value, str) for value in item.values())
        and item["content_type"] in ATTACHMENT_CONTENT_TYPES
    )


def _future_date(value: Any) -> bool:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return parsed.tzinfo is not None and parsed >= NOW + timedelta(minutes=5)


def broken_rules(body: dict[str, Any]) -> set[tuple[str, str]]:
    """An independent oracle: every (rule id, field) a create body breaks."""
    broken: set[tuple[str, str]] = set()
    status = body.get("status")
    if "status" not in body:
        broken.add(("sms/create/status-required", "status"))
    elif not isinstance(status, str) or status not in STATUS_ENUM:
        broken.add(("sms/create/status-unknown-rejected", "status"))
    sending = status in ("outbox", "scheduled")

    if "date_scheduled" in body or status == "scheduled":
        value = body.get("date_scheduled")
        if value is not None and not isinstance(value, str):
            broken.add(("protocol/no-5xx", "date_scheduled"))
        elif status == "scheduled" and not _future_date(value):
            broken.add(("sms/create/scheduled-requires-date-scheduled", "date_scheduled"))
        elif status != "scheduled":
            broken.add(("unexpected date_scheduled", "date_scheduled"))
    if "send_in" in body:
        value = body["send_in"]
        if status != "outbox":
            broken.add(("unexpected send_in", "send_in"))
        if isinstance(value, bool) or not isinstance(value, int):
            broken.add(("sms/create/send-in-invalid-type", "send_in"))
        elif not 0 <= value < 60:
            broken.add(("sms/create/send-in-below-60", "send_in"))

    local = body.get("local_phone")
    if local is None:
        broken.add(
            ("sms/create/local-phone-required" if sending else "no local_phone", "local_phone")
        )
    elif not isinstance(local, str):
        broken.add(("protocol/no-5xx", "local_phone"))
    elif not E164.match(local):
        broken.add(("sms/create/phone-malformed", "local_phone"))
    elif local not in FIXTURES.internal_phones:
        broken.add(
            (
                "sms/create/local-phone-internal" if sending else "external local_phone",
                "local_phone",
            )
        )
    remote = body.get("remote_phone")
    if not isinstance(remote, str):
        broken.add(("protocol/no-5xx", "remote_phone"))
    elif not E164.match(remote):
        broken.add(("sms/create/phone-malformed", "remote_phone"))

    for key in STRING_FIELDS:
        if key in body and not isinstance(body[key], str):
            broken.add(("protocol/no-5xx", key))
    if "template_id" in body:
        template = body["template_id"]
        if not isinstance(template, str):
            broken.add(("protocol/no-5xx", "template_id"))
        elif template != FIXTURES.template_id:
            broken.add(("sms/create/template-unknown-rejected", "template_id"))
        elif (body.get("lead_id"), body.get("contact_id")) != FIXTURES.leads[0]:
            broken.add(("unpredictable rendering", "template_id"))
    if ("text" in body) == ("template_id" in body):
        broken.add(("exactly one of text and template_id", "text"))
    if ("lead_id" in body) != ("contact_id" in body):
        broken.add(("half a lead/contact pair", "lead_id"))
    elif (
        "lead_id" in body
        and all(isinstance(body[k], str) for k in ("lead_id", "contact_id"))
        and (body["lead_id"], body["contact_id"]) not in FIXTURES.leads
    ):
        broken.add(("unknown lead/contact pair", "lead_id"))

    if "attachments" in body:
        items = body["attachments"]
        if not isinstance(items, list):
            broken.add(("protocol/no-5xx", "attachments"))
        elif not all(_valid_attachment(item) for item in items):
            broken.add(("sms/create/attachment-invalid", "attachments"))
    if "direction" in body:
        allowed = ("inbound", "outbound") if status in ("inbox", "sent") else ("outbound",)
        if body["direction"] not in allowed:
            broken.add(("protocol/no-5xx", "direction"))
    if "source" in body and body["source"] not in ("Close.io", "External"):
        broken.add(("protocol/no-5xx", "source"))
    return broken


@FAST
@given(create_payloads(FIXTURES, now=NOW))
def test_create_payloads_break_no_rule(body):
    assert broken_rules(body) == set()
    assert body["status"] in CREATE_STATUSES
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize("status", CREATE_STATUSES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_create_payloads_for_a_status_have_the_fields_that_status_needs(status, data):
    body = data.draw(create_payloads(FIXTURES, now=NOW, status=status))
    assert body["status"] == status
    assert broken_rules(body) == set()
    assert ("date_scheduled" in body) == (status == "scheduled")
    assert body.get("send_in", 0) < 60
    if status != "outbox":
        assert "send_in" not in body


def test_create_payloads_shrink_to_a_minimal_draft_like_body():
    assert find(create_payloads(FIXTURES, now=NOW), lambda body: True) == {
        "status": "draft",
        "local_phone": "+16505550001",
        "remote_phone": FIXTURES.remote_phones[0],
        "text": "",
    }


def test_create_payloads_use_the_template_only_with_the_first_lead():
    body = find(create_payloads(FIXTURES, now=NOW), lambda b: "template_id" in b)
    assert body["template_id"] == FIXTURES.template_id
    assert (body["lead_id"], body["contact_id"]) == FIXTURES.leads[0]
    assert "text" not in body


@pytest.mark.parametrize(
    "kwargs",
    [
        {"now": NOW.replace(tzinfo=None)},
        {"now": "2026-03-01T12:00:00Z"},
        {"now": NOW, "status": "error"},
        {"now": NOW, "status": "Draft"},
    ],
)
def test_create_payloads_reject_invalid_arguments(kwargs):
    with pytest.raises(InvalidArgument):
        create_payloads(FIXTURES, **kwargs)


def test_create_payloads_reject_something_that_is_not_fixtures():
    with pytest.raises(InvalidArgument):
        create_payloads({"internal_phones": ()}, now=NOW)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invalid_create_payloads(FIXTURES, now=NOW))
def test_each_invalid_payload_breaks_exactly_its_rule_and_names_the_field(case):
    assert isinstance(case, InvalidPayload)
    assert case.violation in DOCUMENTED_RULES
    assert broken_rules(case.body) == {(case.violation, case.field)}
    json.dumps(case.body)


def test_invalid_create_rules_are_the_documented_rule_ids():
    assert INVALID_CREATE_RULES == DOCUMENTED_RULES


@pytest.mark.parametrize("rule", sorted(DOCUMENTED_RULES))
def test_invalid_create_payloads_reach_every_rule(rule):
    case = find(
        invalid_create_payloads(FIXTURES, now=NOW),
        lambda c: c.violation == rule,
        settings=settings(max_examples=2000, database=None),
    )
    assert broken_rules(case.body) == {(rule, case.field)}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    breaking=st.lists(st.sampled_from(sorted(DOCUMENTED_RULES)), min_size=1, unique=True),
    data=st.data(),
)
def test_invalid_create_payloads_breaking_some_rules_break_only_those(breaking, data):
    case = data.draw(invalid_create_payloads(FIXTURES, now=NOW, breaking=breaking))
    assert case.violation in breaking
    assert broken_rules(case.body) == {(case.violation, case.field)}


@pytest.mark.parametrize("breaking", [[], ["sms/create/no-such-rule"], ["protocol/no-5xx", "x"]])
def test_invalid_create_payloads_refuse_to_break_what_they_do_not_know(breaking):
    with pytest.raises(InvalidArgument):
        invalid_create_payloads(FIXTURES, now=NOW, breaking=breaking)


def test_send_in_of_exactly_60_is_drawn():
    case = find(
        invalid_create_payloads(FIXTURES, now=NOW),
        lambda c: c.violation == "sms/create/send-in-below-60" and c.body["send_in"] == 60,
    )
    assert case.body["status"] == "outbox"


def test_local_phone_internal_uses_the_external_numbers():
    case = find(
        invalid_create_payloads(FIXTURES, now=NOW),
        lambda c: c.body.get("local_phone") in FIXTURES.external_phones,
    )
    assert case.violation == "sms/create/local-phone-internal"


@FAST
@given(update_payloads(FIXTURES, now=NOW))
def test_update_payloads_are_small_valid_draft_edits_without_status(body):
    assert "status" not in body
    groups = set(body) - {"contact_id"}
    assert 1 <= len(groups) <= 3
    assert groups <= {
        "text",
        "remote_phone",
        "local_phone",
        "lead_id",
        "attachments",
        "activity_at",
    }
    assert body.get("local_phone", FIXTURES.internal_phones[0]) in FIXTURES.internal_phones
    if "lead_id" in body:
        assert (body["lead_id"], body["contact_id"]) in FIXTURES.leads
    if "activity_at" in body:
        assert datetime.fromisoformat(body["activity_at"]) <= NOW
    assert all(_valid_attachment(item) for item in body.get("attachments", []))


def test_update_payloads_shrink_to_a_single_field_edit():
    assert find(update_payloads(FIXTURES, now=NOW), lambda body: True) == {
        "remote_phone": FIXTURES.remote_phones[0]
    }


def test_invalid_create_payloads_shrink_to_a_minimal_draft_without_status():
    assert find(invalid_create_payloads(FIXTURES, now=NOW), lambda case: True) == InvalidPayload(
        body={"local_phone": "+16505550001", "remote_phone": FIXTURES.remote_phones[0], "text": ""},
        violation="sms/create/status-required",
        field="status",
    )


WITHOUT_TEMPLATE = replace(FIXTURES, template_id=None, template_text=None, rendered_template=None)


@FAST
@given(body=create_payloads(WITHOUT_TEMPLATE, now=NOW))
def test_without_a_template_on_the_target_every_valid_create_carries_text(body):
    assert "template_id" not in body
    assert "text" in body


def test_with_a_template_on_the_target_some_valid_create_uses_it():
    find(create_payloads(FIXTURES, now=NOW), lambda body: "template_id" in body)
