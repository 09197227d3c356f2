"""Failures whose check rendered the answer's body cut at 200 characters, the field that
matters past the cut: shared by the tests of :mod:`conformance.explain` and of each writer."""

from __future__ import annotations

from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.rules._util import shown

SMS_ID = "acti_000000bjqrGR0UdPLRtzIWCPlLcgfhKStDC2l8zR0Sg"


def sms(**fields: object) -> dict[str, object]:
    """A whole SMS object, as long as a real one: sorted, ``status`` is far past 200 chars."""
    body: dict[str, object] = {
        "_type": "SMS",
        "id": SMS_ID,
        "activity_at": "2028-06-20T12:00:00.000000+00:00",
        "agent_action_reason": None,
        "agent_config_id": None,
        "attachments": [],
        "caller_id_mode": None,
        "caller_id_reason": None,
        "contact_id": None,
        "created_by": "user_reference_a",
        "date_created": "2028-06-20T12:00:00.000000+00:00",
        "date_updated": "2028-06-20T12:00:00.000000+00:00",
        "direction": "outbound",
        "lead_id": None,
        "local_phone": "+16503335550",
        "remote_phone": "+12015550123",
        "status": "sent",
        "text": "",
        "updated_by": "user_reference_a",
    }
    body.update(fields)
    return body


def exchange(method: str, path: str, body: object, code: int, answer: object, at: str) -> Exchange:
    return Exchange(
        RecordedRequest(method, path, {}, body),
        RecordedResponse(code, {"content-type": "application/json"}, answer),
        elapsed=0.01,
        sent_at=at,
    )


CREATE_SENT = exchange(
    "POST",
    "activity/sms/",
    {"status": "sent", "local_phone": "+16503335550", "remote_phone": "+12015550123", "text": ""},
    200,
    sms(),
    "2028-06-20T12:00:00+00:00",
)
EDIT_SENT = exchange(
    "PUT",
    f"activity/sms/{SMS_ID}/",
    {"text": "0"},
    200,
    sms(text="0", date_updated="2028-06-20T12:00:01.000000+00:00"),
    "2028-06-20T12:00:01+00:00",
)


def drafts_only_failure() -> Failure:
    """As the engine records an edit of a sent SMS that was accepted: the check's actual
    is the answer's body, sorted and cut at 200 characters."""
    body = EDIT_SENT.response.body  # type: ignore[union-attr]
    return Failure(
        rule="sms/update/drafts-only",
        message='Only draft SMS can be modified. update with {"text": "0"}',
        expected="a 4xx rejection",
        actual=f"HTTP 200 {shown(body)}",
        steps=(CREATE_SENT, EDIT_SENT),
    )
