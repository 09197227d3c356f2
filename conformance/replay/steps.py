"""Sending a recorded failure's steps again, on fixtures of the replay's own, with the
recorded ids, phones and dates mapped onto them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from conformance.compat import basic_authorization
from conformance.fixtures import Foreign
from conformance.model import TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.replay.plan import (
    FOREIGN_CONTACTS,
    SMS,
    TEMPLATE_TEXT,
    Plan,
    _json,
    fill_body,
    lead_contacts,
    plan_for,
    shifted,
    substitute,
)


@dataclass(slots=True)
class Replayed:
    """What a replay did: the last answer, the ids it mapped, what it could not delete."""

    last: RecordedResponse | None
    mapping: dict[str, str]
    exchanges: list[tuple[str, str, int | None]]  # method, path, status (None: no answer)
    leftovers: list[str]
    setup_error: str | None = None
    statuses: list[int | None] = field(default_factory=list)  # each step's, in order
    # Each step as sent again (ids, phones and dates mapped) with its answer, and the time
    # window it was answered in: what the failing rule's own check judges (:mod:`.judge`).
    sent: list[tuple[Exchange, TimeWindow]] = field(default_factory=list)
    # The fixtures the replay made: (lead id, its contact id) pairs and template ids.
    leads: list[tuple[str, str]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    # What it made with the second organisation's key, for the steps to name as another
    # organisation's (:attr:`Plan.foreign`); None when the steps name none.
    foreign: Foreign | None = None


class SetupFailed(Exception):
    """The replay could not create its fixtures."""


def replay_steps(
    http: httpx.Client,
    steps: Sequence[Exchange],
    *,
    credentials: Mapping[str, str | None],
    sleep: Callable[[float], None],
    local_phones: Sequence[str] = (),
    run_id: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    external_phones: Sequence[str] = (),
    recorded_internal: Sequence[str] | None = None,
    rule: str | None = None,
) -> Replayed:
    """Send ``steps`` through ``http`` (its base URL the target's ``/api/v1/``) with fresh
    fixtures, the recorded waits, and clean up; return the last answer.

    ``credentials`` maps an auth kind (``basic``, ``bearer``, ``second-org``) to its value;
    ``local_phones`` replace the recorded ``local_phone`` values in order (default: kept),
    except a recorded number that is one of the target's own, ``local_phones`` or
    ``external_phones``: it is kept, so an external number stays external and an internal
    one internal (a number that is neither is mapped: it was the recorded target's). With
    ``recorded_internal`` (the recorded run's internal numbers, from its report) only those
    are mapped: a recorded external or unknown number is sent as it was, so it stays one.
    Dates the steps name are moved by the time between the recorded first step and this
    one (``now``), so a ``date_scheduled`` five minutes ahead stays five minutes ahead.
    ``rule``, the failing rule, tells which recorded ids are another organisation's
    (:func:`~conformance.replay.plan.foreign_of`): a lead with a contact, a template, made
    with the ``second-org`` key (and deleted with it) and named in their place.
    A fixture that cannot be created ends the replay with ``setup_error`` (what was
    created is deleted first)."""
    from conformance.target import new_run_id, tagged_name

    plan = plan_for(steps, rule)
    run_id = run_id or new_run_id()
    mapping: dict[str, str] = {}
    created: list[str] = []
    exchanges: list[tuple[str, str, int | None]] = []
    statuses: list[int | None] = []
    sent: list[tuple[Exchange, TimeWindow]] = []
    made_leads: list[tuple[str, str]] = []
    made_templates: list[str] = []
    made_elsewhere: list[str] = []  # made with the second organisation's key
    foreign: Foreign | None = None
    last: RecordedResponse | None = None

    def call(
        method: str,
        path: str,
        body: Any = None,
        auth: str = "basic",
        headers=None,
        raw=None,
        throttled: list[tuple[Exchange, TimeWindow]] | None = None,
        retry: bool = True,
    ):
        """Send one request; a 429 is waited out (``Retry-After``, else a second) and sent
        again, up to :data:`THROTTLED_RETRIES` times, as the run's client does; each 429
        is added to ``throttled`` (with its window) when given."""
        for _ in range(THROTTLED_RETRIES):
            began = now()
            answer, error = send(method, path, body, auth, headers, raw)
            if answer is None or answer.status_code != 429 or not retry:
                return answer, error
            if throttled is not None:
                request = RecordedRequest(method, path, dict(headers or {}), body, auth)
                throttled.append((Exchange(request, answer), TimeWindow(began, now())))
            sleep(_retry_after(answer))
        return send(method, path, body, auth, headers, raw)

    def send(method: str, path: str, body: Any = None, auth: str = "basic", headers=None, raw=None):
        request_headers = dict(headers or {})
        request_headers.update(_auth_headers(auth, credentials))
        if body is not None and raw is None:
            request_headers["content-type"] = "application/json"
        try:
            response = http.request(
                method,
                path,
                content=raw if raw is not None else None if body is None else _json(body).encode(),
                headers=request_headers,
            )
        except httpx.HTTPError as error:
            exchanges.append((method, path, None))
            return None, str(error)
        exchanges.append((method, path, response.status_code))
        try:
            decoded = response.json()
        except ValueError:
            decoded = response.text[:2000]
        return RecordedResponse(response.status_code, dict(response.headers), decoded), None

    def make(collection: str, body: dict[str, Any], auth: str = "basic") -> dict[str, Any]:
        answer, error = call("POST", collection, body, auth)
        if (
            answer is None
            or not 200 <= answer.status_code < 300
            or not isinstance(answer.body, dict)
        ):
            raise SetupFailed(
                f"POST {collection} answered {error or answer and answer.status_code}"
            )
        item_id = answer.body.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise SetupFailed(f"POST {collection} answered no id")
        (made_elsewhere if auth == "second-org" else created).append(f"{collection}{item_id}/")
        return answer.body

    def make_foreign() -> Foreign:
        """Another organisation's lead (with a contact) and template, as the steps name."""
        if not credentials.get("second-org"):
            raise SetupFailed("the steps name another organisation's objects: no second key")
        kinds = set(plan.foreign.values())
        lead: tuple[str, str] | None = None
        template = None
        if kinds & {"lead_id", "contact_id"}:
            body = {"name": tagged_name(run_id, "lead"), "contacts": FOREIGN_CONTACTS}
            made = make("lead/", body, "second-org")
            contacts = made.get("contacts")
            contact = contacts[0] if isinstance(contacts, list) and contacts else None
            contact_id = contact.get("id") if isinstance(contact, dict) else None
            if not isinstance(contact_id, str):
                raise SetupFailed("POST lead/ answered a lead without its contact's id")
            lead = (made["id"], contact_id)
        if "template_id" in kinds:
            body = {"name": tagged_name(run_id, "template"), "text": TEMPLATE_TEXT}
            template = make("sms_template/", body, "second-org")["id"]
        made_ids = {"template_id": template}
        if lead is not None:
            made_ids.update(lead_id=lead[0], contact_id=lead[1])
        for recorded, name in plan.foreign.items():
            if made_ids.get(name):
                mapping[recorded] = str(made_ids[name])
        return Foreign(lead=lead, template_id=template)

    try:
        try:
            for number, (lead_id, contacts) in enumerate(plan.leads):
                wanted = lead_contacts(len(contacts))
                lead = make(
                    "lead/",
                    {"name": tagged_name(run_id, f"lead {number}"), "contacts": wanted},
                )
                if lead_id:
                    mapping[lead_id] = lead["id"]
                answered = lead.get("contacts")
                ids = [
                    c.get("id") if isinstance(c, dict) else None
                    for c in (answered if isinstance(answered, list) else [])
                ]
                contact_ids = [i for i in ids if isinstance(i, str)]
                if len(ids) < len(wanted) or len(contact_ids) != len(ids):
                    raise SetupFailed("POST lead/ answered a lead without its contacts' ids")
                # Each recorded contact its own contact: a contact_id filter tells them apart.
                for contact, contact_id in zip(contacts, contact_ids, strict=False):
                    mapping[contact] = contact_id
                made_leads.append((lead["id"], contact_ids[0]))
            for template in plan.templates:
                made = make(
                    "sms_template/",
                    {"name": tagged_name(run_id, "template"), "text": TEMPLATE_TEXT},
                )
                mapping[template] = made["id"]
                made_templates.append(made["id"])
            if plan.foreign:
                foreign = make_foreign()
        except SetupFailed as failed:
            return Replayed(None, mapping, exchanges, [], setup_error=str(failed))
        phones = _phone_mapping(steps, local_phones, external_phones, recorded_internal)
        for index, exchange in enumerate(steps):
            if plan.waits[index]:
                sleep(plan.waits[index])
            if index == 0 and plan.start is not None:
                _move_dates(plan, now() - plan.start, mapping, plan.start)
            for item in plan.fills.get(index, ()):
                # An SMS the recorded list showed that no step made: made again, as a draft.
                fill: Any = json.loads(
                    substitute(_json(_with_phones(fill_body(item), phones)), mapping)
                )
                began = now()
                answer, error = call("POST", SMS, fill, throttled=sent)
                body_made = answer.body if answer is not None else None
                made_id = body_made.get("id") if isinstance(body_made, dict) else None
                if answer is None or answer.status_code >= 300 or not isinstance(made_id, str):
                    continue
                mapping[item["id"]] = made_id
                created.append(f"{SMS}{made_id}/")
                as_sent = RecordedRequest("POST", SMS, {}, fill, "basic")
                sent.append((Exchange(as_sent, answer, error=error), TimeWindow(began, now())))
            request = exchange.request
            path = substitute(request.path, mapping).lstrip("/")
            body, raw = request.body, None
            headers = {k: v for k, v in request.headers.items() if k.lower() == "x-tz-offset"}
            content_type = raw_content_type(request)
            if content_type is not None:
                raw = substitute(str(body), mapping).encode()
                headers["content-type"] = content_type
            elif body is not None:
                body = json.loads(substitute(_json(_with_phones(body, phones)), mapping))
            recorded_429 = exchange.response is not None and exchange.response.status_code == 429
            final = index == len(steps) - 1
            if recorded_429 and not final:
                # A 429 the run's client waited out: the next step is the same request sent
                # again. What throttles the replay is judged as it comes (``throttled``).
                statuses.append(429)
                continue
            method = request.method.upper()
            began = now()
            if recorded_429:
                # The failure is in a throttled answer: drive the rate limit, sending this
                # request again until the target throttles it.
                def once(
                    method=method, path=path, body=body, auth=request.auth, raw=raw, headers=headers
                ):
                    answer, error = send(method, path, body, auth, headers, raw)
                    made = (
                        answer.body.get("id") if answer and isinstance(answer.body, dict) else None
                    )
                    if method == "POST" and isinstance(made, str) and answer.status_code < 300:
                        created.append(f"{SMS}{made}/")  # a driving create: deleted at the end
                    return answer, error

                last, error = _drive(once)
            else:
                last, error = call(method, path, body, request.auth, headers, raw, sent)
            window = TimeWindow(began, now())
            statuses.append(last.status_code if last is not None else None)
            as_sent = RecordedRequest(
                method, path, headers, raw.decode() if raw is not None else body, request.auth
            )
            sent.append((Exchange(as_sent, last, error=error), window))
            if index in plan.created and last is not None and isinstance(last.body, dict):
                new_id = last.body.get("id")
                if isinstance(new_id, str) and new_id and 200 <= last.status_code < 300:
                    mapping[plan.created[index]] = new_id
                    created.append(f"{SMS}{new_id}/")
                    if index == min(plan.created) and plan.dates:
                        # Re-anchor on the server's own time: later dates keep their exact
                        # distance to this SMS's date_created (a boundary stays a boundary).
                        delta = reanchored(exchange.response, last)
                        if delta is not None:
                            anchor = _recorded_created(exchange.response)
                            _move_dates(plan, delta, mapping, anchor)
    finally:
        leftovers = []
        for path, auth in [
            *((p, "basic") for p in reversed(created)),
            *((p, "second-org") for p in reversed(made_elsewhere)),
        ]:
            answer, _ = call("DELETE", path, auth=auth)
            if answer is None or answer.status_code not in (200, 202, 204, 404):
                leftovers.append(path)
    return Replayed(
        last,
        mapping,
        exchanges,
        leftovers,
        statuses=statuses,
        sent=sent,
        leads=made_leads,
        templates=made_templates,
        foreign=foreign,
    )


THROTTLED_RETRIES = 5  # 429s waited out per request before its answer is taken as it is
DRIVE_LIMIT = 300  # requests a replay sends at most to be throttled


def _retry_after(answer: RecordedResponse) -> float:
    """How long a 429 says to wait: ``Retry-After`` seconds (at most a minute), else 1."""
    value = next((v for k, v in answer.headers.items() if k.lower() == "retry-after"), "")
    return float(min(int(value), 60)) if value.strip().isdigit() else 1.0


def _drive(
    send: Callable[[], tuple[RecordedResponse | None, str | None]],
) -> tuple[RecordedResponse | None, str | None]:
    """Send the same request until the target throttles it (a 429), at most
    :data:`DRIVE_LIMIT` times; the 429, else the last answer."""
    answer, error = None, None
    for _ in range(DRIVE_LIMIT):
        answer, error = send()
        if answer is None or answer.status_code == 429:
            break
    return answer, error


def raw_content_type(request: RecordedRequest) -> str | None:
    """The content type of a body that was sent as it is, not as JSON (None for JSON)."""
    if not isinstance(request.body, str):
        return None
    for name, value in request.headers.items():
        if name.lower() == "content-type" and "json" not in value.lower():
            return value
    return None


def _recorded_created(recorded: RecordedResponse | None) -> datetime | None:
    body = recorded.body if recorded is not None else None
    value = body.get("date_created") if isinstance(body, dict) else None
    try:
        return _instant(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _move_dates(
    plan: Plan, delta: timedelta, mapping: dict[str, str], anchor: datetime | None = None
) -> None:
    for text, (value, encoded) in plan.dates.items():
        moved = shifted(value, delta, anchor, plan.day_offsets.get(text, 0.0))
        mapping[text] = quote(moved, safe="") if encoded else moved


def reanchored(recorded: RecordedResponse | None, new: RecordedResponse) -> timedelta | None:
    """How far the replayed SMS's ``date_created`` is from the recorded one (None when
    either is missing)."""
    if recorded is None or not isinstance(recorded.body, dict) or not isinstance(new.body, dict):
        return None
    before, after = recorded.body.get("date_created"), new.body.get("date_created")
    if not isinstance(before, str) or not isinstance(after, str):
        return None
    try:
        return _instant(after) - _instant(before)
    except (ValueError, TypeError):
        return None


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))


def _auth_headers(auth: str, credentials: Mapping[str, str | None]) -> dict[str, str]:
    if auth == "none":
        return {}
    if auth == "wrong":
        return {"authorization": basic_authorization("wrong-key")}
    if auth == "bearer":
        return {"authorization": f"Bearer {credentials.get('bearer') or ''}"}
    key = credentials.get(auth) or ""
    return {"authorization": basic_authorization(key)}


def _phone_mapping(
    steps: Sequence[Exchange],
    local_phones: Sequence[str],
    external_phones: Sequence[str] = (),
    recorded_internal: Sequence[str] | None = None,
) -> dict[str, str]:
    """Recorded ``local_phone`` values onto ``local_phones``, in order; a recorded number
    that is already the target's own (internal or external) keeps its kind: it is kept, and
    so is one ``recorded_internal`` (when known) does not list (external or unknown)."""
    own = {*local_phones, *external_phones}
    recorded: list[str] = []
    kept: set[str] = set()
    for exchange in steps:
        body = exchange.request.body
        phone = body.get("local_phone") if isinstance(body, dict) else None
        not_internal = recorded_internal is not None and phone not in recorded_internal
        if isinstance(phone, str) and (phone in own or not_internal):
            kept.add(phone)
        elif isinstance(phone, str) and phone not in recorded:
            recorded.append(phone)
    free = [phone for phone in local_phones if phone not in kept] or list(local_phones)
    return dict(zip(recorded, free, strict=False))


def _with_phones(body: Any, phones: Mapping[str, str]) -> Any:
    if phones and isinstance(body, dict) and body.get("local_phone") in phones:
        return {**body, "local_phone": phones[body["local_phone"]]}
    return body


# -- reading a saved report ------------------------------------------------------------------
