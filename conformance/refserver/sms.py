"""SMS activities: validation, the documented lifecycle and its transitions.

:class:`SmsService` is the façade the app calls; the work is split by operation:
:mod:`~conformance.refserver.sms_create`, :mod:`~conformance.refserver.sms_update`,
:mod:`~conformance.refserver.sms_read` (get and delete), with the document's shared parts in
:mod:`~conformance.refserver.sms_documents` (and lists in
:mod:`~conformance.refserver.listing`).

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

from collections.abc import Mapping
from typing import Any

from conformance.refserver import sms_create, sms_read, sms_update
from conformance.refserver.context import RequestContext
from conformance.refserver.crm import Crm
from conformance.refserver.sms_documents import DELETED as DELETED  # for importers of sms
from conformance.refserver.storage import Storage
from conformance.vocabulary import CREATE_STATUSES, STATUSES

__all__ = ["CREATE_STATUSES", "STATUSES", "SmsService"]


class SmsService:
    """Create, read, update and delete SMS activities of the calling organisation."""

    def __init__(self, storage: Storage, crm: Crm) -> None:
        self.storage = storage
        self.crm = crm

    def get(
        self, ctx: RequestContext, sms_id: str, *, leak: str | None = None, read: bool = False
    ) -> dict[str, Any]:
        """Return the SMS; 404 when unknown, deleted or another organisation's. ``leak``
        names the isolation fault of the calling operation (its owner check is missing);
        ``read`` is true for GET by id."""
        return sms_read.get(ctx, self.storage, sms_id, leak=leak, read=read)

    def delete(self, ctx: RequestContext, sms_id: str) -> None:
        """Delete the SMS (it is then never sent); 404 when unknown."""
        sms_read.delete(ctx, self.storage, sms_id)

    def create(self, ctx: RequestContext, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create an SMS from a POST body and return it; a 400 names every invalid field."""
        return sms_create.create(ctx, self.storage, self.crm, body)

    def update(self, ctx: RequestContext, sms_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a partial PUT to the SMS and return it (404 for unknown ids, else a 400
        naming the offending field)."""
        return sms_update.update(ctx, self.storage, self.crm, sms_id, body)
