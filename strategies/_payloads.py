"""Valid create and update bodies for ``/activity/sms/``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from conformance import vocabulary
from conformance.fixtures import Fixtures
from strategies._attachments import attachments
from strategies._dates import datetimes_with_offsets
from strategies._texts import texts
from strategies._validation import check_aware, check_fixtures, check_one_of

__all__ = ["CREATE_STATUSES", "create_payloads", "update_payloads"]

#: Statuses documented as create options, in shrink order (``error`` is in the enum but
#: not described as a create option, so it is never drawn).
CREATE_STATUSES: tuple[str, ...] = ("draft", "inbox", "sent", "outbox", "scheduled")
if sorted(CREATE_STATUSES) != sorted(vocabulary.CREATE_STATUSES):  # the order is the strategies'
    raise ImportError(f"CREATE_STATUSES {CREATE_STATUSES} are not {vocabulary.CREATE_STATUSES}")

#: Statuses whose SMS Close itself sends; they are only ever drawn as ``outbound``.
_SENT_BY_CLOSE = frozenset({"draft", "scheduled", "outbox"})

SCHEDULE_MIN_AHEAD = timedelta(minutes=5)
SCHEDULE_MAX_AHEAD = timedelta(days=30)


def scheduled_dates(now: datetime) -> SearchStrategy[str]:
    """``date_scheduled`` values strictly in the future: ``now + 5 min .. now + 30 days``."""
    return datetimes_with_offsets(
        min_value=now + SCHEDULE_MIN_AHEAD, max_value=now + SCHEDULE_MAX_AHEAD
    )


_BOOLEANS = st.booleans()
_SEND_IN = st.integers(0, 59)


@lru_cache(maxsize=256)
def _sampled(values: tuple[Any, ...]) -> SearchStrategy[Any]:
    return st.sampled_from(values)


@lru_cache(maxsize=256)
def _no_lead_or(leads: tuple[tuple[str, str], ...]) -> SearchStrategy[tuple[str, str] | None]:
    return st.none() | st.sampled_from(leads)


@lru_cache(maxsize=256)
def create_bodies(
    fixtures: Fixtures,
    now: datetime,
    statuses: tuple[str, ...],
    *,
    allow_template: bool = True,
) -> SearchStrategy[dict[str, Any]]:
    """The unchecked core of :func:`create_payloads`; also the base the invalid families
    break. ``allow_template=False`` always sends ``text``.

    Built once per arguments: composites draw it at every step, and a strategy built afresh
    is validated afresh (its inner strategies too). A strategy object holds no state, so
    sharing one draws exactly what a new one would."""
    return _create_bodies(fixtures, now, statuses, allow_template=allow_template)


@st.composite
def _create_bodies(
    draw: st.DrawFn,
    fixtures: Fixtures,
    now: datetime,
    statuses: Sequence[str],
    *,
    allow_template: bool = True,
) -> dict[str, Any]:
    status = draw(_sampled(tuple(statuses)))
    body: dict[str, Any] = {
        "status": status,
        "local_phone": draw(_sampled(fixtures.internal_phones)),
        "remote_phone": draw(_sampled(fixtures.remote_phones)),
    }
    lead = draw(_no_lead_or(fixtures.leads))
    if lead is not None:
        body["lead_id"], body["contact_id"] = lead
    if (
        allow_template
        and fixtures.template_id is not None
        and lead == fixtures.leads[0]
        and draw(_BOOLEANS)
    ):
        body["template_id"] = fixtures.template_id
    else:
        body["text"] = draw(texts())
    if draw(_BOOLEANS):
        directions = ("outbound",) if status in _SENT_BY_CLOSE else ("inbound", "outbound")
        body["direction"] = draw(_sampled(directions))
    if draw(_BOOLEANS):
        body["attachments"] = draw(attachments(min_size=1))
    if status == "scheduled":
        body["date_scheduled"] = draw(scheduled_dates(now))
    if status == "outbox" and draw(_BOOLEANS):
        body["send_in"] = draw(_SEND_IN)
    return body


def create_payloads(
    fixtures: Fixtures, *, now: datetime, status: str | None = None
) -> SearchStrategy[dict[str, Any]]:
    """Returns a strategy which generates valid ``POST /activity/sms/`` bodies.

    ``status`` is the given one, or any of ``draft``, ``inbox``, ``sent``, ``outbox``,
    ``scheduled``. Every body has ``status``, a ``local_phone`` from
    ``fixtures.internal_phones`` and a ``remote_phone`` from ``fixtures.remote_phones``;
    optionally a ``lead_id``/``contact_id`` pair from ``fixtures.leads``; either a
    ``text`` from :func:`texts` or, only with the first lead's pair (so the rendering is
    ``fixtures.rendered_template``), ``template_id=fixtures.template_id`` and no
    ``text`` (never when ``fixtures.template_id`` is None: a target without a template);
    optionally ``direction`` (always ``outbound`` for statuses Close sends: draft,
    scheduled, outbox); optionally one to three ``attachments``. ``scheduled``
    bodies carry a ``date_scheduled`` with an offset between ``now + 5 min`` and
    ``now + 30 days``; ``outbox`` bodies may carry ``send_in`` in ``0..59``.

    ``now`` must be an aware datetime; ``status`` must be one of the five above, else
    ``InvalidArgument``.

    Shrinks towards a minimal draft-like body:
    ``{"status": "draft", "local_phone": <first internal>, "remote_phone": <first
    remote>, "text": ""}`` (for a fixed ``status``, that status plus what it requires).
    """
    check_fixtures(fixtures)
    check_aware("now", now)
    if status is None:
        statuses: tuple[str, ...] = CREATE_STATUSES
    else:
        statuses = (check_one_of("status", status, CREATE_STATUSES),)
    return create_bodies(fixtures, now, statuses)  # built once per arguments


_UPDATE_FIELDS = ("remote_phone", "text", "local_phone", "lead", "attachments", "activity_at")
_UPDATE_CHOICES = st.lists(st.sampled_from(_UPDATE_FIELDS), min_size=1, max_size=3, unique=True)


@st.composite
def _update_bodies(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> dict[str, Any]:
    chosen = draw(_UPDATE_CHOICES)
    body: dict[str, Any] = {}
    for name in chosen:
        if name == "text":
            body["text"] = draw(texts())
        elif name == "remote_phone":
            body["remote_phone"] = draw(_sampled(fixtures.remote_phones))
        elif name == "local_phone":
            body["local_phone"] = draw(_sampled(fixtures.internal_phones))
        elif name == "lead":
            body["lead_id"], body["contact_id"] = draw(_sampled(fixtures.leads))
        elif name == "attachments":
            body["attachments"] = draw(attachments())
        else:
            body["activity_at"] = draw(
                datetimes_with_offsets(min_value=now - timedelta(days=365), max_value=now)
            )
    return body


def update_payloads(fixtures: Fixtures, *, now: datetime) -> SearchStrategy[dict[str, Any]]:
    """Returns a strategy which generates valid partial ``PUT /activity/sms/{id}/`` bodies
    for editing a draft: one to three of ``text`` (from :func:`texts`), ``remote_phone``
    (from ``fixtures.remote_phones``), ``local_phone`` (an internal number), a
    ``lead_id``/``contact_id`` pair (counted as one), ``attachments`` (zero to three; an
    empty list clears them) and ``activity_at`` (with an offset, within the year before
    ``now``). Never ``status``.

    Shrinks towards a single-field edit, ``{"remote_phone": <first remote phone>}``.
    """
    check_fixtures(fixtures)
    check_aware("now", now)
    return _update_bodies_for(fixtures, now)


@lru_cache(maxsize=256)
def _update_bodies_for(fixtures: Fixtures, now: datetime) -> SearchStrategy[dict[str, Any]]:
    return _update_bodies(fixtures, now)
