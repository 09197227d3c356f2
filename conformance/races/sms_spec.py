"""The SMS API as a sequential spec, at the level the races need (issue 14).

Per SMS id a small immutable state: absent (never created), an :class:`Sms` (status, text,
when its sender may send it) or a :class:`Gone` (deleted). Operations: create, get, put
(edit the text; schedule, send, cancel by status), delete, and list by a set of ids. Answers
are abstracted to :class:`Answer` (the status code, and the status, text or listed ids).
The rules are those conformance/model.py holds, by catalogue id (conformance/catalogue.toml):

- create: ``sms/create/status-{draft,scheduled,outbox,sent,inbox}``; ids are never reused.
- get: ``sms/get/returns-object``; ``sms/get/unknown-id-404`` and ``sms/delete/then-get-404``
  (a deleted SMS is gone).
- put: ``sms/update/unknown-id-404``; drafts only (``sms/update/drafts-only``,
  ``sms/update/cancel-refused-after-send``): a draft's text may be edited
  (``sms/update/draft-edit``, ``sms/update/partial``), a draft scheduled with a
  ``date_scheduled`` (``sms/update/draft-to-scheduled``) or sent now
  (``sms/update/draft-to-outbox``: then in outbox *or already sent*); a scheduled or outbox
  SMS not yet sent cancelled back to draft (``sms/update/cancel-scheduled``,
  ``sms/update/cancel-outbox``).
- delete: ``sms/delete/answers-200-empty``, ``sms/delete/unknown-id-404``; lists never show
  a deleted SMS (``sms/delete/then-not-listed``), nor one not yet created
  (``sms/list/filter-id-in``: exactly the SMS of the ids asked for), and no SMS the
  history did not make, nor one twice (an answer with ``extra`` is never explained).
- the sender: a ``scheduled`` or ``outbox`` SMS may be sent (``sent`` or ``error``) at any
  time once due (``sms/send/outbox-sent``, ``sms/send/scheduled-sent``), never before
  (``sms/send/scheduled-not-early``), never once cancelled (``sms/send/cancelled-never-sent``).
  It is the nondeterminism of the spec: before a get or put of an SMS the sender may or may
  not have sent it, if it fell due before that operation's answer came back (its due time is
  on the history's clock; an outbox SMS falls due when the PUT or create was invoked).

Where the docs are silent the spec allows every outcome: a PUT on an SMS that is no draft
setting every field it names to the value it has (``sms/update/drafts-only`` refuses a PUT
that *changes* something), a draft moved to inbox/sent/error
(``sms/update/draft-to-other-status``) and a cancel with edits (open point
``cancel-and-edit``) may be refused or done; a schedule whose date has passed may be refused
(``past-date-scheduled``), and a send of a draft with no text (``empty-send``). Deletes and
creates are seen at once (``visibility=immediate``), or, with ``SmsSpec(settle_lag=...)``,
reads may lag behind them for a bounded time (``visibility=eventual``).

Left out: the *upper* bound on sending (a grace period after which it must be sent: the
spec never forces a send, so a sender that never runs is not caught here; the sequential
rules catch it), the clock skew between the history's clock and the server's (``Timing``
in conformance/model.py), ``send_in``, phones (the races send from a valid internal
``local_phone``), attachments, templates, texts read back in another normal form
(``text-normalisation``), validation of bodies (the races send valid ones), refused creates
(a create in the history names the id its answer gave), pagination and every other list
filter.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from conformance.races.history import Operation
from conformance.vocabulary import CREATE_STATUSES, DELIVERED, SENDING

__all__ = [
    "GONE",
    "Answer",
    "Gone",
    "Sms",
    "SmsRequest",
    "SmsSpec",
    "Store",
    "create",
    "delete",
    "get",
    "list_ids",
    "put",
]


@dataclass(frozen=True, slots=True)
class Sms:
    status: str
    text: str | None = None
    due: float | None = None  # when a scheduled/outbox SMS falls due (None: not sending)
    listed_from: float = -math.inf  # visibility=eventual: lists may leave it out before then

    def __str__(self) -> str:
        due = "" if self.due is None else f" due {self.due:g}"
        return f"{self.status} {self.text!r}{due}"


@dataclass(frozen=True, slots=True)
class Gone:
    """A deleted SMS. Under ``visibility=eventual``, reads may still show ``last`` until
    ``until``."""

    last: Sms | None = None
    until: float = -math.inf

    def __str__(self) -> str:
        return (
            "deleted" if self.last is None else f"deleted (reads may show it till {self.until:g})"
        )


GONE = Gone()  # a deleted SMS, once every read sees it gone


@dataclass(frozen=True, slots=True)
class Store:
    """The state: every SMS id the history touched, with its :class:`Sms` or :data:`GONE`
    (sorted pairs, so equal stores hash alike); an id not in it was never created."""

    items: tuple[tuple[str, Sms | Gone], ...] = ()

    def get(self, sms_id: str) -> Sms | Gone | None:
        return dict(self.items).get(sms_id)

    def put(self, sms_id: str, value: Sms | Gone) -> Store:
        return Store(tuple(sorted({**dict(self.items), sms_id: value}.items())))

    def __str__(self) -> str:
        return "{" + ", ".join(f"{sms_id}: {value}" for sms_id, value in self.items) + "}"


@dataclass(frozen=True, slots=True)
class SmsRequest:
    """An operation on the SMS API: ``name`` is create, get, put, delete or list; ``id`` the
    SMS (for a create, the id its answer gave); ``fields`` the body sent (create, put);
    ``ids`` the ids a list asks for (``id__in``)."""

    name: str
    id: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    ids: frozenset[str] = frozenset()

    def field(self, name: str, default: Any = None) -> Any:
        return dict(self.fields).get(name, default)

    def __str__(self) -> str:
        if self.name == "list":
            return f"list id__in={','.join(sorted(self.ids))}"
        fields = "".join(f" {name}={value!r}" for name, value in self.fields)
        return f"{self.name} {self.id}{fields}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server answered, abstracted: the status code, and the SMS's status and text
    (get, put, create) or the ids listed (list). A list's ``extra`` names what it showed
    that is no SMS of the history shown once: an SMS no request made (by its server id),
    or one of the history's listed twice (``"s0 listed twice"``). No state explains it:
    every SMS a list shows must be one the history made, or may have made."""

    code: int
    status: str | None = None
    text: str | None = None
    ids: frozenset[str] | None = None
    extra: frozenset[str] = frozenset()

    def __str__(self) -> str:
        if self.ids is not None:
            more = "".join(f" +{item}" for item in sorted(self.extra))
            return f"{self.code} [{', '.join(sorted(self.ids))}]{more}"
        if self.status is None:
            return str(self.code)
        return f"{self.code} {self.status} {self.text!r}"


