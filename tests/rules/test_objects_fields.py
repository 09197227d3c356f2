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
