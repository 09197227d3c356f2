"""ISO 8601 dates for the reference server: parsing request values, formatting responses.

The vocabulary itself (which spellings name which instant) is the suite's one date parser,
:mod:`conformance.dates`, shared with the oracle so the two never disagree. This server
reads every spelling it knows (the documented extended form, and the week, ordinal and
compact forms, bare dates and the other ISO 8601 variants the docs leave open).

Responses carry UTC datetimes with microseconds and an offset, as the official examples do
(``2016-10-03T16:06:11.167000+00:00``). Request values without an offset are local time in
the caller's ``x-tz-offset`` (hours east of UTC, e.g. ``-4``, ``5.5``, ``-0.0``); without the
header they are UTC. A bare date (``YYYY-MM-DD``) means local midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from conformance.dates import is_bare_date, parse_date_or_datetime, parse_tz_offset

__all__ = ["at_precision", "format_dt", "is_bare_date", "parse_datetime", "parse_tz_offset"]


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


def parse_datetime(value: object, tz: tzinfo = UTC) -> datetime | None:
    """Return ``value`` as an aware UTC datetime, or ``None`` if it is no ISO 8601 date or
    date-time (:func:`conformance.dates.read`); without an offset the time is local in
    ``tz``, a bare date is local midnight. Never raises."""
    return parse_date_or_datetime(value, tz)
