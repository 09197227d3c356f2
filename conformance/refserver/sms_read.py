"""Reading one SMS by id (``GET``, and the lookup a ``PUT`` starts with) and deleting one.

An SMS of another organisation is unknown (404), unless an isolation fault leaves the
owner check out. Under the ``visibility=eventual`` reading a deleted SMS lingers: it is
still read by id for the settle lag.
"""

from __future__ import annotations

from typing import Any

from conformance.refserver.context import RequestContext
from conformance.refserver.errors import NotFound
from conformance.refserver.settle import LINGERING
from conformance.refserver.sms_documents import DELETED
from conformance.refserver.storage import Storage

__all__ = ["delete", "get"]


def get(
    ctx: RequestContext,
    storage: Storage,
    sms_id: str,
    *,
    leak: str | None = None,
    read: bool = False,
) -> dict[str, Any]:
    """Return the SMS; 404 when unknown, deleted or another organisation's. ``leak``
    names the isolation fault of the calling operation (its owner check is missing);
    ``read`` is true for GET by id."""
    org = None if leak is not None and leak in ctx.faults else ctx.org.organization_id
    doc = storage.get("sms", org, sms_id)
    if doc is None and read and "deleted-still-readable" in ctx.faults:
        doc = storage.get(DELETED, org, sms_id)
    if doc is None and read and ctx.settle and ctx.settle.lingering(str(sms_id), ctx.now):
        doc = storage.get(LINGERING, org, sms_id)  # the index has not caught up
    if doc is None and "unknown-id-500" not in ctx.faults:
        raise NotFound()
    return doc  # type: ignore[return-value]  # None only with unknown-id-500


def delete(ctx: RequestContext, storage: Storage, sms_id: str) -> None:
    """Delete the SMS (it is then never sent); 404 when unknown."""
    org = ctx.org.organization_id
    if ctx.faults.any_of("deleted-still-readable", "deleted-still-listed"):
        if not storage.set_kind("sms", org, sms_id, DELETED):
            raise NotFound()
        return
    owner = None if "isolation-delete-leak" in ctx.faults else org
    if ctx.settle is not None and owner is not None:
        if not storage.set_kind("sms", org, sms_id, LINGERING):
            raise NotFound()
        ctx.settle.deleted(sms_id, ctx.now)  # still read and listed for a while
        return
    deleted = storage.delete("sms", owner, sms_id)
    if not deleted and "delete-missing-answers-200" not in ctx.faults:
        raise NotFound()
