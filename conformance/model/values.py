"""The values of a request body: the JSON types the schema gives each field, phones no
server could read, values a server may read either way (loose), dates in an undocumented
spelling, attachments, and the forms a text may read back as."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from conformance.dates import read
from conformance.model.records import SmsRecord
from conformance.vocabulary import ATTACHMENT_TYPES, DIRECTIONS, SENDING, SOURCES

__all__ = [
    "DATE_FIELDS",
    "EMPTY_SEND",
    "FILES_API_URL",
    "STRING_FIELDS",
    "UPDATE_FIELDS",
    "attachments_invalid",
    "foreign_attachment",
    "fractional",
    "is_clearly_not_a_phone",
    "is_empty",
    "is_number",
    "loose_phone",
    "loose_seconds",
    "numeric_string",
    "nothing_to_send",
    "odd_date",
    "open_fields",
    "text_forms",
    "with_text_forms",
    "without_loose_values",
    "wrong_type",
]

# Request fields and the JSON types the schema gives them (all nullable but status).
STRING_FIELDS = (
    "text", "lead_id", "contact_id", "user_id", "template_id", "local_phone", "remote_phone",
    "created_by_id", "organization_id",
)  # fmt: skip
DATE_FIELDS = ("activity_at", "date_created", "date_scheduled")
# The fields of UpdateSMSActivity (1.5), and date_scheduled from its prose.
UPDATE_FIELDS = (
    "activity_at", "attachments", "contact_id", "lead_id", "local_phone", "remote_phone",
    "template_id", "text", "user_id", "date_scheduled",
)  # fmt: skip
# What accepting and refusing a send with nothing in it show of the open point.
# Accepting one does not tell accept from accept-then-error (what the sender does later
# does, rules/sending.py); a refusal tells reject.
EMPTY_SEND = (None, "empty-send=reject")


_VANITY = re.compile(r"^\+?[0-9A-Za-z() .-]+$")


def is_clearly_not_a_phone(value: Any) -> bool:
    """True for strings no server could read as a phone number (under 3 digits, or letters
    that are no vanity spelling).

    A number in another notation, such as ``(650) 555-0100``, is not flagged: a server may
    legitimately normalise it to E.164. Nor are ``""`` (a server may read it as null) and a
    vanity number such as ``+1650555abcd`` (libphonenumber reads its letters as the keypad's
    digits): see :func:`loose_phone`."""
    if not isinstance(value, str) or loose_phone(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    return digits < 3 or any(ch.isalpha() for ch in value)


def loose_phone(value: Any) -> bool:
    """True for a phone value a server may read or refuse (audit C5): ``""`` (as null), or a
    vanity number, letters among at least 7 digits and letters in a phone's notation."""
    if value == "":
        return True
    if not isinstance(value, str) or not any(ch.isalpha() for ch in value):
        return False
    return _VANITY.match(value) is not None and sum(ch.isalnum() for ch in value) >= 7


def wrong_type(body: Mapping[str, Any], status: str) -> tuple[str, bool] | None:
    """Return the first field whose JSON type or value the schema does not allow, and whether
    a server may read it anyway (``loose``), else None.

    Loose (the docs say neither way, audit C4): a number where a string or a date-time is
    typed (a framework may coerce 12345 to "12345", or read a number as a Unix time), ``""``
    where an enum is typed (read as null), and a ``date_scheduled`` that is no date on an SMS
    that is not scheduled (a server may ignore the field there). Not loose: a bool, a list or
    an object where a string is typed, a non-empty string outside an enum, a string that is
    no date where a date-time is typed (section 1.3 types each field; 2.6 "`400` problem with
    the request")."""
    for name in STRING_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return name, is_number(value)
    for name in DATE_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if is_number(value):
            return name, True
        if not isinstance(value, str):
            return name, False
        if read(value) is None and not (name == "date_scheduled" and status == "scheduled"):
            return name, name == "date_scheduled"
    for name, allowed in (("direction", DIRECTIONS), ("source", SOURCES)):
        value = body.get(name)
        if value is not None and value not in allowed:
            return name, value == ""
    if body.get("attachments") is not None and not isinstance(body["attachments"], list):
        return "attachments", False
    for name in ("local_phone", "remote_phone"):
        if loose_phone(body.get(name)):
            return name, True
    return None


def without_loose_values(body: Any) -> Any:
    """``body`` (a create or update body) without the values a server may read either way
    or refuse (audit C4, C5, C11: :func:`wrong_type`'s loose values, a loose ``send_in``):
    what is left must still be refused when it breaks a documented type, enum or required
    field. Anything but a JSON object is returned as it is."""
    if not isinstance(body, Mapping):
        return body
    body = dict(body)
    status = body.get("status")
    while (wrong := wrong_type(body, status if isinstance(status, str) else "")) is not None:
        if not wrong[1]:
            break
        # Read as the server may read it: a string, a date, an enum left out (null).
        name = wrong[0]
        if name in DATE_FIELDS:
            body[name] = "2026-01-01T00:00:00+00:00"
        elif name in ("direction", "source"):
            body.pop(name)
        else:
            body[name] = "+15555550100" if name in ("local_phone", "remote_phone") else "0"
    if loose_seconds(body.get("send_in")):
        body["send_in"] = 0
    return body


