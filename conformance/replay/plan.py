"""What a recorded failure's steps need before they can be sent again: the fixtures
they name, the SMS they create, the dates they carry and the waits between them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from conformance.records import Exchange, RecordedRequest
from conformance.safety import SENDING_STATUSES

SMS = "activity/sms/"
FIXTURE_KEYS = ("lead_id", "contact_id", "template_id")
CONTACT_NAME = "Ada Lovelace"  # the run's first contact: templates render its first name
CONTACT_PHONE = "+15555550100"
TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
# Further contacts of a lead, when the steps name several recorded contacts with it: each
# recorded contact gets a contact of its own (a contact_id filter must tell them apart).
MORE_CONTACTS = ("Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov")
# The contact of another organisation's lead a replay makes (:attr:`Plan.foreign`).
FOREIGN_CONTACTS = [{"name": "Bea Other", "phones": [{"type": "mobile", "phone": "+15555550199"}]}]
MIN_WAIT = 0.05  # seconds; shorter recorded gaps are not waited for
_ID_CHARS = "A-Za-z0-9_-"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ID = re.compile(r"^[a-z]+_[A-Za-z0-9]{6,}$")


# -- what to create and map ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """What a replay of ``steps`` creates first and how recorded ids map onto it.

    ``leads`` pairs each recorded lead id with the recorded contact ids used with it;
    ``templates`` are recorded template ids; ``created`` maps a step's index to the
    SMS id its recorded answer gave; ``waits[i]`` is the time between the sending of step
    ``i - 1`` and step ``i`` (0 for the first, and where ``sent_at`` was not recorded).
    ``names`` gives each mapped recorded id its variable (``lead_1``, ``contact_1``,
    ``template_1``, ``sms_1``)."""

    leads: tuple[tuple[str, tuple[str, ...]], ...]
    templates: tuple[str, ...]
    created: dict[int, str]
    waits: tuple[float, ...]
    names: dict[str, str] = field(default_factory=dict)
    dates: dict[str, tuple[str, bool]] = field(default_factory=dict)
    start: datetime | None = None
    # Step index -> SMS its recorded list answer showed that no step made (a probe's 101
    # drafts, of which its transcript keeps the first and last): made again, as drafts
    # like them, before that step, so the list sees as many as it did (:func:`fills_of`).
    fills: dict[int, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    # A bare date (recorded text) -> the x-tz-offset, in hours, of the request that named
    # it: its day is a day there, and it moves by the days the replay's clock is from the
    # recording's there (:func:`shifted`).
    day_offsets: dict[str, float] = field(default_factory=dict)
    # Recorded id -> the field naming it (``lead_id``, ``contact_id``, ``template_id``) of
    # another organisation's objects the failing step names (:func:`foreign_of`): the replay
    # makes such objects with the second organisation's key and names them instead.
    foreign: dict[str, str] = field(default_factory=dict)

    def date_names(self) -> dict[str, str]:
        """``{recorded text: variable}`` for the dates, ``date_1``, ``date_2`` ..."""
        return {text: f"date_{n}" for n, text in enumerate(self.dates, start=1)}


def plan_for(steps: Sequence[Exchange], rule: str | None = None) -> Plan:
    """Work out the fixtures, the created SMS and the waits of ``steps``; ``rule``, the
    failing rule, tells which ids are another organisation's (:func:`foreign_of`).

    A contact goes with the lead a request body names it with (a create or an update pairs
    them); a list's query names filters, not pairs: a contact it names with another lead
    stays with its own, so the lead filter has the contact's SMS to leave out."""
    created: dict[int, str] = {}
    for index, exchange in enumerate(steps):
        new_id = _created_id(exchange)
        if new_id is not None and new_id not in created.values():
            created[index] = new_id
    own = set(created.values())
    foreign = foreign_of(steps, rule)
    answers = " ".join(_json(s.response.body) for s in steps if s.response is not None)
    homes = _contact_homes(steps, foreign)
    leads: dict[str, list[str]] = {}
    loose_contacts: list[str] = []
    templates: list[str] = []
    for exchange in steps:
        for _, where in _fixture_fields(exchange.request):
            where = {k: [v for v in vs if v not in foreign] for k, vs in where.items()}
            lead = _one(where.get("lead_id"))
            contacts = [c for c in where.get("contact_id", ()) if c not in own]
            for lead_id in where.get("lead_id", ()):
                if lead_id not in own:
                    leads.setdefault(lead_id, [])
            if lead is not None and lead not in own:
                leads[lead].extend(
                    c for c in contacts if c not in leads[lead] and homes.get(c, lead) == lead
                )
            else:
                loose_contacts.extend(contacts)
            for template in where.get("template_id", ()):
                # An unknown template (a rule about them) is never in an answer; keep it.
                if template not in own and template not in templates and template in answers:
                    templates.append(template)
    paired = {c for contacts in leads.values() for c in contacts}
    loose = [c for c in dict.fromkeys(loose_contacts) if c not in paired]
    if loose:
        if not leads:
            leads = {"": loose}  # a lead only to hold the contacts; no recorded lead id
        else:
            first = next(iter(leads))
            leads[first].extend(loose)
    names: dict[str, str] = {}
    for number, (lead_id, contacts) in enumerate(leads.items(), start=1):
        if lead_id:
            names[lead_id] = f"lead_{number}"
        for index, contact in enumerate(contacts):
            names[contact] = contact_name(number, index)
    for number, template in enumerate(templates, start=1):
        names[template] = f"template_{number}"
    for number, (_, sms_id) in enumerate(sorted(created.items()), start=1):
        names[sms_id] = f"sms_{number}"
    for recorded, name in foreign.items():
        names[recorded] = FOREIGN_NAMES[name]
    dates: dict[str, tuple[str, bool]] = {}
    day_offsets: dict[str, float] = {}
    for exchange in steps:
        for text, value, encoded in _dates_in(exchange.request):
            dates.setdefault(text, (value, encoded))
            if _BARE_DATE.match(value):
                day_offsets.setdefault(text, _offset_hours(exchange.request))
    start = next((m for s in steps if (m := _moment(s.sent_at)) is not None), None)
    return Plan(
        dates=dates if start is not None else {},
        start=start,
        leads=tuple((lead_id, tuple(contacts)) for lead_id, contacts in leads.items()),
        templates=tuple(templates),
        created=created,
        waits=_waits(steps),
        names=names,
        fills=fills_of(steps, set(created.values()), set(leads)),
        day_offsets=day_offsets if start is not None else {},
        foreign=foreign,
    )


