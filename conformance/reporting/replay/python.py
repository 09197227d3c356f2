"""The Python replay: a self-contained httpx script, checking the symptom at the end."""

from __future__ import annotations

import math
from typing import Any

from conformance.explain import explain
from conformance.records import Exchange, Failure
from conformance.replay import (
    DRIVE_NOTE,
    FILL_NOTE,
    FOREIGN_CONTACTS,
    THROTTLED_NOTE,
    Plan,
    Symptom,
    contact_name,
    fill_body,
    lead_contacts,
    plan_for,
    raw_content_type,
    sends,
    symptom_of,
    throttled,
)
from conformance.reporting._safety import Secrets, scrub_text
from conformance.reporting.replay.common import (
    _CONTROL,
    _INLINE_WIDTH,
    _UNSET,
    EXIT_CODES,
    FOREIGN_NOTE,
    TEMPLATE_TEXT,
    _active,
    _first_local_phone,
    _names,
    _one_line,
    _path,
    _pieces,
    _recorded,
    _replayed_headers,
    _symptom_data,
    _variables,
)
from conformance.reporting.replay.python_text import _SCRIPT_HEAD, _SCRIPT_TAIL

_PYTHON_AUTH = {
    "basic": ("auth", '(os.environ["CLOSE_API_KEY"], "")'),
    "bearer": ("Authorization", '"Bearer " + os.environ["CLOSE_OAUTH_TOKEN"]'),
    "second-org": ("auth", '(os.environ["CLOSE_SECOND_API_KEY"], "")'),
    "none": None,
    "wrong": ("auth", '("wrong-key", "")'),
}


# -- python ----------------------------------------------------------------------------------


