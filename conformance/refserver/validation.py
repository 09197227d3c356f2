"""Field validators shared by SMS create and update, and by the fixture endpoints.

Each validator reads one field of a JSON body and returns its clean value, or raises
:class:`ValidationFailed` naming that field. :class:`Checker` runs several and reports all
field errors at once, as one 400.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from conformance.refserver.dates import format_dt, parse_datetime
from conformance.refserver.errors import ValidationFailed
from conformance.refserver.faults import NO_FAULTS, Faults
from conformance.refserver.ids import IdMaker
from conformance.refserver.phones import is_e164
from conformance.refserver.readings import Readings
from conformance.vocabulary import ATTACHMENT_TYPES

_UNSEEDED_IDS = IdMaker()

__all__ = [
    "ATTACHMENT_CONTENT_TYPES",
    "Checker",
    "attachments",
    "date_value",
    "enum_value",
    "phone_value",
    "send_in_value",
    "string_value",
]

T = TypeVar("T")

REQUIRED = "This field is required."

ATTACHMENT_CONTENT_TYPES = ATTACHMENT_TYPES  # the schema's enum (conformance/vocabulary.py)


class Checker:
    """Collects field errors from several validators and raises them together."""

    def __init__(self) -> None:
        self.field_errors: dict[str, str] = {}
        self.refusals: set[str] = set()  # fields refused by a documented rule, not malformed

    def run(self, fn: Callable[[], T]) -> T | None:
        """Return ``fn()``, or record its :class:`ValidationFailed` and return ``None``."""
        try:
            return fn()
        except ValidationFailed as error:
            if error.field is None:
                raise
            self.fail(error.field, error.message, refusal=error.refusal)
            return None

    def fail(self, field: str, message: str, *, refusal: bool = False) -> None:
        """Record ``message`` on ``field`` (the first one recorded wins); ``refusal`` when a
        documented rule refuses a well-formed value."""
        if field not in self.field_errors:
            self.field_errors[field] = message
            if refusal:
                self.refusals.add(field)

    def raise_if_any(self) -> None:
        """Raise one 400 carrying every recorded field error, if there is any; a refusal
        when every one of them is."""
        if self.field_errors:
            refusal = set(self.field_errors) <= self.refusals
            error = ValidationFailed(None, "Invalid request.", refusal=refusal)
            error.body = {"errors": [], "field-errors": dict(self.field_errors)}
            raise error


def string_value(body: Mapping[str, Any], field: str) -> str | None:
    """Return ``body[field]`` if it is a string or null/absent (``None``); else 400."""
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(field, f"Must be a string or null, got {type(value).__name__}.")
    return value


def enum_value(body: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str | None:
    """Return ``body[field]`` if it is one of ``allowed``, ``None`` if null/absent; else 400."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise ValidationFailed(field, f"Must be one of: {', '.join(allowed)}.")
    return value


def phone_value(body: Mapping[str, Any], field: str, *, lenient: bool = False) -> str | None:
    """Return ``body[field]`` if it is an E.164 number, ``None`` if null/absent; else 400.
    ``lenient`` (the ``malformed-phone-accepted`` fault) takes any string."""
    value = body.get(field)
    if value is None:
        return None
    if lenient and isinstance(value, str):
        return value
    if not is_e164(value):
        raise ValidationFailed(field, "Must be a phone number in E.164 format, e.g. +16505550100.")
    return value


def date_value(body: Mapping[str, Any], field: str, tz: Any) -> datetime | None:
    """Return ``body[field]`` parsed as an ISO 8601 date(time) (no offset: local in ``tz``),
    ``None`` if null/absent; else 400."""
    value = body.get(field)
    if value is None:
        return None
    parsed = parse_datetime(value, tz)
    if parsed is None:
        raise ValidationFailed(field, "Must be an ISO 8601 date-time, e.g. 2026-01-01T12:00:00Z.")
    # The stored form must survive formatting (years 1..9999 in UTC).
    format_dt(parsed)
    return parsed