def _contact_homes(steps: Sequence[Exchange], foreign: Mapping[str, str]) -> dict[str, str]:
    """``{recorded contact: recorded lead}``: the lead the first request body naming the
    contact names with it (not another organisation's)."""
    homes: dict[str, str] = {}
    for exchange in steps:
        for place, where in _fixture_fields(exchange.request):
            lead = _one(where.get("lead_id"))
            if place == "body" and lead is not None and lead not in foreign:
                for contact in where.get("contact_id", ()):
                    homes.setdefault(contact, lead)
    return homes


# The rules whose failing step names another organisation's object, and the body fields it
# names them in; the names a replay gives the objects it makes in their place.
FOREIGN_FIELDS = {
    "isolation/foreign-reference": ("lead_id", "contact_id"),
    "sms/create/template-unknown-rejected": ("template_id",),
}
FOREIGN_NAMES = {
    "lead_id": "foreign_lead",
    "contact_id": "foreign_contact",
    "template_id": "foreign_template",
}


def foreign_of(steps: Sequence[Exchange], rule: str | None) -> dict[str, str]:
    """``{recorded id: field}``: the ids of another organisation's objects the failing (last)
    step's body names, by the failing ``rule``: for ``isolation/foreign-reference`` its
    ``lead_id`` and ``contact_id``; for ``sms/create/template-unknown-rejected`` its
    ``template_id`` when a recorded answer shows it (the server took it for a template:
    another organisation's; a made-up id no server knows is sent as recorded). An id an
    earlier step names too is the run's own."""
    fields = FOREIGN_FIELDS.get(rule or "", ())
    body = steps[-1].request.body if steps else None
    if not fields or not isinstance(body, dict):
        return {}
    earlier = " ".join(f"{s.request.path} {_json(s.request.body)}" for s in steps[:-1])
    answers = " ".join(_json(s.response.body) for s in steps if s.response is not None)
    found: dict[str, str] = {}
    for name in fields:
        value = body.get(name)
        if not isinstance(value, str) or not value or value in earlier:
            continue
        if name == "template_id" and value not in answers:
            continue
        found[value] = name
    return found


