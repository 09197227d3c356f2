"""What both replay forms share: the credential variables, the fixtures a replay makes, and
the mapping of recorded ids (fixtures, created SMS, dates) onto the replay's variables."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from conformance.records import Exchange
from conformance.replay import (
    Plan,
    Symptom,
)

#: The environment variable holding each credential kind; ``None`` means no variable.
CREDENTIAL_VARIABLES: dict[str, str | None] = {
    "basic": "CLOSE_API_KEY",
    "bearer": "CLOSE_OAUTH_TOKEN",
    "second-org": "CLOSE_SECOND_API_KEY",
    "none": None,
    "wrong": None,
}

# Headers a replay carries over from the recording (lower case).
_REPLAYED_HEADERS = ("x-tz-offset",)
_ID_CHARS = "A-Za-z0-9_-"
_INLINE_WIDTH = 72
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_UNSET: Any = object()
CONTACT = {"name": "Ada Lovelace", "phones": [{"type": "mobile", "phone": "+15555550100"}]}
TEMPLATE_TEXT = "Hi {{ contact.first_name }}, this is a conformance check."
FOREIGN_NOTE = "Makes the other organisation's objects it names with CLOSE_SECOND_API_KEY."
EXIT_CODES = (
    "Exit status: 1 when the violation shows (reproduced), 0 when it does not, 2 when the "
    "replay could not run (a credential not set, a fixture not created, no answer), 3 when "
    "this failure has no symptom to check."
)


# -- names -----------------------------------------------------------------------------------


def _names(plan: Plan, steps: Sequence[Exchange], style: str) -> dict[str, str]:
    """``{recorded value: variable}``: fixtures, created SMS and the first local phone."""
    every = {**plan.names, **plan.date_names()}
    names = {value: name.upper() if style == "shell" else name for value, name in every.items()}
    phone = _first_local_phone(steps)
    if phone is not None and phone not in names:
        names[phone] = "LOCAL_PHONE_1"
    return names


def _variables(plan: Plan, steps: Sequence[Exchange]) -> list[str]:
    """The credential variables a replay reads: its steps' and, when it makes another
    organisation's objects, the second key's."""
    kinds = {s.request.auth for s in steps} | ({"second-org"} if plan.foreign else set())
    found = {v for kind in kinds if (v := CREDENTIAL_VARIABLES.get(kind)) is not None}
    return sorted(found | {"CLOSE_API_KEY"})


def _first_local_phone(steps: Sequence[Exchange]) -> str | None:
    for exchange in steps:
        body = exchange.request.body
        if isinstance(body, dict) and isinstance(body.get("local_phone"), str):
            return body["local_phone"] or None
    return None


def _active(plan: Plan, names: dict[str, str], step: int) -> dict[str, str]:
    """The names usable at ``step``: fixtures always, an SMS once its step has run."""
    later = {sms_id for index, sms_id in plan.created.items() if index >= step}
    return {value: name for value, name in names.items() if value not in later}


def _pattern(values: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.compile(
        f"(?:(?<![{_ID_CHARS}])|(?<=%2C)|(?<=%2c))(?:{alternatives})(?![{_ID_CHARS}])"
    )


def _pieces(text: str, names: dict[str, str]) -> list[tuple[bool, str]]:
    """Split ``text`` into ``(is_variable, literal-or-name)`` pieces around bound values."""
    if not names or not text:
        return [(False, text)]
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _pattern(list(names)).finditer(text):
        if match.start() > position:
            pieces.append((False, text[position : match.start()]))
        pieces.append((True, names[match.group()]))
        position = match.end()
    if position < len(text) or not pieces:
        pieces.append((False, text[position:]))
    return pieces


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _path(path: str) -> str:
    return path.lstrip("/")


def _replayed_headers(exchange: Exchange) -> list[tuple[str, str]]:
    return [
        (name, value)
        for name, value in exchange.request.headers.items()
        if name.lower() in _REPLAYED_HEADERS
    ]


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text.replace("\t", " ")).split())


def _recorded(exchange: Exchange) -> str:
    if exchange.response is not None:
        return f"recorded {exchange.response.status_code}"
    return f"recorded no response: {exchange.error or 'unknown error'}"


def _symptom_data(symptom: Symptom | None) -> list[list[Any]] | None:
    if symptom is None:
        return None
    return [[p.op, p.key, p.value] for p in symptom.predicates]
