"""Reading the fixture endpoints' answers without trusting them.

``/me/``, ``/phone_number/``, ``/lead/`` and ``/sms_template/`` answers are read field by
field: a missing field, a wrong type, an empty list where one item is needed, or an id that
cannot be a URL path segment raises :class:`~conformance.client.MalformedAnswer` naming the
request and what was wrong, never a ``KeyError`` or ``TypeError`` (which would end the run
as a crash instead of an inconclusive verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.client import MalformedAnswer
from conformance.safety import segment

__all__ = ["LeadAnswer", "TemplateAnswer", "read_lead", "read_me", "read_phones", "read_template"]


@dataclass(frozen=True, slots=True)
class LeadAnswer:
    """A lead as a fixture: its id and name, and its first contact's id and name."""

    id: str
    name: str
    contact_id: str
    contact_name: str


@dataclass(frozen=True, slots=True)
class TemplateAnswer:
    id: str
    name: str
    text: str


def malformed(request: str, problem: str) -> MalformedAnswer:
    """``MalformedAnswer("GET lead/x/ answered a lead without 'id' ...")``."""
    return MalformedAnswer(f"{request} answered {problem}; the run cannot set up its fixtures")


def _object(value: object, request: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise malformed(request, f"{what} that is not a JSON object ({type(value).__name__})")
    return value


def _id(answer: Mapping[str, Any], key: str, request: str, what: str) -> str:
    """``answer[key]`` as an id usable as a path segment."""
    if key not in answer:
        raise malformed(request, f"{what} without {key!r}")
    value = answer[key]
    if not isinstance(value, str) or not value:
        raise malformed(request, f"{what} whose {key!r} is not a non-empty string: {value!r}")
    try:
        segment(value, what=f"{what} {key}")
    except MalformedAnswer as error:
        raise malformed(request, str(error).removeprefix("the target gave ")) from None
    return value


def _text(answer: Mapping[str, Any], key: str, request: str, what: str) -> str:
    """``answer[key]`` as a string; missing or null reads as ``""``."""
    value = answer.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise malformed(request, f"{what} whose {key!r} is not a string: {value!r}")
    return value


def _list(answer: Mapping[str, Any], key: str, request: str, what: str) -> list[Any]:
    value = answer.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(request, f"{what} whose {key!r} is not a list: {type(value).__name__}")
    return value


def read_me(answer: object, request: str = "GET me/") -> tuple[str, str]:
    """The organisation id and the user id in a ``/me/`` answer (``""`` when absent)."""
    me = _object(answer, request, "a user")
    organizations = _list(me, "organizations", request, "a user")
    organization_id = ""
    if organizations:
        first = _object(organizations[0], request, "an organization")
        organization_id = _text(first, "id", request, "an organization")
    organization_id = organization_id or _text(me, "organization_id", request, "a user")
    return organization_id, _text(me, "id", request, "a user")


def read_phones(answer: object, request: str = "GET phone_number/") -> tuple[tuple[str, ...], ...]:
    """The ``internal`` and the ``external`` numbers in a ``/phone_number/`` list.

    An internal number that says ``sms_enabled: false`` (3.1; a number rented as
    ``has-voice-only``) cannot send SMS, so it is left out, unless no internal number is
    SMS-enabled (audit C10b: every internal number the run uses as local_phone must be able
    to send)."""
    page = _object(answer, request, "a list")
    internal: list[str] = []
    external: list[str] = []
    voice_only: list[str] = []
    for item in _list(page, "data", request, "a list"):
        phone = _object(item, request, "a phone number")
        kind = phone.get("type")
        if kind not in ("internal", "external"):
            continue
        number = _text(phone, "number", request, f"an {kind} phone number")
        if not number:
            raise malformed(request, f"an {kind} phone number without 'number'")
        if kind == "internal" and phone.get("sms_enabled") is False:
            voice_only.append(number)
        else:
            (internal if kind == "internal" else external).append(number)
    return tuple(internal or voice_only), tuple(external)


def read_lead(answer: object, request: str) -> LeadAnswer:
    """A lead answer with at least one contact (SMS need one)."""
    lead = _object(answer, request, "a lead")
    lead_id = _id(lead, "id", request, "a lead")
    contacts = _list(lead, "contacts", request, "a lead")
    if not contacts:
        raise malformed(request, f"lead {lead_id!r} without a contact (SMS need one)")
    contact = _object(contacts[0], request, "a contact")
    return LeadAnswer(
        id=lead_id,
        name=_text(lead, "name", request, "a lead"),
        contact_id=_id(contact, "id", request, "a contact"),
        contact_name=_text(contact, "name", request, "a contact"),
    )


def read_template(answer: object, request: str) -> TemplateAnswer:
    template = _object(answer, request, "an SMS template")
    return TemplateAnswer(
        id=_id(template, "id", request, "an SMS template"),
        name=_text(template, "name", request, "an SMS template"),
        text=_text(template, "text", request, "an SMS template"),
    )
