"""What a list (``GET /activity/sms/``) must and may return: the expectation of a page,
and whether each filter keeps an SMS under every reading of the open points a date filter
depends on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from conformance.dates import is_bare_date
from conformance.model.records import SmsRecord
from conformance.model.timing import NEVER, TimeWindow, Timing, floor_ms, parse_filter_datetime

__all__ = [
    "DATE_POINTS",
    "DEFAULT_LIMIT",
    "ListExpectation",
    "ids_of",
    "match",
    "match_by_reading",
    "readings_shown",
]


DEFAULT_LIMIT = 100  # "`_limit` | integer, default 100" (1.2): a maximum is never below it


@dataclass(frozen=True, slots=True)
class ListExpectation:
    """The SMS a list request returns, in some order (none is documented), with
    ``_skip``/``_limit`` applied to the whole result: every SMS of ``ids`` (they must be
    listed), any of ``maybe`` (an open point of the docs leaves it to the server whether
    they match) and nothing else. With ``maybe`` empty, page size and ``has_more`` are
    exact; with it, they range over the results the server may have.

    ``cut_to`` is set when ``_limit`` exceeds the default: the SMS list's maximum ``_limit``
    is not documented, and a server may cut such a page to its maximum (open point
    ``limit-over-maximum``), which is at least the default. A page may then hold from
    ``cut_to`` up to ``_limit`` SMS (as many as are left, if fewer)."""

    ids: frozenset[str]
    skip: int
    limit: int
    maybe: frozenset[str] = frozenset()
    cut_to: int | None = None
    # For an SMS of ``maybe`` left open by open points, the readings (``POINT=ALT``) listing
    # it (True) and leaving it out (False) show: the behaviour profile's evidence.
    shows: Mapping[str, Mapping[bool, frozenset[str]]] = field(default_factory=dict)

    @property
    def allowed(self) -> frozenset[str]:
        """Every SMS the list may show."""
        return self.ids | self.maybe

    def _size(self, total: int, limit: int | None = None) -> int:
        return max(0, min(self.limit if limit is None else limit, total - self.skip))

    @property
    def _least_limit(self) -> int:
        return self.limit if self.cut_to is None else min(self.cut_to, self.limit)

    @property
    def page_size(self) -> int:
        """The page size when only the SMS that must be listed are, and no cut."""
        return self._size(len(self.ids))

    @property
    def page_sizes(self) -> range:
        """Every page size the server may answer with."""
        low = self._size(len(self.ids), self._least_limit)
        return range(low, self._size(len(self.allowed)) + 1)

    @property
    def smallest_page(self) -> int:
        return self.page_sizes.start

    def allows_size(self, size: int) -> bool:
        """True when a page of ``size`` SMS is one the query may answer."""
        return size in self.page_sizes

    @property
    def has_more(self) -> bool:
        """``has_more`` when only the SMS that must be listed are, and no cut."""
        return self.skip + self.limit < len(self.ids)

    def has_more_allowed(self, listed: int) -> frozenset[bool]:
        """The ``has_more`` values a page of ``listed`` SMS may carry: for every result size
        the server may have (and page cut) that gives a page of that size, whether more
        follow it."""
        totals = range(len(self.ids), len(self.allowed) + 1)
        fitting = [
            total
            for total in totals
            if self._size(total, self._least_limit) <= listed <= self._size(total)
        ]
        return frozenset(self.skip + listed < total for total in fitting or totals)


_ID_FILTERS = {"lead_id": "lead_id", "contact_id": "contact_id", "user_id": "user_id"}
_DATE_FILTERS = {
    "date_created": "date_created",
    "activity_at": "activity_at",
}
# A bare date given to these operators may name the whole day: after it (gt), up to its end
# (lte) -- the operator and bound they then amount to, from the day's midnight plus one day.
_WHOLE_DAY = {"gt": "gte", "lte": "lt"}
_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


# The open points a date filter's answer depends on, with their alternatives. A server holds
# to one reading of each: a list is judged under every combination, and what it shows of an
# SMS the docs leave open may tell which reading the server took.
DATE_POINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time-precision", ("microseconds", "milliseconds")),
    ("bare-date-filter", ("midnight", "whole-day")),
    ("activity-at-on-send", ("kept", "send-time")),
)
_COMBOS: tuple[tuple[str, ...], ...] = tuple(
    itertools.product(*(alternatives for _, alternatives in DATE_POINTS))
)


def match(
    record: SmsRecord,
    params: Mapping[str, str],
    tz_offset: str | None,
    window: TimeWindow | None = None,
    timing: Timing | None = None,
) -> bool | None:
    """Whether a list with ``params`` (answered during ``window``) shows ``record``: True
    (it must), False (it must not) or None (the docs leave it open: it may)."""
    outcomes = match_by_reading(record, params, tz_offset, window, timing)
    seen = frozenset().union(*outcomes.values())
    return next(iter(seen)) if len(seen) == 1 else None


def match_by_reading(
    record: SmsRecord,
    params: Mapping[str, str],
    tz_offset: str | None,
    window: TimeWindow | None = None,
    timing: Timing | None = None,
) -> dict[tuple[str, ...], frozenset[bool]]:
    """Per combination of readings of :data:`DATE_POINTS` (alternatives in their order),
    whether a list with ``params`` may show ``record`` (True), leave it out (False), or
    either (the send time an SMS's activity_at may take is not known)."""
    listed = dict.fromkeys(_COMBOS, True)  # no parameter has ruled it out yet
    unlisted = dict.fromkeys(_COMBOS, False)  # some parameter may rule it out
    for name, value in params.items():
        wanted = value.split(",")
        if name in _ID_FILTERS:
            actual = record.user_id if name == "user_id" else record.written.get(name)
            if actual not in wanted:
                return dict.fromkeys(_COMBOS, frozenset({False}))
        elif name == "id__in":
            if record.id not in wanted:
                return dict.fromkeys(_COMBOS, frozenset({False}))
        elif "__" in name:
            field_name, op = name.rsplit("__", 1)
            if field_name in _DATE_FILTERS and op in _COMPARE:
                sides = _date_sides(
                    record, field_name, op, value, tz_offset, window, timing or Timing()
                )
                for combo in _COMBOS:
                    listed[combo] = listed[combo] and True in sides[combo]
                    unlisted[combo] = unlisted[combo] or False in sides[combo]
    return {
        combo: frozenset(
            outcome
            for outcome, possible in ((True, listed[combo]), (False, unlisted[combo]))
            if possible
        )
        for combo in _COMBOS
    }


def readings_shown(
    outcomes: Mapping[tuple[str, ...], frozenset[bool]],
) -> dict[bool, frozenset[str]]:
    """For each answer a list may give about one SMS (listed: True, left out: False), the
    readings (``POINT=ALT``) that answer shows: those of a point every combination allowing
    the answer takes the same alternative of (a server holds to one reading)."""
    shown: dict[bool, frozenset[str]] = {}
    for answer in (True, False):
        fitting = [combo for combo, possible in outcomes.items() if answer in possible]
        found = set()
        for index, (point, _) in enumerate(DATE_POINTS):
            alternatives = {combo[index] for combo in fitting}
            if len(alternatives) == 1:
                found.add(f"{point}={alternatives.pop()}")
        shown[answer] = frozenset(found)
    return shown


def _date_sides(
    record: SmsRecord,
    field_name: str,
    op: str,
    value: str,
    tz_offset: str | None,
    window: TimeWindow | None,
    timing: Timing,
) -> dict[tuple[str, ...], frozenset[bool]]:
    """Per combination of readings, the sides of the bound ``value`` that ``record``'s date
    may be on for ``op`` (``{True}`` kept, ``{False}`` left out, both when the send time is
    not known):

    - ``time-precision``: a server may keep times and compare bounds to the microsecond, or
      both truncated to the millisecond (the time it showed already is).
    - ``bare-date-filter``: a bare date may be local midnight for every operator, or, for
      ``__gt``/``__lte``, the whole day (after it ends, up to its end).
    - ``activity-at-on-send``: once the sender may have sent the SMS, its activity_at may
      be the send time, some time from its due time up to the end of ``window``.
    """
    known = getattr(record, _DATE_FILTERS[field_name])
    if known is None:
        return dict.fromkeys(_COMBOS, frozenset({False}))
    kept = [(known, known)]
    moved = list(kept)
    if field_name == "activity_at" and record.may_have_been_sent(window, timing):
        since = record.sent_after or record.due
        assert since is not None
        earliest = since - timedelta(seconds=timing.early)
        moved.append((earliest, window.end if window is not None else NEVER))
    bound = parse_filter_datetime(value, tz_offset)
    whole_day = is_bare_date(value) and op in _WHOLE_DAY
    out = {}
    for combo in _COMBOS:
        precision, bare, activity = combo
        reading_op, reading_bound = (
            (_WHOLE_DAY[op], bound + timedelta(days=1))
            if whole_day and bare == "whole-day"
            else (op, bound)
        )
        compare = _COMPARE[reading_op]
        sides = set()
        for low, high in moved if activity == "send-time" else kept:
            for moment in (low, high):  # each comparison is monotonic: a span's ends decide
                if precision == "milliseconds":
                    sides.add(compare(floor_ms(moment), floor_ms(reading_bound)))
                else:
                    sides.add(compare(moment, reading_bound))
        out[combo] = frozenset(sides)
    return out


def ids_of(items: Iterable[Mapping[str, Any]]) -> list[Any]:
    return [item.get("id") for item in items if isinstance(item, Mapping)]
