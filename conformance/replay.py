"""Re-run a recorded counterexample against a target and tell whether the violation shows.

A failure's steps were recorded against fixtures (a lead, its contact, a template) the
run created and deleted again, so a replay makes its own, through the documented
endpoints, and maps the recorded ids onto them; every SMS a step creates gets a new id,
mapped the same way. Steps are sent with the recorded waits between them (``sent_at``),
so a timing failure (``send_in: 10``, cancel, read) reproduces.

Whether the violation shows is decided by its *symptom*: what the recorded answer to the
last step has that a conforming server's answer does not. The conforming answer comes
from replaying the same steps against the clean reference server, in-process on a
virtual clock (waits cost nothing): the status code where the two differ, else the body
fields that differ (a value, null or not, a length). The curl and Python replays in a
report check the same symptom (:mod:`conformance.reporting.replay`).

This is not the run's own judging: the model and the rule's checks are not re-run. A
failure whose last answer a conforming server would give too (the violation lies in
timing or in another request) has no symptom; a replay of it cannot tell.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

import httpx

from conformance.compat import basic_authorization
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse

__all__ = [
    "EXIT_CODES",
    "FIXTURE_KEYS",
    "Outcome",
    "Plan",
    "Predicate",
    "ReplayTarget",
    "Replayed",
    "SetupFailed",
    "Symptom",
    "derive_symptom",
    "embedded_replay_target",
    "failures_from_report",
    "plan_for",
    "replay_failure",
    "replay_on_embedded",
    "replay_steps",
    "sends",
    "shows",
    "substitute",
    "symptom_of",
]

SMS = "activity/sms/"
FIXTURE_KEYS = ("lead_id", "contact_id", "template_id")
CONTACT_NAME = "Ada Lovelace"  # the run's first contact: templates render its first name
CONTACT_PHONE = "+15555550100"
TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
SENDING_STATUSES = ("outbox", "scheduled")
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

    def date_names(self) -> dict[str, str]:
        """``{recorded text: variable}`` for the dates, ``date_1``, ``date_2`` ..."""
        return {text: f"date_{n}" for n, text in enumerate(self.dates, start=1)}


def plan_for(steps: Sequence[Exchange]) -> Plan:
    """Work out the fixtures, the created SMS and the waits of ``steps``."""
    created: dict[int, str] = {}
    for index, exchange in enumerate(steps):
        new_id = _created_id(exchange)
        if new_id is not None and new_id not in created.values():
            created[index] = new_id
    own = set(created.values())
    answers = " ".join(_json(s.response.body) for s in steps if s.response is not None)
    leads: dict[str, list[str]] = {}
    loose_contacts: list[str] = []
    templates: list[str] = []
    for exchange in steps:
        for where in _fixture_fields(exchange.request):
            lead = _one(where.get("lead_id"))
            contacts = [c for c in where.get("contact_id", ()) if c not in own]
            for lead_id in where.get("lead_id", ()):
                if lead_id not in own:
                    leads.setdefault(lead_id, [])
            if lead is not None and lead not in own:
                leads[lead].extend(c for c in contacts if c not in leads[lead])
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
        for contact in contacts:
            names[contact] = f"contact_{number}"
    for number, template in enumerate(templates, start=1):
        names[template] = f"template_{number}"
    for number, (_, sms_id) in enumerate(sorted(created.items()), start=1):
        names[sms_id] = f"sms_{number}"
    dates: dict[str, tuple[str, bool]] = {}
    for exchange in steps:
        for text, value, encoded in _dates_in(exchange.request):
            dates.setdefault(text, (value, encoded))
    start = next((m for s in steps if (m := _moment(s.sent_at)) is not None), None)
    return Plan(
        dates=dates if start is not None else {},
        start=start,
        leads=tuple((lead_id, tuple(contacts)) for lead_id, contacts in leads.items()),
        templates=tuple(templates),
        created=created,
        waits=_waits(steps),
        names=names,
    )


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


def _fixture_fields(request: RecordedRequest) -> Iterable[dict[str, list[str]]]:
    """The fixture ids a request names, per place (its body, its query string)."""
    if isinstance(request.body, dict):
        found = {
            key: [request.body[key]]
            for key in FIXTURE_KEYS
            if isinstance(request.body.get(key), str) and request.body[key]
        }
        if found:
            yield found
    query = urlsplit(request.path).query
    found = {}
    for key, value in parse_qsl(query, keep_blank_values=False):
        base = key.split("__", 1)[0]
        if base in FIXTURE_KEYS:
            found.setdefault(base, []).extend(v for v in value.split(",") if v)
    if found:
        yield found


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
        if raw and _DATETIME.match(value):
            yield raw, value, raw != value


def shifted(value: str, delta: timedelta) -> str:
    """The date-time ``value`` moved by ``delta``, written in the same style (offset,
    ``Z``, fractional seconds); a naive one stays naive."""
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


@dataclass(frozen=True, slots=True)
class Predicate:
    """One thing about the last answer: ``op`` is ``status`` (the status code is
    ``value``), ``eq`` (``body[key] == value``), ``null``, ``not-null``, ``length``
    (``len(body[key]) == value``), ``present`` or ``absent``."""

    op: str
    key: str = ""
    value: Any = None

    def describe(self) -> str:
        return {
            "status": f"HTTP {self.value}",
            "eq": f"{self.key} == {_json(self.value)}",
            "null": f"{self.key} is null",
            "not-null": f"{self.key} is not null",
            "length": f"{self.key} has {self.value} item(s)",
            "present": f"{self.key} is present",
            "absent": f"{self.key} is absent",
        }[self.op]


@dataclass(frozen=True, slots=True)
class Symptom:
    """What shows the violation in the last answer: every predicate holds."""

    predicates: tuple[Predicate, ...]

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.predicates)


def key_path(key: str) -> list[str | int]:
    """``"data.0.status"`` -> ``["data", 0, "status"]``: a predicate's key is a path."""
    return [int(part) if part.isdigit() else part for part in key.split(".")]


