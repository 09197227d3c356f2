"""What a failure shows a reader: the fields that differ, never a cut body.

A check says what it expected and what it got (``Failure.expected`` / ``actual``); where
that was an answer's body it is cut to a couple of hundred characters, sorted by key, so
the field that matters (``"status": "sent"``) is usually past the cut. Every writer (the
CLI's FAIL line, the HTML report, the JUnit message, the pytest plugin) tells a failure
through :func:`explain` instead, which goes back to the recorded answer and shows:

- the check's expected and actual, an embedded body replaced by what matters of it (an
  SMS's ``status``, an error body's messages in full, a page's size);
- the fields that differ, expected against actual: for a request that had to be refused,
  every field the answer changed on the SMS; otherwise every field the request set that
  reads back otherwise; the HTTP status when it is not the one expected;
- the SMS as last seen before the request (its ``status`` always), from the transcript;
- for a timing rule (``sms/send/...``), when the SMS was due and when it was seen.

Pure: it reads the failure's recorded steps only (no model, no I/O), so a failure read
back from a saved ``report.json`` is told the same way.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from conformance.records import Exchange, Failure

__all__ = ["Difference", "Explanation", "compact_json", "explain", "format_elapsed", "render_value"]

#: Fields every accepted write changes; never a difference worth telling.
BOOKKEEPING = frozenset({"date_updated", "updated_by", "updated_by_name"})
#: How long a string value may be before it is shortened (its length is then said).
LONG_STRING = 120
#: How long a nested value (list, object) may be rendered before it is shortened.
LONG_VALUE = 300
# A status in a check's expected: a class ("a 4xx rejection") or codes after "HTTP"
# ("HTTP 403 or 404"); a bare number ("at most 250") is no status.
_STATUS_CLASS = re.compile(r"\b([2-5]xx)\b")
_STATUS_CODES = re.compile(r"\bHTTP ([1-5]\d\d(?:(?:, | or )[1-5]\d\d)*)\b")
_SMS_PATH = re.compile(r"^/?activity/sms/([^/?]+)/")
_MISSING = object()


def compact_json(value: Any) -> str:
    """``value`` as one line of JSON, keys sorted (how checks render bodies)."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def format_elapsed(seconds: float) -> str:
    """A step's measured time, readable at any size: ``0.42 ms``, ``12.3 ms``, ``1.250 s``
    (an in-process step takes well under a millisecond, which ``0.000 s`` would hide)."""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:.2f} ms"


def render_value(value: Any) -> str:
    """One field's value as JSON, a long string shortened with its length said; never
    another field's place taken."""
    if value is _MISSING:
        return "(absent)"
    if isinstance(value, str) and len(value) > LONG_STRING:
        return json.dumps(value[:LONG_STRING], ensure_ascii=False)[:-1] + f'…" ({len(value)} chars)'
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= LONG_VALUE else text[: LONG_VALUE - 1] + "…"


def _render_object(value: dict[str, Any]) -> str:
    """Every key of ``value``, in its own order, each value rendered by :func:`render_value`."""
    return "{" + ", ".join(f"{json.dumps(k)}: {render_value(v)}" for k, v in value.items()) + "}"


@dataclass(frozen=True, slots=True)
class Difference:
    """One field: what the rule allowed there (or what it was before) and what it is."""

    field: str
    expected: str
    actual: str

    def text(self) -> str:
        return f"{self.field} expected {self.expected}, got {self.actual}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a reader needs of one failure; see the module's docstring."""

    rule: str
    expected: str
    actual: str
    request: str = ""  # "PUT activity/sms/acti_1/ {"text": "0"}"
    differences: tuple[Difference, ...] = ()
    before: tuple[tuple[str, str], ...] = ()  # the SMS as last seen before the request
    before_step: int | None = None  # the (1-based) step it was last seen in
    timing: tuple[tuple[str, str], ...] = ()  # ("due", ...), ("seen", ...)

    def line(self) -> str:
        """One line: the request, expected and actual, the differing fields, the SMS
        before, the timing. Nothing in it is cut but long string values."""
        parts = [f"expected {self.expected}; got {self.actual}"]
        told = [d for d in self.differences if not _said(d, self.actual)]
        if told:
            parts.append("differs: " + "; ".join(d.text() for d in told))
        if self.before:
            parts.append("before: " + _pairs(self.before))
        if self.timing:
            parts.append(_pairs(self.timing, sep=" "))
        head = f"{self.request}: " if self.request else ""
        return head + "; ".join(parts)

    def lines(self) -> list[str]:
        """The same, a line per item (JUnit's text, the pytest output)."""
        lines = [f"expected: {self.expected}", f"actual:   {self.actual}"]
        if self.request:
            lines.append(f"request:  {self.request}")
        if self.before:
            where = f" (step {self.before_step})" if self.before_step else ""
            lines.append(f"before{where}: {_pairs(self.before)}")
        if self.differences:
            lines.append("differs:")
            lines.extend(
                f"  {d.field}: expected {d.expected}, got {d.actual}" for d in self.differences
            )
        for name, value in self.timing:
            lines.append(f"{name}: {value}")
        return lines


