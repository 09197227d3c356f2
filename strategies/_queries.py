"""Query parameters (and an ``x-tz-offset``) for ``GET /activity/sms/``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from conformance.fixtures import Fixtures
from strategies._dates import OFFSET_MINUTES, format_with_offset, tz_offsets
from strategies._validation import check_aware, check_fixtures

__all__ = ["DATE_FILTERS", "ListQuery", "list_queries"]

#: The date filters of the list endpoint.
DATE_FILTERS: tuple[str, ...] = tuple(
    f"{field}__{op}"
    for field in ("date_created", "activity_at")
    for op in ("gt", "gte", "lt", "lte")
)

_FIELDS = (
    "id",
    "status",
    "text",
    "lead_id",
    "contact_id",
    "local_phone",
    "remote_phone",
    "date_created",
    "activity_at",
    "direction",
    "attachments",
)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Query parameters for ``GET /activity/sms/`` and the ``x-tz-offset`` header value to
    send with them (``None``: no header)."""

    params: dict[str, Any]
    tz_offset: str | None = None


@lru_cache(maxsize=256)
def _comma_joined(values: tuple[str, ...]) -> SearchStrategy[str]:
    # Built once per values (a strategy built afresh at every draw is validated afresh; a
    # strategy holds no state, so sharing one draws exactly what a new one would).
    subsets = st.lists(
        st.sampled_from(values), min_size=1, max_size=min(3, len(values)), unique=True
    )
    return subsets.map(",".join)


#: How far from a reference date a filter value lands; zero (exactly at) comes first and
#: is drawn about half the time.
_NUDGES = st.one_of(
    st.just(timedelta(0)),
    st.sampled_from((timedelta(microseconds=1), timedelta(microseconds=-1))),
    st.integers(-5, 5).map(lambda s: timedelta(seconds=s)),
    st.integers(-2 * 86400, 2 * 86400).map(lambda s: timedelta(seconds=s)),
)


_STYLES = st.sampled_from(("offset", "naive", "date"))
_OFFSETS = st.sampled_from(OFFSET_MINUTES)
_SKIPS = st.integers(0, 20)
_LIMITS = st.integers(1, 20)
_TZ_OFFSET = st.none() | tz_offsets()


@st.composite
def _boundary_values(draw: st.DrawFn, references: SearchStrategy[datetime]) -> str:
    instant = draw(references) + draw(_NUDGES)
    style = draw(_STYLES)
    if style == "offset":
        return format_with_offset(instant, draw(_OFFSETS))
    utc = instant.astimezone(UTC)
    if style == "naive":
        return utc.replace(tzinfo=None).isoformat()
    return utc.date().isoformat()


def list_queries(
    fixtures: Fixtures,
    *,
    known_ids: Sequence[str] = (),
    reference_dates: Sequence[datetime] = (),
) -> SearchStrategy[ListQuery]:
    """Returns a strategy which generates :class:`ListQuery` records for
    ``GET /activity/sms/``.

    ``params`` holds any combination of: ``lead_id`` and ``contact_id`` (one or a
    comma-joined few from ``fixtures.leads``), ``user_id`` (``fixtures.user_id``, unless None),
    ``id__in`` (a comma-joined subset of ``known_ids``, when there are any),
    ``date_created__gt/__gte/__lt/__lte`` and ``activity_at__*`` (when
    ``reference_dates`` is non-empty: a reference date exactly, about half the time, or
    nudged by ±1 µs, a few seconds or up to two days; rendered with an offset, as naive
    UTC, or as a bare UTC date), ``_skip`` (``0..20``), ``_limit`` (``1..20``) and
    ``_fields`` (a comma-joined subset of response fields). Integers stay ints.
    ``tz_offset`` is ``None`` or a value from :func:`tz_offsets`.

    ``reference_dates`` must be aware datetimes (typically ``date_created`` and
    ``activity_at`` values read back from the server).

    Shrinks towards ``ListQuery(params={}, tz_offset=None)``.
    """
    check_fixtures(fixtures)
    known = tuple(known_ids)
    for i, value in enumerate(known):
        if not isinstance(value, str):
            raise InvalidArgument(f"Expected str ids but got known_ids[{i}]={value!r}")
    references = tuple(
        check_aware(f"reference_dates[{i}]", value) for i, value in enumerate(reference_dates)
    )
    lead_ids = tuple(dict.fromkeys(lead for lead, _ in fixtures.leads))
    contact_ids = tuple(dict.fromkeys(contact for _, contact in fixtures.leads))
    optional: dict[str, SearchStrategy[Any]] = {
        "lead_id": _comma_joined(lead_ids),
        "contact_id": _comma_joined(contact_ids),
        "user_id": st.just(fixtures.user_id),
        "_skip": _SKIPS,
        "_limit": _LIMITS,
        "_fields": _comma_joined(_FIELDS),
    }
    if fixtures.user_id is None:
        del optional["user_id"]  # a target without GET /me/, and no --user-id
    if known:
        optional["id__in"] = _comma_joined(known)
    if references:
        values = _boundary_values(st.sampled_from(references))  # one strategy for all eight
        for name in DATE_FILTERS:
            optional[name] = values
    params = st.fixed_dictionaries({}, optional=optional)
    return st.builds(ListQuery, params=params, tz_offset=_TZ_OFFSET)
