"""Creating an SMS: ``POST /activity/sms/``, validation and the new document.

The choices where the docs are silent are listed in :mod:`conformance.refserver.sms`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.dates import at_precision, format_dt
from conformance.refserver.sender import EARLY_SECONDS, sent_early
from conformance.refserver.sms_documents import (
    EMPTY_SEND,
    PAST_DATE,
    caller_id_number,
    find_template,
    hosted,
    kept,
    lead_contact,
    local_phone_value,
    render_template,
    set_phones,
    stored_text,
    user_value,
)
from conformance.refserver.storage import Storage
from conformance.refserver.validation import (
    REQUIRED,
    Checker,
    attachments,
    date_value,
    enum_value,
    phone_value,
    send_in_value,
    string_value,
)
from conformance.vocabulary import CREATE_STATUSES, DIRECTIONS, SOURCES

__all__ = ["create"]

LOGGED = frozenset({"inbox", "sent"})
SENDING = frozenset({"outbox", "scheduled"})
TEMPLATE_AND_TEXT = "Give either template_id or text, not both."


def create(
    ctx: RequestContext, storage: Storage, crm: Crm, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Create an SMS from a POST body and return it.

    Raises a 400 whose ``field-errors`` name every invalid field.
    """
    check = Checker()
    status = body.get("status")
    if status is None:
        if "missing-status-draft" in ctx.faults:
            status = "draft"
        else:
            check.fail("status", REQUIRED)
    elif not isinstance(status, str) or status not in CREATE_STATUSES:
        if "unknown-status-draft" in ctx.faults:
            status = "draft"
        else:
            check.fail("status", f"Must be one of: {', '.join(CREATE_STATUSES)}.")
            status = None
    direction = check.run(lambda: enum_value(body, "direction", DIRECTIONS))
    if (
        ctx.readings["direction-override"] == "reject"
        and direction is not None
        and isinstance(status, str)
        and direction != ("inbound" if status == "inbox" else "outbound")
    ):
        check.fail("direction", f"Contradicts status {status}.", refusal=True)
    source = check.run(lambda: enum_value(body, "source", SOURCES))
    org_id = check.run(lambda: string_value(body, "organization_id"))
    if org_id is not None and org_id != ctx.org.organization_id:
        check.fail("organization_id", "Must be your organization's id.", refusal=True)
    user_id = check.run(lambda: user_value(ctx, body, "user_id"))
    created_by = check.run(lambda: user_value(ctx, body, "created_by_id"))
    caller_id = status in SENDING and (
        ctx.readings["local-phone-on-sends"] == "auto" or "caller-id-picks-external" in ctx.faults
    )
    local_phone = check.run(lambda: local_phone_value(ctx, body, required=not caller_id))
    remote_phone = check.run(
        lambda: phone_value(body, "remote_phone", lenient="malformed-phone-accepted" in ctx.faults)
    )
    if (
        "non-string-text-500" in ctx.faults
        and body.get("text") is not None
        and len(body["text"].encode("utf-8")) > 1600  # runs before the type check
    ):
        check.fail("text", "Too long.")
    text = check.run(lambda: string_value(body, "text"))
    pair = check.run(lambda: lead_contact(ctx, crm, body, None, None)) or (None, None)
    files = check.run(lambda: attachments(body, faults=ctx.faults, new_id=ctx.new_id)) or []
    date_created = kept(ctx, check.run(lambda: date_value(body, "date_created", ctx.tz)))
    activity_at = kept(ctx, check.run(lambda: date_value(body, "activity_at", ctx.tz)))
    date_scheduled = kept(ctx, check.run(lambda: date_value(body, "date_scheduled", ctx.tz)))
    send_in = check.run(lambda: send_in_value(body, faults=ctx.faults, readings=ctx.readings))
    template = check.run(lambda: find_template(ctx, crm, body))
    if (
        status == "scheduled"
        and date_scheduled is None
        and "date_scheduled" not in (check.field_errors)
        and "scheduled-without-date-accepted" not in ctx.faults
    ):
        check.fail("date_scheduled", "Required when status is scheduled.", refusal=True)
    if (
        status == "scheduled"
        and date_scheduled is not None
        and date_scheduled < ctx.now
        and ctx.readings["past-date-scheduled"] == "reject"
    ):
        check.fail("date_scheduled", PAST_DATE, refusal=True)
    both = template is not None and body.get("text") is not None
    if both and ctx.readings["template-and-text"] == "reject":
        check.fail("template_id", TEMPLATE_AND_TEXT, refusal=True)
    if (
        status in ("outbox", "scheduled")
        and ctx.readings["empty-send"] == "reject"
        and not text
        and not files
        and template is None
        and not check.field_errors
    ):
        check.fail("text", EMPTY_SEND)
    if "phone-errors-as-phone" in ctx.faults:
        for name in ("local_phone", "remote_phone"):
            if name in check.field_errors:
                check.field_errors["phone"] = check.field_errors.pop(name)
    check.raise_if_any()
    assert isinstance(status, str)

    created = date_created or ctx.now
    doc = _blank(ctx, ctx.new_id("acti"), created, user_id or ctx.org.user_id)
    default_direction = "inbound" if status == "inbox" else "outbound"
    if ctx.readings["direction-override"] == "status-decides":
        direction = None  # the status decides, whatever direction was given
    if direction is not None and "direction-swapped" in ctx.faults:
        direction = "outbound" if direction == "inbound" else "inbound"
    if "inbox-direction-outbound" in ctx.faults:
        default_direction = "outbound"
    date_sent = format_dt(created) if status == "sent" else None
    if date_sent and "date-sent-http-date" in ctx.faults:
        date_sent = created.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    doc.update(
        status=status,
        direction=direction or default_direction,
        source=source or ("External" if status in LOGGED else "Close.io"),
        created_by=created_by or ctx.org.user_id,
        activity_at=format_dt(activity_at or created),
        text=stored_text(ctx, text),
        attachments=[] if "attachments-dropped" in ctx.faults else hosted(ctx, doc, files),
        date_scheduled=format_dt(date_scheduled)
        if date_scheduled and status in ("draft", "scheduled")
        else None,
        date_sent=date_sent,
    )
    doc["lead_id"], doc["contact_id"] = pair
    if caller_id and local_phone is None:
        local_phone = caller_id_number(ctx)
        doc.update(caller_id_mode="auto", caller_id_reason="fallback")
    set_phones(doc, local_phone, remote_phone)
    if "remote-phone-reformatted" in ctx.faults:
        doc["remote_phone"] = doc["remote_phone_formatted"]
    if template is not None:
        doc["template_id"] = template["id"]
        if "template-unrendered" in ctx.faults:
            doc["text"] = template.get("text")
        elif both and ctx.readings["template-and-text"] == "text-wins":
            pass  # the text given is kept; the template is not rendered over it
        elif "template-ignored" not in ctx.faults:
            doc["text"] = stored_text(ctx, render_template(ctx, crm, template, doc))
    if "send-in-ignored" in ctx.faults:
        send_in = 0.0
    due = _due_time(ctx, status, date_scheduled, send_in or 0.0)
    storage.insert("sms", doc, due_at=due)
    if ctx.settle is not None:
        ctx.settle.created(doc["id"], ctx.now)  # missing from lists for a while
    return doc