def _said(difference: Difference, actual: str) -> bool:
    """The status row, when ``actual`` already names the status."""
    return difference.field == "HTTP status" and f"HTTP {difference.actual}" in actual


def _pairs(pairs: tuple[tuple[str, str], ...], sep: str = " ") -> str:
    return ", ".join(f"{name}{sep}{value}" for name, value in pairs)


def explain(failure: Failure) -> Explanation:
    """Tell ``failure`` by what differs (see the module's docstring)."""
    if not failure.steps:
        return Explanation(failure.rule, failure.expected, failure.actual)
    last = failure.steps[-1]
    response = last.response
    body = response.body if response is not None else None
    code = response.status_code if response is not None else None
    asked = last.request.body if isinstance(last.request.body, dict) else {}
    sms_id = _target_id(last, body)
    seen = _last_seen(failure.steps[:-1], sms_id) if sms_id else None
    before_step, before = seen if seen is not None else (None, None)
    expected_codes = _expected_statuses(failure.expected)
    refusal_expected = bool(expected_codes) and all(c.startswith("4") for c in expected_codes)

    differences: list[Difference] = []
    if code is not None and expected_codes and not any(_matches(c, code) for c in expected_codes):
        differences.append(Difference("HTTP status", " or ".join(expected_codes), str(code)))
    if _is_sms(body):
        if before is not None and refusal_expected:
            fields = [f for f in dict.fromkeys([*before, *body]) if f not in BOOKKEEPING]
            for name in fields:
                was, now = before.get(name, _MISSING), body.get(name, _MISSING)
                if was != now:
                    differences.append(Difference(name, render_value(was), render_value(now)))
        else:
            for name, value in asked.items():
                now = body.get(name, _MISSING)
                if now is not _MISSING and now != value:
                    differences.append(Difference(name, render_value(value), render_value(now)))

    shown_before: tuple[tuple[str, str], ...] = ()
    if before is not None:
        names = ["status", *(d.field for d in differences), *asked]
        shown_before = tuple(
            (name, render_value(before[name])) for name in dict.fromkeys(names) if name in before
        )
    return Explanation(
        rule=failure.rule,
        expected=failure.expected,
        actual=_actual(failure.actual, body, code),
        request=_request_text(last),
        differences=tuple(differences),
        before=shown_before,
        before_step=before_step,
        timing=_timing(failure, sms_id) if failure.rule.startswith("sms/send/") else (),
    )


def _expected_statuses(expected: str) -> list[str]:
    """The statuses (``"4xx"``, ``"404"``) a check's expected names."""
    codes = [*_STATUS_CLASS.findall(expected)]
    for group in _STATUS_CODES.findall(expected):
        codes.extend(re.findall(r"\d{3}", group))
    return codes


def _matches(expected: str, code: int) -> bool:
    return str(code) == expected or (expected.endswith("xx") and str(code)[0] == expected[0])