def python_script(
    failure: Failure, target: str, *, secrets: Secrets = None, symptom: Symptom | None = _UNSET
) -> str:
    """Return the source of a Python script (httpx) replaying ``failure``'s steps.

    The script's ``main(client=None)`` creates the fixtures, sends the steps (printing
    each status and body, waiting as recorded), checks the symptom and deletes what it
    created, returning the exit status (:data:`EXIT_CODES`); its docstring names the rule
    and the expected and actual behaviour. Credentials come from the environment, the
    base URL from ``CLOSE_API_URL`` or else ``target``; the source is scrubbed of
    ``secrets``."""
    if symptom is _UNSET:
        symptom = symptom_of(failure)
    steps = failure.steps
    plan = plan_for(steps, failure.rule)
    names = _names(plan, steps, "python")
    variables = _variables(plan, steps)
    doc = [
        f"Replay of the failure of rule {failure.rule}: {failure.message}",
        "",
        *explain(failure).lines(),  # what differs, as every report tells it
        "",
        "The violation shows when the last answer has: "
        + (symptom.describe() if symptom is not None else "(no symptom found)"),
        EXIT_CODES,
        "",
        f"Recorded against {target}; set CLOSE_API_URL to replay elsewhere (and",
        "CLOSE_LOCAL_PHONE for another sending number). Creates its own lead, contact and",
        "template (when used) and deletes all it creates.",
        *([FOREIGN_NOTE] if plan.foreign else []),
        "Reads " + ", ".join(variables) + " from the environment.",
        *(
            ["It sends SMS (a step sets status outbox or scheduled) to the recorded numbers."]
            if sends(steps)
            else []
        ),
        "Needs httpx (pip install httpx).",
    ]
    phone = _first_local_phone(steps)
    described = _literal(symptom.describe()) if symptom is not None else '""'
    source = _SCRIPT_HEAD.format(
        docstring=_docstring("\n".join(doc)),
        target=_literal(target),
        phone=_literal(phone or ""),
        symptom=_python_inline(_symptom_data(symptom), {}),
        rule=_literal(failure.rule),
        variables=repr(tuple(variables)),
        described=described,
    )
    body: list[str] = []
    for number, (_, contacts) in enumerate(plan.leads, start=1):
        wanted = lead_contacts(len(contacts))
        body.append("    lead = fixture(")
        body.append("        client,")
        body.append('        "lead/",')
        body.append(
            f'        {{"name": f"sms-conformance {{RUN_ID}} lead {number - 1}", '
            f'"contacts": {_python_value(wanted, {}, 8)}}},'
        )
        body.append("    )")
        body.append(f'    lead_{number} = lead["id"]')
        for index in range(len(wanted)):
            body.append(f'    {contact_name(number, index)} = lead["contacts"][{index}]["id"]')
    for number, _ in enumerate(plan.templates, start=1):
        body.append(f"    template_{number} = fixture(")
        body.append("        client,")
        body.append('        "sms_template/",')
        body.append(
            f'        {{"name": f"sms-conformance {{RUN_ID}} template", '
            f'"text": {_literal(TEMPLATE_TEXT)}}},'
        )
        body.append('    )["id"]')
    body.extend(_python_foreign(plan))
    body.append("    response = None")
    for position, exchange in enumerate(steps):
        if plan.waits[position]:
            body.append(f"    time.sleep({plan.waits[position]!r})  # as recorded")
        if position == 0 and plan.dates and plan.start is not None:
            body.extend(_python_dates(plan))
        active = _active(plan, names, position)
        if throttled(exchange) and position < len(steps) - 1:
            body.append(
                "    " + _one_line(f"# Step {position + 1} of {len(steps)}: {THROTTLED_NOTE}")
            )
            continue
        if plan.fills.get(position):
            fills = [fill_body(item) for item in plan.fills[position]]
            body.append(f"    # {FILL_NOTE} ({len(fills)})")
            body.append(f"    for fill in {_python_value(fills, active, 4)}:")
            body.append(
                '        created(send(client, "POST", BASE_URL + "activity/sms/", '
                "auth=key_auth(), json=fill))"
            )
        body.extend(_python_step(exchange, position, len(steps), active))
        if position in plan.created:
            body.append(f"    {names[plan.created[position]]} = created(response)")
            if position == min(plan.created) and plan.dates and plan.start is not None:
                body.extend(_python_reanchor(plan, exchange))
    body.append("    return response")
    return scrub_text(source + "\n".join(body) + "\n" + _SCRIPT_TAIL, secrets)


def _python_foreign(plan: Plan) -> list[str]:
    """Another organisation's lead (with a contact) and template, as the steps name: made
    with CLOSE_SECOND_API_KEY."""
    kinds = set(plan.foreign.values())
    lines = []
    if kinds & {"lead_id", "contact_id"}:
        lines += [
            "    lead = fixture(",
            "        client,",
            '        "lead/",',
            '        {"name": f"sms-conformance {RUN_ID} lead", '
            f'"contacts": {_python_value(FOREIGN_CONTACTS, {}, 8)}}},',
            "        elsewhere=True,",
            "    )",
            *(['    foreign_lead = lead["id"]'] if "lead_id" in kinds else []),
            *(['    foreign_contact = lead["contacts"][0]["id"]'] if "contact_id" in kinds else []),
        ]
    if "template_id" in kinds:
        lines += [
            "    foreign_template = fixture(",
            "        client,",
            '        "sms_template/",',
            '        {"name": f"sms-conformance {RUN_ID} template", '
            f'"text": {_literal(TEMPLATE_TEXT)}}},',
            "        elsewhere=True,",
            '    )["id"]',
        ]
    return lines


def _python_dates(plan: Plan) -> list[str]:
    assert plan.start is not None
    lines = [
        "    # The dates the steps name, moved as far as now is from the recorded first step.",
        f"    anchor = datetime.fromisoformat({_literal(plan.start.isoformat())})",
        "    shift = datetime.now(timezone.utc) - anchor",
    ]
    return lines + _python_moved(plan)