def _resolve(body: Any, key: str) -> tuple[bool, Any]:
    """``(present, value)`` of the path ``key`` in ``body``."""
    *parents, last = key_path(key)
    node = body
    for part in parents:
        in_list = isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node)
        in_object = isinstance(part, str) and isinstance(node, dict) and part in node
        if in_list or in_object:
            node = node[part]  # type: ignore[index]
        else:
            return False, None
    if isinstance(last, int) and isinstance(node, list):
        return (0 <= last < len(node)), (node[last] if 0 <= last < len(node) else None)
    if isinstance(node, dict) and str(last) in node:
        return True, node[str(last)]
    return False, None


def shows(symptom: Symptom, status_code: int | None, body: Any) -> bool:
    """True when the answer (``status_code``, decoded ``body``) shows ``symptom``."""
    for predicate in symptom.predicates:
        if predicate.op == "status":
            if status_code != predicate.value:
                return False
            continue
        present, value = _resolve(body, predicate.key)
        held = {
            "eq": present and value == predicate.value,
            "null": present and value is None,
            "not-null": value is not None,
            "length": isinstance(value, list | dict | str) and len(value) == predicate.value,
            "present": present,
            "absent": not present,
        }[predicate.op]
        if not held:
            return False
    return True


MAX_DEPTH = 3  # how deep into nested objects and lists the symptom looks


