"""The API's date vocabulary, once: which spellings name which instant, and which of them
the docs fix.

Both the oracle (:mod:`conformance.model`) and the reference server
(:mod:`conformance.refserver.dates`) read dates here, so they never disagree on what a
spelling means. Pure: no I/O, no clock, no import of the server.

What the docs fix. The schema types request and response dates as ``date-time`` (SPEC;
close-sms-api.md 1.3 and 1.7), and the responses are "ISO 8601 with microseconds and
offset, e.g. ``2016-10-03T16:06:11.167000+00:00``", some newer objects with no offset
(``2022-09-26T15:08:03.402869``). So the *documented* spelling is the extended calendar
date-time with ``T``: ``YYYY-MM-DDTHH:MM:SS``, a fraction of 1 to 6 digits (up to the
microseconds the docs show), and ``Z``, ``±HH:MM`` or no offset. Every server must read it.

What they leave open. ISO 8601 has other spellings of the same instants: week dates
(``2027-W01-5T10:00:00Z``), ordinal dates (``2027-002T10:00:00Z``), the compact (basic)
forms (``20270102T100000Z``), an offset without its colon (``+0000``) or minutes (``+00``),
a space or a lower-case ``t`` for the ``T``, no seconds, a comma before the fraction, a
fraction finer than a microsecond (7 digits or more), ``24:00:00`` for the end of a day, and
a bare date where a date-time is typed. Whether a server takes them is not documented: a
server may read them (as the instant ISO 8601 gives them) or refuse them, and the oracle
requires neither. A string that is none of these (``tomorrow``, month 13, 30 February, an
offset of 99 hours) is no date at all.

A value without an offset is local time in the zone given (the caller's ``x-tz-offset``;
UTC without one). A bare date is that zone's midnight. A fraction finer than a microsecond
is truncated to it (``exact`` is then False).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

__all__ = [
    "Spelling",
    "is_bare_date",
    "parse_date_or_datetime",
    "parse_datetime",
    "parse_shown_datetime",
    "parse_tz_offset",
    "read",
]

# The date part: extended and basic calendar, week and ordinal dates.
_DATES = (
    ("calendar", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("calendar", re.compile(r"(\d{4})(\d{2})(\d{2})")),
    ("week", re.compile(r"(\d{4})-W(\d{2})-([1-7])")),
    ("week", re.compile(r"(\d{4})W(\d{2})([1-7])")),
    ("ordinal", re.compile(r"(\d{4})-(\d{3})")),
    ("ordinal", re.compile(r"(\d{4})(\d{3})")),
)
_TIMES = (
    re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"),
    re.compile(r"(\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?"),
)
_OFFSET = re.compile(r"([Zz])|([+-])(\d{2})(?::?(\d{2}))?")
_SPLIT = re.compile(r"^(?P<date>[0-9W-]+)(?:(?P<sep>[Tt ])(?P<time>[0-9:.,]+)(?P<offset>.*))?$")
# The one spelling the docs fix (see the module docstring).
_DOCUMENTED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True, slots=True)
class Spelling:
    """What one date string names.

    ``instant`` is aware, in UTC. ``documented`` is True for the spelling the docs fix
    (every server must read it), False for the other ISO 8601 spellings (a server may read
    or refuse them). ``has_time`` is False for a bare date; ``has_offset`` False when the
    value is local time (naive or bare); ``exact`` False when a fraction finer than a
    microsecond was truncated (a server may as well round it)."""

    instant: datetime
    documented: bool
    has_time: bool
    has_offset: bool
    exact: bool = True


def _date_of(text: str) -> date | None:
    for kind, pattern in _DATES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        year, a, b = (int(part) for part in (*match.groups(), "0")[:3])
        try:
            if kind == "calendar":
                return date(year, a, b)
            if kind == "week":
                return date.fromisocalendar(year, a, b)
            if not 1 <= a <= (366 if _leap(year) else 365):
                return None
            return date(year, 1, 1) + timedelta(days=a - 1)
        except ValueError:
            return None
    return None


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _time_of(text: str) -> tuple[time, bool, bool] | None:
    """The time a time part names, whether it is 24:00 (the next day's midnight), and whether
    it is exact to the microsecond."""
    for pattern in _TIMES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        hour, minute = int(match[1]), int(match[2])
        second = int(match[3] or 0)
        digits = match[4] or ""
        if hour == 24 and minute == second == 0 and not digits.strip("0"):
            return time(0), True, True
        if hour > 23 or minute > 59 or second > 59:
            return None
        micro = int((digits + "000000")[:6]) if digits else 0
        return time(hour, minute, second, micro), False, len(digits.rstrip("0")) <= 6
    return None


def _zone_of(text: str) -> tzinfo | None:
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    if match[1]:
        return UTC
    hours, minutes = int(match[3]), int(match[4] or 0)
    if hours > 23 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match[2] == "-" else delta)


def read(value: object, tz: tzinfo = UTC) -> Spelling | None:
    """Return what ``value`` names, or None when it is no date in any ISO 8601 spelling the
    vocabulary knows (or names none: month 13, 30 February, an offset of 99 hours, a year
    that leaves the calendar once in UTC). ``tz`` is the zone of a value without an offset.
    Never raises."""
    if not isinstance(value, str):
        return None
    match = _SPLIT.fullmatch(value.strip())
    if match is None:
        return None
    day = _date_of(match["date"])
    if day is None:
        return None
    zone: tzinfo | None = tz
    exact, has_offset, next_day = True, False, False
    if match["time"] is None:
        moment = datetime.combine(day, time(0))
    else:
        timed = _time_of(match["time"])
        if timed is None:
            return None
        clock, next_day, exact = timed
        if match["offset"]:
            zone, has_offset = _zone_of(match["offset"]), True
            if zone is None:
                return None
        try:
            moment = datetime.combine(day, clock) + timedelta(days=1 if next_day else 0)
        except OverflowError:
            return None
    try:
        instant = moment.replace(tzinfo=zone).astimezone(UTC)
        instant.astimezone(UTC).isoformat()  # years 1..9999 once in UTC
    except (OverflowError, ValueError):
        return None
    return Spelling(
        instant=instant,
        documented=_DOCUMENTED.fullmatch(value) is not None and not next_day,
        has_time=match["time"] is not None,
        has_offset=has_offset,
        exact=exact,
    )


def parse_datetime(value: object, tz: tzinfo = UTC) -> datetime | None:
    """Return the instant (aware, UTC) a date-time spelling names, or None: a bare date is
    not a date-time. A value without an offset is local in ``tz``."""
    spelling = read(value, tz)
    return spelling.instant if spelling is not None and spelling.has_time else None


# What an answer's date-time must look like (section 1.7, "ISO 8601 with microseconds and
# offset"; newer objects drop the offset): the extended calendar form with a T. A request may
# spell a date in any way a server reads; what a server shows is held to the documented form,
# with any fraction and either offset notation.
_SHOWN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([.,]\d+)?(Z|[+-]\d{2}(:?\d{2})?)?$")


def parse_shown_datetime(value: object) -> datetime | None:
    """Return the instant (aware, UTC) of a date-time as an answer must show it (ISO 8601's
    extended calendar form with a ``T``; no offset means UTC), or None."""
    if not isinstance(value, str) or _SHOWN.fullmatch(value) is None:
        return None
    return parse_datetime(value)


def parse_date_or_datetime(value: object, tz: tzinfo = UTC) -> datetime | None:
    """Return the instant (aware, UTC) a date-time or a bare date (midnight in ``tz``)
    names, or None."""
    spelling = read(value, tz)
    return spelling.instant if spelling is not None else None


def is_bare_date(value: object) -> bool:
    """True for a date with no time part, in any spelling the vocabulary knows."""
    spelling = read(value)
    return spelling is not None and not spelling.has_time


def parse_tz_offset(header: str | None) -> tzinfo:
    """Return the timezone an ``x-tz-offset`` header value names (hours east of UTC as a
    number: ``-4``, ``5.5``, the Python client's ``-0.0``; 2.7 Timezone offsets).

    ``None`` or an empty header means UTC. Raises ``ValueError`` when the value is not a
    finite number of hours strictly between -24 and 24."""
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
