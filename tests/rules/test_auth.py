"""Valid credentials are refused only by a 401; a 403 is an operation refused (audit U8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conformance.checks import Step
from conformance.fixtures import Fixtures
from conformance.model import Model, TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.rules.auth import valid_credentials_are_accepted

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FIXTURES = Fixtures(
    organization_id="orga_1",
    user_id="user_1",
    internal_phones=("+16505550001",),
    external_phones=(),
    leads=(("lead_1", "cont_1"),),
    contact_first_name="Ada",
    template_id="smstmpl_1",
    template_text="Hi",
    rendered_template="Hi",
)


def answered(code: int, auth: str) -> Step:
    request = RecordedRequest("PUT", "/activity/sms/acti_1/", {}, {"text": "x"}, auth=auth)
    response = RecordedResponse(code, {}, {"error": "Operation not allowed."})
    return Step("update", [Exchange(request, response)], TimeWindow(NOON, NOON), Model(FIXTURES))


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