def derive_symptom(
    recorded: RecordedResponse | None, clean: RecordedResponse | None
) -> Symptom | None:
    """The predicates on which the recorded (violating) answer differs from the clean
    server's; None when nothing tells them apart. Keys are paths (``data.0.status``):
    lists of equal length are compared item by item, objects key by key."""
    if recorded is None:
        return None
    if clean is None or recorded.status_code != clean.status_code:
        return Symptom((Predicate("status", value=recorded.status_code),))
    if not isinstance(recorded.body, dict) or not isinstance(clean.body, dict):
        return None
    predicates = [Predicate("status", value=recorded.status_code)]
    predicates.extend(_differences(recorded.body, clean.body, "", 0))
    return Symptom(tuple(predicates)) if len(predicates) > 1 else None


def _differences(mine: Any, theirs: Any, prefix: str, depth: int) -> Iterable[Predicate]:
    if isinstance(mine, list):
        pairs = [(str(i), a, b) for i, (a, b) in enumerate(zip(mine, theirs, strict=False))]
        keys_mine, keys_theirs = set(), set()
    else:
        pairs = [(k, mine[k], theirs[k]) for k in sorted(set(mine) & set(theirs))]
        keys_mine, keys_theirs = set(mine), set(theirs)
    for key in sorted(keys_mine - keys_theirs):
        yield Predicate("present", prefix + key)
    for key in sorted(keys_theirs - keys_mine):
        yield Predicate("absent", prefix + key)
    for key, a, b in pairs:
        path = prefix + key
        name = key if not key.isdigit() else ""
        if a is None and b is not None:
            yield Predicate("null", path)
        elif a is not None and b is None:
            yield Predicate("not-null", path)
        elif a is None or b is None or _volatile(name, a) or _volatile(name, b):
            continue
        elif isinstance(a, list | dict) and isinstance(b, list | dict):
            if len(a) != len(b) or type(a) is not type(b) or depth >= MAX_DEPTH:
                if len(a) != len(b):
                    yield Predicate("length", path, len(a))
            else:
                yield from _differences(a, b, path + ".", depth + 1)
        elif a != b and type(a) is type(b):
            yield Predicate("eq", path, a)


def _volatile(key: str, value: Any) -> bool:
    """Values that differ between any two runs: ids, dates."""
    if key == "id" or key.endswith("_id") or key.startswith("date_") or key.endswith("_at"):
        return True
    return isinstance(value, str) and bool(_DATE.match(value) or _ID.match(value))


def symptom_of(failure: Failure) -> Symptom | None:
    """The symptom of ``failure``: its last recorded answer against the clean reference
    server's answer to the same steps (in-process, virtual clock). None when they agree,
    when no answer was recorded, or when the steps cannot be replayed in-process."""
    steps = failure.steps
    if not steps or steps[-1].response is None:
        return None
    try:
        clean = _clean_answer(steps)
    except Exception:  # noqa: BLE001 - no oracle, no symptom; the replay says it cannot tell
        return None
    return derive_symptom(steps[-1].response, clean)


def _clean_answer(steps: Sequence[Exchange]) -> RecordedResponse | None:
    from conformance.clock import VirtualClock
    from conformance.refserver import ReferenceServer
    from conformance.transport import SyncASGITransport

    clock = VirtualClock()
    server = ReferenceServer(clock=clock)
    org, other = server.orgs[0], server.orgs[1]
    http = httpx.Client(transport=SyncASGITransport(server.app), base_url=server.base_url + "/")
    try:
        replayed = replay_steps(
            http,
            steps,
            credentials={
                "basic": org.api_key,
                "bearer": org.oauth_token,
                "second-org": other.api_key,
            },
            sleep=clock.sleep,
            local_phones=org.internal_numbers,
            now=clock.now,
        )
    finally:
        http.close()
        server.close()
    return replayed.last


# -- running a replay ------------------------------------------------------------------------


