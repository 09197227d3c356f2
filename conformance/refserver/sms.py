"""SMS activities: validation, the documented lifecycle and its transitions.

Choices where the docs are silent (each is what the reference server does):

- ``status`` on create is one of inbox, draft, scheduled, outbox, sent; ``error`` is in the
  enum but not a documented create option, so it is a 400 on ``status``.
- ``local_phone`` is required for every status and must be an ``internal`` number of the
  caller's organisation. Under the ``local-phone-on-sends=auto`` reading an ``outbox`` or
  ``scheduled`` create may leave it out: Caller ID picks the organisation's first internal
  number (``caller_id_mode: auto``, ``caller_id_reason: fallback``). ``remote_phone`` is
  optional but must be E.164 when given.
- ``send_in`` is validated wherever it is given (0 <= send_in < 60, a number) and only used
  with ``outbox``; a negative one is a 400 (the ``send-in-negative`` open point: or read as
  0, sent at once, ``send-in-negative=as-zero``). ``date_scheduled`` is validated wherever
  given, kept on drafts and scheduled SMS, ignored (null) otherwise. A ``date_scheduled`` in
  the past is sent on the sender's next run. Dates without an offset are local in
  ``x-tz-offset``.
- ``template_id`` renders the template into ``text``; with both given the rendering wins.
  A PUT re-renders only when it carries ``template_id``.
- Attachments keep the url given (the ``attachment-url`` open point: or are answered with
  the server's own media url, ``attachment-url=rehosted``), and get a ``media_id``.
- ``text`` is stored as given (the ``text-normalisation`` open point: or NFC-normalised,
  ``text-normalisation=nfc``).
- ``direction`` is stored as given (the ``direction-override`` open point: or as the status
  implies, ``serve --reading direction-override=status-decides``; or one that contradicts
  the status is refused, ``direction-override=reject``), else by rule 6.
- ``source`` defaults to ``External`` for logged SMS (inbox, sent) and ``Close.io`` for SMS
  Close sends (draft, scheduled, outbox). ``cost`` is null until the sender sends the SMS,
  then ``"1"``; logged SMS keep a null cost. A logged ``sent`` SMS has
  ``date_sent = date_created``.
- A contact given without a lead brings its lead; a contact on another lead than
  ``lead_id`` is a 400 on ``contact_id``. A PUT that moves the SMS to another lead without
  naming a contact drops a contact that is not on the new lead.
- Times (``date_created``, ``date_updated``, ``activity_at``, ``date_scheduled``, due times
  and so ``date_sent``) are kept to the microsecond, or truncated to the millisecond under the
  ``time-precision=milliseconds`` reading.
- PUT ignores ``direction``, ``source``, ``organization_id``, ``date_created`` and unknown
  fields. ``{}`` is a no-op on any status. On a scheduled or unsent outbox SMS the only
  accepted change is ``status: draft`` (cancel); edits in the same body are applied to the
  resulting draft. Cancelling forgets the due time (the SMS is never sent) and keeps
  ``date_scheduled``, so a later ``status: scheduled`` may reuse it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.dates import at_precision, format_dt
from conformance.refserver.errors import NotFound, ValidationFailed
from conformance.refserver.phones import country_iso, format_phone
from conformance.refserver.sender import is_empty
from conformance.refserver.settle import LINGERING
from conformance.refserver.storage import KEEP, Storage
from conformance.refserver.templates import RenderContext, render
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

__all__ = ["CREATE_STATUSES", "STATUSES", "SmsService"]

STATUSES = ("inbox", "draft", "scheduled", "outbox", "sent", "error")
CREATE_STATUSES = ("inbox", "draft", "scheduled", "outbox", "sent")
DIRECTIONS = ("inbound", "outbound")
SOURCES = ("Close.io", "External")
LOGGED = frozenset({"inbox", "sent"})
SENDING = frozenset({"outbox", "scheduled"})
# Fields a PUT may change (on drafts); anything else in a PUT body is ignored.
EDITABLE = (
    "text", "template_id", "local_phone", "remote_phone", "lead_id", "contact_id",
    "attachments", "activity_at", "date_scheduled", "user_id", "send_in",
)  # fmt: skip
NOT_DRAFT = "Only drafts can be modified; this SMS is {status}."
EMPTY_SEND = "An SMS needs text or an attachment to be sent."
PAST_DATE = "Must be in the future."
TEMPLATE_AND_TEXT = "Give either template_id or text, not both."
CANCEL_AND_EDIT = "Cancel first (status draft), then edit the draft."
# The url an answer gives an attachment under the attachment-url=rehosted reading: the
# server's own, as in the docs' example (accessing it leads to a signed S3 URL).
MEDIA_URL = "https://app.close.com/go/sms/{sms_id}/media/{media_id}/"
DELETED = "sms_deleted"  # the kind of soft-deleted SMS (faulty variants only)
CANCEL_RACE_SECONDS = 5  # the cancel-race-still-sent fault's window before the due time


def _stored_text(ctx: RequestContext, text: str | None) -> str | None:
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


def _kept(ctx: RequestContext, moment: datetime | None) -> datetime | None:
    """Return ``moment`` as the server keeps it: to the microsecond, or truncated to the
    millisecond under the ``time-precision=milliseconds`` reading (``ctx.now`` already is)."""
    if moment is None:
        return None
    return at_precision(moment, ctx.readings["time-precision"])


def _hosted(
    ctx: RequestContext, doc: Mapping[str, Any], files: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the attachments as stored: each ``url`` as given, or (the ``attachment-url``
    open point, ``rehosted``) the server's own media url for it."""
    if ctx.readings["attachment-url"] != "rehosted":
        return files
    return [
        {**item, "url": MEDIA_URL.format(sms_id=doc["id"], media_id=item.get("media_id"))}
        for item in files
    ]