def create(
    sms_id: str, status: str, text: str | None = None, date_scheduled: float | None = None
) -> SmsRequest:
    if status not in CREATE_STATUSES or (status == "scheduled") != (date_scheduled is not None):
        raise ValueError("the spec models valid creates only (scheduled ones with a date)")
    fields = {"status": status, "text": text, "date_scheduled": date_scheduled}
    return SmsRequest("create", sms_id, tuple((k, v) for k, v in fields.items() if v is not None))


def get(sms_id: str) -> SmsRequest:
    return SmsRequest("get", sms_id)


def put(sms_id: str, **fields: Any) -> SmsRequest:
    if fields.get("status") == "scheduled" and fields.get("date_scheduled") is None:
        raise ValueError("the spec models schedules that give date_scheduled")
    return SmsRequest("put", sms_id, tuple(sorted(fields.items())))


def delete(sms_id: str) -> SmsRequest:
    return SmsRequest("delete", sms_id)


def list_ids(*ids: str) -> SmsRequest:
    return SmsRequest("list", ids=frozenset(ids))


def shown(sms: Sms) -> Answer:
    return Answer(200, sms.status, sms.text)


class SmsSpec:
    """The spec (:class:`conformance.races.checker.Spec`, partitioned by SMS id).

    ``settle_lag`` > 0 is the ``eventual`` reading of the open point ``visibility``
    (``sms/read/settle-lag``): for that long after a delete was answered, a get or list
    invoked may still show the SMS as it was, and for that long after a create was answered,
    a list invoked may leave it out. 0 (the default) is the ``immediate`` reading."""

    def __init__(self, settle_lag: float = 0.0) -> None:
        self.settle_lag = settle_lag

    def initial(self) -> Store:
        return Store()

    def keys(self, op: Operation) -> Iterable[Hashable]:
        request: SmsRequest = op.request
        return sorted(request.ids) if request.name == "list" else [request.id]

    def step(self, state: Store, op: Operation, answer: Any) -> Iterator[Store]:
        for shown_answer, new in self.outcomes(state, op.request, op.returned, op.invoke):
            if op.indeterminate or shown_answer == answer:
                yield new

    def outcomes(
        self, state: Store, request: SmsRequest, now: float, since: float
    ) -> Iterator[tuple[Answer, Store]]:
        """Every (answer, state after) ``request`` may give from ``state``, handled at some
        time between ``since`` and ``now`` (its invoke and its answer)."""
        if request.name == "list":
            for listed in self._listings(state, request.ids, since):
                yield Answer(200, ids=listed), state
            return
        assert request.id is not None
        sms_id = request.id
        current = state.get(sms_id)
        if request.name == "create":
            if current is not None:
                return  # ids are never reused
            status = request.field("status")
            due = request.field("date_scheduled") if status == "scheduled" else since
            new = Sms(status, request.field("text"), due if status in SENDING else None)
            if self.settle_lag > 0:
                new = replace(new, listed_from=now + self.settle_lag)
            for after in _maybe_sent(new, now):
                yield shown(after), state.put(sms_id, after)
            return
        if not isinstance(current, Sms):
            yield Answer(404), state  # never created, or deleted
            if request.name == "get" and isinstance(current, Gone) and current.last is not None:
                settling = since <= current.until  # visibility=eventual: not settled yet
                for last in _maybe_sent(current.last, now) if settling else ():
                    yield shown(last), state
            return
        if request.name == "delete":
            if self.settle_lag > 0:
                yield Answer(200), state.put(sms_id, Gone(current, now + self.settle_lag))
            else:
                yield Answer(200), state.put(sms_id, GONE)
            return
        for before in _maybe_sent(current, now):  # the sender may have run first
            if request.name == "get":
                yield shown(before), state.put(sms_id, before)
            elif request.name == "put":
                for answer, after in _put(before, dict(request.fields), now, since):
                    yield answer, state.put(sms_id, after)
            else:
                raise ValueError(f"unknown operation {request.name!r}")

    def _listings(self, state: Store, ids: frozenset[str], since: float) -> Iterator[frozenset]:
        """Every set of ``ids`` a list invoked at ``since`` may show: those of existing SMS
        (``sms/list/filter-id-in``, ``sms/delete/then-not-listed``), give or take, under
        ``visibility=eventual``, the ones created or deleted too recently to have settled."""
        listed, unsettled = set(), []
        for sms_id in sorted(ids):
            value = state.get(sms_id)
            if isinstance(value, Sms) and since < value.listed_from:
                unsettled.append(sms_id)
            elif isinstance(value, Sms):
                listed.add(sms_id)
            elif isinstance(value, Gone) and value.last is not None and since <= value.until:
                unsettled.append(sms_id)
        for size in range(len(unsettled) + 1):
            for extra in itertools.combinations(unsettled, size):
                yield frozenset(listed.union(extra))