def _offset_hours(request: RecordedRequest) -> float:
    value = next((v for k, v in request.headers.items() if k.lower() == "x-tz-offset"), None)
    try:
        hours = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return hours if -24 < hours < 24 else 0.0


MANY_UNMADE = 10  # SMS a recorded list shows that no step made, from which they are made again


def fills_of(
    steps: Sequence[Exchange], made: set[str], leads: set[str]
) -> dict[int, tuple[dict[str, Any], ...]]:
    """The SMS to make again before each list step: those its recorded answer shows that no
    step made, on one of the replay's leads, when there are at least :data:`MANY_UNMADE`
    of them (a count the transcript left out, as the default-limit probe's does; a few
    strays are left as they were)."""
    fills: dict[int, tuple[dict[str, Any], ...]] = {}
    seen = set(made)
    for index, exchange in enumerate(steps):
        request, response = exchange.request, exchange.response
        if request.method.upper() != "GET" or request.auth not in ("basic", "bearer"):
            continue
        if urlsplit(request.path).path.strip("/") != SMS.strip("/") or response is None:
            continue
        items = response.body.get("data") if isinstance(response.body, dict) else None
        unmade = [
            item
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and item["id"] not in seen
            and item.get("lead_id") in leads
        ]
        if len(unmade) >= MANY_UNMADE:
            fills[index] = tuple(unmade)
            seen.update(item["id"] for item in unmade)
    return fills


FILL_NOTE = "SMS the recorded list showed that no step made: made again, as drafts"
THROTTLED_NOTE = "a 429 the run waited out; the next step sends the request again"
DRIVE_NOTE = "the failure is in a throttled answer: sent again until the target throttles it"


def throttled(exchange: Exchange) -> bool:
    """True when the recorded answer to ``exchange`` was a 429."""
    return exchange.response is not None and exchange.response.status_code == 429


def fill_body(item: Mapping[str, Any]) -> dict[str, Any]:
    """The create body that makes an SMS like the listed ``item`` again: a draft with its
    lead, contact, text and numbers."""
    body: dict[str, Any] = {"status": "draft"}
    for name in ("lead_id", "contact_id", "text", "local_phone", "remote_phone"):
        if item.get(name) is not None:
            body[name] = item[name]
    return body


def contact_name(lead: int, index: int) -> str:
    """The variable of the ``index``-th contact (from 0) of the ``lead``-th lead (from 1):
    ``contact_1`` for the first, ``contact_1_2`` for the second."""
    return f"contact_{lead}" if index == 0 else f"contact_{lead}_{index + 1}"


def lead_contacts(count: int) -> list[dict[str, Any]]:
    """The contacts a replay's lead is created with: :data:`CONTACT_NAME` first (templates
    render its first name), then one more per further recorded contact, each with a phone of
    its own."""
    names = (CONTACT_NAME, *MORE_CONTACTS)
    contacts = []
    for index in range(max(1, count)):
        name = names[index % len(names)] + (
            f" {index // len(names) + 1}" if index >= len(names) else ""
        )
        phone = CONTACT_PHONE if index == 0 else f"+1555555{100 + index:04d}"
        contacts.append({"name": name, "phones": [{"type": "mobile", "phone": phone}]})
    return contacts


def _created_id(exchange: Exchange) -> str | None:
    request, response = exchange.request, exchange.response
    if request.method.upper() != "POST" or response is None:
        return None
    if urlsplit(request.path).path.strip("/") != SMS.strip("/"):
        return None
    if not 200 <= response.status_code < 300 or not isinstance(response.body, dict):
        return None
    value = response.body.get("id")
    return value if isinstance(value, str) and value else None