def _due_time(
    ctx: RequestContext, status: str, date_scheduled: datetime | None, send_in: float
) -> str | None:
    """Return when the sender sends a new SMS of ``status``: now plus ``send_in`` for
    outbox, ``date_scheduled`` (or now, if that has passed) for scheduled, else never
    (``None``)."""
    if status == "outbox" and "outbox-sent-early" in ctx.faults:
        send_in = max(0.0, send_in - EARLY_SECONDS)
    if status == "outbox":
        return format_dt(
            at_precision(ctx.now + timedelta(seconds=send_in), ctx.readings["time-precision"])
        )
    if status == "scheduled" and "scheduled-sent-at-creation" in ctx.faults:
        return format_dt(ctx.now)
    if status == "scheduled" and "scheduled-never-sent" in ctx.faults:
        return None
    if status == "scheduled" and date_scheduled is not None:
        # A date already past (past-date-scheduled=accept) falls due now: sent at once, and
        # never stamped as sent before it was created.
        due = format_dt(max(date_scheduled, ctx.now))
        return max(sent_early(ctx, due) or due, format_dt(ctx.now))
    return None


def _blank(ctx: RequestContext, sms_id: str, created: datetime, user_id: str) -> dict[str, Any]:
    """Return a new SMS document with every field, ``id`` and times set, the rest empty."""
    when = format_dt(created)
    updated = format_dt(ctx.now)
    if "dates-without-t" in ctx.faults:
        when, updated = when.replace("T", " "), updated.replace("T", " ")
    full_name = f"{ctx.org.user_first_name} {ctx.org.user_last_name}"
    doc: dict[str, Any] = {
        "_type": "SMS",
        "id": sms_id,
        "organization_id": ctx.org.organization_id,
        "lead_id": None,
        "contact_id": None,
        "user_id": user_id,
        "user_name": full_name,
        "users": [],
        "created_by": ctx.org.user_id,
        "created_by_name": full_name,
        "updated_by": ctx.org.user_id,
        "updated_by_name": full_name,
        "date_created": when,
        "date_updated": updated,
        "activity_at": format_dt(created),
        "direction": "outbound",
        "status": "draft",
        "source": "Close.io",
        "text": None,
        "template_id": None,
        "local_phone": None,
        "local_phone_formatted": None,
        "local_country_iso": None,
        "remote_phone": None,
        "remote_phone_formatted": None,
        "remote_country_iso": None,
        "attachments": [],
        "cost": None,
        "date_scheduled": None,
        "date_sent": None,
        "error_message": None,
        "caller_id_mode": None,
        "caller_id_reason": None,
        "agent_action_reason": None,
        "agent_config_id": None,
        "sequence_id": None,
        "sequence_name": None,
        "sequence_subscription_id": None,
    }
    if "users-missing" in ctx.faults:
        del doc["users"]
    return doc
