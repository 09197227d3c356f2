"""Hypothesis strategies for the Close CRM SMS activity API.

Every strategy returns plain JSON-compatible values (or small frozen records holding
them); none performs I/O. Strategies that depend on the target take a
:class:`conformance.fixtures.Fixtures`; those that depend on the time take an aware
``now``. Invalid arguments raise :class:`hypothesis.errors.InvalidArgument`.
"""

from strategies._attachments import ATTACHMENT_CONTENT_TYPES, attachments, invalid_attachments
from strategies._dates import datetimes_with_offsets, naive_datetimes, tz_offsets
from strategies._invalid import INVALID_CREATE_RULES, InvalidPayload, invalid_create_payloads
from strategies._payloads import CREATE_STATUSES, create_payloads, update_payloads
from strategies._queries import DATE_FILTERS, ListQuery, list_queries
from strategies._texts import e164_numbers, malformed_phone_numbers, texts

__all__ = [
    "ATTACHMENT_CONTENT_TYPES",
    "CREATE_STATUSES",
    "DATE_FILTERS",
    "INVALID_CREATE_RULES",
    "InvalidPayload",
    "ListQuery",
    "attachments",
    "create_payloads",
    "datetimes_with_offsets",
    "e164_numbers",
    "invalid_attachments",
    "invalid_create_payloads",
    "list_queries",
    "malformed_phone_numbers",
    "naive_datetimes",
    "texts",
    "tz_offsets",
    "update_payloads",
]
