"""Create bodies that break exactly one documented rule, tagged with its rule id."""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from conformance.fixtures import Fixtures
from conformance.vocabulary import STATUSES
from strategies._attachments import invalid_attachments
from strategies._payloads import create_bodies
from strategies._texts import e164_numbers, malformed_phone_numbers
from strategies._validation import check_aware, check_fixtures

__all__ = ["INVALID_CREATE_RULES", "InvalidPayload", "invalid_create_payloads"]

SCHEDULED_REQUIRES_DATE = "sms/create/scheduled-requires-date-scheduled"
SEND_IN_BELOW_60 = "sms/create/send-in-below-60"
SEND_IN_INVALID_TYPE = "sms/create/send-in-invalid-type"
LOCAL_PHONE_REQUIRED = "sms/create/local-phone-required"
LOCAL_PHONE_INTERNAL = "sms/create/local-phone-internal"
PHONE_MALFORMED = "sms/create/phone-malformed"
TEMPLATE_UNKNOWN = "sms/create/template-unknown-rejected"
STATUS_REQUIRED = "sms/create/status-required"
STATUS_UNKNOWN = "sms/create/status-unknown-rejected"
ATTACHMENT_INVALID = "sms/create/attachment-invalid"
NO_5XX = "protocol/no-5xx"

#: Every rule id :func:`invalid_create_payloads` can tag a case with (catalogue ids).
INVALID_CREATE_RULES: frozenset[str] = frozenset(
    {
        SCHEDULED_REQUIRES_DATE,
        SEND_IN_BELOW_60,
        SEND_IN_INVALID_TYPE,
        LOCAL_PHONE_REQUIRED,
        LOCAL_PHONE_INTERNAL,
        PHONE_MALFORMED,
        TEMPLATE_UNKNOWN,
        STATUS_REQUIRED,
        STATUS_UNKNOWN,
        ATTACHMENT_INVALID,
        NO_5XX,
    }
)

_STATUS_ENUM = STATUSES
#: Bases whose other fields do not depend on the status (no date_scheduled/send_in).
_PLAIN_STATUSES = ("draft", "inbox", "sent")
#: The base of bodies whose status is removed or broken: nothing else depends on it
#: (a draft never says ``inbound``).
_STATUSLESS_BASE = ("draft",)
_SENDING_STATUSES = ("outbox", "scheduled")


@dataclass(frozen=True, slots=True)
class InvalidPayload:
    """A create body with exactly one thing wrong.

    ``violation`` is the catalogue rule id it breaks; ``field`` is the body key the
    server's error ought to name (``None`` when no single field is to blame).
    """

    body: dict[str, Any]
    violation: str
    field: str | None


def _wrong_types(*, allow_null: bool = False) -> SearchStrategy[Any]:
    """JSON values of a wrong type for a string field: numbers, bools, lists, objects."""
    values = st.one_of(
        st.integers(-1000, 10**6),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.booleans(),
        st.lists(st.integers(0, 9), max_size=3),
        st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2),
    )
    return values | st.none() if allow_null else values


@st.composite
def _scheduled_without_date(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, ("scheduled",)))
    how = draw(st.sampled_from(("missing", "null", "malformed")))
    if how == "missing":
        del body["date_scheduled"]
    elif how == "null":
        body["date_scheduled"] = None
    else:
        body["date_scheduled"] = draw(
            st.sampled_from(
                (
                    "tomorrow",
                    "2026-13-45T00:00:00",
                    "",
                    "not a date",
                    "2026-02-30T10:00:00+00:00",
                    "25:61",
                    "2026-06-01T10:00:00+99:00",
                )
            )
        )
    return InvalidPayload(body, SCHEDULED_REQUIRES_DATE, "date_scheduled")


@st.composite
def _send_in_too_large(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, ("outbox",)))
    body["send_in"] = draw(st.one_of(st.just(60), st.integers(60, 10**6)))
    return InvalidPayload(body, SEND_IN_BELOW_60, "send_in")


_SEND_IN_WRONG_TYPES = st.one_of(
    # Never a bool (Python's int), "" (absent) or a numeric string: a server may
    # read those as seconds (audit C11).
    st.sampled_from(("ten", "soon", "thirty seconds")),
    st.lists(st.integers(0, 59), max_size=2),
    st.dictionaries(st.just("seconds"), st.integers(0, 59), max_size=1),
)


@st.composite
def _send_in_wrong_type(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, ("outbox",)))
    body["send_in"] = draw(_SEND_IN_WRONG_TYPES)
    return InvalidPayload(body, SEND_IN_INVALID_TYPE, "send_in")


