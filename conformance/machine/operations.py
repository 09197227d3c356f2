"""The operations rules are made of: create, update, delete and list one SMS or query, each
one judged step, with what the model does with the answer (and the bookkeeping of creates
that got no answer)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from hypothesis import strategies as st

from conformance.checks import Step
from conformance.judging import is_noise
from conformance.machine.base import SMS, MachineBase, transient
from conformance.model import SENDING, LostCreate, SmsRecord, TimeWindow, parse_datetime
from conformance.records import Exchange
from conformance.safety import item_path
from conformance.target import Target

GIVEN_LEADS_PAGES = 20  # at most 2,000 SMS looked at on the user's leads


class Operations(MachineBase):
    # -- create ----------------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> Any:
        """Create an SMS and return its record, or None when the model does not follow it."""
        if not self.target.data_is_private and isinstance(body, dict) and self._unpinned(body):
            # On a live target every SMS hangs off one of the run's leads, so that clean-up
            # (and `sms-conformance cleanup`) can always find what a run left behind.
            body = {**body, **self._a_lead_for(body)}
        step = self._step(
            "create",
            "POST",
            SMS,
            json_body=body,
            expectation=partial(self.model.expect_create, body),
        )
        expectation = step.expectation
        assert expectation is not None
        if transient(step):
            self._find_strays(body, step.window)
            return None
        if not step.succeeded or not isinstance(step.body, dict) or "id" not in step.body:
            return None
        if expectation.record is None or expectation.accept is False:
            # Accepted what it must not, or where the model cannot follow: keep lists clean.
            if not self._discard(step.body["id"]):
                self.model.uncertain.add(step.body["id"])  # may still be there
            return None
        record = self.model.add(expectation.record, step.body, step.window)
        self.model.apply(record.observe_status(step.body.get("status", record.status)))
        return self.model.records.get(record.id)

    def _unpinned(self, body: dict[str, Any]) -> bool:
        """True when a server could store the SMS on none of the run's leads: no
        ``lead_id``, ``null``, or a string naming another lead. A ``lead_id`` of a wrong type
        is a negative case a conforming server refuses (one that accepts it gets the SMS
        deleted at once, by id: see :meth:`_create`), so it stays."""
        lead = body.get("lead_id")
        if isinstance(lead, str):
            return lead not in {lead_id for lead_id, _ in self.fixtures.leads}
        return lead is None

    def _a_lead_for(self, body: dict[str, Any]) -> dict[str, str]:
        """The lead (and contact, when the body names none) an SMS body is given."""
        for lead_id, contact_id in self.fixtures.leads:
            if body.get("contact_id") == contact_id:
                return {"lead_id": lead_id}
        lead_id, contact_id = self.fixtures.leads[-1]
        return (
            {"lead_id": lead_id}
            if "contact_id" in body
            else {"lead_id": lead_id, "contact_id": contact_id}
        )

    def _future(self, data: st.DataObject) -> str:
        low, high = self.state.schedule_seconds
        seconds = data.draw(st.integers(low, high), label="seconds ahead")
        return (self._now() + timedelta(seconds=seconds)).isoformat()

    def _pending(self) -> list[SmsRecord]:
        now = self._now()
        return [r for r in self.model.in_status(*SENDING) if r.due is not None and r.due > now]

    # -- creates that got no answer --------------------------------------------------------

    def _find_strays(self, body: dict[str, Any], window: TimeWindow) -> None:
        """A create got no usable answer: it may or may not have happened. The model notes
        it (:meth:`Model.lose_create`); look on the body's lead (one of the run's) for an SMS
        the run does not know, created since, that may be what the create made (with every
        form the docs allow: a template rendered, a text normalised, ...), and delete it.
        What this search misses, any later list on the lead may show: the model takes it for
        the lost create's SMS then (:meth:`_adopt_strays`). On a lead the user named
        (``--lead-id``), where others may create SMS meanwhile, only a single match counts;
        anything else on the lead is left alone."""
        lost = self.model.lose_create(body, self.model.expect_create(body, window), window)
        if lost is None:
            return  # an SMS no list of the run can show: nothing to look for
        params = {"lead_id": lost.lead_id, "date_created__gte": lost.since.isoformat()}
        exchange, _ = self._send("GET", SMS, params=params)
        listed = exchange.response.body if exchange.response is not None else None
        items = listed.get("data") if isinstance(listed, dict) and not is_noise(exchange) else None
        if not isinstance(items, list):
            return  # the search itself met noise: the lists will tell
        if lost.lead_id in self.target.given.lead_ids:
            unknown = [
                item
                for item in items
                if isinstance(item, dict) and not self.model.knows(item.get("id"))
            ]
            if sum(map(lost.may_have_made, unknown)) != 1:
                return
        for sms_id in self._adopt_strays(items, among=[lost]):
            if self._discard(sms_id):
                self.model.uncertain.discard(sms_id)  # confirmed gone: known not listed

    def _adopt_strays(self, items: Any, among: list[LostCreate] | None = None) -> list[str]:
        """Take each SMS of a list answer that a lost create may have made for that create's
        SMS (of unknown fate from now on: lists may show it or not), as the run's own, to
        delete at the end. Return their ids."""
        adopted = self.model.adopt(items, among)
        for sms_id in adopted:
            if self.target.api.guard is not None:
                self.target.api.guard.own(SMS, sms_id)  # what the lost create made
            self.created[sms_id] = None
        return adopted

    def _adopt_from(self, exchange: Exchange) -> None:
        """Read back, from a list answer, any SMS a create that got no answer made."""
        if not self.model.lost or is_noise(exchange) or exchange.response is None:
            return
        body = exchange.response.body
        if isinstance(body, dict):
            self._adopt_strays(body.get("data"))

    # -- update, delete --------------------------------------------------------------------

    def _update(self, record: SmsRecord, body: dict[str, Any]) -> None:
        if self._sends_to_nobody_named(record, body):
            # A live send names one of the run's recipients (the guard refuses any other):
            # a draft may have been made with no remote_phone, where the docs leave it open.
            body = {**body, "remote_phone": self.fixtures.remote_phones[0]}
        step = self._step(
            "update",
            "PUT",
            item_path(SMS, record.id),
            json_body=body,
            expectation=partial(self.model.expect_update, record.id, body),
            record=record,
        )
        expectation = step.expectation
        assert expectation is not None
        if transient(step):
            self._lose(record)
            return
        if step.status_code == 429:
            return  # still throttled after the waits: not handled, nothing changed
        if not step.succeeded:
            timing_decides = expectation.rule in (
                "sms/update/cancel-outbox",
                "sms/update/cancel-scheduled",
            )
            if timing_decides and expectation.accept is None:
                # A refused cancel in the grace period: the sender got there first.
                self.model.apply(
                    replace(record, status="delivered", due=None, sent_after=record.due)
                )
            return
        if expectation.record is None:
            # Accepted where the docs say nothing of the result: the model cannot follow,
            # so the SMS leaves the run (of unknown fate, unless its deletion is confirmed).
            self._lose(record)
            return
        if expectation.accept is not False:
            updated = expectation.record.settled(step.body)
            if updated.status == "outbox":
                updated = replace(updated, due=step.window.start)
            self.model.apply(updated)
            self._observe_statuses(step)

    def _sends_to_nobody_named(self, record: SmsRecord, body: dict[str, Any]) -> bool:
        """True when a PUT of ``body`` would send ``record`` from a live target to a number
        that is not one of the run's recipients (none at all, say)."""
        return (
            not self.target.sends_nowhere
            and body.get("status") in SENDING
            and "remote_phone" not in body
            and record.written.get("remote_phone") not in self.fixtures.remote_phones
        )

    def _delete_record(self, record: SmsRecord) -> None:
        step = self._step(
            "delete",
            "DELETE",
            item_path(SMS, record.id),
            expectation=self.model.expect_delete(record.id),
        )
        if transient(step):
            self._lose(record)
        elif step.status_code != 429:  # a 429 left after the waits: not handled
            self.model.forget(record.id)

    def _discard(self, sms_id: str) -> bool:
        """Delete an SMS the run made; True when the target confirmed it is gone."""
        exchange, _ = self._send("DELETE", item_path(SMS, sms_id))
        response = exchange.response
        return (
            exchange.error is None
            and response is not None
            and response.status_code in (200, 204, 404)
        )

    def _lose(self, record: SmsRecord) -> None:
        """An update or delete got no usable answer: the SMS leaves the run, deleted when
        the target confirms it, else of unknown fate (never judged again)."""
        if self._discard(record.id):
            self.model.forget(record.id)
        else:
            self.model.lose(record.id)

    # -- list ------------------------------------------------------------------------------

    def _list(self, params: dict[str, str], tz_offset: str | None = None) -> None:
        """One list request (``tz_offset`` sent as ``x-tz-offset``), judged against the
        model's expectation of exactly which SMS it returns."""
        headers = {"x-tz-offset": tz_offset} if tz_offset is not None else {}

        def send() -> Step:
            exchange, window = self._send("GET", SMS, params=params, headers=headers)
            self._adopt_from(exchange)
            return Step(
                "list",
                [exchange],
                window,
                self.model,
                params=params,
                tz_offset=tz_offset,
                list_expectation=self.model.expect_list(params, tz_offset, window),
            )

        self._observe_statuses(self._judged(send, reread=True))

    def _scoped(self, params: dict[str, Any]) -> dict[str, str]:
        """Scope a list query to this run's leads, so other SMS on the target don't count."""
        params = {k: str(v) for k, v in params.items()}
        if "contact_id" in params or "user_id" in params:
            params["lead_id"] = self._single_lead(params)
        if "lead_id" not in params and "id__in" not in params:
            params["lead_id"] = ",".join(lead for lead, _ in self.fixtures.leads)
        if "id__in" not in params and self.target.given.lead_ids:
            bound = self._given_leads_bound()
            # Both keys already taken (a drawn query bounds date_created itself): the
            # ``__gte`` one gives way, so the list stays bounded after what was there. The
            # expectation is the model's for the params sent, so it still holds.
            key = next(
                (k for k in ("date_created__gt", "date_created__gte") if k not in params),
                "date_created__gte",
            )
            if bound:
                params[key] = bound
        if "_fields" in params and "id" not in params["_fields"].split(","):
            params["_fields"] += ",id"
        return params

    def _single_lead(self, params: dict[str, str]) -> str:
        """One lead for a query filtering by contact_id or user_id: on Close's /activity/
        list those filters "only work together with a single `lead_id`" (1.2), and a server
        may hold /activity/sms/ to the same (audit L4). The lead named first, else that of
        the run's latest SMS: sometimes the contact's own lead, sometimes another (where a
        contact filter that is ignored shows)."""
        named = [lead for lead in params.get("lead_id", "").split(",") if lead]
        if named:
            return named[0]
        runs = [lead for lead, _ in self.fixtures.leads]
        used = [r.written.get("lead_id") for r in self.model.records.values()]
        return ([lead for lead in reversed(used) if lead in runs] or runs)[0]

    def _given_leads_bound(self) -> str:
        """A ``date_created`` bound after every SMS the user's leads held before the run (a
        millisecond past the latest), found once per run; "" when they held none."""
        state = self.state
        if state.given_leads_bound is None:
            # The run's own SMS (made before the first list) are no reason to hide anything.
            own = {*self.created, *self.model.records, *state.gone}
            state.given_leads_bound = given_leads_bound(self.target, own)
        return state.given_leads_bound

    def _on_own_leads(self, kind: str | None = None) -> list[SmsRecord]:
        """The known SMS on the run's leads (those a scoped list can show); with ``kind``,
        those of them with a ``kind`` date."""
        leads = {lead for lead, _ in self.fixtures.leads}
        return [
            r
            for r in self.model.records.values()
            if (kind is None or getattr(r, kind) is not None) and r.written.get("lead_id") in leads
        ]


def given_leads_bound(target: Target, own: Collection[str] = ()) -> str:
    """A ``date_created`` bound after every SMS the leads the user named (``--lead-id``) hold
    now, the run's ``own`` ids aside: a millisecond past the latest, as ISO 8601; "" when
    they hold none (or the user named no lead). A list bounded by it (``date_created__gt``)
    never shows an SMS that was on the user's leads before the run."""
    lead_ids = tuple(getattr(getattr(target, "given", None), "lead_ids", ()) or ())
    if not lead_ids:
        return ""
    latest = None
    for page in range(GIVEN_LEADS_PAGES):
        params = {"lead_id": ",".join(lead_ids), "_skip": str(page * 100), "_limit": "100"}
        exchange, _ = target.api.send("GET", SMS, params=params)
        body = exchange.response.body if exchange.response is not None else None
        items = body.get("data") if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else []:
            sms_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item, dict) or (isinstance(sms_id, str) and sms_id in own):
                continue
            moment = parse_datetime(item.get("date_created"))
            if moment is not None and (latest is None or moment > latest):
                latest = moment
        if not isinstance(body, dict) or body.get("has_more") is not True:
            break
    return (latest + timedelta(milliseconds=1)).isoformat() if latest is not None else ""