@dataclass(slots=True)
class Replayed:
    """What a replay did: the last answer, the ids it mapped, what it could not delete."""

    last: RecordedResponse | None
    mapping: dict[str, str]
    exchanges: list[tuple[str, str, int | None]]  # method, path, status (None: no answer)
    leftovers: list[str]
    setup_error: str | None = None
    statuses: list[int | None] = field(default_factory=list)  # each step's, in order


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
) -> Replayed:
    """Send ``steps`` through ``http`` (its base URL the target's ``/api/v1/``) with fresh
    fixtures, the recorded waits, and clean up; return the last answer.

    ``credentials`` maps an auth kind (``basic``, ``bearer``, ``second-org``) to its value;
    ``local_phones`` replace the recorded ``local_phone`` values in order (default: kept).
    Dates the steps name are moved by the time between the recorded first step and this
    one (``now``), so a ``date_scheduled`` five minutes ahead stays five minutes ahead.
    Raises :class:`SetupFailed` when a fixture cannot be created (what was created is
    deleted first)."""
    from conformance.target import new_run_id, tagged_name

    plan = plan_for(steps)
    run_id = run_id or new_run_id()
    mapping: dict[str, str] = {}
    created: list[str] = []
    exchanges: list[tuple[str, str, int | None]] = []
    statuses: list[int | None] = []
    last: RecordedResponse | None = None

    def call(method: str, path: str, body: Any = None, auth: str = "basic", headers=None, raw=None):
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

    def make(collection: str, body: dict[str, Any]) -> dict[str, Any]:
        answer, error = call("POST", collection, body)
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
        created.append(f"{collection}{item_id}/")
        return answer.body

    try:
        try:
            for number, (lead_id, contacts) in enumerate(plan.leads):
                lead = make(
                    "lead/",
                    {
                        "name": tagged_name(run_id, f"lead {number}"),
                        "contacts": [
                            {
                                "name": CONTACT_NAME,
                                "phones": [{"type": "mobile", "phone": CONTACT_PHONE}],
                            }
                        ],
                    },
                )
                if lead_id:
                    mapping[lead_id] = lead["id"]
                answer_contacts = lead.get("contacts") or [{}]
                contact_id = (
                    answer_contacts[0].get("id") if isinstance(answer_contacts[0], dict) else None
                )
                if not isinstance(contact_id, str):
                    raise SetupFailed("POST lead/ answered a lead without a contact id")
                for contact in contacts:
                    mapping[contact] = contact_id
            for template in plan.templates:
                made = make(
                    "sms_template/",
                    {"name": tagged_name(run_id, "template"), "text": TEMPLATE_TEXT},
                )
                mapping[template] = made["id"]
        except SetupFailed as error:
            return Replayed(None, mapping, exchanges, [], setup_error=str(error))
        phones = _phone_mapping(steps, local_phones)
        for index, exchange in enumerate(steps):
            if plan.waits[index]:
                sleep(plan.waits[index])
            if index == 0 and plan.start is not None:
                _move_dates(plan, now() - plan.start, mapping)
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
            last, _ = call(request.method.upper(), path, body, request.auth, headers, raw)
            statuses.append(last.status_code if last is not None else None)
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
                            _move_dates(plan, delta, mapping)
    finally:
        leftovers = []
        for path in reversed(created):
            answer, _ = call("DELETE", path)
            if answer is None or answer.status_code not in (200, 202, 204, 404):
                leftovers.append(path)
    return Replayed(last, mapping, exchanges, leftovers, statuses=statuses)


def raw_content_type(request: RecordedRequest) -> str | None:
    """The content type of a body that was sent as it is, not as JSON (None for JSON)."""
    if not isinstance(request.body, str):
        return None
    for name, value in request.headers.items():
        if name.lower() == "content-type" and "json" not in value.lower():
            return value
    return None


def _move_dates(plan: Plan, delta: timedelta, mapping: dict[str, str]) -> None:
    for text, (value, encoded) in plan.dates.items():
        moved = shifted(value, delta)
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


def _phone_mapping(steps: Sequence[Exchange], local_phones: Sequence[str]) -> dict[str, str]:
    recorded: list[str] = []
    for exchange in steps:
        body = exchange.request.body
        phone = body.get("local_phone") if isinstance(body, dict) else None
        if isinstance(phone, str) and phone not in recorded:
            recorded.append(phone)
    return dict(zip(recorded, local_phones, strict=False))


