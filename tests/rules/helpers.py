"""Hand-built steps for the checks' unit tests: one organisation's fixtures, a model of them,
the steps a check is given, and what its findings say, so that each test states only what it
varies.

Every step happens at ``NOON`` unless said otherwise; the model is a fresh one of
``FIXTURES`` holding the records given.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from conformance.checks import Finding, Step
from conformance.fixtures import Fixtures
from conformance.model import Model, SmsRecord, TimeWindow, Timing
from conformance.records import Exchange, RecordedRequest, RecordedResponse

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(NOON, NOON)
FIXTURES = Fixtures(
    organization_id="orga_1",
    user_id="user_1",
    internal_phones=("+16505550001",),
    external_phones=(),
    leads=(("lead_1", "cont_1"),),
    contact_first_name="Ada",
    template_id="smstmpl_1",
    template_text="Hi {{ contact.first_name }}",
    rendered_template="Hi Ada",
)
SMS = "/activity/sms/"
#: A create body with both numbers and a text: add a status (and what the test varies).
BASE = {"local_phone": "+16505550001", "remote_phone": "+16505550100", "text": "hi"}


def model_of(
    *records: SmsRecord, fixtures: Fixtures = FIXTURES, timing: Timing | None = None
) -> Model:
    """A model of ``fixtures`` that knows ``records``."""
    model = Model(fixtures) if timing is None else Model(fixtures, timing)
    for record in records:
        model.apply(record)
    return model


def step_of(
    operation: str,
    request: RecordedRequest,
    response: RecordedResponse,
    *,
    model: Model | None = None,
    at: datetime = NOON,
    **fields: Any,
) -> Step:
    """A step of ``operation`` whose one exchange is ``request`` answered with ``response``
    at ``at``, judged against ``model`` (a fresh one by default); ``fields`` as ``Step``'s."""
    model = model if model is not None else model_of()
    return Step(operation, [Exchange(request, response)], TimeWindow(at, at), model, **fields)


def list_step(
    model: Model,
    query: dict[str, str],
    body: Any,
    *,
    code: int = 200,
    tz_offset: str | None = None,
) -> Step:
    """A list with ``query`` answered ``code`` with ``body``, and what ``model`` expects of it."""
    return step_of(
        "list",
        RecordedRequest("GET", SMS, {}),
        RecordedResponse(code, {}, body),
        model=model,
        params=query,
        tz_offset=tz_offset,
        list_expectation=model.expect_list(query, tz_offset),
    )


def page(ids: Iterable[str], has_more: bool = False) -> dict[str, Any]:
    """A list answer holding the SMS ``ids``."""
    return {"data": [{"id": sms_id} for sms_id in ids], "has_more": has_more}


def created(body: dict[str, Any], answer: dict[str, Any], *, model: Model | None = None) -> Step:
    """The step of a create of ``body`` that the server answered with ``answer`` (and what
    the model expects for the fields ``answer`` does not name)."""
    model = model if model is not None else model_of()
    expectation = model.expect_create(body, WINDOW)
    assert expectation.record is not None
    answer = {"id": "acti_1", **expectation.record.written, **answer}
    return step_of(
        "create",
        RecordedRequest("POST", SMS, {}, body),
        RecordedResponse(200, {}, answer),
        model=model,
        expectation=expectation,
    )


def settled(body: dict[str, Any], answer: dict[str, Any]) -> SmsRecord:
    """What the model knows of the SMS a create of ``body`` made, answered with ``answer``
    (and what was written for the fields ``answer`` does not name)."""
    model = model_of()
    expected = model.expect_create(body, WINDOW).record
    assert expected is not None
    return model.add(expected, {"id": "acti_1", **expected.written, **answer}, WINDOW)


def read(record: SmsRecord, answer: dict[str, Any], *, at: datetime = NOON) -> Step:
    """The step of a GET of ``record`` at ``at`` that the server answered with ``answer`` (and
    what was written for the fields ``answer`` does not name)."""
    return step_of(
        "get",
        RecordedRequest("GET", f"{SMS}{record.id}/", {}),
        RecordedResponse(200, {}, {"id": record.id, **record.written, **answer}),
        model=model_of(record),
        at=at,
        record=record,
    )


def broken(findings: Iterable[Finding]) -> list[str]:
    """The rules of the findings that say the server did what the rule does not allow."""
    return [finding.rule for finding in findings if not finding.ok]


def verdicts(findings: Iterable[Finding]) -> dict[str, bool]:
    """Each finding's rule and whether it held."""
    return {finding.rule: finding.ok for finding in findings}


def readings(findings: Iterable[Finding]) -> set[str]:
    """The readings of open points the findings show the server took."""
    return {finding.reading for finding in findings if finding.reading is not None}