@st.composite
def _without_local_phone(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _SENDING_STATUSES))
    if draw(st.booleans()):
        body["local_phone"] = None
    else:
        del body["local_phone"]
    return InvalidPayload(body, LOCAL_PHONE_REQUIRED, "local_phone")


@lru_cache(maxsize=256)
def _non_internal_phones(fixtures: Fixtures) -> SearchStrategy[str]:
    internal = set(fixtures.internal_phones)
    unknown = e164_numbers().filter(lambda number: number not in internal)
    externals = [p for p in fixtures.external_phones if p not in internal]
    return st.sampled_from(externals) | unknown if externals else unknown


@st.composite
def _non_internal_local_phone(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _SENDING_STATUSES))
    body["local_phone"] = draw(_non_internal_phones(fixtures))
    return InvalidPayload(body, LOCAL_PHONE_INTERNAL, "local_phone")


@st.composite
def _malformed_phone(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _PLAIN_STATUSES + _SENDING_STATUSES))
    key = draw(st.sampled_from(("remote_phone", "local_phone")))
    body[key] = draw(malformed_phone_numbers())
    return InvalidPayload(body, PHONE_MALFORMED, key)


@lru_cache(maxsize=256)
def _template_ids_other_than(template_id: str | None) -> SearchStrategy[str]:
    suffix = st.text(st.sampled_from(string.ascii_letters + string.digits), min_size=1, max_size=22)
    return suffix.map("smstmpl_".__add__).filter(lambda t: t != template_id)


@st.composite
def _unknown_template(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _PLAIN_STATUSES + _SENDING_STATUSES))
    body.pop("text", None)
    body["template_id"] = draw(_template_ids_other_than(fixtures.template_id))
    return InvalidPayload(body, TEMPLATE_UNKNOWN, "template_id")


@st.composite
def _without_status(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _STATUSLESS_BASE))
    del body["status"]
    return InvalidPayload(body, STATUS_REQUIRED, "status")


def _is_unknown_status(value: str) -> bool:
    return value.strip().lower() not in _STATUS_ENUM


_UNKNOWN_STATUSES = st.one_of(
    st.sampled_from(("pending", "queued", "delivered", "received", "failed", "")),
    st.text(st.sampled_from(string.ascii_lowercase), min_size=1, max_size=10).filter(
        _is_unknown_status
    ),
    _wrong_types(),
)


@st.composite
def _unknown_status(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _STATUSLESS_BASE))
    body["status"] = draw(_UNKNOWN_STATUSES)
    return InvalidPayload(body, STATUS_UNKNOWN, "status")