class SmsService:
    """Create, read, update, delete and list SMS activities of the calling organisation."""

    def __init__(self, storage: Storage, crm: Crm) -> None:
        self.storage = storage
        self.crm = crm

    # -- reading ----------------------------------------------------------------------

    def get(
        self, ctx: RequestContext, sms_id: str, *, leak: str = "", read: bool = False
    ) -> dict[str, Any]:
        """Return the SMS; 404 when unknown, deleted or another organisation's. ``leak``
        names the isolation fault of the calling operation (its owner check is missing);
        ``read`` is true for GET by id."""
        org = None if leak in ctx.faults else ctx.org.organization_id
        doc = self.storage.get("sms", org, sms_id)
        if doc is None and read and "deleted-still-readable" in ctx.faults:
            doc = self.storage.get(DELETED, org, sms_id)
        if doc is None and read and ctx.settle and ctx.settle.lingering(str(sms_id), ctx.now):
            doc = self.storage.get(LINGERING, org, sms_id)  # the index has not caught up
        if doc is None and "unknown-id-500" not in ctx.faults:
            raise NotFound()
        return doc  # type: ignore[return-value]  # None only with unknown-id-500

    def delete(self, ctx: RequestContext, sms_id: str) -> None:
        """Delete the SMS (it is then never sent); 404 when unknown."""
        org = ctx.org.organization_id
        if ctx.faults & {"deleted-still-readable", "deleted-still-listed"}:
            if not self.storage.set_kind("sms", org, sms_id, DELETED):
                raise NotFound()
            return
        owner = None if "isolation-delete-leak" in ctx.faults else org
        if ctx.settle is not None and owner is not None:
            if not self.storage.set_kind("sms", org, sms_id, LINGERING):
                raise NotFound()
            ctx.settle.deleted(sms_id, ctx.now)  # still read and listed for a while
            return
        deleted = self.storage.delete("sms", owner, sms_id)
        if not deleted and "delete-missing-answers-200" not in ctx.faults:
            raise NotFound()

    # -- create -----------------------------------------------------------------------

    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
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
        user_id = check.run(lambda: self._user(ctx, body, "user_id"))
        created_by = check.run(lambda: self._user(ctx, body, "created_by_id"))
        caller_id = status in SENDING and (
            ctx.readings["local-phone-on-sends"] == "auto"
            or "caller-id-picks-external" in ctx.faults
        )
        local_phone = check.run(lambda: self._local_phone(ctx, body, required=not caller_id))
        remote_phone = check.run(
            lambda: phone_value(
                body, "remote_phone", lenient="malformed-phone-accepted" in ctx.faults
            )
        )
        if (
            "non-string-text-500" in ctx.faults
            and body.get("text") is not None
            and len(body["text"].encode("utf-8")) > 1600  # runs before the type check
        ):
            check.fail("text", "Too long.")
        text = check.run(lambda: string_value(body, "text"))
        pair = check.run(lambda: self._lead_contact(ctx, body, None, None)) or (None, None)
        files = check.run(lambda: attachments(body, faults=ctx.faults, new_id=ctx.new_id)) or []
        date_created = _kept(ctx, check.run(lambda: date_value(body, "date_created", ctx.tz)))
        activity_at = _kept(ctx, check.run(lambda: date_value(body, "activity_at", ctx.tz)))
        date_scheduled = _kept(ctx, check.run(lambda: date_value(body, "date_scheduled", ctx.tz)))
        send_in = check.run(lambda: send_in_value(body, faults=ctx.faults, readings=ctx.readings))
        template = check.run(lambda: self._template(ctx, body))
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
        doc = self._blank(ctx, ctx.new_id("acti"), created, user_id or ctx.org.user_id)
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
            text=_stored_text(ctx, text),
            attachments=[] if "attachments-dropped" in ctx.faults else _hosted(ctx, doc, files),
            date_scheduled=format_dt(date_scheduled)
            if date_scheduled and status in ("draft", "scheduled")
            else None,
            date_sent=date_sent,
        )
        doc["lead_id"], doc["contact_id"] = pair
        if caller_id and local_phone is None:
            local_phone = self._caller_id(ctx)
            doc.update(caller_id_mode="auto", caller_id_reason="fallback")
        self._set_phones(doc, local_phone, remote_phone)
        if "remote-phone-reformatted" in ctx.faults:
            doc["remote_phone"] = doc["remote_phone_formatted"]
        if template is not None:
            doc["template_id"] = template["id"]
            if "template-unrendered" in ctx.faults:
                doc["text"] = template.get("text")
            elif both and ctx.readings["template-and-text"] == "text-wins":
                pass  # the text given is kept; the template is not rendered over it
            elif "template-ignored" not in ctx.faults:
                doc["text"] = _stored_text(ctx, self._render(ctx, template, doc))
        if "send-in-ignored" in ctx.faults:
            send_in = 0.0
        due = self._due_time(ctx, status, date_scheduled, send_in or 0.0)
        self.storage.insert("sms", doc, due_at=due)
        if ctx.settle is not None:
            ctx.settle.created(doc["id"], ctx.now)  # missing from lists for a while
        return doc

    # -- update -----------------------------------------------------------------------

    def update(self, ctx: RequestContext, sms_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a partial PUT to the SMS and return it.

        Drafts may be edited and moved to scheduled or outbox; a scheduled or unsent outbox
        SMS may only be cancelled (``status: draft``); nothing else may change. Raises 404
        for unknown ids and a 400 naming the offending field otherwise.
        """
        doc = self.get(ctx, sms_id, leak="isolation-update-leak")
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
            return self._update_draft(ctx, doc, body, requested, store=store)
        if current in ("scheduled", "outbox") and "status" in body and requested == "draft":
            if current == "outbox" and "cancel-refused" in ctx.faults:
                raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
            if current == "scheduled" and "cancel-scheduled-refused" in ctx.faults:
                raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
            # Cancel: forget the due time, so it is never sent, then edit the new draft.
            forget_due = "cancelled-still-sent" not in ctx.faults
            if "cancel-race-still-sent" in ctx.faults:
                due = self.storage.due_at("sms", doc["id"])
                close = ctx.now + timedelta(seconds=CANCEL_RACE_SECONDS)
                forget_due = due is None or due > format_dt(close)  # already queued: missed
            reading = ctx.readings["cancel-and-edit"]
            if edits and reading == "reject":
                raise ValidationFailed(edits[0], CANCEL_AND_EDIT, refusal=True)
            if reading == "cancel-only":
                body = {"status": "draft"}  # the cancel is done; the edits are ignored
            doc["status"] = "draft"
            return self._update_draft(ctx, doc, body, "draft", due_at=None if forget_due else KEEP)
        if current == "sent" and edits and "edit-sent-accepted" in ctx.faults:
            return self._update_draft(ctx, doc, body, "draft", keep_status=True)
        if current == "inbox" and edits and "edit-inbox-accepted" in ctx.faults:
            return self._update_draft(ctx, doc, body, "draft", keep_status=True)
        if (
            current == "scheduled"
            and "text" in body
            and "status" not in body
            and "edit-scheduled-text-accepted" in ctx.faults
        ):
            return self._update_draft(ctx, doc, body, "draft", keep_status=True)
        if current == "sent" and requested == "draft" and "cancel-sent-accepted" in ctx.faults:
            doc["status"] = "draft"
            return self._update_draft(ctx, doc, body, "draft")
        if "status" in body and requested != current:
            raise ValidationFailed("status", NOT_DRAFT.format(status=current), refusal=True)
        if edits or "status" in body:
            field = edits[0] if edits else "status"
            raise ValidationFailed(field, NOT_DRAFT.format(status=current), refusal=True)
        return doc  # {} or only ignored fields: nothing to change

    def _update_draft(
        self,
        ctx: RequestContext,
        doc: dict[str, Any],
        body: Mapping[str, Any],
        requested: str,
        *,
        due_at: Any = KEEP,
        keep_status: bool = False,
        store: bool = True,
    ) -> dict[str, Any]:
        if requested not in ("draft", "scheduled", "outbox"):
            raise ValidationFailed(
                "status", "A draft can only be changed to scheduled, outbox or draft.", refusal=True
            )
        check = Checker()
        if "text" in body:
            text = check.run(lambda: string_value(body, "text"))
            if "text" not in check.field_errors:
                doc["text"] = _stored_text(ctx, text)
        if "local_phone" in body:
            local = check.run(lambda: self._local_phone(ctx, body, required=True))
            if local is not None:
                self._set_phones(doc, local, doc["remote_phone"])
        if "remote_phone" in body:
            remote = check.run(lambda: phone_value(body, "remote_phone"))
            if "remote_phone" not in check.field_errors:
                self._set_phones(doc, doc["local_phone"], remote)
        if "lead_id" in body or "contact_id" in body:
            pair = check.run(
                lambda: self._lead_contact(ctx, body, doc["lead_id"], doc["contact_id"])
            )
            if pair is not None:
                doc["lead_id"], doc["contact_id"] = pair
        elif "put-clears-lead" in ctx.faults:
            doc["lead_id"] = doc["contact_id"] = None  # treated as a full replace
        if "attachments" in body:
            files = check.run(lambda: attachments(body, faults=ctx.faults, new_id=ctx.new_id))
            if files is not None:
                doc["attachments"] = _hosted(ctx, doc, files)
        if "activity_at" in body:
            activity_at = _kept(ctx, check.run(lambda: date_value(body, "activity_at", ctx.tz)))
            if "activity_at" not in check.field_errors:
                doc["activity_at"] = format_dt(activity_at) if activity_at else None
        if "date_scheduled" in body:
            scheduled = _kept(ctx, check.run(lambda: date_value(body, "date_scheduled", ctx.tz)))
            if "date_scheduled" not in check.field_errors:
                doc["date_scheduled"] = format_dt(scheduled) if scheduled else None
        if "user_id" in body:
            user = check.run(lambda: self._user(ctx, body, "user_id"))
            if "user_id" not in check.field_errors:
                doc["user_id"] = user or ctx.org.user_id
        send_in = 0.0
        if requested == "outbox":
            send_in = (
                check.run(lambda: send_in_value(body, faults=ctx.faults, readings=ctx.readings))
                or 0.0
            )
        template = check.run(lambda: self._template(ctx, body)) if "template_id" in body else None
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
                doc["text"] = _stored_text(ctx, self._render(ctx, template, doc))
        if not keep_status:
            doc["status"] = requested
        if requested == "outbox":
            doc["date_scheduled"] = None
            due_at = format_dt(
                at_precision(ctx.now + timedelta(seconds=send_in), ctx.readings["time-precision"])
            )
        elif requested == "scheduled" and "scheduled-never-sent" not in ctx.faults:
            due_at = doc["date_scheduled"]
        doc["updated_by"] = ctx.org.user_id
        doc["date_updated"] = format_dt(ctx.now)
        if store:
            self.storage.update("sms", doc, due_at=due_at)
        return doc

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _due_time(
        ctx: RequestContext, status: str, date_scheduled: datetime | None, send_in: float
    ) -> str | None:
        if status == "outbox":
            return format_dt(
                at_precision(ctx.now + timedelta(seconds=send_in), ctx.readings["time-precision"])
            )
        if status == "scheduled" and "scheduled-sent-at-creation" in ctx.faults:
            return format_dt(ctx.now)
        if status == "scheduled" and "scheduled-never-sent" in ctx.faults:
            return None
        if status == "scheduled" and date_scheduled is not None:
            return format_dt(date_scheduled)
        return None

    def _blank(
        self, ctx: RequestContext, sms_id: str, created: datetime, user_id: str
    ) -> dict[str, Any]:
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

    @staticmethod
    def _set_phones(doc: dict[str, Any], local: str | None, remote: str | None) -> None:
        doc["local_phone"] = local
        doc["local_phone_formatted"] = format_phone(local)
        doc["local_country_iso"] = country_iso(local)
        doc["remote_phone"] = remote
        doc["remote_phone_formatted"] = format_phone(remote)
        doc["remote_country_iso"] = country_iso(remote)

    @staticmethod
    def _user(ctx: RequestContext, body: Mapping[str, Any], field: str) -> str | None:
        value = string_value(body, field)
        if value is not None and value != ctx.org.user_id:
            raise ValidationFailed(
                field, f"Unknown user {value!r} in this organization.", refusal=True
            )
        return value

    @staticmethod
    def _caller_id(ctx: RequestContext) -> str:
        """The number Caller ID sends from when a send names none: the first internal one
        (the ``caller-id-picks-external`` fault takes any number of the organisation)."""
        if "caller-id-picks-external" in ctx.faults:
            return ctx.org.external_numbers[0]
        return ctx.org.internal_numbers[0]

    def _local_phone(
        self, ctx: RequestContext, body: Mapping[str, Any], *, required: bool
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
        if value not in known:
            raise ValidationFailed(
                "local_phone",
                f"{value} is not an internal Phone Number of this organization.",
                refusal=True,
            )
        return value

    def _lead_contact(
        self,
        ctx: RequestContext,
        body: Mapping[str, Any],
        lead_id: str | None,
        contact_id: str | None,
    ) -> tuple[str | None, str | None]:
        """Return the (lead_id, contact_id) pair after applying the body's values."""
        lead_given, contact_given = "lead_id" in body, "contact_id" in body
        new_lead = string_value(body, "lead_id") if lead_given else lead_id
        new_contact = string_value(body, "contact_id") if contact_given else contact_id
        if new_lead is not None and self.crm.find_lead(ctx, new_lead) is None:
            raise ValidationFailed("lead_id", f"Unknown lead {new_lead!r}.", refusal=True)
        if new_contact is None:
            return new_lead, None
        contact = self.crm.get_contact(ctx, new_contact)
        if contact is None:
            raise ValidationFailed("contact_id", f"Unknown contact {new_contact!r}.", refusal=True)
        if contact["lead_id"] == new_lead:
            return new_lead, new_contact
        if contact_given and (not lead_given or new_lead is None):
            return contact["lead_id"], new_contact  # a contact brings its lead
        if not contact_given:
            return new_lead, None  # moved to another lead: the old contact does not follow
        raise ValidationFailed(
            "contact_id", "The contact does not belong to lead_id.", refusal=True
        )

    def _template(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any] | None:
        template_id = string_value(body, "template_id")
        if template_id is None:
            return None
        template = self.crm.storage.get("sms_template", ctx.org.organization_id, template_id)
        if template is None and "unknown-template-ignored" in ctx.faults:
            return None
        if template is None:
            raise ValidationFailed(
                "template_id", f"Unknown SMS template {template_id!r}.", refusal=True
            )
        return template

    def _render(
        self, ctx: RequestContext, template: Mapping[str, Any], doc: Mapping[str, Any]
    ) -> str:
        lead = self.crm.find_lead(ctx, doc["lead_id"]) if doc["lead_id"] else None
        contact = self.crm.get_contact(ctx, doc["contact_id"]) if doc["contact_id"] else None
        if contact is None and lead is not None and lead.get("contact_ids"):
            contact = self.crm.get_contact(ctx, lead["contact_ids"][0])
        context = RenderContext(
            contact=contact,
            lead=lead,
            user_first_name=ctx.org.user_first_name,
            user_last_name=ctx.org.user_last_name,
            organization_name=ctx.org.organization_name,
        )
        return render(str(template.get("text") or ""), context)