def _is_sms(body: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(body, dict) and "id" in body and ("status" in body or "_type" in body)


def _target_id(exchange: Exchange, body: Any) -> str | None:
    """The SMS the last request is about: the one in its path, else the one it created."""
    match = _SMS_PATH.match(exchange.request.path)
    if match:
        return match.group(1)
    if exchange.request.method == "POST" and _is_sms(body):
        return str(body["id"])
    return None


def _last_seen(steps: tuple[Exchange, ...], sms_id: str) -> tuple[int, dict[str, Any]] | None:
    """The SMS ``sms_id`` as the latest answer before the last request showed it whole
    (a create, an accepted update, a read, a page), with its 1-based step."""
    for index in range(len(steps) - 1, -1, -1):
        response = steps[index].response
        if response is None or not 200 <= response.status_code < 300:
            continue
        body = response.body
        candidates = body.get("data") if isinstance(body, dict) and "data" in body else [body]
        for item in candidates if isinstance(candidates, list) else []:
            if _is_sms(item) and item.get("id") == sms_id:
                return index + 1, item
    return None


def _request_text(exchange: Exchange) -> str:
    request = exchange.request
    text = f"{request.method} {request.path.lstrip('/')}"
    if isinstance(request.body, dict):
        text += " " + _render_object(request.body)
    elif request.body is not None:
        text += " " + render_value(request.body)
    return text


def _actual(actual: str, body: Any, code: int | None) -> str:
    """The check's ``actual``, an embedded (maybe cut) rendering of ``body`` replaced by
    what matters of it."""
    if body is None:
        return actual
    rendered = compact_json(body)
    start = _embedded_at(actual, rendered)
    if start is None:
        return actual
    head = actual[:start].rstrip()
    focus = _focus(body)
    if not head:
        return focus
    return f"{head}, {focus}" if focus else head


def _embedded_at(actual: str, rendered: str) -> int | None:
    """Where a rendering of the body (whole, or cut with ``…``) starts in ``actual``."""
    index = actual.find(rendered)
    if index >= 0 and index + len(rendered) == len(actual):
        return index
    if not actual.endswith("…"):
        return None
    for index, char in enumerate(actual):
        # long enough to be that body, not a coincidence
        if char in '{["' and len(actual) - index > 8 and rendered.startswith(actual[index:-1]):
            return index
    return None


def _focus(body: Any) -> str:
    """What matters of an answer's body, nothing of it cut but long strings."""
    if _is_sms(body):
        return f"status {render_value(body.get('status', _MISSING))}"
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        others = {k: v for k, v in body.items() if k != "data"}
        return f"a page of {len(body['data'])} item(s)" + (
            f" with {_render_object(others)}" if others else ""
        )
    if isinstance(body, dict):
        return _render_object(body)
    return render_value(body)


def _timing(failure: Failure, sms_id: str | None) -> tuple[tuple[str, str], ...]:
    """When the SMS was due (from the create's ``send_in`` or a ``date_scheduled`` sent),
    whether it was cancelled, and when the last answer showed it."""
    if sms_id is None:
        return ()
    due: str | None = None
    cancelled: str | None = None
    for exchange in failure.steps[:-1]:
        request = exchange.request
        body = request.body if isinstance(request.body, dict) else {}
        response = exchange.response
        accepted = response is not None and 200 <= response.status_code < 300
        answer = response.body if response is not None else None
        path = _SMS_PATH.match(request.path)
        about = (request.method == "POST" and _is_sms(answer) and answer.get("id") == sms_id) or (
            path is not None and path.group(1) == sms_id
        )
        if not about or not accepted or request.method not in ("POST", "PUT"):
            continue
        if isinstance(body.get("date_scheduled"), str):
            due = body["date_scheduled"]
        elif isinstance(body.get("send_in"), int | float) and not isinstance(body["send_in"], bool):
            sent = _parse(exchange.sent_at) if exchange.sent_at else None
            due = f"send_in {body['send_in']} s after step {failure.steps.index(exchange) + 1}"
            with contextlib.suppress(OverflowError, ValueError):  # a send_in past year 9999
                if sent is not None:
                    moment = (sent + timedelta(seconds=body["send_in"])).isoformat()
                    due = f"{moment} (send_in {body['send_in']} s after {exchange.sent_at})"
        if body.get("status") == "draft" and due is not None:
            cancelled = exchange.sent_at or "(time not recorded)"
    last = failure.steps[-1]
    pairs: list[tuple[str, str]] = [("due", due or "(no send_in or date_scheduled in the steps)")]
    if cancelled:
        pairs.append(("cancelled", cancelled))
    pairs.append(("seen", last.sent_at or "(time not recorded)"))
    return tuple(pairs)


def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
