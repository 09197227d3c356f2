"""Accept or reject: does the server's answer fall among those the model allows?

The model names the rule that decides each request (a create with ``send_in`` = 60 is
decided by ``sms/create/send-in-below-60``); this check compares the answer's class with
it. Where the docs are silent the model allows both, and the answer is only observed.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import Finding, Step, check
from conformance.model import SENDING, text_forms
from conformance.rules._util import in_last_second, shown, status_text

DECIDING_RULES = (
    "protocol/no-5xx",
    "protocol/invalid-input-rejected",
    "sms/create/loose-type",
    "sms/create/date-spelling",
    "sms/update/date-spelling",
    "sms/update/loose-type",
    "sms/create/attachment-foreign-url",
    "sms/create/direction-explicit",
    "sms/update/attachment-foreign-url",
    "sms/create/status-inbox",
    "sms/create/status-draft",
    "sms/create/status-scheduled",
    "sms/create/status-outbox",
    "sms/create/status-sent",
    "sms/create/status-required",
    "sms/create/status-unknown-rejected",
    "sms/create/status-error",
    "sms/create/scheduled-requires-date-scheduled",
    "sms/create/send-in-below-60",
    "sms/create/send-in-accepted",
    "sms/create/send-in-invalid-type",
    "sms/create/send-in-negative",
    "sms/create/send-in-fraction",
    "sms/create/send-in-other-status",
    "sms/create/local-phone-required",
    "sms/create/local-phone-internal",
    "sms/create/local-phone-logging",
    "sms/create/phone-malformed",
    "sms/create/template-unknown-rejected",
    "isolation/foreign-reference",
    "sms/create/template-and-text",
    "sms/create/empty-send",
    "sms/create/attachment-invalid",
    "sms/update/drafts-only",
    "sms/update/draft-edit",
    "sms/update/draft-to-scheduled",
    "sms/update/draft-to-outbox",
    "sms/update/scheduled-requires-date-scheduled",
    "sms/update/draft-to-other-status",
    "sms/update/cancel-scheduled",
    "sms/update/cancel-outbox",
    "sms/update/cancel-refused-after-send",
    "sms/update/cancel-with-edits",
    "sms/update/empty-send",
    "sms/update/unknown-id-404",
    "sms/get/returns-object",
    "sms/get/unknown-id-404",
    "sms/delete/answers-200-empty",
    "sms/delete/then-get-404",
    "sms/delete/unknown-id-404",
)
NOT_FOUND_RULES = frozenset(
    {
        "sms/update/unknown-id-404",
        "sms/get/unknown-id-404",
        "sms/delete/then-get-404",
        "sms/delete/unknown-id-404",
    }
)


@check(*DECIDING_RULES, on=("create", "update", "get", "delete"))
def answer_is_among_those_the_docs_allow(step: Step) -> Iterator[Finding]:
    expectation = step.expectation
    code = step.status_code
    if expectation is None or code is None or code >= 500:
        return  # a 5xx is protocol/no-5xx's to report
    if code == 401 and step.exchange.request.auth in ("basic", "bearer"):
        return  # valid credentials refused: the auth rules' to report
    accepted = 200 <= code < 300
    if expectation.accept is None:
        # Either answer is allowed. On an unspecified rule the answer is worth reporting
        # (ok=False makes it an observation); on a documented one it simply holds.
        yield Finding(
            expectation.rule,
            CATALOGUE[expectation.rule].level is not Level.UNSPECIFIED,
            expected="not documented",
            actual=f"{status_text(code)} {shown(step.body)}",
            message=f"{step.operation}: {expectation.note or 'the docs leave this open'}; "
            f"request {shown(step.request_body)}",
            reading=expectation.readings[0 if accepted else 1],
        )
        return
    if expectation.rule in NOT_FOUND_RULES:
        yield Finding(expectation.rule, code == 404, "HTTP 404", status_text(code))
        return
    if expectation.accept:
        expected = "a 2xx success"
    else:
        where = f" naming {expectation.field!r}" if expectation.field else ""
        expected = f"a 4xx rejection{where}"
    yield Finding(
        expectation.rule,
        accepted == expectation.accept and (accepted or 400 <= code < 500),
        expected=expected,
        actual=f"{status_text(code)} {shown(step.body)}",
        message=f"{step.operation} with {shown(step.request_body)}",
        boundary=_boundary(step, expectation.rule),
    )


SEND_IN_EDGES = {
    "sms/create/send-in-accepted": (0, 59),
    "sms/create/send-in-below-60": (60,),
}
CANCELS = ("sms/update/cancel-scheduled", "sms/update/cancel-outbox")


def _boundary(step: Step, rule: str) -> str | None:
    """The boundary case of ``rule`` the request sat on: a whole ``send_in`` at either edge
    of the documented range, a cancel in the last second before the SMS was due, a scheduled
    create whose date_scheduled is missing or null, a PUT on a non-draft by what it asks
    (the status x PUT-body matrix)."""
    request = step.request_body if isinstance(step.request_body, dict) else {}
    record = step.record
    if rule in SEND_IN_EDGES:
        send_in = request.get("send_in")
        if type(send_in) is int and send_in in SEND_IN_EDGES[rule]:
            return f"send_in={send_in}"
        if rule == "sms/create/send-in-below-60" and isinstance(send_in, str):
            return "send_in a string that spells 60 or more"
    if rule in CANCELS and record is not None and in_last_second(record, step):
        return "a cancel in the last second before due"
    if rule == "sms/create/scheduled-requires-date-scheduled" and request.get("status") == (
        "scheduled"
    ):
        if "date_scheduled" not in request:
            return "date_scheduled missing"
        return "date_scheduled null" if request["date_scheduled"] is None else None
    if rule == "sms/update/drafts-only" and record is not None and record.status != "draft":
        if "status" not in request:
            return "a non-draft edited without a status"
        if request["status"] != "draft":
            pending = record.status in SENDING
            return (
                f"a {'pending SMS' if pending else 'non-draft'} moved to a status other than draft"
            )
    return None


@check("sms/create/answers-200", on=("create",))
def create_answers_200(step: Step) -> Iterator[Finding]:
    if step.succeeded:
        yield Finding(
            "sms/create/answers-200",
            step.status_code == 200,
            "HTTP 200",
            status_text(step.status_code),
        )


@check("sms/delete/answers-200-empty", on=("delete",))
def delete_answers_200_with_an_empty_object(step: Step) -> Iterator[Finding]:
    if step.expectation is None or not step.expectation.accept or not step.succeeded:
        return
    yield Finding(
        "sms/delete/answers-200-empty",
        step.status_code == 200 and step.body in ({}, None, ""),
        expected="HTTP 200 with {}",
        actual=f"{status_text(step.status_code)} {shown(step.body)}",
    )


@check(
    "isolation/get",
    "isolation/modify",
    "isolation/list",
    on=("isolation-get", "isolation-modify", "isolation-list"),
)
def one_organisation_never_sees_another(step: Step) -> Iterator[Finding]:
    code = step.status_code
    if code is None:
        return
    if step.operation == "isolation-list":
        ours = set(step.params.get("id__in", "").split(","))
        leaked = (
            [
                item.get("id")
                for item in (step.body or {}).get("data", [])
                if isinstance(item, dict) and item.get("id") in ours
            ]
            if isinstance(step.body, dict) and isinstance(step.body.get("data"), list)
            else []
        )
        yield Finding(
            "isolation/list", not leaked, "none of the first organisation's SMS", f"listed {leaked}"
        )
        return
    rule = "isolation/get" if step.operation == "isolation-get" else "isolation/modify"
    yield Finding(
        rule, code in (401, 403, 404), "HTTP 403 or 404", f"{status_text(code)} {shown(step.body)}"
    )


@check("protocol/documented-status-code", on=("get", "update", "list", "list-walk"))
def success_is_answered_200(step: Step) -> Iterator[Finding]:
    """Reads, updates and lists document 200 as their one success code (1.1)."""
    for exchange in step.exchanges:
        response = exchange.response
        if response is not None and 200 <= response.status_code < 300:
            yield Finding(
                "protocol/documented-status-code",
                response.status_code == 200,
                "HTTP 200",
                status_text(response.status_code),
                message=f"{exchange.request.method} {exchange.request.path}",
            )


def _is(text: object, written: object) -> bool:
    return isinstance(written, str) and (text == written or text in text_forms(written))


@check("sms/create/template-and-text", on=("create",))
def a_create_with_a_template_and_a_text_shows_which_won(step: Step) -> Iterator[Finding]:
    """A create giving both a template_id and a text, once accepted, shows by its text whether
    the template was rendered over the text (``template-wins``) or the text kept
    (``text-wins``): both are documented-compatible (the refusal is told by the answer)."""
    expectation, request = step.expectation, step.request_body
    if expectation is None or expectation.rule != "sms/create/template-and-text":
        return
    if not step.succeeded or not isinstance(step.body, dict) or not isinstance(request, dict):
        return
    given, rendered = request.get("text"), step.model.fixtures.rendered_template
    if request.get("template_id") != step.model.fixtures.template_id or _is(given, rendered):
        return  # not the fixture's template, or the two texts alike: nothing to tell
    if request.get("contact_id") != step.model.fixtures.contact_id:
        return  # rendered for another contact: the rendering is not known
    shown_text = step.body.get("text")
    if _is(shown_text, rendered):
        reading = "template-wins"
    elif _is(shown_text, given):
        reading = "text-wins"
    else:
        return
    yield Finding(
        "sms/create/template-and-text",
        False,
        "not documented",
        f"text = {shown(shown_text)}",
        message=f"create with template_id and text {shown(given)}",
        reading=f"template-and-text={reading}",
    )


@check(
    "sms/update/cancel-with-edits",
    "sms/update/cancel-scheduled",
    "sms/update/cancel-outbox",
    on=("update",),
)
def a_cancel_with_edits_shows_what_was_done(step: Step) -> Iterator[Finding]:
    """A PUT that cancels a pending SMS (status draft) and edits its text at once may be
    refused or taken; taken, the SMS must be a draft (1.3 rule 3, "can be cancelled by
    setting status back to draft"), and its text shows whether the edit was stored too
    (``both``) or ignored (``cancel-only``)."""
    expectation, request, record = step.expectation, step.request_body, step.record
    if expectation is None or expectation.rule != "sms/update/cancel-with-edits":
        return
    if not step.succeeded or not isinstance(step.body, dict) or not isinstance(request, dict):
        return
    if record is None or record.status not in SENDING:
        return
    if record.is_pending(step.window, step.model.timing):
        shown_status = step.body.get("status")
        rule = f"sms/update/cancel-{record.status}"
        yield Finding(
            rule,
            shown_status == "draft",
            expected="status draft",
            actual=f"status {shown(shown_status)}",
            message=f"SMS {record.id} cancelled and edited at once with {shown(request)}",
            boundary=_boundary(step, rule),
        )
    before, given = record.written.get("text"), request.get("text")
    if "text" not in request or "text" not in record.written or record.text_choices is not None:
        return  # no text edit, or the text before is not known
    if _is(given, before) or _is(before, given):
        return  # the edit changes nothing: nothing to tell
    shown_text = step.body.get("text")
    if _is(shown_text, given):
        reading = "both"
    elif _is(shown_text, before):
        reading = "cancel-only"
    else:
        return
    yield Finding(
        "sms/update/cancel-with-edits",
        False,
        "not documented",
        f"text = {shown(shown_text)}",
        message=f"SMS {record.id} cancelled and edited at once with {shown(request)}",
        reading=f"cancel-and-edit={reading}",
    )
