"""`_fields` on GET one SMS trims the answer to the fields asked (2.4 "Most endpoints accept
`_fields=a,b,c` to trim the response"; 1.4 Get lists `_fields`): audit G2."""

from __future__ import annotations

import pytest

from conformance.model import SmsRecord
from conformance.records import RecordedRequest, RecordedResponse
from conformance.rules.objects import fields_parameter_trims_objects
from tests.rules.helpers import model_of, step_of


def got(answer: dict) -> list[bool]:
    step = step_of(
        "get",
        RecordedRequest("GET", "/activity/sms/acti_1/", {}),
        RecordedResponse(200, {}, answer),
        model=model_of(SmsRecord("acti_1", "draft", {"text": "hi"})),
        params={"_fields": "id,text"},
    )
    return [f.ok for f in fields_parameter_trims_objects(step)]


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ({"id": "acti_1", "text": "hi"}, True),
        ({"id": "acti_1", "text": "hi", "status": "draft"}, False),  # not trimmed
        ({"id": "acti_1"}, False),  # a field asked for left out
    ],
)
def test_a_get_with_fields_answers_exactly_the_fields_asked(answer, ok):
    assert got(answer) == [ok]


# -- _fields on a list (1.2 "not confirmed for list": observed) and the boundaries reached ----


def listed_with(fields: str, items: list[dict]) -> list:
    step = step_of(
        "list",
        RecordedRequest("GET", "/activity/sms/", {}),
        RecordedResponse(200, {}, {"data": items, "has_more": False}),
        model=model_of(),
        params={"lead_id": "lead_1", "_fields": fields},
    )
    return list(fields_parameter_trims_objects(step))


def test_fields_accepted_on_an_empty_list_page_is_observed_once():
    findings = listed_with("id,text,status", [])
    assert [(f.rule, f.boundary) for f in findings] == [("sms/list/fields", None)]
    assert "no SMS on the page" in findings[0].actual


def test_a_list_page_of_trimmed_sms_with_one_field_reaches_both_boundaries():
    items = [{"id": "acti_1", "text": "a"}, {"id": "acti_2", "text": "b"}]
    assert [f.boundary for f in listed_with("text,id", items)] == [
        "a page of trimmed SMS",
        "_fields with one field",
    ]


def test_a_get_with_one_field_reaches_that_boundary_and_with_two_none():
    def boundaries(fields: str) -> list:
        step = step_of(
            "get",
            RecordedRequest("GET", "/activity/sms/acti_1/", {}),
            RecordedResponse(200, {}, {"id": "acti_1", "text": "hi"}),
            model=model_of(SmsRecord("acti_1", "draft", {"text": "hi"})),
            params={"_fields": fields},
        )
        return [f.boundary for f in fields_parameter_trims_objects(step)]

    assert boundaries("id,text") == ["_fields with one field"]
    assert boundaries("id,text,status") == [None]
