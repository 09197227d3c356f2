"""What an exchange records of an answer: its body decoded (JSON, else cut text), its
headers but the cookies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.records import RecordedResponse

MAX_BODY_CHARS = 4000
RECORDED_REQUEST_HEADERS = ("content-type", "x-tz-offset")
DROPPED_RESPONSE_HEADERS = ("set-cookie",)


class NestedTooDeep(ValueError):
    """JSON nested deeper than Python's parser goes (``json.loads`` raised RecursionError)."""


def decode_body_checked(content: bytes) -> Any:
    """As :func:`decode_body`, but JSON nested deeper than Python parses (closed or not:
    100,000 ``[``) raises :class:`NestedTooDeep` instead of being kept as text."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeep("JSON nested deeper than Python's recursion limit") from None
    except ValueError:
        return text[:MAX_BODY_CHARS]


def decode_body(content: bytes) -> Any:
    """A response body as JSON when it parses, else its text (cut to a readable length).
    Never raises: JSON nested deeper than Python goes is kept as (cut) text too."""
    try:
        return decode_body_checked(content)
    except NestedTooDeep:
        return content.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def _record(response: httpx.Response, content: bytes) -> tuple[RecordedResponse, bool]:
    """The recorded response, and whether its JSON was nested too deep to parse."""
    try:
        body, too_deep = decode_body_checked(content), False
    except NestedTooDeep:
        body, too_deep = content.decode("utf-8", errors="replace")[:MAX_BODY_CHARS], True
    recorded = RecordedResponse(
        status_code=response.status_code,
        headers={
            k.lower(): v
            for k, v in response.headers.items()
            if k.lower() not in DROPPED_RESPONSE_HEADERS
        },
        body=body,
    )
    return recorded, too_deep


@dataclass(slots=True)
class _Fetched:
    """What one try brought back: an error, or a response (closed) and its decoded body
    (``cut`` when the body went on past the bound)."""

    error: str | None = None
    response: httpx.Response | None = None
    body: bytes = b""
    cut: bool = False
    missed_deadline: bool = False


@dataclass(slots=True)
class _Try:
    """One try, recorded: an error or a response; what about the answer stops a run."""

    error: str | None = None
    response: RecordedResponse | None = None
    missed_deadline: bool = False
    cut: bool = False  # the body went on past max_body_bytes
    too_deep: bool = False  # JSON nested deeper than Python parses
