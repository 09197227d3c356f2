"""Steering: requests spent where coverage is thinnest (issue 13, deliverable 2).

Among some forty rules, a rule of the machine that alone reaches a documented rule (a
refusal, a create status) or a listed boundary (``send_in`` 0, 59, 60) comes up a few times
a run, and which few depends on the seed (``benchmarks/bench_coverage.py`` shows them).
:meth:`SteeringRules.aim_in_turn` sends, in turn, the create that reaches each of them.

Not the run's tally: aiming at what the tally shows thinnest made a run's examples depend on
the examples before them, so an example replayed (after noise, or to shrink a failure) took
another path, and the state machine stopped as flaky (measured: ``ci`` seed 2 fell from
9,700 to 3,385 requests). The turn is the example's own, drawn, so it shrinks too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule

import strategies as sms_st
from conformance.machine.base import STRATEGY_NOW
from conformance.machine.lists import TZ_OFFSETS
from conformance.machine.operations import Operations
from conformance.model import SENDING, between_midnights
from conformance.rules.lists import BETWEEN_MIDNIGHTS

Act = Callable[[Any, st.DataObject], None]


@dataclass(frozen=True)
class Aim:
    """A documented rule (or one of its listed boundaries) and what reaches it: ``act``
    sends the request(s) on a machine; ``sends`` when that may send (skipped without
    ``allow_send``); ``second_org`` when it needs the second organisation's key."""

    rule: str
    boundary: str | None
    act: Act
    sends: bool
    second_org: bool = False
    weight: int = 1  # turns per round of the aims (a rule judged only by this aim needs more)


def _create(body: Callable[[Any, st.DataObject], dict[str, Any]]) -> Act:
    def act(machine: Any, data: st.DataObject) -> None:
        made = body(machine, data)
        if machine.target.allow_send or made.get("status") not in SENDING:
            machine._create(made)

    return act


def _breaking(rule_id: str) -> Act:
    def body(machine: Any, data: st.DataObject) -> dict[str, Any]:
        drawn = sms_st.invalid_create_payloads(
            machine.fixtures, now=STRATEGY_NOW, breaking=(rule_id,)
        )
        made = dict(data.draw(drawn, label="invalid").body)
        if rule_id != "sms/create/attachment-invalid":
            # An attachment url outside the Files API is an open point, decided first.
            made.pop("attachments", None)
        if made.get("status") in SENDING and not made.get("text"):
            made["text"] = "a send the docs settle"  # an empty send is an open point first
        return made

    return _create(body)


def _body_with_status(
    status: str, *, settled: bool = False, **fields: Any
) -> Callable[[Any, st.DataObject], dict[str, Any]]:
    def body(machine: Any, data: st.DataObject) -> dict[str, Any]:
        drawn = sms_st.create_payloads(machine.fixtures, now=STRATEGY_NOW, status=status)
        made = {**data.draw(drawn, label="body"), **fields}
        if status == "scheduled":
            made["date_scheduled"] = machine._future(data)
        if status == "outbox" and "send_in" not in fields:
            made.pop("send_in", None)
        if status in SENDING or settled:
            # A send the docs settle, judged by the status rules: a text, from an internal
            # number, no attachment (an empty send, a send without local_phone, an
            # attachment url outside the Files API, a direction given: open points).
            made = {key: made[key] for key in SETTLED_SEND if key in made}
            made["local_phone"] = machine.fixtures.internal_phones[0]
            if not made.get("text"):
                made["text"] = "a send the docs settle"
        return made

    return body


def _with_status(status: str, **fields: Any) -> Act:
    return _create(_body_with_status(status, **fields))


def _then(status: str, update: Callable[[Any, st.DataObject], dict[str, Any]]) -> Act:
    """Create an SMS in ``status`` whose sending the docs settle, then PUT ``update`` on it."""

    def act(machine: Any, data: st.DataObject) -> None:
        record = machine._create(_body_with_status(status, settled=True)(machine, data))
        if record is not None and record.status == status:
            machine._update(record, update(machine, data))

    return act


