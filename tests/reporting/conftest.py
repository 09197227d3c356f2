"""Hand-built run reports for the report writers: one rule of each status."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conformance.records import (
    REDACTED,
    Exchange,
    Failure,
    RecordedRequest,
    RecordedResponse,
    RuleResult,
    RunReport,
    RunStats,
)

TARGET = "http://127.0.0.1:8765/api/v1"
SMS_ID = "acti_3fZ9kQ"
LEAD_ID = "lead_Qw7"
#: Values planted in recorded headers; no report may ever show them.
FAKE_SECRETS = ("api_FAKE_SECRET_4f1c", "cookie-FAKE-SECRET-77", "xkey-FAKE-SECRET-19")
XSS_TEXT = "<script>alert('sms')</script> & café"


def _sms(status: str, text: str = XSS_TEXT) -> dict[str, object]:
    return {
        "id": SMS_ID,
        "lead_id": LEAD_ID,
        "status": status,
        "text": text,
        "direction": "outbound",
    }


def _headers(**extra: str) -> dict[str, str]:
    headers = {
        "Authorization": FAKE_SECRETS[0],
        "Cookie": f"session={FAKE_SECRETS[1]}",
        "X-API-Key": FAKE_SECRETS[2],
        "accept": "application/json",
    }
    headers.update(extra)
    return headers


FAILURE_STEPS = (
    Exchange(
        request=RecordedRequest(
            method="POST",
            path="/activity/sms/",
            headers=_headers(**{"x-tz-offset": "+02:00"}),
            body={"lead_id": LEAD_ID, "status": "draft", "text": XSS_TEXT},
            auth="basic",
        ),
        response=RecordedResponse(
            status_code=200,
            headers={"content-type": "application/json", "set-cookie": FAKE_SECRETS[1]},
            body=_sms("draft"),
        ),
        elapsed=0.012,
    ),
    Exchange(
        request=RecordedRequest(
            method="PUT",
            path=f"/activity/sms/{SMS_ID}/",
            headers=_headers(),
            body={"status": "scheduled", "note": f"was {SMS_ID}"},
            auth="basic",
        ),
        response=RecordedResponse(
            status_code=200,
            headers={"content-type": "application/json"},
            body=_sms("scheduled"),
        ),
        elapsed=0.008,
    ),
    Exchange(
        request=RecordedRequest(
            method="GET",
            path=f"/activity/sms/{SMS_ID}/?_fields=id,status",
            headers={"authorization": REDACTED, "accept": "application/json"},
            auth="bearer",
        ),
        response=RecordedResponse(
            status_code=200,
            headers={"content-type": "application/json"},
            body={"id": SMS_ID, "status": "draft"},
        ),
        elapsed=0.004,
    ),
)

FAILURE = Failure(
    rule="sms/update/status-persists",
    message="GET after PUT returned the old status",
    expected='status == "scheduled" after PUT {"status": "scheduled"}',
    actual='status == "draft"',
    steps=FAILURE_STEPS,
)


def make_report() -> RunReport:
    """Return a report with a pass (two boundaries listed, one reached), a fail (3 steps), an
    informational and a not-run rule."""
    rules = [
        RuleResult(
            id="sms/create/answers-200",
            status="pass",
            level="MUST",
            statement="Creating an SMS answers 200 with the SMS activity.",
            quote="Response: 200 SMSActivity",
            source="https://developer.close.com/api/resources/activities/sms/create",
            checked=41,
            boundaries={"send_in=0": 0, "send_in=59": 12},
        ),
        RuleResult(
            id="sms/update/status-persists",
            status="fail",
            level="MUST",
            statement="A status set by PUT is the status later reads return.",
            quote="Only draft SMS activities can be modified.",
            source="https://developer.close.com/api/resources/activities/sms/update",
            checked=7,
        ),
        RuleResult(
            id="sms/list/default-order",
            status="informational",
            level="unspecified",
            statement="The order of an unfiltered list.",
            quote="",
            source="assumed",
            checked=3,
            observations=["newest first by date_created", "ties broken by id <asc>"],
        ),
        RuleResult(
            id="sms/webhook/delivered",
            status="not-run",
            level="SHOULD",
            statement="A webhook fires when an SMS is delivered.",
            quote="",
            source="https://developer.close.com/api/overview/webhooks",
            reason="no webhook receiver configured",
        ),
    ]
    return RunReport(
        verdict="fail",
        seed=12345,
        target=TARGET,
        profile="quick",
        rules=rules,
        failures=[FAILURE],
        stats=RunStats(
            requests=120,
            duration=3.5,
            steps=60,
            examples=20,
            transient_errors=1,
            rate_limited=2,
        ),
        reason="1 MUST rule failed",
        started_at="2026-09-01T10:00:00Z",
    )


@pytest.fixture
def report() -> RunReport:
    return make_report()


@pytest.fixture
def failure() -> Failure:
    """The 3-step failure: POST create, PUT, GET, the last two naming the created id."""
    return FAILURE


@pytest.fixture
def sample() -> SimpleNamespace:
    """The constants the fixtures are built from (test modules cannot import conftest)."""
    return SimpleNamespace(
        TARGET=TARGET,
        SMS_ID=SMS_ID,
        LEAD_ID=LEAD_ID,
        FAKE_SECRETS=FAKE_SECRETS,
        XSS_TEXT=XSS_TEXT,
        FAILURE=FAILURE,
    )
