"""The SMS document: its shared vocabulary and the parts create and update both build.

Stored text and times, attachments as answered, phones with their formatted forms, the
user, Caller ID, the lead/contact pair, template lookup and rendering. The lifecycle's
choices are described in :mod:`conformance.refserver.sms`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.dates import at_precision
from conformance.refserver.errors import ValidationFailed
from conformance.refserver.phones import country_iso, format_phone
from conformance.refserver.seed import ORGS
from conformance.refserver.templates import RenderContext, render
from conformance.refserver.validation import REQUIRED, phone_value, string_value

EMPTY_SEND = "An SMS needs text or an attachment to be sent."
PAST_DATE = "Must be in the future."
# The url an answer gives an attachment under the attachment-url=rehosted reading: the
# server's own, as in the docs' example (accessing it leads to a signed S3 URL).
MEDIA_URL = "https://app.close.com/go/sms/{sms_id}/media/{media_id}/"
DELETED = "sms_deleted"  # the kind of soft-deleted SMS (faulty variants only)


def stored_text(ctx: RequestContext, text: str | None) -> str | None:
    """Return ``text`` as it is stored: as given, or NFC-normalised (the
    ``text-normalisation`` open point), unless a fault mangles it."""
    if text is None:
        return None
    if "emoji-dropped" in ctx.faults:
        text = "".join(ch for ch in text if ord(ch) <= 0xFFFF)
    if ctx.readings["text-normalisation"] == "nfc":
        text = unicodedata.normalize("NFC", text)
    if "text-nfkc-normalised" in ctx.faults:
        text = unicodedata.normalize("NFKC", text)
    if "text-truncated-160" in ctx.faults:
        text = text[:160]
    return text


def kept(ctx: RequestContext, moment: datetime | None) -> datetime | None:
    """Return ``moment`` as the server keeps it: to the microsecond, or truncated to the
    millisecond under the ``time-precision=milliseconds`` reading (``ctx.now`` already is)."""
    if moment is None:
        return None
    return at_precision(moment, ctx.readings["time-precision"])


def hosted(
    ctx: RequestContext, doc: Mapping[str, Any], files: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the attachments as stored: each ``url`` as given, or (the ``attachment-url``
    open point, ``rehosted``) the server's own media url for it."""
    if ctx.readings["attachment-url"] != "rehosted":
        return files
    return [
        # A url the server left empty (attachment-url-missing) stays empty when rehosted.
        {**item, "url": MEDIA_URL.format(sms_id=doc["id"], media_id=item.get("media_id"))}
        if item.get("url") is not None
        else item
        for item in files
    ]


def set_phones(doc: dict[str, Any], local: str | None, remote: str | None) -> None:
    doc["local_phone"] = local
    doc["local_phone_formatted"] = format_phone(local)
    doc["local_country_iso"] = country_iso(local)
    doc["remote_phone"] = remote
    doc["remote_phone_formatted"] = format_phone(remote)
    doc["remote_country_iso"] = country_iso(remote)


def user_value(ctx: RequestContext, body: Mapping[str, Any], field: str) -> str | None:
    value = string_value(body, field)
    if value is not None and value != ctx.org.user_id:
        raise ValidationFailed(field, f"Unknown user {value!r} in this organization.", refusal=True)
    return value


def caller_id_number(ctx: RequestContext) -> str:
    """The number Caller ID sends from when a send names none: the first internal one
    (the ``caller-id-picks-external`` fault takes any number of the organisation)."""
    if "caller-id-picks-external" in ctx.faults:
        return ctx.org.external_numbers[0]
    return ctx.org.internal_numbers[0]


def local_phone_value(
    ctx: RequestContext, body: Mapping[str, Any], *, required: bool
) -> str | None:
    value = phone_value(body, "local_phone")
    if value is None:
        if required:
            raise ValidationFailed("local_phone", REQUIRED, refusal=True)
        return None
    if "unknown-local-phone-accepted" in ctx.faults:
        return value  # only the E.164 shape is checked
    known = ctx.org.internal_numbers
    if "external-local-phone-accepted" in ctx.faults:
        known = (*known, *ctx.org.external_numbers)  # the type is not checked
    if "foreign-local-phone-accepted" in ctx.faults:
        known = tuple(n for org in ORGS for n in org.internal_numbers)  # any organisation's
    if value not in known:
        raise ValidationFailed(
            "local_phone",
            f"{value} is not an internal Phone Number of this organization.",
            refusal=True,
        )
    return value


def lead_contact(
    ctx: RequestContext,
    crm: Crm,
    body: Mapping[str, Any],
    lead_id: str | None,
    contact_id: str | None,
) -> tuple[str | None, str | None]:
    """Return the (lead_id, contact_id) pair after applying the body's values."""
    lead_given, contact_given = "lead_id" in body, "contact_id" in body
    new_lead = string_value(body, "lead_id") if lead_given else lead_id
    new_contact = string_value(body, "contact_id") if contact_given else contact_id
    if new_lead is not None and crm.find_lead(ctx, new_lead) is None:
        raise ValidationFailed("lead_id", f"Unknown lead {new_lead!r}.", refusal=True)
    if new_contact is None:
        return new_lead, None
    contact = crm.get_contact(ctx, new_contact)
    if contact is None:
        raise ValidationFailed("contact_id", f"Unknown contact {new_contact!r}.", refusal=True)
    if contact["lead_id"] == new_lead:
        return new_lead, new_contact
    if contact_given and (not lead_given or new_lead is None):
        return contact["lead_id"], new_contact  # a contact brings its lead
    if not contact_given:
        return new_lead, None  # moved to another lead: the old contact does not follow
    raise ValidationFailed("contact_id", "The contact does not belong to lead_id.", refusal=True)


def find_template(ctx: RequestContext, crm: Crm, body: Mapping[str, Any]) -> dict[str, Any] | None:
    template_id = string_value(body, "template_id")
    if template_id is None:
        return None
    owner = None if "foreign-template-accepted" in ctx.faults else ctx.org.organization_id
    template = crm.storage.get("sms_template", owner, template_id)
    if template is None and "unknown-template-ignored" in ctx.faults:
        return None
    if template is None:
        raise ValidationFailed(
            "template_id", f"Unknown SMS template {template_id!r}.", refusal=True
        )
    return template


def render_template(
    ctx: RequestContext, crm: Crm, template: Mapping[str, Any], doc: Mapping[str, Any]
) -> str:
    lead = crm.find_lead(ctx, doc["lead_id"]) if doc["lead_id"] else None
    contact = crm.get_contact(ctx, doc["contact_id"]) if doc["contact_id"] else None
    if contact is None and lead is not None and lead.get("contact_ids"):
        contact = crm.get_contact(ctx, lead["contact_ids"][0])
    context = RenderContext(
        contact=contact,
        lead=lead,
        user_first_name=ctx.org.user_first_name,
        user_last_name=ctx.org.user_last_name,
        organization_name=ctx.org.organization_name,
    )
    return render(str(template.get("text") or ""), context)
