"""Timing windows: when a request was handled, how strictly due times are judged, and the
instants a date filter names (section 2.7 Timezone offsets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from conformance.dates import parse_date_or_datetime, parse_tz_offset

__all__ = [
    "NEVER",
    "TimeWindow",
    "Timing",
    "between_midnights",
    "floor_ms",
    "is_past",
    "parse_filter_datetime",
    "past_readings",
    "same_millisecond",
]

NEVER = datetime.max.replace(tzinfo=UTC)


def floor_ms(moment: datetime) -> datetime:
    """Return ``moment`` truncated to the millisecond: the time a server that keeps
    milliseconds (the ``time-precision`` open point) stores and shows for it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def same_millisecond(a: datetime, b: datetime) -> bool:
    return floor_ms(a.astimezone(UTC)) == floor_ms(b.astimezone(UTC))


def parse_filter_datetime(value: str, tz_offset: str | None) -> datetime:
    """Return the instant a date filter value names.

    A value with an offset names that instant; a date-time without one, or a bare date
    (local midnight), is local time at the ``x-tz-offset`` given (2.7 Timezone offsets).
    Raises ``ValueError`` for a value that is no date."""
    moment = parse_date_or_datetime(value, parse_tz_offset(tz_offset))
    if moment is None:
        raise ValueError(f"not a date: {value!r}")
    return moment


def between_midnights(value: str, tz_offset: str | None, moment: datetime) -> bool:
    """True when ``value``, a bare date, names a local midnight (at ``tz_offset``) and a UTC
    midnight that fall either side of ``moment``: a filter bound there lists the SMS of that
    moment or not, as the bare date is read at the offset or in UTC."""
    if "T" in value:
        return False
    try:
        local, utc = parse_filter_datetime(value, tz_offset), parse_filter_datetime(value, None)
    except ValueError:
        return False
    return min(local, utc) <= moment < max(local, utc)


@dataclass(frozen=True, slots=True)
class Timing:
    """How strictly due times are judged: ``early`` seconds of tolerance before a due time
    (clock skew, latency), ``grace`` seconds after it within which the sender may still be
    catching up. Both 0 on a virtual clock."""

    early: float = 0.0
    grace: float = 0.0


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The interval during which the server handled a request: it read its clock somewhere
    between ``start`` and ``end``."""

    start: datetime
    end: datetime


def is_past(moment: datetime, window: TimeWindow, timing: Timing) -> bool:
    """True when ``moment`` may be past on the server's clock when it handles a request
    during ``window``: before the window ends, or within the clock skew the run allows
    (``Timing.early``) after it (audit C14). Whether a past date_scheduled is taken is
    not documented."""
    return moment <= window.end + timedelta(seconds=timing.early)


def past_readings(
    moment: datetime, window: TimeWindow, timing: Timing
) -> tuple[str | None, str | None]:
    """The readings of ``past-date-scheduled`` an acceptance and a refusal show: only for
    a date past on the server's clock for sure (before the window, by more than the
    clock skew); one within the skew may be refused as too close, or taken as future."""
    if moment < window.start - timedelta(seconds=timing.early):
        return ("past-date-scheduled=accept", "past-date-scheduled=reject")
    return (None, None)
