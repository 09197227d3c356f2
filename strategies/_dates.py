"""ISO 8601 date-time strings with and without an offset, and ``x-tz-offset`` values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from strategies._validation import check_aware, check_bounds, check_naive

__all__ = ["datetimes_with_offsets", "naive_datetimes", "tz_offsets"]

#: Offsets in minutes; UTC first so it is the shrink target. Includes half- and
#: three-quarter-hour zones and both extremes.
OFFSET_MINUTES: tuple[int, ...] = (0, -240, 60, 330, -210, 345, 570, -570, -300, 840, -720)
_UTC_SPELLINGS = ("+00:00", "Z")

_DEFAULT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
_DEFAULT_MAX = datetime(2100, 1, 1, tzinfo=UTC)
_DEFAULT_NAIVE_MIN = _DEFAULT_MIN.replace(tzinfo=None)
_DEFAULT_NAIVE_MAX = _DEFAULT_MAX.replace(tzinfo=None)


def format_with_offset(instant: datetime, minutes: int, *, zulu: bool = False) -> str:
    """``instant`` (aware) rendered in ISO 8601 at a UTC offset of ``minutes``."""
    local = instant.astimezone(timezone(timedelta(minutes=minutes)))
    text = local.isoformat()
    if zulu and minutes == 0:
        text = text.removesuffix("+00:00") + "Z"
    return text


# Built once, at import (and the instants once per pair of bounds): a strategy built afresh
# at every draw is validated afresh, and a strategy holds no state, so sharing one draws
# exactly what a new one would.
_OFFSETS = st.sampled_from(OFFSET_MINUTES)
_SPELLINGS = st.sampled_from(_UTC_SPELLINGS)


@st.composite
def _offset_strings(draw: st.DrawFn, instants: SearchStrategy[datetime]) -> str:
    instant = draw(instants).replace(tzinfo=UTC)
    minutes = draw(_OFFSETS)
    # Drawn unconditionally: a draw only for UTC would make UTC the longer, "less
    # simple" choice sequence, and the shrinker would steer away from it.
    zulu = draw(_SPELLINGS) == "Z"
    return format_with_offset(instant, minutes, zulu=zulu)


def datetimes_with_offsets(
    *, min_value: datetime = _DEFAULT_MIN, max_value: datetime = _DEFAULT_MAX
) -> SearchStrategy[str]:
    """Returns a strategy which generates ISO 8601 date-time strings with an explicit UTC
    offset, denoting instants between ``min_value`` and ``max_value`` inclusive.

    Offsets include whole hours, half hours (``+05:30``, ``-03:30``, ``±09:30``),
    ``+05:45``, the extremes ``-12:00``/``+14:00``, and UTC spelled ``+00:00`` or
    ``Z``. Microseconds appear when non-zero (``2026-01-01T10:00:00.000001+05:30``).
    Both bounds must be aware datetimes.

    Shrinks towards ``min_value`` (whole seconds) rendered at ``+00:00``.
    """
    check_aware("min_value", min_value)
    check_aware("max_value", max_value)
    check_bounds("min_value", min_value, "max_value", max_value)
    low = min_value.astimezone(UTC).replace(tzinfo=None)
    high = max_value.astimezone(UTC).replace(tzinfo=None)
    return _offset_strings_between(low, high)


@lru_cache(maxsize=256)
def _offset_strings_between(low: datetime, high: datetime) -> SearchStrategy[str]:
    # Built once per pair of bounds (the engine draws against a fixed ``now``).
    return _offset_strings(st.datetimes(min_value=low, max_value=high))


def naive_datetimes(
    *,
    min_value: datetime = _DEFAULT_NAIVE_MIN,
    max_value: datetime = _DEFAULT_NAIVE_MAX,
) -> SearchStrategy[str]:
    """Returns a strategy which generates ISO 8601 date-time strings without an offset
    (``2026-01-01T10:00:00`` or with microseconds), for wall-clock times between the
    naive bounds ``min_value`` and ``max_value`` inclusive. How a server reads them
    (UTC, or in the ``x-tz-offset`` zone) is not documented.

    Shrinks towards ``min_value`` with whole seconds.
    """
    check_naive("min_value", min_value)
    check_naive("max_value", max_value)
    check_bounds("min_value", min_value, "max_value", max_value)
    return st.datetimes(min_value=min_value, max_value=max_value).map(datetime.isoformat)


_HALF_HOURS = st.integers(-24, 28)  # -12:00 .. +14:00
_TZ_SPELLINGS = st.sampled_from(("plain", "decimal", "negative-zero"))


@st.composite
def _tz_offset_strings(draw: st.DrawFn) -> str:
    half_hours = draw(_HALF_HOURS)
    spelling = draw(_TZ_SPELLINGS)
    hours = half_hours / 2
    if spelling == "negative-zero" and half_hours == 0:
        return "-0.0"  # the Python client's spelling of UTC
    if spelling == "plain":
        return f"{hours:g}"
    return f"{hours:.1f}"  # the Python client's spelling: "-5.0"


def tz_offsets() -> SearchStrategy[str]:
    """Returns a strategy which generates ``x-tz-offset`` header values: the caller's UTC
    offset in hours from ``-12`` to ``14`` in half-hour steps, spelled as integers
    (``"-4"``, ``"0"``), with one decimal (``"-5.0"``, ``"5.5"``, ``"-2.5"``), or as the
    Python client's ``"-0.0"``.

    Shrinks towards ``"0"``.
    """
    return _TZ_OFFSETS


_TZ_OFFSETS = _tz_offset_strings()