def _python_moved(plan: Plan) -> list[str]:
    """Each date the steps name, moved by ``shift`` (a bare date by the days between
    ``anchor`` and ``anchor + shift`` at its request's x-tz-offset)."""
    lines = []
    for (text, (value, encoded)), name in zip(
        plan.dates.items(), plan.date_names().values(), strict=True
    ):
        hours = plan.day_offsets.get(text)
        extra = "" if hours is None else f", anchor, {hours!r}"
        moved = f"at({_literal(value)}, shift{extra})"
        lines.append(f"    {name} = " + (f'quote({moved}, safe="")' if encoded else moved))
    return lines


def _python_reanchor(plan: Plan, exchange: Exchange) -> list[str]:
    """After the first SMS is created, later dates keep their exact distance to its
    date_created (as the server set it): a boundary stays a boundary."""
    recorded = exchange.response.body if exchange.response is not None else None
    value = recorded.get("date_created") if isinstance(recorded, dict) else None
    if not isinstance(value, str):
        return []
    return [
        f"    shift, anchor = reanchor(response, {_literal(value)}, shift, anchor)",
        *_python_moved(plan),
    ]


def _docstring(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", escaped)


def _python_step(exchange: Exchange, position: int, total: int, names: dict[str, str]) -> list[str]:
    request = exchange.request
    lines = ["    " + _one_line(f"# Step {position + 1} of {total}, {_recorded(exchange)}")]
    path = _python_string(_pieces(_path(request.path), names))
    args = [_literal(request.method.upper()), f"BASE_URL + {path}" if path != '""' else "BASE_URL"]
    headers: list[tuple[str, str]] = [
        (_literal(name), _literal(value)) for name, value in _replayed_headers(exchange)
    ]
    auth = _PYTHON_AUTH.get(request.auth)
    if request.auth not in _PYTHON_AUTH:
        lines.append(f"    # unknown auth {request.auth!r}: no credential sent")
    elif auth is not None and auth[0] == "auth":
        args.append(f"auth={auth[1]}")
    elif auth is not None:
        headers.insert(0, (_literal(auth[0]), auth[1]))
    raw = raw_content_type(request)
    if raw is not None:
        headers.append(('"content-type"', _literal(raw)))
    if headers:
        args.append("headers={" + ", ".join(f"{k}: {v}" for k, v in headers) + "}")
    if raw is not None:
        args.append("content=(" + _python_string(_pieces(str(request.body), names)) + ").encode()")
    elif request.body is not None:
        args.append("json=" + _python_value(request.body, names, 8))
    if throttled(exchange):
        lines.append(f"    # {DRIVE_NOTE}")
    lines.append(f"    response = {'drive' if throttled(exchange) else 'send'}(client, ")
    lines.extend(f"        {arg}," for arg in args)
    lines.append("    )")
    lines.append("    show(response)")
    return lines


def _python_string(pieces: list[tuple[bool, str]]) -> str:
    parts = [value if is_variable else _literal(value) for is_variable, value in pieces if value]
    return " + ".join(parts) or '""'


def _literal(text: str) -> str:
    """Return a Python string literal for ``text``, double-quoted where repr allows."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return '"' + literal[1:-1] + '"'
    return literal


def _python_value(value: Any, names: dict[str, str], indent: int) -> str:
    """Return a Python expression for the JSON ``value``, bound values replaced by names."""
    inline = _python_inline(value, names)
    if len(inline) + indent <= _INLINE_WIDTH or not isinstance(value, dict | list) or not value:
        return inline
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [
            f"{pad}{_python_string(_pieces(str(k), names))}: {_python_value(v, names, indent + 4)},"
            for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_python_value(v, names, indent + 4)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _python_inline(value: Any, names: dict[str, str]) -> str:
    if isinstance(value, str):
        return _python_string(_pieces(value, names))
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_python_string(_pieces(str(k), names))}: {_python_inline(v, names)}"
            for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python_inline(v, names) for v in value) + "]"
    return _literal(str(value))
