"""The schema phase judges the SMS endpoints only, with the checks a documented rule backs.

Each test runs the phase against the reference server wrapped by a small ASGI layer that
makes one choice the docs leave open (a conforming variant: no failure allowed), and, where
the same check still guards a documented rule, against a faulty variant it must still catch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from conformance.schema_phase import run_schema_phase
from conformance.target import embedded_target

SMALL = 5  # max_examples for the fast runs

Answer = tuple[int, dict[str, str], bytes]


class Variant:
    """The reference server's ASGI app with one behaviour changed.

    ``before(method, path, query, headers, body)`` may answer a request itself (return an
    :data:`Answer`) or hand the server another body (return bytes);
    ``after(method, path, query, answer)`` may rewrite the server's answer.
    ``seen`` notes every request as (method, path, query)."""

    def __init__(
        self,
        app: Any,
        *,
        before: Callable[..., Answer | bytes | None] | None = None,
        after: Callable[..., Answer] | None = None,
    ) -> None:
        self.app = app
        self.before = before
        self.after = after
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode()
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        self.seen.append((method, path, query))
        answer = self.before(method, path, query, headers, body) if self.before else None
        if isinstance(answer, bytes):
            body, answer = answer, None
        if answer is None:
            answer = await self._handle(scope, body)
            if self.after is not None:
                answer = self.after(method, path, query, answer)
        status, out_headers, content = answer
        out_headers = {k: v for k, v in out_headers.items() if k != "content-length"}
        out_headers["content-length"] = str(len(content))
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in out_headers.items()],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": content})

    async def _handle(self, scope: dict, body: bytes) -> Answer:
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        if any(k == b"content-length" for k, _ in scope.get("headers", [])):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        start: dict = {}
        parts: list[bytes] = []

        async def collect(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, replay, collect)
        headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        return start["status"], headers, b"".join(parts)


def run_variant(
    *,
    faults: tuple[str, ...] = (),
    before: Callable[..., Answer | bytes | None] | None = None,
    after: Callable[..., Answer] | None = None,
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing"),
    max_examples: int = SMALL,
) -> tuple[Any, Variant]:
    """The schema phase's result against the (faulty) reference server seen through a
    :class:`Variant`, and the variant (its ``seen`` requests)."""
    target = embedded_target(faults=faults)
    target.discover()
    variant = Variant(target.server.app, before=before, after=after)
    target.server.app = variant
    try:
        result = run_schema_phase(target, seed=1, max_examples=max_examples, phases=phases)
    finally:
        target.close()
    return result, variant


def failed_rules(result: Any) -> set[str]:
    return {failure.rule for failure in result.failures} | {
        finding.rule for finding in result.findings if not finding.ok
    }


# -- item 8: the SMS endpoints only ------------------------------------------------------------

FIXTURE_PATHS = ("/me/", "/phone_number/", "/lead/", "/sms_template/")


def lenient_fixture_lists(method, path, query, headers, body) -> Answer | None:
    """Fixture lists that ignore a _skip or _limit that is no integer (answer 200)."""
    odd = re.search(r"(^|&)_(skip|limit)=(?![0-9]+(&|$))", query)
    if method == "GET" and path.endswith(FIXTURE_PATHS[1:]) and odd:
        return 200, {"content-type": "application/json"}, b'{"data": [], "has_more": false}'
    return None


@pytest.mark.slow
def test_the_schema_phase_sends_fixture_endpoints_nothing_and_judges_none_of_them():
    result, variant = run_variant(before=lenient_fixture_lists)
    assert result.failures == [] and all(finding.ok for finding in result.findings)
    paths = {path for _, path, _ in variant.seen}
    assert any(path.startswith("/api/v1/activity/sms/") for path in paths)
    assert not [p for p in paths if not p.startswith("/api/v1/activity/sms/")]


# -- P5: 405 without Allow, and methods nobody documents ----------------------------------------


def rfc_methods(method, path, query, headers, body) -> Answer | None:
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        return 501, {"content-type": "text/plain"}, b"Not Implemented"
    return None


def no_allow_header(method, path, query, answer: Answer) -> Answer:
    status, headers, body = answer
    return status, {k: v for k, v in headers.items() if k != "allow"}, body


def test_a_405_without_allow_and_501_for_unknown_methods_give_no_failure():
    result, variant = run_variant(before=rfc_methods, after=no_allow_header, phases=("coverage",))
    assert result.failures == [] and all(finding.ok for finding in result.findings)
    methods = {method for method, _, _ in variant.seen}
    assert "PATCH" in methods  # undeclared methods of the API are still sent...
    assert not methods - {"GET", "POST", "PUT", "PATCH", "DELETE"}  # ...and no others
    assert any(f.rule == "protocol/method-not-allowed" for f in result.findings)


@pytest.mark.slow
def test_patch_answered_404_without_allow_is_still_caught_as_not_405():
    result, _ = run_variant(faults=("patch-answers-404",), after=no_allow_header)
    assert "protocol/method-not-allowed" in {failure.rule for failure in result.failures}


# -- O3: dates as the model reads them ------------------------------------------------------------

OFFSET = re.compile(
    rb'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)\+00:00"'
)


def dates_as(replacement: bytes) -> Callable[..., Answer]:
    def rewrite(method, path, query, answer: Answer) -> Answer:
        status, headers, body = answer
        return status, headers, OFFSET.sub(b'"\\1' + replacement + b'"', body)

    return rewrite


@pytest.mark.parametrize("offset", [b"", b"+0000", b"Z"], ids=["naive", "+0000", "Z"])
def test_dates_without_an_offset_or_with_a_basic_one_give_no_failure(offset):
    result, _ = run_variant(after=dates_as(offset), phases=("examples",))
    assert result.failures == [] and all(finding.ok for finding in result.findings)
    assert any(f.rule == "sms/object/schema" for f in result.findings)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["dates-without-t", "date-sent-http-date"])
def test_dates_the_model_cannot_read_are_still_caught(fault):
    result, _ = run_variant(faults=(fault,))
    assert "sms/object/schema" in {failure.rule for failure in result.failures}


def test_the_document_gives_response_dates_no_rfc3339_format_and_the_model_reads_them():
    from conformance.model import parse_datetime
    from conformance.openapi import load_openapi
    from conformance.schema_phase import SMS_DATES

    properties = load_openapi()["components"]["schemas"]["SMSActivity"]["properties"]
    for name in SMS_DATES:
        assert "format" not in properties[name], name
    for value in ("2022-09-26T15:08:03.402869", "2016-10-03T16:06:11.167000+00:00",
                  "2016-10-03T16:06:11.167000+0000"):  # fmt: skip
        assert parse_datetime(value) is not None, value


# -- P7: a refusal only where a documented type, enum or required field demands one -----------


def lenient_about_what_the_docs_leave_open(method, path, query, headers, body) -> bytes | None:
    """A server that ignores what the catalogue leaves open on a create or PUT: a send_in off
    outbox or below 0, and a date field it cannot read (dropped, as if never given) while
    the status is not scheduled."""
    from conformance.model import parse_datetime

    if method not in ("POST", "PUT") or not path.startswith("/api/v1/activity/sms/"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    send_in = data.get("send_in")
    if "send_in" in data and (data.get("status") != "outbox" or (
        isinstance(send_in, int | float) and not isinstance(send_in, bool) and send_in < 0
    )):  # fmt: skip
        del data["send_in"]
    for name in ("activity_at", "date_created", "date_scheduled"):
        value = data.get(name)
        needed = name == "date_scheduled" and data.get("status") == "scheduled"
        if isinstance(value, str) and parse_datetime(value) is None and not needed:
            del data[name]
    return json.dumps(data).encode()


@pytest.mark.slow
def test_a_server_ignoring_what_the_docs_leave_open_in_a_body_gives_no_failure():
    result, _ = run_variant(before=lenient_about_what_the_docs_leave_open)
    assert result.failures == [] and all(finding.ok for finding in result.findings)
    assert any(f.rule == "protocol/invalid-input-rejected" for f in result.findings)


@pytest.mark.slow
def test_the_same_server_also_ignoring_a_text_of_a_wrong_type_is_caught():
    def also_wrong_text(method, path, query, headers, body) -> bytes | None:
        lenient = lenient_about_what_the_docs_leave_open(method, path, query, headers, body)
        if lenient is None:
            return None
        data = json.loads(lenient)
        if "text" in data and not isinstance(data["text"], str | None):
            del data["text"]  # a number or a list as text: accepted as if never given
        return json.dumps(data).encode()

    result, _ = run_variant(before=also_wrong_text)
    assert "protocol/invalid-input-rejected" in {failure.rule for failure in result.failures}


@pytest.mark.parametrize(
    ("request_", "broken"),
    [
        (("POST", "/activity/sms/", "", {"status": "draft", "send_in": -1}), False),
        (("POST", "/activity/sms/", "", {"status": "inbox", "send_in": 75}), False),
        (("POST", "/activity/sms/", "", {"status": "inbox", "date_scheduled": "soon"}), False),
        (("POST", "/activity/sms/", "", {"status": "inbox", "activity_at": "2026-13-45"}), False),
        (("GET", "/activity/sms/", "date_created__gt=yesterday&send_to_inbox=yes", None), False),
        (("POST", "/activity/sms/", "", "not json"), False),
        (("POST", "/activity/sms/", "", {"status": "unknown"}), True),
        (("POST", "/activity/sms/", "", {"text": "no status"}), True),
        (("POST", "/activity/sms/", "", {"status": "draft", "text": 5}), False),  # audit C4
        (("POST", "/activity/sms/", "", {"status": "draft", "text": [5]}), True),
        (("POST", "/activity/sms/", "", {"status": "draft", "attachments": [{"url": "u"}]}), True),
        (("POST", "/activity/sms/", "", None), True),
        (("PUT", "/activity/sms/{id}/", "", {"status": "nope"}), True),
        (("PUT", "/activity/sms/{id}/", "", {}), False),
        (("GET", "/activity/sms/", "_limit=abc", None), True),
        (("GET", "/activity/sms/", "_skip=null", None), True),
        (("GET", "/activity/sms/", "_limit=10&_skip=0", None), False),
    ],
)
def test_a_request_must_be_refused_only_where_it_breaks_a_documented_type_enum_or_required(
    request_, broken
):
    from conformance.schema_phase import _Refusals

    method, path, query, body = request_
    raw = body if isinstance(body, str) else None if body is None else json.dumps(body)
    assert _Refusals().broken(method, path, query, raw) is broken


# -- P9: noise never judged, probes included ---------------------------------------------------


def test_probes_meeting_a_429_or_a_503_are_never_judged():
    import base64

    target = embedded_target()
    target.discover()
    key = target.api.credentials.api_key
    good = "Basic " + base64.b64encode(f"{key}:".encode()).decode()

    limited: list[str] = []

    def limiter(method, path, query, headers, body) -> Answer | None:
        if headers.get("authorization") == good:
            return None
        if method == "POST":
            limited.append("429")
            return 429, {"retry-after": "0"}, b""
        limited.append("503")
        return 503, {"content-type": "text/plain"}, b"unavailable"

    variant = Variant(target.server.app, before=limiter)
    target.server.app = variant
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
    finally:
        target.close()
    assert {"429", "503"} <= set(limited)  # ignored_auth's probes met the limiter
    assert result.failures == [] and all(finding.ok for finding in result.findings)


def test_a_server_ignoring_credentials_is_still_caught_behind_a_quiet_limiter():
    result, _ = run_variant(faults=("missing-credentials-accepted",), phases=("examples",))
    assert "auth/missing-rejected" in {failure.rule for failure in result.failures}


def test_sms_answers_of_429_without_a_body_are_never_judged():
    def throttled_reads(method, path, query, headers, body) -> Answer | None:
        if method == "GET" and path.startswith("/api/v1/activity/sms/acti_"):
            return 429, {"retry-after": "0"}, b""
        return None

    result, variant = run_variant(before=throttled_reads, phases=("examples", "coverage"))
    assert any(
        m == "GET" and p.startswith("/api/v1/activity/sms/acti_") for m, p, _ in variant.seen
    )
    assert result.failures == [] and all(finding.ok for finding in result.findings)


# -- P3: bodies the docs leave open ----------------------------------------------------------------


def plain_error_pages(method, path, query, answer: Answer) -> Answer:
    """404, 405 and 415 answered with a framework's text page; creates of sent SMS refused
    402 (plan limit) with one too."""
    status, headers, body = answer
    if status in (404, 405, 415) or (method == "POST" and status == 200 and b'"sent"' in body):
        code = status if status != 200 else 402
        return code, {"content-type": "text/plain; charset=utf-8"}, b"Error"
    return answer


@pytest.mark.slow
def test_text_bodies_on_402_404_405_and_415_give_no_failure():
    result, _ = run_variant(after=plain_error_pages, phases=("examples", "coverage"))
    assert result.failures == [] and all(finding.ok for finding in result.findings)


def test_a_body_that_is_no_json_is_filed_under_the_content_type_rule_not_the_schema():
    from types import SimpleNamespace

    from schemathesis.openapi.checks import MissingContentType

    from conformance.schema_phase import _rule_for

    failure = MissingContentType(operation="GET /activity/sms/{id}/", message="", media_types=[])
    for status in (200, 400, 429):
        answer = SimpleNamespace(status_code=status)
        sms_get = SimpleNamespace(method="GET")
        assert _rule_for("response_schema_conformance", sms_get, answer, failure) == (
            "protocol/json-content-type"
        )


# -- every check the phase runs is filed under a rule a documented sentence backs ----------------


def test_every_rule_a_check_is_filed_under_quotes_a_documented_sentence():
    from conformance.catalogue import CATALOGUE, Level
    from conformance.schema_phase import _SKIPS, CHECK_RULES

    filed = {
        *CHECK_RULES.values(),
        "protocol/error-body",
        "auth/error-body",
        "auth/wrong-rejected",
        "sms/delete/answers-200-empty",
    }
    assert set(_SKIPS) == set(CHECK_RULES)  # every check run has a rule
    for rule in filed:
        assert CATALOGUE[rule].level in (Level.MUST, Level.SHOULD), rule
        assert CATALOGUE[rule].quote, rule


@pytest.mark.parametrize(
    "body",
    [
        {"status": "draft", "text": 12345},
        {"status": "draft", "direction": ""},
        {"status": "outbox", "text": "hi", "send_in": "5"},
        {"status": "draft", "activity_at": 1700000000},
    ],
)
def test_a_value_a_server_may_read_either_way_is_no_refusal_the_docs_demand(body):
    # Audit C4, C11: coercing 12345 to "12345", "" to null, "5" to 5 seconds is allowed.
    from conformance.schema_phase import _Refusals

    refusals = _Refusals()
    assert not refusals.broken("POST", "/activity/sms/", "", json.dumps(body))
    wrong = {**body, "text": ["a list"]}
    assert refusals.broken("POST", "/activity/sms/", "", json.dumps(wrong))