def _maybe_sent(sms: Sms, now: float) -> Iterator[Sms]:
    """The SMS as it is, and, when it is due by ``now``, as its sender may have left it."""
    yield sms
    if sms.status in SENDING and sms.due is not None and sms.due <= now:
        for status in DELIVERED:
            yield replace(sms, status=status, due=None)


def _put(sms: Sms, body: dict[str, Any], now: float, since: float) -> Iterator[tuple[Answer, Sms]]:
    status = body.get("status")
    edited = replace(sms, text=body["text"]) if "text" in body else sms
    refused = (Answer(400), sms)
    if sms.status == "draft":
        if status in (None, "draft"):
            yield shown(edited), edited  # draft-edit, partial
        elif status in SENDING:  # draft-to-scheduled, draft-to-outbox
            due = body["date_scheduled"] if status == "scheduled" else since
            for after in _maybe_sent(replace(edited, status=status, due=due), now):
                yield shown(after), after
            if status == "scheduled" and due <= now:
                yield refused  # past-date-scheduled=reject
            if not edited.text:
                yield refused  # empty-send=reject (sms/update/empty-send)
        else:  # draft-to-other-status: not documented, either way
            yield refused
            yield shown(replace(edited, status=status)), replace(edited, status=status)
    elif sms.status in SENDING and status == "draft":
        cancelled = replace(sms, status="draft", due=None)  # cancel-scheduled, cancel-outbox
        yield shown(cancelled), cancelled
        if "text" in body:  # cancel-with-edits: not documented, any of these
            yield (
                shown(replace(edited, status="draft", due=None)),
                replace(edited, status="draft", due=None),
            )
            yield refused
    else:
        yield refused  # drafts-only, cancel-refused-after-send
        if _changes_nothing(sms, body):
            # drafts-only refuses a PUT that *changes* something; one that sets every field
            # it names to the value it has may be answered either way.
            yield shown(sms), sms


def _changes_nothing(sms: Sms, body: dict[str, Any]) -> bool:
    now = {"status": sms.status, "text": sms.text, "date_scheduled": sms.due}
    return all(name in now and now[name] == value for name, value in body.items())
