"""The spec's vocabulary, once: the enums of the SMS activity schema (statuses, directions,
sources, attachment content types) and the E.164 pattern of phone numbers, as the docs give
them (docs/reference/close-sms-api.md, 1.3 and 1.7; the OpenAPI document
conformance/openapi/close-sms.yaml). The model, the reference server, the checks and the
strategies import them from here; tests/test_vocabulary.py holds them to the OpenAPI
document. Dates have their own module (:mod:`conformance.dates`).
"""

from __future__ import annotations

import re

__all__ = [
    "ATTACHMENT_CONTENT_TYPES",
    "ATTACHMENT_TYPES",
    "CREATE_STATUSES",
    "DELIVERED",
    "DIRECTIONS",
    "E164",
    "LOGGED",
    "SENDING",
    "SOURCES",
    "STATUSES",
    "is_e164",
]

CREATE_STATUSES = ("inbox", "draft", "scheduled", "outbox", "sent")
STATUSES = (*CREATE_STATUSES, "error")
SENDING = ("scheduled", "outbox")  # statuses whose SMS Close sends
LOGGED = ("inbox", "sent")  # statuses that log an SMS sent or received elsewhere
DELIVERED = ("sent", "error")  # where an SMS goes once its sender has run (open question 3)
DIRECTIONS = ("inbound", "outbound")
SOURCES = ("Close.io", "External")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# The content_type enum of SMSAttachmentInput (SPEC), in the schema's order.
ATTACHMENT_CONTENT_TYPES: tuple[str, ...] = (
    "application/pdf",
    "application/vcard",
    "audio/3gpp",
    "audio/3gpp2",
    "audio/L24",
    "audio/ac3",
    "audio/amr",
    "audio/amr-nb",
    "audio/basic",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "audio/vnd.rn-realaudio",
    "audio/vnd.wave",
    "audio/webm",
    "image/bmp",
    "image/gif",
    "image/jpeg",
    "image/jpg",
    "image/png",
    "image/tiff",
    "text/calendar",
    "text/csv",
    "text/directory",
    "text/richtext",
    "text/rtf",
    "text/vcard",
    "text/x-vcard",
    "video/3gpp",
    "video/3gpp-tt",
    "video/3gpp2",
    "video/H261",
    "video/H263",
    "video/H263-1998",
    "video/H263-2000",
    "video/H264",
    "video/mp4",
    "video/mpeg",
    "video/quicktime",
    "video/webm",
)
ATTACHMENT_TYPES = frozenset(ATTACHMENT_CONTENT_TYPES)


def is_e164(value: object) -> bool:
    """True for a string in E.164 form (``+`` and up to 15 digits, no leading 0)."""
    return isinstance(value, str) and E164.fullmatch(value) is not None