def odd_date(body: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """The first of ``names`` ``body`` gives a date in a spelling beyond the documented one
    (:mod:`conformance.dates`): a server may read it or refuse it."""
    for name in names:
        spelling = read(body.get(name))
        if spelling is not None and not spelling.documented:
            return name
    return None


def attachments_invalid(items: Any) -> bool:
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, dict):
            return True
        for key in ("url", "filename", "content_type"):
            if not isinstance(item.get(key), str):
                return True
        if item["content_type"] not in ATTACHMENT_TYPES:
            return True
    return False


# Where the docs require attachment urls for notes, e-mail and WhatsApp to come from (the
# Files API); for SMS this is not stated (1.7), so other urls may be accepted or refused.
FILES_API_URL = "https://app.close.com/go/file/"


def foreign_attachment(items: Any) -> bool:
    """True when an attachment's url is not a Files API url (audit C20)."""
    return isinstance(items, list) and any(
        isinstance(item, dict) and not str(item.get("url", "")).startswith(FILES_API_URL)
        for item in items
    )


def open_fields(
    body: Mapping[str, Any],
    wrong: tuple[str, bool] | None,
    caller_id: bool,
    internal_phones: Iterable[str] = (),
) -> set[str]:
    """The fields of a create (that no documented rule refuses) for which a server may refuse
    it: one for each point the docs leave open that the body touches."""
    status = body["status"]
    fields = set()
    if wrong is not None:
        fields.add(wrong[0])
    odd = odd_date(body, DATE_FIELDS)
    if odd is not None:
        fields.add(odd)
    implied = "inbound" if status == "inbox" else "outbound"
    if body.get("direction") in DIRECTIONS and body["direction"] != implied:
        fields.add("direction")
    if status == "error":
        fields.add("status")
    if foreign_attachment(body.get("attachments")):
        fields.add("attachments")
    send_in = body.get("send_in")
    if "send_in" in body and (
        status != "outbox" or is_number(send_in) and (send_in < 0 or fractional(send_in))
    ):
        fields.add("send_in")  # send-in-other-status, send-in-negative, send-in-fraction
    if status in SENDING and nothing_to_send(
        body.get("text"), body.get("attachments"), body.get("template_id")
    ):
        fields.add("text")
    if caller_id or status not in SENDING and body.get("local_phone") not in tuple(internal_phones):
        fields.add("local_phone")  # local-phone-on-sends; a logged SMS's (local-phone-logging)
    if body.get("template_id") is not None and body.get("text") is not None:
        fields.add("template_id")  # template-and-text
    return fields


def nothing_to_send(text: Any, attachments: Any, template_id: Any) -> bool:
    """True for an SMS that carries nothing: no text (null or ""), no attachment, no
    template. Whether it may be sent is an open point (``empty-send``)."""
    return not text and not attachments and template_id is None


def text_forms(text: Any) -> tuple[str, ...]:
    """The forms besides ``text`` itself it may read back as: its NFC normalisation, when
    that differs (open point text-normalisation: nothing documents byte-exact storage)."""
    if not isinstance(text, str):
        return ()
    composed = unicodedata.normalize("NFC", text)
    return (composed,) if composed != text else ()


def with_text_forms(texts: tuple[Any, ...]) -> tuple[Any, ...]:
    """``texts`` and the other forms each may read back as, without repeats."""
    out: list[Any] = []
    for text in texts:
        for form in (text, *text_forms(text)):
            if form not in out:
                out.append(form)
    return tuple(out)


def loose_seconds(value: Any) -> bool:
    """True for a send_in a server may read as seconds or refuse (audit C11): a bool (an int
    to Python), ``""`` (as absent) or a numeric string (``"5"``, as a form field)."""
    return isinstance(value, bool) or value == "" or numeric_string(value) is not None


def numeric_string(value: Any) -> float | None:
    """The number a string of a finite number spells (``"75"``, ``"5.5"``), as a server that
    reads a form field would read it (open point send-in-numeric-string); None for any
    other value."""
    if not isinstance(value, str) or value.strip() != value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fractional(value: Any) -> bool:
    """True for a finite number of seconds that is not whole (5.5): kept, cut to whole
    seconds or refused (open point ``send-in-fraction``)."""
    return is_number(value) and math.isfinite(value) and value != int(value)


def is_empty(record: SmsRecord) -> bool:
    """True for an SMS with nothing to send (no text, attachment or rendered template)."""
    written = record.written
    if record.text_choices is not None or written.get("template_id") is not None:
        return False  # a template was rendered into it
    return nothing_to_send(written.get("text"), written.get("attachments"), None)
