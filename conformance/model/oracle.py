"""The model of one organisation's SMS: what the run knows of them, creates and writes
with no real answer, and the expectations of each operation (create and update from their
own modules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.dates import parse_datetime
from conformance.fixtures import Fixtures
from conformance.model.create import CreateModel
from conformance.model.listing import (
    DEFAULT_LIMIT,
    ListExpectation,
    match_by_reading,
    readings_shown,
)
from conformance.model.records import LOST_CREATE_SLACK, Expectation, LostCreate, SmsRecord
from conformance.model.timing import TimeWindow, Timing
from conformance.model.update import UpdateModel
from conformance.model.values import text_forms

__all__ = ["Model"]


@dataclass
class Model(CreateModel, UpdateModel):
    """The model of one organisation's SMS as this run knows them.

    ``records`` keeps creation order (the engine draws from it, and server ids are random,
    so order by id would make runs depend on them).
    """

    fixtures: Fixtures
    timing: Timing = field(default_factory=Timing)
    records: dict[str, SmsRecord] = field(default_factory=dict)
    deleted: dict[str, None] = field(default_factory=dict)  # ordered, unlike a set
    # SMS deleted by earlier examples of the run: never drawn from (a replay must draw the
    # same things), only consulted to name the rule when one of them shows up again.
    deleted_before: frozenset[str] = frozenset()
    # SMS whose fate the run does not know: a write to them (a DELETE, a PUT) got no real
    # answer. They may exist or not, in any state: lists may show them or not.
    uncertain: set[str] = field(default_factory=set)
    # Creates that got no real answer and whose SMS, if any, no answer has shown yet.
    lost: list[LostCreate] = field(default_factory=list)
    # Reads may lag writes (the run has a settle window): an SMS a list leaves out may be
    # one the index has not taken in yet, so leaving one out tells no reading.
    reads_may_lag: bool = False

    def was_deleted(self, sms_id: object) -> bool:
        return sms_id in self.deleted or sms_id in self.deleted_before

    # -- create (the expectation: conformance.model.create) -------------------------------

    def add(
        self, expected: SmsRecord, response: Mapping[str, Any], window: TimeWindow
    ) -> SmsRecord:
        """Record an SMS the server created, with the values only the server knows."""
        created = parse_datetime(response.get("date_created"))
        due, not_before = expected.due, expected.not_before
        if expected.status == "outbox" and due is not None and created is not None:
            # send_in counts from the server's own creation time, not ours.
            due = created + (due - window.start)
        if expected.status == "outbox" and not_before is not None:
            # Judged against the server's own clock only: without its date_created, not at all.
            moment = None if created is None else created + (not_before.moment - window.start)
            not_before = None if moment is None else replace(not_before, moment=moment)
        record = replace(
            expected.settled(response),
            id=response["id"],
            due=due,
            not_before=not_before,
            date_created=created,
            activity_at=parse_datetime(response.get("activity_at")),
            user_id=response.get("user_id"),
        )
        self.records[record.id] = record
        return record

    # -- update (the expectation: conformance.model.update) -------------------------------

    def apply(self, record: SmsRecord) -> None:
        """Adopt ``record`` as the known state of its SMS (after the server accepted it)."""
        self.records[record.id] = record

    # -- delete, get, list ---------------------------------------------------------------

    def expect_delete(self, sms_id: str) -> Expectation:
        if sms_id not in self.records:
            return Expectation("sms/delete/unknown-id-404", False)
        return Expectation("sms/delete/answers-200-empty", True)

    def forget(self, sms_id: str) -> None:
        self.records.pop(sms_id, None)
        self.deleted[sms_id] = None

    def lose(self, sms_id: str) -> None:
        """Stop following an SMS whose fate is unknown (a write to it got no real answer):
        it is neither known nor deleted, and nothing about it is judged any more."""
        self.records.pop(sms_id, None)
        self.deleted.pop(sms_id, None)
        self.uncertain.add(sms_id)

    def lose_create(
        self, body: Any, expectation: Expectation | None, window: TimeWindow
    ) -> LostCreate | None:
        """Note a create that got no real answer (``expectation`` is what the docs allowed
        for it): it may have made an SMS the run cannot name. Return the note, or None when
        such an SMS could not show in the run's lists (it names none of the run's leads)."""
        if not isinstance(body, Mapping):
            return None
        lead = body.get("lead_id")
        leads = dict(self.fixtures.leads)
        if lead is None and "lead_id" not in body:
            # A server may put an SMS that names only a contact on the contact's lead.
            contact = body.get("contact_id")
            lead = next((lead for lead, c in self.fixtures.leads if c == contact), None)
        if lead not in leads:
            return None
        record = expectation.record if expectation is not None else None
        lost = LostCreate(lead, window.start - LOST_CREATE_SLACK, _lost_values(body, record))
        self.lost.append(lost)
        return lost

    def knows(self, sms_id: object) -> bool:
        """True when the run has heard of ``sms_id``: followed, deleted, or of unknown fate."""
        return sms_id in self.records or self.was_deleted(sms_id) or sms_id in self.uncertain

    def adopt(self, items: Any, among: Iterable[LostCreate] | None = None) -> list[str]:
        """Read lost creates back from a list answer: each SMS of ``items`` the run has not
        heard of that a lost create (of ``among``, else any) may have made is taken for
        that create's SMS, one SMS per create, and becomes of unknown fate (``uncertain``:
        lists may show it or not). Return the ids adopted. An SMS no lost create accounts
        for stays unknown, and the list rules judge it."""
        adopted: list[str] = []
        for item in items if isinstance(items, list) else []:
            sms_id = item.get("id") if isinstance(item, Mapping) else None
            if not isinstance(sms_id, str) or self.knows(sms_id):
                continue
            candidates = self.lost if among is None else [c for c in among if c in self.lost]
            lost = next((c for c in candidates if c.may_have_made(item)), None)
            if lost is not None:
                self.lost.remove(lost)
                self.uncertain.add(sms_id)
                adopted.append(sms_id)
        return adopted

    def expect_list(
        self,
        params: Mapping[str, str],
        tz_offset: str | None = None,
        window: TimeWindow | None = None,
    ) -> ListExpectation:
        """Return the SMS ``GET /activity/sms/`` with ``params``, answered during ``window``
        (``None``: at some unknown time), must return and may return."""
        outcomes = {
            record.id: match_by_reading(record, params, tz_offset, window, self.timing)
            for record in self.records.values()
        }
        verdicts = {}
        shows = {}
        for sms_id, by_reading in outcomes.items():
            seen = frozenset().union(*by_reading.values())
            verdicts[sms_id] = next(iter(seen)) if len(seen) == 1 else None
            if verdicts[sms_id] is None:
                shows[sms_id] = readings_shown(by_reading)
        limit = int(params.get("_limit", DEFAULT_LIMIT))
        return ListExpectation(
            shows=shows,
            ids=frozenset(sms_id for sms_id, verdict in verdicts.items() if verdict is True),
            skip=int(params.get("_skip", 0)),
            limit=limit,
            maybe=frozenset(sms_id for sms_id, verdict in verdicts.items() if verdict is None)
            | frozenset(self.uncertain),  # of unknown fate: may be listed or not
            cut_to=DEFAULT_LIMIT if limit > DEFAULT_LIMIT else None,
        )

    def in_status(self, *statuses: str) -> list[SmsRecord]:
        return [record for record in self.records.values() if record.status in statuses]


def _lost_values(body: Mapping[str, Any], record: SmsRecord | None) -> dict[str, tuple[Any, ...]]:
    """What an SMS made by a create of ``body`` may show, field by field: the model's
    ``record`` of it (with every form an open point allows) when the docs let the create
    through, else the body's own values. A field no value can be told for is left out."""
    values: dict[str, tuple[Any, ...]] = {}
    if record is not None:
        written = record.written
        if record.text_choices is not None:
            values["text"] = tuple(record.text_choices)
        elif "text" in written:
            values["text"] = (written["text"], *record.alternatives.get("text", ()))
        for name in ("local_phone", "remote_phone"):
            if name == "local_phone" and record.local_phone_choices is not None:
                values[name] = (None, *sorted(record.local_phone_choices))
            elif name in written:
                values[name] = (written[name], *record.alternatives.get(name, ()))
    else:
        for name in ("text", "local_phone", "remote_phone"):
            if isinstance(body.get(name), str):
                values[name] = (body[name], *text_forms(body[name]))
        if body.get("template_id") is not None:
            values.pop("text", None)  # whatever the template renders to
    if "text" in values and any(text in ("", None) for text in values["text"]):
        values["text"] = (*values["text"], "", None)  # no text: "" or null
    return values
