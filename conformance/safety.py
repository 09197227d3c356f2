"""What a run may touch on its target, decided in one place: the client's guard.

A run is pointed at real accounts. Three promises hold for every request it sends, from
every phase, because the client (:class:`~conformance.client.ApiClient`) and the schema
phase's sessions ask this module before anything leaves the machine:

- **only what the run created is modified or deleted**: a ``PUT`` or ``DELETE`` on
  ``activity/sms/{id}/``, ``lead/{id}/`` or ``sms_template/{id}/`` is refused unless that id
  came back from one of the run's own creates (or the run made it up, to ask for an id that
  does not exist);
- **nothing is addressed to a number the user did not name**: an SMS body whose
  ``remote_phone`` looks like a phone number and is not one of the run's recipients is
  refused, whatever its status (a draft can be sent later);
- **nothing is sent that the user did not allow, and only to a named recipient**: on a live
  target a body that puts an SMS in ``outbox`` or ``scheduled`` is refused without
  ``--allow-send``, and with it when the SMS it sends names nobody (no ``remote_phone``,
  ``null``, ``""``: for a PUT, the one the SMS was last seen with counts): what a server
  does with a send that names nobody (the contact's number?) is not documented. A value no
  server could dial (``"not a phone"``) stays, for the rules on malformed numbers;
- **server-chosen ids stay path segments**: :func:`segment` percent-encodes an id and
  refuses one that would leave its resource (``/``, ``\\``, ``.``/``..``, ``?``, ``#``,
  control characters).

A refusal raises :class:`~conformance.client.Refused` (the suite would have done something
unsafe) or :class:`~conformance.client.MalformedAnswer` (the target handed it an id that
cannot be a path segment); both end the run as inconclusive, with the reason.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from conformance.client import MalformedAnswer, Refused

__all__ = ["Guard", "ITEM_COLLECTIONS", "item_path", "looks_like_a_phone", "segment"]

#: Collections whose items a run may create, and so modify or delete.
ITEM_COLLECTIONS = ("activity/sms/", "lead/", "sms_template/")
SMS = "activity/sms/"
SENDING_STATUSES = ("outbox", "scheduled")
_LEAVES_THE_RESOURCE = re.compile(r"[/\\?#\x00-\x1f\x7f]")
_ITEM = re.compile(r"^/?(?P<collection>activity/sms/|lead/|sms_template/)(?P<id>[^/]+)/?$")
MIN_PHONE_DIGITS = 7
_SEPARATORS = re.compile(r"[\s().\-/]")
_DIALABLE = re.compile(rf"\+?\d{{{MIN_PHONE_DIGITS},}}")


def segment(value: object, *, what: str = "id") -> str:
    """``value`` as one percent-encoded path segment; refuse what would leave the resource."""
    if not isinstance(value, str) or not value:
        raise MalformedAnswer(f"the target gave a {what} that is not a non-empty string: {value!r}")
    if value in (".", "..") or _LEAVES_THE_RESOURCE.search(value):
        raise MalformedAnswer(
            f"the target gave a {what} that would leave its resource in a URL path: {value!r} "
            "(ids with '/', '\\', '?', '#', control characters, '.' or '..' are refused)"
        )
    return quote(value, safe="")


def item_path(collection: str, value: object, *, what: str = "id") -> str:
    """The path of one item: ``item_path("activity/sms/", "acti_1") == "activity/sms/acti_1/"``."""
    return f"{collection}{segment(value, what=what)}/"


def looks_like_a_phone(value: object) -> bool:
    """True for anything a server might read as a phone number: 7 digits or more, maybe
    after a ``+`` and with the usual separators (``(818) 333-4444``, ``18183334444``).
    A value with letters in it (``+1650555abcd``) is no number a server could dial."""
    text = _SEPARATORS.sub("", str(value))
    return bool(_DIALABLE.fullmatch(text))


class Guard:
    """The ids a run owns and the numbers it may address; the client asks it first.

    ``recipients=None`` addresses anything (the embedded server sends nowhere); ``live``
    also refuses writes to whole collections (``DELETE /lead/``), which the embedded server
    answers 405 and a live one might carry out; ``may_send=False`` refuses every send."""

    def __init__(
        self,
        *,
        recipients: Iterable[str] | None = None,
        live: bool = False,
        may_send: bool = True,
    ) -> None:
        self.live = live
        self.may_send = may_send
        self.recipients = None if recipients is None else frozenset(recipients)
        self._digits = (
            None if recipients is None else {re.sub(r"\D", "", n) for n in self.recipients or ()}
        )
        self._owned: dict[str, set[str]] = {collection: set() for collection in ITEM_COLLECTIONS}
        # The remote_phone each of the run's SMS was last seen with (a PUT that sends it
        # goes to that number unless its body names another).
        self._remote_phone: dict[str, object] = {}
        self._lock = threading.Lock()

    # -- ownership ---------------------------------------------------------------------------

    def own(self, collection: str, item_id: str) -> None:
        """Note ``item_id`` as created by this run (so it may be modified and deleted)."""
        with self._lock:
            self._owned[collection].add(item_id)

    def disown(self, collection: str, item_id: str) -> None:
        """Forget ``item_id``: a create answered with it, but it is not the run's (a lead
        answer naming another lead, say)."""
        with self._lock:
            self._owned[collection].discard(item_id)

    def owns(self, collection: str, item_id: str) -> bool:
        with self._lock:
            return item_id in self._owned.get(collection, ())

    def owned(self, collection: str) -> set[str]:
        with self._lock:
            return set(self._owned[collection])

    def made_up(self, collection: str = SMS, *, prefix: str = "acti_") -> str:
        """An id no server issued (a random UUID), owned: for the rules about unknown ids."""
        item_id = prefix + uuid.uuid4().hex
        self.own(collection, item_id)
        return item_id

    # -- the checks ------------------------------------------------------------------------

    def check(self, method: str, path: str, body: Any) -> None:
        """Raise :class:`Refused` if sending ``method path body`` could touch what the run did
        not create, or reach a number the user did not name."""
        method = method.upper()
        if _LEAVES_THE_RESOURCE.search(path.strip("/").replace("/", "")) or any(
            part in (".", "..") for part in path.split("/")
        ):
            raise MalformedAnswer(
                f"refused {method} {path!r}: the path holds an id that would leave its "
                "resource ('?', '#', '\\', control characters, '.' or '..')"
            )
        relative = path.lstrip("/")
        item = _ITEM.match(relative)
        if method in ("PUT", "PATCH", "DELETE") and item is not None:
            item_id = unquote(item.group("id"))
            if not self.owns(item.group("collection"), item_id):
                raise Refused(
                    f"refused {method} /{relative}: {item_id!r} was not created by this run, "
                    "and a run never modifies or deletes what it did not create"
                )
        collection = relative.split("?", 1)[0]
        if self.live and method in ("PUT", "PATCH", "DELETE") and collection in ITEM_COLLECTIONS:
            raise Refused(
                f"refused {method} /{collection}: a write to a whole collection could touch "
                "what the run did not create"
            )
        is_sms = relative == SMS or (item is not None and item.group("collection") == SMS)
        if is_sms and method in ("POST", "PUT", "PATCH") and isinstance(body, dict):
            phone = body.get("remote_phone")
            if phone is not None and not self.may_address(phone):
                raise Refused(
                    f"refused {method} /{relative}: remote_phone {phone!r} is not one of the "
                    "recipients this run may address (--recipient, or the fictional defaults)"
                )
            if body.get("status") in SENDING_STATUSES:
                sms_id = unquote(item.group("id")) if item is not None else None
                self._check_send(f"{method} /{relative}", body, sms_id)

    def _check_send(self, request: str, body: dict[str, Any], sms_id: str | None) -> None:
        """Refuse a send the user did not allow, or one that names none of the recipients."""
        if not self.may_send:
            raise Refused(
                f"refused {request}: it would send an SMS (status {body['status']!r}) and "
                "this run may not send (--allow-send)"
            )
        if self.recipients is None:
            return  # the embedded server sends nowhere
        if "remote_phone" in body:
            phone = body["remote_phone"]
        else:
            with self._lock:
                phone = self._remote_phone.get(sms_id) if sms_id is not None else None
        if not phone or not self.may_address(phone):
            # None, "" or an empty value names nobody: a server may read it as absent.
            raise Refused(
                f"refused {request}: it would send an SMS (status {body['status']!r}) to "
                f"{phone!r}, not one of the recipients this run may address (--recipient)"
            )

    def may_address(self, phone: object) -> bool:
        if self.recipients is None or not looks_like_a_phone(phone):
            return True
        return phone in self.recipients or (
            isinstance(phone, str)
            and re.sub(r"\D", "", phone) in (self._digits or ())
            and phone.strip().startswith("+")
        )

    def observe(self, method: str, path: str, status: int, body: Any) -> None:
        """Learn the id of what one of the run's own creates made, and the number each of
        its SMS is addressed to."""
        relative = path.split("?", 1)[0].lstrip("/")
        if not (200 <= status < 300 and isinstance(body, dict)):
            return
        created = method.upper() == "POST" and relative in ITEM_COLLECTIONS
        if created and isinstance(body.get("id"), str):
            self.own(relative, body["id"])
        item = _ITEM.match(relative)
        written = created or (method.upper() in ("PUT", "PATCH") and item is not None)
        sms_id = body.get("id") if created else item.group("id") if item is not None else None
        on_sms = relative == SMS or (item is not None and item.group("collection") == SMS)
        if written and on_sms and isinstance(sms_id, str) and "remote_phone" in body:
            with self._lock:
                self._remote_phone[unquote(sms_id)] = body["remote_phone"]