def _edit(machine: Any, data: st.DataObject) -> dict[str, Any]:
    """A draft edit the docs settle (an attachment url outside the Files API: open)."""
    edit = dict(data.draw(sms_st.update_payloads(machine.fixtures, now=STRATEGY_NOW)))
    edit.pop("attachments", None)
    return edit or {"text": "an edit the docs settle"}


def _schedule(machine: Any, data: st.DataObject) -> dict[str, Any]:
    return {"status": "scheduled", "date_scheduled": machine._future(data)}


def _just(body: dict[str, Any]) -> Callable[[Any, st.DataObject], dict[str, Any]]:
    return lambda machine, data: dict(body)


def _on_a_record(rule_name: str, *args: Any) -> Act:
    def act(machine: Any, data: st.DataObject) -> None:
        if not machine.model.records:
            machine._create(_body_with_status("draft")(machine, data))
        if machine.model.records:
            getattr(machine, rule_name)(data, *args)

    return act


def _unknown_get(machine: Any, data: st.DataObject) -> None:
    if not (machine.created or machine.state.gone):
        machine._create(_body_with_status("draft")(machine, data))
    if machine.created or machine.state.gone:
        machine.touch_unknown_sms("GET")


#: The fields of a send whose outcome the docs settle (with status, send_in, date_scheduled).
SETTLED_SEND = (
    "status", "text", "lead_id", "contact_id", "remote_phone", "send_in", "date_scheduled",
)  # fmt: skip

#: Refusals of a create body, one family each (``protocol/no-5xx`` is everywhere already),
#: and whether the body may send.
_REFUSALS = {
    "sms/create/status-required": False,
    "sms/create/status-unknown-rejected": False,
    "sms/create/phone-malformed": False,
    "sms/create/template-unknown-rejected": False,
    "sms/create/attachment-invalid": False,
    "sms/create/scheduled-requires-date-scheduled": True,
    "sms/create/send-in-below-60": True,
    "sms/create/send-in-invalid-type": True,
    "sms/create/local-phone-required": True,
    "sms/create/local-phone-internal": True,
}
#: A family most of whose draws another rule decides first (a send_in list or object is a
#: wrong JSON type: protocol/invalid-input-rejected) gets more turns.
_WEIGHTS = {"sms/create/send-in-invalid-type": 3}
#: What ``benchmarks/bench_coverage.py`` showed judged fewer than 20 times on some of seeds
#: 1-5 without aiming (a draft, inbox or sent create never was).
AIMS: tuple[Aim, ...] = (
    *(
        Aim(rule_id, None, _breaking(rule_id), sends, weight=_WEIGHTS.get(rule_id, 1))
        for rule_id, sends in _REFUSALS.items()
    ),
    # Only an outbox create without send_in is judged by it (with send_in: send-in-accepted).
    Aim("sms/create/status-outbox", None, _with_status("outbox"), True, weight=4),
    Aim("sms/create/status-scheduled", None, _with_status("scheduled"), True),
    Aim("sms/create/send-in-accepted", "send_in=0", _with_status("outbox", send_in=0), True),
    Aim("sms/create/send-in-accepted", "send_in=59", _with_status("outbox", send_in=59), True),
    Aim("sms/create/send-in-below-60", "send_in=60", _with_status("outbox", send_in=60), True),
    Aim("sms/update/draft-edit", None, _then("draft", _edit), False),
    Aim("sms/update/draft-to-outbox", None, _then("draft", _just({"status": "outbox"})), True),
    Aim("sms/update/draft-to-scheduled", None, _then("draft", _schedule), True),
    Aim(
        "sms/update/scheduled-requires-date-scheduled",
        None,
        _then("draft", _just({"status": "scheduled"})),
        True,
    ),
    Aim("sms/update/cancel-scheduled", None, _then("scheduled", _just({"status": "draft"})), True),
    Aim("sms/get/unknown-id-404", None, _unknown_get, False),
    Aim("sms/get/fields", None, _on_a_record("get_sms", True), False),
    *(
        Aim(
            f"isolation/{rule}",
            None,
            _on_a_record("another_organisation_reaches_in", kind),
            False,
            second_org=True,
        )
        for rule, kind in (("get", "get"), ("list", "list"), ("modify", "put"))
    ),  # fmt: skip
)


