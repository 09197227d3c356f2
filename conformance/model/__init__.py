"""The oracle: what the documentation allows, computed by plain Python with no I/O.

For each operation the model returns an :class:`Expectation`: whether the server must
accept, must reject, or may do either (where the docs are silent), which catalogue rule
decides it, and what an accepted SMS must look like. Time is modelled, not guessed: an
``outbox`` or ``scheduled`` SMS is *pending* until its due time (minus ``early``, the
tolerance for clock skew), *must be sent* once ``grace`` seconds have passed since it fell
due, and may be either in between.

Where the docs leave a point open (the catalogue's open points), the model allows every
documented-compatible reading: a list expectation names the SMS that must be listed and
those that may be (times compared at the microsecond or the millisecond, a bare date as
midnight or the whole day, activity_at kept or moved to the send time).

Everything here works on plain dicts (JSON bodies) and :class:`SmsRecord` values; the
engine feeds it what the server answered and asks what that answer may be.

The package holds one concern per module: :mod:`~conformance.model.timing` (time windows,
due-time tolerance, filter instants), :mod:`~conformance.model.records` (what is known of
one SMS, the expectation of one request), :mod:`~conformance.model.values` (request field
types, phones, loose values, text forms), :mod:`~conformance.model.create` and
:mod:`~conformance.model.update` (what the docs allow for each write),
:mod:`~conformance.model.listing` (list expectations and filters) and
:mod:`~conformance.model.oracle` (:class:`Model`, the run's knowledge of its SMS).
"""

from __future__ import annotations

from conformance.dates import parse_datetime, parse_tz_offset
from conformance.model.listing import (
    DEFAULT_LIMIT,
    ListExpectation,
    match,
    match_by_reading,
    readings_shown,
)
from conformance.model.oracle import Model
from conformance.model.records import Expectation, LostCreate, NotBefore, SmsRecord
from conformance.model.timing import (
    TimeWindow,
    Timing,
    between_midnights,
    floor_ms,
    parse_filter_datetime,
    same_millisecond,
)
from conformance.model.values import (
    is_clearly_not_a_phone,
    is_empty,
    loose_phone,
    text_forms,
    without_loose_values,
)
from conformance.vocabulary import CREATE_STATUSES, DELIVERED, SENDING

__all__ = [
    "CREATE_STATUSES",
    "DEFAULT_LIMIT",
    "DELIVERED",
    "SENDING",
    "Expectation",
    "ListExpectation",
    "LostCreate",
    "Model",
    "NotBefore",
    "SmsRecord",
    "Timing",
    "TimeWindow",
    "floor_ms",
    "is_clearly_not_a_phone",
    "is_empty",
    "loose_phone",
    "match",
    "match_by_reading",
    "parse_datetime",
    "between_midnights",
    "parse_filter_datetime",
    "parse_tz_offset",
    "readings_shown",
    "same_millisecond",
    "text_forms",
    "without_loose_values",
]