@st.composite
def _invalid_attachment_list(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    body = draw(create_bodies(fixtures, now, _PLAIN_STATUSES + _SENDING_STATUSES))
    body["attachments"] = draw(invalid_attachments())
    return InvalidPayload(body, ATTACHMENT_INVALID, "attachments")


#: field -> (statuses of the base body, strategy of wrong values)
_WRONG_TYPE_FIELDS: dict[str, tuple[tuple[str, ...], SearchStrategy[Any]]] = {
    "text": (_PLAIN_STATUSES, _wrong_types()),
    "lead_id": (_PLAIN_STATUSES, _wrong_types()),
    "contact_id": (_PLAIN_STATUSES, _wrong_types()),
    "user_id": (_PLAIN_STATUSES, _wrong_types()),
    "template_id": (_PLAIN_STATUSES, _wrong_types()),
    "remote_phone": (_PLAIN_STATUSES, _wrong_types()),
    "local_phone": (_PLAIN_STATUSES, _wrong_types()),
    "activity_at": (_PLAIN_STATUSES, _wrong_types()),
    "attachments": (
        _PLAIN_STATUSES,
        st.one_of(st.integers(0, 10), st.sampled_from(("", "file.pdf")), st.just({})),
    ),
    "direction": (
        ("inbox", "sent"),
        st.sampled_from(("sideways", "in", "out", "incoming", "")) | _wrong_types(),
    ),
    "source": (("inbox", "sent"), st.sampled_from(("Elsewhere", "api", "")) | _wrong_types()),
    "date_scheduled": (("scheduled",), st.integers(0, 2**40) | _wrong_types()),
}


@st.composite
def _wrong_json_type(draw: st.DrawFn, fixtures: Fixtures, now: datetime) -> InvalidPayload:
    key = draw(st.sampled_from(tuple(_WRONG_TYPE_FIELDS)))
    statuses, values = _WRONG_TYPE_FIELDS[key]
    # A template renders against the lead/contact pair, so keep it out of bodies whose
    # text or pair is the broken part; and never send both a text and a template id.
    template = key not in ("text", "lead_id", "contact_id")
    body = draw(create_bodies(fixtures, now, statuses, allow_template=template))
    if key == "template_id":
        body.pop("text", None)
    if key in ("lead_id", "contact_id") and "lead_id" not in body:
        # Break one half of a real pair, never send half a pair.
        body["lead_id"], body["contact_id"] = draw(st.sampled_from(fixtures.leads))
    body[key] = draw(values)
    return InvalidPayload(body, NO_5XX, key)


#: Each rule and the family that breaks it, in the order the families are drawn (and shrink).
_FAMILY_OF = {
    STATUS_REQUIRED: _without_status,
    STATUS_UNKNOWN: _unknown_status,
    SCHEDULED_REQUIRES_DATE: _scheduled_without_date,
    SEND_IN_BELOW_60: _send_in_too_large,
    SEND_IN_INVALID_TYPE: _send_in_wrong_type,
    LOCAL_PHONE_REQUIRED: _without_local_phone,
    LOCAL_PHONE_INTERNAL: _non_internal_local_phone,
    PHONE_MALFORMED: _malformed_phone,
    TEMPLATE_UNKNOWN: _unknown_template,
    ATTACHMENT_INVALID: _invalid_attachment_list,
    NO_5XX: _wrong_json_type,
}
_FAMILIES = tuple(_FAMILY_OF.values())
if set(_FAMILY_OF) != INVALID_CREATE_RULES:  # pragma: no cover - a typo fails at import
    raise ImportError("strategies._invalid: every invalid-create rule needs one family")


def invalid_create_payloads(
    fixtures: Fixtures, *, now: datetime, breaking: Collection[str] | None = None
) -> SearchStrategy[InvalidPayload]:
    """Returns a strategy which generates :class:`InvalidPayload` records: create bodies
    in which exactly one documented rule is broken and everything else is valid (built
    from :func:`create_payloads`), each tagged with the rule id and the field to blame.

    One family per rule (ids in :data:`INVALID_CREATE_RULES`):

    - ``sms/create/status-required``: no ``status`` (field ``status``);
    - ``sms/create/status-unknown-rejected``: ``status`` outside the enum (never a case
      variant, never ``error``) or of a wrong JSON type;
    - ``sms/create/scheduled-requires-date-scheduled``: ``scheduled`` with
      ``date_scheduled`` missing, null or malformed;
    - ``sms/create/send-in-below-60``: ``outbox`` with ``send_in`` in ``60..10**6``
      (60 itself drawn often);
    - ``sms/create/send-in-invalid-type``: ``send_in`` a word, list, object or bool;
    - ``sms/create/local-phone-required``: ``outbox``/``scheduled`` with ``local_phone``
      absent or null (a server may instead let Caller ID pick the number: open point
      ``local-phone-on-sends``, which the model allows);
    - ``sms/create/local-phone-internal``: ``outbox``/``scheduled`` with an external or
      unknown (valid E.164) ``local_phone``;
    - ``sms/create/phone-malformed``: ``local_phone`` or ``remote_phone`` from
      :func:`malformed_phone_numbers` (field = that key);
    - ``sms/create/template-unknown-rejected``: an unknown ``smstmpl_…`` id and no text;
    - ``sms/create/attachment-invalid``: ``attachments`` from :func:`invalid_attachments`;
    - ``protocol/no-5xx``: one field of a wrong JSON type, or ``direction``/``source``
      outside its enum (field = that key).

    ``breaking`` (rule ids from :data:`INVALID_CREATE_RULES`) draws only the families of
    those rules, each as often as the others: for a caller that wants some refusals more
    often than one in eleven.

    Shrinks towards the first family (a minimal draft body without ``status``), and
    within a family towards its minimal valid base.
    """
    check_fixtures(fixtures)
    check_aware("now", now)
    if breaking is None:
        return _invalid_create_payloads(fixtures, now)
    unknown = set(breaking) - INVALID_CREATE_RULES
    if unknown or not breaking:
        raise InvalidArgument(
            f"breaking={sorted(breaking)!r}: expected some of {sorted(INVALID_CREATE_RULES)}"
        )
    chosen = tuple(rule for rule in _FAMILY_OF if rule in set(breaking))
    return _families_breaking(fixtures, now, chosen)


@lru_cache(maxsize=256)
def _families_breaking(
    fixtures: Fixtures, now: datetime, rules: tuple[str, ...]
) -> SearchStrategy[InvalidPayload]:
    return st.one_of([_FAMILY_OF[rule](fixtures, now) for rule in rules])


@lru_cache(maxsize=256)
def _invalid_create_payloads(fixtures: Fixtures, now: datetime) -> SearchStrategy[InvalidPayload]:
    # Built once per arguments: the validation machine draws it at every step.
    return st.one_of([family(fixtures, now) for family in _FAMILIES])