def _spelled_number(value: Any) -> float | None:
    """The finite number a string spells (``"30"``, ``"5.5"``), as a form field is read."""
    if not isinstance(value, str) or value.strip() != value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def send_in_value(
    body: Mapping[str, Any],
    *,
    faults: Faults = NO_FAULTS,
    readings: Readings | None = None,
) -> float:
    """Return ``send_in`` in seconds (absent or null: 0): a number with 0 <= send_in < 60.

    Booleans, strings, non-finite and out-of-range values are a 400 on ``send_in``; a
    negative one too, unless ``readings`` take the ``send-in-negative`` open point as
    ``as-zero`` (then it is 0: sent at once). A fraction of a second (5.5) is kept, cut to
    whole seconds or refused, as ``readings`` take the ``send-in-fraction`` open point.
    A string that spells a number (``"30"``) is refused too, or read as that number when
    ``readings`` take the ``send-in-numeric-string`` open point as ``as-seconds``.
    ``faults`` may switch on ``send-in-60-accepted``, ``send-in-59-refused``,
    ``send-in-non-numeric-ignored`` and ``send-in-string-unchecked``.
    """
    value = body.get("send_in")
    if value is None:
        return 0.0
    readings = readings if readings is not None else Readings()
    spelled = _spelled_number(value)
    if spelled is not None and "send-in-string-unchecked" in faults:
        return max(0.0, spelled)
    if spelled is not None and readings["send-in-numeric-string"] == "as-seconds":
        value = spelled  # read as a form field is: then judged as the number it spells
    if isinstance(value, bool) or not isinstance(value, int | float):
        if "send-in-non-numeric-ignored" in faults:
            return 0.0
        raise ValidationFailed("send_in", "Must be a number of seconds.")
    if math.isfinite(value) and value < 0 and readings["send-in-negative"] == "as-zero":
        return 0.0
    limit = 59 if "send-in-59-refused" in faults else 60
    allow_60 = "send-in-60-accepted" in faults
    if not math.isfinite(value) or value < 0 or value >= limit and not (allow_60 and value == 60):
        raise ValidationFailed(
            "send_in", "Must be at least 0 and less than 60 seconds.", refusal=True
        )
    if value != int(value):  # a fraction of a second: the send-in-fraction open point
        reading = readings["send-in-fraction"]
        if reading == "reject":
            raise ValidationFailed("send_in", "Must be a whole number of seconds.")
        if reading == "truncated":
            return float(int(value))
    return float(value)


def attachments(
    body: Mapping[str, Any],
    field: str = "attachments",
    *,
    faults: Faults = NO_FAULTS,
    new_id: Callable[[str], str] = _UNSEEDED_IDS,
) -> list[dict[str, Any]]:
    """Return the response form of ``body[field]`` (null/absent: ``[]``).

    Each request item needs ``url`` and ``filename`` (non-empty strings) and a
    ``content_type`` from the documented enum; the response item adds ``media_id`` and a
    null ``size`` (the reference server never fetches the file). Else 400 on ``field``.
    """
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed(field, "Must be a list of {url, filename, content_type}.")
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationFailed(field, f"Item {index} must be an object.")
        for key in ("url", "filename", "content_type"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ValidationFailed(field, f"Item {index}: {key} is required (a string).")
        if (
            item["content_type"] not in ATTACHMENT_CONTENT_TYPES
            and "attachment-type-unchecked" not in faults
        ):
            raise ValidationFailed(
                field, f"Item {index}: content_type {item['content_type']!r} is not supported."
            )
        stored = {
            "url": item["url"],
            "filename": item["filename"],
            "content_type": item["content_type"],
            "size": None,
            "media_id": new_id("media"),
        }
        if "attachment-media-id-missing" in faults:
            del stored["media_id"]
        if "attachment-url-missing" in faults:
            stored["url"] = None  # only filled in once the media is fetched, at send time
        result.append(stored)
    return result