def _several_pages(machine: Any, data: st.DataObject) -> None:
    """A walk over several pages of the run's own SMS (three at least, two a page)."""
    fixtures = machine.fixtures
    lead_id, contact_id = fixtures.leads[-1]
    for index in range(3 - len(machine._on_own_leads())):
        machine.target.clock.sleep(0.01)  # apart in time, so that an order shows
        machine._create(
            {
                "status": "draft",
                "text": f"a page of drafts, {index + 1}",
                "lead_id": lead_id,
                "contact_id": contact_id,
                "local_phone": fixtures.internal_phones[0],
                "remote_phone": fixtures.remote_phones[0],
            }
        )
    if len(machine._on_own_leads()) >= 3:  # else a create was refused or lost: judged
        machine._walk(machine._scoped({}), 2)


def _spelled_send_in(machine: Any, data: st.DataObject) -> None:
    """An outbox create whose send_in is a string that spells 60 or more seconds ("75"):
    refused, read as seconds or not (open point send-in-numeric-string); then one that
    spells fewer, which the server may take or refuse."""
    seconds = data.draw(st.one_of(st.just(60), st.integers(60, 10**4)), label="seconds")
    spelled = data.draw(st.sampled_from((str(seconds), f"{seconds}.0")), label="spelled")
    _with_status("outbox", send_in=spelled)(machine, data)
    # And one under 60, which shows how the server reads such a string (the behaviour
    # profile's send-in-numeric-string).
    under = data.draw(st.integers(0, 59), label="under 60")
    _with_status("outbox", send_in=str(under))(machine, data)


def _an_own_sms(machine: Any, data: st.DataObject, kind: str) -> Any:
    """One of the run's own SMS with a ``kind`` date, on its lead (a draft made first when
    there is none); None when even that draft could not be made."""
    if not machine._on_own_leads(kind):
        lead_id, contact_id = machine.fixtures.leads[-1]
        draft = _body_with_status("draft", settled=True)(machine, data)
        machine._create({**draft, "lead_id": lead_id, "contact_id": contact_id})
    dated = machine._on_own_leads(kind)
    return data.draw(st.sampled_from(dated), label="at") if dated else None


def _exactly_at_a_date(kind: str, op: str) -> Act:
    """A list whose ``kind__op`` bound is exactly one of the run's own SMS's dates as the
    server showed it, on its lead (a draft made first when there is none)."""

    def act(machine: Any, data: st.DataObject) -> None:
        record = _an_own_sms(machine, data, kind)
        if record is not None:
            bound = getattr(record, kind).isoformat()
            machine._list(
                machine._scoped({"lead_id": record.written["lead_id"], f"{kind}__{op}": bound})
            )

    return act


def _between_midnights(kind: str) -> Act:
    """A list by a bare date whose local midnight (at an ``x-tz-offset`` of
    :data:`TZ_OFFSETS`) and UTC midnight fall either side of one of the run's own SMS, on
    its lead: listed or not as the date is read at the offset or in UTC."""

    def act(machine: Any, data: st.DataObject) -> None:
        record = _an_own_sms(machine, data, kind)
        if record is None:
            return
        moment = getattr(record, kind)
        days = [(moment.date() + timedelta(days=delta)).isoformat() for delta in (-1, 0, 1)]
        straddling = [
            (day, offset)
            for offset in TZ_OFFSETS
            for day in days
            if between_midnights(day, offset, moment)
        ]
        day, offset = data.draw(st.sampled_from(straddling), label="bare date")
        op = data.draw(st.sampled_from(["gte", "lt"]), label="op")
        params = {"lead_id": record.written["lead_id"], f"{kind}__{op}": day}
        machine._list(machine._scoped(params), offset)

    return act