def _fixture_fields(request: RecordedRequest) -> Iterable[tuple[str, dict[str, list[str]]]]:
    """The fixture ids a request names, per place: ``("body", ...)``, ``("query", ...)``."""
    if isinstance(request.body, dict):
        found = {
            key: [request.body[key]]
            for key in FIXTURE_KEYS
            if isinstance(request.body.get(key), str) and request.body[key]
        }
        if found:
            yield "body", found
    query = urlsplit(request.path).query
    found = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        base = key.split("__", 1)[0]
        if base in FIXTURE_KEYS:
            found.setdefault(base, []).extend(v for v in value.split(",") if v)
    if found:
        yield "query", found


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _dates_in(request: RecordedRequest) -> Iterable[tuple[str, str, bool]]:
    """The points in time a request names: ``(text as recorded, value, url-encoded)``,
    in its body (any string that is a date with a time) and its query string."""

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, str) and _DATETIME.match(value):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for value in walk(request.body):
        yield value, value, False
    query = urlsplit(request.path).query
    for part in query.split("&") if query else ():
        _, _, raw = part.partition("=")
        value = unquote_plus(raw)
        if raw and (_DATETIME.match(value) or _BARE_DATE.match(value)):
            # A bare date (a day filter) moves too, by whole days (see :func:`shifted`).
            yield raw, value, raw != value


_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shifted(
    value: str, delta: timedelta, anchor: datetime | None = None, hours: float = 0.0
) -> str:
    """The date-time ``value`` moved by ``delta``, written in the same style (offset,
    ``Z``, fractional seconds); a naive one stays naive.

    A bare date (a day filter) moves by whole days: as many as lie between the day of
    ``anchor`` (the recorded moment the replay's clock is ``delta`` from) and the day of
    ``anchor + delta``, both at ``hours`` east of UTC (the request's ``x-tz-offset``), so
    an SMS made at the anchor stays on the same side of the filter's midnight; without
    ``anchor``, ``delta`` rounded to days."""
    if _BARE_DATE.match(value):
        if anchor is None:
            days = round(delta.total_seconds() / 86400)
        else:
            zone = timezone(timedelta(hours=hours))
            days = ((anchor + delta).astimezone(zone).date() - anchor.astimezone(zone).date()).days
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    moved = moment + delta
    fraction = "." in value or moved.microsecond  # a fraction the move brought in is kept
    text = moved.isoformat(timespec="microseconds" if fraction else "seconds")
    if "T" not in value:
        text = text.replace("T", " ", 1)
    if value.endswith("Z"):
        text = text.replace("+00:00", "Z")
    return text


def _one(values: list[str] | None) -> str | None:
    return values[0] if values and len(values) == 1 else None


def _waits(steps: Sequence[Exchange]) -> tuple[float, ...]:
    waits: list[float] = []
    previous: datetime | None = None
    for exchange in steps:
        moment = _moment(exchange.sent_at)
        gap = 0.0
        if moment is not None and previous is not None:
            gap = max(0.0, (moment - previous).total_seconds())
        waits.append(round(gap, 3) if gap >= MIN_WAIT else 0.0)
        previous = moment if moment is not None else previous
    return tuple(waits)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def sends(steps: Sequence[Exchange]) -> bool:
    """True when a step asks for an SMS to be delivered (status outbox or scheduled)."""
    return any(
        isinstance(s.request.body, dict) and s.request.body.get("status") in SENDING_STATUSES
        for s in steps
    )


def substitute(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with each recorded id in ``mapping`` (whole, not inside a longer id)
    replaced by its value."""
    if not mapping or not text:
        return text
    alternatives = "|".join(re.escape(v) for v in sorted(mapping, key=len, reverse=True) if v)
    if not alternatives:
        return text
    pattern = re.compile(
        f"(?:(?<![{_ID_CHARS}])|(?<=%2C)|(?<=%2c))(?:{alternatives})(?![{_ID_CHARS}])"
    )
    return pattern.sub(lambda match: mapping[match.group()], text)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# -- the symptom ------------------------------------------------------------------------------
