"""A failure's *symptom*: what the recorded last answer has that a conforming server's
answer to the same steps does not (a status code, body fields that differ).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.records import Exchange, Failure, RecordedResponse
from conformance.replay.plan import _DATE, _ID, _json
from conformance.replay.steps import replay_steps


@dataclass(frozen=True, slots=True)
class Predicate:
    """One thing about the last answer: ``op`` is ``status`` (the status code is
    ``value``), ``eq`` (``body[key] == value``), ``null``, ``not-null``, ``length``
    (``len(body[key]) == value``), ``present``, ``absent``, ``type`` (``body[key]`` is of
    the JSON type ``value``: ``string``, ``number``, ``boolean``, ``object``, ``array``),
    ``not-iso`` (``body[key]`` is a string but no ISO 8601 date-time), ``header`` (the
    response header ``key`` is ``value``; for ``content-type``, its media type) or
    ``no-header`` (the answer has no header ``key``), ``header-shape`` (the header ``key``
    with every number written ``N`` is ``value``: ``limit=N remaining=N reset=N``)."""

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
            "type": f"{self.key} is a {self.value}",
            "not-iso": f"{self.key} is not an ISO 8601 date-time",
            "header": f"header {self.key}: {self.value}",
            "no-header": f"no {self.key} header",
            "header-shape": f"header {self.key} shaped {self.value}",
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


ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
HEADERS = ("content-type", "retry-after")  # the response headers a symptom compares
SHAPED_HEADERS = ("ratelimit",)  # compared by their shape: counts change from run to run


def header_shape(value: str | None) -> str | None:
    """``value`` with every number written ``N``."""
    return None if value is None else re.sub(r"\d+(\.\d+)?", "N", value)


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The response header ``name`` (any case); for ``content-type`` its media type, lower
    case. None when absent."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == name), None)
    if value is not None and name == "content-type":
        return value.split(";", 1)[0].strip().lower()
    return value.strip() if value is not None else None


def shows(
    symptom: Symptom,
    status_code: int | None,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> bool:
    """True when the answer (``status_code``, decoded ``body``, ``headers``) shows
    ``symptom``."""
    for predicate in symptom.predicates:
        if predicate.op == "status":
            if status_code != predicate.value:
                return False
            continue
        if predicate.op == "header-shape":
            if header_shape(header_value(headers, predicate.key)) != predicate.value:
                return False
            continue
        if predicate.op in ("header", "no-header"):
            value = header_value(headers, predicate.key)
            wanted = None if predicate.op == "no-header" else predicate.value
            if value != wanted:
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
            "type": present and json_type(value) == predicate.value,
            "not-iso": isinstance(value, str) and not ISO_DATETIME.match(value),
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
    predicates = [Predicate("status", value=recorded.status_code)]
    for name in HEADERS:
        mine, theirs = header_value(recorded.headers, name), header_value(clean.headers, name)
        if mine is None and theirs is not None:
            predicates.append(Predicate("no-header", name))
        elif mine is not None and mine != theirs:
            predicates.append(Predicate("header", name, mine))
    for name in SHAPED_HEADERS:
        mine = header_shape(header_value(recorded.headers, name))
        if mine is not None and mine != header_shape(header_value(clean.headers, name)):
            predicates.append(Predicate("header-shape", name, mine))
    if isinstance(recorded.body, dict) and isinstance(clean.body, dict):
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
        elif _dated(name) and isinstance(a, str) and isinstance(b, str):
            if ISO_DATETIME.match(b) and not ISO_DATETIME.match(a):
                yield Predicate("not-iso", path)  # a date, written otherwise than ISO 8601
        elif json_type(a) != json_type(b):
            yield Predicate("type", path, json_type(a))
        elif _volatile(name, a) or _volatile(name, b):
            continue
        elif isinstance(a, list | dict) and isinstance(b, list | dict):
            if len(a) != len(b) or type(a) is not type(b) or depth >= MAX_DEPTH:
                if len(a) != len(b):
                    yield Predicate("length", path, len(a))
            else:
                yield from _differences(a, b, path + ".", depth + 1)
        elif a != b and type(a) is type(b):
            yield Predicate("eq", path, a)


def _dated(key: str) -> bool:
    return key.startswith("date_") or key.endswith("_at")


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
        clean = _clean_answer(steps, failure.rule)
    except Exception:  # noqa: BLE001 - no oracle, no symptom; the replay says it cannot tell
        return None
    return derive_symptom(steps[-1].response, clean)


def _clean_answer(steps: Sequence[Exchange], rule: str | None = None) -> RecordedResponse | None:
    from conformance.clock import VirtualClock
    from conformance.refserver import ReferenceServer
    from conformance.target import EMBEDDED_RATE_LIMIT
    from conformance.transport import SyncASGITransport

    clock = VirtualClock()
    server = ReferenceServer(clock=clock, rate_limit=EMBEDDED_RATE_LIMIT)
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
            external_phones=org.external_numbers,
            now=clock.now,
            rule=rule,
        )
    finally:
        http.close()
        server.close()
    return replayed.last


# -- running a replay ------------------------------------------------------------------------