#: Aims only a coverage top-up round takes (:func:`aims_for`): the boundaries a run may
#: miss on some seeds, and those no round draws (a send_in spelled as a string). Apart
#: from :data:`AIMS`, so that the rounds' draws stay as they were.
TOP_UP_AIMS: tuple[Aim, ...] = (
    Aim("sms/list/order", "a walk over several pages", _several_pages, False),
    Aim("sms/list/pagination", "a walk over several pages", _several_pages, False),
    Aim("sms/list/limit-maximum", "_limit=101", lambda m, _: m.list_with_a_large_limit(101), False),
    Aim(
        "sms/create/send-in-below-60",
        "send_in a string that spells 60 or more",
        _spelled_send_in,
        True,
    ),
    *(
        Aim(rule, f"__{op} exactly at an SMS's date", _exactly_at_a_date(kind, op), False)
        for kind, rule in (
            ("date_created", "sms/list/filter-date-created"),
            ("activity_at", "sms/list/filter-activity-at"),
        )
        for op in ("gt", "lt", "gte", "lte")
    ),
    *(
        Aim("sms/list/filter-bare-date", BETWEEN_MIDNIGHTS, _between_midnights(kind), False)
        for kind in ("date_created", "activity_at")
    ),
)


def _check_aims() -> None:
    """Every aim names a documented rule of the catalogue and one of its listed boundaries:
    a typo fails at import."""
    from conformance.catalogue import CATALOGUE

    for aim in (*AIMS, *TOP_UP_AIMS):
        entry = CATALOGUE[aim.rule]  # KeyError names an unknown rule
        if aim.boundary is not None and aim.boundary not in entry.boundaries:
            raise ImportError(f"steering: {aim.rule} lists no boundary {aim.boundary!r}")


_check_aims()


class SteeringRules(Operations):
    _next_aim: int | None = None

    @rule(data=st.data())
    def aim_in_turn(self, data: st.DataObject) -> None:
        """The next create of :data:`AIMS`, in turn from a drawn first one: within an
        example every aim comes up as often as the others. (The turn is the example's own,
        never the run's tally: an example replayed must take the same path.) In a coverage
        top-up round (``state.aims``, fixed for the round) every aim of the round, each
        turn."""
        if self.state.aims is not None:
            for aim in self.state.aims:
                aim.act(self, data)
            return
        aims = usable(AIMS, self.target.allow_send, self.target.has_second_org)
        if self._next_aim is None:
            self._next_aim = data.draw(st.integers(0, len(aims) - 1), label="first aim")
        aim = aims[self._next_aim % len(aims)]
        self._next_aim += 1
        aim.act(self, data)


def usable(aims: tuple[Aim, ...], allow_send: bool, second_org: bool) -> list[Aim]:
    """The aims a run may take (those that send only with ``allow_send``, those that need
    the second organisation only with its key), each ``weight`` times."""
    return [
        aim
        for aim in aims
        if (allow_send or not aim.sends) and (second_org or not aim.second_org)
        for _ in range(aim.weight)
    ]


def aims_for(rules: set[str], boundaries: set[tuple[str, str]]) -> tuple[Aim, ...]:
    """The aims that reach a rule of ``rules`` (each of its aims) or a boundary of
    ``boundaries`` (``(rule, boundary)``), once each."""
    return tuple(
        aim
        for aim in (*AIMS, *TOP_UP_AIMS)
        if aim.rule in rules or (aim.rule, aim.boundary) in boundaries
    )