def _with_phones(body: Any, phones: Mapping[str, str]) -> Any:
    if phones and isinstance(body, dict) and body.get("local_phone") in phones:
        return {**body, "local_phone": phones[body["local_phone"]]}
    return body


# -- reading a saved report ------------------------------------------------------------------


def failures_from_report(report: Mapping[str, Any]) -> list[Failure]:
    """The failures of a ``report.json`` document, as records."""
    failures = []
    for item in report.get("failures") or []:
        steps = tuple(_exchange(step) for step in item.get("steps") or [])
        failures.append(
            Failure(
                rule=item.get("rule", ""),
                message=item.get("message", ""),
                expected=item.get("expected", ""),
                actual=item.get("actual", ""),
                steps=steps,
                length=item.get("length", 0),
            )
        )
    return failures


def _exchange(step: Mapping[str, Any]) -> Exchange:
    request = step.get("request") or {}
    response = step.get("response")
    return Exchange(
        RecordedRequest(
            method=request.get("method", "GET"),
            path=request.get("path", ""),
            headers=dict(request.get("headers") or {}),
            body=request.get("body"),
            auth=request.get("auth", "basic"),
        ),
        None
        if response is None
        else RecordedResponse(
            response.get("status_code", 0),
            dict(response.get("headers") or {}),
            response.get("body"),
        ),
        elapsed=step.get("elapsed") or 0.0,
        error=step.get("error"),
        sent_at=step.get("sent_at"),
    )


