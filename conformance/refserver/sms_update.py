"""Updating an SMS: ``PUT /activity/sms/{id}/``, the lifecycle's transitions.

Drafts may be edited and moved to scheduled or outbox; a scheduled or unsent outbox SMS
may only be cancelled (``status: draft``); nothing else may change. The choices where the
docs are silent are listed in :mod:`conformance.refserver.sms`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.dates import at_precision, format_dt
from conformance.refserver.errors import ValidationFailed
from conformance.refserver.race_faults import double_send, race_window
from conformance.refserver.sender import is_empty, sent_early
from conformance.refserver.sms_documents import (
    EMPTY_SEND,
    PAST_DATE,
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
from conformance.refserver.sms_read import get
from conformance.refserver.storage import KEEP, Storage
from conformance.refserver.validation import (
    Checker,
    attachments,
    date_value,
    phone_value,
    send_in_value,
    string_value,
)
from conformance.vocabulary import SENDING, STATUSES

__all__ = ["update"]

# Fields a PUT may change (on drafts); anything else in a PUT body is ignored.
EDITABLE = (
    "text", "template_id", "local_phone", "remote_phone", "lead_id", "contact_id",
    "attachments", "activity_at", "date_scheduled", "user_id", "send_in",
)  # fmt: skip
NOT_DRAFT = "Only drafts can be modified; this SMS is {status}."
CANCEL_AND_EDIT = "Cancel first (status draft), then edit the draft."
CANCEL_RACE_SECONDS = 5  # the cancel-race-still-sent fault's window before the due time


def update(
    ctx: RequestContext, storage: Storage, crm: Crm, sms_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """Apply a partial PUT to the SMS and return it.

    Drafts may be edited and moved to scheduled or outbox; a scheduled or unsent outbox
    SMS may only be cancelled (``status: draft``); nothing else may change. Raises 404
    for unknown ids and a 400 naming the offending field otherwise.
    """
    doc = get(ctx, storage, sms_id, leak="isolation-update-leak")
    if ctx.faults.any_of("race-lost-update", "race-delete-resurrected") and ctx.lock:
        race_window(ctx.lock)  # works on the copy it read while others write
        if "race-lost-update" not in ctx.faults:
            # race-delete-resurrected alone: it reads again (no update is lost), and only
            # a delete in the window goes unseen: its copy is written back.
            doc = storage.get("sms", None, doc["id"]) or doc
    if (
        "race-double-send" in ctx.faults
        and ctx.lock
        and doc["status"] == "draft"
        and _sends_now(ctx, body)
    ):
        doc = double_send(
            ctx.lock,
            doc,
            lambda: get(ctx, storage, sms_id, leak="isolation-update-leak"),
            lambda sent: _log_copy(ctx, storage, sent),
        )
    current = doc["status"]
    requested = body.get("status", current) if "status" in body else current
    if requested is None or not isinstance(requested, str) or requested not in STATUSES:
        raise ValidationFailed("status", f"Must be one of: {', '.join(STATUSES)}.")
    # Every other 400 of a PUT is a documented rule refusing a well-formed request.
    edits = [field for field in body if field in EDITABLE]
    if current == "draft":
        if edits and requested == "draft" and "draft-edit-refused" in ctx.faults:
            raise ValidationFailed(edits[0], NOT_DRAFT.format(status=current), refusal=True)
        store = requested != "draft" or "update-not-stored" not in ctx.faults
        return _update_draft(ctx, storage, crm, doc, body, requested, store=store)
    if current in ("scheduled", "outbox") and "status" in body and requested == "draft":
        if current == "outbox" and "cancel-refused" in ctx.faults:
            raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
        if current == "scheduled" and "cancel-scheduled-refused" in ctx.faults:
            raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
        # Cancel: forget the due time, so it is never sent, then edit the new draft.
        forget_due = not any(
            name in ctx.faults for name in ("cancelled-still-sent", "rescheduled-sent-at-first-due")
        )
        if "cancel-race-still-sent" in ctx.faults:
            due = storage.due_at("sms", doc["id"])
            close = ctx.now + timedelta(seconds=CANCEL_RACE_SECONDS)
            forget_due = due is None or due > format_dt(close)  # already queued: missed
        reading = ctx.readings["cancel-and-edit"]
        if edits and reading == "reject":
            raise ValidationFailed(edits[0], CANCEL_AND_EDIT, refusal=True)
        if reading == "cancel-only":
            body = {"status": "draft"}  # the cancel is done; the edits are ignored
        doc["status"] = "draft"
        return _update_draft(
            ctx, storage, crm, doc, body, "draft", due_at=None if forget_due else KEEP
        )
    if current == "sent" and edits and "edit-sent-accepted" in ctx.faults:
        return _update_draft(ctx, storage, crm, doc, body, "draft", keep_status=True)
    if current == "inbox" and edits and "edit-inbox-accepted" in ctx.faults:
        return _update_draft(ctx, storage, crm, doc, body, "draft", keep_status=True)
    if (
        current == "scheduled"
        and "text" in body
        and "status" not in body
        and "edit-scheduled-text-accepted" in ctx.faults
    ):
        return _update_draft(ctx, storage, crm, doc, body, "draft", keep_status=True)
    if current == "sent" and requested == "draft" and "cancel-sent-accepted" in ctx.faults:
        doc["status"] = "draft"
        return _update_draft(ctx, storage, crm, doc, body, "draft")
    if "status" in body and requested != current:
        raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
    if edits or "status" in body:
        field = edits[0] if edits else "status"
        raise ValidationFailed(field, NOT_DRAFT.format(status=current), refusal=True)
    return doc  # {} or only ignored fields: nothing to change


def _update_draft(
    ctx: RequestContext,
    storage: Storage,
    crm: Crm,
    doc: dict[str, Any],
    body: Mapping[str, Any],
    requested: str,
    *,
    due_at: Any = KEEP,
    keep_status: bool = False,
    store: bool = True,
) -> dict[str, Any]:
    """Apply ``body`` to the draft ``doc``, move it to ``requested`` (draft, scheduled or
    outbox; its status kept with ``keep_status``) and store it with ``due_at``."""
    if requested not in ("draft", "scheduled", "outbox"):
        raise ValidationFailed(
            "status", "A draft can only be changed to scheduled, outbox or draft.", refusal=True
        )
    check = Checker()
    if "text" in body:
        text = check.run(lambda: string_value(body, "text"))
        if "text" not in check.field_errors:
            doc["text"] = stored_text(ctx, text)
    if "local_phone" in body:
        local = check.run(lambda: local_phone_value(ctx, body, required=True))
        if local is not None:
            set_phones(doc, local, doc["remote_phone"])
    if "remote_phone" in body:
        remote = check.run(lambda: phone_value(body, "remote_phone"))
        if "remote_phone" not in check.field_errors:
            set_phones(doc, doc["local_phone"], remote)
    if "lead_id" in body or "contact_id" in body:
        pair = check.run(lambda: lead_contact(ctx, crm, body, doc["lead_id"], doc["contact_id"]))
        if pair is not None:
            doc["lead_id"], doc["contact_id"] = pair
    elif "put-clears-lead" in ctx.faults:
        doc["lead_id"] = doc["contact_id"] = None  # treated as a full replace
    if "attachments" in body:
        files = check.run(lambda: attachments(body, faults=ctx.faults, new_id=ctx.new_id))
        if files is not None:
            doc["attachments"] = hosted(ctx, doc, files)
    if "activity_at" in body:
        activity_at = kept(ctx, check.run(lambda: date_value(body, "activity_at", ctx.tz)))
        if "activity_at" not in check.field_errors:
            doc["activity_at"] = format_dt(activity_at) if activity_at else None
    if "date_scheduled" in body:
        scheduled = kept(ctx, check.run(lambda: date_value(body, "date_scheduled", ctx.tz)))
        if "date_scheduled" not in check.field_errors:
            doc["date_scheduled"] = format_dt(scheduled) if scheduled else None
    if "user_id" in body:
        user = check.run(lambda: user_value(ctx, body, "user_id"))
        if "user_id" not in check.field_errors:
            doc["user_id"] = user or ctx.org.user_id
    send_in = 0.0
    if requested == "outbox":
        send_in = (
            check.run(lambda: send_in_value(body, faults=ctx.faults, readings=ctx.readings)) or 0.0
        )
    template = check.run(lambda: find_template(ctx, crm, body)) if "template_id" in body else None
    if (
        requested == "scheduled"
        and not doc["date_scheduled"]
        and "schedule-without-date-accepted" not in ctx.faults
    ):
        check.fail("date_scheduled", "Required when status is scheduled.", refusal=True)
    if (
        requested == "scheduled"
        and doc["date_scheduled"]
        and "date_scheduled" not in check.field_errors
        and doc["date_scheduled"] < format_dt(ctx.now)
        and ctx.readings["past-date-scheduled"] == "reject"
    ):
        check.fail("date_scheduled", PAST_DATE, refusal=True)
    if requested == "scheduled" and "schedule-draft-refused" in ctx.faults:
        check.fail("status", "A draft can only be changed to outbox or draft.", refusal=True)
    if requested == "outbox" and "send-draft-refused" in ctx.faults:
        check.fail("status", "A draft can only be changed to scheduled or draft.", refusal=True)
    if (
        requested in ("outbox", "scheduled")
        and ctx.readings["empty-send"] == "reject"
        and template is None
        and is_empty(doc)
        and not check.field_errors
    ):
        check.fail("text", EMPTY_SEND)
    check.raise_if_any()
    if "template_id" in body:
        doc["template_id"] = template["id"] if template else None
        if template is not None:
            doc["text"] = stored_text(ctx, render_template(ctx, crm, template, doc))
    if not keep_status:
        doc["status"] = requested
    if requested == "outbox":
        doc["date_scheduled"] = None
        due_at = format_dt(
            at_precision(ctx.now + timedelta(seconds=send_in), ctx.readings["time-precision"])
        )
    elif requested == "scheduled" and "put-scheduled-never-sent" in ctx.faults:
        due_at = None
    elif requested == "scheduled" and "scheduled-never-sent" not in ctx.faults:
        # A date already past (past-date-scheduled=accept) falls due now: sent at once.
        sends_at = sent_early(ctx, doc["date_scheduled"])
        due_at = max(sends_at, format_dt(ctx.now)) if sends_at is not None else None
    if requested in SENDING and "rescheduled-sent-at-first-due" in ctx.faults:
        first = storage.due_at("sms", doc["id"])  # kept by the cancel
        if first is not None and due_at is not KEEP and (due_at is None or first < due_at):
            due_at = first
    doc["updated_by"] = ctx.org.user_id
    doc["date_updated"] = format_dt(ctx.now)
    if (
        store
        and "race-delete-resurrected" in ctx.faults
        and not storage.get("sms", None, doc["id"])
    ):
        storage.insert("sms", doc, due_at=None if due_at is KEEP else due_at)  # an upsert
    elif store:
        storage.update("sms", doc, due_at=due_at)
    return doc


def _sends_now(ctx: RequestContext, body: Mapping[str, Any]) -> bool:
    """True for a PUT that sends a draft at once: to outbox, or scheduled at a date that
    has come (the ``race-double-send`` variant hands those to the carrier first)."""
    if body.get("status") == "outbox":
        return True
    if body.get("status") != "scheduled":
        return False
    try:
        when = date_value(body, "date_scheduled", ctx.tz)
    except ValidationFailed:
        return False  # refused below, as on the clean server
    return when is not None and when <= ctx.now


def _log_copy(ctx: RequestContext, storage: Storage, sent: dict[str, Any]) -> None:
    """The ``race-double-send`` variant's second message, logged as a new SMS activity:
    the draft as it went out, sent now, under a new id."""
    now = format_dt(ctx.now)
    copy = {**sent, "id": ctx.new_id("acti"), "status": "sent", "date_sent": now}
    copy.update(date_created=now, date_updated=now, date_scheduled=None, cost="1")
    storage.insert("sms", copy, due_at=None)
