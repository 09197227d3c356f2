"""ISO 8601 dates for the reference server: parsing request values, formatting responses.

Responses carry UTC datetimes with microseconds and an offset, as the official examples do
(``2016-10-03T16:06:11.167000+00:00``). Request values without an offset are local time in
the caller's ``x-tz-offset`` (hours east of UTC, e.g. ``-4``, ``5.5``, ``-0.0``); without the
header they are UTC. A bare date (``YYYY-MM-DD``) means local midnight.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["at_precision", "format_dt", "parse_datetime", "parse_tz_offset"]

_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Python's fromisoformat also accepts week dates and compact forms; the API documents the
# extended calendar form only, so anything else is rejected before it gets there.
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2}(:\d{2})?)?$"
)


def format_dt(value: datetime) -> str:
    """Return ``value`` as UTC ISO 8601 with microseconds and ``+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def at_precision(value: datetime, precision: str) -> datetime:
    """Return ``value`` as the server keeps it under the ``time-precision`` reading:
    unchanged for ``microseconds``, truncated to the millisecond for ``milliseconds`` (as a
    store of millisecond dates, such as MongoDB's, keeps it)."""
    if precision == "milliseconds":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def parse_tz_offset(header: str | None) -> tzinfo:
    """Return the timezone named by an ``x-tz-offset`` header value (hours, float).

    ``None`` or an empty header means UTC. Raises ``ValueError`` when the value is not a
    finite number of hours strictly between -24 and 24.
    """
    if header is None or not header.strip():
        return UTC
    try:
        hours = float(header.strip())
    except ValueError:
        raise ValueError(f"x-tz-offset must be a number of hours, got {header!r}") from None
    if not math.isfinite(hours) or not -24 < hours < 24:
        raise ValueError(f"x-tz-offset must be between -24 and 24 hours, got {header!r}")
    minutes = round(hours * 60)
    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))


def parse_datetime(value: object, tz: tzinfo = UTC) -> datetime | None:
    """Return ``value`` as an aware UTC datetime, or ``None`` if it is not a valid ISO date.

    Accepts ``YYYY-MM-DD`` (local midnight in ``tz``) and ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]``
    with an optional ``Z``/``±HH:MM`` offset; without an offset the time is local in ``tz``.
    Never raises: out-of-range values (month 13, year 9999 shifted past the end) give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _BARE_DATE.match(text):
            day = date.fromisoformat(text)
            parsed = datetime(day.year, day.month, day.day, tzinfo=tz)
        elif _DATETIME.match(text):
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
        else:
            return None
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
