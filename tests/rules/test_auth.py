"""Valid credentials are refused only by a 401; a 403 is an operation refused (audit U8)."""

from __future__ import annotations

import pytest

from conformance.checks import Step
from conformance.records import RecordedRequest, RecordedResponse
from conformance.rules.auth import valid_credentials_are_accepted
from tests.rules.helpers import step_of


def answered(code: int, auth: str) -> Step:
    request = RecordedRequest("PUT", "/activity/sms/acti_1/", {}, {"text": "x"}, auth=auth)
    return step_of(
        "update", request, RecordedResponse(code, {}, {"error": "Operation not allowed."})
    )


@pytest.mark.parametrize(
    ("auth", "rule"), [("basic", "auth/api-key-basic"), ("bearer", "auth/oauth-bearer")]
)
def test_a_403_for_an_edit_the_docs_refuse_does_not_count_as_refused_credentials(auth, rule):
    findings = list(valid_credentials_are_accepted(answered(403, auth)))
    assert [(f.rule, f.ok) for f in findings] == [(rule, True)]


@pytest.mark.parametrize(
    ("auth", "rule"), [("basic", "auth/api-key-basic"), ("bearer", "auth/oauth-bearer")]
)
def test_a_401_to_valid_credentials_breaks_the_auth_rule(auth, rule):
    findings = list(valid_credentials_are_accepted(answered(401, auth)))
    assert [(f.rule, f.ok) for f in findings] == [(rule, False)]