# -- re-running a saved counterexample -------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """A replay's verdict on one failure: ``reproduced`` (the symptom showed on the first
    try), ``fixed`` (it showed on none of the tries), ``flaky`` (not on the first try but
    on a later one), ``cannot-tell`` (the failure has no symptom) or ``error`` (the replay
    could not run: a fixture refused, no answer)."""

    verdict: str
    tries: int
    detail: str
    leftovers: list[str] = field(default_factory=list)


EXIT_CODES = {"reproduced": 1, "fixed": 0, "flaky": 3, "cannot-tell": 3, "error": 3}


def replay_failure(
    failure: Failure,
    http: httpx.Client,
    *,
    credentials: Mapping[str, str | None],
    sleep: Callable[[float], None],
    local_phones: Sequence[str] = (),
    retries: int = 3,
    symptom: Symptom | None | Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Outcome:
    """Replay ``failure`` through ``http``; when the symptom does not show, try again up to
    ``retries`` times before calling it fixed. ``symptom`` defaults to :func:`symptom_of`."""
    symptom = symptom_of(failure) if symptom is None else symptom
    if symptom is None:
        return Outcome(
            "cannot-tell",
            0,
            "the last recorded answer is what the clean reference server answers too; "
            "no symptom to look for",
        )
    leftovers: list[str] = []
    tries = 0
    for attempt in range(1 + max(0, retries)):
        tries += 1
        done = replay_steps(
            http,
            failure.steps,
            credentials=credentials,
            sleep=sleep,
            local_phones=local_phones,
            now=now,
        )
        leftovers.extend(done.leftovers)
        if done.setup_error is not None:
            return Outcome("error", tries, f"could not set up: {done.setup_error}", leftovers)
        if done.last is None:
            return Outcome("error", tries, "the last step got no answer", leftovers)
        if shows(symptom, done.last.status_code, done.last.body):
            verdict = "reproduced" if attempt == 0 else "flaky"
            detail = f"the last answer has {symptom.describe()}"
            if attempt:
                detail += f" on try {tries}, not on the first"
            return Outcome(verdict, tries, detail, leftovers)
        last = done.last
    detail = (
        f"none of {tries} tries showed {symptom.describe()} (last answer: HTTP {last.status_code})"
    )
    differing = [
        f"step {n} answered {now_status}, recorded {step.response.status_code}"
        for n, (step, now_status) in enumerate(
            zip(failure.steps, done.statuses, strict=False), start=1
        )
        if n < len(failure.steps)
        and step.response is not None
        and (now_status or 0) // 100 != step.response.status_code // 100
    ]
    if differing:
        # A fix may well change an earlier answer; so may a target that differs from the
        # recorded one (another sending number, say). Say so: the reader decides.
        detail += "; the replay went another way before the last step: " + ", ".join(differing)
    return Outcome("fixed", tries, detail, leftovers)


def replay_on_embedded(
    failure: Failure,
    *,
    faults: Iterable[str] = (),
    readings: Iterable[str] = (),
    retries: int = 3,
    over_http: bool = False,
) -> Outcome:
    """Replay ``failure`` against a fresh embedded reference server (in-process, on a
    virtual clock; over loopback HTTP with ``over_http``) with ``faults`` switched on and
    ``readings`` (``POINT=ALT``) taken. Raises ``ValueError`` for an unknown fault or
    reading."""
    with embedded_replay_target(faults=faults, readings=readings, over_http=over_http) as target:
        return target.replay(failure, retries=retries)


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """Where a replay sends its steps, and what it needs to: the HTTP client (its base URL
    the target's ``/api/v1/``), the credentials by auth kind, the clock's sleep and now,
    the numbers to send from and a name to print."""

    http: httpx.Client
    credentials: Mapping[str, str | None]
    sleep: Callable[[float], None]
    now: Callable[[], datetime]
    local_phones: Sequence[str]
    name: str

    def replay(self, failure: Failure, *, retries: int = 3) -> Outcome:
        """Replay ``failure`` here (:func:`replay_failure`)."""
        return replay_failure(
            failure,
            self.http,
            credentials=self.credentials,
            sleep=self.sleep,
            local_phones=self.local_phones,
            retries=retries,
            now=self.now,
        )


@contextlib.contextmanager
def embedded_replay_target(
    *,
    faults: Iterable[str] = (),
    readings: Iterable[str] = (),
    local_phones: Sequence[str] = (),
    over_http: bool = False,
) -> Iterator[ReplayTarget]:
    """A fresh embedded reference server to replay against; closed on exit. With
    ``over_http`` it is served on a loopback port (:class:`~conformance.loopback.Loopback`,
    same virtual clock) and the replay goes over real TCP; the server stops on exit. Raises
    ``ValueError`` for an unknown fault or reading."""
    from conformance.clock import VirtualClock
    from conformance.refserver import ReferenceServer
    from conformance.refserver.readings import parse_readings
    from conformance.transport import SyncASGITransport

    faults = tuple(faults)
    clock = VirtualClock()
    server = ReferenceServer(clock=clock, faults=faults, readings=parse_readings(readings))
    org, other = server.orgs[0], server.orgs[1]
    loopback = None
    try:
        if over_http:
            from conformance.loopback import Loopback

            loopback = Loopback(server.app)
            http = httpx.Client(base_url=loopback.base_url + "/api/v1/", timeout=30.0)
        else:
            transport = SyncASGITransport(server.app)
            http = httpx.Client(transport=transport, base_url=server.base_url + "/")
    except BaseException:
        server.close()
        raise
    where = " over loopback HTTP" if over_http else ""
    try:
        yield ReplayTarget(
            http=http,
            credentials={
                "basic": org.api_key,
                "bearer": org.oauth_token,
                "second-org": other.api_key,
            },
            sleep=clock.sleep,
            now=clock.now,
            local_phones=local_phones or org.internal_numbers,
            name=f"the embedded reference server{where}"
            + (f" ({', '.join(faults)})" if faults else ""),
        )
    finally:
        http.close()
        if loopback is not None:
            loopback.close()
        server.close()
